//! The storage layer every other part of Saisei uses.
//!
//! It defines the [`Backend`] contract a database must fulfil, the catalogue of record
//! kinds (each kind's [`Stored`] impl declares its table, access class, API exposure and
//! unique keys; columns are derived from the type, see [`schema`] and [`tables`]), the
//! typed [`Store`] façade (validation, references, audit in the same transaction), the
//! registry's workflows ([`workflow`]: the one function the API, the pages and the CLI
//! each call for a job), the dialect-neutral statement text ([`sql`]) and one
//! conformance suite that every backend runs.
//!
//! It must never hold a database driver or dialect-specific SQL (those are the backend
//! crates'), know about HTTP, or compute a statistic (the evidence engine is reached
//! through [`saisei_domain::evaluation::EvidenceEngine`]).

pub mod backend;
pub mod blocking;
pub mod conformance;
pub mod derive;
pub mod error;
pub mod schema;
pub mod sql;
pub mod store;
pub mod tables;
pub mod value;
pub mod workflow;

pub use backend::{
    AuditQuery, Backend, Filter, FilterOp, ListQuery, Order, Row, Step, WriteBatch, WriteOp,
    seal_all, steps,
};
pub use error::StoreError;
pub use schema::{
    AccessClass, Api, Col, KindDecl, Reference, ScopeColumn, Stored, TableDef, TableRef,
};
pub use store::{Batch, Page, Store};
pub use value::{ColumnType, Value};
