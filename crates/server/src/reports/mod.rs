//! Reports rendered as self-contained HTML (no external assets), for printing and
//! filing: the periodic report and the evaluation report. Both render through askama
//! templates under `templates/reports/` that share one layout (`base.html`), so
//! escaping, language and layout have one home; the numbers are formatted here.

mod evaluation;
mod periodic;

pub use evaluation::evaluation_report_html;
pub use periodic::periodic_report_html;

/// A number with `places` decimals, or a dash when it is not finite.
pub(crate) fn num(v: f64, places: usize) -> String {
    if v.is_finite() {
        format!("{v:.places$}")
    } else {
        "—".into()
    }
}

/// An optional number with `places` decimals, or a dash.
pub(crate) fn opt(v: Option<f64>, places: usize) -> String {
    v.map(|v| num(v, places)).unwrap_or_else(|| "—".into())
}

/// A p-value as reports print it: three decimals, or "< 0.001".
pub(crate) fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "—".into()
    } else if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_p_values() {
        assert_eq!(num(1.23456, 2), "1.23");
        assert_eq!(num(f64::NAN, 2), "—");
        assert_eq!(opt(None, 1), "—");
        assert_eq!(p_value(0.0004), "< 0.001");
        assert_eq!(p_value(0.0456), "0.046");
        assert_eq!(p_value(f64::INFINITY), "—");
    }
}
