//! The storage ports: what the rest of Vakt asks of a database, with no database in sight.
//!
//! - [`Journal`]: every DC-09 frame received, appended durably before its answer is sent.
//!   `append` resolves only after the commit that holds the record has returned; the
//!   receiver acknowledges a panel only after that.
//! - [`Registry`]: the transmitters (accounts) Vakt knows, with their keys, dialects and the
//!   site they belong to.
//!
//! - The alarm receiving centre, one port per capability: [`Sites`] (customers, sites and
//!   what hangs off them), [`Secrets`], [`GuardsAndKeys`], [`Identities`] (who signs in),
//!   [`EngineState`], [`Incidents`] and [`AuditAndOutbox`]. [`Centre`] is all of them.
//!
//! A use case asks only for the ports it needs. Backends (`vakt-store-sql` over SQLite or
//! PostgreSQL) implement them; the ports speak in `vakt-core` and `vakt-dc09` values and this
//! crate's row types only.

pub mod access;
pub mod centre;
pub mod journal;
pub mod registry;
pub mod seal;

pub use access::{
    ApiClient, CustomerLogin, Identity, NewApiClient, NewCustomerLogin, Session, Subject,
};
pub use centre::{
    Actor, AlarmPoint, AuditEntry, CheckStart, Contact, Customer, CustomerKind, Dispatch,
    DispatchUpdate, EngineChange, EventNote, GuardCompany, IncidentAction, IncidentDetail,
    IncidentEvent, IncidentState, IncidentTimes, Instruction, Key, KeyEvent, LinkState, LogEntry,
    NewContact, NewCustomer, NewMessage, NewSite, NewStaff, OutboxMessage, PanelUser, QueueItem,
    SecretRef, SecretState, SiteDetail, SiteSummary, Staff, TestMode,
};
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

mod ports {
    pub mod audit;
    pub mod engine;
    pub mod identities;
    pub mod incidents;
    pub mod journal;
    pub mod keys;
    pub mod registry;
    pub mod secrets;
    pub mod sites;
}

pub use ports::audit::AuditAndOutbox;
pub use ports::engine::EngineState;
pub use ports::identities::Identities;
pub use ports::incidents::Incidents;
pub use ports::journal::{Committed, Journal};
pub use ports::keys::GuardsAndKeys;
pub use ports::registry::Registry;
pub use ports::secrets::Secrets;
pub use ports::sites::Sites;

/// The alarm receiving centre's store: registry, staff, incidents, audit and outbox.
///
/// Every change a person makes takes an [`Actor`] and writes its audit entry in the same
/// transaction as the change. Engine changes come in batches with the journal position they
/// reach, so a restart resumes exactly where the last committed batch ended.
///
/// A use case asks for the capabilities it needs ([`Sites`], [`Incidents`], ...); `Centre` is
/// all of them, for the composition root and the conformance suite.
pub trait Centre:
    Sites + Secrets + GuardsAndKeys + Identities + EngineState + Incidents + AuditAndOutbox
{
}

impl<T> Centre for T where
    T: Sites + Secrets + GuardsAndKeys + Identities + EngineState + Incidents + AuditAndOutbox
{
}
