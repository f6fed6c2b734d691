//! The registry's sites: the list, the connected panels, a new site, one site with its
//! points, users, contacts, instructions, revoking code, test mode and keys.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use vakt_core::Category;
use vakt_core::centre::{KeyAction, Permission, PointKind, StepAction};
use vakt_service::forms::{self, ContactForm, PointForm, Problem, SiteForm, UserForm};
use vakt_service::registry;
use vakt_store::{SiteDetail, StoreError, TestMode};

use crate::auth::{Me, Refusal};
use crate::i18n::Lang;
use crate::{Store, WebState};

use super::incidents::map_link;
use super::queue::{Row, queue_rows_of};
use super::{Shared, TEST_MINUTES_MAX};
use crate::page::{
    Chrome, Fields, Page, checked, chrome, field, form_status, local, problem_lines, render,
    render_status, store_err,
};

#[derive(Template)]
#[template(path = "sites.html")]
pub(super) struct SitesPage {
    c: Chrome,
    sites: Vec<vakt_store::SiteSummary>,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "panels.html")]
pub(super) struct PanelsPage {
    c: Chrome,
    panels: Vec<PanelRow>,
}

/// One connected panel as the console shows it.
pub(super) struct PanelRow {
    link: crate::panel_link::LinkView,
    state: String,
    display: String,
    open_zones: String,
    flags: Vec<&'static str>,
}

pub(super) fn panel_row(lang: Lang, link: crate::panel_link::LinkView) -> PanelRow {
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

pub(super) async fn panels_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
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

pub(super) async fn sites_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
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
pub(super) struct NewSitePage {
    c: Chrome,
    customers: Vec<(i64, String)>,
    problems: Vec<(String, String)>,
    form: SiteForm,
}

/// The customers a site form may choose from, with their identity numbers; only for those who
/// may read customer records.
pub(super) async fn customer_choices<S: Store>(
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

pub(super) async fn new_site_page<S: Store>(State(st): Shared<S>, headers: HeaderMap) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::EditRegistry)?;
    Ok(render(&NewSitePage {
        c: chrome(Some(&me), me.lang, "new_site"),
        customers: customer_choices(&st, &me).await?,
        problems: Vec::new(),
        form: SiteForm::default(),
    }))
}

pub(super) fn site_form(fields: &Fields) -> SiteForm {
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

pub(super) async fn create_site<S: Store>(
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
pub(super) struct SitePage {
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

pub(super) async fn site_view<S: Store>(
    st: &WebState<S>,
    me: &Me,
    id: i64,
    problems: &[Problem],
) -> Page {
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

pub(super) async fn site_page<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::ViewSites)?;
    site_view(&st, &me, id, &[]).await
}

pub(super) async fn update_site<S: Store>(
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

pub(super) async fn site_part<S: Store>(
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
