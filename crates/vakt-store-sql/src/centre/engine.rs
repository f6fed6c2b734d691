//! The engine's writes: one transaction per batch, moving the shard's cursor with its changes.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashMap;
use vakt_core::UnixMicros;
use vakt_core::hold::{self, DisarmOutcome, HeldIncident};
use vakt_store::EngineState;
use vakt_store::{Actor, EngineChange, EventNote, LinkState, Shard, ShardLease, StoreError};

use super::{Result, audit, bump_revision, category, condition_str, enqueue, get, log, u32_of};
use crate::SqlStore;
use crate::db;

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
        Some(until) => format!(
            "{title}; held for an authorised disarm until {}",
            vakt_core::calendar::format(until, "%H:%M:%S")
        ),
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
            joined(
                tx,
                batch,
                open,
                (site_id, event, title),
                (keeps_hold, runaway_zone),
            )
            .await
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
        } => authorised_disarm(tx, batch, (site_id, event, by, message), now).await,
        EngineChange::LinkLost {
            transmitter_id,
            site_id,
            event,
            title,
        } => link_lost(tx, batch, (transmitter_id, site_id, event, title)).await,
        EngineChange::LinkRestored {
            transmitter_id,
            event,
        } => link_restored(tx, batch, transmitter_id, event).await,
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

impl EngineState for SqlStore {
    async fn take_shard(&self, shard: Shard) -> Result<ShardLease> {
        self.job(move |c| Box::pin(take_shard(c, shard))).await
    }

    async fn engine_cursor(&self, shard: Shard) -> Result<i64> {
        engine_cursor(&self.readers, shard).await
    }

    async fn apply_engine(
        &self,
        lease: ShardLease,
        cursor: i64,
        changes: Vec<EngineChange>,
        now: UnixMicros,
    ) -> Result<Vec<i64>> {
        self.job(move |c| Box::pin(apply_engine(c, lease, cursor, changes, now)))
            .await
    }

    async fn link_states(&self) -> Result<Vec<LinkState>> {
        link_states(&self.readers).await
    }

    async fn expired_test_modes(&self, now: UnixMicros) -> Result<Vec<(i64, Option<u32>)>> {
        expired_test_modes(&self.readers, now).await
    }

    async fn point_alarms_since(&self, since: UnixMicros) -> Result<Vec<(i64, u32, UnixMicros)>> {
        point_alarms_since(&self.readers, since).await
    }
}

/// An authorised disarm on a site with an open incident: the hold rules say whether it
/// cancels, stays with its operator, or stays because a life-safety alarm is in it.
async fn authorised_disarm(
    tx: &mut AnyConnection,
    batch: &mut EngineBatch,
    (site_id, event, by, message): (i64, EventNote, String, Option<vakt_store::NewMessage>),
    now: UnixMicros,
) -> Result<Option<i64>> {
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
        log(
            tx,
            id,
            event.at,
            "system",
            "note",
            None,
            None,
            &format!(
                "disarmed by {by} within the hold window; the incident is taken, so it stays open"
            ),
        )
        .await?;
    } else if outcome == DisarmOutcome::StaysLifeSafety {
        log(
            tx,
            id,
            event.at,
            "system",
            "note",
            None,
            None,
            &format!(
                "disarmed by {by}; a fire, hold-up or medical alarm is never cancelled by a disarm"
            ),
        )
        .await?;
    }
    Ok(Some(id))
}

/// A transmitter fell silent: a technical incident, raised once whichever engine notices.
async fn link_lost(
    tx: &mut AnyConnection,
    batch: &mut EngineBatch,
    (transmitter_id, site_id, event, title): (i64, i64, EventNote, String),
) -> Result<Option<i64>> {
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

/// An alarm joins the site's open incident: it may end the hold (a category the hold does
/// not cover), raise the incident's priority, and mark a runaway zone.
async fn joined(
    tx: &mut AnyConnection,
    batch: &mut EngineBatch,
    open: OpenIncident,
    (site_id, event, title): (i64, EventNote, String),
    (keeps_hold, runaway_zone): (bool, Option<u32>),
) -> Result<Option<i64>> {
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
        sqlx::query("UPDATE incidents SET category = $1, priority = $2, title = $3 WHERE id = $4")
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

/// A silent transmitter is heard again: its technical incident notes the return.
async fn link_restored(
    tx: &mut AnyConnection,
    batch: &mut EngineBatch,
    transmitter_id: i64,
    event: EventNote,
) -> Result<Option<i64>> {
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
