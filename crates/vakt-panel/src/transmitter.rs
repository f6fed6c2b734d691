//! The panel's DC-09 transmitter (*sändare*), without sockets.
//!
//! A real transmitter holds one message at a time until the receiver answers it. This one
//! does the same and follows the standard where it matters to a receiver under test:
//!
//! - every new message takes the next sequence number (0001–9999, then 0001 again);
//!   a retransmission keeps it, so the receiver can tell it from a new event;
//! - no answer within the timeout, or a connection that cannot be made, means "send it
//!   again", on the backup path once the primary has failed `failover_after_attempts` times
//!   in a row; while on the backup it tries the primary again every `primary_retry_s` and
//!   returns to it at the first answer;
//! - a NAK carries the receiver's time: the transmitter moves its clock to it and sends the
//!   same message again with the corrected timestamp;
//! - a DUH means the receiver will never take the message: it is dropped and counted;
//! - with nothing to send for `heartbeat_interval_s`, it sends a `NULL` link test, which is
//!   what keeps the centre's supervision satisfied.
//!
//! The driver (`vakt`'s fleet) owns the sockets: it calls [`Transmitter::poll`] when
//! [`Transmitter::wake_at`] comes, writes what it returns on the path it names, and feeds
//! every answer frame's body to [`Transmitter::on_answer`].

use std::collections::VecDeque;

use serde::Serialize;
use vakt_core::UnixMicros;
use vakt_dc09::message::{Outgoing, encode};
use vakt_dc09::{FrameStyle, Header, Key, Timestamp, TokenName};

use crate::report::{Format, Report};

const MICROS_PER_MILLI: i64 = 1_000;
const MICROS_PER_SECOND: i64 = 1_000_000;
const SEQUENCE_MAX: u16 = 9999;

/// How a transmitter is set up.
#[derive(Clone, Debug)]
pub struct TransmitterConfig {
    /// The account it reports as.
    pub account: String,
    /// The receiver number it sends (`R`), if any.
    pub receiver: Option<String>,
    /// The account prefix (`L`).
    pub prefix: Option<String>,
    /// SIA DC-03 or Contact ID.
    pub format: Format,
    /// The AES key, when it encrypts.
    pub key: Option<Key>,
    /// Seconds of silence before a `NULL` link test.
    pub heartbeat_interval_s: u32,
    /// How long it waits for an answer before sending again.
    pub answer_timeout_ms: u32,
    /// Whether a backup path exists; without one the primary is tried again and again.
    pub has_backup: bool,
    /// Failed attempts in a row on the primary path before it switches to the backup.
    pub failover_after_attempts: u32,
    /// While on the backup, how often it tries the primary again.
    pub primary_retry_s: u32,
    /// After a connection could not be made, how long before the next attempt.
    pub reconnect_delay_ms: u32,
    /// Reports it keeps while the receiver does not answer; the oldest are dropped beyond.
    pub queue_reports_max: usize,
}

impl TransmitterConfig {
    /// A plain SIA transmitter for `account` with the usual timings.
    #[must_use]
    pub fn new(account: impl Into<String>) -> TransmitterConfig {
        TransmitterConfig {
            account: account.into(),
            receiver: None,
            prefix: Some("0".into()),
            format: Format::Sia,
            key: None,
            heartbeat_interval_s: 60,
            answer_timeout_ms: 10_000,
            has_backup: false,
            failover_after_attempts: 3,
            primary_retry_s: 60,
            reconnect_delay_ms: 1_000,
            queue_reports_max: 1_000,
        }
    }
}

/// Which receiver address a message goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// The primary receiver.
    Primary,
    /// The backup receiver.
    Backup,
}

/// Bytes to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Send {
    /// Where to.
    pub path: Path,
    /// The frame.
    pub bytes: Vec<u8>,
    /// Its sequence number.
    pub sequence: u16,
    /// Whether it is a retransmission.
    pub again: bool,
}

/// What an answer did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answered {
    /// The message in flight was acknowledged; the report, or `None` for a link test.
    Acked(Option<Report>),
    /// The receiver sent its time; the clock moved by this many seconds.
    ClockCorrected(i64),
    /// The receiver refused the message for good.
    Refused(Option<Report>),
    /// Not an answer to the message in flight (late, garbled, another sequence).
    Ignored,
}

/// Counters for a summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Reports handed to the transmitter.
    pub reports: u64,
    /// Link tests started.
    pub heartbeats: u64,
    /// Messages acknowledged (reports and link tests).
    pub acked: u64,
    /// Sends that repeated a sequence number.
    pub retransmits: u64,
    /// NAKs obeyed.
    pub naks: u64,
    /// DUHs: messages given up.
    pub refused: u64,
    /// Reports dropped because the queue was full.
    pub dropped: u64,
    /// Switches from the primary to the backup.
    pub failovers: u64,
    /// Returns from the backup to the primary.
    pub returns: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, other: Stats) {
        self.reports += other.reports;
        self.heartbeats += other.heartbeats;
        self.acked += other.acked;
        self.retransmits += other.retransmits;
        self.naks += other.naks;
        self.refused += other.refused;
        self.dropped += other.dropped;
        self.failovers += other.failovers;
        self.returns += other.returns;
    }
}

#[derive(Clone, Debug)]
struct InFlight {
    report: Option<Report>,
    sequence: u16,
    path: Path,
    sent_at: UnixMicros,
    resend_now: bool,
}

/// The transmitter.
#[derive(Debug)]
pub struct Transmitter {
    config: TransmitterConfig,
    next_sequence: u16,
    clock_offset_us: i64,
    queue: VecDeque<Report>,
    in_flight: Option<InFlight>,
    active: Path,
    failures_in_a_row: u32,
    next_probe_at: UnixMicros,
    next_heartbeat_at: UnixMicros,
    stats: Stats,
}

impl Transmitter {
    /// A transmitter whose clock is `clock_offset_s` seconds off the true time at `now`.
    #[must_use]
    pub fn new(config: TransmitterConfig, now: UnixMicros, clock_offset_s: i64) -> Transmitter {
        let next_heartbeat_at = now.add_micros(heartbeat_micros(&config));
        Transmitter {
            config,
            next_sequence: 1,
            clock_offset_us: clock_offset_s * MICROS_PER_SECOND,
            queue: VecDeque::new(),
            in_flight: None,
            active: Path::Primary,
            failures_in_a_row: 0,
            next_probe_at: now,
            next_heartbeat_at,
            stats: Stats::default(),
        }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &TransmitterConfig {
        &self.config
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The path new messages take.
    #[must_use]
    pub fn active_path(&self) -> Path {
        self.active
    }

    /// How far the transmitter's clock is off the true time, in seconds.
    #[must_use]
    pub fn clock_offset_s(&self) -> i64 {
        self.clock_offset_us / MICROS_PER_SECOND
    }

    /// Reports waiting, including the one in flight.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.queue.len() + usize::from(self.in_flight.as_ref().is_some_and(|m| m.report.is_some()))
    }

    /// Hands over reports to send, oldest first.
    pub fn queue(&mut self, reports: impl IntoIterator<Item = Report>) {
        for report in reports {
            self.stats.reports += 1;
            if self.queue.len() >= self.config.queue_reports_max {
                self.queue.pop_front();
                self.stats.dropped += 1;
            }
            self.queue.push_back(report);
        }
    }

    /// When [`Transmitter::poll`] has something to do.
    #[must_use]
    pub fn wake_at(&self) -> UnixMicros {
        match &self.in_flight {
            Some(message) if message.resend_now => message.sent_at,
            Some(message) => message
                .sent_at
                .add_micros(i64::from(self.config.answer_timeout_ms) * MICROS_PER_MILLI),
            None if !self.queue.is_empty() => UnixMicros(i64::MIN),
            None => self.next_heartbeat_at,
        }
    }

    /// The next frame to write at `now`, if any: a retransmission whose answer is overdue,
    /// the next report, or a link test.
    pub fn poll(&mut self, now: UnixMicros, pad: &mut dyn FnMut() -> u8) -> Option<Send> {
        if let Some(message) = &self.in_flight {
            let overdue = now >= self.wake_at();
            if !overdue {
                return None;
            }
            if !message.resend_now {
                self.failed(now);
            }
            return self.send_in_flight(now, pad, true);
        }
        let report = self.queue.pop_front();
        if report.is_none() && now < self.next_heartbeat_at {
            return None;
        }
        if report.is_none() {
            self.stats.heartbeats += 1;
        }
        let path = if self.active == Path::Backup && now >= self.next_probe_at {
            Path::Primary
        } else {
            self.active
        };
        let sequence = self.next_sequence;
        self.next_sequence = if sequence >= SEQUENCE_MAX {
            1
        } else {
            sequence + 1
        };
        self.in_flight = Some(InFlight {
            report,
            sequence,
            path,
            sent_at: now,
            resend_now: false,
        });
        self.send_in_flight(now, pad, false)
    }

    /// The connection on `path` could not be made or broke: the message in flight there
    /// counts as unanswered now.
    pub fn connection_failed(&mut self, now: UnixMicros, path: Path) {
        let on_path = self
            .in_flight
            .as_ref()
            .is_some_and(|m| m.path == path && !m.resend_now);
        if on_path {
            self.failed(now);
            let delay = i64::from(self.config.reconnect_delay_ms) * MICROS_PER_MILLI;
            if let Some(message) = &mut self.in_flight {
                message.resend_now = true;
                message.sent_at = now.add_micros(delay);
            }
        }
    }

    fn failed(&mut self, now: UnixMicros) {
        let Some(message) = &mut self.in_flight else {
            return;
        };
        self.failures_in_a_row += 1;
        if !self.config.has_backup {
            return;
        }
        let probing = message.path == Path::Primary && self.active == Path::Backup;
        if probing {
            // The primary is still down: back to the backup until the next probe.
            message.path = Path::Backup;
            self.failures_in_a_row = 0;
            self.next_probe_at = now.add_micros(probe_micros(&self.config));
        } else if self.failures_in_a_row >= self.config.failover_after_attempts.max(1) {
            let other = match message.path {
                Path::Primary => Path::Backup,
                Path::Backup => Path::Primary,
            };
            if other == Path::Backup {
                self.stats.failovers += 1;
                self.next_probe_at = now.add_micros(probe_micros(&self.config));
            }
            message.path = other;
            self.active = other;
            self.failures_in_a_row = 0;
        }
    }

    fn send_in_flight(
        &mut self,
        now: UnixMicros,
        pad: &mut dyn FnMut() -> u8,
        again: bool,
    ) -> Option<Send> {
        let panel_now = now.add_micros(self.clock_offset_us);
        let config = &self.config;
        let message = self.in_flight.as_mut()?;
        message.sent_at = now;
        message.resend_now = false;
        if again {
            self.stats.retransmits += 1;
        }
        let (token, data) = match &message.report {
            Some(report) => (
                match config.format {
                    Format::Sia => TokenName::SiaDcs,
                    Format::ContactId => TokenName::AdmCid,
                },
                report.data(&config.account, config.format),
            ),
            None => (TokenName::Null, String::new()),
        };
        let outgoing = Outgoing {
            token,
            sequence: message.sequence,
            receiver: config.receiver.as_deref(),
            prefix: config.prefix.as_deref(),
            account: &config.account,
            data: data.as_bytes(),
            xdata: &[],
            timestamp: Some(Timestamp::from_unix_micros(panel_now)),
        };
        let bytes = encode(&outgoing, config.key.as_ref(), pad, FrameStyle::STANDARD);
        Some(Send {
            path: message.path,
            bytes,
            sequence: message.sequence,
            again,
        })
    }

    /// Reads one answer frame's body that arrived on `path` at `now`.
    pub fn on_answer(&mut self, now: UnixMicros, path: Path, body: &[u8]) -> Answered {
        let Ok(header) = Header::parse(body) else {
            return Answered::Ignored;
        };
        let Some(message) = &self.in_flight else {
            return Answered::Ignored;
        };
        if message.path != path {
            return Answered::Ignored;
        }
        match header.token.name {
            TokenName::Nak => {
                let Some(stamp) = body
                    .iter()
                    .rposition(|&b| b == b'_')
                    .and_then(|at| body.get(at + 1..))
                    .and_then(|text| Timestamp::parse(text).ok())
                else {
                    return Answered::Ignored;
                };
                let before = self.clock_offset_us;
                self.clock_offset_us = stamp.as_unix_micros().0 - now.0;
                self.stats.naks += 1;
                if let Some(message) = &mut self.in_flight {
                    message.resend_now = true;
                    message.sent_at = now;
                }
                Answered::ClockCorrected((self.clock_offset_us - before) / MICROS_PER_SECOND)
            }
            TokenName::Ack | TokenName::Duh => {
                let ours = header.sequence.parse::<u16>().ok() == Some(message.sequence)
                    && header.account.as_deref() == Some(self.config.account.as_str());
                if !ours {
                    return Answered::Ignored;
                }
                let refused = header.token.name == TokenName::Duh;
                let report = self.in_flight.take().and_then(|m| m.report);
                self.failures_in_a_row = 0;
                if path == Path::Primary && self.active == Path::Backup {
                    self.active = Path::Primary;
                    self.stats.returns += 1;
                }
                self.next_heartbeat_at = now.add_micros(heartbeat_micros(&self.config));
                if refused {
                    self.stats.refused += 1;
                    Answered::Refused(report)
                } else {
                    self.stats.acked += 1;
                    Answered::Acked(report)
                }
            }
            _ => Answered::Ignored,
        }
    }
}

fn heartbeat_micros(config: &TransmitterConfig) -> i64 {
    i64::from(config.heartbeat_interval_s.max(1)) * MICROS_PER_SECOND
}

fn probe_micros(config: &TransmitterConfig) -> i64 {
    i64::from(config.primary_retry_s.max(1)) * MICROS_PER_SECOND
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ReportCode;
    use vakt_dc09::frame::decode_datagram;
    use vakt_dc09::response;

    const T0: i64 = 1_790_000_000_000_000;

    fn at_ms(ms: i64) -> UnixMicros {
        UnixMicros(T0 + ms * 1_000)
    }

    fn body(bytes: &[u8]) -> Vec<u8> {
        decode_datagram(bytes, 4096).unwrap().body().to_vec()
    }

    fn ack_for(sent: &Send) -> Vec<u8> {
        let header = Header::parse(&body(&sent.bytes)).unwrap();
        body(&response::ack(&header, FrameStyle::STANDARD))
    }

    fn report(address: u32) -> Report {
        Report {
            at: at_ms(0),
            code: ReportCode::Burglary,
            partition: 1,
            address,
        }
    }

    fn config() -> TransmitterConfig {
        TransmitterConfig {
            answer_timeout_ms: 1_000,
            failover_after_attempts: 2,
            primary_retry_s: 30,
            heartbeat_interval_s: 60,
            reconnect_delay_ms: 0,
            has_backup: true,
            ..TransmitterConfig::new("12AB")
        }
    }

    #[test]
    fn retransmits_the_same_sequence_then_fails_over_and_returns() {
        let mut pad = || b'7';
        let mut tx = Transmitter::new(config(), at_ms(0), 0);
        tx.queue([report(1), report(2)]);
        let first = tx.poll(at_ms(0), &mut pad).unwrap();
        assert_eq!(
            (first.path, first.sequence, first.again),
            (Path::Primary, 1, false)
        );
        assert!(
            tx.poll(at_ms(999), &mut pad).is_none(),
            "waits for the answer"
        );
        let again = tx.poll(at_ms(1_000), &mut pad).unwrap();
        assert_eq!(
            (again.path, again.sequence, again.again),
            (Path::Primary, 1, true)
        );
        // Second failure on the primary: the same message goes to the backup.
        let backup = tx.poll(at_ms(2_000), &mut pad).unwrap();
        assert_eq!((backup.path, backup.sequence), (Path::Backup, 1));
        assert_eq!(tx.stats().failovers, 1);
        // A late answer from the primary is not taken for the backup's.
        assert_eq!(
            tx.on_answer(at_ms(2_100), Path::Primary, &ack_for(&first)),
            Answered::Ignored
        );
        assert_eq!(
            tx.on_answer(at_ms(2_200), Path::Backup, &ack_for(&backup)),
            Answered::Acked(Some(report(1)))
        );
        let next = tx.poll(at_ms(2_300), &mut pad).unwrap();
        assert_eq!(
            (next.path, next.sequence, next.again),
            (Path::Backup, 2, false)
        );
        tx.on_answer(at_ms(2_400), Path::Backup, &ack_for(&next));
        // After primary_retry_s the next message probes the primary; an answer there brings
        // the transmitter home.
        let heartbeat = tx.poll(at_ms(62_400), &mut pad).unwrap();
        assert_eq!((heartbeat.path, heartbeat.sequence), (Path::Primary, 3));
        assert!(String::from_utf8_lossy(&heartbeat.bytes).contains("\"NULL\"0003"));
        tx.on_answer(at_ms(62_500), Path::Primary, &ack_for(&heartbeat));
        assert_eq!(tx.active_path(), Path::Primary);
        assert_eq!((tx.stats().returns, tx.stats().acked), (1, 3));
    }

    #[test]
    fn a_failed_probe_goes_straight_back_to_the_backup() {
        let mut pad = || b'7';
        let mut tx = Transmitter::new(config(), at_ms(0), 0);
        tx.queue([report(1)]);
        tx.poll(at_ms(0), &mut pad);
        tx.connection_failed(at_ms(1), Path::Primary);
        tx.poll(at_ms(1), &mut pad);
        tx.connection_failed(at_ms(2), Path::Primary);
        let backup = tx.poll(at_ms(2), &mut pad).unwrap();
        assert_eq!(backup.path, Path::Backup);
        tx.on_answer(at_ms(3), Path::Backup, &ack_for(&backup));
        tx.queue([report(2)]);
        let probe = tx.poll(at_ms(40_000), &mut pad).unwrap();
        assert_eq!(probe.path, Path::Primary);
        tx.connection_failed(at_ms(40_001), Path::Primary);
        let fallback = tx.poll(at_ms(40_001), &mut pad).unwrap();
        assert_eq!(
            (fallback.path, fallback.sequence),
            (Path::Backup, probe.sequence)
        );
        assert_eq!(tx.active_path(), Path::Backup);
    }

    #[test]
    fn a_nak_moves_the_clock_and_the_same_message_goes_again() {
        let mut pad = || b'7';
        // The panel believes it is an hour behind.
        let mut tx = Transmitter::new(config(), at_ms(0), -3_600);
        tx.queue([report(5)]);
        let first = tx.poll(at_ms(0), &mut pad).unwrap();
        assert!(
            String::from_utf8_lossy(&first.bytes)
                .contains(&Timestamp::from_unix_micros(at_ms(-3_600_000)).to_string())
        );
        let nak = body(&response::nak(
            Timestamp::from_unix_micros(at_ms(1_000)),
            FrameStyle::STANDARD,
        ));
        assert_eq!(
            tx.on_answer(at_ms(1_000), Path::Primary, &nak),
            Answered::ClockCorrected(3_600)
        );
        let again = tx.poll(at_ms(1_000), &mut pad).unwrap();
        assert_eq!((again.sequence, again.again), (first.sequence, true));
        assert!(
            String::from_utf8_lossy(&again.bytes)
                .contains(&Timestamp::from_unix_micros(at_ms(1_000)).to_string())
        );
        assert_eq!(tx.clock_offset_s(), 0);
        assert_eq!(tx.stats().failovers, 0, "a NAK is an answer, not a failure");
    }

    #[test]
    fn without_a_backup_it_keeps_trying_the_primary() {
        let mut pad = || b'7';
        let config = TransmitterConfig {
            has_backup: false,
            ..config()
        };
        let mut tx = Transmitter::new(config, at_ms(0), 0);
        tx.queue([report(1)]);
        for attempt in 0..6 {
            let sent = tx.poll(at_ms(attempt * 1_000), &mut pad).unwrap();
            assert_eq!((sent.path, sent.sequence), (Path::Primary, 1));
        }
        assert_eq!(tx.stats().failovers, 0);
        assert_eq!(tx.stats().retransmits, 5);
    }

    #[test]
    fn sequence_numbers_wrap_from_9999_to_1() {
        let mut pad = || b'7';
        let mut tx = Transmitter::new(config(), at_ms(0), 0);
        let mut last = 0;
        for i in 0..10_001 {
            tx.queue([report(1)]);
            let sent = tx.poll(at_ms(i), &mut pad).unwrap();
            assert!((1..=9999).contains(&sent.sequence));
            if last == 9999 {
                assert_eq!(sent.sequence, 1);
            }
            last = sent.sequence;
            tx.on_answer(at_ms(i), Path::Primary, &ack_for(&sent));
        }
        assert_eq!(tx.stats().acked, 10_001);
    }
}
