//! `/plans/new`: a new provision plan, in two steps. First the therapy questions (what
//! is given, whose cells, how they were handled, what for); the page then shows the
//! class the rules in force give it, the rule that decided with its citation, and the
//! committees that may review it. Second the plan itself, filed as a draft under that
//! class with the therapy stored beside it. Step one is a GET (nothing is stored, the
//! answers can be bookmarked); step two posts the API's own plan JSON through the API's
//! own create. The class is the classifier's, never typed: the web page has no rule of
//! its own.

use crate::context::{Chrome, Ctx, PageError, PageResult, html_status};
use crate::forms::{Choice, Fields, FormErrors, value};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use saisei_domain::registry::{Organisation, Plan, Practitioner, Profession};
use saisei_domain::regulation::{
    ApprovedProductUse, CellKind, CellSource, Classification, CommitteeKind, Material,
    NucleicAcidKind, Procedure, Purpose, RiskClass, TherapyDescription, TherapyInput, classify,
    required_committees,
};
use saisei_server::AppState;
use saisei_server::access::{Action, authorize};
use saisei_server::api::resource::{Params, create_record, list_records};
use saisei_server::problem::{ApiError, Code};

/// The therapy questions' field names: the API's `therapy` object, its keys joined by
/// dots, so a refusal names the same field the API would.
const MATERIAL: &str = "therapy.material";
const CELL_FIELDS: &[&str] = &[
    "therapy.cell_source",
    "therapy.cell_kind",
    "therapy.cultured",
    "therapy.homologous_use",
    "therapy.procedure",
    "therapy.minimally_manipulated",
];
/// Answers for cells and nucleic acids alike.
const PRODUCT_FIELDS: &[&str] = &[
    "therapy.approved_product_use",
    "therapy.prepared_with_approved_device",
];
const NUCLEIC_FIELDS: &[&str] = &["therapy.nucleic_acid_kind", "therapy.designated_vaccine"];
const GENE_FIELDS: &[&str] = &["therapy.gene_introduced", "therapy.genome_edited"];
const SOURCE_FIELDS: &[&str] = &[
    "therapy.source.cell_source",
    "therapy.source.cell_kind",
    "therapy.source.gene_introduced",
    "therapy.source.genome_edited",
    "therapy.source.cultured",
    "therapy.carries_nucleic_acid",
];

/// Every therapy field with its label's catalogue key, in the form's order.
const THERAPY_LABELS: &[(&str, &str)] = &[
    ("therapy.material", "therapy-material"),
    ("therapy.purpose", "therapy-purpose"),
    ("therapy.cell_source", "therapy-cell-source"),
    ("therapy.cell_kind", "therapy-cell-kind"),
    ("therapy.gene_introduced", "therapy-gene-introduced"),
    ("therapy.genome_edited", "therapy-genome-edited"),
    ("therapy.cultured", "therapy-cultured"),
    ("therapy.homologous_use", "therapy-homologous-use"),
    ("therapy.procedure", "therapy-procedure"),
    (
        "therapy.minimally_manipulated",
        "therapy-minimally-manipulated",
    ),
    (
        "therapy.approved_product_use",
        "therapy-approved-product-use",
    ),
    (
        "therapy.prepared_with_approved_device",
        "therapy-prepared-with-approved-device",
    ),
    ("therapy.nucleic_acid_kind", "therapy-nucleic-acid-kind"),
    ("therapy.designated_vaccine", "therapy-designated-vaccine"),
    (
        "therapy.carries_nucleic_acid",
        "therapy-carries-nucleic-acid",
    ),
    ("therapy.source.cell_source", "therapy-source-cell-source"),
    ("therapy.source.cell_kind", "therapy-source-cell-kind"),
    (
        "therapy.source.gene_introduced",
        "therapy-source-gene-introduced",
    ),
    (
        "therapy.source.genome_edited",
        "therapy-source-genome-edited",
    ),
    ("therapy.source.cultured", "therapy-source-cultured"),
];

/// The plan's own fields with their labels, in the form's order.
const PLAN_LABELS: &[(&str, &str)] = &[
    ("plan_number", "col-plan-number"),
    ("title", "plan-title"),
    ("target_disease", "col-disease"),
    ("material_description", "plan-material"),
    ("responsible_physician_id", "plan-physician"),
    ("committee_id", "plan-committee"),
    ("expected_efficacy", "plan-expected-efficacy"),
    ("evaluation_method", "plan-evaluation-method"),
];

/// One question of step one: a select with its choices.
pub struct Question {
    /// Field name.
    pub name: &'static str,
    /// Label in words.
    pub label: String,
    /// Help in words (empty for none).
    pub help: String,
    /// Its help's element id (empty for none).
    pub help_id: String,
    /// The choices, the blank first.
    pub options: Vec<Choice>,
}

/// The classification shown after step one.
pub struct Verdict {
    /// The class in words.
    pub class: String,
    /// Whether the therapy is outside the Act (no plan is filed).
    pub outside: bool,
    /// The deciding rule's citation, then the other rules reaching the same class.
    pub reasons: Vec<String>,
    /// The rule set applied.
    pub rule_set: String,
    /// The committees that may review, in words.
    pub committees: String,
}

#[derive(Template)]
#[template(path = "pages/plan_new.html")]
struct NewPlanPage {
    c: Chrome,
    errors: FormErrors,
    cells: Vec<Question>,
    common: Vec<Question>,
    nucleic: Vec<Question>,
    derived: Vec<Question>,
    verdict: Option<Verdict>,
    /// The therapy answers carried into step two.
    carried: Vec<(String, String)>,
    plan_errors: FormErrors,
    plan_number: String,
    title: String,
    target_disease: String,
    material_description: String,
    expected_efficacy: String,
    evaluation_method: String,
    physicians: Vec<Choice>,
    committees: Vec<Choice>,
}

fn chosen(fields: &Fields, name: &str) -> String {
    value(fields, name).unwrap_or("").to_string()
}

fn options(ui: &crate::i18n::Ui, group: &str, values: &[&str], current: &str) -> Vec<Choice> {
    let mut out = vec![Choice {
        value: String::new(),
        label: ui.t("choose"),
        selected: current.is_empty(),
    }];
    out.extend(values.iter().map(|v| Choice {
        value: (*v).to_string(),
        label: ui.t(&format!("{group}-{}", v.replace('_', "-"))),
        selected: *v == current,
    }));
    out
}

fn question(
    ctx: &Ctx,
    fields: &Fields,
    name: &'static str,
    group: &str,
    values: &[&str],
    help: Option<&str>,
) -> Question {
    let label_key = THERAPY_LABELS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, l)| *l)
        .unwrap_or("");
    Question {
        name,
        label: ctx.ui.t(label_key),
        help: help.map(|h| ctx.ui.t(h)).unwrap_or_default(),
        help_id: help.map(|_| format!("{name}-help")).unwrap_or_default(),
        options: options(&ctx.ui, group, values, &chosen(fields, name)),
    }
}

const YES_NO: &[&str] = &["true", "false"];

fn names<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| f(*v)).collect()
}

/// The therapy the answers describe, as the API's wire form: only the answers that
/// belong to the chosen material are taken (the form shows every question, grouped by
/// material, so that it works without a script).
fn therapy_input(fields: &Fields) -> TherapyInput {
    let text = |n: &str| value(fields, n).map(str::to_string);
    let flag = |n: &str| value(fields, n).map(|v| v == "true");
    let material = text(MATERIAL);
    let m = material.as_deref().unwrap_or("");
    let cells = m == "cells";
    let derived = m == "ev" || m == "culture_supernatant";
    let nucleic = m == "nucleic_acid";
    let genes = cells || nucleic;
    let pick = |on: bool, v: Option<String>| if on { v } else { None };
    let pick_flag = |on: bool, v: Option<bool>| if on { v } else { None };
    let source = derived.then(|| saisei_domain::regulation::SourceCellsInput {
        cell_source: text("therapy.source.cell_source"),
        cell_kind: text("therapy.source.cell_kind"),
        gene_introduced: flag("therapy.source.gene_introduced"),
        genome_edited: flag("therapy.source.genome_edited"),
        cultured: flag("therapy.source.cultured"),
    });
    TherapyInput {
        material,
        cell_source: pick(cells, text("therapy.cell_source")),
        cell_kind: pick(cells, text("therapy.cell_kind")),
        gene_introduced: pick_flag(genes, flag("therapy.gene_introduced")),
        genome_edited: pick_flag(genes, flag("therapy.genome_edited")),
        cultured: pick_flag(cells, flag("therapy.cultured")),
        homologous_use: pick_flag(cells, flag("therapy.homologous_use")),
        purpose: text("therapy.purpose"),
        procedure: pick(cells, text("therapy.procedure")),
        source,
        minimally_manipulated: pick_flag(cells, flag("therapy.minimally_manipulated")),
        approved_product_use: pick(genes, text("therapy.approved_product_use")),
        prepared_with_approved_device: pick_flag(
            genes,
            flag("therapy.prepared_with_approved_device"),
        ),
        nucleic_acid_kind: pick(nucleic, text("therapy.nucleic_acid_kind")),
        designated_vaccine: pick_flag(nucleic, flag("therapy.designated_vaccine")),
        carries_nucleic_acid: pick_flag(derived, flag("therapy.carries_nucleic_acid")),
    }
}

/// The answers that were given, to carry into step two as hidden fields.
fn carried(fields: &Fields) -> Vec<(String, String)> {
    let mut all = vec![MATERIAL, "therapy.purpose"];
    all.extend(CELL_FIELDS);
    all.extend(GENE_FIELDS);
    all.extend(PRODUCT_FIELDS);
    all.extend(NUCLEIC_FIELDS);
    all.extend(SOURCE_FIELDS);
    all.iter()
        .filter_map(|n| value(fields, n).map(|v| (n.to_string(), v.to_string())))
        .collect()
}

/// The therapy described, or the form's errors naming the question at fault (in the
/// page's language: a missing answer is "required", anything else the domain's words).
fn described(ctx: &Ctx, fields: &Fields) -> Result<TherapyDescription, FormErrors> {
    TherapyDescription::try_from(therapy_input(fields)).map_err(|e| {
        let field = format!("therapy.{}", e.field);
        let problem = match e.problem {
            saisei_domain::regulation::TherapyProblem::Missing { .. } => String::new(),
            // A contradiction between answers is explained in the page's language, by
            // the field it was found on.
            saisei_domain::regulation::TherapyProblem::Inconsistent(_) => ctx.ui.t(&format!(
                "therapy-inconsistent-{}",
                e.field.replace(['.', '_'], "-")
            )),
            other => other.to_string(),
        };
        let error = if problem.is_empty() {
            ApiError::field(Code::ValidationFailed, field, "is required")
        } else {
            ApiError::field(Code::ValidationFailed, field, problem)
        };
        FormErrors::from_api(&ctx.ui, &error, THERAPY_LABELS)
    })
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    ctx: &Ctx,
    fields: &Fields,
    errors: FormErrors,
    plan_errors: FormErrors,
    therapy: Option<&TherapyDescription>,
) -> PageResult {
    let actor = ctx.actor()?;
    let ui = &ctx.ui;
    let q = |name, group, values: &[&str], help| question(ctx, fields, name, group, values, help);
    let sources = names(CellSource::ALL, CellSource::as_str);
    let kinds = names(CellKind::ALL, CellKind::as_str);
    let common = vec![
        q(
            MATERIAL,
            "therapy-material",
            &names(Material::ALL, Material::as_str),
            Some("therapy-material-help"),
        ),
        q(
            "therapy.purpose",
            "therapy-purpose",
            &names(Purpose::ALL, Purpose::as_str),
            Some("therapy-purpose-help"),
        ),
        q(
            "therapy.gene_introduced",
            "yes-no",
            YES_NO,
            Some("therapy-gene-help"),
        ),
        q("therapy.genome_edited", "yes-no", YES_NO, None),
        q(
            "therapy.approved_product_use",
            "therapy-approved-product-use",
            &names(ApprovedProductUse::ALL, ApprovedProductUse::as_str),
            Some("therapy-approved-product-use-help"),
        ),
        q(
            "therapy.prepared_with_approved_device",
            "yes-no",
            YES_NO,
            Some("therapy-device-help"),
        ),
    ];
    let cells = vec![
        q("therapy.cell_source", "therapy-cell-source", &sources, None),
        q("therapy.cell_kind", "therapy-cell-kind", &kinds, None),
        q("therapy.cultured", "yes-no", YES_NO, None),
        q(
            "therapy.homologous_use",
            "yes-no",
            YES_NO,
            Some("therapy-homologous-help"),
        ),
        q(
            "therapy.procedure",
            "therapy-procedure",
            &names(Procedure::ALL, Procedure::as_str),
            Some("therapy-procedure-help"),
        ),
        q(
            "therapy.minimally_manipulated",
            "yes-no",
            YES_NO,
            Some("therapy-minimal-help"),
        ),
    ];
    let nucleic = vec![
        q(
            "therapy.nucleic_acid_kind",
            "therapy-nucleic-acid-kind",
            &names(NucleicAcidKind::ALL, NucleicAcidKind::as_str),
            Some("therapy-nucleic-acid-kind-help"),
        ),
        q("therapy.designated_vaccine", "yes-no", YES_NO, None),
    ];
    let derived = vec![
        q(
            "therapy.source.cell_source",
            "therapy-cell-source",
            &sources,
            None,
        ),
        q(
            "therapy.source.cell_kind",
            "therapy-cell-kind",
            &kinds,
            None,
        ),
        q("therapy.source.gene_introduced", "yes-no", YES_NO, None),
        q("therapy.source.genome_edited", "yes-no", YES_NO, None),
        q("therapy.source.cultured", "yes-no", YES_NO, None),
        q("therapy.carries_nucleic_acid", "yes-no", YES_NO, None),
    ];
    let today = state.clock.today_jst();
    let rules = state
        .rules
        .in_force_on(today)
        .map_err(|e| ApiError::new(Code::NotConfigured, e.to_string()))?;
    let mut physicians = Vec::new();
    let mut committees = Vec::new();
    let verdict = match therapy {
        None => None,
        Some(t) => {
            let result = classify(rules, t);
            let class = match result.class {
                Classification::One => Some(RiskClass::One),
                Classification::Two => Some(RiskClass::Two),
                Classification::Three => Some(RiskClass::Three),
                Classification::Outside => None,
            };
            let reasons = result
                .reasons
                .iter()
                .map(|r| {
                    ui.args(
                        "plan-class-reason",
                        &[
                            ("cites", r.cites.clone()),
                            ("rule", r.rule.clone()),
                            ("since", ui.date(&r.since)),
                        ],
                    )
                })
                .collect();
            let accepted: Vec<CommitteeKind> = class
                .map(|c| required_committees(rules, c).to_vec())
                .unwrap_or_default();
            if class.is_some() {
                let chosen_committee = chosen(fields, "committee_id");
                // Committees by kind: a registry has thousands of institutions, and
                // only the kinds this class accepts are offered.
                for kind in &accepted {
                    let org_kind = match kind {
                        CommitteeKind::Certified => "certified_committee",
                        CommitteeKind::SpeciallyCertified => "specially_certified_committee",
                    };
                    let params: Params = vec![
                        ("kind".into(), org_kind.into()),
                        ("limit".into(), "1000".into()),
                    ];
                    let orgs =
                        list_records::<Organisation>(state, actor, &params, "/plans/new").await?;
                    committees.extend(orgs.items.iter().map(|o| Choice {
                        value: o.meta.id.to_string(),
                        label: o.data.name.to_string(),
                        selected: chosen_committee == o.meta.id.to_string(),
                    }));
                }
                committees = crate::pages::with_blank(ui, committees);
                let chosen_physician = chosen(fields, "responsible_physician_id");
                if let Some(org) = actor.organisation_id {
                    let params: Params = vec![
                        ("organisation_id".into(), org.to_string()),
                        ("limit".into(), "1000".into()),
                    ];
                    physicians = list_records::<Practitioner>(state, actor, &params, "/plans/new")
                        .await?
                        .items
                        .iter()
                        .filter(|p| p.data.profession == Profession::Physician)
                        .map(|p| Choice {
                            value: p.meta.id.to_string(),
                            label: p.data.name.to_string(),
                            selected: chosen_physician == p.meta.id.to_string(),
                        })
                        .collect();
                }
                physicians = crate::pages::with_blank(ui, physicians);
            }
            Some(Verdict {
                class: match class {
                    Some(c) => ui.term("risk-class", &c),
                    None => ui.t("class-outside"),
                },
                outside: class.is_none(),
                reasons,
                rule_set: format!("{} — {}", rules.id(), rules.title()),
                committees: accepted
                    .iter()
                    .map(|k| ui.term("committee-kind", k))
                    .collect::<Vec<_>>()
                    .join(&ui.t("list-separator")),
            })
        }
    };
    let status = if errors.any() || plan_errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_status(
        status,
        NewPlanPage {
            c: ctx.chrome("plan-new-title"),
            errors,
            cells,
            common,
            nucleic,
            derived,
            verdict,
            carried: carried(fields),
            plan_errors,
            plan_number: chosen(fields, "plan_number"),
            title: chosen(fields, "title"),
            target_disease: chosen(fields, "target_disease"),
            material_description: chosen(fields, "material_description"),
            expected_efficacy: chosen(fields, "expected_efficacy"),
            evaluation_method: chosen(fields, "evaluation_method"),
            physicians,
            committees,
        },
    )
}

/// A form the user could not submit is not shown: the role must be allowed to create
/// plans, for an institution.
fn may_file(ctx: &Ctx) -> Result<(), PageError> {
    let actor = ctx.actor()?;
    authorize(actor, Action::Create, "plan")?;
    if actor.organisation_id.is_none() {
        return Err(ApiError::new(Code::Forbidden, "plans are filed by an institution").into());
    }
    Ok(())
}

/// `GET /plans/new?therapy.material=…`: the questions; once answered, the class with
/// its reasons and the plan's own fields.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<Fields>,
) -> PageResult {
    may_file(&ctx)?;
    if value(&query, MATERIAL).is_none() {
        return page(
            &state,
            &ctx,
            &query,
            FormErrors::default(),
            FormErrors::default(),
            None,
        )
        .await;
    }
    match described(&ctx, &query) {
        Ok(t) => {
            page(
                &state,
                &ctx,
                &query,
                FormErrors::default(),
                FormErrors::default(),
                Some(&t),
            )
            .await
        }
        Err(errors) => page(&state, &ctx, &query, errors, FormErrors::default(), None).await,
    }
}

/// `POST /plans`: files the plan as a draft under the class its therapy gets, through
/// the API's own create; on refusal the page comes back with the answers kept.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> PageResult {
    may_file(&ctx)?;
    let actor = ctx.actor()?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let therapy = match described(&ctx, &fields) {
        Ok(t) => t,
        Err(errors) => {
            return page(&state, &ctx, &fields, errors, FormErrors::default(), None).await;
        }
    };
    let rules = state
        .rules
        .in_force_on(state.clock.today_jst())
        .map_err(|e| ApiError::new(Code::NotConfigured, e.to_string()))?;
    let class = classify(rules, &therapy).class;
    if class == Classification::Outside {
        let errors = FormErrors {
            fields: Vec::new(),
            general: Some(ctx.ui.t("plan-outside-act")),
        };
        return page(
            &state,
            &ctx,
            &fields,
            FormErrors::default(),
            errors,
            Some(&therapy),
        )
        .await;
    }
    let names: Vec<&str> = PLAN_LABELS.iter().map(|(n, _)| *n).collect();
    let mut body = crate::forms::json_of(&fields, &names);
    body["therapy"] =
        serde_json::to_value(&therapy).map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    body["risk_class"] = class.as_str().into();
    if let Some(org) = actor.organisation_id {
        body["institution_id"] = org.to_string().into();
    }
    match create_record::<Plan>(&state, actor, body).await {
        Ok(record) => Ok(Redirect::to(&format!("/plans/{}", record.meta.id)).into_response()),
        Err(e) if e.code.status().is_client_error() && e.code != Code::NotFound => {
            let errors = FormErrors::from_api(&ctx.ui, &e, PLAN_LABELS);
            page(
                &state,
                &ctx,
                &fields,
                FormErrors::default(),
                errors,
                Some(&therapy),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
