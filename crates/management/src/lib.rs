//! wasp's management role: the admin API, operator authentication, the server registry and
//! placement, customers and their API keys, and the audit log. `wasp-management` is a
//! library; the `wasp` binary starts it.
#![forbid(unsafe_code)]

pub mod abuse;
pub mod app;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod billing;
pub mod cache;
pub mod caller;
pub mod config;
pub mod crypto;
pub mod csrf;
pub mod customer_auth;
pub mod customers;
pub mod fleet;
pub mod gateway;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod metering;
pub mod metrics;
pub mod operators;
pub mod pagination;
pub mod request_meta;
pub mod router;
pub mod servers;
pub mod state;
pub mod streams;
pub mod usage;
pub mod web;
pub mod webhooks;
pub mod workers;

pub use config::Config;
pub use error::{Error, Result};
pub use state::{App, AppState};
pub use wasp_db as db;
pub use wasp_db::{on_pool, on_tx, Db};
pub use wasp_http::error;
