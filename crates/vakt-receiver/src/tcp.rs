//! DC-09 over TCP: kept-open connections with many frames, or one frame per connection.
//!
//! A connection is two halves. The reading half decodes frames, journals each (the append
//! starts at once, so frames from many connections share one group commit) and queues the
//! pending answer; the writing half waits for each commit in order and only then writes the
//! answer. The queue between them is bounded by `pending_acks_max`, which also bounds how
//! far a client can run ahead of the journal.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use rand::RngExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use vakt_dc09::StreamDecoder;
use vakt_store::{Committed, Journal, StoreError, Transport};

use crate::{ListenerConfig, Shared};

/// Bytes read from a socket at a time.
const READ_BUFFER_BYTES: usize = 8 * 1024;

struct PeerCount {
    counts: Mutex<HashMap<IpAddr, usize>>,
}

struct PeerGuard {
    peers: Arc<PeerCount>,
    address: IpAddr,
}

impl PeerGuard {
    fn take(peers: &Arc<PeerCount>, address: IpAddr, max: usize) -> Option<PeerGuard> {
        let mut counts = peers.counts.lock().ok()?;
        let count = counts.entry(address).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(PeerGuard {
            peers: peers.clone(),
            address,
        })
    }
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.peers.counts.lock()
            && let Some(count) = counts.get_mut(&self.address)
        {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

pub(crate) async fn serve<J: Journal + Clone>(
    socket: TcpListener,
    listener: ListenerConfig,
    shared: Arc<Shared<J>>,
    tracker: TaskTracker,
) {
    let limits = shared.config.limits;
    let permits = Arc::new(Semaphore::new(limits.connections_max));
    let peers = Arc::new(PeerCount {
        counts: Mutex::new(HashMap::new()),
    });
    let listener = Arc::new(listener);
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            accepted = socket.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics::counter!("vakt_connections_refused_total", "reason" => "connections_max")
                .increment(1);
            continue;
        };
        let Some(peer_guard) = PeerGuard::take(&peers, peer.ip(), limits.connections_per_peer_max)
        else {
            metrics::counter!("vakt_connections_refused_total", "reason" => "connections_per_peer_max").increment(1);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tracker.spawn(connection(
            stream,
            peer,
            listener.clone(),
            shared.clone(),
            (permit, peer_guard),
        ));
    }
}

struct Pending {
    commit: Result<Committed, StoreError>,
    response: Vec<u8>,
    decoded_at: Instant,
}

struct OpenGauge;

impl OpenGauge {
    fn new() -> OpenGauge {
        metrics::gauge!("vakt_open_connections").increment(1.0);
        OpenGauge
    }
}

impl Drop for OpenGauge {
    fn drop(&mut self) {
        metrics::gauge!("vakt_open_connections").decrement(1.0);
    }
}

async fn connection<J: Journal + Clone>(
    stream: TcpStream,
    peer: SocketAddr,
    listener: Arc<ListenerConfig>,
    shared: Arc<Shared<J>>,
    _held: (OwnedSemaphorePermit, PeerGuard),
) {
    let _gauge = OpenGauge::new();
    let limits = shared.config.limits;
    let (mut reader, mut writer) = stream.into_split();
    let (pending_tx, mut pending_rx) = mpsc::channel::<Pending>(limits.pending_acks_max.max(1));
    let answering = tokio::spawn(async move {
        while let Some(pending) = pending_rx.recv().await {
            let commit = match pending.commit {
                Ok(commit) => commit.await,
                Err(error) => Err(error),
            };
            match commit {
                Ok(receipt) => {
                    // Answer only what the journal holds: the receipt is the commit's proof.
                    assert!(receipt.id > 0, "an answer without a committed journal id");
                    if !pending.response.is_empty()
                        && writer.write_all(&pending.response).await.is_err()
                    {
                        break;
                    }
                    metrics::histogram!("vakt_ack_seconds")
                        .record(pending.decoded_at.elapsed().as_secs_f64());
                }
                Err(error) => {
                    tracing::warn!(%error, %peer, "not answering a frame whose journal commit failed");
                }
            }
        }
        let _ = writer.shutdown().await;
    });
    let mut decoder = StreamDecoder::new(limits.frame_bytes_max);
    let mut buffer = vec![0_u8; READ_BUFFER_BYTES];
    let mut partial_since: Option<Instant> = None;
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    'reading: loop {
        let deadline = match partial_since {
            Some(since) => since + limits.frame_timeout(),
            None => Instant::now() + limits.idle_timeout(),
        };
        let read = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            read = tokio::time::timeout_at(deadline, reader.read(&mut buffer)) => read,
        };
        let count = match read {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(count)) => count,
            Err(_) => {
                metrics::counter!("vakt_connections_timed_out_total").increment(1);
                break;
            }
        };
        decoder.push(buffer.get(..count).unwrap_or_default());
        while let Some(decoded) = decoder.next_frame() {
            let (record, response) =
                shared.decide(decoded, &listener, Transport::Tcp, peer, &mut || {
                    rng.random()
                });
            // Queued in the order the frames came, so their journal ids keep that order;
            // the commit itself runs while this connection reads on.
            let commit = shared.journal.enqueue(record).await;
            let pending = Pending {
                commit,
                response,
                decoded_at: Instant::now(),
            };
            if pending_tx.send(pending).await.is_err() {
                break 'reading;
            }
        }
        let skipped = decoder.take_skipped();
        if skipped > 0 {
            metrics::counter!("vakt_skipped_bytes_total").increment(skipped);
        }
        partial_since = if decoder.buffered() > 0 {
            partial_since.or(Some(Instant::now()))
        } else {
            None
        };
    }
    drop(pending_tx);
    let _ = answering.await;
}
