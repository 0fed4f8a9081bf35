//! Units and their chain of identity and custody.
//!
//! Every event is checked with the domain's state machine ([`apply`]) against the state
//! replayed from the unit's stored log before it is appended, so an impossible log is
//! never written; each event takes the next position (`seq`) in the log, and the database
//! refuses two events at the same position, so two writers appending at once cannot both
//! succeed. Shipping, thawing, the bedside identity check and administration also need
//! the unit's *lot* to be released ([`check_unit_use`]); the lot is checked with
//! [`Batch::check`] so a quarantine committed meanwhile makes the write fail.

use super::{by, event_time};
use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::quality::records::{
    Collection, Lot, NewCustodyEvent, ProductUnit, UnitCustodyEvent,
};
use saisei_domain::quality::{
    CustodyAction, CustodyError, CustodyEvent, LotStatus, Party, Recipient, UnitCustodyState,
    UnitPhase, UnitUse, UnitUseRefusal, apply, check_recipient, check_unit_use, replay,
};
use saisei_domain::registry::Treatment;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A unit, its lot, its stored log and the state the log leads to: what every custody
/// decision is taken on.
#[derive(Debug, Clone)]
pub struct UnitLog {
    /// The unit.
    pub unit: Record<ProductUnit>,
    /// Its lot.
    pub lot: Record<Lot>,
    /// The stored events, in log order.
    pub events: Vec<Record<UnitCustodyEvent>>,
    /// The state after the stored events and any staged in this batch.
    pub state: UnitCustodyState,
    /// How many events are stored or staged.
    next_seq: u32,
}

impl UnitLog {
    /// Reads unit `unit_id`, its lot and its log; an unknown unit is a problem with
    /// `field` of the request body, or "not found" when `field` is the path's `id`.
    pub async fn read(store: &Store, unit_id: Uuid, field: &str) -> Result<Self, StoreError> {
        let unit = store.find::<ProductUnit>(unit_id).await?.ok_or_else(|| {
            if field == "id" {
                StoreError::NotFound {
                    entity: "unit",
                    id: unit_id,
                }
            } else {
                StoreError::invalid(field, format!("no unit with id {unit_id}"))
            }
        })?;
        if unit.meta.withdrawn_at.is_some() {
            return Err(StoreError::invalid(
                field,
                format!("unit {} is withdrawn", unit.data.unit_number),
            ));
        }
        let lot = store.get::<Lot>(unit.data.lot_id).await?;
        Self::assemble(store, unit, lot).await
    }

    /// Reads the log of a unit whose lot is already in hand.
    pub async fn assemble(
        store: &Store,
        unit: Record<ProductUnit>,
        lot: Record<Lot>,
    ) -> Result<Self, StoreError> {
        let mut events = store
            .all::<UnitCustodyEvent>(by("unit_id", unit.id()))
            .await?;
        events.sort_by_key(|e| e.data.seq);
        let log: Vec<CustodyEvent> = events.iter().map(|e| e.data.event()).collect();
        let state = replay(unit.data.recipient, &log).map_err(|e| {
            StoreError::Corrupt(format!(
                "custody log of unit {} does not replay: {e}",
                unit.id()
            ))
        })?;
        let next_seq = u32::try_from(events.len()).unwrap_or(u32::MAX);
        Ok(UnitLog {
            unit,
            lot,
            events,
            state,
            next_seq,
        })
    }

    /// The time of the latest stored or staged event.
    pub fn last_event_at(&self) -> Option<OffsetDateTime> {
        self.state.last_event_at()
    }

    /// Checks `event` against the state and adds it to `batch` at the next position; a
    /// refusal names the field `field_of` picks for it.
    pub fn stage(
        &mut self,
        batch: &mut Batch,
        event: CustodyEvent,
        field_of: impl Fn(&CustodyError) -> &'static str,
    ) -> Result<Record<UnitCustodyEvent>, StoreError> {
        let next = apply(&self.state, &event).map_err(|e| {
            StoreError::invalid(
                field_of(&e),
                format!("unit {}: {e}", self.unit.data.unit_number),
            )
        })?;
        let record = batch.insert(UnitCustodyEvent::new(self.unit.id(), self.next_seq, event))?;
        self.state = next;
        self.next_seq += 1;
        Ok(record)
    }

    /// Guards the decision: the unit and its lot must be unchanged at commit.
    pub fn guard(&self, batch: &mut Batch) {
        batch.check(&self.unit);
        batch.check(&self.lot);
    }

    /// Whether the unit may be shipped or administered now (lot released, unit released,
    /// no hold, not finished); if not, a problem with `lot_field` when the lot is the
    /// reason and with `unit_field` when the unit itself is.
    pub fn check_use(
        &self,
        what: UnitUse,
        lot_field: &str,
        unit_field: &str,
    ) -> Result<(), StoreError> {
        check_unit_use(self.lot.data.status, &self.state, what).map_err(|r| {
            let field = match r {
                UnitUseRefusal::LotNotReleased { .. } => lot_field,
                _ => unit_field,
            };
            StoreError::invalid(field, self.refusal_text(&r))
        })
    }

    /// Refuses use after the unit's expiry date.
    pub fn check_expiry(&self, on: Date, field: &str) -> Result<(), StoreError> {
        if on > self.unit.data.expires_on {
            return Err(StoreError::invalid(
                field,
                format!(
                    "unit {} expired on {}",
                    self.unit.data.unit_number, self.unit.data.expires_on
                ),
            ));
        }
        Ok(())
    }

    fn refusal_text(&self, r: &UnitUseRefusal) -> String {
        let unit = &self.unit.data.unit_number;
        match r {
            UnitUseRefusal::LotNotReleased { status } => format!(
                "unit {unit}: its lot {} is {status}, not released",
                self.lot.data.lot_number
            ),
            other => format!("unit {unit}: {other}"),
        }
    }
}

/// The field a custody refusal is about, in a request shaped like [`NewCustodyEvent`].
pub fn custody_field(e: &CustodyError) -> &'static str {
    match e {
        CustodyError::OutOfOrder { .. } => "at",
        CustodyError::HandoverToSelf { .. } | CustodyError::HandoverByNonHolder { .. } => {
            "action.releasing"
        }
        CustodyError::WrongPatient { .. }
        | CustodyError::IdentityNotVerified { .. }
        | CustodyError::VerifiedForAnotherPatient { .. } => "action.patient_id",
        _ => "action",
    }
}

/// Stores a new unit of a lot. A rejected lot gets no new units; an autologous lot's
/// units are for the patient it was collected from, an allogeneic lot's are not
/// autologous; a unit does not outlive its lot.
pub async fn register_unit(
    store: &Store,
    actor: &AuditActor,
    unit: ProductUnit,
) -> Result<Record<ProductUnit>, StoreError> {
    let lot = store
        .find::<Lot>(unit.lot_id)
        .await?
        .ok_or_else(|| StoreError::invalid("lot_id", format!("no lot with id {}", unit.lot_id)))?;
    if lot.data.status == LotStatus::Rejected {
        return Err(StoreError::invalid(
            "lot_id",
            format!(
                "lot {} is rejected: it gets no new units",
                lot.data.lot_number
            ),
        ));
    }
    if let Some(lot_expiry) = lot.data.expires_on
        && unit.expires_on > lot_expiry
    {
        return Err(StoreError::invalid(
            "expires_on",
            format!("must not be after the lot's expiry ({lot_expiry})"),
        ));
    }
    let mut batch = Batch::new(actor);
    if let Some(collection_id) = lot.data.collection_id {
        let collection = store.get::<Collection>(collection_id).await?;
        match (collection.data.patient_id, unit.recipient) {
            (Some(p), Recipient::Autologous { patient_id }) if p == patient_id => {}
            (Some(p), _) => {
                return Err(StoreError::invalid(
                    "recipient",
                    format!(
                        "lot {} is autologous, made from patient {p}: its units are autologous for that patient",
                        lot.data.lot_number
                    ),
                ));
            }
            (None, Recipient::Autologous { .. }) => {
                return Err(StoreError::invalid(
                    "recipient",
                    format!(
                        "lot {} is made from a donor: its units are allogeneic",
                        lot.data.lot_number
                    ),
                ));
            }
            (None, Recipient::Allogeneic { .. }) => {}
        }
        batch.check(&collection);
    }
    batch.check(&lot);
    let record = batch.insert(unit)?;
    store.commit(batch).await?;
    Ok(record)
}

/// Appends one event to a unit's custody log. Administration is recorded with the
/// treatment (which appends the `administered` event), so it is refused here.
pub async fn append_custody_event(
    store: &Store,
    actor: &AuditActor,
    request: NewCustodyEvent,
) -> Result<Record<UnitCustodyEvent>, StoreError> {
    let mut log = UnitLog::read(store, request.unit_id, "unit_id").await?;
    let day = request.at.date();
    match &request.action {
        CustodyAction::Administered { .. } => {
            return Err(StoreError::invalid(
                "action.type",
                "record an administration as a treatment (POST /api/v1/treatments with unit_id); its custody event is appended with it",
            ));
        }
        CustodyAction::Released { hold: None } if log.lot.data.status != LotStatus::Released => {
            return Err(StoreError::invalid(
                "action",
                format!(
                    "a unit's release is recorded only for a released lot; lot {} is {}",
                    log.lot.data.lot_number, log.lot.data.status
                ),
            ));
        }
        CustodyAction::Packed => {
            log.check_use(UnitUse::Ship, "unit_id", "unit_id")?;
            log.check_expiry(day, "unit_id")?;
        }
        CustodyAction::Thawed | CustodyAction::IdentityVerified { .. } => {
            log.check_use(UnitUse::Administer, "unit_id", "unit_id")?;
            log.check_expiry(day, "unit_id")?;
        }
        _ => {}
    }
    let mut batch = Batch::new(actor);
    log.guard(&mut batch);
    let record = log.stage(&mut batch, request.event(), custody_field)?;
    store.commit(batch).await?;
    Ok(record)
}

/// Sending a unit out: who hands it over and who takes it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    /// When it was packed and handed over (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The party releasing it (the current holder: the facility).
    pub releasing: Party,
    /// The party receiving it (a courier or the treating site).
    pub receiving: Party,
}

/// Ships a unit: `packed` then a `handover` from the releasing to the receiving party, in
/// one transaction, only for a usable unit of a released lot.
pub async fn ship_unit(
    store: &Store,
    actor: &AuditActor,
    unit_id: Uuid,
    request: ShipmentRequest,
) -> Result<Vec<Record<UnitCustodyEvent>>, StoreError> {
    let mut log = UnitLog::read(store, unit_id, "id").await?;
    log.check_use(UnitUse::Ship, "lot_id", "id")?;
    log.check_expiry(request.at.date(), "at")?;
    let mut batch = Batch::new(actor);
    log.guard(&mut batch);
    let packed = CustodyEvent {
        at: request.at,
        by: request.releasing.clone(),
        action: CustodyAction::Packed,
    };
    let handover = CustodyEvent {
        at: request.at,
        by: request.releasing.clone(),
        action: CustodyAction::Handover {
            releasing: request.releasing,
            receiving: request.receiving,
        },
    };
    let out = vec![
        log.stage(&mut batch, packed, |_| "at")?,
        log.stage(&mut batch, handover, |_| "releasing")?,
    ];
    store.commit(batch).await?;
    Ok(out)
}

/// Allocating an allogeneic unit to a patient.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// The patient who is to receive the unit.
    pub patient_id: Uuid,
    /// The unit version read.
    pub version: i64,
}

/// Allocates an allogeneic unit to a patient. Refused for autologous units, finished
/// units, and units whose identity was already verified at the bedside for the patient
/// they are allocated to.
pub async fn allocate_unit(
    store: &Store,
    actor: &AuditActor,
    unit_id: Uuid,
    request: AllocationRequest,
) -> Result<Record<ProductUnit>, StoreError> {
    let log = UnitLog::read(store, unit_id, "id").await?;
    if log.unit.meta.version != request.version {
        return Err(StoreError::Conflict {
            entity: "unit",
            id: unit_id,
            expected: request.version,
            current: log.unit.meta.version,
        });
    }
    match log.unit.data.recipient {
        Recipient::Autologous { patient_id } => {
            return Err(StoreError::invalid(
                "patient_id",
                format!(
                    "the unit is autologous, made for patient {patient_id}; it cannot be allocated"
                ),
            ));
        }
        Recipient::Allogeneic {
            allocated_to: Some(current),
        } if log.state.identity_verified_for() == Some(current)
            && current != request.patient_id =>
        {
            return Err(StoreError::invalid(
                "patient_id",
                format!(
                    "the unit's identity was verified at the bedside for patient {current}; it cannot be reallocated"
                ),
            ));
        }
        Recipient::Allogeneic { .. } => {}
    }
    if matches!(
        log.state.phase(),
        UnitPhase::Administered | UnitPhase::Destroyed
    ) {
        return Err(StoreError::invalid(
            "id",
            format!("the unit is already {}", log.state.phase()),
        ));
    }
    let mut data = log.unit.data.clone();
    data.recipient = Recipient::Allogeneic {
        allocated_to: Some(request.patient_id),
    };
    let mut batch = Batch::new(actor);
    batch.check(&log.lot);
    let record = batch.update(
        &log.unit,
        data,
        AuditAction::Transition,
        Some(format!("allocated to patient {}", request.patient_id)),
    )?;
    store.commit(batch).await?;
    Ok(record)
}

/// What the ward does at the bedside just before giving a unit, recorded with the
/// administration in one commit: a nurse who thaws the bag, reads its label against
/// the patient and gives it records one act, and a refusal of any part stores none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedsideSteps {
    /// The site thawed the (cryopreserved) unit for this administration.
    pub thawed: bool,
    /// The unit's label was checked against the patient's identity.
    pub identity_verified: bool,
    /// Who did it, for the institution caring for the patient.
    pub by: Party,
}

/// The fields a bedside refusal is about, in the order the steps are taken.
pub const BEDSIDE_THAWED: &str = "thawed";
/// The field of the identity check (see [`BedsideSteps::identity_verified`]).
pub const BEDSIDE_IDENTITY: &str = "identity_verified";

/// Adds the administration of the treatment's unit to `batch`: the unit must exist, be
/// usable, of a released lot, unexpired, meant for the treated patient (identity), of the
/// treatment's product, with its bedside identity check recorded (before, or as one of
/// `bedside`'s steps, staged first); the `administered` event is appended to its log.
/// Fills in the treatment's product from the lot when the treatment names none.
pub async fn stage_administration(
    store: &Store,
    batch: &mut Batch,
    treatment: &mut Treatment,
    bedside: Option<&BedsideSteps>,
) -> Result<(), StoreError> {
    let Some(unit_id) = treatment.unit_id else {
        if bedside.is_some() {
            return Err(StoreError::invalid(
                "unit_id",
                "is required for the bedside steps",
            ));
        }
        return Ok(());
    };
    let mut log = UnitLog::read(store, unit_id, "unit_id").await?;
    match treatment.product_id {
        Some(p) if p != log.lot.data.product_id => {
            return Err(StoreError::invalid(
                "product_id",
                format!(
                    "unit {} is of lot {}, made of product {}, not {p}",
                    log.unit.data.unit_number, log.lot.data.lot_number, log.lot.data.product_id
                ),
            ));
        }
        Some(_) => {}
        None => treatment.product_id = Some(log.lot.data.product_id),
    }
    log.check_use(UnitUse::Administer, "unit_id", "unit_id")?;
    log.check_expiry(treatment.administered_on, "unit_id")?;
    check_recipient(log.state.recipient(), treatment.patient_id).map_err(|e| {
        StoreError::invalid(
            "patient_id",
            format!("unit {}: {e}", log.unit.data.unit_number),
        )
    })?;
    let at = event_time(treatment.administered_on, log.last_event_at()).ok_or_else(|| {
        StoreError::invalid(
            "administered_on",
            format!(
                "is before the last event in unit {}'s custody log",
                log.unit.data.unit_number
            ),
        )
    })?;
    if let Some(steps) = bedside {
        stage_bedside(&mut log, batch, treatment.patient_id, at, steps)?;
    }
    let holder = log.state.holder().cloned().ok_or_else(|| {
        StoreError::invalid(
            "unit_id",
            format!("unit {} has no custody log yet", log.unit.data.unit_number),
        )
    })?;
    log.guard(batch);
    let event = CustodyEvent {
        at,
        by: holder,
        action: CustodyAction::Administered {
            patient_id: treatment.patient_id,
        },
    };
    log.stage(batch, event, |e| match e {
        CustodyError::WrongPatient { .. } | CustodyError::VerifiedForAnotherPatient { .. } => {
            "patient_id"
        }
        CustodyError::IdentityNotVerified { .. } if bedside.is_some() => BEDSIDE_IDENTITY,
        CustodyError::NotThawed if bedside.is_some() => BEDSIDE_THAWED,
        _ => "unit_id",
    })?;
    Ok(())
}

/// Stages the bedside steps at `at` (the administration's time; equal times keep the
/// log's order): thawing, then the identity check for `patient_id`.
fn stage_bedside(
    log: &mut UnitLog,
    batch: &mut Batch,
    patient_id: Uuid,
    at: OffsetDateTime,
    steps: &BedsideSteps,
) -> Result<(), StoreError> {
    if steps.thawed {
        let event = CustodyEvent {
            at,
            by: steps.by.clone(),
            action: CustodyAction::Thawed,
        };
        log.stage(batch, event, |_| BEDSIDE_THAWED)?;
    }
    if steps.identity_verified {
        let event = CustodyEvent {
            at,
            by: steps.by.clone(),
            action: CustodyAction::IdentityVerified { patient_id },
        };
        log.stage(batch, event, |e| match e {
            CustodyError::WrongPatient { .. } => "patient_id",
            _ => BEDSIDE_IDENTITY,
        })?;
    }
    Ok(())
}

/// A unit's custody log and where it stands, for reading.
#[derive(Debug, Clone, Serialize)]
pub struct UnitCustody {
    /// The unit.
    pub unit: Record<ProductUnit>,
    /// Its lot number.
    pub lot_number: String,
    /// Its lot's status.
    pub lot_status: LotStatus,
    /// Where the unit is.
    pub phase: UnitPhase,
    /// Who holds it.
    pub holder: Option<Party>,
    /// The holds open on it.
    pub holds: Vec<String>,
    /// Whether it may be shipped now, and if not why.
    pub shippable: Result<(), String>,
    /// The log, in order.
    pub events: Vec<Record<UnitCustodyEvent>>,
}

/// Reads a unit's custody log and state.
pub async fn unit_custody(store: &Store, unit_id: Uuid) -> Result<UnitCustody, StoreError> {
    let unit = store.get::<ProductUnit>(unit_id).await?;
    let lot = store.get::<Lot>(unit.data.lot_id).await?;
    let log = UnitLog::assemble(store, unit, lot).await?;
    let shippable = check_unit_use(log.lot.data.status, &log.state, UnitUse::Ship)
        .map_err(|r| log.refusal_text(&r));
    Ok(UnitCustody {
        lot_number: log.lot.data.lot_number.to_string(),
        lot_status: log.lot.data.status,
        phase: log.state.phase(),
        holder: log.state.holder().cloned(),
        holds: log.state.holds().iter().cloned().collect(),
        shippable,
        unit: log.unit,
        events: log.events,
    })
}
