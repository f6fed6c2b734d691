//! Incidents over JSON: the open ones, and one whole.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use vakt_core::access::Scope;

use crate::api::authorize::authorize;
use crate::api::error::ApiPath;
use crate::api::json::{Answer, Shared};
use crate::state::Store;

pub(super) async fn incidents<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::IncidentsRead).await?;
    Ok(Json(serde_json::json!({ "incidents": st.store.queue().await? })).into_response())
}

pub(super) async fn incident<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> Answer {
    let _client = authorize(&st, &headers, Scope::IncidentsRead).await?;
    Ok(Json(st.store.incident(id).await?).into_response())
}
