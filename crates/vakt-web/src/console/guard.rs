//! A guard company's own page: its dispatches and their updates.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use vakt_core::centre::DispatchState;
use vakt_service::forms::{self};
use vakt_store::{DispatchUpdate, StoreError};

use crate::Store;

use super::Shared;
use crate::extract::{Allowed, Posted};
use crate::page::{
    Chrome, MessagePage, Page, chrome, conflict_response, render, render_status, store_err,
};

#[derive(Template)]
#[template(path = "guard/guard.html")]
pub(super) struct GuardPage {
    c: Chrome,
    dispatches: Vec<vakt_store::Dispatch>,
}

pub(super) async fn guard_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    let company = me.staff.guard_company_id.unwrap_or_default();
    Ok(render(&GuardPage {
        c: chrome(Some(&me), me.lang, "my_dispatches"),
        dispatches: st
            .store
            .dispatches_for(company)
            .await
            .map_err(store_err(&me))?,
    }))
}

pub(super) async fn guard_update<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let Some(state) =
        DispatchState::parse(fields.get("state")).filter(|s| *s != DispatchState::Cancelled)
    else {
        return Ok(conflict_response(
            &me,
            StoreError::Conflict("unknown state".into()),
            "/guard",
        ));
    };
    let mut p = forms::Problems::default();
    let report = p.optional("report", fields.get("report"), forms::TEXT_CHARS_MAX);
    if state == DispatchState::Reported && report.is_empty() {
        p.required("report", "", 1);
    }
    if let Err(problems) = p.finish(()) {
        let text = problems
            .iter()
            .map(|p| p.message(me.lang.code()).to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &MessagePage {
                c: chrome(Some(&me), me.lang, "app"),
                text,
                back: "/guard".into(),
            },
        ));
    }
    let company = me.staff.guard_company_id.unwrap_or_default();
    match st
        .store
        .update_dispatch(
            id,
            company,
            DispatchUpdate { state, report },
            &me.staff.actor(),
            st.clock.now(),
        )
        .await
    {
        Ok(incident) => {
            st.changes.announce(incident);
            Ok(Redirect::to("/guard").into_response())
        }
        Err(error) => Ok(conflict_response(&me, error, "/guard")),
    }
}
