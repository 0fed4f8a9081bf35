//! `saisei stats logit`: logistic regression of a 0/1 outcome on covariates.

use saisei_stats::logistic::{Coefficient, LogisticOptions, fit_logistic};
use serde::Serialize;

use super::Input;
use super::columns::{covariates_from, numeric_columns};
use super::report::{num, print_json, print_table, pval, say, stats_error};
use super::table::{Kind, load};
use crate::exit::CliError;

/// Arguments of `saisei stats logit`.
#[derive(clap::Args)]
pub struct LogitArgs {
    #[command(flatten)]
    input: Input,
    /// The 0/1 outcome column.
    #[arg(long, value_name = "COL")]
    outcome: String,
    /// Covariate columns, comma-separated.
    #[arg(long, value_name = "A,B,…", value_delimiter = ',', required = true)]
    covariates: Vec<String>,
}

#[derive(Serialize)]
struct Output<'a> {
    n: usize,
    loglik: f64,
    converged: bool,
    iterations: usize,
    coefficients: &'a [Coefficient],
}

/// Runs the command.
pub fn run(args: LogitArgs) -> Result<(), CliError> {
    let mut wanted = vec![(args.outcome.as_str(), Kind::Numeric)];
    wanted.extend(numeric_columns(&args.covariates));
    let mut table = load(&args.input.csv, &wanted)?;
    let y = table.numeric(&args.outcome);
    let x = covariates_from(&mut table, &args.covariates)?;
    let fit =
        fit_logistic(&args.outcome, &y, &x, LogisticOptions::default()).map_err(stats_error)?;
    if args.input.json {
        return print_json(&Output {
            n: fit.n,
            loglik: fit.loglik,
            converged: fit.converged,
            iterations: fit.iterations,
            coefficients: &fit.coefficients,
        });
    }
    say(&format!(
        "Logistic regression of {} (n = {}, log-likelihood = {}, {} in {} iterations)\n",
        args.outcome,
        fit.n,
        num(fit.loglik),
        if fit.converged {
            "converged"
        } else {
            "not converged"
        },
        fit.iterations
    ))?;
    let rows: Vec<Vec<String>> = fit
        .coefficients
        .iter()
        .map(|c| vec![c.name.clone(), num(c.coef), num(c.se), num(c.z), pval(c.p)])
        .collect();
    print_table(&["term", "coef", "se", "z", "p"], &rows)
}
