//! Periodic reports (定期報告): what the registry says about one plan and one reporting
//! period, compiled from the records, and the filed snapshot of it.
//!
//! Compilation is pure: the store gathers the plan's treatments, patients, visits,
//! observations and adverse events; [`compile`] turns them into the report. A report is
//! due even when nobody was treated — it then says so.

use super::adverse_event::{AdverseEvent, AeOutcome, SeriousnessCriterion};
use super::followup::{Visit, VisitStatus};
use super::observation::Observation;
use super::patient::{Patient, Sex};
use super::plan::{Plan, PlanStatus};
use super::treatment::Treatment;
use crate::Record;
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::regulation::{Deadline, RiskClass};
use crate::text::Code;
use crate::wire_name as wire;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::Date;
use uuid::Uuid;

/// The plan as the report presents it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportPlan {
    /// Plan id.
    pub id: Uuid,
    /// Plan number.
    pub plan_number: String,
    /// Title.
    pub title: String,
    /// Risk class.
    pub risk_class: RiskClass,
    /// Status at compilation.
    pub status: PlanStatus,
    /// Providing institution.
    pub institution: String,
    /// Reviewing committee.
    pub committee: String,
    /// Disease treated.
    pub target_disease: String,
    /// Filing date (periods count from here).
    pub filed_on: Option<Date>,
    /// Scientific validity: expected efficacy.
    pub expected_efficacy: Option<String>,
    /// Scientific validity: evaluation method.
    pub evaluation_method: Option<String>,
}

/// Adverse events in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AeSummary {
    /// Events the institution learned of in the period.
    pub total: usize,
    /// Of which serious.
    pub serious: usize,
    /// Count per seriousness criterion (`non_serious` for events with none).
    pub by_seriousness: BTreeMap<String, usize>,
    /// Count per outcome.
    pub by_outcome: BTreeMap<String, usize>,
    /// Every serious event, one line each.
    pub serious_events: Vec<SeriousEventLine>,
}

/// One serious adverse event as listed in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeriousEventLine {
    /// The event's id.
    pub id: Uuid,
    /// First 12 characters of the patient's pseudonym (enough to find the case, not to
    /// identify anyone).
    pub patient: String,
    /// Verbatim term.
    pub term: String,
    /// CTCAE grade.
    pub grade: Option<u8>,
    /// Seriousness criteria.
    pub seriousness: Vec<SeriousnessCriterion>,
    /// Onset.
    pub onset_on: Date,
    /// When the institution learned of it.
    pub known_on: Date,
    /// Outcome.
    pub outcome: AeOutcome,
    /// When it was reported, if it was.
    pub reported_on: Option<Date>,
}

/// Follow-up completeness for visits whose window closed in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowUpSummary {
    /// Visits whose window closed in the period.
    pub due: usize,
    /// Of which done.
    pub done: usize,
    /// Of which missed.
    pub missed: usize,
    /// Done ÷ due, when any were due.
    pub completeness: Option<f64>,
}

/// An outcome measure over the plan's patients up to the period end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MeasureSummary {
    /// Observation code.
    pub code: String,
    /// Unit.
    pub unit: Option<String>,
    /// Patients with at least one value.
    pub patients: usize,
    /// Mean of each patient's first value.
    pub baseline_mean: Option<f64>,
    /// Mean of each patient's latest value up to the period end.
    pub latest_mean: Option<f64>,
    /// Mean within-patient change (latest − first) among patients with two or more values.
    pub mean_change: Option<f64>,
    /// Patients contributing to the change.
    pub patients_with_change: usize,
}

/// The compiled report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PeriodicReportContent {
    /// The plan.
    pub plan: ReportPlan,
    /// Period number (from 1).
    pub period_number: u32,
    /// First day of the period.
    pub period_start: Date,
    /// Last day of the period.
    pub period_end: Date,
    /// When the report is due.
    pub due_on: Date,
    /// The rule set that set the deadline, and its provision.
    pub rule_set: String,
    /// The provision.
    pub citation: String,
    /// Distinct patients treated in the period.
    pub patients_treated: usize,
    /// Administrations in the period.
    pub administrations: usize,
    /// Distinct patients treated from filing to the period end.
    pub cumulative_patients: usize,
    /// Patients treated in the period by sex.
    pub by_sex: BTreeMap<String, usize>,
    /// Patients treated in the period by age band at treatment.
    pub by_age_band: BTreeMap<String, usize>,
    /// Adverse events learned of in the period.
    pub adverse_events: AeSummary,
    /// Follow-up completeness.
    pub follow_up: FollowUpSummary,
    /// Efficacy measures recorded (scientific-validity evaluation).
    pub efficacy: Vec<MeasureSummary>,
    /// A sentence for the reader when nobody was treated.
    pub note: Option<String>,
}

/// What [`compile`] needs, gathered by the store.
pub struct ReportInput<'a> {
    /// The plan.
    pub plan: &'a Record<Plan>,
    /// Institution name.
    pub institution: &'a str,
    /// Committee name.
    pub committee: &'a str,
    /// The period's deadline (from the rule set).
    pub deadline: &'a Deadline,
    /// Every treatment under the plan.
    pub treatments: &'a [Record<Treatment>],
    /// The patients of those treatments.
    pub patients: &'a [Record<Patient>],
    /// Visits of those treatments.
    pub visits: &'a [Record<Visit>],
    /// Observations of those patients.
    pub observations: &'a [Record<Observation>],
    /// Adverse events of those patients.
    pub adverse_events: &'a [Record<AdverseEvent>],
}

fn age_band(age: i32) -> String {
    match age {
        i32::MIN..=19 => "<20".into(),
        20..=39 => "20-39".into(),
        40..=59 => "40-59".into(),
        60..=74 => "60-74".into(),
        _ => "75+".into(),
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// One measure's unit and each patient's dated values.
type MeasureSeries = (Option<String>, HashMap<Uuid, Vec<(Date, f64)>>);

/// Compiles the report for the period the deadline names.
pub fn compile(input: &ReportInput<'_>) -> Option<PeriodicReportContent> {
    let period = input.deadline.period?;
    let plan = &input.plan.data;
    let plan_treatments: HashSet<Uuid> = input.treatments.iter().map(|t| t.meta.id).collect();
    let patients: HashMap<Uuid, &Record<Patient>> =
        input.patients.iter().map(|p| (p.meta.id, p)).collect();

    let in_period: Vec<&Record<Treatment>> = input
        .treatments
        .iter()
        .filter(|t| period.contains(t.data.administered_on))
        .collect();
    let treated: HashSet<Uuid> = in_period.iter().map(|t| t.data.patient_id).collect();
    let cumulative: HashSet<Uuid> = input
        .treatments
        .iter()
        .filter(|t| t.data.administered_on <= period.end)
        .map(|t| t.data.patient_id)
        .collect();
    let first_treatment: HashMap<Uuid, Date> = in_period.iter().fold(HashMap::new(), |mut m, t| {
        let e = m.entry(t.data.patient_id).or_insert(t.data.administered_on);
        *e = (*e).min(t.data.administered_on);
        m
    });
    let mut by_sex = BTreeMap::new();
    let mut by_age_band = BTreeMap::new();
    for pid in &treated {
        if let Some(p) = patients.get(pid) {
            *by_sex.entry(wire(&p.data.sex)).or_insert(0) += 1;
            let on = first_treatment.get(pid).copied().unwrap_or(period.start);
            *by_age_band
                .entry(age_band(p.data.birth_year_month.age_on(on)))
                .or_insert(0) += 1;
        } else {
            *by_sex.entry(wire(&Sex::Unknown)).or_insert(0) += 1;
        }
    }

    let mut ae = AeSummary::default();
    for e in input.adverse_events.iter().filter(|e| {
        period.contains(e.data.known_on)
            && e.meta.withdrawn_at.is_none()
            && e.data
                .treatment_id
                .map(|t| plan_treatments.contains(&t))
                .unwrap_or(true)
    }) {
        ae.total += 1;
        if e.data.seriousness.is_empty() {
            *ae.by_seriousness.entry("non_serious".into()).or_insert(0) += 1;
        } else {
            ae.serious += 1;
            for c in &e.data.seriousness {
                *ae.by_seriousness.entry(wire(c)).or_insert(0) += 1;
            }
            ae.serious_events.push(SeriousEventLine {
                id: e.meta.id,
                patient: patients
                    .get(&e.data.patient_id)
                    .map(|p| p.data.pseudonym.as_str()[..12].to_string())
                    .unwrap_or_default(),
                term: e.data.verbatim_term.to_string(),
                grade: e.data.grade.map(|g| g.get()),
                seriousness: e.data.seriousness.clone(),
                onset_on: e.data.onset_on,
                known_on: e.data.known_on,
                outcome: e.data.outcome,
                reported_on: e.data.reported_on,
            });
        }
        *ae.by_outcome.entry(wire(&e.data.outcome)).or_insert(0) += 1;
    }
    ae.serious_events.sort_by_key(|l| (l.known_on, l.id));

    let mut fu = FollowUpSummary::default();
    for v in input.visits.iter().filter(|v| {
        period.contains(v.data.window_closes_on)
            && v.data
                .treatment_id
                .is_some_and(|t| plan_treatments.contains(&t))
    }) {
        fu.due += 1;
        match v.data.status(period.end) {
            VisitStatus::Done => fu.done += 1,
            _ => fu.missed += 1,
        }
    }
    fu.completeness = (fu.due > 0).then(|| fu.done as f64 / fu.due as f64);

    // Per measure: each patient's first value and latest value up to the period end.
    let mut series: BTreeMap<&str, MeasureSeries> = BTreeMap::new();
    for o in input
        .observations
        .iter()
        .filter(|o| o.data.observed_on <= period.end && cumulative.contains(&o.data.patient_id))
    {
        let Some(v) = o.data.value_number else {
            continue;
        };
        let entry = series
            .entry(o.data.code.as_str())
            .or_insert_with(|| (o.data.unit.as_ref().map(|u| u.to_string()), HashMap::new()));
        entry
            .1
            .entry(o.data.patient_id)
            .or_default()
            .push((o.data.observed_on, v));
    }
    let efficacy = series
        .into_iter()
        .map(|(code, (unit, by_patient))| {
            let mut firsts = Vec::new();
            let mut lasts = Vec::new();
            let mut changes = Vec::new();
            for mut values in by_patient.into_values() {
                values.sort_by_key(|(d, _)| *d);
                let (first, last) = (values[0].1, values[values.len() - 1].1);
                firsts.push(first);
                lasts.push(last);
                if values.len() > 1 {
                    changes.push(last - first);
                }
            }
            MeasureSummary {
                code: code.to_string(),
                unit,
                patients: firsts.len(),
                baseline_mean: mean(&firsts),
                latest_mean: mean(&lasts),
                mean_change: mean(&changes),
                patients_with_change: changes.len(),
            }
        })
        .collect();

    let note = treated.is_empty().then(|| {
        "No patient was treated under this plan in the period; the report is due all the same."
            .to_string()
    });
    Some(PeriodicReportContent {
        plan: ReportPlan {
            id: input.plan.meta.id,
            plan_number: plan.plan_number.to_string(),
            title: plan.title.to_string(),
            risk_class: plan.risk_class,
            status: plan.status,
            institution: input.institution.to_string(),
            committee: input.committee.to_string(),
            target_disease: plan.target_disease.to_string(),
            filed_on: plan.filed_on,
            expected_efficacy: plan.expected_efficacy.as_ref().map(|t| t.to_string()),
            evaluation_method: plan.evaluation_method.as_ref().map(|t| t.to_string()),
        },
        period_number: period.number,
        period_start: period.start,
        period_end: period.end,
        due_on: input.deadline.due_on,
        rule_set: input.deadline.rule_set.clone(),
        citation: input.deadline.citation.clone(),
        patients_treated: treated.len(),
        administrations: in_period.len(),
        cumulative_patients: cumulative.len(),
        by_sex,
        by_age_band,
        adverse_events: ae,
        follow_up: fu,
        efficacy,
        note,
    })
}

/// A periodic report as filed: the compiled content frozen, with its hash, so later
/// changes to the registry cannot silently change what was submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodicReport {
    /// The plan.
    pub plan_id: Uuid,
    /// Period number.
    pub period_number: i64,
    /// First day of the period.
    pub period_start: Date,
    /// Last day of the period.
    pub period_end: Date,
    /// Deadline.
    pub due_on: Date,
    /// When it was submitted.
    pub submitted_on: Date,
    /// The rule set the deadline came from.
    pub rule_set: Code,
    /// The compiled content as submitted.
    pub content: serde_json::Value,
    /// SHA-256 of the content's canonical encoding.
    pub content_hash: String,
}

impl Validate for PeriodicReport {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("submitted_on", self.submitted_on, &mut errors);
        if self.period_number < 1 {
            errors.push("period_number", "periods are numbered from 1");
        }
        if crate::audit::content_hash(&self.content) != self.content_hash {
            errors.push("content_hash", "does not match the content");
        }
        if self.submitted_on < self.period_end {
            errors.push(
                "submitted_on",
                format!(
                    "a report cannot be submitted before its period ends ({})",
                    self.period_end
                ),
            );
        }
        errors.into_result()
    }
}

impl Entity for PeriodicReport {
    const KIND: &'static str = "periodic_report";
    const READ_ONLY: &'static [&'static str] = &["content", "content_hash"];
}
