//! `vakt bench supervision`: what supervising a million transmitters costs, in memory, and
//! how late a missed heartbeat is raised.
//!
//! It drives the engine's own supervision core (`vakt_core::supervision::Deadlines`, the
//! one set of deadlines the engine keeps) in real time, the way the engine does: every poll
//! it records the heartbeats that arrived and expires what is due, at most
//! `MISSES_PER_PASS_MAX` per pass. Each transmitter reports every `interval` seconds at its
//! own phase; a share of them fall silent. Lateness is the time from a deadline to the end of
//! the pass that raised it. The store writes that follow a miss (the incident) are the same
//! path as an alarm's, measured by the signal-to-screen benchmark.

use std::time::{Duration, Instant};

use vakt_core::UnixMicros;
use vakt_core::supervision::{Deadlines, Supervision};
use vakt_engine::MISSES_PER_PASS_MAX;

use crate::receiver::percentile;

/// Options of `vakt bench supervision`.
#[derive(Clone, Debug, clap::Args)]
pub struct SupervisionBench {
    /// Transmitters supervised.
    #[arg(long, default_value_t = 1_000_000)]
    pub transmitters: usize,
    /// Seconds between a transmitter's heartbeats.
    #[arg(long, default_value_t = 60)]
    pub interval_s: u32,
    /// Seconds of grace after a missed heartbeat before it is raised.
    #[arg(long, default_value_t = 10)]
    pub grace_s: u32,
    /// Transmitters in a thousand that fall silent.
    #[arg(long, default_value_t = 10)]
    pub silent_per_mille: usize,
    /// Milliseconds between passes (the engine's `poll_ms`).
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Seconds to run.
    #[arg(long, default_value_t = 40)]
    pub seconds: u64,
}

/// Resident memory of this process in bytes, from `/proc/self/statm`.
fn resident_bytes() -> u64 {
    const PAGE_BYTES: u64 = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0)
        * PAGE_BYTES
}

fn wall_now() -> UnixMicros {
    vakt_core::Clock::now(&vakt_core::SystemClock)
}

/// Runs the benchmark and prints its figures.
///
/// # Errors
/// Never in practice; the signature matches the other benchmarks.
#[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
pub fn supervision(options: &SupervisionBench) -> anyhow::Result<()> {
    let count = options.transmitters.max(1);
    let interval_us = i64::from(options.interval_s.max(1)) * 1_000_000;
    let allowance_us = interval_us + i64::from(options.grace_s) * 1_000_000;
    // Transmitter `id` reports at phase `id * interval / count` within each interval.
    let phase = |id: usize| (id as i64) * interval_us / count as i64;
    let silent = |id: usize| id % 1000 < options.silent_per_mille;

    let before = resident_bytes();
    let loading = Instant::now();
    let start = wall_now();
    let mut deadlines: Deadlines<i64> = Deadlines::new();
    for id in 0..count {
        // Each was last heard at its phase within the interval before the start.
        let last = start.add_micros(phase(id) - interval_us);
        deadlines.heard(id as i64, last, allowance_us);
    }
    let load_s = loading.elapsed().as_secs_f64();
    let memory = resident_bytes().saturating_sub(before);

    let mut lateness_us = Vec::new();
    let mut pass_us = Vec::new();
    let mut heartbeats = 0_u64;
    let mut covered_us = 0_i64;
    let until = Instant::now() + Duration::from_secs(options.seconds);
    let poll = Duration::from_millis(options.poll_ms.max(1));
    let mut next = Instant::now() + poll;
    while Instant::now() < until {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += poll;
        let began = Instant::now();
        let now = wall_now();
        // The heartbeats whose time came since the last pass: transmitters whose phase lies
        // in (covered, elapsed] modulo the interval.
        let elapsed_us = now.0 - start.0;
        let first = (covered_us * count as i64).div_euclid(interval_us) + 1;
        let last = (elapsed_us * count as i64).div_euclid(interval_us);
        for slot in first..=last {
            let id = slot.rem_euclid(count as i64) as usize;
            if !silent(id) {
                let at = start.add_micros(slot * interval_us / count as i64);
                deadlines.heard(id as i64, at, allowance_us);
                heartbeats += 1;
            }
        }
        covered_us = elapsed_us;
        let missed = deadlines.expire(now, MISSES_PER_PASS_MAX);
        let done = wall_now();
        for report in missed {
            if let Supervision::Missed { deadline, .. } = report {
                lateness_us.push(u32::try_from(done.0 - deadline.0).unwrap_or(u32::MAX));
            }
        }
        pass_us.push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    lateness_us.sort_unstable();
    pass_us.sort_unstable();
    let seconds = options.seconds.max(1) as f64;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "| transmitters | memory (resident growth) | per transmitter | loaded in | heartbeats/s | misses raised | lateness p50 | p99 | max | pass p50 | p99 | max |"
    )?;
    writeln!(
        out,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )?;
    writeln!(
        out,
        "| {} | {:.0} MiB | {:.0} B | {:.2} s | {:.0} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        count,
        memory as f64 / (1024.0 * 1024.0),
        memory as f64 / count as f64,
        load_s,
        heartbeats as f64 / seconds,
        lateness_us.len(),
        percentile(&lateness_us, 0.50),
        percentile(&lateness_us, 0.99),
        percentile(&lateness_us, 1.0),
        percentile(&pass_us, 0.50),
        percentile(&pass_us, 0.99),
        percentile(&pass_us, 1.0),
    )?;
    writeln!(
        out,
        "\n{} s; every {} s a heartbeat from each transmitter, {} in 1,000 silent, {} s grace, a pass every {} ms.",
        options.seconds,
        options.interval_s,
        options.silent_per_mille,
        options.grace_s,
        options.poll_ms
    )?;
    Ok(())
}
