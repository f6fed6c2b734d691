//! The registry's sites: the list, the connected panels, a new site, one site with its
//! points, users, contacts, instructions, revoking code, test mode and keys.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use vakt_core::Category;
use vakt_core::centre::{Permission, PointKind, StepAction};
use vakt_service::forms::{Problem, SiteForm};
use vakt_service::registry;
use vakt_store::{SiteDetail, StoreError};

use crate::auth::{Me, Refusal};
use crate::i18n::Lang;
use crate::{Store, WebState};

use super::Shared;
use super::incidents::map_link;
use super::queue::{Row, queue_rows_of};
use crate::extract::{Allowed, Posted};
use crate::i18n::Words as _;
use crate::page::{
    Chrome, Fields, Page, chrome, form_status, local, problem_lines, render, render_status,
    store_err,
};

#[derive(Template)]
#[template(path = "sites/sites.html")]
pub(super) struct SitesPage {
    c: Chrome,
    sites: Vec<vakt_store::SiteSummary>,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "sites/panels.html")]
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

pub(super) async fn panels_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
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

pub(super) async fn sites_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    let sites = st.store.sites().await.map_err(store_err(&me))?;
    Ok(render(&SitesPage {
        c: chrome(Some(&me), me.lang, "sites"),
        sites,
        can_edit: me.may(Permission::EditRegistry),
    }))
}

#[derive(Template)]
#[template(path = "sites/site_new.html")]
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

pub(super) async fn new_site_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
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
    Posted { me, fields }: Posted,
) -> Page {
    let form = site_form(&fields);
    let problems = match registry::save_site(&st.store, None, &form, &me.staff.actor()).await {
        Ok(Ok(id)) => return Ok(Redirect::to(&format!("/sites/{id}")).into_response()),
        Err(StoreError::Conflict(_)) => vec![Problem::new(
            "name",
            "duplicate",
            "A site with this name and address already exists.",
            "Ett objekt med samma namn och adress finns redan.",
        )],
        Err(error) => return Err(Refusal::Store(me.lang, error)),
        Ok(Err(problems)) => problems,
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
#[template(path = "sites/site.html")]
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
    Allowed(me): Allowed,
    Path(id): Path<i64>,
) -> Page {
    site_view(&st, &me, id, &[]).await
}

pub(super) async fn update_site<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let problems = match registry::save_site(
        &st.store,
        Some(id),
        &site_form(&fields),
        &me.staff.actor(),
    )
    .await
    {
        Ok(Ok(_)) => return Ok(Redirect::to(&format!("/sites/{id}")).into_response()),
        Err(error @ StoreError::NotFound) => return Err(Refusal::Store(me.lang, error)),
        Err(StoreError::Conflict(what)) => {
            vec![Problem::new("name", "conflict", what.clone(), what)]
        }
        Err(error) => return Err(Refusal::Store(me.lang, error)),
        Ok(Err(problems)) => problems,
    };
    site_view(&st, &me, id, &problems).await
}
