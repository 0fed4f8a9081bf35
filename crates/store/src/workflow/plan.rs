//! Moving a provision plan through its lifecycle under the rules in force.
//!
//! A move is dated and attributed, never earlier than the plan's previous move, and
//! checked against the rule set in force on its date: the reviewing committee must be
//! of the kind the plan's class requires (at submission and acceptance), and a class 1
//! plan cannot become active before its waiting period from filing has passed.

use super::auth::{CredentialCheck, SignatureInput, SigningError, SigningRequest, actor_of, sign};
use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::auth::duties::{may_move_plan, signature_for_move};
use saisei_domain::auth::{Role, Signature, User};
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

/// A plan after a user's move: the plan, the transition record and the mover's
/// signature where the move needs one.
#[derive(Debug, Clone)]
pub struct Moved {
    /// The plan after the move.
    pub plan: Record<Plan>,
    /// The transition record.
    pub transition: Record<PlanTransition>,
    /// The mover's signature over the plan as moved (submission and acceptance).
    pub signature: Option<Record<Signature>>,
}

/// Why a user's move was refused.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The mover's role or organisation may not make this move.
    #[error("a {role} may not move this plan to {to}")]
    NotAllowed {
        /// The mover's role.
        role: Role,
        /// The status asked for.
        to: PlanStatus,
    },
    /// The signature was refused.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The move breaks a rule, is stale, or could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user moves a plan through its lifecycle: the one way people move plans, for the
/// API and the pages alike. The institution's physicians move their own plans and the
/// reviewing committee's members the plans submitted to it
/// ([`saisei_domain::auth::duties::may_move_plan`]); a submission or acceptance carries
/// the mover's electronic signature over the plan as moved, in the same transaction.
pub async fn move_plan(
    store: &Store,
    check: &CredentialCheck<'_>,
    rules: &RuleBook,
    mover_id: Uuid,
    signature: Option<SignatureInput>,
    plan_id: Uuid,
    request: TransitionRequest,
) -> Result<Moved, MoveError> {
    let user = store.get::<User>(mover_id).await?;
    let plan = store.get::<Plan>(plan_id).await?;
    let to = request.to;
    if !may_move_plan(user.data.role, user.data.organisation_id, &plan.data, to) {
        return Err(MoveError::NotAllowed {
            role: user.data.role,
            to,
        });
    }
    // The mover is the acting user: the audit trail names them.
    let actor = actor_of(&user);
    let mut batch = Batch::new(&actor);
    let (plan, transition) =
        prepare_transition(store, &actor, rules, plan_id, request, &mut batch).await?;
    let signature = match signature_for_move(to) {
        None => None,
        Some(meaning) => {
            let input = signature.ok_or_else(|| {
                StoreError::invalid(
                    "signature",
                    format!(
                        "moving a plan to {to} needs your electronic signature (password and code)"
                    ),
                )
            })?;
            Some(
                sign(
                    store,
                    check,
                    &mut batch,
                    user.meta.id,
                    &input.credentials,
                    SigningRequest {
                        entity: "plan",
                        entity_id: plan.meta.id,
                        entity_version: plan.meta.version,
                        content_hash: crate::store::content_hash_of(&plan.data)?,
                        meaning,
                        comment: input.comment,
                    },
                )
                .await?,
            )
        }
    };
    store.commit(batch).await?;
    Ok(Moved {
        plan,
        transition,
        signature,
    })
}

/// Applies one lifecycle move for the system itself (the demo's history, imports): no
/// mover's role and no signature. People move plans with [`move_plan`].
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
        plan.data.ended_on,
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
        // Provision stops for good: periodic reports stop with it. A plan withdrawn before
        // filing never owed any, so only a filed one gets an end.
        PlanStatus::Ended | PlanStatus::Withdrawn
            if data.filed_on.is_some() && data.ended_on.is_none() =>
        {
            data.ended_on = Some(request.on);
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
