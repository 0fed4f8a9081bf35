//! Organisations and the practitioners who work for them.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Code, Name, Title};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// What an organisation is, which decides what it may do in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A clinic or hospital providing regenerative medicine (医療機関).
    MedicalInstitution,
    /// A cell processing facility (細胞培養加工施設).
    CellProcessingFacility,
    /// A certified committee for regenerative medicine (認定再生医療等委員会); may review class 3 plans.
    CertifiedCommittee,
    /// A specially certified committee (特定認定再生医療等委員会); reviews class 1 and 2 plans too.
    SpeciallyCertifiedCommittee,
    /// A marketing-authorisation holder (製造販売業者).
    MarketingAuthorisationHolder,
    /// A regulator (MHLW, PMDA, a regional bureau).
    Regulator,
}

impl OrganisationKind {
    /// Whether this organisation is a committee that can review plans.
    pub fn is_committee(self) -> bool {
        matches!(
            self,
            OrganisationKind::CertifiedCommittee | OrganisationKind::SpeciallyCertifiedCommittee
        )
    }
}

/// An organisation taking part in the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Its name as registered.
    pub name: Name,
    /// What kind of organisation it is.
    pub kind: OrganisationKind,
    /// An identifier issued elsewhere (medical institution code, committee number…).
    #[serde(default)]
    pub code: Option<Code>,
    /// Prefecture, for the national view.
    #[serde(default)]
    pub prefecture: Option<Name>,
}

impl Validate for Organisation {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl Entity for Organisation {
    const KIND: &'static str = "organisation";
}

/// A practitioner's profession.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    /// 医師.
    Physician,
    /// 歯科医師.
    Dentist,
    /// 看護師.
    Nurse,
    /// 薬剤師.
    Pharmacist,
    /// Laboratory or cell-processing technologist.
    Technologist,
    /// Anyone else.
    Other,
}

/// A qualification a practitioner holds (board certification, training completed…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    /// What the qualification is.
    pub title: Title,
    /// Certificate or registration number.
    #[serde(default)]
    pub number: Option<Code>,
    /// When it was obtained.
    #[serde(default)]
    pub obtained_on: Option<Date>,
    /// When it lapses, if it does.
    #[serde(default)]
    pub expires_on: Option<Date>,
}

/// A person who provides, reviews or supports regenerative medicine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Practitioner {
    /// The organisation they act for.
    pub organisation_id: Uuid,
    /// Their name.
    pub name: Name,
    /// Their profession.
    pub profession: Profession,
    /// Qualifications relevant to the therapies they provide (the 2024 review proposes
    /// recording them in plans and periodic reports).
    #[serde(default)]
    pub qualifications: Vec<Qualification>,
}

impl Validate for Practitioner {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.qualifications.len() > 50 {
            errors.push("qualifications", "at most 50 qualifications");
        }
        for (i, q) in self.qualifications.iter().enumerate() {
            let field = format!("qualifications[{i}]");
            if let Some(d) = q.obtained_on {
                crate::dates::check_plausible(&format!("{field}.obtained_on"), d, &mut errors);
            }
            if let Some(d) = q.expires_on {
                crate::dates::check_plausible(&format!("{field}.expires_on"), d, &mut errors);
                if let Some(o) = q.obtained_on {
                    crate::dates::check_order(
                        &format!("{field}.expires_on"),
                        "obtained_on",
                        o,
                        d,
                        &mut errors,
                    );
                }
            }
        }
        errors.into_result()
    }
}

impl Entity for Practitioner {
    const KIND: &'static str = "practitioner";
}
