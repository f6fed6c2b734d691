//! The audit log and the outbox: messages claimed for a lease so one deliverer sends each.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe};
use vakt_core::UnixMicros;
use vakt_store::AuditAndOutbox;
use vakt_store::{AuditEntry, OutboxMessage};

use super::{Result, get, micros, u32_of};
use crate::SqlStore;
use crate::db;

pub async fn audit_entries(
    pool: &AnyPool,
    entity: Option<String>,
    entity_id: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    sqlx::query(
        "SELECT * FROM audit WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2)
         ORDER BY id DESC LIMIT $3",
    )
    .bind(entity)
    .bind(entity_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(|r| {
        Ok(AuditEntry {
            id: get(r, "id")?,
            at: UnixMicros(get(r, "at_us")?),
            actor: get(r, "actor")?,
            entity: get(r, "entity")?,
            entity_id: get(r, "entity_id")?,
            action: get(r, "action")?,
            before: get(r, "before")?,
            after: get(r, "after")?,
        })
    })
    .collect()
}

fn message_row(r: &AnyRow) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: get(r, "id")?,
        channel: get(r, "channel")?,
        recipient: get(r, "recipient")?,
        subject: get(r, "subject")?,
        body: get(r, "body")?,
        attempts: u32_of(get(r, "attempts")?).unwrap_or_default(),
        delivered_at: micros(get(r, "delivered_at_us")?),
        last_error: get(r, "last_error")?,
    })
}

pub async fn claim_messages(
    c: &mut AnyConnection,
    now: UnixMicros,
    limit: u32,
    lease_us: i64,
) -> Result<Vec<OutboxMessage>> {
    // On PostgreSQL several nodes claim at once: rows another node is claiming are skipped,
    // not waited for, and once it commits their claim keeps them out of every other query.
    // SQLite's one writer claims one batch at a time and has no row locks to skip.
    let skip_locked = if crate::is_postgres(c) {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "UPDATE outbox SET claimed_until_us = $1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM outbox WHERE delivered_at_us IS NULL AND next_attempt_at_us <= $2
                      AND (claimed_until_us IS NULL OR claimed_until_us < $2) ORDER BY id LIMIT $3{skip_locked})
         RETURNING *"
    )))
    .bind(now.0 + lease_us)
    .bind(now.0)
    .bind(i64::from(limit))
    .fetch_all(&mut *c)
    .await
    .map_err(db)?;
    rows.iter().map(message_row).collect()
}

pub async fn message_delivered(c: &mut AnyConnection, id: i64, now: UnixMicros) -> Result<()> {
    sqlx::query("UPDATE outbox SET delivered_at_us = $1, claimed_until_us = NULL, last_error = NULL WHERE id = $2")
        .bind(now.0)
        .bind(id)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    Ok(())
}

pub async fn message_failed(
    c: &mut AnyConnection,
    id: i64,
    error: String,
    retry_at: Option<UnixMicros>,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET last_error = $1, claimed_until_us = NULL, next_attempt_at_us = coalesce($2, 9223372036854775807) WHERE id = $3",
    )
    .bind(error)
    .bind(retry_at.map(|t| t.0))
    .bind(id)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(())
}

pub async fn messages(pool: &AnyPool, limit: u32) -> Result<Vec<OutboxMessage>> {
    sqlx::query("SELECT * FROM outbox ORDER BY id DESC LIMIT $1")
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(message_row)
        .collect()
}

impl AuditAndOutbox for SqlStore {
    async fn audit(
        &self,
        entity: Option<String>,
        entity_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        audit_entries(&self.readers, entity, entity_id, limit).await
    }

    async fn claim_messages(
        &self,
        now: UnixMicros,
        limit: u32,
        lease_us: i64,
    ) -> Result<Vec<OutboxMessage>> {
        self.job(move |c| Box::pin(claim_messages(c, now, limit, lease_us)))
            .await
    }

    async fn message_delivered(&self, id: i64, now: UnixMicros) -> Result<()> {
        self.job(move |c| Box::pin(message_delivered(c, id, now)))
            .await
    }

    async fn message_failed(
        &self,
        id: i64,
        error: String,
        retry_at: Option<UnixMicros>,
    ) -> Result<()> {
        self.job(move |c| Box::pin(message_failed(c, id, error, retry_at)))
            .await
    }

    async fn messages(&self, limit: u32) -> Result<Vec<OutboxMessage>> {
        messages(&self.readers, limit).await
    }
}
