//! `saisei demo`: fill a database with the synthetic registry, then serve it.

use crate::config;
use crate::exit::CliError;
use crate::serve;
use indicatif::{ProgressBar, ProgressStyle};
use saisei_demo::{DemoOptions, demo_key};
use saisei_store::tables;
use std::path::Path;
use std::time::Instant;

/// The demo database used when none is named.
pub const DEFAULT_DEMO_DB: &str = "saisei-demo.db";

/// Options of `saisei demo`.
pub struct DemoArgs {
    /// Database URL or path, if given.
    pub db: Option<String>,
    /// Number of patients.
    pub patients: usize,
    /// Seed.
    pub seed: u64,
    /// Do not serve afterwards.
    pub no_serve: bool,
    /// Replace an existing database file.
    pub fresh: bool,
    /// Where to serve.
    pub addr: String,
}

fn remove_sqlite_files(path: &Path) -> Result<(), CliError> {
    for suffix in ["", "-wal", "-shm", ".key", ".secret"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = Path::new(&p);
        if p.exists() {
            std::fs::remove_file(p).map_err(|e| {
                CliError::Failure(anyhow::anyhow!("cannot remove {}: {e}", p.display()))
            })?;
        }
    }
    Ok(())
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<(), CliError> {
    if args.patients == 0 || args.patients > 5_000_000 {
        return Err(CliError::input("--patients must be between 1 and 5000000"));
    }
    let addr = serve::parse_addr(&args.addr)?;
    let explicit = args.db.is_some();
    let db_url = args.db.unwrap_or_else(|| DEFAULT_DEMO_DB.to_string());
    if config::is_sqlite(&db_url) {
        let path = config::sqlite_path(&db_url);
        if path.exists() {
            if explicit && !args.fresh {
                return Err(CliError::input(format!(
                    "--db: {} already exists; pass --fresh to replace it with a new demo registry",
                    path.display()
                )));
            }
            remove_sqlite_files(&path)?;
        }
    }
    let store = serve::open(&db_url).await?;
    let existing = store
        .count_table(&tables::ORGANISATIONS)
        .await
        .map_err(|e| CliError::Failure(e.into()))?;
    if existing > 0 {
        return Err(CliError::input(format!(
            "--db: the database already holds {existing} organisations; use an empty database for the demo"
        )));
    }
    let key = demo_key(args.seed);
    let secret = saisei_demo::demo_secret_key(args.seed);
    let files = [
        (config::key_file_beside(&db_url), demo_key_hex(args.seed)),
        (
            config::secret_file_beside(&db_url),
            saisei_domain::pseudonym::hex(&saisei_demo::demo_secret_key_bytes(args.seed)),
        ),
    ];
    for (path, hex) in files {
        if let Some(path) = path {
            std::fs::write(&path, hex).map_err(|e| {
                CliError::Failure(anyhow::anyhow!("cannot write {}: {e}", path.display()))
            })?;
        }
    }
    saisei_store::workflow::auth::check_secret_key(&store, Some(&secret))
        .await
        .map_err(|e| CliError::Failure(anyhow::anyhow!("secret key: {e}")))?;
    let rules = serve::rules()?;
    let started = Instant::now();
    let bar = ProgressBar::new(args.patients as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} patients ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("generating demo registry");
    let awaiting = saisei_demo::generate(
        &store,
        rules,
        &key,
        DemoOptions {
            patients: args.patients,
            seed: args.seed,
        },
        |n| bar.set_position(n as u64),
    )
    .await
    .map_err(|e| CliError::Failure(anyhow::anyhow!("demo generation failed: {e}")))?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    println!(
        "Demo registry written to {db_url} in {:.1} s (seed {}).",
        elapsed.as_secs_f64(),
        args.seed
    );
    for (label, table) in [
        ("organisations", &*tables::ORGANISATIONS),
        ("plans", &*tables::PLANS),
        ("patients", &*tables::PATIENTS),
        ("treatments", &*tables::TREATMENTS),
        ("visits", &*tables::VISITS),
        ("observations", &*tables::OBSERVATIONS),
        ("adverse events", &*tables::ADVERSE_EVENTS),
    ] {
        let n = store
            .count_table(table)
            .await
            .map_err(|e| CliError::Failure(e.into()))?;
        println!("  {label:<16} {n:>9}");
    }
    if let (Some(key_path), Some(secret_path)) = (
        config::key_file_beside(&db_url),
        config::secret_file_beside(&db_url),
    ) {
        println!(
            "Pseudonym key and secret key (demo only): {}, {}",
            key_path.display(),
            secret_path.display()
        );
    }
    if !awaiting.is_empty() {
        println!();
        println!(
            "Patients waiting for their unit at the bedside (find the patient by record number, then record the administration with the unit's number):"
        );
        for a in &awaiting {
            println!(
                "  {}  record number {}  unit {}",
                a.institution, a.record_number, a.unit_number
            );
        }
    }
    let demo_accounts = print_users(&store, &secret, args.seed, addr).await?;
    let web = saisei_web::WebConfig { demo_accounts };
    if args.no_serve {
        store.backend().close().await;
        return Ok(());
    }
    if config::is_sqlite(&db_url) {
        serve::serve(store, serve::Keys::default(), &db_url, addr, web).await
    } else {
        // A PostgreSQL demo has no files beside it: serve with the demo keys in hand.
        let state = saisei_server::AppState::new(store, Some(key), serve::rules()?)
            .with_secret_key(Some(secret));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot listen on {addr}: {e}")))?;
        println!("Saisei is serving http://{addr}/  (press Ctrl-C to stop)");
        saisei_web::serve_on(state, web, listener)
            .await
            .map_err(|e| CliError::Failure(e.into()))
    }
}

/// The demo key as hex, for the key file.
fn demo_key_hex(seed: u64) -> String {
    saisei_domain::pseudonym::hex(&saisei_demo::demo_key_bytes(seed))
}

/// Creates one demo user per role and prints how to sign in as each.
async fn print_users(
    store: &saisei_store::Store,
    secret: &saisei_domain::auth::secrets::SecretKey,
    seed: u64,
    addr: std::net::SocketAddr,
) -> Result<Vec<saisei_web::DemoAccount>, CliError> {
    let users = saisei_demo::users::create(store, secret, seed)
        .await
        .map_err(|e| CliError::Failure(anyhow::anyhow!("demo users: {e}")))?;
    let now = time::OffsetDateTime::now_utc();
    println!();
    println!(
        "Demo users (demo credentials only — never for real data). Sign in at http://{addr}/sign-in"
    );
    println!(
        "with the e-mail, the password and the 6-digit code from an authenticator app holding the"
    );
    println!(
        "TOTP secret; or call the API with the bearer token:  curl -H 'Authorization: Bearer <token>' http://{addr}/api/v1/patients"
    );
    for u in &users {
        let (token, _) = saisei_store::workflow::auth::issue_token(
            store,
            &saisei_domain::audit::AuditActor::system("demo"),
            &u.user,
            "demo",
            now + time::Duration::days(30),
        )
        .await
        .map_err(|e| CliError::Failure(anyhow::anyhow!("demo token: {e}")))?;
        let code = saisei_domain::auth::credentials::totp_code(
            &u.totp_secret,
            now.unix_timestamp().max(0) as u64,
        )
        .unwrap_or_default();
        println!();
        println!(
            "  {:<32} {}{}",
            u.user.data.email.as_str(),
            u.user.data.role,
            u.organisation
                .as_deref()
                .map(|o| format!(" — {o}"))
                .unwrap_or_default()
        );
        println!(
            "    password {}   TOTP secret {}   (code now: {code})",
            u.password, u.totp_secret
        );
        println!("    token    {token}");
    }
    println!();
    println!(
        "Or open http://{addr}/sign-in and choose a role: this demo server signs you in with one click."
    );
    Ok(users
        .iter()
        .map(|u| saisei_web::DemoAccount {
            email: u.user.data.email.to_string(),
            role: u.user.data.role,
            organisation: u.organisation.clone(),
        })
        .collect())
}
