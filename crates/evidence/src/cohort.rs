//! The analysis cohort: treated patients of the product and eligible controls, with
//! baseline covariates as of their index date and a flow count of who was excluded and
//! why.
//!
//! A patient is *treated* when the registry records an administration of the product
//! (a treatment naming it, or a unit of one of its lots) or a treated enrolment for it;
//! their index date is the first administration. A *control* is enrolled as a control
//! for the product; their index date is the enrolment's. Exclusions are applied in a
//! fixed order so that each patient is counted once, at the first rule they fail.

use crate::data::RegistryData;
use saisei_domain::evaluation::outcome::{
    AdverseEventRef, ObservationRef, PatientRecords, baseline_value,
};
use saisei_domain::evaluation::{CovariateSpec, EvaluationPlan};
use saisei_domain::registry::{Arm, ConsentScope, Sex};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use time::Date;
use uuid::Uuid;

/// One patient in the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// The patient.
    pub patient_id: Uuid,
    /// Treated with the product, or a control.
    pub treated: bool,
    /// Their institution.
    pub site_id: Uuid,
    /// Index date.
    pub index_date: Date,
    /// Age in years at the index date.
    pub age: f64,
    /// Female sex.
    pub female: bool,
    /// Baseline values by observation code.
    pub baselines: BTreeMap<String, f64>,
    /// The last date anything was recorded for them, up to the data cut.
    pub last_contact: Date,
    /// The lots of the units they received.
    pub lots: Vec<Uuid>,
    /// Indexes of their observations in [`RegistryData::observations`].
    pub observations: Vec<usize>,
    /// Indexes of their adverse events in [`RegistryData::adverse_events`].
    pub adverse_events: Vec<usize>,
}

impl Subject {
    /// The value of a covariate.
    pub fn covariate(&self, c: &CovariateSpec) -> Option<f64> {
        match c {
            CovariateSpec::Age => Some(self.age),
            CovariateSpec::Sex => Some(if self.female { 1.0 } else { 0.0 }),
            CovariateSpec::IndexYear => Some(f64::from(self.index_date.year())),
            CovariateSpec::Baseline(code) => self.baselines.get(code.as_str()).copied(),
        }
    }
}

/// One row of the flow table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowStep {
    /// The step: who was identified, or why patients were excluded.
    pub step: String,
    /// Treated patients excluded at this step (0 for the first row).
    pub excluded_treated: usize,
    /// Controls excluded at this step.
    pub excluded_control: usize,
    /// Treated patients remaining after it.
    pub remaining_treated: usize,
    /// Controls remaining after it.
    pub remaining_control: usize,
}

/// The cohort and how it was reached.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// Eligible patients, treated first then controls, each in patient-id order.
    pub subjects: Vec<Subject>,
    /// Who was identified and excluded, step by step.
    pub flow: Vec<FlowStep>,
    /// The data cut.
    pub data_cut: Date,
    /// Visit labels by visit id.
    pub visit_labels: HashMap<Uuid, String>,
    /// Names of sites by id.
    pub site_names: BTreeMap<Uuid, String>,
    /// SHA-256 over every record the analysis read (kind, id, version).
    pub data_hash: String,
}

impl Cohort {
    /// A subject's records as the endpoint rules read them.
    pub fn records<'a>(&'a self, data: &'a RegistryData, s: &Subject) -> PatientRecords<'a> {
        PatientRecords {
            index_date: s.index_date,
            data_cut: self.data_cut,
            observations: s
                .observations
                .iter()
                .map(|&i| {
                    let o = &data.observations[i];
                    ObservationRef {
                        id: o.meta.id,
                        observation: &o.data,
                        visit_label: o
                            .data
                            .visit_id
                            .and_then(|v| self.visit_labels.get(&v))
                            .map(String::as_str),
                    }
                })
                .collect(),
            adverse_events: s
                .adverse_events
                .iter()
                .map(|&i| AdverseEventRef {
                    id: data.adverse_events[i].meta.id,
                    event: &data.adverse_events[i].data,
                })
                .collect(),
            baselines: s.baselines.clone(),
        }
    }
}

struct Candidate {
    patient_id: Uuid,
    treated: bool,
    index: Date,
}

/// A running flow table.
struct Flow {
    steps: Vec<FlowStep>,
}

impl Flow {
    fn start(label: &str, candidates: &[Candidate]) -> Self {
        let t = candidates.iter().filter(|c| c.treated).count();
        Flow {
            steps: vec![FlowStep {
                step: label.into(),
                excluded_treated: 0,
                excluded_control: 0,
                remaining_treated: t,
                remaining_control: candidates.len() - t,
            }],
        }
    }

    /// Removes the candidates failing `keep`, recording the step when it removed any.
    fn apply<T>(
        &mut self,
        label: &str,
        list: &mut Vec<T>,
        treated: impl Fn(&T) -> bool,
        keep: impl Fn(&T) -> bool,
    ) {
        let before_t = list.iter().filter(|c| treated(c)).count();
        let before_c = list.len() - before_t;
        list.retain(|c| keep(c));
        let after_t = list.iter().filter(|c| treated(c)).count();
        let after_c = list.len() - after_t;
        if before_t != after_t || before_c != after_c {
            self.steps.push(FlowStep {
                step: label.into(),
                excluded_treated: before_t - after_t,
                excluded_control: before_c - after_c,
                remaining_treated: after_t,
                remaining_control: after_c,
            });
        }
    }
}

/// Builds the cohort for `plan` from `data` as of `data_cut`.
pub fn build(plan: &EvaluationPlan, data: &RegistryData, data_cut: Date) -> Cohort {
    let product_id = data.product.meta.id;
    let product_lots: HashSet<Uuid> = data
        .lots
        .iter()
        .filter(|l| l.data.product_id == product_id)
        .map(|l| l.meta.id)
        .collect();
    let unit_lot: HashMap<Uuid, Uuid> = data
        .units
        .iter()
        .filter(|u| product_lots.contains(&u.data.lot_id))
        .map(|u| (u.meta.id, u.data.lot_id))
        .collect();

    // Treated: administrations of the product (named, or through a unit of its lots).
    let mut first_dose: BTreeMap<Uuid, Date> = BTreeMap::new();
    let mut lots_of: BTreeMap<Uuid, BTreeSet<Uuid>> = BTreeMap::new();
    for t in &data.treatments {
        let via_unit = t.data.unit_id.and_then(|u| unit_lot.get(&u).copied());
        if t.data.product_id == Some(product_id) || via_unit.is_some() {
            let e = first_dose
                .entry(t.data.patient_id)
                .or_insert(t.data.administered_on);
            *e = (*e).min(t.data.administered_on);
            if let Some(lot) = via_unit {
                lots_of.entry(t.data.patient_id).or_default().insert(lot);
            }
        }
    }
    let mut control_index: BTreeMap<Uuid, Date> = BTreeMap::new();
    for e in &data.enrollments {
        if e.data.product_id != Some(product_id) {
            continue;
        }
        let index = e.data.index_date.unwrap_or(e.data.enrolled_on);
        match e.data.arm {
            Arm::Treated => {
                first_dose.entry(e.data.patient_id).or_insert(index);
            }
            Arm::Control => {
                let c = control_index.entry(e.data.patient_id).or_insert(index);
                *c = (*c).min(index);
            }
        }
    }
    let mut candidates: Vec<Candidate> = first_dose
        .iter()
        .map(|(p, d)| Candidate {
            patient_id: *p,
            treated: true,
            index: *d,
        })
        .chain(control_index.iter().map(|(p, d)| Candidate {
            patient_id: *p,
            treated: false,
            index: *d,
        }))
        .collect();
    let mut flow = Flow::start(
        "Registry patients of the product (treated) and enrolled controls",
        &candidates,
    );
    // A treated enrolment stands for a product administration the treatment record
    // does not name (its index date, else the enrolment date); a patient enrolled as
    // treated with no administration at all was not treated (yet), so has no follow-up
    // to compare.
    let administered: HashSet<Uuid> = data.treatments.iter().map(|t| t.data.patient_id).collect();
    flow.apply(
        "Enrolled as treated, no administration recorded",
        &mut candidates,
        |c| c.treated,
        |c| !c.treated || administered.contains(&c.patient_id),
    );
    let treated_ids: HashSet<Uuid> = candidates
        .iter()
        .filter(|c| c.treated)
        .map(|c| c.patient_id)
        .collect();
    flow.apply(
        "Control also treated with the product",
        &mut candidates,
        |c| c.treated,
        |c| c.treated || !treated_ids.contains(&c.patient_id),
    );
    flow.apply(
        "Index date after the data cut",
        &mut candidates,
        |c| c.treated,
        |c| c.index <= data_cut,
    );

    let patients: HashMap<Uuid, &saisei_domain::Record<saisei_domain::registry::Patient>> =
        data.patients.iter().map(|p| (p.meta.id, p)).collect();
    flow.apply(
        "Patient record missing or withdrawn",
        &mut candidates,
        |c| c.treated,
        |c| patients.contains_key(&c.patient_id),
    );
    let el = &plan.control.eligibility;
    flow.apply(
        "Index date outside the eligibility window",
        &mut candidates,
        |c| c.treated,
        |c| el.index_from.is_none_or(|f| c.index >= f) && el.index_to.is_none_or(|t| c.index <= t),
    );
    let age_of = |c: &Candidate| {
        patients
            .get(&c.patient_id)
            .map(|p| p.data.birth_year_month.age_on(c.index))
            .unwrap_or(0)
    };
    flow.apply(
        "Age at the index date outside the eligible range",
        &mut candidates,
        |c| c.treated,
        |c| {
            let a = age_of(c);
            el.min_age.is_none_or(|m| a >= m as i32) && el.max_age.is_none_or(|m| a <= m as i32)
        },
    );
    if !el.sexes.is_empty() {
        flow.apply(
            "Sex not eligible",
            &mut candidates,
            |c| c.treated,
            |c| {
                patients
                    .get(&c.patient_id)
                    .is_some_and(|p| el.sexes.contains(&p.data.sex))
            },
        );
    }
    let site_of = |id: &Uuid| {
        patients
            .get(id)
            .map(|p| p.data.institution_id)
            .unwrap_or_default()
    };
    if el.same_sites_only {
        let product_sites: HashSet<Uuid> = candidates
            .iter()
            .filter(|c| c.treated)
            .map(|c| site_of(&c.patient_id))
            .collect();
        flow.apply(
            "Control at a site that does not use the product",
            &mut candidates,
            |c| c.treated,
            |c| c.treated || product_sites.contains(&site_of(&c.patient_id)),
        );
    }
    let withdrawn: HashSet<Uuid> = data
        .consents
        .iter()
        .filter(|c| {
            matches!(
                c.data.scope,
                ConsentScope::Registry | ConsentScope::SecondaryResearch
            )
        })
        .filter(|c| c.data.withdrawn_on.is_some_and(|w| w <= data_cut))
        .map(|c| c.data.patient_id)
        .collect();
    flow.apply(
        "Consent to registry or research use withdrawn",
        &mut candidates,
        |c| c.treated,
        |c| !withdrawn.contains(&c.patient_id),
    );

    // Records by patient.
    let mut obs_of: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (i, o) in data.observations.iter().enumerate() {
        if o.data.observed_on <= data_cut {
            obs_of.entry(o.data.patient_id).or_default().push(i);
        }
    }
    let mut ae_of: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (i, e) in data.adverse_events.iter().enumerate() {
        if e.data.onset_on <= data_cut {
            ae_of.entry(e.data.patient_id).or_default().push(i);
        }
    }
    let mut contact: HashMap<Uuid, Date> = HashMap::new();
    let mut touch = |p: Uuid, d: Date| {
        if d <= data_cut {
            let e = contact.entry(p).or_insert(d);
            *e = (*e).max(d);
        }
    };
    for o in &data.observations {
        touch(o.data.patient_id, o.data.observed_on);
    }
    for v in &data.visits {
        if let Some(d) = v.data.done_on {
            touch(v.data.patient_id, d);
        }
    }
    for e in &data.adverse_events {
        touch(
            e.data.patient_id,
            e.data.known_on.min(data_cut).max(e.data.onset_on),
        );
    }
    for t in &data.treatments {
        touch(t.data.patient_id, t.data.administered_on);
    }

    // Baselines.
    let visit_labels: HashMap<Uuid, String> = data
        .visits
        .iter()
        .map(|v| (v.meta.id, v.data.label.to_string()))
        .collect();
    let codes = plan.baseline_codes();
    let window = el.baseline_window();
    let mut subjects: Vec<Subject> = candidates
        .iter()
        .filter_map(|c| {
            let p = patients.get(&c.patient_id)?;
            let observations = obs_of.get(&c.patient_id).cloned().unwrap_or_default();
            let refs: Vec<ObservationRef<'_>> = observations
                .iter()
                .map(|&i| ObservationRef {
                    id: data.observations[i].meta.id,
                    observation: &data.observations[i].data,
                    visit_label: None,
                })
                .collect();
            let baselines = codes
                .iter()
                .filter_map(|code| {
                    baseline_value(&refs, code.as_str(), c.index, window)
                        .map(|v| (code.to_string(), v))
                })
                .collect();
            Some(Subject {
                patient_id: c.patient_id,
                treated: c.treated,
                site_id: p.data.institution_id,
                index_date: c.index,
                age: f64::from(p.data.birth_year_month.age_on(c.index)),
                female: p.data.sex == Sex::Female,
                baselines,
                last_contact: contact
                    .get(&c.patient_id)
                    .copied()
                    .unwrap_or(c.index)
                    .max(c.index),
                lots: lots_of
                    .get(&c.patient_id)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default(),
                observations,
                adverse_events: ae_of.get(&c.patient_id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    for code in &codes {
        flow.apply(
            &format!("No baseline {code} within {window} days before the index date"),
            &mut subjects,
            |s| s.treated,
            |s| s.baselines.contains_key(code.as_str()),
        );
    }
    subjects.sort_by_key(|s| (!s.treated, s.patient_id));

    let site_names = data
        .sites
        .iter()
        .map(|o| (o.meta.id, o.data.name.to_string()))
        .collect();
    Cohort {
        subjects,
        flow: flow.steps,
        data_cut,
        visit_labels,
        site_names,
        data_hash: data_hash(data),
    }
}

/// SHA-256 over every record read: kind, id and version, in a fixed order, so the same
/// registry content gives the same hash and any change to a record read changes it.
pub fn data_hash(data: &RegistryData) -> String {
    let mut h = Sha256::new();
    let mut feed = |kind: &str, mut ids: Vec<(Uuid, i64)>| {
        ids.sort();
        for (id, v) in ids {
            h.update(format!("{kind} {id} {v}\n").as_bytes());
        }
    };
    macro_rules! each {
        ($($kind:literal => $field:ident),*) => {
            $(feed($kind, data.$field.iter().map(|r| (r.meta.id, r.meta.version)).collect());)*
        };
    }
    feed(
        "product",
        vec![(data.product.meta.id, data.product.meta.version)],
    );
    each!(
        "enrollment" => enrollments, "patient" => patients, "site" => sites,
        "treatment" => treatments, "visit" => visits, "observation" => observations,
        "adverse_event" => adverse_events, "consent" => consents, "lot" => lots,
        "unit" => units, "qc_result" => qc_results, "adjudication_task" => tasks,
        "adjudication_assessment" => assessments
    );
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
