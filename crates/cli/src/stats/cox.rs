//! `saisei stats cox`: Cox proportional-hazards regression.

use saisei_stats::cox::{CoxCoefficient, CoxData, CoxOptions, Ties, fit_cox};
use saisei_stats::survival::event_indicator;
use serde::Serialize;

use super::Input;
use super::columns::{covariates_from, numeric_columns};
use super::report::{num, print_json, print_table, pval, say, stats_error};
use super::table::{Kind, load};
use crate::exit::CliError;

/// Tie handling, as R's `ties =`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TiesArg {
    /// Efron's approximation (default, as R and lifelines).
    Efron,
    /// Breslow's approximation.
    Breslow,
}

/// Arguments of `saisei stats cox`.
#[derive(clap::Args)]
pub struct CoxArgs {
    #[command(flatten)]
    input: Input,
    /// Follow-up time column.
    #[arg(long, value_name = "COL")]
    time: String,
    /// Event column: 1 = event, 0 = censored (or R's 2/1 coding).
    #[arg(long, value_name = "COL")]
    event: String,
    /// Covariate columns, comma-separated.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',', required = true)]
    covariates: Vec<String>,
    /// Tie handling.
    #[arg(long, value_enum, default_value = "efron")]
    ties: TiesArg,
    /// Stratify the baseline hazard by this column.
    #[arg(long, value_name = "COL")]
    strata: Option<String>,
    /// Case weights column (> 0); the SEs become robust.
    #[arg(long, value_name = "COL")]
    weights: Option<String>,
    /// Cluster column for robust (sandwich) SEs.
    #[arg(long, value_name = "COL")]
    cluster: Option<String>,
}

#[derive(Serialize)]
struct Output<'a> {
    n: usize,
    events: usize,
    ties: &'static str,
    loglik: f64,
    loglik_null: f64,
    concordance: f64,
    robust: bool,
    score_test: f64,
    coefficients: &'a [CoxCoefficient],
}

/// Runs the command.
pub fn run(args: CoxArgs) -> Result<(), CliError> {
    let mut wanted = vec![
        (args.time.as_str(), Kind::Numeric),
        (args.event.as_str(), Kind::Numeric),
    ];
    wanted.extend(numeric_columns(&args.covariates));
    if let Some(s) = &args.strata {
        wanted.push((s, Kind::Label));
    }
    if let Some(w) = &args.weights {
        wanted.push((w, Kind::Numeric));
    }
    if let Some(c) = &args.cluster {
        wanted.push((c, Kind::Label));
    }
    let mut table = load(&args.input.csv, &wanted)?;
    let time = table.numeric(&args.time);
    let event = event_indicator(&args.event, &table.numeric(&args.event)).map_err(stats_error)?;
    let x = covariates_from(&mut table, &args.covariates)?;
    let strata = args.strata.as_ref().map(|s| table.labels(s).codes);
    let weights = args.weights.as_ref().map(|w| table.numeric(w));
    let cluster = args.cluster.as_ref().map(|c| table.labels(c).codes);
    let ties = match args.ties {
        TiesArg::Efron => Ties::Efron,
        TiesArg::Breslow => Ties::Breslow,
    };
    let fit = fit_cox(
        &CoxData {
            time: &time,
            event: &event,
            covariates: &x,
            strata: strata.as_deref(),
            weights: weights.as_deref(),
            cluster: cluster.as_deref(),
        },
        CoxOptions {
            ties,
            ..CoxOptions::default()
        },
    )
    .map_err(stats_error)?;
    if args.input.json {
        return print_json(&Output {
            n: fit.n,
            events: fit.events,
            ties: fit.ties.as_str(),
            loglik: fit.loglik,
            loglik_null: fit.loglik_null,
            concordance: fit.concordance,
            robust: fit.robust,
            score_test: fit.score_test,
            coefficients: &fit.coefficients,
        });
    }
    say(&format!(
        "Cox regression (n = {}, events = {}, ties = {}{})\nlog-likelihood = {} (null {}), concordance = {}\n",
        fit.n,
        fit.events,
        fit.ties.as_str(),
        if fit.robust { ", robust SE" } else { "" },
        num(fit.loglik),
        num(fit.loglik_null),
        num(fit.concordance)
    ))?;
    let rows: Vec<Vec<String>> = fit
        .coefficients
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                num(c.coef),
                num(c.se),
                num(c.z),
                pval(c.p),
                num(c.hr),
                num(c.hr_lower),
                num(c.hr_upper),
            ]
        })
        .collect();
    print_table(
        &[
            "term",
            "coef",
            "se",
            "z",
            "p",
            "HR",
            "lower 95%",
            "upper 95%",
        ],
        &rows,
    )
}
