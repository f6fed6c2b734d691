//! Vakt's store on SQLite: one file, no server, durable.
//!
//! Every write goes through one writer task that owns the only writing connection, so the
//! journal never fights other writes for SQLite's lock. The writer commits the journal in
//! groups: it takes every record queued while the previous commit ran (up to
//! `batch_signals_max`) and commits them in one transaction, so one fsync carries many
//! signals. Each `append` resolves only after that commit has returned. Readers use a pool.
//!
//! Durability is set explicitly, never left to a default: WAL, `synchronous=FULL`,
//! `foreign_keys=ON`, and a `busy_timeout`.

mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AnyConnection, ConnectOptions, Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use vakt_core::Clock;
use vakt_store::{Committed, SignalRecord, StoreError};
use vakt_store_sql::SqlStore;
use vakt_store_sql::migrations::Dialect;
use vakt_store_sql::store::{Backend, BoxFuture, Job, queue_for_commit};

use crate::writer::Command;

/// How the SQLite store is set up.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// The database file; created when missing.
    pub path: PathBuf,
    /// Most journal records committed in one transaction.
    pub batch_signals_max: usize,
    /// Most writes queued for the writer before callers wait.
    pub queue_writes_max: usize,
    /// How long a retransmission is recognised as the same message.
    pub duplicate_window_s: u32,
    /// Connections for reading.
    pub readers_max: u32,
    /// How long a connection waits for SQLite's lock.
    pub busy_timeout_ms: u64,
    /// How often the WAL is copied back into the database, off the writer's thread; 0 leaves
    /// it to the writer (SQLite's automatic checkpoint every 1000 pages).
    pub checkpoint_interval_ms: u64,
    /// SQLite's page cache per connection, in KiB.
    pub cache_kib: u32,
}

impl SqliteOptions {
    /// Defaults for a database at `path`.
    #[must_use]
    pub fn new(path: PathBuf) -> SqliteOptions {
        SqliteOptions {
            path,
            batch_signals_max: 512,
            queue_writes_max: 16_384,
            duplicate_window_s: 120,
            readers_max: 4,
            busy_timeout_ms: 5_000,
            checkpoint_interval_ms: 250,
            cache_kib: 32 * 1024,
        }
    }
}

/// The SQLite side of the store: the one writer task and the WAL checkpoints.
pub struct SqliteBackend {
    checkpointer: tokio::task::AbortHandle,
    commands: mpsc::Sender<Command>,
    writer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend").finish_non_exhaustive()
    }
}

pub(crate) use vakt_store_sql::unavailable;

fn connect_options(options: &SqliteOptions) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(&options.path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_millis(options.busy_timeout_ms))
        .pragma("cache_size", format!("-{}", options.cache_kib))
        .log_statements(tracing::log::LevelFilter::Trace)
}

/// The same file and settings for the shared SQL, which speaks through sqlx's `Any` driver:
/// the pragmas are set on every connection it opens.
fn any_options(options: &SqliteOptions) -> Result<AnyConnectOptions, StoreError> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rwc", options.path.display());
    url.parse::<AnyConnectOptions>().map_err(unavailable)
}

async fn set_pragmas(
    connection: &mut AnyConnection,
    busy_timeout_ms: u64,
    cache_kib: u32,
) -> Result<(), sqlx::Error> {
    for pragma in [
        "PRAGMA foreign_keys = ON".to_owned(),
        "PRAGMA synchronous = FULL".to_owned(),
        format!("PRAGMA busy_timeout = {busy_timeout_ms}"),
        format!("PRAGMA cache_size = -{cache_kib}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(pragma))
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// Copies the WAL back into the database every `interval` on a connection of its own, so the
/// writer's thread never stops to do it (the writer runs with automatic checkpoints off). A
/// passive checkpoint never blocks the writer. After a failure (a full disk, say) the
/// connection is closed and a new one opened for the next try: a failed checkpoint can leave
/// its connection holding an old snapshot, which must not end up serving reads or holding
/// locks.
async fn checkpoints(connect: SqliteConnectOptions, interval: Duration, enabled: bool) {
    if !enabled {
        return;
    }
    let mut connection: Option<SqliteConnection> = None;
    loop {
        tokio::time::sleep(interval).await;
        let outcome = match connection.as_mut() {
            Some(open) => sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut *open)
                .await
                .map(drop),
            None => match connect.connect().await {
                Ok(open) => {
                    connection = Some(open);
                    continue;
                }
                Err(error) => Err(error),
            },
        };
        if let Err(error) = outcome {
            tracing::warn!(%error, "WAL checkpoint failed; will retry on a new connection");
            if let Some(old) = connection.take() {
                let _ = old.close().await;
            }
        }
    }
}

/// Creates the database file 0600 (its folder 0700) before SQLite does, so that it and the
/// `-wal` and `-shm` files SQLite makes beside it with the same mode are Vakt's alone, and
/// tightens any of the three found looser.
fn private_files(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.exists()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = std::path::PathBuf::from(name);
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                tracing::warn!(
                    path = %file.display(),
                    was = format!("{mode:o}"),
                    "tightened a database file that others could read to 600"
                );
            }
        }
    }
    #[cfg(not(unix))]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    Ok(())
}

/// Opens (creating when missing) and migrates the database, and starts the writer.
///
/// # Errors
/// When the file cannot be opened or migrated.
pub async fn open(options: SqliteOptions, clock: Arc<dyn Clock>) -> Result<SqlStore, StoreError> {
    private_files(&options.path).map_err(unavailable)?;
    let connect = connect_options(&options);
    let background_checkpoints = options.checkpoint_interval_ms > 0;
    let autocheckpoint = if background_checkpoints { "0" } else { "1000" };
    let mut writer = connect
        .clone()
        .pragma("wal_autocheckpoint", autocheckpoint)
        .connect()
        .await
        .map_err(unavailable)?;
    vakt_store_sql::migrations::run(&mut writer, Dialect::Sqlite).await?;
    let any = any_options(&options)?;
    let (busy_timeout_ms, cache_kib) = (options.busy_timeout_ms, options.cache_kib);
    let mut centre_writer = AnyConnection::connect_with(&any)
        .await
        .map_err(unavailable)?;
    set_pragmas(&mut centre_writer, busy_timeout_ms, cache_kib)
        .await
        .map_err(unavailable)?;
    drop(connect);
    let readers = AnyPoolOptions::new()
        .max_connections(options.readers_max.max(1))
        .after_connect(move |connection, _| {
            Box::pin(set_pragmas(connection, busy_timeout_ms, cache_kib))
        })
        .connect_with(any)
        .await
        .map_err(unavailable)?;
    let (commands, queue) = mpsc::channel(options.queue_writes_max.max(1));
    let state = writer::State::load(&mut writer, &options, clock.now()).await?;
    let reopen = {
        let journal_options =
            connect_options(&options).pragma("wal_autocheckpoint", autocheckpoint);
        let centre_options = any_options(&options)?;
        let (options, clock) = (options.clone(), clock.clone());
        writer::Reopen {
            journal: Box::new(move || {
                let connect = journal_options.clone();
                Box::pin(async move { connect.connect().await.map_err(unavailable) })
            }),
            centre: Box::new(move || {
                let connect = centre_options.clone();
                Box::pin(async move {
                    let mut connection = AnyConnection::connect_with(&connect)
                        .await
                        .map_err(unavailable)?;
                    set_pragmas(&mut connection, busy_timeout_ms, cache_kib)
                        .await
                        .map_err(unavailable)?;
                    Ok(connection)
                })
            }),
            state: Box::new(move |mut connection| {
                let (options, now) = (options.clone(), clock.now());
                Box::pin(async move {
                    let state = writer::State::load(&mut connection, &options, now).await?;
                    Ok((connection, state))
                })
            }),
        }
    };
    let task = tokio::spawn(writer::run(
        writer,
        centre_writer,
        queue,
        state,
        options.batch_signals_max.max(1),
        reopen,
    ));
    let checkpointer = tokio::spawn(checkpoints(
        connect_options(&options),
        Duration::from_millis(options.checkpoint_interval_ms),
        background_checkpoints,
    ));
    let backend = SqliteBackend {
        checkpointer: checkpointer.abort_handle(),
        commands,
        writer: tokio::sync::Mutex::new(Some(task)),
    };
    Ok(SqlStore::new(Arc::new(backend), readers, clock))
}

/// Only migrates the database (for `vakt migrate`).
///
/// # Errors
/// When the file cannot be opened or migrated.
pub async fn migrate(options: &SqliteOptions) -> Result<(), StoreError> {
    private_files(&options.path).map_err(unavailable)?;
    let mut connection = connect_options(options)
        .connect()
        .await
        .map_err(unavailable)?;
    vakt_store_sql::migrations::run(&mut connection, Dialect::Sqlite).await?;
    connection.close().await.map_err(unavailable)
}

impl Backend for SqliteBackend {
    fn enqueue(&self, record: SignalRecord) -> BoxFuture<'_, Result<Committed, StoreError>> {
        Box::pin(queue_for_commit(&self.commands, move |reply| {
            Command::Append(Box::new(record), reply)
        }))
    }

    fn run(&self, job: Job) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.commands
                .send(Command::Run(job))
                .await
                .map_err(|_| StoreError::Closed)
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let (done, finished) = oneshot::channel();
            if self.commands.send(Command::Shutdown(done)).await.is_ok() {
                let _ = finished.await;
            }
            if let Some(task) = self.writer.lock().await.take() {
                let _ = task.await;
            }
            self.checkpointer.abort();
        })
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests;
