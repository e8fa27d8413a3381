//! A server's health: its latest heartbeat metrics and a live probe of its `/health`.

use super::{connectivity, get_row};
use crate::metrics::ServerMetrics;
use crate::{
    auth::{AdminAuth, Role},
    error::{ok, Envelope, Path},
    on_pool, AppState, Result,
};
use axum::{extract::State, Json as AxumJson};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A live probe of the worker's `/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Probe {
    pub reachable: bool,
    pub status_code: Option<u16>,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
}

/// `GET /api/admin/servers/{id}/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerHealth {
    pub server_id: Uuid,
    pub status: String,
    pub health_status: String,
    pub connectivity_status: String,
    pub last_heartbeat: Option<DateTime<Utc>>,
    pub seconds_since_heartbeat: Option<i64>,
    pub latest_metrics: Option<ServerMetrics>,
    pub probe: Probe,
}

/// Health of one worker: last heartbeat, latest metrics, and a live probe of its `/health`.
#[utoipa::path(get, path = "/api/admin/servers/{id}/health", tag = "servers", params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<ServerHealth>), (status = 404)))]
pub async fn server_health(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<ServerHealth>>> {
    admin.require(Role::Viewer)?;
    let row = get_row(&state.db, id).await?;
    let latest = on_pool!(&state.db, |pool| {
        sqlx::query_as::<_, ServerMetrics>(
        "SELECT cpu_usage, ram_usage, disk_usage, network_in_mbps, network_out_mbps, active_connections, \
         total_instances, messages_per_minute, errors_per_minute, avg_response_time_ms, p95_response_time_ms, \
         p99_response_time_ms, recorded_at FROM server_metrics WHERE server_id = $1 ORDER BY recorded_at DESC LIMIT 1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    })?;
    let started = std::time::Instant::now();
    let probe = match state
        .http
        .get(format!("{}/health", row.api_url))
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await
    {
        Ok(resp) => Probe {
            reachable: true,
            status_code: Some(resp.status().as_u16()),
            latency_ms: Some(started.elapsed().as_millis() as u64),
            error: None,
        },
        Err(e) => Probe {
            reachable: false,
            status_code: None,
            latency_ms: None,
            error: Some(if e.is_timeout() {
                "timed out".into()
            } else if e.is_connect() {
                "connection refused or unreachable".into()
            } else {
                "request failed".into()
            }),
        },
    };
    Ok(ok(ServerHealth {
        server_id: id,
        connectivity_status: connectivity(
            row.last_heartbeat,
            state.config.heartbeat_degraded_secs,
            state.config.heartbeat_offline_secs,
        )
        .to_owned(),
        seconds_since_heartbeat: row.last_heartbeat.map(|t| (Utc::now() - t).num_seconds()),
        status: row.status,
        health_status: row.health_status,
        last_heartbeat: row.last_heartbeat,
        latest_metrics: latest,
        probe,
    }))
}
