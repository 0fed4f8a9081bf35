//! Every kind of record the API serves through the generic resource handlers, in one
//! list: where it lives, its area and which fields are fixed come from its catalogue
//! entry (`saisei_store::Stored::DECL`). A kind whose input is the record itself is
//! `plain`; one whose input differs, or whose create is a workflow, implements
//! [`Resource`] in its area's module and is `custom`.
//!
//! `api::contract`'s test `every_catalogued_kind_is_mounted` fails when a kind the
//! catalogue puts under `/api/v1` is missing here.

use super::ApiBuilder;
use super::resource::Resource;
use crate::problem::ApiError;
use crate::state::AppState;
use saisei_domain::evaluation::{EvaluationPlan, EvaluationRun};
use saisei_domain::quality::records::*;
use saisei_domain::registry::*;

macro_rules! resources {
    (plain: [$($plain:ty),* $(,)?], custom: [$($custom:ty),* $(,)?] $(,)?) => {
        $(
            impl Resource for $plain {
                type Input = $plain;
                fn from_input(input: Self::Input, _state: &AppState) -> Result<Self, ApiError> {
                    Ok(input)
                }
            }
        )*

        /// Mounts the generic routes of every kind in the list.
        pub fn mount(b: ApiBuilder) -> ApiBuilder {
            b $(.resource::<$plain>())* $(.resource::<$custom>())*
        }
    };
}

resources! {
    plain: [
        Organisation,
        Practitioner,
        Product,
        FollowUpSchedule,
        Enrollment,
        Consent,
        Observation,
        AdverseEvent,
    ],
    custom: [
        Plan,
        PlanTransition,
        Patient,
        Treatment,
        Visit,
        PeriodicReport,
        Donor,
        Collection,
        CellBank,
        CultureMedium,
        Lot,
        LotStatusChange,
        ProductUnit,
        RetainedSample,
        LotQcResult,
        LotDeviation,
        UnitCustodyEvent,
        UnitTemperatureLog,
        UnitTemperatureExcursion,
        ExcursionDisposition,
        ProductChecklistAnswer,
        EvaluationPlan,
        EvaluationRun,
    ],
}
