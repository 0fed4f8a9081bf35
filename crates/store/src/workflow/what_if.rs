//! What a rule set would do to every plan on file.

use crate::error::StoreError;
use crate::store::Store;
use saisei_domain::registry::Plan;
use saisei_domain::regulation::{
    Classification, ClassificationResult, Reclassification, RuleSet, TransitionSummary, classify,
};
use serde::Serialize;
use uuid::Uuid;

/// A plan whose class would change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanChange {
    /// The plan.
    pub plan_id: Uuid,
    /// Its number.
    pub plan_number: String,
    /// Its title.
    pub title: String,
    /// The class it was filed under.
    pub old_class: Classification,
    /// The class under the compared rule set.
    pub new_class: Classification,
    /// Why, under the compared rule set.
    pub reasons: ClassificationResult,
}

/// The answer to "what if this rule set applied?".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhatIfReport {
    /// The rule set compared.
    pub rule_set: String,
    /// Its title.
    pub title: String,
    /// Plans whose class changes.
    pub changes: Vec<PlanChange>,
    /// Every plan's old → new class, counted.
    pub summary: TransitionSummary,
    /// Plans without a structured therapy description, which cannot be re-classified.
    pub not_described: Vec<String>,
}

/// Re-classifies every plan on file (not withdrawn) under `compared`; a plan's old class
/// is the class it was filed under.
pub async fn what_if(store: &Store, compared: &RuleSet) -> Result<WhatIfReport, StoreError> {
    let plans = store.all::<Plan>(vec![]).await?;
    let mut changes = Vec::new();
    let mut all = Vec::new();
    let mut not_described = Vec::new();
    for p in &plans {
        let Some(therapy) = &p.data.therapy else {
            not_described.push(p.data.plan_number.to_string());
            continue;
        };
        let after = classify(compared, therapy);
        let old = Classification::from(p.data.risk_class);
        let r = Reclassification {
            before: ClassificationResult {
                class: old,
                rule_set: "as filed".to_string(),
                reasons: Vec::new(),
            },
            after: after.clone(),
        };
        if r.changed() {
            changes.push(PlanChange {
                plan_id: p.meta.id,
                plan_number: p.data.plan_number.to_string(),
                title: p.data.title.to_string(),
                old_class: old,
                new_class: after.class,
                reasons: after,
            });
        }
        all.push(r);
    }
    Ok(WhatIfReport {
        rule_set: compared.id().to_string(),
        title: compared.title().to_string(),
        changes,
        summary: TransitionSummary::tally(&all),
        not_described,
    })
}
