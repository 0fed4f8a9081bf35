//! The registry records an evaluation reads: defined in the domain so that the store
//! can load them without depending on this crate.

pub use saisei_domain::evaluation::RegistryData;
