//! The JSON API: bearer token, signals with filters, transmitters all or nothing.

use vakt_dc09::TokenName;
use vakt_testkit::{Panel, http, json, spawn_app, tcp_exchange, transmitter};

#[tokio::test]
async fn the_api_needs_the_token_and_lists_signals_by_account_and_time() {
    let app = spawn_app().await;
    let (status, body) = http(app.http, "GET", "/healthz", None, None).await.unwrap();
    assert_eq!((status, json(&body)["status"].as_str()), (200, Some("ok")));
    for token in [None, Some("wrong")] {
        let (status, body) = http(app.http, "GET", "/api/v1/signals", token, None)
            .await
            .unwrap();
        assert_eq!(status, 401);
        let error = json(&body);
        assert_eq!(error["error"]["code"], "unauthorized");
        assert!(
            error["error"]["message"]["sv"]
                .as_str()
                .unwrap()
                .contains("krävs")
        );
    }
    app.register(vec![transmitter("1234", None), transmitter("5678", None)])
        .await;
    for (account, sequence) in [("1234", 1), ("5678", 2), ("1234", 3)] {
        let mut panel = Panel::new(account);
        tcp_exchange(
            app.tcp,
            &panel.frame_at(
                TokenName::AdmCid,
                sequence,
                &format!("#{account}|1130 01 001"),
                None,
            ),
        )
        .await
        .unwrap();
    }
    let (status, body) = http(
        app.http,
        "GET",
        "/api/v1/signals?account=1234",
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let signals = json(&body)["signals"].as_array().unwrap().clone();
    assert_eq!(signals.len(), 2);
    assert!(
        signals
            .iter()
            .all(|s| s["account"] == "1234" && s["verdict"] == "accepted")
    );
    assert_eq!(signals[0]["events"][0]["category"], "burglary");
    let (_, body) = http(
        app.http,
        "GET",
        "/api/v1/signals?since=2100-01-01T00:00:00Z",
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert!(json(&body)["signals"].as_array().unwrap().is_empty());
    let (status, body) = http(
        app.http,
        "GET",
        "/api/v1/signals?since=tomorrow",
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (status, json(&body)["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    let (status, _) = http(
        app.http,
        "GET",
        "/api/v1/signals?limit=100000",
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 400);
    app.app.shutdown().await;
}

#[tokio::test]
async fn transmitters_are_imported_all_or_nothing_and_keys_never_shown() {
    let app = spawn_app().await;
    let bad = r#"[{"account": "1234", "site_name": "Villa Ek"},
                  {"account": "5678", "key": "short", "key_form": "ascii", "site_name": "Kontor"}]"#;
    let (status, body) = http(
        app.http,
        "POST",
        "/api/v1/transmitters",
        Some("test-token"),
        Some(bad),
    )
    .await
    .unwrap();
    assert_eq!(status, 422, "{body}");
    let error = json(&body);
    assert_eq!(error["error"]["details"][0]["entry"], 1);
    assert_eq!(error["error"]["details"][0]["field"], "key");
    let (_, body) = http(
        app.http,
        "GET",
        "/api/v1/transmitters",
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert!(
        json(&body)["transmitters"].as_array().unwrap().is_empty(),
        "nothing imported"
    );

    let good = r#"[{"account": "1234", "site_name": "Villa Ek"},
                   {"account": "5678", "key": "SECRET-KEY-16-CH", "key_form": "ascii", "site_name": "Kontor"}]"#;
    let (status, body) = http(
        app.http,
        "POST",
        "/api/v1/transmitters",
        Some("test-token"),
        Some(good),
    )
    .await
    .unwrap();
    assert_eq!(
        (status, json(&body)["created"].as_u64()),
        (200, Some(2)),
        "{body}"
    );
    let (_, body) = http(
        app.http,
        "GET",
        "/api/v1/transmitters",
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert!(!body.contains("SECRET"), "{body}");
    let listed = json(&body)["transmitters"].as_array().unwrap().clone();
    assert!(
        listed[1]["key"]
            .as_str()
            .unwrap()
            .starts_with("AES-128 (ascii)")
    );
    let id = listed[0]["id"].as_i64().unwrap();
    let (status, _) = http(
        app.http,
        "DELETE",
        &format!("/api/v1/transmitters/{id}"),
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 204);
    let (status, body) = http(
        app.http,
        "DELETE",
        &format!("/api/v1/transmitters/{id}"),
        Some("test-token"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (status, json(&body)["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = http(
        app.http,
        "POST",
        "/api/v1/transmitters",
        Some("test-token"),
        Some("{not json"),
    )
    .await
    .unwrap();
    assert_eq!(status, 400);
    app.app.shutdown().await;
}
