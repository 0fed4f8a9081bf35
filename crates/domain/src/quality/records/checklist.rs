//! A product's answer to one item of a guidance checklist (the JSRM EV guidance), stored
//! so the product's record can show what is still open.

use crate::dates::check_plausible;
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::quality::checklist::{ChecklistAnswer, ChecklistResponse};
use crate::quality::identifiers::ChecklistId;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// One answer: for this product, against this checklist version, this item is met (with
/// evidence) or does not apply (with a reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChecklistAnswer {
    /// The product.
    pub product_id: Uuid,
    /// The checklist, e.g. `jsrm-ev-guidance`.
    pub checklist: ChecklistId,
    /// The checklist's version.
    pub checklist_version: u32,
    /// The item answered, e.g. `release.ev_markers`.
    pub item: ChecklistId,
    /// The answer.
    pub response: ChecklistResponse,
    /// When it was answered.
    pub answered_on: Date,
}

impl ProductChecklistAnswer {
    /// The answer as the checklist sees it.
    pub fn answer(&self) -> ChecklistAnswer {
        ChecklistAnswer {
            item: self.item.clone(),
            response: self.response.clone(),
        }
    }
}

impl Validate for ProductChecklistAnswer {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let ChecklistResponse::Evidence { references, .. } = &self.response
            && references.is_empty()
        {
            errors.push(
                "response.references",
                "evidence needs at least one document reference",
            );
        }
        check_plausible("answered_on", self.answered_on, &mut errors);
        errors.into_result()
    }
}

impl Entity for ProductChecklistAnswer {
    const KIND: &'static str = "checklist_answer";
}
