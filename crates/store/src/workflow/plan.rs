//! Moving a provision plan through its lifecycle under the rules in force.
//!
//! A move is dated and attributed, never earlier than the plan's previous move, and
//! checked against the rule set in force on its date: the reviewing committee must be
//! of the kind the plan's class requires (at submission and acceptance), and a class 1
//! plan cannot become active before its waiting period from filing has passed.

use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::registry::{Organisation, OrganisationKind, Plan, PlanStatus, PlanTransition};
use saisei_domain::regulation::{CommitteeKind, RuleBook, check_activation, check_committee};
use saisei_domain::text::Text;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

/// What a client asks for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The status to move to.
    pub to: PlanStatus,
    /// The date the move takes effect.
    pub on: Date,
    /// Why (required for suspension, withdrawal and returns to draft).
    #[serde(default)]
    pub reason: Option<Text>,
    /// The plan version the client read.
    pub version: i64,
}

/// The committee kind an organisation is, if it is a committee.
pub fn committee_kind(kind: OrganisationKind) -> Option<CommitteeKind> {
    match kind {
        OrganisationKind::CertifiedCommittee => Some(CommitteeKind::Certified),
        OrganisationKind::SpeciallyCertifiedCommittee => Some(CommitteeKind::SpeciallyCertified),
        _ => None,
    }
}

/// Applies one lifecycle move.
pub async fn transition_plan(
    store: &Store,
    actor: &AuditActor,
    rules: &RuleBook,
    plan_id: Uuid,
    request: TransitionRequest,
) -> Result<(Record<Plan>, Record<PlanTransition>), StoreError> {
    let mut batch = Batch::new(actor);
    let result = prepare_transition(store, actor, rules, plan_id, request, &mut batch).await?;
    store.commit(batch).await?;
    Ok(result)
}

/// Checks one lifecycle move and adds it to `batch` (the caller commits, e.g. after
/// adding the signature that must accompany it).
pub async fn prepare_transition(
    store: &Store,
    actor: &AuditActor,
    rules: &RuleBook,
    plan_id: Uuid,
    request: TransitionRequest,
    batch: &mut Batch,
) -> Result<(Record<Plan>, Record<PlanTransition>), StoreError> {
    let plan = store.get::<Plan>(plan_id).await?;
    if plan.meta.version != request.version {
        return Err(StoreError::Conflict {
            entity: "plan",
            id: plan_id,
            expected: request.version,
            current: plan.meta.version,
        });
    }
    let last = [
        plan.data.submitted_on,
        plan.data.filed_on,
        plan.data.activated_on,
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(last) = last
        && request.on < last
    {
        return Err(StoreError::invalid(
            "on",
            format!("must not be before the plan's previous move ({last})"),
        ));
    }
    let rule_set = rules.in_force_on(request.on).map_err(|e| {
        StoreError::invalid(
            "on",
            format!("no rule set of the Act applies on {}: {e}", request.on),
        )
    })?;
    let actor_name = actor
        .actor
        .parse()
        .map_err(|e: String| StoreError::invalid("actor", e))?;
    let transition = PlanTransition {
        plan_id,
        from_status: plan.data.status,
        to_status: request.to,
        on: request.on,
        actor: actor_name,
        reason: request.reason.clone(),
    };
    let mut data = plan.data.clone();
    match request.to {
        PlanStatus::Submitted | PlanStatus::Accepted => {
            let committee = store.get::<Organisation>(plan.data.committee_id).await?;
            let kind = committee_kind(committee.data.kind).ok_or_else(|| {
                StoreError::invalid(
                    "committee_id",
                    "the reviewing organisation is not a committee",
                )
            })?;
            check_committee(rule_set, plan.data.risk_class, kind)
                .map_err(|e| StoreError::invalid("committee_id", e.to_string()))?;
            batch.check(&committee);
            if request.to == PlanStatus::Submitted {
                data.submitted_on = Some(request.on);
            } else {
                data.filed_on = Some(request.on);
            }
        }
        PlanStatus::Active => {
            let filed_on = plan.data.filed_on.ok_or_else(|| {
                StoreError::invalid("to", "the plan has no filing date: accept it first")
            })?;
            let filing_rules = rules.in_force_on(filed_on).unwrap_or(rule_set);
            check_activation(filing_rules, plan.data.risk_class, filed_on, request.on)
                .map_err(|e| StoreError::invalid("on", e.to_string()))?;
            if data.activated_on.is_none() {
                data.activated_on = Some(request.on);
            }
        }
        _ => {}
    }
    data.status = request.to;
    let transition = batch.insert(transition)?;
    let plan = batch.update(
        &plan,
        data,
        AuditAction::Transition,
        request.reason.map(|r| r.to_string()),
    )?;
    Ok((plan, transition))
}
