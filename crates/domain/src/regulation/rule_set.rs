//! One dated, sourced rule set: classification rules plus parameters, parsed from TOML.
//!
//! The file format (see `rules/asrm/*.toml` for complete examples):
//!
//! ```toml
//! id = "asrm-2014"                 # lower-case letters, digits and '-'
//! title = "…"
//! effective_from = 2014-11-25      # first day in force (inclusive)
//! effective_to = 2020-06-25        # last day in force (inclusive); omit when open-ended
//! status = "in_force"              # or "proposal": never selected by date, only by id
//!
//! [source]
//! citation = "…"                   # law / order / ordinance and articles
//! confidence = "high"              # high | medium | low
//! note = "…"                       # what we are unsure of and why
//!
//! [[rules]]                        # tried in order; the first match decides
//! id = "allogeneic"
//! class = "1"                      # "1" | "2" | "3" | "outside"
//! cites = "施行規則 第2条第4号"
//! when = { field = "cell_source", eq = "allogeneic" }   # see the condition language
//! reason = "{facts} → {class} ({rule}; {cites})"        # see the template placeholders
//!
//! [[rules]]                        # the last rule has no `when`: the fallback
//! id = "class-3"
//! class = "3"
//! cites = "…"
//! reason = "…"
//!
//! [parameters.…]                   # see the parameters module
//! ```
//!
//! Loading checks, besides types and unknown keys: ids, date order, unique rule ids,
//! condition fields and values, template placeholders, that exactly the last rule is an
//! unconditional fallback, and — exhaustively over every valid therapy description — that
//! each rule decides at least one description (no rule is shadowed by earlier ones).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::civil::{civil_date, from_toml};
use super::class::{Classification, wire_enum};
use super::condition::{Condition, RawCondition};
use super::parameters::{Parameters, RawParameters};
use super::template::Template;
use super::therapy::TherapyDescription;

wire_enum! {
    /// Whether a rule set is law or a proposal.
    pub enum RuleSetStatus {
        /// In force for its date range; selected by date.
        InForce => "in_force",
        /// A proposal for "what if" comparisons; only ever selected by id.
        Proposal => "proposal",
    }
}

wire_enum! {
    /// How sure we are that a rule set (or a parameter) reflects the law.
    pub enum Confidence {
        /// Checked against the text of the law or the ministry's notices.
        High => "high",
        /// From reliable secondary sources; article numbers or details may be off.
        Medium => "medium",
        /// A reading or a proposal; treat as provisional.
        Low => "low",
    }
}

/// Where a rule set comes from and how sure we are of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SourceCitation {
    /// The law, order or ordinance and its articles.
    pub citation: String,
    /// How sure we are.
    pub confidence: Confidence,
    /// What is uncertain and why.
    pub note: String,
}

/// One classification rule: when its condition holds (and no earlier rule's did), the
/// therapy gets its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    id: String,
    qualified_id: String,
    class: Classification,
    cites: String,
    since: Date,
    when: Option<Condition>,
    reason: Template,
}

impl Rule {
    /// The rule's id within its rule set, e.g. `allogeneic`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id qualified by the rule set, e.g. `asrm-2014/allogeneic`; unique across sets.
    pub fn qualified_id(&self) -> &str {
        &self.qualified_id
    }

    /// The class the rule gives.
    pub fn class(&self) -> Classification {
        self.class
    }

    /// The legal provision the rule encodes.
    pub fn cites(&self) -> &str {
        &self.cites
    }

    /// The day the provision the rule encodes took effect (the rule's `since`, else the
    /// rule set's `effective_from`).
    pub fn since(&self) -> Date {
        self.since
    }

    /// The condition; `None` for the fallback rule, which matches everything.
    pub fn condition(&self) -> Option<&Condition> {
        self.when.as_ref()
    }

    /// Whether the rule matches the description.
    pub fn matches(&self, d: &TherapyDescription) -> bool {
        self.when.as_ref().is_none_or(|c| c.matches(d))
    }

    pub(crate) fn reason(&self) -> &Template {
        &self.reason
    }
}

/// A validated rule set. Obtain one from [`RuleSet::from_toml_str`] or a [`super::RuleBook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    id: String,
    title: String,
    effective_from: Date,
    effective_to: Option<Date>,
    status: RuleSetStatus,
    source: SourceCitation,
    rules: Vec<Rule>,
    parameters: Parameters,
    origin: String,
}

/// What the API lists about a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleSetSummary {
    /// The rule set id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// First day in force (inclusive).
    #[serde(with = "civil_date")]
    pub effective_from: Date,
    /// Last day in force (inclusive), if it has ended.
    #[serde(with = "civil_date::option")]
    pub effective_to: Option<Date>,
    /// In force or proposal.
    pub status: RuleSetStatus,
    /// Where it comes from.
    pub source: SourceCitation,
    /// The rules in order, the fallback last.
    pub rules: Vec<RuleSummary>,
}

/// What the API lists about a rule: enough for a reader to follow a classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleSummary {
    /// The qualified rule id, as cited in reasons.
    pub id: String,
    /// The class it gives.
    pub class: Classification,
    /// The provision it encodes.
    pub cites: String,
    /// Its condition in readable form; `None` for the fallback.
    pub when: Option<String>,
}

/// A rule set that could not be loaded: which file (or origin) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule set {origin}: {problem}")]
pub struct RuleSetError {
    /// The file path or other origin given to [`RuleSet::from_toml_str`].
    pub origin: String,
    /// What is wrong.
    pub problem: RuleSetProblem,
}

/// What is wrong with a rule set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetProblem {
    /// Not valid TOML, a wrong type, a missing key or an unknown key (the message gives the
    /// key and line).
    #[error("{0}")]
    Syntax(String),
    /// A value is invalid.
    #[error("`{field}`: {message}")]
    Invalid {
        /// Path of the field, e.g. `rules[2].when.all[0].field`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two rules share an id.
    #[error("`{field}`: rule id `{rule}` is used twice")]
    DuplicateRule {
        /// The repeated id.
        rule: String,
        /// Path of the second rule.
        field: String,
    },
    /// A rule other than the last has no condition.
    #[error("`{field}`: rule `{rule}` has no `when`, but only the last rule may be the fallback")]
    FallbackNotLast {
        /// The rule.
        rule: String,
        /// Its path.
        field: String,
    },
    /// The last rule has a condition, so some therapy could get no class.
    #[error(
        "`{field}`: the last rule (`{rule}`) must be a fallback without `when`, so every therapy gets a class"
    )]
    MissingFallback {
        /// The last rule.
        rule: String,
        /// Its path.
        field: String,
    },
    /// No therapy description is decided by this rule: earlier rules take every one it
    /// matches (or it matches none).
    #[error(
        "`{field}`: rule `{rule}` can never decide a classification; earlier rules match every therapy it matches"
    )]
    Unreachable {
        /// The rule.
        rule: String,
        /// Its path.
        field: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    id: String,
    title: String,
    effective_from: toml::value::Datetime,
    #[serde(default)]
    effective_to: Option<toml::value::Datetime>,
    status: RuleSetStatus,
    source: RawSource,
    rules: Vec<RawRule>,
    parameters: RawParameters,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    citation: String,
    confidence: Confidence,
    note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    class: Classification,
    cites: String,
    /// When the provision took effect, if before the set's `effective_from`.
    #[serde(default)]
    since: Option<toml::value::Datetime>,
    #[serde(default)]
    when: Option<RawCondition>,
    reason: String,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

fn all_descriptions() -> &'static [TherapyDescription] {
    static ALL: OnceLock<Vec<TherapyDescription>> = OnceLock::new();
    ALL.get_or_init(TherapyDescription::all_valid)
}

impl RuleSet {
    /// Parses and validates a rule set from TOML text.
    ///
    /// `origin` names where the text came from (a file path, or `rules/asrm/x.toml` for the
    /// embedded sets) and is carried in every error. Reading the file is the caller's job.
    pub fn from_toml_str(origin: &str, text: &str) -> Result<RuleSet, RuleSetError> {
        let fail = |problem| RuleSetError {
            origin: origin.to_owned(),
            problem,
        };
        let invalid = |field: &str, message: String| {
            fail(RuleSetProblem::Invalid {
                field: field.to_owned(),
                message,
            })
        };
        let raw: RawRuleSet =
            toml::from_str(text).map_err(|e| fail(RuleSetProblem::Syntax(e.to_string())))?;

        if !valid_id(&raw.id) {
            return Err(invalid(
                "id",
                format!("`{}` must be lower-case letters, digits and '-'", raw.id),
            ));
        }
        if raw.title.trim().is_empty() {
            return Err(invalid("title", "must not be empty".to_owned()));
        }
        if raw.source.citation.trim().is_empty() {
            return Err(invalid("source.citation", "must not be empty".to_owned()));
        }
        let effective_from =
            from_toml(&raw.effective_from).map_err(|m| invalid("effective_from", m))?;
        let effective_to = raw
            .effective_to
            .as_ref()
            .map(from_toml)
            .transpose()
            .map_err(|m| invalid("effective_to", m))?;
        if let Some(to) = effective_to
            && to < effective_from
        {
            return Err(invalid(
                "effective_to",
                format!("{to} is before effective_from {effective_from}"),
            ));
        }
        let parameters = raw
            .parameters
            .check()
            .map_err(|(field, message)| invalid(&field, message))?;

        if raw.rules.is_empty() {
            return Err(invalid(
                "rules",
                "a rule set needs at least a fallback rule".to_owned(),
            ));
        }
        let last = raw.rules.len() - 1;
        let mut rules: Vec<Rule> = Vec::with_capacity(raw.rules.len());
        for (i, r) in raw.rules.into_iter().enumerate() {
            let at = format!("rules[{i}]");
            if !valid_id(&r.id) {
                return Err(invalid(
                    &format!("{at}.id"),
                    format!("`{}` must be lower-case letters, digits and '-'", r.id),
                ));
            }
            if rules.iter().any(|other| other.id == r.id) {
                return Err(fail(RuleSetProblem::DuplicateRule {
                    rule: r.id,
                    field: at,
                }));
            }
            if r.cites.trim().is_empty() {
                return Err(invalid(
                    &format!("{at}.cites"),
                    "must not be empty".to_owned(),
                ));
            }
            let when = match r.when {
                Some(raw_condition) => Some(
                    raw_condition
                        .check(&format!("{at}.when"))
                        .map_err(|(field, message)| invalid(&field, message))?,
                ),
                None if i == last => None,
                None => {
                    return Err(fail(RuleSetProblem::FallbackNotLast {
                        rule: r.id,
                        field: at,
                    }));
                }
            };
            if i == last && when.is_some() {
                return Err(fail(RuleSetProblem::MissingFallback {
                    rule: r.id,
                    field: at,
                }));
            }
            let reason =
                Template::parse(&r.reason).map_err(|m| invalid(&format!("{at}.reason"), m))?;
            let since = match &r.since {
                Some(d) => from_toml(d).map_err(|m| invalid(&format!("{at}.since"), m))?,
                None => effective_from,
            };
            if since > effective_from {
                return Err(invalid(
                    &format!("{at}.since"),
                    format!(
                        "{since} is after the set's effective_from {effective_from}: a rule cannot be in force before it took effect"
                    ),
                ));
            }
            rules.push(Rule {
                qualified_id: format!("{}/{}", raw.id, r.id),
                id: r.id,
                class: r.class,
                cites: r.cites,
                since,
                when,
                reason,
            });
        }

        let set = RuleSet {
            id: raw.id,
            title: raw.title,
            effective_from,
            effective_to,
            status: raw.status,
            source: SourceCitation {
                citation: raw.source.citation,
                confidence: raw.source.confidence,
                note: raw.source.note,
            },
            rules,
            parameters,
            origin: origin.to_owned(),
        };
        set.check_reachable().map_err(fail)?;
        Ok(set)
    }

    /// Every rule except the fallback must decide at least one valid description.
    fn check_reachable(&self) -> Result<(), RuleSetProblem> {
        let mut decided = vec![false; self.rules.len()];
        for d in all_descriptions() {
            if let Some(i) = self.rules.iter().position(|r| r.matches(d)) {
                decided[i] = true;
            }
        }
        let fallback = self.rules.len() - 1;
        match decided[..fallback].iter().position(|seen| !seen) {
            Some(i) => Err(RuleSetProblem::Unreachable {
                rule: self.rules[i].id.clone(),
                field: format!("rules[{i}]"),
            }),
            None => Ok(()),
        }
    }

    /// The rule set id, e.g. `asrm-2014`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// First day in force (inclusive).
    pub fn effective_from(&self) -> Date {
        self.effective_from
    }

    /// Last day in force (inclusive); `None` while open-ended.
    pub fn effective_to(&self) -> Option<Date> {
        self.effective_to
    }

    /// In force or proposal.
    pub fn status(&self) -> RuleSetStatus {
        self.status
    }

    /// Where it comes from and how sure we are.
    pub fn source(&self) -> &SourceCitation {
        &self.source
    }

    /// The origin it was loaded from (file path or embedded name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The rules in order; the last one is the unconditional fallback.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A rule by its (unqualified) id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The deadlines, committees and other parameters.
    pub fn parameters(&self) -> &Parameters {
        &self.parameters
    }

    /// Whether the date lies in the set's effective range (whatever its status).
    pub fn covers(&self, date: Date) -> bool {
        date >= self.effective_from && self.effective_to.is_none_or(|to| date <= to)
    }

    /// Whether this set is the law on that date: in force and covering it.
    pub fn in_force_on(&self, date: Date) -> bool {
        self.status == RuleSetStatus::InForce && self.covers(date)
    }

    /// The first rule that matches, which decides the classification (the fallback
    /// guarantees there is one).
    pub(crate) fn deciding_rule(&self, d: &TherapyDescription) -> &Rule {
        let fallback = &self.rules[self.rules.len() - 1];
        self.rules.iter().find(|r| r.matches(d)).unwrap_or(fallback)
    }

    /// What the API lists about this set.
    pub fn summary(&self) -> RuleSetSummary {
        RuleSetSummary {
            id: self.id.clone(),
            title: self.title.clone(),
            effective_from: self.effective_from,
            effective_to: self.effective_to,
            status: self.status,
            source: self.source.clone(),
            rules: self
                .rules
                .iter()
                .map(|r| RuleSummary {
                    id: r.qualified_id.clone(),
                    class: r.class,
                    cites: r.cites.clone(),
                    when: r.when.as_ref().map(ToString::to_string),
                })
                .collect(),
        }
    }
}
