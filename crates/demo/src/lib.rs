//! A realistic synthetic registry, the same for the same seed.
//!
//! Used by `saisei demo` and by tests that want a populated registry: several
//! institutions, a processing facility, committees, provision plans of all three risk
//! classes moved through their lifecycle under the rules in force, a product with
//! treated patients and registry controls, follow-up visits with measurements, and
//! adverse events; the product's manufacturing chain (donor, cell banks, monthly lots
//! with QC results and release decisions, units with their custody logs, a temperature
//! excursion) so that adverse events trace back to a lot. Everything is written through
//! the store's public façade and workflows, so the demo also exercises validation,
//! references and the audit chain.
//! Must never be used to fill a production registry.

mod cohort;
mod evaluation;
mod quality;
mod reports;
mod scaffold;
pub mod users;

pub use key::demo_key_bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use saisei_domain::audit::AuditActor;
use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::regulation::RuleBook;
use saisei_store::{Batch, Store, StoreError};

pub use cohort::{AwaitingUnit, DATA_CUT};

/// How big a demo to make.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Number of patients (treated and controls).
    pub patients: usize,
    /// Random seed: the same seed gives the same registry content.
    pub seed: u64,
}

/// Patients written per transaction.
const BATCH_PATIENTS: usize = 250;

/// How many patients wait at the bedside with a delivered unit (see [`AwaitingUnit`]):
/// enough for a newcomer and for each of the browser journeys to record one.
const AWAITING_PATIENTS: usize = 6;

/// The pseudonym key of a demo registry, derived from its seed so that a demo is
/// reproducible. Never use a demo key for real patients.
pub fn demo_key(seed: u64) -> PseudonymKey {
    PseudonymKey::new(demo_key_bytes(seed)).expect("32-byte key")
}

/// The key material sealing a demo registry's second-factor secrets, derived from its
/// seed (apart from the pseudonym key's). Never use a demo key for real users.
pub fn demo_secret_key_bytes(seed: u64) -> Vec<u8> {
    demo_key_bytes(seed ^ 0x5365_6372_6574_4b79)
}

/// The secret key of a demo registry.
pub fn demo_secret_key(seed: u64) -> saisei_domain::auth::secrets::SecretKey {
    saisei_domain::auth::secrets::SecretKey::new(&demo_secret_key_bytes(seed)).expect("32-byte key")
}

mod key {
    /// 32 key bytes from a seed by SplitMix64: the demo key must only be reproducible,
    /// not secret.
    pub fn demo_key_bytes(seed: u64) -> Vec<u8> {
        let mut x = seed ^ 0x5361_6973_6569_4b65;
        let mut out = Vec::with_capacity(32);
        for _ in 0..4 {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            out.extend_from_slice(&z.to_le_bytes());
        }
        out
    }
}

/// Fills an empty registry. `progress` is called with the number of patients written.
/// Returns the patients waiting at the bedside with a unit, for the demo to print.
pub async fn generate(
    store: &Store,
    rules: &RuleBook,
    key: &PseudonymKey,
    options: DemoOptions,
    mut progress: impl FnMut(usize),
) -> Result<Vec<AwaitingUnit>, StoreError> {
    let actor = AuditActor::system("demo");
    let started = std::time::Instant::now();
    let scaffold = scaffold::build(store, &actor, rules).await?;
    let quality = quality::build(store, &actor, key, &scaffold, options.seed).await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "demo: scaffold and manufacturing"
    );
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut written = 0;
    while written < options.patients {
        let n = BATCH_PATIENTS.min(options.patients - written);
        let mut batch = Batch::new(&actor);
        for i in 0..n {
            cohort::add_patient(
                &mut batch,
                &mut rng,
                &scaffold,
                &quality,
                rules,
                key,
                written + i,
            )?;
        }
        store.commit(batch).await?;
        written += n;
        progress(written);
    }
    let mut batch = Batch::new(&actor);
    let mut awaiting = Vec::new();
    for k in 0..AWAITING_PATIENTS {
        awaiting.extend(cohort::add_awaiting(
            &mut batch, &scaffold, &quality, key, k,
        )?);
    }
    store.commit(batch).await?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "demo: patients");
    reports::file_reports(store, &actor, rules, &scaffold, &mut rng).await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "demo: periodic reports"
    );
    evaluation::add(store, &actor, &scaffold, options.seed).await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "demo: evaluation"
    );
    // Loaded in bulk: the planner's statistics are brought up to date before anyone
    // asks for a page.
    store.backend().refresh_statistics().await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "demo: statistics"
    );
    Ok(awaiting)
}

/// A small registry holding records of every kind: the demo (40 patients), its users
/// (with the demo's secret key), and a token, a web session, a reset link and a
/// signature. The store's conformance suite round-trips every one of them on each
/// backend.
pub async fn every_kind(store: &Store) -> Result<(), StoreError> {
    use saisei_store::workflow::auth;
    let rules = RuleBook::embedded().map_err(|e| StoreError::Corrupt(e.to_string()))?;
    generate(
        store,
        rules,
        &demo_key(3),
        DemoOptions {
            patients: 40,
            seed: 3,
        },
        |_| {},
    )
    .await?;
    let secret = demo_secret_key(3);
    auth::check_secret_key(store, Some(&secret))
        .await
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let people = users::create(store, &secret, 3).await?;
    let now = saisei_store::store::now();
    let admin = people
        .iter()
        .find(|u| u.user.data.role == saisei_domain::auth::Role::Admin)
        .ok_or_else(|| StoreError::Corrupt("the demo has an admin".into()))?;
    let physician = people
        .iter()
        .find(|u| u.user.data.role == saisei_domain::auth::Role::Physician)
        .ok_or_else(|| StoreError::Corrupt("the demo has a physician".into()))?;
    let actor = AuditActor::system("demo");
    auth::issue_token(
        store,
        &actor,
        &physician.user,
        "every kind",
        now + time::Duration::days(1),
    )
    .await?;
    auth::start_session(store, &auth::AuthPolicy::default(), &physician.user, now).await?;
    auth::issue_enrolment(
        store,
        &auth::AuthPolicy::default(),
        &actor,
        admin.user.meta.id,
        &physician.user,
        auth::EnrolmentRequest {
            password: true,
            second_factor: false,
            reason: "every kind"
                .parse()
                .map_err(|e: String| StoreError::invalid("reason", e))?,
        },
        now,
    )
    .await?;
    let plan = store
        .all::<saisei_domain::registry::Plan>(vec![])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Corrupt("the demo has plans".into()))?;
    let mut batch = saisei_store::Batch::new(&actor);
    auth::add_signature(
        &mut batch,
        &physician.user,
        auth::SigningRequest {
            entity: "plan",
            entity_id: plan.meta.id,
            entity_version: plan.meta.version,
            content_hash: saisei_store::store::content_hash_of(&plan.data)?,
            meaning: saisei_domain::auth::SignatureMeaning::Authorship,
            comment: None,
        },
        now,
    )?;
    store.commit(batch).await?;
    // An analysis run, filed as the evidence engine files one (its numbers are not the
    // point here: the row's shape is).
    let evaluation = store
        .all::<saisei_domain::evaluation::EvaluationPlan>(vec![])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Corrupt("the demo has an evaluation plan".into()))?;
    let mut counts = std::collections::BTreeMap::new();
    counts.insert("patients".to_string(), 40);
    saisei_store::workflow::evaluation::record_run(
        store,
        &actor,
        &evaluation,
        now.date(),
        saisei_domain::evaluation::Verdict::NotYetEvaluable,
        saisei_domain::evaluation::DataSnapshot {
            counts,
            data_hash: "0".repeat(64),
            plan_hash: saisei_store::store::content_hash_of(&evaluation.data)?,
            engine: "every-kind".into(),
        },
        serde_json::json!({"primary": {"patients": 40}}),
    )
    .await?;
    // An autologous collection: a patient's own tissue, taken at their institution.
    let patient = store
        .all::<saisei_domain::registry::Patient>(vec![])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Corrupt("the demo has patients".into()))?;
    let collection: saisei_domain::quality::records::Collection =
        serde_json::from_value(serde_json::json!({
            "patient_id": patient.meta.id,
            "collected_by_id": patient.data.institution_id,
            "collected_on": "2024-04-01",
            "material": "Subcutaneous adipose tissue (autologous)",
            "volume_ml": 20.0
        }))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.create(&actor, collection).await?;
    Ok(())
}
