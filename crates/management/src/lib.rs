//! wasp's management role: the admin API, operator authentication, the server registry and
//! placement, customers and their API keys, and the audit log. `wasp-management` is a
//! library; the `wasp` binary starts it.
#![forbid(unsafe_code)]

pub mod abuse;
pub mod app;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod cache;
pub mod config;
pub mod crypto;
pub mod csrf;
pub mod customer_auth;
pub mod customers;
pub mod gateway;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod operators;
pub mod pagination;
pub mod placement;
pub mod router;
pub mod servers;
pub mod streams;
pub mod upstream;
pub mod usage;
pub mod web;
pub mod webhooks;

pub use app::{App, AppState};
pub use config::Config;
pub use error::{Error, Result};
pub use wasp_db as db;
pub use wasp_db::{on_pool, on_tx, Db};
pub use wasp_http::error;
