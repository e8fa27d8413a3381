//! The server registry: worker servers with their one-time
//! keys, capacity, health from heartbeats ([`health`]), and the registration and heartbeat
//! endpoints the workers call ([`internal`]).

use crate::{
    audit::AuditEvent,
    auth::{AdminAuth, Role},
    bind_args,
    db::{is_unique_violation, Db, Dec, Inet, Tx},
    error::{code, created, ok, Envelope, Json, Path, Query},
    http::RequestMeta,
    on_pool, on_tx,
    pagination::{Arg, Filters, PageParams},
    AppState, Error, Result,
};
use axum::{extract::State, response::IntoResponse, Json as AxumJson};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::IpAddr;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wasp_protocol::{KeyKind, SecretKey};

pub mod health;
pub mod internal;

pub use crate::metrics::ServerMetrics;
pub use internal::{carries_server_key, ensure_local, health_from_metrics, LOCAL_SERVER_NAME};

/// Statuses an operator may set; `initializing` is set at creation until the first
/// registration.
pub const SETTABLE_STATUSES: [&str; 4] = ["active", "inactive", "maintenance", "draining"];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServerRow {
    pub id: Uuid,
    pub name: String,
    pub ip_address: Inet,
    pub api_url: String,
    pub api_key_hint: String,
    pub max_capacity: i32,
    pub current_load: i32,
    pub cpu_cores: i32,
    pub ram_gb: i32,
    pub disk_gb: Option<i32>,
    pub status: String,
    pub health_status: String,
    pub last_heartbeat: Option<DateTime<Utc>>,
    pub region: Option<String>,
    pub datacenter: Option<String>,
    pub provider: Option<String>,
    pub cost_per_month: Option<Dec>,
    pub metadata: Option<sqlx::types::Json<Value>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SERVER_COLUMNS: &str = "id, name, ip_address, api_url, api_key_hint, max_capacity, current_load, \
    cpu_cores, ram_gb, disk_gb, status, health_status, last_heartbeat, region, datacenter, provider, \
    cost_per_month, metadata, created_at, updated_at";

/// A server as the admin API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Server {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = String)]
    pub ip_address: IpAddr,
    pub api_url: String,
    /// Recognisable tail of the server key; the key itself is never shown again.
    pub api_key_hint: String,
    pub max_capacity: i32,
    pub current_load: i32,
    pub utilization_percent: f64,
    pub cpu_cores: i32,
    pub ram_gb: i32,
    pub disk_gb: Option<i32>,
    /// initializing, active, inactive, maintenance, draining, error
    pub status: String,
    /// unknown, healthy, degraded, unhealthy (from the last heartbeat's metrics)
    pub health_status: String,
    /// online, degraded, offline (from the age of the last heartbeat) or never
    pub connectivity_status: String,
    pub last_heartbeat: Option<DateTime<Utc>>,
    pub region: Option<String>,
    pub datacenter: Option<String>,
    pub provider: Option<String>,
    #[schema(value_type = Option<f64>, example = 40.00)]
    pub cost_per_month: Option<rust_decimal::Decimal>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Connectivity from the age of the last heartbeat.
pub fn connectivity(
    last: Option<DateTime<Utc>>,
    degraded_after: i64,
    offline_after: i64,
) -> &'static str {
    match last {
        None => "never",
        Some(t) => {
            let age = (Utc::now() - t).num_seconds();
            if age < degraded_after {
                "online"
            } else if age < offline_after {
                "degraded"
            } else {
                "offline"
            }
        }
    }
}

impl ServerRow {
    pub fn into_api(self, state: &AppState) -> Server {
        let utilization = if self.max_capacity > 0 {
            (f64::from(self.current_load) * 10_000.0 / f64::from(self.max_capacity)).round() / 100.0
        } else {
            0.0
        };
        Server {
            connectivity_status: connectivity(
                self.last_heartbeat,
                state.config.heartbeat_degraded_secs,
                state.config.heartbeat_offline_secs,
            )
            .to_owned(),
            id: self.id,
            name: self.name,
            ip_address: self.ip_address.0,
            api_url: self.api_url,
            api_key_hint: self.api_key_hint,
            max_capacity: self.max_capacity,
            current_load: self.current_load,
            utilization_percent: utilization,
            cpu_cores: self.cpu_cores,
            ram_gb: self.ram_gb,
            disk_gb: self.disk_gb,
            status: self.status,
            health_status: self.health_status,
            last_heartbeat: self.last_heartbeat,
            region: self.region,
            datacenter: self.datacenter,
            provider: self.provider,
            cost_per_month: self.cost_per_month.map(|d| d.0),
            metadata: self.metadata.map(|m| m.0),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Loads a live (not deleted) server.
pub async fn get_row(db: &Db, id: Uuid) -> Result<ServerRow> {
    let sql = format!("SELECT {SERVER_COLUMNS} FROM servers WHERE id = $1 AND deleted_at IS NULL");
    on_pool!(db, |pool| sqlx::query_as::<_, ServerRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or_else(|| Error::not_found("server"))
}

/// Recounts a server's customers into `current_load`, inside the caller's transaction.
pub async fn refresh_load(tx: &mut Tx, server_id: Uuid) -> Result<i32> {
    let sql = "UPDATE servers SET current_load = (SELECT COUNT(*) FROM customers \
               WHERE assigned_server_id = $1 AND deleted_at IS NULL) WHERE id = $1 RETURNING current_load";
    Ok(on_tx!(tx, |conn| sqlx::query_scalar::<_, i32>(sql)
        .bind(server_id)
        .fetch_optional(&mut *conn)
        .await)?
    .unwrap_or(0))
}

fn check_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// `metadata` is a JSON object (or null).
fn check_metadata(value: &Option<Value>) -> Result<()> {
    match value {
        Some(v) if !v.is_object() && !v.is_null() => {
            Err(Error::validation("metadata", "must be a JSON object"))
        }
        _ => Ok(()),
    }
}

fn check_opt_text(field: &str, value: &Option<String>, max: usize) -> Result<()> {
    value
        .as_deref()
        .map_or(Ok(()), |v| check_text(field, v, max))
}

fn check_range(field: &str, value: Option<i32>, min: i32, max: i32) -> Result<()> {
    match value {
        Some(v) if v < min || v > max => Err(Error::validation(
            field,
            format!("must be between {min} and {max}"),
        )),
        _ => Ok(()),
    }
}

fn check_url(field: &str, url: &str) -> Result<()> {
    check_text(field, url, 255)?;
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| Error::validation(field, "must be an absolute http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::validation(field, "must be an absolute http(s) URL"));
    }
    Ok(())
}

fn check_cost(value: Option<rust_decimal::Decimal>) -> Result<()> {
    match value {
        Some(v) if v.is_sign_negative() || v > rust_decimal::Decimal::from(99_999_999) => Err(
            Error::validation("cost_per_month", "must be between 0 and 99999999.99"),
        ),
        _ => Ok(()),
    }
}

/// `POST /api/admin/servers` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServer {
    #[schema(example = "VPS-Asia-1")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: String,
    #[schema(value_type = String, example = "192.168.1.10")]
    pub ip_address: IpAddr,
    /// Where management reaches the worker; defaults to `http://<ip_address>:8081`.
    pub api_url: Option<String>,
    #[schema(example = 100)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub max_capacity: Option<i32>,
    #[schema(minimum = 1, maximum = 4096)]
    pub cpu_cores: i32,
    #[schema(minimum = 1, maximum = 1048576)]
    pub ram_gb: i32,
    #[schema(minimum = 1, maximum = 1048576)]
    pub disk_gb: Option<i32>,
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub region: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub datacenter: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub provider: Option<String>,
    #[schema(minimum = 0, maximum = 99999999.99, value_type = Option<f64>, example = 40.00)]
    pub cost_per_month: Option<rust_decimal::Decimal>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// A server just added, with its key shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedServer {
    #[serde(flatten)]
    pub server: Server,
    /// `ak_server_…`: give it to the worker as `WASP_SERVER_KEY`. Shown only now.
    pub api_key: String,
}

/// Add a server; its key is shown once.
#[utoipa::path(post, path = "/api/admin/servers", tag = "servers", request_body = CreateServer,
    responses((status = 201, body = Envelope<CreatedServer>), (status = 400), (status = 403), (status = 409)))]
pub async fn create_server(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Json(req): Json<CreateServer>,
) -> Result<impl IntoResponse> {
    admin.require(Role::Admin)?;
    check_text("name", &req.name, 100)?;
    check_range("max_capacity", req.max_capacity, 1, 1_000_000)?;
    check_range("cpu_cores", Some(req.cpu_cores), 1, 4096)?;
    check_range("ram_gb", Some(req.ram_gb), 1, 1_048_576)?;
    check_range("disk_gb", req.disk_gb, 1, 1_048_576)?;
    check_opt_text("region", &req.region, 50)?;
    check_opt_text("datacenter", &req.datacenter, 100)?;
    check_opt_text("provider", &req.provider, 50)?;
    check_metadata(&req.metadata)?;
    check_cost(req.cost_per_month)?;
    let api_url = match &req.api_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => match req.ip_address {
            IpAddr::V4(ip) => format!("http://{ip}:8081"),
            IpAddr::V6(ip) => format!("http://[{ip}]:8081"),
        },
    };
    check_url("api_url", &api_url)?;
    let key = SecretKey::generate(KeyKind::Server);
    let id = Uuid::now_v7();
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO servers (id, name, ip_address, api_url, api_key_hash, api_key_hint, max_capacity, \
         cpu_cores, ram_gb, disk_gb, region, datacenter, provider, cost_per_month, metadata, status, \
         health_status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'initializing', 'unknown', $16, $16) \
         RETURNING {SERVER_COLUMNS}"
    );
    let mut tx = state.db.begin().await?;
    let row = on_tx!(&mut tx, |conn| sqlx::query_as::<_, ServerRow>(&sql)
        .bind(id)
        .bind(req.name.trim())
        .bind(Inet(req.ip_address))
        .bind(&api_url)
        .bind(key.digest(&state.secrets.key_pepper))
        .bind(key.hint())
        .bind(req.max_capacity.unwrap_or(100))
        .bind(req.cpu_cores)
        .bind(req.ram_gb)
        .bind(req.disk_gb)
        .bind(&req.region)
        .bind(&req.datacenter)
        .bind(&req.provider)
        .bind(req.cost_per_month.map(Dec))
        .bind(req.metadata.clone().map(sqlx::types::Json))
        .bind(now)
        .fetch_one(&mut *conn)
        .await)
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::conflict(code::CONFLICT, "a server with this name already exists")
        } else {
            e.into()
        }
    })?;
    AuditEvent::admin_action(&admin, "create_server", &meta)
        .resource("server", id)
        .metadata(serde_json::json!({ "name": row.name, "max_capacity": row.max_capacity, "region": row.region }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(created(CreatedServer {
        server: row.into_api(&state),
        api_key: key.expose().to_owned(),
    }))
}

/// Filters of `GET /api/admin/servers`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ServerFilters {
    pub status: Option<String>,
    pub health_status: Option<String>,
    pub region: Option<String>,
    /// Page number, from 1.
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    #[param(minimum = 1, maximum = 2147483647, format = Int32)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[serde(default, deserialize_with = "crate::pagination::per_page")]
    #[param(minimum = 1, maximum = 100, format = Int32)]
    pub per_page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ServerList {
    pub success: bool,
    pub data: Vec<Server>,
    pub meta: crate::pagination::PageMeta,
}

/// List servers with utilisation and connectivity.
#[utoipa::path(get, path = "/api/admin/servers", tag = "servers", params(ServerFilters),
    responses((status = 200, body = ServerList), (status = 401)))]
pub async fn list_servers(
    State(state): State<AppState>,
    admin: AdminAuth,
    Query(f): Query<ServerFilters>,
) -> Result<AxumJson<Envelope<Vec<Server>>>> {
    admin.require(Role::Viewer)?;
    let mut filters = Filters::default();
    filters.push_raw("deleted_at IS NULL");
    if let Some(v) = &f.status {
        filters.push("status = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = &f.health_status {
        filters.push("health_status = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = &f.region {
        filters.push("region = {}", Arg::Text(v.clone()));
    }
    let page = PageParams {
        page: f.page,
        per_page: f.per_page,
    };
    let where_sql = filters.where_sql();
    let n = filters.next_index();
    let list_sql = format!(
        "SELECT {SERVER_COLUMNS} FROM servers{where_sql} ORDER BY name LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let count_sql = format!("SELECT COUNT(*) FROM servers{where_sql}");
    let (rows, total) = on_pool!(&state.db, |pool| {
        let rows = bind_args!(sqlx::query_as::<_, ServerRow>(&list_sql), filters.args)
            .bind(i64::from(page.per_page()))
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
        let total: i64 = bind_args!(sqlx::query_scalar(&count_sql), filters.args)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    })?;
    let mut body = ok(rows
        .into_iter()
        .map(|r| r.into_api(&state))
        .collect::<Vec<_>>());
    body.0.meta = Some(page.meta(total));
    Ok(body)
}

/// One server.
#[utoipa::path(get, path = "/api/admin/servers/{id}", tag = "servers", params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<Server>), (status = 404)))]
pub async fn get_server(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Server>>> {
    admin.require(Role::Viewer)?;
    Ok(ok(get_row(&state.db, id).await?.into_api(&state)))
}

/// `PUT /api/admin/servers/{id}` body: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServer {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub ip_address: Option<IpAddr>,
    pub api_url: Option<String>,
    #[schema(minimum = 1, maximum = 1000000)]
    pub max_capacity: Option<i32>,
    #[schema(minimum = 1, maximum = 4096)]
    pub cpu_cores: Option<i32>,
    #[schema(minimum = 1, maximum = 1048576)]
    pub ram_gb: Option<i32>,
    #[schema(minimum = 1, maximum = 1048576)]
    pub disk_gb: Option<i32>,
    /// active, inactive, maintenance or draining
    pub status: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub region: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub datacenter: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub provider: Option<String>,
    #[schema(minimum = 0, maximum = 99999999.99, value_type = Option<f64>)]
    pub cost_per_month: Option<rust_decimal::Decimal>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Update a server.
#[utoipa::path(put, path = "/api/admin/servers/{id}", tag = "servers", params(("id" = Uuid, Path)), request_body = UpdateServer,
    responses((status = 200, body = Envelope<Server>), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn update_server(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateServer>,
) -> Result<AxumJson<Envelope<Server>>> {
    admin.require(Role::Admin)?;
    check_opt_text("name", &req.name, 100)?;
    if let Some(url) = &req.api_url {
        check_url("api_url", url)?;
    }
    check_range("max_capacity", req.max_capacity, 1, 1_000_000)?;
    check_range("cpu_cores", req.cpu_cores, 1, 4096)?;
    check_range("ram_gb", req.ram_gb, 1, 1_048_576)?;
    check_range("disk_gb", req.disk_gb, 1, 1_048_576)?;
    check_opt_text("region", &req.region, 50)?;
    check_opt_text("datacenter", &req.datacenter, 100)?;
    check_opt_text("provider", &req.provider, 50)?;
    check_metadata(&req.metadata)?;
    check_cost(req.cost_per_month)?;
    if let Some(status) = &req.status {
        if !SETTABLE_STATUSES.contains(&status.as_str()) {
            return Err(Error::validation(
                "status",
                format!("must be one of {}", SETTABLE_STATUSES.join(", ")),
            ));
        }
    }
    get_row(&state.db, id).await?;
    let sql = "UPDATE servers SET name = COALESCE($1, name), ip_address = COALESCE($2, ip_address), \
               api_url = COALESCE($3, api_url), max_capacity = COALESCE($4, max_capacity), \
               cpu_cores = COALESCE($5, cpu_cores), ram_gb = COALESCE($6, ram_gb), disk_gb = COALESCE($7, disk_gb), \
               status = COALESCE($8, status), region = COALESCE($9, region), datacenter = COALESCE($10, datacenter), \
               provider = COALESCE($11, provider), cost_per_month = COALESCE($12, cost_per_month), \
               metadata = COALESCE($13, metadata), updated_at = $14 WHERE id = $15 AND deleted_at IS NULL";
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(sql)
        .bind(req.name.as_deref().map(str::trim))
        .bind(req.ip_address.map(Inet))
        .bind(req.api_url.as_deref().map(|u| u.trim_end_matches('/')))
        .bind(req.max_capacity)
        .bind(req.cpu_cores)
        .bind(req.ram_gb)
        .bind(req.disk_gb)
        .bind(&req.status)
        .bind(&req.region)
        .bind(&req.datacenter)
        .bind(&req.provider)
        .bind(req.cost_per_month.map(Dec))
        .bind(req.metadata.clone().map(sqlx::types::Json))
        .bind(Utc::now())
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::conflict(code::CONFLICT, "a server with this name already exists")
        } else {
            e.into()
        }
    })?;
    AuditEvent::admin_action(&admin, "update_server", &meta)
        .resource("server", id)
        .metadata(serde_json::json!({ "status": req.status, "max_capacity": req.max_capacity, "name": req.name }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::All)
        .await;
    Ok(ok(get_row(&state.db, id).await?.into_api(&state)))
}

/// Remove a server (soft delete). Refused while customers are assigned to it.
#[utoipa::path(delete, path = "/api/admin/servers/{id}", tag = "servers", params(("id" = Uuid, Path)),
    responses((status = 200), (status = 403), (status = 404), (status = 409, description = "SERVER_NOT_EMPTY")))]
pub async fn delete_server(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Value>>> {
    admin.require(Role::Admin)?;
    let row = get_row(&state.db, id).await?;
    let mut tx = state.db.begin().await?;
    let load = refresh_load(&mut tx, id).await?;
    if load > 0 {
        return Err(Error::conflict(
            code::SERVER_NOT_EMPTY,
            format!(
                "server `{}` still has {load} customer(s); reassign them or drain the server first",
                row.name
            ),
        ));
    }
    let now = Utc::now();
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE servers SET deleted_at = $1, status = 'inactive', updated_at = $1 WHERE id = $2"
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    AuditEvent::admin_action(&admin, "delete_server", &meta)
        .resource("server", id)
        .metadata(serde_json::json!({ "name": row.name }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::All)
        .await;
    Ok(ok(serde_json::json!({ "id": id, "deleted": true })))
}
