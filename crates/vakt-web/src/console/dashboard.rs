//! The lead's dashboard: open alarms, load per operator-hour, and how fast alarms are taken
//! and closed (median and 95th percentile), over the last 24 hours, drawn as inline SVG bars
//! (no chart library, nothing fetched from elsewhere).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use vakt_core::UnixMicros;
use vakt_store::IncidentTimes;

use crate::auth::Refusal;
use crate::extract::Allowed;
use crate::page::{Chrome, page_chrome, refuse};
use crate::{Store, WebState};

const HOUR_US: i64 = 3_600 * 1_000_000;

/// The figures the dashboard shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Alarms opened in the period.
    pub opened: usize,
    /// Operator-hours: per hour, the operators who took an alarm in it.
    pub operator_hours: usize,
    /// Alarms per operator-hour.
    pub per_operator_hour: f64,
    /// Seconds from opened to taken: median and 95th percentile.
    pub take_s: (Option<f64>, Option<f64>),
    /// Seconds from opened to closed: median and 95th percentile.
    pub close_s: (Option<f64>, Option<f64>),
    /// Alarms opened per hour, oldest first (24 values).
    pub per_hour: Vec<usize>,
}

/// The `q`-quantile (0–1) of sorted values, nearest rank.
#[must_use]
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Works out the figures from incident times, for the 24 hours before `now`.
#[must_use]
pub fn figures(times: &[IncidentTimes], now: UnixMicros) -> Figures {
    let start = now.0 - 24 * HOUR_US;
    let mut per_hour = vec![0_usize; 24];
    let mut operators: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut take = Vec::new();
    let mut close = Vec::new();
    for t in times.iter().filter(|t| t.opened_at.0 >= start) {
        let hour = ((t.opened_at.0 - start) / HOUR_US).clamp(0, 23);
        if let Some(slot) = per_hour.get_mut(hour as usize) {
            *slot += 1;
        }
        if let (Some(taken), Some(owner)) = (t.taken_at, t.owner_id) {
            operators
                .entry((taken.0 - start) / HOUR_US)
                .or_default()
                .insert(owner);
            take.push((taken.0 - t.opened_at.0) as f64 / 1e6);
        }
        if let Some(closed) = t.closed_at {
            close.push((closed.0 - t.opened_at.0) as f64 / 1e6);
        }
    }
    take.sort_by(f64::total_cmp);
    close.sort_by(f64::total_cmp);
    let opened = per_hour.iter().sum();
    let operator_hours = operators.values().map(BTreeSet::len).sum::<usize>();
    Figures {
        opened,
        operator_hours,
        per_operator_hour: if operator_hours == 0 {
            0.0
        } else {
            opened as f64 / operator_hours as f64
        },
        take_s: (quantile(&take, 0.5), quantile(&take, 0.95)),
        close_s: (quantile(&close, 0.5), quantile(&close, 0.95)),
        per_hour,
    }
}

fn seconds(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(s) if s < 120.0 => format!("{s:.0} s"),
        Some(s) => format!("{:.1} min", s / 60.0),
    }
}

/// One bar of a chart.
#[derive(Debug)]
pub struct Bar {
    x: usize,
    y: usize,
    height: usize,
    label: String,
    value: usize,
}

#[derive(Template)]
#[template(path = "dashboard/dashboard.html")]
struct DashboardPage {
    c: Chrome,
    open: usize,
    figures: Figures,
    per_operator_hour: String,
    take: (String, String),
    close: (String, String),
    bars: Vec<Bar>,
    lag: vakt_engine::Lag,
    lag_seconds: String,
}

const CHART_HEIGHT: usize = 120;

pub(crate) async fn page<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    Allowed(me): Allowed,
) -> Result<axum::response::Response, Refusal> {
    let now = st.clock.now();
    let times = st
        .store
        .incident_times(UnixMicros(now.0 - 24 * HOUR_US))
        .await
        .map_err(|e| refuse(&me, e))?;
    let open = st.store.queue().await.map_err(|e| refuse(&me, e))?.len();
    let lag = st.changes.lag();
    let figures = figures(&times, now);
    let top = figures.per_hour.iter().copied().max().unwrap_or(0).max(1);
    let bars = figures
        .per_hour
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let height = value * CHART_HEIGHT / top;
            let hour_start = UnixMicros(now.0 - (24 - i as i64) * HOUR_US);
            Bar {
                x: i * 20,
                y: CHART_HEIGHT - height,
                height,
                label: page_chrome(&me, "dashboard").clock(hour_start),
                value,
            }
        })
        .collect();
    Ok(crate::page::page(&DashboardPage {
        c: page_chrome(&me, "dashboard"),
        open,
        per_operator_hour: format!("{:.1}", figures.per_operator_hour),
        take: (seconds(figures.take_s.0), seconds(figures.take_s.1)),
        close: (seconds(figures.close_s.0), seconds(figures.close_s.1)),
        figures,
        bars,
        lag_seconds: lag_seconds(lag.seconds, me.lang),
        lag,
    }))
}

/// A lag in seconds with one decimal, as the reader writes decimals ("2,5 s" in Swedish).
fn lag_seconds(seconds: f64, lang: crate::i18n::Lang) -> String {
    let text = format!("{seconds:.1} s");
    match lang {
        crate::i18n::Lang::Sv => text.replace('.', ","),
        crate::i18n::Lang::En => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> UnixMicros {
        UnixMicros(s * 1_000_000)
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), Some(50.0));
        assert_eq!(quantile(&values, 0.95), Some(95.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.95), Some(7.0));
    }

    #[test]
    fn figures_count_per_hour_and_per_operator_hour() {
        let now = at(100_000);
        let times = vec![
            IncidentTimes {
                owner_id: Some(1),
                opened_at: at(99_000),
                taken_at: Some(at(99_010)),
                closed_at: Some(at(99_100)),
            },
            IncidentTimes {
                owner_id: Some(2),
                opened_at: at(99_500),
                taken_at: Some(at(99_530)),
                closed_at: None,
            },
            IncidentTimes {
                owner_id: None,
                opened_at: at(1_000),
                taken_at: None,
                closed_at: None,
            },
        ];
        let f = figures(&times, now);
        assert_eq!(f.opened, 2, "the one older than a day is left out");
        assert_eq!(f.operator_hours, 2);
        assert!((f.per_operator_hour - 1.0).abs() < 1e-9);
        assert_eq!(f.take_s, (Some(10.0), Some(30.0)));
        assert_eq!(f.close_s, (Some(100.0), Some(100.0)));
        assert_eq!(f.per_hour.iter().sum::<usize>(), 2);
        assert_eq!(f.per_hour[23], 2);
    }
}
