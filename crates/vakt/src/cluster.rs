//! The engine's shards on this node.
//!
//! On SQLite one node runs everything: it takes the single shard and keeps it. On PostgreSQL
//! every node looks at the cluster every `lease_check_ms` and sees each live node's load. A
//! fair share is the shard count divided by the live nodes, rounded down (`floor`) or up
//! (`ceil`). A node gives one shard up (after its engine has stopped) when it holds more than
//! `ceil`, or when another node holds less than `floor` and it is among the busiest; it takes
//! free shards up to `floor` while another node starves and up to `ceil` otherwise. So a
//! node that joins gets work, and a node that dies leaves its shards to the survivors at
//! their next look. A node that loses its membership connection loses every lock with it,
//! so it stops all its engines at once and joins again.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vakt_core::Clock;
use vakt_engine::{Changes, EngineConfig};
use vakt_store::EngineState;
use vakt_store::Shard;
use vakt_store_postgres::cluster::Membership;
use vakt_store_sql::SqlStore;

/// What this node holds, for the API and the console.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ClusterView {
    /// This node's number (0 on SQLite).
    pub node: i32,
    /// Live nodes.
    pub nodes: u32,
    /// The shards whose engines run here.
    pub shards: Vec<u32>,
    /// How many shards there are.
    pub shard_count: u32,
}

/// The view, shared with the web side.
pub type SharedView = Arc<Mutex<ClusterView>>;

struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// Runs the shards' engines on PostgreSQL until `shutdown`.
#[allow(clippy::too_many_arguments)] // the engine's own inputs, plus where the cluster is
pub async fn run(
    url: String,
    store: SqlStore,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    changes: Changes,
    shard_count: u32,
    check: Duration,
    view: SharedView,
    shutdown: CancellationToken,
) {
    let count = shard_count.max(1);
    let Ok(options) = vakt_store_postgres::connect_options(&url) else {
        tracing::error!("the database URL is not a PostgreSQL URL; no engine runs");
        return;
    };
    loop {
        let mut membership = match Membership::join(&options).await {
            Ok(joined) => joined,
            Err(error) => {
                tracing::error!(%error, "cannot join the cluster; trying again");
                if wait(&shutdown, check).await {
                    return;
                }
                continue;
            }
        };
        tracing::info!(node = membership.node(), "joined the cluster");
        let mut running: BTreeMap<u32, Running> = BTreeMap::new();
        let lost = loop {
            match look(
                &mut membership,
                &mut running,
                &store,
                &clock,
                config,
                &changes,
                count,
            )
            .await
            {
                Ok(nodes) => {
                    if let Ok(mut shared) = view.lock() {
                        *shared = ClusterView {
                            node: membership.node(),
                            nodes,
                            shards: running.keys().copied().collect(),
                            shard_count: count,
                        };
                    }
                }
                Err(error) => break Some(error),
            }
            if wait(&shutdown, check).await {
                break None;
            }
        };
        for (_, engine) in std::mem::take(&mut running) {
            engine.stop.cancel();
            let _ = engine.task.await;
        }
        match lost {
            None => {
                membership.leave().await;
                return;
            }
            Some(error) => {
                tracing::error!(%error, "lost the cluster connection; engines stopped, joining again");
                if let Ok(mut shared) = view.lock() {
                    shared.shards.clear();
                }
            }
        }
    }
}

/// One look at the cluster: reap stopped engines, take or give up shards. Returns the number
/// of live nodes.
async fn look(
    membership: &mut Membership,
    running: &mut BTreeMap<u32, Running>,
    store: &SqlStore,
    clock: &Arc<dyn Clock>,
    config: EngineConfig,
    changes: &Changes,
    count: u32,
) -> Result<u32, vakt_store::StoreError> {
    // An engine that stopped by itself (its shard's epoch moved on) gives its lock back.
    let finished: Vec<u32> = running
        .iter()
        .filter(|(_, engine)| engine.task.is_finished())
        .map(|(&shard, _)| shard)
        .collect();
    for shard in finished {
        running.remove(&shard);
        membership.release(shard).await?;
    }
    let loads = membership.loads().await?;
    let me = membership.node();
    let nodes = u32::try_from(loads.len()).unwrap_or(1).max(1);
    let (floor, ceil) = (count / nodes, count.div_ceil(nodes));
    let mine = running.len() as u32;
    let starving = loads
        .iter()
        .any(|&(node, shards)| node != me && shards < floor);
    let busiest = loads.iter().map(|&(_, shards)| shards).max().unwrap_or(0);
    if mine > ceil || (starving && mine > floor && mine >= busiest) {
        if let Some((&shard, _)) = running.iter().next_back()
            && let Some(engine) = running.remove(&shard)
        {
            engine.stop.cancel();
            let _ = engine.task.await;
            membership.release(shard).await?;
            tracing::info!(shard, "gave a shard up to another node");
        }
        return Ok(nodes);
    }
    let limit = if starving { floor } else { ceil };
    for index in 0..count {
        if running.len() as u32 >= limit {
            break;
        }
        if running.contains_key(&index) || !membership.try_take(index).await? {
            continue;
        }
        let lease = match store.take_shard(Shard { index, count }).await {
            Ok(lease) => lease,
            Err(error) => {
                membership.release(index).await?;
                tracing::error!(%error, shard = index, "cannot take the shard");
                continue;
            }
        };
        tracing::info!(shard = index, epoch = lease.epoch, "took a shard");
        let stop = CancellationToken::new();
        let task = tokio::spawn(vakt_engine::run(
            store.clone(),
            clock.clone(),
            config,
            changes.clone(),
            lease,
            stop.clone(),
        ));
        running.insert(index, Running { stop, task });
    }
    Ok(nodes)
}

/// Waits `pause`; `true` when shutting down.
async fn wait(shutdown: &CancellationToken, pause: Duration) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(pause) => false,
    }
}
