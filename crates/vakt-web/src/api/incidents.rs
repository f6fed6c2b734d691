//! Incidents over JSON: the open ones, and one whole.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;

use crate::api::authorize::Client;
use crate::api::error::ApiPath;
use crate::api::json::{Answer, Shared};
use crate::state::Store;

pub(super) async fn incidents<S: Store>(State(st): Shared<S>, Client(_client): Client) -> Answer {
    Ok(Json(serde_json::json!({ "incidents": st.store.queue().await? })).into_response())
}

pub(super) async fn incident<S: Store>(
    State(st): Shared<S>,
    Client(_client): Client,
    ApiPath(id): ApiPath<i64>,
) -> Answer {
    Ok(Json(st.store.incident(id).await?).into_response())
}
