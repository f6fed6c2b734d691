//! The PostgreSQL schema. Never edit an applied migration: add the next one, here and in the
//! SQLite backend, in the same change.

use sqlx::PgConnection;
use vakt_store::StoreError;
use vakt_store_sql::migrations::Step;

const MIGRATIONS: &[Step] = &[
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
    (
        4,
        "engine shards",
        include_str!("../migrations/0004_engine_shards.sql"),
    ),
    (
        5,
        "point alarms",
        include_str!("../migrations/0005_point_alarms.sql"),
    ),
];

/// Applies every migration not yet applied.
pub async fn run(connection: &mut PgConnection) -> Result<(), StoreError> {
    vakt_store_sql::migrations::run(connection, MIGRATIONS).await
}
