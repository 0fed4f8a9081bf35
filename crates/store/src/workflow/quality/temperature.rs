//! Temperature logs and excursion holds.
//!
//! A log uploaded for a unit (and the units that travelled with it) is checked against
//! the unit's storage range. Each excursion is stored with its duration and extremes and
//! opens a hold, named after the excursion, on every affected unit that is not finished;
//! the units cannot be shipped or given until a QA manager's disposition lifts the hold
//! (use as is) or destroys them. Log, excursions and holds are one transaction.

use super::custody::UnitLog;
use super::event_time;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::quality::records::{
    ExcursionDisposition, NewDisposition, UnitCustodyEvent, UnitTemperatureExcursion,
    UnitTemperatureLog,
};
use saisei_domain::quality::{
    CustodyEvent, TemperatureAssessment, TemperatureLog, TemperatureLogError, TemperatureReading,
    UnitPhase, assess, quarantine_action,
};
use saisei_domain::text::Code;
use saisei_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;
use uuid::Uuid;

/// A temperature log sent as JSON: either the CSV text or the readings, plus the other
/// units it concerns.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemperatureLogRequest {
    /// The data logger's CSV export (`time,celsius` per line).
    #[serde(default)]
    pub csv: Option<String>,
    /// The readings, when not sent as CSV.
    #[serde(default)]
    pub readings: Option<Vec<TemperatureReading>>,
    /// Other units in the same shipper or storage.
    #[serde(default)]
    pub also_unit_ids: Vec<Uuid>,
    /// When the holds are recorded (RFC 3339); defaults to the end of the log.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub recorded_at: Option<OffsetDateTime>,
}

/// A parsed upload.
#[derive(Debug, Clone)]
pub struct TemperatureUpload {
    /// The log.
    pub log: TemperatureLog,
    /// Other units affected.
    pub also_unit_ids: Vec<Uuid>,
    /// When holds are recorded; the log's last reading when absent.
    pub recorded_at: Option<OffsetDateTime>,
}

/// A CSV parse failure as field errors, one per line and column at fault
/// (`csv.line[3].celsius`).
pub fn csv_errors(e: TemperatureLogError) -> ValidationErrors {
    ValidationErrors(
        e.problems
            .into_iter()
            .map(|p| {
                let field = match &p.column {
                    Some(c) => format!("csv.line[{}].{c}", p.line),
                    None => format!("csv.line[{}]", p.line),
                };
                FieldError::new(field, format!("line {}: {}", p.line, p.problem))
            })
            .collect(),
    )
}

impl TemperatureLogRequest {
    /// Parses the log; malformed lines are reported by line and column.
    pub fn into_upload(self) -> Result<TemperatureUpload, StoreError> {
        let log = match (self.csv, self.readings) {
            (Some(text), None) => TemperatureLog::parse_csv(&text).map_err(csv_errors)?,
            (None, Some(readings)) => TemperatureLog::from_readings(readings).map_err(|e| {
                ValidationErrors(
                    e.problems
                        .into_iter()
                        .map(|p| {
                            let i = p.line.saturating_sub(1);
                            let field = match &p.column {
                                Some(c) => format!("readings[{i}].{c}"),
                                None => "readings".to_string(),
                            };
                            FieldError::new(field, p.problem)
                        })
                        .collect(),
                )
            })?,
            _ => {
                return Err(StoreError::invalid(
                    "csv",
                    "send the log as csv (text) or as readings, exactly one of them",
                ));
            }
        };
        Ok(TemperatureUpload {
            log,
            also_unit_ids: self.also_unit_ids,
            recorded_at: self.recorded_at,
        })
    }
}

/// A unit an excursion could not put on hold, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotHeld {
    /// The unit.
    pub unit_id: Uuid,
    /// Why.
    pub reason: String,
}

/// What an upload recorded.
#[derive(Debug, Clone, Serialize)]
pub struct TemperatureOutcome {
    /// The stored log.
    pub log: Record<UnitTemperatureLog>,
    /// The check against the range.
    pub assessment: TemperatureAssessment,
    /// The excursions found, each with its hold.
    pub excursions: Vec<Record<UnitTemperatureExcursion>>,
    /// The quarantine events appended to the units' logs.
    pub holds: Vec<Record<UnitCustodyEvent>>,
    /// Affected units left without a hold (already administered or destroyed).
    pub not_held: Vec<NotHeld>,
}

/// Stores a temperature log for a unit and the units with it, its excursions, and a hold
/// per excursion on each affected unit that is not finished.
pub async fn upload_temperature_log(
    store: &Store,
    actor: &AuditActor,
    unit_id: Uuid,
    upload: TemperatureUpload,
) -> Result<TemperatureOutcome, StoreError> {
    let mut logs = vec![UnitLog::read(store, unit_id, "id").await?];
    for (i, id) in upload.also_unit_ids.iter().enumerate() {
        if *id == unit_id || upload.also_unit_ids[..i].contains(id) {
            return Err(StoreError::invalid(
                format!("also_unit_ids[{i}]"),
                "is listed twice",
            ));
        }
        logs.push(UnitLog::read(store, *id, &format!("also_unit_ids[{i}]")).await?);
    }
    let range = logs[0].unit.data.storage;
    let assessment = assess(&upload.log, &range);
    let (first_at, last_at) = upload.log.span();
    let recorded_at = upload.recorded_at.unwrap_or(last_at);
    let unit_ids: Vec<Uuid> = logs.iter().map(|l| l.unit.id()).collect();
    let mut batch = Batch::new(actor);
    let log = batch.insert(UnitTemperatureLog {
        unit_id,
        also_unit_ids: upload.also_unit_ids.clone(),
        range,
        readings: upload.log.readings().to_vec(),
        first_at,
        last_at,
        within_range: assessment.within_range,
        excursion_count: u32::try_from(assessment.excursions.len()).unwrap_or(u32::MAX),
    })?;
    let mut excursions = Vec::new();
    let mut holds = Vec::new();
    let mut not_held: Vec<NotHeld> = Vec::new();
    for excursion in &assessment.excursions {
        // The hold names the excursion uniquely on every unit it affects.
        let hold = Code::try_from(format!("EXC-{}", saisei_domain::record::new_id().simple()))
            .map_err(|e| StoreError::invalid("hold", e))?;
        let record = batch.insert(UnitTemperatureExcursion::new(
            log.id(),
            unit_ids.clone(),
            hold.clone(),
            excursion,
            range,
        ))?;
        for (i, unit) in logs.iter_mut().enumerate() {
            if matches!(
                unit.state.phase(),
                UnitPhase::New | UnitPhase::Administered | UnitPhase::Destroyed
            ) {
                if !not_held.iter().any(|n| n.unit_id == unit.unit.id()) {
                    not_held.push(NotHeld {
                        unit_id: unit.unit.id(),
                        reason: format!("the unit is {}", unit.state.phase()),
                    });
                }
                continue;
            }
            let at = match unit.last_event_at() {
                Some(last) if last > recorded_at => last,
                _ => recorded_at,
            };
            let holder = unit.state.holder().cloned().ok_or_else(|| {
                StoreError::invalid("id", "the unit has no holder to record the hold")
            })?;
            let event = CustodyEvent {
                at,
                by: holder,
                action: quarantine_action(hold.clone(), excursion, &range),
            };
            let field: &'static str = if i == 0 { "id" } else { "also_unit_ids" };
            holds.push(unit.stage(&mut batch, event, |_| field)?);
        }
        excursions.push(record);
    }
    for unit in &logs {
        unit.guard(&mut batch);
    }
    store.commit(batch).await?;
    Ok(TemperatureOutcome {
        log,
        assessment,
        excursions,
        holds,
        not_held,
    })
}

/// What a disposition did.
#[derive(Debug, Clone, Serialize)]
pub struct DispositionOutcome {
    /// The stored decision.
    pub disposition: Record<ExcursionDisposition>,
    /// The events appended (hold lifted, or unit destroyed).
    pub events: Vec<Record<UnitCustodyEvent>>,
    /// Affected units whose hold was not open (finished, or lifted otherwise).
    pub not_held: Vec<NotHeld>,
}

/// Decides an excursion hold: only a QA manager may; each affected unit with the hold
/// open gets the hold lifted (use as is) or is destroyed. One decision per excursion.
pub async fn decide_disposition(
    store: &Store,
    actor: &AuditActor,
    request: NewDisposition,
) -> Result<DispositionOutcome, StoreError> {
    let excursion = store
        .find::<UnitTemperatureExcursion>(request.excursion_id)
        .await?
        .ok_or_else(|| {
            StoreError::invalid(
                "excursion_id",
                format!("no temperature excursion with id {}", request.excursion_id),
            )
        })?;
    let record = ExcursionDisposition {
        excursion_id: excursion.id(),
        hold: excursion.data.hold.clone(),
        decision: request.decision,
        approved_by: request.approved_by,
        decided_on: request.decided_on,
        unit_ids: Vec::new(),
    };
    let action = record
        .disposition()
        .custody_action()
        .map_err(|e| StoreError::invalid("approved_by.role", e.to_string()))?;
    let mut batch = Batch::new(actor);
    batch.check(&excursion);
    let mut events = Vec::new();
    let mut not_held = Vec::new();
    let mut decided = BTreeSet::new();
    for unit_id in &excursion.data.unit_ids {
        let mut log = UnitLog::read(store, *unit_id, "excursion_id").await?;
        if !log.state.holds().contains(excursion.data.hold.as_str()) {
            not_held.push(NotHeld {
                unit_id: *unit_id,
                reason: format!("hold {} is not open on the unit", excursion.data.hold),
            });
            continue;
        }
        let at = event_time(request.decided_on, log.last_event_at()).ok_or_else(|| {
            StoreError::invalid(
                "decided_on",
                format!(
                    "is before the last event in unit {}'s custody log",
                    log.unit.data.unit_number
                ),
            )
        })?;
        let by =
            log.state.holder().cloned().ok_or_else(|| {
                StoreError::invalid("excursion_id", "an affected unit has no holder")
            })?;
        log.guard(&mut batch);
        events.push(log.stage(
            &mut batch,
            CustodyEvent {
                at,
                by,
                action: action.clone(),
            },
            |_| "decision",
        )?);
        decided.insert(*unit_id);
    }
    let mut record = record;
    record.unit_ids = excursion
        .data
        .unit_ids
        .iter()
        .copied()
        .filter(|u| decided.contains(u))
        .collect();
    let disposition = batch.insert(record)?;
    store.commit(batch).await?;
    Ok(DispositionOutcome {
        disposition,
        events,
        not_held,
    })
}
