//! Evaluating a lot's QC results against its (resolved) specification.
//!
//! Every rule gets an outcome — `pass`, `fail` or `missing` — with the results it looked
//! at, the results it set aside and why, the limit in force and a sentence a QA reviewer
//! can read. The overall outcome is `pass` only when every rule passes, `fail` when any
//! rule fails, and `incomplete` otherwise.
//!
//! Choices made here, deliberately:
//! - **Every result counts.** When an attribute was tested more than once, all usable
//!   results must pass: a retest does not erase an out-of-specification result.
//!   Invalidating a result is a QA decision, recorded as a deviation (see
//!   [`super::release`]).
//! - **Units must match exactly.** A result whose unit differs from the rule's is set
//!   aside (and the rule may become `missing`), never converted; see [`super::measure`].
//! - **Methods.** When a rule lists acceptable methods, results by other methods are set
//!   aside with the reason.
//! - **Counts.** A `distinct_count` rule passes when enough distinct methods or attributes
//!   qualify; it *fails* when results were reported but too few qualify (e.g. every
//!   tetraspanin reported absent), and is *missing* when simply too few were reported
//!   (e.g. particle number by NTA but no second quantification method).
//! - **Order does not matter.** Results are put in a canonical order first, so the same set
//!   of results always gives the same conformance check.

use super::identifiers::{AttributeCode, MethodCode, RuleId};
use super::measure::PositiveNumber;
use super::qc::{QcResult, QcValue, QualitativeResult};
use super::spec::{
    AnyOfPolicy, Bound, Comparator, Condition, CountBasis, Requirement, ResolvedSpecification,
    Rule, SpecKey,
};
use crate::text::{Code, Name};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::Date;
use utoipa::ToSchema;

/// The maximum dose of the product, which the endotoxin limit K/M needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "basis", rename_all = "snake_case", deny_unknown_fields)]
pub enum MaxDose {
    /// The largest volume given per kg of body mass within one hour (M directly).
    PerKg {
        /// Millilitres per kilogram.
        ml_per_kg: PositiveNumber,
    },
    /// The largest volume given to one patient within one hour; divided by the rule's
    /// reference body mass (60 kg in the JP) to obtain M.
    PerPatient {
        /// Millilitres.
        ml: PositiveNumber,
    },
}

impl MaxDose {
    /// M, the dose in mL per kg, given the reference body mass for per-patient doses.
    pub fn ml_per_kg(&self, reference_body_mass_kg: f64) -> f64 {
        match self {
            MaxDose::PerKg { ml_per_kg } => ml_per_kg.get(),
            MaxDose::PerPatient { ml } => ml.get() / reference_body_mass_kg,
        }
    }
}

/// How the product is dosed, for dose-normalised limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseContext {
    /// The maximum dose.
    pub max_dose: MaxDose,
    /// Whether the product is given intrathecally (K is then far lower).
    #[serde(default)]
    pub intrathecal: bool,
}

/// Facts about the product that some rules need besides the results.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConformanceContext {
    /// The dose, for the endotoxin limit; without it that rule is `missing`.
    #[serde(default)]
    pub dose: Option<DoseContext>,
}

/// The endotoxin limit K/M in EU/mL, from K in EU/kg and M in mL/kg (JP 4.01, USP <85>).
/// Returns `None` if M is not a positive finite number.
pub fn dose_normalised_limit(k_eu_per_kg: f64, m_ml_per_kg: f64) -> Option<f64> {
    (m_ml_per_kg.is_finite() && m_ml_per_kg > 0.0).then(|| k_eu_per_kg / m_ml_per_kg)
}

/// The outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    /// The rule is met.
    Pass,
    /// A usable result violates the rule.
    Fail,
    /// The results needed to judge the rule are absent (or were all set aside).
    Missing,
}

/// The outcome of a whole conformance check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverallOutcome {
    /// Every rule passes.
    Pass,
    /// At least one rule fails.
    Fail,
    /// No rule fails but at least one is missing.
    Incomplete,
}

/// A result a rule looked at.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Observation {
    /// The attribute.
    pub attribute: AttributeCode,
    /// The value.
    pub value: QcValue,
    /// The method.
    pub method: MethodCode,
    /// The instrument, if recorded.
    pub instrument: Option<Name>,
    /// The test date.
    pub tested_on: Date,
    /// The sample, if recorded.
    pub sample_id: Option<Code>,
    /// Whether this result meets the rule on its own (`None` where a single result cannot
    /// be judged alone, e.g. for counts).
    pub meets: Option<bool>,
}

/// A result a rule could not use, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SetAside {
    /// The attribute.
    pub attribute: AttributeCode,
    /// The value.
    pub value: QcValue,
    /// The method.
    pub method: MethodCode,
    /// The test date.
    pub tested_on: Date,
    /// Why it was not used.
    pub reason: String,
}

/// One rule's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RuleConformance {
    /// The rule.
    pub rule_id: RuleId,
    /// Its title.
    pub title: String,
    /// Pass, fail or missing.
    pub outcome: RuleOutcome,
    /// The requirement and limit in force, in words.
    pub limit: String,
    /// The computed numeric limit, for dose-normalised rules (EU/mL).
    pub computed_limit: Option<f64>,
    /// The results used.
    pub observed: Vec<Observation>,
    /// Results for the rule's attributes that could not be used.
    pub set_aside: Vec<SetAside>,
    /// Why the outcome is what it is.
    pub explanation: String,
}

/// A result that no rule of the specification looks at (often a misspelt attribute code).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnusedResult {
    /// The attribute.
    pub attribute: AttributeCode,
    /// The method.
    pub method: MethodCode,
    /// The test date.
    pub tested_on: Date,
}

/// The conformance check of one lot's results against one specification.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Conformance {
    /// The specification checked against.
    pub specification: SpecKey,
    /// The overall outcome.
    pub outcome: OverallOutcome,
    /// One entry per rule, in the specification's order.
    pub rules: Vec<RuleConformance>,
    /// Results no rule looked at.
    pub unused_results: Vec<UnusedResult>,
}

impl Conformance {
    /// The rules that are not met (fail or missing): what stands between the lot and release.
    pub fn unmet(&self) -> impl Iterator<Item = &RuleConformance> {
        self.rules.iter().filter(|r| r.outcome != RuleOutcome::Pass)
    }
}

/// Evaluates `results` (for one lot) against `spec`, in the given `context`.
pub fn check_conformance(
    spec: &ResolvedSpecification,
    results: &[QcResult],
    context: &ConformanceContext,
) -> Conformance {
    let mut sorted: Vec<&QcResult> = results.iter().collect();
    sorted.sort_by(|a, b| a.canonical_cmp(b));
    let rules: Vec<RuleConformance> = spec
        .rules()
        .iter()
        .map(|r| check_rule(&r.rule, &sorted, context))
        .collect();
    let used: BTreeSet<&AttributeCode> = spec.attributes();
    let unused_results = sorted
        .iter()
        .filter(|r| !used.contains(&r.attribute))
        .map(|r| UnusedResult {
            attribute: r.attribute.clone(),
            method: r.method.clone(),
            tested_on: r.tested_on,
        })
        .collect();
    let outcome = if rules.iter().any(|r| r.outcome == RuleOutcome::Fail) {
        OverallOutcome::Fail
    } else if rules.iter().any(|r| r.outcome == RuleOutcome::Missing) {
        OverallOutcome::Incomplete
    } else {
        OverallOutcome::Pass
    };
    Conformance {
        specification: spec.key().clone(),
        outcome,
        rules,
        unused_results,
    }
}

/// Prints a number without trailing zeros, at most four decimals.
fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn value_text(v: &QcValue) -> String {
    match v {
        QcValue::Numeric { value, unit } => format!("{} {unit}", num(value.get())),
        other => other.to_string(),
    }
}

fn observation(r: &QcResult, meets: Option<bool>) -> Observation {
    Observation {
        attribute: r.attribute.clone(),
        value: r.value.clone(),
        method: r.method.clone(),
        instrument: r.instrument.clone(),
        tested_on: r.tested_on,
        sample_id: r.sample_id.clone(),
        meets,
    }
}

fn set_aside(r: &QcResult, reason: String) -> SetAside {
    SetAside {
        attribute: r.attribute.clone(),
        value: r.value.clone(),
        method: r.method.clone(),
        tested_on: r.tested_on,
        reason,
    }
}

/// What a rule expects of a single result's value.
enum Expect<'a> {
    Number(&'a Bound),
    Reading(&'a [QualitativeResult]),
    Anything(Option<super::measure::Unit>),
}

/// Why a result's value cannot be used under `expect`, if it cannot.
fn unusable(value: &QcValue, expect: &Expect<'_>) -> Option<String> {
    match (expect, value) {
        (Expect::Number(b), QcValue::Numeric { unit, .. }) if *unit != b.unit => Some(format!(
            "unit {unit} does not match the rule's {}; results are not converted",
            b.unit
        )),
        (Expect::Number(_), QcValue::Numeric { .. }) => None,
        (Expect::Number(b), _) => Some(format!("a number in {} is required", b.unit)),
        (Expect::Reading(_), QcValue::Qualitative { .. }) => None,
        (Expect::Reading(acc), _) => Some(format!(
            "a qualitative reading ({}) is required",
            acc.iter().map(|a| a.word()).collect::<Vec<_>>().join("/")
        )),
        (Expect::Anything(Some(u)), QcValue::Numeric { unit, .. }) if unit != u => Some(format!(
            "unit {unit} does not match the rule's {u}; results are not converted"
        )),
        (Expect::Anything(_), _) => None,
    }
}

/// Whether a usable value meets the expectation on its own.
fn meets(value: &QcValue, expect: &Expect<'_>) -> bool {
    match (expect, value) {
        (Expect::Number(b), QcValue::Numeric { value, .. }) => b.holds(value.get()),
        (Expect::Reading(acc), QcValue::Qualitative { result }) => acc.contains(result),
        (Expect::Anything(_), _) => true,
        _ => false,
    }
}

/// Splits the results for `attribute` into usable ones and those set aside.
fn partition<'a>(
    rule: &Rule,
    attribute: &AttributeCode,
    results: &[&'a QcResult],
    expect: &Expect<'_>,
) -> (Vec<&'a QcResult>, Vec<SetAside>) {
    let mut usable = Vec::new();
    let mut aside = Vec::new();
    for r in results
        .iter()
        .copied()
        .filter(|r| &r.attribute == attribute)
    {
        if !rule.methods.is_empty() && !rule.methods.contains(&r.method) {
            aside.push(set_aside(
                r,
                format!(
                    "method {} is not accepted (accepted: {})",
                    r.method,
                    rule.methods
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        } else if let Some(reason) = unusable(&r.value, expect) {
            aside.push(set_aside(r, reason));
        } else {
            usable.push(r);
        }
    }
    (usable, aside)
}

fn aside_note(aside: &[SetAside]) -> String {
    match aside.len() {
        0 => String::new(),
        1 => format!("; 1 result set aside ({})", aside[0].reason),
        n => format!("; {n} results set aside"),
    }
}

/// Judges the usable results for one attribute against a per-result expectation.
fn judge_all(
    rule: &Rule,
    attribute: &AttributeCode,
    results: &[&QcResult],
    expect: &Expect<'_>,
    limit_text: &str,
) -> (RuleOutcome, Vec<Observation>, Vec<SetAside>, String) {
    let (usable, aside) = partition(rule, attribute, results, expect);
    let observed: Vec<Observation> = usable
        .iter()
        .map(|r| observation(r, Some(meets(&r.value, expect))))
        .collect();
    let failing: Vec<String> = usable
        .iter()
        .filter(|r| !meets(&r.value, expect))
        .map(|r| format!("{} ({}, {})", value_text(&r.value), r.method, r.tested_on))
        .collect();
    let (outcome, text) = if usable.is_empty() {
        (
            RuleOutcome::Missing,
            format!("no usable result for {attribute}{}", aside_note(&aside)),
        )
    } else if !failing.is_empty() {
        (
            RuleOutcome::Fail,
            format!(
                "{} of {} result(s) for {attribute} do not meet {limit_text}: {}{}",
                failing.len(),
                usable.len(),
                failing.join(", "),
                aside_note(&aside)
            ),
        )
    } else {
        let values: Vec<String> = usable.iter().map(|r| value_text(&r.value)).collect();
        (
            RuleOutcome::Pass,
            format!(
                "{attribute} meets {limit_text}: {}{}",
                values.join(", "),
                aside_note(&aside)
            ),
        )
    };
    (outcome, observed, aside, text)
}

fn check_rule(rule: &Rule, results: &[&QcResult], context: &ConformanceContext) -> RuleConformance {
    let mut computed_limit = None;
    let mut limit = rule.describe();
    let (outcome, observed, set_aside_results, explanation) = match &rule.requirement {
        Requirement::Numeric { attribute, bound } => judge_all(
            rule,
            attribute,
            results,
            &Expect::Number(bound),
            &bound.to_string(),
        ),
        Requirement::Qualitative { attribute, accept } => {
            let text = accept
                .iter()
                .map(|a| a.word())
                .collect::<Vec<_>>()
                .join(" or ");
            judge_all(rule, attribute, results, &Expect::Reading(accept), &text)
        }
        Requirement::DoseNormalised {
            attribute,
            threshold_per_kg,
            intrathecal_threshold_per_kg,
            unit,
            reference_body_mass_kg,
        } => {
            let dose = context.dose;
            let k = match dose {
                Some(d) if d.intrathecal => {
                    intrathecal_threshold_per_kg.unwrap_or(*threshold_per_kg)
                }
                _ => *threshold_per_kg,
            };
            let m = dose.map(|d| d.max_dose.ml_per_kg(*reference_body_mass_kg));
            match m.and_then(|m| dose_normalised_limit(k, m).map(|l| (m, l))) {
                Some((m, l)) => {
                    computed_limit = Some(l);
                    let bound = Bound {
                        comparator: Comparator::AtMost,
                        limit: l,
                        unit: *unit,
                    };
                    limit = format!(
                        "{attribute} ≤ {} {unit} (K/M = {} EU/kg ÷ {} mL/kg)",
                        num(l),
                        num(k),
                        num(m)
                    );
                    let shown = format!("≤ {} {unit}", num(l));
                    judge_all(rule, attribute, results, &Expect::Number(&bound), &shown)
                }
                None => {
                    let (usable, aside) =
                        partition(rule, attribute, results, &Expect::Anything(Some(*unit)));
                    (
                        RuleOutcome::Missing,
                        usable.iter().map(|r| observation(r, None)).collect(),
                        aside,
                        "the maximum dose is not stated, so the limit K/M cannot be computed"
                            .to_string(),
                    )
                }
            }
        }
        Requirement::AnyOf {
            alternatives,
            policy,
        } => {
            let mut observed = Vec::new();
            let mut aside = Vec::new();
            // Per measured alternative: does every usable result pass?
            let mut measured: Vec<(&AttributeCode, bool)> = Vec::new();
            for alt in alternatives {
                let bound;
                let expect = match &alt.condition {
                    Condition::Numeric { bound: b } => {
                        bound = *b;
                        Expect::Number(&bound)
                    }
                    Condition::Qualitative { accept } => Expect::Reading(accept),
                };
                let (usable, a) = partition(rule, &alt.attribute, results, &expect);
                aside.extend(a);
                if !usable.is_empty() {
                    let all = usable.iter().all(|r| meets(&r.value, &expect));
                    measured.push((&alt.attribute, all));
                }
                observed.extend(
                    usable
                        .iter()
                        .map(|r| observation(r, Some(meets(&r.value, &expect)))),
                );
            }
            let names = |pass: bool| {
                measured
                    .iter()
                    .filter(|(_, p)| *p == pass)
                    .map(|(a, _)| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (outcome, text) = if measured.is_empty() {
                (
                    RuleOutcome::Missing,
                    format!(
                        "none of the alternatives ({}) was measured{}",
                        alternatives
                            .iter()
                            .map(|a| a.attribute.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        aside_note(&aside)
                    ),
                )
            } else {
                let any_fail = measured.iter().any(|(_, p)| !p);
                let any_pass = measured.iter().any(|(_, p)| *p);
                let pass = match policy {
                    AnyOfPolicy::AllMeasured => !any_fail,
                    AnyOfPolicy::AnyPassing => any_pass,
                };
                if pass {
                    (
                        RuleOutcome::Pass,
                        format!("measured alternative(s) pass: {}", names(true)),
                    )
                } else {
                    (
                        RuleOutcome::Fail,
                        format!(
                            "measured alternative(s) fail: {}{}",
                            names(false),
                            if any_pass {
                                format!(" (passing {} does not make up for it)", names(true))
                            } else {
                                String::new()
                            }
                        ),
                    )
                }
            };
            (outcome, observed, aside, text)
        }
        Requirement::DistinctCount {
            attributes,
            distinct,
            min,
            qualifying,
        } => {
            let mut observed = Vec::new();
            let mut aside = Vec::new();
            let mut counted: BTreeSet<String> = BTreeSet::new();
            let mut non_qualifying = 0usize;
            for attribute in attributes {
                let (usable, a) = partition(rule, attribute, results, &Expect::Anything(None));
                aside.extend(a);
                for r in usable {
                    let q = match (qualifying, &r.value) {
                        (None, _) => true,
                        (Some(q), QcValue::Qualitative { result }) => q.contains(result),
                        (Some(_), _) => false,
                    };
                    if q {
                        counted.insert(match distinct {
                            CountBasis::Method => r.method.to_string(),
                            CountBasis::Attribute => r.attribute.to_string(),
                        });
                    } else {
                        non_qualifying += 1;
                    }
                    observed.push(observation(r, Some(q)));
                }
            }
            let what = match distinct {
                CountBasis::Method => "method",
                CountBasis::Attribute => "attribute",
            };
            let list = counted.iter().cloned().collect::<Vec<_>>().join(", ");
            let (outcome, text) = if counted.len() >= *min as usize {
                (
                    RuleOutcome::Pass,
                    format!(
                        "{} distinct {what}(s), {min} required: {list}",
                        counted.len()
                    ),
                )
            } else if non_qualifying > 0 {
                (
                    RuleOutcome::Fail,
                    format!(
                        "{} distinct {what}(s) qualify, {min} required; {non_qualifying} result(s) \
                         reported without a qualifying reading{}",
                        counted.len(),
                        aside_note(&aside)
                    ),
                )
            } else {
                (
                    RuleOutcome::Missing,
                    format!(
                        "{} distinct {what}(s) reported, {min} required{}{}",
                        counted.len(),
                        if list.is_empty() {
                            String::new()
                        } else {
                            format!(" ({list})")
                        },
                        aside_note(&aside)
                    ),
                )
            };
            (outcome, observed, aside, text)
        }
        Requirement::Evidence { attribute, unit } => {
            let (usable, aside) = partition(rule, attribute, results, &Expect::Anything(*unit));
            let observed: Vec<Observation> =
                usable.iter().map(|r| observation(r, Some(true))).collect();
            if usable.is_empty() {
                (
                    RuleOutcome::Missing,
                    observed,
                    aside.clone(),
                    format!("no usable result for {attribute}{}", aside_note(&aside)),
                )
            } else {
                let how: Vec<String> = usable
                    .iter()
                    .map(|r| format!("{} by {}", value_text(&r.value), r.method))
                    .collect();
                (
                    RuleOutcome::Pass,
                    observed,
                    aside,
                    format!("{attribute} reported: {}", how.join(", ")),
                )
            }
        }
    };
    RuleConformance {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        outcome,
        limit,
        computed_limit,
        observed,
        set_aside: set_aside_results,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::catalogue::Catalogue;
    use crate::quality::measure::Unit;
    use proptest::prelude::*;
    use time::macros::date;

    fn spec(key: &str) -> ResolvedSpecification {
        Catalogue::embedded()
            .unwrap()
            .resolve(&key.parse().unwrap())
            .unwrap()
    }

    fn num(attribute: &str, value: f64, unit: Unit, method: &str) -> QcResult {
        QcResult {
            attribute: attribute.parse().unwrap(),
            value: QcValue::numeric(value, unit).unwrap(),
            method: method.parse().unwrap(),
            instrument: Some(Name::try_from("BD FACSLyric #2").unwrap()),
            tested_on: date!(2025 - 05 - 02),
            sample_id: Some(Code::try_from("QC-0502-1").unwrap()),
        }
    }

    fn qual(attribute: &str, result: QualitativeResult, method: &str) -> QcResult {
        QcResult {
            attribute: attribute.parse().unwrap(),
            value: QcValue::Qualitative { result },
            method: method.parse().unwrap(),
            instrument: None,
            tested_on: date!(2025 - 05 - 03),
            sample_id: None,
        }
    }

    fn evidence(attribute: &str, reference: &str, method: &str) -> QcResult {
        QcResult {
            attribute: attribute.parse().unwrap(),
            value: QcValue::Evidence {
                reference: Code::try_from(reference).unwrap(),
            },
            method: method.parse().unwrap(),
            instrument: None,
            tested_on: date!(2025 - 05 - 04),
            sample_id: None,
        }
    }

    fn per_patient(ml: f64) -> ConformanceContext {
        ConformanceContext {
            dose: Some(DoseContext {
                max_dose: MaxDose::PerPatient {
                    ml: PositiveNumber::new(ml).unwrap(),
                },
                intrathecal: false,
            }),
        }
    }

    fn outcome(e: &Conformance, rule: &str) -> RuleOutcome {
        e.rules
            .iter()
            .find(|r| r.rule_id.as_str() == rule)
            .unwrap_or_else(|| panic!("no rule {rule}"))
            .outcome
    }

    fn rule<'a>(e: &'a Conformance, rule: &str) -> &'a RuleConformance {
        e.rules.iter().find(|r| r.rule_id.as_str() == rule).unwrap()
    }

    use QualitativeResult as Q;

    /// A complete, conforming lot of the example umbilical-cord MSC product.
    fn good_msc_lot() -> Vec<QcResult> {
        let f = "flow_cytometry";
        vec![
            qual("plastic_adherence", Q::Conforms, "microscopy"),
            num("cd105_positive", 98.7, Unit::Percent, f),
            num("cd73_positive", 99.5, Unit::Percent, f),
            num("cd90_positive", 99.1, Unit::Percent, f),
            num("cd45_positive", 0.4, Unit::Percent, f),
            num("cd34_positive", 0.8, Unit::Percent, f),
            num("cd14_positive", 0.3, Unit::Percent, f),
            num("cd19_positive", 0.2, Unit::Percent, f),
            num("hla_dr_positive", 1.1, Unit::Percent, f),
            qual("osteogenic_differentiation", Q::Positive, "alizarin_red"),
            qual("adipogenic_differentiation", Q::Positive, "oil_red_o"),
            qual("chondrogenic_differentiation", Q::Positive, "alcian_blue"),
            qual("sterility", Q::NoGrowth, "jp_sterility_membrane_filtration"),
            qual("mycoplasma", Q::NotDetected, "qpcr"),
            num("endotoxin", 0.25, Unit::EuPerMl, "lal_kinetic_chromogenic"),
            num("viability", 91.0, Unit::Percent, "flow_7aad"),
            num("viable_cell_count", 1.2e8, Unit::Cells, "flow_7aad"),
            qual("karyotype", Q::Conforms, "g_banding"),
        ]
    }

    #[test]
    fn conforming_msc_lot_passes() {
        let e = check_conformance(
            &spec("example-ucmsc@1"),
            &good_msc_lot(),
            &per_patient(20.0),
        );
        let unmet: Vec<_> = e.unmet().map(|r| (&r.rule_id, &r.explanation)).collect();
        assert_eq!(e.outcome, OverallOutcome::Pass, "{unmet:?}");
        assert_eq!(e.rules.len(), 18);
        assert!(e.unused_results.is_empty());
        let cd73 = rule(&e, "isct.cd73");
        assert_eq!(cd73.explanation, "cd73_positive meets ≥ 95 %: 99.5 %");
        assert_eq!(cd73.observed[0].meets, Some(true));
        assert_eq!(
            cd73.observed[0].instrument.as_ref().unwrap().as_str(),
            "BD FACSLyric #2"
        );
        // 5 EU/kg ÷ (20 mL ÷ 60 kg) = 15 EU/mL.
        let endo = rule(&e, "safety.endotoxin");
        assert_eq!(endo.computed_limit, Some(15.0));
        assert_eq!(
            endo.limit,
            "endotoxin ≤ 15 EU/mL (K/M = 5 EU/kg ÷ 0.3333 mL/kg)"
        );
    }

    #[test]
    fn isct_alternatives_either_marker_may_be_tested() {
        let isct = spec("isct-msc@1");
        let mut lot = good_msc_lot();
        // CD11b instead of CD14, CD79a instead of CD19: still conforming to ISCT.
        lot.retain(|r| !["cd14_positive", "cd19_positive"].contains(&r.attribute.as_str()));
        lot.push(num("cd11b_positive", 0.6, Unit::Percent, "flow_cytometry"));
        lot.push(num("cd79a_positive", 0.1, Unit::Percent, "flow_cytometry"));
        let e = check_conformance(&isct, &lot, &ConformanceContext::default());
        assert_eq!(outcome(&e, "isct.cd14_or_cd11b"), RuleOutcome::Pass);
        assert_eq!(outcome(&e, "isct.cd79a_or_cd19"), RuleOutcome::Pass);
        assert_eq!(e.outcome, OverallOutcome::Pass);

        // The example product narrowed the pair to CD14 ≤ 1 %: CD11b no longer counts.
        let product = check_conformance(&spec("example-ucmsc@1"), &lot, &per_patient(20.0));
        assert_eq!(
            outcome(&product, "isct.cd14_or_cd11b"),
            RuleOutcome::Missing
        );
        assert_eq!(product.outcome, OverallOutcome::Incomplete);
        assert_eq!(product.unused_results.len(), 1);
        assert_eq!(
            product.unused_results[0].attribute.as_str(),
            "cd11b_positive"
        );

        // Both tested, one failing: a passing CD14 does not hide a failing CD11b.
        lot.push(num("cd14_positive", 0.4, Unit::Percent, "flow_cytometry"));
        lot.push(num("cd11b_positive", 3.1, Unit::Percent, "flow_cytometry"));
        let e = check_conformance(&isct, &lot, &ConformanceContext::default());
        let r = rule(&e, "isct.cd14_or_cd11b");
        assert_eq!(r.outcome, RuleOutcome::Fail);
        assert_eq!(
            r.explanation,
            "measured alternative(s) fail: cd11b_positive (passing cd14_positive does not make up for it)"
        );
        // Neither tested: missing.
        lot.retain(|r| !["cd14_positive", "cd11b_positive"].contains(&r.attribute.as_str()));
        let e = check_conformance(&isct, &lot, &ConformanceContext::default());
        assert_eq!(outcome(&e, "isct.cd14_or_cd11b"), RuleOutcome::Missing);
    }

    #[test]
    fn failing_and_missing_msc_results() {
        let mut lot = good_msc_lot();
        lot.retain(|r| {
            !["cd73_positive", "chondrogenic_differentiation", "viability"]
                .contains(&r.attribute.as_str())
        });
        // Out of specification, then a passing retest: the failure stands.
        lot.push(num("cd73_positive", 93.0, Unit::Percent, "flow_cytometry"));
        let mut retest = num("cd73_positive", 96.0, Unit::Percent, "flow_cytometry");
        retest.tested_on = date!(2025 - 05 - 09);
        lot.push(retest);
        // A result by a method the rule does not accept, and one in the wrong unit.
        lot.push(num(
            "cd90_positive",
            99.0,
            Unit::Percent,
            "immunofluorescence",
        ));
        lot.push(num("viability", 0.91, Unit::MgPerMl, "flow_7aad"));
        let e = check_conformance(&spec("example-ucmsc@1"), &lot, &per_patient(20.0));
        assert_eq!(e.outcome, OverallOutcome::Fail);
        let cd73 = rule(&e, "isct.cd73");
        assert_eq!(cd73.outcome, RuleOutcome::Fail);
        assert_eq!(
            cd73.explanation,
            "1 of 2 result(s) for cd73_positive do not meet ≥ 95 %: 93 % (flow_cytometry, 2025-05-02)"
        );
        assert_eq!(outcome(&e, "isct.chondrogenic"), RuleOutcome::Missing);
        let cd90 = rule(&e, "isct.cd90");
        assert_eq!(cd90.outcome, RuleOutcome::Pass);
        assert_eq!(cd90.set_aside.len(), 1);
        assert!(
            cd90.set_aside[0]
                .reason
                .contains("immunofluorescence is not accepted")
        );
        let v = rule(&e, "safety.viability");
        assert_eq!(v.outcome, RuleOutcome::Missing);
        assert!(
            v.explanation
                .contains("unit mg/mL does not match the rule's %"),
            "{}",
            v.explanation
        );
        assert_eq!(e.unmet().count(), 3);
    }

    /// A complete, conforming lot of the example MSC-EV product.
    fn good_ev_lot() -> Vec<QcResult> {
        vec![
            num(
                "ev_particle_concentration",
                2.4e11,
                Unit::ParticlesPerMl,
                "nta",
            ),
            num("ev_protein_concentration", 180.0, Unit::UgPerMl, "bca"),
            num("ev_size", 118.0, Unit::Nanometre, "nta"),
            qual("ev_marker_cd9", Q::Present, "western_blot"),
            qual("ev_marker_cd63", Q::Present, "western_blot"),
            qual("ev_marker_cd81", Q::Absent, "western_blot"),
            qual("ev_marker_tsg101", Q::Detected, "western_blot"),
            qual("ev_purity_calnexin", Q::Absent, "western_blot"),
            num("ev_purity_apoa1", 0.8, Unit::UgPerMl, "elisa"),
            evidence("ev_image", "EM-2025-044.tif", "tem"),
            qual("sterility", Q::NoGrowth, "jp_sterility_membrane_filtration"),
            qual("mycoplasma", Q::Negative, "qpcr"),
            num("endotoxin", 1.2, Unit::EuPerMl, "lal_kinetic_turbidimetric"),
        ]
    }

    #[test]
    fn conforming_ev_lot_passes() {
        let e = check_conformance(&spec("example-msc-ev@1"), &good_ev_lot(), &per_patient(3.0));
        let unmet: Vec<_> = e.unmet().map(|r| (&r.rule_id, &r.explanation)).collect();
        assert_eq!(e.outcome, OverallOutcome::Pass, "{unmet:?}");
        assert_eq!(
            rule(&e, "misev.quantification").explanation,
            "2 distinct method(s), 2 required: bca, nta"
        );
        assert_eq!(
            rule(&e, "misev.transmembrane_marker").explanation,
            "2 distinct attribute(s), 2 required: ev_marker_cd63, ev_marker_cd9"
        );
        assert_eq!(rule(&e, "safety.endotoxin").computed_limit, Some(100.0));
    }

    #[test]
    fn ev_lot_with_gaps_and_failures() {
        let mut lot = good_ev_lot();
        lot.retain(|r| {
            ![
                "ev_protein_concentration",
                "ev_size",
                "ev_marker_cd9",
                "ev_marker_cd63",
                "ev_image",
            ]
            .contains(&r.attribute.as_str())
        });
        // Size by an ensemble method only; the tetraspanins tested negative.
        lot.push(num("ev_size", 130.0, Unit::Nanometre, "dls"));
        lot.push(qual("ev_marker_cd9", Q::Absent, "western_blot"));
        let e = check_conformance(&spec("example-msc-ev@1"), &lot, &per_patient(3.0));
        assert_eq!(e.outcome, OverallOutcome::Fail);
        assert_eq!(outcome(&e, "misev.quantification"), RuleOutcome::Missing);
        assert_eq!(
            rule(&e, "misev.quantification").explanation,
            "1 distinct method(s) reported, 2 required (nta)"
        );
        assert_eq!(
            outcome(&e, "misev.size_single_particle"),
            RuleOutcome::Missing
        );
        assert_eq!(outcome(&e, "product.size_mode"), RuleOutcome::Missing);
        assert_eq!(outcome(&e, "misev.transmembrane_marker"), RuleOutcome::Fail);
        assert_eq!(
            outcome(&e, "misev.single_vesicle_image"),
            RuleOutcome::Missing
        );
        assert_eq!(outcome(&e, "misev.cytosolic_marker"), RuleOutcome::Pass);
    }

    #[test]
    fn endotoxin_limit_is_k_over_m() {
        assert_eq!(dose_normalised_limit(5.0, 0.05), Some(100.0));
        assert_eq!(dose_normalised_limit(5.0, 0.0), None);
        let core = spec("safety-core@1");
        let lot = vec![num("endotoxin", 4.5, Unit::EuPerMl, "lal_gel_clot")];
        let limit = |ctx: &ConformanceContext| {
            let e = check_conformance(&core, &lot, ctx);
            let r = rule(&e, "safety.endotoxin");
            (r.computed_limit, r.outcome)
        };
        // 3 mL per patient: M = 3/60 = 0.05 mL/kg → 100 EU/mL.
        assert_eq!(limit(&per_patient(3.0)), (Some(100.0), RuleOutcome::Pass));
        // 1 mL/kg: → 5 EU/mL.
        let per_kg = ConformanceContext {
            dose: Some(DoseContext {
                max_dose: MaxDose::PerKg {
                    ml_per_kg: PositiveNumber::new(1.0).unwrap(),
                },
                intrathecal: false,
            }),
        };
        assert_eq!(limit(&per_kg), (Some(5.0), RuleOutcome::Pass));
        // Intrathecal, 3 mL per patient: 0.2 ÷ 0.05 = 4 EU/mL, so 4.5 fails.
        let mut it = per_patient(3.0);
        if let Some(d) = it.dose.as_mut() {
            d.intrathecal = true;
        }
        assert_eq!(limit(&it), (Some(4.0), RuleOutcome::Fail));
        // 100 mL per patient: 3 EU/mL, so 4.5 fails.
        assert_eq!(limit(&per_patient(100.0)), (Some(3.0), RuleOutcome::Fail));
        // No dose: the limit cannot be computed.
        let e = check_conformance(&core, &lot, &ConformanceContext::default());
        let r = rule(&e, "safety.endotoxin");
        assert_eq!((r.computed_limit, r.outcome), (None, RuleOutcome::Missing));
        assert!(r.explanation.contains("maximum dose is not stated"));
        // Contexts come from JSON strictly.
        let ctx: ConformanceContext = serde_json::from_str(
            r#"{"dose":{"max_dose":{"basis":"per_kg","ml_per_kg":0.5},"intrathecal":false}}"#,
        )
        .unwrap();
        assert_eq!(limit(&ctx).0, Some(10.0));
        assert!(
            serde_json::from_str::<ConformanceContext>(
                r#"{"dose":{"max_dose":{"basis":"per_kg","ml_per_kg":0}}}"#
            )
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn conformance_does_not_depend_on_result_order(
            shuffled in Just(good_ev_lot().into_iter().chain(good_msc_lot()).collect::<Vec<_>>()).prop_shuffle(),
            drop in 0usize..31,
        ) {
            let mut lot: Vec<QcResult> = good_ev_lot().into_iter().chain(good_msc_lot()).collect();
            let mut shuffled = shuffled;
            // Remove the same result from both, so missing rules are covered too.
            if drop < lot.len() {
                let gone = lot.remove(drop);
                if let Some(i) = shuffled.iter().position(|r| r == &gone) {
                    shuffled.remove(i);
                }
            }
            for key in ["example-msc-ev@1", "example-ucmsc@1"] {
                let s = spec(key);
                let a = check_conformance(&s, &lot, &per_patient(3.0));
                let b = check_conformance(&s, &shuffled, &per_patient(3.0));
                prop_assert_eq!(a, b);
            }
        }
    }
}
