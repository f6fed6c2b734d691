//! Time as the rest of Vakt sees it: an instant in UTC microseconds, read from a [`Clock`].
//!
//! Logic crates never call the operating system for the time; they are handed a clock.
//! Storing instants as integer microseconds keeps them identical in SQLite and PostgreSQL.

use serde::{Deserialize, Serialize};

/// An instant, in microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMicros(pub i64);

impl UnixMicros {
    /// Whole seconds since the epoch, rounded towards negative infinity.
    #[must_use]
    pub fn as_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// The instant `seconds` whole seconds after the epoch.
    #[must_use]
    pub fn from_seconds(seconds: i64) -> Self {
        Self(seconds.saturating_mul(1_000_000))
    }

    /// This instant moved by a signed number of microseconds.
    #[must_use]
    pub fn add_micros(self, micros: i64) -> Self {
        Self(self.0.saturating_add(micros))
    }
}

/// A source of the current time. Real code uses [`SystemClock`]; tests and the simulator
/// pass their own.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> UnixMicros;
}

/// The operating system's clock. The only place in Vakt that reads it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // This is the one sanctioned reader of the wall clock.
    fn now(&self) -> UnixMicros {
        let elapsed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        UnixMicros(i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
    }
}

/// A clock that always says the same instant; for tests.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub UnixMicros);

impl Clock for FixedClock {
    fn now(&self) -> UnixMicros {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_down_also_before_the_epoch() {
        assert_eq!(UnixMicros(1_999_999).as_seconds(), 1);
        assert_eq!(UnixMicros(-1).as_seconds(), -1);
        assert_eq!(UnixMicros::from_seconds(3).0, 3_000_000);
    }
}
