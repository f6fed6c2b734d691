//! What both journals decide before they write: each record's id and whether it repeats a
//! message already journalled.

use std::collections::HashMap;

use sqlx::{Database, Encode, QueryBuilder, Type};
use vakt_store::{Receipt, SignalRecord, Verdict};

/// The journal's columns, in the order [`inserts`] binds them.
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
fn events_json(record: &SignalRecord) -> String {
    serde_json::to_string(&record.events).unwrap_or_else(|_| "[]".to_owned())
}

/// The INSERT statements that write one commit's records on either driver, cut into chunks of
/// the first of `chunk_rows` (largest first, ending in 1) that fits what remains, so only a few
/// statement shapes exist and each stays under the database's bound on parameters.
pub fn inserts<'a, DB>(
    records: &[&'a SignalRecord],
    receipts: &'a [Receipt],
    chunk_rows: &[usize],
) -> Vec<QueryBuilder<DB>>
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> &'static str: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> Vec<u8>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<Vec<u8>>: Encode<'t, DB> + Type<DB>,
{
    let mut statements = Vec::new();
    let mut done = 0;
    while done < records.len() {
        let remaining = records.len() - done;
        let chunk = chunk_rows
            .iter()
            .copied()
            .find(|&size| size <= remaining)
            .unwrap_or(1);
        let rows = records
            .get(done..done + chunk)
            .unwrap_or_default()
            .iter()
            .zip(receipts.get(done..).unwrap_or_default());
        let mut insert = QueryBuilder::<DB>::new(INSERT_SIGNALS);
        insert.push_values(rows, |mut values, (record, receipt)| {
            values
                .push_bind(receipt.id)
                .push_bind(record.received_at.0)
                .push_bind(record.transport.as_str())
                .push_bind(record.listener.clone())
                .push_bind(record.peer.clone())
                .push_bind(record.raw.clone())
                .push_bind(stored_verdict(record, receipt).as_str())
                .push_bind(record.detail.clone())
                .push_bind(record.token.clone())
                .push_bind(i64::from(record.encrypted))
                .push_bind(record.sequence.clone())
                .push_bind(record.receiver.clone())
                .push_bind(record.prefix.clone())
                .push_bind(record.account.clone())
                .push_bind(record.transmitter_id)
                .push_bind(record.message_time.map(|t| t.0))
                .push_bind(record.data.clone())
                .push_bind(record.xdata.to_string())
                .push_bind(events_json(record))
                .push_bind(record.answer.clone())
                .push_bind(record.response.clone())
                .push_bind(record.duplicate_key.clone())
                .push_bind(receipt.duplicate_of);
        });
        statements.push(insert);
        done += chunk;
    }
    statements
}
