//! Who may sign in: staff, their sessions.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).

use std::future::Future;

use crate::{Actor, NewStaff, Session, Staff, StoreError};
use vakt_core::UnixMicros;

/// Who may sign in: staff, their sessions.
pub trait Identities: Send + Sync + 'static {
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
}
