//! The TOML file format of specifications. Everything is parsed into the raw shapes
//! below and then checked field by field, so an error names the rule and the field.

use super::{
    Alternative, AnyOfPolicy, Bound, Comparator, Condition, CountBasis, Requirement, Rule, Source,
    SpecCategory, SpecError, SpecKey, Specification,
};
use crate::quality::identifiers::{AttributeCode, MethodCode, RuleId, SpecId};
use crate::quality::measure::Unit;
use crate::quality::qc::QualitativeResult;
use serde::Deserialize;
use std::collections::BTreeSet;
use time::{Date, Month};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    specification: RawHeader,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: SpecId,
    version: u32,
    title: String,
    category: SpecCategory,
    #[serde(default)]
    description: Option<String>,
    effective_from: toml::value::Datetime,
    #[serde(default)]
    source: Vec<Source>,
    #[serde(default)]
    extends: Vec<SpecKey>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    Numeric,
    Qualitative,
    DoseNormalised,
    AnyOf,
    DistinctCount,
    Evidence,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: RuleId,
    #[serde(default)]
    title: Option<String>,
    kind: RawKind,
    #[serde(default)]
    attribute: Option<AttributeCode>,
    #[serde(default)]
    comparator: Option<Comparator>,
    #[serde(default)]
    limit: Option<f64>,
    #[serde(default)]
    unit: Option<Unit>,
    #[serde(default)]
    accept: Option<Vec<QualitativeResult>>,
    #[serde(default)]
    alternative: Option<Vec<RawAlternative>>,
    #[serde(default)]
    policy: Option<AnyOfPolicy>,
    #[serde(default)]
    attributes: Option<Vec<AttributeCode>>,
    #[serde(default)]
    distinct: Option<CountBasis>,
    #[serde(default)]
    min: Option<u32>,
    #[serde(default)]
    qualifying: Option<Vec<QualitativeResult>>,
    #[serde(default)]
    threshold_per_kg: Option<f64>,
    #[serde(default)]
    intrathecal_threshold_per_kg: Option<f64>,
    #[serde(default)]
    reference_body_mass_kg: Option<f64>,
    #[serde(default)]
    methods: Option<Vec<MethodCode>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlternative {
    attribute: AttributeCode,
    #[serde(default)]
    comparator: Option<Comparator>,
    #[serde(default)]
    limit: Option<f64>,
    #[serde(default)]
    unit: Option<Unit>,
    #[serde(default)]
    accept: Option<Vec<QualitativeResult>>,
}

/// Collects field errors for one specification.
struct Checker {
    spec: String,
}

impl Checker {
    fn err(&self, field: impl Into<String>, problem: impl Into<String>) -> SpecError {
        SpecError::InvalidField {
            spec: self.spec.clone(),
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn required<T>(&self, v: Option<T>, field: String, kind: &str) -> Result<T, SpecError> {
        v.ok_or_else(|| self.err(field, format!("is required for kind {kind}")))
    }

    fn text(&self, v: String, field: &str) -> Result<String, SpecError> {
        let t = v.trim();
        if t.is_empty() {
            Err(self.err(field, "must not be empty"))
        } else {
            Ok(t.to_string())
        }
    }

    fn bound(
        &self,
        at: &str,
        comparator: Option<Comparator>,
        limit: Option<f64>,
        unit: Option<Unit>,
        kind: &str,
    ) -> Result<Bound, SpecError> {
        let comparator = self.required(comparator, format!("{at}.comparator"), kind)?;
        let limit = self.required(limit, format!("{at}.limit"), kind)?;
        let unit = self.required(unit, format!("{at}.unit"), kind)?;
        if !limit.is_finite() {
            return Err(self.err(format!("{at}.limit"), "must be a finite number"));
        }
        if unit == Unit::Percent && !(0.0..=100.0).contains(&limit) {
            return Err(self.err(
                format!("{at}.limit"),
                format!("{limit} % is outside 0–100 %"),
            ));
        }
        Ok(Bound {
            comparator,
            limit,
            unit,
        })
    }

    fn readings(
        &self,
        v: Option<Vec<QualitativeResult>>,
        field: String,
        kind: &str,
    ) -> Result<Vec<QualitativeResult>, SpecError> {
        let v = self.required(v, field.clone(), kind)?;
        if v.is_empty() {
            return Err(self.err(field, "must list at least one reading"));
        }
        Ok(v)
    }

    fn positive(&self, v: f64, field: String) -> Result<f64, SpecError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(field, format!("must be a positive number (got {v})")))
        }
    }
}

impl RawFile {
    pub(super) fn into_specification(self, source_name: &str) -> Result<Specification, SpecError> {
        let h = self.specification;
        let key = SpecKey {
            id: h.id,
            version: h.version,
        };
        let c = Checker {
            spec: format!("{key} ({source_name})"),
        };
        if key.version == 0 {
            return Err(c.err("specification.version", "versions start at 1"));
        }
        let title = c.text(h.title, "specification.title")?;
        let effective_from = toml_date(&h.effective_from).ok_or_else(|| {
            c.err(
                "specification.effective_from",
                "must be a date like 2006-08-01 (no time)",
            )
        })?;
        if h.source.is_empty() {
            return Err(c.err(
                "specification.source",
                "at least one source (citation) is required",
            ));
        }
        for (i, s) in h.source.iter().enumerate() {
            if s.citation.trim().is_empty() {
                return Err(c.err(
                    format!("specification.source[{i}].citation"),
                    "must not be empty",
                ));
            }
        }
        let mut seen_bases = BTreeSet::new();
        for b in &h.extends {
            if b.id == key.id {
                return Err(c.err(
                    "specification.extends",
                    "a specification cannot extend its own id",
                ));
            }
            if !seen_bases.insert(b.clone()) {
                return Err(c.err("specification.extends", format!("{b} is listed twice")));
            }
        }
        if h.category == SpecCategory::Product && h.extends.is_empty() && self.rule.is_empty() {
            return Err(c.err("rule", "a product specification needs rules or a base"));
        }
        let mut rules = Vec::with_capacity(self.rule.len());
        let mut ids = BTreeSet::new();
        for raw in self.rule {
            if !ids.insert(raw.id.clone()) {
                return Err(SpecError::DuplicateRule {
                    spec: c.spec.clone(),
                    rule: raw.id,
                });
            }
            rules.push(raw.into_rule(&c)?);
        }
        Ok(Specification {
            key,
            title,
            category: h.category,
            description: h
                .description
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty()),
            effective_from,
            sources: h.source,
            extends: h.extends,
            rules,
        })
    }
}

impl RawRule {
    fn into_rule(self, c: &Checker) -> Result<Rule, SpecError> {
        let at = format!("rule[{}]", self.id);
        let kind_name = match self.kind {
            RawKind::Numeric => "numeric",
            RawKind::Qualitative => "qualitative",
            RawKind::DoseNormalised => "dose_normalised",
            RawKind::AnyOf => "any_of",
            RawKind::DistinctCount => "distinct_count",
            RawKind::Evidence => "evidence",
        };
        // Fields that make no sense for the kind are refused: they are authoring mistakes.
        let present: [(&str, bool, &[RawKind]); 13] = {
            use RawKind::*;
            [
                (
                    "attribute",
                    self.attribute.is_some(),
                    &[Numeric, Qualitative, DoseNormalised, Evidence],
                ),
                ("comparator", self.comparator.is_some(), &[Numeric]),
                ("limit", self.limit.is_some(), &[Numeric]),
                (
                    "unit",
                    self.unit.is_some(),
                    &[Numeric, DoseNormalised, Evidence],
                ),
                ("accept", self.accept.is_some(), &[Qualitative]),
                ("alternative", self.alternative.is_some(), &[AnyOf]),
                ("policy", self.policy.is_some(), &[AnyOf]),
                ("attributes", self.attributes.is_some(), &[DistinctCount]),
                ("distinct", self.distinct.is_some(), &[DistinctCount]),
                ("min", self.min.is_some(), &[DistinctCount]),
                ("qualifying", self.qualifying.is_some(), &[DistinctCount]),
                (
                    "threshold_per_kg",
                    self.threshold_per_kg.is_some() || self.intrathecal_threshold_per_kg.is_some(),
                    &[DoseNormalised],
                ),
                (
                    "reference_body_mass_kg",
                    self.reference_body_mass_kg.is_some(),
                    &[DoseNormalised],
                ),
            ]
        };
        for (field, is_present, kinds) in present {
            if is_present && !kinds.contains(&self.kind) {
                return Err(c.err(
                    format!("{at}.{field}"),
                    format!("does not apply to kind {kind_name}"),
                ));
            }
        }
        let title = c.text(
            c.required(self.title, format!("{at}.title"), kind_name)?,
            &format!("{at}.title"),
        )?;
        let attribute =
            |v: Option<AttributeCode>| c.required(v, format!("{at}.attribute"), kind_name);
        let requirement = match self.kind {
            RawKind::Numeric => Requirement::Numeric {
                attribute: attribute(self.attribute)?,
                bound: c.bound(&at, self.comparator, self.limit, self.unit, kind_name)?,
            },
            RawKind::Qualitative => Requirement::Qualitative {
                attribute: attribute(self.attribute)?,
                accept: c.readings(self.accept, format!("{at}.accept"), kind_name)?,
            },
            RawKind::DoseNormalised => {
                let unit = c.required(self.unit, format!("{at}.unit"), kind_name)?;
                if unit != Unit::EuPerMl {
                    return Err(c.err(
                        format!("{at}.unit"),
                        format!("must be EU/mL (doses are volumes), not {unit}"),
                    ));
                }
                let k = c.required(
                    self.threshold_per_kg,
                    format!("{at}.threshold_per_kg"),
                    kind_name,
                )?;
                let mass = c.required(
                    self.reference_body_mass_kg,
                    format!("{at}.reference_body_mass_kg"),
                    kind_name,
                )?;
                Requirement::DoseNormalised {
                    attribute: attribute(self.attribute)?,
                    threshold_per_kg: c.positive(k, format!("{at}.threshold_per_kg"))?,
                    intrathecal_threshold_per_kg: self
                        .intrathecal_threshold_per_kg
                        .map(|k| c.positive(k, format!("{at}.intrathecal_threshold_per_kg")))
                        .transpose()?,
                    unit,
                    reference_body_mass_kg: c
                        .positive(mass, format!("{at}.reference_body_mass_kg"))?,
                }
            }
            RawKind::AnyOf => {
                let raws = c.required(self.alternative, format!("{at}.alternative"), kind_name)?;
                if raws.is_empty() {
                    return Err(c.err(
                        format!("{at}.alternative"),
                        "needs at least one alternative",
                    ));
                }
                let mut alternatives: Vec<Alternative> = Vec::with_capacity(raws.len());
                for (i, a) in raws.into_iter().enumerate() {
                    let aat = format!("{at}.alternative[{i}]");
                    if alternatives.iter().any(|x| x.attribute == a.attribute) {
                        return Err(c.err(
                            format!("{aat}.attribute"),
                            format!("{} is listed twice", a.attribute),
                        ));
                    }
                    let numeric = a.comparator.is_some() || a.limit.is_some() || a.unit.is_some();
                    let condition = match (numeric, a.accept) {
                        (true, None) => Condition::Numeric {
                            bound: c.bound(
                                &aat,
                                a.comparator,
                                a.limit,
                                a.unit,
                                "numeric alternative",
                            )?,
                        },
                        (false, Some(acc)) => Condition::Qualitative {
                            accept: c.readings(Some(acc), format!("{aat}.accept"), kind_name)?,
                        },
                        _ => {
                            return Err(c.err(
                                aat,
                                "give either comparator/limit/unit or accept, not both or neither",
                            ));
                        }
                    };
                    alternatives.push(Alternative {
                        attribute: a.attribute,
                        condition,
                    });
                }
                Requirement::AnyOf {
                    alternatives,
                    policy: self.policy.unwrap_or_default(),
                }
            }
            RawKind::DistinctCount => {
                let attributes =
                    c.required(self.attributes, format!("{at}.attributes"), kind_name)?;
                if attributes.is_empty() {
                    return Err(c.err(
                        format!("{at}.attributes"),
                        "must list at least one attribute",
                    ));
                }
                let unique: BTreeSet<_> = attributes.iter().collect();
                if unique.len() != attributes.len() {
                    return Err(c.err(format!("{at}.attributes"), "lists an attribute twice"));
                }
                let distinct = c.required(self.distinct, format!("{at}.distinct"), kind_name)?;
                let min = c.required(self.min, format!("{at}.min"), kind_name)?;
                if min == 0 {
                    return Err(c.err(format!("{at}.min"), "must be at least 1"));
                }
                if distinct == CountBasis::Attribute && min as usize > attributes.len() {
                    return Err(c.err(
                        format!("{at}.min"),
                        format!(
                            "{min} distinct attributes can never be met with {} listed",
                            attributes.len()
                        ),
                    ));
                }
                let qualifying = match self.qualifying {
                    Some(q) => Some(c.readings(Some(q), format!("{at}.qualifying"), kind_name)?),
                    None => None,
                };
                Requirement::DistinctCount {
                    attributes,
                    distinct,
                    min,
                    qualifying,
                }
            }
            RawKind::Evidence => Requirement::Evidence {
                attribute: attribute(self.attribute)?,
                unit: self.unit,
            },
        };
        let methods = self.methods.unwrap_or_default();
        let unique: BTreeSet<_> = methods.iter().collect();
        if unique.len() != methods.len() {
            return Err(c.err(format!("{at}.methods"), "lists a method twice"));
        }
        Ok(Rule {
            id: self.id,
            title,
            requirement,
            methods,
            note: self
                .note
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
        })
    }
}

/// A TOML local date (no time, no offset) as a `time::Date`.
pub(crate) fn toml_date(d: &toml::value::Datetime) -> Option<Date> {
    if d.time.is_some() || d.offset.is_some() {
        return None;
    }
    let date = d.date?;
    let month = Month::try_from(date.month).ok()?;
    Date::from_calendar_date(i32::from(date.year), month, date.day).ok()
}
