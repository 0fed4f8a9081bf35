//! `/plans`: the provision plans in reach, filterable by status; `/plans/{id}`: a plan
//! with its class, committee, lifecycle dates and reporting periods, each period's
//! report previewed from registry data (the API's HTML report, printable).

use super::id_of;
use crate::context::{Chrome, Ctx, PageError, PageResult, html};
use crate::forms::{Choice, value};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use saisei_domain::registry::{Organisation, Plan, PlanStatus, PlanTransition};
use saisei_domain::regulation::DeadlineStatus;
use saisei_server::AppState;
use saisei_server::api::regulation::plan_periods;
use saisei_server::api::resource::{Params, list_records};
use saisei_server::problem::{ApiError, Code};

/// A plan as a row.
pub struct PlanRow {
    /// Its page.
    pub href: String,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// The disease treated.
    pub disease: String,
    /// Risk class in words.
    pub class: String,
    /// Status in words.
    pub status: String,
    /// Status token.
    pub status_class: String,
}

#[derive(Template)]
#[template(path = "pages/plans.html")]
struct PlansPage {
    c: Chrome,
    may_file: bool,
    rows: Vec<PlanRow>,
    choices: Vec<Choice>,
    next: Option<String>,
}

const STATUSES: &[PlanStatus] = &[
    PlanStatus::Draft,
    PlanStatus::Submitted,
    PlanStatus::UnderReview,
    PlanStatus::Accepted,
    PlanStatus::Active,
    PlanStatus::Suspended,
    PlanStatus::Withdrawn,
    PlanStatus::Ended,
];

fn name_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `GET /plans?status=…&cursor=…`.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    let actor = ctx.actor()?;
    let ui = &ctx.ui;
    let status = value(&query, "status").unwrap_or("");
    if !status.is_empty() && !STATUSES.iter().any(|s| name_of(s) == status) {
        return Err(PageError::Failed(ApiError::field(
            Code::BadParameter,
            "status",
            "is not a plan status",
        )));
    }
    let mut params: Params = vec![("limit".into(), "50".into())];
    if !status.is_empty() {
        params.push(("status".into(), status.to_string()));
    }
    if let Some(c) = value(&query, "cursor") {
        params.push(("cursor".into(), c.to_string()));
    }
    let page = list_records::<Plan>(&state, actor, &params, "/plans").await?;
    let rows = page
        .items
        .iter()
        .map(|p| PlanRow {
            href: format!("/plans/{}", p.meta.id),
            number: p.data.plan_number.to_string(),
            title: p.data.title.to_string(),
            disease: p.data.target_disease.to_string(),
            class: ui.term("risk-class", &p.data.risk_class),
            status: ui.term("plan-status", &p.data.status),
            status_class: name_of(&p.data.status),
        })
        .collect();
    let mut choices = vec![Choice {
        value: String::new(),
        label: ui.t("filter-all"),
        selected: status.is_empty(),
    }];
    choices.extend(STATUSES.iter().map(|s| Choice {
        value: name_of(s),
        label: ui.term("plan-status", s),
        selected: name_of(s) == status,
    }));
    let next = page.next_cursor.map(|c| {
        if status.is_empty() {
            format!("/plans?cursor={c}")
        } else {
            format!("/plans?status={status}&cursor={c}")
        }
    });
    html(PlansPage {
        c: ctx.chrome("plans-title"),
        may_file: actor.organisation_id.is_some()
            && saisei_server::access::authorize(
                actor,
                saisei_server::access::Action::Create,
                "plan",
            )
            .is_ok(),
        rows,
        choices,
        next,
    })
}

/// A reporting period as a row.
pub struct PeriodRow {
    /// Its number.
    pub number: u32,
    /// Its span.
    pub span: String,
    /// The report's deadline.
    pub due_on: String,
    /// Status in words.
    pub status: String,
    /// Status token.
    pub status_class: &'static str,
    /// Submitted on.
    pub submitted_on: String,
    /// The report previewed (or as filed), as HTML.
    pub report_href: String,
    /// The rule it comes from.
    pub rule: String,
    /// Where to submit it, for a user who may file it and while it is not filed.
    pub submit_href: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/plan.html")]
struct PlanPageT {
    c: Chrome,
    number: String,
    disease: String,
    material: String,
    class: String,
    status: String,
    status_class: String,
    institution: String,
    committee: String,
    submitted_on: String,
    filed_on: String,
    activated_on: String,
    periods: Vec<PeriodRow>,
    periods_unavailable: bool,
    moves: Vec<MoveLink>,
    history: Vec<TransitionRow>,
}

/// A lifecycle move the user may make now.
pub struct MoveLink {
    /// Its form.
    pub href: String,
    /// The move in words ("Submit to the committee").
    pub label: String,
}

/// A past lifecycle move.
pub struct TransitionRow {
    /// Effective on.
    pub on: String,
    /// From and to, in words.
    pub change: String,
    /// Why, or a dash.
    pub reason: String,
    /// Who.
    pub actor: String,
}

/// `GET /plans/{id}`.
pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(raw): Path<String>) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    let here = format!("/plans/{id}");
    let plan = saisei_server::api::resource::read_record::<Plan>(&state, actor, id, &here).await?;
    let ui = &ctx.ui;
    let may_file = saisei_domain::auth::duties::may_file_periodic_report(
        actor.role,
        actor.organisation_id,
        &plan.data,
    );
    // Periods exist once the plan is filed; a role that may not see periodic reports
    // sees the plan without them.
    // Periods start when the plan is filed: before, there is nothing to show.
    let periods_of = if plan.data.filed_on.is_some() {
        plan_periods(&state, actor, id).await
    } else {
        Err(ApiError::new(Code::NotFound, "not filed"))
    };
    let (periods, periods_unavailable) = match periods_of {
        Err(e) if e.code == Code::NotFound && plan.data.filed_on.is_none() => (Vec::new(), false),
        Ok((_, items)) => (
            items
                .iter()
                .rev()
                .map(|p| PeriodRow {
                    number: p.period,
                    span: format!("{} – {}", ui.date(&p.start), ui.date(&p.end)),
                    due_on: ui.date(&p.due_on),
                    status: ui.term("deadline-status", &p.status),
                    status_class: match p.status {
                        DeadlineStatus::Due => "due",
                        DeadlineStatus::Overdue => "overdue",
                        DeadlineStatus::Done => "done",
                    },
                    submitted_on: ui.date_or_dash(&p.submitted_on),
                    report_href: format!(
                        "/api/v1/plans/{id}/periodic-reports/{}?format=html",
                        p.period
                    ),
                    rule: format!("{} · {}", p.rule_set, p.citation),
                    submit_href: (may_file && p.status != DeadlineStatus::Done)
                        .then(|| format!("/plans/{id}/periodic-reports/{}", p.period)),
                })
                .collect(),
            false,
        ),
        Err(e) if e.code == Code::Internal || e.code == Code::DatabaseUnavailable => {
            return Err(e.into());
        }
        Err(_) => (Vec::new(), true),
    };
    // Names through the access policy like every read; one out of reach shows as a
    // dash.
    let org_name = |id: uuid::Uuid| {
        let state = state.clone();
        let actor = actor.clone();
        async move {
            saisei_server::access::visible::<Organisation>(&state, &actor, id)
                .await
                .map(|o| o.data.name.to_string())
                .unwrap_or_else(|_| "—".into())
        }
    };
    let moves = super::plan_moves::moves_for(actor, &plan)
        .into_iter()
        .map(|to| MoveLink {
            href: format!("/plans/{id}/moves/{}", super::plan_moves::segment(to)),
            label: ui.term("plan-move", &to),
        })
        .collect();
    let mut transitions = list_records::<PlanTransition>(
        &state,
        actor,
        &vec![
            ("plan_id".into(), id.to_string()),
            ("limit".into(), "200".into()),
        ],
        &here,
    )
    .await
    .map(|p| p.items)
    .unwrap_or_default();
    transitions.sort_by_key(|t| (t.data.on, t.meta.created_at));
    let history = transitions
        .iter()
        .rev()
        .map(|t| TransitionRow {
            on: ui.date(&t.data.on),
            change: format!(
                "{} → {}",
                ui.term("plan-status", &t.data.from_status),
                ui.term("plan-status", &t.data.to_status)
            ),
            reason: t
                .data
                .reason
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "—".into()),
            actor: t.data.actor.to_string(),
        })
        .collect();
    html(PlanPageT {
        c: ctx.chrome_titled(plan.data.title.to_string()),
        number: plan.data.plan_number.to_string(),
        disease: plan.data.target_disease.to_string(),
        material: plan.data.material_description.to_string(),
        class: ui.term("risk-class", &plan.data.risk_class),
        status: ui.term("plan-status", &plan.data.status),
        status_class: name_of(&plan.data.status),
        institution: org_name(plan.data.institution_id).await,
        committee: org_name(plan.data.committee_id).await,
        submitted_on: ui.date_or_dash(&plan.data.submitted_on),
        filed_on: ui.date_or_dash(&plan.data.filed_on),
        activated_on: ui.date_or_dash(&plan.data.activated_on),
        periods,
        periods_unavailable,
        moves,
        history,
    })
}

#[derive(Template)]
#[template(path = "pages/report_submit.html")]
struct SubmitPage {
    c: Chrome,
    errors: crate::forms::FormErrors,
    plan_href: String,
    preview_href: String,
    action: String,
    number: String,
    period: u32,
    span: String,
    due_on: String,
    submitted_on: String,
    signer: String,
}

/// The submission form's fields and labels.
const SUBMIT: &[(&str, &str)] = &[
    ("submitted_on", "col-submitted-on"),
    ("password", "sign-in-password"),
    ("code", "sign-in-code"),
];

async fn submit_page(
    state: &AppState,
    ctx: &Ctx,
    plan_id: uuid::Uuid,
    n: u32,
    fields: &crate::forms::Fields,
    errors: crate::forms::FormErrors,
) -> PageResult {
    let actor = ctx.actor()?;
    let ui = &ctx.ui;
    let (plan, periods) = plan_periods(state, actor, plan_id).await?;
    let Some(p) = periods.iter().find(|p| p.period == n) else {
        return Err(PageError::Failed(ApiError::new(
            Code::NotFound,
            "no such period",
        )));
    };
    crate::context::html_status(
        errors.status(),
        SubmitPage {
            c: ctx.chrome_titled(ui.t1("report-submit-title", "period", n)),
            errors,
            plan_href: format!("/plans/{plan_id}#periods"),
            preview_href: format!("/api/v1/plans/{plan_id}/periodic-reports/{n}?format=html"),
            action: format!("/plans/{plan_id}/periodic-reports/{n}"),
            number: plan.data.plan_number.to_string(),
            period: n,
            span: format!("{} – {}", ui.date(&p.start), ui.date(&p.end)),
            due_on: ui.date(&p.due_on),
            submitted_on: value(fields, "submitted_on")
                .map(str::to_string)
                .unwrap_or_else(|| state.clock.today_jst().to_string()),
            signer: actor.email.clone(),
        },
    )
}

fn period_of(raw: &str) -> Result<u32, PageError> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=200).contains(n))
        .ok_or_else(|| PageError::Failed(ApiError::new(Code::NotFound, "no such period")))
}

/// `GET /plans/{id}/periodic-reports/{n}`: the period's report to preview and submit
/// with an electronic signature (password and code, with its meaning shown).
pub async fn submit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((raw, n)): Path<(String, String)>,
) -> PageResult {
    let id = id_of(&raw)?;
    let n = period_of(&n)?;
    submit_page(&state, &ctx, id, n, &Vec::new(), Default::default()).await
}

/// `POST /plans/{id}/periodic-reports/{n}`: files the report, signed, through the same
/// function as the API.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((raw, n)): Path<(String, String)>,
    axum::Form(fields): axum::Form<crate::forms::Fields>,
) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    let n = period_of(&n)?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let mut body = serde_json::json!({ "signature": crate::forms::signature_json(&fields) });
    if let Some(on) = value(&fields, "submitted_on") {
        body["submitted_on"] = on.into();
    }
    let request =
        match saisei_server::extract::parse::<saisei_server::api::regulation::SubmitReport>(body) {
            Ok(r) => r,
            Err(e) => {
                let errors = crate::forms::FormErrors::from_api(&ctx.ui, &e, SUBMIT);
                return submit_page(&state, &ctx, id, n, &fields, errors).await;
            }
        };
    match saisei_server::api::regulation::submit_report(&state, actor, id, n, request).await {
        Ok(_) => Ok(axum::response::Redirect::to(&format!("/plans/{id}#periods")).into_response()),
        Err(e) if e.code.status().is_client_error() && e.code != Code::NotFound => {
            let mut errors = crate::forms::signed_errors(&ctx.ui, &e, SUBMIT);
            if e.code == Code::Forbidden {
                errors.general = Some(ctx.ui.t("report-not-yours"));
            } else if e.code == Code::Duplicate {
                errors.general = Some(ctx.ui.t("report-already-filed"));
            }
            submit_page(&state, &ctx, id, n, &fields, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
