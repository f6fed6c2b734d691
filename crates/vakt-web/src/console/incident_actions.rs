//! The operator's actions on an incident, one route and one handler each: take, reassign,
//! record a step, check a caller, note, dispatch a guard, move a key, close. Each reads its
//! form, hands the move to the store (whose rules decide it) and shows the incident again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use vakt_core::centre::{KeyAction, Resolution, StepOutcome};
use vakt_service::access::Check;
use vakt_service::forms;
use vakt_service::incidents::{self, Asked, Caller, VerifyError};
use vakt_store::{IncidentAction, StoreError};

use super::Shared;
use super::incidents::incident_view;
use crate::auth::Me;
use crate::extract::Posted;
use crate::i18n::Lang;
use crate::i18n::Words as _;
use crate::page::{Fields, MessagePage, Page, chrome, conflict_response, render_status};
use crate::state::{Store, WebState};

/// What the operator is told after checking a caller's secret.
fn check_flash(lang: Lang, check: Check) -> &'static str {
    lang.t(match check {
        Check::Right => "right_password",
        Check::Wrong => "wrong_password",
        Check::Locked => "locked",
        Check::NotSet => "no_password",
    })
}

/// A form the operator must fix, told in their language, with the way back.
fn bad(me: &Me, id: i64, en: &str, sv: &str) -> Page {
    let text = if me.lang == Lang::Sv { sv } else { en };
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &MessagePage {
            c: chrome(Some(me), me.lang, "app"),
            text: text.to_owned(),
            back: format!("/incidents/{id}"),
        },
    ))
}

fn too_long(me: &Me, id: i64) -> Page {
    bad(
        me,
        id,
        &format!(
            "The text is longer than {} characters.",
            forms::TEXT_CHARS_MAX
        ),
        &format!("Texten är längre än {} tecken.", forms::TEXT_CHARS_MAX),
    )
}

/// A free-text field, trimmed; `None` when it is longer than the limit.
fn text(fields: &Fields, name: &str) -> Option<String> {
    let value = fields.get(name).trim().to_owned();
    (value.chars().count() <= forms::TEXT_CHARS_MAX).then_some(value)
}

/// Hands the move to the store, tells every console, and shows the incident again (with a
/// message, when there is one) or the store's refusal.
async fn act<S: Store>(
    st: &WebState<S>,
    me: &Me,
    id: i64,
    action: IncidentAction,
    flash: String,
) -> Page {
    match st
        .store
        .act(id, action, &me.staff.actor(), st.clock.now())
        .await
    {
        Ok(_) => {
            st.changes.announce(id);
            if flash.is_empty() {
                Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
            } else {
                incident_view(st, me, id, flash).await
            }
        }
        Err(error) => Ok(conflict_response(me, error, &format!("/incidents/{id}"))),
    }
}

pub(super) async fn take<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, .. }: Posted,
) -> Page {
    act(&st, &me, id, IncidentAction::Take, String::new()).await
}

pub(super) async fn reassign<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let Ok(to) = fields.get("to").parse::<i64>() else {
        return bad(&me, id, "Choose an operator.", "Välj en operatör.");
    };
    act(&st, &me, id, IncidentAction::Reassign { to }, String::new()).await
}

pub(super) async fn step<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let (Ok(step), Some(outcome)) = (
        fields.get("step").parse::<u32>(),
        StepOutcome::parse(fields.get("outcome")),
    ) else {
        return bad(
            &me,
            id,
            "Choose the step's outcome.",
            "Välj stegets utfall.",
        );
    };
    let Some(detail) = text(&fields, "detail") else {
        return too_long(&me, id);
    };
    let action = IncidentAction::Step {
        step,
        outcome,
        detail,
    };
    act(&st, &me, id, action, String::new()).await
}

pub(super) async fn note<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let Some(text) = text(&fields, "text") else {
        return too_long(&me, id);
    };
    if text.is_empty() {
        return bad(
            &me,
            id,
            "Write the note first.",
            "Skriv anteckningen först.",
        );
    }
    act(&st, &me, id, IncidentAction::Note(text), String::new()).await
}

/// Checks the password a caller says (or the site's revoking code) through the service
/// layer, which records the outcome; the operator sees right, wrong or locked.
pub(super) async fn verify<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let chosen = fields.get("contact");
    let caller = if chosen == "revoking" {
        Caller::RevokingCode
    } else if let Ok(contact) = chosen.parse::<i64>() {
        Caller::Contact(contact)
    } else {
        return bad(&me, id, "Choose the contact person.", "Välj kontaktperson.");
    };
    let said = fields.get("password");
    if said.chars().count() > forms::SECRET_CHARS_MAX {
        return bad(
            &me,
            id,
            "The password is too long.",
            "Lösenordet är för långt.",
        );
    }
    let revoking_name = match me.lang {
        Lang::Sv => "återkallningskoden",
        Lang::En => "the revoking code",
    };
    let asked = Asked {
        incident_id: id,
        caller,
        said,
        revoking_name,
    };
    let policy = st.security.policy();
    let (actor, now) = (me.staff.actor(), st.clock.now());
    match incidents::verify_caller(
        &st.store,
        &st.hasher,
        policy,
        asked,
        &actor,
        me.staff.id,
        now,
    )
    .await
    {
        Ok(check) => {
            st.changes.announce(id);
            incident_view(&st, &me, id, check_flash(me.lang, check).to_owned()).await
        }
        Err(VerifyError::NoSuchContact) => {
            bad(&me, id, "Choose the contact person.", "Välj kontaktperson.")
        }
        Err(VerifyError::Refused(refusal)) => Ok(conflict_response(
            &me,
            StoreError::Refused(refusal),
            &format!("/incidents/{id}"),
        )),
        Err(VerifyError::Store(error)) => {
            Ok(conflict_response(&me, error, &format!("/incidents/{id}")))
        }
    }
}

pub(super) async fn dispatch<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let Ok(guard_company_id) = fields.get("company").parse::<i64>() else {
        return bad(&me, id, "Choose a guard company.", "Välj ett vaktbolag.");
    };
    let action = IncidentAction::Dispatch { guard_company_id };
    act(&st, &me, id, action, String::new()).await
}

pub(super) async fn close<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let Some(resolution) = Resolution::parse(fields.get("resolution")) else {
        return bad(&me, id, "Choose how the alarm ended.", "Välj orsak.");
    };
    let Some(note) = text(&fields, "note") else {
        return too_long(&me, id);
    };
    act(
        &st,
        &me,
        id,
        IncidentAction::Close { resolution, note },
        String::new(),
    )
    .await
}

/// A key handed to or back from a guard on this incident, logged in the key's custody.
pub(super) async fn key<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let (Ok(key), Some(key_action)) = (
        fields.get("key").parse::<i64>(),
        KeyAction::parse(fields.get("key_action")),
    ) else {
        return bad(
            &me,
            id,
            "Choose the key and what happened to it.",
            "Välj nyckel och vad som hände.",
        );
    };
    let dispatch = fields.get("dispatch").parse::<i64>().ok();
    let holder = fields.get("holder").trim().to_owned();
    if holder.chars().count() > forms::NAME_CHARS_MAX {
        return too_long(&me, id);
    }
    let moved = st
        .store
        .key_action(key, key_action, holder, dispatch, &me.staff.actor())
        .await;
    if let Err(error) = moved {
        return Ok(conflict_response(&me, error, &format!("/incidents/{id}")));
    }
    st.changes.announce(id);
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}
