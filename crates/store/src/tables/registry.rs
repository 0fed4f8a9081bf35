//! The registry core's tables: organisations, plans, patients and their follow-up.

use crate::cols;
use crate::schema::{Reference, Stored, TableDef};
use saisei_domain::registry::*;

/// Organisations.
pub static ORGANISATIONS: TableDef = TableDef {
    name: "organisations",
    entity: "organisation",
    columns: cols!(name: Text, kind: Text, code: Text, prefecture: Text),
    unique: &[],
};

/// Practitioners.
pub static PRACTITIONERS: TableDef = TableDef {
    name: "practitioners",
    entity: "practitioner",
    columns: cols!(organisation_id: Uuid, name: Text, profession: Text, qualifications: Json),
    unique: &[],
};

/// Provision plans.
pub static PLANS: TableDef = TableDef {
    name: "plans",
    entity: "plan",
    columns: cols!(
        plan_number: Text,
        title: Text,
        institution_id: Uuid,
        responsible_physician_id: Uuid,
        risk_class: Text,
        target_disease: Text,
        material_description: Text,
        therapy: Json,
        committee_id: Uuid,
        status: Text,
        submitted_on: Date,
        filed_on: Date,
        activated_on: Date,
        expected_efficacy: Text,
        evaluation_method: Text,
    ),
    unique: &[("plans_plan_number_key", "plan_number")],
};

/// Plan status transitions.
pub static PLAN_TRANSITIONS: TableDef = TableDef {
    name: "plan_transitions",
    entity: "plan_transition",
    columns: cols!(
        plan_id: Uuid,
        from_status: Text,
        to_status: Text,
        on: Date,
        actor: Text,
        reason: Text,
    ),
    unique: &[],
};

/// Products.
pub static PRODUCTS: TableDef = TableDef {
    name: "products",
    entity: "product",
    columns: cols!(name: Text, modality: Text, mah_id: Uuid, description: Text, approval: Json),
    unique: &[],
};

/// Patients (pseudonymised).
pub static PATIENTS: TableDef = TableDef {
    name: "patients",
    entity: "patient",
    columns: cols!(institution_id: Uuid, pseudonym: Text, birth_year_month: Text, sex: Text),
    unique: &[("patients_institution_pseudonym_key", "record_number")],
};

/// Enrolments as treated or control.
pub static ENROLLMENTS: TableDef = TableDef {
    name: "enrollments",
    entity: "enrollment",
    columns: cols!(
        patient_id: Uuid,
        arm: Text,
        plan_id: Uuid,
        product_id: Uuid,
        control_source: Text,
        enrolled_on: Date,
        index_date: Date,
    ),
    unique: &[],
};

/// Consents.
pub static CONSENTS: TableDef = TableDef {
    name: "consents",
    entity: "consent",
    columns: cols!(
        patient_id: Uuid,
        scope: Text,
        form_version: Text,
        given_on: Date,
        withdrawn_on: Date,
        withdrawal_statement: Text,
    ),
    unique: &[],
};

/// Follow-up schedule definitions.
pub static FOLLOW_UP_SCHEDULES: TableDef = TableDef {
    name: "follow_up_schedules",
    entity: "follow_up_schedule",
    columns: cols!(name: Text, description: Text, visits: Json, repeat: Json),
    unique: &[],
};

/// Treatments (administrations).
pub static TREATMENTS: TableDef = TableDef {
    name: "treatments",
    entity: "treatment",
    columns: cols!(
        patient_id: Uuid,
        plan_id: Uuid,
        product_id: Uuid,
        unit_id: Uuid,
        schedule_id: Uuid,
        administered_on: Date,
        dose: Real,
        dose_unit: Text,
        route: Text,
        site: Text,
    ),
    unique: &[],
};

/// Follow-up visits.
pub static VISITS: TableDef = TableDef {
    name: "visits",
    entity: "visit",
    columns: cols!(
        patient_id: Uuid,
        treatment_id: Uuid,
        label: Text,
        due_on: Date,
        window_opens_on: Date,
        window_closes_on: Date,
        done_on: Date,
        not_done_reason: Text,
    ),
    unique: &[],
};

/// Observations.
pub static OBSERVATIONS: TableDef = TableDef {
    name: "observations",
    entity: "observation",
    columns: cols!(
        patient_id: Uuid,
        visit_id: Uuid,
        code: Text,
        system: Text,
        value_number: Real,
        value_text: Text,
        unit: Text,
        observed_on: Date,
    ),
    unique: &[],
};

/// Adverse events.
pub static ADVERSE_EVENTS: TableDef = TableDef {
    name: "adverse_events",
    entity: "adverse_event",
    columns: cols!(
        patient_id: Uuid,
        treatment_id: Uuid,
        verbatim_term: Text,
        ctcae_term: Text,
        grade: Int,
        seriousness: Json,
        causality: Text,
        onset_on: Date,
        known_on: Date,
        outcome: Text,
        resolved_on: Date,
        description: Text,
        reported_on: Date,
    ),
    unique: &[],
};

/// The registry core's tables, in dependency order.
pub static TABLES: &[&TableDef] = &[
    &ORGANISATIONS,
    &PRACTITIONERS,
    &PRODUCTS,
    &PLANS,
    &PLAN_TRANSITIONS,
    &PATIENTS,
    &ENROLLMENTS,
    &CONSENTS,
    &FOLLOW_UP_SCHEDULES,
    &TREATMENTS,
    &VISITS,
    &OBSERVATIONS,
    &ADVERSE_EVENTS,
    &PERIODIC_REPORTS,
];

use OrganisationKind::*;

impl Stored for Organisation {
    const TABLE: &'static TableDef = &ORGANISATIONS;
}

impl Stored for Practitioner {
    const TABLE: &'static TableDef = &PRACTITIONERS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to(
            "organisation_id",
            self.organisation_id,
            &ORGANISATIONS,
        )]
    }
}

impl Stored for Product {
    const TABLE: &'static TableDef = &PRODUCTS;
    fn references(&self) -> Vec<Reference> {
        self.mah_id
            .map(|id| Reference::organisation("mah_id", id, &[MarketingAuthorisationHolder]))
            .into_iter()
            .collect()
    }
}

impl Stored for Plan {
    const TABLE: &'static TableDef = &PLANS;
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

impl Stored for PlanTransition {
    const TABLE: &'static TableDef = &PLAN_TRANSITIONS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("plan_id", self.plan_id, &PLANS)]
    }
}

impl Stored for Patient {
    const TABLE: &'static TableDef = &PATIENTS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::organisation(
            "institution_id",
            self.institution_id,
            &[MedicalInstitution],
        )]
    }
}

impl Stored for Enrollment {
    const TABLE: &'static TableDef = &ENROLLMENTS;
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

impl Stored for Consent {
    const TABLE: &'static TableDef = &CONSENTS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("patient_id", self.patient_id, &PATIENTS)]
    }
}

impl Stored for FollowUpSchedule {
    const TABLE: &'static TableDef = &FOLLOW_UP_SCHEDULES;
}

impl Stored for Treatment {
    const TABLE: &'static TableDef = &TREATMENTS;
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

impl Stored for Visit {
    const TABLE: &'static TableDef = &VISITS;
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

impl Stored for Observation {
    const TABLE: &'static TableDef = &OBSERVATIONS;
    fn references(&self) -> Vec<Reference> {
        let mut r = vec![Reference::to("patient_id", self.patient_id, &PATIENTS)];
        r.extend(Reference::optional("visit_id", self.visit_id, &VISITS));
        r
    }
}

impl Stored for AdverseEvent {
    const TABLE: &'static TableDef = &ADVERSE_EVENTS;
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

/// Filed periodic reports.
pub static PERIODIC_REPORTS: TableDef = TableDef {
    name: "periodic_reports",
    entity: "periodic_report",
    columns: cols!(
        plan_id: Uuid,
        period_number: Int,
        period_start: Date,
        period_end: Date,
        due_on: Date,
        submitted_on: Date,
        rule_set: Text,
        content: Json,
        content_hash: Text,
    ),
    unique: &[("periodic_reports_plan_period_key", "period_number")],
};

impl Stored for PeriodicReport {
    const TABLE: &'static TableDef = &PERIODIC_REPORTS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("plan_id", self.plan_id, &PLANS)]
    }
}
