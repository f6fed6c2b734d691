//! Vakt over HTTP: the operator console, health, metrics and the JSON API (`/api/v1`).
//!
//! Handlers are thin: they parse the request into typed values, call the service layer
//! (`vakt-service`) or read the store through its ports, and render a page or JSON. Errors
//! carry a stable code and a message in Swedish and English.
//!
//! - [`state`], [`http`], [`auth`], [`page`]: the plumbing: what handlers are given, headers
//!   and limits, who is asking (and [`auth::ROUTES`], who may call what), page rendering.
//! - [`console`]: the operator console, one module per area (queue, incidents, sites,
//!   customers, guard companies, administration, dashboard).
//! - [`api`]: the JSON API, each call naming the scope its client needs.
//! - [`panel_link`]: panels connected over WebSocket; [`health`]: `/healthz` and `/metrics`.

pub mod api;
pub mod auth;
pub mod console;
pub mod extract;
pub mod health;
pub mod http;
pub mod i18n;
pub mod page;
pub mod panel_link;
pub mod state;

use std::sync::Arc;

use crate::i18n::Words as _;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get};

pub use api::ApiError;
pub use state::{Store, WebState};

/// The router for a store.
pub fn router<S: Store>(state: Arc<WebState<S>>) -> Router {
    Router::new()
        .merge(console::routes::<S>())
        .merge(api::routes::<S>())
        .route("/healthz", get(health::healthz::<S>))
        .route("/metrics", get(health::metrics::<S>))
        .route("/api/v1/signals", get(api::signals::signals::<S>))
        .route(
            "/api/v1/transmitters",
            get(api::transmitters::list::<S>).post(api::transmitters::import::<S>),
        )
        .route(
            "/api/v1/transmitters/{id}",
            delete(api::transmitters::delete::<S>),
        )
        .route("/panel-link", get(panel_link::upgrade::<S>))
        .route("/api/v1/panels", get(api::panels::api_panels::<S>))
        .route("/api/v1/cluster", get(api::cluster::cluster::<S>))
        .route(
            "/api/v1/sites/{id}/panel",
            get(api::panels::api_site_panel::<S>).post(api::panels::api_command::<S>),
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
                    axum::response::Html(page::message_page(lang, lang.t("not_found"))),
                )
                    .into_response()
            }
        })
        .layer(axum::extract::DefaultBodyLimit::max(http::BODY_BYTES_MAX))
        .layer(axum::middleware::map_response(http::security_headers))
        .layer(axum::middleware::from_fn(http::log_request))
        .with_state(state)
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
