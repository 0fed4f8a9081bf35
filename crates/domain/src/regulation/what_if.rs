//! "What if" re-classification: a therapy under its current rules and under another set.
//!
//! Regulators re-examining the classes (the 厚生労働科学特別研究事業 review of the risk classification) want to see which plans a proposed rule
//! set would move. The store supplies each plan's description and the rule set it was
//! classified under; [`reclassify`] compares, and [`TransitionSummary::tally`] counts the
//! moves by old → new class.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::class::Classification;
use super::classifier::{ClassificationResult, classify};
use super::rule_set::RuleSet;
use super::therapy::TherapyDescription;

/// One therapy classified under its current rules and under the compared set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reclassification {
    /// Under the current rules.
    pub before: ClassificationResult,
    /// Under the compared rule set.
    pub after: ClassificationResult,
}

impl Reclassification {
    /// Whether the class changes.
    pub fn changed(&self) -> bool {
        self.before.class != self.after.class
    }
}

/// Classifies a therapy under `current` and under `compared`.
pub fn reclassify(
    current: &RuleSet,
    compared: &RuleSet,
    therapy: &TherapyDescription,
) -> Reclassification {
    Reclassification {
        before: classify(current, therapy),
        after: classify(compared, therapy),
    }
}

/// How many therapies went from one class to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Transition {
    /// Class under the current rules.
    pub from: Classification,
    /// Class under the compared rules.
    pub to: Classification,
    /// How many.
    pub count: usize,
}

/// Counts of re-classifications by old → new class, unchanged pairs included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransitionSummary {
    /// Every (from, to) pair seen, ordered by from then to.
    pub transitions: Vec<Transition>,
    /// Therapies counted.
    pub total: usize,
    /// Therapies whose class changes.
    pub changed: usize,
}

impl TransitionSummary {
    /// Tallies re-classifications.
    pub fn tally<'a>(items: impl IntoIterator<Item = &'a Reclassification>) -> Self {
        let mut counts: BTreeMap<(Classification, Classification), usize> = BTreeMap::new();
        let mut total = 0;
        let mut changed = 0;
        for r in items {
            total += 1;
            if r.changed() {
                changed += 1;
            }
            *counts.entry((r.before.class, r.after.class)).or_default() += 1;
        }
        TransitionSummary {
            transitions: counts
                .into_iter()
                .map(|((from, to), count)| Transition { from, to, count })
                .collect(),
            total,
            changed,
        }
    }
}
