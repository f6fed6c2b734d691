//! Which API client is calling, and whether its token holds the scope a route needs.

use axum::http::{HeaderMap, StatusCode, header};
use vakt_core::access::Scope;
use vakt_service::access::{self, Denied};
use vakt_store::ApiClient;

use crate::api::error::ApiError;
use crate::state::{Store, WebState};

/// The API client behind the request's bearer token, if it holds `scope`.
///
/// # Errors
/// 401 for no token or an unknown or revoked one; 403 for a client without the scope.
pub(crate) async fn authorize<S: Store>(
    state: &WebState<S>,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<ApiClient, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    match access::authorize(&state.store, presented, scope).await? {
        Ok(client) => Ok(client),
        Err(Denied::Unknown) => Err(ApiError::unauthorized()),
        Err(Denied::Scope(scope)) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("This client lacks the scope {}.", scope.as_str()),
            format!("Klienten saknar behörigheten {}.", scope.as_str()),
        )),
    }
}
