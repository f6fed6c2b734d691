//! One incident: its timeline, the site's instruction and contacts, and the operator's
//! actions on it.

use askama::Template;
use axum::extract::{Path, State};
use vakt_core::centre::{Permission, Resolution, StepAction, StepOutcome};
use vakt_store::{IncidentDetail, IncidentState, SiteDetail};

use crate::auth::Me;
use crate::i18n::Lang;
use crate::{Store, WebState};

use super::Shared;
use super::queue::incident_title;
use crate::extract::Allowed;
use crate::i18n::Words as _;
use crate::page::{Chrome, Page, chrome, local, local_minute, render, store_err};

/// One step of the instruction as a checklist line.
#[derive(Debug)]
pub(crate) struct StepLine {
    index: u32,
    action: String,
    note: String,
    outcomes: Vec<(String, String, String)>,
    choices: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "incidents/incident.html")]
pub(super) struct IncidentPage {
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

pub(super) fn map_link(site: &SiteDetail) -> String {
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

pub(super) fn step_outcomes(action: StepAction) -> Vec<StepOutcome> {
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

/// The instruction for the incident's category as a checklist, each step with what the log
/// says came of it.
fn step_lines(incident: &IncidentDetail, site: &SiteDetail, lang: Lang) -> Vec<StepLine> {
    site.instruction(incident.item.category)
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
        .collect()
}

/// The incident's timeline in words: zone and user named, a lost or restored link said so.
fn event_lines(
    incident: &IncidentDetail,
    site: &SiteDetail,
    lang: Lang,
) -> Vec<(String, String, String, String)> {
    incident
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
                what = format!("{}: {what} {kind}", crate::i18n::zone_name(lang, zone))
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
        .collect()
}

pub(super) async fn incident_view<S: Store>(
    st: &WebState<S>,
    me: &Me,
    id: i64,
    flash: String,
) -> Page {
    let incident = st.store.incident(id).await.map_err(store_err(me))?;
    let site = st
        .store
        .site(incident.item.site_id)
        .await
        .map_err(store_err(me))?;
    let lang = me.lang;
    let steps = step_lines(&incident, &site, lang);
    let events = event_lines(&incident, &site, lang);
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

pub(super) async fn incident_page<S: Store>(
    State(st): Shared<S>,
    Allowed(me): Allowed,
    Path(id): Path<i64>,
) -> Page {
    incident_view(&st, &me, id, String::new()).await
}
