//! Classifying a therapy under a rule set, with the reasons that show why.
//!
//! Rules are tried in order and the first that matches decides. The first reason is the
//! deciding rule's, citing the facts its condition used; further reasons name later rules
//! that reach the *same* class on other facts (an allogeneic iPS product is class 1 as
//! pluripotent and also as allogeneic), so a reader sees every ground for the class. Rules
//! giving a different class are not listed: they did not apply.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::class::Classification;
use super::rule_set::{Rule, RuleSet};
use super::template::Context;
use super::therapy::TherapyDescription;

/// One reason for a classification: the rule and a sentence citing the facts it used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// The qualified rule id, e.g. `asrm-2014/allogeneic`.
    pub rule: String,
    /// The rendered reason, e.g. `cell_source = allogeneic → class 1 (…)`.
    pub text: String,
    /// The provision the rule encodes (act, order or ordinance article, notice).
    pub cites: String,
    /// The day that provision took effect.
    #[serde(with = "super::civil::civil_date")]
    pub since: time::Date,
}

/// A classification: the risk class (or outside the Act), the rule set that decided it,
/// and the reasons, the first of which is always the deciding rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClassificationResult {
    /// The class, or outside the Act.
    pub class: Classification,
    /// The id of the rule set applied.
    pub rule_set: String,
    /// The deciding rule first, then other rules reaching the same class.
    pub reasons: Vec<Reason>,
}

impl ClassificationResult {
    /// The qualified id of the rule that decided.
    pub fn deciding_rule(&self) -> &str {
        self.reasons.first().map_or("", |r| r.rule.as_str())
    }
}

/// Classifies a therapy under a rule set. Infallible: every rule set ends in a fallback.
pub fn classify(rules: &RuleSet, therapy: &TherapyDescription) -> ClassificationResult {
    let deciding = rules.deciding_rule(therapy);
    let mut reasons = vec![reason(rules, deciding, therapy)];
    let mut after = false;
    for rule in rules.rules() {
        if std::ptr::eq(rule, deciding) {
            after = true;
            continue;
        }
        if after
            && rule.condition().is_some()
            && rule.class() == deciding.class()
            && rule.matches(therapy)
        {
            reasons.push(reason(rules, rule, therapy));
        }
    }
    ClassificationResult {
        class: deciding.class(),
        rule_set: rules.id().to_owned(),
        reasons,
    }
}

fn reason(rules: &RuleSet, rule: &Rule, therapy: &TherapyDescription) -> Reason {
    let mut facts = Vec::new();
    if let Some(condition) = rule.condition() {
        condition.facts(therapy, &mut facts);
    }
    let text = rule.reason().render(&Context {
        rule_set: rules.id(),
        rule: rule.qualified_id(),
        cites: rule.cites(),
        class: rule.class(),
        facts: &facts,
        description: therapy,
    });
    Reason {
        rule: rule.qualified_id().to_owned(),
        text,
        cites: rule.cites().to_owned(),
        since: rule.since(),
    }
}
