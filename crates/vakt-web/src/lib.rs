//! Vakt over HTTP: the operator console, health, metrics and the JSON API (`/api/v1`).
//!
//! Handlers are thin: they parse the request into typed values, call the store through its
//! traits and render JSON. Errors carry a stable code and a message in Swedish and English.
//! The API is protected by a bearer token from the configuration, compared in constant time.

pub mod api;
pub mod auth;
pub mod console;
pub mod dashboard;
pub mod i18n;
pub mod panel_link;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use vakt_core::access::Scope;
use vakt_core::{Clock, Entropy, UnixMicros};
use vakt_service::TransmitterInput;
use vakt_service::access::{self, Denied};
use vakt_service::secret::SecretHasher;
use vakt_service::transmitters::{self, Trouble};
use vakt_store::{ApiClient, Centre, Journal, Registry, SignalFilter, StoreError};

/// Longest page of signals the API returns.
pub const SIGNALS_PAGE_MAX: u32 = 1_000;
/// Largest request body accepted, in bytes.
pub const BODY_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Everything the web side asks of the store.
pub trait Store: Journal + Registry + Centre + Clone {}
impl<S: Journal + Registry + Centre + Clone> Store for S {}

/// What the web side needs.
pub struct WebState<S> {
    /// The store.
    pub store: S,
    /// Renders the Prometheus metrics text.
    pub metrics: Arc<dyn Fn() -> String + Send + Sync>,
    /// Hashes and checks passwords and codes.
    pub hasher: SecretHasher,
    /// Where tokens and salts come from.
    pub entropy: Arc<dyn Entropy>,
    /// Sessions and lockout.
    pub security: auth::SecurityConfig,
    /// Where incident changes are announced.
    pub changes: vakt_engine::Changes,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The panels connected over the panel link.
    pub links: Arc<panel_link::PanelLinks>,
    /// This node's part of the cluster, as JSON (`GET /api/v1/cluster`).
    pub cluster: Arc<dyn Fn() -> serde_json::Value + Send + Sync>,
}

impl<S: Store> WebState<S> {
    /// The signed-in member of staff.
    ///
    /// # Errors
    /// When nobody is signed in.
    pub async fn me(&self, headers: &HeaderMap) -> Result<auth::Me, auth::Refusal> {
        auth::me(&self.store, headers, self.clock.now()).await
    }
}

impl<S> std::fmt::Debug for WebState<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState").finish_non_exhaustive()
    }
}

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

/// This node's part of the cluster: its number, the live nodes and the engine shards it runs.
async fn cluster<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&st, &headers, Scope::ClusterRead).await?;
    Ok(Json((st.cluster)()))
}

/// The router for a store.
pub fn router<S: Store>(state: Arc<WebState<S>>) -> Router {
    Router::new()
        .merge(console::routes::<S>())
        .merge(api::routes::<S>())
        .route("/healthz", get(healthz::<S>))
        .route("/metrics", get(metrics::<S>))
        .route("/api/v1/signals", get(signals::<S>))
        .route(
            "/api/v1/transmitters",
            get(list_transmitters::<S>).post(import_transmitters::<S>),
        )
        .route("/api/v1/transmitters/{id}", delete(delete_transmitter::<S>))
        .route("/panel-link", get(panel_link::upgrade::<S>))
        .route("/api/v1/panels", get(panel_link::api_panels::<S>))
        .route("/api/v1/cluster", get(cluster::<S>))
        .route(
            "/api/v1/sites/{id}/panel",
            get(panel_link::api_site_panel::<S>).post(panel_link::api_command::<S>),
        )
        .fallback(|uri: axum::http::Uri, headers: HeaderMap| async move {
            if uri.path().starts_with("/api/") {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "No such page.",
                    "Sidan finns inte.",
                )
                .into_response()
            } else {
                let lang = auth::request_lang(&headers);
                (
                    StatusCode::NOT_FOUND,
                    axum::response::Html(console::message_page(lang, lang.t("not_found"))),
                )
                    .into_response()
            }
        })
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// Logs each request's method, path and status at debug level: never its query, headers,
/// cookies or body, which can carry tokens and passwords.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    tracing::debug!(%method, path, status = response.status().as_u16(), "http");
    response
}

/// Headers every response carries: no framing, no sniffing, scripts only from Vakt itself.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

pub(crate) fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

/// Healthy means this node can acknowledge signals: the database answers and the journal's
/// last commit went through. A node whose commits fail (disk full, database gone) answers
/// 503 with the reason, so a load balancer or monitor stops sending it panels; the journal
/// figures beside it say how far it is from that.
async fn healthz<S: Store>(State(state): State<Arc<WebState<S>>>) -> Response {
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

async fn metrics<S>(State(state): State<Arc<WebState<S>>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        (state.metrics)(),
    )
        .into_response()
}

/// Query of `GET /api/v1/signals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalsQuery {
    account: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after_id: Option<i64>,
    limit: Option<u32>,
}

fn instant(field: &str, text: Option<&str>) -> Result<Option<UnixMicros>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let parsed: jiff::Timestamp = text.parse().map_err(|_| {
        ApiError::bad_request(
            format!("{field} must be an RFC 3339 time such as 2026-11-21T08:00:00Z"),
            format!("{field} måste vara en RFC 3339-tid, till exempel 2026-11-21T08:00:00Z"),
        )
    })?;
    Ok(Some(UnixMicros(parsed.as_microsecond())))
}

async fn signals<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    headers: HeaderMap,
    query: Result<Query<SignalsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let _client = authorize(&state, &headers, Scope::SignalsRead).await?;
    let Query(query) = query.map_err(|rejection| {
        ApiError::bad_request(
            format!("Bad query: {rejection}"),
            format!("Felaktig fråga: {rejection}"),
        )
    })?;
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > SIGNALS_PAGE_MAX {
        return Err(ApiError::bad_request(
            format!("limit must be 1 to {SIGNALS_PAGE_MAX}"),
            format!("limit måste vara 1 till {SIGNALS_PAGE_MAX}"),
        ));
    }
    let filter = SignalFilter {
        account: query.account,
        since: instant("since", query.since.as_deref())?,
        until: instant("until", query.until.as_deref())?,
        after_id: query.after_id,
        limit,
        shard: None,
    };
    let signals = state.store.signals(&filter).await?;
    let items: Vec<serde_json::Value> = signals
        .iter()
        .map(vakt_store::StoredSignal::to_json)
        .collect();
    Ok(Json(serde_json::json!({ "signals": items })).into_response())
}

async fn list_transmitters<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let _client = authorize(&state, &headers, Scope::TransmittersRead).await?;
    let transmitters = state.store.transmitters().await?;
    let items: Vec<serde_json::Value> = transmitters.iter().map(transmitters::describe).collect();
    Ok(Json(serde_json::json!({ "transmitters": items })).into_response())
}

async fn import_transmitters<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    headers: HeaderMap,
    body: Result<Json<Vec<TransmitterInput>>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let _client = authorize(&state, &headers, Scope::TransmittersWrite).await?;
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

async fn delete_transmitter<S: Store>(
    State(state): State<Arc<WebState<S>>>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let _client = authorize(&state, &headers, Scope::TransmittersWrite).await?;
    state.store.delete_transmitter(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Serves the router on `listener` until `shutdown` resolves, then finishes open requests.
///
/// # Errors
/// When the server fails.
pub async fn serve<S: Store>(
    listener: tokio::net::TcpListener,
    state: Arc<WebState<S>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
