//! The HTTP clients management reaches workers with.

use super::upstream::{PoolConfig, Upstream};
use std::time::Duration;

/// How long a worker may take to answer one customer call.
pub const WORKER_TIMEOUT: Duration = Duration::from_secs(60);

/// The pooled keep-alive client for worker calls.
pub fn worker_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(WORKER_TIMEOUT)
        // Below the workers' idle-connection cut (their header read timeout, 10 s), so a
        // pooled connection is never reused just as the worker closes it.
        .pool_idle_timeout(Duration::from_secs(8))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// The plain-http connections to workers (pooled keep-alive connections; most deployments
/// reach their workers over a private network). Workers behind `https://` go through reqwest.
pub fn upstream_pool() -> Upstream {
    Upstream::new(PoolConfig {
        connect_timeout: Duration::from_secs(3),
        // Below the workers' idle-connection cut (their header read timeout, 10 s).
        idle_timeout: Duration::from_secs(8),
        max_idle_per_host: 256,
    })
}
