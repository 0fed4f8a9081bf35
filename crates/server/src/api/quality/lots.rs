//! Lot endpoints beyond create/read: conformance to the specification, and the
//! status decisions (quarantine, release, reject). A refused release is a 422 whose
//! `errors` list every blocker, one per unmet rule (the rule id as the field). Each
//! handler first checks that the lot is within the actor's reach (a lot of another
//! facility is "not found").

use crate::access::{Action, Actor, authorize, visible};
use crate::api::trust::SignatureInput;
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use saisei_domain::FieldError;
use saisei_domain::quality::records::Lot;
use saisei_domain::quality::{ReleaseBlocker, ReleaseRefusal, RuleOutcome};
use saisei_store::workflow::quality::lots::{
    self, LotDecision, LotDecisionError, LotDecisionRequest,
};
use serde_json::Value as JsonValue;

/// A refused release as a problem: one field error per blocker.
pub fn refusal_problem(refusal: &ReleaseRefusal) -> ApiError {
    let errors = refusal
        .blockers
        .iter()
        .map(|b| match b {
            ReleaseBlocker::LotNotQuarantined { status } => FieldError::new(
                "status",
                format!("the lot is {status}; only a quarantined lot can be released"),
            ),
            ReleaseBlocker::RuleNotMet {
                rule_id,
                outcome,
                explanation,
                ineffective_deviations,
            } => {
                let word = match outcome {
                    RuleOutcome::Fail => "fails",
                    RuleOutcome::Missing => "is missing",
                    RuleOutcome::Pass => "passes",
                };
                let mut problem = format!("{word}: {explanation}");
                if ineffective_deviations.is_empty() {
                    problem.push_str("; no approved deviation covers it");
                }
                for d in ineffective_deviations {
                    problem.push_str(&format!(
                        "; deviation {} does not count: {}",
                        d.reference, d.problem
                    ));
                }
                FieldError::new(rule_id.as_str(), problem)
            }
        })
        .collect();
    ApiError {
        code: Code::RuleViolation,
        detail: refusal.to_string(),
        errors,
        retry_after: None,
    }
}

fn decision_json(d: LotDecision) -> Json<JsonValue> {
    Json(serde_json::json!({ "lot": d.lot, "change": d.change, "units": d.units }))
}

/// `GET /api/v1/lots/{id}/conformance`: pass, fail or missing per rule, the deviations and
/// what would block a release today.
pub async fn get_conformance(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "lot")?;
    let id = parse_id(&id)?;
    visible::<Lot>(&state, &actor, id).await?;
    let conformance = lots::lot_conformance(&state.store, id).await?;
    Ok(Json(serde_json::to_value(conformance).unwrap_or_default()))
}

/// `POST /api/v1/lots/{id}/quarantine`.
pub async fn post_quarantine(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Update, "lot")?;
    let id = parse_id(&id)?;
    visible::<Lot>(&state, &actor, id).await?;
    let request: LotDecisionRequest = parse(body)?;
    let decision = lots::quarantine_lot(&state.store, &actor.audit(), id, request).await?;
    Ok(decision_json(decision))
}

/// Body of `POST /api/v1/lots/{id}/release`: the decision, signed by the QA manager.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotReleaseRequest {
    /// The decision date.
    pub on: time::Date,
    /// Who decides (a QA manager).
    pub decided_by: saisei_domain::quality::Approver,
    /// A note on the release.
    #[serde(default)]
    pub reason: Option<saisei_domain::text::Text>,
    /// The lot version read.
    pub version: i64,
    /// The QA manager's electronic signature (password and code) over the lot as released.
    pub signature: SignatureInput,
}

/// `POST /api/v1/lots/{id}/release`: refused with every blocker unless each failing or
/// missing rule is covered by a QA-approved deviation. The QA manager signs the release
/// (`"signature": {"password", "code"}` in the body), bound to the lot as released.
pub async fn post_release(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Update, "lot")?;
    let id = parse_id(&id)?;
    visible::<Lot>(&state, &actor, id).await?;
    let release: LotReleaseRequest = parse(body)?;
    let request = LotDecisionRequest {
        on: release.on,
        decided_by: release.decided_by,
        reason: release.reason,
        version: release.version,
    };
    let (decision, signed) = lots::release_signed(
        &state.store,
        &state.credential_check(actor.address),
        release.signature.signer(&actor),
        id,
        request,
    )
    .await
    .map_err(|e| match e {
        LotDecisionError::Refused(refusal) => refusal_problem(&refusal),
        LotDecisionError::NotAllowed => ApiError::new(Code::Forbidden, e.to_string()),
        LotDecisionError::Signing(s) => crate::api::trust::signing_problem(s),
        LotDecisionError::Store(e) => e.into(),
    })?;
    let mut out = decision_json(decision);
    out.0["signature"] = serde_json::to_value(&signed).unwrap_or_default();
    Ok(out)
}

/// `POST /api/v1/lots/{id}/reject`.
pub async fn post_reject(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Update, "lot")?;
    let id = parse_id(&id)?;
    visible::<Lot>(&state, &actor, id).await?;
    let request: LotDecisionRequest = parse(body)?;
    let decision = lots::reject_lot(&state.store, &actor.audit(), id, request).await?;
    Ok(decision_json(decision))
}
