//! Locking a secret after repeated failures, as a rule on plain values.
//!
//! A password, code or login is checked with a slow hash, so an attacker who sends many
//! attempts at once would otherwise have them all checked before the first failure is
//! recorded. So an attempt is *counted before it is checked*: the store applies [`attempt`]
//! in one write (read the count, decide, write the new count), which admits at most
//! `failures_max` checks until a success or the end of the lock, however many arrive in
//! parallel. A success clears the count ([`Lockout`] says nothing about that: it is always
//! zero). A lock lasts `lock_us` and no longer; the first attempt after it starts a new count.

use crate::UnixMicros;

/// How many failures lock a secret, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lockout {
    /// Failures in a row that lock it (at least 1).
    pub failures_max: u32,
    /// How long a lock lasts, in microseconds.
    pub lock_us: i64,
}

/// What a new attempt may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Locked: the secret is not checked at all.
    Refused {
        /// Until when.
        until: UnixMicros,
    },
    /// The attempt is counted as a failure now, and may be checked; a right answer clears
    /// the count afterwards.
    Counted {
        /// The failures to store.
        failures: u32,
        /// The lock to store: set when this attempt is the last one allowed.
        locked_until: Option<UnixMicros>,
    },
}

/// What an attempt at `now` does to a secret with `failures` in a row and `locked_until`.
#[must_use]
pub fn attempt(
    policy: Lockout,
    failures: u32,
    locked_until: Option<UnixMicros>,
    now: UnixMicros,
) -> Attempt {
    match locked_until {
        Some(until) if until > now => Attempt::Refused { until },
        // A lock that ran out starts a new count.
        Some(_) => counted(policy, 0, now),
        None => counted(policy, failures, now),
    }
}

fn counted(policy: Lockout, failures: u32, now: UnixMicros) -> Attempt {
    let failures = failures.saturating_add(1);
    Attempt::Counted {
        failures,
        locked_until: (failures >= policy.failures_max.max(1))
            .then(|| now.add_micros(policy.lock_us.max(0))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Lockout = Lockout {
        failures_max: 5,
        lock_us: 900_000_000,
    };
    const NOW: UnixMicros = UnixMicros(1_000_000_000_000);

    #[test]
    fn a_burst_gets_exactly_failures_max_checks() {
        let (mut failures, mut locked) = (0, None);
        let mut checked = 0;
        for _ in 0..41 {
            match attempt(POLICY, failures, locked, NOW) {
                Attempt::Refused { until } => assert_eq!(until, NOW.add_micros(POLICY.lock_us)),
                Attempt::Counted {
                    failures: f,
                    locked_until,
                } => {
                    checked += 1;
                    failures = f;
                    locked = locked_until;
                }
            }
        }
        assert_eq!(checked, 5);
        assert_eq!(failures, 5);
    }

    #[test]
    fn a_lock_lasts_its_time_and_then_a_new_count_starts() {
        let until = NOW.add_micros(POLICY.lock_us);
        assert_eq!(
            attempt(POLICY, 5, Some(until), until.add_micros(-1)),
            Attempt::Refused { until }
        );
        assert_eq!(
            attempt(POLICY, 5, Some(until), until),
            Attempt::Counted {
                failures: 1,
                locked_until: None
            }
        );
    }

    #[test]
    fn the_last_allowed_attempt_locks_before_it_is_checked() {
        assert_eq!(
            attempt(POLICY, 4, None, NOW),
            Attempt::Counted {
                failures: 5,
                locked_until: Some(NOW.add_micros(POLICY.lock_us))
            }
        );
    }
}
