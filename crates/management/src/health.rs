//! `GET /health` and `GET /metrics`, on every role.

use crate::AppState;
use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde::Serialize;
use utoipa::ToSchema;

/// The health document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// ok or degraded
    pub status: &'static str,
    pub role: &'static str,
    pub version: &'static str,
    pub dependencies: Dependencies,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dependencies {
    /// ok or unavailable
    pub database: &'static str,
    /// postgres or sqlite
    pub database_backend: &'static str,
}

/// Liveness and dependency status; 503 when the database is unreachable.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping())
        .await
        .is_ok_and(|r| r.is_ok());
    let body = Health {
        status: if db_ok { "ok" } else { "degraded" },
        role: "management",
        version: env!("CARGO_PKG_VERSION"),
        dependencies: Dependencies {
            database: if db_ok { "ok" } else { "unavailable" },
            database_backend: match state.db.backend() {
                crate::db::Backend::Postgres => "postgres",
                crate::db::Backend::Sqlite => "sqlite",
            },
        },
    };
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Prometheus text exposition, for this host or a scraper with `WASP_METRICS_TOKEN`.
pub async fn metrics(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    if !wasp_http::metrics::request_allowed(&req, state.config.metrics_token.as_deref()) {
        return crate::Error::unauthorized(
            crate::error::code::UNAUTHORIZED,
            "metrics are for this host, or for a scraper with the metrics token",
        )
        .into_response();
    }
    match &state.metrics {
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
