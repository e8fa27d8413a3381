//! The application state shared by every handler, and the server's life cycle.

use crate::{auth::LoginThrottle, crypto::Secrets, router, Config, Db};
use metrics_exporter_prometheus::PrometheusHandle;
use std::{ops::Deref, sync::Arc, time::Duration};
use tokio::net::TcpListener;

/// Everything a handler can reach.
pub struct App {
    pub db: Db,
    pub config: Config,
    pub secrets: Secrets,
    /// Signs the service tokens management sends to workers.
    pub tokens: wasp_protocol::service_token::TokenSigner,
    pub login_throttle: LoginThrottle,
    /// The same per-address throttle for the customer account routes (sign-in, sign-up,
    /// reset), counted apart from the operators'.
    pub customer_throttle: LoginThrottle,
    /// Customer mail (SMTP or the outbox file).
    pub mailer: Arc<crate::mail::Mailer>,
    /// Outbound HTTP (worker health probes).
    pub http: reqwest::Client,
    /// Pooled keep-alive connections to workers, for the customer API.
    pub worker_http: reqwest::Client,
    /// The customer API's keep-alive connections to workers over plain http.
    pub upstream: crate::upstream::Upstream,
    pub metrics: Option<PrometheusHandle>,
    /// Plan limits of the customer API (in process, or shared through Redis).
    pub limiter: crate::limits::Limiter,
    /// Keys, routes and bans, invalidated across replicas.
    pub cache: Arc<crate::cache::GatewayCache>,
    /// Audit rows written in batches (customer API calls, refusals).
    pub audit: crate::audit::AuditWriter,
    /// Usage counts written in batches.
    pub usage: wasp_db::usage::UsageMeter,
}

/// Cheap-to-clone handle on [`App`], used as axum state.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    pub fn new(
        db: Db,
        config: Config,
        secret: &[u8],
        metrics: Option<PrometheusHandle>,
    ) -> AppState {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap_or_default();
        let secrets = Secrets::derive(secret);
        let limiter = crate::limits::Limiter::new(
            config.redis_url.as_deref(),
            &config.redis_prefix,
        )
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "WASP_REDIS_URL unusable; counting plan limits in process");
            crate::limits::Limiter::Local(Default::default())
        });
        let cache = crate::cache::GatewayCache::new(
            config.redis_url.as_deref(),
            &config.redis_prefix,
        )
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "WASP_REDIS_URL unusable; cache invalidations stay in this process");
            crate::cache::GatewayCache::new(None, "").expect("no Redis, no error")
        });
        AppState(Arc::new(App {
            cache: Arc::new(cache),
            audit: Default::default(),
            usage: Default::default(),
            tokens: wasp_protocol::service_token::TokenSigner::from_seed(
                secrets.service_token_seed,
            ),
            login_throttle: LoginThrottle::new(config.login_attempts_per_minute),
            customer_throttle: LoginThrottle::new(config.login_attempts_per_minute),
            mailer: Arc::new(crate::mail::Mailer::new(&config.mail).unwrap_or_else(|e| {
                tracing::error!(error = %e, "customer mail disabled");
                crate::mail::Mailer::Disabled
            })),
            secrets,
            db,
            config,
            http,
            worker_http: crate::gateway::worker_client(),
            upstream: crate::gateway::upstream(),
            metrics,
            limiter,
        }))
    }
}

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

async fn flush_counters(state: &AppState) {
    if let Err(e) = state.usage.flush(&state.db).await {
        tracing::warn!(error = %e, "usage flush failed; retried");
    }
    if let Err(e) = state.cache.flush_key_uses(&state.db).await {
        tracing::warn!(error = %e, "key usage flush failed");
    }
}

/// Writes everything batched in memory now (graceful shutdown; before reading usage).
pub async fn flush(state: &AppState) {
    flush_counters(state).await;
    if let Err(e) = state.audit.flush(&state.db).await {
        tracing::error!(error = %e, "audit rows could not be written at shutdown");
    }
}

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
