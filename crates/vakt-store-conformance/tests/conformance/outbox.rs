//! The notification outbox: claims, deliveries, retries.

use super::*;

pub async fn outbox(store: &SqlStore) {
    let w = world(store).await;
    let lease = store.take_shard(Shard::WHOLE).await.unwrap();
    store
        .apply_engine(
            lease,
            1,
            vec![EngineChange::Alarm {
                site_id: w.site,
                event: note(NOW, Category::Burglary, Some(1)),
                title: "Inbrott".into(),
                hold_until: Some(UnixMicros(NOW + 60_000_000)),
                keeps_hold: true,
                runaway_zone: None,
            }],
            UnixMicros(NOW),
        )
        .await
        .unwrap();
    for n in 0..3 {
        store
            .apply_engine(
                lease,
                2,
                vec![EngineChange::AuthorisedDisarm {
                    site_id: w.site,
                    event: note(NOW + n, Category::Opening, None),
                    by: "Anna".into(),
                    message: Some(NewMessage {
                        channel: "sms",
                        recipient: format!("+4670000000{n}"),
                        subject: String::new(),
                        body: "Larmet återkallat".into(),
                    }),
                }],
                UnixMicros(NOW + n),
            )
            .await
            .unwrap();
    }
    let queued = store.messages(10).await.unwrap();
    assert_eq!(
        queued.len(),
        1,
        "only the disarm within the hold closes and notifies"
    );
    assert_eq!(queued[0].recipient, "+46700000000");

    let now = UnixMicros(NOW + 1_000);
    let claimed = store.claim_messages(now, 10, 30_000_000).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    assert!(
        store
            .claim_messages(now, 10, 30_000_000)
            .await
            .unwrap()
            .is_empty(),
        "claimed messages are not claimed again"
    );
    store
        .message_failed(claimed[0].id, "timeout".into(), Some(now))
        .await
        .unwrap();
    let retried = store.claim_messages(now, 10, 30_000_000).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].last_error.as_deref(), Some("timeout"));
    store.message_delivered(retried[0].id, now).await.unwrap();
    assert!(
        store
            .claim_messages(UnixMicros(NOW + 3_600_000_000), 10, 30_000_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.messages(10).await.unwrap()[0].delivered_at, Some(now));
}
