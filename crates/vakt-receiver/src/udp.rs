//! DC-09 over UDP: one frame per datagram, answered to the datagram's source address.

use std::sync::Arc;

use rand::RngExt;
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use vakt_dc09::frame::{Decoded, decode_datagram};
use vakt_store::{Journal, Transport};

use crate::{ListenerConfig, Shared};

/// The largest datagram read; anything longer is cut and fails framing.
const DATAGRAM_BYTES_MAX: usize = 65_536;

pub(crate) async fn serve<J: Journal + Clone>(
    socket: UdpSocket,
    listener: ListenerConfig,
    shared: Arc<Shared<J>>,
    tracker: TaskTracker,
) {
    let socket = Arc::new(socket);
    let in_flight = Arc::new(Semaphore::new(shared.config.limits.udp_pending_max.max(1)));
    let mut buffer = vec![0_u8; DATAGRAM_BYTES_MAX];
    let mut rng: rand::rngs::StdRng = rand::make_rng();
    loop {
        let received = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            received = socket.recv_from(&mut buffer) => received,
        };
        let Ok((count, peer)) = received else {
            continue;
        };
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let datagram = buffer.get(..count).unwrap_or_default();
        let decoded = match decode_datagram(datagram, shared.config.limits.frame_bytes_max) {
            Ok(frame) => Decoded::Frame(frame),
            Err(rejected) => rejected,
        };
        let (record, response) =
            shared.decide(decoded, &listener, Transport::Udp, peer, &mut || {
                rng.random()
            });
        let journal = shared.journal.clone();
        let socket = socket.clone();
        let decoded_at = Instant::now();
        tracker.spawn(async move {
            match journal.append(record).await {
                Ok(receipt) => {
                    assert!(receipt.id > 0, "an answer without a committed journal id");
                    if !response.is_empty() {
                        let _ = socket.send_to(&response, peer).await;
                    }
                    metrics::histogram!("vakt_ack_seconds").record(decoded_at.elapsed().as_secs_f64());
                }
                Err(error) => tracing::warn!(%error, %peer, "not answering a datagram whose journal commit failed"),
            }
            drop(permit);
        });
    }
}
