//! The storage layer every other part of Saisei uses.
//!
//! It defines the [`Backend`] contract a database must fulfil, the map from entities to
//! tables, the typed [`Store`] façade (validation, references, audit in the same
//! transaction), the registry's workflows, and one conformance suite that every backend
//! runs. It holds no SQL and no driver: those live in `saisei-store-sql` and the
//! backend crates.

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
    AuditQuery, Backend, Filter, FilterOp, ListQuery, Row, Step, WriteBatch, WriteOp, seal_all,
    steps,
};
pub use error::StoreError;
pub use schema::{AccessClass, Api, Col, KindDecl, Reference, Stored, TableDef, TableRef};
pub use store::{Batch, Page, Store};
pub use value::{ColumnType, Value};
