//! `vakt signals`: the journal for a person (a table) or a program (`--json`).

use std::fmt::Write as _;

use vakt_core::{Condition, Event, UnixMicros};
use vakt_store::StoredSignal;

/// Parses a time given on the command line: RFC 3339 (`2026-11-21T08:00:00Z`) or a span back
/// from now (`90s`, `15m`, `2h`, `3d`).
///
/// # Errors
/// When the text is neither.
pub fn parse_time(text: &str, now: UnixMicros) -> Result<UnixMicros, String> {
    if let Ok(stamp) = text.parse::<jiff::Timestamp>() {
        return Ok(UnixMicros(stamp.as_microsecond()));
    }
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let amount: i64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor a span like 15m"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    Ok(now.add_micros(-amount.saturating_mul(seconds).saturating_mul(1_000_000)))
}

fn describe(event: &Event) -> String {
    let mut text = event.category.label("en").to_owned();
    if event.condition == Condition::Restore {
        text.push_str(" restore");
    }
    if let Some(zone) = event.zone {
        let _ = write!(text, " zone {zone}");
    }
    if let Some(user) = event.user {
        let _ = write!(text, " user {user}");
    }
    if let Some(partition) = event.partition {
        let _ = write!(text, " area {partition}");
    }
    let _ = write!(text, " ({})", event.code.code);
    text
}

/// The signals as a table, oldest first.
#[must_use]
pub fn table(signals: &[StoredSignal]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>7}  {:<24} {:<4} {:<22} {:<10} {:<8} {:<5} {:<19} {:<4}  events",
        "id", "received (Stockholm)", "via", "peer", "account", "token", "seq", "verdict", "ans"
    );
    for signal in signals.iter().rev() {
        let record = &signal.record;
        let received = vakt_core::calendar::format(record.received_at, "%Y-%m-%d %H:%M:%S%.3f");
        let token = match (&record.token, record.encrypted) {
            (Some(token), true) => format!("*{token}"),
            (Some(token), false) => token.clone(),
            (None, _) => "-".to_owned(),
        };
        let mut events: Vec<String> = record.events.iter().map(describe).collect();
        if let Some(detail) = &record.detail {
            events.push(format!("[{detail}]"));
        }
        if let Some(first) = signal.duplicate_of {
            events.push(format!("[retransmission of {first}]"));
        }
        let _ = writeln!(
            out,
            "{:>7}  {:<24} {:<4} {:<22} {:<10} {:<8} {:<5} {:<19} {:<4}  {}",
            signal.id,
            received,
            record.transport.as_str(),
            record.peer,
            record.account.as_deref().unwrap_or("-"),
            token,
            record.sequence.as_deref().unwrap_or("-"),
            record.verdict.as_str(),
            record.answer,
            events.join("; ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_absolute_or_spans_back() {
        let now = UnixMicros::from_seconds(10_000);
        assert_eq!(
            parse_time("15m", now).unwrap(),
            UnixMicros::from_seconds(10_000 - 900)
        );
        assert_eq!(
            parse_time("1970-01-01T00:00:10Z", now).unwrap(),
            UnixMicros::from_seconds(10)
        );
        assert!(parse_time("yesterday", now).is_err());
        assert!(parse_time("5w", now).is_err());
    }
}
