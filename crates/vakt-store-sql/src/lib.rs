//! The store's SQL, written once and run on both backends.
//!
//! The alarm centre and the registry are many small transactions with plain types (integers,
//! text, bytes), which both SQLite and PostgreSQL speak alike, so their queries are written
//! once over sqlx's `Any` driver instead of twice. Both schemas use the same column names and
//! 64-bit integers for ids, instants (µs) and flags, so one SQL text serves both. What differs
//! lives in the backends: the journal's hot path (native drivers), schema migrations, and
//! PostgreSQL's locks and notifications.
//!
//! Every write transaction starts with [`begin`]. On SQLite one writer task already runs the
//! writes one at a time; on PostgreSQL, where several nodes write, `begin` takes one
//! transaction-level advisory lock, so a read-then-write inside a transaction (is the incident
//! taken? is the key stored?) sees the same world it would on SQLite, and the changes are
//! announced to every node with `NOTIFY` when the transaction commits.

pub mod centre;
pub mod journal;
pub mod migrations;
pub mod registry;
pub mod rows;
pub mod store;

pub use store::{Backend, SqlStore};

use sqlx::{Any, AnyConnection, Connection, Transaction};
use vakt_store::StoreError;

/// The advisory lock that serialises the centre's write transactions across nodes.
pub const CENTRE_WRITE_LOCK: i64 = 0x7661_6b74_0001;
/// The advisory lock that serialises journal commits across nodes, so journal ids become
/// visible in order and duplicates are recognised whichever node received them.
pub const JOURNAL_LOCK: i64 = 0x7661_6b74_0002;
/// The channel on which PostgreSQL nodes announce changed incidents (the payload is the id).
pub const INCIDENT_CHANNEL: &str = "vakt_incidents";

/// Any database error as the store's "unavailable".
pub fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// Maps a database error: constraint violations are conflicts, the rest unavailability.
#[must_use]
pub fn db(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(inner) = &error {
        let message = inner.message().to_owned();
        match inner.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return StoreError::Conflict("already exists".into());
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::Conflict("refers to something that does not exist".into());
            }
            sqlx::error::ErrorKind::CheckViolation => return StoreError::Conflict(message),
            _ => {}
        }
        if message.contains("append-only") {
            return StoreError::Conflict(message);
        }
    }
    unavailable(error)
}

/// Whether a connection speaks to PostgreSQL.
#[must_use]
pub fn is_postgres(connection: &AnyConnection) -> bool {
    connection.backend_name().eq_ignore_ascii_case("postgresql")
}

/// Starts a write transaction (see the module comment).
///
/// # Errors
/// When the database cannot start it or the lock cannot be taken.
pub async fn begin(connection: &mut AnyConnection) -> Result<Transaction<'_, Any>, StoreError> {
    let mut tx = connection.begin().await.map_err(db)?;
    if is_postgres(&tx) {
        sqlx::query("SELECT count(*) FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
            .bind(CENTRE_WRITE_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    Ok(tx)
}

/// Tells every node that incidents changed, when the transaction commits (PostgreSQL only;
/// a single SQLite node announces them itself).
///
/// # Errors
/// When the notification cannot be queued.
pub async fn announce(connection: &mut AnyConnection, incidents: &[i64]) -> Result<(), StoreError> {
    if !is_postgres(connection) || incidents.is_empty() {
        return Ok(());
    }
    let payload = incidents
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query("SELECT count(*) FROM (SELECT pg_notify($1, $2)) AS sent")
        .bind(INCIDENT_CHANNEL)
        .bind(payload)
        .execute(&mut *connection)
        .await
        .map_err(db)?;
    Ok(())
}

/// A 0/1 flag column as a boolean.
///
/// # Errors
/// When the column is missing or not an integer.
pub fn flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, StoreError> {
    use sqlx::Row;
    row.try_get::<i64, _>(column)
        .map(|v| v != 0)
        .map_err(unavailable)
}
