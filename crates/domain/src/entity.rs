//! What every kind of registry record has in common.

use crate::error::Validate;
use serde::{Serialize, de::DeserializeOwned};

/// A kind of record the registry stores: serialisable, self-validating, documented.
///
/// The store maps each entity to a table and the API to a resource path; both are
/// generic over this trait, so adding an entity means adding its type, its table and
/// its migration, not new plumbing.
pub trait Entity:
    Serialize + DeserializeOwned + Validate + Clone + Send + Sync + utoipa::ToSchema + 'static
{
    /// The singular noun used in audit entries and messages, e.g. `patient`.
    const KIND: &'static str;
    /// Fields a client may not change through a generic update because a workflow
    /// owns them (a plan's status moves only through dated transitions).
    const READ_ONLY: &'static [&'static str] = &[];
}
