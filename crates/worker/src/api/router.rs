//! The worker's HTTP routes.

use crate::{registration::Status, WorkerState};
use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;
use std::time::Instant;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

pub fn router(worker: WorkerState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .merge(crate::api::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .fallback(|| async {
            (StatusCode::NOT_FOUND, Json(json!({ "success": false, "error": { "code": "NOT_FOUND", "message": "no such route" } })))
        })
        .layer(middleware::from_fn_with_state(worker.clone(), record_stats))
        .with_state(worker)
}

/// Feeds every request's latency and outcome into the heartbeat statistics.
async fn record_stats(State(worker): State<WorkerState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(req).await;
    worker
        .stats
        .record(started.elapsed(), response.status().is_server_error());
    response
}

/// Liveness, with the registration state; 503 until registered.
async fn health(State(worker): State<WorkerState>) -> impl IntoResponse {
    let status = worker.registration.borrow().clone();
    let (code, management, server_id) = match &status {
        Status::Registered { server_id, .. } => (StatusCode::OK, "registered", Some(*server_id)),
        Status::Starting => (StatusCode::SERVICE_UNAVAILABLE, "registering", None),
        Status::Unreachable => (StatusCode::SERVICE_UNAVAILABLE, "unreachable", None),
        Status::Refused => (StatusCode::SERVICE_UNAVAILABLE, "key_refused", None),
    };
    let (client_version, client_version_source) = worker.config.live.version.current();
    (
        code,
        Json(json!({
            "status": if code == StatusCode::OK { "ok" } else { "degraded" },
            "role": "worker",
            "version": env!("CARGO_PKG_VERSION"),
            "server_id": server_id,
            "dependencies": { "management": management },
            "whatsapp": {
                "live_driver": match worker.config.live_driver {
                    crate::drivers::LiveDriver::Live => "whatsapp-rust",
                    crate::drivers::LiveDriver::Sandbox => "sandbox",
                },
                "client_version": client_version.to_string(),
                "client_version_source": client_version_source.as_str(),
            },
        })),
    )
}

/// Prometheus text exposition, for this host or a scraper with `WASP_METRICS_TOKEN`.
async fn metrics(State(worker): State<WorkerState>, req: Request) -> Response {
    if !wasp_http::metrics::request_allowed(&req, worker.config.metrics_token.as_deref()) {
        return wasp_http::Error::unauthorized(
            wasp_http::error::code::UNAUTHORIZED,
            "metrics are for this host, or for a scraper with the metrics token",
        )
        .into_response();
    }
    match &worker.metrics {
        Some(handle) => (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics recorder not installed").into_response(),
    }
}
