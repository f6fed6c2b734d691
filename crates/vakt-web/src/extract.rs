//! The console's request pipeline, written once: who is signed in, whether the route table
//! ([`crate::auth::ROUTES`]) lets them call this route, and, for a form, its CSRF token and
//! its fields. Handlers take [`Allowed`] (pages) or [`Posted`] (forms) and start from there.
//!
//! The permission is read from the route table by the route's own pattern, so the table is
//! the one place that says who may call what; a console route missing from it is refused.

use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;

use crate::auth::{self, Me, Need, Refusal};
use crate::page::{Fields, checked};
use crate::state::{Store, WebState};

/// A signed-in member of staff whom the route table lets call this route.
#[derive(Debug)]
pub struct Allowed(pub Me);

/// A posted console form from a member of staff allowed to post it, its form token checked.
#[derive(Debug)]
pub struct Posted {
    /// Who posted it.
    pub me: Me,
    /// The form's fields.
    pub fields: Fields,
}

impl<S: Store> FromRequestParts<Arc<WebState<S>>> for Allowed {
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<WebState<S>>,
    ) -> Result<Self, Self::Rejection> {
        let me = state.me(&parts.headers).await?;
        let pattern = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        match pattern.and_then(|p| auth::need(parts.method.as_str(), p)) {
            Some(Need::Public | Need::SignedIn) => Ok(Allowed(me)),
            Some(Need::Permission(permission)) => {
                me.require(permission)?;
                Ok(Allowed(me))
            }
            None => {
                tracing::error!(?pattern, "a console route missing from the route table");
                Err(Refusal::Forbidden(me.lang))
            }
        }
    }
}

impl<S: Store> FromRequest<Arc<WebState<S>>> for Posted {
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &Arc<WebState<S>>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Allowed(me) = Allowed::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let Ok(Form(pairs)) = Form::<Vec<(String, String)>>::from_request(request, state).await
        else {
            return Err(Refusal::BadCsrf(me.lang));
        };
        let fields = checked(&me, pairs)?;
        Ok(Posted { me, fields })
    }
}
