//! The state shared by every handler ([`AppState`]): the database, configuration, secrets,
//! throttles and limiters, the HTTP clients to workers, the caches and the batched writers.

use crate::{crypto::Secrets, limits::LoginThrottle, workers::Reach, Config, Db};
use metrics_exporter_prometheus::PrometheusHandle;
use std::{ops::Deref, sync::Arc, time::Duration};

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
    pub upstream: crate::workers::upstream::Upstream,
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
            worker_http: crate::workers::worker_client(),
            upstream: crate::workers::upstream_pool(),
            metrics,
            limiter,
        }))
    }
}

impl App {
    /// What a call to a worker needs of the state.
    pub fn workers(&self) -> Reach<'_> {
        Reach {
            db: &self.db,
            cache: &self.cache,
            tokens: &self.tokens,
            http: &self.worker_http,
            upstream: &self.upstream,
        }
    }
}

/// Writes the batched usage counts and key uses.
pub(crate) async fn flush_counters(state: &AppState) {
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
