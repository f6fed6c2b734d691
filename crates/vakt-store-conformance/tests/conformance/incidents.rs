//! The engine's changes and the incidents they make, as operators move them.

use super::*;

pub async fn engine_and_incidents(store: &SqlStore) {
    let w = world(store).await;
    let whole = Shard::WHOLE;
    let lease = store.take_shard(whole).await.unwrap();
    assert!(matches!(
        store.take_shard(Shard { index: 0, count: 4 }).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.engine_cursor(whole).await.unwrap(), 0);

    let alarm = EngineChange::Alarm {
        site_id: w.site,
        event: note(NOW, Category::Burglary, Some(3)),
        title: "Inbrott zon 3".into(),
        hold_until: Some(UnixMicros(NOW + 60_000_000)),
        keeps_hold: true,
        runaway_zone: None,
    };
    let touched = store
        .apply_engine(
            lease,
            12,
            vec![
                alarm,
                EngineChange::Heard {
                    transmitter_id: w.transmitter,
                    at: UnixMicros(NOW),
                },
            ],
            UnixMicros(NOW),
        )
        .await
        .unwrap();
    assert_eq!(touched.len(), 1);
    let incident = touched[0];
    assert_eq!(store.engine_cursor(whole).await.unwrap(), 12);
    assert_eq!(
        store.point_alarms_since(UnixMicros(NOW - 1)).await.unwrap(),
        vec![(w.site, 3, UnixMicros(NOW))]
    );
    assert!(
        store
            .point_alarms_since(UnixMicros(NOW + 1))
            .await
            .unwrap()
            .is_empty()
    );
    let queue = store.queue().await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].title, "Inbrott zon 3");
    assert_eq!(queue[0].category, Category::Burglary);

    // A second taker gets a new epoch; the first one's changes are refused whole.
    let newer = store.take_shard(whole).await.unwrap();
    assert!(newer.epoch > lease.epoch);
    let stale = store
        .apply_engine(
            lease,
            20,
            vec![EngineChange::LinkLost {
                transmitter_id: w.transmitter,
                site_id: w.site,
                event: note(NOW, Category::Technical, None),
                title: "Förbindelsefel".into(),
            }],
            UnixMicros(NOW),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(store.engine_cursor(whole).await.unwrap(), 12);
    assert_eq!(
        store.queue().await.unwrap().len(),
        1,
        "nothing half-written"
    );

    // A silent transmitter is raised once, however often it is reported.
    let lost = || EngineChange::LinkLost {
        transmitter_id: w.transmitter,
        site_id: w.site,
        event: note(NOW + 200_000_000, Category::Technical, None),
        title: "Förbindelsefel".into(),
    };
    store
        .apply_engine(newer, 12, vec![lost()], UnixMicros(NOW + 200_000_000))
        .await
        .unwrap();
    let again = store
        .apply_engine(newer, 12, vec![lost()], UnixMicros(NOW + 200_000_000))
        .await
        .unwrap();
    assert!(again.is_empty());
    let states = store.link_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert!(states[0].missing);
    assert_eq!(states[0].last_heard, UnixMicros(NOW));
    assert_eq!(store.queue().await.unwrap().len(), 2);
    store
        .apply_engine(
            newer,
            13,
            vec![EngineChange::LinkRestored {
                transmitter_id: w.transmitter,
                event: note(NOW + 300_000_000, Category::Technical, None),
            }],
            UnixMicros(NOW + 300_000_000),
        )
        .await
        .unwrap();
    assert!(!store.link_states().await.unwrap()[0].missing);

    operators_move_the_incident(store, &w, incident, newer).await;
}

/// Operators move the incident: one takes and the other is refused by name, steps and notes are recorded, the close is final; a test mode that ran out ends through the engine.
async fn operators_move_the_incident(
    store: &SqlStore,
    w: &World,
    incident: i64,
    newer: ShardLease,
) {
    // Operators: one takes, the other is refused by name.
    let op = staff_actor(w.operator);
    let at = UnixMicros(NOW + 10_000_000);
    store
        .act(incident, IncidentAction::Take, &op, at)
        .await
        .unwrap();
    let refused = store
        .act(incident, IncidentAction::Take, &staff_actor(w.other), at)
        .await;
    assert!(
        matches!(
            &refused,
            Err(StoreError::Refused(vakt_core::incident::Refusal::TakenBy(name)))
                if name == "Operator op1"
        ),
        "{refused:?}"
    );
    store
        .act(
            incident,
            IncidentAction::Step {
                step: 1,
                outcome: StepOutcome::Called,
                detail: "Ringde Bo".into(),
            },
            &op,
            at,
        )
        .await
        .unwrap();
    store
        .act(
            incident,
            IncidentAction::Note("Hund skäller".into()),
            &op,
            at,
        )
        .await
        .unwrap();
    store
        .act(
            incident,
            IncidentAction::PasswordCheck {
                contact: "Bo".into(),
                right: true,
            },
            &op,
            at,
        )
        .await
        .unwrap();
    a_guard_is_dispatched(store, w, incident, &op, at).await;
    the_closed_incident_reads_back(store, w, incident, newer, &op, at).await;
}

/// A guard company is dispatched, sees only its own dispatch and moves it only as its state
/// allows; then the incident is closed, and a closed incident takes no more records.
async fn a_guard_is_dispatched(
    store: &SqlStore,
    w: &World,
    incident: i64,
    op: &Actor,
    at: UnixMicros,
) {
    let dispatch = store
        .act(
            incident,
            IncidentAction::Dispatch {
                guard_company_id: w.company,
            },
            op,
            at,
        )
        .await
        .unwrap()
        .expect("a dispatch id");
    // A second click on the same company while its call-out is under way sends nobody.
    let again = IncidentAction::Dispatch {
        guard_company_id: w.company,
    };
    assert!(matches!(
        store.act(incident, again.clone(), op, at).await,
        Err(StoreError::Refused(
            vakt_core::incident::Refusal::AlreadyDispatched(_)
        ))
    ));
    let for_company = store.dispatches_for(w.company).await.unwrap();
    assert_eq!(for_company.len(), 1);
    assert_eq!(for_company[0].state, DispatchState::Requested);
    assert!(matches!(
        store
            .update_dispatch(
                dispatch,
                w.company + 1,
                DispatchUpdate {
                    state: DispatchState::Accepted,
                    report: String::new(),
                },
                op,
                at,
            )
            .await,
        Err(StoreError::NotFound)
    ));
    for state in [
        DispatchState::Accepted,
        DispatchState::OnSite,
        DispatchState::Reported,
    ] {
        let moved = store
            .update_dispatch(
                dispatch,
                w.company,
                DispatchUpdate {
                    state,
                    report: "Allt lugnt".into(),
                },
                op,
                at,
            )
            .await
            .unwrap();
        assert_eq!(moved, incident);
    }
    // Once the report is in, the company may be sent again (a second call-out).
    let second = store
        .act(incident, again, op, at)
        .await
        .unwrap()
        .expect("a second dispatch after the report");
    assert_ne!(second, dispatch);
    store
        .update_dispatch(
            second,
            w.company,
            DispatchUpdate {
                state: DispatchState::Cancelled,
                report: String::new(),
            },
            op,
            at,
        )
        .await
        .unwrap();
    store
        .act(
            incident,
            IncidentAction::Close {
                resolution: Resolution::UserError,
                note: "Kund glömde koden".into(),
            },
            op,
            UnixMicros(NOW + 20_000_000),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .act(incident, IncidentAction::Note("sent".into()), op, at)
            .await,
        Err(StoreError::Refused(vakt_core::incident::Refusal::Closed))
    ));
}

/// The closed incident reads back whole, leaves the queue for the site's history and the dashboard's times; a test mode that ran out ends through the engine.
async fn the_closed_incident_reads_back(
    store: &SqlStore,
    w: &World,
    incident: i64,
    newer: ShardLease,
    op: &Actor,
    at: UnixMicros,
) {
    let detail = store.incident(incident).await.unwrap();
    assert_eq!(detail.state, IncidentState::Closed);
    assert_eq!(detail.resolution, Some(Resolution::UserError));
    assert_eq!(detail.taken_at, Some(at));
    assert_eq!(detail.events.len(), 1);
    assert_eq!(detail.dispatches[0].state, DispatchState::Reported);
    assert!(
        detail.log.len() >= 5,
        "every action is logged: {:?}",
        detail.log
    );
    let history = store.site_history(w.site, 10).await.unwrap();
    assert!(history.iter().any(|i| i.id == incident), "{history:?}");
    assert!(
        store
            .queue()
            .await
            .unwrap()
            .iter()
            .all(|i| i.id != incident)
    );
    let times = store.incident_times(UnixMicros(NOW - 1)).await.unwrap();
    let closed = times
        .iter()
        .find(|t| t.owner_id == Some(w.operator))
        .unwrap();
    assert_eq!(closed.closed_at, Some(UnixMicros(NOW + 20_000_000)));

    // A test mode that ran out ends through the engine.
    store
        .set_test_mode(
            w.site,
            TestMode {
                zone: None,
                until: Some(UnixMicros(NOW)),
                reason: "Service".into(),
            },
            op,
        )
        .await
        .unwrap();
    store
        .apply_engine(
            newer,
            13,
            vec![EngineChange::TestModeEnded {
                site_id: w.site,
                zone: None,
                at: UnixMicros(NOW + 1),
            }],
            UnixMicros(NOW + 1),
        )
        .await
        .unwrap();
    assert_eq!(store.site(w.site).await.unwrap().test_until, None);
}

/// A burglary is held; a fire joins it; an authorised disarm inside the burglary's window
/// must leave the incident open for an operator and tell the customer nothing.
pub async fn a_fire_joining_a_held_burglary_is_never_cancelled(store: &SqlStore) {
    let w = world(store).await;
    let lease = store.take_shard(Shard::WHOLE).await.unwrap();
    let alarm = |at: i64, category: Category, keeps_hold: bool| EngineChange::Alarm {
        site_id: w.site,
        event: note(at, category, Some(1)),
        title: category.as_str().into(),
        hold_until: (category == Category::Burglary).then_some(UnixMicros(NOW + 60_000_000)),
        keeps_hold,
        runaway_zone: None,
    };
    let disarm = EngineChange::AuthorisedDisarm {
        site_id: w.site,
        event: note(NOW + 20_000_000, Category::Opening, None),
        by: "Anna".into(),
        message: Some(NewMessage {
            channel: "sms",
            recipient: "+46700000000".into(),
            subject: String::new(),
            body: "Ingen åtgärd behövs".into(),
        }),
    };
    let touched = store
        .apply_engine(
            lease,
            1,
            vec![
                alarm(NOW, Category::Burglary, true),
                alarm(NOW + 10_000_000, Category::Fire, false),
                disarm,
            ],
            UnixMicros(NOW + 20_000_000),
        )
        .await
        .unwrap();
    assert_eq!(touched.len(), 1, "one incident for the site");
    let incident = store.incident(touched[0]).await.unwrap();
    assert_eq!(
        incident.state,
        IncidentState::Open,
        "a fire is never cancelled"
    );
    assert_eq!(incident.item.category, Category::Fire);
    assert_eq!(incident.item.hold_until, None, "the fire ended the hold");
    assert_eq!(store.queue().await.unwrap().len(), 1, "an operator sees it");
    assert!(
        store.messages(10).await.unwrap().is_empty(),
        "the customer is not told that no action is needed"
    );
}
