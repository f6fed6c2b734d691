//! One incident: its timeline, the site's instruction and contacts, and the operator's
//! actions on it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use vakt_core::centre::{KeyAction, Permission, Resolution, StepAction, StepOutcome};
use vakt_service::access::{self, Check};
use vakt_service::forms::{self};
use vakt_store::{
    IncidentAction, IncidentDetail, IncidentState, SecretRef, SiteDetail, StoreError,
};

use crate::auth::{Me, Refusal};
use crate::i18n::Lang;
use crate::{Store, WebState};

use super::Shared;
use super::queue::incident_title;
use crate::page::{
    Chrome, MessagePage, Page, checked, chrome, conflict_response, local, local_minute, render,
    render_status, store_err,
};

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
#[template(path = "incident.html")]
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

pub(super) async fn incident_page<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Page {
    let me = st.me(&headers).await?;
    me.require(Permission::HandleAlarms)?;
    incident_view(&st, &me, id, String::new()).await
}

pub(super) async fn incident_action<S: Store>(
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
