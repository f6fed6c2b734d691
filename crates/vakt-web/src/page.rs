//! What every console page shares: the chrome around it (menu, language, form token),
//! rendering, the message and error pages, and posted forms read into [`Fields`].

use std::borrow::Borrow;
use std::collections::BTreeMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use vakt_core::centre::{
    Authority, DispatchState, KeyAction, Permission, PointKind, Resolution, Role, StepAction,
    StepOutcome,
};
use vakt_core::{Category, UnixMicros};
use vakt_service::forms::{self, Problem};
use vakt_store::StoreError;

use crate::auth::{Me, Refusal};
use crate::i18n::Lang;
use crate::i18n::Words as _;

/// What a console handler answers: a page, or the refusal that stopped it.
pub type Page = Result<Response, Refusal>;

/// An instant, however deeply a template holds it.
pub trait AsMicros {
    /// The instant.
    fn micros(&self) -> UnixMicros;
}

impl AsMicros for UnixMicros {
    fn micros(&self) -> UnixMicros {
        *self
    }
}

impl<T: AsMicros + ?Sized> AsMicros for &T {
    fn micros(&self) -> UnixMicros {
        (**self).micros()
    }
}

/// What every page shows around its content.
#[derive(Debug)]
pub struct Chrome {
    /// The language.
    pub lang: Lang,
    /// The page title's key.
    pub title: String,
    /// The signed-in person's name and role, if any.
    pub who: Option<(String, String)>,
    /// The session's form token.
    pub csrf: String,
    /// Navigation: (href, label), for what the role may see.
    pub nav: Vec<(&'static str, &'static str)>,
    /// Which language to offer switching to: (code, label).
    pub other_lang: (&'static str, &'static str),
}

impl Chrome {
    /// A short local time, `HH:MM:SS`.
    #[must_use]
    pub fn clock(&self, at: impl AsMicros) -> String {
        local(at.micros(), "%H:%M:%S")
    }

    /// How long ago, as `m:ss` or `h:mm:ss`.
    #[must_use]
    pub fn age(&self, at: impl AsMicros, now_us: impl Borrow<i64>) -> String {
        let s = ((*now_us.borrow() - at.micros().0) / 1_000_000).max(0);
        if s >= 3_600 {
            format!("{}:{:02}:{:02}", s / 3_600, s % 3_600 / 60, s % 60)
        } else {
            format!("{}:{:02}", s / 60, s % 60)
        }
    }

    /// A word in the page's language.
    #[must_use]
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// An instant as a local time and date.
    #[must_use]
    pub fn time(&self, at: impl AsMicros) -> String {
        local(at.micros(), "%Y-%m-%d %H:%M:%S")
    }

    /// A category's label.
    #[must_use]
    pub fn cat(&self, category: impl Borrow<Category>) -> &'static str {
        category.borrow().label(self.lang.code())
    }

    /// The label of a stable name in one of the vocabularies.
    #[must_use]
    pub fn word(&self, vocabulary: &str, name: &str) -> &'static str {
        let lang = self.lang.code();
        let found = match vocabulary {
            "point" => PointKind::parse(name).map(|v| v.label(lang)),
            "authority" => Authority::parse(name).map(|v| v.label(lang)),
            "step" => StepAction::parse(name).map(|v| v.label(lang)),
            "outcome" => StepOutcome::parse(name).map(|v| v.label(lang)),
            "resolution" => Resolution::parse(name).map(|v| v.label(lang)),
            "dispatch" => DispatchState::parse(name).map(|v| v.label(lang)),
            "key" => vakt_core::centre::KeyState::parse(name).map(|v| v.label(lang)),
            "key_action" => KeyAction::parse(name).map(|v| v.label(lang)),
            "role" => Role::parse(name).map(|v| v.label(lang)),
            _ => None,
        };
        found.unwrap_or("")
    }
}

pub(crate) fn local(at: UnixMicros, format: &str) -> String {
    vakt_core::calendar::format(at, format)
}

/// Minutes since local midnight in Sweden.
pub(crate) fn local_minute(at: UnixMicros) -> u16 {
    local(at, "%H:%M")
        .split_once(':')
        .and_then(|(h, m)| Some(h.parse::<u16>().ok()? * 60 + m.parse::<u16>().ok()?))
        .unwrap_or(0)
}

pub(crate) fn chrome(me: Option<&Me>, lang: Lang, title: &str) -> Chrome {
    let mut nav = Vec::new();
    if let Some(me) = me {
        let links: [(&'static str, &'static str, Permission); 9] = [
            ("/queue", "queue", Permission::HandleAlarms),
            ("/guard", "my_dispatches", Permission::GuardWork),
            ("/sites", "sites", Permission::ViewSites),
            ("/panels", "panels", Permission::ViewSites),
            ("/customers", "customers", Permission::ViewCustomers),
            ("/dashboard", "dashboard", Permission::ViewDashboard),
            ("/audit", "audit", Permission::ViewAudit),
            ("/admin/staff", "staff", Permission::ManageStaff),
            ("/admin/guard-companies", "guards", Permission::ManageStaff),
        ];
        nav = links
            .into_iter()
            .filter(|(_, _, p)| me.may(*p))
            .map(|(href, key, _)| (href, lang.t(key)))
            .collect();
    }
    Chrome {
        lang,
        title: lang.t(title).to_owned(),
        who: me.map(|m| {
            (
                m.staff.name.clone(),
                m.staff.role.label(lang.code()).to_owned(),
            )
        }),
        csrf: me.map(|m| m.csrf.clone()).unwrap_or_default(),
        nav,
        other_lang: match lang {
            Lang::Sv => ("en", "English"),
            Lang::En => ("sv", "Svenska"),
        },
    }
}

pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "render error").into_response()
        }
    }
}

pub(crate) fn render_status(status: StatusCode, template: &impl Template) -> Response {
    let mut response = render(template);
    *response.status_mut() = status;
    response
}

#[derive(Template)]
#[template(path = "shared/message.html")]
pub(crate) struct MessagePage {
    pub(crate) c: Chrome,
    pub(crate) text: String,
    pub(crate) back: String,
}

/// A page with one message (forbidden, not found, ...).
#[must_use]
pub fn message_page(lang: Lang, text: &str) -> String {
    MessagePage {
        c: chrome(None, lang, "app"),
        text: text.to_owned(),
        back: "/".into(),
    }
    .render()
    .unwrap_or_else(|_| text.to_owned())
}

/// The page for a store error.
#[must_use]
pub fn store_error_page(lang: Lang, error: &StoreError) -> Response {
    let (status, text) = match error {
        StoreError::NotFound => (StatusCode::NOT_FOUND, lang.t("not_found").to_owned()),
        StoreError::Conflict(what) => (
            StatusCode::CONFLICT,
            format!("{}: {what}", lang.t("conflict")),
        ),
        StoreError::Refused(refusal) => (StatusCode::CONFLICT, refusal.text(lang.code())),
        StoreError::Unavailable(_) | StoreError::Closed => {
            tracing::error!(%error, "store error in the console");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                match lang {
                    Lang::Sv => "Databasen svarar inte just nu. Försök igen.".to_owned(),
                    Lang::En => "The database is not answering. Try again.".to_owned(),
                },
            )
        }
    };
    (status, Html(message_page(lang, &text))).into_response()
}

/// A store error as a refusal in the reader's language.
pub(crate) fn store_err(me: &Me) -> impl Fn(StoreError) -> Refusal + '_ {
    move |error| Refusal::Store(me.lang, error)
}

/// 422 when a form had problems, 200 when it is shown fresh.
pub(crate) fn form_status(problems: &[Problem]) -> StatusCode {
    if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

pub(crate) fn conflict_response(me: &Me, error: StoreError, back: &str) -> Response {
    let (status, text) = match &error {
        StoreError::Conflict(what) => (
            StatusCode::CONFLICT,
            format!("{}: {what}", me.lang.t("conflict")),
        ),
        StoreError::Refused(refusal) => (StatusCode::CONFLICT, refusal.text(me.lang.code())),
        StoreError::NotFound => (StatusCode::NOT_FOUND, me.lang.t("not_found").to_owned()),
        _ => return store_error_page(me.lang, &error),
    };
    render_status(
        status,
        &MessagePage {
            c: chrome(Some(me), me.lang, "app"),
            text,
            back: back.to_owned(),
        },
    )
}

/// A parsed form: pairs in order.
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of a field, or empty.
    #[must_use]
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Rows named `prefix[i].field`, in index order; rows whose every value is empty are left
    /// out (the blank rows a form offers for adding).
    #[must_use]
    pub fn rows(&self, prefix: &str) -> Vec<BTreeMap<String, String>> {
        let mut rows: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        for (key, value) in &self.0 {
            let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')) else {
                continue;
            };
            let Some((index, field)) = rest.split_once("].") else {
                continue;
            };
            let Ok(index) = index.parse::<usize>() else {
                continue;
            };
            if index > forms::ROWS_MAX * 2 {
                continue;
            }
            rows.entry(index)
                .or_default()
                .insert(field.to_owned(), value.clone());
        }
        rows.into_values()
            .filter(|row| {
                row.iter().any(|(k, v)| {
                    k != "kind" && k != "authority" && k != "action" && !v.trim().is_empty()
                })
            })
            .collect()
    }
}

/// A posted form, once its CSRF token is checked against the session's.
pub(crate) fn checked(me: &Me, pairs: Vec<(String, String)>) -> Result<Fields, Refusal> {
    let fields = Fields(pairs);
    me.check_csrf(fields.get("csrf"))?;
    Ok(fields)
}

pub(crate) fn field(row: &BTreeMap<String, String>, name: &str) -> String {
    row.get(name).cloned().unwrap_or_default()
}

/// The chrome for another module's page.
#[must_use]
pub fn page_chrome(me: &Me, title: &str) -> Chrome {
    chrome(Some(me), me.lang, title)
}

/// Renders another module's page.
#[must_use]
pub fn page(template: &impl Template) -> Response {
    render(template)
}

/// Maps a store error for another module.
#[must_use]
pub fn refuse(me: &Me, error: StoreError) -> Refusal {
    store_err(me)(error)
}

pub(crate) fn problem_lines(lang: Lang, problems: &[Problem]) -> Vec<(String, String)> {
    problems
        .iter()
        .map(|p| (p.field.clone(), p.message(lang.code()).to_owned()))
        .collect()
}

/// A refusal as the console shows it: the sign-in page, or a message in the reader's language.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn => Redirect::to("/login").into_response(),
            Refusal::Forbidden(lang) => (
                StatusCode::FORBIDDEN,
                axum::response::Html(message_page(lang, lang.t("forbidden"))),
            )
                .into_response(),
            Refusal::BadCsrf(lang) => (
                StatusCode::FORBIDDEN,
                axum::response::Html(message_page(
                    lang,
                    match lang {
                        Lang::Sv => "Formuläret har gått ut. Ladda om sidan och försök igen.",
                        Lang::En => "The form has expired. Reload the page and try again.",
                    },
                )),
            )
                .into_response(),
            Refusal::Store(lang, error) => store_error_page(lang, &error),
        }
    }
}
