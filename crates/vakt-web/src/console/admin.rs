//! Administration: staff logins, guard companies and the audit log.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use vakt_core::centre::Role;
use vakt_service::access::{self};
use vakt_service::forms::{GuardCompanyForm, Problem, StaffForm};
use vakt_service::registry;
use vakt_store::StoreError;

use crate::auth::{Me, Refusal};
use crate::{Store, WebState};

use super::Shared;
use crate::extract::{Allowed, Posted};
use crate::page::{
    Chrome, Page, chrome, form_status, problem_lines, render, render_status, store_err,
};

#[derive(Template)]
#[template(path = "admin/staff.html")]
pub(super) struct StaffPage {
    c: Chrome,
    staff: Vec<vakt_store::Staff>,
    companies: Vec<vakt_store::GuardCompany>,
    roles: Vec<(&'static str, &'static str)>,
    problems: Vec<(String, String)>,
}

pub(super) async fn staff_view<S: Store>(st: &WebState<S>, me: &Me, problems: &[Problem]) -> Page {
    let status = form_status(problems);
    Ok(render_status(
        status,
        &StaffPage {
            c: chrome(Some(me), me.lang, "staff"),
            staff: st.store.staff().await.map_err(store_err(me))?,
            companies: st.store.guard_companies().await.map_err(store_err(me))?,
            roles: Role::ALL
                .iter()
                .map(|r| (r.as_str(), r.label(me.lang.code())))
                .collect(),
            problems: problem_lines(me.lang, problems),
        },
    ))
}

pub(super) async fn staff_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    staff_view(&st, &me, &[]).await
}

pub(super) async fn create_staff<S: Store>(
    State(st): Shared<S>,
    Posted { me, fields }: Posted,
) -> Page {
    let form = StaffForm {
        login: fields.get("login").into(),
        name: fields.get("name").into(),
        role: fields.get("role").into(),
        guard_company_id: fields.get("guard_company_id").into(),
        language: fields.get("language").into(),
        password: fields.get("password").into(),
    };
    let problems = match access::create_staff(
        &st.store,
        &st.hasher,
        st.entropy.as_ref(),
        &form,
        &me.staff.actor(),
    )
    .await
    {
        Ok(_) => return Ok(Redirect::to("/admin/staff").into_response()),
        Err(problems) => problems,
    };
    staff_view(&st, &me, &problems).await
}

#[derive(Template)]
#[template(path = "admin/companies.html")]
pub(super) struct CompaniesPage {
    c: Chrome,
    companies: Vec<vakt_store::GuardCompany>,
    problems: Vec<(String, String)>,
}

pub(super) async fn companies_view<S: Store>(
    st: &WebState<S>,
    me: &Me,
    problems: &[Problem],
) -> Page {
    let status = form_status(problems);
    Ok(render_status(
        status,
        &CompaniesPage {
            c: chrome(Some(me), me.lang, "guards"),
            companies: st.store.guard_companies().await.map_err(store_err(me))?,
            problems: problem_lines(me.lang, problems),
        },
    ))
}

pub(super) async fn companies_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    companies_view(&st, &me, &[]).await
}

pub(super) async fn create_company<S: Store>(
    State(st): Shared<S>,
    Posted { me, fields }: Posted,
) -> Page {
    let form = GuardCompanyForm {
        name: fields.get("name").into(),
        phone: fields.get("phone").into(),
        areas: fields.get("areas").into(),
    };
    let problems = match registry::save_guard_company(&st.store, 0, &form, &me.staff.actor()).await
    {
        Ok(Ok(_)) => return Ok(Redirect::to("/admin/guard-companies").into_response()),
        Err(StoreError::Conflict(_)) => vec![Problem::new(
            "name",
            "duplicate",
            "That company already exists.",
            "Vaktbolaget finns redan.",
        )],
        Err(error) => return Err(Refusal::Store(me.lang, error)),
        Ok(Err(problems)) => problems,
    };
    companies_view(&st, &me, &problems).await
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub(super) struct AuditPage {
    c: Chrome,
    entries: Vec<vakt_store::AuditEntry>,
    messages: Vec<vakt_store::OutboxMessage>,
}

pub(super) async fn audit_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    Ok(render(&AuditPage {
        c: chrome(Some(&me), me.lang, "audit"),
        entries: st
            .store
            .audit(None, None, 500)
            .await
            .map_err(store_err(&me))?,
        messages: st.store.messages(100).await.map_err(store_err(&me))?,
    }))
}
