//! Recording a treatment generates its follow-up visits in the same transaction. A
//! treatment with a product unit must pass the unit checks (lot released, unit usable and
//! unexpired, identity matching the patient, bedside check recorded), and its
//! administration is appended to the unit's custody log in the same transaction.

use super::quality::custody::{BedsideSteps, stage_administration};
use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::registry::{FollowUpSchedule, Treatment, Visit};

/// Stores a treatment and, when it names a schedule, the visits the schedule plans
/// from the administration date.
pub async fn record_treatment(
    store: &Store,
    actor: &AuditActor,
    treatment: Treatment,
) -> Result<(Record<Treatment>, Vec<Record<Visit>>), StoreError> {
    record_administration(store, actor, treatment, None).await
}

/// Stores a treatment as [`record_treatment`] does, with the ward's bedside steps
/// (thawing, the identity check) appended to the unit's log before its administration,
/// all in one commit.
pub async fn record_administration(
    store: &Store,
    actor: &AuditActor,
    mut treatment: Treatment,
    bedside: Option<&BedsideSteps>,
) -> Result<(Record<Treatment>, Vec<Record<Visit>>), StoreError> {
    let mut batch = Batch::new(actor);
    stage_administration(store, &mut batch, &mut treatment, bedside).await?;
    let planned = match treatment.schedule_id {
        Some(id) => {
            let schedule = store.find::<FollowUpSchedule>(id).await?.ok_or_else(|| {
                StoreError::invalid("schedule_id", format!("no follow_up_schedule with id {id}"))
            })?;
            batch.check(&schedule);
            schedule.data.plan_visits(treatment.administered_on)
        }
        None => Vec::new(),
    };
    let patient_id = treatment.patient_id;
    let record = batch.insert(treatment)?;
    let mut visits = Vec::with_capacity(planned.len());
    for p in planned {
        let label = p
            .label
            .parse()
            .map_err(|e: String| StoreError::invalid("schedule_id", e))?;
        visits.push(batch.insert(Visit {
            patient_id,
            treatment_id: Some(record.meta.id),
            label,
            due_on: p.due_on,
            window_opens_on: p.window_opens_on,
            window_closes_on: p.window_closes_on,
            done_on: None,
            not_done_reason: None,
        })?);
    }
    store.commit(batch).await?;
    Ok((record, visits))
}
