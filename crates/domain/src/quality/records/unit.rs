//! Product units and what happens to them: the append-only custody log, temperature logs
//! with the excursions found in them, and QA's dispositions of excursion holds.

use super::{check_distinct, check_positive};
use crate::dates::check_plausible;
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::quality::custody::{CustodyAction, CustodyEvent, CustodyEventType, Party, Recipient};
use crate::quality::measure::StorageRange;
use crate::quality::release::Approver;
use crate::quality::temperature::{
    Disposition, DispositionDecision, Excursion, ExcursionDirection, TemperatureLog,
    TemperatureReading,
};
use crate::text::{Code, Title};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// One container of a lot that can reach a patient (a bag, vial or syringe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductUnit {
    /// The lot it was filled from.
    pub lot_id: Uuid,
    /// The number printed on its label.
    pub unit_number: Code,
    /// The container, e.g. "cryobag 20 mL".
    pub container: Title,
    /// The dose it holds.
    pub dose: f64,
    /// The dose's unit, e.g. `cells`, `particles`, `mL`.
    pub dose_unit: Code,
    /// When it expires.
    pub expires_on: Date,
    /// The temperature range it must be kept in; temperature logs are checked against it.
    pub storage: StorageRange,
    /// Whom it is for: the patient it was made from (autologous) or allocated to
    /// (allogeneic). Changed only by allocation.
    pub recipient: Recipient,
}

impl Validate for ProductUnit {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_positive("dose", self.dose, &mut errors);
        check_plausible("expires_on", self.expires_on, &mut errors);
        errors.into_result()
    }
}

impl Entity for ProductUnit {
    const KIND: &'static str = "unit";
}

/// One entry of a unit's custody log, as stored: its position in the log, its type (for
/// filtering) and the event itself. Never changed once written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitCustodyEvent {
    /// The unit.
    pub unit_id: Uuid,
    /// Its position in the unit's log (0 for the first event); unique per unit, so two
    /// writers appending at once cannot both succeed.
    pub seq: u32,
    /// The event type (equal to the action's).
    pub event_type: CustodyEventType,
    /// When it happened (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who recorded it.
    pub by: Party,
    /// What happened.
    pub action: CustodyAction,
}

impl UnitCustodyEvent {
    /// The stored form of `event` at position `seq` of `unit_id`'s log.
    pub fn new(unit_id: Uuid, seq: u32, event: CustodyEvent) -> Self {
        UnitCustodyEvent {
            unit_id,
            seq,
            event_type: event.action.event_type(),
            at: event.at,
            by: event.by,
            action: event.action,
        }
    }

    /// The event as the custody state machine sees it.
    pub fn event(&self) -> CustodyEvent {
        CustodyEvent {
            at: self.at,
            by: self.by.clone(),
            action: self.action.clone(),
        }
    }
}

impl Validate for UnitCustodyEvent {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.event_type != self.action.event_type() {
            errors.push(
                "event_type",
                format!(
                    "is {} but the action is {}",
                    self.event_type,
                    self.action.event_type()
                ),
            );
        }
        check_plausible("at", self.at.date(), &mut errors);
        errors.into_result()
    }
}

impl Entity for UnitCustodyEvent {
    const KIND: &'static str = "custody_event";
    const READ_ONLY: &'static [&'static str] = &["seq", "event_type"];
}

/// What a client sends to append to a unit's custody log (the position and type are
/// worked out by the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustodyEvent {
    /// The unit.
    pub unit_id: Uuid,
    /// When it happened (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who recorded it.
    pub by: Party,
    /// What happened.
    pub action: CustodyAction,
}

impl NewCustodyEvent {
    /// The event itself.
    pub fn event(&self) -> CustodyEvent {
        CustodyEvent {
            at: self.at,
            by: self.by.clone(),
            action: self.action.clone(),
        }
    }
}

/// A temperature log uploaded for a unit (and the units that travelled with it), checked
/// against the unit's storage range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitTemperatureLog {
    /// The unit the log was uploaded for.
    pub unit_id: Uuid,
    /// Other units in the same shipper or storage, affected by the same log.
    #[serde(default)]
    pub also_unit_ids: Vec<Uuid>,
    /// The range checked against (the unit's storage range at upload).
    pub range: StorageRange,
    /// The readings, in time order.
    pub readings: Vec<TemperatureReading>,
    /// The first reading's time.
    #[serde(with = "time::serde::rfc3339")]
    pub first_at: OffsetDateTime,
    /// The last reading's time.
    #[serde(with = "time::serde::rfc3339")]
    pub last_at: OffsetDateTime,
    /// Whether every reading was in range.
    pub within_range: bool,
    /// How many excursions were found.
    pub excursion_count: u32,
}

impl UnitTemperatureLog {
    /// Every unit the log concerns: the unit first, then the others.
    pub fn unit_ids(&self) -> Vec<Uuid> {
        std::iter::once(self.unit_id)
            .chain(self.also_unit_ids.iter().copied())
            .collect()
    }
}

impl Validate for UnitTemperatureLog {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let ids = self.unit_ids();
        check_distinct("also_unit_ids", &ids, &mut errors);
        if let Err(e) = TemperatureLog::from_readings(self.readings.clone()) {
            for p in e.problems {
                errors.push(format!("readings[{}]", p.line.saturating_sub(1)), p.problem);
            }
        }
        match (self.readings.first(), self.readings.last()) {
            (Some(f), Some(l)) if f.at == self.first_at && l.at == self.last_at => {}
            _ => errors.push("first_at", "must be the first and last readings' times"),
        }
        errors.into_result()
    }
}

impl Entity for UnitTemperatureLog {
    const KIND: &'static str = "temperature_log";
}

/// An excursion found in a temperature log, and the hold it opened on the affected units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitTemperatureExcursion {
    /// The log it was found in.
    pub log_id: Uuid,
    /// The unit the log was uploaded for.
    pub unit_id: Uuid,
    /// Every unit affected (held until a disposition).
    pub unit_ids: Vec<Uuid>,
    /// The hold's name on the affected units' custody logs.
    pub hold: Code,
    /// The first out-of-range reading.
    #[serde(with = "time::serde::rfc3339")]
    pub start_at: OffsetDateTime,
    /// The first reading back in range (or the last reading).
    #[serde(with = "time::serde::rfc3339")]
    pub end_at: OffsetDateTime,
    /// `end_at − start_at`, in seconds.
    pub duration_seconds: i64,
    /// The lowest out-of-range reading, °C.
    pub min_celsius: f64,
    /// The highest out-of-range reading, °C.
    pub max_celsius: f64,
    /// Above, below or both.
    pub direction: ExcursionDirection,
    /// The number of out-of-range readings.
    pub readings: u32,
    /// Whether the log ends out of range.
    pub open_at_end_of_log: bool,
    /// The range it left.
    pub range: StorageRange,
}

impl UnitTemperatureExcursion {
    /// The stored form of an excursion found in log `log_id`.
    pub fn new(
        log_id: Uuid,
        unit_ids: Vec<Uuid>,
        hold: Code,
        excursion: &Excursion,
        range: StorageRange,
    ) -> Self {
        UnitTemperatureExcursion {
            log_id,
            unit_id: unit_ids.first().copied().unwrap_or(Uuid::nil()),
            unit_ids,
            hold,
            start_at: excursion.start,
            end_at: excursion.end,
            duration_seconds: excursion.duration_seconds,
            min_celsius: excursion.min_celsius,
            max_celsius: excursion.max_celsius,
            direction: excursion.direction,
            readings: u32::try_from(excursion.readings).unwrap_or(u32::MAX),
            open_at_end_of_log: excursion.open_at_end_of_log,
            range,
        }
    }
}

impl Validate for UnitTemperatureExcursion {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.unit_ids.first() != Some(&self.unit_id) {
            errors.push("unit_ids", "must start with unit_id");
        }
        check_distinct("unit_ids", &self.unit_ids, &mut errors);
        if self.end_at < self.start_at
            || (self.end_at - self.start_at).whole_seconds() != self.duration_seconds
        {
            errors.push("duration_seconds", "must equal end_at − start_at");
        }
        if self.min_celsius.partial_cmp(&self.max_celsius) == Some(std::cmp::Ordering::Greater)
            || self.min_celsius.is_nan()
            || self.max_celsius.is_nan()
        {
            errors.push("min_celsius", "must not exceed max_celsius");
        }
        errors.into_result()
    }
}

impl Entity for UnitTemperatureExcursion {
    const KIND: &'static str = "temperature_excursion";
}

/// QA's decision on an excursion hold, as stored, with the units it was applied to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExcursionDisposition {
    /// The excursion decided on.
    pub excursion_id: Uuid,
    /// Its hold.
    pub hold: Code,
    /// Use as is, or destroy.
    pub decision: DispositionDecision,
    /// Who decided (a QA manager).
    pub approved_by: Approver,
    /// When.
    pub decided_on: Date,
    /// The units whose hold it decided.
    #[serde(default)]
    pub unit_ids: Vec<Uuid>,
}

impl ExcursionDisposition {
    /// The decision as the temperature rules see it.
    pub fn disposition(&self) -> Disposition {
        Disposition {
            hold: self.hold.clone(),
            decision: self.decision.clone(),
            approved_by: self.approved_by.clone(),
            decided_on: self.decided_on,
        }
    }
}

impl Validate for ExcursionDisposition {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Err(e) = self.disposition().custody_action() {
            errors.push("approved_by.role", e.to_string());
        }
        check_plausible("decided_on", self.decided_on, &mut errors);
        check_distinct("unit_ids", &self.unit_ids, &mut errors);
        errors.into_result()
    }
}

impl Entity for ExcursionDisposition {
    const KIND: &'static str = "disposition";
    const READ_ONLY: &'static [&'static str] = &["hold", "unit_ids"];
}

/// What a client sends to decide an excursion hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDisposition {
    /// The excursion.
    pub excursion_id: Uuid,
    /// Use as is, or destroy.
    pub decision: DispositionDecision,
    /// Who decided (must be a QA manager).
    pub approved_by: Approver,
    /// When.
    pub decided_on: Date,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn custody_events_keep_their_type_consistent() {
        let e: NewCustodyEvent = serde_json::from_value(json!({
            "unit_id": Uuid::nil(), "at": "2025-04-01T09:00:00+09:00",
            "by": {"organisation_id": Uuid::nil(), "person": "QP Sato"},
            "action": {"type": "stored", "location": "LN2 tank 2"}
        }))
        .unwrap();
        let stored = UnitCustodyEvent::new(e.unit_id, 0, e.event());
        assert_eq!(stored.event_type, CustodyEventType::Stored);
        assert!(stored.validate().is_ok());
        let mut wrong = stored.clone();
        wrong.event_type = CustodyEventType::Packed;
        assert_eq!(wrong.validate().unwrap_err().0[0].field, "event_type");
        assert_eq!(stored.event(), e.event());
    }

    #[test]
    fn dispositions_need_a_qa_manager() {
        let d: ExcursionDisposition = serde_json::from_value(json!({
            "excursion_id": Uuid::nil(), "hold": "EXC-1",
            "decision": {"decision": "use_as_is", "reason": "within stability data"},
            "approved_by": {"person": "Tech Mori", "role": "qc_analyst"},
            "decided_on": "2025-04-02"
        }))
        .unwrap();
        assert_eq!(d.validate().unwrap_err().0[0].field, "approved_by.role");
    }

    #[test]
    fn temperature_logs_are_consistent() {
        let log = TemperatureLog::parse_csv(
            "2025-04-01T00:00:00Z,-170\n2025-04-01T00:10:00Z,-120\n2025-04-01T00:20:00Z,-165\n",
        )
        .unwrap();
        let range = StorageRange::new(-196.0, -150.0).unwrap();
        let (first_at, last_at) = log.span();
        let record = UnitTemperatureLog {
            unit_id: Uuid::from_u128(1),
            also_unit_ids: vec![Uuid::from_u128(2)],
            range,
            readings: log.readings().to_vec(),
            first_at,
            last_at,
            within_range: false,
            excursion_count: 1,
        };
        assert!(record.validate().is_ok());
        let mut dup = record.clone();
        dup.also_unit_ids = vec![Uuid::from_u128(1)];
        assert_eq!(dup.validate().unwrap_err().0[0].field, "also_unit_ids[1]");
        let ex = crate::quality::find_excursions(&log, &range);
        let stored = UnitTemperatureExcursion::new(
            Uuid::nil(),
            record.unit_ids(),
            Code::try_from("EXC-1").unwrap(),
            &ex[0],
            range,
        );
        assert_eq!(stored.duration_seconds, 600);
        assert!(stored.validate().is_ok());
    }
}
