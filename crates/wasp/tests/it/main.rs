//! Tests that drive the real `wasp` binary (a child process per test), on SQLite and
//! PostgreSQL.

mod support;

mod cli;
mod events;
mod live_pairing;
mod logs;
mod placement;
mod sandbox;
mod web;
mod webhooks;
mod worker;
