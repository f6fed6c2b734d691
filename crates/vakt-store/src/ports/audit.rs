//! The audit log and the notification outbox.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).

use std::future::Future;

use crate::{AuditEntry, OutboxMessage, StoreError};
use vakt_core::UnixMicros;

/// The audit log and the notification outbox.
pub trait AuditAndOutbox: Send + Sync + 'static {
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
