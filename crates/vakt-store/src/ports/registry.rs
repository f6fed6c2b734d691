//! The transmitter registry's port: the transmitters (accounts) Vakt knows, with their keys,
//! dialects, link tokens and the site they belong to.

use std::future::Future;

use crate::{Actor, ImportOutcome, NewTransmitter, StoreError, Transmitter};

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
