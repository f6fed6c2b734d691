//! The journal's writer on PostgreSQL: group commit on each node, one order across nodes.
//!
//! Each node gathers the records queued while its previous commit ran and commits them in one
//! transaction. That transaction first takes the journal lock, so commits of all nodes follow
//! one another: ids are given in commit order (an engine reading "after id N" never misses a
//! record that commits later with a smaller id), and a retransmission that reaches another
//! node (the panel's backup path) is recognised as the same message, because the first one
//! is either committed or not yet started when the lock is held.

use std::collections::HashMap;
use std::time::Instant;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use vakt_store::{Receipt, SignalRecord, StoreError};
use vakt_store_sql::journal::{inserts, plan};
use vakt_store_sql::{JOURNAL_LOCK, unavailable};

/// Rows per INSERT statement: a batch is cut into these sizes so only a few statement shapes
/// exist and each stays well under PostgreSQL's bound on parameters (65,535).
const INSERT_CHUNK_ROWS: [usize; 4] = [256, 32, 4, 1];

type Reply = oneshot::Sender<Result<Receipt, StoreError>>;

/// One record to journal and where to send its receipt.
pub type Append = (Box<SignalRecord>, Reply);

/// Runs until every sender is gone, or until `stop`; then commits what is queued and returns.
pub async fn run(
    options: PgConnectOptions,
    mut queue: mpsc::Receiver<Append>,
    batch_max: usize,
    window_us: i64,
    stop: CancellationToken,
) {
    let mut connection: Option<PgConnection> = None;
    loop {
        let first = tokio::select! {
            biased;
            next = queue.recv() => next,
            () = stop.cancelled() => queue.try_recv().ok(),
        };
        let Some(first) = first else {
            break;
        };
        let mut batch = vec![first];
        while batch.len() < batch_max {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        if connection.is_none() {
            match options.connect().await {
                Ok(fresh) => connection = Some(fresh),
                Err(error) => {
                    fail(batch, &unavailable(&error));
                    tracing::error!(%error, "the journal cannot reach PostgreSQL");
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let started = Instant::now();
        let count = batch.len();
        match commit(open, &batch, window_us).await {
            Ok(receipts) => {
                metrics::histogram!("vakt_journal_batch_signals").record(count as f64);
                metrics::histogram!("vakt_journal_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
                for ((_, reply), receipt) in batch.into_iter().zip(receipts) {
                    let _ = reply.send(Ok(receipt));
                }
            }
            Err(error) => {
                tracing::error!(%error, signals = count, "journal commit failed; nothing in this batch is acknowledged");
                metrics::counter!("vakt_journal_commit_failures_total").increment(1);
                fail(batch, &unavailable(&error));
                // Start again on a fresh connection: this one may be broken.
                if let Some(old) = connection.take() {
                    let _ = old.close().await;
                }
            }
        }
    }
    if let Some(open) = connection {
        let _ = open.close().await;
    }
}

fn fail(batch: Vec<Append>, error: &StoreError) {
    for (_, reply) in batch {
        let _ = reply.send(Err(StoreError::Unavailable(error.to_string())));
    }
}

async fn commit(
    connection: &mut PgConnection,
    batch: &[Append],
    window_us: i64,
) -> Result<Vec<Receipt>, sqlx::Error> {
    let mut tx = connection.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(JOURNAL_LOCK)
        .execute(&mut *tx)
        .await?;
    let last: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM signals")
        .fetch_one(&mut *tx)
        .await?;
    let keys: Vec<String> = batch
        .iter()
        .filter_map(|(record, _)| record.duplicate_key.clone())
        .collect();
    let known: HashMap<String, i64> = if keys.is_empty() {
        HashMap::new()
    } else {
        let oldest = batch
            .iter()
            .map(|(record, _)| record.received_at.0)
            .min()
            .unwrap_or(0);
        sqlx::query_as::<_, (String, i64)>(
            "SELECT duplicate_key, min(id) FROM signals
             WHERE duplicate_key = ANY($1) AND duplicate_of IS NULL AND received_at_us >= $2
             GROUP BY duplicate_key",
        )
        .bind(&keys)
        .bind(oldest - window_us)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect()
    };
    let receipts = plan(
        last.unwrap_or(0) + 1,
        |key| known.get(key).copied(),
        batch.iter().map(|(record, _)| record.as_ref()),
    );
    let records: Vec<&SignalRecord> = batch.iter().map(|(record, _)| record.as_ref()).collect();
    for mut insert in inserts::<Postgres>(&records, &receipts, &INSERT_CHUNK_ROWS) {
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(receipts)
}
