//! Products: processed cells and other regenerative-medicine products.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Code, Name, Text};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// What a product is made of, in the words the seeds use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Mesenchymal stem/stromal cells.
    Msc,
    /// Extracellular vesicles ("exosomes").
    Ev,
    /// Culture supernatant (培養上清).
    CultureSupernatant,
    /// Pancreatic islets.
    Islet,
    /// Organoids.
    Organoid,
    /// Cells derived from iPS cells.
    IpsDerived,
    /// Cells derived from ES cells.
    EsDerived,
    /// Genome-edited cells.
    GenomeEdited,
    /// CAR-T and other gene-modified T cells.
    CarT,
    /// Cell sheets and other tissue-engineered products.
    TissueEngineered,
    /// Platelet-rich plasma.
    Prp,
    /// Anything else.
    Other,
}

/// The kind of marketing approval a product holds (PMD Act).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// Conditional and time-limited approval (条件及び期限付承認): efficacy must be
    /// confirmed within the term, at most 7 years.
    ConditionalTimeLimited,
    /// Full approval.
    Full,
    /// Investigational, not approved.
    Investigational,
}

/// A product's approval under the PMD Act.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Kind of approval.
    pub kind: ApprovalKind,
    /// Approval date.
    pub approved_on: Date,
    /// Term in years for a conditional and time-limited approval (1–7).
    #[serde(default)]
    pub term_years: Option<u8>,
    /// Conditions attached to the approval (e.g. the post-marketing evaluation).
    #[serde(default)]
    pub conditions: Vec<Text>,
    /// Approval number.
    #[serde(default)]
    pub number: Option<Code>,
}

impl Approval {
    /// The date by which the marketing-authorisation holder must re-apply (the end of the
    /// term), for a conditional and time-limited approval.
    pub fn reapplication_due(&self) -> Option<Date> {
        match (self.kind, self.term_years) {
            (ApprovalKind::ConditionalTimeLimited, Some(years)) => Some(crate::dates::add_months(
                self.approved_on,
                i32::from(years) * 12,
            )),
            _ => None,
        }
    }
}

/// A regenerative-medicine product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Its name.
    pub name: Name,
    /// What it is made of.
    pub modality: Modality,
    /// The marketing-authorisation holder (an organisation).
    #[serde(default)]
    pub mah_id: Option<Uuid>,
    /// A description of the product.
    #[serde(default)]
    pub description: Option<Text>,
    /// Its approval, if it has one.
    #[serde(default)]
    pub approval: Option<Approval>,
}

impl Validate for Product {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Some(a) = &self.approval {
            crate::dates::check_plausible("approval.approved_on", a.approved_on, &mut errors);
            match (a.kind, a.term_years) {
                (ApprovalKind::ConditionalTimeLimited, None) => errors.push(
                    "approval.term_years",
                    "a conditional and time-limited approval has a term",
                ),
                (ApprovalKind::ConditionalTimeLimited, Some(t)) if !(1..=7).contains(&t) => errors
                    .push(
                        "approval.term_years",
                        "the term of a conditional and time-limited approval is 1 to 7 years",
                    ),
                (ApprovalKind::Full | ApprovalKind::Investigational, Some(_)) => errors.push(
                    "approval.term_years",
                    "only a conditional and time-limited approval has a term",
                ),
                _ => {}
            }
            if a.conditions.len() > 50 {
                errors.push("approval.conditions", "at most 50 conditions");
            }
        }
        errors.into_result()
    }
}

impl Entity for Product {
    const KIND: &'static str = "product";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product(approval: serde_json::Value) -> Result<Product, String> {
        let p: Product =
            serde_json::from_value(json!({"name": "P", "modality": "msc", "approval": approval}))
                .map_err(|e| e.to_string())?;
        p.validate().map_err(|e| e.to_string())?;
        Ok(p)
    }

    #[test]
    fn conditional_approval_term() {
        let p = product(json!({"kind": "conditional_time_limited", "approved_on": "2021-03-31", "term_years": 7})).unwrap();
        assert_eq!(
            p.approval.unwrap().reapplication_due(),
            Some(time::macros::date!(2028 - 03 - 31))
        );
        assert!(product(json!({"kind": "conditional_time_limited", "approved_on": "2021-03-31", "term_years": 8})).is_err());
        assert!(
            product(json!({"kind": "conditional_time_limited", "approved_on": "2021-03-31"}))
                .is_err()
        );
        assert!(
            product(json!({"kind": "full", "approved_on": "2021-03-31", "term_years": 3})).is_err()
        );
    }
}
