//! Transmitter management: importing a batch (the JSON API and `vakt accounts import` alike),
//! describing transmitters to programs, giving a panel its link token.
//!
//! A batch is checked whole before anything is stored: every entry's every field, and no two
//! entries for the same account, receiver and prefix. Then it is stored in one transaction.

use std::collections::HashMap;

use vakt_core::Entropy;
use vakt_store::{Actor, ImportOutcome, NewTransmitter, Registry, StoreError, Transmitter};

use crate::input::TransmitterInput;
use crate::secret::{new_token, token_hash};

/// One thing wrong with one entry of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryProblem {
    /// The entry, as the caller numbers them (a line of a file, an index in a JSON array).
    pub entry: usize,
    /// What is wrong with it.
    pub trouble: Trouble,
}

/// What is wrong with an entry; the caller words it for its readers (a file names lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// A field is wrong.
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong, in English.
        message: String,
    },
    /// The same account, receiver and prefix as this earlier entry.
    SameAs(usize),
    /// The batch holds no transmitters at all.
    Empty,
}

/// Checks a batch of entries, numbered by the caller.
///
/// # Errors
/// Every problem of every entry, in entry order; an empty batch is a problem too.
pub fn validate_batch(
    entries: Vec<(usize, TransmitterInput)>,
) -> Result<Vec<NewTransmitter>, Vec<EntryProblem>> {
    let mut problems = Vec::new();
    let mut transmitters = Vec::with_capacity(entries.len());
    let mut first = HashMap::new();
    let first_entry = entries.first().map_or(1, |(entry, _)| *entry);
    for (entry, input) in entries {
        match input.validate() {
            Ok(transmitter) => {
                if let Some(earlier) = first.insert(transmitter.reference(), entry) {
                    problems.push(EntryProblem {
                        entry,
                        trouble: Trouble::SameAs(earlier),
                    });
                }
                transmitters.push(transmitter);
            }
            Err(errors) => problems.extend(errors.into_iter().map(|error| EntryProblem {
                entry,
                trouble: Trouble::Field {
                    field: error.field,
                    message: error.message,
                },
            })),
        }
    }
    if transmitters.is_empty() && problems.is_empty() {
        problems.push(EntryProblem {
            entry: first_entry,
            trouble: Trouble::Empty,
        });
    }
    problems.sort_by_key(|p| p.entry);
    if problems.is_empty() {
        Ok(transmitters)
    } else {
        Err(problems)
    }
}

/// Checks a batch and, when all of it is valid, stores all of it in one transaction.
///
/// # Errors
/// `Ok(Err(problems))` when something is invalid (nothing stored); `Err` when the store fails.
pub async fn import(
    store: &impl Registry,
    entries: Vec<(usize, TransmitterInput)>,
) -> Result<Result<ImportOutcome, Vec<EntryProblem>>, StoreError> {
    match validate_batch(entries) {
        Ok(transmitters) => store.import_transmitters(transmitters).await.map(Ok),
        Err(problems) => Ok(Err(problems)),
    }
}

/// A transmitter as programs see it (the JSON API, `vakt accounts list --json`): the key
/// described, never shown.
#[must_use]
pub fn describe(transmitter: &Transmitter) -> serde_json::Value {
    let spec = &transmitter.spec;
    serde_json::json!({
        "id": transmitter.id,
        "account": spec.account,
        "receiver": spec.receiver,
        "prefix": spec.prefix,
        "key": spec.key.as_ref().map(vakt_store::StoredKey::describe),
        "supervision_interval_s": spec.supervision_interval_s,
        "timestamp_policy": spec.timestamp_policy.as_str(),
        "window_behind_s": spec.window.behind_s,
        "window_ahead_s": spec.window.ahead_s,
        "clock_offset_s": spec.clock_offset_s,
        "dialect": spec.dialect,
        "site_name": spec.site.name,
        "site_address": spec.site.address,
    })
}

/// Gives a transmitter's panel a new link token, replacing any earlier one; returns the
/// token, shown this once (only its hash is stored).
///
/// # Errors
/// `NotFound` for an unknown transmitter, or when the store fails.
pub async fn new_link_token(
    store: &impl Registry,
    entropy: &dyn Entropy,
    transmitter_id: i64,
    by: &Actor,
) -> Result<String, StoreError> {
    let token = new_token(entropy);
    store
        .set_link_token(transmitter_id, token_hash(&token), by)
        .await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(account: &str) -> TransmitterInput {
        TransmitterInput {
            account: account.into(),
            site_name: "Villa Ek".into(),
            ..TransmitterInput::default()
        }
    }

    #[test]
    fn a_batch_is_refused_whole_with_every_problem_named() {
        let problems = validate_batch(vec![(4, input("1234")), (5, input("1234")), (6, input(""))])
            .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].entry, 5);
        assert_eq!(problems[0].trouble, Trouble::SameAs(4));
        assert_eq!(problems[1].entry, 6);
        assert!(matches!(
            problems[1].trouble,
            Trouble::Field {
                field: "account",
                ..
            }
        ));
        assert_eq!(
            validate_batch(vec![(0, input("1"))]).map(|t| t.len()),
            Ok(1)
        );
        assert_eq!(
            validate_batch(Vec::new()).unwrap_err()[0].trouble,
            Trouble::Empty
        );
    }
}
