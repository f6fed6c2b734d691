//! The incident's life as it is handled by people, as a state machine on plain values.
//!
//! An incident is open or closed; an open one has an owner or not. Taking it makes it yours
//! (two operators pressing at once: the store applies the decision in one transaction, so
//! exactly one wins); a lead may reassign it; recording a step, a password check, a note or
//! a guard dispatch, and closing it, are for its owner alone; a closed incident takes
//! nothing (a new alarm opens a new one). [`decide`] says what a move does or why it is
//! refused, and each [`Refusal`] reads in Swedish and English, so the console, the API and
//! the store all refuse the same moves with the same words.

/// Where an incident is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Life {
    /// Open, taken by `owner` (a member of staff's id and name) or by nobody.
    Open {
        /// Who has it.
        owner: Option<(i64, String)>,
    },
    /// Closed.
    Closed,
}

/// A move a person makes on an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// Take it.
    Take,
    /// Give it to another member of staff (a lead's move; the permission is checked before).
    Reassign {
        /// To whom: id and name.
        to: (i64, String),
        /// Whether that person's role handles alarms.
        handles_alarms: bool,
    },
    /// Record something on it: a step's outcome, a password check, a note, a dispatch.
    Record,
    /// Close it.
    Close,
}

/// What a move does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing: it is already yours.
    AlreadyYours,
    /// It gets this owner (id); `from` is the one it had.
    Owner {
        /// The new owner's id.
        to: i64,
        /// The owner before, if any: name.
        from: Option<String>,
    },
    /// Record the move.
    Record,
    /// Close it.
    Close,
}

/// Why a move is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The incident is closed.
    Closed,
    /// Somebody else has it: their name.
    TakenBy(String),
    /// Nobody has it: take it first.
    TakeFirst,
    /// The person to reassign to does not handle alarms: their name.
    CannotHandleAlarms(String),
    /// This guard company is already on a call-out for the incident: its name. A second one
    /// is sent only after the first is reported or called off.
    AlreadyDispatched(String),
}

impl Refusal {
    /// The refusal as the reader reads it (`sv` or `en`).
    #[must_use]
    pub fn text(&self, lang: &str) -> String {
        let en = lang == "en";
        match self {
            Refusal::Closed if en => "The incident is closed.".to_owned(),
            Refusal::Closed => "Larmet är avslutat.".to_owned(),
            Refusal::TakenBy(name) if en => format!("{name} has taken this incident."),
            Refusal::TakenBy(name) => format!("{name} har tagit larmet."),
            Refusal::TakeFirst if en => "Take the incident first.".to_owned(),
            Refusal::TakeFirst => "Ta larmet först.".to_owned(),
            Refusal::CannotHandleAlarms(name) if en => format!("{name} does not handle alarms."),
            Refusal::CannotHandleAlarms(name) => format!("{name} hanterar inte larm."),
            Refusal::AlreadyDispatched(company) if en => {
                format!("{company} is already on its way to this alarm.")
            }
            Refusal::AlreadyDispatched(company) => {
                format!("{company} är redan på väg till det här larmet.")
            }
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text("en"))
    }
}

/// What `mover` (a member of staff's id) doing `change` to an incident in `life` does.
///
/// # Errors
/// The [`Refusal`] when the move is not allowed.
pub fn decide(life: &Life, mover: i64, change: &Move) -> Result<Decision, Refusal> {
    let Life::Open { owner } = life else {
        return Err(Refusal::Closed);
    };
    let mine = owner.as_ref().is_some_and(|(id, _)| *id == mover);
    match change {
        Move::Take if mine => Ok(Decision::AlreadyYours),
        Move::Take => match owner {
            Some((_, name)) => Err(Refusal::TakenBy(name.clone())),
            None => Ok(Decision::Owner {
                to: mover,
                from: None,
            }),
        },
        Move::Reassign {
            to,
            handles_alarms: false,
        } => Err(Refusal::CannotHandleAlarms(to.1.clone())),
        Move::Reassign { to, .. } => Ok(Decision::Owner {
            to: to.0,
            from: owner.as_ref().map(|(_, name)| name.clone()),
        }),
        Move::Record | Move::Close => match owner {
            None => Err(Refusal::TakeFirst),
            Some((_, name)) if !mine => Err(Refusal::TakenBy(name.clone())),
            Some(_) if *change == Move::Close => Ok(Decision::Close),
            Some(_) => Ok(Decision::Record),
        },
    }
}

/// Whether `company` may be sent on a call-out for an incident whose dispatches to it stand
/// at `states`: not while one of them is still under way (a second click, a second operator).
///
/// # Errors
/// `AlreadyDispatched` naming the company.
pub fn may_dispatch(company: &str, states: &[crate::centre::DispatchState]) -> Result<(), Refusal> {
    if states.iter().any(|s| s.is_open()) {
        Err(Refusal::AlreadyDispatched(company.to_owned()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_company_is_sent_again_only_after_its_call_out_ends() {
        use crate::centre::DispatchState as D;
        assert!(may_dispatch("Nordvakt", &[]).is_ok());
        for open in [D::Requested, D::Accepted, D::OnSite] {
            let refused = may_dispatch("Nordvakt", &[D::Reported, open]);
            assert_eq!(refused, Err(Refusal::AlreadyDispatched("Nordvakt".into())));
        }
        assert!(may_dispatch("Nordvakt", &[D::Reported, D::Cancelled]).is_ok());
        let text = Refusal::AlreadyDispatched("Nordvakt".into()).text("sv");
        assert_eq!(text, "Nordvakt är redan på väg till det här larmet.");
    }

    const OLLE: i64 = 1;
    const OSKAR: i64 = 2;

    fn open(owner: Option<i64>) -> Life {
        Life::Open {
            owner: owner.map(|id| (id, format!("operator {id}"))),
        }
    }

    #[test]
    fn taking_makes_it_yours_once_and_nobody_elses() {
        assert_eq!(
            decide(&open(None), OLLE, &Move::Take),
            Ok(Decision::Owner {
                to: OLLE,
                from: None
            })
        );
        assert_eq!(
            decide(&open(Some(OLLE)), OLLE, &Move::Take),
            Ok(Decision::AlreadyYours)
        );
        assert_eq!(
            decide(&open(Some(OLLE)), OSKAR, &Move::Take),
            Err(Refusal::TakenBy("operator 1".into()))
        );
    }

    #[test]
    fn only_the_owner_records_and_closes() {
        for change in [Move::Record, Move::Close] {
            assert_eq!(decide(&open(None), OLLE, &change), Err(Refusal::TakeFirst));
            assert_eq!(
                decide(&open(Some(OSKAR)), OLLE, &change),
                Err(Refusal::TakenBy("operator 2".into()))
            );
        }
        assert_eq!(
            decide(&open(Some(OLLE)), OLLE, &Move::Record),
            Ok(Decision::Record)
        );
        assert_eq!(
            decide(&open(Some(OLLE)), OLLE, &Move::Close),
            Ok(Decision::Close)
        );
    }

    #[test]
    fn a_closed_incident_takes_no_move() {
        for change in [
            Move::Take,
            Move::Record,
            Move::Close,
            Move::Reassign {
                to: (OSKAR, "Oskar".into()),
                handles_alarms: true,
            },
        ] {
            assert_eq!(decide(&Life::Closed, OLLE, &change), Err(Refusal::Closed));
        }
    }

    #[test]
    fn a_reassignment_goes_only_to_someone_who_handles_alarms() {
        let to_oskar = |handles_alarms| Move::Reassign {
            to: (OSKAR, "Oskar".into()),
            handles_alarms,
        };
        assert_eq!(
            decide(&open(Some(OLLE)), 9, &to_oskar(true)),
            Ok(Decision::Owner {
                to: OSKAR,
                from: Some("operator 1".into())
            })
        );
        assert_eq!(
            decide(&open(None), 9, &to_oskar(false)),
            Err(Refusal::CannotHandleAlarms("Oskar".into()))
        );
    }

    #[test]
    fn every_refusal_reads_in_both_languages() {
        for refusal in [
            Refusal::Closed,
            Refusal::TakenBy("Olle".into()),
            Refusal::TakeFirst,
            Refusal::CannotHandleAlarms("Frida".into()),
        ] {
            let (sv, en) = (refusal.text("sv"), refusal.text("en"));
            assert_ne!(sv, en);
            assert!(sv.ends_with('.') && en.ends_with('.'));
        }
    }
}
