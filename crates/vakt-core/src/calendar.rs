//! The Swedish calendar: civil time in Europe/Stockholm, instants as people read them, and
//! the days banks and Bankgirot work.
//!
//! Instants are UTC microseconds everywhere else; a person reads them in Swedish local time
//! (CET/CEST), and billing's due dates and bank files count bank days. The zone is compiled
//! in ([`stockholm`]), so the result never depends on the machine's time zone files.
//!
//! Public holidays (*allmänna helgdagar*, the law of 1989:253): New Year's Day, Epiphany,
//! Good Friday, Easter Sunday and Monday, 1 May, Ascension Day, Whit Sunday, the National
//! Day (6 June), Midsummer Day (the Saturday 20–26 June), All Saints' Day (the Saturday
//! 31 October–6 November), Christmas Day and Boxing Day. Banks also keep Midsummer Eve,
//! Christmas Eve and New Year's Eve closed, so those are not bank days either.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use crate::UnixMicros;

/// The time zone every person-facing time and civil date of Vakt is in.
#[must_use]
pub fn stockholm() -> TimeZone {
    jiff::tz::get!("Europe/Stockholm")
}

/// An instant as a civil date and time in Stockholm.
#[must_use]
pub fn local(at: UnixMicros) -> Option<jiff::Zoned> {
    jiff::Timestamp::from_microsecond(at.0)
        .ok()
        .map(|t| t.to_zoned(stockholm()))
}

/// The civil date in Stockholm at an instant.
#[must_use]
pub fn date_of(at: UnixMicros) -> Option<Date> {
    local(at).map(|z| z.date())
}

/// An instant in Stockholm time by a `strftime` pattern; empty for an instant out of range.
#[must_use]
pub fn format(at: UnixMicros, pattern: &str) -> String {
    local(at).map_or_else(String::new, |z| z.strftime(pattern).to_string())
}

/// `HH:MM`, as an SMS or a queue row says it.
#[must_use]
pub fn clock(at: UnixMicros) -> String {
    format(at, "%H:%M")
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous algorithm).
#[must_use]
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// One public holiday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holiday {
    /// The day.
    pub date: Date,
    /// Its Swedish name.
    pub sv: &'static str,
    /// Its English name.
    pub en: &'static str,
}

/// The first `weekday` on or after `from`.
fn on_or_after(from: Date, weekday: Weekday) -> Date {
    let mut day = from;
    while day.weekday() != weekday {
        day = day.tomorrow().unwrap_or(day);
    }
    day
}

/// The public holidays of `year`, in date order.
#[must_use]
pub fn holidays(year: i16) -> Vec<Holiday> {
    let fixed = |month: i8, day: i8| Date::new(year, month, day).ok();
    let easter = easter_sunday(year);
    let from_easter =
        |days: i64| easter.and_then(|e| e.checked_add(jiff::Span::new().days(days)).ok());
    let saturday_from = |month, day| fixed(month, day).map(|d| on_or_after(d, Weekday::Saturday));
    let all: [(Option<Date>, &str, &str); 13] = [
        (fixed(1, 1), "Nyårsdagen", "New Year's Day"),
        (fixed(1, 6), "Trettondedag jul", "Epiphany"),
        (from_easter(-2), "Långfredagen", "Good Friday"),
        (easter, "Påskdagen", "Easter Sunday"),
        (from_easter(1), "Annandag påsk", "Easter Monday"),
        (fixed(5, 1), "Första maj", "May Day"),
        (from_easter(39), "Kristi himmelsfärdsdag", "Ascension Day"),
        (from_easter(49), "Pingstdagen", "Whit Sunday"),
        (
            fixed(6, 6),
            "Sveriges nationaldag",
            "National Day of Sweden",
        ),
        (saturday_from(6, 20), "Midsommardagen", "Midsummer Day"),
        (saturday_from(10, 31), "Alla helgons dag", "All Saints' Day"),
        (fixed(12, 25), "Juldagen", "Christmas Day"),
        (fixed(12, 26), "Annandag jul", "Boxing Day"),
    ];
    let mut days: Vec<Holiday> = all
        .into_iter()
        .filter_map(|(date, sv, en)| date.map(|date| Holiday { date, sv, en }))
        .collect();
    days.sort_by_key(|h| h.date);
    days
}

/// Whether banks work on `date`: a weekday that is no public holiday, nor Midsummer Eve,
/// Christmas Eve or New Year's Eve.
#[must_use]
pub fn is_bank_day(date: Date) -> bool {
    if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return false;
    }
    let eve = matches!((date.month(), date.day()), (12, 24) | (12, 31))
        || (date.month() == 6
            && (19..=25).contains(&date.day())
            && date.weekday() == Weekday::Friday);
    !eve && !holidays(date.year()).iter().any(|h| h.date == date)
}

/// The first bank day on or after `date` (a due date on a holiday moves to the next one).
#[must_use]
pub fn bank_day_on_or_after(date: Date) -> Date {
    let mut day = date;
    while !is_bank_day(day) {
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    day
}

/// The bank day `count` bank days after `date` (Bankgirot's "wait 2 bank days").
#[must_use]
pub fn add_bank_days(date: Date, count: u32) -> Date {
    let mut day = date;
    let mut left = count;
    while left > 0 {
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
        if is_bank_day(day) {
            left -= 1;
        }
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn stockholm_time_follows_summer_and_winter_time() {
        // 2026-07-01 10:00 UTC is 12:00 CEST; 2026-12-04 10:00 UTC is 11:00 CET.
        let summer = UnixMicros(1_782_900_000 * 1_000_000);
        assert_eq!(format(summer, "%Y-%m-%d %H:%M"), "2026-07-01 12:00");
        let winter = UnixMicros(1_796_378_400 * 1_000_000);
        assert_eq!(format(winter, "%Y-%m-%d %H:%M"), "2026-12-04 11:00");
        assert_eq!(clock(winter), "11:00");
        // Midnight in Stockholm is still the previous day in UTC.
        assert_eq!(
            date_of(UnixMicros(1_796_338_800 * 1_000_000)),
            Some(date(2026, 12, 4))
        );
    }

    #[test]
    fn the_movable_holidays_of_2025_to_2030() {
        // Good Friday, Easter Sunday, Ascension, Whit Sunday, Midsummer Day, All Saints'.
        let expected = [
            (2025, [(4, 18), (4, 20), (5, 29), (6, 8), (6, 21), (11, 1)]),
            (2026, [(4, 3), (4, 5), (5, 14), (5, 24), (6, 20), (10, 31)]),
            (2027, [(3, 26), (3, 28), (5, 6), (5, 16), (6, 26), (11, 6)]),
            (2028, [(4, 14), (4, 16), (5, 25), (6, 4), (6, 24), (11, 4)]),
            (2029, [(3, 30), (4, 1), (5, 10), (5, 20), (6, 23), (11, 3)]),
            (2030, [(4, 19), (4, 21), (5, 30), (6, 9), (6, 22), (11, 2)]),
        ];
        let names = [
            "Långfredagen",
            "Påskdagen",
            "Kristi himmelsfärdsdag",
            "Pingstdagen",
            "Midsommardagen",
            "Alla helgons dag",
        ];
        for (year, days) in expected {
            let all = holidays(year);
            assert_eq!(all.len(), 13, "{year}");
            for (name, (month, day)) in names.iter().zip(days) {
                let found = all.iter().find(|h| h.sv == *name).map(|h| h.date);
                assert_eq!(found, Some(date(year, month, day)), "{name} {year}");
            }
            let monday = all.iter().find(|h| h.sv == "Annandag påsk").map(|h| h.date);
            assert_eq!(monday.map(|d| d.weekday()), Some(Weekday::Monday), "{year}");
        }
    }

    #[test]
    fn bank_days_skip_weekends_holidays_and_the_three_eves() {
        // Midsummer Eve 2026 is Friday 19 June: Thursday 18 → Monday 22.
        assert!(!is_bank_day(date(2026, 6, 19)));
        assert_eq!(add_bank_days(date(2026, 6, 18), 1), date(2026, 6, 22));
        // Christmas 2026: Thursday 24 (eve), 25, 26 (Saturday) → Monday 28.
        assert_eq!(bank_day_on_or_after(date(2026, 12, 24)), date(2026, 12, 28));
        // New Year's Eve and Day 2026/27, then Epiphany on Wednesday 6 January.
        assert!(!is_bank_day(date(2026, 12, 31)));
        assert!(!is_bank_day(date(2027, 1, 1)));
        assert_eq!(add_bank_days(date(2027, 1, 5), 1), date(2027, 1, 7));
        // Easter 2027: Good Friday 26 March and Easter Monday 29 March.
        assert_eq!(add_bank_days(date(2027, 3, 25), 1), date(2027, 3, 30));
        // An ordinary week.
        assert!(is_bank_day(date(2026, 12, 4)));
        assert_eq!(add_bank_days(date(2026, 12, 4), 2), date(2026, 12, 8));
        assert_eq!(add_bank_days(date(2026, 12, 4), 0), date(2026, 12, 4));
    }
}
