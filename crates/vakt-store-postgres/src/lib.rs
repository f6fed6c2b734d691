//! Vakt's store on PostgreSQL: several nodes on one database, none holding state the others
//! need.
//!
//! - The alarm centre and the registry run the shared SQL of `vakt-store-sql` on a pool;
//!   its write transactions are serialised across nodes by one advisory lock, so they behave
//!   exactly as on SQLite's one writer, and incident changes are announced with `NOTIFY`.
//! - The journal commits in groups on each node and in one order across nodes
//!   ([`journal`]).
//! - The outbox is claimed with `FOR UPDATE SKIP LOCKED`, so each message goes out once.
//! - [`cluster`]: which nodes are alive and which owns each engine shard (advisory locks held
//!   on one connection per node), and the listener that hands `NOTIFY`s to the live queue.

pub mod cluster;
mod journal;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vakt_core::Clock;
use vakt_store::{Committed, SignalRecord, StoreError};
use vakt_store_sql::migrations::Dialect;
use vakt_store_sql::store::{Backend, BoxFuture, Job, JobOutcome, queue_for_commit};
use vakt_store_sql::{SqlStore, unavailable};

/// How the PostgreSQL store is set up.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Connections in the pool for the centre's reads and writes.
    pub pool_max: u32,
    /// Most journal records committed in one transaction.
    pub batch_signals_max: usize,
    /// Most journal records queued for the writer before callers wait.
    pub queue_writes_max: usize,
    /// How long a retransmission is recognised as the same message.
    pub duplicate_window_s: u32,
    /// How long to wait for a connection from the pool before a request fails.
    pub acquire_timeout_ms: u64,
}

impl PgOptions {
    /// Defaults for the database at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            pool_max: 16,
            batch_signals_max: 512,
            queue_writes_max: 16_384,
            duplicate_window_s: 120,
            acquire_timeout_ms: 5_000,
        }
    }
}

/// The native driver's options for `url` (the journal, the locks and the listener use them).
///
/// # Errors
/// When the URL is not a PostgreSQL URL.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url)
        .map(|options| options.log_statements(tracing::log::LevelFilter::Trace))
        .map_err(|error| StoreError::Unavailable(format!("the database URL: {error}")))
}

/// The PostgreSQL side of the store: the journal's writer task and the centre's pool.
pub struct PgBackend {
    journal: mpsc::Sender<journal::Append>,
    writer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    stop: CancellationToken,
    pool: sqlx::AnyPool,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend").finish_non_exhaustive()
    }
}

/// Connects, migrates (once, however many nodes start at the same moment) and starts the
/// journal's writer.
///
/// # Errors
/// When the database cannot be reached or migrated.
pub async fn open(options: PgOptions, clock: Arc<dyn Clock>) -> Result<SqlStore, StoreError> {
    migrate(&options.url).await?;
    sqlx::any::install_default_drivers();
    let any = AnyConnectOptions::from_str(&options.url).map_err(unavailable)?;
    let pool = AnyPoolOptions::new()
        .max_connections(options.pool_max.max(2))
        .acquire_timeout(Duration::from_millis(options.acquire_timeout_ms))
        .connect_with(any)
        .await
        .map_err(unavailable)?;
    let (journal, queue) = mpsc::channel(options.queue_writes_max.max(1));
    let stop = CancellationToken::new();
    let writer = tokio::spawn(journal::run(
        connect_options(&options.url)?,
        queue,
        options.batch_signals_max.max(1),
        i64::from(options.duplicate_window_s) * 1_000_000,
        stop.clone(),
    ));
    let backend = PgBackend {
        journal,
        writer: tokio::sync::Mutex::new(Some(writer)),
        stop,
        pool: pool.clone(),
    };
    Ok(SqlStore::new(Arc::new(backend), pool, clock))
}

/// Only migrates the database (for `vakt migrate`).
///
/// # Errors
/// When the database cannot be reached or migrated.
pub async fn migrate(url: &str) -> Result<(), StoreError> {
    let mut connection = connect_options(url)?.connect().await.map_err(unavailable)?;
    vakt_store_sql::migrations::run(&mut connection, Dialect::Postgres).await?;
    connection.close().await.map_err(unavailable)
}

/// Creates an empty database next to the one `url` names and returns its URL: for tests and
/// benchmarks that need a database of their own on a shared server.
///
/// # Errors
/// When the server refuses.
pub async fn scratch_database(url: &str, name: &str) -> Result<String, StoreError> {
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Conflict(format!(
            "not a plain database name: {name}"
        )));
    }
    let options = connect_options(url)?;
    let mut admin = options.connect().await.map_err(unavailable)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .map_err(unavailable)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .map_err(unavailable)?;
    admin.close().await.map_err(unavailable)?;
    let base = url.split('?').next().unwrap_or(url);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    Ok(format!("{server}/{name}"))
}

impl Backend for PgBackend {
    fn enqueue(&self, record: SignalRecord) -> BoxFuture<'_, Result<Committed, StoreError>> {
        Box::pin(queue_for_commit(&self.journal, move |reply| {
            (Box::new(record), reply)
        }))
    }

    fn run(&self, job: Job) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut connection = self.pool.acquire().await.map_err(unavailable)?;
            // A pooled connection the database failed under is closed, not reused.
            if job(&mut connection).await == JobOutcome::DatabaseFailed {
                connection.close_on_drop();
            }
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // The store's clones may still hold senders, so the writer is told to stop; it
            // commits what is queued first.
            self.stop.cancel();
            if let Some(task) = self.writer.lock().await.take() {
                let _ = task.await;
            }
        })
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}
