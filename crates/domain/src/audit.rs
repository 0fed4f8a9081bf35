//! The tamper-evident audit trail: entries chained by SHA-256.
//!
//! Each entry carries the hash of the entry before it and its own hash over a canonical
//! encoding of its content (JSON with object keys sorted, no insignificant white space,
//! timestamps as RFC 3339 UTC with nanoseconds). Changing, removing or reordering any
//! entry breaks every hash after it, which [`verify_chain`] finds.

use crate::pseudonym::hex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// The hash the first entry chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A record was created.
    Create,
    /// A record was changed.
    Update,
    /// A record was withdrawn (records are never deleted).
    Withdraw,
    /// A workflow moved a record (plan transition, lot release…).
    Transition,
    /// Data left the system (export, report).
    Export,
    /// Someone signed in.
    SignIn,
    /// A sign-in failed.
    SignInFailed,
    /// Someone signed out.
    SignOut,
    /// A user's role or permissions changed.
    PermissionChange,
    /// An electronic signature was applied.
    Sign,
    /// The key sealing stored secrets was replaced.
    KeyRotation,
}

impl AuditAction {
    /// Whether an entry of this action records a change of the row it names (and so
    /// holds the row's content): everything but exports, sign-outs and failed sign-ins,
    /// which are events about a record, not changes to it.
    pub fn changes_record(self) -> bool {
        !matches!(
            self,
            AuditAction::Export | AuditAction::SignOut | AuditAction::SignInFailed
        )
    }

    /// The action's wire name.
    pub fn as_str(self) -> &'static str {
        use AuditAction::*;
        match self {
            Create => "create",
            Update => "update",
            Withdraw => "withdraw",
            Transition => "transition",
            Export => "export",
            SignIn => "sign_in",
            SignInFailed => "sign_in_failed",
            SignOut => "sign_out",
            PermissionChange => "permission_change",
            Sign => "sign",
            KeyRotation => "key_rotation",
        }
    }
}

/// Who acted, as the audit trail records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditActor {
    /// The user's id or a system name such as `system:demo`.
    pub actor: String,
    /// The role they acted in.
    pub role: String,
    /// The organisation they acted for, if any.
    pub organisation_id: Option<Uuid>,
}

impl AuditActor {
    /// An actor for work done by Saisei itself (seeding, migrations, scheduled jobs).
    pub fn system(name: &str) -> Self {
        AuditActor {
            actor: format!("system:{name}"),
            role: "system".into(),
            organisation_id: None,
        }
    }
}

/// An entry before it is placed in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditDraft {
    /// Who.
    pub actor: AuditActor,
    /// What.
    pub action: AuditAction,
    /// Which kind of record (`patient`, `lot`…).
    pub entity: String,
    /// Which record, if one.
    pub entity_id: Option<Uuid>,
    /// The record before the change.
    pub before: Option<Value>,
    /// The record after the change.
    pub after: Option<Value>,
    /// Why, when a reason was required or given.
    pub reason: Option<String>,
}

/// An entry in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// For which organisation.
    pub organisation_id: Option<Uuid>,
    /// What.
    pub action: AuditAction,
    /// Which kind of record.
    pub entity: String,
    /// Which record.
    pub entity_id: Option<Uuid>,
    /// Before the change.
    pub before: Option<Value>,
    /// After the change.
    pub after: Option<Value>,
    /// Why.
    pub reason: Option<String>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// SHA-256 over this entry's canonical encoding, hex.
    pub hash: String,
}

impl AuditDraft {
    /// Places the draft after the entry with `prev_seq` and `prev_hash`.
    pub fn seal(self, prev_seq: i64, prev_hash: &str, at: OffsetDateTime) -> AuditEntry {
        let mut entry = AuditEntry {
            seq: prev_seq + 1,
            at,
            actor: self.actor.actor,
            role: self.actor.role,
            organisation_id: self.actor.organisation_id,
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
            before: self.before,
            after: self.after,
            reason: self.reason,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }
}

impl AuditEntry {
    /// The hash this entry should carry, from its content and its predecessor's hash.
    pub fn compute_hash(&self) -> String {
        let at = self
            .at
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_default();
        let content = serde_json::json!({
            "seq": self.seq,
            "at": at,
            "actor": self.actor,
            "role": self.role,
            "organisation_id": self.organisation_id,
            "action": self.action.as_str(),
            "entity": self.entity,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
        });
        let mut hasher = Sha256::new();
        hasher.update(canonical_json(&content).as_bytes());
        hex(&hasher.finalize())
    }
}

/// A created record's content as the trail keeps it: a field that is null says nothing
/// a missing one would not (readers treat the two alike), so nulls at the top level are
/// left out.
pub fn without_nulls(content: Value) -> Value {
    match content {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

/// What a change records: the fields whose values differ, as they were and as they
/// became (a field that went away becomes null). The trail of a record is its creation's
/// content followed by these differences, so each entry still says who changed what from
/// what to what, without copying the fields that stayed as they were. Content that is
/// not an object is kept whole.
pub fn changed_fields(before: Value, after: Value) -> (Value, Value) {
    match (before, after) {
        (Value::Object(mut was), Value::Object(mut now)) => {
            let mut keys: Vec<String> = was.keys().chain(now.keys()).cloned().collect();
            keys.sort();
            keys.dedup();
            let (mut from, mut to) = (serde_json::Map::new(), serde_json::Map::new());
            for k in keys {
                let a = was.remove(&k).unwrap_or(Value::Null);
                let b = now.remove(&k).unwrap_or(Value::Null);
                if a != b {
                    from.insert(k.clone(), a);
                    to.insert(k, b);
                }
            }
            (Value::Object(from), Value::Object(to))
        }
        (before, after) => (before, after),
    }
}

/// A record's content after `entry`, from its content before (`None` before its
/// creation): a creation's content, the content with the changed fields replaced, or
/// the content unchanged (a withdrawal records no content). An entry written before
/// changes were recorded as differences holds the whole record, which replaces every
/// field just the same.
pub fn apply_entry(content: Option<Value>, entry: &AuditEntry) -> Option<Value> {
    match (content, &entry.after) {
        (content, None) => content,
        (Some(Value::Object(mut fields)), Some(Value::Object(changes)))
            if entry.action != AuditAction::Create =>
        {
            for (k, v) in changes {
                fields.insert(k.clone(), v.clone());
            }
            Some(Value::Object(fields))
        }
        (_, Some(after)) => Some(after.clone()),
    }
}

/// JSON with object keys sorted and no white space: the same value always encodes to the
/// same bytes, whatever map ordering the parser used.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Number(n) => match n.as_f64() {
            // One number, one spelling: 49, 49.0 and 4.9e1 all encode as 49, whichever
            // form a database handed back, so hashes survive a round trip through jsonb.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                out.push_str(&format!("{}", f as i64))
            }
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

/// SHA-256 of a value's canonical encoding, hex: what an e-signature binds to.
pub fn content_hash(value: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(canonical_json(value).as_bytes());
    hex(&hasher.finalize())
}

/// Where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// Sequence numbers skip or repeat.
    #[error("entry {found}: expected sequence number {expected}")]
    Sequence {
        /// The sequence number expected.
        expected: i64,
        /// The one found.
        found: i64,
    },
    /// An entry does not point at its predecessor's hash.
    #[error("entry {seq}: prev_hash does not match the hash of entry {}", seq - 1)]
    Link {
        /// The entry.
        seq: i64,
    },
    /// An entry's content does not match its hash.
    #[error("entry {seq}: content does not match its hash (altered)")]
    Content {
        /// The entry.
        seq: i64,
    },
}

/// Incremental verifier, so a long chain can be checked page by page.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry.
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), ChainError> {
        if entry.seq != self.expected_seq {
            return Err(ChainError::Sequence {
                expected: self.expected_seq,
                found: entry.seq,
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainError::Link { seq: entry.seq });
        }
        if entry.compute_hash() != entry.hash {
            return Err(ChainError::Content { seq: entry.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = entry.hash.clone();
        Ok(())
    }

    /// How many entries have been verified.
    pub fn verified(&self) -> i64 {
        self.expected_seq - 1
    }
}

/// Verifies a whole chain held in memory.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<i64, ChainError> {
    let mut v = ChainVerifier::default();
    for e in entries {
        v.check(e)?;
    }
    Ok(v.verified())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let (seq, prev) = out
                .last()
                .map(|e| (e.seq, e.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.to_string()));
            let d = AuditDraft {
                actor: AuditActor::system("test"),
                action: AuditAction::Create,
                entity: "patient".into(),
                entity_id: Some(Uuid::nil()),
                before: None,
                after: Some(json!({"i": i, "b": [1, {"z": 1, "a": 2}]})),
                reason: None,
            };
            out.push(d.seal(seq, &prev, time::macros::datetime!(2024-01-01 00:00 UTC)));
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(5)), Ok(5));
    }

    #[test]
    fn tampering_is_found() {
        let mut c = chain(5);
        c[2].after = Some(json!({"i": 99}));
        assert_eq!(verify_chain(&c), Err(ChainError::Content { seq: 3 }));
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify_chain(&c),
            Err(ChainError::Sequence {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn a_change_records_the_fields_it_changed() {
        let (from, to) = changed_fields(
            json!({"title": "A", "status": "draft", "note": "x", "gone": 1}),
            json!({"title": "B", "status": "draft", "note": null}),
        );
        assert_eq!(from, json!({"title": "A", "note": "x", "gone": 1}));
        assert_eq!(to, json!({"title": "B", "note": null, "gone": null}));
        let (from, to) = changed_fields(json!([1]), json!([2]));
        assert_eq!((from, to), (json!([1]), json!([2])));
    }

    #[test]
    fn a_history_folds_to_the_record() {
        let at = time::macros::datetime!(2024-01-01 00:00 UTC);
        let draft = |action, before, after| AuditDraft {
            actor: AuditActor::system("test"),
            action,
            entity: "plan".into(),
            entity_id: Some(Uuid::nil()),
            before,
            after,
            reason: None,
        };
        let created = draft(
            AuditAction::Create,
            None,
            Some(without_nulls(json!({"title": "A", "note": null, "n": 1}))),
        )
        .seal(0, GENESIS_HASH, at);
        assert_eq!(created.after, Some(json!({"title": "A", "n": 1})));
        let (b, a) = changed_fields(
            json!({"title": "A", "note": null, "n": 1}),
            json!({"title": "B", "note": "why", "n": 1}),
        );
        let changed = draft(AuditAction::Update, Some(b), Some(a)).seal(1, &created.hash, at);
        let withdrawn = draft(AuditAction::Withdraw, None, None).seal(2, &changed.hash, at);
        // An entry from before differences: the whole record.
        let whole = draft(
            AuditAction::Update,
            None,
            Some(json!({"title": "C", "n": 2})),
        )
        .seal(3, &withdrawn.hash, at);
        let mut content = None;
        let mut states = Vec::new();
        for e in [&created, &changed, &withdrawn, &whole] {
            content = apply_entry(content, e);
            states.push(content.clone().unwrap());
        }
        assert_eq!(states[1], json!({"title": "B", "note": "why", "n": 1}));
        assert_eq!(states[2], states[1]);
        assert_eq!(states[3], json!({"title": "C", "note": "why", "n": 2}));
    }

    #[test]
    fn canonical_numbers_have_one_spelling() {
        let a: Value = serde_json::from_str(r#"{"x": 49.0, "y": 1e8, "z": 0.5}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"x": 49, "y": 100000000, "z": 0.5}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn canonical_is_key_order_independent() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":[3,"é"]}}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"x":[3,"é"],"y":2},"b":1}"#);
    }
}
