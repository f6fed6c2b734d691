//! `vakt bench compare`: Vakt's receiver side by side with a raw baseline and another DC-09
//! receiver, under the same load in one run, as ratios.
//!
//! The baseline reads up to each frame's CR and writes a fixed ACK: no decoding, no checks,
//! no journal. It is the ceiling the sockets and the load generator allow on this machine,
//! so Vakt's share of it says what decoding, checking and a durable journal cost. The other
//! receiver is any program given by `--other` (the script `scripts/bench-compare.sh` runs
//! pysiaalarm from PyPI); it answers the same frames for the same accounts.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::receiver::{
    Mode, VaktThread, account, bench_settings, percentile, process_cpu_seconds, run_scenario,
    server_cpu_seconds, threads_cpu_seconds,
};

/// The baseline runtime's thread names, to count its CPU time apart.
const BASELINE_THREAD: &str = "raw-baseline";
/// The fixed answer the baseline writes for every frame.
const FIXED_ACK: &[u8] = b"\n8E2A0013\"ACK\"0001L0#B00000[]\r";
/// How long the other receiver may take to start listening.
const OTHER_START_S: u64 = 30;
/// Bytes the baseline reads at once.
const BASELINE_READ_BYTES: usize = 4096;

/// Options of `vakt bench compare`.
#[derive(Clone, Debug, clap::Args)]
pub struct CompareBench {
    /// Seconds each receiver runs each load.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Kept-open connection counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,100")]
    pub connections: Vec<usize>,
    /// Another DC-09 receiver to run: a shell command in which `{port}` is replaced by the
    /// TCP port it must listen on (127.0.0.1) and `{accounts}` by the accounts to accept,
    /// comma-separated.
    #[arg(long)]
    pub other: Option<String>,
    /// The other receiver's name in the table.
    #[arg(long, default_value = "other receiver")]
    pub other_name: String,
    /// Also write the results table (Markdown) to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Reads a receiver's CPU seconds so far.
type CpuSeconds = Box<dyn Fn() -> f64>;

struct Row {
    receiver: String,
    connections: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    failed: u64,
    cpu_us_per_signal: f64,
}

/// One connection of the baseline: answers each CR-terminated frame with [`FIXED_ACK`].
async fn baseline_connection(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buffer = vec![0_u8; BASELINE_READ_BYTES];
    loop {
        let Ok(count) = stream.read(&mut buffer).await else {
            return;
        };
        if count == 0 {
            return;
        }
        let frames = buffer
            .get(..count)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\r')
            .count();
        for _ in 0..frames {
            if stream.write_all(FIXED_ACK).await.is_err() {
                return;
            }
        }
    }
}

/// Starts the baseline on a runtime of its own with as many threads as Vakt's.
fn start_baseline() -> anyhow::Result<(SocketAddr, tokio::runtime::Runtime)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(BASELINE_THREAD)
        .build()?;
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    runtime.spawn(async move {
        let Ok(listener) = TcpListener::from_std(listener) else {
            return;
        };
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(baseline_connection(stream));
        }
    });
    Ok((address, runtime))
}

/// Starts the other receiver and waits until it accepts connections.
async fn start_other(
    command: &str,
    accounts: &str,
) -> anyhow::Result<(SocketAddr, tokio::process::Child)> {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port();
    let line = command
        .replace("{port}", &port.to_string())
        .replace("{accounts}", accounts);
    let child = tokio::process::Command::new("sh")
        .args(["-c", &format!("exec {line}")])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {line}"))?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(OTHER_START_S);
    while TcpStream::connect(address).await.is_err() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the other receiver did not listen on {address} within {OTHER_START_S} s: {line}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((address, child))
}

/// Runs each load against each receiver and prints the table.
///
/// # Errors
/// When a receiver cannot be started.
pub async fn compare(options: CompareBench) -> anyhow::Result<()> {
    let most = options.connections.iter().copied().max().unwrap_or(1);
    let folder = tempfile::tempdir().context("a temporary folder for the benchmark's database")?;
    let vakt = VaktThread::start(bench_settings(folder.path()), most)?;
    let (baseline, baseline_runtime) = start_baseline()?;
    let accounts: Vec<String> = (0..most).map(|i| account(i, false)).collect();
    let other = match &options.other {
        Some(command) => Some(start_other(command, &accounts.join(",")).await?),
        None => None,
    };
    let mut rows = Vec::new();
    for &connections in &options.connections {
        let mut targets: Vec<(String, SocketAddr, CpuSeconds)> = vec![
            (
                "raw baseline (no decoding, no journal)".to_owned(),
                baseline,
                Box::new(|| threads_cpu_seconds(&[BASELINE_THREAD])),
            ),
            (
                "Vakt (decoded, checked, SQLite journal, synchronous=FULL)".to_owned(),
                vakt.address,
                Box::new(server_cpu_seconds),
            ),
        ];
        if let Some((address, child)) = &other {
            let pid = child.id().unwrap_or(0);
            targets.push((
                options.other_name.clone(),
                *address,
                Box::new(move || process_cpu_seconds(pid)),
            ));
        }
        for (receiver, address, cpu) in targets {
            let before = cpu();
            let (tally, elapsed) = run_scenario(
                address,
                Mode::KeptOpen { connections },
                false,
                options.seconds,
            )
            .await;
            let used = cpu() - before;
            let row = Row {
                receiver,
                connections,
                per_second: tally.acked as f64 / elapsed,
                p50_ms: percentile(&tally.latencies_us, 0.50),
                p99_ms: percentile(&tally.latencies_us, 0.99),
                failed: tally.refused,
                cpu_us_per_signal: used * 1e6 / (tally.acked.max(1) as f64),
            };
            eprintln!(
                "{:<60} {:>5} conn {:>9.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>6.1} us/signal",
                row.receiver,
                row.connections,
                row.per_second,
                row.p50_ms,
                row.p99_ms,
                row.cpu_us_per_signal
            );
            rows.push(row);
        }
    }
    if let Some((_, mut child)) = other {
        let _ = child.kill().await;
    }
    vakt.stop()?;
    baseline_runtime.shutdown_background();
    let table = markdown(&rows, options.seconds);
    {
        use std::io::Write;
        writeln!(std::io::stdout().lock(), "{table}")?;
    }
    if let Some(path) = &options.output {
        std::fs::write(path, &table).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn markdown(rows: &[Row], seconds: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| connections | receiver | ACKs/s | share of baseline | p50 | p99 | failed | receiver CPU per signal |"
    );
    let _ = writeln!(
        out,
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let baseline = rows
            .iter()
            .find(|r| r.connections == row.connections)
            .map_or(1.0, |r| r.per_second.max(f64::MIN_POSITIVE));
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2} | {:.2} ms | {:.2} ms | {} | {:.1} µs |",
            row.connections,
            row.receiver,
            row.per_second,
            row.per_second / baseline,
            row.p50_ms,
            row.p99_ms,
            row.failed,
            row.cpu_us_per_signal
        );
    }
    let _ = writeln!(
        out,
        "\n{seconds} s per row; plain SIA-DCS frames with timestamps; each connection sends, waits \
         for the answer and sends again; the load generator shares the machine's two cores."
    );
    out
}
