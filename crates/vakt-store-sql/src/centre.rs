//! The alarm centre on SQLite: reads on the pool, writes as jobs on the one writer.
//!
//! Every write is one transaction that also writes its audit entry (registry changes) or its
//! incident log entry (operator actions), so a change and its record stand or fall together.
//! Registry changes bump the registry revision, which the receiver and the engine watch.
//! "Exactly one operator takes an incident" holds because the take is a conditional UPDATE on
//! the single writer: the second one finds an owner and gets a conflict naming them.

use std::collections::HashMap;

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};
use vakt_core::centre::{
    Authority, DispatchState, KeyAction, KeyState, PointKind, Resolution, Role, Step, StepOutcome,
};
use vakt_core::hold::{self, DisarmOutcome, HeldIncident};
use vakt_core::incident::{self, Decision, Life, Move};
use vakt_core::lockout::{self, Attempt, Lockout};
use vakt_core::{Category, Condition, UnixMicros};
use vakt_store::centre::IncidentState;
use vakt_store::{
    Actor, AlarmPoint, AuditEntry, CheckStart, Contact, Customer, CustomerKind, Dispatch,
    DispatchUpdate, EngineChange, EventNote, GuardCompany, IncidentAction, IncidentDetail,
    IncidentEvent, IncidentTimes, Instruction, Key, KeyEvent, LinkState, LogEntry, NewContact,
    NewCustomer, NewMessage, NewSite, NewStaff, OutboxMessage, PanelUser, QueueItem, SecretRef,
    SecretState, Session, Shard, ShardLease, SiteDetail, SiteSummary, Staff, StoreError, TestMode,
};

use crate::{db, unavailable};

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
async fn audit(
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

// --- customers and sites ---

fn customer_row(row: &AnyRow) -> Result<Customer> {
    let kind: String = get(row, "kind")?;
    Ok(Customer {
        id: get(row, "id")?,
        spec: NewCustomer {
            kind: if kind == "business" {
                CustomerKind::Business
            } else {
                CustomerKind::Private
            },
            name: get(row, "name")?,
            identity: get(row, "identity")?,
            signatory: get(row, "signatory")?,
            email: get(row, "email")?,
            phone: get(row, "phone")?,
            language: get(row, "language")?,
        },
    })
}

pub async fn customers(pool: &AnyPool) -> Result<Vec<Customer>> {
    let rows = sqlx::query("SELECT * FROM customers ORDER BY name, id")
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter().map(customer_row).collect()
}

async fn customer_in(tx: &mut AnyConnection, id: i64) -> Result<Option<Customer>> {
    let row = sqlx::query("SELECT * FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    row.as_ref().map(customer_row).transpose()
}

pub async fn save_customer(
    c: &mut AnyConnection,
    id: Option<i64>,
    customer: NewCustomer,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let before = match id {
        Some(id) => Some(
            customer_in(&mut tx, id)
                .await?
                .ok_or(StoreError::NotFound)?,
        ),
        None => None,
    };
    let query = match id {
        Some(_) => {
            "UPDATE customers SET kind = $1, name = $2, identity = $3, signatory = $4, email = $5,
             phone = $6, language = $7 WHERE id = $8 RETURNING id"
        }
        None => {
            "INSERT INTO customers (kind, name, identity, signatory, email, phone, language, created_at_us)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $9) RETURNING id"
        }
    };
    let new_id: i64 = sqlx::query_scalar(query)
        .bind(customer.kind.as_str())
        .bind(&customer.name)
        .bind(&customer.identity)
        .bind(&customer.signatory)
        .bind(&customer.email)
        .bind(&customer.phone)
        .bind(&customer.language)
        .bind(id)
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    let action = if before.is_some() {
        "updated"
    } else {
        "created"
    };
    audit(
        &mut tx,
        now,
        &by,
        "customer",
        Some(new_id),
        action,
        before.map(|b| json!(b.spec)),
        Some(json!(customer)),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)?;
    Ok(new_id)
}

pub async fn sites(pool: &AnyPool) -> Result<Vec<SiteSummary>> {
    let rows = sqlx::query(
        "SELECT s.id, s.name, s.address, s.guard_area, s.test_until_us, coalesce(c.name, '') AS customer
         FROM sites s LEFT JOIN customers c ON c.id = s.customer_id ORDER BY s.name, s.id",
    )
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|row| {
            Ok(SiteSummary {
                id: get(row, "id")?,
                name: get(row, "name")?,
                address: get(row, "address")?,
                customer: get(row, "customer")?,
                guard_area: get(row, "guard_area")?,
                test_until: micros(get(row, "test_until_us")?),
            })
        })
        .collect()
}

fn point_row(row: &AnyRow) -> Result<AlarmPoint> {
    let kind: String = get(row, "kind")?;
    Ok(AlarmPoint {
        number: u32_of(get(row, "number")?).unwrap_or_default(),
        name: get(row, "name")?,
        kind: PointKind::parse(&kind).unwrap_or(PointKind::Other),
        location: get(row, "location")?,
        test_until: micros(get(row, "test_until_us")?),
    })
}

fn contact_row(row: &AnyRow) -> Result<Contact> {
    let authority: String = get(row, "authority")?;
    let hash: Option<String> = get(row, "password_hash")?;
    Ok(Contact {
        id: get(row, "id")?,
        position: u32_of(get(row, "position")?).unwrap_or_default(),
        name: get(row, "name")?,
        phone: get(row, "phone")?,
        authority: Authority::parse(&authority).unwrap_or(Authority::CancelOnly),
        hours: get(row, "hours")?,
        has_password: hash.is_some(),
        locked_until: micros(get(row, "locked_until_us")?),
    })
}

fn key_row(row: &AnyRow) -> Result<Key> {
    let state: String = get(row, "state")?;
    Ok(Key {
        id: get(row, "id")?,
        label: get(row, "label")?,
        site_id: get(row, "site_id")?,
        storage: get(row, "storage")?,
        state: KeyState::parse(&state).unwrap_or(KeyState::Stored),
        holder: get(row, "holder")?,
    })
}

pub async fn site(pool: &AnyPool, id: i64) -> Result<SiteDetail> {
    let mut c = pool.acquire().await.map_err(db)?;
    site_in(&mut c, id).await
}

async fn site_in(c: &mut AnyConnection, id: i64) -> Result<SiteDetail> {
    let row = sqlx::query("SELECT * FROM sites WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    let customer_id: Option<i64> = get(&row, "customer_id")?;
    let customer = match customer_id {
        Some(cid) => customer_in(c, cid).await?,
        None => None,
    };
    let revoking: Option<String> = get(&row, "revoking_code_hash")?;
    let points = sqlx::query("SELECT * FROM alarm_points WHERE site_id = $1 ORDER BY number")
        .bind(id)
        .fetch_all(&mut *c)
        .await
        .map_err(db)?
        .iter()
        .map(point_row)
        .collect::<Result<Vec<_>>>()?;
    let users =
        sqlx::query("SELECT number, name FROM panel_users WHERE site_id = $1 ORDER BY number")
            .bind(id)
            .fetch_all(&mut *c)
            .await
            .map_err(db)?
            .iter()
            .map(|r| {
                Ok(PanelUser {
                    number: u32_of(get(r, "number")?).unwrap_or_default(),
                    name: get(r, "name")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
    let contacts = sqlx::query("SELECT * FROM contacts WHERE site_id = $1 ORDER BY position, id")
        .bind(id)
        .fetch_all(&mut *c)
        .await
        .map_err(db)?
        .iter()
        .map(contact_row)
        .collect::<Result<Vec<_>>>()?;
    let instructions = sqlx::query("SELECT * FROM instructions WHERE site_id = $1")
        .bind(id)
        .fetch_all(&mut *c)
        .await
        .map_err(db)?
        .iter()
        .map(|r| {
            let steps: String = get(r, "steps")?;
            let cat: String = get(r, "category")?;
            Ok(Instruction {
                category: category(&cat),
                steps: serde_json::from_str::<Vec<Step>>(&steps).map_err(unavailable)?,
                updated: Some((UnixMicros(get(r, "updated_at_us")?), get(r, "updated_by")?)),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let transmitters =
        sqlx::query("SELECT id, account FROM transmitters WHERE site_id = $1 ORDER BY account")
            .bind(id)
            .fetch_all(&mut *c)
            .await
            .map_err(db)?
            .iter()
            .map(|r| Ok((get(r, "id")?, get(r, "account")?)))
            .collect::<Result<Vec<_>>>()?;
    let keys = sqlx::query("SELECT * FROM keys WHERE site_id = $1 ORDER BY label")
        .bind(id)
        .fetch_all(&mut *c)
        .await
        .map_err(db)?
        .iter()
        .map(key_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(SiteDetail {
        id,
        spec: NewSite {
            customer_id,
            name: get(&row, "name")?,
            address: get(&row, "address")?,
            latitude: get(&row, "latitude")?,
            longitude: get(&row, "longitude")?,
            guard_area: get(&row, "guard_area")?,
            note: get(&row, "note")?,
        },
        customer,
        points,
        users,
        contacts,
        instructions,
        transmitters,
        keys,
        has_revoking_code: revoking.is_some(),
        test_until: micros(get(&row, "test_until_us")?),
        test_reason: get(&row, "test_reason")?,
    })
}

pub async fn save_site(
    c: &mut AnyConnection,
    id: Option<i64>,
    site: NewSite,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let before = match id {
        Some(id) => Some(site_in(&mut tx, id).await?.spec),
        None => None,
    };
    let query = match id {
        Some(_) => {
            "UPDATE sites SET customer_id = $1, name = $2, address = $3, latitude = $4, longitude = $5,
             guard_area = $6, note = $7 WHERE id = $8 RETURNING id"
        }
        None => {
            "INSERT INTO sites (customer_id, name, address, latitude, longitude, guard_area, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
        }
    };
    let new_id: i64 = sqlx::query_scalar(query)
        .bind(site.customer_id)
        .bind(&site.name)
        .bind(&site.address)
        .bind(site.latitude)
        .bind(site.longitude)
        .bind(&site.guard_area)
        .bind(&site.note)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    let action = if before.is_some() {
        "updated"
    } else {
        "created"
    };
    audit(
        &mut tx,
        now,
        &by,
        "site",
        Some(new_id),
        action,
        before.map(|b| json!(b)),
        Some(json!(site)),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)?;
    Ok(new_id)
}

async fn require_site(tx: &mut AnyConnection, site_id: i64) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

pub async fn save_points(
    c: &mut AnyConnection,
    site_id: i64,
    points: Vec<AlarmPoint>,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    require_site(&mut tx, site_id).await?;
    let before = sqlx::query("SELECT * FROM alarm_points WHERE site_id = $1 ORDER BY number")
        .bind(site_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .iter()
        .map(point_row)
        .collect::<Result<Vec<_>>>()?;
    let tests: HashMap<u32, Option<UnixMicros>> =
        before.iter().map(|p| (p.number, p.test_until)).collect();
    sqlx::query("DELETE FROM alarm_points WHERE site_id = $1")
        .bind(site_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    for point in &points {
        sqlx::query(
            "INSERT INTO alarm_points (site_id, number, name, kind, location, test_until_us)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(site_id)
        .bind(i64::from(point.number))
        .bind(&point.name)
        .bind(point.kind.as_str())
        .bind(&point.location)
        .bind(tests.get(&point.number).copied().flatten().map(|t| t.0))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    audit(
        &mut tx,
        now,
        &by,
        "alarm_points",
        Some(site_id),
        "replaced",
        Some(json!(before)),
        Some(json!(points)),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)
}

pub async fn save_panel_users(
    c: &mut AnyConnection,
    site_id: i64,
    users: Vec<PanelUser>,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    require_site(&mut tx, site_id).await?;
    let before: Vec<(i64, String)> =
        sqlx::query_as("SELECT number, name FROM panel_users WHERE site_id = $1 ORDER BY number")
            .bind(site_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
    sqlx::query("DELETE FROM panel_users WHERE site_id = $1")
        .bind(site_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    for user in &users {
        sqlx::query("INSERT INTO panel_users (site_id, number, name) VALUES ($1, $2, $3)")
            .bind(site_id)
            .bind(i64::from(user.number))
            .bind(&user.name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    audit(
        &mut tx,
        now,
        &by,
        "panel_users",
        Some(site_id),
        "replaced",
        Some(json!(before)),
        Some(json!(users)),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)
}

pub async fn save_contacts(
    c: &mut AnyConnection,
    site_id: i64,
    contacts: Vec<NewContact>,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    require_site(&mut tx, site_id).await?;
    let old_rows = sqlx::query("SELECT * FROM contacts WHERE site_id = $1 ORDER BY position")
        .bind(site_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
    let mut kept: HashMap<i64, (Option<String>, i64, Option<i64>)> = HashMap::new();
    let mut before = Vec::new();
    for row in &old_rows {
        let contact = contact_row(row)?;
        kept.insert(
            contact.id,
            (
                get(row, "password_hash")?,
                get(row, "failures")?,
                get(row, "locked_until_us")?,
            ),
        );
        before.push(contact);
    }
    sqlx::query("DELETE FROM contacts WHERE site_id = $1")
        .bind(site_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let mut after = Vec::new();
    // Contacts that keep their id go in first, so a new contact's id (given by the database)
    // can never be one a kept contact is about to take back.
    let mut order: Vec<(usize, &NewContact)> = contacts.iter().enumerate().collect();
    order.sort_by_key(|(_, contact)| contact.id.is_none());
    for (position, contact) in order {
        let old = match contact.id {
            Some(id) => Some(kept.get(&id).cloned().ok_or(StoreError::NotFound)?),
            None => None,
        };
        let (old_hash, failures, locked) = old.unwrap_or((None, 0, None));
        let password_changed = contact.password_hash.is_some();
        let hash = contact.password_hash.clone().or(old_hash);
        let (failures, locked) = if password_changed {
            (0, None)
        } else {
            (failures, locked)
        };
        let (id_column, id_value) = if contact.id.is_some() {
            ("id, ", "$10, ")
        } else {
            ("", "")
        };
        let id: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "INSERT INTO contacts ({id_column}site_id, position, name, phone, authority, hours, password_hash, failures, locked_until_us)
             VALUES ({id_value}$1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
        )))
        .bind(site_id)
        .bind(position as i64 + 1)
        .bind(&contact.name)
        .bind(&contact.phone)
        .bind(contact.authority.as_str())
        .bind(&contact.hours)
        .bind(&hash)
        .bind(failures)
        .bind(locked)
        .bind(contact.id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        after.push(json!({
            "id": id, "position": position + 1, "name": contact.name, "phone": contact.phone,
            "authority": contact.authority, "hours": contact.hours,
            "has_password": hash.is_some(), "password_changed": password_changed,
        }));
    }
    after.sort_by_key(|entry| entry["position"].as_u64());
    audit(
        &mut tx,
        now,
        &by,
        "contacts",
        Some(site_id),
        "replaced",
        Some(json!(before)),
        Some(json!(after)),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)
}

pub async fn save_instruction(
    c: &mut AnyConnection,
    site_id: i64,
    cat: Category,
    steps: Vec<Step>,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    let site = site_in(&mut tx, site_id).await?;
    let before = site.instruction(cat);
    sqlx::query(
        "INSERT INTO instructions (site_id, category, steps, updated_at_us, updated_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (site_id, category) DO UPDATE SET steps = excluded.steps,
         updated_at_us = excluded.updated_at_us, updated_by = excluded.updated_by",
    )
    .bind(site_id)
    .bind(cat.as_str())
    .bind(json!(steps).to_string())
    .bind(now.0)
    .bind(&by.name)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    audit(
        &mut tx,
        now,
        &by,
        "instruction",
        Some(site_id),
        &format!("updated {}", cat.as_str()),
        Some(json!(before.steps)),
        Some(json!(steps)),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)
}

pub async fn set_link_token(
    c: &mut AnyConnection,
    transmitter_id: i64,
    token_hash: String,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    let done = sqlx::query("UPDATE transmitters SET link_token_hash = $1 WHERE id = $2")
        .bind(token_hash)
        .bind(transmitter_id)
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
        "transmitter",
        Some(transmitter_id),
        "panel link token issued",
        None,
        None,
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok(())
}

pub async fn set_revoking_code(
    c: &mut AnyConnection,
    site_id: i64,
    hash: String,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    let done = sqlx::query("UPDATE sites SET revoking_code_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(site_id)
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
        "site",
        Some(site_id),
        "revoking code changed",
        None,
        None,
    )
    .await?;
    tx.commit().await.map_err(db)
}

pub async fn set_test_mode(
    c: &mut AnyConnection,
    site_id: i64,
    mode: TestMode,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    let done = match mode.zone {
        None => sqlx::query("UPDATE sites SET test_until_us = $1, test_reason = $2 WHERE id = $3")
            .bind(mode.until.map(|t| t.0))
            .bind(&mode.reason)
            .bind(site_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?,
        Some(zone) => sqlx::query(
            "UPDATE alarm_points SET test_until_us = $1 WHERE site_id = $2 AND number = $3",
        )
        .bind(mode.until.map(|t| t.0))
        .bind(site_id)
        .bind(i64::from(zone))
        .execute(&mut *tx)
        .await
        .map_err(db)?,
    };
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let action = if mode.until.is_some() {
        "test mode started"
    } else {
        "test mode ended"
    };
    audit(
        &mut tx,
        now,
        &by,
        "test_mode",
        Some(site_id),
        action,
        None,
        Some(json!({ "zone": mode.zone, "until_us": mode.until.map(|t| t.0), "reason": mode.reason })),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)
}

pub async fn attach_transmitter(
    c: &mut AnyConnection,
    transmitter_id: i64,
    site_id: i64,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    require_site(&mut tx, site_id).await?;
    let before: Option<i64> = sqlx::query_scalar("SELECT site_id FROM transmitters WHERE id = $1")
        .bind(transmitter_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    let before = before.ok_or(StoreError::NotFound)?;
    sqlx::query("UPDATE transmitters SET site_id = $1 WHERE id = $2")
        .bind(site_id)
        .bind(transmitter_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    audit(
        &mut tx,
        now,
        &by,
        "transmitter",
        Some(transmitter_id),
        "moved to site",
        Some(json!({ "site_id": before })),
        Some(json!({ "site_id": site_id })),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)
}

// --- secrets ---

/// Where a secret lives: table, hash column, failure-count column, lock column, row id.
fn secret_columns(
    which: SecretRef,
) -> (&'static str, &'static str, &'static str, &'static str, i64) {
    match which {
        SecretRef::Contact(id) => (
            "contacts",
            "password_hash",
            "failures",
            "locked_until_us",
            id,
        ),
        SecretRef::RevokingCode(id) => (
            "sites",
            "revoking_code_hash",
            "revoking_failures",
            "revoking_locked_until_us",
            id,
        ),
        SecretRef::Staff(id) => ("staff", "password_hash", "failures", "locked_until_us", id),
    }
}

async fn secret_in(c: &mut AnyConnection, which: SecretRef) -> Result<SecretState> {
    let (table, hash, failures, locked, id) = secret_columns(which);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {hash} AS hash, {failures} AS failures, {locked} AS locked FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *c)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    Ok(SecretState {
        hash: get(&row, "hash")?,
        failures: u32_of(get(&row, "failures")?).unwrap_or_default(),
        locked_until: micros(get(&row, "locked")?),
    })
}

pub async fn secret(pool: &AnyPool, which: SecretRef) -> Result<SecretState> {
    let mut c = pool.acquire().await.map_err(db)?;
    secret_in(&mut c, which).await
}

pub async fn begin_check(
    c: &mut AnyConnection,
    which: SecretRef,
    now: UnixMicros,
    policy: Lockout,
) -> Result<CheckStart> {
    let mut tx = crate::begin(c).await?;
    let state = secret_in(&mut tx, which).await?;
    let Some(hash) = state.hash else {
        return Ok(CheckStart::NotSet);
    };
    let (failures, locked_until) =
        match lockout::attempt(policy, state.failures, state.locked_until, now) {
            Attempt::Refused { until } => return Ok(CheckStart::Locked(until)),
            Attempt::Counted {
                failures,
                locked_until,
            } => (failures, locked_until),
        };
    write_check(&mut tx, which, failures, locked_until).await?;
    tx.commit().await.map_err(db)?;
    Ok(CheckStart::Check {
        hash,
        locks: locked_until.is_some(),
    })
}

pub async fn check_passed(c: &mut AnyConnection, which: SecretRef) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    write_check(&mut tx, which, 0, None).await?;
    tx.commit().await.map_err(db)
}

async fn write_check(
    c: &mut AnyConnection,
    which: SecretRef,
    failures: u32,
    locked_until: Option<UnixMicros>,
) -> Result<()> {
    let (table, _, failures_column, locked_column, id) = secret_columns(which);
    let done = sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} SET {failures_column} = $1, {locked_column} = $2 WHERE id = $3"
    )))
    .bind(i64::from(failures))
    .bind(locked_until.map(|t| t.0))
    .bind(id)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// --- guard companies and keys ---

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

// --- staff and sessions ---

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

pub async fn create_staff(
    c: &mut AnyConnection,
    staff: NewStaff,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO staff (login, name, role, password_hash, guard_company_id, language)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&staff.login)
    .bind(&staff.name)
    .bind(staff.role.as_str())
    .bind(&staff.password_hash)
    .bind(staff.guard_company_id)
    .bind(&staff.language)
    .fetch_one(&mut *tx)
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

pub async fn staff_by_login(pool: &AnyPool, login: &str) -> Result<Staff> {
    let row = sqlx::query("SELECT * FROM staff WHERE login = $1")
        .bind(login.to_lowercase())
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    staff_row(&row)
}

pub async fn create_session(
    c: &mut AnyConnection,
    token_hash: String,
    staff_id: i64,
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
        "INSERT INTO sessions (token_hash, staff_id, csrf, created_at_us, expires_at_us) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(staff_id)
    .bind(csrf)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(())
}

pub async fn session(pool: &AnyPool, token_hash: &str, now: UnixMicros) -> Result<Session> {
    let row = sqlx::query(
        "SELECT s.*, x.csrf, x.expires_at_us FROM sessions x JOIN staff s ON s.id = x.staff_id
         WHERE x.token_hash = $1 AND x.expires_at_us > $2",
    )
    .bind(token_hash)
    .bind(now.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    Ok(Session {
        staff: staff_row(&row)?,
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

// --- the engine ---

pub async fn take_shard(c: &mut AnyConnection, shard: Shard) -> Result<ShardLease> {
    let mut tx = crate::begin(c).await?;
    let count = i64::from(shard.count.max(1));
    let laid_out: Option<i64> = sqlx::query_scalar("SELECT shards FROM engine_layout WHERE id = 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    match laid_out {
        Some(existing) if existing != count => {
            return Err(StoreError::Conflict(format!(
                "the engine's work is laid out in {existing} shards in this database, not {count}"
            )));
        }
        Some(_) => {}
        None => {
            // The first layout: every shard starts where the single engine of earlier
            // versions stopped, since everything before that is handled for every transmitter.
            sqlx::query("INSERT INTO engine_layout (id, shards) VALUES (1, $1)")
                .bind(count)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            for index in 0..count {
                sqlx::query(
                    "INSERT INTO engine_shards (shard, signal_id, epoch)
                     SELECT $1, signal_id, 0 FROM engine_cursor WHERE id = 1",
                )
                .bind(index)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
        }
    }
    let epoch: i64 = sqlx::query_scalar(
        "UPDATE engine_shards SET epoch = epoch + 1 WHERE shard = $1 RETURNING epoch",
    )
    .bind(i64::from(shard.index))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    tx.commit().await.map_err(db)?;
    Ok(ShardLease { shard, epoch })
}

pub async fn engine_cursor(pool: &AnyPool, shard: Shard) -> Result<i64> {
    sqlx::query_scalar("SELECT signal_id FROM engine_shards WHERE shard = $1")
        .bind(i64::from(shard.index))
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)
}

async fn open_incident(tx: &mut AnyConnection, site_id: i64) -> Result<Option<AnyRow>> {
    sqlx::query(
        "SELECT * FROM incidents WHERE site_id = $1 AND state = 'open' AND supervision_of IS NULL
         ORDER BY id LIMIT 1",
    )
    .bind(site_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)
}

/// An event on an incident, without counting it on the incident: the engine's batch counts
/// its events in memory and writes each incident's count once ([`EngineBatch`]).
async fn insert_event(tx: &mut AnyConnection, incident_id: i64, event: &EventNote) -> Result<()> {
    sqlx::query(
        "INSERT INTO incident_events (incident_id, signal_id, at_us, category, condition, code, zone, user_number, text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(incident_id)
    .bind(event.signal_id)
    .bind(event.at.0)
    .bind(event.category.as_str())
    .bind(condition_str(event.condition))
    .bind(&event.code)
    .bind(event.zone.map(i64::from))
    .bind(event.user.map(i64::from))
    .bind(&event.text)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// What one engine transaction knows of the sites' open incidents and the events it added,
/// so that an alarm storm costs one statement per event instead of three: the open incident
/// is read once per site and kept up to date here, and each incident's event count is
/// written once at the end. Safe because the transaction is the only writer while it runs.
#[derive(Debug, Default)]
struct EngineBatch {
    open: HashMap<i64, Option<OpenIncident>>,
    events: HashMap<i64, i64>,
}

/// The columns of an open incident the engine's rules need.
#[derive(Clone, Debug)]
struct OpenIncident {
    id: i64,
    priority: i64,
    category: String,
    hold_until: Option<i64>,
    owner: Option<i64>,
    runaway_zone: Option<i64>,
}

impl EngineBatch {
    async fn open(&mut self, tx: &mut AnyConnection, site_id: i64) -> Result<Option<OpenIncident>> {
        if let Some(known) = self.open.get(&site_id) {
            return Ok(known.clone());
        }
        let found = match open_incident(tx, site_id).await? {
            Some(row) => Some(OpenIncident {
                id: get(&row, "id")?,
                priority: get(&row, "priority")?,
                category: get(&row, "category")?,
                hold_until: get(&row, "hold_until_us")?,
                owner: get(&row, "owner_id")?,
                runaway_zone: get(&row, "runaway_zone")?,
            }),
            None => None,
        };
        self.open.insert(site_id, found.clone());
        Ok(found)
    }

    async fn add_event(
        &mut self,
        tx: &mut AnyConnection,
        incident_id: i64,
        event: &EventNote,
    ) -> Result<()> {
        insert_event(tx, incident_id, event).await?;
        *self.events.entry(incident_id).or_default() += 1;
        Ok(())
    }

    async fn write_counts(&mut self, tx: &mut AnyConnection) -> Result<()> {
        for (id, added) in self.events.drain() {
            sqlx::query("UPDATE incidents SET events = events + $1 WHERE id = $2")
                .bind(added)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        Ok(())
    }
}

/// What a new incident opens with.
struct Opening<'a> {
    site_id: i64,
    event: &'a EventNote,
    title: &'a str,
    hold_until: Option<UnixMicros>,
    runaway_zone: Option<u32>,
    supervision_of: Option<i64>,
}

async fn new_incident(
    tx: &mut AnyConnection,
    batch: &mut EngineBatch,
    opening: Opening<'_>,
) -> Result<i64> {
    let Opening {
        site_id,
        event,
        title,
        hold_until,
        runaway_zone,
        supervision_of,
    } = opening;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (site_id, category, priority, title, state, opened_at_us, hold_until_us, runaway_zone, supervision_of)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8) RETURNING id",
    )
    .bind(site_id)
    .bind(event.category.as_str())
    .bind(i64::from(event.category.priority()))
    .bind(title)
    .bind(event.at.0)
    .bind(hold_until.map(|t| t.0))
    .bind(runaway_zone.map(i64::from))
    .bind(supervision_of)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    batch.add_event(tx, id, event).await?;
    if supervision_of.is_none() {
        batch.open.insert(
            site_id,
            Some(OpenIncident {
                id,
                priority: i64::from(event.category.priority()),
                category: event.category.as_str().to_owned(),
                hold_until: hold_until.map(|t| t.0),
                owner: None,
                runaway_zone: runaway_zone.map(i64::from),
            }),
        );
    }
    let detail = match hold_until {
        Some(until) => format!("{title}; held for an authorised disarm until {}", until.0),
        None => title.to_owned(),
    };
    log(tx, id, event.at, "system", "opened", None, None, &detail).await?;
    Ok(id)
}

async fn apply_change(
    tx: &mut AnyConnection,
    batch: &mut EngineBatch,
    change: EngineChange,
    now: UnixMicros,
) -> Result<Option<i64>> {
    match change {
        EngineChange::Alarm {
            site_id,
            event,
            title,
            hold_until,
            keeps_hold,
            runaway_zone,
        } => {
            let Some(open) = batch.open(tx, site_id).await? else {
                let opening = Opening {
                    site_id,
                    event: &event,
                    title: &title,
                    hold_until,
                    runaway_zone,
                    supervision_of: None,
                };
                return new_incident(tx, batch, opening).await.map(Some);
            };
            let (id, priority) = (open.id, open.priority);
            batch.add_event(tx, id, &event).await?;
            let mut after = open.clone();
            if open.hold_until.is_some() && !keeps_hold {
                after.hold_until = None;
                sqlx::query("UPDATE incidents SET hold_until_us = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                log(tx, id, event.at, "system", "hold_ended", None, None, &title).await?;
            }
            if i64::from(event.category.priority()) > priority {
                after.priority = i64::from(event.category.priority());
                after.category = event.category.as_str().to_owned();
                sqlx::query(
                    "UPDATE incidents SET category = $1, priority = $2, title = $3 WHERE id = $4",
                )
                .bind(event.category.as_str())
                .bind(i64::from(event.category.priority()))
                .bind(&title)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                log(tx, id, event.at, "system", "escalated", None, None, &title).await?;
            }
            if let Some(zone) = runaway_zone
                && open.runaway_zone.is_none()
            {
                after.runaway_zone = Some(i64::from(zone));
                sqlx::query("UPDATE incidents SET runaway_zone = $1 WHERE id = $2")
                    .bind(i64::from(zone))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                log(
                    tx,
                    id,
                    event.at,
                    "system",
                    "runaway",
                    None,
                    None,
                    &format!("zone {zone}"),
                )
                .await?;
            }
            batch.open.insert(site_id, Some(after));
            Ok(Some(id))
        }
        EngineChange::Attach { site_id, event } => {
            let Some(open) = batch.open(tx, site_id).await? else {
                return Ok(None);
            };
            batch.add_event(tx, open.id, &event).await?;
            Ok(Some(open.id))
        }
        EngineChange::AuthorisedDisarm {
            site_id,
            event,
            by,
            message,
        } => {
            let Some(open) = batch.open(tx, site_id).await? else {
                return Ok(None);
            };
            let id = open.id;
            batch.add_event(tx, id, &event).await?;
            let outcome = hold::on_authorised_disarm(
                HeldIncident {
                    hold_until: open.hold_until.map(UnixMicros),
                    category: category(&open.category),
                    taken: open.owner.is_some(),
                },
                event.at,
            );
            if outcome == DisarmOutcome::Cancel {
                // Closed: whether another is open is read again when next needed.
                batch.open.remove(&site_id);
                sqlx::query(
                    "UPDATE incidents SET state = 'closed', closed_at_us = $1, resolution = 'cancelled', closed_by = $2 WHERE id = $3",
                )
                .bind(event.at.0)
                .bind(&by)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                log(
                    tx,
                    id,
                    event.at,
                    "system",
                    "closed",
                    None,
                    None,
                    &format!("cancelled by {by} within the hold window"),
                )
                .await?;
                if let Some(message) = message {
                    enqueue(tx, &message, now).await?;
                    log(
                        tx,
                        id,
                        event.at,
                        "system",
                        "notified",
                        None,
                        None,
                        &format!("SMS to {}", message.recipient),
                    )
                    .await?;
                }
            } else if outcome == DisarmOutcome::StaysWithOperator {
                log(tx, id, event.at, "system", "note", None, None, &format!("disarmed by {by} within the hold window; the incident is taken, so it stays open")).await?;
            } else if outcome == DisarmOutcome::StaysLifeSafety {
                log(tx, id, event.at, "system", "note", None, None, &format!("disarmed by {by}; a fire, hold-up or medical alarm is never cancelled by a disarm")).await?;
            }
            Ok(Some(id))
        }
        EngineChange::LinkLost {
            transmitter_id,
            site_id,
            event,
            title,
        } => {
            // Raised once: a transmitter already declared silent is not declared again,
            // whichever engine (or node) notices it.
            let missing: Option<i64> =
                sqlx::query_scalar("SELECT missing FROM link_state WHERE transmitter_id = $1")
                    .bind(transmitter_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
            if missing.unwrap_or(0) != 0 {
                return Ok(None);
            }
            let opening = Opening {
                site_id,
                event: &event,
                title: &title,
                hold_until: None,
                runaway_zone: None,
                supervision_of: Some(transmitter_id),
            };
            let id = new_incident(tx, batch, opening).await?;
            sqlx::query(
                "INSERT INTO link_state (transmitter_id, last_heard_us, missing, incident_id) VALUES ($1, 0, 1, $2)
                 ON CONFLICT (transmitter_id) DO UPDATE SET missing = 1, incident_id = excluded.incident_id",
            )
            .bind(transmitter_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            Ok(Some(id))
        }
        EngineChange::LinkRestored {
            transmitter_id,
            event,
        } => {
            let incident: Option<Option<i64>> = sqlx::query_scalar(
                "UPDATE link_state SET missing = 0 WHERE transmitter_id = $1 AND missing = 1 RETURNING incident_id",
            )
            .bind(transmitter_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            let Some(Some(id)) = incident else {
                return Ok(None);
            };
            batch.add_event(tx, id, &event).await?;
            log(
                tx,
                id,
                event.at,
                "system",
                "restored",
                None,
                None,
                &event.text,
            )
            .await?;
            Ok(Some(id))
        }
        EngineChange::Heard { transmitter_id, at } => {
            sqlx::query(
                "INSERT INTO link_state (transmitter_id, last_heard_us) VALUES ($1, $2)
                 ON CONFLICT (transmitter_id) DO UPDATE SET last_heard_us = CASE WHEN excluded.last_heard_us > link_state.last_heard_us
                     THEN excluded.last_heard_us ELSE link_state.last_heard_us END",
            )
            .bind(transmitter_id)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            Ok(None)
        }
        EngineChange::TestModeEnded { site_id, zone, at } => {
            let done = match zone {
                None => sqlx::query("UPDATE sites SET test_until_us = NULL, test_reason = '' WHERE id = $1 AND test_until_us <= $2")
                    .bind(site_id)
                    .bind(at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?,
                Some(zone) => sqlx::query("UPDATE alarm_points SET test_until_us = NULL WHERE site_id = $1 AND number = $2 AND test_until_us <= $3")
                    .bind(site_id)
                    .bind(i64::from(zone))
                    .bind(at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?,
            };
            if done.rows_affected() > 0 {
                audit(
                    tx,
                    at,
                    &Actor::system(),
                    "test_mode",
                    Some(site_id),
                    "test mode ended",
                    None,
                    Some(json!({ "zone": zone })),
                )
                .await?;
                bump_revision(tx).await?;
            }
            Ok(None)
        }
    }
}

pub async fn apply_engine(
    c: &mut AnyConnection,
    lease: ShardLease,
    cursor: i64,
    changes: Vec<EngineChange>,
    now: UnixMicros,
) -> Result<Vec<i64>> {
    let mut tx = crate::begin(c).await?;
    // The cursor moves only forward, and only for the engine that holds the shard now.
    let current = sqlx::query(
        "UPDATE engine_shards SET signal_id = CASE WHEN signal_id > $1 THEN signal_id ELSE $1 END
         WHERE shard = $2 AND epoch = $3",
    )
    .bind(cursor)
    .bind(i64::from(lease.shard.index))
    .bind(lease.epoch)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    if current.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "shard {} was taken by another engine",
            lease.shard.index
        )));
    }
    let mut touched = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut batch = EngineBatch::default();
    for change in changes {
        if let Some(id) = apply_change(&mut tx, &mut batch, change, now).await?
            && seen.insert(id)
        {
            touched.push(id);
        }
    }
    batch.write_counts(&mut tx).await?;
    crate::announce(&mut tx, &touched).await?;
    tx.commit().await.map_err(db)?;
    Ok(touched)
}

pub async fn link_states(pool: &AnyPool) -> Result<Vec<LinkState>> {
    sqlx::query("SELECT * FROM link_state")
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(|r| {
            let missing: i64 = get(r, "missing")?;
            Ok(LinkState {
                transmitter_id: get(r, "transmitter_id")?,
                last_heard: UnixMicros(get(r, "last_heard_us")?),
                missing: missing != 0,
            })
        })
        .collect()
}

pub async fn expired_test_modes(
    pool: &AnyPool,
    now: UnixMicros,
) -> Result<Vec<(i64, Option<u32>)>> {
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, NULL FROM sites WHERE test_until_us <= $1
         UNION ALL SELECT site_id, number FROM alarm_points WHERE test_until_us <= $1",
    )
    .bind(now.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(site, zone)| (site, u32_of(zone)))
        .collect())
}

pub async fn point_alarms_since(
    pool: &AnyPool,
    since: UnixMicros,
) -> Result<Vec<(i64, u32, UnixMicros)>> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT i.site_id, e.zone, e.at_us FROM incidents i JOIN incident_events e ON e.incident_id = i.id
         WHERE (i.state = 'open' OR i.closed_at_us >= $1)
         AND e.zone IS NOT NULL AND e.at_us >= $1 AND e.condition = 'new'
         AND e.category IN ('fire', 'hold_up', 'medical', 'burglary', 'tamper', 'technical', 'unknown')
         ORDER BY e.at_us, e.id",
    )
    .bind(since.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .filter_map(|(site, zone, at)| Some((site, u32::try_from(zone).ok()?, UnixMicros(at))))
        .collect())
}

// --- incidents ---

const QUEUE_SELECT: &str = "SELECT i.*, s.name AS site_name, s.address AS site_address,
    st.name AS owner_name FROM incidents i JOIN sites s ON s.id = i.site_id
    LEFT JOIN staff st ON st.id = i.owner_id";

fn queue_row(row: &AnyRow) -> Result<QueueItem> {
    let cat: String = get(row, "category")?;
    let owner_id: Option<i64> = get(row, "owner_id")?;
    let owner_name: Option<String> = get(row, "owner_name")?;
    Ok(QueueItem {
        id: get(row, "id")?,
        site_id: get(row, "site_id")?,
        site_name: get(row, "site_name")?,
        site_address: get(row, "site_address")?,
        category: category(&cat),
        priority: u8::try_from(get::<i64>(row, "priority")?).unwrap_or(0),
        title: get(row, "title")?,
        opened_at: UnixMicros(get(row, "opened_at_us")?),
        hold_until: micros(get(row, "hold_until_us")?),
        owner: owner_id.zip(owner_name),
        events: u32_of(get(row, "events")?).unwrap_or_default(),
        runaway_zone: u32_of(get(row, "runaway_zone")?),
    })
}

pub async fn queue(pool: &AnyPool) -> Result<Vec<QueueItem>> {
    sqlx::query(AssertSqlSafe(format!(
        "{QUEUE_SELECT} WHERE i.state = 'open' ORDER BY i.priority DESC, i.opened_at_us, i.id"
    )))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(queue_row)
    .collect()
}

pub async fn site_history(pool: &AnyPool, site_id: i64, limit: u32) -> Result<Vec<QueueItem>> {
    sqlx::query(AssertSqlSafe(format!(
        "{QUEUE_SELECT} WHERE i.site_id = $1 ORDER BY i.id DESC LIMIT $2"
    )))
    .bind(site_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(queue_row)
    .collect()
}

fn dispatch_row(row: &AnyRow) -> Result<Dispatch> {
    let state: String = get(row, "state")?;
    Ok(Dispatch {
        id: get(row, "id")?,
        incident_id: get(row, "incident_id")?,
        guard_company_id: get(row, "guard_company_id")?,
        guard_company: get(row, "company")?,
        state: DispatchState::parse(&state).unwrap_or(DispatchState::Requested),
        requested_at: UnixMicros(get(row, "requested_at_us")?),
        accepted_at: micros(get(row, "accepted_at_us")?),
        on_site_at: micros(get(row, "on_site_at_us")?),
        reported_at: micros(get(row, "reported_at_us")?),
        report: get(row, "report")?,
        site: get(row, "site")?,
        title: get(row, "title")?,
    })
}

const DISPATCH_SELECT: &str =
    "SELECT d.*, g.name AS company, s.name || ', ' || s.address AS site, i.title
    FROM dispatches d JOIN guard_companies g ON g.id = d.guard_company_id
    JOIN incidents i ON i.id = d.incident_id JOIN sites s ON s.id = i.site_id";

pub async fn incident(pool: &AnyPool, id: i64) -> Result<IncidentDetail> {
    let row = sqlx::query(AssertSqlSafe(format!("{QUEUE_SELECT} WHERE i.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    let state: String = get(&row, "state")?;
    let resolution: Option<String> = get(&row, "resolution")?;
    let events =
        sqlx::query("SELECT * FROM incident_events WHERE incident_id = $1 ORDER BY at_us, id")
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db)?
            .iter()
            .map(|r| {
                let cat: String = get(r, "category")?;
                let cond: String = get(r, "condition")?;
                Ok(IncidentEvent {
                    signal_id: get(r, "signal_id")?,
                    at: UnixMicros(get(r, "at_us")?),
                    category: category(&cat),
                    condition: condition(&cond),
                    code: get(r, "code")?,
                    zone: u32_of(get(r, "zone")?),
                    user: u32_of(get(r, "user_number")?),
                    text: get(r, "text")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
    let log = sqlx::query("SELECT * FROM incident_log WHERE incident_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(|r| {
            let outcome: Option<String> = get(r, "outcome")?;
            Ok(LogEntry {
                at: UnixMicros(get(r, "at_us")?),
                actor: get(r, "actor")?,
                action: get(r, "action")?,
                step: u32_of(get(r, "step")?),
                outcome: outcome.as_deref().and_then(StepOutcome::parse),
                detail: get(r, "detail")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let dispatches = sqlx::query(AssertSqlSafe(format!(
        "{DISPATCH_SELECT} WHERE d.incident_id = $1 ORDER BY d.id"
    )))
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(dispatch_row)
    .collect::<Result<Vec<_>>>()?;
    Ok(IncidentDetail {
        item: queue_row(&row)?,
        state: if state == "open" {
            IncidentState::Open
        } else {
            IncidentState::Closed
        },
        taken_at: micros(get(&row, "taken_at_us")?),
        closed_at: micros(get(&row, "closed_at_us")?),
        resolution: resolution.as_deref().and_then(Resolution::parse),
        closed_by: get(&row, "closed_by")?,
        supervision_of: get(&row, "supervision_of")?,
        events,
        log,
        dispatches,
    })
}

pub async fn act(
    c: &mut AnyConnection,
    id: i64,
    action: IncidentAction,
    by: Actor,
    now: UnixMicros,
) -> Result<Option<i64>> {
    let mut tx = crate::begin(c).await?;
    let row = sqlx::query(
        "SELECT i.state, i.owner_id, st.name AS owner_name FROM incidents i
         LEFT JOIN staff st ON st.id = i.owner_id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    let state: String = get(&row, "state")?;
    let owner: Option<i64> = get(&row, "owner_id")?;
    let owner_name: Option<String> = get(&row, "owner_name")?;
    let life = if state == "open" {
        Life::Open {
            owner: owner.map(|id| (id, owner_name.unwrap_or_default())),
        }
    } else {
        Life::Closed
    };
    let change = match &action {
        IncidentAction::Take => Move::Take,
        IncidentAction::Reassign { to } => {
            let target: Option<(String, String)> =
                sqlx::query_as("SELECT name, role FROM staff WHERE id = $1")
                    .bind(to)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
            let (name, role) = target.ok_or(StoreError::NotFound)?;
            let handles_alarms = Role::parse(&role)
                .is_some_and(|r| r.may(vakt_core::centre::Permission::HandleAlarms));
            Move::Reassign {
                to: (*to, name),
                handles_alarms,
            }
        }
        IncidentAction::Close { .. } => Move::Close,
        _ => Move::Record,
    };
    // The mover is a member of staff; a system actor owns nothing and takes nothing.
    let mover = by.staff_id.unwrap_or(i64::MIN);
    let decision = incident::decide(&life, mover, &change).map_err(StoreError::Refused)?;
    let mut result = None;
    match (decision, action) {
        (Decision::AlreadyYours, _) => return Ok(None),
        (Decision::Owner { to, from }, IncidentAction::Reassign { .. }) => {
            sqlx::query("UPDATE incidents SET owner_id = $1, taken_at_us = coalesce(taken_at_us, $2) WHERE id = $3")
                .bind(to)
                .bind(now.0)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            let name = match &change {
                Move::Reassign { to, .. } => to.1.clone(),
                _ => String::new(),
            };
            let detail = format!("from {} to {name}", from.unwrap_or_else(|| "-".into()));
            log(
                &mut tx,
                id,
                now,
                &by.name,
                "reassigned",
                None,
                None,
                &detail,
            )
            .await?;
        }
        (Decision::Owner { to, .. }, _) => {
            sqlx::query(
                "UPDATE incidents SET owner_id = $1, taken_at_us = coalesce(taken_at_us, $2) WHERE id = $3 AND owner_id IS NULL",
            )
            .bind(to)
            .bind(now.0)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            log(&mut tx, id, now, &by.name, "taken", None, None, "").await?;
        }
        (Decision::Record | Decision::Close, other) => {
            match other {
                IncidentAction::Step {
                    step,
                    outcome,
                    detail,
                } => {
                    log(
                        &mut tx,
                        id,
                        now,
                        &by.name,
                        "step",
                        Some(step),
                        Some(outcome),
                        &detail,
                    )
                    .await?;
                }
                IncidentAction::Note(text) => {
                    log(&mut tx, id, now, &by.name, "note", None, None, &text).await?;
                }
                IncidentAction::PasswordCheck { contact, right } => {
                    let outcome = if right {
                        StepOutcome::Verified
                    } else {
                        StepOutcome::WrongPassword
                    };
                    log(
                        &mut tx,
                        id,
                        now,
                        &by.name,
                        "password_check",
                        None,
                        Some(outcome),
                        &contact,
                    )
                    .await?;
                }
                IncidentAction::Dispatch { guard_company_id } => {
                    let company: Option<(String, String)> =
                        sqlx::query_as("SELECT name, areas FROM guard_companies WHERE id = $1")
                            .bind(guard_company_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db)?;
                    let (company, areas) = company.ok_or(StoreError::NotFound)?;
                    let areas: Vec<String> = serde_json::from_str(&areas).map_err(unavailable)?;
                    let guard_area: String = sqlx::query_scalar(
                        "SELECT s.guard_area FROM incidents i JOIN sites s ON s.id = i.site_id WHERE i.id = $1",
                    )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    // Only a company covering the site's area is sent, whoever asks: the
                    // page's list is a convenience, this is the rule.
                    if !vakt_core::centre::covers_area(&areas, &guard_area) {
                        return Err(StoreError::Conflict(format!(
                            "{company} does not cover the site's guard area"
                        )));
                    }
                    let dispatch: i64 = sqlx::query_scalar(
                        "INSERT INTO dispatches (incident_id, guard_company_id, state, requested_at_us, requested_by)
                         VALUES ($1, $2, 'requested', $3, $4) RETURNING id",
                    )
                    .bind(id)
                    .bind(guard_company_id)
                    .bind(now.0)
                    .bind(&by.name)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    log(&mut tx, id, now, &by.name, "dispatch", None, None, &company).await?;
                    result = Some(dispatch);
                }
                IncidentAction::Close { resolution, note } => {
                    sqlx::query(
                        "UPDATE incidents SET state = 'closed', closed_at_us = $1, resolution = $2, closed_by = $3 WHERE id = $4",
                    )
                    .bind(now.0)
                    .bind(resolution.as_str())
                    .bind(&by.name)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let detail = if note.is_empty() {
                        resolution.as_str().to_owned()
                    } else {
                        format!("{}: {note}", resolution.as_str())
                    };
                    log(&mut tx, id, now, &by.name, "closed", None, None, &detail).await?;
                }
                IncidentAction::Take | IncidentAction::Reassign { .. } => {}
            }
        }
    }
    crate::announce(&mut tx, &[id]).await?;
    tx.commit().await.map_err(db)?;
    Ok(result)
}

pub async fn dispatches_for(pool: &AnyPool, company: i64) -> Result<Vec<Dispatch>> {
    sqlx::query(AssertSqlSafe(format!(
        "{DISPATCH_SELECT} WHERE d.guard_company_id = $1 ORDER BY d.id DESC LIMIT 200"
    )))
    .bind(company)
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(dispatch_row)
    .collect()
}

pub async fn update_dispatch(
    c: &mut AnyConnection,
    dispatch_id: i64,
    company: i64,
    update: DispatchUpdate,
    by: Actor,
    now: UnixMicros,
) -> Result<i64> {
    let mut tx = crate::begin(c).await?;
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT incident_id, state FROM dispatches WHERE id = $1 AND guard_company_id = $2",
    )
    .bind(dispatch_id)
    .bind(company)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let (incident, state) = row.ok_or(StoreError::NotFound)?;
    let from = DispatchState::parse(&state).unwrap_or(DispatchState::Requested);
    if !from.may_become(update.state) {
        return Err(StoreError::Conflict(format!(
            "a dispatch that is {} cannot become {}",
            from.as_str(),
            update.state.as_str()
        )));
    }
    let column = match update.state {
        DispatchState::Accepted => "accepted_at_us",
        DispatchState::OnSite => "on_site_at_us",
        DispatchState::Reported => "reported_at_us",
        DispatchState::Requested | DispatchState::Cancelled => "requested_at_us",
    };
    let report_sql = if update.state == DispatchState::Reported {
        ", report = $3"
    } else {
        ""
    };
    let time_sql = if matches!(
        update.state,
        DispatchState::Requested | DispatchState::Cancelled
    ) {
        String::new()
    } else {
        format!(", {column} = $2")
    };
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE dispatches SET state = $1{time_sql}{report_sql} WHERE id = $4"
    )))
    .bind(update.state.as_str())
    .bind(now.0)
    .bind(&update.report)
    .bind(dispatch_id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let detail = if update.report.is_empty() {
        update.state.as_str().to_owned()
    } else {
        format!("{}: {}", update.state.as_str(), update.report)
    };
    log(
        &mut tx,
        incident,
        now,
        &by.name,
        "dispatch_update",
        None,
        None,
        &detail,
    )
    .await?;
    crate::announce(&mut tx, &[incident]).await?;
    tx.commit().await.map_err(db)?;
    Ok(incident)
}

pub async fn incident_times(pool: &AnyPool, since: UnixMicros) -> Result<Vec<IncidentTimes>> {
    type Times = (Option<i64>, i64, Option<i64>, Option<i64>);
    let rows: Vec<Times> = sqlx::query_as(
        "SELECT owner_id, opened_at_us, taken_at_us, closed_at_us FROM incidents WHERE opened_at_us >= $1",
    )
    .bind(since.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(owner_id, opened, taken, closed)| IncidentTimes {
            owner_id,
            opened_at: UnixMicros(opened),
            taken_at: micros(taken),
            closed_at: micros(closed),
        })
        .collect())
}

// --- audit and outbox ---

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
