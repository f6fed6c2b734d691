//! Staff and sessions.

use super::*;

pub async fn staff_and_sessions(store: &SqlStore) {
    let w = world(store).await;
    let guard = store
        .create_staff(
            NewStaff {
                login: "vakt1".into(),
                name: "Väktare".into(),
                role: Role::Guard,
                guard_company_id: Some(w.company),
                language: "en".into(),
                password_hash: "h".into(),
            },
            &Actor::system(),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_staff(
                NewStaff {
                    login: "op1".into(),
                    name: "Again".into(),
                    role: Role::Operator,
                    guard_company_id: None,
                    language: "sv".into(),
                    password_hash: "h".into(),
                },
                &Actor::system(),
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.staff().await.unwrap().len(), 3);
    let found = store.staff_by_login("vakt1").await.unwrap();
    assert_eq!(
        (found.id, found.role, found.guard_company_id),
        (guard, Role::Guard, Some(w.company))
    );
    assert!(matches!(
        store.staff_by_login("nobody").await,
        Err(StoreError::NotFound)
    ));

    let expires = UnixMicros(NOW + 3_600_000_000);
    store
        .create_session("t1".into(), guard, "csrf1".into(), UnixMicros(NOW), expires)
        .await
        .unwrap();
    let session = store.session("t1", UnixMicros(NOW)).await.unwrap();
    assert_eq!((session.staff.id, session.csrf.as_str()), (guard, "csrf1"));
    assert_eq!(session.expires_at, expires);
    assert!(matches!(
        store.session("t1", expires).await,
        Err(StoreError::NotFound)
    ));
    store.end_session("t1").await.unwrap();
    assert!(matches!(
        store.session("t1", UnixMicros(NOW)).await,
        Err(StoreError::NotFound)
    ));
}
