//! What every handler is given: the store and the parts of Vakt the web side speaks to.

use std::sync::Arc;

use axum::http::HeaderMap;
use vakt_core::{Clock, Entropy};
use vakt_service::secret::SecretHasher;
use vakt_store::{Centre, Journal, Registry};

use crate::auth;
use crate::panel_link::links::PanelLinks;

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
    pub links: Arc<PanelLinks>,
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
