//! The DC-09 timestamp `_HH:MM:SS,MM-DD-YYYY` (always UTC) and the window it must fall in.
//!
//! For encrypted messages the timestamp is the only protection against replay, so the
//! receiver checks it against its own clock: by default no more than 40 s behind and 20 s
//! ahead. Outside the window the answer is a NAK carrying the receiver's time, from which
//! the panel corrects its clock.

use std::fmt;

use vakt_core::UnixMicros;

/// Length of `HH:MM:SS,MM-DD-YYYY`.
pub const TIMESTAMP_BYTES: usize = 19;

/// A DC-09 timestamp: whole seconds, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
}

/// The text is not a valid `HH:MM:SS,MM-DD-YYYY`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a DC-09 timestamp (HH:MM:SS,MM-DD-YYYY): {0:?}")]
pub struct TimestampError(pub String);

impl Timestamp {
    /// The timestamp of an instant, truncated to the second.
    #[must_use]
    pub fn from_unix_micros(instant: UnixMicros) -> Timestamp {
        Timestamp {
            seconds: instant.as_seconds(),
        }
    }

    /// The timestamp `seconds` after the epoch.
    #[must_use]
    pub fn from_unix_seconds(seconds: i64) -> Timestamp {
        Timestamp { seconds }
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub fn unix_seconds(self) -> i64 {
        self.seconds
    }

    /// As an instant.
    #[must_use]
    pub fn as_unix_micros(self) -> UnixMicros {
        UnixMicros::from_seconds(self.seconds)
    }

    /// Parses exactly `HH:MM:SS,MM-DD-YYYY`.
    ///
    /// # Errors
    /// When the text has another shape or names a date or time that does not exist.
    pub fn parse(text: &[u8]) -> Result<Timestamp, TimestampError> {
        let error = || TimestampError(String::from_utf8_lossy(text).into_owned());
        if text.len() != TIMESTAMP_BYTES {
            return Err(error());
        }
        let separators = [(2, b':'), (5, b':'), (8, b','), (11, b'-'), (14, b'-')];
        if separators
            .iter()
            .any(|&(at, byte)| text.get(at) != Some(&byte))
        {
            return Err(error());
        }
        let number = |from: usize, to: usize| -> Result<i64, TimestampError> {
            let digits = text.get(from..to).ok_or_else(error)?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(error());
            }
            Ok(digits
                .iter()
                .fold(0_i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        };
        let (hour, minute, second) = (number(0, 2)?, number(3, 5)?, number(6, 8)?);
        let (month, day, year) = (number(9, 11)?, number(12, 14)?, number(15, 19)?);
        let small = |v: i64| i8::try_from(v).map_err(|_| error());
        let date = jiff::civil::Date::new(
            i16::try_from(year).map_err(|_| error())?,
            small(month)?,
            small(day)?,
        )
        .map_err(|_| error())?;
        let time = jiff::civil::Time::new(small(hour)?, small(minute)?, small(second)?, 0)
            .map_err(|_| error())?;
        let instant = date
            .to_datetime(time)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|_| error())?;
        Ok(Timestamp {
            seconds: instant.timestamp().as_second(),
        })
    }
}

impl fmt::Display for Timestamp {
    /// Writes `HH:MM:SS,MM-DD-YYYY` in UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instant = jiff::Timestamp::from_second(self.seconds).map_err(|_| fmt::Error)?;
        let civil = instant.to_zoned(jiff::tz::TimeZone::UTC).datetime();
        write!(
            f,
            "{:02}:{:02}:{:02},{:02}-{:02}-{:04}",
            civil.hour(),
            civil.minute(),
            civil.second(),
            civil.month(),
            civil.day(),
            civil.year()
        )
    }
}

/// How far a message's timestamp may stray from the receiver's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// How many seconds the timestamp may lie behind the receiver's clock.
    pub behind_s: u32,
    /// How many seconds the timestamp may lie ahead of the receiver's clock.
    pub ahead_s: u32,
}

impl Default for Window {
    fn default() -> Window {
        Window {
            behind_s: 40,
            ahead_s: 20,
        }
    }
}

impl Window {
    /// `Ok` when `stamp` lies within the window around `now` (bounds included); otherwise the
    /// signed skew in seconds (positive: the panel is ahead).
    ///
    /// # Errors
    /// The skew, when the timestamp is outside the window.
    pub fn check(self, stamp: Timestamp, now: UnixMicros) -> Result<(), i64> {
        let skew = stamp.seconds - now.as_seconds();
        if skew < -i64::from(self.behind_s) || skew > i64::from(self.ahead_s) {
            Err(skew)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_the_standard_form() {
        let stamp = Timestamp::parse(b"09:10:30,02-20-2023").unwrap();
        assert_eq!(stamp.unix_seconds(), 1_676_884_230);
        assert_eq!(stamp.to_string(), "09:10:30,02-20-2023");
    }

    #[test]
    fn rejects_impossible_and_misshapen_times() {
        for bad in [
            "25:10:30,02-20-2023",
            "09:10:30,02-30-2023",
            "09:10:30 02-20-2023",
            "9:10:30,02-20-2023",
        ] {
            assert!(Timestamp::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn window_bounds_are_inclusive() {
        let now = UnixMicros::from_seconds(1_000_000);
        let window = Window::default();
        assert!(
            window
                .check(Timestamp::from_unix_seconds(1_000_000 - 40), now)
                .is_ok()
        );
        assert!(
            window
                .check(Timestamp::from_unix_seconds(1_000_000 + 20), now)
                .is_ok()
        );
        assert_eq!(
            window.check(Timestamp::from_unix_seconds(1_000_000 - 41), now),
            Err(-41)
        );
        assert_eq!(
            window.check(Timestamp::from_unix_seconds(1_000_000 + 21), now),
            Err(21)
        );
    }
}
