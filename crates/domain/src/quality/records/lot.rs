//! A manufacturing lot and what is recorded about it: QC results, deviations, retained
//! samples, and every status decision (quarantine, release, rejection) with who took it.

use super::check_distinct;
use crate::dates::{check_order, check_plausible};
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::quality::conformance::{ConformanceContext, OverallOutcome, RuleOutcome};
use crate::quality::identifiers::{AttributeCode, LotNumber, MethodCode, RuleId};
use crate::quality::measure::StorageRange;
use crate::quality::qc::{QcResult, QcValue};
use crate::quality::release::{Approver, Deviation, LotStatus};
use crate::quality::spec::SpecKey;
use crate::text::{Code, Name, Text, Title};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::Date;
use uuid::Uuid;

/// A specification named as text, `id@version` (e.g. `example-ucmsc@1`): how clients and
/// the database write the specification a lot is made to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SpecificationRef(SpecKey);

impl SpecificationRef {
    /// The specification's key.
    pub fn key(&self) -> &SpecKey {
        &self.0
    }
}

impl From<SpecKey> for SpecificationRef {
    fn from(k: SpecKey) -> Self {
        SpecificationRef(k)
    }
}

impl TryFrom<String> for SpecificationRef {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        SpecKey::from_str(&s).map(SpecificationRef)
    }
}

impl From<SpecificationRef> for String {
    fn from(s: SpecificationRef) -> String {
        s.0.to_string()
    }
}

impl fmt::Display for SpecificationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl utoipa::PartialSchema for SpecificationRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z][a-z0-9-]*@[0-9]+$"))
            .examples(["example-ucmsc@1"])
            .into()
    }
}

impl utoipa::ToSchema for SpecificationRef {}

fn in_process() -> LotStatus {
    LotStatus::InProcess
}

/// A manufacturing lot (batch) of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lot {
    /// The lot number as printed on labels: where look-back starts.
    pub lot_number: LotNumber,
    /// The product.
    pub product_id: Uuid,
    /// The cell processing facility that made it.
    pub facility_id: Uuid,
    /// The cell bank it was made from (allogeneic products).
    #[serde(default)]
    pub cell_bank_id: Option<Uuid>,
    /// The collection it was made from directly (autologous products, or no bank).
    #[serde(default)]
    pub collection_id: Option<Uuid>,
    /// The culture media used.
    #[serde(default)]
    pub culture_medium_ids: Vec<Uuid>,
    /// The manufacturing process version.
    pub process_version: Code,
    /// The specification the lot is released against.
    pub specification: SpecificationRef,
    /// Facts the specification's rules need besides results (the dose, for endotoxin).
    /// (Stored under its first name: renaming a stored field would change the content of
    /// every lot's audit history, which `saisei audit verify` compares rows against.)
    #[serde(default)]
    pub evaluation_context: ConformanceContext,
    /// When manufacture started.
    pub manufactured_on: Date,
    /// When the lot expires.
    #[serde(default)]
    pub expires_on: Option<Date>,
    /// Where the lot stands; moved only by the quarantine, release and reject workflows.
    #[serde(default = "in_process")]
    pub status: LotStatus,
    /// When the status last changed.
    #[serde(default)]
    pub status_changed_on: Option<Date>,
    /// Counts every QC result and deviation added to the lot, so that a release decision
    /// taken on evidence that changed meanwhile conflicts instead of going through.
    #[serde(default)]
    pub evidence_revision: u32,
}

/// The most culture media one lot names.
const MAX_MEDIA: usize = 20;

impl Validate for Lot {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.cell_bank_id.is_none() && self.collection_id.is_none() {
            errors.push(
                "cell_bank_id",
                "a lot names the cell bank or the collection it was made from, so it can be traced back",
            );
        }
        if self.culture_medium_ids.len() > MAX_MEDIA {
            errors.push(
                "culture_medium_ids",
                format!("at most {MAX_MEDIA} media per lot"),
            );
        }
        check_distinct("culture_medium_ids", &self.culture_medium_ids, &mut errors);
        check_plausible("manufactured_on", self.manufactured_on, &mut errors);
        if let Some(e) = self.expires_on {
            check_plausible("expires_on", e, &mut errors);
            check_order(
                "expires_on",
                "manufactured_on",
                self.manufactured_on,
                e,
                &mut errors,
            );
        }
        if let Some(c) = self.status_changed_on {
            check_order(
                "status_changed_on",
                "manufactured_on",
                self.manufactured_on,
                c,
                &mut errors,
            );
        }
        errors.into_result()
    }
}

impl Entity for Lot {
    const KIND: &'static str = "lot";
    fn past_dates(&self) -> Vec<(String, Date)> {
        vec![("manufactured_on".into(), self.manufactured_on)]
    }
    const READ_ONLY: &'static [&'static str] =
        &["status", "status_changed_on", "evidence_revision"];
}

/// A rule released although not met, and the deviation that covered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoveredDeviation {
    /// The rule.
    pub rule_id: RuleId,
    /// Fail or missing.
    pub outcome: RuleOutcome,
    /// The deviation's reference.
    pub deviation: Code,
}

/// One status decision on a lot: who moved it where, when and why (the lot's own record
/// only keeps the latest status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotStatusChange {
    /// The lot.
    pub lot_id: Uuid,
    /// The status before.
    pub from_status: LotStatus,
    /// The status after.
    pub to_status: LotStatus,
    /// The decision date.
    pub on: Date,
    /// Who decided.
    pub decided_by: Approver,
    /// Why (required for quarantine and rejection).
    #[serde(default)]
    pub reason: Option<Text>,
    /// The conformance check's overall outcome at the decision, for releases. (The field
    /// keeps its first name, like the lot's `evaluation_context`.)
    #[serde(default)]
    pub evaluation_outcome: Option<OverallOutcome>,
    /// Rules released under deviations.
    #[serde(default)]
    pub covered: Vec<CoveredDeviation>,
}

impl Validate for LotStatusChange {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_plausible("on", self.on, &mut errors);
        if matches!(self.to_status, LotStatus::Quarantined | LotStatus::Rejected)
            && self.reason.is_none()
        {
            errors.push(
                "reason",
                format!("is required to move a lot to {}", self.to_status),
            );
        }
        errors.into_result()
    }
}

impl Entity for LotStatusChange {
    const KIND: &'static str = "lot_status_change";
}

/// A QC result recorded for a lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotQcResult {
    /// The lot tested.
    pub lot_id: Uuid,
    /// The attribute measured, e.g. `cd73_positive`, `endotoxin`, `sterility`.
    pub attribute: AttributeCode,
    /// The value, with its unit of measure where numeric.
    pub value: QcValue,
    /// The analytical method.
    pub method: MethodCode,
    /// The instrument (name, model or asset number).
    #[serde(default)]
    pub instrument: Option<Name>,
    /// The day the test was performed.
    pub tested_on: Date,
    /// The sample tested (QC aliquot or retained-sample code).
    #[serde(default)]
    pub sample_id: Option<Code>,
}

impl LotQcResult {
    /// The result as the conformance check sees it.
    pub fn result(&self) -> QcResult {
        QcResult {
            attribute: self.attribute.clone(),
            value: self.value.clone(),
            method: self.method.clone(),
            instrument: self.instrument.clone(),
            tested_on: self.tested_on,
            sample_id: self.sample_id.clone(),
        }
    }
}

impl Validate for LotQcResult {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_plausible("tested_on", self.tested_on, &mut errors);
        errors.into_result()
    }
}

impl Entity for LotQcResult {
    const KIND: &'static str = "qc_result";
    fn past_dates(&self) -> Vec<(String, Date)> {
        vec![("tested_on".into(), self.tested_on)]
    }
}

/// A deviation recorded for a lot: the rules it accepts although unmet, why, and who
/// approved it. Only one approved by a QA manager on or before the release decision
/// counts towards releasing the lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotDeviation {
    /// The lot.
    pub lot_id: Uuid,
    /// The deviation's reference number.
    pub reference: Code,
    /// The specification rules it covers.
    pub rule_ids: Vec<RuleId>,
    /// Why accepting the lot is justified.
    pub reason: Text,
    /// Who approved it.
    pub approved_by: Approver,
    /// When.
    pub approved_on: Date,
}

impl LotDeviation {
    /// The deviation as the release decision sees it.
    pub fn deviation(&self, lot: &LotNumber) -> Deviation {
        Deviation {
            reference: self.reference.clone(),
            lot: lot.clone(),
            rule_ids: self.rule_ids.clone(),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
            approved_on: self.approved_on,
        }
    }
}

impl Validate for LotDeviation {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.rule_ids.is_empty() {
            errors.push("rule_ids", "a deviation covers at least one rule");
        }
        check_distinct("rule_ids", &self.rule_ids, &mut errors);
        check_plausible("approved_on", self.approved_on, &mut errors);
        errors.into_result()
    }
}

impl Entity for LotDeviation {
    const KIND: &'static str = "deviation";
}

/// A sample of a lot kept for later investigation (the JSRM EV guidance asks for samples
/// of the same lot as administered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetainedSample {
    /// The lot sampled.
    pub lot_id: Uuid,
    /// The sample's code.
    pub sample_code: Code,
    /// What was kept, e.g. "final product", "conditioned medium".
    pub material: Title,
    /// Where it is stored (tank, rack, position).
    pub location: Title,
    /// How much is left.
    pub quantity: f64,
    /// The unit of the quantity, e.g. `vials`, `mL`.
    pub quantity_unit: Code,
    /// When it was set aside.
    pub retained_on: Date,
    /// How long it must be kept.
    #[serde(default)]
    pub retain_until: Option<Date>,
    /// The temperature range it must be kept in.
    #[serde(default)]
    pub storage: Option<StorageRange>,
}

impl Validate for RetainedSample {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if !self.quantity.is_finite() || self.quantity < 0.0 {
            errors.push("quantity", "must be a finite number, zero or more");
        }
        check_plausible("retained_on", self.retained_on, &mut errors);
        if let Some(u) = self.retain_until {
            check_plausible("retain_until", u, &mut errors);
            check_order(
                "retain_until",
                "retained_on",
                self.retained_on,
                u,
                &mut errors,
            );
        }
        errors.into_result()
    }
}

impl Entity for RetainedSample {
    const KIND: &'static str = "retained_sample";
    fn past_dates(&self) -> Vec<(String, Date)> {
        vec![("retained_on".into(), self.retained_on)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lot(extra: serde_json::Value) -> serde_json::Value {
        let mut v = json!({
            "lot_number": "RGK-2203", "product_id": Uuid::nil(), "facility_id": Uuid::nil(),
            "cell_bank_id": Uuid::nil(), "process_version": "v2.1",
            "specification": "example-ucmsc@1", "manufactured_on": "2022-03-01"
        });
        if let (Some(a), Some(b)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in b {
                a.insert(k.clone(), x.clone());
            }
        }
        v
    }

    #[test]
    fn lots_start_in_process_and_name_their_source() {
        let l: Lot = serde_json::from_value(lot(json!({}))).unwrap();
        assert_eq!(l.status, LotStatus::InProcess);
        assert_eq!(l.specification.to_string(), "example-ucmsc@1");
        assert_eq!(
            serde_json::to_value(&l).unwrap()["specification"],
            "example-ucmsc@1"
        );
        assert!(l.validate().is_ok());
        let orphan: Lot = serde_json::from_value(lot(
            json!({"cell_bank_id": null, "expires_on": "2022-01-01"}),
        ))
        .unwrap();
        let fields: Vec<String> = orphan
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["cell_bank_id", "expires_on"]);
        assert!(serde_json::from_value::<Lot>(lot(json!({"specification": "isct"}))).is_err());
    }

    #[test]
    fn deviations_and_samples() {
        let d: LotDeviation = serde_json::from_value(json!({
            "lot_id": Uuid::nil(), "reference": "DEV-1", "rule_ids": ["safety.viability", "safety.viability"],
            "reason": "Within validated range", "approved_by": {"person": "QA", "role": "qa_manager"},
            "approved_on": "2022-03-20"
        }))
        .unwrap();
        assert_eq!(d.validate().unwrap_err().0[0].field, "rule_ids[1]");
        let s: RetainedSample = serde_json::from_value(json!({
            "lot_id": Uuid::nil(), "sample_code": "RS-1", "material": "final product",
            "location": "LN2 tank 1", "quantity": -1, "quantity_unit": "vials",
            "retained_on": "2022-03-20"
        }))
        .unwrap();
        assert_eq!(s.validate().unwrap_err().0[0].field, "quantity");
    }
}
