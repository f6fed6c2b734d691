//! What both journals decide before they write: each record's id and whether it repeats a
//! message already journalled.

use std::collections::HashMap;

use vakt_store::{Receipt, SignalRecord, Verdict};

/// The journal's columns, in the order [`values`] gives them.
pub const INSERT_SIGNALS: &str = "INSERT INTO signals (id, received_at_us, transport, listener, \
    peer, raw, verdict, detail, token, encrypted, sequence, receiver, prefix, account, \
    transmitter_id, message_time_us, data, xdata, events, answer, response, duplicate_key, \
    duplicate_of) ";

/// Gives the records of one commit their ids from `next_id` on, and marks each whose
/// duplicate key was seen before (`known`, or earlier in the same commit) as a repeat of that
/// first record.
#[must_use]
pub fn plan<'a>(
    next_id: i64,
    known: impl Fn(&str) -> Option<i64>,
    records: impl Iterator<Item = &'a SignalRecord>,
) -> Vec<Receipt> {
    let mut receipts = Vec::new();
    let mut new_keys: HashMap<&str, i64> = HashMap::new();
    for (offset, record) in records.enumerate() {
        let id = next_id + offset as i64;
        let duplicate_of = record
            .duplicate_key
            .as_deref()
            .and_then(|key| known(key).or_else(|| new_keys.get(key).copied()));
        if let (Some(key), None) = (record.duplicate_key.as_deref(), duplicate_of) {
            new_keys.insert(key, id);
        }
        receipts.push(Receipt { id, duplicate_of });
    }
    receipts
}

/// The verdict stored for a record: an accepted message that repeats one is a duplicate.
#[must_use]
pub fn stored_verdict(record: &SignalRecord, receipt: &Receipt) -> Verdict {
    match (record.verdict, receipt.duplicate_of) {
        (Verdict::Accepted | Verdict::UnknownTransmitter, Some(_)) => Verdict::Duplicate,
        (verdict, _) => verdict,
    }
}

/// The events as the journal stores them.
#[must_use]
pub fn events_json(record: &SignalRecord) -> String {
    serde_json::to_string(&record.events).unwrap_or_else(|_| "[]".to_owned())
}
