//! `saisei`: the one binary. Every subcommand is a thin shell over the library crates:
//! it parses arguments, opens the store and calls the same workflow the API calls.
//!
//! Must never contain domain logic, a workflow of its own, SQL or a statistic.

mod backup;
mod config;
mod demo;
mod evaluate;
mod exit;
mod regulation;
mod serve;
mod stats;
mod trace;
mod trust;

use clap::{Parser, Subcommand};
use exit::CliError;
use std::path::PathBuf;

/// mimalloc instead of the system allocator. The SQLite driver builds rows on each
/// connection's own thread and the server frees them on another; glibc's per-thread
/// arenas kept that memory, so a server answering the 1,000,000-patient registry's
/// deadline report (which reads a column of every adverse event) grew to 657 MB
/// resident after a dozen reports and held it. mimalloc returns freed pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Saisei — registry and evidence platform for regenerative medicine.
#[derive(Parser)]
#[command(name = "saisei", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the registry over HTTP (JSON API under /api/v1, overview at /).
    Serve {
        /// Database: a SQLite file path (default saisei.db) or postgres://… URL [env: SAISEI_DATABASE_URL].
        #[arg(long)]
        db: Option<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// File holding the pseudonym key (hex, ≥ 32 bytes) [or env SAISEI_PSEUDONYM_KEY].
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// File holding the secret key that seals second-factor secrets (hex, ≥ 32 bytes) [or env SAISEI_SECRET_KEY; default <db>.secret beside a SQLite file].
        #[arg(long)]
        secret_key_file: Option<PathBuf>,
    },
    /// Fill a database with a realistic synthetic registry, then serve it.
    Demo {
        /// SQLite file (default saisei-demo.db, replaced on each run) or postgres://… URL.
        #[arg(long)]
        db: Option<String>,
        /// Number of patients (treated and registry controls).
        #[arg(long, default_value_t = 2000)]
        patients: usize,
        /// Random seed; the same seed gives the same registry.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Only write the database; do not serve it.
        #[arg(long)]
        no_serve: bool,
        /// Replace an existing file named with --db.
        #[arg(long)]
        fresh: bool,
        /// Address to serve on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Write a consistent copy of the registry while it keeps serving (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
    Backup(backup::BackupArgs),
    /// Bring a backup back into a new database, then verify its audit chain and records.
    Restore(backup::RestoreArgs),
    /// Create or upgrade the database schema.
    Migrate {
        /// Database: a SQLite file path or postgres://… URL [env: SAISEI_DATABASE_URL].
        #[arg(long)]
        db: Option<String>,
    },
    /// Classify a therapy under the Act (risk class 1/2/3 or outside), or re-classify every plan under another rule set (--what-if).
    Classify(regulation::ClassifyArgs),
    /// Compile (and file) regulatory reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Periodic-report and adverse-event deadlines per institution: due, overdue, done.
    Deadlines(regulation::DeadlineArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the secret key that seals second-factor secrets.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Statistics on any CSV file: logistic regression, Cox, Kaplan-Meier, matching, power.
    #[command(subcommand)]
    Stats(stats::StatsCommand),
    /// Run a post-marketing evaluation plan: verdict, HTML report with SVG plots (--out), JSON (--json), filed run (--record).
    Evaluate(evaluate::EvaluateArgs),
    /// Look-back (lot → units → patients → adverse events) and trace-back (adverse event → unit → lot → bank → donor).
    #[command(subcommand)]
    Trace(trace::TraceCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints the TOTP secret to enrol in an authenticator app, and recovery codes.
    Add(trust::UserAddArgs),
    /// Clear a user's sign-in throttling (failed attempts no longer slow them).
    Unlock(trust::UserUnlockArgs),
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Re-seal every second-factor secret with a new secret key, in one transaction.
    Rotate(trust::KeyRotateArgs),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue an API token for a user; the token is the last line printed.
    Create(trust::TokenCreateArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain: prints `ok N entries` (exit 0) or the first broken entry (exit 1).
    Verify(trust::AuditVerifyArgs),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// A plan's periodic report (定期報告) for one period, from registry data.
    Periodic(regulation::PeriodicArgs),
}

fn init_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let level = match std::env::var("SAISEI_LOG").as_deref() {
        Ok("debug") => LevelFilter::DEBUG,
        Ok("info") => LevelFilter::INFO,
        Ok("error") => LevelFilter::ERROR,
        _ => LevelFilter::WARN,
    };
    let filter = Targets::new()
        .with_default(level)
        .with_target("sqlx", LevelFilter::ERROR);
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failure(e.into()))
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Stats(cmd) => stats::run(cmd),
        Command::Backup(args) => runtime()?.block_on(backup::backup(args)),
        Command::Restore(args) => runtime()?.block_on(backup::restore(args)),
        Command::Trace(cmd) => runtime()?.block_on(trace::run(cmd)),
        Command::Evaluate(args) => runtime()?.block_on(evaluate::run(args)),
        Command::Classify(args) => runtime()?.block_on(regulation::classify_cmd(args)),
        Command::Report(ReportCommand::Periodic(args)) => {
            runtime()?.block_on(regulation::periodic_cmd(args))
        }
        Command::Deadlines(args) => runtime()?.block_on(regulation::deadlines_cmd(args)),
        Command::User(UserCommand::Add(args)) => runtime()?.block_on(trust::user_add(args)),
        Command::User(UserCommand::Unlock(args)) => runtime()?.block_on(trust::user_unlock(args)),
        Command::Key(KeyCommand::Rotate(args)) => runtime()?.block_on(trust::key_rotate(args)),
        Command::Token(TokenCommand::Create(args)) => {
            runtime()?.block_on(trust::token_create(args))
        }
        Command::Audit(AuditCommand::Verify(args)) => {
            runtime()?.block_on(trust::audit_verify(args))
        }
        Command::Serve {
            db,
            addr,
            key_file,
            secret_key_file,
        } => {
            let db = config::database_url(db.as_deref());
            let addr = serve::parse_addr(&addr)?;
            runtime()?.block_on(async {
                let store = serve::open(&db).await?;
                let keys = serve::Keys {
                    pseudonym: key_file.as_deref(),
                    secret: secret_key_file.as_deref(),
                };
                serve::serve(store, keys, &db, addr, saisei_web::WebConfig::default()).await
            })
        }
        Command::Migrate { db } => {
            let db = config::database_url(db.as_deref());
            runtime()?.block_on(async {
                let store = serve::open(&db).await?;
                store.backend().close().await;
                println!("{db}: schema is up to date");
                Ok(())
            })
        }
        Command::Demo {
            db,
            patients,
            seed,
            no_serve,
            fresh,
            addr,
        } => runtime()?.block_on(demo::run(demo::DemoArgs {
            db,
            patients,
            seed,
            no_serve,
            fresh,
            addr,
        })),
    }
}

fn main() {
    // Die quietly when the reader of our output goes away (`saisei … | head`), as Unix
    // tools do, instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; restoring
    // the default disposition of SIGPIPE has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    init_logging();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
