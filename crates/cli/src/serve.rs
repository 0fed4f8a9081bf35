//! `saisei serve` and `saisei migrate`.

use crate::config;
use crate::exit::CliError;
use saisei_domain::regulation::RuleBook;
use saisei_server::AppState;
use saisei_store::Store;
use std::net::SocketAddr;
use std::path::Path;

/// Opens the database, bringing its schema up to date.
pub async fn open(db_url: &str) -> Result<Store, CliError> {
    saisei_server::database::connect(db_url, true)
        .await
        .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot open database {db_url}: {e}")))
}

/// The embedded rule sets, validated.
pub fn rules() -> Result<&'static RuleBook, CliError> {
    RuleBook::embedded()
        .map_err(|e| CliError::Failure(anyhow::anyhow!("embedded rule sets are invalid: {e}")))
}

/// Parses `HOST:PORT`.
pub fn parse_addr(addr: &str) -> Result<SocketAddr, CliError> {
    addr.parse().map_err(|_| {
        CliError::input(format!(
            "--addr: '{addr}' is not HOST:PORT (e.g. 127.0.0.1:8080)"
        ))
    })
}

/// Where the server's two keys come from, when named on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys<'a> {
    /// `--key-file`: the pseudonym key.
    pub pseudonym: Option<&'a Path>,
    /// `--secret-key-file`: the key sealing second-factor secrets.
    pub secret: Option<&'a Path>,
}

/// Serves the registry at `addr` until interrupted.
pub async fn serve(
    store: Store,
    keys: Keys<'_>,
    db_url: &str,
    addr: SocketAddr,
    web: saisei_web::WebConfig,
) -> Result<(), CliError> {
    let key = config::load_key(keys.pseudonym, db_url)?;
    if key.is_none() {
        eprintln!(
            "note: no pseudonym key configured (SAISEI_PSEUDONYM_KEY or --key-file); registering patients is disabled"
        );
    }
    let secret = config::checked_secret_key(&store, keys.secret, db_url).await?;
    if secret.is_none() {
        eprintln!(
            "note: no secret key configured (SAISEI_SECRET_KEY or --secret-key-file); users cannot be created or sign in"
        );
    }
    let state = AppState::new(store, key, rules()?).with_secret_key(secret);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::Failure(e.into()))?;
    println!(
        "Saisei is serving http://{bound}/  (API: http://{bound}/api/v1/, press Ctrl-C to stop)"
    );
    saisei_web::serve_on(state, web, listener)
        .await
        .map_err(|e| CliError::Failure(e.into()))
}
