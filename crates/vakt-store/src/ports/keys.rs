//! Guard companies and the customers' keys they may hold, with each key's custody log.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).

use std::future::Future;

use crate::{Actor, GuardCompany, KeyEvent, StoreError};
use vakt_core::centre::KeyAction;

/// Guard companies and the customers' keys they may hold, with each key's custody log.
pub trait GuardsAndKeys: Send + Sync + 'static {
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
}
