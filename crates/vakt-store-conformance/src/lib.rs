//! The store's conformance suite lives in `tests/conformance/`, one file per port: every
//! method of every port run against SQLite always and against PostgreSQL whenever
//! `TEST_DATABASE_URL` names a server (the test script starts one; CI must give one).
//!
//! It is a crate of its own so that neither backend's crate holds the tests of both, and so
//! that a new port's checks have one obvious home.
