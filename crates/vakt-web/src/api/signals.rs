//! `GET /api/v1/signals`: the journal, paged.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vakt_core::UnixMicros;
use vakt_store::SignalFilter;

use crate::api::authorize::Client;
use crate::api::error::ApiError;
use crate::state::{Store, WebState};

/// Longest page of signals the API returns.
pub const SIGNALS_PAGE_MAX: u32 = 1_000;

/// Query of `GET /api/v1/signals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalsQuery {
    account: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after_id: Option<i64>,
    limit: Option<u32>,
}

fn instant(field: &str, text: Option<&str>) -> Result<Option<UnixMicros>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let parsed: jiff::Timestamp = text.parse().map_err(|_| {
        ApiError::bad_request(
            format!("{field} must be an RFC 3339 time such as 2026-11-21T08:00:00Z"),
            format!("{field} måste vara en RFC 3339-tid, till exempel 2026-11-21T08:00:00Z"),
        )
    })?;
    Ok(Some(UnixMicros(parsed.as_microsecond())))
}

pub(crate) async fn signals<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    Client(_client): Client,
    query: Result<Query<SignalsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::bad_request(
            format!("Bad query: {rejection}"),
            format!("Felaktig fråga: {rejection}"),
        )
    })?;
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > SIGNALS_PAGE_MAX {
        return Err(ApiError::bad_request(
            format!("limit must be 1 to {SIGNALS_PAGE_MAX}"),
            format!("limit måste vara 1 till {SIGNALS_PAGE_MAX}"),
        ));
    }
    let filter = SignalFilter {
        account: query.account,
        since: instant("since", query.since.as_deref())?,
        until: instant("until", query.until.as_deref())?,
        after_id: query.after_id,
        limit,
        shard: None,
    };
    let signals = state.store.signals(&filter).await?;
    let items: Vec<serde_json::Value> = signals
        .iter()
        .map(vakt_store::StoredSignal::to_json)
        .collect();
    Ok(Json(serde_json::json!({ "signals": items })).into_response())
}
