//! `saisei stats match`: propensity-score matching (MatchIt's nearest-neighbour
//! defaults for the ATT), balance, and the matched effect estimate.

use std::io::Write;

use saisei_stats::balance::{BalanceRow, SdDenominator, balance_table};
use saisei_stats::covariates::Covariates;
use saisei_stats::matching::{MatchOptions, MatchOrder, matched_effect, nearest_neighbour};
use saisei_stats::propensity::fit_propensity;
use serde::Serialize;

use super::Input;
use super::columns::{covariates_from, numeric_columns, treated_arms};
use super::report::{num, opt, print_json, print_table, say, stats_error};
use super::table::{Kind, TextColumn, load};
use crate::exit::CliError;

/// Order in which treated units pick controls.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OrderArg {
    /// Largest propensity score first (MatchIt's default).
    Descending,
    /// Smallest first.
    Ascending,
    /// Seeded random order (see --seed).
    Random,
    /// Global closest pair first (OHDSI CohortMethod).
    BestFirst,
    /// Data order.
    Data,
}

/// Arguments of `saisei stats match`.
#[derive(clap::Args)]
pub struct MatchArgs {
    #[command(flatten)]
    input: Input,
    /// The 0/1 treatment column.
    #[arg(long, value_name = "COL")]
    treatment: String,
    /// Covariates of the propensity model, comma-separated.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',', required = true)]
    covariates: Vec<String>,
    /// Identifier column for --out (default: the row number).
    #[arg(long, value_name = "COL")]
    id: Option<String>,
    /// Controls per treated unit.
    #[arg(long, default_value_t = 1)]
    ratio: usize,
    /// Caliper in standard deviations of the logit propensity score.
    #[arg(long, value_name = "C")]
    caliper: Option<f64>,
    /// Match with replacement.
    #[arg(long)]
    replace: bool,
    /// Matching order.
    #[arg(long, value_enum, default_value = "descending")]
    order: OrderArg,
    /// Seed of the random order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Outcome column for the matched ATT.
    #[arg(long, value_name = "COL")]
    outcome: Option<String>,
    /// Write the pairs as CSV (treated_id,control_id,set).
    #[arg(long, value_name = "PAIRS.csv")]
    out: Option<String>,
}

#[derive(Serialize)]
struct Output<'a> {
    caliper_width: Option<f64>,
    pairs: usize,
    matched_treated: usize,
    unmatched_treated: usize,
    matched_controls: usize,
    balance: &'a [BalanceRow],
    att: Option<f64>,
    att_se: Option<f64>,
}

fn id_of(ids: Option<&TextColumn>, row: usize) -> String {
    ids.map_or_else(|| (row + 1).to_string(), |c| c.get(row).to_owned())
}

/// Runs the command.
pub fn run(args: MatchArgs) -> Result<(), CliError> {
    let mut wanted = vec![(args.treatment.as_str(), Kind::Numeric)];
    wanted.extend(numeric_columns(&args.covariates));
    if let Some(id) = &args.id {
        wanted.push((id, Kind::Text));
    }
    if let Some(y) = &args.outcome {
        wanted.push((y, Kind::Numeric));
    }
    let mut table = load(&args.input.csv, &wanted)?;
    let treatment = table.numeric(&args.treatment);
    let x: Covariates = covariates_from(&mut table, &args.covariates)?;
    let ids = args.id.as_ref().map(|c| table.text(c));
    let outcome = args.outcome.as_ref().map(|c| table.numeric(c));
    if args.ratio == 0 {
        return Err(CliError::input("--ratio must be at least 1"));
    }
    let treated = treated_arms(&args.treatment, &treatment)?;
    let ps = fit_propensity(&args.treatment, &treatment, &x).map_err(stats_error)?;
    let order = match args.order {
        OrderArg::Descending => MatchOrder::Descending,
        OrderArg::Ascending => MatchOrder::Ascending,
        OrderArg::Random => MatchOrder::Random { seed: args.seed },
        OrderArg::BestFirst => MatchOrder::BestFirst,
        OrderArg::Data => MatchOrder::Data,
    };
    let matching = nearest_neighbour(
        &ps.logit,
        &treated,
        MatchOptions {
            ratio: args.ratio,
            caliper: args.caliper,
            replace: args.replace,
            order,
        },
    )
    .map_err(stats_error)?;
    let balance = balance_table(&x, &treated, &matching.weights, SdDenominator::Treated);
    let effect = match &outcome {
        Some(y) => Some(matched_effect(y, &matching).map_err(stats_error)?),
        None => None,
    };
    if let Some(path) = &args.out {
        let file = std::fs::File::create(path)
            .map_err(|e| CliError::input(format!("cannot write '{path}': {e}")))?;
        let mut w = std::io::BufWriter::new(file);
        writeln!(w, "treated_id,control_id,set")?;
        for (set, s) in matching.sets.iter().enumerate() {
            let t = csv_field(&id_of(ids.as_ref(), s.treated));
            for &c in &s.controls {
                writeln!(w, "{t},{},{}", csv_field(&id_of(ids.as_ref(), c)), set + 1)?;
            }
        }
        w.flush()?;
    }
    let matched_controls = matching
        .weights
        .iter()
        .zip(&treated)
        .filter(|(w, t)| !**t && **w > 0.0)
        .count();
    let out = Output {
        caliper_width: matching.caliper_width,
        pairs: matching.pairs(),
        matched_treated: matching.sets.len(),
        unmatched_treated: matching.unmatched_treated.len(),
        matched_controls,
        balance: &balance,
        att: effect.map(|e| e.att),
        att_se: effect.map(|e| e.att_se),
    };
    if args.input.json {
        return print_json(&out);
    }
    say(&format!(
        "Nearest-neighbour matching on the logit propensity score (ratio {}, {}{})",
        args.ratio,
        if args.replace {
            "with replacement"
        } else {
            "without replacement"
        },
        matching
            .caliper_width
            .map_or(String::new(), |c| format!(", caliper {}", num(c)))
    ))?;
    say(&format!(
        "pairs = {}, matched treated = {}, unmatched treated = {}, matched controls = {}\n",
        out.pairs, out.matched_treated, out.unmatched_treated, out.matched_controls
    ))?;
    let rows: Vec<Vec<String>> = balance
        .iter()
        .map(|b| vec![b.name.clone(), num(b.smd_before), num(b.smd_after)])
        .collect();
    print_table(&["covariate", "SMD before", "SMD after"], &rows)?;
    if effect.is_some() {
        say(&format!(
            "\nATT = {} (cluster-robust SE {})",
            opt(out.att),
            opt(out.att_se)
        ))?;
    }
    Ok(())
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
