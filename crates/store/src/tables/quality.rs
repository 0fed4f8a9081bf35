//! Quality and traceability tables: donors to lots to units, the custody log, temperature
//! logs and excursions, and guidance checklist answers.

use super::registry::{ORGANISATIONS, PATIENTS, PRODUCTS};
use crate::schema::{AccessClass, Api, KindDecl, Reference, ScopeColumn, Stored, TableRef};
use saisei_domain::quality::Recipient;
use saisei_domain::quality::records::*;
use saisei_domain::registry::OrganisationKind::{CellProcessingFacility, MedicalInstitution};

pub static DONORS: TableRef<Donor> = TableRef::new();

impl Stored for Donor {
    const DECL: KindDecl = KindDecl {
        table: "donors",
        class: AccessClass::FacilityRecord,
        api: Some(Api {
            path: "donors",
            tag: "quality",
            writable: true,
            immutable: &["facility_id"],
        }),
        unique: &[("donors_facility_pseudonym_key", "donor_code")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "facility_id",
            self.facility_id,
            &ORGANISATIONS,
        )]
    }
}

pub static COLLECTIONS: TableRef<Collection> = TableRef::new();

impl Stored for Collection {
    const DECL: KindDecl = KindDecl {
        table: "collections",
        class: AccessClass::Collection,
        api: Some(Api {
            path: "collections",
            tag: "quality",
            writable: true,
            immutable: &["donor_id", "patient_id"],
        }),
        unique: &[],
        scope: Some(ScopeColumn::PATIENT_INSTITUTION),
    };
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

pub static CELL_BANKS: TableRef<CellBank> = TableRef::new();

impl Stored for CellBank {
    const DECL: KindDecl = KindDecl {
        table: "cell_banks",
        class: AccessClass::FacilityRecord,
        api: Some(Api {
            path: "cell-banks",
            tag: "quality",
            writable: true,
            immutable: &["bank_code", "tier", "collection_id", "parent_bank_id"],
        }),
        unique: &[("cell_banks_bank_code_key", "bank_code")],
        scope: None,
    };
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

pub static CULTURE_MEDIA: TableRef<CultureMedium> = TableRef::new();

impl Stored for CultureMedium {
    const DECL: KindDecl = KindDecl {
        table: "culture_media",
        class: AccessClass::CultureMedium,
        api: Some(Api {
            path: "culture-media",
            tag: "quality",
            writable: true,
            immutable: &[],
        }),
        unique: &[],
        scope: None,
    };
}

pub static LOTS: TableRef<Lot> = TableRef::new();

impl Stored for Lot {
    const DECL: KindDecl = KindDecl {
        table: "lots",
        class: AccessClass::Lot,
        api: Some(Api {
            path: "lots",
            tag: "quality",
            writable: true,
            immutable: &[
                "lot_number",
                "facility_id",
                "product_id",
                "specification",
                "cell_bank_id",
                "collection_id",
            ],
        }),
        unique: &[("lots_lot_number_key", "lot_number")],
        scope: None,
    };
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

pub static LOT_STATUS_CHANGES: TableRef<LotStatusChange> = TableRef::new();

impl Stored for LotStatusChange {
    const DECL: KindDecl = KindDecl {
        table: "lot_status_changes",
        class: AccessClass::LotRecord,
        api: Some(Api {
            path: "lot-status-changes",
            tag: "quality",
            writable: false,
            immutable: &[],
        }),
        unique: &[],
        scope: Some(ScopeColumn::LOT_FACILITY),
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

pub static UNITS: TableRef<ProductUnit> = TableRef::new();

impl Stored for ProductUnit {
    const DECL: KindDecl = KindDecl {
        table: "units",
        class: AccessClass::Unit,
        api: Some(Api {
            path: "units",
            tag: "quality",
            writable: true,
            immutable: &["lot_id", "unit_number", "recipient"],
        }),
        unique: &[("units_unit_number_key", "unit_number")],
        scope: Some(ScopeColumn::LOT_FACILITY),
    };
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

pub static RETAINED_SAMPLES: TableRef<RetainedSample> = TableRef::new();

impl Stored for RetainedSample {
    const DECL: KindDecl = KindDecl {
        table: "retained_samples",
        class: AccessClass::LotRecord,
        api: Some(Api {
            path: "retained-samples",
            tag: "quality",
            writable: true,
            immutable: &["lot_id", "sample_code"],
        }),
        unique: &[("retained_samples_sample_code_key", "sample_code")],
        scope: Some(ScopeColumn::LOT_FACILITY),
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

pub static QC_RESULTS: TableRef<LotQcResult> = TableRef::new();

impl Stored for LotQcResult {
    const DECL: KindDecl = KindDecl {
        table: "qc_results",
        class: AccessClass::LotRecord,
        api: Some(Api {
            path: "qc-results",
            tag: "quality",
            writable: false,
            immutable: &[],
        }),
        unique: &[],
        scope: Some(ScopeColumn::LOT_FACILITY),
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

pub static DEVIATIONS: TableRef<LotDeviation> = TableRef::new();

impl Stored for LotDeviation {
    const DECL: KindDecl = KindDecl {
        table: "deviations",
        class: AccessClass::LotRecord,
        api: Some(Api {
            path: "deviations",
            tag: "quality",
            writable: false,
            immutable: &[],
        }),
        unique: &[("deviations_reference_key", "reference")],
        scope: Some(ScopeColumn::LOT_FACILITY),
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("lot_id", self.lot_id, &LOTS)]
    }
}

pub static CUSTODY_EVENTS: TableRef<UnitCustodyEvent> = TableRef::new();

impl Stored for UnitCustodyEvent {
    const DECL: KindDecl = KindDecl {
        table: "custody_events",
        class: AccessClass::UnitRecord,
        api: Some(Api {
            path: "custody-events",
            tag: "quality",
            writable: false,
            immutable: &[],
        }),
        unique: &[("custody_events_unit_seq_key", "seq")],
        scope: Some(ScopeColumn::UNIT_FACILITY),
    };
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

pub static TEMPERATURE_LOGS: TableRef<UnitTemperatureLog> = TableRef::new();

impl Stored for UnitTemperatureLog {
    const DECL: KindDecl = KindDecl {
        table: "temperature_logs",
        class: AccessClass::UnitRecord,
        api: Some(Api {
            path: "temperature-logs",
            tag: "quality",
            writable: false,
            immutable: &[],
        }),
        unique: &[],
        scope: Some(ScopeColumn::UNIT_FACILITY),
    };
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

pub static TEMPERATURE_EXCURSIONS: TableRef<UnitTemperatureExcursion> = TableRef::new();

impl Stored for UnitTemperatureExcursion {
    const DECL: KindDecl = KindDecl {
        table: "temperature_excursions",
        class: AccessClass::UnitRecord,
        api: Some(Api {
            path: "temperature-excursions",
            tag: "quality",
            writable: false,
            immutable: &[],
        }),
        unique: &[],
        scope: Some(ScopeColumn::UNIT_FACILITY),
    };
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::to("log_id", self.log_id, &TEMPERATURE_LOGS),
            Reference::to("unit_id", self.unit_id, &UNITS),
        ]
    }
}

pub static DISPOSITIONS: TableRef<ExcursionDisposition> = TableRef::new();

impl Stored for ExcursionDisposition {
    const DECL: KindDecl = KindDecl {
        table: "dispositions",
        class: AccessClass::Disposition,
        api: Some(Api {
            path: "dispositions",
            tag: "quality",
            writable: false,
            immutable: &[],
        }),
        unique: &[("dispositions_excursion_id_key", "excursion_id")],
        scope: Some(ScopeColumn::EXCURSION_FACILITY),
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "excursion_id",
            self.excursion_id,
            &TEMPERATURE_EXCURSIONS,
        )]
    }
}

pub static CHECKLIST_ANSWERS: TableRef<ProductChecklistAnswer> = TableRef::new();

impl Stored for ProductChecklistAnswer {
    const DECL: KindDecl = KindDecl {
        table: "checklist_answers",
        class: AccessClass::ChecklistAnswer,
        api: Some(Api {
            path: "checklist-answers",
            tag: "quality",
            writable: true,
            immutable: &["product_id", "checklist", "checklist_version", "item"],
        }),
        unique: &[("checklist_answers_item_key", "item")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("product_id", self.product_id, &PRODUCTS)]
    }
}
