//! The store's behaviour on a real SQLite file.

use std::sync::Arc;

use vakt_core::time::FixedClock;
use vakt_core::{Category, UnixMicros};
use vakt_dc09::{Dialect, Key, KeyForm, Window};
use vakt_store::*;

use vakt_store_sql::SqlStore;

use crate::SqliteOptions;

fn record(at: i64, account: &str, key: Option<&str>) -> SignalRecord {
    SignalRecord {
        received_at: UnixMicros(at),
        transport: Transport::Tcp,
        listener: "main".into(),
        peer: "127.0.0.1:5000".into(),
        raw: b"\n....\r".to_vec(),
        verdict: Verdict::Accepted,
        detail: None,
        token: Some("ADM-CID".into()),
        encrypted: false,
        sequence: Some("0001".into()),
        receiver: None,
        prefix: Some("0".into()),
        account: Some(account.into()),
        transmitter_id: None,
        message_time: None,
        data: Some(b"#1234|1130 01 015".to_vec()),
        xdata: serde_json::json!([]),
        events: vec![vakt_core::Event::from_contact_id(1, 130, 1, 15)],
        answer: "ack".into(),
        response: b"\nACK\r".to_vec(),
        duplicate_key: key.map(str::to_owned),
    }
}

async fn open(dir: &tempfile::TempDir, now: i64) -> SqlStore {
    crate::open(
        SqliteOptions::new(dir.path().join("vakt.db")),
        Arc::new(FixedClock(UnixMicros(now))),
    )
    .await
    .unwrap()
}

fn transmitter(account: &str, site: &str) -> NewTransmitter {
    NewTransmitter {
        account: account.into(),
        receiver: None,
        prefix: Some("0".into()),
        key: Some(StoredKey {
            key: Key::parse("0123456789ABCDEF", KeyForm::Ascii).unwrap(),
            form: KeyForm::Ascii,
        }),
        supervision_interval_s: 90,
        timestamp_policy: TimestampPolicy::Encrypted,
        window: Window::default(),
        clock_offset_s: 0,
        dialect: Dialect {
            crc_binary: true,
            ..Dialect::default()
        },
        site: Site {
            name: site.into(),
            address: "Storgatan 1".into(),
        },
    }
}

#[tokio::test]
async fn appended_records_read_back_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 0).await;
    let appends: Vec<_> = (0..300)
        .map(|i| {
            store.append(record(
                1_000 + i,
                if i % 2 == 0 { "A1" } else { "B2" },
                None,
            ))
        })
        .collect();
    let receipts: Vec<Receipt> = futures_join(appends).await;
    let ids: Vec<i64> = receipts.iter().map(|r| r.id).collect();
    assert_eq!(ids, (1..=300).collect::<Vec<_>>());
    let listed = store
        .signals(&SignalFilter {
            account: Some("A1".into()),
            limit: 1000,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 150);
    assert_eq!(listed[0].record, record(1_298, "A1", None));
    assert_eq!(listed[0].record.events[0].category, Category::Burglary);
    let window = SignalFilter {
        since: Some(UnixMicros(1_010)),
        until: Some(UnixMicros(1_020)),
        limit: 100,
        ..SignalFilter::default()
    };
    assert_eq!(store.signals(&window).await.unwrap().len(), 10);
    store.close().await;
}

async fn futures_join(
    appends: Vec<impl std::future::Future<Output = Result<Receipt, StoreError>>>,
) -> Vec<Receipt> {
    let mut receipts = Vec::new();
    // Polled together so the writer sees them queued and commits in groups.
    for receipt in join_all(appends).await {
        receipts.push(receipt.unwrap());
    }
    receipts
}

async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[tokio::test]
async fn a_retransmission_is_marked_duplicate_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 5_000_000).await;
    let first = store
        .append(record(5_000_000, "A1", Some("k1")))
        .await
        .unwrap();
    let again = store
        .append(record(5_000_001, "A1", Some("k1")))
        .await
        .unwrap();
    assert_eq!(
        (first.duplicate_of, again.duplicate_of),
        (None, Some(first.id))
    );
    store.close().await;
    let reopened = open(&dir, 6_000_000).await;
    let after_restart = reopened
        .append(record(6_000_000, "A1", Some("k1")))
        .await
        .unwrap();
    assert_eq!(after_restart.duplicate_of, Some(first.id));
    assert_eq!(after_restart.id, again.id + 1);
    let stored = reopened
        .signals(&SignalFilter {
            limit: 10,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(stored[0].record.verdict, Verdict::Duplicate);
    assert_eq!(stored[2].record.verdict, Verdict::Accepted);
    reopened.close().await;
    // Outside the window the same key is a new message.
    let later = open(&dir, 5_000_000 + 121_000_000).await;
    let fresh = later
        .append(record(5_000_000 + 121_000_000, "A1", Some("k1")))
        .await
        .unwrap();
    assert_eq!(fresh.duplicate_of, None);
    later.close().await;
}

#[tokio::test]
async fn import_creates_then_updates_and_bumps_the_revision() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 0).await;
    let before = store.registry_revision().await.unwrap();
    let outcome = store
        .import_transmitters(vec![
            transmitter("1234", "Villa Ek"),
            transmitter("5678", "Kontor"),
        ])
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ImportOutcome {
            created: 2,
            updated: 0
        }
    );
    let mut changed = transmitter("1234", "Villa Ek");
    changed.supervision_interval_s = 300;
    let outcome = store
        .import_transmitters(vec![changed.clone()])
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ImportOutcome {
            created: 0,
            updated: 1
        }
    );
    assert!(store.registry_revision().await.unwrap() > before);
    let all = store.transmitters().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].spec, changed);
    store.delete_transmitter(all[1].id).await.unwrap();
    assert!(matches!(
        store.delete_transmitter(all[1].id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.transmitters().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn durability_settings_are_explicit() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 0).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.readers())
        .await
        .unwrap();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.readers())
        .await
        .unwrap();
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.readers())
        .await
        .unwrap();
    assert_eq!((mode.as_str(), synchronous, foreign_keys), ("wal", 2, 1));
    store.close().await;
}
