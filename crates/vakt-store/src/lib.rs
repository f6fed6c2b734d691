//! The storage ports: what the rest of Vakt asks of a database, with no database in sight.
//!
//! - [`Journal`]: every DC-09 frame received, appended durably before its answer is sent.
//!   `append` resolves only after the commit that holds the record has returned; the
//!   receiver acknowledges a panel only after that.
//! - [`Registry`]: the transmitters (accounts) Vakt knows, with their keys, dialects and the
//!   site they belong to.
//!
//! - [`Centre`]: the alarm receiving centre: customers, sites, contacts, instructions,
//!   staff, incidents, dispatches, keys, the audit log and the notification outbox.
//!
//! Backends (`vakt-store-sqlite`, later `vakt-store-postgres`) implement these traits; the
//! traits speak in `vakt-core` and `vakt-dc09` values and this crate's row types only.

use std::future::Future;

use vakt_core::centre::{KeyAction, Step};
use vakt_core::{Category, UnixMicros};

pub mod centre;
pub mod forms;
pub mod input;
pub mod journal;
pub mod registry;
pub mod seal;
pub mod secret;

pub use centre::{
    Actor, AlarmPoint, AuditEntry, CheckStart, Contact, Customer, CustomerKind, Dispatch,
    DispatchUpdate, EngineChange, EventNote, GuardCompany, IncidentAction, IncidentDetail,
    IncidentEvent, IncidentState, IncidentTimes, Instruction, Key, KeyEvent, LinkState, LogEntry,
    NewContact, NewCustomer, NewMessage, NewSite, NewStaff, OutboxMessage, PanelUser, QueueItem,
    SecretRef, SecretState, Session, SiteDetail, SiteSummary, Staff, TestMode,
};
pub use input::{FieldError, TransmitterInput};
pub use journal::{
    CommitHealth, CommitStatus, Receipt, Shard, ShardLease, SignalFilter, SignalRecord,
    StoredSignal, Transport, Verdict,
};
pub use registry::{
    ImportOutcome, NewTransmitter, Site, StoredKey, TimestampPolicy, Transmitter, TransmitterRef,
};

/// What went wrong in the store, in the terms a caller decides on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or refused the operation; retrying later may work.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The store is shutting down and takes no more work.
    #[error("the store is shutting down")]
    Closed,
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The change conflicts with what is stored (a duplicate account, say).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The incident's rules refuse the move (`vakt_core::incident`), in words for people.
    #[error("refused: {0}")]
    Refused(vakt_core::incident::Refusal),
}

/// The signal journal.
/// A queued record's commit: resolves with its receipt once the commit has returned.
pub type Committed =
    std::pin::Pin<Box<dyn Future<Output = Result<Receipt, StoreError>> + Send + 'static>>;

pub trait Journal: Send + Sync + 'static {
    /// Queues one record behind every record queued before it and returns once it is
    /// queued; what it returns resolves once the commit holding the record has returned.
    /// Records one caller queues one after another get journal ids in that order, so a
    /// connection can go on reading while its commits run and still keep its frames' order.
    fn enqueue(
        &self,
        record: SignalRecord,
    ) -> impl Future<Output = Result<Committed, StoreError>> + Send;

    /// Appends one record and resolves once the commit holding it has returned.
    fn append(
        &self,
        record: SignalRecord,
    ) -> impl Future<Output = Result<Receipt, StoreError>> + Send {
        async move { self.enqueue(record).await?.await }
    }

    /// Whether commits are getting through now, for the health check.
    fn commit_status(&self) -> CommitStatus;

    /// The newest journal id (0 when the journal is empty).
    fn journal_head(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Lists records matching the filter, newest first (oldest first with `after_id`).
    fn signals(
        &self,
        filter: &SignalFilter,
    ) -> impl Future<Output = Result<Vec<StoredSignal>, StoreError>> + Send;
}

/// The transmitter registry.
pub trait Registry: Send + Sync + 'static {
    /// Every transmitter, for the receiver's lookup table.
    fn transmitters(&self) -> impl Future<Output = Result<Vec<Transmitter>, StoreError>> + Send;

    /// A number that changes whenever the registry does, so caches know when to reload.
    fn registry_revision(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Creates or replaces transmitters (matched by account, receiver and prefix), all in
    /// one transaction: either every one is stored or none is.
    fn import_transmitters(
        &self,
        transmitters: Vec<NewTransmitter>,
    ) -> impl Future<Output = Result<ImportOutcome, StoreError>> + Send;

    /// Removes a transmitter.
    fn delete_transmitter(&self, id: i64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives a transmitter's panel a new link token (its hash), replacing any earlier one.
    fn set_link_token(
        &self,
        transmitter_id: i64,
        token_hash: String,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The transmitter whose panel holds the link token with this hash.
    fn link_transmitter(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<Transmitter>, StoreError>> + Send;
}

/// The alarm receiving centre's store: registry, staff, incidents, audit and outbox.
///
/// Every change a person makes takes an [`Actor`] and writes its audit entry in the same
/// transaction as the change. Engine changes come in batches with the journal position they
/// reach, so a restart resumes exactly where the last committed batch ended.
pub trait Centre: Send + Sync + 'static {
    // --- customers and sites ---

    /// Every customer, by name.
    fn customers(&self) -> impl Future<Output = Result<Vec<Customer>, StoreError>> + Send;
    /// Creates (`id` `None`) or updates a customer; returns its id.
    fn save_customer(
        &self,
        id: Option<i64>,
        customer: NewCustomer,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Every site, by name.
    fn sites(&self) -> impl Future<Output = Result<Vec<SiteSummary>, StoreError>> + Send;
    /// One site with its points, users, contacts, instructions, transmitters and keys.
    fn site(&self, id: i64) -> impl Future<Output = Result<SiteDetail, StoreError>> + Send;
    /// Creates (`id` `None`) or updates a site's own fields; returns its id.
    fn save_site(
        &self,
        id: Option<i64>,
        site: NewSite,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Replaces a site's alarm points.
    fn save_points(
        &self,
        site_id: i64,
        points: Vec<AlarmPoint>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces a site's panel users.
    fn save_panel_users(
        &self,
        site_id: i64,
        users: Vec<PanelUser>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces a site's contacts; their order is the call order. A contact with an id
    /// keeps its password unless a new hash is given.
    fn save_contacts(
        &self,
        site_id: i64,
        contacts: Vec<NewContact>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets a site's action instruction for one category.
    fn save_instruction(
        &self,
        site_id: i64,
        category: Category,
        steps: Vec<Step>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets a site's revoking code (its hash).
    fn set_revoking_code(
        &self,
        site_id: i64,
        hash: String,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Puts a site or one point in test mode, or ends it.
    fn set_test_mode(
        &self,
        site_id: i64,
        mode: TestMode,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Attaches a transmitter to a site.
    fn attach_transmitter(
        &self,
        transmitter_id: i64,
        site_id: i64,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // --- secrets ---

    /// A secret's hash and lock state.
    fn secret(
        &self,
        which: SecretRef,
    ) -> impl Future<Output = Result<SecretState, StoreError>> + Send;
    /// Starts a check of a secret, in one write: a locked secret is refused; otherwise the
    /// attempt is counted as a failure before anyone checks it (`vakt_core::lockout`), and
    /// the hash to check against is handed out. Parallel attempts are counted one by one,
    /// so no more than `failures_max` are ever checked before a lock.
    fn begin_check(
        &self,
        which: SecretRef,
        now: UnixMicros,
        policy: vakt_core::lockout::Lockout,
    ) -> impl Future<Output = Result<CheckStart, StoreError>> + Send;

    /// A check begun with [`Centre::begin_check`] found the secret right: clears the count.
    fn check_passed(&self, which: SecretRef)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    // --- guard companies and keys ---

    /// Every guard company.
    fn guard_companies(&self)
    -> impl Future<Output = Result<Vec<GuardCompany>, StoreError>> + Send;
    /// Creates (`id` 0) or updates a guard company; returns its id.
    fn save_guard_company(
        &self,
        company: GuardCompany,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Registers a key received from the customer.
    fn add_key(
        &self,
        site_id: i64,
        label: String,
        storage: String,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Moves a key along its custody; refuses moves its state does not allow.
    fn key_action(
        &self,
        key_id: i64,
        action: KeyAction,
        holder: String,
        dispatch_id: Option<i64>,
        by: &Actor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A key's custody log, oldest first.
    fn key_events(
        &self,
        key_id: i64,
    ) -> impl Future<Output = Result<Vec<KeyEvent>, StoreError>> + Send;

    // --- staff and sessions ---

    /// Creates a member of staff; returns the id.
    fn create_staff(
        &self,
        staff: NewStaff,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Every member of staff.
    fn staff(&self) -> impl Future<Output = Result<Vec<Staff>, StoreError>> + Send;
    /// A member of staff by login.
    fn staff_by_login(&self, login: &str)
    -> impl Future<Output = Result<Staff, StoreError>> + Send;
    /// Starts a session.
    fn create_session(
        &self,
        token_hash: String,
        staff_id: i64,
        csrf: String,
        now: UnixMicros,
        expires_at: UnixMicros,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The session behind a token's hash, if it has not expired at `now`.
    fn session(
        &self,
        token_hash: &str,
        now: UnixMicros,
    ) -> impl Future<Output = Result<Session, StoreError>> + Send;
    /// Ends a session.
    fn end_session(&self, token_hash: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    // --- the engine ---

    /// Takes a shard for an engine: the first taking fixes the number of shards (a different
    /// number later is a `Conflict`), and each taking gets a new epoch.
    fn take_shard(
        &self,
        shard: Shard,
    ) -> impl Future<Output = Result<ShardLease, StoreError>> + Send;
    /// The last journal record the engine of a shard has handled.
    fn engine_cursor(&self, shard: Shard) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Carries out the engine's changes and moves its shard's cursor to `cursor`, in one
    /// transaction. Returns the incidents that changed. A lease whose epoch is no longer the
    /// shard's is a `Conflict`, and nothing is written.
    fn apply_engine(
        &self,
        lease: ShardLease,
        cursor: i64,
        changes: Vec<EngineChange>,
        now: UnixMicros,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
    /// What the engine remembers about every transmitter.
    fn link_states(&self) -> impl Future<Output = Result<Vec<LinkState>, StoreError>> + Send;
    /// Test modes that have run out by `now`: `(site, zone)`.
    fn expired_test_modes(
        &self,
        now: UnixMicros,
    ) -> impl Future<Output = Result<Vec<(i64, Option<u32>)>, StoreError>> + Send;
    /// Every alarm from a point since `since`, as `(site, zone, when)`, oldest first: the
    /// engine reads them once when it starts and counts on in memory (the runaway rule).
    fn point_alarms_since(
        &self,
        since: UnixMicros,
    ) -> impl Future<Output = Result<Vec<(i64, u32, UnixMicros)>, StoreError>> + Send;

    // --- incidents ---

    /// The open incidents.
    fn queue(&self) -> impl Future<Output = Result<Vec<QueueItem>, StoreError>> + Send;
    /// One incident with its timeline, log and dispatches.
    fn incident(&self, id: i64) -> impl Future<Output = Result<IncidentDetail, StoreError>> + Send;
    /// Closed incidents of a site, newest first.
    fn site_history(
        &self,
        site_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<QueueItem>, StoreError>> + Send;
    /// An operator's action. Taking an owned incident is a `Conflict` naming the owner;
    /// acting on a closed one is a `Conflict` too. Returns the dispatch id for `Dispatch`.
    fn act(
        &self,
        incident_id: i64,
        action: IncidentAction,
        by: &Actor,
        now: UnixMicros,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// A guard company's dispatches, newest first.
    fn dispatches_for(
        &self,
        guard_company_id: i64,
    ) -> impl Future<Output = Result<Vec<Dispatch>, StoreError>> + Send;
    /// A guard company moves its dispatch on; refuses another company's dispatch
    /// (`NotFound`) and moves its state does not allow (`Conflict`). Returns the incident.
    fn update_dispatch(
        &self,
        dispatch_id: i64,
        guard_company_id: i64,
        update: DispatchUpdate,
        by: &Actor,
        now: UnixMicros,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Open, take and close times of the incidents opened since `since`.
    fn incident_times(
        &self,
        since: UnixMicros,
    ) -> impl Future<Output = Result<Vec<IncidentTimes>, StoreError>> + Send;

    // --- audit and outbox ---

    /// Audit entries, newest first; filtered by entity and id when given.
    fn audit(
        &self,
        entity: Option<String>,
        entity_id: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;
    /// Claims up to `limit` messages due at `now` for `lease_us`, so no other deliverer
    /// takes them meanwhile.
    fn claim_messages(
        &self,
        now: UnixMicros,
        limit: u32,
        lease_us: i64,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;
    /// Records a delivery.
    fn message_delivered(
        &self,
        id: i64,
        now: UnixMicros,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a failed attempt; the message is tried again at `retry_at`, or never when
    /// `None`.
    fn message_failed(
        &self,
        id: i64,
        error: String,
        retry_at: Option<UnixMicros>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The outbox, newest first.
    fn messages(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;
}
