//! The demo's post-marketing evaluation: a plan for Regenecel-K (demo) structured on
//! the MHLW evaluation index, its endpoint events turned into adjudication tasks, and
//! two adjudicators' blinded assessments — mostly agreeing, some disagreeing and
//! settled by consensus, a few still awaiting the second adjudicator.
//!
//! Tasks come from the same code the API uses (`saisei-evidence`'s candidate events),
//! and assessments are written in batches with the committee's rules applied by
//! [`task_state`], so `saisei evaluate` on a demo registry reads adjudicated outcomes.

use crate::cohort::DATA_CUT;
use crate::scaffold::Scaffold;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, EvaluationPlan, EventDecision,
    EventSource, task_state,
};
use saisei_domain::text::{Code, Text};
use saisei_store::workflow::adjudication::new_tasks;
use saisei_store::workflow::evaluation::AnalysisError;
use saisei_store::{Batch, Store, StoreError};
use serde_json::json;

/// The demo's adjudication committee, named as the demo users sign in.
pub const ADJUDICATORS: [&str; 2] = ["adjudicator@demo.example", "adjudicator-b@demo.example"];

/// Tasks whose assessments are written per transaction.
const BATCH: usize = 400;

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::invalid("demo", e.to_string())
}

/// The plan, as a sponsor would file it.
fn plan(scaffold: &Scaffold) -> Result<EvaluationPlan, StoreError> {
    serde_json::from_value(json!({
        "product_id": scaffold.product.id(),
        "title": "Regenecel-K (demo) post-marketing approval-condition evaluation",
        "data_cut": DATA_CUT,
        "sample_size": {
            "target_treated": 150, "target_controls": 300,
            "assumptions": {"design": "two_proportions", "p_treated": 0.45, "p_control": 0.25,
                            "alpha": 0.05, "power": 0.9, "allocation": 0.5},
            "justification": "About 3,000 patients a year in Japan have knee osteoarthritis refractory to conservative care and are eligible; 150 treated patients are reachable within four years at three sites"
        },
        "sites": {"planned": 3, "justification": "The product is autologous and cultured at one facility in Kyoto; the three sites are within its transport range"},
        "endpoints": [
            {"key": "koos_response", "name": "KOOS pain response at 12 months", "role": "primary",
             "definition": {"type": "binary", "measure": {"code": "KOOS-pain", "visit_label": "M12", "change_from_baseline": true},
                            "direction": "at_least", "threshold": 10},
             "objectivity": "subjective",
             "objectivity_justification": "Pain is the symptom the product treats; KOOS is validated in Japanese and the 10-point threshold is the minimal clinically important difference",
             "assessed_by": "patient",
             "success": {"measure": "risk_difference", "statistic": "lower_limit", "comparator": "gt", "threshold": 0.1}},
            {"key": "koos_change", "name": "Change in KOOS pain at 12 months", "role": "secondary",
             "definition": {"type": "continuous", "measure": {"code": "KOOS-pain", "visit_label": "M12", "change_from_baseline": true}},
             "objectivity": "subjective",
             "objectivity_justification": "Patient-reported pain, as for the primary endpoint",
             "assessed_by": "patient",
             "success": {"measure": "mean_difference", "statistic": "lower_limit", "comparator": "gt", "threshold": 5}},
            {"key": "treatment_failure", "name": "Time to treatment failure", "role": "secondary",
             "definition": {"type": "time_to_event", "horizon_days": 1826, "events": [
                {"source": "observation_threshold", "code": "KOOS-pain", "change_from_baseline": true, "direction": "at_most", "threshold": -10},
                {"source": "adverse_event", "ctcae_terms": ["Joint infection"]}
             ]},
             "objectivity": "objective", "assessed_by": "central_committee", "adjudicated": true,
             "success": {"measure": "hazard_ratio", "statistic": "upper_limit", "comparator": "lt", "threshold": 1.0}},
            {"key": "serious_ae", "name": "Time to a serious adverse event", "role": "secondary",
             "definition": {"type": "time_to_event", "horizon_days": 1826, "events": [
                {"source": "adverse_event", "seriousness": ["death", "life_threatening", "hospitalisation", "disability"]}
             ]},
             "objectivity": "objective", "assessed_by": "independent_assessor",
             "success": {"measure": "hazard_ratio", "statistic": "upper_limit", "comparator": "lt", "threshold": 3.0}}
        ],
        "randomisation": {"randomised": false,
            "reason_not_randomised": "After conditional approval the product is used preferentially for refractory knee osteoarthritis; a concurrent untreated arm cannot be randomised"},
        "blinding": {"assessor_blinded": false,
            "reason_not_blinded": "Intra-articular injection of autologous cells cannot be masked from patients",
            "central_adjudication": true, "adjudicators": ADJUDICATORS},
        "control": {"source": "registry", "direction": "prospective",
            "source_justification": "Registry controls with the same disease and forms, enrolled prospectively over the same period at the product's sites and comparable orthopaedic centres",
            "eligibility": {"min_age": 40, "max_age": 90, "baseline_window_days": 60},
            "covariates": ["age", "sex", "baseline:KOOS-pain", "index_year"],
            "method": {"method": "matching", "ratio": 2, "caliper": 0.2}},
        "use_results_rationale": "Knee osteoarthritis is common and the product is used widely once approved; a use-results survey with prospective registry controls, matching on prognostic factors and central adjudication of failures gives evaluable evidence where a randomised trial is not feasible",
        "interim": {"looks": [0.5], "spending": "o_brien_fleming"},
        "quality_efficacy": {"endpoint": "koos_response", "fdr": 0.1}
    }))
    .map_err(invalid)
}

/// Writes the plan, its adjudication tasks and the committee's assessments.
pub async fn add(
    store: &Store,
    actor: &AuditActor,
    scaffold: &Scaffold,
    seed: u64,
) -> Result<(), StoreError> {
    let plan = store.create(actor, plan(scaffold)?).await?;
    let tasks = new_tasks(store, saisei_evidence::Engine, actor, &plan, DATA_CUT)
        .await
        .map_err(|e| match e {
            AnalysisError::Store(e) => e,
            other => StoreError::invalid("demo", other.to_string()),
        })?;
    assess(store, actor, &plan, tasks, seed).await
}

/// How the committee answers: genuine infections are confirmed; a worsening of pain is
/// confirmed as a failure when it is clear, and ambiguous ones split the adjudicators,
/// who then settle them by consensus. A few tasks still await the second adjudicator.
async fn assess(
    store: &Store,
    actor: &AuditActor,
    plan: &Record<EvaluationPlan>,
    tasks: Vec<Record<AdjudicationTask>>,
    seed: u64,
) -> Result<(), StoreError> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x00ad_1d1c_a7e5);
    let panel: Vec<Code> = ADJUDICATORS
        .iter()
        .map(|a| a.parse().map_err(invalid))
        .collect::<Result<_, _>>()?;
    for chunk in tasks.chunks(BATCH) {
        let mut batch = Batch::new(actor);
        batch.check(plan);
        for task in chunk {
            let clear = match task.data.source_kind {
                EventSource::AdverseEvent => true,
                EventSource::Observation => rng.random_bool(0.75),
            };
            let a = if clear || rng.random_bool(0.5) {
                EventDecision::Confirmed
            } else {
                EventDecision::Rejected
            };
            let b = if rng.random_bool(if clear { 0.95 } else { 0.6 }) {
                a
            } else {
                other(a)
            };
            let mut written: Vec<AdjudicationAssessment> = Vec::new();
            let comment = |d: EventDecision| -> Result<Option<Text>, StoreError> {
                Ok(Some(
                    match d {
                        EventDecision::Confirmed => {
                            "Meets the endpoint definition on the data shown"
                        }
                        EventDecision::Rejected => "Transient change; not a treatment failure",
                    }
                    .parse()
                    .map_err(invalid)?,
                ))
            };
            written.push(AdjudicationAssessment {
                task_id: task.id(),
                adjudicator: panel[0].clone(),
                round: AssessmentRound::Independent,
                decision: a,
                comment: comment(a)?,
            });
            // A few tasks have not reached the second adjudicator yet.
            let pending = rng.random_bool(0.04);
            if !pending {
                written.push(AdjudicationAssessment {
                    task_id: task.id(),
                    adjudicator: panel[1].clone(),
                    round: AssessmentRound::Independent,
                    decision: b,
                    comment: comment(b)?,
                });
                if a != b {
                    let settled = if task.data.source_kind == EventSource::AdverseEvent
                        || rng.random_bool(0.6)
                    {
                        EventDecision::Confirmed
                    } else {
                        EventDecision::Rejected
                    };
                    written.push(AdjudicationAssessment {
                        task_id: task.id(),
                        adjudicator: panel[0].clone(),
                        round: AssessmentRound::Consensus,
                        decision: settled,
                        comment: Some(
                            "Committee consensus after discussing the source documents"
                                .parse()
                                .map_err(invalid)?,
                        ),
                    });
                }
            }
            let refs: Vec<&AdjudicationAssessment> = written.iter().collect();
            let state = task_state(&panel, &refs);
            let mut next = task.data.clone();
            next.status = state.status;
            next.decision = state.decision;
            next.decided_by = state.decided_by;
            for w in written {
                batch.insert(w)?;
            }
            batch.update(
                task,
                next,
                AuditAction::Update,
                Some("adjudication assessments recorded".into()),
            )?;
        }
        store.commit(batch).await?;
    }
    Ok(())
}

fn other(d: EventDecision) -> EventDecision {
    match d {
        EventDecision::Confirmed => EventDecision::Rejected,
        EventDecision::Rejected => EventDecision::Confirmed,
    }
}
