//! Incidents: the queue, one incident whole, operators' actions (decided by
//! `vakt_core::incident`) and guard companies' dispatch updates.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe};
use vakt_core::UnixMicros;
use vakt_core::centre::{DispatchState, Resolution, Role, StepOutcome};
use vakt_core::incident::{self, Decision, Life, Move};
use vakt_store::Incidents;
use vakt_store::centre::IncidentState;
use vakt_store::{
    Actor, Dispatch, DispatchUpdate, IncidentAction, IncidentDetail, IncidentEvent, IncidentTimes,
    LogEntry, QueueItem, StoreError,
};

use super::{Result, category, condition, get, log, micros, u32_of};
use crate::SqlStore;
use crate::{db, unavailable};

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
            result = record(&mut tx, id, other, &by, now).await?;
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

impl Incidents for SqlStore {
    async fn queue(&self) -> Result<Vec<QueueItem>> {
        queue(&self.readers).await
    }

    async fn incident(&self, id: i64) -> Result<IncidentDetail> {
        incident(&self.readers, id).await
    }

    async fn site_history(&self, site_id: i64, limit: u32) -> Result<Vec<QueueItem>> {
        site_history(&self.readers, site_id, limit).await
    }

    async fn act(
        &self,
        incident_id: i64,
        action: IncidentAction,
        by: &Actor,
        now: UnixMicros,
    ) -> Result<Option<i64>> {
        let by = by.clone();
        self.job(move |c| Box::pin(act(c, incident_id, action, by, now)))
            .await
    }

    async fn dispatches_for(&self, guard_company_id: i64) -> Result<Vec<Dispatch>> {
        dispatches_for(&self.readers, guard_company_id).await
    }

    async fn update_dispatch(
        &self,
        dispatch_id: i64,
        guard_company_id: i64,
        update: DispatchUpdate,
        by: &Actor,
        now: UnixMicros,
    ) -> Result<i64> {
        let by = by.clone();
        self.job(move |c| {
            Box::pin(update_dispatch(
                c,
                dispatch_id,
                guard_company_id,
                update,
                by,
                now,
            ))
        })
        .await
    }

    async fn incident_times(&self, since: UnixMicros) -> Result<Vec<IncidentTimes>> {
        incident_times(&self.readers, since).await
    }
}

/// Writes what the rules allowed: a step, a note, a password check, a dispatch (only to a
/// company covering the site's guard area) or the close. Returns the dispatch's id.
async fn record(
    tx: &mut AnyConnection,
    id: i64,
    action: IncidentAction,
    by: &Actor,
    now: UnixMicros,
) -> Result<Option<i64>> {
    match action {
        IncidentAction::Step {
            step,
            outcome,
            detail,
        } => {
            log(
                &mut *tx,
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
            log(&mut *tx, id, now, &by.name, "note", None, None, &text).await?;
        }
        IncidentAction::PasswordCheck { contact, right } => {
            let outcome = if right {
                StepOutcome::Verified
            } else {
                StepOutcome::WrongPassword
            };
            log(
                &mut *tx,
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
            let states: Vec<String> = sqlx::query_scalar(
                "SELECT state FROM dispatches WHERE incident_id = $1 AND guard_company_id = $2",
            )
            .bind(id)
            .bind(guard_company_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            let states: Vec<DispatchState> = states
                .iter()
                .filter_map(|s| DispatchState::parse(s))
                .collect();
            incident::may_dispatch(&company, &states).map_err(StoreError::Refused)?;
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
            log(
                &mut *tx, id, now, &by.name, "dispatch", None, None, &company,
            )
            .await?;
            return Ok(Some(dispatch));
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
            log(&mut *tx, id, now, &by.name, "closed", None, None, &detail).await?;
        }
        IncidentAction::Take | IncidentAction::Reassign { .. } => {}
    }
    Ok(None)
}
