//! Incidents as operators and guard companies see and move them.
//!
//! A port: what Vakt asks of a database, implemented by every backend (`vakt-store-sql`).

use std::future::Future;

use crate::{
    Actor, Dispatch, DispatchUpdate, IncidentAction, IncidentDetail, IncidentTimes, QueueItem,
    StoreError,
};
use vakt_core::UnixMicros;

/// Incidents as operators and guard companies see and move them.
pub trait Incidents: Send + Sync + 'static {
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
}
