//! Faults while panels keep sending: the server killed with SIGKILL and restarted again and
//! again, restarted gracefully, the disk under the journal full, the database locked by
//! another process. In each, every acknowledged signal is in the journal, no message is
//! journalled twice as new, every alarm is handled exactly once on one incident, and Vakt
//! goes back to acknowledging by itself when the fault ends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use vakt::settings::Settings;
use vakt_core::SystemClock;
use vakt_dc09::TokenName;
use vakt_store::Incidents;
use vakt_store::{Journal, SignalFilter, Verdict};
use vakt_testkit::{Panel, read_answer};

/// The accounts the panels report as, each registered with a site of its own.
const ACCOUNTS: [&str; 2] = ["1234", "5678"];

/// Writes `vakt.toml` for a server on `port` keeping its data in `data`, and registers the
/// panels' accounts with `vakt accounts import`.
fn prepare(folder: &Path, data: &Path, port: u16) -> PathBuf {
    prepare_with(folder, data, port, "")
}

/// The console's address a configuration written by [`prepare_with`] names.
fn http_of(config: &Path) -> std::net::SocketAddr {
    let text = std::fs::read_to_string(config).unwrap();
    let at = text.find("listen = \"").unwrap() + "listen = \"".len();
    let end = text[at..].find('"').unwrap();
    text[at..at + end].parse().unwrap()
}

/// `/healthz`'s status and body.
async fn health(config: &Path) -> (u16, serde_json::Value) {
    let (status, body) = vakt_testkit::http(http_of(config), "GET", "/healthz", None, None)
        .await
        .unwrap();
    (status, serde_json::from_str(&body).unwrap_or_default())
}

/// As [`prepare`], with the store on PostgreSQL at `database_url` (SQLite when empty).
fn prepare_with(folder: &Path, data: &Path, port: u16, database_url: &str) -> PathBuf {
    let config = folder.join("vakt.toml");
    let http = loop {
        let http = vakt_testkit::stable_port();
        if http != port {
            break http;
        }
    };
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\ndatabase_url = {database_url:?}\nlog = \"info\"\n[http]\nlisten = \"127.0.0.1:{http}\"\napi_token = \"t\"\n\
             [[receiver.listeners]]\nname = \"main\"\naddress = \"127.0.0.1:{port}\"\nprotocols = \"tcp\"\n\
             [security]\nsecret_key = \"the fault tests' secret\"\n"
        ),
    )
    .unwrap();
    let mut csv = String::from("account,prefix,supervision_interval_s,site_name\n");
    for account in ACCOUNTS {
        csv.push_str(&format!("{account},0,86400,Site {account}\n"));
    }
    let file = folder.join("accounts.csv");
    std::fs::write(&file, csv).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vakt"))
        .arg("--config")
        .arg(&config)
        .args(["accounts", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    config
}

/// Starts `vakt serve`; its log goes (appended, across restarts) to `server.log` beside the
/// configuration, which a failed check prints.
async fn start_server(config: &Path) -> Child {
    vakt_testkit::serve_process(
        env!("CARGO_BIN_EXE_vakt").as_ref(),
        config,
        Some(&server_log(config)),
    )
    .await
}

fn server_log(config: &Path) -> PathBuf {
    config.with_file_name("server.log")
}

/// What the panels saw: the zones acknowledged per account, and frames left unanswered.
#[derive(Default)]
struct Seen {
    acked: Mutex<BTreeMap<String, BTreeSet<u32>>>,
    unanswered: AtomicU32,
}

impl Seen {
    async fn acked_count(&self) -> usize {
        self.acked.lock().await.values().map(BTreeSet::len).sum()
    }
}

/// A panel that sends burglary alarms (zone = message number) one after another, and sends
/// the same message again on a new connection whenever an answer does not come, as panels
/// do. `text` pads each message, to make the journal grow faster.
async fn panel(
    port: u16,
    account: &'static str,
    text: usize,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
) {
    let mut panel = Panel::new(account);
    let mut next = 1_u32;
    let mut connection: Option<TcpStream> = None;
    let padding = "x".repeat(text);
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
        let data = if text > 0 {
            format!("#{account}|Nri1/BA{next}|A{padding}")
        } else {
            format!("#{account}|Nri1/BA{next}")
        };
        let frame = panel.frame_at(TokenName::SiaDcs, sequence, &data, None);
        let answered = match stream.write_all(&frame).await {
            Ok(()) => tokio::time::timeout(Duration::from_secs(3), read_answer(stream))
                .await
                .ok()
                .and_then(Result::ok),
            Err(_) => None,
        };
        match answered {
            Some(answer) if answer.windows(5).any(|w| w == b"\"ACK\"") => {
                seen.acked
                    .lock()
                    .await
                    .entry(account.to_owned())
                    .or_default()
                    .insert(next);
                next += 1;
            }
            _ => {
                seen.unanswered.fetch_add(1, Ordering::Relaxed);
                connection = None;
            }
        }
    }
}

fn spawn_panels(
    port: u16,
    text: usize,
    seen: &Arc<Seen>,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    ACCOUNTS
        .iter()
        .map(|account| tokio::spawn(panel(port, account, text, seen.clone(), stop.clone())))
        .collect()
}

/// A server with the panels sending to it.
struct Sending {
    server: Child,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    panels: Vec<tokio::task::JoinHandle<()>>,
}

impl Sending {
    /// Starts the server of `config` and the panels (each message padded with `text`
    /// bytes), and waits until the panels are being acknowledged.
    async fn start(config: &Path, port: u16, text: usize) -> Sending {
        let server = start_server(config).await;
        let seen = Arc::new(Seen::default());
        let stop = Arc::new(AtomicBool::new(false));
        let panels = spawn_panels(port, text, &seen, &stop);
        assert!(
            within(20, async || seen.acked_count().await > 20).await,
            "the panels got nothing through"
        );
        Sending {
            server,
            seen,
            stop,
            panels,
        }
    }

    /// Stops the panels, checks the promises (see [`assert_sound`]) while the server still
    /// runs, so the engine can finish, and then stops the server.
    async fn finish(mut self, data: &Path, database_url: &str) {
        self.stop.store(true, Ordering::Relaxed);
        for panel in self.panels {
            panel.await.unwrap();
        }
        assert_sound(data, database_url, &self.seen).await;
        terminate(&self.server);
        self.server.wait().await.unwrap();
    }
}

/// Waits until `check` holds, polling; false when `seconds` pass first.
async fn within(seconds: u64, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Checks the promises on the database in `data`, with a server still running so the
/// engine can finish handling what was journalled:
/// - every zone a panel saw acknowledged is journalled;
/// - no message is journalled twice as new;
/// - every alarm journalled as new is an event of exactly one incident, and each site has
///   exactly one incident (they were all burglaries on a site whose incident stayed open).
///
/// The store is on PostgreSQL at `database_url`, or on SQLite in `data` when it is empty.
async fn assert_sound(data: &Path, database_url: &str, seen: &Seen) {
    let mut settings = Settings {
        data_dir: data.to_path_buf(),
        database_url: database_url.to_owned(),
        ..Settings::default()
    };
    settings.security.hash_memory_kib = 64;
    let (store, _) = vakt::open_store(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    // The whole journal, page by page: one listing returns at most 10,000 rows, and a run
    // that journals more must not lose its oldest rows from the check.
    let mut rows = Vec::new();
    loop {
        let page = store
            .signals(&SignalFilter {
                after_id: Some(rows.last().map_or(0, |r: &vakt_store::StoredSignal| r.id)),
                limit: 5_000,
                ..SignalFilter::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        rows.extend(page);
    }
    assert_eq!(
        rows.len() as i64,
        store.journal_head().await.unwrap(),
        "the check reads the whole journal"
    );
    let acked = seen.acked.lock().await.clone();
    let mut new_signals = BTreeSet::new();
    for account in ACCOUNTS {
        let mut journalled = BTreeSet::new();
        let mut first_copies = BTreeSet::new();
        for row in rows
            .iter()
            .filter(|r| r.record.account.as_deref() == Some(account) && r.record.answer == "ack")
        {
            let zone = row.record.events[0].zone.unwrap();
            journalled.insert(zone);
            if row.record.verdict == Verdict::Accepted {
                assert!(
                    first_copies.insert(zone),
                    "{account} zone {zone} journalled twice as new"
                );
                new_signals.insert(row.id);
            }
        }
        let sent = acked.get(account).cloned().unwrap_or_default();
        let lost: Vec<&u32> = sent.difference(&journalled).collect();
        assert!(
            lost.is_empty(),
            "{account}: acknowledged but not journalled: {lost:?}\n\
             journal: {} rows, ids {:?}..{:?}\nserver log:\n{}",
            rows.len(),
            rows.first().map(|r| r.id),
            rows.last().map(|r| r.id),
            std::fs::read_to_string(data.with_file_name("server.log")).unwrap_or_default()
        );
    }
    // The engine handles each new alarm once, on the site's one incident.
    let handled = async || {
        let mut by_signal: BTreeMap<i64, usize> = BTreeMap::new();
        let incidents = store.queue().await.unwrap();
        for incident in &incidents {
            for event in store.incident(incident.id).await.unwrap().events {
                if let Some(signal) = event.signal_id {
                    *by_signal.entry(signal).or_default() += 1;
                }
            }
        }
        (incidents.len(), by_signal)
    };
    let caught_up = within(60, async || handled().await.1.len() >= new_signals.len()).await;
    let (incidents, by_signal) = handled().await;
    assert!(
        caught_up,
        "the engine handled {} of {} alarms",
        by_signal.len(),
        new_signals.len()
    );
    let twice: Vec<_> = by_signal.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "alarms handled more than once: {twice:?}");
    let handled: BTreeSet<i64> = by_signal.keys().copied().collect();
    assert_eq!(
        handled, new_signals,
        "the alarms handled are the alarms journalled"
    );
    assert_eq!(incidents, ACCOUNTS.len(), "one incident per site");
    store.close().await;
}

fn terminate(child: &Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_restarted_again_and_again_while_panels_send() {
    const ROUNDS: usize = 6;
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let port = vakt_testkit::stable_port();
    let config = prepare(folder.path(), &data, port);
    let mut run = Sending::start(&config, port, 0).await;
    let seen = run.seen.clone();
    let mut counts = Vec::new();
    for round in 0..ROUNDS {
        tokio::time::sleep(Duration::from_millis(400 + 150 * round as u64)).await;
        counts.push(seen.acked_count().await);
        // Mostly SIGKILL; every third round a graceful restart, as an upgrade would do.
        if round % 3 == 2 {
            terminate(&run.server);
        } else {
            run.server.start_kill().unwrap();
        }
        run.server.wait().await.unwrap();
        run.server = start_server(&config).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    run.finish(&data, "").await;
    let total = seen.acked_count().await;
    assert!(
        total > 100,
        "the panels got few signals through: {counts:?}"
    );
    println!(
        "{total} signals acknowledged across {ROUNDS} kills and restarts ({counts:?}); all journalled, each handled once"
    );
}

/// A small filesystem of its own for the data folder, so it can be filled.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, megabytes: u32) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Writes a file until the filesystem is full.
fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0xA5_u8; 64 * 1024];
    let mut written = 0;
    while file.write_all(&block).is_ok() {
        written += block.len() as u64;
    }
    // The last partial block: fill to the very last byte.
    for size in [4096, 512, 1] {
        while file.write_all(&block[..size]).is_ok() {
            written += size as u64;
        }
    }
    let _ = file.sync_all();
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_acknowledgements_until_space_returns() {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let Some(_tmpfs) = Tmpfs::mount(&data, 24) else {
        // Mounting needs root, which the test command has; a developer without it is told.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must be able to mount a tmpfs"
        );
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let port = vakt_testkit::stable_port();
    let config = prepare(folder.path(), &data, port);
    let mut run = Sending::start(&config, port, 2_000).await;
    let seen = run.seen.clone();

    // The disk fills up: acknowledgements stop, the server stays up.
    let filler = data.join("filler");
    fill(&filler);
    let full_since = seen.acked_count().await;
    let stopped = within(30, async || {
        let before = seen.acked_count().await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        seen.acked_count().await == before
    })
    .await;
    assert!(stopped, "acknowledgements went on with the disk full");
    let unanswered = seen.unanswered.load(Ordering::Relaxed);
    assert!(unanswered > 0);
    assert!(
        run.server.try_wait().unwrap().is_none(),
        "the server died of a full disk"
    );
    // A node that cannot commit must not look healthy to a load balancer.
    let (status, body) = health(&config).await;
    assert_eq!(status, 503, "/healthz with the disk full: {body}");
    assert!(
        body["reason"].as_str().unwrap_or("").contains("journal"),
        "{body}"
    );

    // Space comes back: Vakt acknowledges again by itself, without a restart.
    let full_acked = seen.acked_count().await;
    std::fs::remove_file(&filler).unwrap();
    let resumed = within(30, async || seen.acked_count().await > full_acked + 20).await;
    assert!(
        resumed,
        "acknowledgements did not resume after space came back"
    );
    let (status, body) = health(&config).await;
    assert_eq!(status, 200, "/healthz after space came back: {body}");
    run.finish(&data, "").await;
    println!(
        "disk full after {full_since} acknowledged, {unanswered} frames unanswered while full, {} in all",
        seen.acked_count().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_delays_acknowledgements_and_loses_nothing() {
    // Longer than the journal's busy timeout (5 s), so commits fail, not just wait.
    const LOCK_S: u64 = 8;
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let port = vakt_testkit::stable_port();
    let config = prepare(folder.path(), &data, port);
    let mut run = Sending::start(&config, port, 0).await;
    let seen = run.seen.clone();

    // Another process takes the database's write lock and holds it.
    let database = data.join("vakt.db");
    assert!(database.exists(), "{}", database.display());
    let mut locker = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             time.sleep({LOCK_S})\n\
             c.execute('ROLLBACK')\n"
        ))
        .arg(&database)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(locker.stdout.take().unwrap()).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("locked"));
    let locked_at = seen.acked_count().await;
    tokio::time::sleep(Duration::from_secs(LOCK_S - 2)).await;
    // Nothing committed can be acknowledged while the lock is held (a commit that was
    // already on its way when the lock was taken may still get through).
    let during = seen.acked_count().await;
    assert!(
        during <= locked_at + 2 * ACCOUNTS.len(),
        "{locked_at} → {during} while locked"
    );
    assert!(locker.wait().await.unwrap().success());
    assert!(
        within(20, async || seen.acked_count().await > during + 20).await,
        "acknowledgements did not resume after the lock was released"
    );
    assert!(run.server.try_wait().unwrap().is_none());
    run.finish(&data, "").await;
}

/// A TCP proxy in front of PostgreSQL that can be cut: every connection through it is
/// dropped and new ones are closed at once, as when the database's host or the network
/// goes away, until it is restored.
struct Proxy {
    address: std::net::SocketAddr,
    open: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (open, _) = tokio::sync::watch::channel(true);
        let watch = open.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = watch.subscribe();
                if !*state.borrow_and_update() {
                    continue; // dropped: closed at once
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|open| !*open) => {}
                    }
                });
            }
        });
        Proxy { address, open }
    }

    fn cut(&self) {
        self.open.send_replace(false);
    }

    fn restore(&self) {
        self.open.send_replace(true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_stops_acknowledgements_until_it_returns() {
    const CUT_S: u64 = 6;
    let Ok(server_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must give TEST_DATABASE_URL"
        );
        eprintln!("no TEST_DATABASE_URL: the PostgreSQL fault test is skipped");
        return;
    };
    let url = vakt_store_postgres::scratch_database(&server_url, "vakt_faults_test")
        .await
        .unwrap();
    // postgres://user:password@host:port/database: the proxy stands in for host:port.
    let (head, rest) = url.split_once('@').unwrap();
    let (upstream, tail) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(upstream.to_owned()).await;
    let proxied = format!("{head}@{}/{tail}", proxy.address);

    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let port = vakt_testkit::stable_port();
    let config = prepare_with(folder.path(), &data, port, &proxied);
    let mut run = Sending::start(&config, port, 0).await;
    let seen = run.seen.clone();

    proxy.cut();
    // A commit already answered by the database when the cut came may still be acknowledged.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settled = seen.acked_count().await;
    tokio::time::sleep(Duration::from_secs(CUT_S - 1)).await;
    let during = seen.acked_count().await;
    assert_eq!(
        during, settled,
        "signals were acknowledged while the database was unreachable"
    );
    proxy.restore();
    assert!(
        within(60, async || seen.acked_count().await > during + 20).await,
        "acknowledgements did not resume after the database came back"
    );
    assert!(
        run.server.try_wait().unwrap().is_none(),
        "the server stopped"
    );
    run.finish(&data, &url).await;
    println!(
        "database cut for {CUT_S} s after {settled} acknowledged; {} in all, all journalled, each handled once",
        seen.acked_count().await
    );
}
