//! The demo's manufacturing and traceability chain for its product, Regenecel-K (demo),
//! treated as allogeneic umbilical-cord MSC from one banked donor: the cell processing
//! facility, the donor, the collection, a master and a working cell bank, a xeno-free
//! medium, one lot a month with QC results against `example-ucmsc@1` (most pass; two are
//! rejected; one is released under a QA-approved deviation; one is released only after a
//! missing result is added; the newest stays quarantined), retained samples, a shipment
//! with a temperature excursion that QA decides, and an EV product answering the JSRM
//! guidance checklist.
//!
//! Lots, decisions and the excursion go through the store's quality workflows. The units
//! the cohort's product patients receive are added by [`QualityScaffold::add_unit`] into
//! the cohort's own batches, with their full custody log checked by the domain's state
//! machine, so no per-patient database read is needed.

use crate::scaffold::Scaffold;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::quality::records::*;
use saisei_domain::quality::{
    CustodyAction, CustodyEvent, Party, Recipient, StorageRange, TemperatureLog, replay,
};
use saisei_domain::registry::{Organisation, OrganisationKind, Product};
use saisei_domain::text::Name;
use saisei_store::workflow::quality::custody::{ShipmentRequest, register_unit, ship_unit};
use saisei_store::workflow::quality::lots::{
    LotDecisionError, LotDecisionRequest, quarantine_lot, record_qc_result, register_lot,
    reject_lot, release_lot,
};
use saisei_store::workflow::quality::temperature::{
    TemperatureUpload, decide_disposition, upload_temperature_log,
};
use saisei_store::workflow::quality::{checklist, sources};
use saisei_store::{Batch, Filter, ListQuery, Store, StoreError, Value};
use serde_json::json;
use time::macros::{date, offset};
use time::{Date, Duration, Month, OffsetDateTime, Time};
use uuid::Uuid;

/// The first lot's month; one lot is made each month up to the data cut.
const FIRST_LOT: Date = date!(2021 - 11 - 01);
/// Days from the start of manufacture to fill, quarantine and the release decision.
const FILL_DAYS: i64 = 18;
const QUARANTINE_DAYS: i64 = 21;
const DECISION_DAYS: i64 = 25;
/// Days between a lot's release and the first shipment from it.
const SHIP_AFTER_RELEASE_DAYS: i64 = 3;

/// A released lot units can be drawn from.
#[derive(Debug, Clone)]
struct ReleasedLot {
    id: Uuid,
    number: String,
    manufactured_on: Date,
    released_on: Date,
    expires_on: Date,
}

/// What the cohort needs to give product patients a unit.
pub struct QualityScaffold {
    facility: Party,
    released: Vec<ReleasedLot>,
    storage: StorageRange,
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::invalid("demo", e.to_string())
}

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(invalid)
}

fn at(day: Date, hour: u8, minute: u8) -> Result<OffsetDateTime, StoreError> {
    Ok(day
        .with_time(Time::from_hms(hour, minute, 0).map_err(invalid)?)
        .assume_offset(offset!(+9)))
}

fn name(s: &str) -> Result<Name, StoreError> {
    s.parse().map_err(|e: String| invalid(e))
}

/// The first of the month `months` after `start`.
fn month_start(start: Date, months: i32) -> Result<Date, StoreError> {
    let total = start.year() * 12 + (start.month() as i32 - 1) + months;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).map_err(invalid)?;
    Date::from_calendar_date(total.div_euclid(12), month, 1).map_err(invalid)
}

/// Why a lot's QC came out as it did (the scenarios the demo shows).
#[derive(Debug, Clone, Copy, PartialEq)]
enum LotStory {
    /// All results pass.
    Passes,
    /// Sterility growth: rejected.
    SterilityFailure,
    /// Mycoplasma detected: rejected.
    MycoplasmaFailure,
    /// Viability below the product limit: released under a QA-approved deviation.
    LowViability,
    /// The karyotype result is late: release refused until it is recorded.
    LateKaryotype,
    /// The newest lot: QC still running, stays quarantined.
    Pending,
}

fn story(index: usize, last: usize) -> LotStory {
    match index {
        i if i == last => LotStory::Pending,
        6 => LotStory::SterilityFailure,
        20 => LotStory::MycoplasmaFailure,
        14 => LotStory::LowViability,
        33 => LotStory::LateKaryotype,
        _ => LotStory::Passes,
    }
}

/// QC results of one lot for `example-ucmsc@1`.
fn qc_results(
    rng: &mut StdRng,
    lot_id: Uuid,
    tested_on: Date,
    story: LotStory,
) -> Result<Vec<LotQcResult>, StoreError> {
    let mut out = Vec::new();
    let num = |rng: &mut StdRng,
               attribute: &str,
               lo: f64,
               hi: f64,
               unit: &str,
               method: &str|
     -> Result<LotQcResult, StoreError> {
        let v: f64 = rng.random_range(lo..hi);
        let instrument = if method.starts_with("flow") {
            "FACSLyric (asset CPC-0412)"
        } else {
            "Toxinometer ET-6000 (asset CPC-0207)"
        };
        parse(json!({
            "lot_id": lot_id, "attribute": attribute,
            "value": {"type": "numeric", "value": (v * 10.0).round() / 10.0, "unit": unit},
            "method": method, "instrument": instrument, "tested_on": tested_on
        }))
    };
    out.push(num(
        rng,
        "cd105_positive",
        96.0,
        99.8,
        "%",
        "flow_cytometry",
    )?);
    out.push(num(
        rng,
        "cd73_positive",
        97.5,
        99.9,
        "%",
        "flow_cytometry",
    )?);
    out.push(num(
        rng,
        "cd90_positive",
        97.5,
        99.9,
        "%",
        "flow_cytometry",
    )?);
    out.push(num(rng, "cd45_positive", 0.1, 1.2, "%", "flow_cytometry")?);
    out.push(num(rng, "cd34_positive", 0.1, 1.5, "%", "flow_cytometry")?);
    out.push(num(rng, "cd14_positive", 0.1, 0.8, "%", "flow_cytometry")?);
    out.push(num(rng, "cd19_positive", 0.1, 0.8, "%", "flow_cytometry")?);
    out.push(num(
        rng,
        "hla_dr_positive",
        0.1,
        1.5,
        "%",
        "flow_cytometry",
    )?);
    let viability = if story == LotStory::LowViability {
        num(rng, "viability", 77.5, 79.0, "%", "flow_7aad")?
    } else {
        num(rng, "viability", 86.0, 96.0, "%", "flow_7aad")?
    };
    out.push(viability);
    let count: f64 = rng.random_range(1.1e8..1.6e8);
    out.push(parse(json!({
        "lot_id": lot_id, "attribute": "viable_cell_count",
        "value": {"type": "numeric", "value": count.round(), "unit": "cells"},
        "method": "automated_cell_counter", "instrument": "NucleoCounter NC-202", "tested_on": tested_on
    }))?);
    out.push(num(
        rng,
        "endotoxin",
        0.2,
        2.5,
        "EU/mL",
        "lal_kinetic_turbidimetric",
    )?);
    let qual = |attribute: &str, result: &str, method: &str| -> Result<LotQcResult, StoreError> {
        parse(json!({
            "lot_id": lot_id, "attribute": attribute,
            "value": {"type": "qualitative", "result": result},
            "method": method, "tested_on": tested_on
        }))
    };
    out.push(qual("plastic_adherence", "conforms", "microscopy")?);
    out.push(qual(
        "osteogenic_differentiation",
        "positive",
        "alizarin_red",
    )?);
    out.push(qual("adipogenic_differentiation", "positive", "oil_red_o")?);
    out.push(qual(
        "chondrogenic_differentiation",
        "positive",
        "alcian_blue",
    )?);
    out.push(qual(
        "sterility",
        if story == LotStory::SterilityFailure {
            "growth"
        } else {
            "no_growth"
        },
        "jp_sterility_membrane_filtration",
    )?);
    out.push(qual(
        "mycoplasma",
        if story == LotStory::MycoplasmaFailure {
            "positive"
        } else {
            "negative"
        },
        "nat_pcr",
    )?);
    if !matches!(story, LotStory::LateKaryotype | LotStory::Pending) {
        out.push(qual("karyotype", "conforms", "g_banding")?);
    }
    if story == LotStory::Pending {
        // Results still coming: only the in-process tests are in.
        out.truncate(9);
    }
    Ok(out)
}

/// The donor, collection, banks and medium every lot is made from.
struct Source {
    working_bank: Uuid,
    medium: Uuid,
}

async fn source(
    store: &Store,
    actor: &AuditActor,
    key: &PseudonymKey,
    facility: &Record<Organisation>,
    hospital: &Record<Organisation>,
) -> Result<Source, StoreError> {
    let pseudonym = key.pseudonym(&format!("donor:{}", facility.id()), "UC-DONOR-0001");
    let donor: NewDonor = parse(json!({
        "facility_id": facility.id(), "donor_code": "UC-DONOR-0001", "sex": "female",
        "birth_year_month": "1990-05",
        "eligibility_tests": [
            {"test": "hbs_ag", "result": "negative", "tested_on": "2021-06-14"},
            {"test": "anti_hcv", "result": "negative", "tested_on": "2021-06-14"},
            {"test": "anti_hiv_1_2", "result": "negative", "tested_on": "2021-06-14"},
            {"test": "htlv_1", "result": "negative", "tested_on": "2021-06-14"},
            {"test": "syphilis", "result": "negative", "tested_on": "2021-06-14"},
            {"test": "parvovirus_b19_pcr", "result": "not_detected", "tested_on": "2021-06-14"},
            {"test": "cmv_igm", "result": "negative", "tested_on": "2021-06-14"}
        ],
        "eligibility": "eligible", "eligibility_decided_on": "2021-06-25"
    }))?;
    let donor = store.create(actor, donor.into_donor(pseudonym)).await?;
    let collection: Collection = parse(json!({
        "donor_id": donor.id(), "collected_by_id": hospital.id(), "collected_on": "2021-06-15",
        "material": "Umbilical cord tissue (caesarean delivery, informed consent)",
        "din": "W1234 21 000187", "volume_ml": 35.0
    }))?;
    let collection = store.create(actor, collection).await?;
    let master: CellBank = parse(json!({
        "bank_code": "MCB-UC01", "tier": "master", "facility_id": facility.id(),
        "collection_id": collection.id(), "cell_type": "Umbilical-cord MSC", "passage": 2,
        "vials": 200, "established_on": "2021-08-02", "storage_location": "LN2 tank 1, rack A"
    }))?;
    let master = sources::register_cell_bank(store, actor, master).await?;
    let working: CellBank = parse(json!({
        "bank_code": "WCB-UC01-01", "tier": "working", "facility_id": facility.id(),
        "parent_bank_id": master.id(), "cell_type": "Umbilical-cord MSC", "passage": 4,
        "vials": 400, "established_on": "2021-10-04", "storage_location": "LN2 tank 1, rack B"
    }))?;
    let working = sources::register_cell_bank(store, actor, working).await?;
    let medium: CultureMedium = parse(json!({
        "name": "Xeno-free MSC expansion medium (demo)", "manufacturer": "Demo Media K.K.",
        "medium_lot": "XF-2110-A", "xeno_free": true,
        "components": [
            {"name": "Human platelet lysate (pathogen-reduced)", "animal_origin": false},
            {"name": "Recombinant human albumin", "animal_origin": false}
        ]
    }))?;
    let medium = store.create(actor, medium).await?;
    Ok(Source {
        working_bank: working.id(),
        medium: medium.id(),
    })
}

fn qa_request(
    on: Date,
    reason: Option<&str>,
    version: i64,
) -> Result<LotDecisionRequest, StoreError> {
    parse(json!({
        "on": on, "decided_by": {"person": "Kimura Sakura", "role": "qa_manager"},
        "reason": reason, "version": version
    }))
}

/// Makes one lot and takes its decisions; returns it when it ends up released.
#[allow(clippy::too_many_arguments)]
async fn make_lot(
    store: &Store,
    actor: &AuditActor,
    rng: &mut StdRng,
    product: &Record<Product>,
    facility: &Record<Organisation>,
    src: &Source,
    manufactured_on: Date,
    story: LotStory,
) -> Result<Option<ReleasedLot>, StoreError> {
    let number = format!(
        "RGK-{:02}{:02}",
        manufactured_on.year() % 100,
        manufactured_on.month() as u8
    );
    let expires_on = month_start(manufactured_on, 12)?;
    let lot: Lot = parse(json!({
        "lot_number": number, "product_id": product.id(), "facility_id": facility.id(),
        "cell_bank_id": src.working_bank, "culture_medium_ids": [src.medium],
        "process_version": "RGK-P v2.1", "specification": "example-ucmsc@1",
        "evaluation_context": {"dose": {"max_dose": {"basis": "per_patient", "ml": 20}}},
        "manufactured_on": manufactured_on, "expires_on": expires_on
    }))?;
    let lot = register_lot(store, actor, lot).await?;
    let tested_on = manufactured_on + Duration::days(FILL_DAYS + 2);
    let results = qc_results(rng, lot.id(), tested_on, story)?;
    let mut batch = Batch::new(actor);
    let mut data = lot.data.clone();
    data.evidence_revision = u32::try_from(results.len()).unwrap_or(u32::MAX);
    for r in results {
        batch.insert(r)?;
    }
    batch.insert(RetainedSample {
        lot_id: lot.id(),
        sample_code: format!("RS-{number}-01")
            .parse()
            .map_err(|e: String| invalid(e))?,
        material: "Final product, same container as released units"
            .parse()
            .map_err(|e: String| invalid(e))?,
        location: "LN2 tank 3, retained-sample rack R"
            .parse()
            .map_err(|e: String| invalid(e))?,
        quantity: 3.0,
        quantity_unit: "vials".parse().map_err(|e: String| invalid(e))?,
        retained_on: manufactured_on + Duration::days(FILL_DAYS),
        retain_until: Some(month_start(manufactured_on, 12 * 10)?),
        storage: Some(StorageRange::new(-196.0, -150.0).map_err(invalid)?),
    })?;
    let lot = batch.update(&lot, data, AuditAction::Update, None)?;
    store.commit(batch).await?;

    let quarantined_on = manufactured_on + Duration::days(QUARANTINE_DAYS);
    let q = quarantine_lot(
        store,
        actor,
        lot.id(),
        qa_request(
            quarantined_on,
            Some("Manufacture complete; QC review"),
            lot.meta.version,
        )?,
    )
    .await?;
    let decided_on = manufactured_on + Duration::days(DECISION_DAYS);
    let lot = q.lot;
    let decision = match story {
        LotStory::Pending => return Ok(None),
        LotStory::SterilityFailure | LotStory::MycoplasmaFailure => {
            let reason = if story == LotStory::SterilityFailure {
                "Sterility test positive (growth in FTM on day 9); investigation INV-2205-01"
            } else {
                "Mycoplasma NAT positive; investigation INV-2307-02"
            };
            reject_lot(
                store,
                actor,
                lot.id(),
                qa_request(decided_on, Some(reason), lot.meta.version)?,
            )
            .await?;
            return Ok(None);
        }
        LotStory::LowViability => {
            let deviation: LotDeviation = parse(json!({
                "lot_id": lot.id(), "reference": format!("DEV-{number}-01"),
                "rule_ids": ["safety.viability"],
                "reason": "Post-thaw viability 77.5–79 % against the 80 % product limit; above the 70 % reference limit, potency assay within range; QA accepts the lot (deviation report attached).",
                "approved_by": {"person": "Kimura Sakura", "role": "qa_manager"},
                "approved_on": decided_on
            }))?;
            let dev =
                saisei_store::workflow::quality::lots::record_deviation(store, actor, deviation)
                    .await?;
            let lot = store.get::<Lot>(dev.data.lot_id).await?;
            release_lot(
                store,
                actor,
                lot.id(),
                qa_request(decided_on, None, lot.meta.version)?,
            )
            .await
        }
        LotStory::LateKaryotype => {
            match release_lot(
                store,
                actor,
                lot.id(),
                qa_request(decided_on, None, lot.meta.version)?,
            )
            .await
            {
                Err(LotDecisionError::Refused(_)) => {}
                Ok(_) => return Err(invalid("a lot without karyotype was released")),
                Err(LotDecisionError::Store(e)) => return Err(e),
                Err(other) => return Err(invalid(other)),
            }
            let late = decided_on + Duration::days(6);
            record_qc_result(
                store,
                actor,
                parse(json!({
                    "lot_id": lot.id(), "attribute": "karyotype",
                    "value": {"type": "qualitative", "result": "conforms"},
                    "method": "g_banding", "tested_on": late
                }))?,
            )
            .await?;
            let lot = store.get::<Lot>(lot.id()).await?;
            release_lot(
                store,
                actor,
                lot.id(),
                qa_request(late, None, lot.meta.version)?,
            )
            .await
        }
        LotStory::Passes => {
            release_lot(
                store,
                actor,
                lot.id(),
                qa_request(decided_on, None, lot.meta.version)?,
            )
            .await
        }
    };
    let released = decision.map_err(|e| match e {
        LotDecisionError::Store(e) => e,
        other => invalid(other),
    })?;
    Ok(Some(ReleasedLot {
        id: released.lot.id(),
        number,
        manufactured_on,
        released_on: released.lot.data.status_changed_on.unwrap_or(decided_on),
        expires_on,
    }))
}

/// The facility's spare units of a lot shipped to a hospital in one dry shipper whose
/// logger shows a warm spell: both are put on hold, and QA destroys them.
async fn excursion(
    store: &Store,
    actor: &AuditActor,
    q: &QualityScaffold,
    hospital: &Record<Organisation>,
) -> Result<(), StoreError> {
    let Some(lot) = q.released.get(23) else {
        return Ok(());
    };
    let hospital_party = Party {
        organisation_id: hospital.id(),
        person: name("Pharmacist Okada")?,
    };
    let mut units = Vec::new();
    for k in 1..=2 {
        let unit = register_unit(
            store,
            actor,
            ProductUnit {
                lot_id: lot.id,
                unit_number: format!("{}-S{k}", lot.number)
                    .parse()
                    .map_err(|e: String| invalid(e))?,
                container: "Cryobag 20 mL".parse().map_err(|e: String| invalid(e))?,
                dose: 1.0e8,
                dose_unit: "cells".parse().map_err(|e: String| invalid(e))?,
                expires_on: lot.expires_on,
                storage: q.storage,
                recipient: Recipient::Allogeneic { allocated_to: None },
            },
        )
        .await?;
        let mut batch = Batch::new(actor);
        let events = q.factory_events(lot)?;
        for (seq, e) in events.into_iter().enumerate() {
            batch.insert(UnitCustodyEvent::new(unit.id(), seq as u32, e))?;
        }
        store.commit(batch).await?;
        units.push(unit);
    }
    let shipped_on = lot.released_on + Duration::days(10);
    for unit in &units {
        ship_unit(
            store,
            actor,
            unit.id(),
            ShipmentRequest {
                at: at(shipped_on, 8, 0)?,
                releasing: q.facility.clone(),
                receiving: hospital_party.clone(),
            },
        )
        .await?;
    }
    let mut csv = String::from("time,celsius\n");
    let start = at(shipped_on, 8, 0)?;
    for i in 0..48 {
        let t = start + Duration::minutes(15 * i);
        // The shipper's LN2 ran low for about 90 minutes in the afternoon.
        let c = match i {
            24..=29 => -141.0 + (i - 24) as f64 * 2.5,
            _ => -182.0 + (i % 4) as f64,
        };
        let stamp = t
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(invalid)?;
        csv.push_str(&format!("{stamp},{c}\n"));
    }
    let log = TemperatureLog::parse_csv(&csv).map_err(invalid)?;
    let outcome = upload_temperature_log(
        store,
        actor,
        units[0].id(),
        TemperatureUpload {
            log,
            also_unit_ids: vec![units[1].id()],
            recorded_at: Some(at(shipped_on + Duration::days(1), 9, 0)?),
        },
    )
    .await?;
    for ex in outcome.excursions {
        decide_disposition(
            store,
            actor,
            parse(json!({
                "excursion_id": ex.id(),
                "decision": {"decision": "destroy", "reason": "About 90 minutes above −150 °C (peak −128.5 °C) exceeds the validated transport stability; units destroyed at the site."},
                "approved_by": {"person": "Kimura Sakura", "role": "qa_manager"},
                "decided_on": shipped_on + Duration::days(2)
            }))?,
        )
        .await?;
    }
    Ok(())
}

/// An EV product answering part of the JSRM guidance checklist, so its record shows
/// what is still open.
async fn ev_product(store: &Store, actor: &AuditActor) -> Result<(), StoreError> {
    let product: Product = parse(json!({
        "name": "Exosome serum EX-1 (demo)", "modality": "ev",
        "description": "MSC-conditioned-medium small EVs for topical use; outside the ASRM (demo)"
    }))?;
    let product = store.create(actor, product).await?;
    let answers = [
        (
            "risk.profiling",
            json!({"type": "evidence", "references": ["RISK-EX1-2024"]}),
        ),
        (
            "manufacturing.cell_source",
            json!({"type": "evidence", "references": ["MCB-UC01", "SOP-CB-003"]}),
        ),
        (
            "manufacturing.aseptic_processing",
            json!({"type": "evidence", "references": ["SOP-AS-011"]}),
        ),
        (
            "release.ev_particles",
            json!({"type": "evidence", "references": ["QC-NTA-2024-17", "QC-BCA-2024-17"]}),
        ),
        (
            "release.ev_markers",
            json!({"type": "evidence", "references": ["QC-WB-2024-09"], "summary": "CD9, CD63, CD81 and TSG101 present; calnexin absent"}),
        ),
        (
            "release.xeno_free_medium",
            json!({"type": "evidence", "references": ["XF-2110-A CoA"]}),
        ),
        (
            "efficacy.biodistribution",
            json!({"type": "not_applicable", "reason": "Topical use on intact skin only; no systemic exposure expected"}),
        ),
    ];
    for (item, response) in answers {
        let answer: ProductChecklistAnswer = parse(json!({
            "product_id": product.id(), "checklist": checklist::EV_GUIDANCE,
            "checklist_version": 1, "item": item, "response": response,
            "answered_on": "2024-11-15"
        }))?;
        checklist::record_checklist_answer(store, actor, answer).await?;
    }
    Ok(())
}

impl QualityScaffold {
    /// The unit's life at the facility: filled, frozen, stored and released with its lot.
    fn factory_events(&self, lot: &ReleasedLot) -> Result<Vec<CustodyEvent>, StoreError> {
        let fill = lot.manufactured_on + Duration::days(FILL_DAYS);
        let ev = |at: OffsetDateTime, action: CustodyAction| CustodyEvent {
            at,
            by: self.facility.clone(),
            action,
        };
        Ok(vec![
            ev(
                at(fill, 10, 0)?,
                CustodyAction::ProcessingStep {
                    step: "Fill and finish".parse().map_err(|e: String| invalid(e))?,
                },
            ),
            ev(at(fill, 11, 0)?, CustodyAction::Cryopreserved),
            ev(
                at(fill, 12, 0)?,
                CustodyAction::Stored {
                    location: "LN2 vapour tank 2"
                        .parse()
                        .map_err(|e: String| invalid(e))?,
                },
            ),
            ev(
                at(lot.released_on, 16, 0)?,
                CustodyAction::Released { hold: None },
            ),
        ])
    }

    /// The released lot a patient treated on `index` receives a unit from: the newest
    /// released long enough before to have been shipped.
    fn lot_for(&self, index: Date) -> Option<&ReleasedLot> {
        self.released
            .iter()
            .rev()
            .find(|l| l.released_on + Duration::days(SHIP_AFTER_RELEASE_DAYS) <= index)
    }

    /// A unit's log from the facility to `institution`'s ward, where it is delivered the
    /// day before `index` (packed and handed over the day before that), for a unit
    /// allocated to `patient_id`.
    fn delivered_log(
        &self,
        lot: &ReleasedLot,
        institution: &Record<Organisation>,
        index: Date,
    ) -> Result<(Party, Vec<CustodyEvent>), StoreError> {
        let site = Party {
            organisation_id: institution.id(),
            person: name("Pharmacist (demo)")?,
        };
        let shipped = index - Duration::days(2);
        let mut events = self.factory_events(lot)?;
        events.push(CustodyEvent {
            at: at(shipped, 9, 0)?,
            by: self.facility.clone(),
            action: CustodyAction::Packed,
        });
        events.push(CustodyEvent {
            at: at(shipped, 9, 30)?,
            by: self.facility.clone(),
            action: CustodyAction::Handover {
                releasing: self.facility.clone(),
                receiving: site.clone(),
            },
        });
        events.push(CustodyEvent {
            at: at(index - Duration::days(1), 10, 0)?,
            by: site.clone(),
            action: CustodyAction::Delivered,
        });
        Ok((site, events))
    }

    /// Adds unit `number` of `lot`, allocated to `patient_id`, with its log `events`
    /// (checked with the domain's state machine first); returns the unit's id.
    fn insert_unit(
        &self,
        batch: &mut Batch,
        lot: &ReleasedLot,
        number: &str,
        patient_id: Uuid,
        events: Vec<CustodyEvent>,
    ) -> Result<Uuid, StoreError> {
        let recipient = Recipient::Allogeneic {
            allocated_to: Some(patient_id),
        };
        replay(recipient, &events).map_err(invalid)?;
        let unit = batch.insert(ProductUnit {
            lot_id: lot.id,
            unit_number: number.parse().map_err(|e: String| invalid(e))?,
            container: "Cryobag 20 mL".parse().map_err(|e: String| invalid(e))?,
            dose: 1.0e8,
            dose_unit: "cells".parse().map_err(|e: String| invalid(e))?,
            expires_on: lot.expires_on,
            storage: self.storage,
            recipient,
        })?;
        for (seq, e) in events.into_iter().enumerate() {
            batch.insert(UnitCustodyEvent::new(unit.id(), seq as u32, e))?;
        }
        Ok(unit.id())
    }

    /// Adds a unit allocated to patient `patient_id`, treated at `institution` on
    /// `index`, with its whole custody log to the bedside and administration; returns the
    /// unit's id, or `None` when no lot was released in time. The log is checked with the
    /// domain's state machine before anything is added.
    pub fn add_unit(
        &self,
        batch: &mut Batch,
        institution: &Record<Organisation>,
        patient_id: Uuid,
        index: Date,
        n: usize,
    ) -> Result<Option<Uuid>, StoreError> {
        let Some(lot) = self.lot_for(index) else {
            return Ok(None);
        };
        let (site, mut events) = self.delivered_log(lot, institution, index)?;
        let on_site = |at: OffsetDateTime, action: CustodyAction| CustodyEvent {
            at,
            by: site.clone(),
            action,
        };
        events.push(on_site(at(index, 9, 0)?, CustodyAction::Thawed));
        events.push(on_site(
            at(index, 9, 10)?,
            CustodyAction::IdentityVerified { patient_id },
        ));
        events.push(on_site(
            at(index, 9, 30)?,
            CustodyAction::Administered { patient_id },
        ));
        let number = format!("{}-{:06}", lot.number, n + 1);
        self.insert_unit(batch, lot, &number, patient_id, events)
            .map(Some)
    }

    /// Adds a unit of the newest released lot allocated to patient `patient_id` and
    /// delivered to `institution`'s ward the day before the data cut, not yet thawed,
    /// checked or given: the bedside steps and the administration are left for someone
    /// trying the demo. Returns the unit's number (printed on its label).
    pub fn add_awaiting_unit(
        &self,
        batch: &mut Batch,
        institution: &Record<Organisation>,
        patient_id: Uuid,
        k: usize,
    ) -> Result<Option<String>, StoreError> {
        let Some(lot) = self.lot_for(crate::cohort::DATA_CUT) else {
            return Ok(None);
        };
        let (_, events) = self.delivered_log(lot, institution, crate::cohort::DATA_CUT)?;
        let number = format!("{}-W{:05}", lot.number, k + 1);
        self.insert_unit(batch, lot, &number, patient_id, events)?;
        Ok(Some(number))
    }
}

/// Builds the quality chain of the demo product (see the module documentation).
pub async fn build(
    store: &Store,
    actor: &AuditActor,
    key: &PseudonymKey,
    scaffold: &Scaffold,
    seed: u64,
) -> Result<QualityScaffold, StoreError> {
    let facilities = store
        .list::<Organisation>(&ListQuery {
            filters: vec![Filter::eq(
                "kind",
                Value::Text("cell_processing_facility".into()),
            )],
            limit: 1,
            ..Default::default()
        })
        .await?;
    let facility = match facilities.items.into_iter().next() {
        Some(f) => f,
        None => {
            store
                .create(
                    actor,
                    Organisation {
                        name: name("けいはんな細胞培養加工センター")?,
                        kind: OrganisationKind::CellProcessingFacility,
                        code: None,
                        prefecture: None,
                    },
                )
                .await?
        }
    };
    let hospital = scaffold
        .institutions
        .get(1)
        .ok_or_else(|| invalid("the scaffold has no second institution"))?;
    let product = scaffold.product.clone();
    let src = source(store, actor, key, &facility, hospital).await?;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5155_414c_4954_5900);
    let mut months = 0;
    while month_start(FIRST_LOT, months)?
        <= crate::cohort::DATA_CUT - Duration::days(QUARANTINE_DAYS)
    {
        months += 1;
    }
    let last = usize::try_from(months - 1).unwrap_or(0);
    let mut released = Vec::new();
    for i in 0..months {
        let manufactured_on = month_start(FIRST_LOT, i)?;
        let index = usize::try_from(i).unwrap_or(0);
        if let Some(lot) = make_lot(
            store,
            actor,
            &mut rng,
            &product,
            &facility,
            &src,
            manufactured_on,
            story(index, last),
        )
        .await?
        {
            released.push(lot);
        }
    }
    let q = QualityScaffold {
        facility: Party {
            organisation_id: facility.id(),
            person: name("Kimura Sakura")?,
        },
        released,
        storage: StorageRange::new(-196.0, -150.0).map_err(invalid)?,
    };
    excursion(store, actor, &q, hospital).await?;
    ev_product(store, actor).await?;
    Ok(q)
}
