//! Who is asking: sessions, sign-in with lockout, CSRF tokens and the route table by role.
//!
//! A session is a random token in an HTTP-only, SameSite=Strict cookie (Secure unless turned
//! off for plain-HTTP development); the database keeps only its SHA-256. Every form carries
//! the session's CSRF token and every POST checks it. Every handler names the permission it
//! needs; [`ROUTES`] lists them all so a test can call each route as each role.

use axum::http::{HeaderMap, Method, header};
use vakt_core::UnixMicros;
use vakt_core::centre::{Permission, Role};
use vakt_service::access::{self, Policy};
use vakt_service::secret::SecretHasher;
use vakt_store::{Identities, Secrets, Staff, StoreError};

use crate::i18n::Lang;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vakt_session";
/// The language cookie's name.
pub const LANG_COOKIE: &str = "vakt_lang";

/// How sign-in and secrets are guarded: the service layer's policy, and how the cookie is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecurityConfig {
    /// Mark cookies Secure (HTTPS only).
    pub secure_cookies: bool,
    /// Session length and lockout.
    pub policy: Policy,
}

impl Default for SecurityConfig {
    fn default() -> SecurityConfig {
        SecurityConfig {
            secure_cookies: true,
            policy: Policy::default(),
        }
    }
}

impl SecurityConfig {
    /// The sign-in and lockout policy the service layer applies.
    #[must_use]
    pub fn policy(self) -> Policy {
        self.policy
    }
}

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Anyone.
    Public,
    /// Any signed-in member of staff.
    SignedIn,
    /// A permission.
    Permission(Permission),
}

/// One route of the console, for the role test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// GET or POST.
    pub method: &'static str,
    /// The path, with `{id}` where an id goes.
    pub path: &'static str,
    /// What it needs.
    pub need: Need,
}

const fn route(method: &'static str, path: &'static str, need: Need) -> RouteSpec {
    RouteSpec { method, path, need }
}

use Need::{Permission as P, Public, SignedIn};

/// Every console route and what it needs.
pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/login", Public),
    route("POST", "/login", Public),
    route("POST", "/logout", SignedIn),
    route("GET", "/", SignedIn),
    route("GET", "/queue", P(Permission::HandleAlarms)),
    route("GET", "/queue/rows", P(Permission::HandleAlarms)),
    route("GET", "/queue/events", P(Permission::HandleAlarms)),
    route("GET", "/incidents/{id}", P(Permission::HandleAlarms)),
    route("POST", "/incidents/{id}/take", P(Permission::HandleAlarms)),
    route("POST", "/incidents/{id}/reassign", P(Permission::Reassign)),
    route("POST", "/incidents/{id}/step", P(Permission::HandleAlarms)),
    route(
        "POST",
        "/incidents/{id}/verify",
        P(Permission::HandleAlarms),
    ),
    route("POST", "/incidents/{id}/note", P(Permission::HandleAlarms)),
    route(
        "POST",
        "/incidents/{id}/dispatch",
        P(Permission::HandleAlarms),
    ),
    route("POST", "/incidents/{id}/key", P(Permission::ManageKeys)),
    route("POST", "/incidents/{id}/close", P(Permission::HandleAlarms)),
    route("GET", "/sites", P(Permission::ViewSites)),
    route("GET", "/panels", P(Permission::ViewSites)),
    route("GET", "/sites/new", P(Permission::EditRegistry)),
    route("POST", "/sites/new", P(Permission::EditRegistry)),
    route("GET", "/sites/{id}", P(Permission::ViewSites)),
    route("POST", "/sites/{id}", P(Permission::EditRegistry)),
    route("POST", "/sites/{id}/points", P(Permission::EditRegistry)),
    route("POST", "/sites/{id}/users", P(Permission::EditRegistry)),
    route("POST", "/sites/{id}/contacts", P(Permission::EditRegistry)),
    route(
        "POST",
        "/sites/{id}/instruction",
        P(Permission::EditInstructions),
    ),
    route(
        "POST",
        "/sites/{id}/revoking-code",
        P(Permission::EditRegistry),
    ),
    route("POST", "/sites/{id}/test-mode", P(Permission::SetTestMode)),
    route("POST", "/sites/{id}/keys", P(Permission::ManageKeys)),
    route("GET", "/customers", P(Permission::ViewCustomers)),
    route("POST", "/customers", P(Permission::EditRegistry)),
    route("GET", "/customers/{id}", P(Permission::ViewCustomers)),
    route("POST", "/customers/{id}", P(Permission::EditRegistry)),
    route("GET", "/guard", P(Permission::GuardWork)),
    route("POST", "/guard/dispatches/{id}", P(Permission::GuardWork)),
    route("GET", "/admin/staff", P(Permission::ManageStaff)),
    route("POST", "/admin/staff", P(Permission::ManageStaff)),
    route("GET", "/admin/guard-companies", P(Permission::ManageStaff)),
    route("POST", "/admin/guard-companies", P(Permission::ManageStaff)),
    route("GET", "/audit", P(Permission::ViewAudit)),
    route("GET", "/dashboard", P(Permission::ViewDashboard)),
];

/// What the route table says `method` on the route `pattern` (as the router writes it,
/// `/incidents/{id}/take`) needs; `None` for a route the table does not list.
#[must_use]
pub fn need(method: &str, pattern: &str) -> Option<Need> {
    ROUTES
        .iter()
        .find(|r| r.method == method && r.path == pattern)
        .map(|r| r.need)
}

/// A signed-in member of staff.
#[derive(Clone, Debug)]
pub struct Me {
    /// Who.
    pub staff: Staff,
    /// The session's form token.
    pub csrf: String,
    /// The language pages are shown in.
    pub lang: Lang,
}

impl Me {
    /// Whether this person may do `permission`.
    #[must_use]
    pub fn may(&self, permission: Permission) -> bool {
        self.staff.role.may(permission)
    }

    /// Requires a permission.
    ///
    /// # Errors
    /// `Forbidden` when the role lacks it.
    pub fn require(&self, permission: Permission) -> Result<(), Refusal> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(Refusal::Forbidden(self.lang))
        }
    }

    /// Checks a form's CSRF token.
    ///
    /// # Errors
    /// `Forbidden` when it is missing or wrong.
    pub fn check_csrf(&self, presented: &str) -> Result<(), Refusal> {
        if crate::http::constant_time_equal(presented.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(Refusal::BadCsrf(self.lang))
        }
    }
}

/// Why a request was refused before its handler ran.
#[derive(Debug)]
pub enum Refusal {
    /// Not signed in: go to the sign-in page.
    SignIn,
    /// Signed in but not allowed.
    Forbidden(Lang),
    /// The form's token is wrong.
    BadCsrf(Lang),
    /// The store failed (or has nothing by that id), told in this language.
    Store(Lang, StoreError),
}

/// A cookie's value from the request.
#[must_use]
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The language for a request: the cookie, then the browser's preference, then Swedish.
#[must_use]
pub fn request_lang(headers: &HeaderMap) -> Lang {
    if let Some(lang) = cookie(headers, LANG_COOKIE) {
        return Lang::parse(lang);
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::Sv, Lang::parse)
}

/// The signed-in member of staff behind the request's session cookie. A customer's
/// session is refused here: every staff page is closed to it.
///
/// # Errors
/// `SignIn` when there is no valid session; `Forbidden` for a customer's.
pub async fn me<S: Identities>(
    store: &S,
    headers: &HeaderMap,
    now: UnixMicros,
) -> Result<Me, Refusal> {
    let token = cookie(headers, SESSION_COOKIE).ok_or(Refusal::SignIn)?;
    match access::session(store, token, now).await {
        Ok(session) => {
            let lang = cookie(headers, LANG_COOKIE)
                .map_or_else(|| Lang::parse(session.identity.language()), Lang::parse);
            let Some(staff) = session.identity.staff().cloned() else {
                return Err(Refusal::Forbidden(lang));
            };
            Ok(Me {
                staff,
                csrf: session.csrf,
                lang,
            })
        }
        Err(StoreError::NotFound) => Err(Refusal::SignIn),
        Err(error) => Err(Refusal::Store(request_lang(headers), error)),
    }
}

/// The outcome of a sign-in attempt.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the cookie to set.
    Ok {
        /// The `Set-Cookie` value.
        cookie: String,
        /// Who signed in.
        staff: Staff,
    },
    /// Wrong login or password, or a login that is not staff's.
    Wrong,
    /// Locked after too many failures.
    Locked,
}

/// Signs a member of staff in to the console (`vakt_service::access::sign_in`) and makes the
/// session's cookie. A customer's login does not open the console: it counts as wrong, and
/// the session the service started for it is ended at once.
///
/// # Errors
/// When the store fails.
pub async fn sign_in<S: Identities + Secrets>(
    store: &S,
    hasher: &SecretHasher,
    entropy: &dyn vakt_core::Entropy,
    security: SecurityConfig,
    login: &str,
    password: &str,
    now: UnixMicros,
) -> Result<SignIn, StoreError> {
    let policy = security.policy();
    let started =
        match access::sign_in(store, hasher, entropy, policy, login, password, now).await? {
            access::SignIn::Started(started) => started,
            access::SignIn::Wrong => return Ok(SignIn::Wrong),
            access::SignIn::Locked => return Ok(SignIn::Locked),
        };
    let Some(staff) = started.identity.staff().cloned() else {
        access::sign_out(store, &started.token).await?;
        return Ok(SignIn::Wrong);
    };
    let secure = if security.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        started.token,
        policy.session_s()
    );
    Ok(SignIn::Ok { cookie, staff })
}

/// The cookie that ends a session in the browser.
#[must_use]
pub fn clear_cookie(security: SecurityConfig) -> String {
    let secure = if security.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// The start page for a role.
#[must_use]
pub fn home(role: Role) -> &'static str {
    match role {
        Role::Guard => "/guard",
        Role::CustomerService | Role::Technician => "/sites",
        Role::Billing => "/",
        Role::Operator | Role::Lead | Role::Admin => "/queue",
    }
}

/// Whether a route method is a form post.
#[must_use]
pub fn is_post(method: &Method) -> bool {
    method == Method::POST
}
