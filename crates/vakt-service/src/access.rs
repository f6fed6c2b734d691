//! Signing in and proving who you are: sessions for every identity (staff and customers),
//! checks of secrets said over the phone, API clients and their tokens.
//!
//! Every check of a secret is one atomic step in the store (`Secrets::begin_check` counts
//! the attempt before the hash is compared), so parallel guesses are counted as many as they
//! are. Tokens are drawn from the [`Entropy`] passed in and stored only as SHA-256.

use vakt_core::access::Scope;
use vakt_core::lockout::Lockout;
use vakt_core::{Entropy, UnixMicros};
use vakt_store::{
    Actor, ApiClient, CheckStart, Identities, Identity, NewApiClient, NewCustomerLogin, NewStaff,
    SecretRef, Secrets, Session, StoreError,
};

use crate::forms::{Problem, StaffForm};
use crate::secret::{SecretHasher, new_token, token_hash};

/// How sign-in and secrets are guarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How long a session lasts, in hours.
    pub session_hours: u32,
    /// Failures in a row that lock a password or code.
    pub failures_max: u32,
    /// How long a lock lasts, in seconds.
    pub lock_s: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            session_hours: 12,
            failures_max: 5,
            lock_s: 900,
        }
    }
}

impl Policy {
    fn lockout(self) -> Lockout {
        Lockout {
            failures_max: self.failures_max,
            lock_us: i64::from(self.lock_s) * 1_000_000,
        }
    }

    /// A session's length in seconds, for the cookie.
    #[must_use]
    pub fn session_s(self) -> u64 {
        u64::from(self.session_hours) * 3_600
    }
}

/// The outcome of checking a secret someone said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// It matches.
    Right,
    /// It does not.
    Wrong,
    /// Too many failures: not checked.
    Locked,
    /// No secret is set.
    NotSet,
}

/// Checks what someone said against a stored secret (a login password, a contact's ARC
/// password, a revoking code), with the lock after repeated failures.
///
/// # Errors
/// When the store fails.
pub async fn check_secret(
    store: &impl Secrets,
    hasher: &SecretHasher,
    policy: Policy,
    which: SecretRef,
    said: &str,
    now: UnixMicros,
) -> Result<Check, StoreError> {
    match store.begin_check(which, now, policy.lockout()).await? {
        CheckStart::NotSet => Ok(Check::NotSet),
        CheckStart::Locked(_) => Ok(Check::Locked),
        CheckStart::Check { hash, locks } => {
            if hasher.verify(said, &hash) {
                store.check_passed(which).await?;
                Ok(Check::Right)
            } else if locks {
                Ok(Check::Locked)
            } else {
                Ok(Check::Wrong)
            }
        }
    }
}

/// A session just started.
#[derive(Clone, Debug)]
pub struct Started {
    /// The session token, for the cookie or the app; stored only as its hash.
    pub token: String,
    /// Who signed in.
    pub identity: Identity,
}

/// The outcome of a sign-in attempt.
#[derive(Clone, Debug)]
pub enum SignIn {
    /// Signed in.
    Started(Started),
    /// Wrong login or password (which, is not said).
    Wrong,
    /// Locked after too many failures.
    Locked,
}

/// A hash no password matches, checked when the login is unknown so that a wrong login
/// takes as long as a wrong password.
const NO_SUCH_LOGIN: &str = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// Checks a login and password (staff or customer) and starts a session.
///
/// # Errors
/// When the store fails.
pub async fn sign_in(
    store: &(impl Identities + Secrets),
    hasher: &SecretHasher,
    entropy: &dyn Entropy,
    policy: Policy,
    login: &str,
    password: &str,
    now: UnixMicros,
) -> Result<SignIn, StoreError> {
    let identity = match store.identity_by_login(login.trim()).await {
        Ok(identity) => identity,
        Err(StoreError::NotFound) => {
            let _ = hasher.verify(password, NO_SUCH_LOGIN);
            return Ok(SignIn::Wrong);
        }
        Err(error) => return Err(error),
    };
    let which = SecretRef::Login(identity.id);
    match check_secret(store, hasher, policy, which, password, now).await? {
        Check::Right => {}
        Check::Locked => return Ok(SignIn::Locked),
        Check::Wrong | Check::NotSet => return Ok(SignIn::Wrong),
    }
    let token = new_token(entropy);
    let expires = now.add_micros(i64::from(policy.session_hours) * 3_600 * 1_000_000);
    store
        .create_session(
            token_hash(&token),
            identity.id,
            new_token(entropy),
            now,
            expires,
        )
        .await?;
    Ok(SignIn::Started(Started { token, identity }))
}

/// The session behind a token, if it is still valid at `now` (`NotFound` otherwise).
///
/// # Errors
/// `NotFound`, or when the store fails.
pub async fn session(
    store: &impl Identities,
    token: &str,
    now: UnixMicros,
) -> Result<Session, StoreError> {
    store.session(&token_hash(token), now).await
}

/// Ends the session behind a token.
///
/// # Errors
/// When the store fails.
pub async fn sign_out(store: &impl Identities, token: &str) -> Result<(), StoreError> {
    store.end_session(&token_hash(token)).await
}

/// Validates and creates a member of staff and their login (the console, the API and the
/// CLI all come here).
///
/// # Errors
/// The problems with the input, a taken login as a problem, or the store's failure as one.
pub async fn create_staff(
    store: &impl Identities,
    hasher: &SecretHasher,
    entropy: &dyn Entropy,
    form: &StaffForm,
    by: &Actor,
) -> Result<i64, Vec<Problem>> {
    let valid = form.validate()?;
    let password_hash = hash_or_problem(hasher, &valid.password, entropy)?;
    store
        .create_staff(
            NewStaff {
                login: valid.login,
                name: valid.name,
                role: valid.role,
                guard_company_id: valid.guard_company_id,
                language: valid.language,
                password_hash,
            },
            by,
        )
        .await
        .map_err(login_problem)
}

/// The shortest customer password accepted, in characters.
pub const CUSTOMER_PASSWORD_CHARS_MIN: usize = 10;

/// Gives a customer a login for My Pages and the app.
///
/// # Errors
/// The problems with the login or password, a taken login, an unknown customer.
pub async fn create_customer_login(
    store: &impl Identities,
    hasher: &SecretHasher,
    entropy: &dyn Entropy,
    customer_id: i64,
    login: &str,
    password: &str,
    by: &Actor,
) -> Result<i64, Vec<Problem>> {
    let login = login.trim().to_lowercase();
    let mut problems = Vec::new();
    if login.is_empty() || login.chars().count() > 254 || login.chars().any(char::is_whitespace) {
        problems.push(Problem::new(
            "login",
            "login",
            "Give a login without spaces, such as an e-mail address.",
            "Ange ett inloggningsnamn utan mellanslag, till exempel en e-postadress.",
        ));
    }
    if password.chars().count() < CUSTOMER_PASSWORD_CHARS_MIN {
        problems.push(Problem::new(
            "password",
            "password_short",
            format!("A password needs at least {CUSTOMER_PASSWORD_CHARS_MIN} characters."),
            format!("Ett lösenord måste ha minst {CUSTOMER_PASSWORD_CHARS_MIN} tecken."),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let password_hash = hash_or_problem(hasher, password, entropy)?;
    store
        .create_customer_login(
            NewCustomerLogin {
                customer_id,
                login,
                password_hash,
            },
            by,
        )
        .await
        .map_err(|error| match error {
            StoreError::NotFound => vec![Problem::new(
                "customer_id",
                "not_found",
                "No such customer.",
                "Kunden finns inte.",
            )],
            other => login_problem(other),
        })
}

fn hash_or_problem(
    hasher: &SecretHasher,
    password: &str,
    entropy: &dyn Entropy,
) -> Result<String, Vec<Problem>> {
    hasher.hash(password, entropy).map_err(|e| {
        vec![Problem::new(
            "password",
            "hash",
            e.to_string(),
            e.to_string(),
        )]
    })
}

fn login_problem(error: StoreError) -> Vec<Problem> {
    match error {
        StoreError::Conflict(_) => vec![Problem::new(
            "login",
            "duplicate",
            "That login is taken.",
            "Inloggningsnamnet är upptaget.",
        )],
        other => vec![Problem::new(
            "",
            "unavailable",
            other.to_string(),
            other.to_string(),
        )],
    }
}

/// An API client just created: its token is shown this once.
#[derive(Clone, Debug)]
pub struct NewClient {
    /// The client's id.
    pub id: i64,
    /// The bearer token.
    pub token: String,
}

/// The longest API client name accepted, in characters.
pub const CLIENT_NAME_CHARS_MAX: usize = 100;

/// Registers an API client with a fresh token.
///
/// # Errors
/// The problems with the name or scopes, a name already used, or the store's failure.
pub async fn create_api_client(
    store: &impl Identities,
    entropy: &dyn Entropy,
    name: &str,
    scopes: &[Scope],
    by: &Actor,
) -> Result<NewClient, Vec<Problem>> {
    let name = name.trim();
    let mut problems = Vec::new();
    if name.is_empty() || name.chars().count() > CLIENT_NAME_CHARS_MAX {
        problems.push(Problem::new(
            "name",
            "name",
            format!("Give the client a name of at most {CLIENT_NAME_CHARS_MAX} characters."),
            format!("Ge klienten ett namn på högst {CLIENT_NAME_CHARS_MAX} tecken."),
        ));
    }
    if scopes.is_empty() {
        problems.push(Problem::new(
            "scopes",
            "scopes",
            "Give the client at least one scope.",
            "Ge klienten minst en behörighet.",
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let token = new_token(entropy);
    let client = NewApiClient {
        name: name.to_owned(),
        token_hash: token_hash(&token),
        scopes: scopes.to_vec(),
    };
    let id = store
        .create_api_client(client, by)
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => vec![Problem::new(
                "name",
                "duplicate",
                "A client of that name exists.",
                "Det finns redan en klient med det namnet.",
            )],
            other => login_problem(other),
        })?;
    Ok(NewClient { id, token })
}

/// The name the configured API token's client goes by.
pub const CONFIGURED_CLIENT: &str = "configured token";

/// Keeps the token from the configuration working as an admin client (created at the first
/// start, its hash replaced when the configuration's token changes).
///
/// # Errors
/// When the store fails.
pub async fn keep_configured_token(
    store: &impl Identities,
    token: &str,
) -> Result<Option<i64>, StoreError> {
    if token.is_empty() {
        return Ok(None);
    }
    let client = NewApiClient {
        name: CONFIGURED_CLIENT.into(),
        token_hash: token_hash(token),
        scopes: vec![Scope::Admin],
    };
    store
        .keep_api_client(client, &Actor::system())
        .await
        .map(Some)
}

/// Why an API request was refused before it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// No token, or one no active client holds.
    Unknown,
    /// The client lacks the scope.
    Scope(Scope),
}

/// The API client holding `token`, if it may do what needs `scope`. One lookup by the
/// token's hash: a revoked client is as unknown as a made-up token.
///
/// # Errors
/// `Ok(Err(_))` when refused; `Err` when the store fails.
pub async fn authorize(
    store: &impl Identities,
    token: &str,
    scope: Scope,
) -> Result<Result<ApiClient, Denied>, StoreError> {
    if token.is_empty() {
        return Ok(Err(Denied::Unknown));
    }
    let Some(client) = store.api_client(&token_hash(token)).await? else {
        return Ok(Err(Denied::Unknown));
    };
    if scope.granted_by(&client.scopes) {
        Ok(Ok(client))
    } else {
        Ok(Err(Denied::Scope(scope)))
    }
}

/// Why an API client was not revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// The configured token's client: it is replaced by changing the configuration, since a
    /// restart would otherwise bring it back.
    #[error("the configured token is changed in the configuration, not revoked")]
    Configured,
    /// No such client, or the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Revokes an API client: its token is refused from now on.
///
/// # Errors
/// The configured token's client is refused; an unknown or already revoked one is `NotFound`.
pub async fn revoke_api_client(
    store: &impl Identities,
    id: i64,
    by: &Actor,
    now: UnixMicros,
) -> Result<(), RevokeError> {
    let clients = store.api_clients().await?;
    let client = clients
        .iter()
        .find(|c| c.id == id)
        .ok_or(StoreError::NotFound)?;
    if client.name == CONFIGURED_CLIENT {
        return Err(RevokeError::Configured);
    }
    store.revoke_api_client(id, by, now).await?;
    Ok(())
}
