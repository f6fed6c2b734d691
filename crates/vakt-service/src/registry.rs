//! Registry changes people make (customers, sites, contacts): what needs doing between a
//! validated form and the store, such as hashing each new password.

use vakt_core::identity::CivilDate;
use vakt_core::{Category, Entropy, UnixMicros};
use vakt_store::{Actor, GuardsAndKeys, NewContact, Sites, StoreError};

use crate::forms::{
    ContactForm, CustomerForm, GuardCompanyForm, PointForm, Problem, Problems, SiteForm, UserForm,
    ValidContact, validate_contacts, validate_points, validate_steps, validate_users,
};
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

/// What a registry change comes to: stored (with what the store returns), or the problems
/// with the input (`Ok(Err)`), nothing stored. `Err` is the store's failure.
pub type Changed<T> = Result<Result<T, Vec<Problem>>, StoreError>;

async fn store_valid<V, T, F>(valid: Result<V, Vec<Problem>>, store: F) -> Changed<T>
where
    F: AsyncFnOnce(V) -> Result<T, StoreError>,
{
    match valid {
        Ok(valid) => store(valid).await.map(Ok),
        Err(problems) => Ok(Err(problems)),
    }
}

/// Creates (`id` `None`) or updates a customer; a personnummer is checked against `now`'s
/// date. Returns the customer's id.
///
/// # Errors
/// The store's failure.
pub async fn save_customer(
    store: &impl Sites,
    id: Option<i64>,
    form: &CustomerForm,
    now: UnixMicros,
    by: &Actor,
) -> Changed<i64> {
    let valid = form.validate(today(now));
    store_valid(valid, async |customer| {
        store.save_customer(id, customer, by).await
    })
    .await
}

/// Creates (`id` `None`) or updates a site's own fields. Returns the site's id.
///
/// # Errors
/// The store's failure.
pub async fn save_site(
    store: &impl Sites,
    id: Option<i64>,
    form: &SiteForm,
    by: &Actor,
) -> Changed<i64> {
    store_valid(form.validate(), async |site| {
        store.save_site(id, site, by).await
    })
    .await
}

/// Replaces a site's alarm points.
///
/// # Errors
/// The store's failure.
pub async fn save_points(
    store: &impl Sites,
    site_id: i64,
    rows: &[PointForm],
    by: &Actor,
) -> Changed<()> {
    let valid = validate_points(rows);
    store_valid(valid, async |points| {
        store.save_points(site_id, points, by).await
    })
    .await
}

/// Replaces a site's panel users.
///
/// # Errors
/// The store's failure.
pub async fn save_users(
    store: &impl Sites,
    site_id: i64,
    rows: &[UserForm],
    by: &Actor,
) -> Changed<()> {
    let valid = validate_users(rows);
    store_valid(valid, async |users| {
        store.save_panel_users(site_id, users, by).await
    })
    .await
}

/// Replaces a site's contacts in call order, each new password hashed.
///
/// # Errors
/// The store's failure, or unusable hash settings.
pub async fn save_contacts(
    store: &impl Sites,
    (hasher, entropy): (&SecretHasher, &dyn Entropy),
    site_id: i64,
    rows: &[ContactForm],
    by: &Actor,
) -> Changed<()> {
    let valid = validate_contacts(rows);
    store_valid(valid, async |valid| {
        let contacts = hash_contacts(hasher, entropy, valid)?;
        store.save_contacts(site_id, contacts, by).await
    })
    .await
}

/// Sets a site's action instruction for one category: `(action, note)` rows in order.
///
/// # Errors
/// The store's failure.
pub async fn save_instruction(
    store: &impl Sites,
    site_id: i64,
    category: Category,
    rows: &[(String, String)],
    by: &Actor,
) -> Changed<()> {
    let valid = validate_steps(rows);
    store_valid(valid, async |steps| {
        store.save_instruction(site_id, category, steps, by).await
    })
    .await
}

/// Creates (`id` 0) or updates a guard company. Returns its id.
///
/// # Errors
/// The store's failure.
pub async fn save_guard_company(
    store: &impl GuardsAndKeys,
    id: i64,
    form: &GuardCompanyForm,
    by: &Actor,
) -> Changed<i64> {
    store_valid(form.validate(id), async |company| {
        store.save_guard_company(company, by).await
    })
    .await
}
