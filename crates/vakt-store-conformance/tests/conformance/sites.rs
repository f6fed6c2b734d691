//! Customers, sites and what hangs off a site.

use super::*;

pub async fn customers_and_sites(store: &SqlStore) {
    let w = world(store).await;
    let by = staff_actor(w.operator);
    let customers = store.customers().await.unwrap();
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].spec.identity, "19121212-1212");
    let mut renamed = customers[0].spec.clone();
    renamed.name = "Anna Berg".into();
    store
        .save_customer(Some(customers[0].id), renamed.clone(), &by)
        .await
        .unwrap();
    assert_eq!(store.customers().await.unwrap()[0].spec, renamed);
    let duplicate = store.save_customer(None, renamed, &by).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "one customer per identity: {duplicate:?}"
    );

    let sites = store.sites().await.unwrap();
    let summary = sites.iter().find(|s| s.id == w.site).unwrap();
    assert_eq!(summary.customer, "Anna Berg");
    store
        .save_points(
            w.site,
            vec![
                AlarmPoint {
                    number: 1,
                    name: "Entré".into(),
                    kind: PointKind::DoorWindow,
                    location: "Hall".into(),
                    test_until: None,
                },
                AlarmPoint {
                    number: 2,
                    name: "Rök".into(),
                    kind: PointKind::Smoke,
                    location: "Kök".into(),
                    test_until: None,
                },
            ],
            &by,
        )
        .await
        .unwrap();
    store
        .save_panel_users(
            w.site,
            vec![PanelUser {
                number: 1,
                name: "Anna".into(),
            }],
            &by,
        )
        .await
        .unwrap();
    let contact = |id, name: &str, hash: Option<&str>| NewContact {
        id,
        name: name.into(),
        phone: "+46701111111".into(),
        authority: Authority::Full,
        hours: "07:00-22:00".into(),
        password_hash: hash.map(str::to_owned),
    };
    store
        .save_contacts(w.site, vec![contact(None, "Bo", Some("h1"))], &by)
        .await
        .unwrap();
    let bo = store.site(w.site).await.unwrap().contacts[0].id;
    // Saving again without a new hash keeps the password; a second contact is added.
    store
        .save_contacts(
            w.site,
            vec![contact(None, "Cia", None), contact(Some(bo), "Bo", None)],
            &by,
        )
        .await
        .unwrap();
    let steps = vec![Step {
        action: StepAction::CallContacts,
        note: "Ring Bo först".into(),
    }];
    store
        .save_instruction(w.site, Category::Burglary, steps.clone(), &by)
        .await
        .unwrap();
    store
        .set_revoking_code(w.site, "code-hash".into(), &by)
        .await
        .unwrap();
    store
        .set_test_mode(
            w.site,
            TestMode {
                zone: Some(2),
                until: Some(UnixMicros(NOW + 60_000_000)),
                reason: "Service".into(),
            },
            &by,
        )
        .await
        .unwrap();

    the_site_reads_back_whole(store, &w, &steps).await;
}

/// The site reads back whole: its fields, points, users, contacts in order with their passwords kept or changed, the instruction, the revoking code and test mode, and each change in the audit log.
async fn the_site_reads_back_whole(store: &SqlStore, w: &World, steps: &[Step]) {
    let detail = store.site(w.site).await.unwrap();
    assert_eq!(detail.spec.latitude, Some(63.8258));
    assert_eq!(detail.spec.note, "Hund i huset");
    assert_eq!(detail.points.len(), 2);
    assert_eq!(
        detail.point(2).and_then(|p| p.test_until),
        Some(UnixMicros(NOW + 60_000_000))
    );
    assert_eq!(detail.user(1).map(|u| u.name.as_str()), Some("Anna"));
    let names: Vec<_> = detail.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Cia", "Bo"], "the call order");
    assert!(detail.contacts[1].has_password, "Bo keeps his password");
    assert!(!detail.contacts[0].has_password);
    assert_eq!(detail.instruction(Category::Burglary).steps, steps);
    assert!(detail.has_revoking_code);
    assert_eq!(detail.transmitters.len(), 1);
    assert_eq!(
        detail.customer.map(|c| c.spec.name),
        Some("Anna Berg".into())
    );
    assert!(matches!(store.site(9_999).await, Err(StoreError::NotFound)));

    assert!(
        store
            .expired_test_modes(UnixMicros(NOW))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .expired_test_modes(UnixMicros(NOW + 60_000_000))
            .await
            .unwrap(),
        vec![(w.site, Some(2))]
    );
    let audit = store
        .audit(Some("site".into()), Some(w.site), 50)
        .await
        .unwrap();
    assert!(!audit.is_empty(), "changes to the site are audited");
    assert!(audit.windows(2).all(|p| p[0].id > p[1].id), "newest first");
    assert!(store.audit(None, None, 500).await.unwrap().len() > audit.len());
}
