//! The registry core's tables: organisations, plans, patients and their follow-up.

use crate::schema::{AccessClass, Api, KindDecl, Reference, ScopeColumn, Stored, TableRef};
use saisei_domain::registry::*;

use OrganisationKind::*;

pub static ORGANISATIONS: TableRef<Organisation> = TableRef::new();

impl Stored for Organisation {
    const DECL: KindDecl = KindDecl {
        table: "organisations",
        class: AccessClass::Reference,
        api: Some(Api {
            path: "organisations",
            tag: "organisations",
            writable: true,
            immutable: &["kind"],
        }),
        unique: &[],
        scope: None,
    };
}

pub static PRACTITIONERS: TableRef<Practitioner> = TableRef::new();

impl Stored for Practitioner {
    const DECL: KindDecl = KindDecl {
        table: "practitioners",
        class: AccessClass::Reference,
        api: Some(Api {
            path: "practitioners",
            tag: "organisations",
            writable: true,
            immutable: &[],
        }),
        unique: &[],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "organisation_id",
            self.organisation_id,
            &ORGANISATIONS,
        )]
    }
}

pub static PRODUCTS: TableRef<Product> = TableRef::new();

impl Stored for Product {
    const DECL: KindDecl = KindDecl {
        table: "products",
        class: AccessClass::Product,
        api: Some(Api {
            path: "products",
            tag: "products",
            writable: true,
            immutable: &[],
        }),
        unique: &[],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        self.mah_id
            .map(|id| Reference::organisation("mah_id", id, &[MarketingAuthorisationHolder]))
            .into_iter()
            .collect()
    }
}

pub static PLANS: TableRef<Plan> = TableRef::new();

impl Stored for Plan {
    const DECL: KindDecl = KindDecl {
        table: "plans",
        class: AccessClass::Plan,
        api: Some(Api {
            path: "plans",
            tag: "plans",
            writable: true,
            immutable: &["institution_id"],
        }),
        unique: &[("plans_plan_number_key", "plan_number")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::organisation("institution_id", self.institution_id, &[MedicalInstitution]),
            Reference::to(
                "responsible_physician_id",
                self.responsible_physician_id,
                &PRACTITIONERS,
            ),
            Reference::organisation(
                "committee_id",
                self.committee_id,
                &[CertifiedCommittee, SpeciallyCertifiedCommittee],
            ),
        ]
    }
}

pub static PLAN_TRANSITIONS: TableRef<PlanTransition> = TableRef::new();

impl Stored for PlanTransition {
    const DECL: KindDecl = KindDecl {
        table: "plan_transitions",
        class: AccessClass::PlanRecord,
        api: Some(Api {
            path: "plan-transitions",
            tag: "plans",
            writable: false,
            immutable: &[],
        }),
        unique: &[],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("plan_id", self.plan_id, &PLANS)]
    }
}

pub static PATIENTS: TableRef<Patient> = TableRef::new();

impl Stored for Patient {
    const DECL: KindDecl = KindDecl {
        table: "patients",
        class: AccessClass::Patient,
        api: Some(Api {
            path: "patients",
            tag: "patients",
            writable: true,
            immutable: &["institution_id"],
        }),
        unique: &[("patients_institution_pseudonym_key", "record_number")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::organisation(
            "institution_id",
            self.institution_id,
            &[MedicalInstitution],
        )]
    }
}

pub static ENROLLMENTS: TableRef<Enrollment> = TableRef::new();

impl Stored for Enrollment {
    const DECL: KindDecl = KindDecl {
        table: "enrollments",
        class: AccessClass::PatientRecord,
        api: Some(Api {
            path: "enrollments",
            tag: "patients",
            writable: true,
            immutable: &["patient_id"],
        }),
        unique: &[],
        scope: Some(ScopeColumn::PATIENT_INSTITUTION),
    };
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("patient_id", self.patient_id, &PATIENTS)];
        r.extend(Reference::optional("plan_id", self.plan_id, &PLANS));
        r.extend(Reference::optional(
            "product_id",
            self.product_id,
            &PRODUCTS,
        ));
        r
    }
}

pub static CONSENTS: TableRef<Consent> = TableRef::new();

impl Stored for Consent {
    const DECL: KindDecl = KindDecl {
        table: "consents",
        class: AccessClass::PatientRecord,
        api: Some(Api {
            path: "consents",
            tag: "patients",
            writable: true,
            immutable: &["patient_id"],
        }),
        unique: &[],
        scope: Some(ScopeColumn::PATIENT_INSTITUTION),
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("patient_id", self.patient_id, &PATIENTS)]
    }
}

pub static FOLLOW_UP_SCHEDULES: TableRef<FollowUpSchedule> = TableRef::new();

impl Stored for FollowUpSchedule {
    const DECL: KindDecl = KindDecl {
        table: "follow_up_schedules",
        class: AccessClass::Reference,
        api: Some(Api {
            path: "follow-up-schedules",
            tag: "follow-up",
            writable: true,
            immutable: &[],
        }),
        unique: &[],
        scope: None,
    };
}

pub static TREATMENTS: TableRef<Treatment> = TableRef::new();

impl Stored for Treatment {
    const DECL: KindDecl = KindDecl {
        table: "treatments",
        class: AccessClass::PatientRecord,
        api: Some(Api {
            path: "treatments",
            tag: "treatments",
            writable: true,
            immutable: &["patient_id", "schedule_id", "unit_id"],
        }),
        unique: &[],
        scope: Some(ScopeColumn::PATIENT_INSTITUTION),
    };
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("patient_id", self.patient_id, &PATIENTS)];
        r.extend(Reference::optional("plan_id", self.plan_id, &PLANS));
        r.extend(Reference::optional(
            "product_id",
            self.product_id,
            &PRODUCTS,
        ));
        r.extend(Reference::optional(
            "schedule_id",
            self.schedule_id,
            &FOLLOW_UP_SCHEDULES,
        ));
        r.extend(Reference::optional(
            "unit_id",
            self.unit_id,
            &crate::tables::quality::UNITS,
        ));
        r
    }
}

pub static VISITS: TableRef<Visit> = TableRef::new();

impl Stored for Visit {
    const DECL: KindDecl = KindDecl {
        table: "visits",
        class: AccessClass::PatientRecord,
        api: Some(Api {
            path: "visits",
            tag: "follow-up",
            writable: true,
            immutable: &["patient_id", "treatment_id"],
        }),
        unique: &[],
        scope: Some(ScopeColumn::PATIENT_INSTITUTION),
    };
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("patient_id", self.patient_id, &PATIENTS)];
        r.extend(Reference::optional(
            "treatment_id",
            self.treatment_id,
            &TREATMENTS,
        ));
        r
    }
}

pub static OBSERVATIONS: TableRef<Observation> = TableRef::new();

impl Stored for Observation {
    const DECL: KindDecl = KindDecl {
        table: "observations",
        class: AccessClass::PatientRecord,
        api: Some(Api {
            path: "observations",
            tag: "follow-up",
            writable: true,
            immutable: &["patient_id"],
        }),
        unique: &[],
        scope: Some(ScopeColumn::PATIENT_INSTITUTION),
    };
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("patient_id", self.patient_id, &PATIENTS)];
        r.extend(Reference::optional("visit_id", self.visit_id, &VISITS));
        r
    }
}

pub static ADVERSE_EVENTS: TableRef<AdverseEvent> = TableRef::new();

impl Stored for AdverseEvent {
    const DECL: KindDecl = KindDecl {
        table: "adverse_events",
        class: AccessClass::PatientRecord,
        api: Some(Api {
            path: "adverse-events",
            tag: "adverse-events",
            writable: true,
            immutable: &["patient_id"],
        }),
        unique: &[],
        scope: Some(ScopeColumn::PATIENT_INSTITUTION),
    };
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("patient_id", self.patient_id, &PATIENTS)];
        r.extend(Reference::optional(
            "treatment_id",
            self.treatment_id,
            &TREATMENTS,
        ));
        r
    }
}

pub static PERIODIC_REPORTS: TableRef<PeriodicReport> = TableRef::new();

impl Stored for PeriodicReport {
    const DECL: KindDecl = KindDecl {
        table: "periodic_reports",
        class: AccessClass::PlanRecord,
        api: Some(Api {
            path: "periodic-reports",
            tag: "regulation",
            writable: false,
            immutable: &[],
        }),
        unique: &[("periodic_reports_plan_period_key", "period_number")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("plan_id", self.plan_id, &PLANS)]
    }
}
