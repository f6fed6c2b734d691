//! Vakt's integration tests: the real server on free loopback ports, real sockets, a real
//! SQLite file, and (where installed) a DC-09 transmitter this project did not write.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
// A test reads top to bottom as the one scenario it checks; source code holds to 120 lines.

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
