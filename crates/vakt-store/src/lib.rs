//! The storage ports: what the rest of Vakt asks of a database, with no database in sight.
//!
//! - [`Journal`]: every DC-09 frame received, appended durably before its answer is sent.
//!   `append` resolves only after the commit that holds the record has returned; the
//!   receiver acknowledges a panel only after that.
//! - [`Registry`]: the transmitters (accounts) Vakt knows, with their keys, dialects and the
//!   site they belong to.
//!
//! Backends (`vakt-store-sqlite`, later `vakt-store-postgres`) implement these traits; the
//! traits speak in `vakt-core` and `vakt-dc09` values and this crate's row types only.

use std::future::Future;

pub mod input;
pub mod journal;
pub mod registry;

pub use input::{FieldError, TransmitterInput};
pub use journal::{Receipt, SignalFilter, SignalRecord, StoredSignal, Transport, Verdict};
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
}

/// The signal journal.
pub trait Journal: Send + Sync + 'static {
    /// Appends one record and resolves once the commit holding it has returned.
    fn append(
        &self,
        record: SignalRecord,
    ) -> impl Future<Output = Result<Receipt, StoreError>> + Send;

    /// Lists records matching the filter, newest first.
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
}
