//! The registry over JSON: customers, sites and what hangs off them, guard companies, staff.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use vakt_core::Category;
use vakt_service::forms::{
    ContactForm, CustomerForm, GuardCompanyForm, PointForm, SiteForm, StaffForm, UserForm,
};
use vakt_service::registry;

use crate::api::authorize::Client;
use crate::api::error::{ApiError, ApiPath};
use crate::api::json::{Answer, Shared, body, created, invalid};
use crate::state::Store;

pub(super) async fn customers<S: Store>(State(st): Shared<S>, Client(_client): Client) -> Answer {
    Ok(Json(serde_json::json!({ "customers": st.store.customers().await? })).into_response())
}

pub(super) async fn create_customer<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    input: Result<Json<CustomerForm>, JsonRejection>,
) -> Answer {
    let form = body(input)?;
    let by = client.actor();
    let saved = registry::save_customer(&st.store, None, &form, st.clock.now(), &by).await?;
    Ok(created(saved.map_err(invalid)?))
}

pub(super) async fn sites<S: Store>(State(st): Shared<S>, Client(_client): Client) -> Answer {
    Ok(Json(serde_json::json!({ "sites": st.store.sites().await? })).into_response())
}

pub(super) async fn create_site<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    input: Result<Json<SiteForm>, JsonRejection>,
) -> Answer {
    let form = body(input)?;
    let by = client.actor();
    let saved = registry::save_site(&st.store, None, &form, &by).await?;
    Ok(created(saved.map_err(invalid)?))
}

pub(super) async fn site<S: Store>(
    State(st): Shared<S>,
    Client(_client): Client,
    ApiPath(id): ApiPath<i64>,
) -> Answer {
    Ok(Json(st.store.site(id).await?).into_response())
}

pub(super) async fn points<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<Vec<PointForm>>, JsonRejection>,
) -> Answer {
    let rows = body(input)?;
    registry::save_points(&st.store, id, &rows, &client.actor())
        .await?
        .map_err(invalid)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn users<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<Vec<UserForm>>, JsonRejection>,
) -> Answer {
    let rows = body(input)?;
    registry::save_users(&st.store, id, &rows, &client.actor())
        .await?
        .map_err(invalid)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn contacts<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<Vec<ContactForm>>, JsonRejection>,
) -> Answer {
    let rows = body(input)?;
    let hashing = (&st.hasher, st.entropy.as_ref());
    registry::save_contacts(&st.store, hashing, id, &rows, &client.actor())
        .await?
        .map_err(invalid)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepInput {
    action: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn instruction<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    ApiPath((id, category)): ApiPath<(i64, String)>,
    input: Result<Json<Vec<StepInput>>, JsonRejection>,
) -> Answer {
    let Some(category) = Category::ALL.into_iter().find(|c| c.as_str() == category) else {
        return Err(ApiError::bad_request(
            "Unknown alarm category.",
            "Okänd larmtyp.",
        ));
    };
    let rows: Vec<(String, String)> = body(input)?
        .into_iter()
        .map(|s| (s.action, s.note))
        .collect();
    registry::save_instruction(&st.store, id, category, &rows, &client.actor())
        .await?
        .map_err(invalid)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SiteRef {
    site_id: i64,
}

pub(super) async fn attach<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<SiteRef>, JsonRejection>,
) -> Answer {
    let site = body(input)?;
    st.store
        .attach_transmitter(id, site.site_id, &client.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn companies<S: Store>(State(st): Shared<S>, Client(_client): Client) -> Answer {
    Ok(
        Json(serde_json::json!({ "guard_companies": st.store.guard_companies().await? }))
            .into_response(),
    )
}

pub(super) async fn create_company<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    input: Result<Json<GuardCompanyForm>, JsonRejection>,
) -> Answer {
    let form = body(input)?;
    let by = client.actor();
    let saved = registry::save_guard_company(&st.store, 0, &form, &by).await?;
    Ok(created(saved.map_err(invalid)?))
}

pub(super) async fn create_staff<S: Store>(
    State(st): Shared<S>,
    Client(client): Client,
    input: Result<Json<StaffForm>, JsonRejection>,
) -> Answer {
    let form = body(input)?;
    let id = vakt_service::access::create_staff(
        &st.store,
        &st.hasher,
        st.entropy.as_ref(),
        &form,
        &client.actor(),
    )
    .await
    .map_err(invalid)?;
    Ok(created(id))
}
