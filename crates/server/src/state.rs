//! What every handler can reach: the store, the configuration, the clock.

use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::regulation::RuleBook;
use saisei_store::Store;
use saisei_store::workflow::auth::AuthPolicy;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};

/// The server's sense of time: the system clock, shifted by an offset that tests can
/// move forward (time-based one-time codes and deadlines are then testable without
/// sleeping). In production the offset stays zero.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    /// Now, as the server sees it.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (tests only).
    pub fn advance(&self, by: Duration) {
        self.offset_seconds
            .fetch_add(by.whole_seconds(), Ordering::Relaxed);
    }

    /// Today's civil date in Japan.
    pub fn today_jst(&self) -> time::Date {
        saisei_domain::dates::today_jst(self.now())
    }
}

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
    /// Lock-out, session and token lifetimes.
    pub auth: AuthPolicy,
    /// The clock.
    pub clock: Arc<Clock>,
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
            auth: AuthPolicy::default(),
            clock: Arc::new(Clock::default()),
        }
    }
}
