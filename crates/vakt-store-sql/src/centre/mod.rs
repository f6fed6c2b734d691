//! The alarm centre's SQL, one file per port: reads on the pool, writes as jobs in turn.
//!
//! Every write is one transaction that also writes its audit entry (registry changes) or its
//! incident log entry (operator actions), so a change and its record stand or fall together.
//! Registry changes bump the registry revision, which the receiver and the engine watch.
//! "Exactly one operator takes an incident" holds because the take is a conditional UPDATE on
//! the single writer: the second one finds an owner and gets a conflict naming them.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vakt_core::centre::StepOutcome;
use vakt_core::{Category, Condition, UnixMicros};
use vakt_store::{Actor, NewMessage, StoreError};

use crate::{db, unavailable};

mod audit;
mod engine;
mod identities;
mod incidents;
mod keys;
mod secrets;
mod sites;

type Result<T> = std::result::Result<T, StoreError>;

fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(unavailable)
}

fn micros(value: Option<i64>) -> Option<UnixMicros> {
    value.map(UnixMicros)
}

fn category(text: &str) -> Category {
    Category::ALL
        .into_iter()
        .find(|c| c.as_str() == text)
        .unwrap_or(Category::Unknown)
}

fn condition(text: &str) -> Condition {
    match text {
        "restore" => Condition::Restore,
        "status" => Condition::Status,
        _ => Condition::New,
    }
}

fn condition_str(condition: Condition) -> &'static str {
    match condition {
        Condition::New => "new",
        Condition::Restore => "restore",
        Condition::Status => "status",
    }
}

fn u32_of(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

// --- writing helpers ---

#[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
pub(crate) async fn audit(
    tx: &mut AnyConnection,
    now: UnixMicros,
    by: &Actor,
    entity: &str,
    entity_id: Option<i64>,
    action: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at_us, actor, entity, entity_id, action, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now.0)
    .bind(&by.name)
    .bind(entity)
    .bind(entity_id)
    .bind(action)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
}

async fn bump_revision(tx: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE registry_revision SET revision = revision + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
async fn log(
    tx: &mut AnyConnection,
    incident_id: i64,
    at: UnixMicros,
    actor: &str,
    action: &str,
    step: Option<u32>,
    outcome: Option<StepOutcome>,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO incident_log (incident_id, at_us, actor, action, step, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(incident_id)
    .bind(at.0)
    .bind(actor)
    .bind(action)
    .bind(step.map(i64::from))
    .bind(outcome.map(StepOutcome::as_str))
    .bind(detail)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
}

async fn enqueue(tx: &mut AnyConnection, message: &NewMessage, now: UnixMicros) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (channel, recipient, subject, body, created_at_us, next_attempt_at_us)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(message.channel)
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.body)
    .bind(now.0)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
}
