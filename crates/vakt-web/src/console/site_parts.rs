//! The parts of a site, one form and one route each: alarm points, panel users, contacts
//! (their order is the call order), an action instruction, the revoking code, test mode and
//! keys. Each form is checked whole; a form with problems shows the site again with every
//! problem and nothing stored.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use vakt_core::Category;
use vakt_core::centre::KeyAction;
use vakt_service::forms::{self, ContactForm, PointForm, Problem, UserForm};
use vakt_service::registry;
use vakt_store::{StoreError, TestMode};

use super::sites::site_view;
use super::{Shared, TEST_MINUTES_MAX};
use crate::auth::{Me, Refusal};
use crate::extract::Posted;
use crate::page::{Page, field, store_err};
use crate::state::{Store, WebState};

/// What a part's form came to: stored (or the store's refusal), or problems to show.
type Outcome = Result<Result<(), StoreError>, Vec<Problem>>;

/// A service-layer change as the forms here report it.
fn outcome(changed: registry::Changed<()>) -> Outcome {
    match changed {
        Ok(Ok(())) => Ok(Ok(())),
        Ok(Err(problems)) => Err(problems),
        Err(error) => Ok(Err(error)),
    }
}

/// Back to the site after a stored change; the site again with the problems otherwise.
async fn finish<S: Store>(
    st: &WebState<S>,
    me: &Me,
    id: i64,
    part: &str,
    outcome: Outcome,
) -> Page {
    match outcome {
        Ok(Ok(())) => Ok(Redirect::to(&format!("/sites/{id}")).into_response()),
        Ok(Err(StoreError::Conflict(what))) => {
            site_view(
                st,
                me,
                id,
                &[Problem::new(part, "conflict", what.clone(), what)],
            )
            .await
        }
        Ok(Err(error)) => Err(Refusal::Store(me.lang, error)),
        Err(problems) => site_view(st, me, id, &problems).await,
    }
}

pub(super) async fn points<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome: Outcome = {
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
        outcome(registry::save_points(&st.store, id, &rows, &actor).await)
    };
    finish(&st, &me, id, "points", outcome).await
}

pub(super) async fn users<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome: Outcome = {
        let rows: Vec<UserForm> = fields
            .rows("users")
            .iter()
            .filter(|r| field(r, "remove").is_empty())
            .map(|r| UserForm {
                number: field(r, "number"),
                name: field(r, "name"),
            })
            .collect();
        outcome(registry::save_users(&st.store, id, &rows, &actor).await)
    };
    finish(&st, &me, id, "users", outcome).await
}

pub(super) async fn contacts<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome: Outcome = {
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
        let hashing = (&st.hasher, st.entropy.as_ref());
        outcome(registry::save_contacts(&st.store, hashing, id, &rows, &actor).await)
    };
    finish(&st, &me, id, "contacts", outcome).await
}

pub(super) async fn instruction<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome: Outcome = {
        let category = Category::ALL
            .into_iter()
            .find(|c| c.as_str() == fields.get("category"));
        let rows: Vec<(String, String)> = fields
            .rows("steps")
            .iter()
            .filter(|r| field(r, "remove").is_empty() && !field(r, "action").is_empty())
            .map(|r| (field(r, "action"), field(r, "note")))
            .collect();
        match category {
            Some(category) => {
                outcome(registry::save_instruction(&st.store, id, category, &rows, &actor).await)
            }
            None => Err(vec![Problem::new(
                "category",
                "category",
                "Choose an alarm type.",
                "Välj larmtyp.",
            )]),
        }
    };
    finish(&st, &me, id, "instruction", outcome).await
}

pub(super) async fn revoking_code<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome: Outcome = {
        let code = fields.get("code");
        let entropy = st.entropy.as_ref();
        outcome(registry::set_revoking_code(&st.store, &st.hasher, entropy, id, code, &actor).await)
    };
    finish(&st, &me, id, "revoking-code", outcome).await
}

pub(super) async fn test_mode<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome: Outcome = {
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
    };
    finish(&st, &me, id, "test-mode", outcome).await
}

/// A key registered for the site, or one of its keys sent for destruction.
pub(super) async fn keys<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome: Outcome = if fields.get("key_action") == KeyAction::SentForDestruction.as_str() {
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
    } else {
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
    };
    finish(&st, &me, id, "keys", outcome).await
}
