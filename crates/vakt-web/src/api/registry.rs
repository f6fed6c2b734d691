//! The registry over JSON: customers, sites and what hangs off them, guard companies, staff.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use vakt_core::Category;
use vakt_core::access::Scope;
use vakt_service::forms::{
    self, ContactForm, CustomerForm, GuardCompanyForm, PointForm, SiteForm, StaffForm, UserForm,
};

use crate::api::authorize::authorize;
use crate::api::error::{ApiError, ApiPath};
use crate::api::json::{Answer, Shared, body, created, invalid};
use crate::state::Store;

pub(super) async fn customers<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(Json(serde_json::json!({ "customers": st.store.customers().await? })).into_response())
}

pub(super) async fn create_customer<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    input: Result<Json<CustomerForm>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::RegistryWrite).await?;
    let customer = body(input)?
        .validate(vakt_service::registry::today(st.clock.now()))
        .map_err(invalid)?;
    Ok(created(
        st.store
            .save_customer(None, customer, &client.actor())
            .await?,
    ))
}

pub(super) async fn sites<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(Json(serde_json::json!({ "sites": st.store.sites().await? })).into_response())
}

pub(super) async fn create_site<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    input: Result<Json<SiteForm>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::RegistryWrite).await?;
    let site = body(input)?.validate().map_err(invalid)?;
    Ok(created(
        st.store.save_site(None, site, &client.actor()).await?,
    ))
}

pub(super) async fn site<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(Json(st.store.site(id).await?).into_response())
}

pub(super) async fn points<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<Vec<PointForm>>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::RegistryWrite).await?;
    let points = forms::validate_points(&body(input)?).map_err(invalid)?;
    st.store.save_points(id, points, &client.actor()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn users<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<Vec<UserForm>>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::RegistryWrite).await?;
    let users = forms::validate_users(&body(input)?).map_err(invalid)?;
    st.store
        .save_panel_users(id, users, &client.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn contacts<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<Vec<ContactForm>>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::RegistryWrite).await?;
    let valid = forms::validate_contacts(&body(input)?).map_err(invalid)?;
    let contacts = vakt_service::registry::hash_contacts(&st.hasher, st.entropy.as_ref(), valid)?;
    st.store
        .save_contacts(id, contacts, &client.actor())
        .await?;
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
    headers: HeaderMap,
    ApiPath((id, category)): ApiPath<(i64, String)>,
    input: Result<Json<Vec<StepInput>>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::RegistryWrite).await?;
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
    let steps = forms::validate_steps(&rows).map_err(invalid)?;
    st.store
        .save_instruction(id, category, steps, &client.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SiteRef {
    site_id: i64,
}

pub(super) async fn attach<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    input: Result<Json<SiteRef>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::TransmittersWrite).await?;
    let site = body(input)?;
    st.store
        .attach_transmitter(id, site.site_id, &client.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn companies<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(
        Json(serde_json::json!({ "guard_companies": st.store.guard_companies().await? }))
            .into_response(),
    )
}

pub(super) async fn create_company<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    input: Result<Json<GuardCompanyForm>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::RegistryWrite).await?;
    let company = body(input)?.validate(0).map_err(invalid)?;
    Ok(created(
        st.store
            .save_guard_company(company, &client.actor())
            .await?,
    ))
}

pub(super) async fn create_staff<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    input: Result<Json<StaffForm>, JsonRejection>,
) -> Answer {
    let client = authorize(&st, &headers, Scope::Admin).await?;
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
