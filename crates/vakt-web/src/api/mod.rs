//! The registry and incidents over JSON (`/api/v1`), for integrations and bulk loading.
//!
//! The same validation as the console's forms: a body with problems gets 422 with every
//! problem (field, code, message in Swedish and English) and nothing is stored. Each call
//! names the scope it needs; changes are audited as made by the calling API client.

pub(crate) mod authorize;
mod clients;
pub mod cluster;
pub(crate) mod error;
mod incidents;
pub(crate) mod json;
pub mod panels;
mod registry;
pub mod signals;
pub mod transmitters;

pub use error::{ApiError, ApiPath};

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, put};

use crate::state::{Store, WebState};

/// The API's routes.
pub fn routes<S: Store>() -> Router<Arc<WebState<S>>> {
    Router::new()
        .route(
            "/api/v1/customers",
            get(registry::customers::<S>).post(registry::create_customer::<S>),
        )
        .route(
            "/api/v1/sites",
            get(registry::sites::<S>).post(registry::create_site::<S>),
        )
        .route("/api/v1/sites/{id}", get(registry::site::<S>))
        .route("/api/v1/sites/{id}/points", put(registry::points::<S>))
        .route("/api/v1/sites/{id}/users", put(registry::users::<S>))
        .route("/api/v1/sites/{id}/contacts", put(registry::contacts::<S>))
        .route(
            "/api/v1/sites/{id}/instructions/{category}",
            put(registry::instruction::<S>),
        )
        .route("/api/v1/transmitters/{id}/site", put(registry::attach::<S>))
        .route(
            "/api/v1/guard-companies",
            get(registry::companies::<S>).post(registry::create_company::<S>),
        )
        .route(
            "/api/v1/staff",
            axum::routing::post(registry::create_staff::<S>),
        )
        .route(
            "/api/v1/clients",
            get(clients::list::<S>).post(clients::create::<S>),
        )
        .route(
            "/api/v1/clients/{id}",
            axum::routing::delete(clients::revoke::<S>),
        )
        .route("/api/v1/incidents", get(incidents::incidents::<S>))
        .route("/api/v1/incidents/{id}", get(incidents::incident::<S>))
}
