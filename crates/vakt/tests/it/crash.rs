//! Crash test: a panel sends continuously while the server process is killed with SIGKILL
//! again and again and restarted; every signal that was acknowledged must be in the journal.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use vakt_dc09::TokenName;
use vakt_testkit::{Panel, read_answer};

const KILLS: usize = 5;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_server(folder: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vakt"))
        .arg("--config")
        .arg(folder.join("vakt.toml"))
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("Vakt is running") {
                return true;
            }
        }
        false
    });
    assert!(ready.await.unwrap(), "the server did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

/// Sends frames one after another, reconnecting whenever the server is gone; records every
/// zone number whose frame was acknowledged.
async fn panel(port: u16, acked: Arc<Mutex<BTreeSet<u32>>>, stop: Arc<AtomicBool>) -> u32 {
    let mut panel = Panel::new("1234");
    let mut next = 1_u32;
    let mut connection: Option<TcpStream> = None;
    while !stop.load(Ordering::Relaxed) {
        let stream = match connection.as_mut() {
            Some(stream) => stream,
            None => match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(stream) => connection.insert(stream),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let sequence = u16::try_from(next % 9_999 + 1).unwrap();
        let frame = panel.frame_at(
            TokenName::SiaDcs,
            sequence,
            &format!("#1234|Nri1/BA{next}"),
            None,
        );
        let answered = match stream.write_all(&frame).await {
            Ok(()) => tokio::time::timeout(Duration::from_secs(5), read_answer(stream))
                .await
                .ok()
                .and_then(Result::ok),
            Err(_) => None,
        };
        match answered {
            Some(answer) if answer.windows(5).any(|w| w == b"\"ACK\"") => {
                acked.lock().await.insert(next);
                next += 1;
            }
            // No answer: the panel retransmits the same message on a new connection.
            _ => connection = None,
        }
    }
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_signal_is_lost_when_the_server_is_killed() {
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = format!(
        "data_dir = {:?}\nlog = \"warn\"\n[http]\nlisten = \"127.0.0.1:0\"\napi_token = \"t\"\n\
         [[receiver.listeners]]\nname = \"main\"\naddress = \"127.0.0.1:{port}\"\nprotocols = \"tcp\"\n",
        folder.path().join("data")
    );
    std::fs::write(folder.path().join("vakt.toml"), config).unwrap();
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut server = start_server(folder.path()).await;
    let sender = tokio::spawn(panel(port, acked.clone(), stop.clone()));
    let mut counts = Vec::new();
    for round in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(400 + 150 * round as u64)).await;
        counts.push(acked.lock().await.len());
        server.start_kill().unwrap();
        server.wait().await.unwrap();
        server = start_server(folder.path()).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    sender.await.unwrap();
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    let acked = acked.lock().await.clone();
    assert!(
        acked.len() > 50,
        "the panel got few signals through: {counts:?}"
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vakt"))
        .arg("--config")
        .arg(folder.path().join("vakt.toml"))
        .args(["signals", "--json", "--limit", "100000"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let journalled: BTreeSet<u32> = rows
        .iter()
        .filter(|r| r["answer"] == "ack")
        .filter_map(|r| r["events"][0]["zone"].as_u64())
        .map(|zone| u32::try_from(zone).unwrap())
        .collect();
    let lost: Vec<&u32> = acked.difference(&journalled).collect();
    assert!(lost.is_empty(), "acknowledged but not journalled: {lost:?}");
    // Every journalled frame that was answered is one the panel sent; retransmissions after
    // a kill may be journalled twice, but only once as new.
    let mut first_copies = BTreeSet::new();
    for row in rows
        .iter()
        .filter(|r| r["answer"] == "ack" && r["duplicate_of"].is_null())
    {
        let zone = row["events"][0]["zone"].as_u64().unwrap();
        assert!(
            first_copies.insert(zone),
            "zone {zone} journalled twice as a new message"
        );
    }
    println!(
        "{} signals acknowledged across {KILLS} kills ({counts:?}); all journalled",
        acked.len()
    );
}
