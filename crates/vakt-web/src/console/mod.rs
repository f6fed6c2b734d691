//! The operator console: server-rendered pages (askama) with a little of our own JavaScript
//! for the live queue (server-sent events) and the alarm sound.
//!
//! Handlers follow one shape: who is asking and may they ([`crate::auth`]), parse the form at
//! the edge ([`vakt_service::forms`]), call the store, then redirect (after a POST) or render.
//! A form with problems is shown again with every problem in the reader's language and nothing
//! stored. Operator actions announce the incident on [`vakt_engine::Changes`] so every open
//! console sees them within the second.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::routing::{get, post};

use crate::{Store, WebState};

mod admin;
mod customers;
pub mod dashboard;
mod guard;
mod incident_actions;
mod incidents;
mod queue;
mod signin;
mod site_parts;
mod sites;

type Shared<S> = State<Arc<WebState<S>>>;

/// Longest wait between a change and the queue's refresh, in milliseconds: changes that
/// arrive together are sent as one refresh.
pub const QUEUE_COALESCE_MS: u64 = 100;
pub use vakt_service::keys::TEST_MINUTES_MAX;

const STYLE: &str = include_str!("../../static/console.css");
const SCRIPT: &str = include_str!("../../static/console.js");
/// The static files' caching: an hour, then asked again (every other answer is `no-store`).
const STATIC_CACHE: &str = "public, max-age=3600";

/// The console's routes.
pub fn routes<S: Store>() -> Router<Arc<WebState<S>>> {
    Router::new()
        .route(
            "/static/console.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, STATIC_CACHE),
                    ],
                    STYLE,
                )
            }),
        )
        .route(
            "/static/console.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, STATIC_CACHE),
                    ],
                    SCRIPT,
                )
            }),
        )
        .route(
            "/login",
            get(signin::login_page::<S>).post(signin::login::<S>),
        )
        .route("/logout", post(signin::logout::<S>))
        .route("/", get(signin::start))
        .route("/queue", get(queue::queue_page::<S>))
        .route("/queue/rows", get(queue::queue_rows::<S>))
        .route("/queue/events", get(queue::queue_events::<S>))
        .route("/incidents/{id}", get(incidents::incident_page::<S>))
        .route("/incidents/{id}/take", post(incident_actions::take::<S>))
        .route(
            "/incidents/{id}/reassign",
            post(incident_actions::reassign::<S>),
        )
        .route("/incidents/{id}/step", post(incident_actions::step::<S>))
        .route(
            "/incidents/{id}/verify",
            post(incident_actions::verify::<S>),
        )
        .route("/incidents/{id}/note", post(incident_actions::note::<S>))
        .route(
            "/incidents/{id}/dispatch",
            post(incident_actions::dispatch::<S>),
        )
        .route("/incidents/{id}/key", post(incident_actions::key::<S>))
        .route("/incidents/{id}/close", post(incident_actions::close::<S>))
        .route("/sites", get(sites::sites_page::<S>))
        .route("/panels", get(sites::panels_page::<S>))
        .route(
            "/sites/new",
            get(sites::new_site_page::<S>).post(sites::create_site::<S>),
        )
        .route(
            "/sites/{id}",
            get(sites::site_page::<S>).post(sites::update_site::<S>),
        )
        .route("/sites/{id}/points", post(site_parts::points::<S>))
        .route("/sites/{id}/users", post(site_parts::users::<S>))
        .route("/sites/{id}/contacts", post(site_parts::contacts::<S>))
        .route(
            "/sites/{id}/instruction",
            post(site_parts::instruction::<S>),
        )
        .route(
            "/sites/{id}/revoking-code",
            post(site_parts::revoking_code::<S>),
        )
        .route("/sites/{id}/test-mode", post(site_parts::test_mode::<S>))
        .route("/sites/{id}/keys", post(site_parts::keys::<S>))
        .route(
            "/customers",
            get(customers::customers_page::<S>).post(customers::create_customer::<S>),
        )
        .route(
            "/customers/{id}",
            get(customers::customer_page::<S>).post(customers::update_customer::<S>),
        )
        .route("/guard", get(guard::guard_page::<S>))
        .route("/guard/dispatches/{id}", post(guard::guard_update::<S>))
        .route(
            "/admin/staff",
            get(admin::staff_page::<S>).post(admin::create_staff::<S>),
        )
        .route(
            "/admin/guard-companies",
            get(admin::companies_page::<S>).post(admin::create_company::<S>),
        )
        .route("/audit", get(admin::audit_page::<S>))
        .route("/dashboard", get(dashboard::page::<S>))
}
