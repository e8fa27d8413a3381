//! Worker-facing: registration and heartbeats, authenticated by the server key, and the
//! in-process worker's server row for `wasp up`.

use super::{check_url, ServerMetrics, ServerRow, SERVER_COLUMNS};
use crate::{
    audit::AuditEvent,
    db::{Dec, Inet},
    error::{code, ok, Envelope, Json},
    http::RequestMeta,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    Json as AxumJson,
};
use chrono::Utc;
use std::net::IpAddr;
use uuid::Uuid;
use wasp_protocol::{
    registry::{RegisterRequest, Registration},
    KeyKind, SecretKey,
};

/// The server a valid `ak_server_` key belongs to.
/// Whether `headers` carry the key of a server that exists, without auditing a refusal (the
/// abuse guard's question for a banned address: a worker behind it must still get through).
pub async fn carries_server_key(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(presented) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let Ok(key) = SecretKey::parse(presented.trim()) else {
        return false;
    };
    if key.kind() != KeyKind::Server {
        return false;
    }
    let digest = key.digest(&state.secrets.key_pepper);
    on_pool!(&state.db, |pool| sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM servers WHERE api_key_hash = $1 AND deleted_at IS NULL"
    )
    .bind(&digest)
    .fetch_optional(pool)
    .await)
    .is_ok_and(|found| found.is_some())
}

async fn authenticate_server(
    state: &AppState,
    headers: &HeaderMap,
    meta: &RequestMeta,
) -> Result<ServerRow> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let refuse = |reason: &'static str| async move {
        AuditEvent::security_event("server", None, "server_auth_failed", meta)
            .failure(reason)
            .severity("warning")
            .write_alone(&state.db)
            .await?;
        Err::<ServerRow, _>(Error::unauthorized(
            code::INVALID_SERVER_KEY,
            "invalid server key",
        ))
    };
    let Some(presented) = presented else {
        return refuse("missing server key").await;
    };
    let key = match SecretKey::parse(presented) {
        Ok(k) if k.kind() == KeyKind::Server => k,
        _ => return refuse("malformed server key").await,
    };
    let sql = format!(
        "SELECT {SERVER_COLUMNS} FROM servers WHERE api_key_hash = $1 AND deleted_at IS NULL"
    );
    let digest = key.digest(&state.secrets.key_pepper);
    match on_pool!(&state.db, |pool| sqlx::query_as::<_, ServerRow>(&sql)
        .bind(&digest)
        .fetch_optional(pool)
        .await)?
    {
        Some(row) => Ok(row),
        None => refuse("unknown server key").await,
    }
}

/// Seconds between worker heartbeats.
pub const HEARTBEAT_INTERVAL_SECS: u64 = 5;

/// A worker announces itself with its server key.
#[utoipa::path(post, path = "/internal/v1/register", tag = "internal", request_body = RegisterRequest,
    responses((status = 200, body = Envelope<Registration>), (status = 401, description = "INVALID_SERVER_KEY")))]
pub async fn register(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Json(req): Json<RegisterRequest>,
) -> Result<AxumJson<Envelope<Registration>>> {
    let row = authenticate_server(&state, &headers, &meta).await?;
    if let Some(url) = &req.api_url {
        check_url("api_url", url)?;
    }
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE servers SET status = CASE WHEN status = 'initializing' THEN 'active' ELSE status END, \
         api_url = COALESCE($1, api_url), last_heartbeat = $2, health_status = 'healthy', updated_at = $2 WHERE id = $3"
    )
    .bind(req.api_url.as_deref().map(|u| u.trim_end_matches('/')))
    .bind(now)
    .bind(row.id)
    .execute(&mut *conn)
    .await.map(|r| r.rows_affected())
    })?;
    let mut event = AuditEvent::system("server_registered").resource("server", row.id);
    event.actor_type = "server";
    event.actor_id = Some(row.id);
    event.ip = meta.ip;
    event.request_id = meta.request_id.as_deref().map(str::to_owned);
    event
        .metadata(serde_json::json!({ "version": req.version }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(ok(Registration {
        server_id: row.id,
        name: row.name,
        heartbeat_interval_secs: HEARTBEAT_INTERVAL_SECS,
        service_token_key: state.tokens.public_key(),
    }))
}

/// Derives `health_status` from reported resource use.
pub fn health_from_metrics(m: &ServerMetrics) -> &'static str {
    let pct = |d: &Option<Dec>| d.map(|d| d.0).unwrap_or_default();
    let (cpu, ram, disk) = (pct(&m.cpu_usage), pct(&m.ram_usage), pct(&m.disk_usage));
    let ninety = rust_decimal::Decimal::from(90);
    let eighty = rust_decimal::Decimal::from(80);
    let nearly_full = rust_decimal::Decimal::from(98);
    if ram >= nearly_full || disk >= nearly_full {
        "unhealthy"
    } else if cpu >= ninety
        || ram >= ninety
        || disk >= ninety
        || (cpu >= eighty && ram >= eighty)
        || m.errors_per_minute.unwrap_or(0) > 100
    {
        "degraded"
    } else {
        "healthy"
    }
}

/// A worker's periodic report.
#[utoipa::path(post, path = "/internal/v1/heartbeat", tag = "internal", request_body = ServerMetrics,
    responses((status = 204), (status = 401, description = "INVALID_SERVER_KEY")))]
pub async fn heartbeat(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Json(m): Json<ServerMetrics>,
) -> Result<StatusCode> {
    let row = authenticate_server(&state, &headers, &meta).await?;
    let health = health_from_metrics(&m);
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
            "INSERT INTO server_metrics (server_id, cpu_usage, ram_usage, disk_usage, network_in_mbps, network_out_mbps, \
             active_connections, total_instances, messages_per_minute, errors_per_minute, avg_response_time_ms, \
             p95_response_time_ms, p99_response_time_ms, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(row.id)
        .bind(m.cpu_usage)
        .bind(m.ram_usage)
        .bind(m.disk_usage)
        .bind(m.network_in_mbps)
        .bind(m.network_out_mbps)
        .bind(m.active_connections)
        .bind(m.total_instances)
        .bind(m.messages_per_minute)
        .bind(m.errors_per_minute)
        .bind(m.avg_response_time_ms)
        .bind(m.p95_response_time_ms)
        .bind(m.p99_response_time_ms)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    crate::metrics::record(&mut tx, row.id, &m, now).await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
            "UPDATE servers SET last_heartbeat = $1, health_status = $2, \
             status = CASE WHEN status = 'initializing' THEN 'active' ELSE status END WHERE id = $3",
        )
        .bind(now)
        .bind(health)
        .bind(row.id)
        .execute(&mut *conn)
        .await?;
    });
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Name of the server row that `wasp up`'s in-process worker registers as.
pub const LOCAL_SERVER_NAME: &str = "local";

/// For the all-in-one mode: makes sure the in-process worker has a server row, and gives it
/// a fresh key for this run (the key lives only in this process's memory).
pub async fn ensure_local(
    state: &AppState,
    api_url: &str,
    capacity: i32,
    cpu_cores: i32,
    ram_gb: i32,
) -> Result<SecretKey> {
    check_url("api_url", api_url)?;
    let key = SecretKey::generate(KeyKind::Server);
    let digest = key.digest(&state.secrets.key_pepper);
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let existing: Option<Uuid> = on_tx!(&mut tx, |conn| sqlx::query_scalar(
        "SELECT id FROM servers WHERE name = $1 AND deleted_at IS NULL"
    )
    .bind(LOCAL_SERVER_NAME)
    .fetch_optional(&mut *conn)
    .await)?;
    let (id, action) = match existing {
        Some(id) => {
            on_tx!(&mut tx, |conn| {
                sqlx::query("UPDATE servers SET api_key_hash = $1, api_key_hint = $2, api_url = $3, updated_at = $4 WHERE id = $5")
                .bind(&digest)
                .bind(key.hint())
                .bind(api_url)
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map(|r| r.rows_affected())
            })?;
            (id, "local_server_key_rotated")
        }
        None => {
            let id = Uuid::now_v7();
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                "INSERT INTO servers (id, name, ip_address, api_url, api_key_hash, api_key_hint, max_capacity, cpu_cores, ram_gb, \
                 region, provider, status, health_status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'local', 'wasp up', 'initializing', 'unknown', $10, $10)"
            )
            .bind(id)
            .bind(LOCAL_SERVER_NAME)
            .bind(Inet(IpAddr::from([127, 0, 0, 1])))
            .bind(api_url)
            .bind(&digest)
            .bind(key.hint())
            .bind(capacity)
            .bind(cpu_cores)
            .bind(ram_gb)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected())
            })?;
            (id, "local_server_created")
        }
    };
    AuditEvent::system(action)
        .resource("server", id)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(key)
}
