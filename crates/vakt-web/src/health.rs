//! `/healthz` and `/metrics`: what a load balancer and a monitor ask of a node.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::{Store, WebState};

/// Healthy means this node can acknowledge signals: the database answers and the journal's
/// last commit went through. A node whose commits fail (disk full, database gone) answers
/// 503 with the reason, so a load balancer or monitor stops sending it panels; the journal
/// figures beside it say how far it is from that.
pub(crate) async fn healthz<S: Store>(State(state): State<Arc<WebState<S>>>) -> Response {
    let journal = state.store.commit_status();
    let lag = state.changes.lag();
    let figures = serde_json::json!({
        "committed": journal.committed,
        "failures_in_a_row": journal.failures_in_a_row,
        "engine_lag_signals": lag.signals,
        "engine_lag_seconds": lag.seconds,
    });
    let reason = match state.store.registry_revision().await {
        Err(error) => Some(error.to_string()),
        Ok(_) if !journal.healthy() => Some(format!(
            "the journal cannot commit: {}",
            journal.last_error.as_deref().unwrap_or("unknown")
        )),
        Ok(_) => None,
    };
    match reason {
        None => Json(serde_json::json!({ "status": "ok", "journal": figures })).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "status": "unavailable", "reason": reason, "journal": figures
            })),
        )
            .into_response(),
    }
}

pub(crate) async fn metrics<S>(State(state): State<Arc<WebState<S>>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        (state.metrics)(),
    )
        .into_response()
}
