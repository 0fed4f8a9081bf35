//! The evaluation report: one self-contained HTML page (inline CSS and SVG, no external
//! assets), for reading, printing and filing with the regulator.

use crate::error::EvidenceError;
use crate::plot;
use crate::results::*;
use saisei_domain::evaluation::{Severity, Verdict};
use std::fmt::Write;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(v: f64, places: usize) -> String {
    if v.is_finite() {
        format!("{v:.places$}")
    } else {
        "—".into()
    }
}

fn opt(v: Option<f64>, places: usize) -> String {
    v.map(|v| num(v, places)).unwrap_or_else(|| "—".into())
}

fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "—".into()
    } else if p < 0.001 {
        "&lt; 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

const STYLE: &str = r#"
body { font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; margin: 2rem auto; max-width: 62rem; color: #1d2733; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.55rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 2px solid #1d2733; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
.sub { color: #5b6b7c; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-size: .92rem; }
th, td { text-align: left; padding: .3rem .45rem; border-bottom: 1px solid #dde3ea; vertical-align: top; }
th { background: #f3f6f9; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-size: 1.3rem; padding: .8rem 1rem; border-radius: 6px; margin: 1rem 0; }
.verdict.met { background: #e3f4e8; border-left: 6px solid #1e7b3a; }
.verdict.not_met { background: #fbe4e1; border-left: 6px solid #b3261e; }
.verdict.not_yet_evaluable { background: #fff7e0; border-left: 6px solid #c99400; }
.gap { color: #b3261e; font-weight: 600; } .warning { color: #8a6d00; }
.note { background: #f6f8fa; border-left: 4px solid #9aa7b4; padding: .5rem .8rem; }
.plot svg { max-width: 100%; height: auto; }
.yes { color: #1e7b3a; font-weight: 600; } .no { color: #b3261e; font-weight: 600; }
footer { color: #5b6b7c; font-size: .85rem; margin-top: 2rem; }
code { font-size: .85rem; }
@media print { body { margin: 0; } h2 { break-after: avoid; } .plot { break-inside: avoid; } }
"#;

fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "Success criterion met",
        Verdict::NotMet => "Success criterion not met",
        Verdict::NotYetEvaluable => "Not yet evaluable",
    }
}

fn yes_no(v: Option<bool>) -> String {
    match v {
        Some(true) => "<span class=\"yes\">yes</span>".into(),
        Some(false) => "<span class=\"no\">no</span>".into(),
        None => "—".into(),
    }
}

/// Renders the report.
pub fn html(r: &EvaluationResults) -> Result<String, EvidenceError> {
    let mut h = String::with_capacity(64 * 1024);
    let w = &mut h;
    let render = |e: std::fmt::Error| EvidenceError::Render(e.to_string());
    write!(
        w,
        "<!doctype html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n<title>製造販売後承認条件評価 Post-marketing evaluation — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&r.plan.product)
    )
    .map_err(render)?;
    write!(
        w,
        "<h1>製造販売後承認条件評価 Post-marketing evaluation</h1>\n<p class=\"sub\">{} · {} · data cut {}</p>\n",
        esc(&r.plan.title),
        esc(&r.plan.product),
        r.as_of
    )
    .map_err(render)?;
    write!(
        w,
        "<div class=\"verdict {}\"><strong>Verdict: {}</strong> (<code>{}</code>)<ul>",
        r.verdict.as_str(),
        verdict_words(r.verdict),
        r.verdict.as_str()
    )
    .map_err(render)?;
    for reason in &r.verdict_reasons {
        write!(w, "<li>{}</li>", esc(reason)).map_err(render)?;
    }
    w.push_str("</ul></div>\n");

    // The product and plan.
    w.push_str("<h2>Product and plan</h2>\n<table>\n");
    let mut row = |label: &str, value: String| {
        let _ = writeln!(w, "<tr><th>{label}</th><td>{value}</td></tr>");
    };
    row("Product", esc(&r.plan.product));
    row(
        "Approval",
        r.plan
            .approval
            .as_deref()
            .map(esc)
            .unwrap_or_else(|| "none recorded".into()),
    );
    row(
        "Re-application due",
        r.plan
            .reapplication_due
            .map(|d| d.to_string())
            .unwrap_or_else(|| "—".into()),
    );
    row(
        "Conditions",
        if r.plan.conditions.is_empty() {
            "—".into()
        } else {
            r.plan
                .conditions
                .iter()
                .map(|c| esc(c))
                .collect::<Vec<_>>()
                .join("<br>")
        },
    );
    row(
        "Control source",
        r.plan
            .control_source
            .as_deref()
            .map(esc)
            .unwrap_or_else(|| "not stated".into()),
    );
    row(
        "Adjustment",
        r.plan
            .method
            .as_deref()
            .map(esc)
            .unwrap_or_else(|| "not stated".into()),
    );
    row("Covariates", esc(&r.plan.covariates.join(", ")));
    row(
        "Targets",
        format!(
            "{} treated, {} controls",
            r.plan
                .targets
                .0
                .map(|v| v.to_string())
                .unwrap_or_else(|| "—".into()),
            r.plan
                .targets
                .1
                .map(|v| v.to_string())
                .unwrap_or_else(|| "—".into())
        ),
    );
    if let Some(p) = &r.power {
        row(
            "Power calculation",
            format!(
                "{} treated and {} controls required{}: {}",
                p.required_treated,
                p.required_controls,
                p.required_events
                    .map(|e| format!(" ({e} events)"))
                    .unwrap_or_default(),
                esc(&p.method)
            ),
        );
    }
    if let Some(p) = &r.power_problem {
        row(
            "Power calculation",
            format!("<span class=\"gap\">{}</span>", esc(p)),
        );
    }
    w.push_str("</table>\n");

    // Plan check.
    w.push_str("<h2>Plan check against the MHLW evaluation index (seed 003)</h2>\n");
    let gaps = r
        .plan_check
        .iter()
        .filter(|g| g.severity == Severity::Gap)
        .count();
    if r.plan_check.is_empty() {
        w.push_str("<p>Every point the guidance asks to settle is settled.</p>\n");
    } else {
        write!(w, "<p>{gaps} open point(s), {} to consider.</p>\n<table><tr><th>Item</th><th>Field</th><th>Finding</th></tr>\n", r.plan_check.len() - gaps).map_err(render)?;
        for g in &r.plan_check {
            let class = if g.severity == Severity::Gap {
                "gap"
            } else {
                "warning"
            };
            writeln!(
                w,
                "<tr><td>{}</td><td><code>{}</code></td><td class=\"{class}\">{}</td></tr>",
                esc(g.item.label()),
                esc(&g.field),
                esc(&g.message)
            )
            .map_err(render)?;
        }
        w.push_str("</table>\n");
    }

    // Flow.
    w.push_str("<h2>Patient flow</h2>\n<table><tr><th>Step</th><th class=\"n\">Treated excluded</th><th class=\"n\">Controls excluded</th><th class=\"n\">Treated remaining</th><th class=\"n\">Controls remaining</th></tr>\n");
    for (i, s) in r.flow.iter().enumerate() {
        let (et, ec) = if i == 0 {
            (String::new(), String::new())
        } else {
            (
                s.excluded_treated.to_string(),
                s.excluded_control.to_string(),
            )
        };
        writeln!(
            w,
            "<tr><td>{}</td><td class=\"n\">{et}</td><td class=\"n\">{ec}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.step),
            s.remaining_treated,
            s.remaining_control
        )
        .map_err(render)?;
    }
    w.push_str("</table>\n");

    // Cohort.
    write!(
        w,
        "<h2>Cohort at baseline</h2>\n<p>{} treated patients and {} controls.</p>\n<table><tr><th>Characteristic</th><th class=\"n\">Treated mean</th><th class=\"n\">SD</th><th class=\"n\">Control mean</th><th class=\"n\">SD</th></tr>\n",
        r.cohort.treated, r.cohort.control
    )
    .map_err(render)?;
    for b in &r.cohort.baseline {
        writeln!(
            w,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&b.name),
            num(b.mean_treated, 2),
            num(b.sd_treated, 2),
            num(b.mean_control, 2),
            num(b.sd_control, 2)
        )
        .map_err(render)?;
    }
    w.push_str("</table>\n<table><tr><th>Site</th><th class=\"n\">Treated</th><th class=\"n\">Controls</th></tr>\n");
    for s in &r.cohort.sites {
        writeln!(
            w,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.site),
            s.treated,
            s.control
        )
        .map_err(render)?;
    }
    w.push_str("</table>\n");

    for e in &r.endpoints {
        endpoint(w, e)?;
    }
    adjudication(w, &r.adjudication)?;
    if let Some(q) = &r.quality {
        quality(w, q)?;
    }

    w.push_str("<h2>Data snapshot</h2>\n<table>\n");
    writeln!(
        w,
        "<tr><th>Data hash (SHA-256)</th><td><code>{}</code></td></tr>",
        esc(&r.snapshot.data_hash)
    )
    .map_err(render)?;
    writeln!(
        w,
        "<tr><th>Plan hash (SHA-256)</th><td><code>{}</code></td></tr>",
        esc(&r.snapshot.plan_hash)
    )
    .map_err(render)?;
    writeln!(
        w,
        "<tr><th>Plan version</th><td>{}</td></tr>",
        r.plan.plan_version
    )
    .map_err(render)?;
    writeln!(
        w,
        "<tr><th>Engine</th><td>{}</td></tr>",
        esc(&r.snapshot.engine)
    )
    .map_err(render)?;
    for (k, v) in &r.snapshot.counts {
        writeln!(
            w,
            "<tr><th>{}</th><td>{v}</td></tr>",
            esc(&k.replace('_', " "))
        )
        .map_err(render)?;
    }
    w.push_str("</table>\n<h2>Methods notes</h2>\n<ul>\n");
    for n in &r.notes {
        writeln!(w, "<li>{}</li>", esc(n)).map_err(render)?;
    }
    w.push_str("</ul>\n<footer>Compiled by Saisei from registry data. Patients appear only in aggregate.</footer>\n</body>\n</html>\n");
    Ok(h)
}

fn svg(w: &mut String, drawn: Result<String, String>) -> Result<(), EvidenceError> {
    let s = drawn.map_err(EvidenceError::Render)?;
    w.push_str("<div class=\"plot\">");
    w.push_str(&s);
    w.push_str("</div>\n");
    Ok(())
}

fn endpoint(w: &mut String, e: &EndpointResult) -> Result<(), EvidenceError> {
    let render = |e: std::fmt::Error| EvidenceError::Render(e.to_string());
    write!(
        w,
        "<h2>{} endpoint: {}</h2>\n<table>\n<tr><th>Definition</th><td>{}</td></tr>\n<tr><th>Success criterion</th><td>{}</td></tr>\n<tr><th>Met on the pre-specified analysis</th><td>{}</td></tr>\n<tr><th>Central adjudication</th><td>{}</td></tr>\n",
        if e.primary { "Primary" } else { "Secondary" },
        esc(&e.name),
        esc(&e.definition),
        e.criterion.as_deref().map(esc).unwrap_or_else(|| "none pre-specified".into()),
        yes_no(e.criterion_met),
        if e.adjudicated {
            format!(
                "yes — {} candidate event(s) awaiting adjudication, {} rejected",
                e.pending_adjudications, e.rejected_by_adjudication
            )
        } else {
            "no".into()
        }
    )
    .map_err(render)?;
    if let Some(f) = e.information_fraction {
        writeln!(
            w,
            "<tr><th>Information accrued</th><td>{:.0} % of the target</td></tr>",
            f * 100.0
        )
        .map_err(render)?;
    }
    w.push_str("</table>\n");
    if let Some(p) = &e.problem {
        writeln!(
            w,
            "<p class=\"note\">The pre-specified analysis could not be done: {}</p>",
            esc(p)
        )
        .map_err(render)?;
    }
    // Outcomes by arm.
    let arm = |a: &Option<ArmOutcome>| match a {
        None => "—".to_string(),
        Some(a) => match (e.kind.as_str(), a.count) {
            ("continuous", _) => format!("mean {} (n = {})", num(a.value, 2), a.n),
            ("time_to_event", Some(c)) => format!("{c} events in {} patients", a.n),
            (_, Some(c)) => format!("{c}/{} ({:.1} %)", a.n, a.value * 100.0),
            _ => format!("{}", a.n),
        },
    };
    writeln!(
        w,
        "<table><tr><th>Unadjusted outcome</th><th>Treated</th><th>Control</th></tr><tr><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        esc(&e.kind.replace('_', "-")),
        arm(&e.treated),
        arm(&e.control)
    )
    .map_err(render)?;
    if !e.missing.is_empty() {
        w.push_str("<table><tr><th>Not analysed for this endpoint</th><th class=\"n\">Treated</th><th class=\"n\">Controls</th></tr>\n");
        for (reason, t, c) in &e.missing {
            writeln!(
                w,
                "<tr><td>{}</td><td class=\"n\">{t}</td><td class=\"n\">{c}</td></tr>",
                esc(reason)
            )
            .map_err(render)?;
        }
        w.push_str("</table>\n");
    }
    // Estimates.
    let all: Vec<&EffectEstimate> = e.estimate.iter().chain(e.sensitivity.iter()).collect();
    if !all.is_empty() {
        let measure = all[0].measure;
        write!(
            w,
            "<h3>Estimates ({})</h3>\n<table><tr><th>Analysis</th><th class=\"n\">Treated</th><th class=\"n\">Controls</th><th class=\"n\">Events / responders (T / C)</th><th class=\"n\">Estimate</th><th class=\"n\">CI</th><th class=\"n\">p</th></tr>\n",
            measure.as_str()
        )
        .map_err(render)?;
        for x in &all {
            let ev = match (x.events_treated, x.events_control) {
                (Some(a), Some(b)) => format!("{a} / {b}"),
                _ => "—".into(),
            };
            writeln!(
                w,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{ev}</td><td class=\"n\">{}</td><td class=\"n\">{:.0} %: {} to {}</td><td class=\"n\">{}</td></tr>",
                esc(&x.analysis),
                x.n_treated,
                x.n_control,
                num(x.value, 3),
                x.level * 100.0,
                num(x.lower, 3),
                num(x.upper, 3),
                p_value(x.p)
            )
            .map_err(render)?;
        }
        w.push_str("</table>\n");
        let rows: Vec<(String, f64, f64, f64)> = all
            .iter()
            .map(|x| (short(&x.analysis), x.value, x.lower, x.upper))
            .collect();
        let threshold = criterion_threshold(e);
        svg(
            w,
            plot::forest(
                &rows,
                Some(measure),
                threshold,
                &format!("{}: estimates", e.name),
            ),
        )?;
    }
    // Interim looks.
    if !e.interim.is_empty() {
        w.push_str("<h3>Interim looks</h3>\n<table><tr><th class=\"n\">Information fraction</th><th class=\"n\">Cumulative α</th><th class=\"n\">Nominal α</th><th class=\"n\">Confidence level</th><th>Reached</th><th>Interval now</th><th>Boundary crossed</th></tr>\n");
        for l in &e.interim {
            writeln!(
                w,
                "<tr><td class=\"n\">{:.2}</td><td class=\"n\">{:.5}</td><td class=\"n\">{:.5}</td><td class=\"n\">{:.4}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                l.fraction,
                l.cumulative_alpha,
                l.nominal_alpha,
                l.level,
                if l.current { "due now" } else if l.reached { "passed" } else { "not yet" },
                l.interval.map(|(a, b)| format!("{} to {}", num(a, 3), num(b, 3))).unwrap_or_else(|| "—".into()),
                yes_no(l.criterion_met)
            )
            .map_err(render)?;
        }
        w.push_str("</table>\n");
    }
    // Design.
    if let Some(d) = &e.design {
        write!(
            w,
            "<h3>Adjustment: {}</h3>\n<p>{} treated and {} controls in the adjusted sample; {} treated left out (unmatched or without comparable controls).</p>\n<table><tr><th>Covariate</th><th class=\"n\">SMD before</th><th class=\"n\">SMD after</th></tr>\n",
            esc(&d.method), d.n_treated, d.n_control, d.dropped_treated
        )
        .map_err(render)?;
        for b in &d.balance {
            writeln!(
                w,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&b.name),
                num(b.smd_before, 3),
                num(b.smd_after, 3)
            )
            .map_err(render)?;
        }
        w.push_str("</table>\n");
        svg(w, plot::love(&d.balance, "Covariate balance (love plot)"))?;
        svg(w, plot::propensity(&d.ps_histogram, "Propensity scores"))?;
    }
    if let Some(k) = &e.km {
        w.push_str("<h3>Kaplan–Meier</h3>\n");
        svg(
            w,
            plot::km(
                k,
                &format!("{}: event-free proportion (adjusted sample)", e.name),
            ),
        )?;
        w.push_str("<table><tr><th>Numbers at risk (months)</th>");
        for a in &k.at_risk {
            write!(w, "<th class=\"n\">{}</th>", a.months).map_err(render)?;
        }
        w.push_str("</tr><tr><td>Treated</td>");
        for a in &k.at_risk {
            write!(w, "<td class=\"n\">{}</td>", a.treated).map_err(render)?;
        }
        w.push_str("</tr><tr><td>Control</td>");
        for a in &k.at_risk {
            write!(w, "<td class=\"n\">{}</td>", a.control).map_err(render)?;
        }
        w.push_str("</tr></table>\n<table><tr><th>Arm</th><th class=\"n\">Patients</th><th class=\"n\">Events</th><th class=\"n\">Median (months)</th></tr>\n");
        for a in &k.arms {
            writeln!(
                w,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&a.label),
                a.n,
                a.events,
                a.median_months.map(|m| num(m, 1)).unwrap_or_else(|| "not reached".into())
            )
            .map_err(render)?;
        }
        write!(
            w,
            "</table>\n<p>Log-rank test (unadjusted cohort): p = {}</p>\n",
            k.logrank_p.map(p_value).unwrap_or_else(|| "—".into())
        )
        .map_err(render)?;
    }
    Ok(())
}

/// The threshold of an endpoint's criterion, read back from the estimate context
/// (criteria are stored in words; the threshold is the last number in them).
fn criterion_threshold(e: &EndpointResult) -> Option<f64> {
    e.criterion
        .as_deref()?
        .split_whitespace()
        .last()?
        .parse::<f64>()
        .ok()
}

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

fn adjudication(w: &mut String, a: &AdjudicationSummary) -> Result<(), EvidenceError> {
    let render = |e: std::fmt::Error| EvidenceError::Render(e.to_string());
    w.push_str("<h2>Central adjudication (中央判定委員会)</h2>\n");
    if a.tasks == 0 {
        w.push_str("<p>No adjudication tasks.</p>\n");
        return Ok(());
    }
    write!(
        w,
        "<p>Adjudicators: {}. Each saw the event without product, arm, site or patient.</p>\n<table><tr><th>Tasks</th><th class=\"n\">{}</th></tr><tr><td>Awaiting independent assessments</td><td class=\"n\">{}</td></tr><tr><td>Awaiting consensus</td><td class=\"n\">{}</td></tr><tr><td>Decided by agreement</td><td class=\"n\">{}</td></tr><tr><td>Decided by consensus</td><td class=\"n\">{}</td></tr><tr><td>Confirmed as endpoint events</td><td class=\"n\">{}</td></tr><tr><td>Rejected</td><td class=\"n\">{}</td></tr></table>\n",
        esc(&a.adjudicators.join(", ")),
        a.tasks,
        a.awaiting,
        a.needs_consensus,
        a.by_agreement,
        a.by_consensus,
        a.confirmed,
        a.rejected
    )
    .map_err(render)?;
    w.push_str("<table><tr><th>Adjudicators</th><th class=\"n\">Events both assessed</th><th class=\"n\">Observed agreement</th><th class=\"n\">Cohen's κ</th><th class=\"n\">95 % CI</th></tr>\n");
    for p in &a.agreement {
        match &p.kappa {
            Some(k) => writeln!(
                w,
                "<tr><td>{} / {}</td><td class=\"n\">{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3} to {:.3}</td></tr>",
                esc(&p.a), esc(&p.b), k.n, k.observed_agreement, k.kappa, k.lower, k.upper
            ),
            None => writeln!(
                w,
                "<tr><td>{} / {}</td><td colspan=\"4\">{}</td></tr>",
                esc(&p.a), esc(&p.b), esc(p.problem.as_deref().unwrap_or(""))
            ),
        }
        .map_err(render)?;
    }
    w.push_str("</table>\n");
    Ok(())
}

fn quality(w: &mut String, q: &QualityResult) -> Result<(), EvidenceError> {
    let render = |e: std::fmt::Error| EvidenceError::Render(e.to_string());
    write!(
        w,
        "<h2>Quality attributes and efficacy (7-B)</h2>\n<p>Endpoint <code>{}</code>, {} model, {} treated patients with lot quality data. Attributes with a Benjamini–Hochberg q ≤ {} are proposed as candidate critical quality attributes.</p>\n",
        esc(&q.endpoint), esc(&q.model), q.patients, q.fdr
    )
    .map_err(render)?;
    if let Some(p) = &q.problem {
        writeln!(w, "<p class=\"note\">{}</p>", esc(p)).map_err(render)?;
        return Ok(());
    }
    write!(
        w,
        "<p><strong>Candidate CQAs:</strong> {}</p>\n<table><tr><th>Attribute</th><th class=\"n\">Patients</th><th class=\"n\">Lots</th><th class=\"n\">Mean (SD)</th><th class=\"n\">{}</th><th class=\"n\">95 % CI</th><th class=\"n\">p</th><th class=\"n\">q</th><th>Outcome ≤ median / &gt; median</th></tr>\n",
        if q.candidates.is_empty() { "none at this FDR".to_string() } else { esc(&q.candidates.join(", ")) },
        esc(&q.effect_name)
    )
    .map_err(render)?;
    for a in &q.attributes {
        let sub = a
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
        writeln!(
            w,
            "<tr><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} ({}) {}</td><td class=\"n\">{}</td><td class=\"n\">{} to {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&a.attribute),
            if a.candidate { " <span class=\"gap\">candidate</span>" } else { "" },
            a.n,
            a.lots,
            num(a.mean, 2),
            num(a.sd, 2),
            esc(&a.unit),
            opt(a.effect, 3),
            opt(a.lower, 3),
            opt(a.upper, 3),
            a.p.map(p_value).unwrap_or_else(|| "—".into()),
            opt(a.q, 3),
            esc(&sub)
        )
        .map_err(render)?;
    }
    w.push_str("</table>\n");
    let rows: Vec<(String, f64, f64, f64)> = q
        .attributes
        .iter()
        .filter_map(|a| Some((a.attribute.clone(), a.effect?, a.lower?, a.upper?)))
        .collect();
    if !rows.is_empty() {
        let ratio = q.model != "linear";
        svg(
            w,
            plot::forest(
                &rows,
                if ratio {
                    None
                } else {
                    Some(saisei_domain::evaluation::EffectMeasure::MeanDifference)
                },
                None,
                &format!("Quality attributes: {}", q.effect_name),
            ),
        )?;
    }
    Ok(())
}
