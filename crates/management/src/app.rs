//! The server's life cycle: serving, the batched writes' flusher, and the housekeeping
//! jobs. The state every handler reaches is `state.rs`'s.

use crate::{router, state::flush_counters};
use std::{sync::Arc, time::Duration};
use tokio::net::TcpListener;

pub use crate::state::{flush, App, AppState};

/// Serves the management API on `listener` until `shutdown` completes, running the
/// background housekeeping alongside.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(
        state,
        listener,
        shutdown,
        utoipa::openapi::OpenApi::default(),
        None,
    )
    .await
}

/// [`serve`], with `customer_api` (the workers' messaging API) merged into the OpenAPI
/// document served at `/api/openapi.json`, and the web UI (if any) at every other path.
pub async fn serve_with(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    customer_api: utoipa::openapi::OpenApi,
    web: Option<crate::web::WebUi>,
) -> std::io::Result<()> {
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    let stop_flusher = Arc::new(tokio::sync::Notify::new());
    let flusher = tokio::spawn(flusher(state.clone(), stop_flusher.clone()));
    let listener_task = tokio::spawn(state.cache.clone().listen());
    let app = crate::gateway::Service::new(
        state.clone(),
        router::router_with_web(state.clone(), customer_api, web),
    );
    let limits = state.config.transport.clone();
    let result = wasp_http::serve::serve(listener, app, shutdown, limits).await;
    housekeeping.abort();
    listener_task.abort();
    // Not aborted: a flush cut off mid-write would lose the rows it had taken. The flusher
    // ends after the flush under way, if any.
    stop_flusher.notify_one();
    let _ = flusher.await;
    // Every request has been answered: write what they left in memory.
    flush(&state).await;
    result
}

/// Writes the batched audit rows (every 100 ms: small batches, so that writing them never
/// holds a core long enough to show in the answers' tail latency), usage counts and key
/// uses (every ten seconds).
async fn flusher(state: AppState, stop: Arc<tokio::sync::Notify>) {
    let mut tick = tokio::time::interval(AUDIT_FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.notified() => return,
        }
        if let Err(e) = state.audit.flush(&state.db).await {
            tracing::warn!(error = %e, "audit flush failed; retried");
        }
        ticks += 1;
        if ticks.is_multiple_of(100) {
            flush_counters(&state).await;
        }
    }
}

const AUDIT_FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Periodic jobs: audit retention (daily), metrics retention and usage costs (hourly), and
/// throttle-map sweeping.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut minutes = 0u64;
    loop {
        tick.tick().await;
        state.login_throttle.sweep();
        state.customer_throttle.sweep();
        state.limiter.sweep();
        state.cache.sweep();
        state.upstream.sweep();
        if minutes.is_multiple_of(60) {
            if let Err(e) = crate::idempotency::purge_expired(&state).await {
                tracing::warn!(error = %e, "idempotency purge failed");
            }
            let now = chrono::Utc::now();
            if let Err(e) =
                crate::metrics::purge(&state.db, state.config.metrics_retention, now).await
            {
                tracing::warn!(error = %e, "metrics retention purge failed");
            }
            if let Err(e) = crate::billing::estimate_recent_costs(&state, now).await {
                tracing::warn!(error = %e, "usage cost estimate failed");
            }
        }
        if minutes.is_multiple_of(24 * 60) {
            match crate::audit::purge_older_than(&state.db, state.config.audit_retention_days).await
            {
                Ok(n) if n > 0 => tracing::info!(removed = n, "audit retention purge"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "audit retention purge failed"),
            }
        }
        minutes += 1;
    }
}
