//! The quality records as resources: how client input becomes each record, which fields
//! are fixed at creation, and which workflow stores a new one.

use crate::access::Actor;
use crate::api::resource::Resource;
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use saisei_domain::Record;
use saisei_domain::quality::records::*;
use saisei_store::workflow::quality::{checklist, custody, lots, sources};

/// Tag for every quality resource in the OpenAPI document.
pub const TAG: &str = "quality";

/// A resource whose records are written only by a workflow endpoint, never created
/// through its collection path.
fn workflow_only(path: &str) -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        format!("{path} records are written by their workflow endpoints"),
    )
}

impl Resource for Donor {
    type Input = NewDonor;

    fn from_input(input: NewDonor, state: &AppState) -> Result<Self, ApiError> {
        let key = state.pseudonym_key.as_ref().ok_or_else(|| {
            ApiError::new(
                Code::NotConfigured,
                "no pseudonym key is configured (SAISEI_PSEUDONYM_KEY or --key-file): donors cannot be registered",
            )
        })?;
        // A scope of its own, so a donor code and a patient record number that happen to
        // be equal at one organisation never share a pseudonym.
        let pseudonym = key.pseudonym(
            &format!("donor:{}", input.facility_id),
            input.donor_code.as_str(),
        );
        Ok(input.into_donor(pseudonym))
    }
}

impl Resource for Collection {
    type Input = Collection;

    fn from_input(input: Collection, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }
}

impl Resource for CellBank {
    type Input = CellBank;

    fn from_input(input: CellBank, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        Ok(sources::register_cell_bank(&state.store, &actor.audit(), data).await?)
    }
}

impl Resource for CultureMedium {
    type Input = CultureMedium;

    fn from_input(input: CultureMedium, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }
}

impl Resource for Lot {
    type Input = Lot;

    fn from_input(input: Lot, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        Ok(lots::register_lot(&state.store, &actor.audit(), data).await?)
    }
}

impl Resource for LotStatusChange {
    type Input = LotStatusChange;

    fn from_input(_input: LotStatusChange, _state: &AppState) -> Result<Self, ApiError> {
        Err(workflow_only("lot-status-changes"))
    }
}

impl Resource for ProductUnit {
    type Input = ProductUnit;

    fn from_input(input: ProductUnit, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        Ok(custody::register_unit(&state.store, &actor.audit(), data).await?)
    }
}

impl Resource for RetainedSample {
    type Input = RetainedSample;

    fn from_input(input: RetainedSample, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }
}

impl Resource for LotQcResult {
    type Input = LotQcResult;

    fn from_input(input: LotQcResult, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        Ok(lots::record_qc_result(&state.store, &actor.audit(), data).await?)
    }
}

impl Resource for LotDeviation {
    type Input = LotDeviation;

    fn from_input(input: LotDeviation, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        Ok(lots::record_deviation(&state.store, &actor.audit(), data).await?)
    }
}

impl Resource for UnitCustodyEvent {
    type Input = NewCustodyEvent;

    fn from_input(input: NewCustodyEvent, _state: &AppState) -> Result<Self, ApiError> {
        // The position is a placeholder: the workflow appends at the log's next one.
        Ok(UnitCustodyEvent::new(input.unit_id, 0, input.event()))
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        let request = NewCustodyEvent {
            unit_id: data.unit_id,
            at: data.at,
            by: data.by,
            action: data.action,
        };
        Ok(custody::append_custody_event(&state.store, &actor.audit(), request).await?)
    }
}

impl Resource for UnitTemperatureLog {
    type Input = UnitTemperatureLog;

    fn from_input(_input: UnitTemperatureLog, _state: &AppState) -> Result<Self, ApiError> {
        Err(workflow_only("temperature-logs"))
    }
}

impl Resource for UnitTemperatureExcursion {
    type Input = UnitTemperatureExcursion;

    fn from_input(_input: UnitTemperatureExcursion, _state: &AppState) -> Result<Self, ApiError> {
        Err(workflow_only("temperature-excursions"))
    }
}

impl Resource for ExcursionDisposition {
    type Input = NewDisposition;

    fn from_input(_input: NewDisposition, _state: &AppState) -> Result<Self, ApiError> {
        Err(workflow_only("dispositions"))
    }
}

impl Resource for ProductChecklistAnswer {
    type Input = ProductChecklistAnswer;

    fn from_input(input: ProductChecklistAnswer, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        Ok(checklist::record_checklist_answer(&state.store, &actor.audit(), data).await?)
    }
}
