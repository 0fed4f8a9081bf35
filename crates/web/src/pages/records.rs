//! The clinic's records on a patient's page: record an administration (which schedules
//! the follow-up visits), report an adverse event (the page then shows the report it
//! needs and by when), record a follow-up visit as done or not done. Each form posts the
//! API's own JSON fields through the API's own create and update.

use super::id_of;
use crate::context::{Chrome, Ctx, PageError, PageResult, html_status};
use crate::forms::{Choice, Fields, FormErrors, Kind, enum_choices, typed_json, value, values};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use saisei_domain::Record;
use saisei_domain::registry::{
    AdverseEvent, AeOutcome, Causality, FollowUpSchedule, Patient, Plan, Route,
    SeriousnessCriterion, Treatment, Visit,
};
use saisei_server::AppState;
use saisei_server::api::resource::{
    Params, create_record, list_records, read_record, update_record,
};
use saisei_server::problem::{ApiError, Code};

/// A refusal the form shows beside its fields; anything else is a page of its own.
fn shown_on_form(e: &ApiError) -> bool {
    matches!(
        e.code,
        Code::ValidationFailed
            | Code::RuleViolation
            | Code::Duplicate
            | Code::VersionConflict
            | Code::BadParameter
    )
}

fn status_of(errors: &FormErrors) -> StatusCode {
    if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// A form's fields: name, how it becomes JSON, and its label's catalogue key, in the
/// form's order.
type Spec = &'static [(&'static str, Kind, &'static str)];

fn labels(spec: Spec) -> Vec<(&'static str, &'static str)> {
    spec.iter().map(|(n, _, l)| (*n, *l)).collect()
}

/// A patient's new record from a posted form: the CSRF check, the JSON the API takes
/// (with the patient's id), then the API's own create. A refusal the form can show
/// comes back as the form's errors; anything else is a page of its own.
async fn create_for_patient<R: saisei_server::api::resource::Resource>(
    state: &AppState,
    ctx: &Ctx,
    patient: uuid::Uuid,
    fields: &Fields,
    spec: Spec,
) -> Result<Result<Record<R>, FormErrors>, PageError> {
    ctx.check_csrf(value(fields, "csrf").unwrap_or(""))?;
    let kinds: Vec<(&str, Kind)> = spec.iter().map(|(n, k, _)| (*n, *k)).collect();
    let mut body = typed_json(fields, &kinds);
    body["patient_id"] = patient.to_string().into();
    match create_record::<R>(state, ctx.actor()?, body).await {
        Ok(record) => Ok(Ok(record)),
        Err(e) if shown_on_form(&e) => Ok(Err(FormErrors::from_api(&ctx.ui, &e, &labels(spec)))),
        Err(e) => Err(e.into()),
    }
}

fn with_blank(ui: &crate::i18n::Ui, mut choices: Vec<Choice>) -> Vec<Choice> {
    let none = !choices.iter().any(|c| c.selected);
    choices.insert(
        0,
        Choice {
            value: String::new(),
            label: ui.t("choose"),
            selected: none,
        },
    );
    choices
}

// ---- administrations ----

/// The administration form's fields, kinds and labels, in the form's order.
const TREATMENT: Spec = &[
    ("plan_id", Kind::Text, "treatment-plan"),
    ("schedule_id", Kind::Text, "treatment-schedule"),
    ("administered_on", Kind::Text, "col-administered-on"),
    ("dose", Kind::Number, "treatment-dose"),
    ("dose_unit", Kind::Text, "treatment-dose-unit"),
    ("route", Kind::Text, "col-route"),
    ("site", Kind::Text, "treatment-site"),
];

#[derive(Template)]
#[template(path = "pages/treatment_new.html")]
struct TreatmentPage {
    c: Chrome,
    errors: FormErrors,
    patient_href: String,
    action: String,
    plans: Vec<Choice>,
    schedules: Vec<Choice>,
    routes: Vec<Choice>,
    administered_on: String,
    dose: String,
    dose_unit: String,
    site: String,
}

async fn treatment_page(
    state: &AppState,
    ctx: &Ctx,
    patient: uuid::Uuid,
    fields: &Fields,
    errors: FormErrors,
) -> PageResult {
    let actor = ctx.actor()?;
    let chosen = |n: &str| value(fields, n).unwrap_or("").to_string();
    let params: Params = vec![
        ("status".into(), "active".into()),
        ("limit".into(), "200".into()),
    ];
    let plans = list_records::<Plan>(state, actor, &params, "/plans")
        .await?
        .items
        .iter()
        .map(|p| Choice {
            value: p.meta.id.to_string(),
            label: format!("{} {}", p.data.plan_number, p.data.title),
            selected: chosen("plan_id") == p.meta.id.to_string(),
        })
        .collect();
    let schedules = match list_records::<FollowUpSchedule>(
        state,
        actor,
        &vec![("limit".into(), "200".into())],
        "/follow-up-schedules",
    )
    .await
    {
        Ok(page) => page
            .items
            .iter()
            .map(|s| Choice {
                value: s.meta.id.to_string(),
                label: s.data.name.to_string(),
                selected: chosen("schedule_id") == s.meta.id.to_string(),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let route = chosen("route");
    html_status(
        status_of(&errors),
        TreatmentPage {
            c: ctx.chrome("treatment-new-title"),
            errors,
            patient_href: format!("/patients/{patient}"),
            action: format!("/patients/{patient}/treatments"),
            plans: with_blank(&ctx.ui, plans),
            schedules: with_blank(&ctx.ui, schedules),
            routes: with_blank(&ctx.ui, enum_choices::<Route>(&ctx.ui, "route", &[&route])),
            administered_on: chosen("administered_on"),
            dose: chosen("dose"),
            dose_unit: value(fields, "dose_unit").unwrap_or("cells").to_string(),
            site: chosen("site"),
        },
    )
}

async fn patient_in_reach(
    state: &AppState,
    ctx: &Ctx,
    raw: &str,
) -> Result<Record<Patient>, PageError> {
    let actor = ctx.actor()?;
    let id = id_of(raw)?;
    Ok(read_record::<Patient>(state, actor, id, &format!("/patients/{id}")).await?)
}

/// `GET /patients/{id}/treatments/new`.
pub async fn treatment_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    treatment_page(
        &state,
        &ctx,
        patient.meta.id,
        &Vec::new(),
        FormErrors::default(),
    )
    .await
}

/// `POST /patients/{id}/treatments`: records the administration (and its visits).
pub async fn treatment_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    match create_for_patient::<Treatment>(&state, &ctx, patient.meta.id, &fields, TREATMENT).await?
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/patients/{}#treatments", patient.meta.id)).into_response())
        }
        Err(errors) => treatment_page(&state, &ctx, patient.meta.id, &fields, errors).await,
    }
}

// ---- adverse events ----

const EVENT: Spec = &[
    ("treatment_id", Kind::Text, "event-treatment"),
    ("verbatim_term", Kind::Text, "col-term"),
    ("ctcae_term", Kind::Text, "event-ctcae-term"),
    ("grade", Kind::Integer, "col-grade"),
    ("seriousness", Kind::List, "col-seriousness"),
    ("causality", Kind::Text, "event-causality"),
    ("onset_on", Kind::Text, "col-onset"),
    ("known_on", Kind::Text, "event-known-on"),
    ("outcome", Kind::Text, "col-outcome"),
    ("resolved_on", Kind::Text, "event-resolved-on"),
    ("description", Kind::Text, "event-description"),
];

#[derive(Template)]
#[template(path = "pages/event_new.html")]
struct EventPage {
    c: Chrome,
    errors: FormErrors,
    patient_href: String,
    action: String,
    treatments: Vec<Choice>,
    grades: Vec<Choice>,
    seriousness: Vec<Choice>,
    causalities: Vec<Choice>,
    outcomes: Vec<Choice>,
    verbatim_term: String,
    ctcae_term: String,
    onset_on: String,
    known_on: String,
    resolved_on: String,
    description: String,
}

async fn event_page(
    state: &AppState,
    ctx: &Ctx,
    patient: uuid::Uuid,
    fields: &Fields,
    errors: FormErrors,
) -> PageResult {
    let actor = ctx.actor()?;
    let ui = &ctx.ui;
    let chosen = |n: &str| value(fields, n).unwrap_or("").to_string();
    let params: Params = vec![
        ("patient_id".into(), patient.to_string()),
        ("limit".into(), "1000".into()),
    ];
    let mut given =
        list_records::<Treatment>(state, actor, &params, &format!("/patients/{patient}"))
            .await?
            .items;
    given.sort_by_key(|t| t.data.administered_on);
    let treatments = given
        .iter()
        .map(|t| Choice {
            value: t.meta.id.to_string(),
            label: ui.args(
                "event-treatment-choice",
                &[
                    ("date", ui.date(&t.data.administered_on)),
                    ("dose", format!("{} {}", t.data.dose, t.data.dose_unit)),
                ],
            ),
            selected: chosen("treatment_id") == t.meta.id.to_string(),
        })
        .collect();
    let grade = chosen("grade");
    let grades = (1..=5)
        .map(|g| Choice {
            value: g.to_string(),
            label: ui.t(&format!("grade-{g}")),
            selected: grade == g.to_string(),
        })
        .collect();
    let serious = values(fields, "seriousness");
    html_status(
        status_of(&errors),
        EventPage {
            c: ctx.chrome("event-new-title"),
            errors,
            patient_href: format!("/patients/{patient}"),
            action: format!("/patients/{patient}/adverse-events"),
            treatments: with_blank(ui, treatments),
            grades: with_blank(ui, grades),
            seriousness: enum_choices::<SeriousnessCriterion>(ui, "seriousness", &serious),
            causalities: with_blank(
                ui,
                enum_choices::<Causality>(ui, "causality", &[&chosen("causality")]),
            ),
            outcomes: with_blank(
                ui,
                enum_choices::<AeOutcome>(ui, "outcome", &[&chosen("outcome")]),
            ),
            verbatim_term: chosen("verbatim_term"),
            ctcae_term: chosen("ctcae_term"),
            onset_on: chosen("onset_on"),
            known_on: chosen("known_on"),
            resolved_on: chosen("resolved_on"),
            description: chosen("description"),
        },
    )
}

/// `GET /patients/{id}/adverse-events/new`.
pub async fn event_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    event_page(
        &state,
        &ctx,
        patient.meta.id,
        &Vec::new(),
        FormErrors::default(),
    )
    .await
}

/// `POST /patients/{id}/adverse-events`: reports the event; the patient's page then
/// shows the report it needs and by when.
pub async fn event_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    match create_for_patient::<AdverseEvent>(&state, &ctx, patient.meta.id, &fields, EVENT).await? {
        Ok(record) => Ok(Redirect::to(&format!(
            "/patients/{}#ae-{}",
            patient.meta.id, record.meta.id
        ))
        .into_response()),
        Err(errors) => event_page(&state, &ctx, patient.meta.id, &fields, errors).await,
    }
}

// ---- visits ----

const VISIT: Spec = &[
    ("done_on", Kind::Text, "col-done-on"),
    ("not_done_reason", Kind::Text, "visit-not-done-reason"),
    ("reason", Kind::Text, "change-reason"),
];

#[derive(Template)]
#[template(path = "pages/visit.html")]
struct VisitPage {
    c: Chrome,
    errors: FormErrors,
    patient_href: String,
    action: String,
    version: i64,
    due_on: String,
    window: String,
    status: String,
    status_class: &'static str,
    done_on: String,
    not_done_reason: String,
    recorded: bool,
    current: Option<String>,
}

async fn visit_page(
    state: &AppState,
    ctx: &Ctx,
    visit: &Record<Visit>,
    fields: Option<&Fields>,
    errors: FormErrors,
    current: Option<String>,
) -> PageResult {
    let ui = &ctx.ui;
    let status = visit.data.status(state.clock.today_jst());
    let field = |n: &str, stored: Option<String>| match fields {
        Some(f) => value(f, n).unwrap_or("").to_string(),
        None => stored.unwrap_or_default(),
    };
    html_status(
        status_of(&errors),
        VisitPage {
            c: ctx.chrome_titled(ui.t1("visit-title", "label", &visit.data.label)),
            errors,
            patient_href: format!("/patients/{}", visit.data.patient_id),
            action: format!("/visits/{}", visit.meta.id),
            version: visit.meta.version,
            due_on: ui.date(&visit.data.due_on),
            window: format!(
                "{} – {}",
                ui.date(&visit.data.window_opens_on),
                ui.date(&visit.data.window_closes_on)
            ),
            status: ui.term("visit-status", &status),
            status_class: super::home::visit_class(status),
            done_on: field("done_on", visit.data.done_on.map(|d| d.to_string())),
            not_done_reason: field(
                "not_done_reason",
                visit.data.not_done_reason.as_ref().map(|r| r.to_string()),
            ),
            recorded: visit.data.done_on.is_some() || visit.data.not_done_reason.is_some(),
            current,
        },
    )
}

/// `GET /visits/{id}`.
pub async fn visit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    let visit = read_record::<Visit>(&state, actor, id, &format!("/visits/{id}")).await?;
    visit_page(&state, &ctx, &visit, None, FormErrors::default(), None).await
}

/// `POST /visits/{id}`: records the visit as done (or why not), with the version the
/// form was read at; a visit changed meanwhile comes back showing what it now holds,
/// with what was typed kept to apply again.
pub async fn visit_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let spec: Vec<(&str, Kind)> = VISIT.iter().map(|(n, k, _)| (*n, *k)).collect();
    let mut body = typed_json(&fields, &spec);
    body["version"] = value(&fields, "version")
        .and_then(|v| v.parse::<i64>().ok())
        .map(serde_json::Value::from)
        .unwrap_or(serde_json::Value::Null);
    // An emptied field clears what was recorded.
    for name in ["done_on", "not_done_reason"] {
        if value(&fields, name).is_none() {
            body[name] = serde_json::Value::Null;
        }
    }
    match update_record::<Visit>(&state, actor, id, body).await {
        Ok(v) => {
            Ok(Redirect::to(&format!("/patients/{}#visits", v.data.patient_id)).into_response())
        }
        Err(e) if shown_on_form(&e) => {
            let visit = read_record::<Visit>(&state, actor, id, &format!("/visits/{id}")).await?;
            let errors = FormErrors::from_api(&ctx.ui, &e, &labels(VISIT));
            let current = (e.code == Code::VersionConflict).then(|| {
                let ui = &ctx.ui;
                ui.args(
                    "visit-changed",
                    &[
                        ("done", ui.date_or_dash(&visit.data.done_on)),
                        (
                            "reason",
                            visit
                                .data
                                .not_done_reason
                                .as_ref()
                                .map(|r| r.to_string())
                                .unwrap_or_else(|| "—".into()),
                        ),
                    ],
                )
            });
            visit_page(&state, &ctx, &visit, Some(&fields), errors, current).await
        }
        Err(e) => Err(e.into()),
    }
}
