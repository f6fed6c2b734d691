//! The DC-09 receiver: TCP and UDP listeners that answer a panel only after its signal is in
//! the journal.
//!
//! Each frame goes through [`process::process`], a pure function from bytes, the transmitter
//! table and the current time to a journal record and the answer to send. The connection
//! then appends the record and writes the answer only when the append (the commit) has
//! returned; if the commit fails, nothing is answered and the panel retransmits.
//!
//! Every resource a client can hold has a named bound ([`Limits`]): connections in total and
//! per address, body bytes, idle time, time to finish a frame, and answers pending per
//! connection. Shutdown stops accepting, lets pending commits finish and answers only those
//! that committed.

pub mod process;
pub mod table;
mod tcp;
mod udp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use vakt_core::Clock;
use vakt_dc09::{Dialect, Window};
use vakt_store::{Journal, Registry};

pub use table::{TableHandle, TransmitterTable};

/// What to do with a valid frame from an account Vakt does not know.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownAccountPolicy {
    /// Acknowledge and journal it as an unknown transmitter, so no alarm is lost (default).
    #[default]
    Ack,
    /// Answer NAK, so the panel tries its backup path.
    Nak,
}

/// What to answer to a frame with a bad CRC or length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadFrameAnswer {
    /// Nothing, as the standard's test plan says (default).
    #[default]
    None,
    /// A NAK with the receiver's time (some receivers do this).
    Nak,
}

/// Which protocols a listener speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocols {
    /// TCP only.
    Tcp,
    /// UDP only.
    Udp,
    /// Both on the same port number (default).
    #[default]
    Both,
}

/// One receiving port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerConfig {
    /// A name for logs, metrics and the journal.
    pub name: String,
    /// Where to listen.
    pub address: SocketAddr,
    /// TCP, UDP or both.
    #[serde(default)]
    pub protocols: Protocols,
    /// What to do with unknown accounts on this port.
    #[serde(default)]
    pub unknown_account: UnknownAccountPolicy,
}

/// The bounds on what clients can make the receiver hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Open TCP connections in total.
    pub connections_max: usize,
    /// Open TCP connections from one address.
    pub connections_per_peer_max: usize,
    /// Largest frame body accepted.
    pub frame_bytes_max: usize,
    /// A connection with nothing to read for this long is closed.
    pub idle_timeout_ms: u64,
    /// A frame must be complete this long after its first byte arrived.
    pub frame_timeout_ms: u64,
    /// Answers one TCP connection may have waiting for their commit.
    pub pending_acks_max: usize,
    /// UDP datagrams being committed at once.
    pub udp_pending_max: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections_max: 10_000,
            connections_per_peer_max: 64,
            frame_bytes_max: vakt_dc09::frame::BODY_BYTES_MAX,
            idle_timeout_ms: 120_000,
            frame_timeout_ms: 30_000,
            pending_acks_max: 64,
            udp_pending_max: 4_096,
        }
    }
}

impl Limits {
    fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    fn frame_timeout(&self) -> Duration {
        Duration::from_millis(self.frame_timeout_ms)
    }
}

/// How the receiver behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// The ports.
    pub listeners: Vec<ListenerConfig>,
    /// The bounds.
    pub limits: Limits,
    /// The answer to bad frames.
    pub bad_frame_answer: BadFrameAnswer,
    /// The timestamp window for accounts that do not set their own.
    pub default_window: Window,
    /// The dialect assumed for unknown accounts.
    pub default_dialect: Dialect,
}

/// Where a listener ended up listening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The listener's name.
    pub name: String,
    /// `tcp` or `udp`.
    pub transport: vakt_store::Transport,
    /// The address, with the port chosen when 0 was asked for.
    pub address: SocketAddr,
}

/// A receiver that is running.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub bound: Vec<Bound>,
    tracker: TaskTracker,
}

impl Running {
    /// Waits until every listener and connection has finished after shutdown was asked for.
    pub async fn wait(self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl<J> Shared<J> {
    /// Decides one frame against the current table and clock, and counts it: the journal
    /// record (which holds the answer's bytes) and the answer's bytes for the socket.
    pub(crate) fn decide(
        &self,
        decoded: vakt_dc09::frame::Decoded,
        listener: &ListenerConfig,
        transport: vakt_store::Transport,
        peer: SocketAddr,
        pad: &mut dyn FnMut() -> u8,
    ) -> (vakt_store::SignalRecord, Vec<u8>) {
        let arrival = process::Arrival {
            listener,
            transport,
            peer,
            now: self.clock.now(),
        };
        let outcome = process::process(decoded, arrival, &self.table.current(), &self.config, pad);
        let record = outcome.record;
        // Never the frame's bytes: an encrypted frame's plaintext is for the journal only.
        tracing::debug!(
            %peer,
            listener = %listener.name,
            token = record.token.as_deref().unwrap_or("-"),
            account = record.account.as_deref().unwrap_or("-"),
            sequence = record.sequence.as_deref().unwrap_or("-"),
            verdict = record.verdict.as_str(),
            detail = record.detail.as_deref().unwrap_or(""),
            answer = %record.answer,
            "frame"
        );
        let token = record.token.clone().unwrap_or_else(|| "none".to_owned());
        metrics::counter!("vakt_frames_total", "token" => token, "verdict" => record.verdict.as_str())
            .increment(1);
        let response = record.response.clone();
        (record, response)
    }
}

/// Everything a connection needs, shared.
pub(crate) struct Shared<J> {
    pub journal: J,
    pub table: TableHandle,
    pub clock: Arc<dyn Clock>,
    pub config: ReceiverConfig,
    pub shutdown: CancellationToken,
}

/// Binds every listener and starts serving. Stops when `shutdown` is cancelled.
///
/// # Errors
/// When a listener cannot bind its address.
pub async fn start<J>(
    config: ReceiverConfig,
    journal: J,
    table: TableHandle,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) -> std::io::Result<Running>
where
    J: Journal + Clone,
{
    let tracker = TaskTracker::new();
    let shared = Arc::new(Shared {
        journal,
        table,
        clock,
        config: config.clone(),
        shutdown,
    });
    let mut bound = Vec::new();
    for listener in &config.listeners {
        let mut address = listener.address;
        if matches!(listener.protocols, Protocols::Tcp | Protocols::Both) {
            let socket = tokio::net::TcpListener::bind(address).await?;
            address = socket.local_addr()?;
            bound.push(Bound {
                name: listener.name.clone(),
                transport: vakt_store::Transport::Tcp,
                address,
            });
            tracker.spawn(tcp::serve(
                socket,
                listener.clone(),
                shared.clone(),
                tracker.clone(),
            ));
        }
        if matches!(listener.protocols, Protocols::Udp | Protocols::Both) {
            let socket = tokio::net::UdpSocket::bind(address).await?;
            let address = socket.local_addr()?;
            bound.push(Bound {
                name: listener.name.clone(),
                transport: vakt_store::Transport::Udp,
                address,
            });
            tracker.spawn(udp::serve(
                socket,
                listener.clone(),
                shared.clone(),
                tracker.clone(),
            ));
        }
    }
    Ok(Running { bound, tracker })
}

/// Keeps the transmitter table in step with the registry: reloads whenever the registry's
/// revision changes, checking every `interval`. Runs until `shutdown`.
pub async fn follow_registry<R: Registry>(
    registry: R,
    table: TableHandle,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut seen = None;
    loop {
        match registry.registry_revision().await {
            Ok(revision) if Some(revision) != seen => match registry.transmitters().await {
                Ok(transmitters) => {
                    table.replace(TransmitterTable::new(transmitters));
                    seen = Some(revision);
                }
                Err(error) => tracing::warn!(%error, "could not reload the transmitter registry"),
            },
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not read the registry revision"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
