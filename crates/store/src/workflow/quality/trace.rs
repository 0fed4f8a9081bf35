//! Look-back and trace-back: the two questions an adverse event or a bad lot raises.
//!
//! - [`trace_lot`] (look-back): from a lot to every unit made from it, where each unit
//!   is, every patient who received one (with the date), and each patient's adverse
//!   events.
//! - [`trace_adverse_event`] (trace-back): from an adverse event to the treatment and
//!   unit that may have caused it, the unit's custody log and temperature excursions, and
//!   the lot's dossier: status decisions, QC results and their conformance check, deviations,
//!   retained samples, culture media, cell banks, collection and donor.
//!
//! Both read only; the server and the CLI show the same structures.

use super::by;
use super::custody::UnitLog;
use super::lots::evidence;
use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::Store;
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::quality::records::{
    CellBank, Collection, CultureMedium, Donor, Lot, LotDeviation, LotQcResult, LotStatusChange,
    ProductUnit, RetainedSample, UnitCustodyEvent, UnitTemperatureExcursion,
};
use saisei_domain::quality::{Conformance, UnitPhase};
use saisei_domain::registry::{
    AdverseEvent, AeOutcome, Causality, Patient, Product, SeriousnessCriterion, Treatment,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use time::Date;
use uuid::Uuid;

/// Why a trace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The lot or adverse event asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An adverse event in brief, as a look-back lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AdverseEventBrief {
    /// The event's id.
    pub id: Uuid,
    /// The reporter's term.
    pub verbatim_term: String,
    /// The CTCAE term, when coded.
    pub ctcae_term: Option<String>,
    /// The CTCAE grade.
    pub grade: Option<u8>,
    /// Seriousness criteria (empty: not serious).
    pub seriousness: Vec<SeriousnessCriterion>,
    /// Causality.
    pub causality: Causality,
    /// Onset.
    pub onset_on: Date,
    /// Outcome.
    pub outcome: AeOutcome,
    /// Whether the event names this unit's treatment as suspected.
    pub linked_to_treatment: bool,
}

impl AdverseEventBrief {
    fn new(ae: &Record<AdverseEvent>, treatment_id: Uuid) -> Self {
        AdverseEventBrief {
            id: ae.id(),
            verbatim_term: ae.data.verbatim_term.to_string(),
            ctcae_term: ae.data.ctcae_term.as_ref().map(|t| t.to_string()),
            grade: ae.data.grade.map(|g| g.get()),
            seriousness: ae.data.seriousness.clone(),
            causality: ae.data.causality,
            onset_on: ae.data.onset_on,
            outcome: ae.data.outcome,
            linked_to_treatment: ae.data.treatment_id == Some(treatment_id),
        }
    }

    /// Whether the event is serious.
    pub fn is_serious(&self) -> bool {
        !self.seriousness.is_empty()
    }
}

/// A patient who received a unit.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    /// The patient.
    pub patient_id: Uuid,
    /// The treatment that used the unit.
    pub treatment_id: Uuid,
    /// When it was given.
    pub administered_on: Date,
    /// The patient's adverse events (all of them, with those linked to this treatment
    /// marked), in onset order.
    pub adverse_events: Vec<AdverseEventBrief>,
}

/// One unit of the lot in a look-back.
#[derive(Debug, Clone, Serialize)]
pub struct UnitLookBack {
    /// The unit's id.
    pub unit_id: Uuid,
    /// Its label number.
    pub unit_number: String,
    /// Where it is.
    pub phase: UnitPhase,
    /// Holds open on it.
    pub holds: Vec<String>,
    /// Who received it.
    pub recipients: Vec<Recipient>,
}

/// Totals of a look-back.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LookBackTotals {
    /// Units made from the lot.
    pub units: usize,
    /// Units administered.
    pub administered: usize,
    /// Distinct patients who received a unit.
    pub patients: usize,
    /// Their adverse events.
    pub adverse_events: usize,
    /// Of which serious.
    pub serious_adverse_events: usize,
}

/// A lot's look-back.
#[derive(Debug, Clone, Serialize)]
pub struct LotTrace {
    /// The lot.
    pub lot: Record<Lot>,
    /// Its product's name.
    pub product_name: String,
    /// Totals.
    pub totals: LookBackTotals,
    /// Every unit, in creation order.
    pub units: Vec<UnitLookBack>,
}

/// Finds a lot by its number, or by its id.
pub async fn find_lot(store: &Store, lot: &str) -> Result<Record<Lot>, TraceError> {
    let key = lot.trim();
    if let Ok(id) = Uuid::parse_str(key)
        && let Some(found) = store.find::<Lot>(id).await?
    {
        return Ok(found);
    }
    let found = store
        .all::<Lot>(vec![Filter::eq("lot_number", Value::Text(key.to_string()))])
        .await?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| TraceError::NotFound(format!("no lot numbered {key:?}")))
}

/// Look-back from a lot (by number or id).
pub async fn trace_lot(store: &Store, lot: &str) -> Result<LotTrace, TraceError> {
    let lot = find_lot(store, lot).await?;
    let product_name = store
        .find::<Product>(lot.data.product_id)
        .await?
        .map(|p| p.data.name.to_string())
        .unwrap_or_default();
    let units = store.all::<ProductUnit>(by("lot_id", lot.id())).await?;
    let mut totals = LookBackTotals {
        units: units.len(),
        ..Default::default()
    };
    let mut patients = std::collections::BTreeSet::new();
    let mut adverse: BTreeMap<Uuid, Vec<Record<AdverseEvent>>> = BTreeMap::new();
    let mut out = Vec::with_capacity(units.len());
    for unit in units {
        let log = UnitLog::assemble(store, unit, lot.clone()).await?;
        if log.state.phase() == UnitPhase::Administered {
            totals.administered += 1;
        }
        let treatments = store.all::<Treatment>(by("unit_id", log.unit.id())).await?;
        let mut recipients = Vec::with_capacity(treatments.len());
        for t in treatments {
            let pid = t.data.patient_id;
            if let Entry::Vacant(slot) = adverse.entry(pid) {
                let mut events = store.all::<AdverseEvent>(by("patient_id", pid)).await?;
                events.sort_by_key(|e| e.data.onset_on);
                slot.insert(events);
            }
            let briefs: Vec<AdverseEventBrief> = adverse
                .get(&pid)
                .map(|v| {
                    v.iter()
                        .map(|e| AdverseEventBrief::new(e, t.id()))
                        .collect()
                })
                .unwrap_or_default();
            if patients.insert(pid) {
                totals.adverse_events += briefs.len();
                totals.serious_adverse_events += briefs.iter().filter(|b| b.is_serious()).count();
            }
            recipients.push(Recipient {
                patient_id: pid,
                treatment_id: t.id(),
                administered_on: t.data.administered_on,
                adverse_events: briefs,
            });
        }
        out.push(UnitLookBack {
            unit_id: log.unit.id(),
            unit_number: log.unit.data.unit_number.to_string(),
            phase: log.state.phase(),
            holds: log.state.holds().iter().cloned().collect(),
            recipients,
        });
    }
    totals.patients = patients.len();
    Ok(LotTrace {
        lot,
        product_name,
        totals,
        units: out,
    })
}

/// Everything recorded about how a lot was made and released.
#[derive(Debug, Clone, Serialize)]
pub struct LotDossier {
    /// The lot.
    pub lot: Record<Lot>,
    /// Its status decisions, in order.
    pub status_changes: Vec<Record<LotStatusChange>>,
    /// Its QC results checked against its specification.
    pub conformance: Conformance,
    /// The QC results.
    pub qc_results: Vec<Record<LotQcResult>>,
    /// Its deviations.
    pub deviations: Vec<Record<LotDeviation>>,
    /// Its retained samples (for retesting).
    pub retained_samples: Vec<Record<RetainedSample>>,
    /// The culture media used.
    pub culture_media: Vec<Record<CultureMedium>>,
    /// The cell banks, from the one the lot was made from up to the master bank.
    pub cell_banks: Vec<Record<CellBank>>,
    /// The collection the cells came from.
    pub collection: Option<Record<Collection>>,
    /// The donor (allogeneic material).
    pub donor: Option<Record<Donor>>,
}

/// A treatment with a unit, traced back.
#[derive(Debug, Clone, Serialize)]
pub struct UnitOrigin {
    /// The treatment.
    pub treatment: Record<Treatment>,
    /// The unit given.
    pub unit: Record<ProductUnit>,
    /// The unit's custody log, in order.
    pub custody: Vec<Record<UnitCustodyEvent>>,
    /// Temperature excursions recorded for the unit.
    pub excursions: Vec<Record<UnitTemperatureExcursion>>,
    /// The lot's dossier.
    pub lot: LotDossier,
}

/// An adverse event's trace-back.
#[derive(Debug, Clone, Serialize)]
pub struct EventTrace {
    /// The event.
    pub adverse_event: Record<AdverseEvent>,
    /// The patient.
    pub patient: Record<Patient>,
    /// The units that may be implicated: the suspected treatment's unit, or (when no
    /// treatment is named) every unit the patient received before onset.
    pub origins: Vec<UnitOrigin>,
}

/// Reads a lot's dossier.
pub async fn lot_dossier(store: &Store, lot: Record<Lot>) -> Result<LotDossier, StoreError> {
    let mut status_changes = store.all::<LotStatusChange>(by("lot_id", lot.id())).await?;
    status_changes.sort_by_key(|c| (c.data.on, c.meta.id));
    let evidence = evidence(store, &lot).await?;
    let retained_samples = store.all::<RetainedSample>(by("lot_id", lot.id())).await?;
    let mut culture_media = Vec::new();
    for id in &lot.data.culture_medium_ids {
        if let Some(m) = store.find::<CultureMedium>(*id).await? {
            culture_media.push(m);
        }
    }
    let mut cell_banks = Vec::new();
    let mut collection_id = lot.data.collection_id;
    let mut next_bank = lot.data.cell_bank_id;
    while let Some(id) = next_bank {
        let Some(bank) = store.find::<CellBank>(id).await? else {
            break;
        };
        if cell_banks.iter().any(|b: &Record<CellBank>| b.id() == id) {
            break;
        }
        next_bank = bank.data.parent_bank_id;
        collection_id = collection_id.or(bank.data.collection_id);
        cell_banks.push(bank);
    }
    let collection = match collection_id {
        Some(id) => store.find::<Collection>(id).await?,
        None => None,
    };
    let donor = match collection.as_ref().and_then(|c| c.data.donor_id) {
        Some(id) => store.find::<Donor>(id).await?,
        None => None,
    };
    Ok(LotDossier {
        lot,
        status_changes,
        conformance: evidence.conformance,
        qc_results: evidence.results,
        deviations: evidence.deviations,
        retained_samples,
        culture_media,
        cell_banks,
        collection,
        donor,
    })
}

/// Trace-back from an adverse event.
pub async fn trace_adverse_event(store: &Store, id: Uuid) -> Result<EventTrace, TraceError> {
    let adverse_event = store
        .find::<AdverseEvent>(id)
        .await?
        .ok_or_else(|| TraceError::NotFound(format!("no adverse event with id {id}")))?;
    let patient = store.get::<Patient>(adverse_event.data.patient_id).await?;
    let treatments: Vec<Record<Treatment>> = match adverse_event.data.treatment_id {
        Some(tid) => store.find::<Treatment>(tid).await?.into_iter().collect(),
        None => store
            .all::<Treatment>(by("patient_id", patient.id()))
            .await?
            .into_iter()
            .filter(|t| t.data.administered_on <= adverse_event.data.onset_on)
            .collect(),
    };
    let mut origins = Vec::new();
    for treatment in treatments {
        let Some(unit_id) = treatment.data.unit_id else {
            continue;
        };
        let Some(unit) = store.find::<ProductUnit>(unit_id).await? else {
            continue;
        };
        let lot = store.get::<Lot>(unit.data.lot_id).await?;
        let mut custody = store
            .all::<UnitCustodyEvent>(by("unit_id", unit_id))
            .await?;
        custody.sort_by_key(|e| e.data.seq);
        let excursions = store
            .all::<UnitTemperatureExcursion>(by("unit_id", unit_id))
            .await?;
        origins.push(UnitOrigin {
            treatment,
            unit,
            custody,
            excursions,
            lot: lot_dossier(store, lot).await?,
        });
    }
    Ok(EventTrace {
        adverse_event,
        patient,
        origins,
    })
}
