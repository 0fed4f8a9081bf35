//! `/deadlines`: every reporting obligation of my institution (or, for a national role,
//! every institution's), filterable by status, each with the rule it comes from.

use crate::context::{Chrome, Ctx, PageError, PageResult, html};
use crate::i18n::Ui;
use askama::Template;
use axum::extract::{Query, State};
use saisei_domain::regulation::{DeadlineCategory, DeadlineStatus};
use saisei_server::AppState;
use saisei_server::access::deadline_institution;
use saisei_server::problem::{ApiError, Code};
use saisei_store::workflow::deadlines::{
    DeadlineItem, DeadlineQuery, InstitutionDeadlines, deadlines as compute,
};

/// Obligations listed per institution on the page.
const LISTED: usize = 200;

/// One obligation as a row.
pub struct DeadlineRow {
    /// The institution.
    pub institution: String,
    /// What is due, in words.
    pub what: String,
    /// The plan's number.
    pub plan_number: String,
    /// Where the work is done.
    pub href: String,
    /// The deadline.
    pub due_on: String,
    /// Days left, in words ("3日後", "2日超過").
    pub days: String,
    /// Status in words.
    pub status: String,
    /// Status as a token for the icon.
    pub status_class: &'static str,
    /// The rule set and provision.
    pub rule: String,
}

/// Rows of obligations, in the page's language.
pub fn rows_of<'a>(
    ui: &Ui,
    items: impl Iterator<Item = (&'a InstitutionDeadlines, &'a DeadlineItem)>,
) -> Vec<DeadlineRow> {
    items
        .map(|(i, d)| {
            let what = match (d.category, d.period) {
                (DeadlineCategory::PeriodicReport, Some(n)) => {
                    ui.t1("deadline-periodic-report", "period", n)
                }
                (c, _) => ui.term("deadline-category", &c),
            };
            let href = match d.adverse_event_id {
                Some(ae) => format!("/adverse-events/{ae}"),
                None => format!("/plans/{}#periods", d.plan_id),
            };
            let days = match d.status {
                DeadlineStatus::Done => ui.date_or_dash(&d.done_on),
                _ if d.days_remaining < 0 => ui.t1("days-late", "days", -d.days_remaining),
                _ if d.days_remaining == 0 => ui.t("days-today"),
                _ => ui.t1("days-left", "days", d.days_remaining),
            };
            DeadlineRow {
                institution: i.institution.clone(),
                what,
                plan_number: d.plan_number.clone(),
                href,
                due_on: ui.date(&d.due_on),
                days,
                status: ui.term("deadline-status", &d.status),
                status_class: match d.status {
                    DeadlineStatus::Due => "due",
                    DeadlineStatus::Overdue => "overdue",
                    DeadlineStatus::Done => "done",
                },
                rule: format!("{} · {}", d.rule_set, d.citation),
            }
        })
        .collect()
}

/// A status filter choice.
pub struct StatusChoice {
    /// The value sent.
    pub value: &'static str,
    /// Its words.
    pub label: String,
    /// Whether it is chosen.
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "pages/deadlines.html")]
struct DeadlinesPage {
    c: Chrome,
    as_of: String,
    choices: Vec<StatusChoice>,
    rows: Vec<DeadlineRow>,
    overdue: usize,
    due: usize,
    done: usize,
    not_listed: usize,
}

/// `GET /deadlines`.
pub async fn deadlines(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    let actor = ctx.actor()?;
    let asked = crate::forms::value(&query, "status");
    let status = match asked {
        None | Some("") | Some("open") => None,
        Some("due") => Some(DeadlineStatus::Due),
        Some("overdue") => Some(DeadlineStatus::Overdue),
        Some("done") => Some(DeadlineStatus::Done),
        Some(_) => {
            return Err(PageError::Failed(ApiError::field(
                Code::BadParameter,
                "status",
                "is not due, overdue or done",
            )));
        }
    };
    let open_only = matches!(asked, None | Some("open"));
    let today = state.clock.today_jst();
    let institution_id = deadline_institution(actor, None)?;
    let report = compute(
        &state.store,
        state.rules,
        today,
        &DeadlineQuery {
            status,
            institution_id,
            limit: Some(LISTED),
        },
    )
    .await?;
    let ui = &ctx.ui;
    let rows = rows_of(
        ui,
        report.institutions.iter().flat_map(|i| {
            i.items
                .iter()
                .filter(move |d| !open_only || d.status != DeadlineStatus::Done)
                .map(move |d| (i, d))
        }),
    );
    let chosen = asked.unwrap_or("open");
    let choices = ["open", "overdue", "due", "done"]
        .into_iter()
        .map(|v| StatusChoice {
            value: v,
            label: ui.t(&format!("deadline-filter-{v}")),
            selected: v == chosen,
        })
        .collect();
    html(DeadlinesPage {
        c: ctx.chrome("deadlines-title"),
        as_of: ui.date(&today),
        choices,
        overdue: report.totals.overdue,
        due: report.totals.due,
        done: report.totals.done,
        not_listed: report.institutions.iter().map(|i| i.not_listed).sum(),
        rows,
    })
}
