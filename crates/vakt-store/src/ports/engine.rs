//! What the engine persists: shard leases, its cursor, the changes it decides, what it
//! remembers of each transmitter.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).

use std::future::Future;

use crate::{EngineChange, LinkState, Shard, ShardLease, StoreError};
use vakt_core::UnixMicros;

/// What the engine persists: shard leases, its cursor, the changes it decides, what it.
pub trait EngineState: Send + Sync + 'static {
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
}
