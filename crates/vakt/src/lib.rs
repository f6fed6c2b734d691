//! Vakt, the platform of a monitored-alarm operator, as one binary.
//!
//! This crate is the composition root: it reads [`settings`], opens the store the database
//! URL names, starts the DC-09 receiver and the HTTP side, and shuts them down in order
//! (stop accepting, finish pending commits, answer only what committed, close the journal).
//! [`launch`] is what `vakt serve` runs and what the integration tests start on free ports.

pub mod accounts;
pub mod api_clients;
pub mod cluster;
pub mod data_dir;
pub mod demo;
pub mod settings;
pub mod signals;
pub mod sim;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vakt_core::{Clock, SystemClock};
use vakt_receiver::{Bound, ReceiverConfig, TableHandle, TransmitterTable};
use vakt_store::Registry;
use vakt_store_sql::SqlStore;
use vakt_store_sqlite::SqliteOptions;

use crate::settings::{Database, Settings};

/// A running Vakt.
#[derive(Debug)]
pub struct App {
    /// Where the DC-09 receiver listens.
    pub dc09: Vec<Bound>,
    /// Where the HTTP server listens.
    pub http: SocketAddr,
    /// The API's bearer token.
    pub api_token: String,
    /// Where the API token is kept, when it was generated.
    pub api_token_file: Option<std::path::PathBuf>,
    /// The database, as a person reads it (a PostgreSQL URL without its password).
    pub database: String,
    /// This node's part of the cluster.
    pub cluster: cluster::SharedView,
    /// Where incident changes are announced.
    pub changes: vakt_engine::Changes,
    /// The store, for tools and tests that act as Vakt itself.
    pub store: SqlStore,
    /// The hasher of passwords and codes.
    pub hasher: vakt_service::secret::SecretHasher,
    shutdown: CancellationToken,
    receiver: vakt_receiver::Running,
    http_task: tokio::task::JoinHandle<()>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

fn metrics_handle() -> Option<&'static metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.000_1, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ];
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&buckets)
                .ok()?
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full("vakt_journal_batch_signals".into()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Opens the store the database URL names: SQLite or PostgreSQL, chosen once here.
///
/// # Errors
/// When the database cannot be opened or migrated.
pub async fn open_store(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(SqlStore, Database)> {
    data_dir::secure(&settings.data_dir)
        .with_context(|| format!("securing the data folder {}", settings.data_dir.display()))?;
    let database = settings.database().map_err(anyhow::Error::msg)?;
    let store = match &database {
        Database::Sqlite(path) => {
            let options = SqliteOptions {
                batch_signals_max: settings.journal.batch_signals_max,
                queue_writes_max: settings.journal.queue_writes_max,
                duplicate_window_s: settings.journal.duplicate_window_s,
                busy_timeout_ms: settings.journal.busy_timeout_ms,
                ..SqliteOptions::new(path.clone())
            };
            vakt_store_sqlite::open(options, clock).await
        }
        Database::Postgres(url) => {
            let options = vakt_store_postgres::PgOptions {
                batch_signals_max: settings.journal.batch_signals_max,
                queue_writes_max: settings.journal.queue_writes_max,
                duplicate_window_s: settings.journal.duplicate_window_s,
                ..vakt_store_postgres::PgOptions::new(url.clone())
            };
            vakt_store_postgres::open(options, clock).await
        }
    }
    .with_context(|| format!("opening the database {}", database.describe()))?;
    // Transmitter keys are sealed at rest under the server secret, which stays outside the
    // database.
    let store = store.with_key_seal(vakt_store::seal::KeySeal::new(&secret_key(settings)?));
    Ok((store, database))
}

/// Migrates the database the settings name, and says which.
///
/// # Errors
/// When the database cannot be opened or migrated.
pub async fn migrate(settings: &Settings) -> anyhow::Result<String> {
    data_dir::secure(&settings.data_dir)
        .with_context(|| format!("securing the data folder {}", settings.data_dir.display()))?;
    let database = settings.database().map_err(anyhow::Error::msg)?;
    match &database {
        Database::Sqlite(path) => {
            vakt_store_sqlite::migrate(&SqliteOptions::new(path.clone())).await
        }
        Database::Postgres(url) => vakt_store_postgres::migrate(url).await,
    }
    .with_context(|| format!("migrating the database {}", database.describe()))?;
    Ok(database.describe())
}

fn api_token(settings: &Settings) -> anyhow::Result<(String, Option<std::path::PathBuf>)> {
    if !settings.http.api_token.is_empty() {
        return Ok((settings.http.api_token.clone(), None));
    }
    let path = settings.data_dir.join("api-token");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let token = existing.trim().to_owned();
        if !token.is_empty() {
            return Ok((token, Some(path)));
        }
    }
    let bytes: [u8; 24] = rand::random();
    let token = hex::encode(bytes);
    write_secret(&path, &token).with_context(|| format!("writing {}", path.display()))?;
    Ok((token, Some(path)))
}

/// The server-side secret for hashes: from the settings, or generated once into the data
/// folder.
fn secret_key(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if !settings.security.secret_key.is_empty() {
        return Ok(settings.security.secret_key.as_bytes().to_vec());
    }
    let path = settings.data_dir.join("secret-key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim().to_owned();
        if !key.is_empty() {
            return Ok(key.into_bytes());
        }
    }
    let bytes: [u8; 32] = rand::random();
    let key = hex::encode(bytes);
    write_secret(&path, &key).with_context(|| format!("writing {}", path.display()))?;
    Ok(key.into_bytes())
}

/// The hasher the settings describe.
///
/// # Errors
/// When the secret key is missing and cannot be written, or the cost is out of range.
pub fn hasher(settings: &Settings) -> anyhow::Result<vakt_service::secret::SecretHasher> {
    let cost = vakt_service::secret::HashCost {
        memory_kib: settings.security.hash_memory_kib,
        iterations: settings.security.hash_iterations,
    };
    vakt_service::secret::SecretHasher::new(&secret_key(settings)?, cost)
        .context("the [security] hash settings")
}

fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        // The secret's folder is the data folder: created 0700 like every path to it.
        data_dir::secure(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{secret}")?;
    file.sync_all()
}

/// Every panel connection is a file descriptor: the soft limit many systems start with
/// (1,024) would refuse panels long before `connections_max`, so it is raised as far as the
/// hard limit allows, and a warning says when that is still too low.
fn raise_file_limit(settings: &Settings) {
    let wanted = settings.receiver.limits.connections_max as u64 + FILES_RESERVED;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(got) if got < wanted => tracing::warn!(
            got,
            wanted,
            "the open-file limit is below connections_max; raise the hard limit (LimitNOFILE)"
        ),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "could not raise the open-file limit"),
    }
}

/// File descriptors kept for what is not a panel: the database, HTTP clients, logs.
const FILES_RESERVED: u64 = 1_024;

/// The engine's rules and pace, as the settings say.
fn engine_config(settings: &Settings) -> vakt_engine::EngineConfig {
    vakt_engine::EngineConfig {
        rules: vakt_engine::Rules {
            hold: vakt_core::centre::HoldWindows {
                burglary_s: settings.engine.hold_burglary_s,
                tamper_s: settings.engine.hold_tamper_s,
                technical_s: settings.engine.hold_technical_s,
            },
            runaway_alarms_per_hour: settings.engine.runaway_alarms_per_hour,
            supervision_grace_s: settings.engine.supervision_grace_s,
        },
        poll_ms: settings.engine.poll_ms,
        ..vakt_engine::EngineConfig::default()
    }
}

/// The engine: one on SQLite; on PostgreSQL, the shards this node leases, and the listener
/// that hears other nodes' incident changes.
async fn start_engines(
    settings: &Settings,
    store: &SqlStore,
    database: &Database,
    engine: vakt_engine::EngineConfig,
    (changes, cluster): (&vakt_engine::Changes, &cluster::SharedView),
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut background = Vec::new();
    match database {
        Database::Sqlite(_) => {
            background.extend(
                vakt_engine::run_all(
                    store.clone(),
                    Arc::new(SystemClock) as Arc<dyn Clock>,
                    engine,
                    changes.clone(),
                    1,
                    shutdown.clone(),
                )
                .await
                .context("starting the engine")?,
            );
            if let Ok(mut view) = cluster.lock() {
                *view = cluster::ClusterView {
                    node: 0,
                    nodes: 1,
                    shards: vec![0],
                    shard_count: 1,
                };
            }
        }
        Database::Postgres(url) => {
            background.push(tokio::spawn(cluster::run(
                url.clone(),
                store.clone(),
                Arc::new(SystemClock) as Arc<dyn Clock>,
                engine,
                changes.clone(),
                settings.engine.shards,
                Duration::from_millis(settings.engine.lease_check_ms.max(50)),
                cluster.clone(),
                shutdown.clone(),
            )));
            let announce = changes.clone();
            background.push(tokio::spawn(
                vakt_store_postgres::cluster::listen_incidents(
                    vakt_store_postgres::connect_options(url)?,
                    move |id| announce.announce(id),
                    shutdown.clone(),
                ),
            ));
        }
    }
    Ok(background)
}

/// What the web side is given.
fn web_state(
    settings: &Settings,
    store: &SqlStore,
    hasher: vakt_service::secret::SecretHasher,
    (changes, cluster): (&vakt_engine::Changes, &cluster::SharedView),
) -> Arc<vakt_web::WebState<SqlStore>> {
    Arc::new(vakt_web::WebState {
        store: store.clone(),
        metrics: Arc::new(|| metrics_handle().map(|h| h.render()).unwrap_or_default()),
        hasher,
        entropy: Arc::new(vakt_core::OsEntropy),
        security: vakt_web::auth::SecurityConfig {
            secure_cookies: settings.security.secure_cookies,
            policy: vakt_service::access::Policy {
                session_hours: settings.security.session_hours.max(1),
                failures_max: settings.security.failures_max.max(1),
                lock_s: settings.security.lock_s,
            },
        },
        changes: changes.clone(),
        clock: Arc::new(SystemClock),
        links: Arc::default(),
        cluster: {
            let view = cluster.clone();
            Arc::new(move || {
                view.lock()
                    .map(|v| serde_json::to_value(&*v).unwrap_or_default())
                    .unwrap_or_default()
            })
        },
    })
}

/// Starts Vakt: store, receiver and HTTP server.
///
/// # Errors
/// When the database cannot be opened or an address cannot be bound.
pub async fn launch(settings: Settings) -> anyhow::Result<App> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    raise_file_limit(&settings);
    let (store, database) = open_store(&settings, clock.clone()).await?;
    if let Database::Postgres(_) = database
        && (settings.security.secret_key.is_empty() || settings.http.api_token.is_empty())
    {
        anyhow::bail!(
            "on PostgreSQL every node must share the same secrets: set [security] secret_key and \
             [http] api_token (VAKT_SECURITY__SECRET_KEY, VAKT_HTTP__API_TOKEN) on every node"
        );
    }
    let sealed = store.seal_stored_keys().await.context(
        "the stored transmitter keys: they must open with this server secret ([security] secret_key)",
    )?;
    if sealed > 0 {
        tracing::warn!(
            sealed,
            "sealed transmitter keys an older Vakt had stored in the clear"
        );
    }
    let (api_token, api_token_file) = api_token(&settings)?;
    // The configured (or generated) token keeps working: it is the admin API client.
    vakt_service::access::keep_configured_token(&store, &api_token)
        .await
        .context("registering the configured API token as an admin client")?;
    let shutdown = CancellationToken::new();

    let table = TableHandle::default();
    table.replace(TransmitterTable::new(store.transmitters().await?));
    let poll = Duration::from_millis(settings.receiver.registry_poll_ms.max(50));
    tokio::spawn(vakt_receiver::follow_registry(
        store.clone(),
        table.clone(),
        poll,
        shutdown.clone(),
    ));

    let config = ReceiverConfig {
        listeners: settings.receiver.listeners.clone(),
        limits: settings.receiver.limits,
        bad_frame_answer: settings.receiver.bad_frame_answer,
        default_window: vakt_dc09::Window::default(),
        default_dialect: vakt_dc09::Dialect::default(),
    };
    let receiver = vakt_receiver::start(
        config,
        store.clone(),
        table,
        clock.clone(),
        shutdown.clone(),
    )
    .await
    .context("starting the DC-09 receiver")?;
    let dc09 = receiver.bound.clone();

    let hasher = hasher(&settings)?;
    let changes = vakt_engine::Changes::default();
    let engine = engine_config(&settings);
    let cluster = cluster::SharedView::default();
    let mut background = start_engines(
        &settings,
        &store,
        &database,
        engine,
        (&changes, &cluster),
        &shutdown,
    )
    .await?;
    background.extend([tokio::spawn(vakt_notify::run(
        store.clone(),
        clock.clone(),
        settings.notify.clone(),
        shutdown.clone(),
    ))]);
    let state = web_state(&settings, &store, hasher.clone(), (&changes, &cluster));
    let listener = tokio::net::TcpListener::bind(settings.http.listen)
        .await
        .with_context(|| format!("binding the HTTP address {}", settings.http.listen))?;
    let http = listener.local_addr()?;
    let stop_http = shutdown.clone();
    let http_task = tokio::spawn(async move {
        let served =
            vakt_web::serve(listener, state, async move { stop_http.cancelled().await }).await;
        if let Err(error) = served {
            tracing::error!(%error, "the HTTP server stopped");
        }
    });
    Ok(App {
        dc09,
        http,
        api_token,
        api_token_file,
        database: database.describe(),
        cluster,
        changes,
        hasher,
        shutdown,
        receiver,
        http_task,
        background,
        store,
    })
}

impl App {
    /// Stops accepting, answers what committed, closes the journal, and returns.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.receiver.wait().await;
        for task in self.background {
            let _ = task.await;
        }
        let _ = self.http_task.await;
        self.store.close().await;
    }

    /// The address of a DC-09 listener by transport (`tcp` or `udp`).
    #[must_use]
    pub fn dc09_address(&self, transport: vakt_store::Transport) -> Option<SocketAddr> {
        self.dc09
            .iter()
            .find(|b| b.transport == transport)
            .map(|b| b.address)
    }
}

/// Installs the metrics recorder (once per process); `launch` works without it.
pub fn install_metrics() {
    let _ = metrics_handle();
}

/// Waits for Ctrl-C or, on Unix, SIGTERM.
pub async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
