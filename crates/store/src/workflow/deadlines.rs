//! What is due across the registry: periodic reports and adverse-event reports, per
//! institution, with their status on a given day.
//!
//! A registry of a million patients holds hundreds of thousands of adverse events, so the
//! report reads only the few columns a deadline needs (no record is built for an event
//! that is not listed), builds items only for the page it lists (the most pressing
//! first), and counts the rest.

use crate::backend::{Filter, FilterOp};
use crate::error::StoreError;
use crate::store::Store;
use crate::tables::{ADVERSE_EVENTS, TREATMENTS};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::registry::*;
use saisei_domain::regulation::{
    AdverseEventFacts, Deadline, DeadlineCategory, DeadlineError, DeadlineState, DeadlineStatus,
    RuleBook, adverse_event_deadline, periodic_periods_due,
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
    /// Its obligations counted by status (all of them, listed or not).
    pub totals: DeadlineTotals,
    /// Obligations, overdue first, then by due date; at most the limit asked for.
    pub items: Vec<DeadlineItem>,
    /// How many of its obligations are beyond the limit: counted, not listed.
    pub not_listed: usize,
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

impl DeadlineTotals {
    fn add(&mut self, state: &DeadlineState) {
        match state.status {
            DeadlineStatus::Due => self.due += 1,
            DeadlineStatus::Overdue => self.overdue += 1,
            DeadlineStatus::Done => {
                self.done += 1;
                if state.done_late {
                    self.done_late += 1;
                }
            }
        }
    }
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
    /// Adverse events under a plan but not suspected to result from the treatment (by
    /// their causality), so not reportable: counted, never due or overdue.
    pub not_suspected: usize,
}

/// Which obligations to list.
#[derive(Debug, Clone, Default)]
pub struct DeadlineQuery {
    /// Only this status.
    pub status: Option<DeadlineStatus>,
    /// Only this institution.
    pub institution_id: Option<Uuid>,
    /// List at most this many obligations per institution, the most pressing first
    /// (`None`: every one). Totals always count every one.
    pub limit: Option<usize>,
}

/// An adverse event as far as its deadline goes.
struct EventFacts {
    id: Uuid,
    verbatim_term: String,
    known_on: Date,
}

/// What an obligation is about, kept until it is known whether it is listed.
enum Source<'a> {
    Periodic(&'a Record<Plan>, u32, Date, Date),
    Event(&'a Record<Plan>, EventFacts),
}

/// One obligation before it becomes a listed item.
struct Obligation<'a> {
    institution: Uuid,
    deadline: Deadline,
    state: DeadlineState,
    source: Source<'a>,
}

impl Obligation<'_> {
    /// Overdue first, then due, then done; each by due date, then by plan (its periodic
    /// reports before its adverse events), so the same registry always lists the same
    /// page.
    fn urgency(&self) -> (u8, Date, Uuid, u32, Uuid) {
        let rank = match self.state.status {
            DeadlineStatus::Overdue => 0,
            DeadlineStatus::Due => 1,
            DeadlineStatus::Done => 2,
        };
        let (plan, period, event) = match &self.source {
            Source::Periodic(plan, number, ..) => (plan.meta.id, *number, Uuid::nil()),
            Source::Event(plan, e) => (plan.meta.id, u32::MAX, e.id),
        };
        (rank, self.state.due_on, plan, period, event)
    }

    fn into_item(self) -> DeadlineItem {
        let (kind, plan, adverse_event_id, period, description) = match self.source {
            Source::Periodic(plan, number, start, end) => (
                "periodic_report",
                plan,
                None,
                Some(number),
                format!("periodic report, period {number} ({start} to {end})"),
            ),
            Source::Event(plan, e) => (
                "adverse_event",
                plan,
                Some(e.id),
                self.deadline.period.as_ref().map(|p| p.number),
                format!(
                    "adverse event report: {} (known {})",
                    e.verbatim_term, e.known_on
                ),
            ),
        };
        DeadlineItem {
            kind: kind.into(),
            category: self.deadline.category,
            plan_id: plan.meta.id,
            plan_number: plan.data.plan_number.to_string(),
            adverse_event_id,
            period,
            description,
            due_on: self.deadline.due_on,
            status: self.state.status,
            days_remaining: self.state.days_remaining,
            done_on: self.state.done_on,
            done_late: self.state.done_late,
            rule_set: self.deadline.rule_set,
            citation: self.deadline.citation,
        }
    }
}

/// The columns of an adverse event its deadline needs, in this order.
const EVENT_COLUMNS: [&str; 7] = [
    "id",
    "treatment_id",
    "verbatim_term",
    "seriousness",
    "known_on",
    "reported_on",
    "causality",
];

fn corrupt(what: &str, id: Option<Uuid>) -> StoreError {
    StoreError::Corrupt(match id {
        Some(id) => format!("adverse event {id}: {what} does not read back"),
        None => format!("an adverse event's {what} does not read back"),
    })
}

/// An adverse event's columns, parsed.
struct EventRow {
    facts: EventFacts,
    treatment: Option<Uuid>,
    seriousness: Vec<SeriousnessCriterion>,
    reported_on: Option<Date>,
    causality: Causality,
}

/// One adverse event's columns (in [`EVENT_COLUMNS`] order), read as strictly as the
/// record would be: a value that does not parse is corruption, not a missing deadline.
fn event_row(row: Vec<Value>) -> Result<EventRow, StoreError> {
    let [
        id,
        treatment,
        term,
        seriousness,
        known_on,
        reported_on,
        causality,
    ]: [Value; 7] = row.try_into().map_err(|_| corrupt("row", None))?;
    let Value::Uuid(id) = id else {
        return Err(corrupt("id", None));
    };
    let treatment = match treatment {
        Value::Uuid(t) => Some(t),
        Value::Null => None,
        _ => return Err(corrupt("treatment_id", Some(id))),
    };
    let Value::Text(verbatim_term) = term else {
        return Err(corrupt("verbatim_term", Some(id)));
    };
    let Value::Json(seriousness) = seriousness else {
        return Err(corrupt("seriousness", Some(id)));
    };
    let seriousness: Vec<SeriousnessCriterion> =
        serde_json::from_value(seriousness).map_err(|_| corrupt("seriousness", Some(id)))?;
    let Value::Date(known_on) = known_on else {
        return Err(corrupt("known_on", Some(id)));
    };
    let reported_on = match reported_on {
        Value::Date(d) => Some(d),
        Value::Null => None,
        _ => return Err(corrupt("reported_on", Some(id))),
    };
    let Value::Text(causality) = causality else {
        return Err(corrupt("causality", Some(id)));
    };
    let causality: Causality = serde_json::from_value(serde_json::Value::String(causality))
        .map_err(|_| corrupt("causality", Some(id)))?;
    Ok(EventRow {
        facts: EventFacts {
            id,
            verbatim_term,
            known_on,
        },
        treatment,
        seriousness,
        reported_on,
        causality,
    })
}

/// The end of provision of plans that stopped before plans recorded it (`ended_on` empty
/// on an ended or withdrawn plan): the day of their last move to ended or withdrawn, read
/// from their transitions. Usually there are none, and nothing is read.
async fn legacy_plan_ends(
    store: &Store,
    plans: &[Record<Plan>],
) -> Result<HashMap<Uuid, Date>, StoreError> {
    let legacy: Vec<Uuid> = plans
        .iter()
        .filter(|p| {
            p.data.ended_on.is_none()
                && matches!(p.data.status, PlanStatus::Ended | PlanStatus::Withdrawn)
        })
        .map(|p| p.meta.id)
        .collect();
    if legacy.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ends = HashMap::new();
    for t in store
        .all_in::<PlanTransition>("plan_id", &legacy, vec![])
        .await?
    {
        if matches!(t.data.to_status, PlanStatus::Ended | PlanStatus::Withdrawn) {
            let e = ends.entry(t.data.plan_id).or_insert(t.data.on);
            *e = (*e).max(t.data.on);
        }
    }
    Ok(ends)
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
    let plan_by_id: HashMap<Uuid, &Record<Plan>> = plans.iter().map(|p| (p.meta.id, p)).collect();
    let mut obligations: Vec<Obligation> = Vec::new();

    let plan_ids: Vec<Uuid> = plans.iter().map(|p| p.meta.id).collect();
    let filed = store
        .all_in::<PeriodicReport>("plan_id", &plan_ids, vec![])
        .await?;
    let filed_on: HashMap<(Uuid, i64), Date> = filed
        .iter()
        .map(|r| ((r.data.plan_id, r.data.period_number), r.data.submitted_on))
        .collect();
    let legacy_ends = legacy_plan_ends(store, &plans).await?;
    for plan in &plans {
        let Some(filing) = plan.data.filed_on else {
            continue;
        };
        let Ok(set) = rules.in_force_on(filing) else {
            continue;
        };
        let ended = plan
            .data
            .ended_on
            .or_else(|| legacy_ends.get(&plan.meta.id).copied());
        let due = periodic_periods_due(set, filing, ended, as_of)
            .map_err(|e| StoreError::invalid("as_of", e.to_string()))?;
        for d in due {
            let Some(period) = d.period else {
                continue;
            };
            let done = filed_on
                .get(&(plan.meta.id, i64::from(period.number)))
                .copied();
            let state = d.status(as_of, done);
            obligations.push(Obligation {
                institution: plan.data.institution_id,
                deadline: d,
                state,
                source: Source::Periodic(plan, period.number, period.start, period.end),
            });
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
    let events = store
        .columns(&ADVERSE_EVENTS, &EVENT_COLUMNS, &event_filters)
        .await?
        .into_iter()
        .map(event_row)
        .collect::<Result<Vec<_>, _>>()?;
    // The plan of each event's treatment, read by the events' own references rather than
    // by a subquery that would read the events again.
    let treatment_ids: Vec<Uuid> = events.iter().filter_map(|e| e.treatment).collect();
    let treatment_plans: HashMap<Uuid, Uuid> = store
        .columns_in(&TREATMENTS, &["id", "plan_id"], "id", &treatment_ids)
        .await?
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Value::Uuid(t), Value::Uuid(p)] => Some((*t, *p)),
            _ => None,
        })
        .collect();
    let mut not_under_the_act = 0;
    let mut not_suspected = 0;
    for EventRow {
        facts: event,
        treatment,
        seriousness,
        reported_on,
        causality,
    } in events
    {
        // A treatment under a plan not in view (unfiled, or another institution's) gives
        // no deadline here.
        let plan = treatment
            .and_then(|t| treatment_plans.get(&t))
            .and_then(|p| plan_by_id.get(p).copied());
        let Some(plan) = plan else {
            not_under_the_act += 1;
            continue;
        };
        let Ok(set) = rules.in_force_on(event.known_on) else {
            continue;
        };
        let facts = AdverseEventFacts {
            death_or_possible_death: SeriousnessCriterion::any_death_or_possible_death(
                &seriousness,
            ),
            serious: !seriousness.is_empty(),
            known_on: event.known_on,
            cycle_anchor: plan.data.filed_on,
            causality: Some(causality),
        };
        let d = match adverse_event_deadline(set, &facts) {
            Ok(d) => d,
            Err(DeadlineError::NotSuspected { .. }) => {
                not_suspected += 1;
                continue;
            }
            Err(_) => continue,
        };
        let state = d.status(as_of, reported_on);
        obligations.push(Obligation {
            institution: plan.data.institution_id,
            deadline: d,
            state,
            source: Source::Event(plan, event),
        });
    }

    let mut totals = DeadlineTotals::default();
    let mut grouped: BTreeMap<Uuid, (DeadlineTotals, Vec<Obligation>)> = BTreeMap::new();
    for o in obligations {
        if query.status.is_some_and(|s| s != o.state.status) {
            continue;
        }
        totals.add(&o.state);
        let entry = grouped.entry(o.institution).or_default();
        entry.0.add(&o.state);
        entry.1.push(o);
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
        .map(|(id, (inst_totals, mut list))| {
            let limit = query.limit.unwrap_or(usize::MAX);
            // Only the listed page needs an order among itself; the rest is counted.
            if list.len() > limit {
                list.select_nth_unstable_by_key(limit, Obligation::urgency);
            }
            let not_listed = list.len().saturating_sub(limit);
            list.truncate(limit);
            list.sort_by_key(Obligation::urgency);
            InstitutionDeadlines {
                institution_id: id,
                institution: names.get(&id).cloned().unwrap_or_default(),
                totals: inst_totals,
                items: list.into_iter().map(Obligation::into_item).collect(),
                not_listed,
            }
        })
        .collect();
    Ok(DeadlineReport {
        as_of,
        institutions,
        totals,
        not_under_the_act,
        not_suspected,
    })
}

/// What the Act asks of one adverse event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AeObligation {
    /// A report is due: its deadline and where it stands.
    Report(Deadline, DeadlineState),
    /// Under a filed plan, but not suspected to result from the treatment (by its
    /// causality): nothing to report.
    NotSuspected,
    /// Not under a filed plan (no treatment, or the treatment's plan is not filed), or no
    /// rule set was in force on the day it became known.
    NotUnderTheAct,
}

/// The report one adverse event needs under the Act and where it stands on `as_of`. The
/// patient's page shows it beside the event; the national report computes the same
/// deadline for every event at once ([`deadlines`]).
pub async fn adverse_event_obligation(
    store: &Store,
    rules: &RuleBook,
    event: &AdverseEvent,
    as_of: Date,
) -> Result<AeObligation, StoreError> {
    let Some(treatment_id) = event.treatment_id else {
        return Ok(AeObligation::NotUnderTheAct);
    };
    let treatment = store.get::<Treatment>(treatment_id).await?;
    let Some(plan_id) = treatment.data.plan_id else {
        return Ok(AeObligation::NotUnderTheAct);
    };
    let plan = store.get::<Plan>(plan_id).await?;
    if plan.data.filed_on.is_none() {
        return Ok(AeObligation::NotUnderTheAct);
    }
    let Ok(set) = rules.in_force_on(event.known_on) else {
        return Ok(AeObligation::NotUnderTheAct);
    };
    let facts = AdverseEventFacts {
        death_or_possible_death: SeriousnessCriterion::any_death_or_possible_death(
            &event.seriousness,
        ),
        serious: !event.seriousness.is_empty(),
        known_on: event.known_on,
        cycle_anchor: plan.data.filed_on,
        causality: Some(event.causality),
    };
    match adverse_event_deadline(set, &facts) {
        Ok(deadline) => {
            let state = deadline.status(as_of, event.reported_on);
            Ok(AeObligation::Report(deadline, state))
        }
        Err(DeadlineError::NotSuspected { .. }) => Ok(AeObligation::NotSuspected),
        Err(_) => Ok(AeObligation::NotUnderTheAct),
    }
}
