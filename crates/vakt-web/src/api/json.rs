//! JSON bodies in and out: a body that does not parse gets the API's 400, a body with
//! problems its 422 with every problem, and a creation its 201 with the new id.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vakt_service::forms::Problem;

use crate::api::error::ApiError;
use crate::state::WebState;

/// The state, as API handlers take it.
pub(crate) type Shared<S> = State<Arc<WebState<S>>>;
/// What an API handler answers.
pub(crate) type Answer = Result<Response, ApiError>;

pub(crate) fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(v)| v).map_err(|rejection| {
        ApiError::bad_request(
            format!(
                "The body is not the expected JSON: {}",
                rejection.body_text()
            ),
            format!(
                "Innehållet är inte den väntade JSON-formen: {}",
                rejection.body_text()
            ),
        )
    })
}

pub(crate) fn invalid(problems: Vec<Problem>) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        "Nothing was stored: some fields are invalid.",
        "Inget sparades: några fält är felaktiga.",
    );
    error.details = serde_json::json!(problems);
    error
}

pub(crate) fn created(id: i64) -> Response {
    (StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response()
}
