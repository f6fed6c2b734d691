//! Identities (staff and customer logins), sessions and API clients.

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
    let found = store.identity_by_login("VAKT1").await.unwrap();
    let staff = found.staff().unwrap();
    assert_eq!(
        (staff.id, staff.role, staff.guard_company_id),
        (guard, Role::Guard, Some(w.company))
    );
    assert_eq!(found.principal(), Principal::Staff(Role::Guard));
    assert_eq!(found.language(), "en");
    assert!(matches!(
        store.identity_by_login("nobody").await,
        Err(StoreError::NotFound)
    ));

    let expires = UnixMicros(NOW + 3_600_000_000);
    store
        .create_session(
            "t1".into(),
            found.id,
            "csrf1".into(),
            UnixMicros(NOW),
            expires,
        )
        .await
        .unwrap();
    let session = store.session("t1", UnixMicros(NOW)).await.unwrap();
    assert_eq!(
        (
            session.identity.staff().map(|s| s.id),
            session.csrf.as_str()
        ),
        (Some(guard), "csrf1")
    );
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

pub async fn customer_logins(store: &SqlStore) {
    let w = world(store).await;
    let login = |login: &str, customer_id| NewCustomerLogin {
        customer_id,
        login: login.into(),
        password_hash: "h".into(),
    };
    let id = store
        .create_customer_login(login("anna@example.se", w.customer), &Actor::system())
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .create_customer_login(login("op1", w.customer), &Actor::system())
                .await,
            Err(StoreError::Conflict(_))
        ),
        "a staff login is taken for customers too"
    );
    assert!(matches!(
        store
            .create_customer_login(login("x@example.se", i64::MAX), &Actor::system())
            .await,
        Err(StoreError::NotFound)
    ));
    let found = store.identity_by_login("Anna@Example.se").await.unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.principal(), Principal::Customer);
    assert!(found.staff().is_none());
    let Subject::Customer(customer) = &found.subject else {
        panic!("a customer identity")
    };
    assert_eq!(customer.customer_id, w.customer);
    assert!(found.actor().name.contains("anna@example.se"));
    let secret = store.secret(SecretRef::Login(id)).await.unwrap();
    assert_eq!(secret.hash.as_deref(), Some("h"));

    let expires = UnixMicros(NOW + 60_000_000);
    store
        .create_session("c1".into(), id, "csrf".into(), UnixMicros(NOW), expires)
        .await
        .unwrap();
    let session = store.session("c1", UnixMicros(NOW)).await.unwrap();
    assert_eq!(session.identity, found);
    let audit = store
        .audit(Some("customer_login".into()), Some(w.customer), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

pub async fn api_clients(store: &SqlStore) {
    let by = Actor::system();
    let client = |name: &str, hash: &str, scopes: Vec<Scope>| NewApiClient {
        name: name.into(),
        token_hash: hash.into(),
        scopes,
    };
    let export = store
        .create_api_client(client("export", "h1", vec![Scope::SignalsRead]), &by)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_api_client(client("export", "h2", vec![Scope::Admin]), &by)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let found = store.api_client("h1").await.unwrap().unwrap();
    assert_eq!(
        (found.id, found.scopes.as_slice()),
        (export, &[Scope::SignalsRead][..])
    );
    assert!(store.api_client("nope").await.unwrap().is_none());

    let kept = store
        .keep_api_client(client("configured", "c1", vec![Scope::Admin]), &by)
        .await
        .unwrap();
    let again = store
        .keep_api_client(client("configured", "c1", vec![Scope::Admin]), &by)
        .await
        .unwrap();
    assert_eq!(kept, again);
    store
        .keep_api_client(client("configured", "c2", vec![Scope::Admin]), &by)
        .await
        .unwrap();
    assert!(
        store.api_client("c1").await.unwrap().is_none(),
        "the old token is gone"
    );
    assert_eq!(store.api_client("c2").await.unwrap().unwrap().id, kept);

    store
        .revoke_api_client(export, &by, UnixMicros(NOW))
        .await
        .unwrap();
    assert!(store.api_client("h1").await.unwrap().is_none());
    assert!(matches!(
        store.revoke_api_client(export, &by, UnixMicros(NOW)).await,
        Err(StoreError::NotFound)
    ));
    let all = store.api_clients().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].revoked_at, Some(UnixMicros(NOW)));
    assert_eq!(all[1].revoked_at, None);
    let audit = store
        .audit(Some("api_client".into()), None, 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 4, "created, created, token replaced, revoked");
}
