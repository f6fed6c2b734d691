//! Vakt's pure core: the values every other crate speaks in.
//!
//! Nothing here does I/O or reads the wall clock. Time comes in through [`Clock`], so the
//! receiver, the engine and the simulator can all run on real or simulated time alike.
//!
//! - [`access`]: who signs in (staff by role, customers) and what API scopes allow.
//! - [`calendar`]: Stockholm time for people, Swedish public holidays and bank days.
//! - [`centre`]: the alarm receiving centre's vocabulary: points, authority, steps, roles.
//! - [`event`]: the one alarm event taxonomy that SIA DC-03 and Contact ID codes map into.
//! - [`hold`]: the hold window for authorised disarms, and why life-safety alarms escape it.
//! - [`identity`]: personnummer, samordningsnummer and organisationsnummer, validated.
//! - [`incident`]: the incident's life (take, reassign, record, close) and its refusals.
//! - [`lang`]: Swedish and English, the two languages Vakt speaks to people.
//! - [`lockout`]: secrets locked after repeated failures, each attempt counted before it is checked.
//! - [`phone`]: phone numbers read as people write them, kept in E.164.
//! - [`random`]: randomness passed in as an [`Entropy`], seeded for tests and simulations.
//! - [`supervision`]: heartbeat deadlines as one ordered set, each miss raised once.
//! - [`time`]: instants in microseconds since the Unix epoch, and the [`Clock`] trait.

pub mod access;
pub mod calendar;
pub mod centre;
pub mod event;
pub mod hold;
pub mod identity;
pub mod incident;
pub mod lang;
pub mod lockout;
pub mod phone;
pub mod random;
pub mod supervision;
pub mod time;

pub use event::{Category, Condition, Event, EventCode, PayloadFormat};
pub use lang::Lang;
pub use random::{Entropy, OsEntropy, SeededEntropy};
pub use time::{Clock, SystemClock, UnixMicros};
