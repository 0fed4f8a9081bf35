//! Patients (pseudonymised), their enrolment as treated or control, and consent.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::pseudonym::Pseudonym;
use crate::text::{Code, Text};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Month};
use uuid::Uuid;

/// Year and month of birth: enough for age at treatment, less identifying than a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BirthYearMonth {
    year: i32,
    month: u8,
}

impl BirthYearMonth {
    /// Builds one from numbers, refusing impossible months and years before 1900.
    pub fn new(year: i32, month: u8) -> Result<Self, String> {
        if !(1900..=2200).contains(&year) {
            return Err(format!("year {year} is out of range (1900 to 2200)"));
        }
        if !(1..=12).contains(&month) {
            return Err(format!("month {month} is not between 01 and 12"));
        }
        Ok(BirthYearMonth { year, month })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month (1–12).
    pub fn month(self) -> u8 {
        self.month
    }

    /// Age in completed years on `date`, counting from the first of the birth month
    /// (the most a year-month can tell).
    pub fn age_on(self, date: Date) -> i32 {
        let mut age = date.year() - self.year;
        if (date.month() as u8) < self.month {
            age -= 1;
        }
        age
    }

    /// The first day of the birth month.
    pub fn first_day(self) -> Date {
        let month = Month::try_from(self.month).unwrap_or(Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(crate::dates::EARLIEST)
    }
}

impl TryFrom<String> for BirthYearMonth {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a year-month like 1961-04");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        BirthYearMonth::new(year, month)
    }
}

impl From<BirthYearMonth> for String {
    fn from(b: BirthYearMonth) -> String {
        b.to_string()
    }
}

impl fmt::Display for BirthYearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl utoipa::PartialSchema for BirthYearMonth {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$"))
            .examples(["1961-04"])
            .into()
    }
}

impl utoipa::ToSchema for BirthYearMonth {}

/// Administrative sex as recorded by the institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other.
    Other,
    /// Not known or not recorded.
    Unknown,
}

/// A patient as the registry keeps them: a pseudonym, never a name or record number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// The institution that registered the patient.
    pub institution_id: Uuid,
    /// HMAC of the institution's record number (the key is configuration, not data).
    pub pseudonym: Pseudonym,
    /// Year and month of birth.
    pub birth_year_month: BirthYearMonth,
    /// Sex.
    pub sex: Sex,
}

impl Validate for Patient {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl Entity for Patient {
    const KIND: &'static str = "patient";
    const READ_ONLY: &'static [&'static str] = &["pseudonym"];
    fn past_dates(&self) -> Vec<(String, Date)> {
        vec![("birth_year_month".into(), self.birth_year_month.first_day())]
    }
}

/// What a client sends to register a patient: the record number is turned into a
/// pseudonym on arrival and then forgotten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    /// The registering institution.
    pub institution_id: Uuid,
    /// The institution's own record number; never stored.
    pub record_number: Code,
    /// Year and month of birth.
    pub birth_year_month: BirthYearMonth,
    /// Sex.
    pub sex: Sex,
}

/// Whether a patient is in the registry as treated or as a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// Received the therapy under a plan or the product.
    Treated,
    /// Registered with the same forms as a comparator (NRMD/PMS registry controls).
    Control,
}

/// Where a control comes from (MHLW evaluation index, item 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlSource {
    /// Concurrent controls at the same sites.
    ConcurrentSameSites,
    /// Concurrent controls at other sites.
    ConcurrentOtherSites,
    /// Drawn from a registry (NRMD, FormsNet3…).
    Registry,
    /// Historical controls.
    Historical,
}

/// A patient's enrolment: treated under a plan or product, or a control for one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrollment {
    /// The patient.
    pub patient_id: Uuid,
    /// Treated or control.
    pub arm: Arm,
    /// The provision plan (for treatment under the Act).
    #[serde(default)]
    pub plan_id: Option<Uuid>,
    /// The product (for approved products and their controls).
    #[serde(default)]
    pub product_id: Option<Uuid>,
    /// Where a control comes from; only for controls.
    #[serde(default)]
    pub control_source: Option<ControlSource>,
    /// Enrolment date.
    pub enrolled_on: Date,
    /// Index date from which outcomes are counted (first treatment, or eligibility for a
    /// control); defaults to the enrolment date in analyses when absent.
    #[serde(default)]
    pub index_date: Option<Date>,
}

impl Validate for Enrollment {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("enrolled_on", self.enrolled_on, &mut errors);
        if let Some(d) = self.index_date {
            crate::dates::check_plausible("index_date", d, &mut errors);
        }
        match self.arm {
            Arm::Treated => {
                if self.plan_id.is_none() && self.product_id.is_none() {
                    errors.push(
                        "plan_id",
                        "a treated enrolment names a plan_id or a product_id",
                    );
                }
                if self.control_source.is_some() {
                    errors.push("control_source", "only controls have a control_source");
                }
            }
            Arm::Control => {
                if self.control_source.is_none() {
                    errors.push("control_source", "a control names where it comes from");
                }
            }
        }
        errors.into_result()
    }
}

impl Entity for Enrollment {
    const KIND: &'static str = "enrollment";
    fn past_dates(&self) -> Vec<(String, Date)> {
        vec![("enrolled_on".into(), self.enrolled_on)]
    }
}

/// What a patient consented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    /// The treatment itself.
    Treatment,
    /// Registration of their data in the registry.
    Registry,
    /// Secondary use of pseudonymised data for research.
    SecondaryResearch,
    /// Storage of samples.
    SampleStorage,
}

/// A consent given (and perhaps later withdrawn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The patient.
    pub patient_id: Uuid,
    /// What was consented to.
    pub scope: ConsentScope,
    /// Version of the consent form signed.
    pub form_version: Code,
    /// When consent was given.
    pub given_on: Date,
    /// When it was withdrawn, if it was.
    #[serde(default)]
    pub withdrawn_on: Option<Date>,
    /// What the patient said when withdrawing, if recorded.
    #[serde(default)]
    pub withdrawal_statement: Option<Text>,
}

impl Validate for Consent {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("given_on", self.given_on, &mut errors);
        if let Some(w) = self.withdrawn_on {
            crate::dates::check_plausible("withdrawn_on", w, &mut errors);
            crate::dates::check_order("withdrawn_on", "given_on", self.given_on, w, &mut errors);
        } else if self.withdrawal_statement.is_some() {
            errors.push("withdrawal_statement", "given without a withdrawn_on date");
        }
        errors.into_result()
    }
}

impl Entity for Consent {
    const KIND: &'static str = "consent";
    fn past_dates(&self) -> Vec<(String, Date)> {
        let mut d = vec![("given_on".into(), self.given_on)];
        d.extend(self.withdrawn_on.map(|w| ("withdrawn_on".into(), w)));
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn birth_year_month_parses_strictly() {
        assert_eq!(
            BirthYearMonth::try_from("1961-04".to_string())
                .unwrap()
                .to_string(),
            "1961-04"
        );
        for bad in ["1961-4", "1961-13", "1899-01", "61-04", "1961/04", ""] {
            assert!(BirthYearMonth::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn age_counts_completed_years() {
        let b = BirthYearMonth::new(1960, 6).unwrap();
        assert_eq!(b.age_on(date!(2020 - 05 - 31)), 59);
        assert_eq!(b.age_on(date!(2020 - 06 - 01)), 60);
    }

    #[test]
    fn treated_needs_plan_or_product() {
        let e = Enrollment {
            patient_id: Uuid::nil(),
            arm: Arm::Treated,
            plan_id: None,
            product_id: None,
            control_source: None,
            enrolled_on: date!(2024 - 01 - 01),
            index_date: None,
        };
        let err = e.validate().unwrap_err();
        assert_eq!(err.0[0].field, "plan_id");
    }
}
