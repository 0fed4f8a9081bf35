//! Specifications as versioned data: what a lot must show before it may be released.
//!
//! A specification is a TOML file under `specs/` with an id, a version, a title, an
//! effective date and the sources it rests on, and a list of rules. Each rule constrains
//! one or more quality attributes:
//!
//! | kind | passes when |
//! |---|---|
//! | `numeric` | every usable result satisfies `comparator limit unit` (e.g. `>= 95 %`) |
//! | `qualitative` | every usable result is one of the accepted readings (`no_growth`) |
//! | `dose_normalised` | every result is ≤ K/M, the pharmacopoeial endotoxin limit (below) |
//! | `any_of` | interchangeable alternatives, e.g. ISCT's "CD14 or CD11b" (below) |
//! | `distinct_count` | results show at least `min` distinct methods or attributes |
//! | `evidence` | a result exists (an EM image, a size by a single-particle method) |
//!
//! A rule may restrict the acceptable `methods`; results by other methods are set aside.
//!
//! **Extension.** A product specification `extends` one or more base specifications. It
//! inherits their rules, may add rules, and may override an inherited rule by reusing its
//! id — but only to *tighten* it (higher lower bound, lower upper bound, fewer accepted
//! readings or methods, fewer alternatives, a larger count…). Anything that would loosen
//! or change the nature of a base rule is refused when the specification is loaded
//! ([`SpecError::Loosening`]), so a product can never quietly fall below ISCT, MISEV or
//! the pharmacopoeia.
//!
//! **Endotoxin (K/M).** As in JP 4.01 and USP <85>, the limit is `K / M` EU/mL, where `K`
//! is the threshold pyrogenic dose (5 EU/kg for parenteral routes, 0.2 EU/kg intrathecal)
//! and `M` the maximum dose volume per kg of body mass given within one hour. A dose
//! stated per patient is divided by the rule's reference body mass (60 kg in the JP). Both
//! K and the reference mass are data in the rule; the dose comes with the conformance check.
//!
//! **Alternatives (`any_of`).** With the default policy `all_measured`, the rule passes when
//! at least one alternative was measured and every measured alternative passes: a lab may
//! test CD14 *or* CD11b, but a failing CD11b is not hidden by a passing CD14. The policy
//! `any_passing` accepts the lot as soon as one alternative passes in full.

use super::identifiers::{AttributeCode, MethodCode, RuleId, SpecId};
use super::measure::Unit;
use super::qc::QualitativeResult;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use time::Date;
use utoipa::ToSchema;

mod file;
#[cfg(test)]
mod tests;
mod tighten;

use file::RawFile;
pub(crate) use file::toml_date;

/// How a numeric result is compared with a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Comparator {
    /// The result must be at least the limit (`>=`).
    #[serde(rename = ">=")]
    AtLeast,
    /// The result must exceed the limit (`>`).
    #[serde(rename = ">")]
    Above,
    /// The result must be at most the limit (`<=`).
    #[serde(rename = "<=")]
    AtMost,
    /// The result must be below the limit (`<`).
    #[serde(rename = "<")]
    Below,
}

impl Comparator {
    /// Whether `value` satisfies `self limit`.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Comparator::AtLeast => value >= limit,
            Comparator::Above => value > limit,
            Comparator::AtMost => value <= limit,
            Comparator::Below => value < limit,
        }
    }
    /// The mathematical symbol, for explanations.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::AtLeast => "≥",
            Comparator::Above => ">",
            Comparator::AtMost => "≤",
            Comparator::Below => "<",
        }
    }
    /// `true` for `>=`/`>` (a minimum), `false` for `<=`/`<` (a maximum).
    pub fn is_lower_bound(self) -> bool {
        matches!(self, Comparator::AtLeast | Comparator::Above)
    }
    fn is_strict(self) -> bool {
        matches!(self, Comparator::Above | Comparator::Below)
    }
}

/// A numeric limit with its unit, e.g. `>= 95 %`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Bound {
    /// The comparison.
    pub comparator: Comparator,
    /// The limit (finite).
    pub limit: f64,
    /// The unit results must carry.
    pub unit: Unit,
}

impl Bound {
    /// Whether a value in the bound's unit satisfies it.
    pub fn holds(&self, value: f64) -> bool {
        self.comparator.holds(value, self.limit)
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.comparator.symbol(),
            self.limit,
            self.unit
        )
    }
}

/// One way of satisfying an `any_of` rule: a numeric bound or accepted readings.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// A numeric bound.
    Numeric {
        /// The bound.
        bound: Bound,
    },
    /// Accepted qualitative readings.
    Qualitative {
        /// The readings that pass.
        accept: Vec<QualitativeResult>,
    },
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Numeric { bound } => write!(f, "{bound}"),
            Condition::Qualitative { accept } => write!(f, "is {}", join(accept, " or ")),
        }
    }
}

/// An alternative inside an `any_of` rule.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Alternative {
    /// The attribute measured for this alternative, e.g. `cd14_positive`.
    pub attribute: AttributeCode,
    /// What its results must satisfy.
    pub condition: Condition,
}

/// How an `any_of` rule combines its alternatives (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnyOfPolicy {
    /// At least one alternative measured, and every measured alternative passes.
    #[default]
    AllMeasured,
    /// At least one alternative measured whose results all pass.
    AnyPassing,
}

/// What a `distinct_count` rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountBasis {
    /// Distinct analytical methods (e.g. particle count by NTA + protein by BCA).
    Method,
    /// Distinct attributes (e.g. CD9 and CD63 markers).
    Attribute,
}

/// What a rule requires of the QC results.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Requirement {
    /// Every usable result for `attribute` satisfies `bound`.
    Numeric {
        /// The attribute.
        attribute: AttributeCode,
        /// The bound.
        bound: Bound,
    },
    /// Every usable result for `attribute` is one of `accept`.
    Qualitative {
        /// The attribute.
        attribute: AttributeCode,
        /// The readings that pass.
        accept: Vec<QualitativeResult>,
    },
    /// Every usable result for `attribute` is at most K/M in `unit` (EU/mL).
    DoseNormalised {
        /// The attribute (endotoxin).
        attribute: AttributeCode,
        /// K for parenteral routes, in EU/kg.
        threshold_per_kg: f64,
        /// K for intrathecal administration, in EU/kg, when the source gives one.
        intrathecal_threshold_per_kg: Option<f64>,
        /// The unit of results and limit (EU/mL).
        unit: Unit,
        /// Body mass that a per-patient dose is divided by, in kg.
        reference_body_mass_kg: f64,
    },
    /// Interchangeable alternatives.
    AnyOf {
        /// The alternatives (at least one; distinct attributes). A product may narrow a
        /// base's alternatives down to one.
        alternatives: Vec<Alternative>,
        /// How they combine.
        policy: AnyOfPolicy,
    },
    /// At least `min` distinct methods or attributes among qualifying results.
    DistinctCount {
        /// The attributes that count.
        attributes: Vec<AttributeCode>,
        /// What is counted.
        distinct: CountBasis,
        /// The minimum count.
        min: u32,
        /// When given, only qualitative results with one of these readings count; when
        /// absent, any reported result counts.
        qualifying: Option<Vec<QualitativeResult>>,
    },
    /// At least one usable result for `attribute` exists.
    Evidence {
        /// The attribute.
        attribute: AttributeCode,
        /// The unit a numeric result must carry, if any.
        unit: Option<Unit>,
    },
}

impl Requirement {
    /// The attributes whose results the rule looks at.
    pub fn attributes(&self) -> Vec<&AttributeCode> {
        match self {
            Requirement::Numeric { attribute, .. }
            | Requirement::Qualitative { attribute, .. }
            | Requirement::DoseNormalised { attribute, .. }
            | Requirement::Evidence { attribute, .. } => vec![attribute],
            Requirement::AnyOf { alternatives, .. } => {
                alternatives.iter().map(|a| &a.attribute).collect()
            }
            Requirement::DistinctCount { attributes, .. } => attributes.iter().collect(),
        }
    }

    /// The kind's name as written in TOML.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Requirement::Numeric { .. } => "numeric",
            Requirement::Qualitative { .. } => "qualitative",
            Requirement::DoseNormalised { .. } => "dose_normalised",
            Requirement::AnyOf { .. } => "any_of",
            Requirement::DistinctCount { .. } => "distinct_count",
            Requirement::Evidence { .. } => "evidence",
        }
    }

    /// A one-line description of the requirement, for people.
    pub fn describe(&self) -> String {
        match self {
            Requirement::Numeric { attribute, bound } => format!("{attribute} {bound}"),
            Requirement::Qualitative { attribute, accept } => {
                format!("{attribute} is {}", join(accept, " or "))
            }
            Requirement::DoseNormalised {
                attribute,
                threshold_per_kg,
                intrathecal_threshold_per_kg,
                unit,
                reference_body_mass_kg,
            } => {
                let it = intrathecal_threshold_per_kg
                    .map(|k| format!(" ({k} EU/kg intrathecal)"))
                    .unwrap_or_default();
                format!(
                    "{attribute} ≤ K/M {unit}, K = {threshold_per_kg} EU/kg{it}, M = maximum dose \
                     in mL/kg within one hour (a per-patient dose ÷ {reference_body_mass_kg} kg)"
                )
            }
            Requirement::AnyOf {
                alternatives,
                policy,
            } => {
                let alts: Vec<String> = alternatives
                    .iter()
                    .map(|a| format!("{} {}", a.attribute, a.condition))
                    .collect();
                let how = match policy {
                    AnyOfPolicy::AllMeasured => "at least one measured; every measured one passes",
                    AnyOfPolicy::AnyPassing => "at least one passes",
                };
                format!("{} ({how})", alts.join(" or "))
            }
            Requirement::DistinctCount {
                attributes,
                distinct,
                min,
                qualifying,
            } => {
                let what = match distinct {
                    CountBasis::Method => "distinct methods",
                    CountBasis::Attribute => "distinct attributes",
                };
                let q = qualifying
                    .as_ref()
                    .map(|q| format!(" reading {}", join(q, "/")))
                    .unwrap_or_default();
                format!("at least {min} {what} among {}{q}", join(attributes, ", "))
            }
            Requirement::Evidence { attribute, unit } => match unit {
                Some(u) => format!("{attribute} reported in {u}"),
                None => format!("{attribute} reported"),
            },
        }
    }
}

fn join<T: fmt::Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// One rule of a specification.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Rule {
    /// Its id, unique within the resolved specification.
    pub id: RuleId,
    /// A short title for people, e.g. "CD73 expression".
    pub title: String,
    /// What it requires.
    pub requirement: Requirement,
    /// The acceptable methods; empty means any method.
    pub methods: Vec<MethodCode>,
    /// A remark from the source (why this limit, where it comes from).
    pub note: Option<String>,
}

impl Rule {
    /// The requirement in words, with the acceptable methods.
    pub fn describe(&self) -> String {
        let d = self.requirement.describe();
        if self.methods.is_empty() {
            d
        } else {
            format!("{d}; by {}", join(&self.methods, " or "))
        }
    }
}

/// A publication or regulation a specification rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The citation as one would write it in a report.
    pub citation: String,
    /// A URL, when there is a stable one.
    #[serde(default)]
    pub url: Option<String>,
    /// A DOI, when there is one.
    #[serde(default)]
    pub doi: Option<String>,
}

/// Whether a specification is a published reference (ISCT, MISEV, pharmacopoeia) or one
/// product's own specification built on references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpecCategory {
    /// A published criterion set that products build on.
    Reference,
    /// A product's specification (extends references).
    Product,
}

/// The identity of one immutable specification: id and version, written `id@version`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecKey {
    /// The specification id.
    pub id: SpecId,
    /// The version (1, 2, …); a changed specification gets a new version, never an edit.
    pub version: u32,
}

impl fmt::Display for SpecKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.version)
    }
}

impl FromStr for SpecKey {
    type Err = String;
    /// Parses `id@version`, e.g. `isct-msc@1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (id, v) = s
            .trim()
            .split_once('@')
            .ok_or_else(|| format!("{s:?} is not a specification key like isct-msc@1"))?;
        let id = SpecId::from_str(id).map_err(|e| e.to_string())?;
        let version = v
            .parse::<u32>()
            .map_err(|_| format!("version {v:?} is not a whole number"))?;
        Ok(SpecKey { id, version })
    }
}

/// A specification as loaded from one file: its own rules and the keys it extends.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Specification {
    key: SpecKey,
    title: String,
    category: SpecCategory,
    description: Option<String>,
    effective_from: Date,
    sources: Vec<Source>,
    extends: Vec<SpecKey>,
    rules: Vec<Rule>,
}

impl Specification {
    /// Its id and version.
    pub fn key(&self) -> &SpecKey {
        &self.key
    }
    /// Its title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// Reference or product.
    pub fn category(&self) -> SpecCategory {
        self.category
    }
    /// A longer description of its scope, if given.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The date from which this version applies.
    pub fn effective_from(&self) -> Date {
        self.effective_from
    }
    /// What it rests on.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }
    /// The specifications it extends.
    pub fn extends(&self) -> &[SpecKey] {
        &self.extends
    }
    /// Its own rules (added or tightened), without inherited ones.
    pub fn own_rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Parses and checks one specification file. Bases are not consulted here; see
    /// [`resolve`] and [`super::catalogue::Catalogue::add_specification_toml`].
    pub fn from_toml(source_name: &str, text: &str) -> Result<Self, SpecError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| SpecError::Syntax {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        raw.into_specification(source_name)
    }
}

/// A rule in a resolved specification, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResolvedRule {
    /// The rule in force.
    pub rule: Rule,
    /// The specification that first introduced this rule id.
    pub introduced_by: SpecKey,
    /// The specification whose version of the rule is in force (differs from
    /// `introduced_by` when a product tightened it).
    pub defined_by: SpecKey,
}

/// A specification with all inherited rules merged in: what a lot is checked against.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResolvedSpecification {
    key: SpecKey,
    title: String,
    category: SpecCategory,
    effective_from: Date,
    lineage: Vec<SpecKey>,
    rules: Vec<ResolvedRule>,
}

impl ResolvedSpecification {
    /// Its id and version.
    pub fn key(&self) -> &SpecKey {
        &self.key
    }
    /// Its title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// Reference or product.
    pub fn category(&self) -> SpecCategory {
        self.category
    }
    /// The date from which it applies.
    pub fn effective_from(&self) -> Date {
        self.effective_from
    }
    /// Every base specification it builds on, transitively, in first-seen order.
    pub fn lineage(&self) -> &[SpecKey] {
        &self.lineage
    }
    /// The rules in force, base rules first (in base order), then the product's own.
    pub fn rules(&self) -> &[ResolvedRule] {
        &self.rules
    }
    /// The rule in force with this id.
    pub fn rule(&self, id: &RuleId) -> Option<&ResolvedRule> {
        self.rules.iter().find(|r| &r.rule.id == id)
    }
    /// Every attribute some rule looks at, so an API can warn about results no rule uses.
    pub fn attributes(&self) -> BTreeSet<&AttributeCode> {
        self.rules
            .iter()
            .flat_map(|r| r.rule.requirement.attributes())
            .collect()
    }
}

/// Why a specification could not be loaded or resolved. Each variant names the
/// specification (or file) and, where it applies, the field or rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// The file is not TOML or does not have the specification's shape.
    #[error("{source_name}: {message}")]
    Syntax {
        /// The file or upload the text came from.
        source_name: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A field is missing, superfluous or has an impossible value.
    #[error("{spec}: `{field}`: {problem}")]
    InvalidField {
        /// The specification (key or file name).
        spec: String,
        /// The field path, e.g. `rule[isct.cd73].limit`.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// Two rules of one file share an id.
    #[error("{spec}: rule id `{rule}` is used more than once")]
    DuplicateRule {
        /// The specification.
        spec: String,
        /// The repeated id.
        rule: RuleId,
    },
    /// The same id and version is loaded twice.
    #[error("{spec}: this id and version is already loaded; publish a new version instead")]
    DuplicateSpecification {
        /// The specification.
        spec: SpecKey,
    },
    /// No specification with this id and version is loaded.
    #[error("{spec}: no such specification is loaded")]
    NotFound {
        /// The key asked for.
        spec: SpecKey,
    },
    /// A base specification is not (yet) loaded.
    #[error("{spec}: extends {base}, which is not loaded")]
    UnknownBase {
        /// The specification.
        spec: SpecKey,
        /// The missing base.
        base: SpecKey,
    },
    /// The specifications extend each other in a circle.
    #[error("{spec}: extends itself through {via}")]
    Cycle {
        /// The specification.
        spec: SpecKey,
        /// The key met twice.
        via: SpecKey,
    },
    /// An override would loosen (or change the nature of) a base rule.
    #[error(
        "{spec}: rule `{rule}` would loosen {base}: {detail}; a product may only add or tighten rules"
    )]
    Loosening {
        /// The product specification.
        spec: SpecKey,
        /// The rule id.
        rule: RuleId,
        /// The specification whose version of the rule would be loosened.
        base: SpecKey,
        /// What would be loosened.
        detail: String,
    },
    /// Two bases bring different rules under the same id.
    #[error(
        "{spec}: rule `{rule}` is inherited from both {first} and {second} with different content"
    )]
    ConflictingInheritance {
        /// The specification.
        spec: SpecKey,
        /// The rule id.
        rule: RuleId,
        /// One base.
        first: SpecKey,
        /// The other.
        second: SpecKey,
    },
}

/// Merges a specification with its bases (looked up with `lookup`), checking that every
/// override tightens the rule it replaces.
pub fn resolve<'a>(
    spec: &'a Specification,
    lookup: &dyn Fn(&SpecKey) -> Option<&'a Specification>,
) -> Result<ResolvedSpecification, SpecError> {
    let mut stack = Vec::new();
    let (rules, mut lineage) = resolve_inner(spec, lookup, &mut stack)?;
    lineage.retain(|k| k != &spec.key);
    Ok(ResolvedSpecification {
        key: spec.key.clone(),
        title: spec.title.clone(),
        category: spec.category,
        effective_from: spec.effective_from,
        lineage,
        rules,
    })
}

type Resolved = (Vec<ResolvedRule>, Vec<SpecKey>);

fn resolve_inner<'a>(
    spec: &'a Specification,
    lookup: &dyn Fn(&SpecKey) -> Option<&'a Specification>,
    stack: &mut Vec<SpecKey>,
) -> Result<Resolved, SpecError> {
    if stack.contains(&spec.key) {
        return Err(SpecError::Cycle {
            spec: stack.first().cloned().unwrap_or_else(|| spec.key.clone()),
            via: spec.key.clone(),
        });
    }
    stack.push(spec.key.clone());
    let mut rules: Vec<ResolvedRule> = Vec::new();
    let mut lineage: Vec<SpecKey> = Vec::new();
    for base_key in &spec.extends {
        let base = lookup(base_key).ok_or_else(|| SpecError::UnknownBase {
            spec: spec.key.clone(),
            base: base_key.clone(),
        })?;
        let (base_rules, base_lineage) = resolve_inner(base, lookup, stack)?;
        for r in base_rules {
            match rules.iter().find(|e| e.rule.id == r.rule.id) {
                Some(existing) if existing == &r => {}
                Some(existing) => {
                    return Err(SpecError::ConflictingInheritance {
                        spec: spec.key.clone(),
                        rule: r.rule.id.clone(),
                        first: existing.defined_by.clone(),
                        second: r.defined_by.clone(),
                    });
                }
                None => rules.push(r),
            }
        }
        for k in base_lineage {
            if !lineage.contains(&k) {
                lineage.push(k);
            }
        }
    }
    for own in &spec.rules {
        if let Some(pos) = rules.iter().position(|e| e.rule.id == own.id) {
            let base = &rules[pos];
            if let Some(detail) = own.tightening_problem(&base.rule) {
                return Err(SpecError::Loosening {
                    spec: spec.key.clone(),
                    rule: own.id.clone(),
                    base: base.defined_by.clone(),
                    detail,
                });
            }
            rules[pos] = ResolvedRule {
                rule: own.clone(),
                introduced_by: base.introduced_by.clone(),
                defined_by: spec.key.clone(),
            };
        } else {
            rules.push(ResolvedRule {
                rule: own.clone(),
                introduced_by: spec.key.clone(),
                defined_by: spec.key.clone(),
            });
        }
    }
    stack.pop();
    if !lineage.contains(&spec.key) {
        lineage.push(spec.key.clone());
    }
    Ok((rules, lineage))
}
