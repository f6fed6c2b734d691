//! What operators do to an incident: every move goes to the store, which asks the incident's
//! rules (`vakt_core::incident`) before it writes; and the one move that needs more than the
//! store, checking a caller's password or the site's revoking code, lives here once.

use vakt_core::UnixMicros;
use vakt_core::incident::{self, Life, Move, Refusal};
use vakt_store::{
    Actor, IncidentAction, IncidentState, Incidents, SecretRef, Secrets, Sites, StoreError,
};

use crate::access::{Check, Policy, check_secret};
use crate::secret::SecretHasher;

/// Whose secret a caller is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A contact person of the site, by id: their password.
    Contact(i64),
    /// Whoever calls with the site's revoking code.
    RevokingCode,
}

/// What a caller was asked and said, on which incident.
#[derive(Clone, Copy, Debug)]
pub struct Asked<'a> {
    /// The incident.
    pub incident_id: i64,
    /// Whose secret.
    pub caller: Caller,
    /// What the caller said.
    pub said: &'a str,
    /// How the log names the revoking code, in the operator's language.
    pub revoking_name: &'a str,
}

/// Why a caller's secret was not checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The incident's rules refuse a record now (closed, or someone else's).
    #[error("{0}")]
    Refused(Refusal),
    /// No such contact on the incident's site.
    #[error("no such contact on the site")]
    NoSuchContact,
    /// The store failed, or the incident does not exist.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks what a caller said against their password (or the revoking code) and records the
/// outcome in the incident's log, never the secret itself. Only the incident's owner may
/// check, the same rule the store applies to every record, and the check is refused before
/// an attempt is counted.
///
/// # Errors
/// A refusal by the rules, an unknown contact, or the store's failure.
pub async fn verify_caller(
    store: &(impl Incidents + Sites + Secrets),
    hasher: &SecretHasher,
    policy: Policy,
    asked: Asked<'_>,
    by: &Actor,
    staff_id: i64,
    now: UnixMicros,
) -> Result<Check, VerifyError> {
    let Asked {
        incident_id,
        caller,
        said,
        revoking_name,
    } = asked;
    let incident = store.incident(incident_id).await?;
    let life = match incident.state {
        IncidentState::Open => Life::Open {
            owner: incident.item.owner.clone(),
        },
        IncidentState::Closed => Life::Closed,
    };
    incident::decide(&life, staff_id, &Move::Record).map_err(VerifyError::Refused)?;
    let site = store.site(incident.item.site_id).await?;
    let (which, name) = match caller {
        Caller::RevokingCode => (SecretRef::RevokingCode(site.id), revoking_name.to_owned()),
        Caller::Contact(id) => {
            let contact = site
                .contacts
                .iter()
                .find(|c| c.id == id)
                .ok_or(VerifyError::NoSuchContact)?;
            (SecretRef::Contact(contact.id), contact.name.clone())
        }
    };
    let check = check_secret(store, hasher, policy, which, said, now).await?;
    let record = match check {
        Check::Right | Check::Wrong => IncidentAction::PasswordCheck {
            contact: name,
            right: check == Check::Right,
        },
        Check::Locked => IncidentAction::Note(format!("password check refused: {name} is locked")),
        Check::NotSet => IncidentAction::Note(format!("{name} has no password registered")),
    };
    store.act(incident_id, record, by, now).await?;
    Ok(check)
}
