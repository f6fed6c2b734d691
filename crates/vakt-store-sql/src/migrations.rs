//! Schemas embedded in the binary and applied with sqlx's migrator.
//!
//! The migrations are listed once, by hand rather than by sqlx's macro (which keeps its macro
//! crate out of the build), each with its SQL for both backends: a migration for one backend
//! alone cannot be written. Never edit an applied migration: add the next one. On PostgreSQL the migrator holds an advisory lock while it
//! runs, so nodes that start at the same moment apply each migration once.

use std::borrow::Cow;

use sqlx::migrate::{Migrate, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use vakt_store::StoreError;

use crate::unavailable;

/// The database a migration is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (`migrations/sqlite`).
    Sqlite,
    /// PostgreSQL (`migrations/postgres`).
    Postgres,
}

/// One migration: its version, a description and its SQL for each backend.
#[derive(Debug)]
struct Step {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! step {
    ($version:literal, $description:literal, $file:literal) => {
        Step {
            version: $version,
            description: $description,
            sqlite: include_str!(concat!("../migrations/sqlite/", $file)),
            postgres: include_str!(concat!("../migrations/postgres/", $file)),
        }
    };
}

/// Every migration, oldest first.
const STEPS: &[Step] = &[
    step!(1, "signal path", "0001_signal_path.sql"),
    step!(2, "alarm centre", "0002_alarm_centre.sql"),
    step!(3, "panel link", "0003_panel_link.sql"),
    step!(4, "engine shards", "0004_engine_shards.sql"),
    step!(5, "point alarms", "0005_point_alarms.sql"),
    step!(6, "identities", "0006_identities.sql"),
];

#[derive(Debug)]
struct Embedded(Dialect, i64);

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(STEPS
                .iter()
                .filter(|step| step.version <= self.1)
                .map(|step| {
                    let sql = match self.0 {
                        Dialect::Sqlite => step.sqlite,
                        Dialect::Postgres => step.postgres,
                    };
                    Migration::new(
                        step.version,
                        Cow::Borrowed(step.description),
                        MigrationType::Simple,
                        AssertSqlSafe(sql).into_sql_str(),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies every migration not yet applied, in `dialect`.
///
/// # Errors
/// When a migration fails or the database cannot be reached.
pub async fn run<C>(connection: &mut C, dialect: Dialect) -> Result<(), StoreError>
where
    C: Migrate + Send,
{
    run_to(connection, dialect, i64::MAX).await
}

/// Applies the migrations up to and including version `last`: an older Vakt's schema, for
/// tests that upgrade one.
///
/// # Errors
/// When a migration fails or the database cannot be reached.
pub async fn run_to<C>(connection: &mut C, dialect: Dialect, last: i64) -> Result<(), StoreError>
where
    C: Migrate + Send,
{
    let migrator = Migrator::new(Embedded(dialect, last))
        .await
        .map_err(unavailable)?;
    migrator
        .run_direct(None, connection, false)
        .await
        .map_err(unavailable)
}
