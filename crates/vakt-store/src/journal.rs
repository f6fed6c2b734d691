//! Journal rows: what was received, how it was read, and what was answered.

use serde::{Deserialize, Serialize};
use vakt_core::{Event, UnixMicros};

/// How a frame arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Transport {
    /// `tcp` or `udp`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// What the receiver made of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A valid message from a known transmitter; acknowledged.
    Accepted,
    /// A retransmission of a message already journalled; acknowledged again, handled once.
    Duplicate,
    /// A valid message from an account Vakt does not know; kept so no alarm is lost.
    UnknownTransmitter,
    /// The timestamp is outside the window; answered with NAK.
    OutsideWindow,
    /// A correct frame Vakt cannot process (unknown token, no key); answered with DUH.
    Unsupported,
    /// Encrypted content that does not decrypt with the account's key; answered with DUH.
    DecryptFailed,
    /// A plain frame for an account that must encrypt; answered with DUH.
    PlainRejected,
    /// The CRC does not match.
    BadCrc,
    /// Not a readable frame: length, header or a dialect the account has not enabled.
    BadFrame,
}

impl Verdict {
    /// Every verdict, for metrics and tests.
    pub const ALL: [Verdict; 9] = [
        Verdict::Accepted,
        Verdict::Duplicate,
        Verdict::UnknownTransmitter,
        Verdict::OutsideWindow,
        Verdict::Unsupported,
        Verdict::DecryptFailed,
        Verdict::PlainRejected,
        Verdict::BadCrc,
        Verdict::BadFrame,
    ];

    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Duplicate => "duplicate",
            Verdict::UnknownTransmitter => "unknown_transmitter",
            Verdict::OutsideWindow => "outside_window",
            Verdict::Unsupported => "unsupported",
            Verdict::DecryptFailed => "decrypt_failed",
            Verdict::PlainRejected => "plain_rejected",
            Verdict::BadCrc => "bad_crc",
            Verdict::BadFrame => "bad_frame",
        }
    }

    /// Parses the stable name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// A frame to journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalRecord {
    /// When the frame was read.
    pub received_at: UnixMicros,
    /// TCP or UDP.
    pub transport: Transport,
    /// The name of the listener (port) it came in on.
    pub listener: String,
    /// The sender's address.
    pub peer: String,
    /// The frame exactly as received.
    pub raw: Vec<u8>,
    /// What the receiver made of it.
    pub verdict: Verdict,
    /// Why, in words, when it was not accepted.
    pub detail: Option<String>,
    /// The token without `*`.
    pub token: Option<String>,
    /// Whether the frame was encrypted.
    pub encrypted: bool,
    /// The sequence digits.
    pub sequence: Option<String>,
    /// The receiver number.
    pub receiver: Option<String>,
    /// The account prefix.
    pub prefix: Option<String>,
    /// The account.
    pub account: Option<String>,
    /// The registered transmitter, when known.
    pub transmitter_id: Option<i64>,
    /// The message's own timestamp.
    pub message_time: Option<UnixMicros>,
    /// The data block in plain text (decrypted when it was encrypted).
    pub data: Option<Vec<u8>>,
    /// The extended data, as JSON.
    pub xdata: serde_json::Value,
    /// The decoded events.
    pub events: Vec<Event>,
    /// `ack`, `nak`, `duh` or `none`.
    pub answer: String,
    /// The answer's bytes.
    pub response: Vec<u8>,
    /// What makes a retransmission the same message; `None` when it cannot be one.
    pub duplicate_key: Option<String>,
}

/// What the journal says about an appended record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The journal id of the record.
    pub id: i64,
    /// The first record of the same message, when this one is a retransmission.
    pub duplicate_of: Option<i64>,
}

/// Whether the journal's commits are getting through, as a health check reports it: a node
/// whose commits fail acknowledges nothing, so a load balancer must stop sending it panels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitStatus {
    /// Commits failed in a row since the last one that succeeded (0 when healthy).
    pub failures_in_a_row: u64,
    /// Why the last commit failed, while they fail.
    pub last_error: Option<String>,
    /// Records committed since start-up.
    pub committed: u64,
}

impl CommitStatus {
    /// Whether the journal can acknowledge: its last commit did not fail.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.failures_in_a_row == 0
    }
}

/// Keeps the [`CommitStatus`] as commits resolve; shared by a store's clones.
#[derive(Debug, Default)]
pub struct CommitHealth(std::sync::Mutex<CommitStatus>);

impl CommitHealth {
    /// A commit holding one record succeeded.
    pub fn succeeded(&self) {
        let mut status = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        status.committed += 1;
        status.failures_in_a_row = 0;
        status.last_error = None;
    }

    /// A commit failed for `reason`.
    pub fn failed(&self, reason: &str) {
        let mut status = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        status.failures_in_a_row += 1;
        status.last_error = Some(reason.to_owned());
    }

    /// The status now.
    #[must_use]
    pub fn status(&self) -> CommitStatus {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A journalled record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSignal {
    /// The journal id.
    pub id: i64,
    /// The first record of the same message, when this one is a retransmission.
    pub duplicate_of: Option<i64>,
    /// The record.
    pub record: SignalRecord,
}

/// Which records to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalFilter {
    /// Only this account.
    pub account: Option<String>,
    /// Received at or after.
    pub since: Option<UnixMicros>,
    /// Received before.
    pub until: Option<UnixMicros>,
    /// Only records with a journal id above this, oldest first (for paging forwards).
    pub after_id: Option<i64>,
    /// At most this many.
    pub limit: u32,
    /// Only records of transmitters in this shard (records without a transmitter are in none).
    pub shard: Option<Shard>,
}

/// A part of the transmitters that one engine handles as a whole: those whose registry id
/// leaves `index` when divided by `count`. Sharding lets several nodes share the engine's
/// work while every transmitter (its signals and its supervision) has exactly one owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Which part, from 0.
    pub index: u32,
    /// How many parts there are.
    pub count: u32,
}

impl Shard {
    /// The single shard of a store that one engine handles alone.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether a transmitter belongs to this shard.
    #[must_use]
    pub fn holds(self, transmitter_id: i64) -> bool {
        transmitter_id.rem_euclid(i64::from(self.count.max(1))) == i64::from(self.index)
    }
}

/// A shard an engine has taken, with the epoch the store gave it. A later taker gets a higher
/// epoch, and the store refuses the changes of an engine whose epoch is no longer current, so
/// an engine that lost its shard without knowing it cannot write twice what the new owner
/// writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardLease {
    /// The shard.
    pub shard: Shard,
    /// The epoch of this taking.
    pub epoch: i64,
}

fn rfc3339(instant: UnixMicros) -> String {
    jiff::Timestamp::from_microsecond(instant.0)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl StoredSignal {
    /// The signal as the CLI's `--json` and the API show it. Byte fields are given as text
    /// (invalid UTF-8 replaced) and, for the raw frame and answer, also as hex.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let record = &self.record;
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        serde_json::json!({
            "id": self.id,
            "received_at": rfc3339(record.received_at),
            "transport": record.transport.as_str(),
            "listener": record.listener,
            "peer": record.peer,
            "verdict": record.verdict.as_str(),
            "detail": record.detail,
            "token": record.token,
            "encrypted": record.encrypted,
            "sequence": record.sequence,
            "receiver": record.receiver,
            "prefix": record.prefix,
            "account": record.account,
            "transmitter_id": record.transmitter_id,
            "message_time": record.message_time.map(rfc3339),
            "data": record.data.as_deref().map(text),
            "xdata": record.xdata,
            "events": record.events,
            "answer": record.answer,
            "duplicate_of": self.duplicate_of,
            "raw": text(&record.raw),
            "raw_hex": hex_upper(&record.raw),
            "response": text(&record.response),
            "response_hex": hex_upper(&record.response),
        })
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
