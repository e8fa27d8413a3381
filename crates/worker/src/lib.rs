//! wasp's worker role: registers with management with its server key, reports heartbeats
//! with its metrics, and (as it grows) holds the WhatsApp sessions of the customers
//! assigned to it.
#![forbid(unsafe_code)]

pub mod api;
pub mod driver;
pub mod drivers;
pub mod events;
pub mod groups;
pub mod jid;
pub mod lids;
pub mod media;
pub mod model;
pub mod net;
pub mod registration;
pub mod session;
pub mod stats;
pub mod store;
#[doc(hidden)]
pub mod testkit;
pub mod webhooks;

use metrics_exporter_prometheus::PrometheusHandle;
use std::{
    path::PathBuf,
    sync::{Arc, OnceLock, RwLock},
    time::Duration,
};
use tokio::{net::TcpListener, sync::watch};
use wasp_db::Db;
use wasp_protocol::service_token::TokenVerifier;

/// What a worker needs to run.
#[derive(Clone)]
pub struct WorkerConfig {
    /// Management's base URL, e.g. `https://wasp.example.com`.
    pub management_url: String,
    /// The one-time `ak_server_…` key from "add server".
    pub server_key: String,
    /// The URL management should use to reach this worker (sent at registration); `None`
    /// keeps what the operator entered.
    pub advertise_url: Option<String>,
    /// Directory whose file system's use is reported as disk usage.
    pub data_dir: PathBuf,
    /// Which driver live sessions use (`WASP_WORKER_DRIVER`).
    pub live_driver: drivers::LiveDriver,
    /// Settings of live sessions.
    pub live: drivers::live::LiveConfig,
    /// Timings of the simulated network.
    pub sandbox: drivers::sandbox::SandboxConfig,
    /// Let media URLs point to private addresses (development only).
    pub media_allow_private: bool,
    /// Let webhook endpoints be private addresses (`WASP_WEBHOOK_ALLOW_PRIVATE`; development).
    pub webhook_allow_private: bool,
    /// Refuse webhook endpoints that are not https (`WASP_WEBHOOK_HTTPS_ONLY`).
    pub webhook_https_only: bool,
    /// Bearer token that lets a scraper on another host read `/metrics`
    /// (`WASP_METRICS_TOKEN`); this host reads them without it.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("management_url", &self.management_url)
            .field("server_key", &"<redacted>")
            .field("advertise_url", &self.advertise_url)
            .finish()
    }
}

/// Shared worker state.
pub struct Worker {
    pub config: WorkerConfig,
    pub stats: stats::RequestStats,
    pub registration: watch::Sender<registration::Status>,
    pub metrics: Option<PrometheusHandle>,
    pub http: reqwest::Client,
    db: Db,
    /// Each customer's media files.
    pub media: media::MediaStore,
    /// Fetches media URLs through the SSRF guard.
    pub fetcher: reqwest::Client,
    verifier: RwLock<Option<TokenVerifier>>,
    /// Tokens whose signature was checked, with their claims: management reuses a token
    /// for many requests, and an Ed25519 check costs more than the rest of a request.
    verified: RwLock<std::collections::HashMap<Box<str>, wasp_protocol::service_token::Claims>>,
    instances: OnceLock<Arc<session::manager::Instances>>,
}

pub type WorkerState = Arc<Worker>;

impl Worker {
    pub fn new(config: WorkerConfig, db: Db, metrics: Option<PrometheusHandle>) -> WorkerState {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let media = media::MediaStore::new(&config.data_dir);
        let fetcher = net::guarded_client(config.media_allow_private, Duration::from_secs(30));
        Arc::new(Worker {
            config,
            stats: stats::RequestStats::default(),
            registration: watch::channel(registration::Status::Starting).0,
            metrics,
            http,
            db,
            media,
            fetcher,
            verifier: RwLock::new(None),
            verified: RwLock::default(),
            instances: OnceLock::new(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Checks service tokens; `None` until registered.
    pub fn verifier(&self) -> Option<TokenVerifier> {
        self.verifier
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The instance manager; `None` until registered (it needs this server's id).
    /// The claims of a service token: from the tokens already checked while they are
    /// unexpired, else checked now (and remembered).
    pub fn verify_token(
        &self,
        token: &str,
    ) -> Option<
        Result<wasp_protocol::service_token::Claims, wasp_protocol::service_token::TokenError>,
    > {
        let now = chrono::Utc::now().timestamp();
        if let Some(claims) = self
            .verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
        {
            // Expiry as the verifier judges it (with its leeway), without the signature.
            if claims.exp >= now {
                return Some(Ok(claims.clone()));
            }
        }
        let verifier = self.verifier()?;
        let result = verifier.verify(token);
        if let Ok(claims) = &result {
            let mut verified = self.verified.write().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= 10_000 {
                verified.retain(|_, c| c.exp >= now);
                if verified.len() >= 10_000 {
                    verified.clear();
                }
            }
            verified.insert(token.into(), claims.clone());
        }
        Some(result)
    }

    pub fn instances(&self) -> Option<&Arc<session::manager::Instances>> {
        self.instances.get()
    }

    /// Takes what registration taught: the key to verify service tokens with, and this
    /// server's id for the instance manager.
    pub fn registered(
        &self,
        registration: &wasp_protocol::registry::Registration,
    ) -> Result<(), StartError> {
        let verifier = TokenVerifier::new(&registration.service_token_key, registration.server_id)
            .map_err(|_| {
                StartError::Protocol("management sent an unusable service token key".into())
            })?;
        *self.verifier.write().unwrap_or_else(|e| e.into_inner()) = Some(verifier);
        self.verified
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.instances.get_or_init(|| {
            session::manager::Instances::new(
                self.db.clone(),
                registration.server_id,
                drivers::Drivers::new(
                    self.db.clone(),
                    self.config.live_driver,
                    self.config.live.clone(),
                    drivers::sandbox::SandboxNetwork::new(self.config.sandbox.clone()),
                ),
            )
        });
        Ok(())
    }
}

/// Why a worker stopped before serving.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("WASP_SERVER_KEY was refused by management ({0})")]
    KeyRefused(String),
    #[error("{0}")]
    Protocol(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
}

/// How often a worker checks that it still holds the leases of its sessions.
pub const LEASE_CHECK: Duration = Duration::from_secs(10);

/// How often counted usage is written.
pub const USAGE_FLUSH: Duration = Duration::from_secs(2);

/// Registers (retrying while management is unreachable), then serves the worker API on
/// `listener` and heartbeats until `shutdown` completes.
pub async fn run(
    worker: WorkerState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    run_with(
        worker,
        listener,
        shutdown,
        wasp_http::serve::Limits::default(),
    )
    .await
}

/// [`run`] with the HTTP transport bounded by `limits` instead of the defaults.
pub async fn run_with(
    worker: WorkerState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: wasp_http::serve::Limits,
) -> Result<(), StartError> {
    let app = api::router::router(worker.clone());
    let mut server =
        tokio::spawn(async move { wasp_http::serve::serve(listener, app, shutdown, limits).await });
    let registrar = registration::Registrar::new(worker.clone());
    let registration = tokio::select! {
        registered = registrar.register_until_accepted() => match registered {
            Ok(registration) => registration,
            Err(e) => {
                server.abort();
                return Err(e);
            }
        },
        // Shut down before registration finished.
        served = &mut server => {
            served.map_err(|e| std::io::Error::other(e.to_string()))??;
            return Ok(());
        }
    };
    let heartbeats = tokio::spawn(registrar.heartbeat_loop(registration));
    // Sessions this server owns reconnect now, not at their next request: inbound messages
    // and receipts keep arriving while nobody calls the API.
    let instances = worker.instances().cloned();
    let restoring = instances.clone().map(|instances| {
        tokio::spawn(async move {
            match instances.restore_all().await {
                Ok(n) => tracing::info!(sessions = n, "sessions restored"),
                Err(e) => tracing::error!(error = %e, "sessions could not be restored"),
            }
        })
    });
    // The lease watchdog: sessions another worker took over are closed here.
    let watchdog = instances.clone().map(|instances| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LEASE_CHECK);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = instances.check_leases().await {
                    tracing::warn!(error = %e, "lease check failed");
                }
            }
        })
    });
    // Webhook delivery for the sessions this worker holds.
    let delivering = instances.clone().map(|instances| {
        let deliverer = webhooks::Deliverer::new(
            worker.db().clone(),
            instances.server(),
            worker.config.webhook_allow_private,
            worker.config.webhook_https_only,
            instances.deliveries.clone(),
        );
        (deliverer.clone(), tokio::spawn(deliverer.run()))
    });
    // Received-message counts reach customer_usage within a couple of seconds.
    let stop_usage = Arc::new(tokio::sync::Notify::new());
    let usage_flusher = instances.clone().map(|instances| {
        let stop = stop_usage.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(USAGE_FLUSH);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.notified() => return,
                }
                instances.flush_usage().await;
            }
        })
    });
    let served = server
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    heartbeats.abort();
    if let Some(flusher) = usage_flusher {
        // Not aborted: a flush cut off mid-write would lose the counts it had taken.
        stop_usage.notify_one();
        let _ = flusher.await;
    }
    if let Some((deliverer, delivering)) = delivering {
        delivering.abort();
        // Attempts already made are recorded, so the next owner does not make them again.
        deliverer.flush().await;
    }
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    if let Some(restoring) = restoring {
        restoring.abort();
    }
    // Graceful stop: every session flushes its events and closes its connection, keeping
    // its credentials for the next owner.
    if let Some(instances) = instances {
        instances.shutdown().await;
        tracing::info!("sessions closed");
    }
    served?;
    Ok(())
}
