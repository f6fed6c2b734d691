//! Guard companies and key custody: every move of a key checked by `KeyAction::apply` and logged.

use serde_json::json;
use sqlx::{AnyConnection, AnyPool};
use vakt_core::UnixMicros;
use vakt_core::centre::{KeyAction, KeyState};
use vakt_store::GuardsAndKeys;
use vakt_store::{Actor, GuardCompany, KeyEvent, StoreError};

use super::sites::{key_row, require_site};
use super::{Result, audit, get, log};
use crate::SqlStore;
use crate::{db, unavailable};

pub async fn guard_companies(pool: &AnyPool) -> Result<Vec<GuardCompany>> {
    let rows = sqlx::query("SELECT * FROM guard_companies ORDER BY name")
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            let areas: String = get(r, "areas")?;
            Ok(GuardCompany {
                id: get(r, "id")?,
                name: get(r, "name")?,
                phone: get(r, "phone")?,
                areas: serde_json::from_str(&areas).map_err(unavailable)?,
            })
        })
        .collect()
}

pub async fn save_guard_company(
    c: &mut AnyConnection,
    company: GuardCompany,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let areas = json!(company.areas).to_string();
    let id: i64 = if company.id > 0 {
        sqlx::query_scalar(
            "UPDATE guard_companies SET name = $1, phone = $2, areas = $3 WHERE id = $4 RETURNING id",
        )
        .bind(&company.name)
        .bind(&company.phone)
        .bind(&areas)
        .bind(company.id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?
    } else {
        sqlx::query_scalar(
            "INSERT INTO guard_companies (name, phone, areas) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(&company.name)
        .bind(&company.phone)
        .bind(&areas)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?
    };
    let action = if company.id > 0 { "updated" } else { "created" };
    audit(
        &mut tx,
        now,
        &by,
        "guard_company",
        Some(id),
        action,
        None,
        Some(json!(company)),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok(id)
}

pub async fn add_key(
    c: &mut AnyConnection,
    site_id: i64,
    label: String,
    storage: String,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    require_site(&mut tx, site_id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO keys (label, site_id, storage, state) VALUES ($1, $2, $3, 'stored') RETURNING id",
    )
    .bind(&label)
    .bind(site_id)
    .bind(&storage)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        "INSERT INTO key_events (key_id, at_us, action, actor, note) VALUES ($1, $2, 'received', $3, $4)",
    )
    .bind(id)
    .bind(now.0)
    .bind(&by.name)
    .bind(&storage)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    audit(
        &mut tx,
        now,
        &by,
        "key",
        Some(id),
        "received",
        None,
        Some(json!({ "label": label, "site_id": site_id, "storage": storage })),
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok(id)
}

pub async fn key_action(
    c: &mut AnyConnection,
    key_id: i64,
    action: KeyAction,
    holder: String,
    dispatch_id: Option<i64>,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    let row = sqlx::query("SELECT * FROM keys WHERE id = $1")
        .bind(key_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    let key = key_row(&row)?;
    let next = action.apply(key.state).ok_or_else(|| {
        StoreError::Conflict(format!(
            "a key that is {} cannot be {}",
            key.state.as_str(),
            action.as_str()
        ))
    })?;
    let holder = if next == KeyState::WithGuard {
        holder
    } else {
        String::new()
    };
    sqlx::query("UPDATE keys SET state = $1, holder = $2 WHERE id = $3")
        .bind(next.as_str())
        .bind(&holder)
        .bind(key_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    sqlx::query(
        "INSERT INTO key_events (key_id, at_us, action, actor, holder, dispatch_id) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key_id)
    .bind(now.0)
    .bind(action.as_str())
    .bind(&by.name)
    .bind(&holder)
    .bind(dispatch_id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    if let Some(dispatch_id) = dispatch_id {
        let incident: Option<i64> =
            sqlx::query_scalar("SELECT incident_id FROM dispatches WHERE id = $1")
                .bind(dispatch_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        if let Some(incident) = incident {
            let detail = format!("{} {} {}", key.label, action.as_str(), holder);
            log(
                &mut tx,
                incident,
                now,
                &by.name,
                "key",
                None,
                None,
                detail.trim(),
            )
            .await?;
        }
    }
    audit(
        &mut tx,
        now,
        &by,
        "key",
        Some(key_id),
        action.as_str(),
        Some(json!({ "state": key.state, "holder": key.holder })),
        Some(json!({ "state": next, "holder": holder })),
    )
    .await?;
    tx.commit().await.map_err(db)
}

pub async fn key_events(pool: &AnyPool, key_id: i64) -> Result<Vec<KeyEvent>> {
    let rows = sqlx::query("SELECT * FROM key_events WHERE key_id = $1 ORDER BY id")
        .bind(key_id)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            let action: String = get(r, "action")?;
            Ok(KeyEvent {
                at: UnixMicros(get(r, "at_us")?),
                action: KeyAction::parse(&action).unwrap_or(KeyAction::Received),
                actor: get(r, "actor")?,
                holder: get(r, "holder")?,
                dispatch_id: get(r, "dispatch_id")?,
                note: get(r, "note")?,
            })
        })
        .collect()
}

impl GuardsAndKeys for SqlStore {
    async fn guard_companies(&self) -> Result<Vec<GuardCompany>> {
        guard_companies(&self.readers).await
    }

    async fn save_guard_company(&self, company: GuardCompany, by: &Actor) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(save_guard_company(c, company, by, now)))
            .await
    }

    async fn add_key(
        &self,
        site_id: i64,
        label: String,
        storage: String,
        by: &Actor,
    ) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(add_key(c, site_id, label, storage, by, now)))
            .await
    }

    async fn key_action(
        &self,
        key_id: i64,
        action: KeyAction,
        holder: String,
        dispatch_id: Option<i64>,
        by: &Actor,
    ) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(key_action(c, key_id, action, holder, dispatch_id, by, now)))
            .await
    }

    async fn key_events(&self, key_id: i64) -> Result<Vec<KeyEvent>> {
        key_events(&self.readers, key_id).await
    }
}
