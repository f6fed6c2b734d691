//! Identities (staff and customer logins), their sessions, and API clients.
//!
//! A staff member and their identity are written in one transaction, so no staff row is ever
//! without its login. A session belongs to an identity; reading one joins whichever subject
//! (staff or customer) the identity is the login of.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use vakt_core::UnixMicros;
use vakt_core::access::{parse_scopes, scopes_text};
use vakt_core::centre::Role;
use vakt_store::{
    Actor, ApiClient, CustomerLogin, Identities, Identity, NewApiClient, NewCustomerLogin,
    NewStaff, Session, Staff, StoreError, Subject,
};

use super::{Result, audit, get, micros};
use crate::{SqlStore, db, unavailable};

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

/// The columns [`identity_row`] reads: the identity and whichever subject it belongs to.
const IDENTITY_COLUMNS: &str = "i.id AS identity_id, i.login AS identity_login,
    i.staff_id, i.customer_id,
    s.id, s.login, s.name, s.role, s.guard_company_id, s.language,
    c.name AS customer_name, c.language AS customer_language";
/// The identity `i`'s subject, joined.
const SUBJECT_JOINS: &str = "LEFT JOIN staff s ON s.id = i.staff_id
    LEFT JOIN customers c ON c.id = i.customer_id";

fn identity_row(row: &AnyRow) -> Result<Identity> {
    let staff_id: Option<i64> = get(row, "staff_id")?;
    let subject = match staff_id {
        Some(_) => Subject::Staff(staff_row(row)?),
        None => Subject::Customer(CustomerLogin {
            customer_id: get(row, "customer_id")?,
            name: get(row, "customer_name")?,
            language: get(row, "customer_language")?,
        }),
    };
    Ok(Identity {
        id: get(row, "identity_id")?,
        login: get(row, "identity_login")?,
        subject,
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
        "INSERT INTO staff (login, name, role, guard_company_id, language)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&staff.login)
    .bind(&staff.name)
    .bind(staff.role.as_str())
    .bind(staff.guard_company_id)
    .bind(&staff.language)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        "INSERT INTO identities (login, password_hash, staff_id, created_at_us)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&staff.login)
    .bind(&staff.password_hash)
    .bind(id)
    .bind(now.0)
    .execute(&mut *tx)
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

pub async fn create_customer_login(
    c: &mut AnyConnection,
    login: NewCustomerLogin,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
        .bind(login.customer_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    if known.is_none() {
        return Err(StoreError::NotFound);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO identities (login, password_hash, customer_id, created_at_us)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&login.login)
    .bind(&login.password_hash)
    .bind(login.customer_id)
    .bind(now.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    audit(
        &mut tx,
        now,
        &by,
        "customer_login",
        Some(login.customer_id),
        "created",
        None,
        Some(json!({ "identity_id": id, "login": login.login })),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok(id)
}

pub async fn identity_by_login(pool: &AnyPool, login: &str) -> Result<Identity> {
    let sql =
        format!("SELECT {IDENTITY_COLUMNS} FROM identities i {SUBJECT_JOINS} WHERE i.login = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(login.to_lowercase())
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    identity_row(&row)
}

pub async fn create_session(
    c: &mut AnyConnection,
    token_hash: String,
    identity_id: i64,
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
        "INSERT INTO sessions (token_hash, identity_id, csrf, created_at_us, expires_at_us)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(identity_id)
    .bind(csrf)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(())
}

pub async fn session(pool: &AnyPool, token_hash: &str, now: UnixMicros) -> Result<Session> {
    let sql = format!(
        "SELECT x.csrf, x.expires_at_us, {IDENTITY_COLUMNS}
         FROM sessions x JOIN identities i ON i.id = x.identity_id {SUBJECT_JOINS}
         WHERE x.token_hash = $1 AND x.expires_at_us > $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    Ok(Session {
        identity: identity_row(&row)?,
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

// --- API clients ---

fn client_row(row: &AnyRow) -> Result<ApiClient> {
    let scopes: String = get(row, "scopes")?;
    Ok(ApiClient {
        id: get(row, "id")?,
        name: get(row, "name")?,
        scopes: parse_scopes(&scopes).map_err(|w| unavailable(format!("unknown scope {w}")))?,
        created_at: UnixMicros(get(row, "created_at_us")?),
        created_by: get(row, "created_by")?,
        revoked_at: micros(get(row, "revoked_at_us")?),
    })
}

fn client_json(client: &NewApiClient) -> serde_json::Value {
    json!({ "name": client.name, "scopes": scopes_text(&client.scopes) })
}

pub async fn create_api_client(
    c: &mut AnyConnection,
    client: NewApiClient,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let id = insert_client(&mut tx, &client, &by, now).await?;
    tx.commit().await.map_err(db)?;
    Ok(id)
}

async fn insert_client(
    tx: &mut AnyConnection,
    client: &NewApiClient,
    by: &Actor,
    now: UnixMicros,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_clients (name, token_hash, scopes, created_at_us, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&client.name)
    .bind(&client.token_hash)
    .bind(scopes_text(&client.scopes))
    .bind(now.0)
    .bind(&by.name)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    let after = client_json(client);
    audit(
        tx,
        now,
        by,
        "api_client",
        Some(id),
        "created",
        None,
        Some(after),
    )
    .await?;
    Ok(id)
}

pub async fn api_clients(pool: &AnyPool) -> Result<Vec<ApiClient>> {
    sqlx::query("SELECT * FROM api_clients ORDER BY id")
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(client_row)
        .collect()
}

pub async fn api_client(pool: &AnyPool, token_hash: &str) -> Result<Option<ApiClient>> {
    sqlx::query("SELECT * FROM api_clients WHERE token_hash = $1 AND revoked_at_us IS NULL")
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(client_row)
        .transpose()
}

pub async fn revoke_api_client(
    c: &mut AnyConnection,
    id: i64,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    let done = sqlx::query(
        "UPDATE api_clients SET revoked_at_us = $1 WHERE id = $2 AND revoked_at_us IS NULL",
    )
    .bind(now.0)
    .bind(id)
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
        "api_client",
        Some(id),
        "revoked",
        None,
        None,
    )
    .await?;
    tx.commit().await.map_err(db)
}

pub async fn keep_api_client(
    c: &mut AnyConnection,
    client: NewApiClient,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let existing: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, token_hash, scopes FROM api_clients WHERE name = $1")
            .bind(&client.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    let scopes = scopes_text(&client.scopes);
    let id = match existing {
        Some((id, hash, held)) if hash == client.token_hash && held == scopes => id,
        Some((id, _, _)) => {
            sqlx::query(
                "UPDATE api_clients SET token_hash = $1, scopes = $2, revoked_at_us = NULL
                 WHERE id = $3",
            )
            .bind(&client.token_hash)
            .bind(&scopes)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            let after = client_json(&client);
            audit(
                &mut tx,
                now,
                &by,
                "api_client",
                Some(id),
                "token replaced",
                None,
                Some(after),
            )
            .await?;
            id
        }
        None => insert_client(&mut tx, &client, &by, now).await?,
    };
    tx.commit().await.map_err(db)?;
    Ok(id)
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

    async fn create_customer_login(&self, login: NewCustomerLogin, by: &Actor) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(create_customer_login(c, login, by, now)))
            .await
    }

    async fn identity_by_login(&self, login: &str) -> Result<Identity> {
        identity_by_login(&self.readers, login).await
    }

    async fn create_session(
        &self,
        token_hash: String,
        identity_id: i64,
        csrf: String,
        now: UnixMicros,
        expires_at: UnixMicros,
    ) -> Result<()> {
        self.job(move |c| {
            Box::pin(create_session(
                c,
                token_hash,
                identity_id,
                csrf,
                now,
                expires_at,
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

    async fn create_api_client(&self, client: NewApiClient, by: &Actor) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(create_api_client(c, client, by, now)))
            .await
    }

    async fn api_clients(&self) -> Result<Vec<ApiClient>> {
        api_clients(&self.readers).await
    }

    async fn api_client(&self, token_hash: &str) -> Result<Option<ApiClient>> {
        api_client(&self.readers, token_hash).await
    }

    async fn revoke_api_client(&self, id: i64, by: &Actor, now: UnixMicros) -> Result<()> {
        let by = by.clone();
        self.job(move |c| Box::pin(revoke_api_client(c, id, by, now)))
            .await
    }

    async fn keep_api_client(&self, client: NewApiClient, by: &Actor) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(keep_api_client(c, client, by, now)))
            .await
    }
}
