//! `saisei audit verify` checks records, not only the log: an adverse event edited,
//! a record deleted or one inserted directly in the database is named by table, id and
//! field. Before, only edits of the audit log itself were caught.

use saisei_store::{ColumnType, Value};
use std::process::Command;

fn verify(db: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_saisei"))
        .args(["audit", "verify", "--db", db])
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

async fn tamper(db: &str, statement: &str, id: uuid::Uuid) {
    let store = saisei_server::database::connect(db, false).await.unwrap();
    store
        .backend()
        .execute(statement, &[(Value::Uuid(id), ColumnType::Uuid)])
        .await
        .unwrap();
    store.backend().close().await;
}

#[tokio::test]
async fn audit_verify_passed_records_edited_in_the_database_sqlite() {
    let dir = std::env::temp_dir().join(format!("saisei-integrity-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("demo.db");
    tampering_is_found(path.to_str().unwrap()).await;
}

#[tokio::test]
async fn audit_verify_passed_records_edited_in_the_database_postgres() {
    if let Some((db, _)) = crate::durability::postgres_schema().await {
        tampering_is_found(&db).await;
    }
}

async fn tampering_is_found(db: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_saisei"))
        .args(["demo", "--no-serve", "--db", db, "--patients", "40"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, text) = verify(db);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("records match their history"), "{text}");
    let store = saisei_server::database::connect(db, false).await.unwrap();
    let ae = store
        .all::<saisei_domain::registry::AdverseEvent>(vec![])
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let patient = store
        .all::<saisei_domain::registry::Patient>(vec![])
        .await
        .unwrap()
        .into_iter()
        .last()
        .unwrap();
    store.backend().close().await;
    // An adverse event's grade changed behind the application's back.
    tamper(
        db,
        "UPDATE adverse_events SET grade = 1 + (grade % 4) WHERE id = $1",
        ae.meta.id,
    )
    .await;
    let (code, text) = verify(db);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("adverse_events {}, field grade", ae.meta.id)),
        "{text}"
    );
    let grade = ae.data.grade.map(|g| g.get() as i64).unwrap_or(1);
    tamper(
        db,
        &format!("UPDATE adverse_events SET grade = {grade} WHERE id = $1"),
        ae.meta.id,
    )
    .await;
    assert_eq!(verify(db).0, 0, "restored");
    // A withdrawal nobody recorded.
    tamper(
        db,
        "UPDATE patients SET withdrawn_at = '2026-01-01T00:00:00Z' WHERE id = $1",
        patient.meta.id,
    )
    .await;
    let (code, text) = verify(db);
    assert_eq!(code, 1);
    assert!(text.contains("field withdrawn_at"), "{text}");
    tamper(
        db,
        "UPDATE patients SET withdrawn_at = NULL WHERE id = $1",
        patient.meta.id,
    )
    .await;
    // A record deleted outright.
    tamper(db, "DELETE FROM adverse_events WHERE id = $1", ae.meta.id).await;
    let (code, text) = verify(db);
    assert_eq!(code, 1);
    assert!(text.contains("its row is gone"), "{text}");
}
