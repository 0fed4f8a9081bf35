//! Registry workflows: changes that touch several records or apply regulatory rules,
//! each committed as one transaction with its audit entries.

pub mod adjudication;
pub mod auth;
pub mod deadlines;
pub mod evaluation;
pub mod integrity;
pub mod plan;
pub mod quality;
pub mod reports;
pub mod treatment;
pub mod what_if;

pub use plan::{TransitionRequest, transition_plan};
pub use treatment::{record_administration, record_treatment};
