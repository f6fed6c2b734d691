//! The parts of a site, one form and one route each: alarm points, panel users, contacts
//! (their order is the call order), an action instruction, the revoking code, test mode and
//! keys. Each form is checked whole; a form with problems shows the site again with every
//! problem and nothing stored.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use vakt_core::Category;
use vakt_core::centre::KeyAction;
use vakt_service::forms::{ContactForm, PointForm, Problem, UserForm};
use vakt_service::keys::{self, TestModeForm};
use vakt_service::registry;
use vakt_store::StoreError;

use super::Shared;
use super::sites::site_view;
use crate::auth::{Me, Refusal};
use crate::extract::Posted;
use crate::page::{Page, field};
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
    let form = TestModeForm {
        zone: fields.get("zone").into(),
        minutes: fields.get("minutes").into(),
        reason: fields.get("reason").into(),
        end: fields.get("end") == "1",
    };
    let outcome = outcome(keys::set_test_mode(&st.store, id, &form, st.clock.now(), &actor).await);
    finish(&st, &me, id, "test-mode", outcome).await
}

/// A key registered for the site, or one of its keys sent for destruction.
pub(super) async fn keys<S: Store>(
    State(st): Shared<S>,
    Path(id): Path<i64>,
    Posted { me, fields }: Posted,
) -> Page {
    let actor = me.staff.actor();
    let outcome = if fields.get("key_action") == KeyAction::SentForDestruction.as_str() {
        let key = fields.get("key").parse::<i64>().ok();
        outcome(keys::destroy_key(&st.store, id, key, &actor).await)
    } else {
        let key = (fields.get("label"), fields.get("storage"));
        outcome(
            keys::add_key(&st.store, id, key, &actor)
                .await
                .map(|r| r.map(|_| ())),
        )
    };
    finish(&st, &me, id, "keys", outcome).await
}
