//! Registry rows: transmitters and the sites they belong to.

use serde::{Deserialize, Serialize};
use vakt_dc09::{Dialect, Key, KeyForm, Window};

/// When a transmitter's timestamps are checked against the receiver's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampPolicy {
    /// Encrypted messages only, as the standard requires (the default).
    #[default]
    Encrypted,
    /// Every message that carries a timestamp, encrypted or not.
    All,
    /// Never (panels that keep local time and cannot be fixed).
    Ignore,
}

impl TimestampPolicy {
    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampPolicy::Encrypted => "encrypted",
            TimestampPolicy::All => "all",
            TimestampPolicy::Ignore => "ignore",
        }
    }

    /// Parses the stable name.
    #[must_use]
    pub fn parse(text: &str) -> Option<TimestampPolicy> {
        match text {
            "encrypted" => Some(TimestampPolicy::Encrypted),
            "all" => Some(TimestampPolicy::All),
            "ignore" => Some(TimestampPolicy::Ignore),
            _ => None,
        }
    }
}

/// A stored key and the form it was entered in (so it can be described, never shown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// The key.
    pub key: Key,
    /// How it was entered.
    pub form: KeyForm,
}

impl StoredKey {
    /// A description that does not reveal the key: `AES-256 (ascii) 3F2A`.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "AES-{} ({}) {}",
            self.key.bits(),
            self.form.as_str(),
            self.key.fingerprint()
        )
    }
}

/// The site a transmitter belongs to (for now: its name and address).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The site's name, as operators know it.
    pub name: String,
    /// The street address.
    pub address: String,
}

/// A transmitter to create or replace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTransmitter {
    /// The account (hex digits as the panel sends them).
    pub account: String,
    /// The receiver number it sends, if it must match.
    pub receiver: Option<String>,
    /// The account prefix (line) it sends, if it must match.
    pub prefix: Option<String>,
    /// The AES key; `None` for a transmitter that sends in plain.
    pub key: Option<StoredKey>,
    /// Seconds between the transmitter's heartbeats.
    pub supervision_interval_s: u32,
    /// When timestamps are checked.
    pub timestamp_policy: TimestampPolicy,
    /// How far timestamps may stray.
    pub window: Window,
    /// A known offset of the panel's clock, in seconds, subtracted before the check.
    pub clock_offset_s: i32,
    /// Framing deviations this panel needs.
    pub dialect: Dialect,
    /// Where it is.
    pub site: Site,
}

/// A registered transmitter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmitter {
    /// The registry id.
    pub id: i64,
    /// The site it belongs to.
    pub site_id: i64,
    /// Everything else.
    pub spec: NewTransmitter,
}

/// Which transmitter an import line concerns: the account with its receiver and prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransmitterRef {
    /// The account.
    pub account: String,
    /// The receiver number, or empty.
    pub receiver: String,
    /// The prefix, or empty.
    pub prefix: String,
}

impl NewTransmitter {
    /// The identity this transmitter is matched on.
    #[must_use]
    pub fn reference(&self) -> TransmitterRef {
        TransmitterRef {
            account: self.account.clone(),
            receiver: self.receiver.clone().unwrap_or_default(),
            prefix: self.prefix.clone().unwrap_or_default(),
        }
    }
}

/// How an import went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// Transmitters that were new.
    pub created: usize,
    /// Transmitters that replaced one with the same account, receiver and prefix.
    pub updated: usize,
}
