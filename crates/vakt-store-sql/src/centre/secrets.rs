//! Secret hashes and their lockouts: a check begins with one conditional write that counts
//! the attempt before anyone compares.

use sqlx::{AnyConnection, AnyPool, AssertSqlSafe};
use vakt_core::UnixMicros;
use vakt_core::lockout::{self, Attempt, Lockout};
use vakt_store::Secrets;
use vakt_store::{CheckStart, SecretRef, SecretState, StoreError};

use super::{Result, get, micros, u32_of};
use crate::SqlStore;
use crate::db;

/// Where a secret lives: table, hash column, failure-count column, lock column, row id.
fn secret_columns(
    which: SecretRef,
) -> (&'static str, &'static str, &'static str, &'static str, i64) {
    match which {
        SecretRef::Contact(id) => (
            "contacts",
            "password_hash",
            "failures",
            "locked_until_us",
            id,
        ),
        SecretRef::RevokingCode(id) => (
            "sites",
            "revoking_code_hash",
            "revoking_failures",
            "revoking_locked_until_us",
            id,
        ),
        SecretRef::Login(id) => (
            "identities",
            "password_hash",
            "failures",
            "locked_until_us",
            id,
        ),
    }
}

async fn secret_in(c: &mut AnyConnection, which: SecretRef) -> Result<SecretState> {
    let (table, hash, failures, locked, id) = secret_columns(which);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {hash} AS hash, {failures} AS failures, {locked} AS locked FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *c)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    Ok(SecretState {
        hash: get(&row, "hash")?,
        failures: u32_of(get(&row, "failures")?).unwrap_or_default(),
        locked_until: micros(get(&row, "locked")?),
    })
}

pub async fn secret(pool: &AnyPool, which: SecretRef) -> Result<SecretState> {
    let mut c = pool.acquire().await.map_err(db)?;
    secret_in(&mut c, which).await
}

pub async fn begin_check(
    c: &mut AnyConnection,
    which: SecretRef,
    now: UnixMicros,
    policy: Lockout,
) -> Result<CheckStart> {
    let mut tx = crate::begin(c).await?;
    let state = secret_in(&mut tx, which).await?;
    let Some(hash) = state.hash else {
        return Ok(CheckStart::NotSet);
    };
    let (failures, locked_until) =
        match lockout::attempt(policy, state.failures, state.locked_until, now) {
            Attempt::Refused { until } => return Ok(CheckStart::Locked(until)),
            Attempt::Counted {
                failures,
                locked_until,
            } => (failures, locked_until),
        };
    write_check(&mut tx, which, failures, locked_until).await?;
    tx.commit().await.map_err(db)?;
    Ok(CheckStart::Check {
        hash,
        locks: locked_until.is_some(),
    })
}

pub async fn check_passed(c: &mut AnyConnection, which: SecretRef) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    write_check(&mut tx, which, 0, None).await?;
    tx.commit().await.map_err(db)
}

async fn write_check(
    c: &mut AnyConnection,
    which: SecretRef,
    failures: u32,
    locked_until: Option<UnixMicros>,
) -> Result<()> {
    let (table, _, failures_column, locked_column, id) = secret_columns(which);
    let done = sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} SET {failures_column} = $1, {locked_column} = $2 WHERE id = $3"
    )))
    .bind(i64::from(failures))
    .bind(locked_until.map(|t| t.0))
    .bind(id)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

impl Secrets for SqlStore {
    async fn secret(&self, which: SecretRef) -> Result<SecretState> {
        secret(&self.readers, which).await
    }

    async fn begin_check(
        &self,
        which: SecretRef,
        now: UnixMicros,
        policy: vakt_core::lockout::Lockout,
    ) -> Result<CheckStart> {
        self.job(move |c| Box::pin(begin_check(c, which, now, policy)))
            .await
    }

    async fn check_passed(&self, which: SecretRef) -> Result<()> {
        self.job(move |c| Box::pin(check_passed(c, which))).await
    }
}
