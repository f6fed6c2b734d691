//! `GET /api/v1/cluster`: this node's part of the cluster.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::api::authorize::Client;
use crate::api::error::ApiError;
use crate::state::{Store, WebState};

/// This node's part of the cluster: its number, the live nodes and the engine shards it runs.
pub(crate) async fn cluster<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    Client(_client): Client,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json((st.cluster)()))
}
