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

mod migrations;
mod registry;
mod rows;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot};
use vakt_core::Clock;
use vakt_store::{
    ImportOutcome, Journal, NewTransmitter, Receipt, Registry, SignalFilter, SignalRecord,
    StoreError, StoredSignal, Transmitter,
};

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

/// The SQLite store. Cheap to clone; all clones share one writer.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    readers: SqlitePool,
    checkpointer: Arc<tokio::task::AbortHandle>,
    commands: mpsc::Sender<Command>,
    writer: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

pub(crate) fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

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

/// Copies the WAL back into the database every `interval` from a reader connection, so the
/// writer's thread never stops to do it (the writer runs with automatic checkpoints off). A
/// passive checkpoint never blocks the writer.
async fn checkpoints(readers: SqlitePool, interval: Duration, enabled: bool) {
    if !enabled {
        return;
    }
    loop {
        tokio::time::sleep(interval).await;
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&readers)
            .await
        {
            tracing::warn!(%error, "WAL checkpoint failed; will retry");
        }
    }
}

impl SqliteStore {
    /// Opens (creating when missing) and migrates the database, and starts the writer.
    ///
    /// # Errors
    /// When the file cannot be opened or migrated.
    pub async fn open(
        options: SqliteOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = options.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(unavailable)?;
        }
        let connect = connect_options(&options);
        let background_checkpoints = options.checkpoint_interval_ms > 0;
        let autocheckpoint = if background_checkpoints { "0" } else { "1000" };
        let mut writer = connect
            .clone()
            .pragma("wal_autocheckpoint", autocheckpoint)
            .connect()
            .await
            .map_err(unavailable)?;
        migrations::run(&mut writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(options.readers_max.max(1))
            .connect_with(connect)
            .await
            .map_err(unavailable)?;
        let (commands, queue) = mpsc::channel(options.queue_writes_max.max(1));
        let state = writer::State::load(&mut writer, &options, clock.now()).await?;
        let task = tokio::spawn(writer::run(
            writer,
            queue,
            state,
            options.batch_signals_max.max(1),
        ));
        let checkpointer = tokio::spawn(checkpoints(
            readers.clone(),
            Duration::from_millis(options.checkpoint_interval_ms),
            background_checkpoints,
        ));
        Ok(SqliteStore {
            checkpointer: Arc::new(checkpointer.abort_handle()),
            readers,
            commands,
            writer: Arc::new(tokio::sync::Mutex::new(Some(task))),
        })
    }

    /// Only migrates the database (for `vakt migrate`).
    ///
    /// # Errors
    /// When the file cannot be opened or migrated.
    pub async fn migrate(options: &SqliteOptions) -> Result<(), StoreError> {
        let mut connection = connect_options(options)
            .connect()
            .await
            .map_err(unavailable)?;
        migrations::run(&mut connection).await?;
        connection.close().await.map_err(unavailable)
    }

    /// Finishes the writes already queued, stops the writer and closes the database.
    pub async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = finished.await;
        }
        if let Some(task) = self.writer.lock().await.take() {
            let _ = task.await;
        }
        self.checkpointer.abort();
        self.readers.close().await;
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

impl Journal for SqliteStore {
    async fn append(&self, record: SignalRecord) -> Result<Receipt, StoreError> {
        self.ask(|reply| Command::Append(Box::new(record), reply))
            .await
    }

    async fn signals(&self, filter: &SignalFilter) -> Result<Vec<StoredSignal>, StoreError> {
        rows::signals(&self.readers, filter).await
    }
}

impl Registry for SqliteStore {
    async fn transmitters(&self) -> Result<Vec<Transmitter>, StoreError> {
        registry::transmitters(&self.readers).await
    }

    async fn registry_revision(&self) -> Result<i64, StoreError> {
        registry::revision(&self.readers).await
    }

    async fn import_transmitters(
        &self,
        transmitters: Vec<NewTransmitter>,
    ) -> Result<ImportOutcome, StoreError> {
        self.ask(|reply| Command::Import(transmitters, reply)).await
    }

    async fn delete_transmitter(&self, id: i64) -> Result<(), StoreError> {
        self.ask(|reply| Command::DeleteTransmitter(id, reply))
            .await
    }
}

#[cfg(test)]
mod tests;
