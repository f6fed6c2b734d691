//! `vakt bench receiver`: durable acknowledged signals per second and acknowledgement
//! latency, measured against the real receiver and SQLite journal on this machine.
//!
//! Not a test: it prints figures (and can write them as a Markdown table). The server runs
//! in this process on its own runtime, the clients on another, both on loopback. Every
//! answer counted is an ACK that the receiver sent after the journal commit returned, so
//! the rates are durable rates.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vakt_dc09::message::{Outgoing, encode};
use vakt_dc09::{FrameStyle, Key, KeyForm, Timestamp, TokenName};
use vakt_store::{Registry, Transport};

use vakt::settings::Settings;

/// The AES-256 key the benchmark's encrypted transmitters use.
pub(crate) const BENCH_KEY: &str = "vakt-benchmark-key-0123456789abc";

/// Options of `vakt bench receiver`.
#[derive(Clone, Debug, clap::Args)]
pub struct ReceiverBench {
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Kept-open connection counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000")]
    pub connections: Vec<usize>,
    /// Concurrent clients in the one-frame-per-connection scenario.
    #[arg(long, default_value_t = 50)]
    pub per_frame_clients: usize,
    /// Signals per second of the paced latency scenario (over 100 connections).
    #[arg(long, default_value_t = 5_000)]
    pub paced_rate: u32,
    /// Also write the results table (Markdown) to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Journal to PostgreSQL instead of a SQLite file: a server URL; the benchmark creates
    /// (and replaces) the database `vakt_bench_receiver` on it.
    #[arg(long)]
    pub postgres: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// Each connection sends, waits for the answer, and sends again.
    KeptOpen { connections: usize },
    /// Each frame on a new connection.
    PerFrame { clients: usize },
    /// Kept-open connections sending at a fixed total rate.
    Paced { connections: usize, rate: u32 },
}

#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) acked: u64,
    pub(crate) refused: u64,
    pub(crate) latencies_us: Vec<u32>,
}

pub(crate) struct Row {
    scenario: String,
    encryption: &'static str,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    refused: u64,
    server_us_per_signal: f64,
}

/// The name of the server runtime's threads, to tell its CPU time from the clients'.
pub(crate) const SERVER_THREAD: &str = "vakt-server";
/// Linux reports thread CPU time in /proc in ticks of 1/100 s (USER_HZ).
pub(crate) const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds used so far by the server's threads (its runtime and SQLite's worker).
pub(crate) fn server_cpu_seconds() -> f64 {
    threads_cpu_seconds(&[SERVER_THREAD, "sqlx-sqlite"])
}

/// CPU seconds used so far by this process's threads whose names start with one of `names`.
pub(crate) fn threads_cpu_seconds(names: &[&str]) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0_u64;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.split_once(") ") else {
            continue;
        };
        let name = head.split_once(" (").map_or("", |(_, n)| n);
        if !names.iter().any(|n| name.starts_with(n)) {
            continue;
        }
        ticks += stat_ticks(rest);
    }
    ticks as f64 / TICKS_PER_SECOND
}

/// CPU seconds used so far by process `pid` (all its threads).
pub(crate) fn process_cpu_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.split_once(") ").map(|(_, rest)| stat_ticks(rest)))
        .unwrap_or(0) as f64
        / TICKS_PER_SECOND
}

/// User and system ticks from what follows the name in a `/proc/.../stat` line: state is
/// field 3, utime and stime are fields 14 and 15.
pub(crate) fn stat_ticks(rest: &str) -> u64 {
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let time = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    time(11) + time(12)
}

pub(crate) fn percentile(sorted: &[u32], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    f64::from(sorted.get(index).copied().unwrap_or(0)) / 1000.0
}

pub(crate) fn account(index: usize, encrypted: bool) -> String {
    format!("{}{:05X}", if encrypted { "E" } else { "B" }, index)
}

pub(crate) fn frame(account: &str, sequence: u16, key: Option<&Key>, pad: &mut u8) -> Vec<u8> {
    let data = format!("#{account}|Nri1/BA{:02}", sequence % 64);
    let outgoing = Outgoing {
        token: TokenName::SiaDcs,
        sequence,
        receiver: None,
        prefix: Some("0"),
        account,
        data: data.as_bytes(),
        xdata: &[],
        timestamp: Some(Timestamp::from_unix_micros(vakt_core::Clock::now(
            &vakt_core::SystemClock,
        ))),
    };
    encode(
        &outgoing,
        key,
        &mut || {
            *pad = pad.wrapping_mul(13).wrapping_add(17);
            *pad
        },
        FrameStyle::STANDARD,
    )
}

/// Reads one answer frame (up to CR); `true` if it is an ACK.
pub(crate) async fn read_answer(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<bool> {
    buffer.clear();
    let mut chunk = [0_u8; 512];
    loop {
        if let Some(end) = buffer.iter().position(|&b| b == b'\r') {
            let answer = buffer.get(..end).unwrap_or_default();
            return Ok(answer.windows(5).any(|w| w == b"\"ACK\"" || w == b"*ACK\""));
        }
        let count = stream.read(&mut chunk).await?;
        if count == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(chunk.get(..count).unwrap_or_default());
    }
}

pub(crate) async fn client(
    address: SocketAddr,
    account: String,
    key: Option<Key>,
    until: Instant,
    interval: Option<Duration>,
    first: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let Ok(mut stream) = TcpStream::connect(address).await else {
        tally.refused += 1;
        return tally;
    };
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::with_capacity(256);
    let mut pad = 1_u8;
    let mut sequence = 0_u16;
    // Paced clients start at staggered times so the total rate is even, not in bursts.
    let mut next = first;
    while Instant::now() < until {
        if let Some(interval) = interval {
            tokio::time::sleep_until(next.into()).await;
            next += interval;
        }
        sequence = sequence % 9_999 + 1;
        let wire = frame(&account, sequence, key.as_ref(), &mut pad);
        let sent = Instant::now();
        if stream.write_all(&wire).await.is_err() {
            tally.refused += 1;
            break;
        }
        match read_answer(&mut stream, &mut buffer).await {
            Ok(true) => {
                tally.acked += 1;
                tally
                    .latencies_us
                    .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            Ok(false) | Err(_) => {
                tally.refused += 1;
                break;
            }
        }
    }
    tally
}

pub(crate) async fn per_frame_client(
    address: SocketAddr,
    account: String,
    key: Option<Key>,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut buffer = Vec::with_capacity(256);
    let mut pad = 1_u8;
    let mut sequence = 0_u16;
    while Instant::now() < until {
        sequence = sequence % 9_999 + 1;
        let wire = frame(&account, sequence, key.as_ref(), &mut pad);
        let sent = Instant::now();
        let Ok(mut stream) = TcpStream::connect(address).await else {
            tally.refused += 1;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acked = stream.write_all(&wire).await.is_ok()
            && matches!(read_answer(&mut stream, &mut buffer).await, Ok(true));
        if acked {
            tally.acked += 1;
            tally
                .latencies_us
                .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        } else {
            tally.refused += 1;
        }
    }
    tally
}

pub(crate) async fn run_scenario(
    address: SocketAddr,
    mode: Mode,
    encrypted: bool,
    seconds: u64,
) -> (Tally, f64) {
    let key = encrypted
        .then(|| Key::parse(BENCH_KEY, KeyForm::Ascii))
        .transpose()
        .ok()
        .flatten();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    match mode {
        Mode::KeptOpen { connections } => {
            for index in 0..connections {
                tasks.spawn(client(
                    address,
                    account(index, encrypted),
                    key.clone(),
                    until,
                    None,
                    started,
                ));
            }
        }
        Mode::Paced { connections, rate } => {
            let interval = Duration::from_secs_f64(connections as f64 / f64::from(rate.max(1)));
            for index in 0..connections {
                tasks.spawn(client(
                    address,
                    account(index, encrypted),
                    key.clone(),
                    until,
                    Some(interval),
                    started + interval.mul_f64(index as f64 / connections as f64),
                ));
            }
        }
        Mode::PerFrame { clients } => {
            for index in 0..clients {
                tasks.spawn(per_frame_client(
                    address,
                    account(index, encrypted),
                    key.clone(),
                    until,
                ));
            }
        }
    }
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(tally) = joined {
            total.acked += tally.acked;
            total.refused += tally.refused;
            total.latencies_us.extend(tally.latencies_us);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    total.latencies_us.sort_unstable();
    (total, elapsed)
}

/// Runs every scenario and prints the table.
///
/// # Errors
/// When the server cannot be started.
pub async fn receiver(options: ReceiverBench) -> anyhow::Result<()> {
    let folder = tempfile::tempdir().context("a temporary folder for the benchmark's database")?;
    let mut settings = bench_settings(folder.path());
    if let Some(server) = &options.postgres {
        settings.database_url =
            vakt_store_postgres::scratch_database(server, "vakt_bench_receiver").await?;
        settings.security.secret_key = "benchmark secret key, not for use".into();
        settings.http.api_token = "benchmark".into();
    }
    let most = options
        .connections
        .iter()
        .copied()
        .chain([options.per_frame_clients, 100])
        .max()
        .unwrap_or(1);
    let server = VaktThread::start(settings, most)?;
    let address = server.address;
    let mut scenarios = Vec::new();
    for &connections in &options.connections {
        scenarios.push((
            format!("{connections} kept-open connection(s)"),
            Mode::KeptOpen { connections },
        ));
    }
    scenarios.push((
        format!(
            "one connection per frame ({} clients)",
            options.per_frame_clients
        ),
        Mode::PerFrame {
            clients: options.per_frame_clients,
        },
    ));
    scenarios.push((
        format!(
            "paced {} signals/s over 100 connections",
            options.paced_rate
        ),
        Mode::Paced {
            connections: 100,
            rate: options.paced_rate,
        },
    ));
    let mut rows = Vec::new();
    for (name, mode) in scenarios {
        for encrypted in [false, true] {
            let cpu_before = server_cpu_seconds();
            let (tally, elapsed) = run_scenario(address, mode, encrypted, options.seconds).await;
            let server_cpu = server_cpu_seconds() - cpu_before;
            let row = Row {
                scenario: name.clone(),
                encryption: if encrypted { "AES-256" } else { "plain" },
                per_second: tally.acked as f64 / elapsed,
                p50_ms: percentile(&tally.latencies_us, 0.50),
                p99_ms: percentile(&tally.latencies_us, 0.99),
                refused: tally.refused,
                server_us_per_signal: server_cpu * 1e6 / (tally.acked.max(1) as f64),
            };
            eprintln!(
                "{:<48} {:<8} {:>9.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  server {:>5.1} us/signal",
                row.scenario,
                row.encryption,
                row.per_second,
                row.p50_ms,
                row.p99_ms,
                row.server_us_per_signal
            );
            rows.push(row);
        }
    }
    server.stop()?;
    let table = markdown(&rows, &options);
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{table}")?;
    }
    if let Some(path) = &options.output {
        std::fs::write(path, &table).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Settings for a benchmark server keeping its data in `folder`, on loopback ports of the
/// kernel's choosing, with room for every benchmark connection.
pub(crate) fn bench_settings(folder: &std::path::Path) -> Settings {
    let mut settings = Settings {
        data_dir: folder.to_path_buf(),
        ..Settings::default()
    };
    settings.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    if let Some(listener) = settings.receiver.listeners.first_mut() {
        listener.address = SocketAddr::from(([127, 0, 0, 1], 0));
        listener.protocols = vakt_receiver::Protocols::Tcp;
    }
    settings.receiver.limits.connections_max = 20_000;
    settings.receiver.limits.connections_per_peer_max = 20_000;
    settings
}

/// Vakt on a thread and runtime of its own (threads named [`SERVER_THREAD`]), as if it were
/// another process, with `most` plain and `most` encrypted benchmark transmitters.
pub(crate) struct VaktThread {
    pub(crate) address: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl VaktThread {
    pub(crate) fn start(settings: Settings, most: usize) -> anyhow::Result<VaktThread> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<SocketAddr>>();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name(SERVER_THREAD)
                .build()?;
            runtime.block_on(async move {
                match start_server(settings, most).await {
                    Ok((app, address)) => {
                        let _ = ready_tx.send(Ok(address));
                        let _ = stop_rx.await;
                        app.shutdown().await;
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                    }
                }
                anyhow::Ok(())
            })
        });
        let address = ready_rx
            .recv()
            .context("the benchmark server did not start")??;
        Ok(VaktThread {
            address,
            stop,
            thread,
        })
    }

    pub(crate) fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the server thread panicked"))?
    }
}

pub(crate) fn markdown(rows: &[Row], options: &ReceiverBench) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | payload | durable ACKs/s | p50 ACK latency | p99 ACK latency | failed | \
         server CPU per signal | server-only ceiling on 2 cores |"
    );
    let _ = writeln!(
        out,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.1} µs | {:.0}/s |",
            row.scenario,
            row.encryption,
            row.per_second,
            row.p50_ms,
            row.p99_ms,
            row.refused,
            row.server_us_per_signal,
            2e6 / row.server_us_per_signal.max(0.001)
        );
    }
    let _ = writeln!(
        out,
        "\n{} s per scenario; SIA-DCS frames; {}.",
        options.seconds,
        if options.postgres.is_some() {
            "PostgreSQL journal (one node, synchronous_commit on, server on the same machine)"
        } else {
            "SQLite journal with synchronous=FULL"
        }
    );
    out
}

pub(crate) async fn start_server(
    settings: Settings,
    most: usize,
) -> anyhow::Result<(vakt::App, SocketAddr)> {
    let app = vakt::launch(settings.clone()).await?;
    let (store, _) = vakt::open_store(&settings, Arc::new(vakt_core::SystemClock)).await?;
    let mut transmitters = Vec::new();
    for encrypted in [false, true] {
        for index in 0..most {
            let input = vakt_service::TransmitterInput {
                account: account(index, encrypted),
                prefix: Some("0".into()),
                key: encrypted.then(|| BENCH_KEY.to_owned()),
                key_form: encrypted.then(|| "ascii".to_owned()),
                site_name: format!("Benchmark site {index}"),
                ..vakt_service::TransmitterInput::default()
            };
            transmitters.push(input.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?);
        }
    }
    store.import_transmitters(transmitters).await?;
    store.close().await;
    // Let the receiver pick up the registry.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let address = app
        .dc09_address(Transport::Tcp)
        .context("no TCP listener")?;
    Ok((app, address))
}

/// Options of `vakt bench journal`.
#[derive(Clone, Debug, clap::Args)]
pub struct JournalBench {
    /// Seconds to run.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Appenders waiting on their commit at once.
    #[arg(long, default_value_t = 1_000)]
    pub appenders: usize,
    /// SQLite page cache per connection, in KiB.
    #[arg(long, default_value_t = 32 * 1024)]
    pub cache_kib: u32,
    /// Checkpoint interval in milliseconds; 0 leaves checkpoints to the writer.
    #[arg(long, default_value_t = 250)]
    pub checkpoint_interval_ms: u64,
}

/// Appends journal records from many tasks at once, each waiting for its commit, and prints
/// the durable rate: the journal's own ceiling, without sockets.
///
/// # Errors
/// When the database cannot be opened.
pub async fn journal(options: JournalBench) -> anyhow::Result<()> {
    use vakt_store::Journal;
    let folder = tempfile::tempdir().context("a temporary folder for the benchmark's database")?;
    let store_options = vakt_store_sqlite::SqliteOptions {
        cache_kib: options.cache_kib,
        checkpoint_interval_ms: options.checkpoint_interval_ms,
        ..vakt_store_sqlite::SqliteOptions::new(folder.path().join("vakt.db"))
    };
    let store = vakt_store_sqlite::open(store_options, Arc::new(vakt_core::SystemClock)).await?;
    let until = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..options.appenders {
        let store = store.clone();
        tasks.spawn(async move {
            let mut pad = 3_u8;
            let mut committed = 0_u64;
            let mut sequence = 0_u16;
            let account = account(index, false);
            while Instant::now() < until {
                sequence = sequence % 9_999 + 1;
                let raw = frame(&account, sequence, None, &mut pad);
                let record = sample_record(&account, sequence, raw);
                if store.append(record).await.is_ok() {
                    committed += 1;
                }
            }
            committed
        });
    }
    let mut committed = 0;
    while let Some(joined) = tasks.join_next().await {
        committed += joined.unwrap_or(0);
    }
    let elapsed = started.elapsed().as_secs_f64();
    store.close().await;
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    writeln!(
        out,
        "{committed} records committed in {elapsed:.1} s by {} appenders: {:.0} durable appends/s",
        options.appenders,
        committed as f64 / elapsed
    )?;
    Ok(())
}

pub(crate) fn sample_record(
    account: &str,
    sequence: u16,
    raw: Vec<u8>,
) -> vakt_store::SignalRecord {
    let data = format!("#{account}|Nri1/BA{:02}", sequence % 64);
    vakt_store::SignalRecord {
        received_at: vakt_core::Clock::now(&vakt_core::SystemClock),
        transport: Transport::Tcp,
        listener: "main".into(),
        peer: "127.0.0.1:40000".into(),
        raw,
        verdict: vakt_store::Verdict::Accepted,
        detail: None,
        token: Some("SIA-DCS".into()),
        encrypted: false,
        sequence: Some(format!("{sequence:04}")),
        receiver: None,
        prefix: Some("0".into()),
        account: Some(account.to_owned()),
        transmitter_id: Some(1),
        message_time: None,
        events: vakt_dc09::payload::parse_sia(data.as_bytes()).events,
        duplicate_key: Some(format!("{account}|0||{sequence:04}|SIA-DCS|{data}|")),
        data: Some(data.into_bytes()),
        xdata: serde_json::Value::Array(Vec::new()),
        answer: "ack".into(),
        response: b"\n04210012\"ACK\"0007L0#1234[]\r".to_vec(),
    }
}
