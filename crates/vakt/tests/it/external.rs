//! A DC-09 transmitter this project did not write (`my-dc09-spt` from PyPI) talks to Vakt,
//! plain and encrypted, over TCP and UDP; every message must be acknowledged (as the
//! dialler itself judges the answer) and journalled.
//!
//! `.ci/run` installs the dialler into `target/peer-venv`; `VAKT_TEST_PYTHON` can name
//! another interpreter that has it.

use std::path::PathBuf;

use vakt_core::SystemClock;
use vakt_store::{Journal, SignalFilter, Verdict};
use vakt_testkit::{spawn_app, transmitter};

pub(crate) fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("VAKT_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/peer-venv/bin/python");
    assert!(
        venv.exists(),
        "the DC-09 test peer is not installed: run .ci/run (it creates {}), or set VAKT_TEST_PYTHON",
        venv.display()
    );
    venv
}

#[tokio::test]
async fn the_pypi_dialler_is_acknowledged_and_journalled_plain_and_encrypted() {
    let app = spawn_app().await;
    app.register(vec![
        transmitter("7001", None),
        transmitter("7002", Some(("Vakt-peer-key-16", "ascii"))),
        transmitter("7003", Some(("Vakt-peer-key-0123456789-32bytes", "ascii"))),
    ])
    .await;
    assert_eq!(
        app.tcp.port(),
        app.udp.port(),
        "TCP and UDP share the port number"
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/dc09_spt_peer.py");
    let output = tokio::process::Command::new(python())
        .arg(&script)
        .arg("127.0.0.1")
        .arg(app.tcp.port().to_string())
        .output()
        .await
        .expect("the peer runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the dialler saw a message unacknowledged:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sent: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sent.len(), 24);
    assert!(sent.iter().all(|m| m["acked"] == true));

    let (store, _) = vakt::open_store(&app.settings, std::sync::Arc::new(SystemClock))
        .await
        .unwrap();
    let rows = store
        .signals(&SignalFilter {
            limit: 100,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    store.close().await;
    assert_eq!(rows.len(), 24, "one journal row per message");
    for message in &sent {
        let sequence = format!("{:04}", message["sequence"].as_u64().unwrap());
        let row = rows
            .iter()
            .find(|r| r.record.sequence.as_deref() == Some(sequence.as_str()))
            .unwrap();
        assert_eq!(row.record.verdict, Verdict::Accepted, "{row:?}");
        assert_eq!(row.record.account.as_deref(), message["account"].as_str());
        assert_eq!(
            row.record.encrypted,
            message["encrypted"].as_bool().unwrap()
        );
        assert_eq!(
            row.record.transport.as_str(),
            message["transport"].as_str().unwrap()
        );
        assert_eq!(row.record.token.as_deref(), message["token"].as_str());
        assert_eq!(row.record.events.len(), 1, "{row:?}");
    }
    app.app.shutdown().await;
}
