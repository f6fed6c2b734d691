//! API clients over the API itself (`/api/v1/clients`): list, create (the token is in the
//! answer this once), revoke. Only a client with the `admin` scope may manage clients.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use vakt_core::access::parse_scopes;
use vakt_service::access::{self, RevokeError};
use vakt_service::forms::Problem;

use crate::api::authorize::Client;
use crate::api::error::{ApiError, ApiPath};
use crate::api::json::{Answer, Shared, body, invalid};
use crate::state::Store;

/// A client to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientForm {
    /// Its name.
    name: String,
    /// Scope names (`signals:read`, ..., `admin`).
    scopes: Vec<String>,
}

pub(super) async fn list<S: Store>(State(st): Shared<S>, Client(_client): Client) -> Answer {
    let clients = st.store.api_clients().await?;
    Ok(Json(serde_json::json!({ "clients": clients })).into_response())
}

pub(super) async fn create<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    input: Result<Json<ClientForm>, JsonRejection>,
) -> Answer {
    let form = body(input)?;
    let scopes = parse_scopes(&form.scopes.join(" ")).map_err(|word| {
        invalid(vec![Problem::new(
            "scopes",
            "scope",
            format!("{word} is not a scope."),
            format!("{word} är ingen behörighet."),
        )])
    })?;
    let made = access::create_api_client(
        &st.store,
        st.entropy.as_ref(),
        &form.name,
        &scopes,
        &client.actor(),
    )
    .await
    .map_err(invalid)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": made.id, "token": made.token })),
    )
        .into_response())
}

pub(super) async fn revoke<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
) -> Answer {
    match access::revoke_api_client(&st.store, id, &client.actor(), st.clock.now()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(RevokeError::Configured) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "configured_token",
            "The configured token is changed in the configuration ([http] api_token), not revoked.",
            "Den konfigurerade nyckeln byts i konfigurationen ([http] api_token), den återkallas inte.",
        )),
        Err(RevokeError::Store(error)) => Err(error.into()),
    }
}
