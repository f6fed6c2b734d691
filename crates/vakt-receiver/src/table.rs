//! The receiver's in-memory view of the registry: account to transmitter, swapped whole
//! when the registry changes so a lookup never waits for the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use vakt_store::Transmitter;

/// Transmitters by account.
#[derive(Debug, Default)]
pub struct TransmitterTable {
    by_account: HashMap<String, Vec<Transmitter>>,
}

impl TransmitterTable {
    /// A table of these transmitters.
    #[must_use]
    pub fn new(transmitters: Vec<Transmitter>) -> TransmitterTable {
        let mut by_account: HashMap<String, Vec<Transmitter>> = HashMap::new();
        for transmitter in transmitters {
            by_account
                .entry(transmitter.spec.account.to_ascii_uppercase())
                .or_default()
                .push(transmitter);
        }
        TransmitterTable { by_account }
    }

    /// The transmitter for an account as a frame names it. A registered receiver number or
    /// prefix must match (a missing prefix matches an account whose dialect allows that);
    /// among several matches the most specific wins. Accounts compare
    /// without regard to case (hex digits).
    #[must_use]
    pub fn find(
        &self,
        account: &str,
        receiver: Option<&str>,
        prefix: &str,
    ) -> Option<&Transmitter> {
        let candidates = self.by_account.get(&account.to_ascii_uppercase())?;
        let same = |registered: &Option<String>, sent: Option<&str>| match registered {
            None => Some(0),
            Some(wanted) => sent.filter(|s| s.eq_ignore_ascii_case(wanted)).map(|_| 1),
        };
        candidates
            .iter()
            .filter_map(|t| {
                let receiver_score = same(&t.spec.receiver, receiver)?;
                // A panel whose dialect leaves the prefix out still finds its account.
                let prefix_score = same(&t.spec.prefix, Some(prefix)).or_else(|| {
                    (prefix.is_empty() && t.spec.dialect.prefix_optional).then_some(0)
                })?;
                Some((receiver_score + prefix_score, t))
            })
            .max_by_key(|(score, _)| *score)
            .map(|(_, t)| t)
    }

    /// How many transmitters.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_account.values().map(Vec::len).sum()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_account.is_empty()
    }
}

/// A shared, swappable table.
#[derive(Clone, Debug, Default)]
pub struct TableHandle(Arc<RwLock<Arc<TransmitterTable>>>);

impl TableHandle {
    /// The current table.
    #[must_use]
    pub fn current(&self) -> Arc<TransmitterTable> {
        self.0.read().map(|t| t.clone()).unwrap_or_default()
    }

    /// Replaces the table.
    pub fn replace(&self, table: TransmitterTable) {
        if let Ok(mut current) = self.0.write() {
            *current = Arc::new(table);
        }
    }
}
