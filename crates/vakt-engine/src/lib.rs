//! The alarm pipeline: every journalled signal becomes events on its site's incidents.
//!
//! The engine reads the journal forward from its cursor, decides what each event means with
//! the pure [`rules`], and hands the store one batch of changes together with the new cursor,
//! committed in one transaction: after a crash it resumes exactly after the last committed
//! batch, so no signal is handled twice or skipped. It also owns the supervision deadlines
//! (one ordered set for every transmitter, driven by this one task) and ends test modes that
//! have run out. Every change to an incident is announced on [`Changes`] for the live queue.

pub mod rules;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use vakt_core::supervision::{Deadlines, Supervision, judged_until};
use vakt_core::{Category, Clock, Condition, UnixMicros};
use vakt_store::{
    Centre, EngineChange, EventNote, Journal, Registry, Shard, ShardLease, SignalFilter,
    StoreError, Verdict,
};

pub use rules::{RecentAlarms, Rules, SiteView};

/// One hour, in microseconds: the runaway window.
pub const RUNAWAY_WINDOW_US: i64 = 3_600 * 1_000_000;
/// Points whose recent alarms the engine remembers before it forgets those quiet for an hour.
pub const RECENT_POINTS_MAX: usize = 100_000;
/// Most supervision misses raised in one pass.
pub const MISSES_PER_PASS_MAX: usize = 1_000;

/// How the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// The alarm rules.
    pub rules: Rules,
    /// How often the journal is read for new signals, in milliseconds.
    pub poll_ms: u64,
    /// Most journal records handled in one batch.
    pub batch_signals_max: u32,
    /// How long a received signal may take to be committed and readable, in milliseconds:
    /// silence is judged only up to this long before the engine's last complete read.
    pub supervision_settle_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            rules: Rules::default(),
            poll_ms: 100,
            batch_signals_max: 500,
            supervision_settle_ms: 2_000,
        }
    }
}

/// Announces changed incidents (by id) to whoever shows them live, and how far the engines
/// are behind the journal.
#[derive(Clone, Debug)]
pub struct Changes {
    sender: broadcast::Sender<i64>,
    lags: Arc<std::sync::Mutex<HashMap<u32, Lag>>>,
}

impl Default for Changes {
    fn default() -> Changes {
        Changes {
            sender: broadcast::channel(1024).0,
            lags: Arc::default(),
        }
    }
}

/// How far an engine is behind the journal: new alarms wait this long to reach the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lag {
    /// Journal records after the engine's cursor (at most; across shards an upper bound).
    pub signals: i64,
    /// How long ago the oldest signal not yet handled was received, in seconds.
    pub seconds: f64,
}

/// A lag this long warns the lead: alarms take this long to reach the queue.
pub const LAG_WARNING_S: f64 = 5.0;

impl Lag {
    /// Whether the lead should be warned.
    #[must_use]
    pub fn is_warning(self) -> bool {
        self.seconds >= LAG_WARNING_S
    }
}

impl Changes {
    /// Tells listeners that an incident changed.
    pub fn announce(&self, incident_id: i64) {
        let _ = self.sender.send(incident_id);
    }

    /// Listens for changes.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.sender.subscribe()
    }

    /// Records a shard engine's lag, or forgets it when the engine stops (`None`).
    pub fn report_lag(&self, shard: u32, lag: Option<Lag>) {
        let mut lags = self
            .lags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match lag {
            Some(lag) => {
                metrics::gauge!("vakt_engine_lag_signals", "shard" => shard.to_string())
                    .set(lag.signals as f64);
                metrics::gauge!("vakt_engine_lag_seconds", "shard" => shard.to_string())
                    .set(lag.seconds);
                lags.insert(shard, lag);
            }
            None => {
                lags.remove(&shard);
            }
        }
    }

    /// The largest lag of this node's engines.
    #[must_use]
    pub fn lag(&self) -> Lag {
        let lags = self
            .lags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        lags.values().fold(Lag::default(), |most, lag| Lag {
            signals: most.signals.max(lag.signals),
            seconds: most.seconds.max(lag.seconds),
        })
    }
}

/// An instant as the customer reads it: `HH:MM` in Europe/Stockholm.
#[must_use]
pub fn local_time(at: UnixMicros) -> String {
    vakt_core::calendar::clock(at)
}

struct Engine<S> {
    store: S,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    changes: Changes,
    lease: ShardLease,
    revision: Option<i64>,
    /// Transmitter → (site, supervision allowance in µs).
    transmitters: HashMap<i64, (i64, i64)>,
    sites: HashMap<i64, Arc<SiteView>>,
    /// Each point's recent alarms, for the runaway rule.
    recent: HashMap<(i64, u32), RecentAlarms>,
    /// Whether `recent` has been read from the store.
    recent_loaded: bool,
    deadlines: Deadlines<i64>,
    /// The instant up to which silence has been judged ([`judged_until`]): never the wall
    /// clock while the engine is behind the journal.
    judged: Option<UnixMicros>,
    cursor: i64,
}

impl<S: Journal + Registry + Centre + Clone> Engine<S> {
    async fn reload(&mut self, now: UnixMicros) -> Result<(), StoreError> {
        let revision = self.store.registry_revision().await?;
        if self.revision == Some(revision) {
            return Ok(());
        }
        let grace_us = i64::from(self.config.rules.supervision_grace_s) * 1_000_000;
        let transmitters = self.store.transmitters().await?;
        let mut current = HashMap::with_capacity(transmitters.len());
        for t in transmitters.iter().filter(|t| self.lease.shard.holds(t.id)) {
            let allowance = i64::from(t.spec.supervision_interval_s) * 1_000_000 + grace_us;
            current.insert(t.id, (t.site_id, allowance));
            if !self.transmitters.contains_key(&t.id) && self.revision.is_some() {
                // Registered while running: supervise from now.
                self.deadlines.heard(t.id, now, allowance);
            }
        }
        for gone in self
            .transmitters
            .keys()
            .filter(|id| !current.contains_key(id))
        {
            self.deadlines.forget(*gone);
        }
        let first = self.revision.is_none();
        self.transmitters = current;
        self.sites.clear();
        self.revision = Some(revision);
        if first {
            self.start_supervision(now).await?;
        }
        Ok(())
    }

    /// Restores the deadlines from what the store remembers. Transmitters already declared
    /// silent are marked missed without being raised again (so their return is noticed);
    /// the rest count from when they were last heard, and whatever the journal holds since
    /// is read before their silence is judged, so a backlog raises nothing false.
    async fn start_supervision(&mut self, now: UnixMicros) -> Result<(), StoreError> {
        let states: HashMap<i64, vakt_store::LinkState> = self
            .store
            .link_states()
            .await?
            .into_iter()
            .map(|s| (s.transmitter_id, s))
            .collect();
        for (&id, &(_, allowance)) in &self.transmitters {
            match states.get(&id) {
                Some(state) if state.missing => {
                    self.deadlines
                        .already_missing(id, state.last_heard.add_micros(allowance));
                }
                Some(state) if state.last_heard.0 > 0 => {
                    self.deadlines.heard(id, state.last_heard, allowance);
                }
                _ => {
                    self.deadlines.heard(id, now, allowance);
                }
            }
        }
        Ok(())
    }

    /// Moves the judged instant forward to what was `seen` (a signal's receive time as it
    /// is handled, or the start of a read that found the journal read to its end), and
    /// raises every silence that it proves, in receive order.
    fn judge(&mut self, seen: UnixMicros, max: usize, changes: &mut Vec<EngineChange>) {
        let settle_us = i64::try_from(self.config.supervision_settle_ms)
            .unwrap_or(i64::MAX / 1_000)
            .saturating_mul(1_000);
        let judged = judged_until(self.judged, seen, settle_us);
        self.judged = Some(judged);
        for report in self.deadlines.expire(judged, max) {
            let Supervision::Missed { id, deadline } = report else {
                continue;
            };
            let Some(&(site_id, _)) = self.transmitters.get(&id) else {
                continue;
            };
            changes.push(EngineChange::LinkLost {
                transmitter_id: id,
                site_id,
                event: EventNote {
                    signal_id: None,
                    at: deadline,
                    category: Category::Technical,
                    condition: Condition::New,
                    code: "link".into(),
                    zone: None,
                    user: None,
                    text: String::new(),
                },
                title: String::new(),
            });
        }
    }

    /// How many alarms a point sent in the runaway window before `at`, recording this one,
    /// from memory: what the store remembers is read once, when the engine first needs it
    /// (from an hour before the first signal it handles), and this engine writes every alarm
    /// of its transmitters' sites after that.
    async fn point_alarms_before(
        &mut self,
        site_id: i64,
        zone: u32,
        at: UnixMicros,
    ) -> Result<u32, StoreError> {
        let limit = self.config.rules.runaway_alarms_per_hour;
        if !self.recent_loaded {
            let since = at.add_micros(-RUNAWAY_WINDOW_US);
            let mut recent: HashMap<(i64, u32), RecentAlarms> = HashMap::new();
            for (site, point, when) in self.store.point_alarms_since(since).await? {
                recent
                    .entry((site, point))
                    .or_default()
                    .record(when, RUNAWAY_WINDOW_US, limit);
            }
            self.recent = recent;
            self.recent_loaded = true;
        }
        if self.recent.len() >= RECENT_POINTS_MAX && !self.recent.contains_key(&(site_id, zone)) {
            self.recent.retain(|_, r| !r.stale(at, RUNAWAY_WINDOW_US));
        }
        Ok(self
            .recent
            .entry((site_id, zone))
            .or_default()
            .record(at, RUNAWAY_WINDOW_US, limit))
    }

    async fn site(&mut self, site_id: i64) -> Result<Option<Arc<SiteView>>, StoreError> {
        if let Some(view) = self.sites.get(&site_id) {
            return Ok(Some(view.clone()));
        }
        match self.store.site(site_id).await {
            Ok(detail) => {
                let view = Arc::new(SiteView::of(&detail));
                self.sites.insert(site_id, view.clone());
                Ok(Some(view))
            }
            Err(StoreError::NotFound) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Handles the next batch of journal records; returns how many were read.
    async fn journal_pass(&mut self, now: UnixMicros) -> Result<usize, StoreError> {
        let filter = SignalFilter {
            after_id: Some(self.cursor),
            limit: self.config.batch_signals_max,
            shard: Some(self.lease.shard),
            ..SignalFilter::default()
        };
        let signals = self.store.signals(&filter).await?;
        let Some(last) = signals.last().map(|s| s.id) else {
            // Read to the end: whatever was received before this read began is known.
            let mut changes = Vec::new();
            self.judge(now, MISSES_PER_PASS_MAX, &mut changes);
            if !changes.is_empty() {
                self.commit(self.cursor, changes, now).await?;
            }
            self.report_lag(true, None, now).await?;
            return Ok(0);
        };
        let mut changes = Vec::new();
        let mut heard: HashMap<i64, UnixMicros> = HashMap::new();
        let mut reloaded = false;
        for signal in &signals {
            let record = &signal.record;
            let Some(tid) = record.transmitter_id else {
                continue;
            };
            if !matches!(record.verdict, Verdict::Accepted | Verdict::Duplicate) {
                continue;
            }
            if !self.transmitters.contains_key(&tid) && !reloaded {
                // Registered after this pass read the registry: read it again, once a pass.
                self.revision = Some(i64::MIN);
                self.reload(now).await?;
                reloaded = true;
            }
            let Some(&(site_id, allowance)) = self.transmitters.get(&tid) else {
                continue;
            };
            let at = record.received_at;
            // Silences that ended before this signal was received are raised before it is
            // heard, so a transmitter's return in the same batch restores, not hides, them.
            self.judge(at, usize::MAX, &mut changes);
            heard.insert(tid, at);
            if let Some(Supervision::Restored { .. }) = self.deadlines.heard(tid, at, allowance) {
                changes.push(EngineChange::LinkRestored {
                    transmitter_id: tid,
                    event: EventNote {
                        signal_id: Some(signal.id),
                        at,
                        category: Category::Technical,
                        condition: Condition::Restore,
                        code: "link".into(),
                        zone: None,
                        user: None,
                        text: String::new(),
                    },
                });
            }
            if record.verdict == Verdict::Duplicate || signal.duplicate_of.is_some() {
                continue;
            }
            let Some(site) = self.site(site_id).await? else {
                continue;
            };
            for event in &record.events {
                let mut earlier = 0;
                if let (true, Some(zone)) = (rules::is_alarm(event.category), event.zone) {
                    earlier = self.point_alarms_before(site_id, zone, at).await?;
                }
                let decided = rules::decide(
                    &self.config.rules,
                    signal.id,
                    at,
                    event,
                    &site,
                    earlier,
                    &local_time(at),
                );
                changes.extend(decided);
            }
        }
        if signals.len() < self.config.batch_signals_max as usize {
            // Read to the end: whatever was received before this read began is known.
            self.judge(now, MISSES_PER_PASS_MAX, &mut changes);
        }
        changes.extend(
            heard
                .into_iter()
                .map(|(transmitter_id, at)| EngineChange::Heard { transmitter_id, at }),
        );
        let count = signals.len();
        let caught_up = count < self.config.batch_signals_max as usize;
        let newest_handled = signals.last().map(|s| s.record.received_at);
        self.commit(last, changes, now).await?;
        self.cursor = last;
        self.report_lag(caught_up, newest_handled, now).await?;
        metrics::counter!("vakt_engine_signals_total").increment(count as u64);
        Ok(count)
    }

    /// Publishes how far behind the journal this engine is after a pass: nothing when its
    /// last read found everything, else the records after its cursor and the age of the
    /// newest signal it handled (the oldest waiting ones came just after it).
    async fn report_lag(
        &self,
        caught_up: bool,
        newest_handled: Option<UnixMicros>,
        now: UnixMicros,
    ) -> Result<(), StoreError> {
        let lag = if caught_up {
            Lag::default()
        } else {
            let head = self.store.journal_head().await?;
            Lag {
                signals: (head - self.cursor).max(0),
                seconds: newest_handled.map_or(0.0, |at| ((now.0 - at.0) as f64 / 1e6).max(0.0)),
            }
        };
        self.changes.report_lag(self.lease.shard.index, Some(lag));
        Ok(())
    }

    async fn commit(
        &mut self,
        cursor: i64,
        changes: Vec<EngineChange>,
        now: UnixMicros,
    ) -> Result<(), StoreError> {
        let touched = self
            .store
            .apply_engine(self.lease, cursor, changes, now)
            .await?;
        for id in touched {
            self.changes.announce(id);
        }
        Ok(())
    }

    async fn timers_pass(&mut self, now: UnixMicros) -> Result<(), StoreError> {
        let mut changes = Vec::new();
        for (site_id, zone) in self.store.expired_test_modes(now).await? {
            changes.push(EngineChange::TestModeEnded {
                site_id,
                zone,
                at: now,
            });
        }
        if !changes.is_empty() {
            self.commit(self.cursor, changes, now).await?;
        }
        Ok(())
    }
}

/// Takes every shard for engines on this node alone (one node on SQLite) and runs them until
/// `shutdown`.
///
/// # Errors
/// When the store refuses the layout (a different number of shards is stored).
pub async fn run_all<S>(
    store: S,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    changes: Changes,
    shards: u32,
    shutdown: CancellationToken,
) -> Result<Vec<tokio::task::JoinHandle<()>>, StoreError>
where
    S: Journal + Registry + Centre + Clone,
{
    let count = shards.max(1);
    let mut tasks = Vec::new();
    for index in 0..count {
        let lease = store.take_shard(Shard { index, count }).await?;
        tasks.push(tokio::spawn(run(
            store.clone(),
            clock.clone(),
            config,
            changes.clone(),
            lease,
            shutdown.clone(),
        )));
    }
    Ok(tasks)
}

/// Runs the engine of one shard until `shutdown` or until another engine takes the shard;
/// store failures are logged and retried.
pub async fn run<S>(
    store: S,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    changes: Changes,
    lease: ShardLease,
    shutdown: CancellationToken,
) where
    S: Journal + Registry + Centre + Clone,
{
    let mut engine = Engine {
        store,
        clock,
        config,
        changes,
        lease,
        revision: None,
        transmitters: HashMap::new(),
        sites: HashMap::new(),
        recent: HashMap::new(),
        recent_loaded: false,
        deadlines: Deadlines::new(),
        judged: None,
        cursor: 0,
    };
    let poll = Duration::from_millis(config.poll_ms.max(10));
    loop {
        let outcome = async {
            if engine.revision.is_none() {
                engine.cursor = engine.store.engine_cursor(engine.lease.shard).await?;
            }
            let now = engine.clock.now();
            engine.reload(now).await?;
            let read = engine.journal_pass(now).await?;
            engine.timers_pass(engine.clock.now()).await?;
            Ok::<usize, StoreError>(read)
        }
        .await;
        let full = match outcome {
            Ok(read) => read >= engine.config.batch_signals_max as usize,
            Err(StoreError::Closed) => break,
            Err(StoreError::Conflict(reason)) => {
                tracing::warn!(%reason, "this engine no longer holds its shard; stopping");
                break;
            }
            Err(error) => {
                tracing::error!(%error, "the engine could not finish a pass; retrying");
                // What it remembered of the failed batch was never committed: read it again.
                engine.recent.clear();
                engine.recent_loaded = false;
                false
            }
        };
        // A full batch means more is waiting: read on at once, unless shutting down (a
        // backlog must not hold up a graceful stop; the cursor is committed with each batch).
        if full && !shutdown.is_cancelled() {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(poll) => {}
        }
    }
    engine.changes.report_lag(engine.lease.shard.index, None);
}
