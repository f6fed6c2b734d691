//! Who signs in: one identity model for staff and customers, and API clients with tokens and
//! scopes of their own. The customer half (My Pages, the app) builds on this: a customer can
//! sign in through the service layer today and sees nothing of the alarm centre.

use vakt_core::OsEntropy;
use vakt_core::access::Principal;
use vakt_service::access::{self, Policy, SignIn};
use vakt_store::{Actor, AuditAndOutbox, Identities, Subject};
use vakt_testkit::{TestApp, spawn_app};
use vakt_web::auth::{Need, ROUTES};

const CUSTOMER_LOGIN: &str = "anna.berg@example.se";
const CUSTOMER_PASSWORD: &str = "ett långt kundlösenord";

async fn customer(app: &TestApp) -> i64 {
    let (status, body) = vakt_testkit::http(
        app.http,
        "POST",
        "/api/v1/customers",
        Some("test-token"),
        Some(
            &serde_json::json!({
                "kind": "private", "name": "Anna Berg", "identity": "811218-9876"
            })
            .to_string(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{body}");
    vakt_testkit::json(&body)["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signed_in_through_the_service_layer_is_refused_by_every_staff_route() {
    let app = spawn_app().await;
    let customer_id = customer(&app).await;
    let store = &app.app.store;
    let hasher = &app.app.hasher;
    let by = Actor::system();
    let identity = access::create_customer_login(
        store,
        hasher,
        &OsEntropy,
        customer_id,
        "Anna.Berg@Example.se",
        CUSTOMER_PASSWORD,
        &by,
    )
    .await
    .unwrap();
    // The same login cannot be given twice, not even to staff.
    let again = access::create_customer_login(
        store,
        hasher,
        &OsEntropy,
        customer_id,
        CUSTOMER_LOGIN,
        CUSTOMER_PASSWORD,
        &by,
    )
    .await
    .unwrap_err();
    assert_eq!(again[0].code, "duplicate");
    let short =
        access::create_customer_login(store, hasher, &OsEntropy, customer_id, "b", "kort", &by)
            .await
            .unwrap_err();
    assert_eq!(short[0].code, "password_short");

    let now = vakt_core::Clock::now(&vakt_core::SystemClock);
    let policy = Policy::default();
    let wrong = access::sign_in(
        store,
        hasher,
        &OsEntropy,
        policy,
        CUSTOMER_LOGIN,
        "fel",
        now,
    )
    .await
    .unwrap();
    assert!(matches!(wrong, SignIn::Wrong));
    let SignIn::Started(started) = access::sign_in(
        store,
        hasher,
        &OsEntropy,
        policy,
        CUSTOMER_LOGIN,
        CUSTOMER_PASSWORD,
        now,
    )
    .await
    .unwrap() else {
        panic!("the customer signs in")
    };
    assert_eq!(started.identity.id, identity);
    assert_eq!(started.identity.principal(), Principal::Customer);
    let Subject::Customer(who) = &started.identity.subject else {
        panic!("a customer identity")
    };
    assert_eq!(who.customer_id, customer_id);
    let session = access::session(store, &started.token, now).await.unwrap();
    assert_eq!(session.identity.id, identity);

    // Every staff route refuses the customer's session, and the refusal shows none of the
    // centre's data.
    let cookie = format!("vakt_session={}", started.token);
    let mut refused = 0;
    for route in ROUTES.iter().filter(|r| !matches!(r.need, Need::Public)) {
        let path = route.path.replace("{id}", "1");
        let form: &[(&str, &str)] = &[("csrf", session.csrf.as_str())];
        let answer = vakt_testkit::request(
            app.http,
            route.method,
            &path,
            &cookie,
            (route.method == "POST").then_some(form),
        )
        .await
        .unwrap();
        assert_eq!(
            answer.status, 403,
            "{} {path} let a customer in: {}",
            route.method, answer.body
        );
        assert!(!answer.body.contains("Anna Berg"), "{path}");
        refused += 1;
    }
    assert!(refused > 30, "{refused}");
    // Nor does the console's own sign-in let a customer in.
    let answer = vakt_testkit::request(
        app.http,
        "POST",
        "/login",
        "",
        Some(&[("login", CUSTOMER_LOGIN), ("password", CUSTOMER_PASSWORD)]),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(
        !answer
            .headers
            .to_lowercase()
            .contains("set-cookie: vakt_session=")
    );

    access::sign_out(store, &started.token).await.unwrap();
    assert!(access::session(store, &started.token, now).await.is_err());
    app.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_clients_hold_their_own_scoped_tokens_and_are_revoked_one_by_one() {
    let app = spawn_app().await;
    let address = app.http;
    let call = |token: &str, method: &str, path: &str, body: Option<String>| {
        let (token, method, path) = (token.to_owned(), method.to_owned(), path.to_owned());
        async move {
            vakt_testkit::http(address, &method, &path, Some(&token), body.as_deref())
                .await
                .unwrap()
        }
    };
    // The configured token is the admin client: it lists clients and makes one.
    let (status, listed) = call("test-token", "GET", "/api/v1/clients", None).await;
    assert_eq!(status, 200, "{listed}");
    let listed = vakt_testkit::json(&listed);
    assert_eq!(listed["clients"][0]["name"], "configured token");
    assert_eq!(listed["clients"][0]["scopes"], serde_json::json!(["admin"]));
    let body = serde_json::json!({ "name": "Statistik", "scopes": ["signals:read"] });
    let (status, made) = call(
        "test-token",
        "POST",
        "/api/v1/clients",
        Some(body.to_string()),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let made = vakt_testkit::json(&made);
    let token = made["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    // Its token reads signals and nothing else.
    assert_eq!(call(&token, "GET", "/api/v1/signals", None).await.0, 200);
    let (status, refused) = call(&token, "GET", "/api/v1/customers", None).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused.contains("registry:read"), "{refused}");
    let (status, _) = call(&token, "POST", "/api/v1/transmitters", Some("[]".into())).await;
    assert_eq!(status, 403);
    assert_eq!(call(&token, "GET", "/api/v1/clients", None).await.0, 403);
    // No list shows a token again, and the store keeps only its hash.
    let (_, listed) = call("test-token", "GET", "/api/v1/clients", None).await;
    assert!(!listed.contains(&token));
    let clients = app.app.store.api_clients().await.unwrap();
    assert_eq!(clients.len(), 2);

    // A bad scope is named; the configured client is not revoked through the API.
    let body = serde_json::json!({ "name": "x", "scopes": ["everything"] });
    let (status, bad) = call(
        "test-token",
        "POST",
        "/api/v1/clients",
        Some(body.to_string()),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert!(bad.contains("everything"), "{bad}");
    let configured = clients[0].id;
    let path = format!("/api/v1/clients/{configured}");
    assert_eq!(call("test-token", "DELETE", &path, None).await.0, 409);

    // Revoked, its token is as unknown as a made-up one; the admin token still works.
    let id = made["id"].as_i64().unwrap();
    let path = format!("/api/v1/clients/{id}");
    assert_eq!(call("test-token", "DELETE", &path, None).await.0, 204);
    assert_eq!(call(&token, "GET", "/api/v1/signals", None).await.0, 401);
    assert_eq!(call("test-token", "DELETE", &path, None).await.0, 404);
    assert_eq!(
        call("test-token", "GET", "/api/v1/signals", None).await.0,
        200
    );
    let audit = app
        .app
        .store
        .audit(Some("api_client".into()), None, 10)
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "revoked"), "{audit:?}");
    app.app.shutdown().await;
}
