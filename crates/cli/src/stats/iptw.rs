//! `saisei stats iptw`: inverse probability of treatment weights, effective sample
//! sizes and weighted balance.

use std::io::Write;

use saisei_stats::balance::BalanceRow;
use saisei_stats::propensity::fit_propensity;
use saisei_stats::weighting::{Estimand, IptwOptions, iptw};
use serde::Serialize;

use super::Input;
use super::columns::{covariates_from, numeric_columns, treated_arms};
use super::matching::csv_field;
use super::report::{num, print_json, print_table, say, stats_error};
use super::table::{Kind, load};
use crate::exit::CliError;

/// Target estimand.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EstimandArg {
    /// Effect on the treated.
    Att,
    /// Effect in the whole population.
    Ate,
    /// Effect in the overlap population.
    Ato,
}

/// Arguments of `saisei stats iptw`.
#[derive(clap::Args)]
pub struct IptwArgs {
    #[command(flatten)]
    input: Input,
    /// The 0/1 treatment column.
    #[arg(long, value_name = "COL")]
    treatment: String,
    /// Covariates of the propensity model, comma-separated.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',', required = true)]
    covariates: Vec<String>,
    /// Target estimand.
    #[arg(long, value_enum, default_value = "ate")]
    estimand: EstimandArg,
    /// Stabilise the weights by the marginal treatment probability.
    #[arg(long)]
    stabilized: bool,
    /// Truncate weights at the 1−Q and Q quantiles (e.g. 0.99).
    #[arg(long, value_name = "Q")]
    truncate: Option<f64>,
    /// Identifier column for --out (default: the row number).
    #[arg(long, value_name = "COL")]
    id: Option<String>,
    /// Write id,treatment,propensity,weight as CSV.
    #[arg(long, value_name = "WEIGHTS.csv")]
    out: Option<String>,
}

#[derive(Serialize)]
struct Output<'a> {
    estimand: Estimand,
    stabilized: bool,
    n_treated: usize,
    n_control: usize,
    ess_treated: f64,
    ess_control: f64,
    weight_min: f64,
    weight_max: f64,
    truncated_at: Option<[f64; 2]>,
    balance: &'a [BalanceRow],
}

/// Runs the command.
pub fn run(args: IptwArgs) -> Result<(), CliError> {
    let mut wanted = vec![(args.treatment.as_str(), Kind::Numeric)];
    wanted.extend(numeric_columns(&args.covariates));
    if let Some(id) = &args.id {
        wanted.push((id, Kind::Text));
    }
    let mut table = load(&args.input.csv, &wanted)?;
    let treatment = table.numeric(&args.treatment);
    let x = covariates_from(&mut table, &args.covariates)?;
    let ids = args.id.as_ref().map(|c| table.text(c));
    let treated = treated_arms(&args.treatment, &treatment)?;
    let ps = fit_propensity(&args.treatment, &treatment, &x).map_err(stats_error)?;
    let estimand = match args.estimand {
        EstimandArg::Att => Estimand::Att,
        EstimandArg::Ate => Estimand::Ate,
        EstimandArg::Ato => Estimand::Ato,
    };
    let w = iptw(
        &treated,
        &ps.score,
        &x,
        IptwOptions {
            estimand,
            stabilized: args.stabilized,
            truncate: args.truncate,
        },
    )
    .map_err(stats_error)?;
    if let Some(path) = &args.out {
        let file = std::fs::File::create(path)
            .map_err(|e| CliError::input(format!("cannot write '{path}': {e}")))?;
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "id,treatment,propensity,weight")?;
        for (i, (&t, (&e, &weight))) in treated
            .iter()
            .zip(ps.score.iter().zip(&w.weights))
            .enumerate()
        {
            let id = ids
                .as_ref()
                .map_or_else(|| (i + 1).to_string(), |c| c.get(i).to_owned());
            writeln!(out, "{},{},{},{}", csv_field(&id), u8::from(t), e, weight)?;
        }
        out.flush()?;
    }
    let (lo, hi) = w
        .weights
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if args.input.json {
        return print_json(&Output {
            estimand,
            stabilized: args.stabilized,
            n_treated: w.n_treated,
            n_control: w.n_control,
            ess_treated: w.ess_treated,
            ess_control: w.ess_control,
            weight_min: lo,
            weight_max: hi,
            truncated_at: w.truncated_at.map(|(a, b)| [a, b]),
            balance: &w.balance,
        });
    }
    say(&format!(
        "Inverse probability weights ({:?}{}), weights from {} to {}",
        estimand,
        if args.stabilized { ", stabilized" } else { "" },
        num(lo),
        num(hi)
    ))?;
    say(&format!(
        "treated: n = {}, ESS = {}; control: n = {}, ESS = {}\n",
        w.n_treated,
        num(w.ess_treated),
        w.n_control,
        num(w.ess_control)
    ))?;
    let rows: Vec<Vec<String>> = w
        .balance
        .iter()
        .map(|b| vec![b.name.clone(), num(b.smd_before), num(b.smd_after)])
        .collect();
    print_table(&["covariate", "SMD before", "SMD after"], &rows)
}
