//! `saisei trace lot LOT` and `saisei trace event AE_ID`: look-back and trace-back.
//!
//! Both read the registry through the store's trace workflow (the same structures the
//! API serves at `/api/v1/trace/...`) and print a readable report, or JSON with
//! `--json`. An unknown lot or adverse event, a malformed id or a missing database file
//! is bad input: exit 2 with a message saying which.

use crate::config;
use crate::exit::CliError;
use crate::serve;
use saisei_domain::Record;
use saisei_domain::quality::records::{CellBank, LotStatusChange, UnitCustodyEvent};
use saisei_domain::quality::{CustodyAction, RuleOutcome};
use saisei_store::workflow::quality::trace::{
    AdverseEventBrief, EventTrace, LotDossier, LotTrace, TraceError, trace_adverse_event, trace_lot,
};
use serde::Serialize;
use std::fmt::Write as _;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Look-back and trace-back.
#[derive(clap::Subcommand)]
pub enum TraceCommand {
    /// Look-back: every unit of a lot and every patient who received one, with dates and adverse events.
    Lot {
        /// The lot number as printed on labels (or the lot's id).
        lot: String,
        /// Database: a SQLite file path or postgres://… URL [env: SAISEI_DATABASE_URL].
        #[arg(long)]
        db: Option<String>,
        /// Print JSON instead of a report.
        #[arg(long)]
        json: bool,
    },
    /// Trace-back: from an adverse event to the unit, lot, QC results, deviations, retained samples, cell banks, collection and donor.
    Event {
        /// The adverse event's id.
        id: String,
        /// Database: a SQLite file path or postgres://… URL [env: SAISEI_DATABASE_URL].
        #[arg(long)]
        db: Option<String>,
        /// Print JSON instead of a report.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a trace command.
pub async fn run(cmd: TraceCommand) -> Result<(), CliError> {
    match cmd {
        TraceCommand::Lot { lot, db, json } => {
            let store = open(db.as_deref()).await?;
            let trace = trace_lot(&store, &lot).await.map_err(trace_error);
            store.backend().close().await;
            let trace = trace?;
            print(&trace, json, lot_report)
        }
        TraceCommand::Event { id, db, json } => {
            let id = Uuid::parse_str(id.trim()).map_err(|_| {
                CliError::input(format!(
                    "AE_ID: {:?} is not an adverse event id (a UUID)",
                    id
                ))
            })?;
            let store = open(db.as_deref()).await?;
            let trace = trace_adverse_event(&store, id).await.map_err(trace_error);
            store.backend().close().await;
            let trace = trace?;
            print(&trace, json, event_report)
        }
    }
}

/// Opens the database, refusing a SQLite path that does not exist (rather than creating
/// an empty registry to search).
async fn open(db: Option<&str>) -> Result<saisei_store::Store, CliError> {
    let url = config::database_url(db);
    if config::is_sqlite(&url) && !config::sqlite_path(&url).exists() {
        return Err(CliError::input(format!(
            "--db: {} does not exist",
            config::sqlite_path(&url).display()
        )));
    }
    serve::open(&url).await
}

fn trace_error(e: TraceError) -> CliError {
    match e {
        TraceError::NotFound(m) => CliError::input(m),
        TraceError::Store(e) => CliError::Failure(anyhow::anyhow!("{e}")),
    }
}

fn print<T: Serialize>(value: &T, json: bool, report: fn(&T) -> String) -> Result<(), CliError> {
    if json {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot write JSON: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", report(value));
    }
    Ok(())
}

/// An enum's wire name (snake_case), for printing.
fn word<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn brief(ae: &AdverseEventBrief) -> String {
    let term = ae.ctcae_term.as_deref().unwrap_or(&ae.verbatim_term);
    let mut s = format!("{} {term}", ae.onset_on);
    if let Some(g) = ae.grade {
        let _ = write!(s, " G{g}");
    }
    if ae.is_serious() {
        s.push_str(" SERIOUS");
    }
    s
}

fn lot_report(t: &LotTrace) -> String {
    let lot = &t.lot.data;
    let mut out = String::new();
    let status_on = lot
        .status_changed_on
        .map(|d| format!(" on {d}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Lot {} · {} · {}{status_on}",
        lot.lot_number, t.product_name, lot.status
    );
    let _ = writeln!(
        out,
        "  specification {} · process {} · manufactured {}{}",
        lot.specification,
        lot.process_version,
        lot.manufactured_on,
        lot.expires_on
            .map(|e| format!(" · expires {e}"))
            .unwrap_or_default()
    );
    let n = &t.totals;
    let _ = writeln!(
        out,
        "  {} units · {} administered · {} patients · {} adverse events ({} serious)",
        n.units, n.administered, n.patients, n.adverse_events, n.serious_adverse_events
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<20} {:<13} {:<36} {:<10}  ADVERSE EVENTS",
        "UNIT", "PHASE", "PATIENT", "GIVEN ON"
    );
    for u in &t.units {
        let mut phase = word(&u.phase);
        if !u.holds.is_empty() {
            phase.push_str(" (held)");
        }
        if u.recipients.is_empty() {
            let _ = writeln!(
                out,
                "{:<20} {:<13} {:<36} {:<10}  -",
                u.unit_number, phase, "-", "-"
            );
        }
        for r in &u.recipients {
            let events: Vec<String> = r.adverse_events.iter().map(brief).collect();
            let _ = writeln!(
                out,
                "{:<20} {:<13} {:<36} {:<10}  {}",
                u.unit_number,
                phase,
                r.patient_id,
                r.administered_on,
                if events.is_empty() {
                    "none".to_string()
                } else {
                    events.join("; ")
                }
            );
        }
    }
    out
}

fn action_detail(e: &UnitCustodyEvent) -> String {
    match &e.action {
        CustodyAction::ProcessingStep { step } => step.to_string(),
        CustodyAction::Stored { location } => location.to_string(),
        CustodyAction::QcSampled { sample_id } => sample_id.to_string(),
        CustodyAction::Quarantined { hold, reason } => format!("hold {hold}: {reason}"),
        CustodyAction::Released { hold: Some(h) } => format!("hold {h} lifted"),
        CustodyAction::Handover {
            releasing,
            receiving,
        } => format!("{} → {}", releasing.person, receiving.person),
        CustodyAction::IdentityVerified { patient_id }
        | CustodyAction::Administered { patient_id } => format!("patient {patient_id}"),
        CustodyAction::Rejected { reason }
        | CustodyAction::Returned { reason }
        | CustodyAction::Destroyed { reason }
        | CustodyAction::Recalled { reason } => reason.to_string(),
        _ => String::new(),
    }
}

fn status_line(c: &Record<LotStatusChange>) -> String {
    let d = &c.data;
    format!(
        "{} → {} on {} by {} ({}){}",
        d.from_status,
        d.to_status,
        d.on,
        d.decided_by.person,
        word(&d.decided_by.role),
        d.reason
            .as_ref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    )
}

fn bank_line(b: &Record<CellBank>) -> String {
    format!(
        "{} ({}, passage {}, {} vials, established {})",
        b.data.bank_code,
        word(&b.data.tier),
        b.data.passage,
        b.data.vials,
        b.data.established_on
    )
}

fn dossier(out: &mut String, d: &LotDossier) {
    let lot = &d.lot.data;
    let _ = writeln!(
        out,
        "Lot {} · {} · specification {} · process {}",
        lot.lot_number, lot.status, lot.specification, lot.process_version
    );
    for c in &d.status_changes {
        let _ = writeln!(out, "  status: {}", status_line(c));
    }
    let count = |o: RuleOutcome| {
        d.conformance
            .rules
            .iter()
            .filter(|r| r.outcome == o)
            .count()
    };
    let _ = writeln!(
        out,
        "  conformance: {} ({} rules: {} pass, {} fail, {} missing)",
        word(&d.conformance.outcome),
        d.conformance.rules.len(),
        count(RuleOutcome::Pass),
        count(RuleOutcome::Fail),
        count(RuleOutcome::Missing)
    );
    for r in d
        .conformance
        .rules
        .iter()
        .filter(|r| r.outcome != RuleOutcome::Pass)
    {
        let _ = writeln!(
            out,
            "    {} {}: {}",
            r.rule_id,
            word(&r.outcome),
            r.explanation
        );
    }
    let _ = writeln!(out, "  QC results ({}):", d.qc_results.len());
    for q in &d.qc_results {
        let q = &q.data;
        let _ = writeln!(
            out,
            "    {:<30} {:<18} {:<32} {}{}",
            q.attribute.as_str(),
            q.value.to_string(),
            q.method.as_str(),
            q.tested_on,
            q.instrument
                .as_ref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default()
        );
    }
    if d.deviations.is_empty() {
        let _ = writeln!(out, "  deviations: none");
    }
    for dev in &d.deviations {
        let v = &dev.data;
        let rules: Vec<&str> = v.rule_ids.iter().map(|r| r.as_str()).collect();
        let _ = writeln!(
            out,
            "  deviation {} covers {} — approved by {} ({}) on {}: {}",
            v.reference,
            rules.join(", "),
            v.approved_by.person,
            word(&v.approved_by.role),
            v.approved_on,
            v.reason
        );
    }
    if d.retained_samples.is_empty() {
        let _ = writeln!(out, "  retained samples: none");
    }
    for s in &d.retained_samples {
        let s = &s.data;
        let _ = writeln!(
            out,
            "  retained sample {} · {} · {} · {} {}{}",
            s.sample_code,
            s.material,
            s.location,
            s.quantity,
            s.quantity_unit,
            s.retain_until
                .map(|u| format!(" (keep until {u})"))
                .unwrap_or_default()
        );
    }
    for m in &d.culture_media {
        let m = &m.data;
        let _ = writeln!(
            out,
            "  culture medium {} lot {}{}",
            m.name,
            m.medium_lot,
            if m.xeno_free { " (xeno-free)" } else { "" }
        );
    }
    let banks: Vec<String> = d.cell_banks.iter().map(bank_line).collect();
    if !banks.is_empty() {
        let _ = writeln!(out, "Cell banks: {}", banks.join(" ← "));
    }
    match &d.collection {
        Some(c) => {
            let c = &c.data;
            let _ = writeln!(
                out,
                "Collection: {} on {} at organisation {}{}",
                c.material,
                c.collected_on,
                c.collected_by_id,
                c.din
                    .as_ref()
                    .map(|din| format!(" · DIN {}", din.din()))
                    .unwrap_or_default()
            );
            if let Some(p) = c.patient_id {
                let _ = writeln!(out, "Source: autologous, patient {p}");
            }
        }
        None => {
            let _ = writeln!(out, "Collection: not recorded");
        }
    }
    if let Some(donor) = &d.donor {
        let reactive = donor
            .data
            .eligibility_tests
            .iter()
            .filter(|t| t.is_reactive())
            .count();
        let _ = writeln!(
            out,
            "Donor {} · {}{} · {} screening tests, {} reactive",
            donor.id(),
            word(&donor.data.eligibility),
            donor
                .data
                .eligibility_decided_on
                .map(|d| format!(" (decided {d})"))
                .unwrap_or_default(),
            donor.data.eligibility_tests.len(),
            reactive
        );
    }
}

fn event_report(t: &EventTrace) -> String {
    let ae = &t.adverse_event.data;
    let mut out = String::new();
    let seriousness: Vec<String> = ae.seriousness.iter().map(word).collect();
    let _ = writeln!(
        out,
        "Adverse event {} · {}{}{}",
        t.adverse_event.id(),
        ae.ctcae_term
            .as_ref()
            .map(|c| format!("{c} (reported as: {})", ae.verbatim_term))
            .unwrap_or_else(|| ae.verbatim_term.to_string()),
        ae.grade
            .map(|g| format!(" · grade {}", g.get()))
            .unwrap_or_default(),
        if seriousness.is_empty() {
            " · not serious".to_string()
        } else {
            format!(" · serious: {}", seriousness.join(", "))
        }
    );
    let _ = writeln!(
        out,
        "  onset {} · known {} · causality {} · outcome {}",
        ae.onset_on,
        ae.known_on,
        word(&ae.causality),
        word(&ae.outcome)
    );
    let _ = writeln!(
        out,
        "Patient {} (institution {})",
        t.patient.id(),
        t.patient.data.institution_id
    );
    if t.origins.is_empty() {
        let _ = writeln!(
            out,
            "\nNo tracked product unit is linked to this event (its treatment names no unit)."
        );
    }
    for o in &t.origins {
        let u = &o.unit.data;
        let _ = writeln!(
            out,
            "\nTreatment {} on {} · unit {} ({}, {} {}, expires {})",
            o.treatment.id(),
            o.treatment.data.administered_on,
            u.unit_number,
            u.container,
            u.dose,
            u.dose_unit,
            u.expires_on
        );
        let _ = writeln!(out, "  custody ({} events):", o.custody.len());
        for e in &o.custody {
            let at = e
                .data
                .at
                .format(&Rfc3339)
                .unwrap_or_else(|_| e.data.at.to_string());
            let _ = writeln!(
                out,
                "    {at}  {:<17} {:<24} {}",
                e.data.event_type.as_str(),
                e.data.by.person.as_str(),
                action_detail(&e.data)
            );
        }
        if o.excursions.is_empty() {
            let _ = writeln!(out, "  temperature excursions: none recorded");
        }
        for x in &o.excursions {
            let x = &x.data;
            let _ = writeln!(
                out,
                "  temperature excursion {} s, {} to {} °C (hold {})",
                x.duration_seconds, x.min_celsius, x.max_celsius, x.hold
            );
        }
        dossier(&mut out, &o.lot);
    }
    out
}
