//! Several nodes on one database: who is alive, who owns which shard, and the news of changed
//! incidents.
//!
//! Ownership rests on PostgreSQL's session advisory locks, held on one connection per node
//! ([`Membership`]). Each node holds a lock naming itself and one lock per shard it owns. When
//! a node dies, its connection closes and PostgreSQL releases its locks at once, so the
//! survivors see it gone and can take its shards on their next look. A node that loses its
//! connection loses its locks the same way and must stop its engines (the store's shard
//! epochs refuse what a stale engine writes meanwhile).

use sqlx::postgres::{PgConnectOptions, PgListener};
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use vakt_store::StoreError;
use vakt_store_sql::{INCIDENT_CHANNEL, unavailable};

/// The first key of the advisory locks that name live nodes (the second is the node).
pub const NODE_LOCK_CLASS: i32 = 0x7661_6b01;
/// The first key of the advisory locks that own shards (the second is the shard).
pub const SHARD_LOCK_CLASS: i32 = 0x7661_6b02;

/// One node's membership: its connection and the locks it holds on it.
#[derive(Debug)]
pub struct Membership {
    connection: PgConnection,
    node: i32,
}

impl Membership {
    /// Connects and takes a node number no live node holds.
    ///
    /// # Errors
    /// When the database cannot be reached.
    pub async fn join(options: &PgConnectOptions) -> Result<Membership, StoreError> {
        let mut connection = options.connect().await.map_err(unavailable)?;
        loop {
            let node: i32 = rand::random_range(1..i32::MAX);
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(NODE_LOCK_CLASS)
                .bind(node)
                .fetch_one(&mut connection)
                .await
                .map_err(unavailable)?;
            if taken {
                return Ok(Membership { connection, node });
            }
        }
    }

    /// This node's number.
    #[must_use]
    pub fn node(&self) -> i32 {
        self.node
    }

    /// Every live node (one that holds its node lock, this one included) with the number of
    /// shards it owns.
    ///
    /// # Errors
    /// When the connection is gone (and with it every lock this node held).
    pub async fn loads(&mut self) -> Result<Vec<(i32, u32)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT n.objid::bigint, count(s.objid) FROM pg_locks n
             LEFT JOIN pg_locks s ON s.pid = n.pid AND s.locktype = 'advisory'
                 AND s.objsubid = 2 AND s.granted AND s.classid::bigint = $2
             WHERE n.locktype = 'advisory' AND n.objsubid = 2 AND n.granted
                 AND n.classid::bigint = $1
             GROUP BY 1 ORDER BY 1",
        )
        .bind(i64::from(NODE_LOCK_CLASS))
        .bind(i64::from(SHARD_LOCK_CLASS))
        .fetch_all(&mut self.connection)
        .await
        .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .filter_map(|(node, shards)| {
                Some((i32::try_from(node).ok()?, u32::try_from(shards).ok()?))
            })
            .collect())
    }

    /// Tries to take a shard; `false` when another node owns it.
    ///
    /// # Errors
    /// When the connection is gone.
    pub async fn try_take(&mut self, shard: u32) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(SHARD_LOCK_CLASS)
            .bind(i32::try_from(shard).unwrap_or(i32::MAX))
            .fetch_one(&mut self.connection)
            .await
            .map_err(unavailable)
    }

    /// Gives a shard up (after its engine has stopped).
    ///
    /// # Errors
    /// When the connection is gone.
    pub async fn release(&mut self, shard: u32) -> Result<(), StoreError> {
        let _: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1, $2)")
            .bind(SHARD_LOCK_CLASS)
            .bind(i32::try_from(shard).unwrap_or(i32::MAX))
            .fetch_one(&mut self.connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Which node owns each owned shard: `(shard, node)`, by shard.
    ///
    /// # Errors
    /// When the connection is gone.
    pub async fn owners(&mut self) -> Result<Vec<(u32, i32)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT s.objid::bigint, n.objid::bigint FROM pg_locks s
             JOIN pg_locks n ON n.pid = s.pid AND n.locktype = 'advisory' AND n.objsubid = 2
                 AND n.granted AND n.classid::bigint = $2
             WHERE s.locktype = 'advisory' AND s.objsubid = 2 AND s.granted
                 AND s.classid::bigint = $1
             ORDER BY 1",
        )
        .bind(i64::from(SHARD_LOCK_CLASS))
        .bind(i64::from(NODE_LOCK_CLASS))
        .fetch_all(&mut self.connection)
        .await
        .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .filter_map(|(shard, node)| {
                Some((u32::try_from(shard).ok()?, i32::try_from(node).ok()?))
            })
            .collect())
    }

    /// Leaves: releases every lock by closing the connection.
    pub async fn leave(self) {
        let _ = self.connection.close().await;
    }
}

/// Hands every incident change announced by any node (including this one) to `announce`,
/// until `shutdown`. A lost connection is re-established by the listener; changes announced
/// while it was gone are not replayed, which the consoles cover by reloading the queue
/// whenever they (re)connect.
pub async fn listen_incidents(
    options: PgConnectOptions,
    announce: impl Fn(i64) + Send + 'static,
    shutdown: CancellationToken,
) {
    loop {
        let listening = async {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(options.clone());
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(INCIDENT_CHANNEL).await?;
            loop {
                let notification = listener.recv().await?;
                for id in notification
                    .payload()
                    .split(',')
                    .filter_map(|part| part.trim().parse::<i64>().ok())
                {
                    announce(id);
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            outcome = listening => {
                if let Err(error) = outcome {
                    tracing::warn!(%error, "lost the incident notifications; listening again");
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
    }
}
