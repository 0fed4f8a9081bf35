//! What every handler can reach: the store, the configuration, the clock.

use saisei_domain::auth::secrets::SecretKey;
use saisei_domain::auth::throttle::ThrottleTable;
use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::regulation::RuleBook;
use saisei_store::Store;
use saisei_store::workflow::auth::{Attempt, AuthPolicy, CredentialCheck, new_throttle};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// The key second-factor secrets are sealed with; `None` when not configured, in
    /// which case users cannot be created and one-time codes cannot be checked.
    pub secret_key: Option<Arc<SecretKey>>,
    /// The regulatory rule sets (embedded at build, validated at start-up).
    pub rules: &'static RuleBook,
    /// Throttling, session and token lifetimes.
    pub auth: AuthPolicy,
    /// Recent sign-in failures, which slow the next attempts.
    pub throttle: Arc<Mutex<ThrottleTable>>,
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
        let auth = AuthPolicy::default();
        AppState {
            store,
            pseudonym_key: pseudonym_key.map(Arc::new),
            secret_key: None,
            rules,
            throttle: Arc::new(new_throttle(&auth)),
            auth,
            clock: Arc::new(Clock::default()),
        }
    }

    /// The same state with the key that seals second-factor secrets (checked against
    /// the database by `saisei_store::workflow::auth::check_secret_key` at start-up).
    pub fn with_secret_key(mut self, key: Option<SecretKey>) -> Self {
        self.secret_key = key.map(Arc::new);
        self
    }

    /// The secret key, if configured.
    pub fn key(&self) -> Option<&SecretKey> {
        self.secret_key.as_deref()
    }

    /// What a check of credentials from `address` needs, now.
    pub fn credential_check(&self, address: Option<IpAddr>) -> CredentialCheck<'_> {
        CredentialCheck {
            key: self.key(),
            attempt: Attempt {
                throttle: &self.throttle,
                address,
            },
            now: self.clock.now(),
        }
    }
}
