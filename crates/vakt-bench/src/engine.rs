//! `vakt bench engine`: how fast the engine turns journalled alarms into incidents, and how
//! far it falls behind the receiver at the receiver's full rate.
//!
//! Not a test: it prints figures. Two scenarios, every signal a burglary alarm:
//!
//! - **backlog**: alarms for many sites are journalled with no engine running; then the engine
//!   starts and the time until its cursor reaches the journal's head gives its rate alone;
//! - **receiver at full rate**: Vakt runs whole (receiver, journal, engine) while kept-open
//!   connections send alarms as fast as they are acknowledged; every 250 ms the lag (journal
//!   head minus engine cursor, in signals, and the age of the oldest unhandled signal) is
//!   sampled, and after the load stops, the time the engine takes to catch up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vakt_store::{Journal, Registry, Shard};

use crate::receiver::{account, frame, sample_record};
use vakt_store::EngineState;

/// Options of `vakt bench engine`.
#[derive(Clone, Debug, clap::Args)]
pub struct EngineBench {
    /// Sites (each with one transmitter) the alarms come from.
    #[arg(long, default_value_t = 2_000)]
    pub sites: usize,
    /// Alarms journalled before the engine starts, in the backlog scenario.
    #[arg(long, default_value_t = 50_000)]
    pub backlog: usize,
    /// Seconds the receiver is loaded in the full-rate scenario.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Kept-open connections sending in the full-rate scenario.
    #[arg(long, default_value_t = 100)]
    pub connections: usize,
}

/// Runs both scenarios and prints their figures.
///
/// # Errors
/// When a database cannot be opened or the server cannot start.
pub async fn engine(options: EngineBench) -> anyhow::Result<()> {
    let backlog = backlog(&options).await?;
    let full = full_rate(&options).await?;
    let mut out = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(out, "| scenario | figure |");
    let _ = writeln!(out, "| --- | ---: |");
    let _ = writeln!(
        out,
        "| backlog of {} alarms from {} sites: engine alone | {:.0} signals/s |",
        options.backlog, options.sites, backlog
    );
    let _ = writeln!(
        out,
        "| receiver at full rate, {} connections, {} s: durable ACKs | {:.0} signals/s |",
        options.connections, options.seconds, full.received_per_second
    );
    let _ = writeln!(
        out,
        "| the engine meanwhile | {:.0} signals/s |",
        full.handled_per_second
    );
    let _ = writeln!(
        out,
        "| largest lag during the load | {} signals, {:.2} s |",
        full.lag_signals_max, full.lag_seconds_max
    );
    let _ = writeln!(
        out,
        "| lag when the load stopped; time to catch up | {} signals; {:.2} s |",
        full.lag_at_stop, full.catch_up_s
    );
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{out}")?;
    Ok(())
}

fn registered(sites: usize) -> anyhow::Result<Vec<vakt_store::NewTransmitter>> {
    (0..sites)
        .map(|index| {
            vakt_service::TransmitterInput {
                account: account(index, false),
                prefix: Some("0".into()),
                site_name: format!("Benchmark site {index}"),
                ..vakt_service::TransmitterInput::default()
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("{e:?}"))
        })
        .collect()
}

/// The engine alone, through a backlog: signals per second.
async fn backlog(options: &EngineBench) -> anyhow::Result<f64> {
    let folder = tempfile::tempdir().context("a temporary folder")?;
    let clock: Arc<dyn vakt_core::Clock> = Arc::new(vakt_core::SystemClock);
    let store = vakt_store_sqlite::open(
        vakt_store_sqlite::SqliteOptions::new(folder.path().join("vakt.db")),
        clock.clone(),
    )
    .await?;
    store
        .import_transmitters(registered(options.sites.max(1))?)
        .await?;
    let ids: std::collections::HashMap<String, i64> = store
        .transmitters()
        .await?
        .into_iter()
        .map(|t| (t.spec.account, t.id))
        .collect();
    let mut pad = 3_u8;
    let mut head = 0;
    let mut commits = Vec::with_capacity(options.backlog);
    for n in 0..options.backlog {
        let index = n % options.sites.max(1);
        let account = account(index, false);
        let sequence = u16::try_from(n / options.sites.max(1) % 9_999 + 1).unwrap_or(1);
        let mut record = sample_record(
            &account,
            sequence,
            frame(&account, sequence, None, &mut pad),
        );
        record.transmitter_id = ids.get(&account).copied();
        commits.push(store.enqueue(record).await?);
        if commits.len() >= 5_000 {
            for commit in commits.drain(..) {
                head = commit.await?.id;
            }
        }
    }
    for commit in commits {
        head = commit.await?.id;
    }
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let tasks = vakt_engine::run_all(
        store.clone(),
        clock,
        vakt_engine::EngineConfig::default(),
        vakt_engine::Changes::default(),
        1,
        shutdown.clone(),
    )
    .await?;
    while store.engine_cursor(Shard::WHOLE).await? < head {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    shutdown.cancel();
    for task in tasks {
        let _ = task.await;
    }
    store.close().await;
    let rate = options.backlog as f64 / elapsed;
    eprintln!(
        "backlog: {} alarms handled in {elapsed:.2} s: {rate:.0} signals/s",
        options.backlog
    );
    Ok(rate)
}

#[derive(Debug, Default)]
struct FullRate {
    received_per_second: f64,
    handled_per_second: f64,
    lag_signals_max: i64,
    lag_seconds_max: f64,
    lag_at_stop: i64,
    catch_up_s: f64,
}

/// The whole server at the receiver's full rate, its engine's lag sampled meanwhile.
async fn full_rate(options: &EngineBench) -> anyhow::Result<FullRate> {
    let folder = tempfile::tempdir().context("a temporary folder")?;
    let settings = crate::receiver::bench_settings(folder.path());
    let server = crate::receiver::VaktThread::start(settings.clone(), options.connections.max(1))?;
    let (store, _) = vakt::open_store(&settings, Arc::new(vakt_core::SystemClock)).await?;
    let start_head = head(&store).await?;
    let start_cursor = store.engine_cursor(Shard::WHOLE).await?;
    let sampling = CancellationToken::new();
    let sampler = {
        let (store, sampling) = (store.clone(), sampling.clone());
        tokio::spawn(async move {
            let mut most = (0_i64, 0.0_f64);
            while !sampling.is_cancelled() {
                if let Ok((signals, seconds)) = lag(&store).await {
                    most = (most.0.max(signals), most.1.max(seconds));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            most
        })
    };
    let started = Instant::now();
    let (tally, elapsed) = crate::receiver::run_scenario(
        server.address,
        crate::receiver::Mode::KeptOpen {
            connections: options.connections.max(1),
        },
        false,
        options.seconds,
    )
    .await;
    let stop_head = head(&store).await?;
    let stop_cursor = store.engine_cursor(Shard::WHOLE).await?;
    let handled_during = stop_cursor - start_cursor;
    let lag_at_stop = stop_head - stop_cursor;
    let stopped = Instant::now();
    while store.engine_cursor(Shard::WHOLE).await? < stop_head {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let catch_up_s = stopped.elapsed().as_secs_f64();
    sampling.cancel();
    let (lag_signals_max, lag_seconds_max) = sampler.await.unwrap_or_default();
    let _ = (start_head, started);
    store.close().await;
    server.stop()?;
    let figures = FullRate {
        received_per_second: tally.acked as f64 / elapsed,
        handled_per_second: handled_during as f64 / elapsed,
        lag_signals_max,
        lag_seconds_max,
        lag_at_stop,
        catch_up_s,
    };
    eprintln!("full rate: {figures:?}");
    Ok(figures)
}

/// The journal's newest id.
async fn head(store: &vakt_store_sql::SqlStore) -> anyhow::Result<i64> {
    let newest = store
        .signals(&vakt_store::SignalFilter {
            limit: 1,
            ..vakt_store::SignalFilter::default()
        })
        .await?;
    Ok(newest.first().map_or(0, |s| s.id))
}

/// Journal head minus engine cursor, and how long ago the oldest unhandled signal arrived.
async fn lag(store: &vakt_store_sql::SqlStore) -> anyhow::Result<(i64, f64)> {
    let cursor = store.engine_cursor(Shard::WHOLE).await?;
    let head = head(store).await?;
    let next = store
        .signals(&vakt_store::SignalFilter {
            after_id: Some(cursor),
            limit: 1,
            ..vakt_store::SignalFilter::default()
        })
        .await?;
    let now = vakt_core::Clock::now(&vakt_core::SystemClock);
    let seconds = next
        .first()
        .map_or(0.0, |s| (now.0 - s.record.received_at.0) as f64 / 1e6);
    Ok((head - cursor, seconds.max(0.0)))
}
