//! The journal: order, duplicates, filters, across nodes on PostgreSQL.

use super::*;

pub async fn journal(store: &SqlStore) {
    let first = store
        .append(record(NOW, "1234", Some("k1"), Some(7)))
        .await
        .unwrap();
    assert_eq!(first.duplicate_of, None);
    let again = store
        .append(record(NOW + 5_000_000, "1234", Some("k1"), Some(7)))
        .await
        .unwrap();
    assert_eq!(again.duplicate_of, Some(first.id), "a retransmission");
    assert!(again.id > first.id);
    let other = store
        .append(record(NOW + 6_000_000, "5678", None, Some(8)))
        .await
        .unwrap();
    // A key seen longer ago than the window is a new message.
    let late = store
        .append(record(NOW + 600_000_000, "1234", Some("k1"), Some(7)))
        .await
        .unwrap();
    assert_eq!(late.duplicate_of, None);

    let all = store
        .signals(&SignalFilter {
            limit: 10,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![late.id, other.id, again.id, first.id],
        "newest first"
    );
    let stored = all.iter().find(|s| s.id == first.id).unwrap();
    assert_eq!(stored.record, record(NOW, "1234", Some("k1"), Some(7)));
    let repeat = all.iter().find(|s| s.id == again.id).unwrap();
    assert_eq!(repeat.record.verdict, Verdict::Duplicate);
    assert_eq!(repeat.duplicate_of, Some(first.id));

    let by_account = store
        .signals(&SignalFilter {
            account: Some("5678".into()),
            limit: 10,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_account.len(), 1);
    let window = store
        .signals(&SignalFilter {
            since: Some(UnixMicros(NOW + 1)),
            until: Some(UnixMicros(NOW + 6_000_000)),
            limit: 10,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![again.id]
    );
    let forwards = store
        .signals(&SignalFilter {
            after_id: Some(first.id),
            limit: 2,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        forwards.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![again.id, other.id],
        "oldest first after an id"
    );
    let shard = store
        .signals(&SignalFilter {
            limit: 10,
            shard: Some(Shard { index: 0, count: 2 }),
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        shard.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![other.id]
    );
}
