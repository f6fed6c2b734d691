//! Vakt's integration tests: the real server on free loopback ports, real sockets, a real
//! SQLite file, and (where installed) a DC-09 transmitter this project did not write.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod api;
mod arc;
mod cli;
mod cluster;
mod demo;
mod external;
mod faults;
mod fleet;
mod hostile;
mod identities;
mod receiver;
mod security;
mod terminal;
