//! Where a product's cells come from: donors (pseudonymised, with eligibility tests),
//! collections (with optional ISBT 128 DIN or EU SEC), cell banks (master and working)
//! and the culture media they are grown in. Trace-back from an adverse event ends here.

use super::{check_distinct, check_positive};
use crate::dates::check_plausible;
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::pseudonym::Pseudonym;
use crate::quality::identifiers::{DonationIdentificationNumber, SingleEuropeanCode};
use crate::quality::qc::QualitativeResult;
use crate::registry::{BirthYearMonth, Sex};
use crate::text::{Code, Name, Title};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// Whether a donor may give cells for manufacture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DonorEligibility {
    /// Tests or interview still open.
    Pending,
    /// Found eligible: every test non-reactive.
    Eligible,
    /// Found ineligible; material must not be used.
    Ineligible,
}

/// One donor screening test (infectious markers and the like).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityTest {
    /// The test, e.g. `hbs_ag`, `anti_hcv`, `anti_hiv_1_2`, `htlv_1`, `syphilis`.
    pub test: Code,
    /// The reading.
    pub result: QualitativeResult,
    /// The day of the test.
    pub tested_on: Date,
}

impl EligibilityTest {
    /// Whether the reading shows infection or contamination (a reactive screen excludes
    /// the donor).
    pub fn is_reactive(&self) -> bool {
        matches!(
            self.result,
            QualitativeResult::Positive
                | QualitativeResult::Detected
                | QualitativeResult::Growth
                | QualitativeResult::Present
                | QualitativeResult::DoesNotConform
        )
    }
}

/// A cell donor as the registry keeps them: a pseudonym, never a name or donor number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Donor {
    /// The organisation that registered the donor (and keeps the donor code).
    pub facility_id: Uuid,
    /// HMAC of the facility's donor code (the key is configuration, not data).
    pub pseudonym: Pseudonym,
    /// Sex.
    pub sex: Sex,
    /// Year and month of birth, when relevant (e.g. adult tissue donors).
    #[serde(default)]
    pub birth_year_month: Option<BirthYearMonth>,
    /// Screening tests.
    #[serde(default)]
    pub eligibility_tests: Vec<EligibilityTest>,
    /// The eligibility decision.
    pub eligibility: DonorEligibility,
    /// When eligibility was decided (required once it is not pending).
    #[serde(default)]
    pub eligibility_decided_on: Option<Date>,
}

/// The most screening tests one donor record holds.
const MAX_TESTS: usize = 100;

impl Validate for Donor {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.eligibility_tests.len() > MAX_TESTS {
            errors.push(
                "eligibility_tests",
                format!("at most {MAX_TESTS} tests per donor"),
            );
        }
        for (i, t) in self.eligibility_tests.iter().enumerate() {
            check_plausible(
                &format!("eligibility_tests[{i}].tested_on"),
                t.tested_on,
                &mut errors,
            );
            if let Some(decided) = self.eligibility_decided_on
                && t.tested_on > decided
            {
                errors.push(
                    format!("eligibility_tests[{i}].tested_on"),
                    format!("is after the eligibility decision ({decided})"),
                );
            }
        }
        if let Some(d) = self.eligibility_decided_on {
            check_plausible("eligibility_decided_on", d, &mut errors);
        }
        match self.eligibility {
            DonorEligibility::Pending => {}
            decided => {
                if self.eligibility_decided_on.is_none() {
                    errors.push(
                        "eligibility_decided_on",
                        "is required once eligibility is decided",
                    );
                }
                if decided == DonorEligibility::Eligible {
                    if self.eligibility_tests.is_empty() {
                        errors.push(
                            "eligibility_tests",
                            "an eligible donor needs at least one screening test",
                        );
                    }
                    if let Some(i) = self.eligibility_tests.iter().position(|t| t.is_reactive()) {
                        errors.push(
                            format!("eligibility_tests[{i}].result"),
                            "is reactive: the donor cannot be eligible",
                        );
                    }
                }
            }
        }
        errors.into_result()
    }
}

impl Entity for Donor {
    const KIND: &'static str = "donor";
    const READ_ONLY: &'static [&'static str] = &["pseudonym"];
    fn past_dates(&self) -> Vec<(String, Date)> {
        let mut d: Vec<(String, Date)> = self
            .birth_year_month
            .map(|b| ("birth_year_month".to_string(), b.first_day()))
            .into_iter()
            .collect();
        d.extend(
            self.eligibility_decided_on
                .map(|e| ("eligibility_decided_on".to_string(), e)),
        );
        for (i, t) in self.eligibility_tests.iter().enumerate() {
            d.push((format!("eligibility_tests[{i}].tested_on"), t.tested_on));
        }
        d
    }
}

/// What a client sends to register a donor: the donor code is turned into a pseudonym on
/// arrival and then forgotten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDonor {
    /// The registering organisation.
    pub facility_id: Uuid,
    /// The facility's own donor code; never stored.
    pub donor_code: Code,
    /// Sex.
    pub sex: Sex,
    /// Year and month of birth.
    #[serde(default)]
    pub birth_year_month: Option<BirthYearMonth>,
    /// Screening tests.
    #[serde(default)]
    pub eligibility_tests: Vec<EligibilityTest>,
    /// The eligibility decision.
    pub eligibility: DonorEligibility,
    /// When it was decided.
    #[serde(default)]
    pub eligibility_decided_on: Option<Date>,
}

impl NewDonor {
    /// The donor to store, given the pseudonym of the donor code.
    pub fn into_donor(self, pseudonym: Pseudonym) -> Donor {
        Donor {
            facility_id: self.facility_id,
            pseudonym,
            sex: self.sex,
            birth_year_month: self.birth_year_month,
            eligibility_tests: self.eligibility_tests,
            eligibility: self.eligibility,
            eligibility_decided_on: self.eligibility_decided_on,
        }
    }
}

/// Material taken from a donor (allogeneic) or from the patient themself (autologous).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    /// The donor, for allogeneic material.
    #[serde(default)]
    pub donor_id: Option<Uuid>,
    /// The patient, for autologous material.
    #[serde(default)]
    pub patient_id: Option<Uuid>,
    /// The organisation where it was collected.
    pub collected_by_id: Uuid,
    /// The collection date.
    pub collected_on: Date,
    /// What was collected, e.g. "umbilical cord tissue", "bone marrow aspirate".
    pub material: Title,
    /// The ISBT 128 Donation Identification Number, when labelled with one (syntax-checked).
    #[serde(default)]
    pub din: Option<DonationIdentificationNumber>,
    /// The EU Single European Code, when labelled with one (syntax-checked).
    #[serde(default)]
    pub sec: Option<SingleEuropeanCode>,
    /// The volume collected, in mL, when measured.
    #[serde(default)]
    pub volume_ml: Option<f64>,
}

impl Validate for Collection {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        match (self.donor_id, self.patient_id) {
            (Some(_), Some(_)) => errors.push(
                "patient_id",
                "a collection is from a donor or from the patient, not both",
            ),
            (None, None) => errors.push(
                "donor_id",
                "name the donor (allogeneic) or the patient (autologous)",
            ),
            _ => {}
        }
        check_plausible("collected_on", self.collected_on, &mut errors);
        if let Some(v) = self.volume_ml {
            check_positive("volume_ml", v, &mut errors);
        }
        errors.into_result()
    }
}

impl Entity for Collection {
    const KIND: &'static str = "collection";
    fn past_dates(&self) -> Vec<(String, Date)> {
        vec![("collected_on".into(), self.collected_on)]
    }
}

/// The two tiers of a cell bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BankTier {
    /// Master cell bank (MCB): made directly from a collection.
    Master,
    /// Working cell bank (WCB): expanded from a master bank; lots are made from it.
    Working,
}

/// A bank of frozen vials of one cell line at one passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CellBank {
    /// The facility's code for the bank, e.g. `MCB-UC01`.
    pub bank_code: Code,
    /// Master or working.
    pub tier: BankTier,
    /// The facility that keeps it.
    pub facility_id: Uuid,
    /// For a master bank: the collection it was made from.
    #[serde(default)]
    pub collection_id: Option<Uuid>,
    /// For a working bank: the master bank it was expanded from.
    #[serde(default)]
    pub parent_bank_id: Option<Uuid>,
    /// The cells, e.g. "umbilical-cord MSC".
    pub cell_type: Title,
    /// The passage number of the banked cells.
    pub passage: u32,
    /// The number of vials banked.
    pub vials: u32,
    /// When the bank was established.
    pub established_on: Date,
    /// Where the vials are stored.
    #[serde(default)]
    pub storage_location: Option<Title>,
}

/// The highest passage number accepted: cultured MSC senesce long before it.
const MAX_PASSAGE: u32 = 100;

impl Validate for CellBank {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        match self.tier {
            BankTier::Master => {
                if self.collection_id.is_none() {
                    errors.push(
                        "collection_id",
                        "a master bank names the collection it was made from",
                    );
                }
                if self.parent_bank_id.is_some() {
                    errors.push("parent_bank_id", "a master bank has no parent bank");
                }
            }
            BankTier::Working => {
                if self.parent_bank_id.is_none() {
                    errors.push(
                        "parent_bank_id",
                        "a working bank names the master bank it was expanded from",
                    );
                }
                if self.collection_id.is_some() {
                    errors.push(
                        "collection_id",
                        "a working bank's collection is its master bank's",
                    );
                }
            }
        }
        if self.passage > MAX_PASSAGE {
            errors.push("passage", format!("at most {MAX_PASSAGE}"));
        }
        if self.vials == 0 {
            errors.push("vials", "a bank holds at least one vial");
        }
        check_plausible("established_on", self.established_on, &mut errors);
        errors.into_result()
    }
}

impl Entity for CellBank {
    const KIND: &'static str = "cell_bank";
    fn past_dates(&self) -> Vec<(String, Date)> {
        vec![("established_on".into(), self.established_on)]
    }
}

/// One component or supplement of a culture medium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediumComponent {
    /// What it is, e.g. "human platelet lysate", "fetal bovine serum".
    pub name: Title,
    /// Whether it is of animal (non-human) origin.
    pub animal_origin: bool,
}

/// A lot of culture medium used in manufacture (the JSRM EV guidance asks whether media
/// are xeno-free).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CultureMedium {
    /// The medium's name.
    pub name: Name,
    /// Its manufacturer.
    #[serde(default)]
    pub manufacturer: Option<Name>,
    /// The supplier's lot number.
    pub medium_lot: Code,
    /// Whether it contains no component of animal (non-human) origin.
    pub xeno_free: bool,
    /// Components and supplements worth recording.
    #[serde(default)]
    pub components: Vec<MediumComponent>,
    /// When the lot expires.
    #[serde(default)]
    pub expires_on: Option<Date>,
}

impl Validate for CultureMedium {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.xeno_free
            && let Some(i) = self.components.iter().position(|c| c.animal_origin)
        {
            errors.push(
                format!("components[{i}].animal_origin"),
                "a xeno-free medium has no component of animal origin",
            );
        }
        let names: Vec<&Title> = self.components.iter().map(|c| &c.name).collect();
        check_distinct("components", &names, &mut errors);
        if let Some(d) = self.expires_on {
            check_plausible("expires_on", d, &mut errors);
        }
        errors.into_result()
    }
}

impl Entity for CultureMedium {
    const KIND: &'static str = "culture_medium";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn donor(eligibility: &str, tests: serde_json::Value) -> Donor {
        serde_json::from_value(json!({
            "facility_id": Uuid::nil(), "pseudonym": "a".repeat(64), "sex": "female",
            "eligibility_tests": tests, "eligibility": eligibility,
            "eligibility_decided_on": "2021-06-20"
        }))
        .unwrap()
    }

    #[test]
    fn eligible_donors_have_non_reactive_tests() {
        let ok = donor(
            "eligible",
            json!([{"test": "hbs_ag", "result": "negative", "tested_on": "2021-06-15"}]),
        );
        assert!(ok.validate().is_ok());
        let reactive = donor(
            "eligible",
            json!([{"test": "anti_hcv", "result": "positive", "tested_on": "2021-06-15"}]),
        );
        let e = reactive.validate().unwrap_err();
        assert_eq!(e.0[0].field, "eligibility_tests[0].result");
        assert!(donor("eligible", json!([])).validate().is_err());
        let late = donor(
            "ineligible",
            json!([{"test": "syphilis", "result": "negative", "tested_on": "2021-07-01"}]),
        );
        assert_eq!(
            late.validate().unwrap_err().0[0].field,
            "eligibility_tests[0].tested_on"
        );
    }

    #[test]
    fn collections_name_one_source_and_check_din() {
        let c: Result<Collection, _> = serde_json::from_value(json!({
            "donor_id": Uuid::nil(), "collected_by_id": Uuid::nil(),
            "collected_on": "2021-06-15", "material": "umbilical cord", "din": "W123421000187"
        }));
        assert!(c.unwrap().validate().is_ok());
        let bad: Result<Collection, _> = serde_json::from_value(json!({
            "donor_id": Uuid::nil(), "collected_by_id": Uuid::nil(),
            "collected_on": "2021-06-15", "material": "cord", "din": "W12342100018"
        }));
        assert!(bad.is_err());
        let neither: Collection = serde_json::from_value(json!({
            "collected_by_id": Uuid::nil(), "collected_on": "2021-06-15", "material": "cord"
        }))
        .unwrap();
        assert_eq!(neither.validate().unwrap_err().0[0].field, "donor_id");
    }

    #[test]
    fn banks_and_media() {
        let working: CellBank = serde_json::from_value(json!({
            "bank_code": "WCB-1", "tier": "working", "facility_id": Uuid::nil(),
            "cell_type": "UC-MSC", "passage": 4, "vials": 0, "established_on": "2021-10-01"
        }))
        .unwrap();
        let fields: Vec<String> = working
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["parent_bank_id", "vials"]);
        let medium: CultureMedium = serde_json::from_value(json!({
            "name": "Medium", "medium_lot": "L1", "xeno_free": true,
            "components": [{"name": "FBS", "animal_origin": true}]
        }))
        .unwrap();
        assert_eq!(
            medium.validate().unwrap_err().0[0].field,
            "components[0].animal_origin"
        );
    }
}
