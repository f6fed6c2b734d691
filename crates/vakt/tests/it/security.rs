//! Security as a process sees it from outside: secrets never reach the log, even at its most
//! talkative level, and the JSON API holds to its own OpenAPI document under a
//! property-based tester.

use std::net::SocketAddr;
use std::path::Path;

use vakt_core::centre::{Permission, Role};
use vakt_dc09::{Key, KeyForm, TokenName};
use vakt_testkit::{Console, Panel, http, json, tcp_exchange};

/// Everything secret the test hands Vakt; none may appear in its log.
const API_TOKEN: &str = "tok-9f2c41d8e07b5a36";
const KEY_HEX: &str = "6B1A9F04C3E2D58877A0F1B2C3D4E5F6";
const STAFF_PASSWORD: &str = "Rönnbär-lösen 58";
const CONTACT_PASSWORD: &str = "Hjortron 91";
const REVOKING_CODE: &str = "Krusbär 4417";

/// Two distinct free ports: the console's and the receiver's.
fn two_ports() -> (u16, u16) {
    let http = vakt_testkit::stable_port();
    loop {
        let dc09 = vakt_testkit::stable_port();
        if dc09 != http {
            return (http, dc09);
        }
    }
}

/// Writes the configuration of a server logging at `level` into `folder`.
fn configure(folder: &Path, level: &str, http: u16, dc09: u16) -> std::path::PathBuf {
    let config = folder.join("vakt.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlog = \"{level}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
             api_token = \"{API_TOKEN}\"\n[security]\nhash_memory_kib = 64\n\
             [[receiver.listeners]]\nname = \"main\"\naddress = \"127.0.0.1:{dc09}\"\nprotocols = \"tcp\"\n",
            folder.join("data")
        ),
    )
    .unwrap();
    config
}

async fn api(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    vakt_testkit::api_call(address, API_TOKEN, method, path, body).await
}

/// The forms a secret can take in a log line: as given, URL-encoded, in either case.
fn shapes(secret: &str) -> Vec<String> {
    let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut all = vec![
        secret.to_owned(),
        encoded.clone(),
        encoded.replace('+', "%20"),
        secret.to_lowercase(),
    ];
    all.sort();
    all.dedup();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log_even_at_trace_level() {
    let folder = tempfile::tempdir().unwrap();
    let (http_port, dc09_port) = two_ports();
    let config = configure(folder.path(), "trace", http_port, dc09_port);
    let log_path = folder.path().join("server.log");
    let mut server = vakt_testkit::serve_process(
        env!("CARGO_BIN_EXE_vakt").as_ref(),
        &config,
        Some(&log_path),
    )
    .await;
    let address: SocketAddr = ([127, 0, 0, 1], http_port).into();

    let site = register_over_the_api(address).await;

    // An encrypted alarm, taken by an operator who checks the contact's password (right and
    // wrong) and sets and checks the revoking code.
    let mut panel = Panel::encrypted("4411", Key::parse(KEY_HEX, KeyForm::Hex).unwrap());
    // The receiver picks up the registry's change within moments; until then it answers DUH.
    let mut acknowledged = false;
    for sequence in 1..=50 {
        let frame = panel.frame(TokenName::SiaDcs, sequence, "#4411|Nri1/BA3");
        let answer = tcp_exchange(([127, 0, 0, 1], dc09_port).into(), &frame)
            .await
            .unwrap();
        if answer.windows(5).any(|w| w == b"\"ACK\"") || answer.windows(4).any(|w| w == b"*ACK") {
            acknowledged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(acknowledged, "the encrypted alarm was acknowledged");
    let console = Console::sign_in(address, "lisa", STAFF_PASSWORD).await;
    let mut incident = None;
    for _ in 0..100 {
        let (_, text) = http(address, "GET", "/api/v1/incidents", Some(API_TOKEN), None)
            .await
            .unwrap();
        incident = json(&text)["incidents"][0]["id"].as_i64();
        if incident.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let incident = incident.expect("the alarm opened an incident");
    let contact = api(
        address,
        "GET",
        &format!("/api/v1/sites/{site}"),
        &serde_json::Value::Null,
    )
    .await["contacts"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    assert_eq!(
        console
            .post(&format!("/incidents/{incident}/take"), &[])
            .await
            .status,
        303
    );
    let verify = format!("/incidents/{incident}/verify");
    for (said, expected) in [
        (CONTACT_PASSWORD, "Rätt lösenord"),
        ("Hjortron 19", "Fel lösenord"),
    ] {
        let answer = console
            .post(&verify, &[("contact", &contact), ("password", said)])
            .await;
        assert!(answer.body.contains(expected), "{}", answer.body);
    }
    let set = console
        .post(
            &format!("/sites/{site}/revoking-code"),
            &[("code", REVOKING_CODE)],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let answer = console
        .post(
            &verify,
            &[("contact", "revoking"), ("password", REVOKING_CODE)],
        )
        .await;
    assert!(answer.body.contains("Rätt lösenord"), "{}", answer.body);

    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    server.wait().await.unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.lines().filter(|l| l.contains("TRACE")).count() > 10,
        "the log was written at trace level:\n{}",
        log.lines().take(40).collect::<Vec<_>>().join("\n")
    );
    let session = console
        .cookie
        .split_once('=')
        .map(|(_, value)| value.to_owned())
        .unwrap();
    for (what, secret) in [
        ("API token", API_TOKEN.to_owned()),
        ("transmitter key", KEY_HEX.to_owned()),
        ("staff password", STAFF_PASSWORD.to_owned()),
        ("contact password", CONTACT_PASSWORD.to_owned()),
        ("revoking code", REVOKING_CODE.to_owned()),
        ("session cookie", session),
        ("form token", console.csrf.clone()),
    ] {
        for shape in shapes(&secret) {
            if let Some(line) = log.lines().find(|l| l.contains(&shape)) {
                panic!("the {what} is in the log: {line}");
            }
        }
    }
}

/// The registry, over the API: a site with a contact's password, a transmitter with a
/// key, and a member of staff with a password.
/// Returns the site's id.
async fn register_over_the_api(address: std::net::SocketAddr) -> i64 {
    let customer = api(address, "POST", "/api/v1/customers", &serde_json::json!({
        "kind": "private", "name": "Eva Lund", "identity": "811218-9876", "phone": "070-765 43 21"
    }))
    .await["id"]
        .as_i64()
        .unwrap();
    let site = api(
        address,
        "POST",
        "/api/v1/sites",
        &serde_json::json!({
            "customer_id": customer.to_string(), "name": "Villa Lund", "address": "Ågatan 3, Lund",
            "guard_area": "Lund"
        }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    api(address, "PUT", &format!("/api/v1/sites/{site}/contacts"), &serde_json::json!([
        { "name": "Eva Lund", "phone": "070-765 43 21", "authority": "full", "password": CONTACT_PASSWORD }
    ]))
    .await;
    api(address, "POST", "/api/v1/transmitters", &serde_json::json!([
        { "account": "4411", "prefix": "0", "key": KEY_HEX, "key_form": "hex", "site_name": "Villa Lund" }
    ]))
    .await;
    let transmitter = api(
        address,
        "GET",
        "/api/v1/transmitters",
        &serde_json::Value::Null,
    )
    .await["transmitters"][0]["id"]
        .as_i64()
        .unwrap();
    api(
        address,
        "PUT",
        &format!("/api/v1/transmitters/{transmitter}/site"),
        &serde_json::json!({ "site_id": site }),
    )
    .await;
    let role = *Role::ALL
        .iter()
        .find(|r| r.may(Permission::HandleAlarms) && r.may(Permission::EditRegistry))
        .unwrap();
    api(
        address,
        "POST",
        "/api/v1/staff",
        &serde_json::json!({
            "login": "lisa", "name": "Lisa Holm", "role": role.as_str(), "guard_company_id": "",
            "password": STAFF_PASSWORD
        }),
    )
    .await;
    site
}

/// The JSON API against `docs/openapi.yaml` under schemathesis (from PyPI): every operation
/// with generated valid and invalid input, in a fixed seed. Each answer must have a
/// documented status, content type and shape; invalid input must be refused; no call may
/// get a server error or pass without the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_holds_to_its_openapi_document_under_a_property_based_tester() {
    let app = vakt_testkit::spawn_app().await;
    app.register(vec![vakt_testkit::transmitter("1234", None)])
        .await;
    let answer = tcp_exchange(
        app.tcp,
        &Panel::new("1234").frame(TokenName::SiaDcs, 1, "#1234|Nri1/BA4"),
    )
    .await
    .unwrap();
    assert!(answer.windows(5).any(|w| w == b"\"ACK\""));
    let tester = crate::external::python().with_file_name("schemathesis");
    let document = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.yaml");
    let scratch = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(&tester)
        .current_dir(scratch.path())
        .arg("run")
        .arg(&document)
        .args(["--url", &format!("http://{}", app.http)])
        .args(["--header", "Authorization: Bearer test-token"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        .args([
            "--max-examples",
            "25",
            "--seed",
            "20261122",
            "--workers",
            "1",
        ])
        .output()
        .await
        .unwrap_or_else(|e| panic!("{} does not run: {e}", tester.display()));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the API does not hold to its OpenAPI document:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "{report}");
    println!(
        "{}",
        report
            .lines()
            .filter(|l| l.contains(" generated, "))
            .collect::<String>()
    );
    app.app.shutdown().await;
}

/// The mode bits of a path, as `ls -l` reads them.
#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The database holds transmitter keys, personnummer and phone numbers: its folder and every
/// file in it (the database with its `-wal` and `-shm`, the secret, the API token) are Vakt's
/// alone, and files left readable by an older Vakt are tightened at start-up.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_files_are_readable_by_vakt_alone() {
    use std::os::unix::fs::PermissionsExt;
    let folder = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let data = folder.path().join("data");
    let mut settings = vakt_testkit::test_settings(&data);
    settings.http.api_token = String::new();
    let app = vakt_testkit::start(settings, folder.clone()).await;
    app.register(vec![vakt_testkit::transmitter(
        "4411",
        Some(("6B1A9F04C3E2D58877A0F1B2C3D4E5F6", "hex")),
    )])
    .await;
    let check = |when: &str| {
        assert_eq!(mode(&data), 0o700, "{when}: the data folder");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
            assert_eq!(mode(&path), 0o600, "{when}: {}", path.display());
        }
        names.sort();
        for expected in [
            "api-token",
            "secret-key",
            "vakt.db",
            "vakt.db-shm",
            "vakt.db-wal",
        ] {
            assert!(names.iter().any(|n| n == expected), "{when}: {names:?}");
        }
    };
    check("a new data folder");
    let (settings, folder) = app.stop().await;

    // As an older Vakt left them: everything readable by everyone.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let app = vakt_testkit::start(settings, folder).await;
    check("after a restart on loose files");
    app.stop().await;
}

/// Whether any of the database's files holds `needle`.
fn database_holds(data: &Path, needle: &[u8]) -> bool {
    ["vakt.db", "vakt.db-wal"].iter().any(|name| {
        std::fs::read(data.join(name))
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

/// The key column of a transmitter, as the database file holds it, in hex.
fn stored_key_hex(database: &Path, account: &str) -> String {
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             print(c.execute('SELECT hex(key_bytes) FROM transmitters WHERE account = ?', (sys.argv[2],)).fetchone()[0])\n",
        )
        .arg(database)
        .arg(account)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A transmitter's AES key is sealed under the server secret before it is written: its
/// bytes are nowhere in the database's files, a key an older Vakt stored in the clear is
/// sealed at start-up, and both still decrypt their panels' frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transmitter_keys_are_sealed_at_rest() {
    let folder = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let data = folder.path().join("data");
    let settings = vakt_testkit::test_settings(&data);
    // As an older Vakt left it: a key in the clear.
    {
        let store = vakt_store_sqlite::open(
            vakt_store_sqlite::SqliteOptions::new(data.join("vakt.db")),
            std::sync::Arc::new(vakt_core::SystemClock),
        )
        .await
        .unwrap();
        let old = vakt_testkit::transmitter("4412", Some(("Ab4Cd5Ef6Gh7Ij8K", "ascii")));
        vakt_store::Registry::import_transmitters(&store, vec![old.validate().unwrap()])
            .await
            .unwrap();
        store.close().await;
    }
    assert_eq!(
        stored_key_hex(&data.join("vakt.db"), "4412"),
        hex::encode_upper("Ab4Cd5Ef6Gh7Ij8K"),
        "the older Vakt's key is in the clear"
    );
    let app = vakt_testkit::start(settings, folder.clone()).await;
    app.register(vec![vakt_testkit::transmitter(
        "4411",
        Some((KEY_HEX, "hex")),
    )])
    .await;
    let new_key = hex::decode(KEY_HEX).unwrap();
    assert!(
        !database_holds(&data, &new_key),
        "a new key is written sealed"
    );
    let upgraded = stored_key_hex(&data.join("vakt.db"), "4412");
    assert!(
        upgraded.starts_with(&hex::encode_upper(vakt_store::seal::SEALED_PREFIX)),
        "the older key was sealed at start-up: {upgraded}"
    );
    // Both still decrypt what their panels send.
    for (account, key) in [
        ("4411", Key::parse(KEY_HEX, KeyForm::Hex).unwrap()),
        (
            "4412",
            Key::parse("Ab4Cd5Ef6Gh7Ij8K", KeyForm::Ascii).unwrap(),
        ),
    ] {
        let frame = Panel::encrypted(account, key).frame(TokenName::SiaDcs, 1, "Nri1/BA1");
        let answer = tcp_exchange(app.tcp, &frame).await.unwrap();
        assert!(
            String::from_utf8_lossy(&answer).contains("ACK"),
            "{account}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    app.stop().await;
}

/// The first command on a new machine (`vakt staff add`, as the README shows) makes the data
/// folder 0700 from the outset: the log's "tightened" warning is kept for files that really
/// were readable by others, not for what Vakt itself just made.
#[cfg(unix)]
#[test]
fn a_new_data_folder_is_private_from_the_start() {
    use std::io::Write;
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vakt"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "staff",
            "add",
            "--login",
            "anna",
            "--name",
            "Anna Berg",
            "--role",
            "admin",
        ])
        .env("VAKT_SECURITY__HASH_MEMORY_KIB", "64")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long password for anna\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(!log.contains("tightened"), "{log}");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("secret-key")), 0o600);
    assert_eq!(mode(&data.join("vakt.db")), 0o600);
}

/// Back after signing out must not show what was on screen: every page and API answer is
/// `Cache-Control: no-store`, so the browser keeps no copy of a customer's personnummer;
/// only the console's own style sheet and script may be cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_with_private_data_is_kept_by_the_browser() {
    let app = vakt_testkit::spawn_app().await;
    let (status, body) = http(
        app.http,
        "POST",
        "/api/v1/customers",
        Some("test-token"),
        Some(r#"{"kind":"private","name":"Karin Ek","identity":"811218-9876"}"#),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let form = vakt_service::forms::StaffForm {
        login: "kundtjanst".into(),
        name: "Kim Kund".into(),
        role: Role::CustomerService.as_str().into(),
        password: STAFF_PASSWORD.into(),
        ..vakt_service::forms::StaffForm::default()
    };
    let by = vakt_store::Actor::system();
    let entropy = vakt_core::OsEntropy;
    vakt_service::access::create_staff(&app.app.store, &app.app.hasher, &entropy, &form, &by)
        .await
        .unwrap();
    let console = Console::sign_in(app.http, "kundtjanst", STAFF_PASSWORD).await;
    let no_store = |headers: &str| {
        headers
            .to_lowercase()
            .lines()
            .any(|l| l.starts_with("cache-control:") && l.contains("no-store"))
    };
    let customers = console.get("/customers").await;
    assert!(customers.body.contains("811218-9876") || customers.body.contains("19811218-9876"));
    assert!(no_store(&customers.headers), "{}", customers.headers);
    let signed_out = vakt_testkit::request(app.http, "GET", "/login", "", None)
        .await
        .unwrap();
    assert!(no_store(&signed_out.headers), "{}", signed_out.headers);
    let api = vakt_testkit::request(app.http, "GET", "/api/v1/customers", "", None)
        .await
        .unwrap();
    assert!(no_store(&api.headers), "{}", api.headers);
    let style = vakt_testkit::request(app.http, "GET", "/static/console.css", "", None)
        .await
        .unwrap();
    assert_eq!(style.status, 200);
    assert!(!no_store(&style.headers), "{}", style.headers);
    app.app.shutdown().await;
}
