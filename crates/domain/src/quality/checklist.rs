//! Guidance checklists as data, and which of their items are still open for a product.
//!
//! EV and culture-supernatant products are outside the ASRM, so no certified committee
//! reviews them; the JSRM guidance asks the provider to satisfy itself instead. The
//! guidance's items live in `specs/checklists/*.toml`. A product answers each item either
//! with evidence (document references) or — only where the item allows it — as not
//! applicable with a reason. [`Checklist::status`] reports what is still open.

use super::identifiers::ChecklistId;
use super::spec::{Source, toml_date};
use crate::text::{Code, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::Date;
use utoipa::ToSchema;

/// One item of a checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Its id, e.g. `release.ev_markers`.
    pub id: ChecklistId,
    /// The section of the guidance it comes from.
    pub section: String,
    /// A short title in English.
    pub title: String,
    /// The title in the guidance's Japanese.
    pub title_ja: String,
    /// What must be shown, in words.
    pub requirement: String,
    /// Whether the item may be answered "not applicable" (with a reason).
    pub not_applicable_allowed: bool,
}

/// A versioned checklist (e.g. the JSRM EV guidance).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Checklist {
    /// Its id.
    pub id: ChecklistId,
    /// Its version.
    pub version: u32,
    /// Its title in English.
    pub title: String,
    /// Its title in Japanese.
    pub title_ja: String,
    /// The products it applies to, in words.
    pub applies_to: String,
    /// The date from which it applies.
    pub effective_from: Date,
    /// What it rests on.
    pub sources: Vec<Source>,
    /// Its items, in the guidance's order.
    pub items: Vec<ChecklistItem>,
}

/// How an item was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChecklistResponse {
    /// The item is met; here is where to find the evidence.
    Evidence {
        /// Document references (SOP numbers, report ids, file references); at least one.
        references: Vec<Code>,
        /// A short summary, if useful.
        #[serde(default)]
        summary: Option<Text>,
    },
    /// The item does not apply to this product, and why.
    NotApplicable {
        /// The reason.
        reason: Text,
    },
}

/// A product's answer to one checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistAnswer {
    /// The item answered.
    pub item: ChecklistId,
    /// The answer.
    pub response: ChecklistResponse,
}

/// Why an item is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenReason {
    /// No answer yet.
    Unanswered,
    /// Answered with evidence, but without any reference.
    NoEvidence,
    /// Marked not applicable, which this item does not allow.
    NotApplicableNotAllowed,
}

/// The state of one item for a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// Still to do.
    Open {
        /// Why.
        reason: OpenReason,
    },
    /// Met, with evidence.
    Answered {
        /// The evidence references.
        references: Vec<Code>,
    },
    /// Accepted as not applicable.
    NotApplicable {
        /// The reason given.
        reason: Text,
    },
}

/// One line of the status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ItemStatus {
    /// The item id.
    pub item: ChecklistId,
    /// The item title.
    pub title: String,
    /// Its state.
    pub state: ItemState,
}

/// Where a product stands against a checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChecklistStatus {
    /// The checklist id.
    pub checklist: ChecklistId,
    /// The checklist version.
    pub version: u32,
    /// One entry per item, in checklist order.
    pub items: Vec<ItemStatus>,
    /// The ids of the items still open.
    pub open: Vec<ChecklistId>,
    /// Whether nothing is open.
    pub complete: bool,
}

/// Why a set of answers could not be assessed, or a checklist file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecklistError {
    /// An answer names an item the checklist does not have.
    #[error("answers[{index}].item: {item} is not an item of checklist {checklist}")]
    UnknownItem {
        /// Position of the answer.
        index: usize,
        /// The unknown id.
        item: ChecklistId,
        /// The checklist.
        checklist: ChecklistId,
    },
    /// Two answers for the same item.
    #[error("answers[{index}].item: {item} is answered more than once")]
    DuplicateAnswer {
        /// Position of the second answer.
        index: usize,
        /// The item.
        item: ChecklistId,
    },
    /// The checklist file is malformed.
    #[error("{source_name}: {problem}")]
    Invalid {
        /// The file.
        source_name: String,
        /// What is wrong.
        problem: String,
    },
}

impl Checklist {
    /// Parses and checks a checklist file.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Self, ChecklistError> {
        let invalid = |problem: String| ChecklistError::Invalid {
            source_name: source_name.to_string(),
            problem,
        };
        let raw: RawChecklistFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let h = raw.checklist;
        let effective_from = toml_date(&h.effective_from).ok_or_else(|| {
            invalid("checklist.effective_from: must be a date like 2024-04-30".into())
        })?;
        if h.version == 0 {
            return Err(invalid("checklist.version: versions start at 1".into()));
        }
        if h.source.is_empty() {
            return Err(invalid(
                "checklist.source: at least one source is required".into(),
            ));
        }
        if raw.item.is_empty() {
            return Err(invalid("item: a checklist needs items".into()));
        }
        let mut ids = BTreeSet::new();
        for (i, item) in raw.item.iter().enumerate() {
            if !ids.insert(&item.id) {
                return Err(invalid(format!("item[{i}].id: {} is used twice", item.id)));
            }
            for (field, v) in [
                ("title", &item.title),
                ("title_ja", &item.title_ja),
                ("requirement", &item.requirement),
                ("section", &item.section),
            ] {
                if v.trim().is_empty() {
                    return Err(invalid(format!(
                        "item[{}].{field}: must not be empty",
                        item.id
                    )));
                }
            }
        }
        Ok(Checklist {
            id: h.id,
            version: h.version,
            title: h.title,
            title_ja: h.title_ja,
            applies_to: h.applies_to,
            effective_from,
            sources: h.source,
            items: raw.item,
        })
    }

    /// The item with this id.
    pub fn item(&self, id: &ChecklistId) -> Option<&ChecklistItem> {
        self.items.iter().find(|i| &i.id == id)
    }

    /// Where a product stands: every item with its state, and the ids still open.
    /// Answers to unknown items and duplicate answers are refused, not ignored, because
    /// either means the product record and the checklist have drifted apart.
    pub fn status(&self, answers: &[ChecklistAnswer]) -> Result<ChecklistStatus, ChecklistError> {
        let mut seen = BTreeSet::new();
        for (index, a) in answers.iter().enumerate() {
            if self.item(&a.item).is_none() {
                return Err(ChecklistError::UnknownItem {
                    index,
                    item: a.item.clone(),
                    checklist: self.id.clone(),
                });
            }
            if !seen.insert(&a.item) {
                return Err(ChecklistError::DuplicateAnswer {
                    index,
                    item: a.item.clone(),
                });
            }
        }
        let items: Vec<ItemStatus> = self
            .items
            .iter()
            .map(|item| {
                let state = match answers
                    .iter()
                    .find(|a| a.item == item.id)
                    .map(|a| &a.response)
                {
                    None => ItemState::Open {
                        reason: OpenReason::Unanswered,
                    },
                    Some(ChecklistResponse::Evidence { references, .. })
                        if references.is_empty() =>
                    {
                        ItemState::Open {
                            reason: OpenReason::NoEvidence,
                        }
                    }
                    Some(ChecklistResponse::Evidence { references, .. }) => ItemState::Answered {
                        references: references.clone(),
                    },
                    Some(ChecklistResponse::NotApplicable { .. })
                        if !item.not_applicable_allowed =>
                    {
                        ItemState::Open {
                            reason: OpenReason::NotApplicableNotAllowed,
                        }
                    }
                    Some(ChecklistResponse::NotApplicable { reason }) => ItemState::NotApplicable {
                        reason: reason.clone(),
                    },
                };
                ItemStatus {
                    item: item.id.clone(),
                    title: item.title.clone(),
                    state,
                }
            })
            .collect();
        let open: Vec<ChecklistId> = items
            .iter()
            .filter(|i| matches!(i.state, ItemState::Open { .. }))
            .map(|i| i.item.clone())
            .collect();
        Ok(ChecklistStatus {
            checklist: self.id.clone(),
            version: self.version,
            complete: open.is_empty(),
            items,
            open,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklistFile {
    checklist: RawChecklistHeader,
    #[serde(default)]
    item: Vec<ChecklistItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklistHeader {
    id: ChecklistId,
    version: u32,
    title: String,
    title_ja: String,
    applies_to: String,
    effective_from: toml::value::Datetime,
    #[serde(default)]
    source: Vec<Source>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::catalogue::Catalogue;

    fn jsrm() -> Checklist {
        let c = Catalogue::embedded().unwrap();
        c.latest_checklist(&"jsrm-ev-guidance".parse().unwrap())
            .unwrap()
            .clone()
    }

    fn evidence(item: &str, refs: &[&str]) -> ChecklistAnswer {
        ChecklistAnswer {
            item: item.parse().unwrap(),
            response: ChecklistResponse::Evidence {
                references: refs.iter().map(|r| Code::try_from(*r).unwrap()).collect(),
                summary: None,
            },
        }
    }

    fn not_applicable(item: &str, reason: &str) -> ChecklistAnswer {
        ChecklistAnswer {
            item: item.parse().unwrap(),
            response: ChecklistResponse::NotApplicable {
                reason: Text::try_from(reason).unwrap(),
            },
        }
    }

    #[test]
    fn jsrm_checklist_items() {
        let c = jsrm();
        assert_eq!(c.items.len(), 14);
        assert_eq!(c.effective_from, time::macros::date!(2024 - 04 - 30));
        for id in [
            "risk.profiling",
            "risk.retained_samples_and_records",
            "release.ev_particles",
            "release.ev_markers",
            "release.xeno_free_medium",
            "cqa.defined_and_analysed",
            "efficacy.potency_assay",
            "efficacy.biodistribution",
            "efficacy.dose_response",
        ] {
            assert!(c.item(&id.parse().unwrap()).is_some(), "{id}");
        }
    }

    #[test]
    fn open_items_are_reported() {
        let c = jsrm();
        let none = c.status(&[]).unwrap();
        assert_eq!(none.open.len(), 14);
        assert!(!none.complete);

        let answers = vec![
            evidence("risk.profiling", &["RISK-EV-001 rev 2"]),
            evidence("release.ev_markers", &[]),
            not_applicable(
                "release.xeno_free_medium",
                "Human platelet lysate, justified in RISK-EV-001 §4.",
            ),
            not_applicable("efficacy.dose_response", "Not done."),
        ];
        let s = c.status(&answers).unwrap();
        assert_eq!(s.open.len(), 12);
        let state = |id: &str| {
            s.items
                .iter()
                .find(|i| i.item.as_str() == id)
                .map(|i| i.state.clone())
                .unwrap()
        };
        assert!(matches!(
            state("risk.profiling"),
            ItemState::Answered { .. }
        ));
        assert_eq!(
            state("release.ev_markers"),
            ItemState::Open {
                reason: OpenReason::NoEvidence
            }
        );
        assert!(matches!(
            state("release.xeno_free_medium"),
            ItemState::NotApplicable { .. }
        ));
        assert_eq!(
            state("efficacy.dose_response"),
            ItemState::Open {
                reason: OpenReason::NotApplicableNotAllowed
            }
        );

        let all: Vec<ChecklistAnswer> = c
            .items
            .iter()
            .map(|i| evidence(i.id.as_str(), &["DOSSIER-1"]))
            .collect();
        let done = c.status(&all).unwrap();
        assert!(done.complete && done.open.is_empty());
    }

    #[test]
    fn unknown_and_duplicate_answers_are_refused() {
        let c = jsrm();
        let e = c.status(&[evidence("risk.horoscope", &["X"])]).unwrap_err();
        assert!(matches!(e, ChecklistError::UnknownItem { index: 0, .. }));
        let e = c
            .status(&[
                evidence("risk.profiling", &["A"]),
                evidence("risk.profiling", &["B"]),
            ])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "answers[1].item: risk.profiling is answered more than once"
        );
        let json =
            r#"{"item":"risk.profiling","response":{"type":"not_applicable","reason":"  "}}"#;
        assert!(serde_json::from_str::<ChecklistAnswer>(json).is_err());
    }
}
