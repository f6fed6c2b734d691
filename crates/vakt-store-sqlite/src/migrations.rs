//! The schema, embedded in the binary and applied with sqlx's migrator.
//!
//! Migrations are listed here by hand rather than by a macro, which keeps sqlx's macro crate
//! out of the build. Never edit an applied migration: add the next one.

use std::borrow::Cow;

use sqlx::SqliteConnection;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use vakt_store::StoreError;

use crate::unavailable;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "signal path",
        include_str!("../migrations/0001_signal_path.sql"),
    ),
    (
        2,
        "alarm centre",
        include_str!("../migrations/0002_alarm_centre.sql"),
    ),
    (
        3,
        "panel link",
        include_str!("../migrations/0003_panel_link.sql"),
    ),
];

#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> futures_core_box::BoxFuture<Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
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

mod futures_core_box {
    pub type BoxFuture<T> =
        std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;
}

/// Applies every migration not yet applied.
pub async fn run(connection: &mut SqliteConnection) -> Result<(), StoreError> {
    let migrator = Migrator::new(Embedded).await.map_err(unavailable)?;
    migrator.run(connection).await.map_err(unavailable)
}
