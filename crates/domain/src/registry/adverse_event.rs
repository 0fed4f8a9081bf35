//! Adverse events (疾病等): what happened, how bad, how sure we are it was the therapy.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Text, Title};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// CTCAE grade 1 (mild) to 5 (death).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct CtcaeGrade(u8);

impl CtcaeGrade {
    /// The grade as a number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for CtcaeGrade {
    type Error = String;
    fn try_from(g: u8) -> Result<Self, String> {
        if (1..=5).contains(&g) {
            Ok(CtcaeGrade(g))
        } else {
            Err(format!("CTCAE grade must be 1 to 5 (got {g})"))
        }
    }
}

impl From<CtcaeGrade> for u8 {
    fn from(g: CtcaeGrade) -> u8 {
        g.0
    }
}

impl utoipa::PartialSchema for CtcaeGrade {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(5))
            .into()
    }
}

impl utoipa::ToSchema for CtcaeGrade {}

/// Why an event is serious (ICH E2A criteria, as the Act's reporting rules use them).
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
pub enum SeriousnessCriterion {
    /// Resulted in death.
    Death,
    /// Life-threatening (死亡につながるおそれ).
    LifeThreatening,
    /// Required or prolonged hospitalisation.
    Hospitalisation,
    /// Resulted in disability or incapacity (or a risk of it).
    Disability,
    /// Congenital anomaly in offspring.
    CongenitalAnomaly,
    /// Other medically important condition.
    Other,
}

/// How likely the therapy caused the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Causality {
    /// Not related.
    Unrelated,
    /// Unlikely related.
    Unlikely,
    /// Possibly related.
    Possible,
    /// Probably related.
    Probable,
    /// Certainly related.
    Definite,
    /// Not yet assessed.
    NotAssessed,
}

impl Causality {
    /// Every assessment, from no relation to certain, then not assessed.
    pub const ALL: &'static [Causality] = &[
        Causality::Unrelated,
        Causality::Unlikely,
        Causality::Possible,
        Causality::Probable,
        Causality::Definite,
        Causality::NotAssessed,
    ];

    /// The wire name (`unrelated`, `not_assessed`, …).
    pub const fn wire(self) -> &'static str {
        match self {
            Causality::Unrelated => "unrelated",
            Causality::Unlikely => "unlikely",
            Causality::Possible => "possible",
            Causality::Probable => "probable",
            Causality::Definite => "definite",
            Causality::NotAssessed => "not_assessed",
        }
    }
}

/// How the event turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AeOutcome {
    /// Recovered or resolved.
    Recovered,
    /// Recovering.
    Recovering,
    /// Not recovered.
    NotRecovered,
    /// Recovered with sequelae.
    RecoveredWithSequelae,
    /// Fatal.
    Fatal,
    /// Unknown.
    Unknown,
}

/// An adverse event in a patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdverseEvent {
    /// The patient.
    pub patient_id: Uuid,
    /// The treatment suspected, if known.
    #[serde(default)]
    pub treatment_id: Option<Uuid>,
    /// The event as the reporter described it.
    pub verbatim_term: Title,
    /// The CTCAE term, when coded.
    #[serde(default)]
    pub ctcae_term: Option<Title>,
    /// The CTCAE grade, when graded.
    #[serde(default)]
    pub grade: Option<CtcaeGrade>,
    /// Seriousness criteria met; empty for a non-serious event.
    #[serde(default)]
    pub seriousness: Vec<SeriousnessCriterion>,
    /// Causality assessment.
    pub causality: Causality,
    /// Onset date.
    pub onset_on: Date,
    /// When the institution learned of it: reporting deadlines count from here.
    pub known_on: Date,
    /// Outcome.
    pub outcome: AeOutcome,
    /// When it resolved, if it did.
    #[serde(default)]
    pub resolved_on: Option<Date>,
    /// Narrative.
    #[serde(default)]
    pub description: Option<Text>,
    /// When the event was reported to the authorities and the committee (疾病等報告);
    /// its deadline is met or missed by this date.
    #[serde(default)]
    pub reported_on: Option<Date>,
}

impl AdverseEvent {
    /// Whether any seriousness criterion is met.
    pub fn is_serious(&self) -> bool {
        !self.seriousness.is_empty()
    }

    /// Whether the event is a death or could have led to death: the shortest reporting
    /// deadline applies to these.
    pub fn death_or_possible_death(&self) -> bool {
        SeriousnessCriterion::any_death_or_possible_death(&self.seriousness)
    }
}

impl SeriousnessCriterion {
    /// Whether `criteria` name a death or a threat to life: the shortest reporting
    /// deadline applies to these.
    pub fn any_death_or_possible_death(criteria: &[SeriousnessCriterion]) -> bool {
        criteria.iter().any(|c| {
            matches!(
                c,
                SeriousnessCriterion::Death | SeriousnessCriterion::LifeThreatening
            )
        })
    }
}

impl Validate for AdverseEvent {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("onset_on", self.onset_on, &mut errors);
        crate::dates::check_plausible("known_on", self.known_on, &mut errors);
        crate::dates::check_order(
            "known_on",
            "onset_on",
            self.onset_on,
            self.known_on,
            &mut errors,
        );
        if let Some(r) = self.resolved_on {
            crate::dates::check_plausible("resolved_on", r, &mut errors);
            crate::dates::check_order("resolved_on", "onset_on", self.onset_on, r, &mut errors);
        }
        if let Some(r) = self.reported_on {
            crate::dates::check_plausible("reported_on", r, &mut errors);
            crate::dates::check_order("reported_on", "known_on", self.known_on, r, &mut errors);
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.seriousness.iter().enumerate() {
            if !seen.insert(*c) {
                errors.push(format!("seriousness[{i}]"), "listed twice");
            }
        }
        let death = self.seriousness.contains(&SeriousnessCriterion::Death);
        if self.grade.map(|g| g.get()) == Some(5) && !death {
            errors.push("seriousness", "a grade 5 event is a death: include `death`");
        }
        if self.outcome == AeOutcome::Fatal && !death {
            errors.push("seriousness", "a fatal outcome is a death: include `death`");
        }
        if death && self.outcome != AeOutcome::Fatal {
            errors.push(
                "outcome",
                "an event with the `death` criterion has outcome `fatal`",
            );
        }
        errors.into_result()
    }
}

impl Entity for AdverseEvent {
    const KIND: &'static str = "adverse_event";
    fn past_dates(&self) -> Vec<(String, time::Date)> {
        let mut d = vec![
            ("onset_on".into(), self.onset_on),
            ("known_on".into(), self.known_on),
        ];
        d.extend(self.resolved_on.map(|r| ("resolved_on".into(), r)));
        d.extend(self.reported_on.map(|r| ("reported_on".into(), r)));
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(extra: serde_json::Value) -> Result<AdverseEvent, String> {
        let mut v = json!({
            "patient_id": Uuid::nil(),
            "verbatim_term": "fever after infusion",
            "causality": "possible",
            "onset_on": "2024-04-01",
            "known_on": "2024-04-02",
            "outcome": "recovered"
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        let e: AdverseEvent = serde_json::from_value(v).map_err(|e| e.to_string())?;
        e.validate().map_err(|e| e.to_string())?;
        Ok(e)
    }

    #[test]
    fn grade_bounds() {
        assert!(event(json!({"grade": 0})).is_err());
        assert!(event(json!({"grade": 6})).is_err());
        assert!(event(json!({"grade": 3})).is_ok());
    }

    #[test]
    fn death_is_consistent() {
        assert!(event(json!({"grade": 5})).is_err());
        assert!(event(json!({"seriousness": ["death"]})).is_err());
        let e = event(json!({"grade": 5, "seriousness": ["death"], "outcome": "fatal"})).unwrap();
        assert!(e.death_or_possible_death());
    }

    #[test]
    fn knowledge_not_before_onset() {
        let err = event(json!({"known_on": "2024-03-01"})).unwrap_err();
        assert!(err.contains("known_on"), "{err}");
    }

    #[test]
    fn unknown_criterion_rejected() {
        let err = event(json!({"seriousness": ["bad"]})).unwrap_err();
        assert!(err.contains("unknown variant"), "{err}");
    }
}
