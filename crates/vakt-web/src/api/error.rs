//! The API's errors and path parameters: a stable code and a message in English and
//! Swedish, never the framework's plain text.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use vakt_store::StoreError;

/// An error as the API reports it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    en: String,
    sv: String,
    pub(crate) details: serde_json::Value,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        en: impl Into<String>,
        sv: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            en: en.into(),
            sv: sv.into(),
            details: serde_json::Value::Null,
        }
    }

    pub(crate) fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid bearer token is required.",
            "En giltig bearer-token krävs.",
        )
    }

    pub(crate) fn bad_request(en: impl Into<String>, sv: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", en, sv)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found.",
                "Hittades inte.",
            ),
            StoreError::Conflict(what) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("Conflict: {what}"),
                format!("Konflikt: {what}"),
            ),
            StoreError::Refused(refusal) => ApiError::new(
                StatusCode::CONFLICT,
                "refused",
                refusal.text("en"),
                refusal.text("sv"),
            ),
            StoreError::Unavailable(_) | StoreError::Closed => {
                tracing::error!(%error, "store error in an API request");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The database is unavailable; try again.",
                    "Databasen är inte tillgänglig; försök igen.",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "error": { "code": self.code, "message": { "en": self.en, "sv": self.sv } }
        });
        if !self.details.is_null() {
            body["error"]["details"] = self.details;
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// A path parameter of the JSON API: one that does not parse (`/api/v1/sites/abc`) gets the
/// API's JSON error with 400, not the framework's plain-text answer.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::bad_request(
                format!("Bad path: {}", rejection.body_text()),
                format!("Felaktig sökväg: {}", rejection.body_text()),
            )),
        }
    }
}
