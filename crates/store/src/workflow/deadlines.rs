//! What is due across the registry: periodic reports and adverse-event reports, per
//! institution, with their status on a given day.

use crate::backend::{Filter, FilterOp};
use crate::error::StoreError;
use crate::store::Store;
use crate::value::Value;
use saisei_domain::registry::*;
use saisei_domain::regulation::{
    AdverseEventFacts, DeadlineCategory, DeadlineStatus, RuleBook, adverse_event_deadline,
    periodic_periods_due,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use time::Date;
use uuid::Uuid;

/// One obligation with its deadline and where it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlineItem {
    /// `periodic_report` or `adverse_event`.
    pub kind: String,
    /// The deadline's category (`periodic_report`, `ae_death_or_possible_death`, …).
    pub category: DeadlineCategory,
    /// The plan concerned.
    pub plan_id: Uuid,
    /// Its number.
    pub plan_number: String,
    /// The adverse event, for AE reports.
    pub adverse_event_id: Option<Uuid>,
    /// The period number, for periodic reports.
    pub period: Option<u32>,
    /// What it is about, in words.
    pub description: String,
    /// The deadline.
    pub due_on: Date,
    /// due, overdue or done.
    pub status: DeadlineStatus,
    /// Days left (negative when overdue).
    pub days_remaining: i64,
    /// When it was done.
    pub done_on: Option<Date>,
    /// Whether it was done after the deadline.
    pub done_late: bool,
    /// The rule set and provision.
    pub rule_set: String,
    /// The provision.
    pub citation: String,
}

/// One institution's obligations.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstitutionDeadlines {
    /// The institution.
    pub institution_id: Uuid,
    /// Its name.
    pub institution: String,
    /// Obligations, overdue first, then by due date.
    pub items: Vec<DeadlineItem>,
}

/// Counts by status.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DeadlineTotals {
    /// Not yet due.
    pub due: usize,
    /// Past the deadline and not done.
    pub overdue: usize,
    /// Done.
    pub done: usize,
    /// Of the done, done late.
    pub done_late: usize,
}

/// Every obligation in the registry on a day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlineReport {
    /// The day the statuses are for.
    pub as_of: Date,
    /// Per institution.
    pub institutions: Vec<InstitutionDeadlines>,
    /// Totals.
    pub totals: DeadlineTotals,
    /// Adverse events with no deadline under the Act (not linked to a plan), counted.
    pub not_under_the_act: usize,
}

/// Which obligations to list.
#[derive(Debug, Clone, Default)]
pub struct DeadlineQuery {
    /// Only this status.
    pub status: Option<DeadlineStatus>,
    /// Only this institution.
    pub institution_id: Option<Uuid>,
}

/// Lists obligations and their status on `as_of`.
pub async fn deadlines(
    store: &Store,
    rules: &RuleBook,
    as_of: Date,
    query: &DeadlineQuery,
) -> Result<DeadlineReport, StoreError> {
    let mut plan_filters = vec![Filter::new("filed_on", FilterOp::NotNull, Value::Null)];
    if let Some(i) = query.institution_id {
        plan_filters.push(Filter::eq("institution_id", Value::Uuid(i)));
    }
    let plans = store.all::<Plan>(plan_filters).await?;
    let plan_by_id: HashMap<Uuid, &saisei_domain::Record<Plan>> =
        plans.iter().map(|p| (p.meta.id, p)).collect();
    let mut items: Vec<(Uuid, DeadlineItem)> = Vec::new();

    let plan_ids: Vec<Uuid> = plans.iter().map(|p| p.meta.id).collect();
    let filed = store
        .all_in::<PeriodicReport>("plan_id", &plan_ids, vec![])
        .await?;
    let filed_on: HashMap<(Uuid, i64), Date> = filed
        .iter()
        .map(|r| ((r.data.plan_id, r.data.period_number), r.data.submitted_on))
        .collect();
    for plan in &plans {
        let Some(filing) = plan.data.filed_on else {
            continue;
        };
        let Ok(set) = rules.in_force_on(filing) else {
            continue;
        };
        let due = periodic_periods_due(set, filing, as_of)
            .map_err(|e| StoreError::invalid("as_of", e.to_string()))?;
        for d in due {
            let Some(period) = d.period else { continue };
            let done = filed_on
                .get(&(plan.meta.id, i64::from(period.number)))
                .copied();
            let state = d.status(as_of, done);
            items.push((
                plan.data.institution_id,
                DeadlineItem {
                    kind: "periodic_report".into(),
                    category: d.category,
                    plan_id: plan.meta.id,
                    plan_number: plan.data.plan_number.to_string(),
                    adverse_event_id: None,
                    period: Some(period.number),
                    description: format!(
                        "periodic report, period {} ({} to {})",
                        period.number, period.start, period.end
                    ),
                    due_on: d.due_on,
                    status: state.status,
                    days_remaining: state.days_remaining,
                    done_on: state.done_on,
                    done_late: state.done_late,
                    rule_set: d.rule_set.clone(),
                    citation: d.citation.clone(),
                },
            ));
        }
    }

    // Adverse events known by `as_of`, linked to a plan through their treatment.
    let mut event_filters = vec![Filter::new("known_on", FilterOp::Lte, Value::Date(as_of))];
    if let Some(i) = query.institution_id {
        event_filters.push(Filter::eq(
            crate::ScopeColumn::PATIENT_INSTITUTION.column,
            Value::Uuid(i),
        ));
    }
    // Asked only for what is still open, leave out in the query the events reported by
    // `as_of` (their obligation is done): the worklist then costs what is open, not the
    // registry's history.
    if matches!(
        query.status,
        Some(DeadlineStatus::Due | DeadlineStatus::Overdue)
    ) {
        let after = as_of
            .next_day()
            .ok_or_else(|| StoreError::invalid("as_of", "is the last representable day"))?;
        event_filters.push(Filter::any(vec![
            vec![Filter::new("reported_on", FilterOp::IsNull, Value::Null)],
            vec![Filter::new(
                "reported_on",
                FilterOp::Gte,
                Value::Date(after),
            )],
        ]));
    }
    let events = store.all::<AdverseEvent>(event_filters).await?;
    let treatment_ids: Vec<Uuid> = events.iter().filter_map(|e| e.data.treatment_id).collect();
    let treatments: HashMap<Uuid, Option<Uuid>> = store
        .all_in::<Treatment>("id", &treatment_ids, vec![])
        .await?
        .into_iter()
        .map(|t| (t.meta.id, t.data.plan_id))
        .collect();
    let mut not_under_the_act = 0;
    for e in &events {
        let plan = e
            .data
            .treatment_id
            .and_then(|t| treatments.get(&t).copied().flatten())
            .and_then(|p| plan_by_id.get(&p));
        let Some(plan) = plan else {
            not_under_the_act += 1;
            continue;
        };
        let Ok(set) = rules.in_force_on(e.data.known_on) else {
            continue;
        };
        let facts = AdverseEventFacts {
            death_or_possible_death: e.data.death_or_possible_death(),
            serious: e.data.is_serious(),
            known_on: e.data.known_on,
            cycle_anchor: plan.data.filed_on,
        };
        let Ok(d) = adverse_event_deadline(set, &facts) else {
            continue;
        };
        let state = d.status(as_of, e.data.reported_on);
        items.push((
            plan.data.institution_id,
            DeadlineItem {
                kind: "adverse_event".into(),
                category: d.category,
                plan_id: plan.meta.id,
                plan_number: plan.data.plan_number.to_string(),
                adverse_event_id: Some(e.meta.id),
                period: d.period.map(|p| p.number),
                description: format!(
                    "adverse event report: {} (known {})",
                    e.data.verbatim_term, e.data.known_on
                ),
                due_on: d.due_on,
                status: state.status,
                days_remaining: state.days_remaining,
                done_on: state.done_on,
                done_late: state.done_late,
                rule_set: d.rule_set.clone(),
                citation: d.citation.clone(),
            },
        ));
    }

    let mut totals = DeadlineTotals::default();
    let mut grouped: BTreeMap<Uuid, Vec<DeadlineItem>> = BTreeMap::new();
    for (inst, item) in items {
        if query.status.is_some_and(|s| s != item.status) {
            continue;
        }
        match item.status {
            DeadlineStatus::Due => totals.due += 1,
            DeadlineStatus::Overdue => totals.overdue += 1,
            DeadlineStatus::Done => {
                totals.done += 1;
                if item.done_late {
                    totals.done_late += 1;
                }
            }
        }
        grouped.entry(inst).or_default().push(item);
    }
    let institution_ids: Vec<Uuid> = grouped.keys().copied().collect();
    let names: HashMap<Uuid, String> = store
        .all_in::<Organisation>("id", &institution_ids, vec![])
        .await?
        .into_iter()
        .map(|o| (o.meta.id, o.data.name.to_string()))
        .collect();
    let institutions = grouped
        .into_iter()
        .map(|(id, mut items)| {
            items.sort_by_key(|i| {
                (
                    i.status != DeadlineStatus::Overdue,
                    i.status == DeadlineStatus::Done,
                    i.due_on,
                )
            });
            InstitutionDeadlines {
                institution_id: id,
                institution: names.get(&id).cloned().unwrap_or_default(),
                items,
            }
        })
        .collect();
    Ok(DeadlineReport {
        as_of,
        institutions,
        totals,
        not_under_the_act,
    })
}
