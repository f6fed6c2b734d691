//! Upgrades: a database an older Vakt wrote opens in this one with nothing lost. The
//! identity migration (6) moves staff logins and their sessions to identities; a member of
//! staff signed in before the upgrade is still signed in after it and signs in again with
//! the same password.

use sqlx::{Connection, Executor};
use vakt_store_sql::migrations::{Dialect, run_to};

use super::*;

/// What staff and sessions looked like before identities (schema version 5).
const BEFORE_IDENTITIES: &str = "
    INSERT INTO staff (login, name, role, password_hash, language, failures)
        VALUES ('anna', 'Anna Berg', 'operator', 'the-hash', 'en', 2);
    INSERT INTO sessions (token_hash, staff_id, csrf, created_at_us, expires_at_us)
        SELECT 'old-session', id, 'old-csrf', 1, 9000000000000000 FROM staff;
";

async fn check_upgraded(label: &str, store: &SqlStore) {
    eprintln!("-- staff survive the identity migration on {label}");
    let anna = store.identity_by_login("anna").await.unwrap();
    let staff = anna.staff().expect("a staff identity");
    assert_eq!(
        (staff.name.as_str(), staff.role),
        ("Anna Berg", Role::Operator)
    );
    assert_eq!(anna.language(), "en");
    let secret = store.secret(SecretRef::Login(anna.id)).await.unwrap();
    assert_eq!(secret.hash.as_deref(), Some("the-hash"));
    assert_eq!(
        secret.failures, 2,
        "the lockout count moves with the password"
    );
    let session = store.session("old-session", UnixMicros(NOW)).await.unwrap();
    assert_eq!(
        (session.identity.id, session.csrf.as_str()),
        (anna.id, "old-csrf")
    );
    assert!(store.api_clients().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_logins_and_sessions_survive_the_identity_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vakt.db");
    let mut old = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    run_to(&mut old, Dialect::Sqlite, 5).await.unwrap();
    old.execute(BEFORE_IDENTITIES).await.unwrap();
    old.close().await.unwrap();
    let store = vakt_store_sqlite::open(vakt_store_sqlite::SqliteOptions::new(path), clock())
        .await
        .unwrap();
    check_upgraded("sqlite", &store).await;
    store.close().await;

    let Some(url) = postgres_url("upgrade_identities").await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must give TEST_DATABASE_URL"
        );
        return;
    };
    let mut old = sqlx::PgConnection::connect(&url).await.unwrap();
    run_to(&mut old, Dialect::Postgres, 5).await.unwrap();
    old.execute(BEFORE_IDENTITIES).await.unwrap();
    old.close().await.unwrap();
    let store = vakt_store_postgres::open(vakt_store_postgres::PgOptions::new(url), clock())
        .await
        .unwrap();
    check_upgraded("postgres", &store).await;
    store.close().await;
}
