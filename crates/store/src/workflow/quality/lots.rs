//! Lots: registration against the specification catalogue, QC results and deviations,
//! conformance, and the status decisions (quarantine, release, rejection).
//!
//! Adding a QC result or a deviation updates the lot (its `evidence_revision`), and every
//! status decision updates the lot naming the version it read. So a release decided on
//! evidence that changed before the decision committed fails with a conflict instead of
//! releasing a lot on results nobody looked at. A release or rejection is also recorded
//! in the custody log of each of the lot's units that has one.

use super::custody::UnitLog;
use super::{by, catalogue, event_time};
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::workflow::auth::{
    CredentialCheck, Signer, SigningError, SigningRequest, actor_of, sign,
};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::auth::duties::may_release_lot;
use saisei_domain::auth::{Signature, SignatureMeaning, User};
use saisei_domain::dates::today_jst;
use saisei_domain::quality::records::{
    CoveredDeviation, Lot, LotDeviation, LotQcResult, LotStatusChange, ProductUnit,
};
use saisei_domain::quality::{
    Approver, Conformance, CustodyAction, CustodyEvent, LotStatus, Party, QualityRole,
    ReleaseBlocker, ReleaseRefusal, ResolvedSpecification, UnitPhase, check_conformance,
    decide_release,
};
use saisei_domain::text::Text;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// The specification a lot names, resolved; unknown specifications are a problem with
/// the lot's `specification` field.
pub fn resolved_specification(lot: &Lot) -> Result<ResolvedSpecification, StoreError> {
    catalogue()?
        .resolve(lot.specification.key())
        .map_err(|e| StoreError::invalid("specification", e.to_string()))
}

/// Stores a new lot after checking that its specification is in the catalogue. Its
/// status starts at `in_process` (the status fields are set by workflows only).
pub async fn register_lot(
    store: &Store,
    actor: &AuditActor,
    mut lot: Lot,
) -> Result<Record<Lot>, StoreError> {
    resolved_specification(&lot)?;
    lot.status = LotStatus::InProcess;
    lot.status_changed_on = None;
    lot.evidence_revision = 0;
    store.create(actor, lot).await
}

/// Reads the lot a record points at, or names `lot_id`.
async fn lot_of(store: &Store, lot_id: Uuid) -> Result<Record<Lot>, StoreError> {
    store
        .find::<Lot>(lot_id)
        .await?
        .ok_or_else(|| StoreError::invalid("lot_id", format!("no lot with id {lot_id}")))
}

/// The lot with its evidence revision bumped, for the batch that adds evidence.
fn bumped(lot: &Record<Lot>) -> Lot {
    let mut data = lot.data.clone();
    data.evidence_revision = data.evidence_revision.saturating_add(1);
    data
}

/// Stores a QC result for a lot (results are evidence and are kept whatever the lot's
/// status: a retest of a retained sample after an adverse event belongs here too).
pub async fn record_qc_result(
    store: &Store,
    actor: &AuditActor,
    result: LotQcResult,
) -> Result<Record<LotQcResult>, StoreError> {
    let lot = lot_of(store, result.lot_id).await?;
    if result.tested_on < lot.data.manufactured_on {
        return Err(StoreError::invalid(
            "tested_on",
            format!(
                "is before the lot was manufactured ({})",
                lot.data.manufactured_on
            ),
        ));
    }
    let mut batch = Batch::new(actor);
    let record = batch.insert(result)?;
    batch.update(&lot, bumped(&lot), AuditAction::Update, None)?;
    store.commit(batch).await?;
    Ok(record)
}

/// Stores a deviation for a lot; each rule it names must be a rule of the lot's
/// specification.
pub async fn record_deviation(
    store: &Store,
    actor: &AuditActor,
    deviation: LotDeviation,
) -> Result<Record<LotDeviation>, StoreError> {
    let lot = lot_of(store, deviation.lot_id).await?;
    let spec = resolved_specification(&lot.data)?;
    for (i, rule) in deviation.rule_ids.iter().enumerate() {
        if spec.rule(rule).is_none() {
            return Err(StoreError::invalid(
                format!("rule_ids[{i}]"),
                format!("{rule} is not a rule of specification {}", spec.key()),
            ));
        }
    }
    let mut batch = Batch::new(actor);
    let record = batch.insert(deviation)?;
    batch.update(&lot, bumped(&lot), AuditAction::Update, None)?;
    store.commit(batch).await?;
    Ok(record)
}

/// A lot's conformance check against its specification, with what would block its release today.
#[derive(Debug, Clone, Serialize)]
pub struct LotConformance {
    /// The lot's id.
    pub lot_id: Uuid,
    /// Its number.
    pub lot_number: String,
    /// Its status.
    pub status: LotStatus,
    /// The lot version the conformance check was made on.
    pub version: i64,
    /// How many QC results were checked.
    pub results: usize,
    /// The conformance check: pass, fail or missing per rule, with explanations.
    pub conformance: Conformance,
    /// The deviations recorded for the lot.
    pub deviations: Vec<Record<LotDeviation>>,
    /// What would stop a release decided today (empty: it could be released).
    pub release_blockers: Vec<ReleaseBlocker>,
}

/// Everything a release decision looks at.
pub(super) struct Evidence {
    /// The lot's QC results.
    pub(super) results: Vec<Record<LotQcResult>>,
    /// Its deviations.
    pub(super) deviations: Vec<Record<LotDeviation>>,
    /// The results checked against its specification.
    pub(super) conformance: Conformance,
}

/// Reads a lot's results and deviations and checks them.
pub(super) async fn evidence(store: &Store, lot: &Record<Lot>) -> Result<Evidence, StoreError> {
    let spec = resolved_specification(&lot.data)
        .map_err(|e| StoreError::Corrupt(format!("lot {}: {e}", lot.id())))?;
    let results = store.all::<LotQcResult>(by("lot_id", lot.id())).await?;
    let deviations = store.all::<LotDeviation>(by("lot_id", lot.id())).await?;
    let plain: Vec<_> = results.iter().map(|r| r.data.result()).collect();
    let conformance = check_conformance(&spec, &plain, &lot.data.evaluation_context);
    Ok(Evidence {
        results,
        deviations,
        conformance,
    })
}

fn decide(
    lot: &Record<Lot>,
    evidence: &Evidence,
    on: Date,
) -> Result<saisei_domain::quality::ReleaseApproval, ReleaseRefusal> {
    let deviations: Vec<_> = evidence
        .deviations
        .iter()
        .map(|d| d.data.deviation(&lot.data.lot_number))
        .collect();
    decide_release(
        &lot.data.lot_number,
        lot.data.status,
        &evidence.conformance,
        &deviations,
        on,
    )
}

/// Evaluates a lot's QC results against its specification.
pub async fn lot_conformance(store: &Store, lot_id: Uuid) -> Result<LotConformance, StoreError> {
    let lot = store.get::<Lot>(lot_id).await?;
    let evidence = evidence(store, &lot).await?;
    let today = today_jst(crate::store::now());
    let release_blockers = match decide(&lot, &evidence, today) {
        Ok(_) => Vec::new(),
        Err(refusal) => refusal.blockers,
    };
    Ok(LotConformance {
        lot_id,
        lot_number: lot.data.lot_number.to_string(),
        status: lot.data.status,
        version: lot.meta.version,
        results: evidence.results.len(),
        conformance: evidence.conformance,
        deviations: evidence.deviations,
        release_blockers,
    })
}

/// A status decision on a lot.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotDecisionRequest {
    /// The decision date.
    pub on: Date,
    /// Who decides (release and rejection: a QA manager).
    pub decided_by: Approver,
    /// Why (required for quarantine and rejection).
    #[serde(default)]
    pub reason: Option<Text>,
    /// The lot version read.
    pub version: i64,
}

/// Why a status decision did not go through.
#[derive(Debug, thiserror::Error)]
pub enum LotDecisionError {
    /// The request or the store refused it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Release refused: the blockers.
    #[error(transparent)]
    Refused(#[from] ReleaseRefusal),
    /// The decider's role may not take this decision.
    #[error("a lot is released by a QA manager")]
    NotAllowed,
    /// The signature was refused.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// A status decision taken: the lot after it, the decision record, and the units whose
/// custody logs recorded it.
#[derive(Debug, Clone, Serialize)]
pub struct LotDecision {
    /// The lot after the decision.
    pub lot: Record<Lot>,
    /// The decision record.
    pub change: Record<LotStatusChange>,
    /// The units whose custody log got the decision (released or rejected).
    pub units: Vec<Uuid>,
}

/// The checks every decision shares: current version, a date not before the lot's
/// history, and (for release and rejection) a QA manager deciding.
fn check_request(
    lot: &Record<Lot>,
    request: &LotDecisionRequest,
    needs_qa: bool,
) -> Result<(), StoreError> {
    if lot.meta.version != request.version {
        return Err(StoreError::Conflict {
            entity: "lot",
            id: lot.id(),
            expected: request.version,
            current: lot.meta.version,
        });
    }
    if needs_qa && request.decided_by.role != QualityRole::QaManager {
        return Err(StoreError::invalid(
            "decided_by.role",
            "release and rejection are decided by a QA manager",
        ));
    }
    let earliest = lot
        .data
        .status_changed_on
        .unwrap_or(lot.data.manufactured_on)
        .max(lot.data.manufactured_on);
    if request.on < earliest {
        return Err(StoreError::invalid(
            "on",
            format!(
                "must not be before the lot's previous status change or manufacture ({earliest})"
            ),
        ));
    }
    Ok(())
}

/// Stages the lot's new status and the decision record.
fn stage_status(
    batch: &mut Batch,
    lot: &Record<Lot>,
    to: LotStatus,
    request: &LotDecisionRequest,
    conformance: Option<&Conformance>,
    covered: Vec<CoveredDeviation>,
) -> Result<(Record<Lot>, Record<LotStatusChange>), StoreError> {
    let change = batch.insert(LotStatusChange {
        lot_id: lot.id(),
        from_status: lot.data.status,
        to_status: to,
        on: request.on,
        decided_by: request.decided_by.clone(),
        reason: request.reason.clone(),
        evaluation_outcome: conformance.map(|e| e.outcome),
        covered,
    })?;
    let mut data = lot.data.clone();
    data.status = to;
    data.status_changed_on = Some(request.on);
    let record = batch.update(
        lot,
        data,
        AuditAction::Transition,
        Some(format!(
            "{} → {}{}",
            lot.data.status,
            to,
            request
                .reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )),
    )?;
    Ok((record, change))
}

/// Records `action` on every unit of the lot whose log has started, is not finished and
/// for which `wanted` says so.
async fn stage_on_units(
    store: &Store,
    batch: &mut Batch,
    lot: &Record<Lot>,
    request: &LotDecisionRequest,
    action: CustodyAction,
    wanted: impl Fn(&UnitLog) -> bool,
) -> Result<Vec<Uuid>, StoreError> {
    let units = store.all::<ProductUnit>(by("lot_id", lot.id())).await?;
    let by_party = Party {
        organisation_id: lot.data.facility_id,
        person: request.decided_by.person.clone(),
    };
    let mut touched = Vec::new();
    for unit in units {
        let mut log = UnitLog::assemble(store, unit, lot.clone()).await?;
        if log.events.is_empty()
            || matches!(
                log.state.phase(),
                UnitPhase::Administered | UnitPhase::Destroyed
            )
            || !wanted(&log)
        {
            continue;
        }
        let at = event_time(request.on, log.last_event_at()).ok_or_else(|| {
            StoreError::invalid(
                "on",
                format!(
                    "is before the last event in unit {}'s custody log",
                    log.unit.data.unit_number
                ),
            )
        })?;
        let event = CustodyEvent {
            at,
            by: by_party.clone(),
            action: action.clone(),
        };
        log.stage(batch, event, |_| "on")?;
        batch.check(&log.unit);
        touched.push(log.unit.id());
    }
    Ok(touched)
}

/// Moves a lot to `quarantined` (from `in_process`, or back from `released`); a reason is
/// required. Units of a quarantined lot cannot be shipped or administered.
pub async fn quarantine_lot(
    store: &Store,
    actor: &AuditActor,
    lot_id: Uuid,
    request: LotDecisionRequest,
) -> Result<LotDecision, StoreError> {
    let lot = store.get::<Lot>(lot_id).await?;
    check_request(&lot, &request, false)?;
    lot.data
        .status
        .transition(LotStatus::Quarantined)
        .map_err(|e| StoreError::invalid("status", e.to_string()))?;
    if request.reason.is_none() {
        return Err(StoreError::invalid(
            "reason",
            "is required to quarantine a lot",
        ));
    }
    let mut batch = Batch::new(actor);
    let (lot, change) = stage_status(
        &mut batch,
        &lot,
        LotStatus::Quarantined,
        &request,
        None,
        Vec::new(),
    )?;
    store.commit(batch).await?;
    Ok(LotDecision {
        lot,
        change,
        units: Vec::new(),
    })
}

/// Releases a quarantined lot when its conformance check passes, or when every failing or
/// missing rule is covered by a deviation a QA manager approved on or before the decision
/// date; otherwise [`LotDecisionError::Refused`] lists every blocker. The release is
/// recorded on each started unit log not yet released.
pub async fn release_lot(
    store: &Store,
    actor: &AuditActor,
    lot_id: Uuid,
    request: LotDecisionRequest,
) -> Result<LotDecision, LotDecisionError> {
    let mut batch = Batch::new(actor);
    let decision = prepare_release(store, lot_id, request, &mut batch).await?;
    store.commit(batch).await?;
    Ok(decision)
}

/// A QA manager releases a lot, signing the lot as released (meaning: approval) in the
/// same transaction: the one way people release lots, for the API and the pages alike.
/// Refused for any other role ([`saisei_domain::auth::duties::may_release_lot`]) and,
/// with every blocker, as [`release_lot`] refuses.
pub async fn release_signed(
    store: &Store,
    check: &CredentialCheck<'_>,
    signer: Signer,
    lot_id: Uuid,
    request: LotDecisionRequest,
) -> Result<(LotDecision, Record<Signature>), LotDecisionError> {
    let user = store.get::<User>(signer.user_id).await?;
    if !may_release_lot(user.data.role) {
        return Err(LotDecisionError::NotAllowed);
    }
    let mut batch = Batch::new(&actor_of(&user));
    let decision = prepare_release(store, lot_id, request, &mut batch).await?;
    let signature = sign(
        store,
        check,
        &mut batch,
        user.meta.id,
        &signer.credentials,
        SigningRequest {
            entity: "lot",
            entity_id: lot_id,
            entity_version: decision.lot.meta.version,
            content_hash: crate::store::content_hash_of(&decision.lot.data)?,
            meaning: SignatureMeaning::Approval,
            comment: signer.comment,
        },
    )
    .await?;
    store.commit(batch).await?;
    Ok((decision, signature))
}

/// Checks a release and stages it in `batch` (the caller commits, e.g. after adding
/// the QA manager's signature that must accompany it).
pub async fn prepare_release(
    store: &Store,
    lot_id: Uuid,
    request: LotDecisionRequest,
    batch: &mut Batch,
) -> Result<LotDecision, LotDecisionError> {
    let lot = store.get::<Lot>(lot_id).await?;
    check_request(&lot, &request, true)?;
    let evidence = evidence(store, &lot).await?;
    let approval = decide(&lot, &evidence, request.on)?;
    let covered = approval
        .covered
        .iter()
        .map(|c| CoveredDeviation {
            rule_id: c.rule_id.clone(),
            outcome: c.outcome,
            deviation: c.deviation.clone(),
        })
        .collect();
    let (updated, change) = stage_status(
        batch,
        &lot,
        approval.status(),
        &request,
        Some(&evidence.conformance),
        covered,
    )?;
    let units = stage_on_units(
        store,
        batch,
        &lot,
        &request,
        CustodyAction::Released { hold: None },
        |log| !log.state.is_released() && !log.state.is_rejected() && !log.state.is_recalled(),
    )
    .await?;
    Ok(LotDecision {
        lot: updated,
        change,
        units,
    })
}

/// Rejects a lot (final), with a reason, and records the rejection on each started unit
/// log.
pub async fn reject_lot(
    store: &Store,
    actor: &AuditActor,
    lot_id: Uuid,
    request: LotDecisionRequest,
) -> Result<LotDecision, StoreError> {
    let lot = store.get::<Lot>(lot_id).await?;
    check_request(&lot, &request, true)?;
    lot.data
        .status
        .transition(LotStatus::Rejected)
        .map_err(|e| StoreError::invalid("status", e.to_string()))?;
    let reason = request
        .reason
        .clone()
        .ok_or_else(|| StoreError::invalid("reason", "is required to reject a lot"))?;
    let mut batch = Batch::new(actor);
    let (updated, change) = stage_status(
        &mut batch,
        &lot,
        LotStatus::Rejected,
        &request,
        None,
        Vec::new(),
    )?;
    let units = stage_on_units(
        store,
        &mut batch,
        &lot,
        &request,
        CustodyAction::Rejected { reason },
        |log| !log.state.is_rejected(),
    )
    .await?;
    store.commit(batch).await?;
    Ok(LotDecision {
        lot: updated,
        change,
        units,
    })
}
