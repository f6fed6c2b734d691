//! The registry and incidents over JSON (`/api/v1`), for integrations and bulk loading.
//!
//! The same validation as the console's forms: a body with problems gets 422 with every
//! problem (field, code, message in Swedish and English) and nothing is stored. Each call
//! names the scope it needs; changes are audited as made by the calling API client.

mod clients;

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use vakt_core::Category;
use vakt_core::access::Scope;
use vakt_service::forms::{
    self, ContactForm, CustomerForm, GuardCompanyForm, PointForm, Problem, SiteForm, StaffForm,
    UserForm,
};

use crate::{ApiError, ApiPath, Store, WebState, authorize};

type Shared<S> = State<Arc<WebState<S>>>;
type Answer = Result<Response, ApiError>;

/// The API's routes.
pub fn routes<S: Store>() -> Router<Arc<WebState<S>>> {
    Router::new()
        .route(
            "/api/v1/customers",
            get(customers::<S>).post(create_customer::<S>),
        )
        .route("/api/v1/sites", get(sites::<S>).post(create_site::<S>))
        .route("/api/v1/sites/{id}", get(site::<S>))
        .route("/api/v1/sites/{id}/points", put(points::<S>))
        .route("/api/v1/sites/{id}/users", put(users::<S>))
        .route("/api/v1/sites/{id}/contacts", put(contacts::<S>))
        .route(
            "/api/v1/sites/{id}/instructions/{category}",
            put(instruction::<S>),
        )
        .route("/api/v1/transmitters/{id}/site", put(attach::<S>))
        .route(
            "/api/v1/guard-companies",
            get(companies::<S>).post(create_company::<S>),
        )
        .route("/api/v1/staff", axum::routing::post(create_staff::<S>))
        .route(
            "/api/v1/clients",
            get(clients::list::<S>).post(clients::create::<S>),
        )
        .route(
            "/api/v1/clients/{id}",
            axum::routing::delete(clients::revoke::<S>),
        )
        .route("/api/v1/incidents", get(incidents::<S>))
        .route("/api/v1/incidents/{id}", get(incident::<S>))
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(v)| v).map_err(|rejection| {
        ApiError::bad_request(
            format!(
                "The body is not the expected JSON: {}",
                rejection.body_text()
            ),
            format!(
                "Innehållet är inte den väntade JSON-formen: {}",
                rejection.body_text()
            ),
        )
    })
}

fn invalid(problems: Vec<Problem>) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        "Nothing was stored: some fields are invalid.",
        "Inget sparades: några fält är felaktiga.",
    );
    error.details = serde_json::json!(problems);
    error
}

fn created(id: i64) -> Response {
    (StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response()
}

async fn customers<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(Json(serde_json::json!({ "customers": st.store.customers().await? })).into_response())
}

async fn create_customer<S: Store>(
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

async fn sites<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(Json(serde_json::json!({ "sites": st.store.sites().await? })).into_response())
}

async fn create_site<S: Store>(
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

async fn site<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(Json(st.store.site(id).await?).into_response())
}

async fn points<S: Store>(
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

async fn users<S: Store>(
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

async fn contacts<S: Store>(
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
struct StepInput {
    action: String,
    #[serde(default)]
    note: String,
}

async fn instruction<S: Store>(
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
struct SiteRef {
    site_id: i64,
}

async fn attach<S: Store>(
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

async fn companies<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::RegistryRead).await?;
    Ok(
        Json(serde_json::json!({ "guard_companies": st.store.guard_companies().await? }))
            .into_response(),
    )
}

async fn create_company<S: Store>(
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

async fn create_staff<S: Store>(
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

async fn incidents<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Answer {
    let _client = authorize(&st, &headers, Scope::IncidentsRead).await?;
    Ok(Json(serde_json::json!({ "incidents": st.store.queue().await? })).into_response())
}

async fn incident<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> Answer {
    let _client = authorize(&st, &headers, Scope::IncidentsRead).await?;
    Ok(Json(st.store.incident(id).await?).into_response())
}
