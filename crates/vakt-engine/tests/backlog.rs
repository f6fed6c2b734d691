//! A seeded simulation of the engine working through hours of journal backlog.
//!
//! Transmitters report for three simulated hours, some falling silent now and then; every
//! signal is journalled with its receive time while no engine runs. Then the engine starts,
//! with the wall clock at the end of those hours, and works through the backlog in small
//! batches. Supervision must judge silence by when signals were received, so it must raise
//! exactly the silences that really happened (each once, at its deadline) and nothing for
//! transmitters that kept reporting, however far behind the engine started.
//!
//! A failure names its seed; `VAKT_SIM_SEED=N cargo test -p vakt-engine --test backlog`
//! replays it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng};
use tokio_util::sync::CancellationToken;
use vakt_core::time::FixedClock;
use vakt_core::{Category, Condition, UnixMicros};
use vakt_dc09::{Dialect, Window};
use vakt_engine::{Changes, EngineConfig, Rules};
use vakt_store::{
    EngineState, Incidents, Journal, NewTransmitter, Registry, Shard, SignalRecord, Site,
    TimestampPolicy, Transport, Verdict,
};

const SECOND: i64 = 1_000_000;
const START: i64 = 1_790_000_000 * SECOND;
const HOURS: i64 = 3;
const TRANSMITTERS: usize = 24;
const INTERVAL_S: u32 = 60;
const GRACE_S: u32 = 60;
/// Interval plus grace: silence longer than this is a fault.
const ALLOWANCE: i64 = (INTERVAL_S as i64 + GRACE_S as i64) * SECOND;

/// When each transmitter was heard, in receive time. Gaps are either clearly shorter than
/// the allowance (late but in time) or clearly longer (a real silence), never on the edge.
fn schedule(seed: u64) -> Vec<Vec<i64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let end = START + HOURS * 3_600 * SECOND;
    (0..TRANSMITTERS)
        .map(|_| {
            let mut heard = Vec::new();
            let mut at = START + rng.random_range(0..60 * SECOND);
            while at < end {
                heard.push(at);
                let roll = rng.random_range(0..100);
                at += if roll < 4 {
                    // A real silence: from just past the allowance to half an hour.
                    rng.random_range(ALLOWANCE + 10 * SECOND..1_800 * SECOND)
                } else if roll < 10 {
                    // Late, but not late enough to be a fault.
                    rng.random_range(ALLOWANCE - 40 * SECOND..ALLOWANCE - 10 * SECOND)
                } else {
                    rng.random_range(50 * SECOND..70 * SECOND)
                };
            }
            heard
        })
        .collect()
}

/// The silences that really happened, judged at `judged`: each gap longer than the
/// allowance, and the last silence if it had lasted longer than the allowance by then.
fn silences(heard: &[i64], judged: i64) -> (usize, usize) {
    let ended = heard.windows(2).filter(|w| w[1] - w[0] > ALLOWANCE).count();
    let still = heard.last().is_some_and(|&last| judged - last > ALLOWANCE);
    (ended + usize::from(still), ended)
}

fn transmitter(n: usize) -> NewTransmitter {
    NewTransmitter {
        account: format!("{:04}", 1000 + n),
        receiver: None,
        prefix: None,
        key: None,
        supervision_interval_s: INTERVAL_S,
        timestamp_policy: TimestampPolicy::All,
        window: Window {
            behind_s: 30,
            ahead_s: 15,
        },
        clock_offset_s: 0,
        dialect: Dialect::default(),
        site: Site {
            name: format!("Objekt {n}"),
            address: "Storgatan 1, Umeå".into(),
        },
    }
}

fn record(at: i64, account: &str, transmitter: i64) -> SignalRecord {
    SignalRecord {
        received_at: UnixMicros(at),
        transport: Transport::Tcp,
        listener: "main".into(),
        peer: "127.0.0.1:5000".into(),
        raw: b"\nNULL\r".to_vec(),
        verdict: Verdict::Accepted,
        detail: None,
        token: Some("NULL".into()),
        encrypted: false,
        sequence: Some("0001".into()),
        receiver: None,
        prefix: None,
        account: Some(account.into()),
        transmitter_id: Some(transmitter),
        message_time: None,
        data: None,
        xdata: serde_json::json!([]),
        events: Vec::new(),
        answer: "ack".into(),
        response: b"\nACK\r".to_vec(),
        duplicate_key: None,
    }
}

/// Journals every planned signal in receive order, with no engine running; returns the
/// last journal id.
async fn journal(
    store: &impl Journal,
    plan: &[Vec<i64>],
    ids: &HashMap<String, i64>,
    seed: u64,
) -> i64 {
    let mut all: Vec<(i64, usize)> = plan
        .iter()
        .enumerate()
        .flat_map(|(n, heard)| heard.iter().map(move |&at| (at, n)))
        .collect();
    all.sort_unstable();
    let mut commits = Vec::with_capacity(all.len());
    for &(at, n) in &all {
        let account = transmitter(n).account;
        let id = ids[&account];
        commits.push(
            store
                .enqueue(record(at, &account, id))
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: {e}")),
        );
    }
    let mut last = 0;
    for commit in commits {
        last = commit
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"))
            .id;
    }
    last
}

async fn replay(seed: u64) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let end = START + HOURS * 3_600 * SECOND;
    // The wall clock: the engine starts as the backlog's last signal arrives.
    let now = end + SECOND;
    let clock = Arc::new(FixedClock(UnixMicros(now)));
    let store = vakt_store_sqlite::open(
        vakt_store_sqlite::SqliteOptions::new(dir.path().join("vakt.db")),
        clock.clone(),
    )
    .await
    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    store
        .import_transmitters((0..TRANSMITTERS).map(transmitter).collect())
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let registered = store.transmitters().await.unwrap_or_default();
    let ids: HashMap<String, i64> = registered
        .iter()
        .map(|t| (t.spec.account.clone(), t.id))
        .collect();

    let plan = schedule(seed);
    let last = journal(&store, &plan, &ids, seed).await;

    let config = EngineConfig {
        rules: Rules {
            supervision_grace_s: GRACE_S,
            ..Rules::default()
        },
        poll_ms: 10,
        batch_signals_max: 40,
        ..EngineConfig::default()
    };
    let shutdown = CancellationToken::new();
    let changes = Changes::default();
    let tasks = vakt_engine::run_all(
        store.clone(),
        clock.clone(),
        config,
        changes.clone(),
        1,
        shutdown.clone(),
    )
    .await
    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut most_behind = 0;
    while store.engine_cursor(Shard::WHOLE).await.unwrap_or(0) < last {
        assert!(
            std::time::Instant::now() < deadline,
            "seed {seed}: the engine did not work through the backlog"
        );
        most_behind = most_behind.max(changes.lag().signals);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A few more passes, so that silences lasting until the end are judged too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(most_behind > 0, "seed {seed}: the lag was never reported");
    assert_eq!(
        changes.lag(),
        vakt_engine::Lag::default(),
        "seed {seed}: caught up, no lag"
    );
    shutdown.cancel();
    for task in tasks {
        let _ = task.await;
    }

    // What was raised, per transmitter: incidents about its silence, and returns noted.
    let mut raised: HashMap<i64, (usize, usize)> = HashMap::new();
    for item in store.queue().await.unwrap_or_default() {
        let incident = store
            .incident(item.id)
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let Some(of) = incident.supervision_of else {
            panic!("seed {seed}: an incident that is not about silence: {item:?}");
        };
        let entry = raised.entry(of).or_default();
        entry.0 += 1;
        entry.1 += incident
            .events
            .iter()
            .filter(|e| e.category == Category::Technical && e.condition == Condition::Restore)
            .count();
    }
    let judged = now - i64::try_from(config.supervision_settle_ms).unwrap_or(0) * 1_000;
    let mut expected_total = 0;
    for (n, heard) in plan.iter().enumerate() {
        let id = ids[&transmitter(n).account];
        let (lost, restored) = silences(heard, judged);
        expected_total += lost;
        assert_eq!(
            raised.get(&id).copied().unwrap_or_default(),
            (lost, restored),
            "seed {seed}: transmitter {n}: (silences raised, returns noted) against what happened"
        );
    }
    assert!(
        expected_total > 0,
        "seed {seed}: the plan should hold real silences"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_hours_raises_each_real_silence_once_and_nothing_else() {
    let seeds: Vec<u64> = match std::env::var("VAKT_SIM_SEED") {
        Ok(seed) => vec![
            seed.parse()
                .unwrap_or_else(|e| panic!("VAKT_SIM_SEED: {e}")),
        ],
        Err(_) => vec![1, 2, 3],
    };
    for seed in seeds {
        eprintln!("-- backlog simulation, seed {seed}");
        replay(seed).await;
    }
}
