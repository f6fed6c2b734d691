//! The one writer: group commit for the journal, transactions for the registry.
//!
//! Journal ids are assigned here, in order, because this task is the only one that writes
//! signals. Duplicate detection happens here too: the writer remembers the duplicate keys of
//! the messages it committed within the window (reloaded from the journal at start), so a
//! retransmission that arrives after a crash between commit and ACK is still recognised.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use sqlx::{AnyConnection, Connection, Row, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use vakt_core::UnixMicros;
use vakt_store::{Receipt, SignalRecord, StoreError};
use vakt_store_sql::store::{BoxFuture, Job, JobOutcome};

use crate::{SqliteOptions, unavailable};

/// Rows per INSERT statement; a batch is cut into these sizes so only a few statement
/// shapes exist and each stays well under SQLite's bound on variables.
const INSERT_CHUNK_ROWS: [usize; 4] = [64, 16, 4, 1];

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write for the writer.
pub enum Command {
    /// Journal one record.
    Append(Box<SignalRecord>, Reply<Receipt>),
    /// Any other write (the alarm centre's), in its own transaction.
    Run(Job),
    /// Finish and stop.
    Shutdown(oneshot::Sender<()>),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Append(..) => "Append",
            Command::Run(..) => "Run",
            Command::Shutdown(..) => "Shutdown",
        })
    }
}

/// What the writer remembers between batches.
#[derive(Debug)]
pub struct State {
    next_id: i64,
    window_us: i64,
    recent: HashMap<String, i64>,
    recent_order: VecDeque<(UnixMicros, String)>,
}

impl State {
    /// Reads the next journal id and the duplicate keys still inside the window.
    pub async fn load(
        connection: &mut SqliteConnection,
        options: &SqliteOptions,
        now: UnixMicros,
    ) -> Result<State, StoreError> {
        let last: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM signals")
            .fetch_one(&mut *connection)
            .await
            .map_err(unavailable)?;
        let window_us = i64::from(options.duplicate_window_s) * 1_000_000;
        let mut state = State {
            next_id: last.unwrap_or(0) + 1,
            window_us,
            recent: HashMap::new(),
            recent_order: VecDeque::new(),
        };
        let rows = sqlx::query(
            "SELECT id, duplicate_key, received_at_us FROM signals
             WHERE duplicate_key IS NOT NULL AND duplicate_of IS NULL AND received_at_us >= $1
             ORDER BY id",
        )
        .bind(now.0 - window_us)
        .fetch_all(&mut *connection)
        .await
        .map_err(unavailable)?;
        for row in rows {
            let id: i64 = row.try_get("id").map_err(unavailable)?;
            let key: String = row.try_get("duplicate_key").map_err(unavailable)?;
            let at: i64 = row.try_get("received_at_us").map_err(unavailable)?;
            state.remember(UnixMicros(at), key, id);
        }
        Ok(state)
    }

    fn remember(&mut self, at: UnixMicros, key: String, id: i64) {
        self.recent.insert(key.clone(), id);
        self.recent_order.push_back((at, key));
    }

    fn forget_before(&mut self, now: UnixMicros) {
        while let Some((at, _)) = self.recent_order.front() {
            if at.0 >= now.0 - self.window_us {
                break;
            }
            if let Some((_, key)) = self.recent_order.pop_front() {
                self.recent.remove(&key);
            }
        }
    }
}

/// Runs until shut down or until every sender is gone.
///
/// The writer holds two connections to the same file and uses one at a time: the native one
/// for the journal's group commits (the hot path) and one through `Any` for the shared SQL of
/// the centre and the registry. Only this task writes, so they never contend for the lock.
pub async fn run(
    mut connection: SqliteConnection,
    mut centre: AnyConnection,
    mut queue: mpsc::Receiver<Command>,
    mut state: State,
    batch_max: usize,
    reopen: Reopen,
) {
    let mut pending: Option<Command> = None;
    loop {
        let command = match pending.take() {
            Some(command) => command,
            None => match queue.recv().await {
                Some(command) => command,
                None => break,
            },
        };
        match command {
            Command::Append(record, reply) => {
                let mut batch = vec![(*record, reply)];
                while batch.len() < batch_max {
                    match queue.try_recv() {
                        Ok(Command::Append(record, reply)) => batch.push((*record, reply)),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if !commit_batch(&mut connection, &mut state, batch).await
                    && let Some((fresh, fresh_state)) = reopen.journal().await
                {
                    let _ = std::mem::replace(&mut connection, fresh).close().await;
                    state = fresh_state;
                }
            }
            Command::Run(job) => {
                if job(&mut centre).await == JobOutcome::DatabaseFailed
                    && let Some(fresh) = reopen.centre().await
                {
                    let _ = std::mem::replace(&mut centre, fresh).close().await;
                }
            }
            Command::Shutdown(done) => {
                let _ = centre.close().await;
                let _ = connection.close().await;
                let _ = done.send(());
                return;
            }
        }
    }
    let _ = centre.close().await;
    let _ = connection.close().await;
}

fn plan(state: &State, batch: &[(SignalRecord, Reply<Receipt>)]) -> Vec<Receipt> {
    vakt_store_sql::journal::plan(
        state.next_id,
        |key| state.recent.get(key).copied(),
        batch.iter().map(|(record, _)| record),
    )
}

/// Commits one batch and answers each record; `false` when the commit failed.
async fn commit_batch(
    connection: &mut SqliteConnection,
    state: &mut State,
    batch: Vec<(SignalRecord, Reply<Receipt>)>,
) -> bool {
    let started = Instant::now();
    let count = batch.len();
    // Keys older than the window are no longer duplicates of anything.
    if let Some((first, _)) = batch.first() {
        state.forget_before(first.received_at);
    }
    // Work out ids and duplicates first; they take effect only if the commit succeeds.
    let receipts = plan(state, &batch);
    let outcome = write(connection, &batch, &receipts).await;
    metrics::histogram!("vakt_journal_batch_signals").record(count as f64);
    metrics::histogram!("vakt_journal_commit_seconds").record(started.elapsed().as_secs_f64());
    match outcome {
        Ok(()) => {
            state.next_id += count as i64;
            for ((record, reply), receipt) in batch.into_iter().zip(receipts) {
                if let (Some(key), None) = (record.duplicate_key, receipt.duplicate_of) {
                    state.forget_before(record.received_at);
                    state.remember(record.received_at, key, receipt.id);
                }
                let _ = reply.send(Ok(receipt));
            }
            true
        }
        Err(error) => {
            tracing::error!(%error, signals = count, "journal commit failed; nothing in this batch is acknowledged");
            metrics::counter!("vakt_journal_commit_failures_total").increment(1);
            for (_, reply) in batch {
                let _ = reply.send(Err(StoreError::Unavailable(error.to_string())));
            }
            false
        }
    }
}

/// A reopened journal connection with the state read back through it.
pub type Reloaded = Result<(SqliteConnection, State), StoreError>;

/// How the writer replaces a connection the database failed under. A failed write (disk
/// full, I/O error) can leave SQLite and the driver disagreeing about whether a transaction
/// is open; such a connection would hold the write lock for good, or keep later "commits"
/// inside a transaction that never ends. Each connection is replaced after its own failure,
/// so work the other one committed is never rolled back with it.
pub struct Reopen {
    /// Opens the journal's native connection.
    pub journal:
        Box<dyn Fn() -> BoxFuture<'static, Result<SqliteConnection, StoreError>> + Send + Sync>,
    /// Opens the centre's connection.
    pub centre:
        Box<dyn Fn() -> BoxFuture<'static, Result<AnyConnection, StoreError>> + Send + Sync>,
    /// Reads the journal's state back.
    pub state: Box<dyn Fn(SqliteConnection) -> BoxFuture<'static, Reloaded> + Send + Sync>,
}

impl std::fmt::Debug for Reopen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reopen")
    }
}

impl Reopen {
    async fn journal(&self) -> Option<(SqliteConnection, State)> {
        let opened = async { (self.state)((self.journal)().await?).await };
        opened
            .await
            .inspect_err(|error| {
                tracing::warn!(%error, "reopening the journal's connection failed; keeping the old one");
            })
            .ok()
    }

    async fn centre(&self) -> Option<AnyConnection> {
        (self.centre)()
            .await
            .inspect_err(|error| {
                tracing::warn!(%error, "reopening the centre's connection failed; keeping the old one");
            })
            .ok()
    }
}

async fn write(
    connection: &mut SqliteConnection,
    batch: &[(SignalRecord, Reply<Receipt>)],
    receipts: &[Receipt],
) -> Result<(), sqlx::Error> {
    let mut transaction = connection.begin().await?;
    let records: Vec<&SignalRecord> = batch.iter().map(|(record, _)| record).collect();
    for mut insert in
        vakt_store_sql::journal::inserts::<Sqlite>(&records, receipts, &INSERT_CHUNK_ROWS)
    {
        insert.build().execute(&mut *transaction).await?;
    }
    transaction.commit().await
}
