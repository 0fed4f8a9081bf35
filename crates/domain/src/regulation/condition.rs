//! The condition language rule sets use to say when a rule applies.
//!
//! A condition is a TOML table of exactly one form:
//!
//! ```toml
//! { field = "cell_source", eq = "allogeneic" }           # equality
//! { field = "cell_kind", in = ["es", "ips", "ips_like"] } # membership
//! { field = "procedure", present = true }                # answered at all
//! { all = [ … ] }   { any = [ … ] }   { not = { … } }     # combinators
//! ```
//!
//! Fields are the answers of a [`TherapyDescription`]; `source.<field>` reads the source
//! cells of an EV or culture supernatant (`cell_source`, `cell_kind`, `gene_introduced`,
//! `genome_edited`, `cultured`). A comparison on a field the description does not have (for
//! example `cell_kind` of an EV, or `source.cell_kind` of cells) is false, so `not` of it
//! is true. Field names and values are checked when the rule set is loaded: an unknown
//! field, a value of the wrong type or a value outside the field's vocabulary is an error
//! naming the condition's path in the file.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::class::{UnknownVariant, wire_enum};
use super::therapy::{
    ApprovedProductUse, CellKind, CellSource, Material, NucleicAcidKind, Procedure, Purpose,
    TherapyDescription,
};

wire_enum! {
    /// A field of a therapy description that conditions may read.
    pub enum FieldName {
        /// [`TherapyDescription::material`].
        Material => "material",
        /// [`TherapyDescription::cell_source`].
        CellSource => "cell_source",
        /// [`TherapyDescription::cell_kind`].
        CellKind => "cell_kind",
        /// [`TherapyDescription::gene_introduced`].
        GeneIntroduced => "gene_introduced",
        /// [`TherapyDescription::genome_edited`].
        GenomeEdited => "genome_edited",
        /// [`TherapyDescription::cultured`].
        Cultured => "cultured",
        /// [`TherapyDescription::homologous_use`].
        HomologousUse => "homologous_use",
        /// [`TherapyDescription::purpose`].
        Purpose => "purpose",
        /// [`TherapyDescription::procedure`].
        Procedure => "procedure",
        /// [`TherapyDescription::minimally_manipulated`].
        MinimallyManipulated => "minimally_manipulated",
        /// [`TherapyDescription::approved_product_use`].
        ApprovedProductUse => "approved_product_use",
        /// [`TherapyDescription::prepared_with_approved_device`].
        PreparedWithApprovedDevice => "prepared_with_approved_device",
        /// [`TherapyDescription::nucleic_acid_kind`].
        NucleicAcidKind => "nucleic_acid_kind",
        /// [`TherapyDescription::designated_vaccine`].
        DesignatedVaccine => "designated_vaccine",
        /// [`TherapyDescription::carries_nucleic_acid`].
        CarriesNucleicAcid => "carries_nucleic_acid",
    }
}

impl FieldName {
    /// Whether the answer is optional and `false` when not given (the scope-edge answers
    /// added with the 2024 revision), so `false` is the answer every older description has.
    pub const fn defaults_to_false(self) -> bool {
        matches!(
            self,
            FieldName::MinimallyManipulated
                | FieldName::PreparedWithApprovedDevice
                | FieldName::DesignatedVaccine
                | FieldName::CarriesNucleicAcid
        )
    }

    /// Whether the source cells of an EV or culture supernatant have this field.
    const fn in_source(self) -> bool {
        matches!(
            self,
            FieldName::CellSource
                | FieldName::CellKind
                | FieldName::GeneIntroduced
                | FieldName::GenomeEdited
                | FieldName::Cultured
        )
    }

    /// Parses a condition value of this field's type, or says what was expected.
    fn parse_value(self, value: &toml::Value) -> Result<FieldValue, String> {
        fn text<T: FromStr<Err = UnknownVariant>>(value: &toml::Value) -> Result<T, String> {
            match value {
                toml::Value::String(s) => s.parse().map_err(|e: UnknownVariant| e.to_string()),
                other => Err(format!("expected a string, found {}", other.type_str())),
            }
        }
        match self {
            FieldName::Material => text(value).map(FieldValue::Material),
            FieldName::CellSource => text(value).map(FieldValue::CellSource),
            FieldName::CellKind => text(value).map(FieldValue::CellKind),
            FieldName::Purpose => text(value).map(FieldValue::Purpose),
            FieldName::Procedure => text(value).map(FieldValue::Procedure),
            FieldName::ApprovedProductUse => text(value).map(FieldValue::ApprovedProductUse),
            FieldName::NucleicAcidKind => text(value).map(FieldValue::NucleicAcidKind),
            FieldName::GeneIntroduced
            | FieldName::GenomeEdited
            | FieldName::Cultured
            | FieldName::HomologousUse
            | FieldName::MinimallyManipulated
            | FieldName::PreparedWithApprovedDevice
            | FieldName::DesignatedVaccine
            | FieldName::CarriesNucleicAcid => match value {
                toml::Value::Boolean(b) => Ok(FieldValue::Bool(*b)),
                other => Err(format!(
                    "expected true or false, found {}",
                    other.type_str()
                )),
            },
        }
    }
}

/// Whether a field path reads the therapy itself or its source cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldScope {
    /// The administered therapy (`cell_kind`).
    Therapy,
    /// The source cells of an EV or culture supernatant (`source.cell_kind`).
    Source,
}

/// A field a condition reads, e.g. `cell_source` or `source.cell_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldPath {
    /// Therapy or source cells.
    pub scope: FieldScope,
    /// The field.
    pub name: FieldName,
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            FieldScope::Therapy => write!(f, "{}", self.name),
            FieldScope::Source => write!(f, "source.{}", self.name),
        }
    }
}

impl FromStr for FieldPath {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scope, name) = match s.strip_prefix("source.") {
            Some(rest) => (FieldScope::Source, rest),
            None => (FieldScope::Therapy, s),
        };
        let name: FieldName = name.parse().map_err(|_| format!("unknown field `{s}`"))?;
        if scope == FieldScope::Source && !name.in_source() {
            return Err(format!(
                "unknown field `{s}`: source cells have cell_source, cell_kind, gene_introduced, genome_edited, cultured"
            ));
        }
        Ok(FieldPath { scope, name })
    }
}

impl FieldPath {
    /// Every path a condition may use, in a fixed order (for the `{field}` placeholders).
    pub fn all() -> impl Iterator<Item = FieldPath> {
        let therapy = FieldName::ALL.iter().map(|&name| FieldPath {
            scope: FieldScope::Therapy,
            name,
        });
        let source = FieldName::ALL
            .iter()
            .filter(|n| n.in_source())
            .map(|&name| FieldPath {
                scope: FieldScope::Source,
                name,
            });
        therapy.chain(source)
    }

    /// The description's answer for this field, if it has one.
    pub fn value_in(&self, d: &TherapyDescription) -> Option<FieldValue> {
        match self.scope {
            FieldScope::Therapy => match self.name {
                FieldName::Material => Some(FieldValue::Material(d.material())),
                FieldName::CellSource => d.cell_source().map(FieldValue::CellSource),
                FieldName::CellKind => d.cell_kind().map(FieldValue::CellKind),
                FieldName::GeneIntroduced => d.gene_introduced().map(FieldValue::Bool),
                FieldName::GenomeEdited => d.genome_edited().map(FieldValue::Bool),
                FieldName::Cultured => d.cultured().map(FieldValue::Bool),
                FieldName::HomologousUse => d.homologous_use().map(FieldValue::Bool),
                FieldName::Purpose => Some(FieldValue::Purpose(d.purpose())),
                FieldName::Procedure => d.procedure().map(FieldValue::Procedure),
                FieldName::MinimallyManipulated => d.minimally_manipulated().map(FieldValue::Bool),
                FieldName::ApprovedProductUse => {
                    d.approved_product_use().map(FieldValue::ApprovedProductUse)
                }
                FieldName::PreparedWithApprovedDevice => {
                    d.prepared_with_approved_device().map(FieldValue::Bool)
                }
                FieldName::NucleicAcidKind => {
                    d.nucleic_acid_kind().map(FieldValue::NucleicAcidKind)
                }
                FieldName::DesignatedVaccine => d.designated_vaccine().map(FieldValue::Bool),
                FieldName::CarriesNucleicAcid => d.carries_nucleic_acid().map(FieldValue::Bool),
            },
            FieldScope::Source => {
                let s = d.source()?;
                match self.name {
                    FieldName::CellSource => Some(FieldValue::CellSource(s.cell_source)),
                    FieldName::CellKind => Some(FieldValue::CellKind(s.cell_kind)),
                    FieldName::GeneIntroduced => Some(FieldValue::Bool(s.gene_introduced)),
                    FieldName::GenomeEdited => Some(FieldValue::Bool(s.genome_edited)),
                    FieldName::Cultured => Some(FieldValue::Bool(s.cultured)),
                    FieldName::Material
                    | FieldName::HomologousUse
                    | FieldName::Purpose
                    | FieldName::Procedure
                    | FieldName::MinimallyManipulated
                    | FieldName::ApprovedProductUse
                    | FieldName::PreparedWithApprovedDevice
                    | FieldName::NucleicAcidKind
                    | FieldName::DesignatedVaccine
                    | FieldName::CarriesNucleicAcid => None,
                }
            }
        }
    }
}

/// One answer of a therapy description, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldValue {
    /// A material.
    Material(Material),
    /// A cell source.
    CellSource(CellSource),
    /// A cell kind.
    CellKind(CellKind),
    /// A purpose.
    Purpose(Purpose),
    /// An excluded procedure.
    Procedure(Procedure),
    /// How an approved product is used.
    ApprovedProductUse(ApprovedProductUse),
    /// A nucleic-acid technique.
    NucleicAcidKind(NucleicAcidKind),
    /// A yes/no answer.
    Bool(bool),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Material(v) => v.fmt(f),
            FieldValue::CellSource(v) => v.fmt(f),
            FieldValue::CellKind(v) => v.fmt(f),
            FieldValue::Purpose(v) => v.fmt(f),
            FieldValue::Procedure(v) => v.fmt(f),
            FieldValue::ApprovedProductUse(v) => v.fmt(f),
            FieldValue::NucleicAcidKind(v) => v.fmt(f),
            FieldValue::Bool(v) => v.fmt(f),
        }
    }
}

/// What a field condition checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// The field has this value.
    Eq(FieldValue),
    /// The field has one of these values.
    In(Vec<FieldValue>),
    /// The field is answered (`true`) or not (`false`).
    Present(bool),
}

/// A parsed, checked condition over a therapy description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Every sub-condition holds.
    All(Vec<Condition>),
    /// At least one sub-condition holds.
    Any(Vec<Condition>),
    /// The sub-condition does not hold.
    Not(Box<Condition>),
    /// A test on one field.
    Field {
        /// The field read.
        path: FieldPath,
        /// The test applied to it.
        test: Test,
    },
}

impl fmt::Display for Condition {
    /// A compact, readable form for listings: `cell_source = allogeneic`,
    /// `all(cultured = true, cell_kind in [somatic_stem, hematopoietic_stem])`,
    /// `not(procedure is answered)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, name: &str, cs: &[Condition]) -> fmt::Result {
            write!(f, "{name}(")?;
            for (i, c) in cs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str(")")
        }
        match self {
            Condition::All(cs) => list(f, "all", cs),
            Condition::Any(cs) => list(f, "any", cs),
            Condition::Not(c) => write!(f, "not({c})"),
            Condition::Field { path, test } => match test {
                Test::Eq(v) => write!(f, "{path} = {v}"),
                Test::In(vs) => {
                    let values: Vec<String> = vs.iter().map(ToString::to_string).collect();
                    write!(f, "{path} in [{}]", values.join(", "))
                }
                Test::Present(true) => write!(f, "{path} is answered"),
                Test::Present(false) => write!(f, "{path} is not answered"),
            },
        }
    }
}

/// A fact a condition used: the field and the description's answer (`None` = unanswered).
pub(crate) type Fact = (FieldPath, Option<FieldValue>);

impl Condition {
    /// Whether the description satisfies the condition.
    pub fn matches(&self, d: &TherapyDescription) -> bool {
        match self {
            Condition::All(cs) => cs.iter().all(|c| c.matches(d)),
            Condition::Any(cs) => cs.iter().any(|c| c.matches(d)),
            Condition::Not(c) => !c.matches(d),
            Condition::Field { path, test } => {
                let value = path.value_in(d);
                match test {
                    Test::Eq(expected) => value.as_ref() == Some(expected),
                    Test::In(options) => value.is_some_and(|v| options.contains(&v)),
                    Test::Present(present) => value.is_some() == *present,
                }
            }
        }
    }

    /// Collects the facts that make a *matching* condition true, in order, without
    /// duplicates: every branch of `all`, the satisfied branches of `any`, and every field
    /// under `not` (whose answers are what made the inner condition false).
    pub(crate) fn facts(&self, d: &TherapyDescription, out: &mut Vec<Fact>) {
        match self {
            Condition::All(cs) => cs.iter().for_each(|c| c.facts(d, out)),
            Condition::Any(cs) => cs
                .iter()
                .filter(|c| c.matches(d))
                .for_each(|c| c.facts(d, out)),
            Condition::Not(c) => c.fields(&mut |path| push_fact(out, path, d)),
            Condition::Field { path, .. } => push_fact(out, *path, d),
        }
    }

    fn fields(&self, f: &mut dyn FnMut(FieldPath)) {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| c.fields(f)),
            Condition::Not(c) => c.fields(f),
            Condition::Field { path, .. } => f(*path),
        }
    }
}

fn push_fact(out: &mut Vec<Fact>, path: FieldPath, d: &TherapyDescription) {
    if !out.iter().any(|(p, _)| *p == path) {
        out.push((path, path.value_in(d)));
    }
}

/// The TOML form of a condition before checking.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    all: Option<Vec<RawCondition>>,
    any: Option<Vec<RawCondition>>,
    not: Option<Box<RawCondition>>,
    field: Option<String>,
    eq: Option<toml::Value>,
    #[serde(rename = "in")]
    one_of: Option<Vec<toml::Value>>,
    present: Option<bool>,
}

/// A problem in a condition: the path inside the rule set file and what is wrong.
pub(crate) type ConditionProblem = (String, String);

impl RawCondition {
    /// Checks the condition found at `at` (e.g. `rules[3].when`) and types it.
    pub(crate) fn check(self, at: &str) -> Result<Condition, ConditionProblem> {
        let problem = |p: &str, msg: String| Err((p.to_owned(), msg));
        let forms = [
            self.all.is_some(),
            self.any.is_some(),
            self.not.is_some(),
            self.field.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if forms != 1 {
            return problem(
                at,
                "a condition has exactly one of `all`, `any`, `not` or `field`".to_owned(),
            );
        }
        if self.field.is_none()
            && (self.eq.is_some() || self.one_of.is_some() || self.present.is_some())
        {
            return problem(at, "`eq`, `in` and `present` go with `field`".to_owned());
        }
        if let Some(list) = self.all {
            return check_list(list, &format!("{at}.all")).map(Condition::All);
        }
        if let Some(list) = self.any {
            return check_list(list, &format!("{at}.any")).map(Condition::Any);
        }
        if let Some(inner) = self.not {
            return inner
                .check(&format!("{at}.not"))
                .map(|c| Condition::Not(Box::new(c)));
        }
        let field_at = format!("{at}.field");
        let name = self.field.unwrap_or_default();
        let path: FieldPath = match name.parse() {
            Ok(path) => path,
            Err(msg) => return problem(&field_at, msg),
        };
        let test = match (self.eq, self.one_of, self.present) {
            (Some(v), None, None) => Test::Eq(
                path.name
                    .parse_value(&v)
                    .map_err(|m| (format!("{at}.eq"), m))?,
            ),
            (None, Some(vs), None) => {
                if vs.is_empty() {
                    return problem(&format!("{at}.in"), "the list is empty".to_owned());
                }
                let mut values = Vec::with_capacity(vs.len());
                for (i, v) in vs.iter().enumerate() {
                    values.push(
                        path.name
                            .parse_value(v)
                            .map_err(|m| (format!("{at}.in[{i}]"), m))?,
                    );
                }
                Test::In(values)
            }
            (None, None, Some(present)) => Test::Present(present),
            _ => {
                return problem(
                    at,
                    format!("field `{path}` needs exactly one of `eq`, `in` or `present`"),
                );
            }
        };
        Ok(Condition::Field { path, test })
    }
}

fn check_list(list: Vec<RawCondition>, at: &str) -> Result<Vec<Condition>, ConditionProblem> {
    if list.is_empty() {
        return Err((at.to_owned(), "the list is empty".to_owned()));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, c)| c.check(&format!("{at}[{i}]")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(toml_text: &str) -> Result<Condition, ConditionProblem> {
        #[derive(Deserialize)]
        struct Wrap {
            when: RawCondition,
        }
        let w: Wrap = toml::from_str(toml_text).map_err(|e| ("toml".to_owned(), e.to_string()))?;
        w.when.check("when")
    }

    fn therapy(json: serde_json::Value) -> TherapyDescription {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn conditions_evaluate_and_report_facts() {
        let c = condition(
            r#"when = { all = [
                { field = "cultured", eq = true },
                { any = [ { field = "cell_kind", in = ["somatic_stem", "hematopoietic_stem"] },
                          { field = "purpose", eq = "reconstruction" } ] },
                { not = { field = "procedure", present = true } },
            ] }"#,
        )
        .unwrap();
        let d = therapy(serde_json::json!({
            "material": "cells", "cell_source": "autologous", "cell_kind": "somatic_stem",
            "gene_introduced": false, "genome_edited": false, "cultured": true,
            "homologous_use": true, "purpose": "treatment"
        }));
        assert!(c.matches(&d));
        assert_eq!(
            c.to_string(),
            "all(cultured = true, any(cell_kind in [somatic_stem, hematopoietic_stem], \
             purpose = reconstruction), not(procedure is answered))"
        );
        let mut facts = Vec::new();
        c.facts(&d, &mut facts);
        let text: Vec<String> = facts
            .iter()
            .map(|(p, v)| format!("{p}={}", v.map(|v| v.to_string()).unwrap_or_default()))
            .collect();
        assert_eq!(
            text,
            ["cultured=true", "cell_kind=somatic_stem", "procedure="]
        );
    }

    #[test]
    fn source_fields_read_the_source_cells_and_are_false_on_cells() {
        let c = condition(r#"when = { field = "source.cell_source", eq = "allogeneic" }"#).unwrap();
        let ev = therapy(serde_json::json!({"material": "ev", "purpose": "treatment",
            "source": {"cell_source": "allogeneic", "cell_kind": "somatic_stem",
                       "gene_introduced": false, "genome_edited": false, "cultured": true}}));
        assert!(c.matches(&ev));
        let cells = therapy(serde_json::json!({
            "material": "cells", "cell_source": "allogeneic", "cell_kind": "somatic",
            "gene_introduced": false, "genome_edited": false, "cultured": false,
            "homologous_use": true, "purpose": "treatment"
        }));
        assert!(!c.matches(&cells));
    }

    #[test]
    fn unknown_fields_and_bad_values_are_rejected_with_their_path() {
        let (at, msg) = condition(r#"when = { field = "cell_type", eq = "es" }"#).unwrap_err();
        assert_eq!(at, "when.field");
        assert!(msg.contains("unknown field `cell_type`"));
        let (at, _) =
            condition(r#"when = { field = "source.purpose", eq = "treatment" }"#).unwrap_err();
        assert_eq!(at, "when.field");
        let (at, msg) =
            condition(r#"when = { all = [ { field = "cultured", eq = "yes" } ] }"#).unwrap_err();
        assert_eq!(at, "when.all[0].eq");
        assert!(msg.contains("expected true or false"));
        let (at, _) =
            condition(r#"when = { field = "cell_kind", in = ["es", "mesenchymal"] }"#).unwrap_err();
        assert_eq!(at, "when.in[1]");
        let (_, msg) = condition(r#"when = { field = "cell_kind", equals = "es" }"#).unwrap_err();
        assert!(msg.contains("unknown field `equals`"), "{msg}");
        assert!(condition(r#"when = { all = [] }"#).is_err());
        assert!(condition(r#"when = { field = "cultured" }"#).is_err());
        assert!(condition(r#"when = { field = "cultured", eq = true, present = true }"#).is_err());
        assert!(
            condition(
                r#"when = { any = [ { field = "cultured", eq = true } ], field = "cultured" }"#
            )
            .is_err()
        );
    }
}
