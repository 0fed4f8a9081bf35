//! `saisei classify`, `saisei report periodic` and `saisei deadlines`.

use crate::config;
use crate::exit::CliError;
use crate::serve;
use saisei_domain::audit::AuditActor;
use saisei_domain::auth::Email;
use saisei_domain::dates::today_jst;
use saisei_domain::regulation::{
    ClassificationResult, DeadlineStatus, RuleBook, RuleSet, TherapyDescription, classify,
};
use saisei_domain::wire_name as wire;
use saisei_store::value::parse_date;
use saisei_store::workflow::auth::{
    Attempt, AuthPolicy, CredentialCheck, SignerCredentials, find_user, new_throttle,
};
use saisei_store::workflow::deadlines::{DeadlineQuery, deadlines};
use saisei_store::workflow::reports::{
    SubmitError, compile_periodic_report, find_plan, submit_periodic_report,
};
use saisei_store::workflow::what_if::what_if;
use std::io::Read;
use std::path::{Path, PathBuf};
use time::Date;

/// Arguments of `saisei classify`.
#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// The therapy description as JSON (a file, or - for standard input).
    #[arg(long, required_unless_present = "what_if", conflicts_with = "what_if")]
    input: Option<String>,
    /// Classify by the rules in force on this date (default: today, JST).
    #[arg(long)]
    date: Option<String>,
    /// Use this rule set instead: an embedded id (e.g. proposal-ev-supernatant) or a TOML file.
    #[arg(long)]
    rules: Option<String>,
    /// Re-classify every plan in --db under this rule set (an id or a TOML file).
    #[arg(long, value_name = "RULES", requires = "db")]
    what_if: Option<String>,
    /// Database for --what-if.
    #[arg(long)]
    db: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `saisei report periodic`.
#[derive(clap::Args)]
pub struct PeriodicArgs {
    /// The plan: its id or its plan number.
    #[arg(long)]
    plan: String,
    /// The period number (1 = the first year from filing).
    #[arg(long)]
    period: u32,
    /// Database.
    #[arg(long)]
    db: Option<String>,
    /// Output format.
    #[arg(long, value_parser = ["json", "html"], default_value = "json")]
    format: String,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// File the report (freeze its content) as submitted, signed by a physician of the
    /// plan's institution (--sign-as, --password-file, --code), as the API requires.
    #[arg(long, requires_all = ["sign_as", "password_file", "code"])]
    submit: bool,
    /// Submission date (default: today, JST).
    #[arg(long, requires = "submit")]
    submitted_on: Option<String>,
    /// The signing physician's e-mail.
    #[arg(long, requires = "submit")]
    sign_as: Option<String>,
    /// A file holding the signer's password.
    #[arg(long, requires = "submit")]
    password_file: Option<PathBuf>,
    /// The signer's current one-time code.
    #[arg(long, requires = "submit")]
    code: Option<String>,
    /// File holding the secret key (to check the code) [or env SAISEI_SECRET_KEY; default <db>.secret].
    #[arg(long)]
    secret_key_file: Option<PathBuf>,
}

/// Arguments of `saisei deadlines`.
#[derive(clap::Args)]
pub struct DeadlineArgs {
    /// Database.
    #[arg(long)]
    db: Option<String>,
    /// Statuses as of this date (default: today, JST).
    #[arg(long)]
    as_of: Option<String>,
    /// Only this status.
    #[arg(long, value_parser = ["due", "overdue", "done"])]
    status: Option<String>,
    /// In the table, list done obligations too (JSON always has everything).
    #[arg(long)]
    all: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn date_arg(flag: &str, raw: Option<&str>) -> Result<Date, CliError> {
    match raw {
        Some(s) => parse_date(s)
            .ok_or_else(|| CliError::input(format!("{flag}: '{s}' is not a YYYY-MM-DD date"))),
        None => Ok(today_jst(time::OffsetDateTime::now_utc())),
    }
}

/// An embedded rule set by id, or one read from a TOML file.
fn load_rule_set(book: &'static RuleBook, spec: &str) -> Result<RuleSet, CliError> {
    if let Ok(set) = book.get(spec) {
        return Ok(set.clone());
    }
    let path = Path::new(spec);
    if !path.exists() {
        let ids: Vec<&str> = book.rule_sets().iter().map(|r| r.id()).collect();
        return Err(CliError::input(format!(
            "--rules: '{spec}' is neither an embedded rule set ({}) nor a file",
            ids.join(", ")
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("--rules {spec}: {e}")))?;
    RuleSet::from_toml_str(spec, &text).map_err(|e| CliError::input(format!("--rules: {e}")))
}

fn read_input(input: &str) -> Result<String, CliError> {
    if input == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        Ok(s)
    } else {
        std::fs::read_to_string(input).map_err(|e| CliError::input(format!("--input {input}: {e}")))
    }
}

fn print_classification(r: &ClassificationResult, json: bool) -> Result<(), CliError> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(r).map_err(|e| CliError::Failure(e.into()))?
        );
    } else {
        println!("{}", r.class.describe());
        println!("rule set: {}", r.rule_set);
        for reason in &r.reasons {
            println!("  {}: {}", reason.rule, reason.text);
        }
    }
    Ok(())
}

/// Runs `saisei classify`.
pub async fn classify_cmd(args: ClassifyArgs) -> Result<(), CliError> {
    let book = serve::rules()?;
    if let Some(spec) = &args.what_if {
        let set = load_rule_set(book, spec)?;
        config::require_existing(args.db.as_deref())?;
        let store = serve::open(&config::database_url(args.db.as_deref())).await?;
        let report = what_if(&store, &set)
            .await
            .map_err(|e| CliError::Failure(e.into()))?;
        store.backend().close().await;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| CliError::Failure(e.into()))?
            );
            return Ok(());
        }
        println!(
            "What if {} ({}) applied to the {} plans on file:",
            report.rule_set, report.title, report.summary.total
        );
        if report.changes.is_empty() {
            println!("  no plan changes class");
        }
        for c in &report.changes {
            let why = c
                .reasons
                .reasons
                .first()
                .map(|r| r.text.as_str())
                .unwrap_or("");
            println!(
                "  {}  class {} → {}  {}  ({})",
                c.plan_number,
                wire(&c.old_class),
                wire(&c.new_class),
                c.title,
                why
            );
        }
        println!("Summary (old → new: plans):");
        for t in &report.summary.transitions {
            println!("  {} → {}: {}", wire(&t.from), wire(&t.to), t.count);
        }
        if !report.not_described.is_empty() {
            println!(
                "Plans without a therapy description (not re-classified): {}",
                report.not_described.join(", ")
            );
        }
        return Ok(());
    }
    let input = args.input.as_deref().unwrap_or("-");
    let text = read_input(input)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::input(format!("--input: not valid JSON: {e}")))?;
    let therapy: TherapyDescription = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        CliError::input(format!(
            "--input: {}: {}",
            if path == "." {
                "therapy".to_string()
            } else {
                path
            },
            e.into_inner()
        ))
    })?;
    let set = match &args.rules {
        Some(spec) => load_rule_set(book, spec)?,
        None => {
            let date = date_arg("--date", args.date.as_deref())?;
            book.in_force_on(date)
                .map_err(|e| CliError::input(format!("--date: {e}")))?
                .clone()
        }
    };
    print_classification(&classify(&set, &therapy), args.json)
}

/// Runs `saisei report periodic`.
pub async fn periodic_cmd(args: PeriodicArgs) -> Result<(), CliError> {
    let book = serve::rules()?;
    config::require_existing(args.db.as_deref())?;
    let db = config::database_url(args.db.as_deref());
    let store = serve::open(&db).await?;
    let plan = find_plan(&store, &args.plan)
        .await
        .map_err(CliError::from)?;
    let content = compile_periodic_report(&store, book, &plan, args.period)
        .await
        .map_err(CliError::from)?;
    store
        .record_audit(vec![saisei_domain::audit::AuditDraft {
            actor: AuditActor::system("cli"),
            action: saisei_domain::audit::AuditAction::Export,
            entity: "plan".into(),
            entity_id: Some(plan.meta.id),
            before: None,
            after: Some(serde_json::json!({"report": "periodic", "period": args.period, "format": args.format})),
            reason: None,
        }])
        .await
        .map_err(|e| CliError::Failure(e.into()))?;
    if args.submit {
        let on = date_arg("--submitted-on", args.submitted_on.as_deref())?;
        let email: Email = args
            .sign_as
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e: String| CliError::input(format!("--sign-as: {e}")))?;
        let signer = find_user(&store, &email)
            .await
            .map_err(CliError::from)?
            .ok_or_else(|| CliError::input(format!("--sign-as: no user {email}")))?;
        let password_file = args.password_file.clone().unwrap_or_default();
        let password = std::fs::read_to_string(&password_file)
            .map_err(|e| {
                CliError::input(format!("--password-file {}: {e}", password_file.display()))
            })?
            .trim_end_matches(['\n', '\r'])
            .to_string();
        let key = config::checked_secret_key(&store, args.secret_key_file.as_deref(), &db).await?;
        let throttle = new_throttle(&AuthPolicy::default());
        let check = CredentialCheck {
            key: key.as_ref(),
            attempt: Attempt {
                throttle: &throttle,
                address: None,
            },
            now: time::OffsetDateTime::now_utc(),
        };
        let (record, signature) = submit_periodic_report(
            &store,
            &check,
            book,
            &plan,
            args.period,
            on,
            saisei_store::workflow::auth::Signer {
                user_id: signer.meta.id,
                credentials: SignerCredentials {
                    password,
                    code: args.code.clone().unwrap_or_default(),
                },
                comment: None,
            },
        )
        .await
        .map_err(|e| match e {
            SubmitError::Store(s) => CliError::from(s),
            other => CliError::input(format!("--sign-as: {other}")),
        })?;
        eprintln!(
            "filed: period {} of plan {} submitted on {on} (report {}), signed by {email} (signature {})",
            args.period, plan.data.plan_number, record.meta.id, signature.meta.id
        );
    }
    store.backend().close().await;
    let text = if args.format == "html" {
        saisei_server::reports::periodic_report_html(&content)
            .map_err(|e| CliError::Failure(e.into()))?
    } else {
        serde_json::to_string_pretty(&content).map_err(|e| CliError::Failure(e.into()))?
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::Failure(anyhow::anyhow!("--out {}: {e}", path.display())))?,
        None => println!("{text}"),
    }
    Ok(())
}

/// Runs `saisei deadlines`.
pub async fn deadlines_cmd(args: DeadlineArgs) -> Result<(), CliError> {
    let book = serve::rules()?;
    let as_of = date_arg("--as-of", args.as_of.as_deref())?;
    let status = match args.status.as_deref() {
        Some("due") => Some(DeadlineStatus::Due),
        Some("overdue") => Some(DeadlineStatus::Overdue),
        Some("done") => Some(DeadlineStatus::Done),
        _ => None,
    };
    config::require_existing(args.db.as_deref())?;
    let store = serve::open(&config::database_url(args.db.as_deref())).await?;
    let report = deadlines(
        &store,
        book,
        as_of,
        &DeadlineQuery {
            status,
            institution_id: None,
            limit: None,
        },
    )
    .await
    .map_err(CliError::from)?;
    store.backend().close().await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Failure(e.into()))?
        );
        return Ok(());
    }
    println!(
        "Deadlines as of {as_of}: {} overdue, {} due, {} done ({} late)",
        report.totals.overdue, report.totals.due, report.totals.done, report.totals.done_late
    );
    let show_done = args.all || status == Some(DeadlineStatus::Done);
    for inst in &report.institutions {
        let shown: Vec<_> = inst
            .items
            .iter()
            .filter(|i| show_done || i.status != DeadlineStatus::Done)
            .collect();
        if shown.is_empty() {
            continue;
        }
        println!("\n{}", inst.institution);
        for i in shown {
            let when = match i.status {
                DeadlineStatus::Done => format!(
                    "done {}",
                    i.done_on.map(|d| d.to_string()).unwrap_or_default()
                ),
                DeadlineStatus::Overdue => format!("OVERDUE by {} days", -i.days_remaining),
                DeadlineStatus::Due => format!("due in {} days", i.days_remaining),
            };
            println!(
                "  {:<10} {}  {:<22} {}",
                i.plan_number, i.due_on, when, i.description
            );
        }
    }
    if !show_done && report.totals.done > 0 {
        println!(
            "\n({} done obligations not listed; --all lists them)",
            report.totals.done
        );
    }
    if report.not_under_the_act > 0 {
        println!(
            "\n{} adverse events are not linked to a plan under the Act (no ASRM deadline).",
            report.not_under_the_act
        );
    }
    if report.not_suspected > 0 {
        println!(
            "{} adverse events under a plan are not suspected to result from the treatment (causality unrelated or unlikely): not reportable.",
            report.not_suspected
        );
    }
    Ok(())
}
