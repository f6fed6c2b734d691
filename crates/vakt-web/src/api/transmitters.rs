//! `/api/v1/transmitters`: list, import (all or nothing) and delete.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vakt_service::TransmitterInput;
use vakt_service::transmitters::{self, Trouble};

use crate::api::authorize::Client;
use crate::api::error::{ApiError, ApiPath};
use crate::state::{Store, WebState};

pub(crate) async fn list<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    Client(_client): Client,
) -> Result<Response, ApiError> {
    let transmitters = state.store.transmitters().await?;
    let items: Vec<serde_json::Value> = transmitters.iter().map(transmitters::describe).collect();
    Ok(Json(serde_json::json!({ "transmitters": items })).into_response())
}

pub(crate) async fn import<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    Client(_client): Client,
    body: Result<Json<Vec<TransmitterInput>>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(inputs) = body.map_err(|rejection| {
        ApiError::bad_request(
            format!(
                "The body must be a JSON array of transmitters: {}",
                rejection.body_text()
            ),
            format!(
                "Innehållet måste vara en JSON-lista med sändare: {}",
                rejection.body_text()
            ),
        )
    })?;
    let entries = inputs.into_iter().enumerate().collect();
    let outcome = match transmitters::import(&state.store, entries).await? {
        Ok(outcome) => outcome,
        Err(problems) => {
            let details = problems
                .into_iter()
                .map(|p| match p.trouble {
                    Trouble::Field { field, message } => {
                        serde_json::json!({ "entry": p.entry, "field": field, "message": message })
                    }
                    Trouble::SameAs(_) => serde_json::json!({
                        "entry": p.entry, "field": "account", "message": "appears twice"
                    }),
                    Trouble::Empty => serde_json::json!({
                        "entry": p.entry, "field": null, "message": "no transmitters"
                    }),
                })
                .collect();
            let mut error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_transmitters",
                "Nothing was imported: some entries are invalid.",
                "Inget importerades: några poster är felaktiga.",
            );
            error.details = serde_json::Value::Array(details);
            return Err(error);
        }
    };
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({ "created": outcome.created, "updated": outcome.updated })),
    )
        .into_response())
}

pub(crate) async fn delete<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    Client(_client): Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    state.store.delete_transmitter(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
