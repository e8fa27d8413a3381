//! Management settings, validated by the binary before start-up.

use std::{net::SocketAddr, time::Duration};

/// What the management role needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the HTTP API listens.
    pub http_addr: SocketAddr,
    /// The public base URL of this deployment (for dashboard links).
    pub public_url: String,
    /// Mark session cookies `Secure` (browsers still accept them on http://localhost).
    pub cookie_secure: bool,
    /// Send `Strict-Transport-Security` (when served over HTTPS).
    pub hsts: bool,
    /// Take the client address from `X-Forwarded-For` (behind a trusted reverse proxy only).
    pub trust_proxy: bool,
    /// Sign-in attempts a minute per client address.
    pub login_attempts_per_minute: u32,
    /// Days audit rows are kept (at least 90).
    pub audit_retention_days: u32,
    /// How long heartbeats and their per-minute and per-hour buckets are kept.
    pub metrics_retention: Retention,
    /// Seconds without a heartbeat before a server counts as degraded / offline.
    pub heartbeat_degraded_secs: i64,
    pub heartbeat_offline_secs: i64,
    /// Redis for counters shared by every management replica (plan limits); `None` counts
    /// in this process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key wasp writes.
    pub redis_prefix: String,
    /// Bounds on what one client may make the HTTP server hold (header size, URL length,
    /// slow headers and bodies).
    pub transport: wasp_http::serve::Limits,
    /// Per-address limits on uncredentialed and refused requests, and bans.
    pub abuse: AbuseLimits,
    /// Bearer token that lets a scraper on another host read `/metrics`
    /// (`WASP_METRICS_TOKEN`); this host reads them without it.
    pub metrics_token: Option<String>,
    /// Whether anyone may create a customer account with `POST /api/customer/auth/signup`
    /// (`WASP_SIGNUP=open`); closed, only operators create customers.
    pub signup_open: bool,
    /// Where customer mail (e-mail verification, password reset) goes.
    pub mail: crate::mail::MailConfig,
}

impl Config {
    /// Defaults for tests and the embedded mode, listening on `addr`.
    pub fn local(addr: SocketAddr) -> Config {
        Config {
            http_addr: addr,
            public_url: format!("http://{addr}"),
            cookie_secure: true,
            hsts: false,
            trust_proxy: false,
            login_attempts_per_minute: 30,
            audit_retention_days: 365,
            metrics_retention: Default::default(),
            heartbeat_degraded_secs: 60,
            heartbeat_offline_secs: 300,
            redis_url: None,
            redis_prefix: "wasp:".into(),
            transport: wasp_http::serve::Limits::default(),
            abuse: Default::default(),
            metrics_token: None,
            signup_open: false,
            mail: Default::default(),
        }
    }
}

/// The abuse limits of a deployment.
#[derive(Debug, Clone, Copy)]
pub struct AbuseLimits {
    /// Uncredentialed or refused requests a minute per address.
    pub failures_per_minute: u32,
    /// Strikes (refusals past that limit) within ten minutes before a ban.
    pub strikes_before_ban: u32,
    /// How long a ban lasts.
    pub ban: Duration,
}

impl Default for AbuseLimits {
    fn default() -> Self {
        AbuseLimits {
            failures_per_minute: 100,
            strikes_before_ban: 5,
            ban: Duration::from_secs(600),
        }
    }
}

/// How long metrics are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Raw heartbeats and minute buckets (`WASP_METRICS_RAW_RETENTION_HOURS`, default 48).
    pub raw_hours: u32,
    /// Hour buckets (`WASP_METRICS_RETENTION_DAYS`, default 400).
    pub hourly_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_hours: 48,
            hourly_days: 400,
        }
    }
}
