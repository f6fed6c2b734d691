//! Who may sign in: identities (staff and customers), their sessions, and API clients.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).
//! Passwords and tokens arrive here hashed; checking a password goes through
//! [`crate::Secrets::begin_check`] with `SecretRef::Login`, one atomic step.

use std::future::Future;

use vakt_core::UnixMicros;

use crate::{
    Actor, ApiClient, Identity, NewApiClient, NewCustomerLogin, NewStaff, Session, Staff,
    StoreError,
};

/// Who may sign in: identities, their sessions, and API clients.
pub trait Identities: Send + Sync + 'static {
    /// Creates a member of staff and their login in one transaction; returns the staff id.
    /// A login already taken (by staff or a customer) is a `Conflict`.
    fn create_staff(
        &self,
        staff: NewStaff,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Every member of staff.
    fn staff(&self) -> impl Future<Output = Result<Vec<Staff>, StoreError>> + Send;
    /// Gives a customer a login for My Pages and the app; returns the identity id. A login
    /// already taken is a `Conflict`; an unknown customer is `NotFound`.
    fn create_customer_login(
        &self,
        login: NewCustomerLogin,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// The identity with this login (any case).
    fn identity_by_login(
        &self,
        login: &str,
    ) -> impl Future<Output = Result<Identity, StoreError>> + Send;
    /// Starts a session for an identity.
    fn create_session(
        &self,
        token_hash: String,
        identity_id: i64,
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

    /// Registers an API client; returns its id. A name or token already used is a `Conflict`.
    fn create_api_client(
        &self,
        client: NewApiClient,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Every API client, revoked ones included, oldest first.
    fn api_clients(&self) -> impl Future<Output = Result<Vec<ApiClient>, StoreError>> + Send;
    /// The client holding the token with this hash, unless it is revoked: one lookup.
    fn api_client(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiClient>, StoreError>> + Send;
    /// Revokes a client: its token is refused from now on.
    fn revoke_api_client(
        &self,
        id: i64,
        by: &Actor,
        now: UnixMicros,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Makes the client called `name` hold this token hash with these scopes, creating it if
    /// needed (the token from the configuration, kept working as an admin client). Returns its id.
    fn keep_api_client(
        &self,
        client: NewApiClient,
        by: &Actor,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
}
