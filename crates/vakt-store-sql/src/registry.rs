//! The transmitter registry's SQL, on either backend.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
use vakt_dc09::{Dialect, Key, KeyForm, Window};
use vakt_store::seal::KeySeal;
use vakt_store::{
    ImportOutcome, NewTransmitter, Site, StoreError, StoredKey, TimestampPolicy, Transmitter,
};

use vakt_core::UnixMicros;
use vakt_store::Actor;

use crate::centre::audit;
use crate::{db, unavailable};

/// How keys are kept at rest: sealed under the server secret, or (stores opened without one,
/// in tests and tools that never meet a sealed key) in the clear.
pub type Seal = Option<std::sync::Arc<KeySeal>>;

/// A key as it is written: sealed when a seal is given.
fn key_at_rest(seal: &Seal, key: &[u8]) -> Vec<u8> {
    match seal {
        Some(seal) => seal.seal(key, rand::random()),
        None => key.to_vec(),
    }
}

const SELECT_ALL: &str = "SELECT t.*, s.name AS site_name, s.address AS site_address
    FROM transmitters t JOIN sites s ON s.id = t.site_id
    ORDER BY t.account, t.receiver, t.prefix";

pub async fn transmitters(pool: &AnyPool, seal: &Seal) -> Result<Vec<Transmitter>, StoreError> {
    let rows = sqlx::query(SELECT_ALL)
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
    rows.iter().map(|row| transmitter(row, seal)).collect()
}

/// Seals every key still stored in the clear (written by an older Vakt); returns how many.
pub async fn seal_stored_keys(
    connection: &mut AnyConnection,
    seal: Seal,
) -> Result<usize, StoreError> {
    let Some(sealer) = seal.as_ref() else {
        return Ok(0);
    };
    let mut transaction = crate::begin(connection).await?;
    let keys: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, key_bytes FROM transmitters WHERE key_bytes IS NOT NULL")
            .fetch_all(&mut *transaction)
            .await
            .map_err(unavailable)?;
    let mut sealed = 0;
    for (id, stored) in keys {
        // Opening checks the sealed ones too: a changed server secret is found here, at
        // start-up, not when a panel's first frame cannot be decrypted.
        let plain = sealer.open(&stored).map_err(unavailable)?;
        if vakt_store::seal::is_sealed(&stored) {
            continue;
        }
        sqlx::query("UPDATE transmitters SET key_bytes = $1 WHERE id = $2")
            .bind(key_at_rest(&seal, &plain))
            .bind(id)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        sealed += 1;
    }
    transaction.commit().await.map_err(unavailable)?;
    Ok(sealed)
}

pub async fn link_transmitter(
    pool: &AnyPool,
    token_hash: &str,
    seal: &Seal,
) -> Result<Option<Transmitter>, StoreError> {
    let row = sqlx::query(
        "SELECT t.*, s.name AS site_name, s.address AS site_address
         FROM transmitters t JOIN sites s ON s.id = t.site_id
         WHERE t.link_token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?;
    row.as_ref().map(|row| transmitter(row, seal)).transpose()
}

pub async fn revision(pool: &AnyPool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT revision FROM registry_revision WHERE id = 1")
        .fetch_one(pool)
        .await
        .map_err(unavailable)
}

/// An integer column in a narrower type; out of range is a decode error.
fn number<T: TryFrom<i64>>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let value: i64 = row.try_get(column).map_err(unavailable)?;
    T::try_from(value).map_err(|_| unavailable(format!("{column} out of range: {value}")))
}

fn transmitter(row: &AnyRow, seal: &Seal) -> Result<Transmitter, StoreError> {
    let get_error = |e: sqlx::Error| StoreError::Unavailable(e.to_string());
    let key_bytes: Option<Vec<u8>> = row.try_get("key_bytes").map_err(get_error)?;
    let key_form: Option<String> = row.try_get("key_form").map_err(get_error)?;
    let key = match (key_bytes, key_form) {
        (Some(bytes), Some(form)) => Some(StoredKey {
            key: Key::from_bytes(&match seal {
                Some(seal) => seal.open(&bytes).map_err(unavailable)?,
                None => bytes,
            })
            .map_err(unavailable)?,
            form: KeyForm::parse(&form).map_err(unavailable)?,
        }),
        _ => None,
    };
    let policy: String = row.try_get("timestamp_policy").map_err(get_error)?;
    let dialect: String = row.try_get("dialect").map_err(get_error)?;
    let optional = |text: String| (!text.is_empty()).then_some(text);
    Ok(Transmitter {
        id: row.try_get("id").map_err(get_error)?,
        site_id: row.try_get("site_id").map_err(get_error)?,
        spec: NewTransmitter {
            account: row.try_get("account").map_err(get_error)?,
            receiver: optional(row.try_get("receiver").map_err(get_error)?),
            prefix: optional(row.try_get("prefix").map_err(get_error)?),
            key,
            supervision_interval_s: number(row, "supervision_interval_s")?,
            timestamp_policy: TimestampPolicy::parse(&policy).unwrap_or_default(),
            window: Window {
                behind_s: number(row, "window_behind_s")?,
                ahead_s: number(row, "window_ahead_s")?,
            },
            clock_offset_s: number(row, "clock_offset_s")?,
            dialect: serde_json::from_str::<Dialect>(&dialect).unwrap_or_default(),
            site: Site {
                name: row.try_get("site_name").map_err(get_error)?,
                address: row.try_get("site_address").map_err(get_error)?,
            },
        },
    })
}

pub async fn import(
    connection: &mut AnyConnection,
    transmitters: Vec<NewTransmitter>,
    seal: Seal,
) -> Result<ImportOutcome, StoreError> {
    let mut transaction = crate::begin(connection).await?;
    let mut outcome = ImportOutcome::default();
    for spec in transmitters {
        sqlx::query("INSERT INTO sites (name, address) VALUES ($1, $2) ON CONFLICT (name, address) DO NOTHING")
            .bind(&spec.site.name)
            .bind(&spec.site.address)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        let site_id: i64 =
            sqlx::query_scalar("SELECT id FROM sites WHERE name = $1 AND address = $2")
                .bind(&spec.site.name)
                .bind(&spec.site.address)
                .fetch_one(&mut *transaction)
                .await
                .map_err(unavailable)?;
        let reference = spec.reference();
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM transmitters WHERE account = $1 AND receiver = $2 AND prefix = $3",
        )
        .bind(&reference.account)
        .bind(&reference.receiver)
        .bind(&reference.prefix)
        .fetch_optional(&mut *transaction)
        .await
        .map_err(unavailable)?;
        if existing.is_some() {
            outcome.updated += 1;
        } else {
            outcome.created += 1;
        }
        sqlx::query(
            "INSERT INTO transmitters (account, receiver, prefix, key_bytes, key_form, supervision_interval_s,
                 timestamp_policy, window_behind_s, window_ahead_s, clock_offset_s, dialect, site_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (account, receiver, prefix) DO UPDATE SET
                 key_bytes = excluded.key_bytes, key_form = excluded.key_form,
                 supervision_interval_s = excluded.supervision_interval_s,
                 timestamp_policy = excluded.timestamp_policy, window_behind_s = excluded.window_behind_s,
                 window_ahead_s = excluded.window_ahead_s, clock_offset_s = excluded.clock_offset_s,
                 dialect = excluded.dialect, site_id = excluded.site_id",
        )
        .bind(&reference.account)
        .bind(&reference.receiver)
        .bind(&reference.prefix)
        .bind(spec.key.as_ref().map(|k| key_at_rest(&seal, k.key.as_bytes())))
        .bind(spec.key.as_ref().map(|k| k.form.as_str()))
        .bind(i64::from(spec.supervision_interval_s))
        .bind(spec.timestamp_policy.as_str())
        .bind(i64::from(spec.window.behind_s))
        .bind(i64::from(spec.window.ahead_s))
        .bind(i64::from(spec.clock_offset_s))
        .bind(serde_json::to_string(&spec.dialect).unwrap_or_else(|_| "{}".to_owned()))
        .bind(site_id)
        .execute(&mut *transaction)
        .await
        .map_err(unavailable)?;
    }
    bump_revision(&mut transaction).await?;
    transaction.commit().await.map_err(unavailable)?;
    Ok(outcome)
}

pub async fn delete(connection: &mut AnyConnection, id: i64) -> Result<(), StoreError> {
    let mut transaction = crate::begin(connection).await?;
    let deleted = sqlx::query("DELETE FROM transmitters WHERE id = $1")
        .bind(id)
        .execute(&mut *transaction)
        .await
        .map_err(unavailable)?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    bump_revision(&mut transaction).await?;
    transaction.commit().await.map_err(unavailable)
}

async fn bump_revision(connection: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE registry_revision SET revision = revision + 1 WHERE id = 1")
        .execute(&mut *connection)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Gives a transmitter's panel a new link token (its hash), audited.
pub async fn set_link_token(
    c: &mut AnyConnection,
    transmitter_id: i64,
    token_hash: String,
    by: Actor,
    now: UnixMicros,
) -> Result<(), StoreError> {
    let mut tx = crate::begin(c).await?;
    let done = sqlx::query("UPDATE transmitters SET link_token_hash = $1 WHERE id = $2")
        .bind(token_hash)
        .bind(transmitter_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    audit(
        &mut tx,
        now,
        &by,
        "transmitter",
        Some(transmitter_id),
        "panel link token issued",
        None,
        None,
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok(())
}
