//! Roles: what kind of person is acting, which decides what they may see and do.
//!
//! Every role except the registry-wide ones (regulator, admin) acts for one
//! organisation, and its reach stops at that organisation's records. The access policy
//! that applies these roles lives in the server (`access.rs`); the matrix is written out
//! in `docs/SECURITY.md`.

use crate::registry::OrganisationKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Staff of a medical institution: their institution's patients and plans.
    InstitutionStaff,
    /// A physician of a medical institution: as staff, plus writing and signing plans
    /// and periodic reports.
    Physician,
    /// Staff of a cell processing facility: their facility's lots and units.
    FacilityStaff,
    /// A quality-assurance manager of a facility: as staff, plus release decisions,
    /// deviations and dispositions (signed).
    QaManager,
    /// A member of a (specially) certified committee: plans submitted to it.
    CommitteeMember,
    /// An analyst of a marketing-authorisation holder: pseudonymised data of patients
    /// treated with its products and of the controls enrolled for them.
    MahAnalyst,
    /// A central adjudicator: blinded assessment tasks only.
    Adjudicator,
    /// A regulator (MHLW/PMDA): everything, pseudonymised, read-only.
    Regulator,
    /// An administrator: users and configuration, no clinical data.
    Admin,
}

impl Role {
    /// Every role, for matrices and help texts.
    pub const ALL: [Role; 9] = [
        Role::InstitutionStaff,
        Role::Physician,
        Role::FacilityStaff,
        Role::QaManager,
        Role::CommitteeMember,
        Role::MahAnalyst,
        Role::Adjudicator,
        Role::Regulator,
        Role::Admin,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::InstitutionStaff => "institution_staff",
            Role::Physician => "physician",
            Role::FacilityStaff => "facility_staff",
            Role::QaManager => "qa_manager",
            Role::CommitteeMember => "committee_member",
            Role::MahAnalyst => "mah_analyst",
            Role::Adjudicator => "adjudicator",
            Role::Regulator => "regulator",
            Role::Admin => "admin",
        }
    }

    /// The kinds of organisation a user of this role must belong to; empty when the
    /// role is registry-wide and needs none.
    pub fn organisation_kinds(self) -> &'static [OrganisationKind] {
        use OrganisationKind::*;
        match self {
            Role::InstitutionStaff | Role::Physician => &[MedicalInstitution],
            Role::FacilityStaff | Role::QaManager => &[CellProcessingFacility],
            Role::CommitteeMember => &[CertifiedCommittee, SpeciallyCertifiedCommittee],
            Role::MahAnalyst => &[MarketingAuthorisationHolder],
            Role::Regulator => &[Regulator],
            Role::Adjudicator | Role::Admin => &[],
        }
    }

    /// Whether the role must belong to an organisation.
    pub fn needs_organisation(self) -> bool {
        !matches!(self, Role::Adjudicator | Role::Admin)
    }

    /// Whether interactive sign-in needs a second factor. Every role can see health data
    /// (pseudonymised) or sign, or manages those who can, so every role does.
    pub fn requires_second_factor(self) -> bool {
        true
    }

    /// Whether the role may apply electronic signatures.
    pub fn can_sign(self) -> bool {
        matches!(
            self,
            Role::Physician | Role::QaManager | Role::CommitteeMember | Role::Adjudicator
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("'{s}' is not a role (one of: {})", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert!("root".parse::<Role>().is_err());
    }
}
