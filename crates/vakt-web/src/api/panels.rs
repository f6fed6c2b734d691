//! Connected panels over JSON: which are connected, one site's panel, and commands to it.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::authorize::Client;
use crate::api::error::{ApiError, ApiPath};
use crate::panel_link::links::{LinkError, LinkView, PanelCommand};
use crate::state::{Store, WebState};

/// `GET /api/v1/panels`: every connected panel.
pub async fn api_panels<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    Client(_client): Client,
) -> Result<Json<Vec<LinkView>>, ApiError> {
    Ok(Json(st.links.all()))
}

/// No panel of the site is connected: 404 when asking for the link, 409 for a command to a
/// site that exists (its state does not allow the command now).
fn not_connected_with(status: StatusCode) -> ApiError {
    ApiError::new(
        status,
        "panel_not_connected",
        "The site's panel is not connected.",
        "Objektets centralapparat är inte ansluten.",
    )
}

/// `GET /api/v1/sites/{id}/panel`: a site's connected panel.
pub async fn api_site_panel<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    Client(_client): Client,
    ApiPath(site_id): ApiPath<i64>,
) -> Result<Json<LinkView>, ApiError> {
    st.links
        .for_site(site_id)
        .map(Json)
        .ok_or_else(|| not_connected_with(StatusCode::NOT_FOUND))
}

/// `POST /api/v1/sites/{id}/panel`: a command for the site's panel; the answer carries the
/// panel's refusal, if any, and the state after.
pub async fn api_command<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    Client(_client): Client,
    ApiPath(site_id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let command: PanelCommand = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            format!("The command is not valid: {e}."),
            format!("Kommandot är ogiltigt: {e}."),
        )
    })?;
    match st.links.command(site_id, command).await {
        Err(LinkError::NotConnected) => {
            // No such site is 404; a site whose panel is away is a conflict with its state.
            st.store.site(site_id).await?;
            Err(not_connected_with(StatusCode::CONFLICT))
        }
        Err(LinkError::NoAnswer) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "panel_no_answer",
            "The panel did not answer.",
            "Centralapparaten svarade inte.",
        )),
        Ok(result) => {
            // Give the panel's state push a moment to land before reporting it.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let status = st.links.for_site(site_id).and_then(|l| l.status);
            let status_code = if result.is_ok() {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            Ok((
                status_code,
                Json(serde_json::json!({
                    "ok": result.is_ok(),
                    "refusal": result.err(),
                    "status": status,
                })),
            )
                .into_response())
        }
    }
}
