//! Registry changes people make (customers, sites, contacts): what needs doing between a
//! validated form and the store, such as hashing each new password.

use vakt_core::identity::CivilDate;
use vakt_core::{Entropy, UnixMicros};
use vakt_store::{Actor, NewContact, Sites, StoreError};

use crate::forms::{Problem, Problems, ValidContact};
use crate::secret::SecretHasher;

/// Contacts ready to store: each new password hashed, none kept in plain.
///
/// # Errors
/// When hashing fails (unusable hash settings).
pub fn hash_contacts(
    hasher: &SecretHasher,
    entropy: &dyn Entropy,
    contacts: Vec<ValidContact>,
) -> Result<Vec<NewContact>, StoreError> {
    contacts
        .into_iter()
        .map(|c| {
            let password_hash = c
                .password
                .as_deref()
                .map(|p| hasher.hash(p, entropy))
                .transpose()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Ok(NewContact {
                id: c.id,
                name: c.name,
                phone: c.phone,
                authority: c.authority,
                hours: c.hours,
                password_hash,
            })
        })
        .collect()
}

/// Today's civil date in Sweden at `now`, for checking personal numbers.
#[must_use]
pub fn today(now: UnixMicros) -> CivilDate {
    let fallback = CivilDate {
        year: 2000,
        month: 1,
        day: 1,
    };
    let Some(date) = vakt_core::calendar::date_of(now) else {
        return fallback;
    };
    CivilDate {
        year: i32::from(date.year()),
        month: u32::try_from(date.month()).unwrap_or(1),
        day: u32::try_from(date.day()).unwrap_or(1),
    }
}

/// Sets a site's revoking code (the word that lets a caller cancel an alarm), hashed.
///
/// # Errors
/// The problems with the code (`Ok(Err)`), or the store's failure.
pub async fn set_revoking_code(
    store: &impl Sites,
    hasher: &SecretHasher,
    entropy: &dyn Entropy,
    site_id: i64,
    code: &str,
    by: &Actor,
) -> Result<Result<(), Vec<Problem>>, StoreError> {
    let mut problems = Problems::default();
    problems.secret("code", code);
    if let Err(problems) = problems.finish(()) {
        return Ok(Err(problems));
    }
    let hash = hasher
        .hash(code, entropy)
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    store.set_revoking_code(site_id, hash, by).await.map(Ok)
}
