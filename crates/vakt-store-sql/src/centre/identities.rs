//! Staff and their sessions.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use vakt_core::UnixMicros;
use vakt_core::centre::Role;
use vakt_store::Identities;
use vakt_store::{Actor, NewStaff, Session, Staff, StoreError};

use super::{Result, audit, get};
use crate::SqlStore;
use crate::{db, unavailable};

fn staff_row(row: &AnyRow) -> Result<Staff> {
    let role: String = get(row, "role")?;
    Ok(Staff {
        id: get(row, "id")?,
        login: get(row, "login")?,
        name: get(row, "name")?,
        role: Role::parse(&role).ok_or_else(|| unavailable(format!("unknown role {role}")))?,
        guard_company_id: get(row, "guard_company_id")?,
        language: get(row, "language")?,
    })
}

pub async fn create_staff(
    c: &mut AnyConnection,
    staff: NewStaff,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO staff (login, name, role, password_hash, guard_company_id, language)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&staff.login)
    .bind(&staff.name)
    .bind(staff.role.as_str())
    .bind(&staff.password_hash)
    .bind(staff.guard_company_id)
    .bind(&staff.language)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    audit(
        &mut tx,
        now,
        &by,
        "staff",
        Some(id),
        "created",
        None,
        Some(json!({ "login": staff.login, "name": staff.name, "role": staff.role, "guard_company_id": staff.guard_company_id })),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok(id)
}

pub async fn staff(pool: &AnyPool) -> Result<Vec<Staff>> {
    sqlx::query("SELECT * FROM staff ORDER BY name")
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(staff_row)
        .collect()
}

pub async fn staff_by_login(pool: &AnyPool, login: &str) -> Result<Staff> {
    let row = sqlx::query("SELECT * FROM staff WHERE login = $1")
        .bind(login.to_lowercase())
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    staff_row(&row)
}

pub async fn create_session(
    c: &mut AnyConnection,
    token_hash: String,
    staff_id: i64,
    csrf: String,
    now: UnixMicros,
    expires_at: UnixMicros,
) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE expires_at_us < $1")
        .bind(now.0)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, staff_id, csrf, created_at_us, expires_at_us) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(staff_id)
    .bind(csrf)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(())
}

pub async fn session(pool: &AnyPool, token_hash: &str, now: UnixMicros) -> Result<Session> {
    let row = sqlx::query(
        "SELECT s.*, x.csrf, x.expires_at_us FROM sessions x JOIN staff s ON s.id = x.staff_id
         WHERE x.token_hash = $1 AND x.expires_at_us > $2",
    )
    .bind(token_hash)
    .bind(now.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    Ok(Session {
        staff: staff_row(&row)?,
        csrf: get(&row, "csrf")?,
        expires_at: UnixMicros(get(&row, "expires_at_us")?),
    })
}

pub async fn end_session(c: &mut AnyConnection, token_hash: String) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    Ok(())
}

impl Identities for SqlStore {
    async fn create_staff(&self, staff: NewStaff, by: &Actor) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(create_staff(c, staff, by, now)))
            .await
    }

    async fn staff(&self) -> Result<Vec<Staff>> {
        staff(&self.readers).await
    }

    async fn staff_by_login(&self, login: &str) -> Result<Staff> {
        staff_by_login(&self.readers, login).await
    }

    async fn create_session(
        &self,
        token_hash: String,
        staff_id: i64,
        csrf: String,
        now: UnixMicros,
        expires_at: UnixMicros,
    ) -> Result<()> {
        self.job(move |c| {
            Box::pin(create_session(
                c, token_hash, staff_id, csrf, now, expires_at,
            ))
        })
        .await
    }

    async fn session(&self, token_hash: &str, now: UnixMicros) -> Result<Session> {
        session(&self.readers, token_hash, now).await
    }

    async fn end_session(&self, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.job(move |c| Box::pin(end_session(c, token_hash)))
            .await
    }
}
