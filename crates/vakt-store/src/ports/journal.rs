//! The signal journal's port: every DC-09 frame received, appended durably before its answer
//! is sent. `append` resolves only after the commit that holds the record has returned; the
//! receiver acknowledges a panel only after that.

use std::future::Future;

use crate::{CommitStatus, Receipt, SignalFilter, SignalRecord, StoreError, StoredSignal};

/// A queued record's commit: resolves with its receipt once the commit has returned.
pub type Committed =
    std::pin::Pin<Box<dyn Future<Output = Result<Receipt, StoreError>> + Send + 'static>>;

pub trait Journal: Send + Sync + 'static {
    /// Queues one record behind every record queued before it and returns once it is
    /// queued; what it returns resolves once the commit holding the record has returned.
    /// Records one caller queues one after another get journal ids in that order, so a
    /// connection can go on reading while its commits run and still keep its frames' order.
    fn enqueue(
        &self,
        record: SignalRecord,
    ) -> impl Future<Output = Result<Committed, StoreError>> + Send;

    /// Appends one record and resolves once the commit holding it has returned.
    fn append(
        &self,
        record: SignalRecord,
    ) -> impl Future<Output = Result<Receipt, StoreError>> + Send {
        async move { self.enqueue(record).await?.await }
    }

    /// Whether commits are getting through now, for the health check.
    fn commit_status(&self) -> CommitStatus;

    /// The newest journal id (0 when the journal is empty).
    fn journal_head(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Lists records matching the filter, newest first (oldest first with `after_id`).
    fn signals(
        &self,
        filter: &SignalFilter,
    ) -> impl Future<Output = Result<Vec<StoredSignal>, StoreError>> + Send;
}
