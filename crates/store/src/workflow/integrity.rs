//! Tamper evidence for the whole registry, not only for its log.
//!
//! The audit chain proves the log was not edited: each entry holds the hash of the one
//! before. But a row changed directly in the database leaves the log intact. So every
//! record's current row is also checked against its history: the row must exist for
//! every record the log created, its version must count the changes the log records,
//! its content must equal what the latest change recorded (or, for a withdrawal, what
//! it withdrew), and a record the log never saw must not exist. Both walks stream in
//! pages — constant memory whatever the registry's size.
//!
//! What the audit trail leaves out (password hashes, second-factor secrets) cannot be
//! checked against it; everything it shows is.

use crate::backend::{AuditQuery, ListQuery};
use crate::error::StoreError;
use crate::store::Store;
use crate::tables::{KindOps, kinds};
use saisei_domain::audit::{AuditAction, AuditEntry, ChainVerifier};
use serde_json::Value as Json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Rows and entries read per statement.
const PAGE: u32 = 1000;

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The audit chain is broken at this entry.
    Chain {
        /// The entry's sequence number.
        seq: i64,
        /// What is wrong with it.
        problem: String,
    },
    /// A record's row does not match its history.
    Record {
        /// The table.
        table: &'static str,
        /// The record.
        id: Uuid,
        /// The field that differs (`version`, `withdrawn_at`, a data field, or `row`).
        field: String,
        /// What differs.
        problem: String,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Chain { seq, problem } => write!(f, "audit entry {seq}: {problem}"),
            Finding::Record {
                table,
                id,
                field,
                problem,
            } => write!(f, "{table} {id}, field {field}: {problem}"),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Audit entries verified.
    pub entries: u64,
    /// Records verified against their history.
    pub records: u64,
    /// The first problem, if any.
    pub finding: Option<Finding>,
}

/// How many rows the record walk will visit (for a progress bar).
pub async fn records_to_verify(store: &Store) -> Result<u64, StoreError> {
    let mut n = 0;
    for k in kinds().into_iter().filter(|k| k.audited) {
        n += store.backend().count(k.table, &[], true).await?;
    }
    Ok(n)
}

/// Verifies the audit chain, then every audited record against it. `progress` is
/// called with the number of records verified so far.
pub async fn verify(store: &Store, mut progress: impl FnMut(u64)) -> Result<Verdict, StoreError> {
    let mut verdict = Verdict::default();
    let mut chain = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = store
            .audit(&AuditQuery {
                after_seq: after,
                limit: PAGE,
                ..Default::default()
            })
            .await?;
        for e in &page {
            if let Err(broken) = chain.check(e) {
                verdict.entries = chain.verified() as u64;
                verdict.finding = Some(Finding::Chain {
                    seq: e.seq,
                    problem: broken.to_string(),
                });
                return Ok(verdict);
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = last.seq,
            _ => break,
        }
    }
    verdict.entries = chain.verified() as u64;
    for kind in kinds().into_iter().filter(|k| k.audited) {
        if let Some(f) = verify_kind(store, kind, &mut verdict.records, &mut progress).await? {
            verdict.finding = Some(f);
            return Ok(verdict);
        }
    }
    Ok(verdict)
}

/// Reads one kind's audit entries in record order, a page at a time.
struct History<'a> {
    store: &'a Store,
    entity: &'static str,
    buffer: std::collections::VecDeque<AuditEntry>,
    after: (Uuid, i64),
    done: bool,
}

impl History<'_> {
    async fn peek_id(&mut self) -> Result<Option<Uuid>, StoreError> {
        if self.buffer.is_empty() && !self.done {
            let page = self
                .store
                .backend()
                .audit_history(self.entity, self.after, PAGE)
                .await?;
            self.done = page.len() < PAGE as usize;
            if let Some(last) = page.last() {
                self.after = (last.entity_id.unwrap_or_default(), last.seq);
            }
            self.buffer.extend(page);
        }
        Ok(self.buffer.front().and_then(|e| e.entity_id))
    }

    /// Every entry of record `id` (the next one in order).
    async fn take(&mut self, id: Uuid) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        while self.peek_id().await? == Some(id) {
            if let Some(e) = self.buffer.pop_front() {
                out.push(e);
            }
        }
        Ok(out)
    }
}

async fn verify_kind(
    store: &Store,
    kind: KindOps,
    verified: &mut u64,
    progress: &mut impl FnMut(u64),
) -> Result<Option<Finding>, StoreError> {
    let table = kind.table;
    let mut history = History {
        store,
        entity: table.entity,
        buffer: Default::default(),
        after: (Uuid::nil(), 0),
        done: false,
    };
    let mut after_row = None;
    loop {
        let rows = store
            .backend()
            .list(
                table,
                &ListQuery {
                    filters: Vec::new(),
                    after: after_row,
                    limit: PAGE,
                    include_withdrawn: true,
                    order: None,
                },
            )
            .await?;
        let last_page = rows.len() < PAGE as usize;
        after_row = rows.last().map(|r| r.meta.id);
        for row in rows {
            let id = row.meta.id;
            // History of records before this one in order, with no row: deleted.
            while let Some(earlier) = history.peek_id().await?
                && earlier < id
            {
                let entries = history.take(earlier).await?;
                if entries.iter().any(|e| e.action.changes_record()) {
                    return Ok(Some(record(
                        table.name,
                        earlier,
                        "row",
                        "the audit trail records this record, but its row is gone",
                    )));
                }
            }
            let entries: Vec<AuditEntry> = history
                .take(id)
                .await?
                .into_iter()
                .filter(|e| e.action.changes_record())
                .collect();
            if let Some(f) = check_row(kind, row, &entries)? {
                return Ok(Some(f));
            }
            *verified += 1;
            if verified.is_multiple_of(1000) {
                progress(*verified);
            }
        }
        if last_page {
            break;
        }
    }
    while let Some(id) = history.peek_id().await? {
        let entries = history.take(id).await?;
        if entries.iter().any(|e| e.action.changes_record()) {
            return Ok(Some(record(
                table.name,
                id,
                "row",
                "the audit trail records this record, but its row is gone",
            )));
        }
    }
    progress(*verified);
    Ok(None)
}

fn record(table: &'static str, id: Uuid, field: &str, problem: &str) -> Finding {
    Finding::Record {
        table,
        id,
        field: field.to_string(),
        problem: problem.to_string(),
    }
}

/// One row against the changes its history records.
fn check_row(
    kind: KindOps,
    row: crate::Row,
    changes: &[AuditEntry],
) -> Result<Option<Finding>, StoreError> {
    let (table, id) = (kind.table.name, row.meta.id);
    let Some(last) = changes.last() else {
        return Ok(Some(record(
            table,
            id,
            "row",
            "the row exists but the audit trail never recorded it",
        )));
    };
    if row.meta.version != changes.len() as i64 {
        return Ok(Some(record(
            table,
            id,
            "version",
            &format!(
                "the row is at version {}, the audit trail records {} changes",
                row.meta.version,
                changes.len()
            ),
        )));
    }
    let withdrawn = last.action == AuditAction::Withdraw;
    if withdrawn != row.meta.withdrawn_at.is_some() {
        return Ok(Some(record(
            table,
            id,
            "withdrawn_at",
            if withdrawn {
                "the audit trail records a withdrawal the row does not show"
            } else {
                "the row is withdrawn but the audit trail records no withdrawal"
            },
        )));
    }
    // The record as its trail tells it: the creation's content, then each change.
    let recorded = changes.iter().fold(None, |content, e| {
        saisei_domain::audit::apply_entry(content, e)
    });
    let Some(recorded) = recorded.as_ref() else {
        return Ok(Some(record(
            table,
            id,
            "row",
            "the audit trail holds no content for it",
        )));
    };
    let current = match (kind.audit_view)(row) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Some(record(
                table,
                id,
                "row",
                &format!("the row does not read back as a valid record: {e}"),
            )));
        }
    };
    Ok(first_difference(recorded, &current, "")
        .map(|(field, problem)| record(table, id, &field, &problem)))
}

/// The first place two JSON values differ, by path. Absent and null are the same, and
/// two timestamps are the same instant whatever offset they were written with.
fn first_difference(recorded: &Json, current: &Json, path: &str) -> Option<(String, String)> {
    let here = |p: &str| {
        if p.is_empty() {
            "row".to_string()
        } else {
            p.to_string()
        }
    };
    match (recorded, current) {
        (Json::Object(a), Json::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (x, y) = (
                    a.get(k).unwrap_or(&Json::Null),
                    b.get(k).unwrap_or(&Json::Null),
                );
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if let Some(d) = first_difference(x, y, &p) {
                    return Some(d);
                }
            }
            None
        }
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                return Some((
                    here(path),
                    format!(
                        "the audit trail records {} items, the row holds {}",
                        a.len(),
                        b.len()
                    ),
                ));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| first_difference(x, y, &format!("{}[{i}]", here(path))))
        }
        (Json::Number(x), Json::Number(y)) if x.as_f64() == y.as_f64() => None,
        (Json::String(x), Json::String(y)) if x == y || same_instant(x, y) => None,
        (x, y) if x == y => None,
        (x, y) => Some((
            here(path),
            format!(
                "the audit trail records {}, the row holds {}",
                short(x),
                short(y)
            ),
        )),
    }
}

/// Whether two texts are timestamps of the same instant (to the microsecond both
/// databases keep).
fn same_instant(a: &str, b: &str) -> bool {
    match (
        OffsetDateTime::parse(a, &Rfc3339),
        OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(x), Ok(y)) => (x - y).abs() < time::Duration::microseconds(1),
        _ => false,
    }
}

fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_are_found_by_path_and_instants_compare_as_instants() {
        let a = json!({"grade": 2, "at": "2025-01-27T10:00:00+09:00", "x": null, "list": [1, {"y": "a"}]});
        let b = json!({"grade": 2.0, "at": "2025-01-27T01:00:00Z", "list": [1, {"y": "a"}]});
        assert_eq!(first_difference(&a, &b, ""), None);
        let c = json!({"grade": 5, "at": "2025-01-27T01:00:00Z", "list": [1, {"y": "b"}]});
        assert_eq!(first_difference(&a, &c, "").unwrap().0, "grade");
        let d = json!({"grade": 2, "at": "2025-01-27T01:00:00Z", "list": [1, {"y": "b"}]});
        assert_eq!(first_difference(&a, &d, "").unwrap().0, "list[1].y");
    }
}
