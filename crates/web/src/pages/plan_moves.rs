//! `/plans/{id}/moves/{to}`: one lifecycle move of a plan (submit, withdraw, start,
//! suspend, end; a committee's review, acceptance or return), dated, with a reason
//! where the move needs one and the mover's electronic signature (password and code,
//! its meaning shown) where the Act's workflow asks for it. The form carries the plan
//! version it was shown with, so a move made on a plan that changed meanwhile is
//! refused and the page says what changed. The move itself is the API's own
//! [`transition_plan`], which the store's `move_plan` decides.

use super::id_of;
use crate::context::{Chrome, Ctx, PageError, PageResult, html_status};
use crate::forms::{Fields, FormErrors, value};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use saisei_domain::Record;
use saisei_domain::auth::SignatureMeaning;
use saisei_domain::auth::duties::{may_move_plan, signature_for_move};
use saisei_domain::registry::{Plan, PlanStatus};
use saisei_server::AppState;
use saisei_server::api::registry::{TransitionBody, transition_plan};
use saisei_server::api::resource::read_record;
use saisei_server::problem::{ApiError, Code};

/// The move form's fields and labels.
const MOVE: &[(&str, &str)] = &[
    ("on", "move-on"),
    ("reason", "move-reason"),
    ("password", "sign-in-password"),
    ("code", "sign-in-code"),
];

/// The moves that need a reason (the store refuses them without one; the form says so
/// up front).
fn needs_reason(from: PlanStatus, to: PlanStatus) -> bool {
    matches!(to, PlanStatus::Suspended | PlanStatus::Withdrawn)
        || (to == PlanStatus::Draft && from != PlanStatus::Draft)
}

/// A status from its wire name in the path; anything else is "no such page".
fn status_of(raw: &str) -> Result<PlanStatus, PageError> {
    serde_json::from_value(serde_json::Value::String(raw.replace('-', "_")))
        .map_err(|_| PageError::Failed(ApiError::new(Code::NotFound, "no such move")))
}

/// The moves `actor` may make on `plan` now, as (status, path segment).
pub fn moves_for(actor: &saisei_server::access::Actor, plan: &Record<Plan>) -> Vec<PlanStatus> {
    plan.data
        .status
        .next()
        .iter()
        .copied()
        .filter(|to| may_move_plan(actor.role, actor.organisation_id, &plan.data, *to))
        .collect()
}

/// A move's path segment (`under-review`).
pub fn segment(to: PlanStatus) -> String {
    to.as_str().replace('_', "-")
}

#[derive(Template)]
#[template(path = "pages/plan_move.html")]
struct MovePage {
    c: Chrome,
    errors: FormErrors,
    plan_href: String,
    action: String,
    number: String,
    from: String,
    to: String,
    version: i64,
    on: String,
    reason: String,
    reason_required: bool,
    meaning: Option<String>,
    signer: String,
}

fn move_page(
    state: &AppState,
    ctx: &Ctx,
    plan: &Record<Plan>,
    to: PlanStatus,
    fields: &Fields,
    errors: FormErrors,
) -> PageResult {
    let actor = ctx.actor()?;
    let ui = &ctx.ui;
    let meaning = signature_for_move(to).map(|m| match m {
        SignatureMeaning::Approval => ui.t("signature-meaning-approval"),
        _ => ui.t("signature-meaning-plan-responsibility"),
    });
    html_status(
        errors.status(),
        MovePage {
            c: ctx.chrome_titled(ui.args(
                "move-title",
                &[
                    ("number", plan.data.plan_number.to_string()),
                    ("to", ui.term("plan-move", &to)),
                ],
            )),
            errors,
            plan_href: format!("/plans/{}", plan.meta.id),
            action: format!("/plans/{}/moves/{}", plan.meta.id, segment(to)),
            number: plan.data.plan_number.to_string(),
            from: ui.term("plan-status", &plan.data.status),
            to: ui.term("plan-status", &to),
            version: plan.meta.version,
            on: value(fields, "on")
                .map(str::to_string)
                .unwrap_or_else(|| state.clock.today_jst().to_string()),
            reason: value(fields, "reason").unwrap_or("").to_string(),
            reason_required: needs_reason(plan.data.status, to),
            meaning,
            signer: actor.email.clone(),
        },
    )
}

async fn plan_and_move(
    state: &AppState,
    ctx: &Ctx,
    raw: &str,
    to: &str,
) -> Result<(Record<Plan>, PlanStatus), PageError> {
    let actor = ctx.actor()?;
    let id = id_of(raw)?;
    let plan = read_record::<Plan>(state, actor, id, &format!("/plans/{id}")).await?;
    let to = status_of(to)?;
    Ok((plan, to))
}

/// Refuses a move the user may not make now (the form is not shown).
fn check_allowed(ctx: &Ctx, plan: &Record<Plan>, to: PlanStatus) -> Result<(), PageError> {
    if moves_for(ctx.actor()?, plan).contains(&to) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            "you may not make this move on this plan now",
        )
        .into())
    }
}

/// `GET /plans/{id}/moves/{to}`.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((raw, to)): Path<(String, String)>,
) -> PageResult {
    let (plan, to) = plan_and_move(&state, &ctx, &raw, &to).await?;
    check_allowed(&ctx, &plan, to)?;
    move_page(&state, &ctx, &plan, to, &Vec::new(), FormErrors::default())
}

/// `POST /plans/{id}/moves/{to}`: makes the move through the API's own function.
pub async fn make(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((raw, to)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let (plan, to) = plan_and_move(&state, &ctx, &raw, &to).await?;
    let actor = ctx.actor()?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let ui = &ctx.ui;
    let version: i64 = value(&fields, "version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    // The plan changed since the form was shown: say how, and offer the move again on
    // what it is now (if the move is still possible).
    if version != plan.meta.version {
        let changed = ui.t1(
            "move-stale",
            "status",
            ui.term("plan-status", &plan.data.status),
        );
        if !moves_for(actor, &plan).contains(&to) {
            return Err(ApiError::new(
                Code::VersionConflict,
                "the plan changed and this move is no longer possible",
            )
            .into());
        }
        let errors = FormErrors {
            fields: Vec::new(),
            general: Some(changed),
        };
        return move_page(&state, &ctx, &plan, to, &fields, errors);
    }
    check_allowed(&ctx, &plan, to)?;
    let mut body = serde_json::json!({ "to": to.as_str(), "version": version });
    if let Some(on) = value(&fields, "on") {
        body["on"] = on.into();
    }
    if let Some(r) = value(&fields, "reason") {
        body["reason"] = r.into();
    }
    if signature_for_move(to).is_some() {
        body["signature"] = crate::forms::signature_json(&fields);
    }
    let request = match saisei_server::extract::parse::<TransitionBody>(body) {
        Ok(r) => r,
        Err(e) => {
            let errors = FormErrors::from_api(ui, &e, MOVE);
            return move_page(&state, &ctx, &plan, to, &fields, errors);
        }
    };
    match transition_plan(&state, actor, plan.meta.id, request).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{}#lifecycle", plan.meta.id)).into_response()),
        Err(e) if e.code.status().is_client_error() && e.code != Code::NotFound => {
            let errors = crate::forms::signed_errors(ui, &e, MOVE);
            move_page(&state, &ctx, &plan, to, &fields, errors)
        }
        Err(e) => Err(e.into()),
    }
}
