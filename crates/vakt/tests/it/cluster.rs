//! Several `vakt serve` processes on one PostgreSQL database: signals sent to one node reach a
//! console connected to another, the same message over both paths is one event, and when a
//! node is killed with SIGKILL no acknowledged signal is lost, its shards move to the
//! survivors and every silent transmitter is raised exactly once.
//!
//! Runs when `TEST_DATABASE_URL` names a server (the test script starts one; CI must).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::sync::Mutex;
use vakt_dc09::TokenName;
use vakt_store::Identities;
use vakt_store::Incidents;
use vakt_store::Sites;
use vakt_store::{Journal, Registry, SignalFilter};
use vakt_testkit::{Console, Panel, read_answer, tcp_exchange};

const SHARDS: u32 = 4;
const API_TOKEN: &str = "cluster-test-token";
/// Transmitters 1..=8; the even ones fall silent, the odd ones keep sending.
const TRANSMITTERS: u32 = 8;

struct Node {
    child: Child,
    dc09: SocketAddr,
    http: SocketAddr,
}

fn config(folder: &Path, name: &str, url: &str, dc09: u16, http: u16) -> PathBuf {
    let text = format!(
        "data_dir = {data:?}\ndatabase_url = {url:?}\nlog = \"warn\"\n\
         [http]\nlisten = \"127.0.0.1:{http}\"\napi_token = {API_TOKEN:?}\n\
         [security]\nsecret_key = \"the same on every node\"\nsecure_cookies = false\n\
         hash_memory_kib = 64\nhash_iterations = 1\n\
         [engine]\nshards = {SHARDS}\nlease_check_ms = 200\npoll_ms = 50\nsupervision_grace_s = 1\n\
         hold_burglary_s = 0\n\
         [receiver]\nregistry_poll_ms = 100\n\
         [[receiver.listeners]]\nname = \"main\"\naddress = \"127.0.0.1:{dc09}\"\nprotocols = \"tcp\"\n",
        data = folder.join(name),
    );
    let path = folder.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

async fn start(config: &Path) -> Child {
    vakt_testkit::serve_process(env!("CARGO_BIN_EXE_vakt").as_ref(), config, None).await
}

/// `GET /api/v1/cluster` on a node.
async fn cluster_view(http: SocketAddr) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(http).await.ok()?;
    let request = format!(
        "GET /api/v1/cluster HTTP/1.1\r\nHost: {http}\r\nAuthorization: Bearer {API_TOKEN}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .ok()?
        .ok()?;
    let body = response.split_once("\r\n\r\n")?.1;
    serde_json::from_str(body).ok()
}

fn shards_of(view: &serde_json::Value) -> BTreeSet<u64> {
    view["shards"]
        .as_array()
        .map(|all| all.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default()
}

/// Waits until the nodes at `http` together run every shard, each exactly once, and each
/// node its share.
async fn wait_for_layout(nodes: &[SocketAddr]) -> Vec<BTreeSet<u64>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut held = Vec::new();
        for &http in nodes {
            held.push(
                cluster_view(http)
                    .await
                    .map(|v| shards_of(&v))
                    .unwrap_or_default(),
            );
        }
        let all: Vec<u64> = held.iter().flatten().copied().collect();
        let distinct: BTreeSet<u64> = all.iter().copied().collect();
        let floor = SHARDS as usize / nodes.len();
        let balanced = held.iter().all(|h| h.len() >= floor);
        if all.len() == SHARDS as usize && distinct.len() == SHARDS as usize && balanced {
            return held;
        }
        assert!(
            Instant::now() < deadline,
            "the shards never settled: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads the console's live queue (server-sent events) and reports each `rows` event.
async fn live_queue(console: &Console, events: tokio::sync::mpsc::Sender<String>) {
    let mut stream = TcpStream::connect(console.address).await.unwrap();
    let request = format!(
        "GET /queue/events HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
        console.address, console.cookie
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(stream).lines();
    let mut event = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ")
            && event == "rows"
            && events.send(data.to_owned()).await.is_err()
        {
            return;
        }
    }
}

fn account(n: u32) -> String {
    format!("{:04}", 7000 + n)
}

async fn heartbeat(address: SocketAddr, n: u32, sequence: u16) -> bool {
    let frame = Panel::new(&account(n)).frame(TokenName::Null, sequence, "");
    tcp_exchange(address, &frame)
        .await
        .is_ok_and(|answer| answer.windows(5).any(|w| w == b"\"ACK\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_the_queue_and_survive_a_killed_node() {
    let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must give TEST_DATABASE_URL"
        );
        eprintln!("no TEST_DATABASE_URL: the multi-node test is skipped");
        return;
    };
    let url = vakt_store_postgres::scratch_database(&server, "vakt_cluster_test")
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let mut configs = Vec::new();
    let mut addresses = Vec::new();
    for name in ["a", "b", "c"] {
        let (dc09, http) = (vakt_testkit::stable_port(), vakt_testkit::stable_port());
        configs.push(config(folder.path(), name, &url, dc09, http));
        addresses.push((
            SocketAddr::from(([127, 0, 0, 1], dc09)),
            SocketAddr::from(([127, 0, 0, 1], http)),
        ));
    }

    let (store, ids) = register_before_the_nodes(&configs[0]).await;

    let mut nodes = Vec::new();
    for (config, &(dc09, http)) in configs.iter().zip(&addresses) {
        nodes.push(Node {
            child: start(config).await,
            dc09,
            http,
        });
    }
    let https: Vec<SocketAddr> = nodes.iter().map(|n| n.http).collect();
    let layout = wait_for_layout(&https).await;
    println!("shards per node: {layout:?}");
    assert!(
        layout.iter().all(|held| !held.is_empty()),
        "each of three nodes runs some of the {SHARDS} shards: {layout:?}"
    );

    // Every transmitter is heard through node A, so supervision starts from now.
    let mut sequence = 1_u16;
    for n in 1..=TRANSMITTERS {
        assert!(heartbeat(nodes[0].dc09, n, sequence).await);
    }

    let watcher = one_alarm_through_every_node(&nodes, &store).await;

    // A panel keeps sending to node C while C is killed.
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = tokio::spawn({
        let (acked, stop, address) = (acked.clone(), stop.clone(), nodes[2].dc09);
        async move {
            let mut panel = Panel::new(&account(3));
            let mut zone = 1_u32;
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = TcpStream::connect(address).await else {
                    break;
                };
                let frame = panel.frame(
                    TokenName::SiaDcs,
                    u16::try_from(zone % 9_000 + 1).unwrap(),
                    &format!("#{}|Nri1/TS{zone}", account(3)),
                );
                if stream.write_all(&frame).await.is_err() {
                    break;
                }
                match read_answer(&mut stream).await {
                    Ok(answer) if answer.windows(5).any(|w| w == b"\"ACK\"") => {
                        acked.lock().await.insert(zone);
                        zone += 1;
                    }
                    _ => break,
                }
            }
        }
    });

    // The odd transmitters keep their heartbeats going through A and B; the even ones fall
    // silent. Then node C dies.
    let beating = Arc::new(AtomicBool::new(true));
    let beats = tokio::spawn({
        let (beating, targets) = (beating.clone(), [nodes[0].dc09, nodes[1].dc09]);
        async move {
            let mut round = 0_usize;
            while beating.load(Ordering::Relaxed) {
                sequence = sequence % 9_000 + 1;
                for n in (1..=TRANSMITTERS).filter(|n| n % 2 == 1) {
                    let _ = heartbeat(targets[round % 2], n, sequence).await;
                }
                round += 1;
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        supervision_incidents(&store).await.is_empty(),
        "no transmitter is overdue yet when node C dies, so its shards' misses fall to the survivors"
    );
    let mut killed = nodes.pop().unwrap();
    killed.child.start_kill().unwrap();
    killed.child.wait().await.unwrap();
    let killed_at = Instant::now();
    stop.store(true, Ordering::Relaxed);
    sender.await.unwrap();

    let survivors: Vec<SocketAddr> = nodes.iter().map(|n| n.http).collect();
    let moved = wait_for_layout(&survivors).await;
    println!(
        "after the kill, shards per surviving node: {moved:?} (settled {:?} after it)",
        killed_at.elapsed()
    );

    nothing_lost_and_each_silence_raised_once(&store, &ids, &acked, (beating, beats)).await;

    watcher.abort();
    for mut node in nodes {
        node.child.start_kill().unwrap();
        node.child.wait().await.unwrap();
    }
    store.close().await;
}

/// The registry and an operator, written as an administrator would, before the nodes run;
/// returns the store and each account's transmitter id.
async fn register_before_the_nodes(
    config: &std::path::Path,
) -> (vakt_store_sql::SqlStore, BTreeMap<String, i64>) {
    let settings = vakt::settings::Settings::load(Some(config), &Default::default()).unwrap();
    let (store, _) = vakt::open_store(&settings, Arc::new(vakt_core::SystemClock))
        .await
        .unwrap();
    let inputs = (1..=TRANSMITTERS)
        .map(|n| vakt_service::TransmitterInput {
            supervision_interval_s: Some(2),
            ..vakt_testkit::transmitter(&account(n), None)
        })
        .map(|input| input.validate().unwrap())
        .collect();
    store.import_transmitters(inputs).await.unwrap();
    let hasher = vakt::hasher(&settings).unwrap();
    store
        .create_staff(
            vakt_store::NewStaff {
                login: "op".into(),
                name: "Olle Operatör".into(),
                role: vakt_core::centre::Role::Operator,
                guard_company_id: None,
                language: "sv".into(),
                password_hash: hasher
                    .hash("ett långt lösenord", &vakt_core::OsEntropy)
                    .unwrap(),
            },
            &vakt_store::Actor::system(),
        )
        .await
        .unwrap();
    let ids: BTreeMap<String, i64> = store
        .transmitters()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.spec.account.clone(), t.id))
        .collect();
    (store, ids)
}

/// Every signal node C acknowledged before it was killed is in the journal, and each silent
/// transmitter is raised once by whichever node took over its shard.
async fn nothing_lost_and_each_silence_raised_once(
    store: &vakt_store_sql::SqlStore,
    ids: &BTreeMap<String, i64>,
    acked: &Mutex<BTreeSet<u32>>,
    (beating, beats): (Arc<AtomicBool>, tokio::task::JoinHandle<()>),
) {
    // Every acknowledged signal is in the journal.
    let acked = acked.lock().await.clone();
    assert!(!acked.is_empty(), "the panel got signals through node C");
    let journalled: BTreeSet<u32> = store
        .signals(&SignalFilter {
            account: Some(account(3)),
            limit: 10_000,
            ..SignalFilter::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|s| s.record.answer == "ack")
        .filter_map(|s| {
            let data = String::from_utf8_lossy(s.record.data.as_deref()?).into_owned();
            data.rsplit_once("/TS")?.1.parse().ok()
        })
        .collect();
    let lost: Vec<_> = acked.difference(&journalled).collect();
    assert!(
        lost.is_empty(),
        "acknowledged by C but not journalled: {lost:?}"
    );

    // Each silent transmitter is raised once, by whichever node now owns its shard.
    let silent: BTreeSet<i64> = (1..=TRANSMITTERS)
        .filter(|n| n % 2 == 0)
        .map(|n| ids[&account(n)])
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let raised = loop {
        let raised = supervision_incidents(store).await;
        let covered: BTreeSet<i64> = raised.keys().copied().collect();
        if covered == silent || Instant::now() > deadline {
            break raised;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // A little longer, so a second raise would show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = supervision_incidents(store).await;
    beating.store(false, Ordering::Relaxed);
    beats.await.unwrap();
    assert_eq!(
        raised.keys().copied().collect::<BTreeSet<_>>(),
        silent,
        "exactly the silent transmitters are raised: {raised:?}"
    );
    assert_eq!(settled, raised, "and each of them once");
    assert!(settled.values().all(|&count| count == 1), "{settled:?}");
}

/// A console on node B sees an alarm sent to node A; the same frame over node B is journalled
/// as its repeat and makes no second event. Returns the console's live queue, still open.
async fn one_alarm_through_every_node(
    nodes: &[Node],
    store: &vakt_store_sql::SqlStore,
) -> tokio::task::JoinHandle<()> {
    // A console on node B sees an alarm sent to node A.
    let console = Console::sign_in(nodes[1].http, "op", "ett långt lösenord").await;
    let (events, mut rows) = tokio::sync::mpsc::channel(64);
    let watcher = tokio::spawn({
        let console = console.clone();
        async move { live_queue(&console, events).await }
    });
    let first = tokio::time::timeout(Duration::from_secs(10), rows.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(!first.contains("Site 7001"), "the queue starts empty");
    let mut alarm = Panel::new(&account(1));
    let frame = alarm.frame(TokenName::SiaDcs, 42, &format!("#{}|Nri1/BA5", account(1)));
    let sent = Instant::now();
    let answer = tcp_exchange(nodes[0].dc09, &frame).await.unwrap();
    assert!(answer.windows(5).any(|w| w == b"\"ACK\""));
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let html = rows.recv().await.unwrap();
            if html.contains("Site 7001") {
                return sent.elapsed();
            }
        }
    })
    .await
    .expect("the alarm reaches the console on the other node");
    println!("alarm sent to node A appeared on node B's console after {seen:?}");

    // The same frame over the backup path (node B) is acknowledged and is the same event.
    let again = tcp_exchange(nodes[1].dc09, &frame).await.unwrap();
    assert!(again.windows(5).any(|w| w == b"\"ACK\""));
    let journal = store
        .signals(&SignalFilter {
            account: Some(account(1)),
            limit: 100,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    let copies: Vec<_> = journal
        .iter()
        .filter(|s| s.record.sequence.as_deref() == Some("0042"))
        .collect();
    assert_eq!(copies.len(), 2, "both copies are journalled");
    assert_eq!(
        copies.iter().filter(|s| s.duplicate_of.is_none()).count(),
        1,
        "one of them as the message, the other as its repeat"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queue = store.queue().await.unwrap();
    let burglary: Vec<_> = queue
        .iter()
        .filter(|i| i.site_name == "Site 7001")
        .collect();
    assert_eq!(burglary.len(), 1);
    assert_eq!(burglary[0].events, 1, "one event, not two");
    watcher
}

/// Supervision incidents (open or closed) per silent transmitter.
async fn supervision_incidents(store: &vakt_store_sql::SqlStore) -> BTreeMap<i64, usize> {
    let mut ids: BTreeSet<i64> = store.queue().await.unwrap().iter().map(|i| i.id).collect();
    for site in store.sites().await.unwrap() {
        ids.extend(
            store
                .site_history(site.id, 100)
                .await
                .unwrap()
                .iter()
                .map(|i| i.id),
        );
    }
    let mut raised = BTreeMap::new();
    for id in ids {
        if let Some(transmitter) = store.incident(id).await.unwrap().supervision_of {
            *raised.entry(transmitter).or_insert(0) += 1;
        }
    }
    raised
}
