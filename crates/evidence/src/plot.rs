//! The report's plots as inline SVG, drawn with plotters' SVG backend (no fonts, files
//! or network): Kaplan–Meier curves, the love plot of covariate balance, propensity
//! score distributions, and forest plots of estimates.

use crate::results::{Balance, KmResult, PsHistogram};
use plotters::prelude::*;
use saisei_domain::evaluation::EffectMeasure;

const TREATED: RGBColor = RGBColor(0xc2, 0x3b, 0x22);
const CONTROL: RGBColor = RGBColor(0x1f, 0x5f, 0x9f);
const GREY: RGBColor = RGBColor(0x88, 0x88, 0x88);

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Kaplan–Meier curves of both arms (event-free proportion over months).
pub fn km(k: &KmResult, title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let max_x = k
            .arms
            .iter()
            .flat_map(|a| a.steps.iter().map(|s| s.0))
            .chain(k.at_risk.iter().map(|a| a.months))
            .fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..max_x * 1.02, 0.0..1.02)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("Months from the index date")
            .y_desc("Event-free proportion")
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(err)?;
        for arm in &k.arms {
            let colour = if arm.label == "Treated" {
                TREATED
            } else {
                CONTROL
            };
            // Step function: horizontal to the next time, then down.
            let mut pts = Vec::with_capacity(arm.steps.len() * 2 + 1);
            let mut last = 1.0;
            for &(t, s) in &arm.steps {
                pts.push((t, last));
                pts.push((t, s));
                last = s;
            }
            pts.push((max_x, last));
            chart
                .draw_series(LineSeries::new(pts, colour.stroke_width(2)))
                .map_err(err)?
                .label(format!(
                    "{} (n = {}, events = {})",
                    arm.label, arm.n, arm.events
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The love plot: absolute standardised mean differences before and after adjustment,
/// with the conventional 0.1 line.
pub fn love(balance: &[Balance], title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let h = 120 + 36 * balance.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (720, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let max_x = balance
            .iter()
            .flat_map(|b| [b.smd_before.abs(), b.smd_after.abs()])
            .filter(|v| v.is_finite())
            .fold(0.25f64, f64::max)
            * 1.1;
        let n = balance.len().max(1) as f64;
        let names: Vec<String> = balance.iter().map(|b| b.name.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..max_x, -0.5..n - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("Absolute standardised mean difference")
            .y_labels(balance.len().max(1))
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.1, -0.5), (0.1, n - 0.5)],
                GREY.stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(
                balance
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.smd_before.is_finite())
                    .map(|(i, b)| {
                        Circle::new((b.smd_before.abs(), i as f64), 5, CONTROL.stroke_width(2))
                    }),
            )
            .map_err(err)?
            .label("Before adjustment")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, CONTROL.stroke_width(2)));
        chart
            .draw_series(
                balance
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.smd_after.is_finite())
                    .map(|(i, b)| Circle::new((b.smd_after.abs(), i as f64), 5, TREATED.filled())),
            )
            .map_err(err)?
            .label("After adjustment")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, TREATED.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Propensity-score distributions: treated, controls before, controls after.
pub fn propensity(h: &PsHistogram, title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let max_y = h
            .treated
            .iter()
            .chain(&h.control_before)
            .chain(&h.control_after)
            .fold(1.0f64, |a, &b| a.max(b))
            * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..1.0, 0.0..max_y)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("Propensity score")
            .y_desc("Patients")
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(err)?;
        let steps = |bins: &[f64]| -> Vec<(f64, f64)> {
            let mut pts = vec![(0.0, 0.0)];
            for (i, &v) in bins.iter().enumerate() {
                let (a, b) = (
                    i as f64 / bins.len() as f64,
                    (i + 1) as f64 / bins.len() as f64,
                );
                pts.push((a, v));
                pts.push((b, v));
            }
            pts.push((1.0, 0.0));
            pts
        };
        for (bins, colour, label, width) in [
            (&h.treated, TREATED, "Treated", 2),
            (&h.control_before, GREY, "Controls, unadjusted", 1),
            (&h.control_after, CONTROL, "Controls, adjusted", 2),
        ] {
            chart
                .draw_series(LineSeries::new(steps(bins), colour.stroke_width(width)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(width))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A forest plot of estimates with their intervals; ratios on a log scale, with the
/// line of no effect and, when given, the success threshold.
pub fn forest(
    rows: &[(String, f64, f64, f64)],
    measure: Option<EffectMeasure>,
    threshold: Option<f64>,
    title: &str,
) -> Result<String, String> {
    let ratio = matches!(measure, Some(EffectMeasure::HazardRatio)) || measure.is_none();
    let tf = |v: f64| if ratio { v.max(1e-6).ln() } else { v };
    let finite: Vec<&(String, f64, f64, f64)> = rows
        .iter()
        .filter(|r| r.1.is_finite() && r.2.is_finite() && r.3.is_finite())
        .collect();
    let mut lo = finite.iter().map(|r| tf(r.2)).fold(f64::INFINITY, f64::min);
    let mut hi = finite
        .iter()
        .map(|r| tf(r.3))
        .fold(f64::NEG_INFINITY, f64::max);
    // No effect: a ratio of 1 (0 on the log scale) or a difference of 0.
    let null = 0.0;
    lo = lo.min(null);
    hi = hi.max(null);
    if let Some(t) = threshold {
        lo = lo.min(tf(t));
        hi = hi.max(tf(t));
    }
    if !lo.is_finite() || !hi.is_finite() {
        lo = -1.0;
        hi = 1.0;
    }
    let pad = ((hi - lo) * 0.08).max(0.05);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut svg = String::new();
    {
        let h = 110 + 34 * rows.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (720, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = rows.len().max(1) as f64;
        let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(230)
            .build_cartesian_2d(lo..hi, -0.5..n - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(if ratio {
                "Ratio (log scale)"
            } else {
                "Difference"
            })
            .x_label_formatter(&|x| {
                if ratio {
                    format!("{:.2}", x.exp())
                } else {
                    format!("{x:.2}")
                }
            })
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 {
                    let i = rows.len().saturating_sub(1 + i as usize);
                    names.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                vec![(null, -0.5), (null, n - 0.5)],
                GREY.stroke_width(1),
            ))
            .map_err(err)?;
        if let Some(t) = threshold {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(tf(t), -0.5), (tf(t), n - 0.5)],
                    6,
                    4,
                    TREATED.stroke_width(1),
                ))
                .map_err(err)?;
        }
        for (i, r) in rows.iter().enumerate() {
            if !(r.1.is_finite() && r.2.is_finite() && r.3.is_finite()) {
                continue;
            }
            let y = (rows.len() - 1 - i) as f64;
            chart
                .draw_series(LineSeries::new(
                    vec![(tf(r.2), y), (tf(r.3), y)],
                    CONTROL.stroke_width(2),
                ))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (tf(r.1) - (hi - lo) * 0.006, y - 0.15),
                        (tf(r.1) + (hi - lo) * 0.006, y + 0.15),
                    ],
                    CONTROL.filled(),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}
