//! `saisei stats logrank`: the k-sample log-rank test.

use saisei_stats::logrank::logrank;
use saisei_stats::survival::event_indicator;
use serde::Serialize;

use super::Input;
use super::report::{num, print_json, print_table, pval, say, stats_error};
use super::table::{Kind, load};
use crate::exit::CliError;

/// Arguments of `saisei stats logrank`.
#[derive(clap::Args)]
pub struct LogrankArgs {
    #[command(flatten)]
    input: Input,
    /// Follow-up time column.
    #[arg(long, value_name = "COL")]
    time: String,
    /// Event column: 1 = event, 0 = censored (or R's 2/1 coding).
    #[arg(long, value_name = "COL")]
    event: String,
    /// Group column.
    #[arg(long, value_name = "COL")]
    group: String,
}

#[derive(Serialize)]
struct GroupOut<'a> {
    group: &'a str,
    n: usize,
    observed: f64,
    expected: f64,
}

#[derive(Serialize)]
struct Output<'a> {
    chisq: f64,
    df: usize,
    p: f64,
    groups: Vec<GroupOut<'a>>,
}

/// Runs the command.
pub fn run(args: LogrankArgs) -> Result<(), CliError> {
    let mut table = load(
        &args.input.csv,
        &[
            (args.time.as_str(), Kind::Numeric),
            (args.event.as_str(), Kind::Numeric),
            (args.group.as_str(), Kind::Label),
        ],
    )?;
    let time = table.numeric(&args.time);
    let event = event_indicator(&args.event, &table.numeric(&args.event)).map_err(stats_error)?;
    let grouping = table.labels(&args.group);
    if grouping.len() < 2 {
        return Err(CliError::input(format!(
            "empty group: column '{}' has {} distinct value(s); the log-rank test needs at least two groups",
            args.group,
            grouping.len()
        )));
    }
    let r = logrank(&time, &event, &grouping).map_err(stats_error)?;
    let groups: Vec<GroupOut> = grouping
        .labels
        .iter()
        .enumerate()
        .map(|(i, g)| GroupOut {
            group: g,
            n: r.n[i],
            observed: r.observed[i],
            expected: r.expected[i],
        })
        .collect();
    if args.input.json {
        return print_json(&Output {
            chisq: r.chisq,
            df: r.df,
            p: r.p,
            groups,
        });
    }
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                format!("{}={}", args.group, g.group),
                g.n.to_string(),
                num(g.observed),
                num(g.expected),
            ]
        })
        .collect();
    print_table(&["group", "N", "observed", "expected"], &rows)?;
    say(&format!(
        "\nChisq = {} on {} degrees of freedom, p = {}",
        num(r.chisq),
        r.df,
        pval(r.p)
    ))
}
