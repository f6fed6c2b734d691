//! Who may ask for what: the kinds of identity that sign in, and the scopes an API client's
//! token carries.
//!
//! Staff (guard-company users among them) act through their [`Role`]'s permissions. A
//! customer identity has none of those: it sees only its own things, through pages and
//! routes of its own (My Pages, the app), so every staff route refuses it. An API client has
//! no role; its token names the scopes it was given, and [`Scope::Admin`] is all of them.

use serde::{Deserialize, Serialize};

use crate::centre::{Permission, Role};

/// What kind of identity signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    /// A member of staff with a role.
    Staff(Role),
    /// A customer: My Pages and the app only.
    Customer,
}

impl Principal {
    /// Whether this identity may do a staff `permission`; a customer never may.
    #[must_use]
    pub fn may(self, permission: Permission) -> bool {
        match self {
            Principal::Staff(role) => role.may(permission),
            Principal::Customer => false,
        }
    }
}

/// One thing an API client may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Everything, including managing API clients.
    #[serde(rename = "admin")]
    Admin,
    /// Read the signal journal.
    #[serde(rename = "signals:read")]
    SignalsRead,
    /// List transmitters.
    #[serde(rename = "transmitters:read")]
    TransmittersRead,
    /// Import and delete transmitters.
    #[serde(rename = "transmitters:write")]
    TransmittersWrite,
    /// Read customers, sites and staff.
    #[serde(rename = "registry:read")]
    RegistryRead,
    /// Change customers, sites, contacts and staff.
    #[serde(rename = "registry:write")]
    RegistryWrite,
    /// Read incidents and the queue.
    #[serde(rename = "incidents:read")]
    IncidentsRead,
    /// See connected panels and send them commands.
    #[serde(rename = "panels")]
    Panels,
    /// See the cluster's nodes and shards.
    #[serde(rename = "cluster:read")]
    ClusterRead,
}

impl Scope {
    /// Every scope, in the order they are listed.
    pub const ALL: [Scope; 9] = [
        Scope::Admin,
        Scope::SignalsRead,
        Scope::TransmittersRead,
        Scope::TransmittersWrite,
        Scope::RegistryRead,
        Scope::RegistryWrite,
        Scope::IncidentsRead,
        Scope::Panels,
        Scope::ClusterRead,
    ];

    /// The stable name, as tokens and the API list it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::SignalsRead => "signals:read",
            Scope::TransmittersRead => "transmitters:read",
            Scope::TransmittersWrite => "transmitters:write",
            Scope::RegistryRead => "registry:read",
            Scope::RegistryWrite => "registry:write",
            Scope::IncidentsRead => "incidents:read",
            Scope::Panels => "panels",
            Scope::ClusterRead => "cluster:read",
        }
    }

    /// A scope by its stable name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a client holding `held` may do what needs this scope.
    #[must_use]
    pub fn granted_by(self, held: &[Scope]) -> bool {
        held.iter().any(|&s| s == self || s == Scope::Admin)
    }
}

/// Scopes written as the store keeps them: stable names separated by spaces.
#[must_use]
pub fn scopes_text(scopes: &[Scope]) -> String {
    let mut names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// Scopes read back from [`scopes_text`]; `Err` names the first word that is no scope.
///
/// # Errors
/// The unknown word.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    text.split([' ', ','])
        .filter(|w| !w.is_empty())
        .map(|w| Scope::parse(w).ok_or_else(|| w.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_may_do_nothing_staff_do() {
        let every = [
            Permission::HandleAlarms,
            Permission::Reassign,
            Permission::ViewDashboard,
            Permission::ViewSites,
            Permission::ViewCustomers,
            Permission::EditRegistry,
            Permission::EditInstructions,
            Permission::SetTestMode,
            Permission::ManageKeys,
            Permission::ViewAudit,
            Permission::ManageStaff,
            Permission::GuardWork,
        ];
        for permission in every {
            assert!(!Principal::Customer.may(permission), "{permission:?}");
        }
        assert!(Principal::Staff(Role::Admin).may(Permission::ManageStaff));
        assert!(!Principal::Staff(Role::Guard).may(Permission::HandleAlarms));
    }

    #[test]
    fn admin_grants_every_scope_and_others_only_themselves() {
        for scope in Scope::ALL {
            assert!(scope.granted_by(&[Scope::Admin]));
            assert!(scope.granted_by(&[scope]));
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert!(!Scope::TransmittersWrite.granted_by(&[Scope::TransmittersRead]));
        assert!(!Scope::Admin.granted_by(&[Scope::SignalsRead, Scope::RegistryWrite]));
        assert!(!Scope::SignalsRead.granted_by(&[]));
    }

    #[test]
    fn scopes_round_trip_through_text_and_unknown_words_are_named() {
        let scopes = [Scope::SignalsRead, Scope::Admin, Scope::SignalsRead];
        let text = scopes_text(&scopes);
        assert_eq!(text, "admin signals:read");
        assert_eq!(
            parse_scopes(&text),
            Ok(vec![Scope::Admin, Scope::SignalsRead])
        );
        assert_eq!(
            parse_scopes("signals:read,everything"),
            Err("everything".into())
        );
    }
}
