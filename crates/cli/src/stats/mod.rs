//! `saisei stats …`: the evidence engine on any CSV file.
//!
//! Each subcommand reads only the columns it is given, hands them to `saisei-stats`,
//! and prints a readable table or, with `--json`, the machine format documented in the
//! issue. Bad input (a missing column, a non-numeric value, a constant covariate,
//! separation, no events, an empty group) exits 2 with a message naming the problem.

mod columns;
mod cox;
mod iptw;
mod km;
mod logit;
mod logrank;
mod matching;
mod power;
mod report;
mod table;

use crate::exit::CliError;

/// Where the data come from and how to print the result; shared by the commands.
#[derive(clap::Args)]
pub struct Input {
    /// CSV file with a header row (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    csv: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Statistics subcommands.
#[derive(clap::Subcommand)]
pub enum StatsCommand {
    /// Logistic regression (maximum likelihood) of a 0/1 outcome.
    Logit(logit::LogitArgs),
    /// Cox proportional-hazards regression (Efron or Breslow ties, strata, weights, clusters).
    Cox(cox::CoxArgs),
    /// Kaplan–Meier survival curves with Greenwood confidence intervals.
    Km(km::KmArgs),
    /// Log-rank test comparing survival across groups.
    Logrank(logrank::LogrankArgs),
    /// Propensity-score matching (nearest neighbour on the logit score) with balance and ATT.
    Match(matching::MatchArgs),
    /// Inverse probability of treatment weighting with balance and effective sample sizes.
    Iptw(iptw::IptwArgs),
    /// Sample size: events, persons per arm, exact single-arm designs.
    #[command(subcommand)]
    Power(power::PowerCommand),
}

/// Runs one statistics subcommand.
pub fn run(cmd: StatsCommand) -> Result<(), CliError> {
    match cmd {
        StatsCommand::Logit(a) => logit::run(a),
        StatsCommand::Cox(a) => cox::run(a),
        StatsCommand::Km(a) => km::run(a),
        StatsCommand::Logrank(a) => logrank::run(a),
        StatsCommand::Match(a) => matching::run(a),
        StatsCommand::Iptw(a) => iptw::run(a),
        StatsCommand::Power(c) => power::run(c),
    }
}
