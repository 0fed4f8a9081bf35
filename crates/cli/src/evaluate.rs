//! `saisei evaluate --plan ID --db URL [--out report.html] [--json] [--as-of DATE] [--record]`:
//! runs a post-marketing evaluation plan on the registry and writes the self-contained
//! HTML report; with `--json` prints the results (with `"verdict": "met" | "not_met" |
//! "not_yet_evaluable"`); with `--record` files the run with its data snapshot.
//!
//! The plan is named by id, or by title when it is unique. A missing database file, an
//! unknown plan or a malformed date is bad input (exit 2).

use crate::config;
use crate::exit::CliError;
use crate::serve;
use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::dates::today_jst;
use saisei_domain::evaluation::{EvaluationPlan, data_cut};
use saisei_evidence::{Engine, EvaluationResults};
use saisei_store::Store;
use saisei_store::value::parse_date;
use saisei_store::workflow::evaluation::{AnalysisError, analyse, run_evaluation};
use std::path::PathBuf;
use uuid::Uuid;

/// Arguments of `saisei evaluate`.
#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The evaluation plan: its id, or its exact title.
    #[arg(long)]
    plan: String,
    /// Database: a SQLite file path or postgres://… URL [env: SAISEI_DATABASE_URL].
    #[arg(long)]
    db: Option<String>,
    /// Write the HTML report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Data cut (default: the plan's, else today in JST).
    #[arg(long)]
    as_of: Option<String>,
    /// File the run (results, snapshot and hashes) in the registry.
    #[arg(long)]
    record: bool,
}

async fn find_plan(store: &Store, spec: &str) -> Result<Record<EvaluationPlan>, CliError> {
    if let Ok(id) = Uuid::parse_str(spec) {
        return match store.find::<EvaluationPlan>(id).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(CliError::input(format!(
                "--plan: no evaluation plan with id {id}"
            ))),
            Err(e) => Err(CliError::Failure(e.into())),
        };
    }
    let plans = store
        .all::<EvaluationPlan>(vec![])
        .await
        .map_err(|e| CliError::Failure(e.into()))?;
    let mut matching = plans.into_iter().filter(|p| p.data.title.as_str() == spec);
    match (matching.next(), matching.next()) {
        (Some(p), None) => Ok(p),
        (Some(_), Some(_)) => Err(CliError::input(format!(
            "--plan: several plans are titled '{spec}'; give the id"
        ))),
        (None, _) => Err(CliError::input(format!(
            "--plan: no evaluation plan with id or title '{spec}'"
        ))),
    }
}

/// Runs `saisei evaluate`.
pub async fn run(args: EvaluateArgs) -> Result<(), CliError> {
    config::require_existing(args.db.as_deref())?;
    let url = config::database_url(args.db.as_deref());
    let as_of = args
        .as_of
        .as_deref()
        .map(|s| {
            parse_date(s)
                .ok_or_else(|| CliError::input(format!("--as-of: '{s}' is not a YYYY-MM-DD date")))
        })
        .transpose()?;
    if args.out.is_none() && !args.json && !args.record {
        return Err(CliError::input(
            "say what to produce: --out report.html, --json, or --record",
        ));
    }
    let store = serve::open(&url).await?;
    let plan = find_plan(&store, &args.plan).await?;
    let cut = data_cut(
        &plan.data,
        as_of,
        today_jst(time::OffsetDateTime::now_utc()),
    );
    let engine_error = |e: AnalysisError<saisei_evidence::EvidenceError>| match e {
        AnalysisError::Store(s) => CliError::from(s),
        AnalysisError::Stopped => CliError::Failure(anyhow::anyhow!("{e}")),
        AnalysisError::Engine(_) | AnalysisError::NoPanel => CliError::input(e.to_string()),
    };
    let (results, run_id) = if args.record {
        let (run, results) = run_evaluation(&store, Engine, &AuditActor::system("cli"), &plan, cut)
            .await
            .map_err(engine_error)?;
        (results, Some(run.meta.id))
    } else {
        let results = analyse(&store, Engine, &plan, cut)
            .await
            .map_err(engine_error)?;
        (results, None)
    };
    if let Some(out) = &args.out {
        let html = saisei_server::reports::evaluation_report_html(&results).map_err(|e| {
            CliError::Failure(anyhow::anyhow!("the report could not be drawn: {e}"))
        })?;
        std::fs::write(out, html).map_err(|e| {
            CliError::Failure(anyhow::anyhow!("cannot write {}: {e}", out.display()))
        })?;
    }
    store.backend().close().await;
    if args.json {
        let mut v = serde_json::to_value(&results).map_err(|e| CliError::Failure(e.into()))?;
        if let (Some(id), Some(obj)) = (run_id, v.as_object_mut()) {
            obj.insert("run_id".into(), serde_json::json!(id));
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| CliError::Failure(e.into()))?
        );
    } else {
        println!("{}", summary(&results));
        if let Some(out) = &args.out {
            println!("Report written to {}", out.display());
        }
        if let Some(id) = run_id {
            println!("Run filed as {id}");
        }
    }
    Ok(())
}

/// A few lines for the terminal.
fn summary(r: &EvaluationResults) -> String {
    let mut s = format!(
        "{} — {}\nverdict: {} ({})\n",
        r.plan.product,
        r.plan.title,
        r.verdict.as_str(),
        r.verdict_reasons.join("; ")
    );
    for e in &r.endpoints {
        let est = e
            .estimate
            .as_ref()
            .map(|x| {
                format!(
                    "{} {:.3} ({:.0} % CI {:.3} to {:.3})",
                    x.measure.as_str(),
                    x.value,
                    x.level * 100.0,
                    x.lower,
                    x.upper
                )
            })
            .or_else(|| e.problem.clone())
            .unwrap_or_default();
        s.push_str(&format!(
            "  {} [{}]: {}{}\n",
            e.key,
            if e.primary { "primary" } else { "secondary" },
            est,
            match e.criterion_met {
                Some(true) => " — criterion met",
                Some(false) => " — criterion not met",
                None => "",
            }
        ));
    }
    let gaps = r
        .plan_check
        .iter()
        .filter(|g| g.severity == saisei_domain::evaluation::Severity::Gap)
        .count();
    s.push_str(&format!(
        "  cohort: {} treated, {} controls; plan check: {gaps} open point(s); data hash {}",
        r.cohort.treated,
        r.cohort.control,
        &r.snapshot.data_hash[..16.min(r.snapshot.data_hash.len())]
    ));
    s
}
