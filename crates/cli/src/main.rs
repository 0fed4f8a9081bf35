//! `saisei`: the one binary. Every subcommand is a thin shell over the library crates.

mod exit;
mod stats;

use clap::{Parser, Subcommand};
use exit::CliError;

/// Saisei — registry and evidence platform for regenerative medicine.
#[derive(Parser)]
#[command(name = "saisei", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Statistics on any CSV file: logistic regression, Cox, Kaplan-Meier, matching, power.
    #[command(subcommand)]
    Stats(stats::StatsCommand),
}

fn main() {
    let cli = Cli::parse();
    let result: Result<(), CliError> = match cli.command {
        Command::Stats(cmd) => stats::run(cmd),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
