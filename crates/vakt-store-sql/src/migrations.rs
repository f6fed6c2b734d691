//! Schemas embedded in the binary and applied with sqlx's migrator.
//!
//! Each backend lists its own migrations by hand rather than by a macro, which keeps sqlx's
//! macro crate out of the build. Never edit an applied migration: add the next one, for both
//! backends, in the same change. On PostgreSQL the migrator holds an advisory lock while it
//! runs, so nodes that start at the same moment apply each migration once.

use std::borrow::Cow;

use sqlx::migrate::{Migrate, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use vakt_store::StoreError;

use crate::unavailable;

/// One migration: its version, a description and its SQL.
pub type Step = (i64, &'static str, &'static str);

#[derive(Debug)]
struct Embedded(&'static [Step]);

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        AssertSqlSafe(sql).into_sql_str(),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies every migration of `steps` not yet applied.
///
/// # Errors
/// When a migration fails or the database cannot be reached.
pub async fn run<C>(connection: &mut C, steps: &'static [Step]) -> Result<(), StoreError>
where
    C: Migrate + Send,
{
    let migrator = Migrator::new(Embedded(steps)).await.map_err(unavailable)?;
    migrator
        .run_direct(None, connection, false)
        .await
        .map_err(unavailable)
}
