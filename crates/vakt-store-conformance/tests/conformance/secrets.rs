//! Secrets: hashes, lockouts and the atomic begin of a check.

use super::*;

pub async fn secrets(store: &SqlStore) {
    let w = world(store).await;
    store
        .set_revoking_code(w.site, "code-hash".into(), &Actor::system())
        .await
        .unwrap();
    let which = SecretRef::RevokingCode(w.site);
    assert_eq!(
        store.secret(which).await.unwrap().hash.as_deref(),
        Some("code-hash")
    );
    let at = UnixMicros(NOW);
    let policy = vakt_core::lockout::Lockout {
        failures_max: 3,
        lock_us: 60_000_000,
    };
    for expected in 1..=2 {
        let start = store.begin_check(which, at, policy).await.unwrap();
        assert_eq!(
            start,
            CheckStart::Check {
                hash: "code-hash".into(),
                locks: false
            }
        );
        assert_eq!(store.secret(which).await.unwrap().failures, expected);
    }
    let last = store.begin_check(which, at, policy).await.unwrap();
    assert!(
        matches!(last, CheckStart::Check { locks: true, .. }),
        "{last:?}"
    );
    assert_eq!(
        store.begin_check(which, at, policy).await.unwrap(),
        CheckStart::Locked(UnixMicros(NOW + 60_000_000))
    );
    store.check_passed(which).await.unwrap();
    let cleared = store.secret(which).await.unwrap();
    assert_eq!((cleared.failures, cleared.locked_until), (0, None));

    // Forty attempts at once are counted one by one: exactly `failures_max` checked.
    let attempts = (0..40).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.begin_check(which, at, policy).await.unwrap() })
    });
    let mut checked = 0;
    for attempt in attempts {
        if matches!(attempt.await.unwrap(), CheckStart::Check { .. }) {
            checked += 1;
        }
    }
    assert_eq!(checked, 3, "parallel attempts each counted");
    assert_eq!(store.secret(which).await.unwrap().failures, 3);
    let none = SecretRef::Contact(i64::MAX);
    assert!(matches!(
        store.begin_check(none, at, policy).await,
        Err(StoreError::NotFound)
    ));
    let login = store.identity_by_login("op1").await.unwrap();
    assert_eq!(login.staff().map(|s| s.id), Some(w.operator));
    let staff = store.secret(SecretRef::Login(login.id)).await.unwrap();
    assert_eq!(staff.hash.as_deref(), Some("hash"));
}
