//! The clinic's records on a patient's page: enrol as treated or control, record and
//! withdraw consent, record an administration (which schedules the follow-up visits),
//! report an adverse event (the page then shows the report it needs and by when),
//! record a follow-up visit as done or not done. Each form posts the
//! API's own JSON fields through the API's own create and update.

use super::{id_of, with_blank};
use crate::context::{Chrome, Ctx, PageError, PageResult, html_status};
use crate::forms::{Choice, Fields, FormErrors, Kind, enum_choices, typed_json, value, values};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use saisei_domain::Record;
use saisei_domain::quality::records::ProductUnit;
use saisei_domain::quality::{Recipient, check_recipient};
use saisei_domain::registry::{
    AdverseEvent, AeOutcome, Arm, Causality, Consent, ConsentScope, ControlSource, Enrollment,
    FollowUpSchedule, Observation, Patient, Plan, Product, Route, SeriousnessCriterion, Treatment,
    Visit,
};
use saisei_server::AppState;
use saisei_server::api::quality::bedside::administer_at_bedside;
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

/// A form the user could not submit is not shown: the role must be allowed to create
/// the kind (the record it points at was already found in reach).
fn may_create(ctx: &Ctx, kind: &str) -> Result<(), PageError> {
    saisei_server::access::authorize(ctx.actor()?, saisei_server::access::Action::Create, kind)?;
    Ok(())
}

/// Whether the user's role may change records of the kind (the form is then shown).
fn may_update(ctx: &Ctx, kind: &str) -> bool {
    ctx.actor.as_ref().is_some_and(|a| {
        saisei_server::access::authorize(a, saisei_server::access::Action::Update, kind).is_ok()
    })
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

/// The form's bedside fields (not the API's treatment fields): the unit is found by
/// the number on its label, and the steps the ward took with it are recorded with the
/// administration.
const BEDSIDE: Spec = &[
    ("unit_number", Kind::Text, "treatment-unit-number"),
    ("thawed", Kind::Text, "treatment-thawed"),
    ("identity_verified", Kind::Text, "treatment-identity"),
    ("person", Kind::Text, "treatment-bedside-person"),
];

/// What the bedside check is read against: the unit found by its label's number.
struct UnitFacts {
    unit_number: String,
    container: String,
    dose: String,
    expires_on: String,
    recipient: String,
}

#[derive(Template)]
#[template(path = "pages/treatment_new.html")]
struct TreatmentPage {
    c: Chrome,
    errors: FormErrors,
    patient_href: String,
    action: String,
    /// This form's own address (the unit lookup is a `GET` to it).
    form_href: String,
    /// The number typed or scanned (kept when it was not found).
    unit_number: String,
    unit: Option<UnitFacts>,
    thawed: bool,
    identity_verified: bool,
    person: String,
    plans: Vec<Choice>,
    schedules: Vec<Choice>,
    routes: Vec<Choice>,
    administered_on: String,
    dose: String,
    dose_unit: String,
    site: String,
}

/// The unit with the number on its label, when it is within reach and meant for the
/// patient (made from them or allocated to them). A unit of another patient, out of
/// reach or not existing reads the same: not found.
async fn unit_for_patient(
    state: &AppState,
    ctx: &Ctx,
    patient: uuid::Uuid,
    unit_number: &str,
) -> Result<Option<Record<ProductUnit>>, PageError> {
    let params: Params = vec![
        ("unit_number".into(), unit_number.into()),
        ("limit".into(), "1".into()),
    ];
    let page = match list_records::<ProductUnit>(state, ctx.actor()?, &params, "/units").await {
        Ok(page) => page,
        // A number that is not a valid code cannot name a unit.
        Err(e) if e.code == Code::BadParameter => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(page
        .items
        .into_iter()
        .find(|u| check_recipient(&u.data.recipient, patient).is_ok()))
}

fn unit_facts(ui: &crate::i18n::Ui, unit: &Record<ProductUnit>) -> UnitFacts {
    let d = &unit.data;
    UnitFacts {
        unit_number: d.unit_number.to_string(),
        container: d.container.to_string(),
        dose: format!("{} {}", ui.decimal(d.dose), d.dose_unit),
        expires_on: ui.date(&d.expires_on),
        recipient: ui.t(match d.recipient {
            Recipient::Autologous { .. } => "unit-recipient-autologous",
            Recipient::Allogeneic { .. } => "unit-recipient-allocated",
        }),
    }
}

async fn treatment_page(
    state: &AppState,
    ctx: &Ctx,
    patient: uuid::Uuid,
    fields: &Fields,
    mut errors: FormErrors,
) -> PageResult {
    let actor = ctx.actor()?;
    let chosen = |n: &str| value(fields, n).unwrap_or("").to_string();
    let unit_number = chosen("unit_number").trim().to_string();
    let unit = if unit_number.is_empty() {
        None
    } else {
        let found = unit_for_patient(state, ctx, patient, &unit_number).await?;
        if found.is_none() && errors.of("unit_number").is_none() {
            errors.add(
                &ctx.ui,
                "unit_number",
                "treatment-unit-number",
                "unit-not-found",
            );
        }
        found
    };
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
        errors.status(),
        TreatmentPage {
            c: ctx.chrome("treatment-new-title"),
            errors,
            patient_href: format!("/patients/{patient}"),
            action: format!("/patients/{patient}/treatments"),
            form_href: format!("/patients/{patient}/treatments/new"),
            plans: with_blank(&ctx.ui, plans),
            schedules: with_blank(&ctx.ui, schedules),
            routes: with_blank(&ctx.ui, enum_choices::<Route>(&ctx.ui, "route", &[&route])),
            administered_on: chosen("administered_on"),
            dose: match (&unit, value(fields, "dose")) {
                (Some(u), None) => u.data.dose.to_string(),
                _ => chosen("dose"),
            },
            dose_unit: match (&unit, value(fields, "dose_unit")) {
                (Some(u), None) => u.data.dose_unit.to_string(),
                (_, v) => v.unwrap_or("cells").to_string(),
            },
            site: chosen("site"),
            unit_number,
            unit: unit.as_ref().map(|u| unit_facts(&ctx.ui, u)),
            thawed: value(fields, "thawed").is_some(),
            identity_verified: value(fields, "identity_verified").is_some(),
            person: chosen("person"),
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

/// `GET /patients/{id}/treatments/new`, and `?unit_number=` once the unit's label was
/// scanned or typed: the unit's facts to check it against, and the bedside steps.
pub async fn treatment_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    may_create(&ctx, "treatment")?;
    let fields: Fields = query
        .into_iter()
        .filter(|(k, _)| k == "unit_number")
        .collect();
    treatment_page(
        &state,
        &ctx,
        patient.meta.id,
        &fields,
        FormErrors::default(),
    )
    .await
}

/// `POST /patients/{id}/treatments`: records the administration (and its visits); with
/// a unit, the unit's bedside steps in the same commit.
pub async fn treatment_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    let unit_number = value(&fields, "unit_number").unwrap_or("").trim();
    if value(&fields, "lookup").is_some() {
        // "Look up" (or Enter after a scan): the same form again with the unit's facts
        // and everything typed so far; nothing is stored.
        ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
        may_create(&ctx, "treatment")?;
        return treatment_page(
            &state,
            &ctx,
            patient.meta.id,
            &fields,
            FormErrors::default(),
        )
        .await;
    }
    let outcome = if unit_number.is_empty() {
        create_for_patient::<Treatment>(&state, &ctx, patient.meta.id, &fields, TREATMENT)
            .await?
            .map(|_| ())
    } else {
        administer_unit(&state, &ctx, patient.meta.id, unit_number, &fields).await?
    };
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/patients/{}#treatments", patient.meta.id)).into_response())
        }
        Err(errors) => treatment_page(&state, &ctx, patient.meta.id, &fields, errors).await,
    }
}

/// An administration from the unit with `unit_number`, with the bedside steps the
/// form ticks, through the same workflow function the API's checks lead to.
async fn administer_unit(
    state: &AppState,
    ctx: &Ctx,
    patient: uuid::Uuid,
    unit_number: &str,
    fields: &Fields,
) -> Result<Result<(), FormErrors>, PageError> {
    ctx.check_csrf(value(fields, "csrf").unwrap_or(""))?;
    let Some(unit) = unit_for_patient(state, ctx, patient, unit_number).await? else {
        // The page shows the unit as not found beside its field.
        return Ok(Err(FormErrors::default()));
    };
    let kinds: Vec<(&str, Kind)> = TREATMENT.iter().map(|(n, k, _)| (*n, *k)).collect();
    let mut body = typed_json(fields, &kinds);
    body["patient_id"] = patient.to_string().into();
    body["unit_id"] = unit.meta.id.to_string().into();
    let person = value(fields, "person").unwrap_or("");
    let thawed = value(fields, "thawed").is_some();
    let identity_verified = value(fields, "identity_verified").is_some();
    match administer_at_bedside(state, ctx.actor()?, body, thawed, identity_verified, person).await
    {
        Ok(_) => Ok(Ok(())),
        Err(mut e) if shown_on_form(&e) => {
            // The form names the unit by its label's number, not by its id.
            for f in &mut e.errors {
                if f.field == "unit_id" {
                    f.field = "unit_number".into();
                }
            }
            let labels = [labels(TREATMENT), labels(BEDSIDE)].concat();
            let mut errors = FormErrors::from_api(&ctx.ui, &e, &labels);
            // A box left unticked is the whole story: a frozen bag not thawed, an
            // identity not checked. (A ticked box refused keeps the unit log's reason.)
            if !thawed {
                errors.reword(&ctx.ui, "thawed", "bedside-thaw-first");
            }
            if !identity_verified {
                errors.reword(&ctx.ui, "identity_verified", "bedside-check-first");
            }
            Ok(Err(errors))
        }
        Err(e) => Err(e.into()),
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
        errors.status(),
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
    may_create(&ctx, "adverse_event")?;
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
    editable: bool,
    measurements: Vec<MeasurementRow>,
    measure_action: Option<String>,
    codes: Vec<String>,
    code: String,
    value_number: String,
    value_text: String,
    unit: String,
    observed_on: String,
}

/// A measurement recorded at a visit.
pub struct MeasurementRow {
    /// What was measured (its code, and the code system when not local).
    pub code: String,
    /// The value with its unit.
    pub value: String,
    /// When.
    pub observed_on: String,
}

/// The measurement form's fields, kinds and labels, in the form's order.
const OBSERVATION: Spec = &[
    ("code", Kind::Text, "observation-code"),
    ("value_number", Kind::Number, "observation-value-number"),
    ("value_text", Kind::Text, "observation-value-text"),
    ("unit", Kind::Text, "observation-unit"),
    ("observed_on", Kind::Text, "observation-observed-on"),
];

/// What a visit page's forms were sent with: the visit's own form or a measurement's.
enum Sent<'a> {
    Nothing,
    Visit(&'a Fields),
    Measurement(&'a Fields),
}

async fn visit_page(
    state: &AppState,
    ctx: &Ctx,
    visit: &Record<Visit>,
    sent: Sent<'_>,
    errors: FormErrors,
    current: Option<String>,
) -> PageResult {
    let actor = ctx.actor()?;
    let ui = &ctx.ui;
    let status = visit.data.status(state.clock.today_jst());
    let field = |n: &str, stored: Option<String>| match sent {
        Sent::Visit(f) => value(f, n).unwrap_or("").to_string(),
        _ => stored.unwrap_or_default(),
    };
    let typed = |n: &str| match sent {
        Sent::Measurement(f) => value(f, n).unwrap_or("").to_string(),
        _ => String::new(),
    };
    let here = format!("/visits/{}", visit.meta.id);
    // Every measurement of the patient: this visit's are listed, and the codes already
    // in use are offered as suggestions (a list, not a rule: any code may be typed).
    let all = list_records::<Observation>(
        state,
        actor,
        &vec![
            ("patient_id".into(), visit.data.patient_id.to_string()),
            ("limit".into(), "1000".into()),
        ],
        &here,
    )
    .await?
    .items;
    let mut codes: Vec<String> = all.iter().map(|o| o.data.code.to_string()).collect();
    codes.sort();
    codes.dedup();
    let mut mine: Vec<&Record<Observation>> = all
        .iter()
        .filter(|o| o.data.visit_id == Some(visit.meta.id))
        .collect();
    mine.sort_by_key(|o| (o.data.observed_on, o.meta.created_at));
    let measurements = mine
        .iter()
        .map(|o| MeasurementRow {
            code: match &o.data.system {
                Some(system) => format!("{} ({system})", o.data.code),
                None => o.data.code.to_string(),
            },
            value: match (&o.data.value_number, &o.data.value_text) {
                (Some(n), _) => match &o.data.unit {
                    Some(u) => format!("{} {u}", ui.decimal(*n)),
                    None => ui.decimal(*n),
                },
                (None, Some(t)) => t.to_string(),
                (None, None) => "—".into(),
            },
            observed_on: ui.date(&o.data.observed_on),
        })
        .collect();
    let may_measure = saisei_server::access::authorize(
        actor,
        saisei_server::access::Action::Create,
        "observation",
    )
    .is_ok();
    let observed_on = match sent {
        Sent::Measurement(f) => value(f, "observed_on").unwrap_or("").to_string(),
        _ => visit
            .data
            .done_on
            .unwrap_or_else(|| state.clock.today_jst())
            .to_string(),
    };
    html_status(
        errors.status(),
        VisitPage {
            c: ctx.chrome_titled(ui.t1("visit-title", "label", &visit.data.label)),
            errors,
            patient_href: format!("/patients/{}", visit.data.patient_id),
            action: here.clone(),
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
            editable: may_update(ctx, "visit"),
            measurements,
            measure_action: may_measure.then(|| format!("{here}/observations")),
            codes,
            code: typed("code"),
            value_number: typed("value_number"),
            value_text: typed("value_text"),
            unit: typed("unit"),
            observed_on,
        },
    )
}

/// `POST /visits/{id}/observations`: records a measurement taken at the visit, through
/// the API's own create (the visit and its patient are the record's references, checked
/// against the user's reach like any other).
pub async fn observation_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    let here = format!("/visits/{id}");
    let visit = read_record::<Visit>(&state, actor, id, &here).await?;
    may_create(&ctx, "observation")?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let kinds: Vec<(&str, Kind)> = OBSERVATION.iter().map(|(n, k, _)| (*n, *k)).collect();
    let mut body = typed_json(&fields, &kinds);
    body["patient_id"] = visit.data.patient_id.to_string().into();
    body["visit_id"] = visit.meta.id.to_string().into();
    match create_record::<Observation>(&state, actor, body).await {
        Ok(_) => Ok(Redirect::to(&format!("{here}#measurements")).into_response()),
        Err(e) if shown_on_form(&e) => {
            let errors = FormErrors::from_api(&ctx.ui, &e, &labels(OBSERVATION));
            visit_page(
                &state,
                &ctx,
                &visit,
                Sent::Measurement(&fields),
                errors,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
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
    visit_page(
        &state,
        &ctx,
        &visit,
        Sent::Nothing,
        FormErrors::default(),
        None,
    )
    .await
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
            visit_page(&state, &ctx, &visit, Sent::Visit(&fields), errors, current).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- enrolments ----

const ENROLLMENT: Spec = &[
    ("arm", Kind::Text, "col-arm"),
    ("plan_id", Kind::Text, "treatment-plan"),
    ("product_id", Kind::Text, "enrollment-product"),
    ("control_source", Kind::Text, "enrollment-control-source"),
    ("enrolled_on", Kind::Text, "col-enrolled-on"),
    ("index_date", Kind::Text, "enrollment-index-date"),
];

#[derive(Template)]
#[template(path = "pages/enrollment_new.html")]
struct EnrollmentPage {
    c: Chrome,
    errors: FormErrors,
    patient_href: String,
    action: String,
    arms: Vec<Choice>,
    plans: Vec<Choice>,
    products: Vec<Choice>,
    sources: Vec<Choice>,
    enrolled_on: String,
    index_date: String,
}

async fn enrollment_page(
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
    // Products are reference data some roles do not read; the field is then empty.
    let products = match list_records::<Product>(
        state,
        actor,
        &vec![("limit".into(), "200".into())],
        "/products",
    )
    .await
    {
        Ok(page) => page
            .items
            .iter()
            .map(|p| Choice {
                value: p.meta.id.to_string(),
                label: p.data.name.to_string(),
                selected: chosen("product_id") == p.meta.id.to_string(),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    html_status(
        errors.status(),
        EnrollmentPage {
            c: ctx.chrome("enrollment-new-title"),
            errors,
            patient_href: format!("/patients/{patient}"),
            action: format!("/patients/{patient}/enrollments"),
            arms: with_blank(ui, enum_choices::<Arm>(ui, "arm", &[&chosen("arm")])),
            plans: with_blank(ui, plans),
            products: with_blank(ui, products),
            sources: with_blank(
                ui,
                enum_choices::<ControlSource>(ui, "control-source", &[&chosen("control_source")]),
            ),
            enrolled_on: chosen("enrolled_on"),
            index_date: chosen("index_date"),
        },
    )
}

/// `GET /patients/{id}/enrollments/new`.
pub async fn enrollment_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    may_create(&ctx, "enrollment")?;
    enrollment_page(
        &state,
        &ctx,
        patient.meta.id,
        &Vec::new(),
        FormErrors::default(),
    )
    .await
}

/// `POST /patients/{id}/enrollments`: enrols the patient as treated (under a plan or a
/// product) or as a control (with where the control comes from).
pub async fn enrollment_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    match create_for_patient::<Enrollment>(&state, &ctx, patient.meta.id, &fields, ENROLLMENT)
        .await?
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/patients/{}#enrollments", patient.meta.id)).into_response())
        }
        Err(errors) => enrollment_page(&state, &ctx, patient.meta.id, &fields, errors).await,
    }
}

// ---- consent ----

const CONSENT: Spec = &[
    ("scope", Kind::Text, "consent-scope"),
    ("form_version", Kind::Text, "consent-form-version"),
    ("given_on", Kind::Text, "consent-given-on"),
];

const WITHDRAWAL: Spec = &[
    ("withdrawn_on", Kind::Text, "consent-withdrawn-on"),
    (
        "withdrawal_statement",
        Kind::Text,
        "consent-withdrawal-statement",
    ),
    ("reason", Kind::Text, "change-reason"),
];

#[derive(Template)]
#[template(path = "pages/consent_new.html")]
struct ConsentPage {
    c: Chrome,
    errors: FormErrors,
    patient_href: String,
    action: String,
    scopes: Vec<Choice>,
    form_version: String,
    given_on: String,
}

fn consent_page(ctx: &Ctx, patient: uuid::Uuid, fields: &Fields, errors: FormErrors) -> PageResult {
    let ui = &ctx.ui;
    let chosen = |n: &str| value(fields, n).unwrap_or("").to_string();
    html_status(
        errors.status(),
        ConsentPage {
            c: ctx.chrome("consent-new-title"),
            errors,
            patient_href: format!("/patients/{patient}"),
            action: format!("/patients/{patient}/consents"),
            scopes: with_blank(
                ui,
                enum_choices::<ConsentScope>(ui, "consent-scope", &[&chosen("scope")]),
            ),
            form_version: chosen("form_version"),
            given_on: chosen("given_on"),
        },
    )
}

/// `GET /patients/{id}/consents/new`.
pub async fn consent_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    may_create(&ctx, "consent")?;
    consent_page(&ctx, patient.meta.id, &Vec::new(), FormErrors::default())
}

/// `POST /patients/{id}/consents`: records a consent the patient gave.
pub async fn consent_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let patient = patient_in_reach(&state, &ctx, &raw).await?;
    match create_for_patient::<Consent>(&state, &ctx, patient.meta.id, &fields, CONSENT).await? {
        Ok(_) => {
            Ok(Redirect::to(&format!("/patients/{}#consents", patient.meta.id)).into_response())
        }
        Err(errors) => consent_page(&ctx, patient.meta.id, &fields, errors),
    }
}

#[derive(Template)]
#[template(path = "pages/consent.html")]
struct WithdrawPage {
    c: Chrome,
    errors: FormErrors,
    patient_href: String,
    action: String,
    version: i64,
    scope: String,
    form_version: String,
    given_on: String,
    withdrawn: bool,
    withdrawn_on: String,
    withdrawal_statement: String,
    editable: bool,
}

fn withdraw_page(
    ctx: &Ctx,
    consent: &Record<Consent>,
    fields: Option<&Fields>,
    errors: FormErrors,
) -> PageResult {
    let ui = &ctx.ui;
    let field = |n: &str, stored: Option<String>| match fields {
        Some(f) => value(f, n).unwrap_or("").to_string(),
        None => stored.unwrap_or_default(),
    };
    html_status(
        errors.status(),
        WithdrawPage {
            c: ctx.chrome("consent-title"),
            errors,
            patient_href: format!("/patients/{}", consent.data.patient_id),
            action: format!("/consents/{}", consent.meta.id),
            version: consent.meta.version,
            scope: ui.term("consent-scope", &consent.data.scope),
            form_version: consent.data.form_version.to_string(),
            given_on: ui.date(&consent.data.given_on),
            withdrawn: consent.data.withdrawn_on.is_some(),
            withdrawn_on: field(
                "withdrawn_on",
                consent.data.withdrawn_on.map(|d| d.to_string()),
            ),
            withdrawal_statement: field(
                "withdrawal_statement",
                consent
                    .data
                    .withdrawal_statement
                    .as_ref()
                    .map(|t| t.to_string()),
            ),
            editable: may_update(ctx, "consent"),
        },
    )
}

/// `GET /consents/{id}`: a consent, and the form to record its withdrawal.
pub async fn consent_show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    let consent = read_record::<Consent>(&state, actor, id, &format!("/consents/{id}")).await?;
    withdraw_page(&ctx, &consent, None, FormErrors::default())
}

/// `POST /consents/{id}`: records that the patient withdrew the consent (the record is
/// kept, with the day and what the patient said).
pub async fn consent_withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let kinds: Vec<(&str, Kind)> = WITHDRAWAL.iter().map(|(n, k, _)| (*n, *k)).collect();
    let mut body = typed_json(&fields, &kinds);
    body["version"] = value(&fields, "version")
        .and_then(|v| v.parse::<i64>().ok())
        .map(serde_json::Value::from)
        .unwrap_or(serde_json::Value::Null);
    match update_record::<Consent>(&state, actor, id, body).await {
        Ok(c) => {
            Ok(Redirect::to(&format!("/patients/{}#consents", c.data.patient_id)).into_response())
        }
        Err(e) if shown_on_form(&e) => {
            let consent =
                read_record::<Consent>(&state, actor, id, &format!("/consents/{id}")).await?;
            let errors = FormErrors::from_api(&ctx.ui, &e, &labels(WITHDRAWAL));
            withdraw_page(&ctx, &consent, Some(&fields), errors)
        }
        Err(e) => Err(e.into()),
    }
}
