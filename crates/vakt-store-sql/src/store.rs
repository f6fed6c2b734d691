//! One store over either database: the traits implemented once on the shared SQL, with the
//! backend supplying only what differs (how the journal commits, and how a write runs).
//!
//! SQLite runs every write on its one writer task; PostgreSQL runs each on a pooled
//! connection. Either way a write is a [`Job`]: a closure given a connection, which the
//! [`Backend`] runs in turn.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::oneshot;
use vakt_core::centre::{KeyAction, Step};
use vakt_core::{Category, Clock, UnixMicros};
use vakt_store::{
    Actor, AlarmPoint, AuditEntry, Centre, CheckStart, CommitHealth, CommitStatus, Committed,
    Customer, Dispatch, DispatchUpdate, EngineChange, GuardCompany, ImportOutcome, IncidentAction,
    IncidentDetail, IncidentTimes, Journal, KeyEvent, LinkState, NewContact, NewCustomer, NewSite,
    NewStaff, NewTransmitter, OutboxMessage, PanelUser, QueueItem, Registry, SecretRef,
    SecretState, Session, Shard, ShardLease, SignalFilter, SignalRecord, SiteDetail, SiteSummary,
    Staff, StoreError, StoredSignal, TestMode, Transmitter,
};

use crate::{centre, registry, rows};

/// A boxed future, as object-safe traits need.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A write: run on a connection, it sends its own result.
pub type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, JobOutcome> + Send>;

/// How a write job ended, as the backend needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done, or refused for a reason of its own (a conflict, bad input).
    Done,
    /// The database failed under it (disk full, I/O): the connection may be left in a state
    /// the driver does not know of, such as a transaction still open, and is best replaced.
    DatabaseFailed,
}

/// What a database backend supplies.
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// Queues one record for the journal behind those queued before it; what it returns
    /// resolves after the commit that holds it.
    fn enqueue(&self, record: SignalRecord) -> BoxFuture<'_, Result<Committed, StoreError>>;
    /// Runs a write job; `Closed` when the backend no longer takes work.
    fn run(&self, job: Job) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Finishes queued writes and stops.
    fn close(&self) -> BoxFuture<'_, ()>;
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
}

/// The store. Cheap to clone; clones share the backend.
#[derive(Clone)]
pub struct SqlStore {
    backend: Arc<dyn Backend>,
    readers: AnyPool,
    clock: Arc<dyn Clock>,
    health: Arc<CommitHealth>,
    seal: registry::Seal,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// A store over `backend`, reading through `readers`.
    #[must_use]
    pub fn new(backend: Arc<dyn Backend>, readers: AnyPool, clock: Arc<dyn Clock>) -> SqlStore {
        SqlStore {
            backend,
            readers,
            clock,
            health: Arc::default(),
            seal: None,
        }
    }

    /// This store with transmitter keys sealed at rest under `seal` (`vakt_store::seal`).
    #[must_use]
    pub fn with_key_seal(mut self, seal: vakt_store::seal::KeySeal) -> SqlStore {
        self.seal = Some(Arc::new(seal));
        self
    }

    /// Seals every transmitter key still stored in the clear, and checks that the sealed ones
    /// open; returns how many were sealed.
    ///
    /// # Errors
    /// When a sealed key does not open (another server secret) or the database fails.
    pub async fn seal_stored_keys(&self) -> Result<usize, StoreError> {
        let seal = self.seal.clone();
        self.job(move |c| Box::pin(registry::seal_stored_keys(c, seal)))
            .await
    }

    /// The reading pool, for checks of the database's own settings.
    #[must_use]
    pub fn readers(&self) -> &AnyPool {
        &self.readers
    }

    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// Finishes the writes already queued and closes the database.
    pub async fn close(&self) {
        self.backend.close().await;
        self.readers.close().await;
    }

    /// Runs `work` as a write, in turn with the backend's other writes.
    async fn job<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let result = work(connection).await;
                let outcome = match result {
                    Err(StoreError::Unavailable(_)) => JobOutcome::DatabaseFailed,
                    _ => JobOutcome::Done,
                };
                let _ = reply.send(result);
                outcome
            })
        });
        self.backend.run(job).await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

impl Journal for SqlStore {
    async fn enqueue(&self, record: SignalRecord) -> Result<Committed, StoreError> {
        let committed = self.backend.enqueue(record).await?;
        let health = self.health.clone();
        Ok(Box::pin(async move {
            let outcome = committed.await;
            match &outcome {
                Ok(_) => health.succeeded(),
                Err(StoreError::Unavailable(reason)) => health.failed(reason),
                Err(_) => {}
            }
            outcome
        }))
    }

    fn commit_status(&self) -> CommitStatus {
        self.health.status()
    }

    async fn journal_head(&self) -> Result<i64, StoreError> {
        rows::journal_head(&self.readers).await
    }

    async fn signals(&self, filter: &SignalFilter) -> Result<Vec<StoredSignal>, StoreError> {
        rows::signals(&self.readers, filter).await
    }
}

impl Registry for SqlStore {
    async fn transmitters(&self) -> Result<Vec<Transmitter>, StoreError> {
        registry::transmitters(&self.readers, &self.seal).await
    }

    async fn registry_revision(&self) -> Result<i64, StoreError> {
        registry::revision(&self.readers).await
    }

    async fn import_transmitters(
        &self,
        transmitters: Vec<NewTransmitter>,
    ) -> Result<ImportOutcome, StoreError> {
        let seal = self.seal.clone();
        self.job(move |c| Box::pin(registry::import(c, transmitters, seal)))
            .await
    }

    async fn delete_transmitter(&self, id: i64) -> Result<(), StoreError> {
        self.job(move |c| Box::pin(registry::delete(c, id))).await
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
        registry::link_transmitter(&self.readers, token_hash, &self.seal).await
    }
}

impl Centre for SqlStore {
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

    async fn begin_check(
        &self,
        which: SecretRef,
        now: UnixMicros,
        policy: vakt_core::lockout::Lockout,
    ) -> Result<CheckStart, StoreError> {
        self.job(move |c| Box::pin(centre::begin_check(c, which, now, policy)))
            .await
    }

    async fn check_passed(&self, which: SecretRef) -> Result<(), StoreError> {
        self.job(move |c| Box::pin(centre::check_passed(c, which)))
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

    async fn take_shard(&self, shard: Shard) -> Result<ShardLease, StoreError> {
        self.job(move |c| Box::pin(centre::take_shard(c, shard)))
            .await
    }

    async fn engine_cursor(&self, shard: Shard) -> Result<i64, StoreError> {
        centre::engine_cursor(&self.readers, shard).await
    }

    async fn apply_engine(
        &self,
        lease: ShardLease,
        cursor: i64,
        changes: Vec<EngineChange>,
        now: UnixMicros,
    ) -> Result<Vec<i64>, StoreError> {
        self.job(move |c| Box::pin(centre::apply_engine(c, lease, cursor, changes, now)))
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
        since: UnixMicros,
    ) -> Result<Vec<(i64, u32, UnixMicros)>, StoreError> {
        centre::point_alarms_since(&self.readers, since).await
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
