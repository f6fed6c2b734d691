//! Guard companies and key custody.

use super::*;

pub async fn guards_and_keys(store: &SqlStore) {
    let w = world(store).await;
    let by = staff_actor(w.operator);
    let companies = store.guard_companies().await.unwrap();
    assert_eq!(companies.len(), 1);
    assert_eq!(companies[0].areas, vec!["Umeå".to_owned()]);
    let mut renamed = companies[0].clone();
    renamed.name = "Norrvakt AB".into();
    assert_eq!(
        store
            .save_guard_company(renamed.clone(), &by)
            .await
            .unwrap(),
        w.company
    );
    assert_eq!(store.guard_companies().await.unwrap(), vec![renamed]);

    let key = store
        .add_key(w.site, "N-0042".into(), "Skåp 3".into(), &by)
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_key(w.site, "N-0042".into(), "Skåp 4".into(), &by)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .key_action(
            key,
            KeyAction::HandedToGuard,
            "Väktare Berg".into(),
            None,
            &by,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .key_action(key, KeyAction::SentForDestruction, String::new(), None, &by)
                .await,
            Err(StoreError::Conflict(_))
        ),
        "a key out with a guard cannot go to destruction"
    );
    store
        .key_action(key, KeyAction::Returned, String::new(), None, &by)
        .await
        .unwrap();
    let events = store.key_events(key).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec![
            KeyAction::Received,
            KeyAction::HandedToGuard,
            KeyAction::Returned
        ]
    );
    let detail = store.site(w.site).await.unwrap();
    assert_eq!(detail.keys[0].state, KeyState::Stored);
}
