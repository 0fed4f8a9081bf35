//! Languages and how text, dates, times and counts read in each.
//!
//! Every word a page shows comes from the Fluent catalogues in `locales/ja` and
//! `locales/en` (a test fails when their keys differ). The language is the request's
//! own (never a global locale): `?lang=ja|en` (then kept in a cookie), the cookie,
//! `Accept-Language`, then Japanese.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use time::{Date, OffsetDateTime, UtcOffset};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ja",
        // No Unicode isolation marks around arguments: pages are HTML, whose own
        // bidirectional handling is enough for Japanese and English.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie that keeps a language chosen with `?lang=`.
pub const LANG_COOKIE: &str = "saisei_lang";

/// The `Set-Cookie` value keeping `lang` for a year (SameSite=Lax, so a bookmarked
/// link keeps the language), or clearing the cookie for `None`.
pub fn lang_cookie(lang: Option<Lang>) -> axum::http::HeaderValue {
    let text = match lang {
        Some(l) => format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
            l.code()
        ),
        None => format!("{LANG_COOKIE}=; Path=/; SameSite=Lax; Max-Age=0"),
    };
    axum::http::HeaderValue::from_str(&text)
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static(""))
}

/// A user's saved language, as the pages' language.
impl From<saisei_domain::auth::Language> for Lang {
    fn from(l: saisei_domain::auth::Language) -> Self {
        match l {
            saisei_domain::auth::Language::Ja => Lang::Ja,
            saisei_domain::auth::Language::En => Lang::En,
        }
    }
}

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 日本語 (the default).
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The language a tag names (`ja`, `ja-JP`, `en-GB`…), if it is one of ours.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first of ours in an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let lang = Lang::parse(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable: equal qualities keep the header's order.
        ranked.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        ranked.first().map(|(_, l)| *l)
    }

    fn id(self) -> LanguageIdentifier {
        self.code().parse().unwrap_or_default()
    }
}

/// Text in one language: what templates call to show words, dates and counts.
#[derive(Debug, Clone)]
pub struct Ui {
    /// The language.
    pub lang: Lang,
    id: LanguageIdentifier,
}

/// What a missing catalogue key shows: visible, and what the page tests look for.
pub const MISSING: &str = "⟦missing:";

impl Ui {
    /// Text in `lang`.
    pub fn new(lang: Lang) -> Self {
        Ui {
            lang,
            id: lang.id(),
        }
    }

    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        self.lookup(key, None)
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &str, value: impl ToString) -> String {
        self.args(key, &[(name, value.to_string())])
    }

    /// The message `key` with string arguments.
    pub fn args(&self, key: &str, args: &[(&str, String)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Owned(k.to_string()), FluentValue::from(v.clone())))
            .collect();
        self.lookup(key, Some(&map))
    }

    /// A count with its counter word: `n` drives the plural form (English), `shown` is
    /// the number with digit grouping (12,345件 / 12,345 patients).
    pub fn count(&self, key: &str, n: &usize) -> String {
        let n = *n;
        let mut map: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        map.insert(Cow::Borrowed("n"), FluentValue::from(n as f64));
        map.insert(Cow::Borrowed("shown"), FluentValue::from(group_digits(n)));
        self.lookup(key, Some(&map))
    }

    fn lookup(&self, key: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue>>) -> String {
        LOCALES
            .try_lookup_complete(&self.id, key, args)
            .unwrap_or_else(|| format!("{MISSING}{key}⟧"))
    }

    /// The word for an enumerated value: its serialised name under `group`
    /// (`sex-female`, `plan-status-active`).
    pub fn term<T: Serialize>(&self, group: &str, value: &T) -> String {
        match serde_json::to_value(value) {
            Ok(serde_json::Value::String(s)) => self.t(&format!("{group}-{}", s.replace('_', "-"))),
            _ => self.t(&format!("{group}-unknown")),
        }
    }

    /// A civil date: 2025年5月1日 in Japanese, ISO 8601 in English.
    pub fn date(&self, d: &Date) -> String {
        match self.lang {
            Lang::Ja => format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day()),
            Lang::En => format!("{d}"),
        }
    }

    /// An optional civil date, or a dash.
    pub fn date_or_dash(&self, d: &Option<Date>) -> String {
        d.as_ref()
            .map(|d| self.date(d))
            .unwrap_or_else(|| "—".into())
    }

    /// An instant in Japan time, to the minute: 2025年5月1日 14:03 / 2025-05-01 14:03 JST.
    pub fn time(&self, t: &OffsetDateTime) -> String {
        let jst = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
        let t = t.to_offset(jst);
        let day = self.date(&t.date());
        match self.lang {
            Lang::Ja => format!("{day} {:02}:{:02}", t.hour(), t.minute()),
            Lang::En => format!("{day} {:02}:{:02} JST", t.hour(), t.minute()),
        }
    }

    /// A year and month (birth): 1968年4月 / 1968-04.
    pub fn year_month(&self, year: i32, month: u8) -> String {
        match self.lang {
            Lang::Ja => format!("{year}年{month}月"),
            Lang::En => format!("{year}-{month:02}"),
        }
    }

    /// A plain number with digit grouping.
    pub fn number(&self, n: usize) -> String {
        group_digits(n)
    }

    /// A measured or dosed amount: at most two decimals with trailing zeros dropped,
    /// digits grouped; a million or more as a power of ten (cell doses: 1.2×10⁸).
    pub fn decimal(&self, x: f64) -> String {
        decimal(x)
    }
}

/// See [`Ui::decimal`].
pub fn decimal(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.abs() >= 1e6 {
        let exp = x.abs().log10().floor() as i32;
        let mantissa = x / 10f64.powi(exp);
        let superscript: String = exp
            .to_string()
            .chars()
            .map(|c| match c {
                '0' => '⁰',
                '1' => '¹',
                '2' => '²',
                '3' => '³',
                '4' => '⁴',
                '5' => '⁵',
                '6' => '⁶',
                '7' => '⁷',
                '8' => '⁸',
                '9' => '⁹',
                other => other,
            })
            .collect();
        return format!("{}×10{superscript}", trimmed(mantissa, 2));
    }
    let text = trimmed(x, 2);
    let (sign, body) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |b| ("-", b));
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let grouped = int
        .parse::<usize>()
        .map(group_digits)
        .unwrap_or_else(|_| int.to_string());
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

fn trimmed(x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// 1234567 → "1,234,567" (Japanese and English group digits the same way).
pub fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_of_ours() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.8"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en;q=0.5, ja;q=0.9"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("en;q=0, ja-JP"), Some(Lang::Ja));
    }

    #[test]
    fn dates_and_counts_read_as_each_language_writes_them() {
        let d = time::macros::date!(2025 - 05 - 01);
        assert_eq!(Ui::new(Lang::Ja).date(&d), "2025年5月1日");
        assert_eq!(Ui::new(Lang::En).date(&d), "2025-05-01");
        let t = time::macros::datetime!(2025-05-01 05:03:59 UTC);
        assert_eq!(Ui::new(Lang::Ja).time(&t), "2025年5月1日 14:03");
        assert_eq!(Ui::new(Lang::En).time(&t), "2025-05-01 14:03 JST");
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(999), "999");
        assert_eq!(Ui::new(Lang::Ja).count("count-patients", &1234), "1,234名");
        assert_eq!(Ui::new(Lang::En).count("count-patients", &1), "1 patient");
        assert_eq!(
            Ui::new(Lang::En).count("count-patients", &1234),
            "1,234 patients"
        );
    }

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(decimal(42.0), "42");
        assert_eq!(decimal(7.25), "7.25");
        assert_eq!(decimal(6.1), "6.1");
        assert_eq!(decimal(0.333333), "0.33");
        assert_eq!(decimal(-1234.5), "-1,234.5");
        assert_eq!(decimal(1.0e8), "1×10⁸");
        assert_eq!(decimal(2.45e7), "2.45×10⁷");
        assert_eq!(decimal(999_999.0), "999,999");
    }
}
