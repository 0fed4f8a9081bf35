//! `saisei stats power …`: events, persons per arm, and exact single-arm designs.

use saisei_stats::power::{EventsMethod, Sides, single_arm, survival_events, two_proportions};
use serde::Serialize;

use super::report::{num, print_json, say, stats_error};
use crate::exit::CliError;

/// Events method.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MethodArg {
    /// Schoenfeld (1981).
    Schoenfeld,
    /// Freedman (1982).
    Freedman,
}

/// Sample-size calculations.
#[derive(clap::Subcommand)]
pub enum PowerCommand {
    /// Events needed to detect a hazard ratio (log-rank / Cox).
    Survival(SurvivalArgs),
    /// Persons per arm to detect a difference between two proportions.
    Proportions(ProportionsArgs),
    /// Exact binomial single-arm design against a threshold response rate.
    SingleArm(SingleArmArgs),
}

/// Arguments of `power survival`.
#[derive(clap::Args)]
pub struct SurvivalArgs {
    /// Hazard ratio to detect.
    #[arg(long)]
    hr: f64,
    /// Type I error.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Power.
    #[arg(long, default_value_t = 0.8)]
    power: f64,
    /// Experimental : control allocation ratio.
    #[arg(long, default_value_t = 1.0)]
    allocation: f64,
    /// Formula.
    #[arg(long, value_enum, default_value = "schoenfeld")]
    method: MethodArg,
    /// Use a one-sided α (default two-sided).
    #[arg(long)]
    one_sided: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Arguments of `power proportions`.
#[derive(clap::Args)]
pub struct ProportionsArgs {
    /// Proportion in the experimental arm.
    #[arg(long)]
    p1: f64,
    /// Proportion in the control arm.
    #[arg(long)]
    p2: f64,
    /// Type I error.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Power.
    #[arg(long, default_value_t = 0.8)]
    power: f64,
    /// Experimental : control allocation ratio.
    #[arg(long, default_value_t = 1.0)]
    allocation: f64,
    /// Use a one-sided α (default two-sided).
    #[arg(long)]
    one_sided: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Arguments of `power single-arm`.
#[derive(clap::Args)]
pub struct SingleArmArgs {
    /// Response rate that would not be worth pursuing (null).
    #[arg(long)]
    p0: f64,
    /// Response rate the product is expected to achieve.
    #[arg(long)]
    p1: f64,
    /// One-sided type I error.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Power.
    #[arg(long, default_value_t = 0.8)]
    power: f64,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct SurvivalOut {
    method: EventsMethod,
    hr: f64,
    alpha: f64,
    power: f64,
    allocation: f64,
    sides: u8,
    events: u64,
    events_exact: f64,
}

#[derive(Serialize)]
struct ProportionsOut {
    p1: f64,
    p2: f64,
    alpha: f64,
    power: f64,
    allocation: f64,
    sides: u8,
    n1: u64,
    n2: u64,
    total: u64,
}

#[derive(Serialize)]
struct SingleArmOut {
    p0: f64,
    p1: f64,
    alpha: f64,
    power: f64,
    n: u64,
    critical: u64,
    alpha_exact: f64,
    power_exact: f64,
}

fn sides(one_sided: bool) -> (Sides, u8) {
    if one_sided {
        (Sides::One, 1)
    } else {
        (Sides::Two, 2)
    }
}

/// Runs a power subcommand.
pub fn run(cmd: PowerCommand) -> Result<(), CliError> {
    match cmd {
        PowerCommand::Survival(a) => {
            let (s, k) = sides(a.one_sided);
            let method = match a.method {
                MethodArg::Schoenfeld => EventsMethod::Schoenfeld,
                MethodArg::Freedman => EventsMethod::Freedman,
            };
            let r = survival_events(a.hr, a.alpha, a.power, a.allocation, s, method)
                .map_err(stats_error)?;
            if a.json {
                return print_json(&SurvivalOut {
                    method,
                    hr: a.hr,
                    alpha: a.alpha,
                    power: a.power,
                    allocation: a.allocation,
                    sides: k,
                    events: r.events,
                    events_exact: r.events_exact,
                });
            }
            say(&format!(
                "{} events ({} before rounding) to detect HR {} with {}-sided α {} and power {} ({:?}, allocation {}:1)",
                r.events,
                num(r.events_exact),
                a.hr,
                k,
                a.alpha,
                a.power,
                method,
                a.allocation
            ))
        }
        PowerCommand::Proportions(a) => {
            let (s, k) = sides(a.one_sided);
            let r = two_proportions(a.p1, a.p2, a.alpha, a.power, a.allocation, s)
                .map_err(stats_error)?;
            if a.json {
                return print_json(&ProportionsOut {
                    p1: a.p1,
                    p2: a.p2,
                    alpha: a.alpha,
                    power: a.power,
                    allocation: a.allocation,
                    sides: k,
                    n1: r.n1,
                    n2: r.n2,
                    total: r.total,
                });
            }
            say(&format!(
                "n1 = {} (p1 = {}), n2 = {} (p2 = {}), total {} for {}-sided α {} and power {}",
                r.n1, a.p1, r.n2, a.p2, r.total, k, a.alpha, a.power
            ))
        }
        PowerCommand::SingleArm(a) => {
            let d = single_arm(a.p0, a.p1, a.alpha, a.power).map_err(stats_error)?;
            if a.json {
                return print_json(&SingleArmOut {
                    p0: a.p0,
                    p1: a.p1,
                    alpha: a.alpha,
                    power: a.power,
                    n: d.n,
                    critical: d.critical,
                    alpha_exact: d.alpha_exact,
                    power_exact: d.power_exact,
                });
            }
            let rule = if a.p1 > a.p0 { "at least" } else { "at most" };
            say(&format!(
                "n = {}: success if {} {} responses (exact one-sided α = {}, power = {})",
                d.n,
                rule,
                d.critical,
                num(d.alpha_exact),
                num(d.power_exact)
            ))
        }
    }
}
