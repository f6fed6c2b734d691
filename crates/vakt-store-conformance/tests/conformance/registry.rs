//! The transmitter registry: import, revision, delete, link tokens.

use super::*;

pub async fn registry(store: &SqlStore) {
    let before = store.registry_revision().await.unwrap();
    let outcome = store
        .import_transmitters(vec![transmitter("1234", "A"), transmitter("5678", "B")])
        .await
        .unwrap();
    assert_eq!((outcome.created, outcome.updated), (2, 0));
    let mut changed = transmitter("1234", "A");
    changed.supervision_interval_s = 300;
    changed.key = None;
    let outcome = store
        .import_transmitters(vec![changed.clone()])
        .await
        .unwrap();
    assert_eq!((outcome.created, outcome.updated), (0, 1));
    assert!(store.registry_revision().await.unwrap() > before);
    let all = store.transmitters().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].spec, changed, "read back whole");
    assert_eq!(all[1].spec, transmitter("5678", "B"));

    let revision = store.registry_revision().await.unwrap();
    store
        .set_link_token(all[1].id, "hash-of-token".into(), &Actor::system())
        .await
        .unwrap();
    let linked = store.link_transmitter("hash-of-token").await.unwrap();
    assert_eq!(linked.map(|t| t.id), Some(all[1].id));
    assert_eq!(store.link_transmitter("other").await.unwrap(), None);

    store.delete_transmitter(all[0].id).await.unwrap();
    assert!(matches!(
        store.delete_transmitter(all[0].id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.transmitters().await.unwrap().len(), 1);
    assert!(store.registry_revision().await.unwrap() > revision);
}
