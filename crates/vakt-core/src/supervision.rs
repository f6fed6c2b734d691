//! Supervision deadlines: every transmitter must be heard from within its interval plus a
//! grace; silence past that is a fault the alarm receiving centre acts on (`DOMAIN.md` S7).
//!
//! Timers are data, not tasks: one ordered set of `(deadline, transmitter)` for every
//! transmitter, advanced by whoever drives it with the current time. A missed deadline is
//! reported once; the next sign of life reports the return once. Nothing here sleeps or reads
//! a clock, so a million transmitters cost one set and one map, and tests run on any time.

use std::collections::{BTreeSet, HashMap};

use crate::UnixMicros;

/// What the schedule reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervision<Id> {
    /// The transmitter missed its deadline (at the instant given).
    Missed {
        /// Which transmitter.
        id: Id,
        /// The deadline it missed.
        deadline: UnixMicros,
    },
    /// A transmitter that had missed its deadline was heard from again.
    Restored {
        /// Which transmitter.
        id: Id,
        /// When it was heard.
        at: UnixMicros,
    },
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    deadline: UnixMicros,
    missed: bool,
}

/// The deadlines of every supervised transmitter.
#[derive(Debug)]
pub struct Deadlines<Id> {
    order: BTreeSet<(UnixMicros, Id)>,
    entries: HashMap<Id, Entry>,
}

impl<Id> Default for Deadlines<Id> {
    fn default() -> Deadlines<Id> {
        Deadlines {
            order: BTreeSet::new(),
            entries: HashMap::new(),
        }
    }
}

impl<Id: Copy + Ord + std::hash::Hash> Deadlines<Id> {
    /// An empty schedule.
    #[must_use]
    pub fn new() -> Deadlines<Id> {
        Deadlines::default()
    }

    /// Records a sign of life: the next deadline is `at + allowance_us`. Returns the
    /// restoration when the transmitter had missed its deadline.
    pub fn heard(&mut self, id: Id, at: UnixMicros, allowance_us: i64) -> Option<Supervision<Id>> {
        let deadline = at.add_micros(allowance_us.max(0));
        let previous = self.entries.insert(
            id,
            Entry {
                deadline,
                missed: false,
            },
        );
        if let Some(previous) = previous {
            self.order.remove(&(previous.deadline, id));
        }
        self.order.insert((deadline, id));
        previous
            .filter(|p| p.missed)
            .map(|_| Supervision::Restored { id, at })
    }

    /// Records a transmitter already declared silent (remembered across a restart): it is not
    /// reported missing again, and the next sign of life reports its return.
    pub fn already_missing(&mut self, id: Id, deadline: UnixMicros) {
        if let Some(previous) = self.entries.insert(
            id,
            Entry {
                deadline,
                missed: true,
            },
        ) {
            self.order.remove(&(previous.deadline, id));
        }
    }

    /// Stops supervising a transmitter (removed from the registry).
    pub fn forget(&mut self, id: Id) {
        if let Some(entry) = self.entries.remove(&id) {
            self.order.remove(&(entry.deadline, id));
        }
    }

    /// Every deadline that has passed by `now`, each reported once, earliest first, at most
    /// `max` of them (the caller comes back for the rest).
    pub fn expire(&mut self, now: UnixMicros, max: usize) -> Vec<Supervision<Id>> {
        let mut missed = Vec::new();
        while missed.len() < max {
            let Some(&(deadline, id)) = self.order.first() else {
                break;
            };
            if deadline >= now {
                break;
            }
            self.order.remove(&(deadline, id));
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.missed = true;
            }
            missed.push(Supervision::Missed { id, deadline });
        }
        missed
    }

    /// The earliest deadline still pending, for the driver to sleep until.
    #[must_use]
    pub fn next_deadline(&self) -> Option<UnixMicros> {
        self.order.first().map(|&(deadline, _)| deadline)
    }

    /// How many transmitters are supervised.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a transmitter is currently past its deadline.
    #[must_use]
    pub fn is_missing(&self, id: Id) -> bool {
        self.entries.get(&id).is_some_and(|e| e.missed)
    }
}

/// The instant up to which silence may be judged, moved on by what the journal reader sees.
///
/// Silence is a fact about when signals were *received*, never about how far the reader has
/// got: a reader working through a backlog has not yet seen what transmitters sent meanwhile.
/// So the judged instant follows `seen`: the receive time of each signal as the reader
/// handles it, in journal order, or the start of a read that found nothing more (the reader
/// is caught up). Less `settle_us`, the time a received signal may take to be committed and
/// become readable; and never backwards from what was judged `before`.
#[must_use]
pub fn judged_until(before: Option<UnixMicros>, seen: UnixMicros, settle_us: i64) -> UnixMicros {
    let at = seen.add_micros(-settle_us.max(0));
    before.map_or(at, |before| before.max(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000;

    fn at(seconds: i64) -> UnixMicros {
        UnixMicros::from_seconds(seconds)
    }

    #[test]
    fn silence_is_judged_by_what_was_seen_less_the_settling_time_and_only_forward() {
        let settle = 2 * SECOND;
        assert_eq!(judged_until(None, at(3600), settle), at(3598));
        assert_eq!(judged_until(Some(at(3598)), at(4000), settle), at(3998));
        // A signal received a little earlier, read later, moves nothing back.
        assert_eq!(judged_until(Some(at(3998)), at(3990), settle), at(3998));
    }

    #[test]
    fn a_silent_transmitter_is_missed_once_and_restored_once() {
        let mut deadlines = Deadlines::new();
        assert_eq!(deadlines.heard(7_u32, at(0), 120 * SECOND), None);
        assert!(
            deadlines.expire(at(120), 10).is_empty(),
            "the deadline itself is still in time"
        );
        assert_eq!(
            deadlines.expire(at(121), 10),
            vec![Supervision::Missed {
                id: 7,
                deadline: at(120)
            }]
        );
        assert!(
            deadlines.expire(at(500), 10).is_empty(),
            "raised once, not again"
        );
        assert!(deadlines.is_missing(7));
        assert_eq!(
            deadlines.heard(7, at(600), 120 * SECOND),
            Some(Supervision::Restored { id: 7, at: at(600) })
        );
        assert_eq!(deadlines.heard(7, at(610), 120 * SECOND), None);
        assert_eq!(deadlines.next_deadline(), Some(at(730)));
    }

    #[test]
    fn every_heartbeat_moves_the_deadline() {
        let mut deadlines = Deadlines::new();
        for second in (0..1_000).step_by(60) {
            deadlines.heard(1_u32, at(second), 90 * SECOND);
            assert!(deadlines.expire(at(second + 59), 10).is_empty());
        }
        assert_eq!(deadlines.len(), 1);
    }

    #[test]
    fn expiry_is_in_deadline_order_and_bounded() {
        let mut deadlines = Deadlines::new();
        for id in 0..100_u32 {
            deadlines.heard(id, at(i64::from(100 - id)), 0);
        }
        let first = deadlines.expire(at(1_000), 30);
        assert_eq!(first.len(), 30);
        assert_eq!(
            first[0],
            Supervision::Missed {
                id: 99,
                deadline: at(1)
            }
        );
        assert_eq!(deadlines.expire(at(1_000), 1_000).len(), 70);
        deadlines.forget(5);
        assert_eq!(deadlines.len(), 99);
    }

    #[test]
    fn a_seeded_simulation_raises_every_miss_exactly_once() {
        // A small deterministic generator, so a failure can be replayed from its seed.
        let seed = 0x5EED_u64;
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut deadlines = Deadlines::new();
        let mut last_heard = [0_i64; 50];
        let mut missing = [false; 50];
        for id in 0..50_u32 {
            deadlines.heard(id, at(0), 100 * SECOND);
        }
        for second in 1..5_000_i64 {
            let id = (next() % 50) as usize;
            if next() % 3 == 0 {
                let event = deadlines.heard(id as u32, at(second), 100 * SECOND);
                assert_eq!(
                    event.is_some(),
                    missing[id],
                    "seed {seed:#x}, second {second}"
                );
                missing[id] = false;
                last_heard[id] = second;
            }
            for event in deadlines.expire(at(second), usize::MAX) {
                let Supervision::Missed { id, deadline } = event else {
                    panic!("seed {seed:#x}")
                };
                let index = id as usize;
                assert!(!missing[index], "raised twice, seed {seed:#x}");
                assert_eq!(deadline, at(last_heard[index] + 100), "seed {seed:#x}");
                missing[index] = true;
            }
        }
    }
}
