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

use Scope::{
    Admin, ClusterRead, IncidentsRead, Panels, RegistryRead, RegistryWrite, SignalsRead,
    TransmittersRead, TransmittersWrite,
};

/// Every API route and the scope its client needs: the one place that says which program
/// may call what (`docs/openapi.yaml` says the same as `x-scope`).
pub const SCOPES: &[(&str, &str, Scope)] = &[
    ("GET", "/api/v1/signals", SignalsRead),
    ("GET", "/api/v1/transmitters", TransmittersRead),
    ("POST", "/api/v1/transmitters", TransmittersWrite),
    ("DELETE", "/api/v1/transmitters/{id}", TransmittersWrite),
    ("PUT", "/api/v1/transmitters/{id}/site", TransmittersWrite),
    ("GET", "/api/v1/customers", RegistryRead),
    ("POST", "/api/v1/customers", RegistryWrite),
    ("GET", "/api/v1/sites", RegistryRead),
    ("POST", "/api/v1/sites", RegistryWrite),
    ("GET", "/api/v1/sites/{id}", RegistryRead),
    ("PUT", "/api/v1/sites/{id}/points", RegistryWrite),
    ("PUT", "/api/v1/sites/{id}/users", RegistryWrite),
    ("PUT", "/api/v1/sites/{id}/contacts", RegistryWrite),
    (
        "PUT",
        "/api/v1/sites/{id}/instructions/{category}",
        RegistryWrite,
    ),
    ("GET", "/api/v1/sites/{id}/panel", Panels),
    ("POST", "/api/v1/sites/{id}/panel", Panels),
    ("GET", "/api/v1/panels", Panels),
    ("GET", "/api/v1/guard-companies", RegistryRead),
    ("POST", "/api/v1/guard-companies", RegistryWrite),
    ("POST", "/api/v1/staff", Admin),
    ("GET", "/api/v1/clients", Admin),
    ("POST", "/api/v1/clients", Admin),
    ("DELETE", "/api/v1/clients/{id}", Admin),
    ("GET", "/api/v1/incidents", IncidentsRead),
    ("GET", "/api/v1/incidents/{id}", IncidentsRead),
    ("GET", "/api/v1/cluster", ClusterRead),
];

/// The scope `method` on the route `pattern` needs; `None` for a route the table lacks.
#[must_use]
pub fn scope_for(method: &str, pattern: &str) -> Option<Scope> {
    SCOPES
        .iter()
        .find(|(m, p, _)| *m == method && *p == pattern)
        .map(|(_, _, scope)| *scope)
}

/// The API client calling this route, holding the scope the table says it needs.
#[derive(Debug)]
pub struct Client(pub ApiClient);

impl<S: Store> axum::extract::FromRequestParts<std::sync::Arc<WebState<S>>> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &std::sync::Arc<WebState<S>>,
    ) -> Result<Self, Self::Rejection> {
        let pattern = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(axum::extract::MatchedPath::as_str);
        let Some(scope) = pattern.and_then(|p| scope_for(parts.method.as_str(), p)) else {
            tracing::error!(?pattern, "an API route missing from the scope table");
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "This route is not open to API clients.",
                "Den här vägen är inte öppen för API-klienter.",
            ));
        };
        authorize(state, &parts.headers, scope).await.map(Client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/openapi.yaml` names each operation's scope (`x-scope`); it and the table must
    /// say the same, operation for operation.
    #[test]
    fn the_scope_table_and_the_openapi_document_agree() {
        let document = include_str!("../../../../docs/openapi.yaml");
        let (mut path, mut method) = (String::new(), String::new());
        let mut documented = Vec::new();
        for line in document.lines() {
            if let Some(p) = line
                .strip_prefix("  /api/")
                .and_then(|p| p.strip_suffix(':'))
            {
                path = format!("/api/{p}");
            } else if let Some(m) = line
                .strip_prefix("    ")
                .and_then(|m| m.strip_suffix(':'))
                .filter(|m| ["get", "post", "put", "delete"].contains(m))
            {
                method = m.to_uppercase();
            } else if let Some(scope) = line.trim().strip_prefix("x-scope:") {
                let scope = scope.trim().trim_matches('"');
                documented.push((method.clone(), path.clone(), scope.to_owned()));
            }
        }
        let mut table: Vec<(String, String, String)> = SCOPES
            .iter()
            .map(|(m, p, s)| ((*m).to_owned(), (*p).to_owned(), s.as_str().to_owned()))
            .collect();
        documented.sort();
        table.sort();
        assert_eq!(documented, table);
        assert_eq!(
            scope_for("GET", "/api/v1/signals"),
            Some(Scope::SignalsRead)
        );
        assert_eq!(scope_for("GET", "/api/v1/nothing"), None);
    }
}
