//! The operator console: server-rendered pages (askama) with a little of our own JavaScript
//! for the live queue (server-sent events) and the alarm sound.
//!
//! Handlers follow one shape: who is asking and may they ([`crate::auth`]), parse the form at
//! the edge ([`vakt_service::forms`]), call the store, then redirect (after a POST) or render.
//! A form with problems is shown again with every problem in the reader's language and nothing
//! stored. Operator actions announce the incident on [`vakt_engine::Changes`] so every open
//! console sees them within the second.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use vakt_core::centre::{
    Authority, DispatchState, KeyAction, Permission, PointKind, Resolution, Role, StepAction,
    StepOutcome,
};
use vakt_core::{Category, UnixMicros};
use vakt_service::access::{self, Check};
use vakt_service::forms::{
    self, ContactForm, CustomerForm, GuardCompanyForm, PointForm, Problem, SiteForm, StaffForm,
    UserForm,
};
use vakt_service::registry;
use vakt_store::{
    DispatchUpdate, IncidentAction, IncidentDetail, IncidentState, QueueItem, SecretRef,
    SiteDetail, StoreError, TestMode,
};

use crate::auth::{self, Me, Refusal, SignIn};
use crate::i18n::Lang;
use crate::{Store, WebState};

type Shared<S> = State<Arc<WebState<S>>>;
type Page = Result<Response, Refusal>;

/// Longest wait between a change and the queue's refresh, in milliseconds: changes that
/// arrive together are sent as one refresh.
pub const QUEUE_COALESCE_MS: u64 = 100;
/// How long a test mode may be set for, in minutes (a week).
pub const TEST_MINUTES_MAX: u32 = 7 * 24 * 60;

const STYLE: &str = include_str!("../static/console.css");
const SCRIPT: &str = include_str!("../static/console.js");

/// The console's routes.
pub fn routes<S: Store>() -> Router<Arc<WebState<S>>> {
    Router::new()
        .route(
            "/static/console.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }),
        )
        .route(
            "/static/console.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    SCRIPT,
                )
            }),
        )
        .route("/login", get(login_page::<S>).post(login::<S>))
        .route("/logout", post(logout::<S>))
        .route("/", get(start::<S>))
        .route("/queue", get(queue_page::<S>))
        .route("/queue/rows", get(queue_rows::<S>))
        .route("/queue/events", get(queue_events::<S>))
        .route("/incidents/{id}", get(incident_page::<S>))
        .route("/incidents/{id}/{action}", post(incident_action::<S>))
        .route("/sites", get(sites_page::<S>))
        .route("/panels", get(panels_page::<S>))
        .route("/sites/new", get(new_site_page::<S>).post(create_site::<S>))
        .route("/sites/{id}", get(site_page::<S>).post(update_site::<S>))
        .route("/sites/{id}/{part}", post(site_part::<S>))
        .route(
            "/customers",
            get(customers_page::<S>).post(create_customer::<S>),
        )
        .route(
            "/customers/{id}",
            get(customer_page::<S>).post(update_customer::<S>),
        )
        .route("/guard", get(guard_page::<S>))
        .route("/guard/dispatches/{id}", post(guard_update::<S>))
        .route("/admin/staff", get(staff_page::<S>).post(create_staff::<S>))
        .route(
            "/admin/guard-companies",
            get(companies_page::<S>).post(create_company::<S>),
        )
        .route("/audit", get(audit_page::<S>))
        .route("/dashboard", get(crate::dashboard::page::<S>))
}

// --- shared page parts ---

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

fn local(at: UnixMicros, format: &str) -> String {
    vakt_core::calendar::format(at, format)
}

/// Minutes since local midnight in Sweden.
fn local_minute(at: UnixMicros) -> u16 {
    local(at, "%H:%M")
        .split_once(':')
        .and_then(|(h, m)| Some(h.parse::<u16>().ok()? * 60 + m.parse::<u16>().ok()?))
        .unwrap_or(0)
}

fn chrome(me: Option<&Me>, lang: Lang, title: &str) -> Chrome {
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

fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "render error").into_response()
        }
    }
}

fn render_status(status: StatusCode, template: &impl Template) -> Response {
    let mut response = render(template);
    *response.status_mut() = status;
    response
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    c: Chrome,
    text: String,
    back: String,
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
fn store_err(me: &Me) -> impl Fn(StoreError) -> Refusal + '_ {
    move |error| Refusal::Store(me.lang, error)
}

/// 422 when a form had problems, 200 when it is shown fresh.
fn form_status(problems: &[Problem]) -> StatusCode {
    if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

fn conflict_response(me: &Me, error: StoreError, back: &str) -> Response {
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
fn checked(me: &Me, pairs: Vec<(String, String)>) -> Result<Fields, Refusal> {
    let fields = Fields(pairs);
    me.check_csrf(fields.get("csrf"))?;
    Ok(fields)
}

fn field(row: &BTreeMap<String, String>, name: &str) -> String {
    row.get(name).cloned().unwrap_or_default()
}

// --- sign-in ---

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    error: String,
    login: String,
}

async fn login_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Response {
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

async fn login<S: Store>(
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

async fn logout<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    checked(&me, fields)?;
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

async fn start<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
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

// --- the queue ---

/// One queue row as shown.
#[derive(Debug)]
pub struct Row {
    item: QueueItem,
    title: String,
    mine: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    c: Chrome,
    rows: Vec<Row>,
    now_us: i64,
}

#[derive(Template)]
#[template(path = "queue_rows.html")]
struct QueueRows {
    c: Chrome,
    rows: Vec<Row>,
    now_us: i64,
}

/// What an incident is about, in the reader's language.
fn incident_title(lang: Lang, item: &QueueItem, supervision: bool) -> String {
    let what = if supervision {
        lang.t("no_contact").to_owned()
    } else {
        item.title.clone()
    };
    if what.is_empty() {
        item.category.label(lang.code()).to_owned()
    } else {
        format!("{} – {what}", item.category.label(lang.code()))
    }
}

fn queue_rows_of(me: &Me, items: Vec<QueueItem>) -> Vec<Row> {
    items
        .into_iter()
        .map(|item| Row {
            title: incident_title(
                me.lang,
                &item,
                item.category == Category::Technical && item.title.is_empty(),
            ),
            mine: item
                .owner
                .as_ref()
                .is_some_and(|(id, _)| *id == me.staff.id),
            item,
        })
        .collect()
}

async fn queue_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::HandleAlarms)?;
    let items = st.store.queue().await.map_err(store_err(&me))?;
    Ok(render(&QueuePage {
        c: chrome(Some(&me), me.lang, "queue"),
        rows: queue_rows_of(&me, items),
        now_us: st.clock.now().0,
    }))
}

async fn render_rows<S: Store>(st: &WebState<S>, me: &Me) -> Result<String, StoreError> {
    let items = st.store.queue().await?;
    QueueRows {
        c: chrome(Some(me), me.lang, "queue"),
        rows: queue_rows_of(me, items),
        now_us: st.clock.now().0,
    }
    .render()
    .map_err(|e| StoreError::Unavailable(e.to_string()))
}

async fn queue_rows<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::HandleAlarms)?;
    let html = render_rows(&st, &me).await.map_err(store_err(&me))?;
    Ok(Html(html).into_response())
}

/// How often an idle live queue checks that its session still stands, in milliseconds: a
/// stream whose session ended is closed within this time even when nothing changes.
pub const STREAM_SESSION_CHECK_MS: u64 = 5_000;

/// The live queue: the rendered rows now and after every change, and the id of each changed
/// incident (for an open incident page). The session is checked again before every event and
/// every [`STREAM_SESSION_CHECK_MS`] while idle: once it is signed out, expired or no longer
/// allowed the queue, the stream ends and sends nothing more.
async fn queue_events<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::HandleAlarms)?;
    let mut changes = st.changes.subscribe();
    let first = render_rows(&st, &me).await.map_err(store_err(&me))?;
    let state = (st.clone(), headers, Some(first));
    let stream = futures_util::stream::unfold(
        (state, changes_pending(&mut changes), changes),
        |((st, headers, first), _, mut changes)| async move {
            if let Some(html) = first {
                let event = SseEvent::default().event("rows").data(html);
                return Some((
                    Ok::<_, Infallible>(vec![event]),
                    ((st, headers, None), Vec::new(), changes),
                ));
            }
            let mut changed = Vec::new();
            loop {
                let check = tokio::time::sleep(Duration::from_millis(STREAM_SESSION_CHECK_MS));
                tokio::select! {
                    received = changes.recv() => match received {
                        Ok(id) => {
                            changed.push(id);
                            break;
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                    () = check => {
                        still_allowed(&st, &headers).await?;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(QUEUE_COALESCE_MS)).await;
            changed.extend(changes_pending(&mut changes));
            // Whoever reads this stream must still be signed in and allowed, now.
            let me = still_allowed(&st, &headers).await?;
            let mut events = Vec::new();
            match render_rows(&st, &me).await {
                Ok(html) => events.push(SseEvent::default().event("rows").data(html)),
                Err(error) => {
                    tracing::warn!(%error, "could not render the queue for a live console")
                }
            }
            changed.sort_unstable();
            changed.dedup();
            for id in changed {
                events.push(SseEvent::default().event("changed").data(id.to_string()));
            }
            Some((Ok(events), ((st, headers, None), Vec::new(), changes)))
        },
    );
    let flat =
        futures_util::StreamExt::flat_map(stream, |batch: Result<Vec<SseEvent>, Infallible>| {
            futures_util::stream::iter(
                batch
                    .unwrap_or_default()
                    .into_iter()
                    .map(Ok::<_, Infallible>),
            )
        });
    Ok(Sse::new(flat)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The stream's reader as the session stands now, when still allowed the live queue.
async fn still_allowed<S: Store>(st: &WebState<S>, headers: &HeaderMap) -> Option<Me> {
    st.me(headers)
        .await
        .ok()
        .filter(|me| me.may(Permission::HandleAlarms))
}

fn changes_pending(changes: &mut tokio::sync::broadcast::Receiver<i64>) -> Vec<i64> {
    let mut ids = Vec::new();
    while let Ok(id) = changes.try_recv() {
        ids.push(id);
    }
    ids
}

// --- the incident page ---

/// One step of the instruction as a checklist line.
#[derive(Debug)]
pub struct StepLine {
    index: u32,
    action: String,
    note: String,
    outcomes: Vec<(String, String, String)>,
    choices: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    c: Chrome,
    incident: IncidentDetail,
    title: String,
    closed: bool,
    mine: bool,
    owner: String,
    can_reassign: bool,
    operators: Vec<(i64, String)>,
    site: SiteDetail,
    callable: Vec<(vakt_store::Contact, bool)>,
    map_link: String,
    steps: Vec<StepLine>,
    events: Vec<(String, String, String, String)>,
    companies: Vec<(i64, String, bool)>,
    keys: Vec<(i64, String, String, String)>,
    dispatch_ids: Vec<i64>,
    resolutions: Vec<(&'static str, &'static str)>,
    flash: String,
}

fn map_link(site: &SiteDetail) -> String {
    match (site.spec.latitude, site.spec.longitude) {
        (Some(lat), Some(lon)) => {
            format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
        }
        _ => format!(
            "https://www.openstreetmap.org/search?query={}",
            form_urlencoded::byte_serialize(site.spec.address.as_bytes()).collect::<String>()
        ),
    }
}

fn step_outcomes(action: StepAction) -> Vec<StepOutcome> {
    match action {
        StepAction::CallSite | StepAction::CallContacts => {
            vec![
                StepOutcome::Called,
                StepOutcome::NoAnswer,
                StepOutcome::Skipped,
            ]
        }
        StepAction::Verify => vec![
            StepOutcome::Verified,
            StepOutcome::WrongPassword,
            StepOutcome::Skipped,
        ],
        _ => vec![StepOutcome::Done, StepOutcome::Skipped],
    }
}

async fn incident_view<S: Store>(st: &WebState<S>, me: &Me, id: i64, flash: String) -> Page {
    let incident = st.store.incident(id).await.map_err(store_err(me))?;
    let site = st
        .store
        .site(incident.item.site_id)
        .await
        .map_err(store_err(me))?;
    let lang = me.lang;
    let instruction = site.instruction(incident.item.category);
    let steps = instruction
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let done = incident
                .log
                .iter()
                .filter(|l| l.action == "step" && l.step == Some(index))
                .map(|l| {
                    (
                        l.outcome
                            .map(|o| o.label(lang.code()))
                            .unwrap_or_default()
                            .to_owned(),
                        local(l.at, "%H:%M:%S"),
                        l.detail.clone(),
                    )
                })
                .collect();
            StepLine {
                index,
                action: step.action.label(lang.code()).to_owned(),
                note: step.note.clone(),
                outcomes: done,
                choices: step_outcomes(step.action)
                    .into_iter()
                    .map(|o| (o.as_str(), o.label(lang.code())))
                    .collect(),
            }
        })
        .collect();
    let events = incident
        .events
        .iter()
        .map(|e| {
            let mut what = e.text.clone();
            if e.code == "link" {
                what = lang
                    .t(if e.condition == vakt_core::Condition::Restore {
                        "contact_restored"
                    } else {
                        "no_contact"
                    })
                    .to_owned();
            } else if e.user.is_some() && what.is_empty() {
                what = lang.t("unknown_user").to_owned();
            }
            if let Some(zone) = e.zone {
                let kind = site
                    .point(zone)
                    .map(|p| p.kind.label(lang.code()))
                    .unwrap_or_default();
                what = format!("{} {zone}: {what} {kind}", lang.t("zone"))
                    .trim()
                    .to_owned();
            }
            if let Some(user) = e.user {
                what = format!("{} {user}: {what}", lang.t("user"));
            }
            let condition = if e.condition == vakt_core::Condition::Restore {
                match lang {
                    Lang::Sv => " (återställt)",
                    Lang::En => " (restored)",
                }
            } else {
                ""
            };
            (
                local(e.at, "%H:%M:%S"),
                format!("{}{condition}", e.category.label(lang.code())),
                e.code.clone(),
                what,
            )
        })
        .collect();
    let companies = st
        .store
        .guard_companies()
        .await
        .map_err(store_err(me))?
        .into_iter()
        .map(|g| {
            let covers = vakt_core::centre::covers_area(&g.areas, &site.spec.guard_area);
            (g.id, g.name, covers)
        })
        .collect();
    let operators = if me.may(Permission::Reassign) {
        st.store
            .staff()
            .await
            .map_err(store_err(me))?
            .into_iter()
            .filter(|s| s.role.may(Permission::HandleAlarms))
            .map(|s| (s.id, s.name))
            .collect()
    } else {
        Vec::new()
    };
    let keys = site
        .keys
        .iter()
        .map(|k| {
            (
                k.id,
                k.label.clone(),
                k.state.as_str().to_owned(),
                k.holder.clone(),
            )
        })
        .collect();
    let minute = local_minute(st.clock.now());
    let callable = site
        .contacts
        .iter()
        .map(|c| {
            let allowed = vakt_core::centre::CallingHours::parse(&c.hours)
                .ok()
                .flatten()
                .is_none_or(|h| h.allows(minute));
            (c.clone(), allowed)
        })
        .collect();
    let supervision = incident.supervision_of.is_some();
    Ok(render(&IncidentPage {
        callable,
        c: chrome(Some(me), lang, "queue"),
        title: incident_title(lang, &incident.item, supervision),
        closed: incident.state == IncidentState::Closed,
        mine: incident
            .item
            .owner
            .as_ref()
            .is_some_and(|(id, _)| *id == me.staff.id),
        owner: incident
            .item
            .owner
            .as_ref()
            .map(|(_, n)| n.clone())
            .unwrap_or_default(),
        can_reassign: me.may(Permission::Reassign),
        operators,
        map_link: map_link(&site),
        steps,
        events,
        companies,
        keys,
        dispatch_ids: incident.dispatches.iter().map(|d| d.id).collect(),
        resolutions: Resolution::ALL
            .iter()
            .map(|r| (r.as_str(), r.label(lang.code())))
            .collect(),
        site,
        incident,
        flash,
    }))
}

async fn incident_page<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::HandleAlarms)?;
    incident_view(&st, &me, id, String::new()).await
}

async fn incident_action<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    let need = match action.as_str() {
        "reassign" => Permission::Reassign,
        "key" => Permission::ManageKeys,
        _ => Permission::HandleAlarms,
    };
    me.require(need)?;
    let fields = checked(&me, fields)?;
    let now = st.clock.now();
    let actor = me.staff.actor();
    let back = format!("/incidents/{id}");
    let bad = |en: &str, sv: &str| -> Page {
        let text = if me.lang == Lang::Sv { sv } else { en };
        Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &MessagePage {
                c: chrome(Some(&me), me.lang, "app"),
                text: text.to_owned(),
                back: back.clone(),
            },
        ))
    };
    let text_field = |name: &str| -> Result<String, ()> {
        let value = fields.get(name).trim().to_owned();
        if value.chars().count() > forms::TEXT_CHARS_MAX {
            Err(())
        } else {
            Ok(value)
        }
    };
    let too_long = || {
        bad(
            &format!(
                "The text is longer than {} characters.",
                forms::TEXT_CHARS_MAX
            ),
            &format!("Texten är längre än {} tecken.", forms::TEXT_CHARS_MAX),
        )
    };
    let mut flash = String::new();
    let act = match action.as_str() {
        "take" => IncidentAction::Take,
        "reassign" => match fields.get("to").parse::<i64>() {
            Ok(to) => IncidentAction::Reassign { to },
            Err(_) => return bad("Choose an operator.", "Välj en operatör."),
        },
        "step" => {
            let (Ok(step), Some(outcome)) = (
                fields.get("step").parse::<u32>(),
                StepOutcome::parse(fields.get("outcome")),
            ) else {
                return bad("Choose the step's outcome.", "Välj stegets utfall.");
            };
            let Ok(detail) = text_field("detail") else {
                return too_long();
            };
            IncidentAction::Step {
                step,
                outcome,
                detail,
            }
        }
        "note" => {
            let Ok(text) = text_field("text") else {
                return too_long();
            };
            if text.is_empty() {
                return bad("Write the note first.", "Skriv anteckningen först.");
            }
            IncidentAction::Note(text)
        }
        "verify" => {
            let incident = st.store.incident(id).await.map_err(store_err(&me))?;
            // The secret is checked only for the incident's owner: the same rule the store
            // applies when the check is recorded.
            let life = match incident.state {
                vakt_store::IncidentState::Open => vakt_core::incident::Life::Open {
                    owner: incident.item.owner.clone(),
                },
                vakt_store::IncidentState::Closed => vakt_core::incident::Life::Closed,
            };
            if let Err(refusal) =
                vakt_core::incident::decide(&life, me.staff.id, &vakt_core::incident::Move::Record)
            {
                return Ok(conflict_response(&me, StoreError::Refused(refusal), &back));
            }
            let site = st
                .store
                .site(incident.item.site_id)
                .await
                .map_err(store_err(&me))?;
            let chosen = fields.get("contact");
            let (which, name) = if chosen == "revoking" {
                let name = match me.lang {
                    Lang::Sv => "återkallningskoden".to_owned(),
                    Lang::En => "the revoking code".to_owned(),
                };
                (SecretRef::RevokingCode(site.id), name)
            } else {
                let Some(contact) = chosen
                    .parse::<i64>()
                    .ok()
                    .and_then(|cid| site.contacts.iter().find(|c| c.id == cid).cloned())
                else {
                    return bad("Choose the contact person.", "Välj kontaktperson.");
                };
                (SecretRef::Contact(contact.id), contact.name)
            };
            let said = fields.get("password");
            if said.chars().count() > forms::SECRET_CHARS_MAX {
                return bad("The password is too long.", "Lösenordet är för långt.");
            }
            let policy = st.security.policy();
            match access::check_secret(&st.store, &st.hasher, policy, which, said, now)
                .await
                .map_err(store_err(&me))?
            {
                Check::Right => {
                    flash = me.lang.t("right_password").to_owned();
                    IncidentAction::PasswordCheck {
                        contact: name,
                        right: true,
                    }
                }
                Check::Wrong => {
                    flash = me.lang.t("wrong_password").to_owned();
                    IncidentAction::PasswordCheck {
                        contact: name,
                        right: false,
                    }
                }
                Check::Locked => {
                    flash = me.lang.t("locked").to_owned();
                    IncidentAction::Note(format!("password check refused: {name} is locked"))
                }
                Check::NotSet => {
                    flash = me.lang.t("no_password").to_owned();
                    IncidentAction::Note(format!("{name} has no password registered"))
                }
            }
        }
        "dispatch" => match fields.get("company").parse::<i64>() {
            Ok(guard_company_id) => IncidentAction::Dispatch { guard_company_id },
            Err(_) => return bad("Choose a guard company.", "Välj ett vaktbolag."),
        },
        "close" => {
            let Some(resolution) = Resolution::parse(fields.get("resolution")) else {
                return bad("Choose how the alarm ended.", "Välj orsak.");
            };
            let Ok(note) = text_field("note") else {
                return too_long();
            };
            IncidentAction::Close { resolution, note }
        }
        "key" => {
            let (Ok(key), Some(key_action)) = (
                fields.get("key").parse::<i64>(),
                KeyAction::parse(fields.get("key_action")),
            ) else {
                return bad(
                    "Choose the key and what happened to it.",
                    "Välj nyckel och vad som hände.",
                );
            };
            let dispatch = fields.get("dispatch").parse::<i64>().ok();
            let holder = fields.get("holder").trim().to_owned();
            if holder.chars().count() > forms::NAME_CHARS_MAX {
                return too_long();
            }
            if let Err(error) = st
                .store
                .key_action(key, key_action, holder, dispatch, &actor)
                .await
            {
                return Ok(conflict_response(&me, error, &back));
            }
            st.changes.announce(id);
            return Ok(Redirect::to(&back).into_response());
        }
        _ => return Err(Refusal::Store(me.lang, StoreError::NotFound)),
    };
    match st.store.act(id, act, &actor, now).await {
        Ok(_) => {
            st.changes.announce(id);
            if flash.is_empty() {
                Ok(Redirect::to(&back).into_response())
            } else {
                incident_view(&st, &me, id, flash).await
            }
        }
        Err(error) => Ok(conflict_response(&me, error, &back)),
    }
}

// --- registry ---

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    c: Chrome,
    sites: Vec<vakt_store::SiteSummary>,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "panels.html")]
struct PanelsPage {
    c: Chrome,
    panels: Vec<PanelRow>,
}

/// One connected panel as the console shows it.
struct PanelRow {
    link: crate::panel_link::LinkView,
    state: String,
    display: String,
    open_zones: String,
    flags: Vec<&'static str>,
}

fn panel_row(lang: Lang, link: crate::panel_link::LinkView) -> PanelRow {
    let (state, display, open_zones, mut flags) = match &link.status {
        Some(status) => (
            status.state.clone(),
            if lang == Lang::Sv {
                status.display_sv.clone()
            } else {
                status.display_en.clone()
            },
            status.open_zones().join(", "),
            Vec::new(),
        ),
        None => (String::new(), String::new(), String::new(), Vec::new()),
    };
    if let Some(status) = &link.status {
        if status.siren {
            flags.push(lang.t("siren_on"));
        }
        if status.service_needed {
            flags.push(lang.t("service_needed"));
        }
        if !status.mains {
            flags.push(lang.t("mains_lost"));
        }
    }
    PanelRow {
        link,
        state,
        display,
        open_zones,
        flags,
    }
}

async fn panels_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ViewSites)?;
    let panels = st
        .links
        .all()
        .into_iter()
        .map(|link| panel_row(me.lang, link))
        .collect();
    Ok(render(&PanelsPage {
        c: chrome(Some(&me), me.lang, "panels"),
        panels,
    }))
}

async fn sites_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ViewSites)?;
    let sites = st.store.sites().await.map_err(store_err(&me))?;
    Ok(render(&SitesPage {
        c: chrome(Some(&me), me.lang, "sites"),
        sites,
        can_edit: me.may(Permission::EditRegistry),
    }))
}

#[derive(Template)]
#[template(path = "site_new.html")]
struct NewSitePage {
    c: Chrome,
    customers: Vec<(i64, String)>,
    problems: Vec<(String, String)>,
    form: SiteForm,
}

fn problem_lines(lang: Lang, problems: &[Problem]) -> Vec<(String, String)> {
    problems
        .iter()
        .map(|p| (p.field.clone(), p.message(lang.code()).to_owned()))
        .collect()
}

/// The customers a site form may choose from, with their identity numbers; only for those who
/// may read customer records.
async fn customer_choices<S: Store>(
    st: &WebState<S>,
    me: &Me,
) -> Result<Vec<(i64, String)>, Refusal> {
    if !me.may(Permission::ViewCustomers) {
        return Ok(Vec::new());
    }
    Ok(st
        .store
        .customers()
        .await
        .map_err(store_err(me))?
        .into_iter()
        .map(|c| (c.id, format!("{} ({})", c.spec.name, c.spec.identity)))
        .collect())
}

async fn new_site_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::EditRegistry)?;
    Ok(render(&NewSitePage {
        c: chrome(Some(&me), me.lang, "new_site"),
        customers: customer_choices(&st, &me).await?,
        problems: Vec::new(),
        form: SiteForm::default(),
    }))
}

fn site_form(fields: &Fields) -> SiteForm {
    SiteForm {
        customer_id: fields.get("customer_id").into(),
        name: fields.get("name").into(),
        address: fields.get("address").into(),
        latitude: fields.get("latitude").into(),
        longitude: fields.get("longitude").into(),
        guard_area: fields.get("guard_area").into(),
        note: fields.get("note").into(),
    }
}

async fn create_site<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::EditRegistry)?;
    let fields = checked(&me, fields)?;
    let form = site_form(&fields);
    let problems = match form.validate() {
        Ok(site) => match st.store.save_site(None, site, &me.staff.actor()).await {
            Ok(id) => return Ok(Redirect::to(&format!("/sites/{id}")).into_response()),
            Err(StoreError::Conflict(_)) => vec![Problem::new(
                "name",
                "duplicate",
                "A site with this name and address already exists.",
                "Ett objekt med samma namn och adress finns redan.",
            )],
            Err(error) => return Err(Refusal::Store(me.lang, error)),
        },
        Err(problems) => problems,
    };
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &NewSitePage {
            c: chrome(Some(&me), me.lang, "new_site"),
            customers: customer_choices(&st, &me).await?,
            problems: problem_lines(me.lang, &problems),
            form,
        },
    ))
}

/// One category's instruction on the site page: category, label, (action, note) steps, and
/// who changed it when.
type InstructionRow = (String, String, Vec<(String, String)>, String);

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    c: Chrome,
    site: SiteDetail,
    customers: Vec<(i64, String)>,
    selected_customer: String,
    can_edit: bool,
    can_edit_instructions: bool,
    can_test: bool,
    can_keys: bool,
    problems: Vec<(String, String)>,
    point_kinds: Vec<(&'static str, &'static str)>,
    step_actions: Vec<(&'static str, &'static str)>,
    instructions: Vec<InstructionRow>,
    history: Vec<Row>,
    key_logs: Vec<(vakt_store::Key, Vec<vakt_store::KeyEvent>)>,
    blank_rows: Vec<usize>,
    now_us: i64,
    map_link: String,
    panel: Option<PanelRow>,
}

async fn site_view<S: Store>(st: &WebState<S>, me: &Me, id: i64, problems: &[Problem]) -> Page {
    let site = st.store.site(id).await.map_err(store_err(me))?;
    let lang = me.lang;
    let alarm_categories = [
        Category::Burglary,
        Category::Fire,
        Category::HoldUp,
        Category::Medical,
        Category::Tamper,
        Category::Technical,
    ];
    let instructions = alarm_categories
        .iter()
        .map(|&cat| {
            let instruction = site.instruction(cat);
            let changed = instruction
                .updated
                .as_ref()
                .map(|(at, by)| {
                    format!(
                        "{} {by}, {}",
                        lang.t("changed_by"),
                        local(*at, "%Y-%m-%d %H:%M")
                    )
                })
                .unwrap_or_else(|| lang.t("default_instruction").to_owned());
            (
                cat.as_str().to_owned(),
                cat.label(lang.code()).to_owned(),
                instruction
                    .steps
                    .iter()
                    .map(|s| (s.action.as_str().to_owned(), s.note.clone()))
                    .collect(),
                changed,
            )
        })
        .collect();
    let history = st.store.site_history(id, 20).await.map_err(store_err(me))?;
    let mut key_logs = Vec::with_capacity(site.keys.len());
    for key in &site.keys {
        key_logs.push((
            key.clone(),
            st.store.key_events(key.id).await.map_err(store_err(me))?,
        ));
    }
    let status = form_status(problems);
    Ok(render_status(
        status,
        &SitePage {
            c: chrome(Some(me), lang, "sites"),
            customers: if me.may(Permission::EditRegistry) {
                customer_choices(st, me).await?
            } else {
                // Who the site belongs to, by name only: the rest is the customer's record.
                site.customer
                    .iter()
                    .map(|c| (c.id, c.spec.name.clone()))
                    .collect()
            },
            selected_customer: site
                .spec
                .customer_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            can_edit: me.may(Permission::EditRegistry),
            can_edit_instructions: me.may(Permission::EditInstructions),
            can_test: me.may(Permission::SetTestMode),
            can_keys: me.may(Permission::ManageKeys),
            problems: problem_lines(lang, problems),
            point_kinds: PointKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label(lang.code())))
                .collect(),
            step_actions: StepAction::ALL
                .iter()
                .map(|k| (k.as_str(), k.label(lang.code())))
                .collect(),
            instructions,
            history: queue_rows_of(me, history),
            key_logs,
            blank_rows: vec![0, 1],
            now_us: st.clock.now().0,
            map_link: map_link(&site),
            panel: st.links.for_site(site.id).map(|link| panel_row(lang, link)),
            site,
        },
    ))
}

async fn site_page<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ViewSites)?;
    site_view(&st, &me, id, &[]).await
}

async fn update_site<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::EditRegistry)?;
    let fields = checked(&me, fields)?;
    let problems = match site_form(&fields).validate() {
        Ok(site) => match st.store.save_site(Some(id), site, &me.staff.actor()).await {
            Ok(_) => return Ok(Redirect::to(&format!("/sites/{id}")).into_response()),
            Err(error @ StoreError::NotFound) => return Err(Refusal::Store(me.lang, error)),
            Err(StoreError::Conflict(what)) => {
                vec![Problem::new("name", "conflict", what.clone(), what)]
            }
            Err(error) => return Err(Refusal::Store(me.lang, error)),
        },
        Err(problems) => problems,
    };
    site_view(&st, &me, id, &problems).await
}

async fn site_part<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path((id, part)): Path<(i64, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    let need = match part.as_str() {
        "instruction" => Permission::EditInstructions,
        "test-mode" => Permission::SetTestMode,
        "keys" => Permission::ManageKeys,
        _ => Permission::EditRegistry,
    };
    me.require(need)?;
    let fields = checked(&me, fields)?;
    let actor = me.staff.actor();
    let outcome: Result<Result<(), StoreError>, Vec<Problem>> = match part.as_str() {
        "points" => {
            let rows: Vec<PointForm> = fields
                .rows("points")
                .iter()
                .filter(|r| field(r, "remove").is_empty())
                .map(|r| PointForm {
                    number: field(r, "number"),
                    name: field(r, "name"),
                    kind: field(r, "kind"),
                    location: field(r, "location"),
                })
                .collect();
            match forms::validate_points(&rows) {
                Ok(points) => Ok(st.store.save_points(id, points, &actor).await),
                Err(p) => Err(p),
            }
        }
        "users" => {
            let rows: Vec<UserForm> = fields
                .rows("users")
                .iter()
                .filter(|r| field(r, "remove").is_empty())
                .map(|r| UserForm {
                    number: field(r, "number"),
                    name: field(r, "name"),
                })
                .collect();
            match forms::validate_users(&rows) {
                Ok(users) => Ok(st.store.save_panel_users(id, users, &actor).await),
                Err(p) => Err(p),
            }
        }
        "contacts" => {
            let mut rows: Vec<(i64, ContactForm)> = fields
                .rows("contacts")
                .iter()
                .filter(|r| field(r, "remove").is_empty())
                .enumerate()
                .map(|(i, r)| {
                    let order = field(r, "order")
                        .trim()
                        .parse::<i64>()
                        .unwrap_or(i as i64 + 1);
                    (
                        order,
                        ContactForm {
                            id: field(r, "id"),
                            name: field(r, "name"),
                            phone: field(r, "phone"),
                            authority: field(r, "authority"),
                            hours: field(r, "hours"),
                            password: field(r, "password"),
                        },
                    )
                })
                .collect();
            rows.sort_by_key(|(order, _)| *order);
            let rows: Vec<ContactForm> = rows.into_iter().map(|(_, r)| r).collect();
            match forms::validate_contacts(&rows) {
                Ok(valid) => Ok(
                    match registry::hash_contacts(&st.hasher, st.entropy.as_ref(), valid) {
                        Ok(contacts) => st.store.save_contacts(id, contacts, &actor).await,
                        Err(error) => Err(error),
                    },
                ),
                Err(p) => Err(p),
            }
        }
        "instruction" => {
            let category = Category::ALL
                .into_iter()
                .find(|c| c.as_str() == fields.get("category"));
            let rows: Vec<(String, String)> = fields
                .rows("steps")
                .iter()
                .filter(|r| field(r, "remove").is_empty() && !field(r, "action").is_empty())
                .map(|r| (field(r, "action"), field(r, "note")))
                .collect();
            match (category, forms::validate_steps(&rows)) {
                (Some(category), Ok(steps)) => {
                    Ok(st.store.save_instruction(id, category, steps, &actor).await)
                }
                (None, _) => Err(vec![Problem::new(
                    "category",
                    "category",
                    "Choose an alarm type.",
                    "Välj larmtyp.",
                )]),
                (_, Err(p)) => Err(p),
            }
        }
        "revoking-code" => {
            let code = fields.get("code");
            let entropy = st.entropy.as_ref();
            match registry::set_revoking_code(&st.store, &st.hasher, entropy, id, code, &actor)
                .await
            {
                Ok(Ok(())) => Ok(Ok(())),
                Ok(Err(p)) => Err(p),
                Err(error) => Ok(Err(error)),
            }
        }
        "test-mode" => {
            let zone = match fields.get("zone").trim() {
                "" => Ok(None),
                text => text.parse::<u32>().map(Some).map_err(|_| ()),
            };
            let minutes = fields.get("minutes").trim();
            let until = if fields.get("end") == "1" {
                Ok(None)
            } else {
                match minutes.parse::<u32>() {
                    Ok(m) if (1..=TEST_MINUTES_MAX).contains(&m) => {
                        Ok(Some(st.clock.now().add_micros(i64::from(m) * 60_000_000)))
                    }
                    _ => Err(Problem::new(
                        "minutes",
                        "minutes",
                        format!("Give the test time in minutes, 1 to {TEST_MINUTES_MAX}."),
                        format!("Ange testtiden i minuter, 1 till {TEST_MINUTES_MAX}."),
                    )),
                }
            };
            let mut p = forms::Problems::default();
            let reason = p.optional("reason", fields.get("reason"), forms::NAME_CHARS_MAX);
            match (zone, until, p.finish(())) {
                (Ok(zone), Ok(until), Ok(())) => Ok(st
                    .store
                    .set_test_mode(
                        id,
                        TestMode {
                            zone,
                            until,
                            reason,
                        },
                        &actor,
                    )
                    .await),
                (Err(()), _, _) => Err(vec![Problem::new(
                    "zone",
                    "zone",
                    "Choose a zone or the whole site.",
                    "Välj en zon eller hela objektet.",
                )]),
                (_, Err(problem), _) => Err(vec![problem]),
                (_, _, Err(p)) => Err(p),
            }
        }
        "keys" if fields.get("key_action") == KeyAction::SentForDestruction.as_str() => {
            let site = st.store.site(id).await.map_err(store_err(&me))?;
            match fields
                .get("key")
                .parse::<i64>()
                .ok()
                .filter(|k| site.keys.iter().any(|key| key.id == *k))
            {
                Some(key) => Ok(st
                    .store
                    .key_action(
                        key,
                        KeyAction::SentForDestruction,
                        String::new(),
                        None,
                        &actor,
                    )
                    .await),
                None => Err(vec![Problem::new(
                    "key",
                    "key",
                    "Choose one of the site's keys.",
                    "Välj en av objektets nycklar.",
                )]),
            }
        }
        "keys" => {
            let mut p = forms::Problems::default();
            let label = p.required("label", fields.get("label"), 64);
            let storage = p.required("storage", fields.get("storage"), forms::NAME_CHARS_MAX);
            match p.finish(()) {
                Ok(()) => Ok(st
                    .store
                    .add_key(id, label, storage, &actor)
                    .await
                    .map(|_| ())),
                Err(p) => Err(p),
            }
        }
        _ => return Err(Refusal::Store(me.lang, StoreError::NotFound)),
    };
    match outcome {
        Ok(Ok(())) => Ok(Redirect::to(&format!("/sites/{id}")).into_response()),
        Ok(Err(StoreError::Conflict(what))) => {
            site_view(
                &st,
                &me,
                id,
                &[Problem::new(part.clone(), "conflict", what.clone(), what)],
            )
            .await
        }
        Ok(Err(error)) => Err(Refusal::Store(me.lang, error)),
        Err(problems) => site_view(&st, &me, id, &problems).await,
    }
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    c: Chrome,
    customers: Vec<vakt_store::Customer>,
    can_edit: bool,
    problems: Vec<(String, String)>,
    form: CustomerForm,
}

async fn customers_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ViewCustomers)?;
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
#[template(path = "customer.html")]
struct CustomerPage {
    c: Chrome,
    id: i64,
    can_edit: bool,
    problems: Vec<(String, String)>,
    form: CustomerForm,
    sites: Vec<vakt_store::SiteSummary>,
}

fn customer_form(fields: &Fields) -> CustomerForm {
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

async fn customer_view<S: Store>(
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

async fn customer_page<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ViewCustomers)?;
    customer_view(&st, &me, id, None, &[]).await
}

async fn update_customer<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::EditRegistry)?;
    let fields = checked(&me, fields)?;
    let form = customer_form(&fields);
    let problems = match form.validate(registry::today(st.clock.now())) {
        Ok(customer) => match st
            .store
            .save_customer(Some(id), customer, &me.staff.actor())
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/customers/{id}")).into_response()),
            Err(StoreError::Conflict(_)) => vec![Problem::new(
                "identity",
                "duplicate",
                "A customer with this number already exists.",
                "En kund med det numret finns redan.",
            )],
            Err(error) => return Err(Refusal::Store(me.lang, error)),
        },
        Err(problems) => problems,
    };
    customer_view(&st, &me, id, Some(form), &problems).await
}

async fn create_customer<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::EditRegistry)?;
    let fields = checked(&me, fields)?;
    let form = CustomerForm {
        kind: fields.get("kind").into(),
        name: fields.get("name").into(),
        identity: fields.get("identity").into(),
        signatory: fields.get("signatory").into(),
        email: fields.get("email").into(),
        phone: fields.get("phone").into(),
        language: fields.get("language").into(),
    };
    let problems = match form.validate(registry::today(st.clock.now())) {
        Ok(customer) => match st
            .store
            .save_customer(None, customer, &me.staff.actor())
            .await
        {
            Ok(_) => return Ok(Redirect::to("/customers").into_response()),
            Err(StoreError::Conflict(_)) => vec![Problem::new(
                "identity",
                "duplicate",
                "A customer with this number already exists.",
                "En kund med det numret finns redan.",
            )],
            Err(error) => return Err(Refusal::Store(me.lang, error)),
        },
        Err(problems) => problems,
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

// --- guard companies' own page ---

#[derive(Template)]
#[template(path = "guard.html")]
struct GuardPage {
    c: Chrome,
    dispatches: Vec<vakt_store::Dispatch>,
}

async fn guard_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::GuardWork)?;
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

async fn guard_update<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::GuardWork)?;
    let fields = checked(&me, fields)?;
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

// --- administration ---

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    c: Chrome,
    staff: Vec<vakt_store::Staff>,
    companies: Vec<vakt_store::GuardCompany>,
    roles: Vec<(&'static str, &'static str)>,
    problems: Vec<(String, String)>,
}

async fn staff_view<S: Store>(st: &WebState<S>, me: &Me, problems: &[Problem]) -> Page {
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

async fn staff_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ManageStaff)?;
    staff_view(&st, &me, &[]).await
}

async fn create_staff<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ManageStaff)?;
    let fields = checked(&me, fields)?;
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
#[template(path = "companies.html")]
struct CompaniesPage {
    c: Chrome,
    companies: Vec<vakt_store::GuardCompany>,
    problems: Vec<(String, String)>,
}

async fn companies_view<S: Store>(st: &WebState<S>, me: &Me, problems: &[Problem]) -> Page {
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

async fn companies_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ManageStaff)?;
    companies_view(&st, &me, &[]).await
}

async fn create_company<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ManageStaff)?;
    let fields = checked(&me, fields)?;
    let form = GuardCompanyForm {
        name: fields.get("name").into(),
        phone: fields.get("phone").into(),
        areas: fields.get("areas").into(),
    };
    let problems = match form.validate(0) {
        Ok(company) => match st
            .store
            .save_guard_company(company, &me.staff.actor())
            .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/guard-companies").into_response()),
            Err(StoreError::Conflict(_)) => vec![Problem::new(
                "name",
                "duplicate",
                "That company already exists.",
                "Vaktbolaget finns redan.",
            )],
            Err(error) => return Err(Refusal::Store(me.lang, error)),
        },
        Err(problems) => problems,
    };
    companies_view(&st, &me, &problems).await
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<vakt_store::AuditEntry>,
    messages: Vec<vakt_store::OutboxMessage>,
}

async fn audit_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ViewAudit)?;
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
