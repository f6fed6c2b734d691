//! Reading journal rows back into records.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use vakt_core::UnixMicros;
use vakt_store::{SignalFilter, SignalRecord, StoreError, StoredSignal, Transport, Verdict};

use crate::unavailable;

/// Most rows one listing returns, whatever the caller asks for.
pub const LIST_ROWS_MAX: u32 = 10_000;

pub async fn journal_head(pool: &AnyPool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM signals")
        .fetch_one(pool)
        .await
        .map_err(unavailable)
}

pub async fn signals(
    pool: &AnyPool,
    filter: &SignalFilter,
) -> Result<Vec<StoredSignal>, StoreError> {
    // Written out with numbered parameters: PostgreSQL reads only `$n`, which SQLite reads too.
    let mut sql = String::from("SELECT * FROM signals WHERE 1 = 1");
    let mut values: Vec<Value> = Vec::new();
    let mut condition = |sql: &mut String, text: &str, value: Value| {
        values.push(value);
        sql.push_str(&text.replace('?', &format!("${}", values.len())));
    };
    if let Some(account) = &filter.account {
        condition(&mut sql, " AND account = ?", Value::Text(account.clone()));
    }
    if let Some(since) = filter.since {
        condition(&mut sql, " AND received_at_us >= ?", Value::Int(since.0));
    }
    if let Some(until) = filter.until {
        condition(&mut sql, " AND received_at_us < ?", Value::Int(until.0));
    }
    if let Some(shard) = filter.shard {
        condition(
            &mut sql,
            " AND transmitter_id % ?",
            Value::Int(i64::from(shard.count.max(1))),
        );
        condition(&mut sql, " = ?", Value::Int(i64::from(shard.index)));
    }
    if let Some(after) = filter.after_id {
        condition(&mut sql, " AND id > ?", Value::Int(after));
    }
    let limit = filter.limit.clamp(1, LIST_ROWS_MAX);
    // Paging forwards (after an id) reads oldest first, so no record is skipped.
    let order = if filter.after_id.is_some() {
        " ORDER BY id LIMIT ?"
    } else {
        " ORDER BY id DESC LIMIT ?"
    };
    condition(&mut sql, order, Value::Int(i64::from(limit)));
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for value in values {
        query = match value {
            Value::Int(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
        };
    }
    let rows = query.fetch_all(pool).await.map_err(unavailable)?;
    rows.iter()
        .map(signal)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(unavailable)
}

/// A parameter of a listing.
enum Value {
    Int(i64),
    Text(String),
}

fn signal(row: &AnyRow) -> Result<StoredSignal, sqlx::Error> {
    let decode = |column: &str, error: String| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: error.into(),
    };
    let transport = match row.try_get::<String, _>("transport")?.as_str() {
        "udp" => Transport::Udp,
        _ => Transport::Tcp,
    };
    let verdict_text: String = row.try_get("verdict")?;
    let verdict =
        Verdict::parse(&verdict_text).ok_or_else(|| decode("verdict", verdict_text.clone()))?;
    let xdata_text: String = row.try_get("xdata")?;
    let events_text: String = row.try_get("events")?;
    let record = SignalRecord {
        received_at: UnixMicros(row.try_get("received_at_us")?),
        transport,
        listener: row.try_get("listener")?,
        peer: row.try_get("peer")?,
        raw: row.try_get("raw")?,
        verdict,
        detail: row.try_get("detail")?,
        token: row.try_get("token")?,
        encrypted: row.try_get::<i64, _>("encrypted")? != 0,
        sequence: row.try_get("sequence")?,
        receiver: row.try_get("receiver")?,
        prefix: row.try_get("prefix")?,
        account: row.try_get("account")?,
        transmitter_id: row.try_get("transmitter_id")?,
        message_time: row
            .try_get::<Option<i64>, _>("message_time_us")?
            .map(UnixMicros),
        data: row.try_get("data")?,
        xdata: serde_json::from_str(&xdata_text).map_err(|e| decode("xdata", e.to_string()))?,
        events: serde_json::from_str(&events_text).map_err(|e| decode("events", e.to_string()))?,
        answer: row.try_get("answer")?,
        response: row.try_get("response")?,
        duplicate_key: row.try_get("duplicate_key")?,
    };
    Ok(StoredSignal {
        id: row.try_get("id")?,
        duplicate_of: row.try_get("duplicate_of")?,
        record,
    })
}
