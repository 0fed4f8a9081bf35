//! The registry core: organisations, people, plans, patients and what happens to them.

pub mod adverse_event;
pub mod followup;
pub mod observation;
pub mod organisation;
pub mod patient;
pub mod periodic_report;
pub mod plan;
pub mod product;
pub mod treatment;

pub use adverse_event::{AdverseEvent, AeOutcome, Causality, CtcaeGrade, SeriousnessCriterion};
pub use followup::{FollowUpSchedule, PlannedVisit, Repeat, Visit, VisitSpec, VisitStatus};
pub use observation::Observation;
pub use organisation::{Organisation, OrganisationKind, Practitioner, Profession, Qualification};
pub use patient::{
    Arm, BirthYearMonth, Consent, ConsentScope, ControlSource, Enrollment, NewPatient, Patient, Sex,
};
pub use periodic_report::{PeriodicReport, PeriodicReportContent, ReportInput};
pub use plan::{Plan, PlanStatus, PlanTransition};
pub use product::{Approval, ApprovalKind, Modality, Product};
pub use treatment::{Route, Treatment};
