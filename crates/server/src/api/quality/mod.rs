//! Quality and traceability over HTTP: donors, collections, cell banks, culture media,
//! lots and their QC results, deviations, retained samples and status decisions; units
//! with their custody log, temperature logs, excursions and dispositions; the
//! specification catalogue; products' EV guidance checklists; look-back and trace-back.
//!
//! Records that are evidence (QC results, deviations, custody events, dispositions) can
//! be created and read but never changed or withdrawn through the API: their collection
//! paths take POST, and their item paths only GET.

pub mod bedside;
mod lots;
mod resources;
mod specs;
mod trace;
mod units;

use super::resource::{self, Resource};
use super::{ApiBuilder, operation};
use axum::routing::{get, post};
use resources::TAG;
use saisei_domain::quality::records::*;
use saisei_store::workflow::quality::custody::{AllocationRequest, ShipmentRequest};
use saisei_store::workflow::quality::lots::LotDecisionRequest;
use saisei_store::workflow::quality::temperature::TemperatureLogRequest;
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, Operation};

/// The documentation of a create-only resource's POST.
fn create_only<R: Resource>(summary: &str) -> Vec<(HttpMethod, Operation)> {
    let input = <R::Input as ToSchema>::name();
    vec![(
        HttpMethod::Post,
        operation(
            TAG,
            &format!("create_{}", R::KIND),
            summary,
            Some(&input),
            &[
                ("201", "Created"),
                ("409", "A concurrent change; read again and retry"),
                (
                    "422",
                    "Invalid fields or a broken rule (the field is named)",
                ),
            ],
        ),
    )]
}

/// Lets an operation also take its body as `text/csv`.
fn csv_body(mut op: Operation) -> Operation {
    if let Some(utoipa::openapi::RefOr::T(body)) = op.request_body.as_mut() {
        body.content.insert(
            "text/csv".to_string(),
            utoipa::openapi::RefOr::T(
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::String)
                            .description(Some(
                                "One `time,celsius` reading per line (RFC 3339 time)",
                            )),
                    ))
                    .build(),
            ),
        );
    }
    op
}

fn read(id: &str, summary: &str) -> Vec<(HttpMethod, Operation)> {
    vec![(
        HttpMethod::Get,
        operation(
            TAG,
            id,
            summary,
            None,
            &[("200", "OK"), ("404", "Not found")],
        ),
    )]
}

fn decision(id: &str, summary: &str) -> Vec<(HttpMethod, Operation)> {
    let body = if id == "release_lot" {
        "LotReleaseRequest"
    } else {
        "LotDecisionRequest"
    };
    vec![(
        HttpMethod::Post,
        operation(
            TAG,
            id,
            summary,
            Some(body),
            &[
                (
                    "200",
                    "The lot after the decision, the decision record and the units whose logs recorded it",
                ),
                ("409", "Stale version"),
                (
                    "422",
                    "The decision breaks a rule; a refused release lists every blocker",
                ),
            ],
        ),
    )]
}

/// Mounts the quality workflows (its kinds are mounted from `api::kinds`).
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    b        .schema::<LotDecisionRequest>()
        .schema::<lots::LotReleaseRequest>()
        .schema::<AllocationRequest>()
        .schema::<ShipmentRequest>()
        .schema::<TemperatureLogRequest>()
        .route(
            "/qc-results",
            post(resource::create::<LotQcResult>),
            create_only::<LotQcResult>("Record a QC result for a lot (unit, method, instrument)"),
        )
        .route(
            "/deviations",
            post(resource::create::<LotDeviation>),
            create_only::<LotDeviation>("Record a deviation covering rules of a lot's specification"),
        )
        .route(
            "/custody-events",
            post(resource::create::<UnitCustodyEvent>),
            create_only::<UnitCustodyEvent>(
                "Append an event to a unit's custody log (checked against the log so far; append-only)",
            ),
        )
        .route(
            "/dispositions",
            post(units::post_disposition),
            create_only::<ExcursionDisposition>(
                "Decide an excursion hold (QA manager): use as is, or destroy the units",
            ),
        )
        .route(
            "/lots/{id}/conformance",
            get(lots::get_conformance),
            read(
                "lot_conformance",
                "Check a lot's QC results against its specification (pass, fail or missing per rule)",
            ),
        )
        .route(
            "/lots/{id}/quarantine",
            post(lots::post_quarantine),
            decision("quarantine_lot", "Quarantine a lot (from in process, or back from released)"),
        )
        .route(
            "/lots/{id}/release",
            post(lots::post_release),
            decision(
                "release_lot",
                "Release a quarantined lot; refused with every blocker unless each unmet rule is covered by a QA-approved deviation",
            ),
        )
        .route(
            "/lots/{id}/reject",
            post(lots::post_reject),
            decision("reject_lot", "Reject a lot (final)"),
        )
        .schema::<bedside::BedsideRequest>()
        .route(
            "/units/{id}/bedside",
            post(bedside::post_bedside),
            vec![(
                HttpMethod::Post,
                operation(
                    TAG,
                    "bedside_step",
                    "Record a treating site's step with the unit of one of its patients: received, delivered, thawed, identity verified",
                    Some("BedsideRequest"),
                    &[("201", "The custody event"), ("404", "Not this patient's unit"), ("422", "The step does not follow")],
                ),
            )],
        )
        .route(
            "/units/{id}/allocate",
            post(units::post_allocate),
            vec![(
                HttpMethod::Post,
                operation(
                    TAG,
                    "allocate_unit",
                    "Allocate an allogeneic unit to a patient",
                    Some("AllocationRequest"),
                    &[("200", "The unit"), ("409", "Stale version"), ("422", "Not allocatable")],
                ),
            )],
        )
        .route(
            "/units/{id}/ship",
            post(units::post_ship),
            vec![(
                HttpMethod::Post,
                operation(
                    TAG,
                    "ship_unit",
                    "Pack a unit and hand it over (releasing and receiving party); only units of a released lot",
                    Some("ShipmentRequest"),
                    &[("201", "The custody events appended"), ("422", "The unit may not be shipped (the field is named)")],
                ),
            )],
        )
        .route(
            "/units/{id}/custody",
            get(units::get_custody),
            read("unit_custody", "A unit's custody log, where it is, its holds, and whether it may be shipped"),
        )
        .route(
            "/units/{id}/temperature-log",
            post(units::post_temperature_log),
            vec![(
                HttpMethod::Post,
                csv_body(super::with_query(
                    operation(
                        TAG,
                        "upload_temperature_log",
                        "Upload a temperature log (text/csv time,celsius or JSON); excursions put the affected units on hold",
                        Some("TemperatureLogRequest"),
                        &[("201", "The log, its excursions and the holds opened"), ("415", "Neither CSV nor JSON"), ("422", "Malformed lines (line and column named)")],
                    ),
                    vec![
                        super::q("also_unit_ids", utoipa::openapi::schema::Type::String, "With a CSV body: other units in the same shipper, comma-separated ids"),
                        super::q("recorded_at", utoipa::openapi::schema::Type::String, "With a CSV body: when the log was read out (RFC 3339)"),
                    ],
                )),
            )],
        )
        .route(
            "/specifications",
            get(specs::list_specifications),
            read("list_specifications", "The specification catalogue (versioned data under specs/)"),
        )
        .route(
            "/specifications/{key}",
            get(specs::get_specification),
            read("get_specification", "One specification by id@version (or id for the latest), with its resolved rules"),
        )
        .route(
            "/products/{id}/checklist",
            get(specs::get_product_checklist),
            read("product_checklist", "A product's answers to the JSRM EV guidance and what is still open"),
        )
        .route(
            "/trace/lots/{lot}",
            get(trace::get_lot_trace),
            read("trace_lot", "Look-back: every unit of a lot and every patient who received one, with adverse events"),
        )
        .route(
            "/trace/adverse-events/{id}",
            get(trace::get_event_trace),
            read("trace_adverse_event", "Trace-back: from an adverse event to unit, lot, QC, deviations, retained samples, banks, collection and donor"),
        )
}
