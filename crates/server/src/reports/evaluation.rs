//! The evaluation report: the results of one analysis as a self-contained page (inline
//! CSS and SVG plots, no external assets), for reading, printing and filing.
//!
//! The numbers come formatted from here, the plots from `saisei_evidence::plot`, and the
//! markup (with askama's escaping) from `templates/reports/evaluation.html`, which
//! shares its layout with the periodic report.

use super::{num, opt, p_value};
use askama::Template;
use saisei_domain::evaluation::{EffectMeasure, Severity, Verdict};
use saisei_evidence::plot;
use saisei_evidence::results::*;

/// A row of a two-column table.
pub struct Field {
    label: &'static str,
    /// One line per entry.
    lines: Vec<String>,
    /// Shown as a problem.
    gap: bool,
}

fn field(label: &'static str, value: impl Into<String>) -> Field {
    Field {
        label,
        lines: vec![value.into()],
        gap: false,
    }
}

/// One finding of the plan check.
pub struct Finding {
    item: &'static str,
    field: String,
    message: String,
    gap: bool,
}

/// One endpoint's section.
pub struct EndpointView {
    role: &'static str,
    name: String,
    definition: String,
    criterion: String,
    met: Option<bool>,
    adjudication: String,
    information: Option<String>,
    problem: Option<String>,
    kind: String,
    treated: String,
    control: String,
    missing: Vec<[String; 3]>,
    measure: Option<&'static str>,
    estimates: Vec<[String; 7]>,
    forest: Option<String>,
    interim: Vec<InterimRow>,
    design: Option<DesignView>,
    km: Option<KmView>,
}

/// One interim look.
pub struct InterimRow {
    cells: [String; 6],
    met: Option<bool>,
}

/// How the comparison was adjusted.
pub struct DesignView {
    method: String,
    n_treated: usize,
    n_control: usize,
    dropped_treated: usize,
    balance: Vec<[String; 3]>,
    love: String,
    propensity: String,
}

/// The Kaplan–Meier section.
pub struct KmView {
    plot: String,
    months: Vec<String>,
    treated: Vec<usize>,
    control: Vec<usize>,
    arms: Vec<[String; 4]>,
    logrank_p: String,
}

/// One pair of adjudicators.
pub struct PairView {
    pair: String,
    /// n, observed agreement, κ, interval; or the reason κ is undefined.
    kappa: Result<[String; 4], String>,
}

/// The quality–efficacy section.
pub struct CqaView {
    endpoint: String,
    model: String,
    patients: usize,
    fdr: String,
    problem: Option<String>,
    candidates: String,
    effect_name: String,
    attributes: Vec<AttributeRow>,
    forest: Option<String>,
}

/// One quality attribute.
pub struct AttributeRow {
    attribute: String,
    candidate: bool,
    cells: [String; 7],
    subgroups: String,
}

#[derive(Template)]
#[template(path = "reports/evaluation.html")]
struct EvaluationView<'a> {
    r: &'a EvaluationResults,
    verdict_words: &'static str,
    plan: Vec<Field>,
    findings: Vec<Finding>,
    gaps: usize,
    flow: Vec<[String; 5]>,
    baseline: Vec<[String; 5]>,
    endpoints: Vec<EndpointView>,
    pairs: Vec<PairView>,
    cqa: Option<CqaView>,
    counts: Vec<(String, u64)>,
}

fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "Success criterion met",
        Verdict::NotMet => "Success criterion not met",
        Verdict::NotYetEvaluable => "Not yet evaluable",
    }
}

fn or_dash(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "—".into())
}

fn plan_fields(r: &EvaluationResults) -> Vec<Field> {
    let p = &r.plan;
    let mut out = vec![
        field("Product", p.product.clone()),
        field(
            "Approval",
            p.approval.clone().unwrap_or_else(|| "none recorded".into()),
        ),
        field("Re-application due", or_dash(p.reapplication_due)),
        Field {
            label: "Conditions",
            lines: if p.conditions.is_empty() {
                vec!["—".into()]
            } else {
                p.conditions.clone()
            },
            gap: false,
        },
        field(
            "Control source",
            p.control_source
                .clone()
                .unwrap_or_else(|| "not stated".into()),
        ),
        field(
            "Adjustment",
            p.method.clone().unwrap_or_else(|| "not stated".into()),
        ),
        field("Covariates", p.covariates.join(", ")),
        field(
            "Targets",
            format!(
                "{} treated, {} controls",
                or_dash(p.targets.0),
                or_dash(p.targets.1)
            ),
        ),
    ];
    if let Some(w) = &r.power {
        out.push(field(
            "Power calculation",
            format!(
                "{} treated and {} controls required{}: {}",
                w.required_treated,
                w.required_controls,
                w.required_events
                    .map(|e| format!(" ({e} events)"))
                    .unwrap_or_default(),
                w.method
            ),
        ));
    }
    if let Some(problem) = &r.power_problem {
        out.push(Field {
            label: "Power calculation",
            lines: vec![problem.clone()],
            gap: true,
        });
    }
    out
}

/// The threshold of an endpoint's criterion (criteria are stored in words; the
/// threshold is the last number in them).
fn criterion_threshold(e: &EndpointResult) -> Option<f64> {
    e.criterion
        .as_deref()?
        .split_whitespace()
        .last()?
        .parse::<f64>()
        .ok()
}

/// An analysis's name, short enough for a plot's axis.
fn short(s: &str) -> String {
    let s = s
        .replace("Sensitivity: ", "")
        .replace("Pre-specified: ", "");
    if s.chars().count() > 38 {
        format!("{}…", s.chars().take(37).collect::<String>())
    } else {
        s
    }
}

fn endpoint(e: &EndpointResult) -> Result<EndpointView, String> {
    let arm = |a: &Option<ArmOutcome>| match a {
        None => "—".to_string(),
        Some(a) => match (e.kind.as_str(), a.count) {
            ("continuous", _) => format!("mean {} (n = {})", num(a.value, 2), a.n),
            ("time_to_event", Some(c)) => format!("{c} events in {} patients", a.n),
            (_, Some(c)) => format!("{c}/{} ({:.1} %)", a.n, a.value * 100.0),
            _ => format!("{}", a.n),
        },
    };
    let all: Vec<&EffectEstimate> = e.estimate.iter().chain(e.sensitivity.iter()).collect();
    let measure = all.first().map(|x| x.measure);
    let estimates = all
        .iter()
        .map(|x| {
            [
                x.analysis.clone(),
                x.n_treated.to_string(),
                x.n_control.to_string(),
                match (x.events_treated, x.events_control) {
                    (Some(a), Some(b)) => format!("{a} / {b}"),
                    _ => "—".into(),
                },
                num(x.value, 3),
                format!(
                    "{:.0} %: {} to {}",
                    x.level * 100.0,
                    num(x.lower, 3),
                    num(x.upper, 3)
                ),
                p_value(x.p),
            ]
        })
        .collect();
    let forest = match measure {
        None => None,
        Some(m) => {
            let rows: Vec<(String, f64, f64, f64)> = all
                .iter()
                .map(|x| (short(&x.analysis), x.value, x.lower, x.upper))
                .collect();
            Some(plot::forest(
                &rows,
                Some(m),
                criterion_threshold(e),
                &format!("{}: estimates", e.name),
            )?)
        }
    };
    let design = match &e.design {
        None => None,
        Some(d) => Some(DesignView {
            method: d.method.clone(),
            n_treated: d.n_treated,
            n_control: d.n_control,
            dropped_treated: d.dropped_treated,
            balance: d
                .balance
                .iter()
                .map(|b| [b.name.clone(), num(b.smd_before, 3), num(b.smd_after, 3)])
                .collect(),
            love: plot::love(&d.balance, "Covariate balance (love plot)")?,
            propensity: plot::propensity(&d.ps_histogram, "Propensity scores")?,
        }),
    };
    let km = match &e.km {
        None => None,
        Some(k) => Some(KmView {
            plot: plot::km(
                k,
                &format!("{}: event-free proportion (adjusted sample)", e.name),
            )?,
            months: k.at_risk.iter().map(|a| a.months.to_string()).collect(),
            treated: k.at_risk.iter().map(|a| a.treated).collect(),
            control: k.at_risk.iter().map(|a| a.control).collect(),
            arms: k
                .arms
                .iter()
                .map(|a| {
                    [
                        a.label.clone(),
                        a.n.to_string(),
                        a.events.to_string(),
                        a.median_months
                            .map(|m| num(m, 1))
                            .unwrap_or_else(|| "not reached".into()),
                    ]
                })
                .collect(),
            logrank_p: k.logrank_p.map(p_value).unwrap_or_else(|| "—".into()),
        }),
    };
    Ok(EndpointView {
        role: if e.primary { "Primary" } else { "Secondary" },
        name: e.name.clone(),
        definition: e.definition.clone(),
        criterion: e
            .criterion
            .clone()
            .unwrap_or_else(|| "none pre-specified".into()),
        met: e.criterion_met,
        adjudication: if e.adjudicated {
            format!(
                "yes — {} candidate event(s) awaiting adjudication, {} rejected",
                e.pending_adjudications, e.rejected_by_adjudication
            )
        } else {
            "no".into()
        },
        information: e
            .information_fraction
            .map(|f| format!("{:.0} % of the target", f * 100.0)),
        problem: e.problem.clone(),
        kind: e.kind.replace('_', "-"),
        treated: arm(&e.treated),
        control: arm(&e.control),
        missing: e
            .missing
            .iter()
            .map(|(reason, t, c)| [reason.clone(), t.to_string(), c.to_string()])
            .collect(),
        measure: measure.map(EffectMeasure::as_str),
        estimates,
        forest,
        interim: e
            .interim
            .iter()
            .map(|l| InterimRow {
                cells: [
                    format!("{:.2}", l.fraction),
                    format!("{:.5}", l.cumulative_alpha),
                    format!("{:.5}", l.nominal_alpha),
                    format!("{:.4}", l.level),
                    if l.current {
                        "due now"
                    } else if l.reached {
                        "passed"
                    } else {
                        "not yet"
                    }
                    .into(),
                    l.interval
                        .map(|(a, b)| format!("{} to {}", num(a, 3), num(b, 3)))
                        .unwrap_or_else(|| "—".into()),
                ],
                met: l.criterion_met,
            })
            .collect(),
        design,
        km,
    })
}

fn cqa(q: &CqaResult) -> Result<CqaView, String> {
    let rows: Vec<(String, f64, f64, f64)> = q
        .attributes
        .iter()
        .filter_map(|a| Some((a.attribute.clone(), a.effect?, a.lower?, a.upper?)))
        .collect();
    let forest = if rows.is_empty() || q.problem.is_some() {
        None
    } else {
        let ratio = q.model != "linear";
        Some(plot::forest(
            &rows,
            (!ratio).then_some(EffectMeasure::MeanDifference),
            None,
            &format!("Quality attributes: {}", q.effect_name),
        )?)
    };
    Ok(CqaView {
        endpoint: q.endpoint.clone(),
        model: q.model.clone(),
        patients: q.patients,
        fdr: q.fdr.to_string(),
        problem: q.problem.clone(),
        candidates: if q.candidates.is_empty() {
            "none at this FDR".into()
        } else {
            q.candidates.join(", ")
        },
        effect_name: q.effect_name.clone(),
        attributes: q
            .attributes
            .iter()
            .map(|a| {
                let subgroups = a
                    .subgroups
                    .as_ref()
                    .map(|s| {
                        let f = |o: &ArmOutcome| match o.count {
                            Some(c) => format!("{c}/{} ({:.0} %)", o.n, o.value * 100.0),
                            None => format!("{} (n = {})", num(o.value, 2), o.n),
                        };
                        format!("{} / {}", f(&s.below), f(&s.above))
                    })
                    .unwrap_or_else(|| a.problem.clone().unwrap_or_default());
                AttributeRow {
                    attribute: a.attribute.clone(),
                    candidate: a.candidate,
                    cells: [
                        a.n.to_string(),
                        a.lots.to_string(),
                        format!("{} ({}) {}", num(a.mean, 2), num(a.sd, 2), a.unit),
                        opt(a.effect, 3),
                        format!("{} to {}", opt(a.lower, 3), opt(a.upper, 3)),
                        a.p.map(p_value).unwrap_or_else(|| "—".into()),
                        opt(a.q, 3),
                    ],
                    subgroups,
                }
            })
            .collect(),
        forest,
    })
}

/// The evaluation report as an HTML page; an error when a plot cannot be drawn.
pub fn evaluation_report_html(r: &EvaluationResults) -> Result<String, String> {
    let view = EvaluationView {
        r,
        verdict_words: verdict_words(r.verdict),
        plan: plan_fields(r),
        findings: r
            .plan_check
            .iter()
            .map(|g| Finding {
                item: g.item.label(),
                field: g.field.clone(),
                message: g.message.clone(),
                gap: g.severity == Severity::Gap,
            })
            .collect(),
        gaps: r
            .plan_check
            .iter()
            .filter(|g| g.severity == Severity::Gap)
            .count(),
        flow: r
            .flow
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (et, ec) = if i == 0 {
                    (String::new(), String::new())
                } else {
                    (
                        s.excluded_treated.to_string(),
                        s.excluded_control.to_string(),
                    )
                };
                [
                    s.step.clone(),
                    et,
                    ec,
                    s.remaining_treated.to_string(),
                    s.remaining_control.to_string(),
                ]
            })
            .collect(),
        baseline: r
            .cohort
            .baseline
            .iter()
            .map(|b| {
                [
                    b.name.clone(),
                    num(b.mean_treated, 2),
                    num(b.sd_treated, 2),
                    num(b.mean_control, 2),
                    num(b.sd_control, 2),
                ]
            })
            .collect(),
        endpoints: r.endpoints.iter().map(endpoint).collect::<Result<_, _>>()?,
        pairs: r
            .adjudication
            .agreement
            .iter()
            .map(|p| PairView {
                pair: format!("{} / {}", p.a, p.b),
                kappa: match &p.kappa {
                    Some(k) => Ok([
                        k.n.to_string(),
                        format!("{:.3}", k.observed_agreement),
                        format!("{:.3}", k.kappa),
                        format!("{:.3} to {:.3}", k.lower, k.upper),
                    ]),
                    None => Err(p.problem.clone().unwrap_or_default()),
                },
            })
            .collect(),
        cqa: r.cqa.as_ref().map(cqa).transpose()?,
        counts: r
            .snapshot
            .counts
            .iter()
            .map(|(k, v)| (k.replace('_', " "), *v))
            .collect(),
    };
    view.render().map_err(|e| e.to_string())
}
