//! One suite of behaviour every backend must show, run by each backend's tests against
//! a fresh database: round trips of every entity, optimistic concurrency, pagination,
//! reference and uniqueness errors, all-or-nothing batches, withdrawal, and an intact
//! audit chain.

use crate::backend::{AuditQuery, Filter, FilterOp, ListQuery};
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor, verify_chain};
use saisei_domain::registry::*;
use serde_json::json;
use uuid::Uuid;

/// Expands to one `#[tokio::test]` per conformance case, each on a fresh store made by
/// `$factory` (an async fn returning `Option<Store>`; `None` skips, for a backend whose
/// server is not configured). `$fill` puts records of every kind into a store (the
/// demo's `every_kind`), for the cases that walk every kind.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:path, $fill:path) => {
        $crate::conformance_suite!($factory);
        #[tokio::test]
        async fn every_kind_round_trips() {
            if let Some(store) = $factory().await {
                $fill(&store).await.expect("records of every kind");
                $crate::conformance::every_kind_round_trips(store).await;
            }
        }
    };
    ($factory:path) => {
        $crate::conformance_suite!(@cases $factory;
            round_trip_every_entity,
            stale_version_conflicts,
            pagination_and_filters,
            ordered_pages,
            references_are_checked,
            unique_values_clash,
            batch_is_all_or_nothing,
            withdrawal_keeps_records,
            audit_chain_is_intact,
            concurrent_writes_commit_alone,
            schema_matches_catalogue
        );
    };
    (@cases $factory:path; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                if let Some(store) = $factory().await {
                    $crate::conformance::$name(store).await;
                }
            }
        )*
    };
}

fn actor() -> AuditActor {
    AuditActor::system("conformance")
}

fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("fixture parses")
}

/// The organisations, physician and plan most cases need.
pub struct Fixture {
    /// A medical institution.
    pub institution: Record<Organisation>,
    /// A specially certified committee.
    pub committee: Record<Organisation>,
    /// A physician of the institution.
    pub physician: Record<Practitioner>,
    /// A draft plan.
    pub plan: Record<Plan>,
}

/// Creates the fixture.
pub async fn fixture(store: &Store) -> Fixture {
    let institution = store
        .create(
            &actor(),
            from_json::<Organisation>(json!({"name": "Kyoto Clinic", "kind": "medical_institution", "prefecture": "京都府"})),
        )
        .await
        .expect("institution");
    let committee = store
        .create(
            &actor(),
            from_json::<Organisation>(
                json!({"name": "特定認定委員会 A", "kind": "specially_certified_committee"}),
            ),
        )
        .await
        .expect("committee");
    let physician = store
        .create(
            &actor(),
            from_json::<Practitioner>(json!({
                "organisation_id": institution.id(), "name": "Dr. Sato", "profession": "physician",
                "qualifications": [{"title": "整形外科専門医", "number": "J-123", "obtained_on": "2010-04-01"}]
            })),
        )
        .await
        .expect("physician");
    let plan = store
        .create(
            &actor(),
            from_json::<Plan>(json!({
                "plan_number": "PB5000001", "title": "Autologous adipose MSC for knee OA",
                "institution_id": institution.id(), "responsible_physician_id": physician.id(),
                "risk_class": "2", "target_disease": "knee osteoarthritis",
                "material_description": "autologous cultured adipose-derived MSC",
                "committee_id": committee.id(),
                "expected_efficacy": "KOOS pain +10 at 12 months"
            })),
        )
        .await
        .expect("plan");
    Fixture {
        institution,
        committee,
        physician,
        plan,
    }
}

fn patient(institution: Uuid, n: u32) -> Patient {
    from_json(json!({
        "institution_id": institution,
        "pseudonym": format!("{:064x}", n),
        "birth_year_month": "1955-03",
        "sex": if n.is_multiple_of(2) { "female" } else { "male" }
    }))
}

/// Conformance case `round_trip_every_entity`.
pub async fn round_trip_every_entity(store: Store) {
    let f = fixture(&store).await;
    let p = store
        .create(&actor(), patient(f.institution.id(), 1))
        .await
        .unwrap();
    let product = store
        .create(
            &actor(),
            from_json::<Product>(json!({"name": "Stemirac-like", "modality": "msc"})),
        )
        .await
        .unwrap();
    let schedule = store
        .create(
            &actor(),
            from_json::<FollowUpSchedule>(json!({
                "name": "standard",
                "visits": [{"label": "D30", "days": 30, "window_before_days": 7, "window_after_days": 14}],
                "repeat": {"every_months": 12, "until_months": 60, "window_days": 60}
            })),
        )
        .await
        .unwrap();
    let enrollment = store
        .create(
            &actor(),
            from_json::<Enrollment>(json!({"patient_id": p.id(), "arm": "treated", "plan_id": f.plan.id(), "enrolled_on": "2024-01-10"})),
        )
        .await
        .unwrap();
    let consent = store
        .create(
            &actor(),
            from_json::<Consent>(json!({"patient_id": p.id(), "scope": "registry", "form_version": "v2.1", "given_on": "2024-01-10"})),
        )
        .await
        .unwrap();
    let treatment = store
        .create(
            &actor(),
            from_json::<Treatment>(json!({
                "patient_id": p.id(), "plan_id": f.plan.id(), "product_id": product.id(),
                "schedule_id": schedule.id(), "administered_on": "2024-01-15",
                "dose": 1.5e8, "dose_unit": "cells", "route": "intra_articular", "site": "右膝"
            })),
        )
        .await
        .unwrap();
    let visit = store
        .create(
            &actor(),
            from_json::<Visit>(json!({
                "patient_id": p.id(), "treatment_id": treatment.id(), "label": "D30",
                "due_on": "2024-02-14", "window_opens_on": "2024-02-07", "window_closes_on": "2024-02-28"
            })),
        )
        .await
        .unwrap();
    let observation = store
        .create(
            &actor(),
            from_json::<Observation>(json!({
                "patient_id": p.id(), "visit_id": visit.id(), "code": "KOOS-pain",
                "value_number": 62.123456789012345, "unit": "{score}", "observed_on": "2024-02-14"
            })),
        )
        .await
        .unwrap();
    let ae = store
        .create(
            &actor(),
            from_json::<AdverseEvent>(json!({
                "patient_id": p.id(), "treatment_id": treatment.id(), "verbatim_term": "膝の腫脹",
                "ctcae_term": "Joint effusion", "grade": 2, "seriousness": ["hospitalisation"],
                "causality": "probable", "onset_on": "2024-01-16", "known_on": "2024-01-17",
                "outcome": "recovered", "resolved_on": "2024-01-30"
            })),
        )
        .await
        .unwrap();
    let transition = store
        .create(
            &actor(),
            from_json::<PlanTransition>(json!({
                "plan_id": f.plan.id(), "from_status": "draft", "to_status": "submitted",
                "on": "2024-01-02", "actor": "dr.sato"
            })),
        )
        .await
        .unwrap();

    assert_eq!(
        store.get::<Organisation>(f.institution.id()).await.unwrap(),
        f.institution
    );
    assert_eq!(
        store.get::<Practitioner>(f.physician.id()).await.unwrap(),
        f.physician
    );
    assert_eq!(store.get::<Plan>(f.plan.id()).await.unwrap(), f.plan);
    assert_eq!(store.get::<Patient>(p.id()).await.unwrap(), p);
    assert_eq!(store.get::<Product>(product.id()).await.unwrap(), product);
    assert_eq!(
        store.get::<FollowUpSchedule>(schedule.id()).await.unwrap(),
        schedule
    );
    assert_eq!(
        store.get::<Enrollment>(enrollment.id()).await.unwrap(),
        enrollment
    );
    assert_eq!(store.get::<Consent>(consent.id()).await.unwrap(), consent);
    assert_eq!(
        store.get::<Treatment>(treatment.id()).await.unwrap(),
        treatment
    );
    assert_eq!(store.get::<Visit>(visit.id()).await.unwrap(), visit);
    assert_eq!(
        store.get::<Observation>(observation.id()).await.unwrap(),
        observation
    );
    assert_eq!(store.get::<AdverseEvent>(ae.id()).await.unwrap(), ae);
    assert_eq!(
        store.get::<PlanTransition>(transition.id()).await.unwrap(),
        transition
    );

    match store.get::<Patient>(Uuid::now_v7()).await {
        Err(StoreError::NotFound {
            entity: "patient", ..
        }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Conformance case `stale_version_conflicts`.
pub async fn stale_version_conflicts(store: Store) {
    let f = fixture(&store).await;
    let mut data = f.institution.data.clone();
    data.prefecture = Some("大阪府".parse().unwrap());
    let v2 = store
        .update(&actor(), f.institution.id(), 1, data.clone(), None)
        .await
        .unwrap();
    assert_eq!(v2.meta.version, 2);
    assert!(v2.meta.updated_at >= v2.meta.created_at);
    match store
        .update(&actor(), f.institution.id(), 1, data, None)
        .await
    {
        Err(StoreError::Conflict {
            expected: 1,
            current: 2,
            ..
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    let stored = store.get::<Organisation>(f.institution.id()).await.unwrap();
    assert_eq!(stored, v2);
}

/// Conformance case `pagination_and_filters`.
pub async fn pagination_and_filters(store: Store) {
    let f = fixture(&store).await;
    let other = store
        .create(
            &actor(),
            from_json::<Organisation>(
                json!({"name": "Osaka Hospital", "kind": "medical_institution"}),
            ),
        )
        .await
        .unwrap();
    let mut batch = Batch::new(&actor());
    for n in 0..25 {
        batch.insert(patient(f.institution.id(), n)).unwrap();
    }
    for n in 0..5 {
        batch.insert(patient(other.id(), n)).unwrap();
    }
    store.commit(batch).await.unwrap();

    let filter = vec![Filter::eq(
        "institution_id",
        Value::Uuid(f.institution.id()),
    )];
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list::<Patient>(&ListQuery {
                filters: filter.clone(),
                after,
                limit: 10,
                include_withdrawn: false,
                order: None,
            })
            .await
            .unwrap();
        pages += 1;
        assert!(
            page.items
                .iter()
                .all(|p| p.data.institution_id == f.institution.id())
        );
        seen.extend(page.items.iter().map(|p| p.id()));
        match page.next_cursor {
            Some(c) => after = Some(c.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages come in id order");
    assert_eq!(store.count::<Patient>(&filter).await.unwrap(), 25);
    let some: Vec<Uuid> = seen.iter().step_by(3).copied().collect();
    let picked = store.all_in::<Patient>("id", &some, vec![]).await.unwrap();
    assert_eq!(picked.len(), some.len());
    let none = store.all_in::<Patient>("id", &[], vec![]).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(store.count::<Patient>(&[]).await.unwrap(), 30);
    let females = store
        .count::<Patient>(&[Filter::eq("sex", Value::Text("female".into()))])
        .await
        .unwrap();
    assert_eq!(females, 13 + 3);
    let ranged = store
        .list::<Plan>(&ListQuery {
            filters: vec![Filter::new(
                "status",
                FilterOp::Eq,
                Value::Text("draft".into()),
            )],
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ranged.items.len(), 1);
    assert!(ranged.next_cursor.is_none());

    // Asked row by row, a reach selects the same rows as gathered first, also when the
    // probed table is the listed one (the probe's alias keeps the two apart) and when a
    // sub-select sits inside the probe.
    let gathered = Filter::in_select("id", &crate::tables::PATIENTS, "id", filter.clone());
    let probed = Filter::probe_select("id", &crate::tables::PATIENTS, "id", filter.clone());
    for f in [gathered, probed] {
        let page = store
            .list::<Patient>(&ListQuery {
                filters: vec![f.clone()],
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let ids: Vec<Uuid> = page.items.iter().map(|p| p.id()).collect();
        assert_eq!(ids, sorted, "{f:?}");
        assert_eq!(store.count::<Patient>(&[f]).await.unwrap(), 25);
    }
    let nested = Filter::probe_select(
        "institution_id",
        &crate::tables::ORGANISATIONS,
        "id",
        vec![Filter::in_select(
            "id",
            &crate::tables::PATIENTS,
            "institution_id",
            vec![Filter::eq("sex", Value::Text("male".into()))],
        )],
    );
    assert_eq!(store.count::<Patient>(&[nested]).await.unwrap(), 30);
}

/// Conformance case `ordered_pages`: a list ordered by a column (largest first, ties by
/// id) and paged by the keyset the cursor carries visits every matching row exactly
/// once, in order, on every backend.
pub async fn ordered_pages(store: Store) {
    use crate::backend::Order;
    let f = fixture(&store).await;
    let mut batch = Batch::new(&actor());
    for n in 0..23u32 {
        let mut p = patient(f.institution.id(), n);
        // Nine birth months, so that many rows tie and the id must break the ties.
        p.birth_year_month =
            serde_json::from_value(json!(format!("19{:02}-0{}", 40 + n % 3, 1 + n % 3))).unwrap();
        batch.insert(p).unwrap();
    }
    store.commit(batch).await.unwrap();
    let filter = vec![Filter::eq(
        "institution_id",
        Value::Uuid(f.institution.id()),
    )];
    let mut order = Order {
        column: "birth_year_month",
        descending: true,
        after_value: None,
    };
    let mut after = None;
    let mut seen: Vec<(String, Uuid)> = Vec::new();
    loop {
        let page = store
            .list::<Patient>(&ListQuery {
                filters: filter.clone(),
                after,
                limit: 5,
                include_withdrawn: false,
                order: Some(order.clone()),
            })
            .await
            .unwrap();
        seen.extend(
            page.items
                .iter()
                .map(|p| (p.data.birth_year_month.to_string(), p.id())),
        );
        let Some(cursor) = page.next_cursor else {
            break;
        };
        let last = page.items.last().unwrap();
        let month = last.data.birth_year_month.to_string();
        assert_eq!(cursor, format!("{}.{month}", last.id()));
        after = Some(last.id());
        order.after_value = Some(Value::Text(month));
    }
    assert_eq!(seen.len(), 23, "every row once");
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected, "largest month first, ties by id");
    // By id, largest first: the cursor is the id alone.
    let by_id = |after: Option<Uuid>| ListQuery {
        filters: filter.clone(),
        after,
        limit: 22,
        order: Some(Order {
            column: "id",
            descending: true,
            after_value: None,
        }),
        ..Default::default()
    };
    let first = store.list::<Patient>(&by_id(None)).await.unwrap();
    let mut ids: Vec<Uuid> = seen.iter().map(|(_, id)| *id).collect();
    ids.sort_by(|a, b| b.cmp(a));
    let cursor = first.next_cursor.expect("a second page");
    assert_eq!(cursor, ids[21].to_string());
    let rest = store.list::<Patient>(&by_id(Some(ids[21]))).await.unwrap();
    let got: Vec<Uuid> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|p| p.id())
        .collect();
    assert_eq!(got, ids);
}

/// Conformance case `references_are_checked`.
pub async fn references_are_checked(store: Store) {
    let f = fixture(&store).await;
    let missing = Uuid::now_v7();
    let bad: Practitioner =
        from_json(json!({"organisation_id": missing, "name": "X", "profession": "nurse"}));
    match store.create(&actor(), bad).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "organisation_id"),
        other => panic!("expected invalid reference, got {other:?}"),
    }
    let mut plan = f.plan.data.clone();
    plan.plan_number = "PB5000002".parse().unwrap();
    plan.committee_id = f.institution.id();
    match store.create(&actor(), plan).await {
        Err(StoreError::Invalid(e)) => {
            assert_eq!(e.0[0].field, "committee_id");
            assert!(
                e.0[0].problem.contains("medical_institution"),
                "{}",
                e.0[0].problem
            );
        }
        other => panic!("expected wrong kind, got {other:?}"),
    }
}

/// Conformance case `unique_values_clash`.
pub async fn unique_values_clash(store: Store) {
    let f = fixture(&store).await;
    let mut plan = f.plan.data.clone();
    plan.title = "another".parse().unwrap();
    match store.create(&actor(), plan).await {
        Err(StoreError::Duplicate { field, .. }) => assert_eq!(field, "plan_number"),
        other => panic!("expected duplicate, got {other:?}"),
    }
    store
        .create(&actor(), patient(f.institution.id(), 7))
        .await
        .unwrap();
    match store.create(&actor(), patient(f.institution.id(), 7)).await {
        Err(StoreError::Duplicate { field, .. }) => assert_eq!(field, "record_number"),
        other => panic!("expected duplicate patient, got {other:?}"),
    }
}

/// Conformance case `batch_is_all_or_nothing`.
pub async fn batch_is_all_or_nothing(store: Store) {
    let f = fixture(&store).await;
    let before_audit = store
        .audit(&AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    // Someone else changes the institution after we read it.
    let mut changed = f.institution.data.clone();
    changed.code = Some("1234567".parse().unwrap());
    store
        .update(&actor(), f.institution.id(), 1, changed, None)
        .await
        .unwrap();
    let mut batch = Batch::new(&actor());
    batch.insert(patient(f.institution.id(), 1)).unwrap();
    batch.insert(patient(f.institution.id(), 2)).unwrap();
    batch.check(&f.institution); // stale: version 1
    match store.commit(batch).await {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("expected conflict, got {other:?}"),
    }
    assert_eq!(
        store.count::<Patient>(&[]).await.unwrap(),
        0,
        "no partial write"
    );
    let after_audit = store
        .audit(&AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    assert_eq!(after_audit, before_audit + 1, "only the update was audited");
}

/// Conformance case `withdrawal_keeps_records`.
pub async fn withdrawal_keeps_records(store: Store) {
    let f = fixture(&store).await;
    let p = store
        .create(&actor(), patient(f.institution.id(), 1))
        .await
        .unwrap();
    let w = store
        .withdraw::<Patient>(&actor(), p.id(), 1, "registered twice".into())
        .await
        .unwrap();
    assert!(w.meta.withdrawn_at.is_some());
    assert_eq!(store.count::<Patient>(&[]).await.unwrap(), 0);
    let all = store
        .list::<Patient>(&ListQuery {
            include_withdrawn: true,
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(
        all.items[0].meta.withdrawal_reason.as_deref(),
        Some("registered twice")
    );
    assert!(matches!(
        store
            .withdraw::<Patient>(&actor(), p.id(), 2, "again".into())
            .await,
        Err(StoreError::Invalid(_))
    ));
}

/// Conformance case `audit_chain_is_intact`.
pub async fn audit_chain_is_intact(store: Store) {
    let f = fixture(&store).await;
    let mut data = f.plan.data.clone();
    data.title = "Revised title".parse().unwrap();
    store
        .update(&actor(), f.plan.id(), 1, data, Some("typo".into()))
        .await
        .unwrap();
    let entries = store
        .audit(&AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(verify_chain(&entries), Ok(5));
    let plan_history = store
        .audit(&AuditQuery {
            limit: 100,
            entity: Some("plan".into()),
            entity_id: Some(f.plan.id()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(plan_history.len(), 2);
    assert_eq!(plan_history[1].action, AuditAction::Update);
    assert_eq!(plan_history[1].reason.as_deref(), Some("typo"));
    assert_eq!(
        plan_history[1].before.as_ref().unwrap()["title"],
        "Autologous adipose MSC for knee OA"
    );
    assert_eq!(
        plan_history[1].after.as_ref().unwrap()["title"],
        "Revised title"
    );
}

/// Conformance case `concurrent_writes_commit_alone`: many writers at once, some of
/// them doomed (the same record changed from the same version). Each writer hears its
/// own outcome: every create is stored, exactly one of the competing changes wins and
/// the rest are conflicts that left nothing behind, and the audit chain holds exactly
/// the writes that were acknowledged, intact. (A backend that gathers concurrent writes
/// into one transaction must undo only the doomed one.)
pub async fn concurrent_writes_commit_alone(store: Store) {
    let f = fixture(&store).await;
    let before = store
        .audit(&AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    let mut tasks = Vec::new();
    for i in 0..48 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create(
                    &actor(),
                    from_json::<Organisation>(
                        json!({"name": format!("Clinic {i}"), "kind": "medical_institution"}),
                    ),
                )
                .await
                .map(|r| r.id())
        }));
    }
    for i in 0..16 {
        let store = store.clone();
        let mut data = f.institution.data.clone();
        data.name = format!("Renamed {i}").parse().unwrap();
        let id = f.institution.id();
        tasks.push(tokio::spawn(async move {
            store
                .update(&actor(), id, 1, data, None)
                .await
                .map(|r| r.id())
        }));
    }
    let mut created = Vec::new();
    let (mut changed, mut conflicts) = (0, 0);
    for (i, t) in tasks.into_iter().enumerate() {
        match (i < 48, t.await.unwrap()) {
            (true, Ok(id)) => created.push(id),
            (false, Ok(_)) => changed += 1,
            (false, Err(StoreError::Conflict { .. })) => conflicts += 1,
            (_, other) => panic!("writer {i}: {other:?}"),
        }
    }
    assert_eq!((created.len(), changed, conflicts), (48, 1, 15));
    for id in created {
        store.get::<Organisation>(id).await.unwrap();
    }
    let stored = store.get::<Organisation>(f.institution.id()).await.unwrap();
    assert_eq!(stored.meta.version, 2);
    let entries = store
        .audit(&AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), before + 49);
    assert_eq!(verify_chain(&entries), Ok(entries.len() as i64));
}

/// Each table the migrations made is the one the catalogue derives from the kind's type:
/// the same columns, the same storage types, the same nullability; and every foreign
/// key sits on a UUID column. A field added to a type without a migration, or a
/// migration that drifts from the type, fails here on each backend.
/// Tables the store keeps for itself rather than for a kind of record.
const STORE_TABLES: &[&str] = &["audit_log", "access_log"];

pub async fn schema_matches_catalogue(store: Store) {
    use crate::value::ColumnType as T;
    let backend = store.backend();
    let meta = [
        ("id", T::Uuid, false),
        ("version", T::Int, false),
        ("created_at", T::Timestamp, false),
        ("updated_at", T::Timestamp, false),
        ("withdrawn_at", T::Timestamp, true),
        ("withdrawal_reason", T::Text, true),
    ];
    let mut problems = Vec::new();
    // Every table the migrations make is a catalogued kind, or one of the store's own.
    let catalogued: Vec<&str> = crate::tables::all().iter().map(|t| t.name).collect();
    for name in backend.table_names().await.unwrap() {
        if !catalogued.contains(&name.as_str()) && !STORE_TABLES.contains(&name.as_str()) {
            problems.push(format!(
                "{name}: a table the catalogue does not list (add its kind to tables::kinds)"
            ));
        }
    }
    for table in crate::tables::all() {
        let Some(shape) = backend.describe(table.name).await.unwrap() else {
            problems.push(format!("{}: no such table", table.name));
            continue;
        };
        let mut expected: Vec<(String, String, bool)> = meta
            .iter()
            .map(|(n, t, null)| (n.to_string(), backend.storage_type(*t).to_string(), *null))
            .collect();
        expected.extend(table.columns.iter().map(|c| {
            (
                c.name.to_string(),
                backend.storage_type(c.ty).to_string(),
                c.nullable,
            )
        }));
        if let Some(scope) = table.scope {
            expected.push((
                scope.column.to_string(),
                backend.storage_type(T::Uuid).to_string(),
                true,
            ));
            if crate::tables::by_name(scope.parent).is_none() {
                problems.push(format!(
                    "{}: its scope copies from {}, which is not a catalogued table",
                    table.name, scope.parent
                ));
            }
            if table.column(scope.via).is_none() {
                problems.push(format!(
                    "{}: its scope is copied through {}, which is not one of its fields",
                    table.name, scope.via
                ));
            }
        }
        let mut found = shape.columns.clone();
        expected.sort();
        found.sort();
        for e in &expected {
            if !found.contains(e) {
                let actual = found.iter().find(|f| f.0 == e.0);
                problems.push(format!(
                    "{}.{}: the catalogue says {} {}, the database has {}",
                    table.name,
                    e.0,
                    e.1,
                    if e.2 { "NULL" } else { "NOT NULL" },
                    actual
                        .map(|a| format!("{} {}", a.1, if a.2 { "NULL" } else { "NOT NULL" }))
                        .unwrap_or_else(|| "no such column".into())
                ));
            }
        }
        for f in &found {
            if !expected.iter().any(|e| e.0 == f.0) {
                problems.push(format!(
                    "{}.{}: a column no field of the type holds",
                    table.name, f.0
                ));
            }
        }
        for (column, _) in &shape.foreign_keys {
            let uuid = table.column(column).map(|c| c.ty) == Some(T::Uuid);
            if !uuid {
                problems.push(format!(
                    "{}.{column}: a foreign key on a non-UUID column",
                    table.name
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the migrated schema differs from the catalogue:\n{}",
        problems.join("\n")
    );
}

/// Every kind of record, on this backend: there is at least one (the fill must cover
/// every kind), each row reads back as its record and writes again as the same row, its
/// serialised fields are exactly its columns, a change round-trips, and every reference a
/// record makes from one of its own columns is a foreign key in the database.
pub async fn every_kind_round_trips(store: Store) {
    let backend = store.backend();
    let mut problems = Vec::new();
    let mut rows_checked = 0usize;
    for kind in crate::tables::kinds() {
        let table = kind.table;
        let rows = backend
            .list(
                table,
                &ListQuery {
                    limit: 200,
                    include_withdrawn: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if rows.is_empty() {
            problems.push(format!("{}: no record to round-trip (fill it)", table.name));
            continue;
        }
        let shape = backend
            .describe(table.name)
            .await
            .unwrap()
            .unwrap_or_default();
        for row in rows {
            rows_checked += 1;
            let id = row.meta.id;
            match (kind.round_trip)(row.clone()) {
                Ok(again) if again == row => {}
                Ok(again) => problems.push(format!(
                    "{} {id}: reads back as a different row:\n  stored  {:?}\n  written {:?}",
                    table.name, row.values, again.values
                )),
                Err(e) => problems.push(format!("{} {id}: {e}", table.name)),
            }
            match (kind.references)(row) {
                Ok(refs) => {
                    for r in refs {
                        // A list of ids held in one JSON column cannot carry a foreign
                        // key; the store checks those references when it writes.
                        let own_column = table
                            .column(r.field)
                            .is_some_and(|c| c.ty != crate::value::ColumnType::Json);
                        let fk = shape
                            .foreign_keys
                            .iter()
                            .any(|(c, t)| c == r.field && t == r.table.name);
                        if own_column && !fk {
                            problems.push(format!(
                                "{}.{}: a reference to {} without a foreign key",
                                table.name, r.field, r.table.name
                            ));
                        }
                    }
                }
                Err(e) => problems.push(format!("{} {id}: {e}", table.name)),
            }
        }
    }
    // Every kept scope equals its parent's organisation, row by row.
    for table in crate::tables::all() {
        let Some(scope) = table.scope else { continue };
        let statement = format!(
            "SELECT COUNT(*) FROM \"{t}\" c LEFT JOIN \"{p}\" p ON p.\"id\" = c.\"{via}\" \
             WHERE (c.\"{col}\" IS NULL) <> (p.\"{src}\" IS NULL) OR c.\"{col}\" <> p.\"{src}\"",
            t = table.name,
            p = scope.parent,
            via = scope.via,
            col = scope.column,
            src = scope.source,
        );
        let rows = backend
            .select(&statement, &[], &[crate::value::ColumnType::Int])
            .await
            .unwrap();
        if rows.first().and_then(|r| r.first()) != Some(&Value::Int(0)) {
            problems.push(format!(
                "{}.{}: rows whose kept organisation differs from their {}'s ({rows:?})",
                table.name, scope.column, scope.parent
            ));
        }
        let filled = backend
            .count(
                table,
                &[Filter::new(scope.column, FilterOp::NotNull, Value::Null)],
                true,
            )
            .await
            .unwrap();
        if filled == 0 {
            problems.push(format!(
                "{}.{}: no row to show the organisation is kept (fill it)",
                table.name, scope.column
            ));
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} problems in {rows_checked} rows:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
