//! Who signs in, as the store keeps them: identities (one per login, staff or customer),
//! their sessions, and API clients with their hashed tokens and scopes.
//!
//! A login's password and its lockout live on the identity, not on the staff row, so staff
//! and customers sign in through one path and one lockout (`SecretRef::Login`).

use serde::Serialize;
use vakt_core::UnixMicros;
use vakt_core::access::{Principal, Scope};

use crate::centre::{Actor, Staff};

/// What an identity is the login of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// A member of staff (a guard-company user among them).
    Staff(Staff),
    /// A customer, for My Pages and the app.
    Customer(CustomerLogin),
}

/// The customer behind a customer identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomerLogin {
    /// The customer's id.
    pub customer_id: i64,
    /// The customer's name.
    pub name: String,
    /// `sv` or `en`.
    pub language: String,
}

/// One login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The identity's id (what `SecretRef::Login` names).
    pub id: i64,
    /// The login name, lower case.
    pub login: String,
    /// Whose login it is.
    pub subject: Subject,
}

impl Identity {
    /// What kind of identity this is, for permission checks.
    #[must_use]
    pub fn principal(&self) -> Principal {
        match &self.subject {
            Subject::Staff(staff) => Principal::Staff(staff.role),
            Subject::Customer(_) => Principal::Customer,
        }
    }

    /// The member of staff, when this is a staff login.
    #[must_use]
    pub fn staff(&self) -> Option<&Staff> {
        match &self.subject {
            Subject::Staff(staff) => Some(staff),
            Subject::Customer(_) => None,
        }
    }

    /// The language pages are shown in.
    #[must_use]
    pub fn language(&self) -> &str {
        match &self.subject {
            Subject::Staff(staff) => &staff.language,
            Subject::Customer(customer) => &customer.language,
        }
    }

    /// How the audit log names this identity.
    #[must_use]
    pub fn actor(&self) -> Actor {
        match &self.subject {
            Subject::Staff(staff) => staff.actor(),
            Subject::Customer(customer) => Actor {
                staff_id: None,
                name: format!("{} ({}, customer)", customer.name, self.login),
            },
        }
    }
}

/// A customer login to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCustomerLogin {
    /// The customer.
    pub customer_id: i64,
    /// The login name (an e-mail address, say), lower case.
    pub login: String,
    /// The password's hash.
    pub password_hash: String,
}

/// A signed-in session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Who.
    pub identity: Identity,
    /// The form token of this session.
    pub csrf: String,
    /// When it ends.
    pub expires_at: UnixMicros,
}

/// A program allowed to use the JSON API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiClient {
    /// The id.
    pub id: i64,
    /// A name people recognise ("billing export", "configured token").
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was created.
    pub created_at: UnixMicros,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked; a revoked client's token is refused.
    pub revoked_at: Option<UnixMicros>,
}

impl ApiClient {
    /// How the audit log names changes this client makes.
    #[must_use]
    pub fn actor(&self) -> Actor {
        Actor {
            staff_id: None,
            name: format!("API client {} (#{})", self.name, self.id),
        }
    }
}

/// An API client to create; the token itself is shown once and never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiClient {
    /// Its name.
    pub name: String,
    /// The token's SHA-256, hex.
    pub token_hash: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
}
