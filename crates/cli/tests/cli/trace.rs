//! `saisei trace …` end to end: the built binary on a demo registry (`saisei demo
//! --patients 200`), made once for this test binary. Look-back from a lot reaches the
//! patients and their adverse events; trace-back from an adverse event reaches the donor;
//! the demo's lot stories (rejected, released under a deviation, still quarantined) are
//! visible; bad input exits 2.

use saisei_store::workflow::quality::trace::find_lot;
use saisei_store::{Filter, FilterOp, Value};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

fn saisei(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saisei"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// The demo registry every test reads (written once, never changed).
fn demo_db() -> &'static str {
    static DB: OnceLock<String> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("saisei-cli-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path: PathBuf = dir.join("demo.db");
        let _ = std::fs::remove_file(&path);
        let db = path.to_string_lossy().into_owned();
        let out = saisei(&[
            "demo",
            "--no-serve",
            "--db",
            &db,
            "--patients",
            "200",
            "--seed",
            "7",
        ]);
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        db
    })
}

fn json(args: &[&str]) -> Json {
    let out = saisei(args);
    assert!(
        out.status.success(),
        "saisei {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn text(args: &[&str]) -> String {
    let out = saisei(args);
    assert!(
        out.status.success(),
        "saisei {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An adverse event of a patient who received a unit, with that unit's lot number.
fn event_with_unit(db: &str) -> (String, String, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use saisei_domain::quality::records::ProductUnit;
        use saisei_domain::registry::{AdverseEvent, Treatment};
        let store = saisei_server::database::connect(db, false).await.unwrap();
        let treated = store
            .all::<Treatment>(vec![Filter::new("unit_id", FilterOp::NotNull, Value::Null)])
            .await
            .unwrap();
        assert!(!treated.is_empty(), "the demo links treatments to units");
        for t in &treated {
            let events = store
                .all::<AdverseEvent>(vec![Filter::eq("treatment_id", Value::Uuid(t.id()))])
                .await
                .unwrap();
            if let (Some(ae), Some(unit_id)) = (events.first(), t.data.unit_id) {
                let unit = store.get::<ProductUnit>(unit_id).await.unwrap();
                let lot = find_lot(&store, &unit.data.lot_id.to_string())
                    .await
                    .unwrap();
                let found = (
                    ae.id().to_string(),
                    lot.data.lot_number.to_string(),
                    t.data.patient_id.to_string(),
                );
                store.backend().close().await;
                return found;
            }
        }
        panic!("no adverse event of a unit recipient in the demo");
    })
}

#[test]
fn lot_look_back_lists_units_patients_and_events() {
    let db = demo_db();
    let (ae, lot, patient) = event_with_unit(db);
    let trace = json(&["trace", "lot", &lot, "--db", db, "--json"]);
    assert_eq!(trace["lot"]["lot_number"], lot.as_str());
    assert_eq!(trace["lot"]["status"], "released");
    let recipients: Vec<&Json> = trace["units"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["recipients"].as_array().unwrap())
        .collect();
    let r = recipients
        .iter()
        .find(|r| r["patient_id"] == patient.as_str())
        .expect("the patient is found from the lot");
    assert!(r["administered_on"].is_string());
    assert!(
        r["adverse_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == ae.as_str())
    );
    assert!(trace["totals"]["patients"].as_u64().unwrap() >= 1);
    let report = text(&["trace", "lot", &lot, "--db", db]);
    assert!(report.contains(&format!("Lot {lot}")), "{report}");
    assert!(report.contains("GIVEN ON"), "{report}");
    assert!(report.contains(&patient), "{report}");
}

#[test]
fn event_trace_back_reaches_the_donor() {
    let db = demo_db();
    let (ae, lot, _) = event_with_unit(db);
    let trace = json(&["trace", "event", &ae, "--db", db, "--json"]);
    let origin = &trace["origins"][0];
    let dossier = &origin["lot"];
    assert_eq!(dossier["lot"]["lot_number"], lot.as_str());
    assert!(dossier["qc_results"].as_array().unwrap().len() >= 17);
    assert_eq!(
        dossier["conformance"]["specification"]["id"],
        "example-ucmsc"
    );
    assert!(!dossier["retained_samples"].as_array().unwrap().is_empty());
    let banks: Vec<&str> = dossier["cell_banks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bank_code"].as_str().unwrap())
        .collect();
    assert_eq!(banks, vec!["WCB-UC01-01", "MCB-UC01"]);
    assert_eq!(dossier["collection"]["din"], "W123421000187");
    assert_eq!(dossier["donor"]["eligibility"], "eligible");
    let custody: Vec<&str> = origin["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(custody.first(), Some(&"processing_step"));
    assert_eq!(custody.last(), Some(&"administered"));
    assert!(custody.contains(&"identity_verified"));
    let report = text(&["trace", "event", &ae, "--db", db]);
    for needle in [
        "Adverse event",
        "custody (",
        "MCB-UC01",
        "DIN W123421000187",
        "Donor ",
    ] {
        assert!(report.contains(needle), "{needle} in {report}");
    }
}

#[test]
fn demo_lots_tell_their_stories() {
    let db = demo_db();
    let status =
        |lot: &str| json(&["trace", "lot", lot, "--db", db, "--json"])["lot"]["status"].clone();
    assert_eq!(status("RGK-2205"), "rejected");
    assert_eq!(status("RGK-2307"), "rejected");
    assert_eq!(status("RGK-2301"), "released");
    assert_eq!(status("RGK-2408"), "released");
    assert_eq!(status("RGK-2609"), "quarantined");
    // The lot whose spare units met a temperature excursion: both destroyed.
    let excursion = json(&["trace", "lot", "RGK-2312", "--db", db, "--json"]);
    let spares: Vec<&Json> = excursion["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["unit_number"].as_str().is_some_and(|n| n.contains("-S")))
        .collect();
    assert_eq!(spares.len(), 2, "{excursion}");
    assert!(spares.iter().all(|u| u["phase"] == "destroyed"));
}

#[test]
fn bad_input_exits_2() {
    let db = demo_db();
    for (args, needle) in [
        (
            vec!["trace", "lot", "NO-SUCH-LOT", "--db", db],
            "no lot numbered",
        ),
        (vec!["trace", "event", "not-a-uuid", "--db", db], "AE_ID"),
        (
            vec![
                "trace",
                "event",
                "00000000-0000-7000-8000-000000000000",
                "--db",
                db,
            ],
            "no adverse event",
        ),
        (
            vec!["trace", "lot", "RGK-2201", "--db", "/nonexistent/saisei.db"],
            "does not exist",
        ),
    ] {
        let out = saisei(&args);
        assert_eq!(out.status.code(), Some(2), "saisei {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
}
