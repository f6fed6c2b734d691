//! The customer records: private persons and businesses, with their identity numbers.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use vakt_core::centre::Permission;
use vakt_service::forms::{CustomerForm, Problem};
use vakt_service::registry;
use vakt_store::StoreError;

use crate::auth::{Me, Refusal};
use crate::{Store, WebState};

use super::Shared;
use crate::extract::{Allowed, Posted};
use crate::page::{
    Chrome, Fields, Page, chrome, form_status, problem_lines, render, render_status, store_err,
};

#[derive(Template)]
#[template(path = "customers/customers.html")]
pub(super) struct CustomersPage {
    c: Chrome,
    customers: Vec<vakt_store::Customer>,
    can_edit: bool,
    problems: Vec<(String, String)>,
    form: CustomerForm,
}

pub(super) async fn customers_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    Ok(render(&CustomersPage {
        c: chrome(Some(&me), me.lang, "customers"),
        customers: st.store.customers().await.map_err(store_err(&me))?,
        can_edit: me.may(Permission::EditRegistry),
        problems: Vec::new(),
        form: CustomerForm {
            kind: "private".into(),
            ..CustomerForm::default()
        },
    }))
}

#[derive(Template)]
#[template(path = "customers/customer.html")]
pub(super) struct CustomerPage {
    c: Chrome,
    id: i64,
    can_edit: bool,
    problems: Vec<(String, String)>,
    form: CustomerForm,
    sites: Vec<vakt_store::SiteSummary>,
}

pub(super) fn customer_form(fields: &Fields) -> CustomerForm {
    CustomerForm {
        kind: fields.get("kind").into(),
        name: fields.get("name").into(),
        identity: fields.get("identity").into(),
        signatory: fields.get("signatory").into(),
        email: fields.get("email").into(),
        phone: fields.get("phone").into(),
        language: fields.get("language").into(),
    }
}

pub(super) async fn customer_view<S: Store>(
    st: &WebState<S>,
    me: &Me,
    id: i64,
    form: Option<CustomerForm>,
    problems: &[Problem],
) -> Page {
    let customer = st
        .store
        .customers()
        .await
        .map_err(store_err(me))?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(Refusal::Store(me.lang, StoreError::NotFound))?;
    let form = form.unwrap_or_else(|| CustomerForm {
        kind: customer.spec.kind.as_str().into(),
        name: customer.spec.name.clone(),
        identity: customer.spec.identity.clone(),
        signatory: customer.spec.signatory.clone(),
        email: customer.spec.email.clone(),
        phone: customer.spec.phone.clone(),
        language: customer.spec.language.clone(),
    });
    let mut sites = Vec::new();
    for summary in st.store.sites().await.map_err(store_err(me))? {
        if st
            .store
            .site(summary.id)
            .await
            .map_err(store_err(me))?
            .spec
            .customer_id
            == Some(id)
        {
            sites.push(summary);
        }
    }
    let status = form_status(problems);
    Ok(render_status(
        status,
        &CustomerPage {
            c: chrome(Some(me), me.lang, "customers"),
            id,
            can_edit: me.may(Permission::EditRegistry),
            problems: problem_lines(me.lang, problems),
            form,
            sites,
        },
    ))
}

pub(super) async fn customer_page<S: Store>(
    State(st): Shared<S>,
    Allowed(me): Allowed,
    Path(id): Path<i64>,
) -> Page {
    customer_view(&st, &me, id, None, &[]).await
}

pub(super) async fn update_customer<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let form = customer_form(&fields);
    let problems = match registry::save_customer(
        &st.store,
        Some(id),
        &form,
        st.clock.now(),
        &me.staff.actor(),
    )
    .await
    {
        Ok(Ok(_)) => return Ok(Redirect::to(&format!("/customers/{id}")).into_response()),
        Err(StoreError::Conflict(_)) => vec![Problem::new(
            "identity",
            "duplicate",
            "A customer with this number already exists.",
            "En kund med det numret finns redan.",
        )],
        Err(error) => return Err(Refusal::Store(me.lang, error)),
        Ok(Err(problems)) => problems,
    };
    customer_view(&st, &me, id, Some(form), &problems).await
}

pub(super) async fn create_customer<S: Store>(
    State(st): Shared<S>,
    Posted { me, fields }: Posted,
) -> Page {
    let form = CustomerForm {
        kind: fields.get("kind").into(),
        name: fields.get("name").into(),
        identity: fields.get("identity").into(),
        signatory: fields.get("signatory").into(),
        email: fields.get("email").into(),
        phone: fields.get("phone").into(),
        language: fields.get("language").into(),
    };
    let problems =
        match registry::save_customer(&st.store, None, &form, st.clock.now(), &me.staff.actor())
            .await
        {
            Ok(Ok(_)) => return Ok(Redirect::to("/customers").into_response()),
            Err(StoreError::Conflict(_)) => vec![Problem::new(
                "identity",
                "duplicate",
                "A customer with this number already exists.",
                "En kund med det numret finns redan.",
            )],
            Err(error) => return Err(Refusal::Store(me.lang, error)),
            Ok(Err(problems)) => problems,
        };
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &CustomersPage {
            c: chrome(Some(&me), me.lang, "customers"),
            customers: st.store.customers().await.map_err(store_err(&me))?,
            can_edit: true,
            problems: problem_lines(me.lang, &problems),
            form,
        },
    ))
}
