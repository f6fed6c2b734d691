//! Site test mode and key custody as people change them: a test mode checked (a zone or the
//! whole site, for 1 minute to a week) before it is set; a key registered with its label and
//! storage; a key sent for destruction only if it is the site's.

use vakt_core::UnixMicros;
use vakt_core::centre::KeyAction;
use vakt_store::{Actor, GuardsAndKeys, Sites, TestMode};

use crate::forms::{NAME_CHARS_MAX, Problem, Problems};
use crate::registry::Changed;

/// How long a test mode may be set for, in minutes (a week).
pub const TEST_MINUTES_MAX: u32 = 7 * 24 * 60;

/// A test mode as typed: a zone (empty for the whole site), minutes, a reason; or its end.
#[derive(Clone, Debug, Default)]
pub struct TestModeForm {
    /// The zone number, or empty for the whole site.
    pub zone: String,
    /// How long, in minutes.
    pub minutes: String,
    /// Why (shown to operators).
    pub reason: String,
    /// End the test mode now instead.
    pub end: bool,
}

/// Puts a site or one zone in test mode from `now`, or ends it.
///
/// # Errors
/// The store's failure.
pub async fn set_test_mode(
    store: &impl Sites,
    site_id: i64,
    form: &TestModeForm,
    now: UnixMicros,
    by: &Actor,
) -> Changed<()> {
    let mut problems = Problems::default();
    let zone = match form.zone.trim() {
        "" => None,
        text => text.parse::<u32>().map(Some).unwrap_or_else(|_| {
            problems.push(Problem::new(
                "zone",
                "zone",
                "Choose a zone or the whole site.",
                "Välj en zon eller hela objektet.",
            ));
            None
        }),
    };
    let until = if form.end {
        None
    } else {
        match form.minutes.trim().parse::<u32>() {
            Ok(m) if (1..=TEST_MINUTES_MAX).contains(&m) => {
                Some(now.add_micros(i64::from(m) * 60_000_000))
            }
            _ => {
                problems.push(Problem::new(
                    "minutes",
                    "minutes",
                    format!("Give the test time in minutes, 1 to {TEST_MINUTES_MAX}."),
                    format!("Ange testtiden i minuter, 1 till {TEST_MINUTES_MAX}."),
                ));
                None
            }
        }
    };
    let reason = problems.optional("reason", &form.reason, NAME_CHARS_MAX);
    if let Err(problems) = problems.finish(()) {
        return Ok(Err(problems));
    }
    let mode = TestMode {
        zone,
        until,
        reason,
    };
    store.set_test_mode(site_id, mode, by).await.map(Ok)
}

/// Registers a key received from the customer. Returns its id.
///
/// # Errors
/// The store's failure (a label already used is a conflict).
pub async fn add_key(
    store: &impl GuardsAndKeys,
    site_id: i64,
    (label, storage): (&str, &str),
    by: &Actor,
) -> Changed<i64> {
    let mut problems = Problems::default();
    let label = problems.required("label", label, 64);
    let storage = problems.required("storage", storage, NAME_CHARS_MAX);
    if let Err(problems) = problems.finish(()) {
        return Ok(Err(problems));
    }
    store.add_key(site_id, label, storage, by).await.map(Ok)
}

/// Sends one of the site's keys for destruction; a key of another site is refused as a
/// problem, not moved.
///
/// # Errors
/// The store's failure, or a move the key's state does not allow.
pub async fn destroy_key(
    store: &(impl Sites + GuardsAndKeys),
    site_id: i64,
    key_id: Option<i64>,
    by: &Actor,
) -> Changed<()> {
    let site = store.site(site_id).await?;
    let Some(key) = key_id.filter(|k| site.keys.iter().any(|key| key.id == *k)) else {
        return Ok(Err(vec![Problem::new(
            "key",
            "key",
            "Choose one of the site's keys.",
            "Välj en av objektets nycklar.",
        )]));
    };
    store
        .key_action(key, KeyAction::SentForDestruction, String::new(), None, by)
        .await
        .map(Ok)
}
