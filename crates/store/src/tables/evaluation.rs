//! Post-marketing evaluation's tables: evaluation plans, central adjudication (tasks and
//! assessments) and stored analysis runs.

use crate::cols;
use crate::schema::{Reference, Stored, TableDef};
use crate::tables::registry::{PATIENTS, PRODUCTS};
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, EvaluationPlan, EvaluationRun,
};

/// Evaluation plans (製造販売後承認条件評価計画).
pub static EVALUATION_PLANS: TableDef = TableDef {
    name: "evaluation_plans",
    entity: "evaluation_plan",
    columns: cols!(
        product_id: Uuid,
        title: Text,
        data_cut: Date,
        sample_size: Json,
        sites: Json,
        endpoints: Json,
        randomisation: Json,
        blinding: Json,
        control: Json,
        use_results_rationale: Text,
        interim: Json,
        quality_efficacy: Json,
    ),
    unique: &[],
};

/// Adjudication tasks: one per candidate endpoint event.
pub static ADJUDICATION_TASKS: TableDef = TableDef {
    name: "adjudication_tasks",
    entity: "adjudication_task",
    columns: cols!(
        plan_id: Uuid,
        endpoint: Text,
        patient_id: Uuid,
        source_kind: Text,
        source_id: Uuid,
        task_code: Text,
        event: Json,
        status: Text,
        decision: Text,
        decided_by: Text,
    ),
    unique: &[
        ("adjudication_tasks_source_id_key", "source_id"),
        ("adjudication_tasks_task_code_key", "task_code"),
    ],
};

/// Adjudicators' assessments.
pub static ADJUDICATION_ASSESSMENTS: TableDef = TableDef {
    name: "adjudication_assessments",
    entity: "adjudication_assessment",
    columns: cols!(
        task_id: Uuid,
        adjudicator: Text,
        round: Text,
        decision: Text,
        comment: Text,
    ),
    unique: &[("adjudication_assessments_once_key", "adjudicator")],
};

/// Stored evaluation runs with their data snapshot.
pub static EVALUATION_RUNS: TableDef = TableDef {
    name: "evaluation_runs",
    entity: "evaluation_run",
    columns: cols!(
        plan_id: Uuid,
        plan_version: Int,
        as_of: Date,
        verdict: Text,
        snapshot: Json,
        results: Json,
        results_hash: Text,
    ),
    unique: &[],
};

/// The evaluation tables, in dependency order.
pub static TABLES: &[&TableDef] = &[
    &EVALUATION_PLANS,
    &ADJUDICATION_TASKS,
    &ADJUDICATION_ASSESSMENTS,
    &EVALUATION_RUNS,
];

impl Stored for EvaluationPlan {
    const TABLE: &'static TableDef = &EVALUATION_PLANS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("product_id", self.product_id, &PRODUCTS)]
    }
}

impl Stored for AdjudicationTask {
    const TABLE: &'static TableDef = &ADJUDICATION_TASKS;
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::to("plan_id", self.plan_id, &EVALUATION_PLANS),
            Reference::to("patient_id", self.patient_id, &PATIENTS),
        ]
    }
}

impl Stored for AdjudicationAssessment {
    const TABLE: &'static TableDef = &ADJUDICATION_ASSESSMENTS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("task_id", self.task_id, &ADJUDICATION_TASKS)]
    }
}

impl Stored for EvaluationRun {
    const TABLE: &'static TableDef = &EVALUATION_RUNS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("plan_id", self.plan_id, &EVALUATION_PLANS)]
    }
}
