//! Secrets checked by people (contact passwords, revoking codes, staff passwords): their
//! hashes and lockouts. A check is one atomic step: `begin_check` counts the attempt first.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).

use std::future::Future;

use crate::{CheckStart, SecretRef, SecretState, StoreError};
use vakt_core::UnixMicros;

/// Secrets checked by people (contact passwords, revoking codes, staff passwords): their.
pub trait Secrets: Send + Sync + 'static {
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
}
