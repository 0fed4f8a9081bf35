//! The periodic report (定期報告) as a page, from its compiled content.

use askama::Template;
use saisei_domain::registry::PeriodicReportContent;
use saisei_domain::wire_name as wire;

/// A labelled count for tables.
pub struct Row {
    /// Label.
    pub label: String,
    /// Value, formatted.
    pub value: String,
}

#[derive(Template)]
#[template(path = "reports/periodic.html")]
struct PeriodicView<'a> {
    r: &'a PeriodicReportContent,
    class: String,
    status: String,
    filed_on: String,
    sex: Vec<Row>,
    ages: Vec<Row>,
    seriousness: Vec<Row>,
    outcomes: Vec<Row>,
    events: Vec<[String; 7]>,
    completeness: String,
    measures: Vec<[String; 6]>,
}

fn num(v: Option<f64>) -> String {
    super::opt(v, 2)
}

fn rows(map: &std::collections::BTreeMap<String, usize>) -> Vec<Row> {
    map.iter()
        .map(|(k, v)| Row {
            label: k.replace('_', " "),
            value: v.to_string(),
        })
        .collect()
}

/// The periodic report as an HTML page.
pub fn periodic_report_html(r: &PeriodicReportContent) -> Result<String, askama::Error> {
    let view = PeriodicView {
        r,
        class: wire(&r.plan.risk_class),
        status: wire(&r.plan.status).replace('_', " "),
        filed_on: r
            .plan
            .filed_on
            .map(|d| d.to_string())
            .unwrap_or_else(|| "—".into()),
        sex: rows(&r.by_sex),
        ages: rows(&r.by_age_band),
        seriousness: rows(&r.adverse_events.by_seriousness),
        outcomes: rows(&r.adverse_events.by_outcome),
        events: r
            .adverse_events
            .serious_events
            .iter()
            .map(|e| {
                [
                    e.patient.clone(),
                    e.term.clone(),
                    e.grade.map(|g| g.to_string()).unwrap_or_else(|| "—".into()),
                    e.seriousness
                        .iter()
                        .map(wire)
                        .collect::<Vec<_>>()
                        .join(", ")
                        .replace('_', " "),
                    e.known_on.to_string(),
                    wire(&e.outcome).replace('_', " "),
                    e.reported_on
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "not reported".into()),
                ]
            })
            .collect(),
        completeness: r
            .follow_up
            .completeness
            .map(|c| format!("{:.1} %", c * 100.0))
            .unwrap_or_else(|| "no visits due".into()),
        measures: r
            .efficacy
            .iter()
            .map(|m| {
                [
                    m.code.clone(),
                    m.unit.clone().unwrap_or_default(),
                    m.patients.to_string(),
                    num(m.baseline_mean),
                    num(m.latest_mean),
                    format!("{} (n = {})", num(m.mean_change), m.patients_with_change),
                ]
            })
            .collect(),
    };
    view.render()
}
