//! What every handler can reach: the store and the server's configuration.

use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::regulation::RuleBook;
use saisei_store::Store;
use std::sync::Arc;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The registry's storage.
    pub store: Store,
    /// The key patient pseudonyms are made with; `None` when not configured, in which
    /// case registering patients is refused.
    pub pseudonym_key: Option<Arc<PseudonymKey>>,
    /// The regulatory rule sets (embedded at build, validated at start-up).
    pub rules: &'static RuleBook,
}

impl AppState {
    /// State over a store, with the embedded rule sets.
    pub fn new(
        store: Store,
        pseudonym_key: Option<PseudonymKey>,
        rules: &'static RuleBook,
    ) -> Self {
        AppState {
            store,
            pseudonym_key: pseudonym_key.map(Arc::new),
            rules,
        }
    }
}
