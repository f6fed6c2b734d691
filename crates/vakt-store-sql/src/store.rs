//! One store over either database: the traits implemented once on the shared SQL, with the
//! backend supplying only what differs (how the journal commits, and how a write runs).
//!
//! SQLite runs every write on its one writer task; PostgreSQL runs each on a pooled
//! connection. Either way a write is a [`Job`]: a closure given a connection, which the
//! [`Backend`] runs in turn.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::oneshot;
use vakt_core::Clock;
use vakt_store::{
    Actor, CommitHealth, CommitStatus, Committed, ImportOutcome, Journal, NewTransmitter, Registry,
    SignalFilter, SignalRecord, StoreError, StoredSignal, Transmitter,
};

use crate::{registry, rows};

/// A boxed future, as object-safe traits need.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A write: run on a connection, it sends its own result.
pub type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, JobOutcome> + Send>;

/// How a write job ended, as the backend needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done, or refused for a reason of its own (a conflict, bad input).
    Done,
    /// The database failed under it (disk full, I/O): the connection may be left in a state
    /// the driver does not know of, such as a transaction still open, and is best replaced.
    DatabaseFailed,
}

/// The reply a journal writer sends once the commit holding a record has returned.
pub type CommitReply = oneshot::Sender<Result<vakt_store::Receipt, StoreError>>;

/// Hands a record to a backend's journal writer (`wrap` puts it and its reply into the
/// writer's message) and returns its commit, which resolves when the writer replies.
///
/// # Errors
/// `Closed` when the writer has stopped; the commit too, if it stops before replying.
pub async fn queue_for_commit<M>(
    writer: &tokio::sync::mpsc::Sender<M>,
    wrap: impl FnOnce(CommitReply) -> M,
) -> Result<Committed, StoreError> {
    let (reply, answer) = oneshot::channel();
    writer
        .send(wrap(reply))
        .await
        .map_err(|_| StoreError::Closed)?;
    Ok(Box::pin(async move {
        answer.await.map_err(|_| StoreError::Closed)?
    }))
}

/// What a database backend supplies.
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// Queues one record for the journal behind those queued before it; what it returns
    /// resolves after the commit that holds it.
    fn enqueue(&self, record: SignalRecord) -> BoxFuture<'_, Result<Committed, StoreError>>;
    /// Runs a write job; `Closed` when the backend no longer takes work.
    fn run(&self, job: Job) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Finishes queued writes and stops.
    fn close(&self) -> BoxFuture<'_, ()>;
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
}

/// The store. Cheap to clone; clones share the backend.
#[derive(Clone)]
pub struct SqlStore {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) readers: AnyPool,
    pub(crate) clock: Arc<dyn Clock>,
    health: Arc<CommitHealth>,
    seal: registry::Seal,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// A store over `backend`, reading through `readers`.
    #[must_use]
    pub fn new(backend: Arc<dyn Backend>, readers: AnyPool, clock: Arc<dyn Clock>) -> SqlStore {
        SqlStore {
            backend,
            readers,
            clock,
            health: Arc::default(),
            seal: None,
        }
    }

    /// This store with transmitter keys sealed at rest under `seal` (`vakt_store::seal`).
    #[must_use]
    pub fn with_key_seal(mut self, seal: vakt_store::seal::KeySeal) -> SqlStore {
        self.seal = Some(Arc::new(seal));
        self
    }

    /// Seals every transmitter key still stored in the clear, and checks that the sealed ones
    /// open; returns how many were sealed.
    ///
    /// # Errors
    /// When a sealed key does not open (another server secret) or the database fails.
    pub async fn seal_stored_keys(&self) -> Result<usize, StoreError> {
        let seal = self.seal.clone();
        self.job(move |c| Box::pin(registry::seal_stored_keys(c, seal)))
            .await
    }

    /// The reading pool, for checks of the database's own settings.
    #[must_use]
    pub fn readers(&self) -> &AnyPool {
        &self.readers
    }

    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// Finishes the writes already queued and closes the database.
    pub async fn close(&self) {
        self.backend.close().await;
        self.readers.close().await;
    }

    /// Runs `work` as a write, in turn with the backend's other writes.
    pub(crate) async fn job<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let result = work(connection).await;
                let outcome = match result {
                    Err(StoreError::Unavailable(_)) => JobOutcome::DatabaseFailed,
                    _ => JobOutcome::Done,
                };
                let _ = reply.send(result);
                outcome
            })
        });
        self.backend.run(job).await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

impl Journal for SqlStore {
    async fn enqueue(&self, record: SignalRecord) -> Result<Committed, StoreError> {
        let committed = self.backend.enqueue(record).await?;
        let health = self.health.clone();
        Ok(Box::pin(async move {
            let outcome = committed.await;
            match &outcome {
                Ok(_) => health.succeeded(),
                Err(StoreError::Unavailable(reason)) => health.failed(reason),
                Err(_) => {}
            }
            outcome
        }))
    }

    fn commit_status(&self) -> CommitStatus {
        self.health.status()
    }

    async fn journal_head(&self) -> Result<i64, StoreError> {
        rows::journal_head(&self.readers).await
    }

    async fn signals(&self, filter: &SignalFilter) -> Result<Vec<StoredSignal>, StoreError> {
        rows::signals(&self.readers, filter).await
    }
}

impl Registry for SqlStore {
    async fn transmitters(&self) -> Result<Vec<Transmitter>, StoreError> {
        registry::transmitters(&self.readers, &self.seal).await
    }

    async fn registry_revision(&self) -> Result<i64, StoreError> {
        registry::revision(&self.readers).await
    }

    async fn import_transmitters(
        &self,
        transmitters: Vec<NewTransmitter>,
    ) -> Result<ImportOutcome, StoreError> {
        let seal = self.seal.clone();
        self.job(move |c| Box::pin(registry::import(c, transmitters, seal)))
            .await
    }

    async fn delete_transmitter(&self, id: i64) -> Result<(), StoreError> {
        self.job(move |c| Box::pin(registry::delete(c, id))).await
    }

    async fn set_link_token(
        &self,
        transmitter_id: i64,
        token_hash: String,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| {
            Box::pin(registry::set_link_token(
                c,
                transmitter_id,
                token_hash,
                by,
                now,
            ))
        })
        .await
    }

    async fn link_transmitter(&self, token_hash: &str) -> Result<Option<Transmitter>, StoreError> {
        registry::link_transmitter(&self.readers, token_hash, &self.seal).await
    }
}
