//! `/patients`: find a patient by the institution's own record number (the server
//! computes the keyed pseudonym from what is typed; the number is never stored) and
//! page through the patients in reach; `/patients/new` registers one; `/patients/{id}`
//! is the patient's page: enrolments, administrations, follow-up visits with their
//! windows and status, and adverse events with the report each needs and by when.

use super::home::visit_class;
use super::id_of;
use crate::context::{Chrome, Ctx, PageResult, html, html_status};
use crate::forms::{Choice, Fields, FormErrors, enum_choices, json_of, value};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use saisei_domain::Record;
use saisei_domain::registry::{
    AdverseEvent, Consent, Enrollment, Observation, Organisation, Patient, Sex, Treatment, Visit,
};
use saisei_domain::regulation::DeadlineStatus;
use saisei_server::AppState;
use saisei_server::api::resource::{
    Params, create_record, list_records, list_records_where, read_record,
};
use saisei_server::problem::{ApiError, Code};
use saisei_store::workflow::deadlines::{AeObligation, adverse_event_obligation};

/// Patients per page.
const PAGE: &str = "50";

/// A patient as a row of the list.
pub struct PatientRow {
    /// The patient's page.
    pub href: String,
    /// The pseudonym, shortened for reading (the page shows it whole).
    pub pseudonym: String,
    /// Year and month of birth.
    pub born: String,
    /// Sex in words.
    pub sex: String,
    /// When registered.
    pub registered: String,
}

fn patient_row(ctx: &Ctx, p: &Record<Patient>) -> PatientRow {
    let ui = &ctx.ui;
    PatientRow {
        href: format!("/patients/{}", p.meta.id),
        pseudonym: short(p.data.pseudonym.as_str()),
        born: ui.year_month(
            p.data.birth_year_month.year(),
            p.data.birth_year_month.month(),
        ),
        sex: ui.term("sex", &p.data.sex),
        registered: ui.time(&p.meta.created_at),
    }
}

/// The first twelve characters of a pseudonym: enough to tell patients apart on a
/// screen.
fn short(pseudonym: &str) -> String {
    pseudonym.chars().take(12).collect()
}

#[derive(Template)]
#[template(path = "pages/patients.html")]
struct PatientsPage {
    c: Chrome,
    results: PatientResults,
    errors: FormErrors,
    record_number: String,
    born_from: String,
    born_to: String,
    sexes: Vec<Choice>,
    arms: Vec<Choice>,
    plans: Vec<Choice>,
    sort: String,
    may_search: bool,
    may_register: bool,
}

/// A column heading that orders the list: a link to the same list in the other
/// direction, and `aria-sort` when the list is in its order.
pub struct SortHeading {
    /// The heading's words.
    pub label: String,
    /// The list ordered by this column (the other way round when it already is).
    pub href: String,
    /// `ascending`, `descending`, or empty when the list is in another order.
    pub aria_sort: &'static str,
}

/// The results table (also answered alone to an htmx search).
#[derive(Template)]
#[template(path = "partials/patient_results.html")]
struct PatientResults {
    c: Chrome,
    rows: Vec<PatientRow>,
    searched: bool,
    filtered: bool,
    headings: Vec<SortHeading>,
    next: Option<String>,
}

/// The orders the list offers (the API's `sort` values): newest first by default.
const SORTS: &[&str] = &[
    "-id",
    "id",
    "birth_year_month",
    "-birth_year_month",
    "sex",
    "-sex",
];

/// The filters the list keeps from one page to the next, in the form's order.
const FILTERS: &[&str] = &[
    "record_number",
    "plan_id",
    "arm",
    "sex",
    "born_from",
    "born_to",
];

/// The filters' labels, for the messages beside them.
const FILTER_LABELS: &[(&str, &str)] = &[
    ("born_from", "patients-born-from"),
    ("born_to", "patients-born-to"),
];

/// `/patients?…` with the kept filters and `extra`, for links that page or reorder.
fn list_href(query: &Fields, sort: &str, extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = FILTERS
        .iter()
        .filter_map(|f| value(query, f).map(|v| format!("{f}={}", crate::forms::encode(v))))
        .collect();
    if sort != SORTS[0] {
        parts.push(format!("sort={sort}"));
    }
    if let Some((k, v)) = extra {
        parts.push(format!("{k}={}", crate::forms::encode(v)));
    }
    if parts.is_empty() {
        "/patients".to_string()
    } else {
        format!("/patients?{}", parts.join("&"))
    }
}

/// `GET /patients?record_number=…&plan_id=…&arm=…&sex=…&born_from=…&born_to=…&sort=…&cursor=…`.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    use saisei_domain::registry::{Arm, BirthYearMonth};
    use saisei_store::{Filter, FilterOp, Value};
    let actor = ctx.actor()?;
    let ui = &ctx.ui;
    let record_number = value(&query, "record_number").unwrap_or("").to_string();
    let sort = value(&query, "sort")
        .filter(|s| SORTS.contains(s))
        .unwrap_or(SORTS[0])
        .to_string();
    let mut params: Params = vec![("limit".into(), PAGE.into()), ("sort".into(), sort.clone())];
    if let Some(c) = value(&query, "cursor") {
        params.push(("cursor".into(), c.to_string()));
    }
    // A record number means something only at the institution that issued it.
    let institution = saisei_server::access::own_institution(actor);
    let may_search = institution.is_some() && state.pseudonym_key.is_some();
    let searched = !record_number.is_empty() && may_search;
    if searched && let (Some(key), Some(org)) = (&state.pseudonym_key, institution) {
        let p = key.pseudonym(&org.to_string(), &record_number);
        params.push(("pseudonym".into(), p.as_str().to_string()));
    }
    let sex = value(&query, "sex").unwrap_or("");
    let sexes = enum_choices::<Sex>(ui, "sex", &[sex]);
    if sexes.iter().any(|c| c.selected) {
        params.push(("sex".into(), sex.to_string()));
    }
    // Birth months bound the list; a month that does not read as one is named beside
    // its field and the list is not narrowed by it.
    let mut errors = FormErrors::default();
    let mut narrower = Vec::new();
    for (field, op) in [("born_from", FilterOp::Gte), ("born_to", FilterOp::Lte)] {
        let Some(raw) = value(&query, field) else {
            continue;
        };
        match BirthYearMonth::try_from(raw.to_string()) {
            Ok(m) => narrower.push(Filter::new(
                "birth_year_month",
                op,
                Value::Text(m.to_string()),
            )),
            Err(problem) => {
                let e = ApiError::field(Code::BadParameter, field, problem);
                let mut more = FormErrors::from_api(ui, &e, FILTER_LABELS);
                errors.fields.append(&mut more.fields);
            }
        }
    }
    let arm_raw = value(&query, "arm").unwrap_or("");
    let arm: Option<Arm> = serde_json::from_value(serde_json::Value::String(arm_raw.into())).ok();
    let arms = crate::pages::with_all(ui, enum_choices::<Arm>(ui, "arm", &[arm_raw]));
    let plan_raw = value(&query, "plan_id").unwrap_or("");
    let plan_id = uuid::Uuid::parse_str(plan_raw).ok();
    // An institution chooses among its own plans; a national role's plans are too many
    // for a list, so it has no plan filter.
    let plans = match institution {
        Some(_) => {
            let page = list_records::<saisei_domain::registry::Plan>(
                &state,
                actor,
                &vec![("limit".into(), "200".into())],
                "/plans",
            )
            .await?;
            crate::pages::with_all(
                ui,
                page.items
                    .iter()
                    .map(|p| Choice {
                        value: p.meta.id.to_string(),
                        label: format!("{} {}", p.data.plan_number, p.data.title),
                        selected: plan_id == Some(p.meta.id),
                    })
                    .collect(),
            )
        }
        None => Vec::new(),
    };
    narrower.extend(saisei_server::api::registry::enrolled(plan_id, arm));
    let filtered = !narrower.is_empty() || params.iter().any(|(k, _)| k == "sex");
    let page = list_records_where::<Patient>(&state, actor, &params, narrower, "/patients").await?;
    let rows = page.items.iter().map(|p| patient_row(&ctx, p)).collect();
    let next = page
        .next_cursor
        .map(|c| list_href(&query, &sort, Some(("cursor", &c))));
    let heading = |label: &str, column: &str| {
        let (aria_sort, flip) = if sort == column {
            ("ascending", format!("-{column}"))
        } else if sort == format!("-{column}") {
            ("descending", column.to_string())
        } else {
            ("", column.to_string())
        };
        SortHeading {
            label: ui.t(label),
            href: list_href(&query, &flip, None),
            aria_sort,
        }
    };
    let headings = vec![
        heading("patient-born", "birth_year_month"),
        heading("patient-sex", "sex"),
        heading("col-registered", "id"),
    ];
    let results = PatientResults {
        c: ctx.chrome("patients-title"),
        rows,
        searched,
        filtered,
        headings,
        next,
    };
    if ctx.fragment {
        return html(results);
    }
    let status = if errors.any() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    html_status(
        status,
        PatientsPage {
            c: ctx.chrome("patients-title"),
            results,
            errors,
            record_number,
            born_from: value(&query, "born_from").unwrap_or("").to_string(),
            born_to: value(&query, "born_to").unwrap_or("").to_string(),
            sexes: crate::pages::with_all(ui, sexes),
            arms,
            plans,
            sort,
            may_search,
            may_register: saisei_server::access::authorize(
                actor,
                saisei_server::access::Action::Create,
                "patient",
            )
            .is_ok()
                && institution.is_some(),
        },
    )
}

#[derive(Template)]
#[template(path = "pages/patient_new.html")]
struct NewPatientPage {
    c: Chrome,
    errors: FormErrors,
    institution: String,
    record_number: String,
    birth_year_month: String,
    sexes: Vec<Choice>,
}

/// The new-patient form's fields and their labels, in the form's order.
const NEW_PATIENT: &[(&str, &str)] = &[
    ("record_number", "patient-record-number"),
    ("birth_year_month", "patient-born"),
    ("sex", "patient-sex"),
];

async fn new_patient_page(
    state: &AppState,
    ctx: &Ctx,
    fields: &Fields,
    errors: FormErrors,
) -> PageResult {
    let actor = ctx.actor()?;
    let institution = match actor.organisation_id {
        Some(id) => saisei_server::access::visible::<Organisation>(state, actor, id)
            .await
            .map(|o| o.data.name.to_string())
            .unwrap_or_default(),
        None => String::new(),
    };
    let sexes = enum_choices::<Sex>(&ctx.ui, "sex", &[value(fields, "sex").unwrap_or("")]);
    html_status(
        errors.status(),
        NewPatientPage {
            c: ctx.chrome("patient-new-title"),
            errors,
            institution,
            record_number: value(fields, "record_number").unwrap_or("").to_string(),
            birth_year_month: value(fields, "birth_year_month").unwrap_or("").to_string(),
            sexes,
        },
    )
}

/// `GET /patients/new`.
pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    // A form the user could not submit is not shown.
    saisei_server::access::authorize(
        ctx.actor()?,
        saisei_server::access::Action::Create,
        "patient",
    )?;
    new_patient_page(&state, &ctx, &Vec::new(), FormErrors::default()).await
}

/// `POST /patients`: registers a patient through the API's own create, for the
/// signed-in user's institution; on refusal the form comes back with the values kept
/// and each problem beside its field.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> PageResult {
    let actor = ctx.actor()?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let mut body = json_of(&fields, &["record_number", "birth_year_month", "sex"]);
    if let (Some(org), Some(map)) = (actor.organisation_id, body.as_object_mut()) {
        map.insert("institution_id".into(), org.to_string().into());
    }
    match create_record::<Patient>(&state, actor, body).await {
        Ok(record) => Ok(Redirect::to(&format!("/patients/{}", record.meta.id)).into_response()),
        Err(e) if e.code.status().is_client_error() && e.code != Code::NotFound => {
            let errors = FormErrors::from_api(&ctx.ui, &e, NEW_PATIENT);
            new_patient_page(&state, &ctx, &fields, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// An enrolment as a row.
pub struct EnrollmentRow {
    /// Treated or control, in words.
    pub arm: String,
    /// The plan's page, if under one.
    pub plan_href: Option<String>,
    /// The day enrolled.
    pub enrolled_on: String,
}

/// A consent as a row.
pub struct ConsentRow {
    /// Its page (to record a withdrawal).
    pub href: String,
    /// What it covers, in words.
    pub scope: String,
    /// The form's version.
    pub form_version: String,
    /// Given on.
    pub given_on: String,
    /// Withdrawn on, or a dash.
    pub withdrawn_on: String,
    /// Whether it is withdrawn.
    pub withdrawn: bool,
}

/// An administration as a row.
pub struct TreatmentRow {
    /// Anchor id (the grid links to it).
    pub id: String,
    /// The day.
    pub administered_on: String,
    /// Dose and unit.
    pub dose: String,
    /// Route in words.
    pub route: String,
    /// The plan's page, if under one.
    pub plan_href: Option<String>,
}

/// A visit as a cell of the grid.
pub struct VisitCell {
    /// Where it is recorded.
    pub href: String,
    /// Its label.
    pub label: String,
    /// Target day.
    pub due_on: String,
    /// Window.
    pub window: String,
    /// Done on.
    pub done_on: String,
    /// Status in words.
    pub status: String,
    /// Status token for the icon.
    pub status_class: &'static str,
}

/// An adverse event with what it needs.
pub struct EventRow {
    /// Anchor id.
    pub id: String,
    /// The term as reported.
    pub term: String,
    /// CTCAE grade.
    pub grade: String,
    /// Serious or not, in words.
    pub seriousness: String,
    /// Onset.
    pub onset_on: String,
    /// Known on.
    pub known_on: String,
    /// Outcome in words.
    pub outcome: String,
    /// The report it needs and by when, in words; `None` when outside the Act.
    pub report: Option<String>,
    /// Status of that report in words.
    pub report_status: String,
    /// Status token for the icon.
    pub report_class: &'static str,
    /// The rule it comes from.
    pub rule: String,
}

#[derive(Template)]
#[template(path = "pages/patient.html")]
struct PatientPageT {
    c: Chrome,
    pseudonym: String,
    born: String,
    sex: String,
    registered: String,
    grid: Option<super::grid::Grid>,
    enrollments: Vec<EnrollmentRow>,
    consents: Vec<ConsentRow>,
    treatments: Vec<TreatmentRow>,
    visits: Vec<VisitCell>,
    events: Vec<EventRow>,
    new_treatment: Option<String>,
    new_event: Option<String>,
    new_enrollment: Option<String>,
    new_consent: Option<String>,
}

fn by_patient(id: uuid::Uuid) -> Params {
    vec![
        ("patient_id".into(), id.to_string()),
        ("limit".into(), "1000".into()),
    ]
}

/// `GET /patients/{id}`.
pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(raw): Path<String>) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    let here = format!("/patients/{id}");
    let patient = read_record::<Patient>(&state, actor, id, &here).await?;
    let ui = &ctx.ui;
    let today = state.clock.today_jst();
    let plan_href = |p: Option<uuid::Uuid>| p.map(|p| format!("/plans/{p}"));
    let enrollments = list_records::<Enrollment>(&state, actor, &by_patient(id), &here)
        .await?
        .items
        .iter()
        .map(|e| EnrollmentRow {
            arm: ui.term("arm", &e.data.arm),
            plan_href: plan_href(e.data.plan_id),
            enrolled_on: ui.date(&e.data.enrolled_on),
        })
        .collect();
    let consents = list_records::<Consent>(&state, actor, &by_patient(id), &here)
        .await?
        .items
        .iter()
        .map(|c| ConsentRow {
            href: format!("/consents/{}", c.meta.id),
            scope: ui.term("consent-scope", &c.data.scope),
            form_version: c.data.form_version.to_string(),
            given_on: ui.date(&c.data.given_on),
            withdrawn_on: ui.date_or_dash(&c.data.withdrawn_on),
            withdrawn: c.data.withdrawn_on.is_some(),
        })
        .collect();
    let mut treatments: Vec<Record<Treatment>> =
        list_records::<Treatment>(&state, actor, &by_patient(id), &here)
            .await?
            .items;
    treatments.sort_by_key(|t| t.data.administered_on);
    let treatment_rows = treatments
        .iter()
        .map(|t| TreatmentRow {
            id: format!("treatment-{}", t.meta.id),
            administered_on: ui.date(&t.data.administered_on),
            dose: format!("{} {}", ui.decimal(t.data.dose), t.data.dose_unit),
            route: ui.term("route", &t.data.route),
            plan_href: plan_href(t.data.plan_id),
        })
        .collect();
    let mut visits: Vec<Record<Visit>> =
        list_records::<Visit>(&state, actor, &by_patient(id), &here)
            .await?
            .items;
    visits.sort_by_key(|v| v.data.due_on);
    let visit_rows = visits
        .iter()
        .map(|v| {
            let status = v.data.status(today);
            VisitCell {
                href: format!("/visits/{}", v.meta.id),
                label: v.data.label.to_string(),
                due_on: ui.date(&v.data.due_on),
                window: format!(
                    "{} – {}",
                    ui.date(&v.data.window_opens_on),
                    ui.date(&v.data.window_closes_on)
                ),
                done_on: ui.date_or_dash(&v.data.done_on),
                status: ui.term("visit-status", &status),
                status_class: visit_class(status),
            }
        })
        .collect();
    let observations = list_records::<Observation>(&state, actor, &by_patient(id), &here)
        .await?
        .items;
    let mut marks = Vec::new();
    let mut events = Vec::new();
    let mut records: Vec<Record<AdverseEvent>> =
        list_records::<AdverseEvent>(&state, actor, &by_patient(id), &here)
            .await?
            .items;
    records.sort_by_key(|e| e.data.onset_on);
    for e in &records {
        let obligation = adverse_event_obligation(&state.store, state.rules, &e.data, today)
            .await
            .map_err(ApiError::from)?;
        let (report, report_status, report_class, rule) = match &obligation {
            AeObligation::Report(d, s) => (
                Some(ui.args(
                    "ae-report-by",
                    &[
                        ("what", ui.term("deadline-category", &d.category)),
                        ("date", ui.date(&d.due_on)),
                    ],
                )),
                ui.term("deadline-status", &s.status),
                match s.status {
                    DeadlineStatus::Due => "due",
                    DeadlineStatus::Overdue => "overdue",
                    DeadlineStatus::Done => "done",
                },
                format!("{} · {}", d.rule_set, d.citation),
            ),
            AeObligation::NotSuspected => {
                (None, ui.t("ae-not-suspected"), "scheduled", String::new())
            }
            AeObligation::NotUnderTheAct => {
                (None, ui.t("ae-outside-act"), "scheduled", String::new())
            }
        };
        let reportable = matches!(obligation, AeObligation::Report(..));
        marks.push(super::grid::EventMark {
            anchor: format!("ae-{}", e.meta.id),
            onset_on: e.data.onset_on,
            report_class: reportable.then_some(report_class),
        });
        events.push(EventRow {
            id: format!("ae-{}", e.meta.id),
            term: e.data.verbatim_term.to_string(),
            grade: e
                .data
                .grade
                .map(|g| g.get().to_string())
                .unwrap_or_else(|| "—".into()),
            seriousness: if e.data.seriousness.is_empty() {
                ui.t("ae-not-serious")
            } else {
                e.data
                    .seriousness
                    .iter()
                    .map(|s| ui.term("seriousness", s))
                    .collect::<Vec<_>>()
                    .join(&ui.t("list-separator"))
            },
            onset_on: ui.date(&e.data.onset_on),
            known_on: ui.date(&e.data.known_on),
            outcome: ui.term("outcome", &e.data.outcome),
            report,
            report_status,
            report_class,
            rule,
        });
    }
    html(PatientPageT {
        c: ctx.chrome_titled(ctx.ui.t1(
            "patient-title",
            "pseudonym",
            short(patient.data.pseudonym.as_str()),
        )),
        pseudonym: patient.data.pseudonym.to_string(),
        born: ui.year_month(
            patient.data.birth_year_month.year(),
            patient.data.birth_year_month.month(),
        ),
        sex: ui.term("sex", &patient.data.sex),
        registered: ui.time(&patient.meta.created_at),
        grid: super::grid::grid(ui, today, &treatments, &visits, &observations, &marks),
        enrollments,
        consents,
        treatments: treatment_rows,
        visits: visit_rows,
        events,
        new_treatment: may_create(actor, "treatment")
            .then(|| format!("/patients/{id}/treatments/new")),
        new_event: may_create(actor, "adverse_event")
            .then(|| format!("/patients/{id}/adverse-events/new")),
        new_enrollment: may_create(actor, "enrollment")
            .then(|| format!("/patients/{id}/enrollments/new")),
        new_consent: may_create(actor, "consent").then(|| format!("/patients/{id}/consents/new")),
    })
}

fn may_create(actor: &saisei_server::access::Actor, kind: &str) -> bool {
    saisei_server::access::authorize(actor, saisei_server::access::Action::Create, kind).is_ok()
}

/// `GET /adverse-events/{id}`: the event on its patient's page.
pub async fn adverse_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> PageResult {
    let actor = ctx.actor()?;
    let id = id_of(&raw)?;
    let event =
        read_record::<AdverseEvent>(&state, actor, id, &format!("/adverse-events/{id}")).await?;
    Ok(Redirect::to(&format!("/patients/{}#ae-{id}", event.data.patient_id)).into_response())
}
