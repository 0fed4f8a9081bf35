//! Treatments: one administration of a therapy to a patient.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Code, Name};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// How the therapy was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Intravenous.
    Intravenous,
    /// Intra-arterial.
    IntraArterial,
    /// Into a joint.
    IntraArticular,
    /// Subcutaneous.
    Subcutaneous,
    /// Intradermal.
    Intradermal,
    /// Intramuscular.
    Intramuscular,
    /// Intrathecal.
    Intrathecal,
    /// Into the coronary arteries or myocardium.
    Intracardiac,
    /// Into or under the retina.
    Subretinal,
    /// Into a lesion.
    Intralesional,
    /// Onto a surface (skin, wound, cornea).
    Topical,
    /// Surgical implantation or transplantation (sheets, islets via portal vein…).
    Implantation,
    /// Inhaled or intranasal.
    Inhalation,
    /// Anything else.
    Other,
}

/// One administration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Treatment {
    /// The patient treated.
    pub patient_id: Uuid,
    /// The provision plan it was given under (treatment under the Act).
    #[serde(default)]
    pub plan_id: Option<Uuid>,
    /// The product given (approved or investigational product).
    #[serde(default)]
    pub product_id: Option<Uuid>,
    /// The product unit administered, when the unit is tracked.
    #[serde(default)]
    pub unit_id: Option<Uuid>,
    /// The follow-up schedule to generate visits from.
    #[serde(default)]
    pub schedule_id: Option<Uuid>,
    /// Date of administration.
    pub administered_on: Date,
    /// Dose amount.
    pub dose: f64,
    /// Dose unit, e.g. `cells`, `cells/kg`, `mL`, `particles`.
    pub dose_unit: Code,
    /// Route.
    pub route: Route,
    /// Anatomical site, where it matters (knee, scalp…).
    #[serde(default)]
    pub site: Option<Name>,
}

impl Validate for Treatment {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("administered_on", self.administered_on, &mut errors);
        if !self.dose.is_finite() || self.dose <= 0.0 {
            errors.push("dose", "must be a positive finite number");
        }
        // A unit names its product (through its lot); the store fills `product_id` in
        // from it when the treatment is recorded.
        if self.plan_id.is_none() && self.product_id.is_none() && self.unit_id.is_none() {
            errors.push(
                "plan_id",
                "a treatment names a plan_id, a product_id or the unit_id given",
            );
        }
        errors.into_result()
    }
}

impl Entity for Treatment {
    const KIND: &'static str = "treatment";
    fn past_dates(&self) -> Vec<(String, time::Date)> {
        vec![("administered_on".into(), self.administered_on)]
    }
}
