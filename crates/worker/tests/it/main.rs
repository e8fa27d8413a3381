//! The worker's integration tests, one binary: the worker without management (a migrated
//! database and a registered worker on the sandbox driver, `wasp_worker::testkit`), its
//! live driver's store and handshake, on SQLite and PostgreSQL.

mod internal;
mod lease;
mod live_durability;
mod live_handshake;
mod live_store;
mod openapi;
mod receipts;
mod scale;
mod webhook_delivery;
