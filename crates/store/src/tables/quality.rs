//! Quality and traceability tables: donors to lots to units, the custody log, temperature
//! logs and excursions, and guidance checklist answers.

use super::registry::{ORGANISATIONS, PATIENTS, PRODUCTS};
use crate::cols;
use crate::schema::{Reference, Stored, TableDef};
use saisei_domain::quality::Recipient;
use saisei_domain::quality::records::*;
use saisei_domain::registry::OrganisationKind::{CellProcessingFacility, MedicalInstitution};

/// Donors (pseudonymised).
pub static DONORS: TableDef = TableDef {
    name: "donors",
    entity: "donor",
    columns: cols!(
        facility_id: Uuid,
        pseudonym: Text,
        sex: Text,
        birth_year_month: Text,
        eligibility_tests: Json,
        eligibility: Text,
        eligibility_decided_on: Date,
    ),
    unique: &[("donors_facility_pseudonym_key", "donor_code")],
};

/// Collections from donors or patients.
pub static COLLECTIONS: TableDef = TableDef {
    name: "collections",
    entity: "collection",
    columns: cols!(
        donor_id: Uuid,
        patient_id: Uuid,
        collected_by_id: Uuid,
        collected_on: Date,
        material: Text,
        din: Text,
        sec: Text,
        volume_ml: Real,
    ),
    unique: &[],
};

/// Master and working cell banks.
pub static CELL_BANKS: TableDef = TableDef {
    name: "cell_banks",
    entity: "cell_bank",
    columns: cols!(
        bank_code: Text,
        tier: Text,
        facility_id: Uuid,
        collection_id: Uuid,
        parent_bank_id: Uuid,
        cell_type: Text,
        passage: Int,
        vials: Int,
        established_on: Date,
        storage_location: Text,
    ),
    unique: &[("cell_banks_bank_code_key", "bank_code")],
};

/// Culture media lots.
pub static CULTURE_MEDIA: TableDef = TableDef {
    name: "culture_media",
    entity: "culture_medium",
    columns: cols!(
        name: Text,
        manufacturer: Text,
        medium_lot: Text,
        xeno_free: Bool,
        components: Json,
        expires_on: Date,
    ),
    unique: &[],
};

/// Manufacturing lots.
pub static LOTS: TableDef = TableDef {
    name: "lots",
    entity: "lot",
    columns: cols!(
        lot_number: Text,
        product_id: Uuid,
        facility_id: Uuid,
        cell_bank_id: Uuid,
        collection_id: Uuid,
        culture_medium_ids: Json,
        process_version: Text,
        specification: Text,
        evaluation_context: Json,
        manufactured_on: Date,
        expires_on: Date,
        status: Text,
        status_changed_on: Date,
        evidence_revision: Int,
    ),
    unique: &[("lots_lot_number_key", "lot_number")],
};

/// Lot status decisions.
pub static LOT_STATUS_CHANGES: TableDef = TableDef {
    name: "lot_status_changes",
    entity: "lot_status_change",
    columns: cols!(
        lot_id: Uuid,
        from_status: Text,
        to_status: Text,
        on: Date,
        decided_by: Json,
        reason: Text,
        evaluation_outcome: Text,
        covered: Json,
    ),
    unique: &[],
};

/// Product units.
pub static UNITS: TableDef = TableDef {
    name: "units",
    entity: "unit",
    columns: cols!(
        lot_id: Uuid,
        unit_number: Text,
        container: Text,
        dose: Real,
        dose_unit: Text,
        expires_on: Date,
        storage: Json,
        recipient: Json,
    ),
    unique: &[("units_unit_number_key", "unit_number")],
};

/// Retained samples.
pub static RETAINED_SAMPLES: TableDef = TableDef {
    name: "retained_samples",
    entity: "retained_sample",
    columns: cols!(
        lot_id: Uuid,
        sample_code: Text,
        material: Text,
        location: Text,
        quantity: Real,
        quantity_unit: Text,
        retained_on: Date,
        retain_until: Date,
        storage: Json,
    ),
    unique: &[("retained_samples_sample_code_key", "sample_code")],
};

/// QC results.
pub static QC_RESULTS: TableDef = TableDef {
    name: "qc_results",
    entity: "qc_result",
    columns: cols!(
        lot_id: Uuid,
        attribute: Text,
        value: Json,
        method: Text,
        instrument: Text,
        tested_on: Date,
        sample_id: Text,
    ),
    unique: &[],
};

/// Deviations.
pub static DEVIATIONS: TableDef = TableDef {
    name: "deviations",
    entity: "deviation",
    columns: cols!(
        lot_id: Uuid,
        reference: Text,
        rule_ids: Json,
        reason: Text,
        approved_by: Json,
        approved_on: Date,
    ),
    unique: &[("deviations_reference_key", "reference")],
};

/// The custody log: append-only, one row per event.
pub static CUSTODY_EVENTS: TableDef = TableDef {
    name: "custody_events",
    entity: "custody_event",
    columns: cols!(
        unit_id: Uuid,
        seq: Int,
        event_type: Text,
        at: Text,
        by: Json,
        action: Json,
    ),
    unique: &[("custody_events_unit_seq_key", "seq")],
};

/// Temperature logs.
pub static TEMPERATURE_LOGS: TableDef = TableDef {
    name: "temperature_logs",
    entity: "temperature_log",
    columns: cols!(
        unit_id: Uuid,
        also_unit_ids: Json,
        range: Json,
        readings: Json,
        first_at: Text,
        last_at: Text,
        within_range: Bool,
        excursion_count: Int,
    ),
    unique: &[],
};

/// Temperature excursions.
pub static TEMPERATURE_EXCURSIONS: TableDef = TableDef {
    name: "temperature_excursions",
    entity: "temperature_excursion",
    columns: cols!(
        log_id: Uuid,
        unit_id: Uuid,
        unit_ids: Json,
        hold: Text,
        start_at: Text,
        end_at: Text,
        duration_seconds: Int,
        min_celsius: Real,
        max_celsius: Real,
        direction: Text,
        readings: Int,
        open_at_end_of_log: Bool,
        range: Json,
    ),
    unique: &[],
};

/// Dispositions of excursion holds (one per excursion).
pub static DISPOSITIONS: TableDef = TableDef {
    name: "dispositions",
    entity: "disposition",
    columns: cols!(
        excursion_id: Uuid,
        hold: Text,
        decision: Json,
        approved_by: Json,
        decided_on: Date,
        unit_ids: Json,
    ),
    unique: &[("dispositions_excursion_id_key", "excursion_id")],
};

/// Products' answers to guidance checklists (one per product, checklist version and item).
pub static CHECKLIST_ANSWERS: TableDef = TableDef {
    name: "checklist_answers",
    entity: "checklist_answer",
    columns: cols!(
        product_id: Uuid,
        checklist: Text,
        checklist_version: Int,
        item: Text,
        response: Json,
        answered_on: Date,
    ),
    unique: &[("checklist_answers_item_key", "item")],
};

/// The quality tables, in dependency order.
pub static TABLES: &[&TableDef] = &[
    &DONORS,
    &COLLECTIONS,
    &CELL_BANKS,
    &CULTURE_MEDIA,
    &LOTS,
    &LOT_STATUS_CHANGES,
    &UNITS,
    &RETAINED_SAMPLES,
    &QC_RESULTS,
    &DEVIATIONS,
    &CUSTODY_EVENTS,
    &TEMPERATURE_LOGS,
    &TEMPERATURE_EXCURSIONS,
    &DISPOSITIONS,
    &CHECKLIST_ANSWERS,
];

impl Stored for Donor {
    const TABLE: &'static TableDef = &DONORS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "facility_id",
            self.facility_id,
            &ORGANISATIONS,
        )]
    }
}

impl Stored for Collection {
    const TABLE: &'static TableDef = &COLLECTIONS;
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to(
            "collected_by_id",
            self.collected_by_id,
            &ORGANISATIONS,
        )];
        r.extend(Reference::optional("donor_id", self.donor_id, &DONORS));
        r.extend(Reference::optional(
            "patient_id",
            self.patient_id,
            &PATIENTS,
        ));
        r
    }
}

impl Stored for CellBank {
    const TABLE: &'static TableDef = &CELL_BANKS;
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::organisation(
            "facility_id",
            self.facility_id,
            &[CellProcessingFacility, MedicalInstitution],
        )];
        r.extend(Reference::optional(
            "collection_id",
            self.collection_id,
            &COLLECTIONS,
        ));
        r.extend(Reference::optional(
            "parent_bank_id",
            self.parent_bank_id,
            &CELL_BANKS,
        ));
        r
    }
}

impl Stored for CultureMedium {
    const TABLE: &'static TableDef = &CULTURE_MEDIA;
}

impl Stored for Lot {
    const TABLE: &'static TableDef = &LOTS;
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![
            Reference::to("product_id", self.product_id, &PRODUCTS),
            Reference::organisation(
                "facility_id",
                self.facility_id,
                &[CellProcessingFacility, MedicalInstitution],
            ),
        ];
        r.extend(Reference::optional(
            "cell_bank_id",
            self.cell_bank_id,
            &CELL_BANKS,
        ));
        r.extend(Reference::optional(
            "collection_id",
            self.collection_id,
            &COLLECTIONS,
        ));
        r.extend(
            self.culture_medium_ids
                .iter()
                .map(|id| Reference::to("culture_medium_ids", *id, &CULTURE_MEDIA)),
        );
        r
    }
}

impl Stored for LotStatusChange {
    const TABLE: &'static TableDef = &LOT_STATUS_CHANGES;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

impl Stored for ProductUnit {
    const TABLE: &'static TableDef = &UNITS;
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("lot_id", self.lot_id, &LOTS)];
        match self.recipient {
            Recipient::Autologous { patient_id } => {
                r.push(Reference::to("recipient.patient_id", patient_id, &PATIENTS))
            }
            Recipient::Allogeneic { allocated_to } => r.extend(Reference::optional(
                "recipient.allocated_to",
                allocated_to,
                &PATIENTS,
            )),
        }
        r
    }
}

impl Stored for RetainedSample {
    const TABLE: &'static TableDef = &RETAINED_SAMPLES;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

impl Stored for LotQcResult {
    const TABLE: &'static TableDef = &QC_RESULTS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

impl Stored for LotDeviation {
    const TABLE: &'static TableDef = &DEVIATIONS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

impl Stored for UnitCustodyEvent {
    const TABLE: &'static TableDef = &CUSTODY_EVENTS;
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![
            Reference::to("unit_id", self.unit_id, &UNITS),
            Reference::to(
                "by.organisation_id",
                self.by.organisation_id,
                &ORGANISATIONS,
            ),
        ];
        if let saisei_domain::quality::CustodyAction::Handover {
            releasing,
            receiving,
        } = &self.action
        {
            r.push(Reference::to(
                "action.releasing.organisation_id",
                releasing.organisation_id,
                &ORGANISATIONS,
            ));
            r.push(Reference::to(
                "action.receiving.organisation_id",
                receiving.organisation_id,
                &ORGANISATIONS,
            ));
        }
        r
    }
}

impl Stored for UnitTemperatureLog {
    const TABLE: &'static TableDef = &TEMPERATURE_LOGS;
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("unit_id", self.unit_id, &UNITS)];
        r.extend(
            self.also_unit_ids
                .iter()
                .map(|id| Reference::to("also_unit_ids", *id, &UNITS)),
        );
        r
    }
}

impl Stored for UnitTemperatureExcursion {
    const TABLE: &'static TableDef = &TEMPERATURE_EXCURSIONS;
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::to("log_id", self.log_id, &TEMPERATURE_LOGS),
            Reference::to("unit_id", self.unit_id, &UNITS),
        ]
    }
}

impl Stored for ExcursionDisposition {
    const TABLE: &'static TableDef = &DISPOSITIONS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "excursion_id",
            self.excursion_id,
            &TEMPERATURE_EXCURSIONS,
        )]
    }
}

impl Stored for ProductChecklistAnswer {
    const TABLE: &'static TableDef = &CHECKLIST_ANSWERS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("product_id", self.product_id, &PRODUCTS)]
    }
}
