//! Customers and sites, and what hangs off a site; each change audited and, where the receiver
//! or the engine read it, bumping the registry revision.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe};
use std::collections::HashMap;
use vakt_core::centre::{Authority, KeyState, PointKind, Step};
use vakt_core::{Category, UnixMicros};
use vakt_store::Sites;
use vakt_store::{
    Actor, AlarmPoint, Contact, Customer, CustomerKind, Instruction, Key, NewContact, NewCustomer,
    NewSite, PanelUser, SiteDetail, SiteSummary, StoreError, TestMode,
};

use super::{Result, audit, bump_revision, category, get, micros, u32_of};
use crate::SqlStore;
use crate::{db, unavailable};

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

pub(super) fn key_row(row: &AnyRow) -> Result<Key> {
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

pub(super) async fn require_site(tx: &mut AnyConnection, site_id: i64) -> Result<()> {
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
    replace_site_rows(c, site_id, "alarm_points", &by, now, async |tx| {
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
        delete_site_rows(tx, "alarm_points", site_id).await?;
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
        Ok((json!(before), json!(points)))
    })
    .await
}

pub async fn save_panel_users(
    c: &mut AnyConnection,
    site_id: i64,
    users: Vec<PanelUser>,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    replace_site_rows(c, site_id, "panel_users", &by, now, async |tx| {
        let before: Vec<(i64, String)> = sqlx::query_as(
            "SELECT number, name FROM panel_users WHERE site_id = $1 ORDER BY number",
        )
        .bind(site_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        delete_site_rows(tx, "panel_users", site_id).await?;
        for user in &users {
            sqlx::query("INSERT INTO panel_users (site_id, number, name) VALUES ($1, $2, $3)")
                .bind(site_id)
                .bind(i64::from(user.number))
                .bind(&user.name)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        Ok((json!(before), json!(users)))
    })
    .await
}

pub async fn save_contacts(
    c: &mut AnyConnection,
    site_id: i64,
    contacts: Vec<NewContact>,
    by: Actor,
    now: UnixMicros,
) -> Result<()> {
    replace_site_rows(c, site_id, "contacts", &by, now, async |tx| {
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
        delete_site_rows(tx, "contacts", site_id).await?;
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
        Ok((json!(before), json!(after)))
    })
    .await
}

/// Replaces one kind of a site's child rows (points, panel users, contacts) in one
/// transaction: `replace` reads what was there, deletes and writes the new rows, and returns
/// both as JSON for the audit entry; the registry revision moves so the engine reloads.
async fn replace_site_rows(
    c: &mut AnyConnection,
    site_id: i64,
    table: &str,
    by: &Actor,
    now: UnixMicros,
    replace: impl AsyncFnOnce(&mut AnyConnection) -> Result<(serde_json::Value, serde_json::Value)>,
) -> Result<()> {
    let mut tx = crate::begin(c).await?;
    require_site(&mut tx, site_id).await?;
    let (before, after) = replace(&mut tx).await?;
    audit(
        &mut tx,
        now,
        by,
        table,
        Some(site_id),
        "replaced",
        Some(before),
        Some(after),
    )
    .await?;
    bump_revision(&mut tx).await?;
    tx.commit().await.map_err(db)
}

async fn delete_site_rows(tx: &mut AnyConnection, table: &str, site_id: i64) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE site_id = $1"
    )))
    .bind(site_id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
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

impl Sites for SqlStore {
    async fn customers(&self) -> Result<Vec<Customer>> {
        customers(&self.readers).await
    }

    async fn save_customer(
        &self,
        id: Option<i64>,
        customer: NewCustomer,
        by: &Actor,
    ) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(save_customer(c, id, customer, by, now)))
            .await
    }

    async fn sites(&self) -> Result<Vec<SiteSummary>> {
        sites(&self.readers).await
    }

    async fn site(&self, id: i64) -> Result<SiteDetail> {
        site(&self.readers, id).await
    }

    async fn save_site(&self, id: Option<i64>, site: NewSite, by: &Actor) -> Result<i64> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(save_site(c, id, site, by, now)))
            .await
    }

    async fn save_points(&self, site_id: i64, points: Vec<AlarmPoint>, by: &Actor) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(save_points(c, site_id, points, by, now)))
            .await
    }

    async fn save_panel_users(
        &self,
        site_id: i64,
        users: Vec<PanelUser>,
        by: &Actor,
    ) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(save_panel_users(c, site_id, users, by, now)))
            .await
    }

    async fn save_contacts(
        &self,
        site_id: i64,
        contacts: Vec<NewContact>,
        by: &Actor,
    ) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(save_contacts(c, site_id, contacts, by, now)))
            .await
    }

    async fn save_instruction(
        &self,
        site_id: i64,
        category: Category,
        steps: Vec<Step>,
        by: &Actor,
    ) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(save_instruction(c, site_id, category, steps, by, now)))
            .await
    }

    async fn set_revoking_code(&self, site_id: i64, hash: String, by: &Actor) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(set_revoking_code(c, site_id, hash, by, now)))
            .await
    }

    async fn set_test_mode(&self, site_id: i64, mode: TestMode, by: &Actor) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(set_test_mode(c, site_id, mode, by, now)))
            .await
    }

    async fn attach_transmitter(
        &self,
        transmitter_id: i64,
        site_id: i64,
        by: &Actor,
    ) -> Result<()> {
        let (by, now) = (by.clone(), self.clock.now());
        self.job(move |c| Box::pin(attach_transmitter(c, transmitter_id, site_id, by, now)))
            .await
    }
}
