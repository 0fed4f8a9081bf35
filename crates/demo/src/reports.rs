//! The demo's paperwork: periodic reports filed for past periods, mostly on time.

use crate::cohort::DATA_CUT;
use crate::scaffold::Scaffold;
use rand::RngExt;
use rand::rngs::StdRng;
use saisei_domain::audit::AuditActor;
use saisei_domain::regulation::{RuleBook, periodic_periods_due};
use saisei_store::workflow::reports::{PlanReportData, filed_report};
use saisei_store::{Batch, Store, StoreError};
use time::Duration;

/// Files the periodic reports owed by the data cut: most a few weeks before their
/// deadline, some late, and the most recent one of a few plans not yet — always of the
/// first plan that owes any, so the demo's physician has a report to sign.
pub async fn file_reports(
    store: &Store,
    actor: &AuditActor,
    rules: &RuleBook,
    scaffold: &Scaffold,
    rng: &mut StdRng,
) -> Result<(), StoreError> {
    let mut one_left_open = false;
    for plan in &scaffold.plans {
        let record = &plan.record;
        let Some(filed_on) = record.data.filed_on else {
            continue;
        };
        let set = rules
            .in_force_on(filed_on)
            .map_err(|e| StoreError::invalid("demo", e.to_string()))?;
        let due = periodic_periods_due(set, filed_on, record.data.ended_on, DATA_CUT)
            .map_err(|e| StoreError::invalid("demo", e.to_string()))?;
        if due.is_empty() {
            continue;
        }
        let data = PlanReportData::load(store, record).await?;
        let mut batch = Batch::new(actor);
        let last = due.len() - 1;
        for (i, d) in due.iter().enumerate() {
            let Some(period) = d.period else { continue };
            let roll: f64 = rng.random_range(0.0..1.0);
            if i == last && (roll < 0.3 || !one_left_open) {
                one_left_open = true;
                continue;
            }
            let submitted = if roll < 0.9 {
                d.due_on - Duration::days(rng.random_range(3..60))
            } else {
                d.due_on + Duration::days(rng.random_range(1..45))
            };
            let submitted = submitted.max(period.end + Duration::days(1));
            if submitted > DATA_CUT {
                continue;
            }
            let content = data.compile(rules, period.number)?;
            batch.insert(filed_report(&content, submitted)?)?;
        }
        store.commit(batch).await?;
    }
    Ok(())
}
