//! Vakt's use cases: every change a person or a program asks for, written once.
//!
//! The console, the JSON API and the CLI call these functions and nothing else to change
//! what Vakt stores; they only turn requests into calls and results into pages, JSON or
//! text. Each use case asks for the store ports it needs (`vakt_store::Sites`, ...), takes
//! time and randomness as arguments, and leaves the rules themselves to `vakt-core`.
//!
//! - [`access`]: signing in (staff and customers), checking secrets, API clients.
//! - [`incidents`]: what operators do to an incident, and checking a caller's secret.
//! - [`keys`]: test mode and key custody.
//! - [`registry`]: changes to customers, sites and contacts.
//! - [`transmitters`]: importing, describing and linking transmitters.
//! - [`forms`], [`input`]: what people type, parsed once into rows or a list of problems.
//! - [`secret`]: hashing passwords, codes and tokens.

pub mod access;
pub mod forms;
pub mod incidents;
pub mod input;
pub mod keys;
pub mod registry;
pub mod secret;
pub mod transmitters;

pub use input::{FieldError, TransmitterInput};
