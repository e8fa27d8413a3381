//! HTTP-level tests of the management role, each run against SQLite and PostgreSQL.

mod harness;

mod admin_auth;
mod audit;
mod billing;
mod customer_auth;
mod customers;
mod errors;
mod gateway;
mod keys;
mod limits;
mod monitoring;
mod servers;
mod transport;
