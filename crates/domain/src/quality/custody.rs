//! Chain of identity and custody for one product unit: a closed list of event types and
//! a state machine that decides which event may follow which.
//!
//! Each unit has an append-only log of [`CustodyEvent`]s. [`apply`] checks one event
//! against the state built from the events before it and returns the new state or a
//! [`CustodyError`] saying why the event cannot be recorded; [`replay`] folds a whole log.
//! The store should call `apply` before appending, so that an impossible log is never
//! written.
//!
//! The rules, in short:
//! - The first event is `collected`, `received` or `processing_step`. `administered` and
//!   `destroyed` end the log. Events are in time order (equal times are allowed).
//! - Where a unit is: `in_facility` (being made or stored), `in_transit` (after `packed`),
//!   `at_site` (after `delivered`, or `received` from transit; `received` at the site
//!   after `delivered` is the site's acknowledgement). `returned` brings it back
//!   to the facility and puts it on hold.
//! - Quality status: `released` (without a hold) records the lot's release for this unit;
//!   `quarantined` opens a named hold (an excursion, an investigation) and `released` with
//!   that hold lifts it; `rejected` and `recalled` withdraw the unit for good. A unit is
//!   *usable* only when released, with no hold open, and not withdrawn; `packed`, `thawed`,
//!   `identity_verified` and `administered` require a usable unit.
//! - `handover` needs a releasing and a receiving party that differ, and the releasing
//!   organisation must be the current holder.
//! - A cryopreserved unit must be `thawed` before `administered`, and cannot be refrozen.
//! - `administered` needs an earlier `identity_verified` for the same patient, and that
//!   patient must be the one the unit is meant for: the patient it was made from
//!   (autologous) or allocated to (allogeneic) — see [`check_recipient`].
//!
//! Whether the *lot* is released is the lot's own state; check it too with
//! [`super::release::check_unit_use`] before shipping or administering.

use crate::text::{Code, Name, Text, Title};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The closed list of custody event types (for listings, filters and database columns).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CustodyEventType {
    /// Material collected from the donor.
    Collected,
    /// Material or unit received by an organisation.
    Received,
    /// A manufacturing step (culture, harvest, fill…).
    ProcessingStep,
    /// Frozen for storage.
    Cryopreserved,
    /// Put into (or moved within) storage.
    Stored,
    /// A QC sample taken.
    QcSampled,
    /// Put on hold.
    Quarantined,
    /// Released (lot release recorded, or a hold lifted).
    Released,
    /// Rejected for use.
    Rejected,
    /// Packed for shipment.
    Packed,
    /// Custody handed from one party to another.
    Handover,
    /// Delivered to its destination.
    Delivered,
    /// Thawed for use.
    Thawed,
    /// Identity checked against the patient at the bedside.
    IdentityVerified,
    /// Given to the patient.
    Administered,
    /// Returned to the facility.
    Returned,
    /// Destroyed.
    Destroyed,
    /// Recalled.
    Recalled,
}

impl CustodyEventType {
    /// Every event type, in life-cycle order.
    pub const ALL: [CustodyEventType; 18] = [
        CustodyEventType::Collected,
        CustodyEventType::Received,
        CustodyEventType::ProcessingStep,
        CustodyEventType::Cryopreserved,
        CustodyEventType::Stored,
        CustodyEventType::QcSampled,
        CustodyEventType::Quarantined,
        CustodyEventType::Released,
        CustodyEventType::Rejected,
        CustodyEventType::Packed,
        CustodyEventType::Handover,
        CustodyEventType::Delivered,
        CustodyEventType::Thawed,
        CustodyEventType::IdentityVerified,
        CustodyEventType::Administered,
        CustodyEventType::Returned,
        CustodyEventType::Destroyed,
        CustodyEventType::Recalled,
    ];

    /// The snake_case name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            CustodyEventType::Collected => "collected",
            CustodyEventType::Received => "received",
            CustodyEventType::ProcessingStep => "processing_step",
            CustodyEventType::Cryopreserved => "cryopreserved",
            CustodyEventType::Stored => "stored",
            CustodyEventType::QcSampled => "qc_sampled",
            CustodyEventType::Quarantined => "quarantined",
            CustodyEventType::Released => "released",
            CustodyEventType::Rejected => "rejected",
            CustodyEventType::Packed => "packed",
            CustodyEventType::Handover => "handover",
            CustodyEventType::Delivered => "delivered",
            CustodyEventType::Thawed => "thawed",
            CustodyEventType::IdentityVerified => "identity_verified",
            CustodyEventType::Administered => "administered",
            CustodyEventType::Returned => "returned",
            CustodyEventType::Destroyed => "destroyed",
            CustodyEventType::Recalled => "recalled",
        }
    }
}

impl fmt::Display for CustodyEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An organisation and the person acting for it: who holds, hands over or receives a unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// The organisation (its registry id).
    pub organisation_id: Uuid,
    /// The person acting.
    pub person: Name,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.person, self.organisation_id)
    }
}

/// What happened, with the details each event type needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CustodyAction {
    /// Material collected from the donor.
    Collected,
    /// Material or unit received.
    Received,
    /// A manufacturing step.
    ProcessingStep {
        /// The step, e.g. "passage 3 harvest", "fill".
        step: Title,
    },
    /// Frozen for storage.
    Cryopreserved,
    /// Put into storage.
    Stored {
        /// Where (freezer, rack, position).
        location: Title,
    },
    /// A QC sample taken.
    QcSampled {
        /// The sample's id.
        sample_id: Code,
    },
    /// A hold opened.
    Quarantined {
        /// The hold's name, e.g. an excursion or investigation number; `released` with the
        /// same name lifts it.
        hold: Code,
        /// Why.
        reason: Text,
    },
    /// Released: without `hold`, the lot's release recorded for this unit; with `hold`,
    /// that hold lifted.
    Released {
        /// The hold lifted, if this lifts one.
        #[serde(default)]
        hold: Option<Code>,
    },
    /// Rejected for use (for good).
    Rejected {
        /// Why.
        reason: Text,
    },
    /// Packed for shipment.
    Packed,
    /// Custody passed from one party to another.
    Handover {
        /// Who hands over.
        releasing: Party,
        /// Who takes over.
        receiving: Party,
    },
    /// Delivered to the destination.
    Delivered,
    /// Thawed for use.
    Thawed,
    /// Identity checked against the patient (bedside check).
    IdentityVerified {
        /// The patient checked against.
        patient_id: Uuid,
    },
    /// Given to the patient.
    Administered {
        /// The patient treated.
        patient_id: Uuid,
    },
    /// Returned to the facility (put on hold until QA decides).
    Returned {
        /// Why.
        reason: Text,
    },
    /// Destroyed.
    Destroyed {
        /// Why.
        reason: Text,
    },
    /// Recalled (for good).
    Recalled {
        /// Why.
        reason: Text,
    },
}

impl CustodyAction {
    /// The event type of this action.
    pub fn event_type(&self) -> CustodyEventType {
        match self {
            CustodyAction::Collected => CustodyEventType::Collected,
            CustodyAction::Received => CustodyEventType::Received,
            CustodyAction::ProcessingStep { .. } => CustodyEventType::ProcessingStep,
            CustodyAction::Cryopreserved => CustodyEventType::Cryopreserved,
            CustodyAction::Stored { .. } => CustodyEventType::Stored,
            CustodyAction::QcSampled { .. } => CustodyEventType::QcSampled,
            CustodyAction::Quarantined { .. } => CustodyEventType::Quarantined,
            CustodyAction::Released { .. } => CustodyEventType::Released,
            CustodyAction::Rejected { .. } => CustodyEventType::Rejected,
            CustodyAction::Packed => CustodyEventType::Packed,
            CustodyAction::Handover { .. } => CustodyEventType::Handover,
            CustodyAction::Delivered => CustodyEventType::Delivered,
            CustodyAction::Thawed => CustodyEventType::Thawed,
            CustodyAction::IdentityVerified { .. } => CustodyEventType::IdentityVerified,
            CustodyAction::Administered { .. } => CustodyEventType::Administered,
            CustodyAction::Returned { .. } => CustodyEventType::Returned,
            CustodyAction::Destroyed { .. } => CustodyEventType::Destroyed,
            CustodyAction::Recalled { .. } => CustodyEventType::Recalled,
        }
    }
}

/// One entry of a unit's custody log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustodyEvent {
    /// When it happened (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who recorded it (organisation and person).
    pub by: Party,
    /// What happened.
    pub action: CustodyAction,
}

/// Whom a unit is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum Recipient {
    /// Made from this patient's own cells; only this patient may receive it.
    Autologous {
        /// The patient.
        patient_id: Uuid,
    },
    /// From a donor; only the patient it is allocated to may receive it.
    Allogeneic {
        /// The patient it is allocated to, once allocated.
        #[serde(default)]
        allocated_to: Option<Uuid>,
    },
}

/// Why a patient may not receive a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum IdentityError {
    /// An allogeneic unit not yet allocated to anyone.
    #[error("the allogeneic unit is not allocated to a patient")]
    NotAllocated,
    /// The patient is not the one the unit was made for.
    #[error("autologous unit made for patient {intended}, not patient {actual}")]
    NotTheSourcePatient {
        /// The patient it was made from.
        intended: Uuid,
        /// The patient presented.
        actual: Uuid,
    },
    /// The patient is not the one the unit is allocated to.
    #[error("allogeneic unit allocated to patient {intended}, not patient {actual}")]
    NotTheAllocatedPatient {
        /// The patient it is allocated to.
        intended: Uuid,
        /// The patient presented.
        actual: Uuid,
    },
}

/// Checks that `patient_id` is the patient the unit is meant for.
pub fn check_recipient(recipient: &Recipient, patient_id: Uuid) -> Result<(), IdentityError> {
    match *recipient {
        Recipient::Autologous { patient_id: p } if p == patient_id => Ok(()),
        Recipient::Autologous { patient_id: p } => Err(IdentityError::NotTheSourcePatient {
            intended: p,
            actual: patient_id,
        }),
        Recipient::Allogeneic { allocated_to: None } => Err(IdentityError::NotAllocated),
        Recipient::Allogeneic {
            allocated_to: Some(p),
        } if p == patient_id => Ok(()),
        Recipient::Allogeneic {
            allocated_to: Some(p),
        } => Err(IdentityError::NotTheAllocatedPatient {
            intended: p,
            actual: patient_id,
        }),
    }
}

/// Where a unit is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitPhase {
    /// No event yet.
    New,
    /// At the collection or processing facility.
    InFacility,
    /// Packed and on its way.
    InTransit,
    /// Delivered to the treating site.
    AtSite,
    /// Given to a patient (final).
    Administered,
    /// Destroyed (final).
    Destroyed,
}

impl UnitPhase {
    fn is_final(self) -> bool {
        matches!(self, UnitPhase::Administered | UnitPhase::Destroyed)
    }
}

impl fmt::Display for UnitPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnitPhase::New => "new",
            UnitPhase::InFacility => "in_facility",
            UnitPhase::InTransit => "in_transit",
            UnitPhase::AtSite => "at_site",
            UnitPhase::Administered => "administered",
            UnitPhase::Destroyed => "destroyed",
        })
    }
}

/// Why a unit is not usable (cannot be packed, thawed, verified or administered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Unusable {
    /// The lot's release has not been recorded for the unit.
    NotReleased,
    /// Holds are open.
    OnHold {
        /// The open holds.
        holds: Vec<String>,
    },
    /// The unit was rejected.
    Rejected,
    /// The unit was recalled.
    Recalled,
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::NotReleased => f.write_str("not released"),
            Unusable::OnHold { holds } => write!(f, "on hold ({})", holds.join(", ")),
            Unusable::Rejected => f.write_str("rejected"),
            Unusable::Recalled => f.write_str("recalled"),
        }
    }
}

/// Why an event cannot be recorded. Each variant names the event type refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustodyError {
    /// After `administered` or `destroyed` nothing more can happen.
    #[error("{event}: the unit is already {phase}; nothing can follow")]
    AfterFinal {
        /// The refused event.
        event: CustodyEventType,
        /// The final phase.
        phase: UnitPhase,
    },
    /// The event is dated before the previous one.
    #[error("{event}: dated {at}, before the previous event ({previous})")]
    OutOfOrder {
        /// The refused event.
        event: CustodyEventType,
        /// Its time.
        at: OffsetDateTime,
        /// The previous event's time.
        previous: OffsetDateTime,
    },
    /// The log must start with collected, received or processing_step.
    #[error("{event}: a unit's log must start with collected, received or processing_step")]
    NotAFirstEvent {
        /// The refused event.
        event: CustodyEventType,
    },
    /// The event does not fit where the unit is.
    #[error("{event}: not possible while the unit is {phase}")]
    WrongPhase {
        /// The refused event.
        event: CustodyEventType,
        /// Where the unit is.
        phase: UnitPhase,
    },
    /// The unit is not usable.
    #[error("{event}: the unit is {why}")]
    NotUsable {
        /// The refused event.
        event: CustodyEventType,
        /// Why.
        why: Unusable,
    },
    /// A rejected or recalled unit cannot be released again.
    #[error("released: the unit was {why} and cannot be released")]
    Withdrawn {
        /// Rejected or recalled.
        why: Unusable,
    },
    /// The lot's release is already recorded for the unit.
    #[error("released: the unit is already released")]
    AlreadyReleased,
    /// A hold with this name is already open.
    #[error("quarantined: hold {hold} is already open")]
    HoldAlreadyOpen {
        /// The hold.
        hold: String,
    },
    /// No hold with this name is open.
    #[error("released: no open hold named {hold}")]
    NoSuchHold {
        /// The hold.
        hold: String,
    },
    /// A handover to the same party.
    #[error("handover: releasing and receiving party are the same ({party})")]
    HandoverToSelf {
        /// The party.
        party: Party,
    },
    /// The releasing organisation does not hold the unit.
    #[error("handover: the unit is held by {holder}, not by the releasing party {releasing}")]
    HandoverByNonHolder {
        /// The current holder.
        holder: Party,
        /// The releasing party given.
        releasing: Party,
    },
    /// Thawing a unit that was never frozen.
    #[error("thawed: the unit was never cryopreserved")]
    NotCryopreserved,
    /// Thawing twice.
    #[error("thawed: the unit is already thawed")]
    AlreadyThawed,
    /// Freezing a thawed unit.
    #[error("cryopreserved: a thawed unit cannot be frozen again")]
    RefreezeAfterThaw,
    /// Administering a frozen unit.
    #[error("administered: the unit is cryopreserved and has not been thawed")]
    NotThawed,
    /// Administering without a bedside identity check.
    #[error(
        "administered: no identity_verified event for patient {patient_id} before administration"
    )]
    IdentityNotVerified {
        /// The patient being treated.
        patient_id: Uuid,
    },
    /// The identity check was for a different patient.
    #[error("administered: identity was verified for patient {verified}, not patient {patient_id}")]
    VerifiedForAnotherPatient {
        /// The patient verified.
        verified: Uuid,
        /// The patient being treated.
        patient_id: Uuid,
    },
    /// The patient is not the one the unit is meant for.
    #[error("{event}: {problem}")]
    WrongPatient {
        /// The refused event.
        event: CustodyEventType,
        /// The identity problem.
        problem: IdentityError,
    },
}

/// A unit's state after the events so far: the input of the next [`apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnitCustodyState {
    recipient: Recipient,
    phase: UnitPhase,
    holder: Option<Party>,
    released: bool,
    rejected: bool,
    recalled: bool,
    holds: BTreeSet<String>,
    cryopreserved: bool,
    thawed: bool,
    identity_verified_for: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_event_at: Option<OffsetDateTime>,
    events: usize,
}

/// The hold `returned` opens automatically.
pub const RETURN_HOLD: &str = "returned";

impl UnitCustodyState {
    /// The state of a unit with no events yet.
    pub fn new(recipient: Recipient) -> Self {
        UnitCustodyState {
            recipient,
            phase: UnitPhase::New,
            holder: None,
            released: false,
            rejected: false,
            recalled: false,
            holds: BTreeSet::new(),
            cryopreserved: false,
            thawed: false,
            identity_verified_for: None,
            last_event_at: None,
            events: 0,
        }
    }
    /// Whom the unit is meant for.
    pub fn recipient(&self) -> &Recipient {
        &self.recipient
    }
    /// Where the unit is.
    pub fn phase(&self) -> UnitPhase {
        self.phase
    }
    /// Who holds it (organisation and person), once known.
    pub fn holder(&self) -> Option<&Party> {
        self.holder.as_ref()
    }
    /// Whether the lot's release has been recorded for it.
    pub fn is_released(&self) -> bool {
        self.released
    }
    /// The holds open on it.
    pub fn holds(&self) -> &BTreeSet<String> {
        &self.holds
    }
    /// Whether it was rejected.
    pub fn is_rejected(&self) -> bool {
        self.rejected
    }
    /// Whether it was recalled.
    pub fn is_recalled(&self) -> bool {
        self.recalled
    }
    /// Whether it was cryopreserved, and whether thawed since.
    pub fn is_frozen(&self) -> bool {
        self.cryopreserved && !self.thawed
    }
    /// The patient whose identity was last verified against it.
    pub fn identity_verified_for(&self) -> Option<Uuid> {
        self.identity_verified_for
    }
    /// The time of the last event.
    pub fn last_event_at(&self) -> Option<OffsetDateTime> {
        self.last_event_at
    }
    /// The number of events applied.
    pub fn event_count(&self) -> usize {
        self.events
    }
    /// The same state with another recipient, e.g. after an allogeneic unit is allocated.
    pub fn with_recipient(mut self, recipient: Recipient) -> Self {
        self.recipient = recipient;
        self
    }

    /// `Ok` when the unit may be packed, thawed, verified or administered as far as its
    /// own log goes: released, no hold open, neither rejected nor recalled.
    pub fn usable(&self) -> Result<(), Unusable> {
        if self.rejected {
            Err(Unusable::Rejected)
        } else if self.recalled {
            Err(Unusable::Recalled)
        } else if !self.holds.is_empty() {
            Err(Unusable::OnHold {
                holds: self.holds.iter().cloned().collect(),
            })
        } else if !self.released {
            Err(Unusable::NotReleased)
        } else {
            Ok(())
        }
    }
}

/// Applies one event to a unit's state, or says why the event cannot be recorded.
pub fn apply(
    state: &UnitCustodyState,
    event: &CustodyEvent,
) -> Result<UnitCustodyState, CustodyError> {
    use CustodyAction as A;
    use UnitPhase as P;
    let ty = event.action.event_type();
    if state.phase.is_final() {
        return Err(CustodyError::AfterFinal {
            event: ty,
            phase: state.phase,
        });
    }
    if let Some(previous) = state.last_event_at
        && event.at < previous
    {
        return Err(CustodyError::OutOfOrder {
            event: ty,
            at: event.at,
            previous,
        });
    }
    let wrong_phase = || CustodyError::WrongPhase {
        event: ty,
        phase: state.phase,
    };
    let usable = || {
        state
            .usable()
            .map_err(|why| CustodyError::NotUsable { event: ty, why })
    };
    let mut next = state.clone();
    if state.phase == P::New {
        match event.action {
            A::Collected | A::Received | A::ProcessingStep { .. } => {
                next.phase = P::InFacility;
                next.holder = Some(event.by.clone());
            }
            _ => return Err(CustodyError::NotAFirstEvent { event: ty }),
        }
    } else {
        match &event.action {
            A::Collected => return Err(wrong_phase()),
            A::Received => match state.phase {
                P::InTransit => next.phase = P::AtSite,
                // The site acknowledging a delivery already recorded.
                P::AtSite => {}
                _ => return Err(wrong_phase()),
            },
            A::ProcessingStep { .. } | A::Cryopreserved => {
                if state.phase != P::InFacility {
                    return Err(wrong_phase());
                }
                if matches!(event.action, A::Cryopreserved) {
                    if state.thawed {
                        return Err(CustodyError::RefreezeAfterThaw);
                    }
                    next.cryopreserved = true;
                }
            }
            A::Stored { .. } | A::QcSampled { .. } => {
                if !matches!(state.phase, P::InFacility | P::AtSite) {
                    return Err(wrong_phase());
                }
            }
            A::Quarantined { hold, .. } => {
                if !next.holds.insert(hold.to_string()) {
                    return Err(CustodyError::HoldAlreadyOpen {
                        hold: hold.to_string(),
                    });
                }
            }
            A::Released { hold: Some(hold) } => {
                if !next.holds.remove(hold.as_str()) {
                    return Err(CustodyError::NoSuchHold {
                        hold: hold.to_string(),
                    });
                }
            }
            A::Released { hold: None } => {
                if state.rejected {
                    return Err(CustodyError::Withdrawn {
                        why: Unusable::Rejected,
                    });
                }
                if state.recalled {
                    return Err(CustodyError::Withdrawn {
                        why: Unusable::Recalled,
                    });
                }
                if state.released {
                    return Err(CustodyError::AlreadyReleased);
                }
                next.released = true;
            }
            A::Rejected { .. } => next.rejected = true,
            A::Recalled { .. } => next.recalled = true,
            A::Packed => {
                if !matches!(state.phase, P::InFacility | P::AtSite) {
                    return Err(wrong_phase());
                }
                usable()?;
                next.phase = P::InTransit;
            }
            A::Handover {
                releasing,
                receiving,
            } => {
                if releasing == receiving {
                    return Err(CustodyError::HandoverToSelf {
                        party: releasing.clone(),
                    });
                }
                if let Some(holder) = &state.holder
                    && holder.organisation_id != releasing.organisation_id
                {
                    return Err(CustodyError::HandoverByNonHolder {
                        holder: holder.clone(),
                        releasing: releasing.clone(),
                    });
                }
                next.holder = Some(receiving.clone());
            }
            A::Delivered => {
                if state.phase != P::InTransit {
                    return Err(wrong_phase());
                }
                next.phase = P::AtSite;
            }
            A::Thawed => {
                if !matches!(state.phase, P::InFacility | P::AtSite) {
                    return Err(wrong_phase());
                }
                usable()?;
                if !state.cryopreserved {
                    return Err(CustodyError::NotCryopreserved);
                }
                if state.thawed {
                    return Err(CustodyError::AlreadyThawed);
                }
                next.thawed = true;
            }
            A::IdentityVerified { patient_id } => {
                if !matches!(state.phase, P::InFacility | P::AtSite) {
                    return Err(wrong_phase());
                }
                usable()?;
                check_recipient(&state.recipient, *patient_id)
                    .map_err(|problem| CustodyError::WrongPatient { event: ty, problem })?;
                next.identity_verified_for = Some(*patient_id);
            }
            A::Administered { patient_id } => {
                if !matches!(state.phase, P::InFacility | P::AtSite) {
                    return Err(wrong_phase());
                }
                usable()?;
                if state.is_frozen() {
                    return Err(CustodyError::NotThawed);
                }
                check_recipient(&state.recipient, *patient_id)
                    .map_err(|problem| CustodyError::WrongPatient { event: ty, problem })?;
                match state.identity_verified_for {
                    None => {
                        return Err(CustodyError::IdentityNotVerified {
                            patient_id: *patient_id,
                        });
                    }
                    Some(v) if v != *patient_id => {
                        return Err(CustodyError::VerifiedForAnotherPatient {
                            verified: v,
                            patient_id: *patient_id,
                        });
                    }
                    Some(_) => {}
                }
                next.phase = P::Administered;
            }
            A::Returned { .. } => {
                if !matches!(state.phase, P::InTransit | P::AtSite) {
                    return Err(wrong_phase());
                }
                next.phase = P::InFacility;
                next.holds.insert(RETURN_HOLD.to_string());
                next.identity_verified_for = None;
            }
            A::Destroyed { .. } => next.phase = P::Destroyed,
        }
    }
    next.last_event_at = Some(event.at);
    next.events += 1;
    Ok(next)
}

/// Where a log could not be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("events[{index}]: {error}")]
pub struct ReplayError {
    /// The position of the first refused event.
    pub index: usize,
    /// Why it was refused.
    pub error: CustodyError,
}

/// Replays a unit's whole log from the start.
pub fn replay(
    recipient: Recipient,
    events: &[CustodyEvent],
) -> Result<UnitCustodyState, ReplayError> {
    events
        .iter()
        .enumerate()
        .try_fold(UnitCustodyState::new(recipient), |state, (index, e)| {
            apply(&state, e).map_err(|error| ReplayError { index, error })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    fn party(org: u128, person: &str) -> Party {
        Party {
            organisation_id: Uuid::from_u128(org),
            person: Name::try_from(person).unwrap(),
        }
    }
    const FACILITY: u128 = 1;
    const COURIER: u128 = 2;
    const HOSPITAL: u128 = 3;
    const PATIENT: u128 = 100;
    const OTHER_PATIENT: u128 = 101;

    fn text(s: &str) -> Text {
        Text::try_from(s).unwrap()
    }
    fn code(s: &str) -> Code {
        Code::try_from(s).unwrap()
    }
    fn p(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Short names for actions, so the table below stays readable.
    fn act(name: &str) -> CustodyAction {
        use CustodyAction as A;
        match name {
            "collected" => A::Collected,
            "received" => A::Received,
            "step" => A::ProcessingStep {
                step: Title::try_from("fill").unwrap(),
            },
            "cryo" => A::Cryopreserved,
            "stored" => A::Stored {
                location: Title::try_from("LN2 tank 2, rack B").unwrap(),
            },
            "qc" => A::QcSampled {
                sample_id: code("QC-1"),
            },
            "hold" => A::Quarantined {
                hold: code("EXC-1"),
                reason: text("temperature excursion"),
            },
            "lift" => A::Released {
                hold: Some(code("EXC-1")),
            },
            "lift_return" => A::Released {
                hold: Some(code(RETURN_HOLD)),
            },
            "release" => A::Released { hold: None },
            "reject" => A::Rejected {
                reason: text("sterility failure"),
            },
            "packed" => A::Packed,
            "to_courier" => A::Handover {
                releasing: party(FACILITY, "QP Sato"),
                receiving: party(COURIER, "Driver Ito"),
            },
            "to_hospital" => A::Handover {
                releasing: party(COURIER, "Driver Ito"),
                receiving: party(HOSPITAL, "Pharmacist Abe"),
            },
            "to_self" => A::Handover {
                releasing: party(FACILITY, "QP Sato"),
                receiving: party(FACILITY, "QP Sato"),
            },
            "internal" => A::Handover {
                releasing: party(FACILITY, "QP Sato"),
                receiving: party(FACILITY, "Tech Mori"),
            },
            "hospital_from_facility" => A::Handover {
                releasing: party(HOSPITAL, "Pharmacist Abe"),
                receiving: party(COURIER, "Driver Ito"),
            },
            "delivered" => A::Delivered,
            "thawed" => A::Thawed,
            "verify" => A::IdentityVerified {
                patient_id: p(PATIENT),
            },
            "verify_other" => A::IdentityVerified {
                patient_id: p(OTHER_PATIENT),
            },
            "administer" => A::Administered {
                patient_id: p(PATIENT),
            },
            "administer_other" => A::Administered {
                patient_id: p(OTHER_PATIENT),
            },
            "returned" => A::Returned {
                reason: text("surgery postponed"),
            },
            "destroyed" => A::Destroyed {
                reason: text("expired"),
            },
            "recalled" => A::Recalled {
                reason: text("lot recall"),
            },
            other => panic!("unknown action {other}"),
        }
    }

    fn log(names: &[&str]) -> Vec<CustodyEvent> {
        let start = datetime!(2025-04-01 09:00 UTC);
        names
            .iter()
            .enumerate()
            .map(|(i, n)| CustodyEvent {
                at: start + Duration::hours(i as i64),
                by: party(FACILITY, "QP Sato"),
                action: act(n),
            })
            .collect()
    }

    const AUTO: Recipient = Recipient::Autologous {
        patient_id: Uuid::from_u128(PATIENT),
    };

    const HAPPY: &[&str] = &[
        "collected",
        "step",
        "cryo",
        "qc",
        "stored",
        "release",
        "packed",
        "to_courier",
        "to_hospital",
        "delivered",
        "received",
        "thawed",
        "verify",
        "administer",
    ];

    #[test]
    fn custody_sequences() {
        type Check = fn(&CustodyError) -> bool;
        // (description, recipient, events, Ok(final phase) or Err((index, check)))
        type Expected = Result<UnitPhase, (usize, Check)>;
        let cases: Vec<(&str, Recipient, Vec<&str>, Expected)> = vec![
            (
                "full autologous path",
                AUTO,
                HAPPY.to_vec(),
                Ok(UnitPhase::Administered),
            ),
            (
                "fresh product made and given in-house",
                AUTO,
                vec!["collected", "step", "release", "verify", "administer"],
                Ok(UnitPhase::Administered),
            ),
            (
                "excursion hold lifted by disposition",
                AUTO,
                vec![
                    "collected",
                    "cryo",
                    "release",
                    "hold",
                    "lift",
                    "thawed",
                    "verify",
                    "administer",
                ],
                Ok(UnitPhase::Administered),
            ),
            (
                "returned, hold lifted, re-shipped",
                AUTO,
                vec![
                    "collected",
                    "release",
                    "packed",
                    "delivered",
                    "returned",
                    "lift_return",
                    "packed",
                    "delivered",
                    "verify",
                    "administer",
                ],
                Ok(UnitPhase::Administered),
            ),
            (
                "internal handover between people",
                AUTO,
                vec!["collected", "internal", "destroyed"],
                Ok(UnitPhase::Destroyed),
            ),
            (
                "rejected unit destroyed",
                AUTO,
                vec!["collected", "reject", "destroyed"],
                Ok(UnitPhase::Destroyed),
            ),
            (
                "first event must start the chain",
                AUTO,
                vec!["stored"],
                Err((0, |e| {
                    matches!(
                        e,
                        CustodyError::NotAFirstEvent {
                            event: CustodyEventType::Stored
                        }
                    )
                })),
            ),
            (
                "nothing after destroyed",
                AUTO,
                vec!["collected", "destroyed", "administer"],
                Err((2, |e| {
                    matches!(
                        e,
                        CustodyError::AfterFinal {
                            phase: UnitPhase::Destroyed,
                            ..
                        }
                    )
                })),
            ),
            (
                "nothing after administered",
                AUTO,
                vec!["collected", "release", "verify", "administer", "returned"],
                Err((4, |e| {
                    matches!(
                        e,
                        CustodyError::AfterFinal {
                            phase: UnitPhase::Administered,
                            ..
                        }
                    )
                })),
            ),
            (
                "administration needs a prior identity check",
                AUTO,
                vec!["collected", "release", "administer"],
                Err((2, |e| matches!(e, CustodyError::IdentityNotVerified { .. }))),
            ),
            (
                "wrong autologous patient at verification",
                AUTO,
                vec!["collected", "release", "verify_other"],
                Err((2, |e| {
                    matches!(
                        e,
                        CustodyError::WrongPatient {
                            problem: IdentityError::NotTheSourcePatient { .. },
                            ..
                        }
                    )
                })),
            ),
            (
                "wrong patient at administration",
                AUTO,
                vec!["collected", "release", "verify", "administer_other"],
                Err((3, |e| matches!(e, CustodyError::WrongPatient { .. }))),
            ),
            (
                "allogeneic unit not yet allocated",
                Recipient::Allogeneic { allocated_to: None },
                vec!["received", "release", "verify"],
                Err((2, |e| {
                    matches!(
                        e,
                        CustodyError::WrongPatient {
                            problem: IdentityError::NotAllocated,
                            ..
                        }
                    )
                })),
            ),
            (
                "allogeneic unit allocated to someone else",
                Recipient::Allogeneic {
                    allocated_to: Some(Uuid::from_u128(OTHER_PATIENT)),
                },
                vec!["received", "release", "verify"],
                Err((2, |e| {
                    matches!(
                        e,
                        CustodyError::WrongPatient {
                            problem: IdentityError::NotTheAllocatedPatient { .. },
                            ..
                        }
                    )
                })),
            ),
            (
                "allogeneic unit given to its allocated patient",
                Recipient::Allogeneic {
                    allocated_to: Some(Uuid::from_u128(PATIENT)),
                },
                vec!["received", "release", "verify", "administer"],
                Ok(UnitPhase::Administered),
            ),
            (
                "unreleased unit cannot be packed",
                AUTO,
                vec!["collected", "step", "packed"],
                Err((2, |e| {
                    matches!(
                        e,
                        CustodyError::NotUsable {
                            why: Unusable::NotReleased,
                            ..
                        }
                    )
                })),
            ),
            (
                "quarantined unit cannot be packed",
                AUTO,
                vec!["collected", "release", "hold", "packed"],
                Err((3, |e| {
                    matches!(
                        e,
                        CustodyError::NotUsable {
                            why: Unusable::OnHold { .. },
                            ..
                        }
                    )
                })),
            ),
            (
                "quarantined unit cannot be administered",
                AUTO,
                vec!["collected", "release", "verify", "hold", "administer"],
                Err((4, |e| {
                    matches!(
                        e,
                        CustodyError::NotUsable {
                            event: CustodyEventType::Administered,
                            ..
                        }
                    )
                })),
            ),
            (
                "rejected unit cannot be released",
                AUTO,
                vec!["collected", "reject", "release"],
                Err((2, |e| {
                    matches!(
                        e,
                        CustodyError::Withdrawn {
                            why: Unusable::Rejected
                        }
                    )
                })),
            ),
            (
                "recalled unit cannot be administered",
                AUTO,
                vec!["collected", "release", "recalled", "verify"],
                Err((3, |e| {
                    matches!(
                        e,
                        CustodyError::NotUsable {
                            why: Unusable::Recalled,
                            ..
                        }
                    )
                })),
            ),
            (
                "handover to the same party",
                AUTO,
                vec!["collected", "to_self"],
                Err((1, |e| matches!(e, CustodyError::HandoverToSelf { .. }))),
            ),
            (
                "handover by an organisation that does not hold the unit",
                AUTO,
                vec!["collected", "hospital_from_facility"],
                Err((1, |e| matches!(e, CustodyError::HandoverByNonHolder { .. }))),
            ),
            (
                "frozen unit must be thawed before administration",
                AUTO,
                vec!["collected", "cryo", "release", "verify", "administer"],
                Err((4, |e| matches!(e, CustodyError::NotThawed))),
            ),
            (
                "no refreezing after thaw",
                AUTO,
                vec!["collected", "cryo", "release", "thawed", "cryo"],
                Err((4, |e| matches!(e, CustodyError::RefreezeAfterThaw))),
            ),
            (
                "cannot thaw a fresh unit",
                AUTO,
                vec!["collected", "release", "thawed"],
                Err((2, |e| matches!(e, CustodyError::NotCryopreserved))),
            ),
            (
                "delivered needs a shipment",
                AUTO,
                vec!["collected", "release", "delivered"],
                Err((2, |e| {
                    matches!(
                        e,
                        CustodyError::WrongPhase {
                            phase: UnitPhase::InFacility,
                            ..
                        }
                    )
                })),
            ),
            (
                "no processing while in transit",
                AUTO,
                vec!["collected", "release", "packed", "step"],
                Err((3, |e| {
                    matches!(
                        e,
                        CustodyError::WrongPhase {
                            phase: UnitPhase::InTransit,
                            ..
                        }
                    )
                })),
            ),
            (
                "returned unit is on hold",
                AUTO,
                vec!["collected", "release", "packed", "returned", "packed"],
                Err((4, |e| {
                    matches!(
                        e,
                        CustodyError::NotUsable {
                            why: Unusable::OnHold { .. },
                            ..
                        }
                    )
                })),
            ),
            (
                "lifting a hold that is not open",
                AUTO,
                vec!["collected", "lift"],
                Err((1, |e| matches!(e, CustodyError::NoSuchHold { .. }))),
            ),
            (
                "the same hold twice",
                AUTO,
                vec!["collected", "hold", "hold"],
                Err((2, |e| matches!(e, CustodyError::HoldAlreadyOpen { .. }))),
            ),
            (
                "release recorded twice",
                AUTO,
                vec!["collected", "release", "release"],
                Err((2, |e| matches!(e, CustodyError::AlreadyReleased))),
            ),
            (
                "collected only once, at the start",
                AUTO,
                vec!["collected", "collected"],
                Err((1, |e| matches!(e, CustodyError::WrongPhase { .. }))),
            ),
        ];
        assert!(cases.len() >= 15);
        for (what, recipient, names, expected) in cases {
            let result = replay(recipient, &log(&names));
            match (result, expected) {
                (Ok(state), Ok(phase)) => {
                    assert_eq!(state.phase(), phase, "{what}");
                    assert_eq!(state.event_count(), names.len(), "{what}");
                }
                (Err(e), Err((index, check))) => {
                    assert_eq!(e.index, index, "{what}: {e}");
                    assert!(check(&e.error), "{what}: unexpected {e}");
                    assert!(
                        e.to_string().starts_with(&format!("events[{index}]: ")),
                        "{e}"
                    );
                }
                (got, _) => panic!("{what}: got {got:?}"),
            }
        }
    }

    #[test]
    fn events_must_be_in_time_order() {
        let mut events = log(&["collected", "step"]);
        events[1].at = events[0].at - Duration::minutes(1);
        let e = replay(AUTO, &events).unwrap_err();
        assert!(matches!(e.error, CustodyError::OutOfOrder { .. }));
        events[1].at = events[0].at;
        assert!(replay(AUTO, &events).is_ok());
    }

    #[test]
    fn handover_moves_custody() {
        let s = replay(
            AUTO,
            &log(&[
                "collected",
                "release",
                "packed",
                "to_courier",
                "to_hospital",
            ]),
        )
        .unwrap();
        assert_eq!(s.holder().unwrap().organisation_id, p(HOSPITAL));
        assert_eq!(s.phase(), UnitPhase::InTransit);
    }

    #[test]
    fn events_round_trip_through_json() {
        let events = log(HAPPY);
        let json = serde_json::to_string(&events).unwrap();
        let back: Vec<CustodyEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, events);
        let bad = r#"{"at":"2025-04-01T09:00:00Z","by":{"organisation_id":"00000000-0000-0000-0000-000000000001","person":"A"},"action":{"type":"teleported"}}"#;
        assert!(serde_json::from_str::<CustodyEvent>(bad).is_err());
        for t in CustodyEventType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn recipient_check() {
        assert!(check_recipient(&AUTO, p(PATIENT)).is_ok());
        assert_eq!(
            check_recipient(&AUTO, p(OTHER_PATIENT)),
            Err(IdentityError::NotTheSourcePatient {
                intended: p(PATIENT),
                actual: p(OTHER_PATIENT)
            })
        );
    }
}
