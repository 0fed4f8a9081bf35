//! Post-marketing evaluation's tables: evaluation plans, central adjudication (tasks and
//! assessments) and stored analysis runs.

use crate::schema::{AccessClass, Api, KindDecl, Reference, Stored, TableRef};
use crate::tables::registry::{PATIENTS, PRODUCTS};
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, EvaluationPlan, EvaluationRun,
};

pub static EVALUATION_PLANS: TableRef<EvaluationPlan> = TableRef::new();

impl Stored for EvaluationPlan {
    const DECL: KindDecl = KindDecl {
        table: "evaluation_plans",
        class: AccessClass::EvaluationPlan,
        api: Some(Api {
            path: "evaluation-plans",
            tag: "evaluation",
            writable: true,
            immutable: &["product_id"],
        }),
        unique: &[],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("product_id", self.product_id, &PRODUCTS)]
    }
}

pub static ADJUDICATION_TASKS: TableRef<AdjudicationTask> = TableRef::new();

impl Stored for AdjudicationTask {
    const DECL: KindDecl = KindDecl {
        table: "adjudication_tasks",
        class: AccessClass::EvaluationRecord,
        api: None,
        unique: &[
            ("adjudication_tasks_source_id_key", "source_id"),
            ("adjudication_tasks_task_code_key", "task_code"),
        ],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::to("plan_id", self.plan_id, &EVALUATION_PLANS),
            Reference::to("patient_id", self.patient_id, &PATIENTS),
        ]
    }
}

pub static ADJUDICATION_ASSESSMENTS: TableRef<AdjudicationAssessment> = TableRef::new();

impl Stored for AdjudicationAssessment {
    const DECL: KindDecl = KindDecl {
        table: "adjudication_assessments",
        class: AccessClass::Assessment,
        api: None,
        unique: &[("adjudication_assessments_once_key", "adjudicator")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("task_id", self.task_id, &ADJUDICATION_TASKS)]
    }
}

pub static EVALUATION_RUNS: TableRef<EvaluationRun> = TableRef::new();

impl Stored for EvaluationRun {
    const DECL: KindDecl = KindDecl {
        table: "evaluation_runs",
        class: AccessClass::EvaluationRecord,
        api: Some(Api {
            path: "evaluation-runs",
            tag: "evaluation",
            writable: false,
            immutable: &[],
        }),
        unique: &[],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("plan_id", self.plan_id, &EVALUATION_PLANS)]
    }
}
