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
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot};
use vakt_core::Category;
use vakt_core::Clock;
use vakt_core::UnixMicros;
use vakt_core::centre::{KeyAction, Step};
use vakt_store::{
    Actor, AlarmPoint, AuditEntry, Centre, Customer, Dispatch, DispatchUpdate, EngineChange,
    GuardCompany, ImportOutcome, IncidentAction, IncidentDetail, IncidentTimes, Journal, KeyEvent,
    LinkState, NewContact, NewCustomer, NewSite, NewStaff, NewTransmitter, OutboxMessage,
    PanelUser, QueueItem, Receipt, Registry, SecretRef, SecretState, Session, SignalFilter,
    SignalRecord, SiteDetail, SiteSummary, Staff, StoreError, StoredSignal, TestMode, Transmitter,
};
use vakt_store_sql::{centre, registry, rows};

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
#[derive(Clone)]
pub struct SqliteStore {
    readers: AnyPool,
    checkpointer: Arc<tokio::task::AbortHandle>,
    commands: mpsc::Sender<Command>,
    writer: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
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

/// Copies the WAL back into the database every `interval` from a reader connection, so the
/// writer's thread never stops to do it (the writer runs with automatic checkpoints off). A
/// passive checkpoint never blocks the writer.
async fn checkpoints(readers: AnyPool, interval: Duration, enabled: bool) {
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
        let store_clock = clock.clone();
        let task = tokio::spawn(writer::run(
            writer,
            centre_writer,
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
            clock: store_clock,
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

    /// Runs `work` on the writer's connection, in turn with every other write.
    async fn job<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> writer::ResultFuture<'c, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: writer::Job = Box::new(move |connection| {
            Box::pin(async move {
                let _ = reply.send(work(connection).await);
            })
        });
        self.commands
            .send(Command::Run(job))
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

    async fn set_link_token(
        &self,
        transmitter_id: i64,
        token_hash: String,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| {
            Box::pin(centre::set_link_token(
                c,
                transmitter_id,
                token_hash,
                by,
                now,
            ))
        })
        .await
    }

    async fn link_transmitter(&self, token_hash: &str) -> Result<Option<Transmitter>, StoreError> {
        registry::link_transmitter(&self.readers, token_hash).await
    }
}

impl Centre for SqliteStore {
    async fn customers(&self) -> Result<Vec<Customer>, StoreError> {
        centre::customers(&self.readers).await
    }

    async fn save_customer(
        &self,
        id: Option<i64>,
        customer: NewCustomer,
        by: &Actor,
    ) -> Result<i64, StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::save_customer(c, id, customer, by, now)))
            .await
    }

    async fn sites(&self) -> Result<Vec<SiteSummary>, StoreError> {
        centre::sites(&self.readers).await
    }

    async fn site(&self, id: i64) -> Result<SiteDetail, StoreError> {
        centre::site(&self.readers, id).await
    }

    async fn save_site(
        &self,
        id: Option<i64>,
        site: NewSite,
        by: &Actor,
    ) -> Result<i64, StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::save_site(c, id, site, by, now)))
            .await
    }

    async fn save_points(
        &self,
        site_id: i64,
        points: Vec<AlarmPoint>,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::save_points(c, site_id, points, by, now)))
            .await
    }

    async fn save_panel_users(
        &self,
        site_id: i64,
        users: Vec<PanelUser>,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::save_panel_users(c, site_id, users, by, now)))
            .await
    }

    async fn save_contacts(
        &self,
        site_id: i64,
        contacts: Vec<NewContact>,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::save_contacts(c, site_id, contacts, by, now)))
            .await
    }

    async fn save_instruction(
        &self,
        site_id: i64,
        category: Category,
        steps: Vec<Step>,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| {
            Box::pin(centre::save_instruction(
                c, site_id, category, steps, by, now,
            ))
        })
        .await
    }

    async fn set_revoking_code(
        &self,
        site_id: i64,
        hash: String,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::set_revoking_code(c, site_id, hash, by, now)))
            .await
    }

    async fn set_test_mode(
        &self,
        site_id: i64,
        mode: TestMode,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::set_test_mode(c, site_id, mode, by, now)))
            .await
    }

    async fn attach_transmitter(
        &self,
        transmitter_id: i64,
        site_id: i64,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| {
            Box::pin(centre::attach_transmitter(
                c,
                transmitter_id,
                site_id,
                by,
                now,
            ))
        })
        .await
    }

    async fn secret(&self, which: SecretRef) -> Result<SecretState, StoreError> {
        centre::secret(&self.readers, which).await
    }

    async fn record_check(
        &self,
        which: SecretRef,
        right: bool,
        now: UnixMicros,
        failures_max: u32,
        lock_us: i64,
    ) -> Result<SecretState, StoreError> {
        self.job(move |c| {
            Box::pin(centre::record_check(
                c,
                which,
                right,
                now,
                failures_max,
                lock_us,
            ))
        })
        .await
    }

    async fn guard_companies(&self) -> Result<Vec<GuardCompany>, StoreError> {
        centre::guard_companies(&self.readers).await
    }

    async fn save_guard_company(
        &self,
        company: GuardCompany,
        by: &Actor,
    ) -> Result<i64, StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::save_guard_company(c, company, by, now)))
            .await
    }

    async fn add_key(
        &self,
        site_id: i64,
        label: String,
        storage: String,
        by: &Actor,
    ) -> Result<i64, StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::add_key(c, site_id, label, storage, by, now)))
            .await
    }

    async fn key_action(
        &self,
        key_id: i64,
        action: KeyAction,
        holder: String,
        dispatch_id: Option<i64>,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| {
            Box::pin(centre::key_action(
                c,
                key_id,
                action,
                holder,
                dispatch_id,
                by,
                now,
            ))
        })
        .await
    }

    async fn key_events(&self, key_id: i64) -> Result<Vec<KeyEvent>, StoreError> {
        centre::key_events(&self.readers, key_id).await
    }

    async fn create_staff(&self, staff: NewStaff, by: &Actor) -> Result<i64, StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(centre::create_staff(c, staff, by, now)))
            .await
    }

    async fn staff(&self) -> Result<Vec<Staff>, StoreError> {
        centre::staff(&self.readers).await
    }

    async fn staff_by_login(&self, login: &str) -> Result<Staff, StoreError> {
        centre::staff_by_login(&self.readers, login).await
    }

    async fn create_session(
        &self,
        token_hash: String,
        staff_id: i64,
        csrf: String,
        now: UnixMicros,
        expires_at: UnixMicros,
    ) -> Result<(), StoreError> {
        self.job(move |c| {
            Box::pin(centre::create_session(
                c, token_hash, staff_id, csrf, now, expires_at,
            ))
        })
        .await
    }

    async fn session(&self, token_hash: &str, now: UnixMicros) -> Result<Session, StoreError> {
        centre::session(&self.readers, token_hash, now).await
    }

    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.job(move |c| Box::pin(centre::end_session(c, token_hash)))
            .await
    }

    async fn engine_cursor(&self) -> Result<i64, StoreError> {
        centre::engine_cursor(&self.readers).await
    }

    async fn apply_engine(
        &self,
        cursor: i64,
        changes: Vec<EngineChange>,
        now: UnixMicros,
    ) -> Result<Vec<i64>, StoreError> {
        self.job(move |c| Box::pin(centre::apply_engine(c, cursor, changes, now)))
            .await
    }

    async fn link_states(&self) -> Result<Vec<LinkState>, StoreError> {
        centre::link_states(&self.readers).await
    }

    async fn expired_test_modes(
        &self,
        now: UnixMicros,
    ) -> Result<Vec<(i64, Option<u32>)>, StoreError> {
        centre::expired_test_modes(&self.readers, now).await
    }

    async fn point_alarms_since(
        &self,
        site_id: i64,
        zone: u32,
        since: UnixMicros,
    ) -> Result<u32, StoreError> {
        centre::point_alarms_since(&self.readers, site_id, zone, since).await
    }

    async fn queue(&self) -> Result<Vec<QueueItem>, StoreError> {
        centre::queue(&self.readers).await
    }

    async fn incident(&self, id: i64) -> Result<IncidentDetail, StoreError> {
        centre::incident(&self.readers, id).await
    }

    async fn site_history(&self, site_id: i64, limit: u32) -> Result<Vec<QueueItem>, StoreError> {
        centre::site_history(&self.readers, site_id, limit).await
    }

    async fn act(
        &self,
        incident_id: i64,
        action: IncidentAction,
        by: &Actor,
        now: UnixMicros,
    ) -> Result<Option<i64>, StoreError> {
        let by = by.clone();
        self.job(move |c| Box::pin(centre::act(c, incident_id, action, by, now)))
            .await
    }

    async fn dispatches_for(&self, guard_company_id: i64) -> Result<Vec<Dispatch>, StoreError> {
        centre::dispatches_for(&self.readers, guard_company_id).await
    }

    async fn update_dispatch(
        &self,
        dispatch_id: i64,
        guard_company_id: i64,
        update: DispatchUpdate,
        by: &Actor,
        now: UnixMicros,
    ) -> Result<i64, StoreError> {
        let by = by.clone();
        self.job(move |c| {
            Box::pin(centre::update_dispatch(
                c,
                dispatch_id,
                guard_company_id,
                update,
                by,
                now,
            ))
        })
        .await
    }

    async fn incident_times(&self, since: UnixMicros) -> Result<Vec<IncidentTimes>, StoreError> {
        centre::incident_times(&self.readers, since).await
    }

    async fn audit(
        &self,
        entity: Option<String>,
        entity_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        centre::audit_entries(&self.readers, entity, entity_id, limit).await
    }

    async fn claim_messages(
        &self,
        now: UnixMicros,
        limit: u32,
        lease_us: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.job(move |c| Box::pin(centre::claim_messages(c, now, limit, lease_us)))
            .await
    }

    async fn message_delivered(&self, id: i64, now: UnixMicros) -> Result<(), StoreError> {
        self.job(move |c| Box::pin(centre::message_delivered(c, id, now)))
            .await
    }

    async fn message_failed(
        &self,
        id: i64,
        error: String,
        retry_at: Option<UnixMicros>,
    ) -> Result<(), StoreError> {
        self.job(move |c| Box::pin(centre::message_failed(c, id, error, retry_at)))
            .await
    }

    async fn messages(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        centre::messages(&self.readers, limit).await
    }
}

#[cfg(test)]
mod tests;
