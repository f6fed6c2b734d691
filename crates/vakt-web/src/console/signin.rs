//! Signing in and out, and the start page each role lands on.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::Store;
use crate::auth::{self, SignIn};
use crate::i18n::Lang;

use super::Shared;
use crate::extract::{Allowed, Posted};
use crate::i18n::Words as _;
use crate::page::{
    Chrome, Fields, MessagePage, Page, chrome, render, render_status, store_err, store_error_page,
};

#[derive(Template)]
#[template(path = "signin/login.html")]
pub(super) struct LoginPage {
    c: Chrome,
    error: String,
    login: String,
}

pub(super) async fn login_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Response {
    if let Ok(me) = st.me(&headers).await {
        return Redirect::to(auth::home(me.staff.role)).into_response();
    }
    let lang = auth::request_lang(&headers);
    render(&LoginPage {
        c: chrome(None, lang, "login"),
        error: String::new(),
        login: String::new(),
    })
}

pub(super) async fn login<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(fields);
    let lang = auth::request_lang(&headers);
    let login = fields.get("login").to_owned();
    let outcome = auth::sign_in(
        &st.store,
        &st.hasher,
        st.entropy.as_ref(),
        st.security,
        &login,
        fields.get("password"),
        st.clock.now(),
    )
    .await;
    let error = match outcome {
        Ok(SignIn::Ok { cookie, staff }) => {
            tracing::info!(login = %staff.login, "signed in");
            let mut response = Redirect::to(auth::home(staff.role)).into_response();
            if let Ok(value) = header::HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            return response;
        }
        Ok(SignIn::Wrong) => lang.t("login_failed"),
        Ok(SignIn::Locked) => lang.t("login_locked"),
        Err(error) => return store_error_page(lang, &error),
    };
    render_status(
        StatusCode::UNAUTHORIZED,
        &LoginPage {
            c: chrome(None, lang, "login"),
            error: error.to_owned(),
            login,
        },
    )
}

pub(super) async fn logout<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Posted { me, .. }: Posted,
) -> Page {
    if let Some(token) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        vakt_service::access::sign_out(&st.store, token)
            .await
            .map_err(store_err(&me))?;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = header::HeaderValue::from_str(&auth::clear_cookie(st.security)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub(super) async fn start(Allowed(me): Allowed) -> Page {
    let home = auth::home(me.staff.role);
    if home == "/" {
        let text = match me.lang {
            Lang::Sv => "Välkommen. Faktureringens sidor kommer i en senare version.",
            Lang::En => "Welcome. The billing pages arrive in a later version.",
        };
        return Ok(render(&MessagePage {
            c: chrome(Some(&me), me.lang, "app"),
            text: text.into(),
            back: "/".into(),
        }));
    }
    Ok(Redirect::to(home).into_response())
}
