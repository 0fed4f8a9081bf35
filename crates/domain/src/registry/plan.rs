//! Provision plans (再生医療等提供計画) and their lifecycle.
//!
//! A plan moves draft → submitted → under review → accepted → active, and from there to
//! suspended, withdrawn or ended. Each move is a dated, attributed [`PlanTransition`]; the
//! plan's `status` field only ever changes through one.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::regulation::{RiskClass, TherapyDescription};
use crate::text::{Code, Text, Title};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;
use uuid::Uuid;

/// Where a plan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Being written by the institution.
    Draft,
    /// Submitted to the reviewing committee.
    Submitted,
    /// Under review by the committee.
    UnderReview,
    /// Accepted by the committee and filed with the Minister.
    Accepted,
    /// Therapy is being provided under the plan.
    Active,
    /// Provision is suspended (e.g. after a serious adverse event).
    Suspended,
    /// Withdrawn by the institution.
    Withdrawn,
    /// Provision has ended.
    Ended,
}

impl PlanStatus {
    /// The statuses a plan may move to from this one.
    pub fn next(self) -> &'static [PlanStatus] {
        use PlanStatus::*;
        match self {
            Draft => &[Submitted, Withdrawn],
            Submitted => &[UnderReview, Draft, Withdrawn],
            UnderReview => &[Accepted, Draft, Withdrawn],
            Accepted => &[Active, Withdrawn],
            Active => &[Suspended, Withdrawn, Ended],
            Suspended => &[Active, Withdrawn, Ended],
            Withdrawn | Ended => &[],
        }
    }

    /// Whether `to` may follow this status.
    pub fn can_move_to(self, to: PlanStatus) -> bool {
        self.next().contains(&to)
    }

    /// The status as its wire name.
    pub fn as_str(self) -> &'static str {
        use PlanStatus::*;
        match self {
            Draft => "draft",
            Submitted => "submitted",
            UnderReview => "under_review",
            Accepted => "accepted",
            Active => "active",
            Suspended => "suspended",
            Withdrawn => "withdrawn",
            Ended => "ended",
        }
    }
}

impl fmt::Display for PlanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provision plan under the Act.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The plan number issued on filing (e.g. a jRCT number); unique.
    pub plan_number: Code,
    /// Title.
    pub title: Title,
    /// The providing institution.
    pub institution_id: Uuid,
    /// The responsible physician (a practitioner of the institution).
    pub responsible_physician_id: Uuid,
    /// The risk class the plan was filed under.
    pub risk_class: RiskClass,
    /// The disease treated.
    pub target_disease: Title,
    /// The cells or material used, in words.
    pub material_description: Text,
    /// The therapy in structured form, for classification and what-if analyses.
    #[serde(default)]
    pub therapy: Option<TherapyDescription>,
    /// The reviewing committee (an organisation of a committee kind).
    pub committee_id: Uuid,
    /// Where the plan is in its lifecycle; changes only through transitions.
    #[serde(default = "draft")]
    pub status: PlanStatus,
    /// Date the plan was submitted (set by the transition to `submitted`).
    #[serde(default)]
    pub submitted_on: Option<Date>,
    /// Date the plan was accepted and filed (set by the transition to `accepted`);
    /// periodic reporting periods count from here.
    #[serde(default)]
    pub filed_on: Option<Date>,
    /// Date provision started (set by the transition to `active`).
    #[serde(default)]
    pub activated_on: Option<Date>,
    /// Date provision stopped for good (set by the transition to `ended`, or to
    /// `withdrawn` after filing): no periodic report period starts after it.
    #[serde(default)]
    pub ended_on: Option<Date>,
    /// Scientific validity: the efficacy expected (2024 review proposal).
    #[serde(default)]
    pub expected_efficacy: Option<Text>,
    /// Scientific validity: how efficacy will be evaluated.
    #[serde(default)]
    pub evaluation_method: Option<Text>,
}

fn draft() -> PlanStatus {
    PlanStatus::Draft
}

impl Validate for Plan {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        for (f, d) in [
            ("submitted_on", self.submitted_on),
            ("filed_on", self.filed_on),
            ("activated_on", self.activated_on),
            ("ended_on", self.ended_on),
        ] {
            if let Some(d) = d {
                crate::dates::check_plausible(f, d, &mut errors);
            }
        }
        errors.into_result()
    }
}

impl Entity for Plan {
    const KIND: &'static str = "plan";
    const READ_ONLY: &'static [&'static str] = &[
        "status",
        "submitted_on",
        "filed_on",
        "activated_on",
        "ended_on",
    ];
}

/// One dated, attributed move of a plan from one status to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTransition {
    /// The plan.
    pub plan_id: Uuid,
    /// Status before.
    pub from_status: PlanStatus,
    /// Status after.
    pub to_status: PlanStatus,
    /// The date the move takes effect.
    pub on: Date,
    /// Who made it (the acting user's name or id).
    pub actor: Code,
    /// Why (required for suspension, withdrawal and returns to draft).
    #[serde(default)]
    pub reason: Option<Text>,
}

impl Validate for PlanTransition {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("on", self.on, &mut errors);
        if !self.from_status.can_move_to(self.to_status) {
            errors.push(
                "to_status",
                format!(
                    "a {} plan cannot become {} (allowed: {})",
                    self.from_status,
                    self.to_status,
                    allowed(self.from_status)
                ),
            );
        }
        let needs_reason = matches!(
            self.to_status,
            PlanStatus::Suspended | PlanStatus::Withdrawn | PlanStatus::Draft
        );
        if needs_reason && self.reason.is_none() {
            errors.push(
                "reason",
                format!("a move to {} needs a reason", self.to_status),
            );
        }
        errors.into_result()
    }
}

/// The allowed next statuses as a readable list.
pub fn allowed(from: PlanStatus) -> String {
    let names: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
    if names.is_empty() {
        "none, it is final".to_string()
    } else {
        names.join(", ")
    }
}

impl Entity for PlanTransition {
    const KIND: &'static str = "plan_transition";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_edges() {
        use PlanStatus::*;
        assert!(Draft.can_move_to(Submitted));
        assert!(!Draft.can_move_to(Active));
        assert!(Active.can_move_to(Suspended));
        assert!(Suspended.can_move_to(Active));
        assert!(Ended.next().is_empty());
        assert!(!Withdrawn.can_move_to(Active));
    }
}
