//! The registry records an evaluation reads, loaded once by the store's workflow and
//! handed to the evidence engine (`saisei-evidence`), which needs nothing else.

use super::adjudication::{AdjudicationAssessment, AdjudicationTask};
use crate::Record;
use crate::quality::records::{Lot, LotQcResult, ProductUnit};
use crate::registry::{
    AdverseEvent, Consent, Enrollment, Observation, Organisation, Patient, Product, Treatment,
    Visit,
};

/// Everything an evaluation of one product needs: the product's treated patients
/// (through recorded treatments or administered units) and its enrolled controls, what
/// happened to them, the lots they received with their QC results, and the
/// adjudication of their endpoint events.
#[derive(Debug, Clone)]
pub struct RegistryData {
    /// The product.
    pub product: Record<Product>,
    /// Enrolments naming the product (treated and control).
    pub enrollments: Vec<Record<Enrollment>>,
    /// The patients concerned.
    pub patients: Vec<Record<Patient>>,
    /// Their institutions (the sites).
    pub sites: Vec<Record<Organisation>>,
    /// Their treatments.
    pub treatments: Vec<Record<Treatment>>,
    /// Their visits.
    pub visits: Vec<Record<Visit>>,
    /// Their observations.
    pub observations: Vec<Record<Observation>>,
    /// Their adverse events.
    pub adverse_events: Vec<Record<AdverseEvent>>,
    /// Their consents.
    pub consents: Vec<Record<Consent>>,
    /// The product's lots.
    pub lots: Vec<Record<Lot>>,
    /// The units of those lots.
    pub units: Vec<Record<ProductUnit>>,
    /// The lots' QC results.
    pub qc_results: Vec<Record<LotQcResult>>,
    /// The plan's adjudication tasks.
    pub tasks: Vec<Record<AdjudicationTask>>,
    /// Their assessments.
    pub assessments: Vec<Record<AdjudicationAssessment>>,
}

impl RegistryData {
    /// Records read, by kind, for the data snapshot.
    pub fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        [
            ("enrollments", self.enrollments.len()),
            ("patients", self.patients.len()),
            ("sites", self.sites.len()),
            ("treatments", self.treatments.len()),
            ("visits", self.visits.len()),
            ("observations", self.observations.len()),
            ("adverse_events", self.adverse_events.len()),
            ("consents", self.consents.len()),
            ("lots", self.lots.len()),
            ("units", self.units.len()),
            ("qc_results", self.qc_results.len()),
            ("adjudication_tasks", self.tasks.len()),
            ("adjudication_assessments", self.assessments.len()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v as u64))
        .collect()
    }
}
