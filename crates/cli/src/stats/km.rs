//! `saisei stats km`: Kaplan–Meier curves, overall or by group.

use saisei_stats::km::{ConfType, KmRow, kaplan_meier};
use saisei_stats::survival::{Grouping, event_indicator};
use serde::Serialize;

use super::Input;
use super::report::{num, opt, print_json, print_table, say, stats_error};
use super::table::{Kind, load};
use crate::exit::CliError;

/// Pointwise confidence interval scale, as R's `conf.type`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ConfArg {
    /// log S(t) (R's default).
    Log,
    /// log(−log S(t)).
    LogLog,
    /// S(t).
    Plain,
}

/// Arguments of `saisei stats km`.
#[derive(clap::Args)]
pub struct KmArgs {
    #[command(flatten)]
    input: Input,
    /// Follow-up time column.
    #[arg(long, value_name = "COL")]
    time: String,
    /// Event column: 1 = event, 0 = censored (or R's 2/1 coding).
    #[arg(long, value_name = "COL")]
    event: String,
    /// One curve per value of this column.
    #[arg(long, value_name = "COL")]
    group: Option<String>,
    /// Confidence interval type.
    #[arg(long, value_enum, default_value = "log")]
    conf_type: ConfArg,
    /// Report the curve at these times (default: every event time).
    #[arg(long, value_name = "T1,T2,…", value_delimiter = ',')]
    times: Option<Vec<f64>>,
}

#[derive(Serialize)]
struct GroupOut {
    group: String,
    n: usize,
    events: usize,
    median: Option<f64>,
    median_lower: Option<f64>,
    median_upper: Option<f64>,
    at: Vec<KmRow>,
}

#[derive(Serialize)]
struct Output {
    groups: Vec<GroupOut>,
}

/// Runs the command.
pub fn run(args: KmArgs) -> Result<(), CliError> {
    let mut wanted = vec![
        (args.time.as_str(), Kind::Numeric),
        (args.event.as_str(), Kind::Numeric),
    ];
    if let Some(g) = &args.group {
        wanted.push((g, Kind::Label));
    }
    let mut table = load(&args.input.csv, &wanted)?;
    if table.rows() == 0 {
        return Err(CliError::input("the CSV file has no data rows"));
    }
    let time = table.numeric(&args.time);
    let event = event_indicator(&args.event, &table.numeric(&args.event)).map_err(stats_error)?;
    let grouping = match &args.group {
        Some(g) => table.labels(g),
        None => Grouping {
            labels: vec!["all".to_owned()],
            codes: vec![0; time.len()],
        },
    };
    let conf = match args.conf_type {
        ConfArg::Log => ConfType::Log,
        ConfArg::LogLog => ConfType::LogLog,
        ConfArg::Plain => ConfType::Plain,
    };
    if let Some(t) = args
        .times
        .as_ref()
        .and_then(|ts| ts.iter().find(|t| !t.is_finite() || **t < 0.0))
    {
        return Err(CliError::input(format!(
            "--times must be non-negative numbers, got {t}"
        )));
    }
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); grouping.len()];
    for (i, &c) in grouping.codes.iter().enumerate() {
        buckets[c as usize].push(i);
    }
    let mut groups = Vec::new();
    for (label, rows) in grouping.labels.iter().zip(&buckets) {
        let t: Vec<f64> = rows.iter().map(|&i| time[i]).collect();
        let e: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
        let curve = kaplan_meier(&t, &e, conf).map_err(stats_error)?;
        let at = match &args.times {
            Some(times) => curve.at_times(times),
            None => curve.at_event_times(),
        };
        groups.push(GroupOut {
            group: label.clone(),
            n: curve.n,
            events: curve.events,
            median: curve.median,
            median_lower: curve.median_lower,
            median_upper: curve.median_upper,
            at,
        });
    }
    if args.input.json {
        return print_json(&Output { groups });
    }
    for g in &groups {
        say(&format!(
            "{}{}: n = {}, events = {}, median = {} (95% CI {} to {})",
            args.group
                .as_deref()
                .map_or(String::new(), |c| format!("{c} = ")),
            g.group,
            g.n,
            g.events,
            opt(g.median),
            opt(g.median_lower),
            opt(g.median_upper)
        ))?;
        let rows: Vec<Vec<String>> =
            g.at.iter()
                .map(|r| {
                    vec![
                        num(r.time),
                        r.n_risk.to_string(),
                        num(r.surv),
                        opt(r.se),
                        opt(r.lower),
                        opt(r.upper),
                    ]
                })
                .collect();
        print_table(
            &["time", "n.risk", "survival", "se", "lower 95%", "upper 95%"],
            &rows,
        )?;
        say("")?;
    }
    Ok(())
}
