//! Sign-in throttling: growing delays after failures, counted per account and client
//! address together, per address, and per account — never a hard lock.
//!
//! A lock-out after a fixed number of failures lets anyone who knows a clinician's
//! address lock them out. Here failures only make the *next* attempt wait, and the
//! wait that matters most is counted per account *and* address: a stranger elsewhere
//! slows themselves, not the clinician at their own desk. An address trying many
//! accounts is slowed on its own count; an account attacked from many addresses is
//! slowed on the account's count, with a short ceiling so it never amounts to a lock.
//! Keys are made from the e-mail as typed (normalised), never from whether an account
//! exists, so a real account and an unknown one are throttled alike.
//!
//! Pure bookkeeping over instants; the server keeps the table in memory.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// When one kind of count starts to slow attempts, and how far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// Failures allowed without any wait.
    pub free: u32,
    /// The wait after the first failure beyond those; it doubles with each further one.
    pub base: Duration,
    /// The longest wait.
    pub ceiling: Duration,
    /// A count is forgotten this long after its last failure.
    pub forget_after: Duration,
}

impl ThrottleRule {
    /// The wait imposed after `failures` consecutive failures.
    pub fn wait_after(&self, failures: u32) -> Duration {
        if failures <= self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free - 1).min(30);
        let wait = self.base * 2f64.powi(doublings as i32);
        if wait > self.ceiling {
            self.ceiling
        } else {
            wait
        }
    }
}

/// The three counts a sign-in attempt touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// One account from one address: the strict count.
    pub account_at_address: ThrottleRule,
    /// One address, whatever accounts it tries: stops password spraying.
    pub address: ThrottleRule,
    /// One account from any address: slows a distributed attack, never locks.
    pub account: ThrottleRule,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            account_at_address: ThrottleRule {
                free: 3,
                base: Duration::seconds(2),
                ceiling: Duration::minutes(15),
                forget_after: Duration::hours(1),
            },
            address: ThrottleRule {
                free: 20,
                base: Duration::seconds(2),
                ceiling: Duration::minutes(15),
                forget_after: Duration::hours(1),
            },
            account: ThrottleRule {
                free: 20,
                base: Duration::seconds(1),
                ceiling: Duration::seconds(30),
                forget_after: Duration::hours(1),
            },
        }
    }
}

/// One count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Count {
    failures: u32,
    last_failure: OffsetDateTime,
    next_allowed: OffsetDateTime,
}

/// Which count a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    AccountAtAddress,
    Address,
    Account,
}

/// The keys of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKeys {
    account: String,
    address: Option<String>,
}

impl AttemptKeys {
    /// The keys for an e-mail as typed and the client's address (if known).
    pub fn new(email: &str, address: Option<IpAddr>) -> Self {
        let normalised = email.trim().to_lowercase();
        let digest = Sha256::digest(normalised.as_bytes());
        AttemptKeys {
            account: crate::pseudonym::hex(&digest),
            address: address.map(|a| a.to_string()),
        }
    }

    fn all(&self) -> Vec<(Kind, String)> {
        let mut keys = vec![(Kind::Account, self.account.clone())];
        if let Some(a) = &self.address {
            keys.push((Kind::AccountAtAddress, format!("{}@{a}", self.account)));
            keys.push((Kind::Address, a.clone()));
        }
        keys
    }
}

/// The counts, bounded in size.
#[derive(Debug)]
pub struct ThrottleTable {
    policy: ThrottlePolicy,
    capacity: usize,
    counts: HashMap<(Kind, String), Count>,
}

impl ThrottleTable {
    /// An empty table holding at most `capacity` counts (the oldest are dropped first).
    pub fn new(policy: ThrottlePolicy, capacity: usize) -> Self {
        ThrottleTable {
            policy,
            capacity: capacity.max(16),
            counts: HashMap::new(),
        }
    }

    fn rule(&self, kind: Kind) -> ThrottleRule {
        match kind {
            Kind::AccountAtAddress => self.policy.account_at_address,
            Kind::Address => self.policy.address,
            Kind::Account => self.policy.account,
        }
    }

    /// How long the attempt must still wait, if at all. Counts of the account that
    /// predate `cleared_at` (an administrator's unlock) are ignored.
    pub fn wait(
        &self,
        keys: &AttemptKeys,
        now: OffsetDateTime,
        cleared_at: Option<OffsetDateTime>,
    ) -> Option<Duration> {
        let mut longest = Duration::ZERO;
        for key in keys.all() {
            let Some(c) = self.counts.get(&key) else {
                continue;
            };
            let cleared = key.0 != Kind::Address && cleared_at.is_some_and(|t| c.last_failure <= t);
            if cleared || now - c.last_failure > self.rule(key.0).forget_after {
                continue;
            }
            if c.next_allowed > now && c.next_allowed - now > longest {
                longest = c.next_allowed - now;
            }
        }
        (longest > Duration::ZERO).then_some(longest)
    }

    /// Counts a failed attempt.
    pub fn failed(
        &mut self,
        keys: &AttemptKeys,
        now: OffsetDateTime,
        cleared_at: Option<OffsetDateTime>,
    ) {
        for key in keys.all() {
            let rule = self.rule(key.0);
            let previous = self.counts.get(&key).copied().filter(|c| {
                now - c.last_failure <= rule.forget_after
                    && !(key.0 != Kind::Address && cleared_at.is_some_and(|t| c.last_failure <= t))
            });
            let failures = previous.map_or(0, |c| c.failures).saturating_add(1);
            self.counts.insert(
                key,
                Count {
                    failures,
                    last_failure: now,
                    next_allowed: now + rule.wait_after(failures),
                },
            );
        }
        self.prune(now);
    }

    /// Forgets the account's counts after a successful sign-in (the address keeps its
    /// own, so an attacker cannot clear it by signing in to an account of their own).
    pub fn succeeded(&mut self, keys: &AttemptKeys) {
        for key in keys.all() {
            if key.0 != Kind::Address {
                self.counts.remove(&key);
            }
        }
    }

    /// Forgets every count of an account (an administrator's unlock).
    pub fn clear_account(&mut self, email: &str) {
        let account = AttemptKeys::new(email, None).account;
        self.counts
            .retain(|(kind, key), _| *kind == Kind::Address || !key.starts_with(&account));
    }

    /// How many counts are held.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no count is held.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    fn prune(&mut self, now: OffsetDateTime) {
        if self.counts.len() <= self.capacity {
            return;
        }
        let policy = self.policy;
        self.counts.retain(|(kind, _), c| {
            let rule = match kind {
                Kind::AccountAtAddress => policy.account_at_address,
                Kind::Address => policy.address,
                Kind::Account => policy.account,
            };
            now - c.last_failure <= rule.forget_after || c.next_allowed > now
        });
        // Still full (a flood of distinct keys within the hour): drop the oldest half.
        if self.counts.len() > self.capacity {
            let mut ages: Vec<OffsetDateTime> =
                self.counts.values().map(|c| c.last_failure).collect();
            ages.sort();
            let cut = ages[ages.len() / 2];
            self.counts.retain(|_, c| c.last_failure > cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn keys(email: &str, ip: &str) -> AttemptKeys {
        AttemptKeys::new(email, Some(ip.parse().unwrap()))
    }

    #[test]
    fn waits_grow_and_stop_at_the_ceiling() {
        let r = ThrottlePolicy::default().account_at_address;
        assert_eq!(r.wait_after(3), Duration::ZERO);
        assert_eq!(r.wait_after(4), Duration::seconds(2));
        assert_eq!(r.wait_after(5), Duration::seconds(4));
        assert_eq!(r.wait_after(6), Duration::seconds(8));
        assert_eq!(r.wait_after(40), Duration::minutes(15));
    }

    #[test]
    fn a_stranger_elsewhere_does_not_lock_the_owner_out() {
        let mut t = ThrottleTable::new(ThrottlePolicy::default(), 1000);
        let now = datetime!(2026-01-01 09:00 UTC);
        let stranger = keys("dr@clinic.example", "203.0.113.9");
        for i in 0..200 {
            let at = now + Duration::seconds(i);
            t.failed(&stranger, at, None);
        }
        let later = now + Duration::seconds(200);
        assert!(t.wait(&stranger, later, None).unwrap() > Duration::minutes(10));
        let owner = keys("dr@clinic.example", "192.0.2.10");
        let wait = t.wait(&owner, later, None).unwrap_or(Duration::ZERO);
        assert!(
            wait <= Duration::seconds(30),
            "the owner waits at most the account ceiling: {wait}"
        );
    }

    #[test]
    fn unknown_and_real_accounts_are_counted_alike_and_forgotten() {
        let mut t = ThrottleTable::new(ThrottlePolicy::default(), 1000);
        let now = datetime!(2026-01-01 09:00 UTC);
        let k = keys("nobody@nowhere.example", "198.51.100.1");
        for _ in 0..5 {
            t.failed(&k, now, None);
        }
        assert_eq!(t.wait(&k, now, None), Some(Duration::seconds(4)));
        assert_eq!(t.wait(&k, now + Duration::hours(2), None), None);
        // An administrator's unlock clears the account's counts.
        assert_eq!(t.wait(&k, now, Some(now)), None);
        t.clear_account("NOBODY@nowhere.example ");
        assert!(t.len() == 1, "the address count stays");
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let mut t = ThrottleTable::new(ThrottlePolicy::default(), 1000);
        let now = datetime!(2026-01-01 09:00 UTC);
        let k = keys("a@b.example", "198.51.100.1");
        for _ in 0..25 {
            t.failed(&k, now, None);
        }
        t.succeeded(&k);
        let other = keys("c@d.example", "198.51.100.1");
        assert!(
            t.wait(&other, now, None).is_some(),
            "the address is still slowed"
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut t = ThrottleTable::new(ThrottlePolicy::default(), 100);
        let now = datetime!(2026-01-01 09:00 UTC);
        for i in 0..10_000 {
            t.failed(
                &keys(&format!("u{i}@x.example"), "198.51.100.7"),
                now + Duration::milliseconds(i),
                None,
            );
        }
        assert!(t.len() <= 201, "{}", t.len());
    }
}
