//! `/`: today's work for the signed-in user's institution (or, for a national role,
//! the country): reports overdue and due with days left, and follow-up visits whose
//! window is open or has passed. Each row links to where the work is done.

use super::deadlines::{DeadlineRow, rows_of};
use crate::context::{Chrome, Ctx, PageResult, html};
use askama::Template;
use axum::extract::State;
use saisei_domain::registry::{Visit, VisitStatus};
use saisei_server::AppState;
use saisei_server::access::{Action, authorize, deadline_institution};
use saisei_server::api::resource::list_records;
use saisei_store::workflow::deadlines::{DeadlineQuery, deadlines};

/// Obligations the home page lists (the deadlines page lists them all).
const LISTED: usize = 10;

/// A visit to do.
pub struct VisitRow {
    /// The patient's page.
    pub patient_href: String,
    /// The visit's label (e.g. `week-4`).
    pub label: String,
    /// Its target day.
    pub due_on: String,
    /// Its window.
    pub window: String,
    /// Status in words.
    pub status: String,
    /// Status as a token for the icon.
    pub status_class: &'static str,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    c: Chrome,
    as_of: String,
    overdue: usize,
    due: usize,
    deadlines: Vec<DeadlineRow>,
    more_deadlines: bool,
    may_see_deadlines: bool,
    visits: Vec<VisitRow>,
    may_see_visits: bool,
}

/// `GET /`.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let actor = ctx.actor()?;
    let today = state.clock.today_jst();
    let ui = &ctx.ui;
    let (mut overdue, mut due, mut rows, mut more) = (0, 0, Vec::new(), false);
    let may_see_deadlines = authorize(actor, Action::Read, "deadline").is_ok();
    if may_see_deadlines {
        let institution_id = deadline_institution(actor, None)?;
        let report = deadlines(
            &state.store,
            state.rules,
            today,
            &DeadlineQuery {
                status: None,
                institution_id,
                limit: Some(LISTED),
            },
        )
        .await?;
        overdue = report.totals.overdue;
        due = report.totals.due;
        let open = report.institutions.iter().flat_map(|i| {
            i.items
                .iter()
                .filter(|d| d.status != saisei_domain::regulation::DeadlineStatus::Done)
                .map(move |d| (i, d))
        });
        rows = rows_of(ui, open.take(LISTED));
        more = overdue + due > rows.len();
    }
    let may_see_visits = authorize(actor, Action::Read, "visit").is_ok();
    let mut visits = Vec::new();
    if may_see_visits {
        let params = vec![
            ("done_on.null".to_string(), "true".to_string()),
            ("window_opens_on.lte".to_string(), today.to_string()),
            ("limit".to_string(), "20".to_string()),
        ];
        let page = list_records::<Visit>(&state, actor, &params, "/").await?;
        for v in page.items {
            let status = v.data.status(today);
            if !matches!(status, VisitStatus::Due | VisitStatus::Overdue) {
                continue;
            }
            visits.push(VisitRow {
                patient_href: format!("/patients/{}", v.data.patient_id),
                label: v.data.label.to_string(),
                due_on: ui.date(&v.data.due_on),
                window: format!(
                    "{} – {}",
                    ui.date(&v.data.window_opens_on),
                    ui.date(&v.data.window_closes_on)
                ),
                status: ui.term("visit-status", &status),
                status_class: visit_class(status),
            });
        }
    }
    html(HomePage {
        c: ctx.chrome("home-title"),
        as_of: ui.date(&today),
        overdue,
        due,
        deadlines: rows,
        more_deadlines: more,
        may_see_deadlines,
        visits,
        may_see_visits,
    })
}

/// The icon token of a visit's status.
pub fn visit_class(status: VisitStatus) -> &'static str {
    match status {
        VisitStatus::Scheduled => "scheduled",
        VisitStatus::Due => "due",
        VisitStatus::Overdue => "overdue",
        VisitStatus::Done => "done",
        VisitStatus::Missed => "missed",
    }
}
