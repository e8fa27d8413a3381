//! The fleet's metrics over time, for the admin panel's charts:
//! `GET /api/admin/metrics/global` and `GET /api/admin/metrics/servers/{id}`.
//!
//! Workers report a heartbeat every few seconds ([`crate::servers::internal::heartbeat`]); each is
//! kept raw for a short while (the server page's latest figures) and folded, as it arrives,
//! into per-minute and per-hour buckets of `server_metrics_rollup` (migration 0016). A chart
//! reads the buckets of its period: a day is 1,440 minute buckets a server, a month 720 hour
//! buckets, whatever the heartbeat rate. Housekeeping drops raw heartbeats and minute buckets
//! after [`Retention::raw_hours`] and hour buckets after [`Retention::hourly_days`].

use crate::{
    auth::{AdminAuth, Role},
    db::{Db, Dec, Tx},
    error::{ok, Envelope, Path, Query},
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{extract::State, Json as AxumJson};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wasp_protocol::registry::Heartbeat;

/// Minute buckets.
const MINUTE: i64 = 60;
/// Hour buckets.
const HOUR: i64 = 3_600;

pub use crate::config::Retention;

/// The latest heartbeat metrics of a server.
#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow, Default, Clone)]
pub struct ServerMetrics {
    #[schema(value_type = Option<f64>)]
    pub cpu_usage: Option<Dec>,
    #[schema(value_type = Option<f64>)]
    pub ram_usage: Option<Dec>,
    #[schema(value_type = Option<f64>)]
    pub disk_usage: Option<Dec>,
    #[schema(value_type = Option<f64>)]
    pub network_in_mbps: Option<Dec>,
    #[schema(value_type = Option<f64>)]
    pub network_out_mbps: Option<Dec>,
    pub active_connections: Option<i32>,
    pub total_instances: Option<i32>,
    pub messages_per_minute: Option<i32>,
    pub errors_per_minute: Option<i32>,
    pub avg_response_time_ms: Option<i32>,
    pub p95_response_time_ms: Option<i32>,
    pub p99_response_time_ms: Option<i32>,
    #[serde(default)]
    pub recorded_at: Option<DateTime<Utc>>,
}

impl ServerMetrics {
    /// Converts a worker's report, refusing values outside their ranges.
    pub fn from_report(r: &Heartbeat) -> Result<ServerMetrics> {
        let pct = |field: &str, v: Option<f64>| -> Result<Option<Dec>> {
            match v {
                None => Ok(None),
                Some(v) if v.is_finite() && (0.0..=100.0).contains(&v) => {
                    Ok(rust_decimal::Decimal::from_f64_retain(v).map(|d| Dec(d.round_dp(2))))
                }
                Some(_) => Err(Error::validation(
                    field,
                    "must be a percentage between 0 and 100",
                )),
            }
        };
        let rate = |field: &str, v: Option<f64>| -> Result<Option<Dec>> {
            match v {
                None => Ok(None),
                Some(v) if v.is_finite() && (0.0..1e8).contains(&v) => {
                    Ok(rust_decimal::Decimal::from_f64_retain(v).map(|d| Dec(d.round_dp(2))))
                }
                Some(_) => Err(Error::validation(field, "must be between 0 and 100000000")),
            }
        };
        Ok(ServerMetrics {
            cpu_usage: pct("cpu_usage", r.cpu_usage)?,
            ram_usage: pct("ram_usage", r.ram_usage)?,
            disk_usage: pct("disk_usage", r.disk_usage)?,
            network_in_mbps: rate("network_in_mbps", r.network_in_mbps)?,
            network_out_mbps: rate("network_out_mbps", r.network_out_mbps)?,
            active_connections: r.active_connections,
            total_instances: r.total_instances,
            messages_per_minute: r.messages_per_minute,
            errors_per_minute: r.errors_per_minute,
            avg_response_time_ms: r.avg_response_time_ms,
            p95_response_time_ms: r.p95_response_time_ms,
            p99_response_time_ms: r.p99_response_time_ms,
            recorded_at: None,
        })
    }
}

/// 404 unless `id` is a server that is not deleted.
async fn check_server(db: &Db, id: Uuid) -> Result<()> {
    let found: Option<Uuid> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM servers WHERE id = $1 AND deleted_at IS NULL"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    found.map(|_| ()).ok_or_else(|| Error::not_found("server"))
}

/// The period a chart covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum Range {
    #[serde(rename = "1h")]
    Hour,
    #[default]
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

impl Range {
    fn length(self) -> i64 {
        match self {
            Range::Hour => HOUR,
            Range::Day => 24 * HOUR,
            Range::Week => 7 * 24 * HOUR,
            Range::Month => 30 * 24 * HOUR,
        }
    }

    /// The stored resolution read, and the width of the buckets answered (at most a few
    /// hundred points a chart).
    fn buckets(self) -> (i64, i64) {
        match self {
            Range::Hour => (MINUTE, MINUTE),
            Range::Day => (MINUTE, 5 * MINUTE),
            Range::Week => (HOUR, HOUR),
            Range::Month => (HOUR, 3 * HOUR),
        }
    }
}

/// The period asked for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// `1h`, `24h` (default), `7d` or `30d`, ending now.
    #[param(inline)]
    pub range: Option<Range>,
}

/// What one heartbeat adds to its buckets.
struct Sample {
    cpu: Option<f64>,
    ram: Option<f64>,
    disk: Option<f64>,
    sessions: Option<f64>,
    connections: Option<f64>,
    messages: Option<f64>,
    errors: Option<f64>,
    response: Option<f64>,
    p95: Option<f64>,
    net_in: Option<f64>,
    net_out: Option<f64>,
}

impl Sample {
    fn of(m: &ServerMetrics) -> Sample {
        let dec = |d: &Option<crate::db::Dec>| {
            d.and_then(|d| rust_decimal::prelude::ToPrimitive::to_f64(&d.0))
        };
        let int = |v: Option<i32>| v.map(f64::from);
        Sample {
            cpu: dec(&m.cpu_usage),
            ram: dec(&m.ram_usage),
            disk: dec(&m.disk_usage),
            sessions: int(m.total_instances),
            connections: int(m.active_connections),
            messages: int(m.messages_per_minute),
            errors: int(m.errors_per_minute),
            response: int(m.avg_response_time_ms),
            p95: int(m.p95_response_time_ms),
            net_in: dec(&m.network_in_mbps),
            net_out: dec(&m.network_out_mbps),
        }
    }
}

/// `x = x + excluded.x` for a sum or a count, the larger for a maximum.
const ROLLUP_UPSERT: &str = "INSERT INTO server_metrics_rollup (server_id, resolution, bucket, samples, \
    cpu_sum, cpu_n, cpu_max, ram_sum, ram_n, ram_max, disk_sum, disk_n, sessions_sum, sessions_n, \
    connections_sum, connections_n, messages_sum, messages_n, errors_sum, errors_n, response_sum, response_n, \
    p95_sum, p95_n, p95_max, net_in_sum, net_in_n, net_out_sum, net_out_n) \
    VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
    $22, $23, $24, $25, $26, $27, $28) \
    ON CONFLICT (server_id, resolution, bucket) DO UPDATE SET samples = server_metrics_rollup.samples + 1, \
    cpu_sum = server_metrics_rollup.cpu_sum + excluded.cpu_sum, cpu_n = server_metrics_rollup.cpu_n + excluded.cpu_n, \
    cpu_max = CASE WHEN server_metrics_rollup.cpu_max IS NULL OR excluded.cpu_max > server_metrics_rollup.cpu_max \
        THEN excluded.cpu_max ELSE server_metrics_rollup.cpu_max END, \
    ram_sum = server_metrics_rollup.ram_sum + excluded.ram_sum, ram_n = server_metrics_rollup.ram_n + excluded.ram_n, \
    ram_max = CASE WHEN server_metrics_rollup.ram_max IS NULL OR excluded.ram_max > server_metrics_rollup.ram_max \
        THEN excluded.ram_max ELSE server_metrics_rollup.ram_max END, \
    disk_sum = server_metrics_rollup.disk_sum + excluded.disk_sum, disk_n = server_metrics_rollup.disk_n + excluded.disk_n, \
    sessions_sum = server_metrics_rollup.sessions_sum + excluded.sessions_sum, \
    sessions_n = server_metrics_rollup.sessions_n + excluded.sessions_n, \
    connections_sum = server_metrics_rollup.connections_sum + excluded.connections_sum, \
    connections_n = server_metrics_rollup.connections_n + excluded.connections_n, \
    messages_sum = server_metrics_rollup.messages_sum + excluded.messages_sum, \
    messages_n = server_metrics_rollup.messages_n + excluded.messages_n, \
    errors_sum = server_metrics_rollup.errors_sum + excluded.errors_sum, \
    errors_n = server_metrics_rollup.errors_n + excluded.errors_n, \
    response_sum = server_metrics_rollup.response_sum + excluded.response_sum, \
    response_n = server_metrics_rollup.response_n + excluded.response_n, \
    p95_sum = server_metrics_rollup.p95_sum + excluded.p95_sum, p95_n = server_metrics_rollup.p95_n + excluded.p95_n, \
    p95_max = CASE WHEN server_metrics_rollup.p95_max IS NULL OR excluded.p95_max > server_metrics_rollup.p95_max \
        THEN excluded.p95_max ELSE server_metrics_rollup.p95_max END, \
    net_in_sum = server_metrics_rollup.net_in_sum + excluded.net_in_sum, \
    net_in_n = server_metrics_rollup.net_in_n + excluded.net_in_n, \
    net_out_sum = server_metrics_rollup.net_out_sum + excluded.net_out_sum, \
    net_out_n = server_metrics_rollup.net_out_n + excluded.net_out_n";

/// Folds one heartbeat into its minute and hour buckets, in the heartbeat's transaction.
pub async fn record(tx: &mut Tx, server: Uuid, m: &ServerMetrics, at: DateTime<Utc>) -> Result<()> {
    let s = Sample::of(m);
    let sum = |v: Option<f64>| v.unwrap_or(0.0);
    let n = |v: Option<f64>| i32::from(v.is_some());
    for resolution in [MINUTE, HOUR] {
        let bucket = at.timestamp().div_euclid(resolution) * resolution;
        on_tx!(&mut *tx, |conn| {
            sqlx::query(ROLLUP_UPSERT)
                .bind(server)
                .bind(resolution as i32)
                .bind(bucket)
                .bind(sum(s.cpu))
                .bind(n(s.cpu))
                .bind(s.cpu)
                .bind(sum(s.ram))
                .bind(n(s.ram))
                .bind(s.ram)
                .bind(sum(s.disk))
                .bind(n(s.disk))
                .bind(sum(s.sessions))
                .bind(n(s.sessions))
                .bind(sum(s.connections))
                .bind(n(s.connections))
                .bind(sum(s.messages))
                .bind(n(s.messages))
                .bind(sum(s.errors))
                .bind(n(s.errors))
                .bind(sum(s.response))
                .bind(n(s.response))
                .bind(sum(s.p95))
                .bind(n(s.p95))
                .bind(s.p95)
                .bind(sum(s.net_in))
                .bind(n(s.net_in))
                .bind(sum(s.net_out))
                .bind(n(s.net_out))
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
    }
    Ok(())
}

/// Drops what is past its retention; answers how many rows went.
pub async fn purge(db: &Db, retention: Retention, now: DateTime<Utc>) -> Result<u64> {
    let raw_cutoff = now - Duration::hours(i64::from(retention.raw_hours.max(1)));
    let hourly_cutoff = now - Duration::days(i64::from(retention.hourly_days.max(1)));
    let mut tx = db.begin().await?;
    let removed = on_tx!(&mut tx, |pool| {
        let raw = sqlx::query("DELETE FROM server_metrics WHERE recorded_at < $1")
            .bind(raw_cutoff)
            .execute(&mut *pool)
            .await?
            .rows_affected();
        let minutes =
            sqlx::query("DELETE FROM server_metrics_rollup WHERE resolution = $1 AND bucket < $2")
                .bind(MINUTE as i32)
                .bind(raw_cutoff.timestamp())
                .execute(&mut *pool)
                .await?
                .rows_affected();
        let hours =
            sqlx::query("DELETE FROM server_metrics_rollup WHERE resolution = $1 AND bucket < $2")
                .bind(HOUR as i32)
                .bind(hourly_cutoff.timestamp())
                .execute(&mut *pool)
                .await?
                .rows_affected();
        raw + minutes + hours
    });
    tx.commit().await?;
    Ok(removed)
}

/// One bucket of one server's chart. A metric no heartbeat of the bucket reported is null.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ServerPoint {
    /// The bucket's start.
    #[sqlx(skip)]
    pub at: DateTime<Utc>,
    #[serde(skip)]
    #[schema(ignore)]
    pub bucket: i64,
    /// Heartbeats in the bucket.
    pub samples: i64,
    /// CPU use, % (average and highest heartbeat).
    pub cpu_avg: Option<f64>,
    pub cpu_max: Option<f64>,
    /// Memory use, %.
    pub ram_avg: Option<f64>,
    pub ram_max: Option<f64>,
    /// Disk use, %.
    pub disk_avg: Option<f64>,
    /// WhatsApp sessions held (average).
    pub sessions: Option<f64>,
    /// Connected sessions (average).
    pub connections: Option<f64>,
    /// Messages a minute (average).
    pub messages_per_minute: Option<f64>,
    /// Errors a minute (average).
    pub errors_per_minute: Option<f64>,
    /// Average response time, ms.
    pub avg_response_ms: Option<f64>,
    /// 95th percentile response time, ms (average of the heartbeats').
    pub p95_ms: Option<f64>,
    pub net_in_mbps: Option<f64>,
    pub net_out_mbps: Option<f64>,
}

/// `GET /api/admin/metrics/servers/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerSeries {
    pub server_id: Uuid,
    pub range: Range,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Width of each point's bucket, seconds.
    pub bucket_secs: i64,
    /// Buckets with at least one heartbeat, oldest first.
    pub points: Vec<ServerPoint>,
}

/// `CASE WHEN SUM(x_n) > 0 THEN SUM(x_sum) / SUM(x_n) END`: the average over the heartbeats
/// that reported it.
fn avg(metric: &str, alias: &str) -> String {
    format!("CASE WHEN SUM({metric}_n) > 0 THEN SUM({metric}_sum) / SUM({metric}_n) END AS {alias}")
}

fn server_points_sql() -> String {
    format!(
        "SELECT (bucket / $1) * $1 AS bucket, CAST(SUM(samples) AS BIGINT) AS samples, {}, MAX(cpu_max) AS cpu_max, \
         {}, MAX(ram_max) AS ram_max, {}, {}, {}, {}, {}, {}, {}, {}, {} \
         FROM server_metrics_rollup WHERE server_id = $2 AND resolution = $3 AND bucket >= $4 AND bucket < $5 \
         GROUP BY 1 ORDER BY 1",
        avg("cpu", "cpu_avg"),
        avg("ram", "ram_avg"),
        avg("disk", "disk_avg"),
        avg("sessions", "sessions"),
        avg("connections", "connections"),
        avg("messages", "messages_per_minute"),
        avg("errors", "errors_per_minute"),
        avg("response", "avg_response_ms"),
        avg("p95", "p95_ms"),
        avg("net_in", "net_in_mbps"),
        avg("net_out", "net_out_mbps"),
    )
}

/// The period's bounds: `to` is now, `from` a whole number of buckets before the end of the
/// current bucket.
fn bounds(range: Range, now: DateTime<Utc>) -> (i64, i64, i64, i64) {
    let (resolution, width) = range.buckets();
    let end = (now.timestamp().div_euclid(width) + 1) * width;
    (resolution, width, end - range.length(), end)
}

fn time(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// One server's metrics over a period.
pub async fn server_series(
    db: &Db,
    id: Uuid,
    range: Range,
    now: DateTime<Utc>,
) -> Result<ServerSeries> {
    let (resolution, width, start, end) = bounds(range, now);
    let sql = server_points_sql();
    let mut points: Vec<ServerPoint> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(width)
        .bind(id)
        .bind(resolution as i32)
        .bind(start)
        .bind(end)
        .fetch_all(pool)
        .await)?;
    for p in &mut points {
        p.at = time(p.bucket);
    }
    Ok(ServerSeries {
        server_id: id,
        range,
        from: time(start),
        to: now,
        bucket_secs: width,
        points,
    })
}

/// A server's CPU, memory, disk, sessions, messages, errors and response times over time,
/// from its heartbeats.
#[utoipa::path(get, path = "/api/admin/metrics/servers/{id}", tag = "metrics",
    params(("id" = Uuid, Path), RangeQuery),
    responses((status = 200, body = Envelope<ServerSeries>), (status = 404)))]
pub async fn server_metrics(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<Uuid>,
    Query(q): Query<RangeQuery>,
) -> Result<AxumJson<Envelope<ServerSeries>>> {
    admin.require(Role::Viewer)?;
    check_server(&state.db, id).await?;
    Ok(ok(server_series(
        &state.db,
        id,
        q.range.unwrap_or_default(),
        Utc::now(),
    )
    .await?))
}

/// One bucket of the fleet's chart: each server's average over the bucket, added up
/// (averaged for percentages, the highest for p95).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FleetPoint {
    #[sqlx(skip)]
    pub at: DateTime<Utc>,
    #[serde(skip)]
    #[schema(ignore)]
    pub bucket: i64,
    /// Servers that sent a heartbeat in the bucket.
    pub servers_reporting: i64,
    /// WhatsApp sessions held on the fleet.
    pub sessions: Option<f64>,
    /// Connected sessions.
    pub connections: Option<f64>,
    pub messages_per_minute: Option<f64>,
    pub errors_per_minute: Option<f64>,
    /// Average CPU use of the reporting servers, %.
    pub cpu_avg: Option<f64>,
    /// Average memory use, %.
    pub ram_avg: Option<f64>,
    /// The highest server p95 response time, ms.
    pub p95_ms: Option<f64>,
}

/// `server_id IN (…)` makes SQLite read one primary-key range a server instead of the time
/// index with a primary-key search per row (156 ms → 10 ms over a day's 28,800 buckets,
/// bench/admin).
fn fleet_points_sql() -> String {
    format!(
        "SELECT bucket, COUNT(*) AS servers_reporting, SUM(sessions) AS sessions, SUM(connections) AS connections, \
         SUM(messages_per_minute) AS messages_per_minute, SUM(errors_per_minute) AS errors_per_minute, \
         AVG(cpu_avg) AS cpu_avg, AVG(ram_avg) AS ram_avg, MAX(p95_ms) AS p95_ms FROM (\
         SELECT server_id, (bucket / $1) * $1 AS bucket, {}, {}, {}, {}, {}, {}, {} \
         FROM server_metrics_rollup WHERE server_id IN (SELECT id FROM servers) AND resolution = $2 \
         AND bucket >= $3 AND bucket < $4 GROUP BY 1, 2\
         ) per_server GROUP BY bucket ORDER BY bucket",
        avg("sessions", "sessions"),
        avg("connections", "connections"),
        avg("messages", "messages_per_minute"),
        avg("errors", "errors_per_minute"),
        avg("cpu", "cpu_avg"),
        avg("ram", "ram_avg"),
        avg("p95", "p95_ms"),
    )
}

/// Counts of customers.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CustomerCounts {
    /// Customers not deleted.
    pub total: i64,
    pub active: i64,
    pub suspended: i64,
    /// Customers (not deleted) by plan.
    pub by_plan: BTreeMap<String, i64>,
    /// Customers (not deleted) by the state of their live WhatsApp session: disconnected,
    /// scanning, pairing, connected, logged_out.
    pub by_whatsapp_status: BTreeMap<String, i64>,
}

/// Counts of servers.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ServerCounts {
    /// Servers not removed.
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_health: BTreeMap<String, i64>,
}

/// Usage of every customer on one UTC day.
#[derive(Debug, Default, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DayTotals {
    pub date: NaiveDate,
    pub api_requests: i64,
    pub messages_sent: i64,
    pub messages_received: i64,
}

/// `GET /api/admin/metrics/global`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlobalMetrics {
    pub range: Range,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Width of each point's bucket, seconds.
    pub bucket_secs: i64,
    pub customers: CustomerCounts,
    pub servers: ServerCounts,
    /// Today's usage so far (UTC).
    pub today: DayTotals,
    /// Alerts neither resolved nor acknowledged.
    pub open_alerts: i64,
    /// The fleet's buckets with at least one heartbeat, oldest first.
    pub points: Vec<FleetPoint>,
    /// Usage per UTC day over the period, oldest first (days without use left out).
    pub daily: Vec<DayTotals>,
}

/// `(key, count)` rows into a map.
async fn counts(db: &Db, sql: &str) -> Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().collect())
}

/// The fleet's metrics, counts of customers and servers, and usage over a period.
pub async fn global(db: &Db, range: Range, now: DateTime<Utc>) -> Result<GlobalMetrics> {
    let (resolution, width, start, end) = bounds(range, now);
    let sql = fleet_points_sql();
    let mut points: Vec<FleetPoint> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(width)
        .bind(resolution as i32)
        .bind(start)
        .bind(end)
        .fetch_all(pool)
        .await)?;
    for p in &mut points {
        p.at = time(p.bucket);
    }
    let customers = customer_counts(db).await?;
    let servers = server_counts(db).await?;
    let today = now.date_naive();
    let first_day = time(start).date_naive();
    let daily: Vec<DayTotals> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT date, CAST(SUM(api_requests) AS BIGINT) AS api_requests, \
         CAST(SUM(messages_sent) AS BIGINT) AS messages_sent, \
         CAST(SUM(messages_received) AS BIGINT) AS messages_received \
         FROM customer_usage WHERE date >= $1 AND date <= $2 GROUP BY date ORDER BY date"
    )
    .bind(first_day)
    .bind(today)
    .fetch_all(pool)
    .await)?;
    let today_totals = daily
        .iter()
        .find(|d| d.date == today)
        .cloned()
        .unwrap_or(DayTotals {
            date: today,
            ..Default::default()
        });
    let open_alerts: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM alerts WHERE status = 'open'"
    )
    .fetch_one(pool)
    .await)?;
    Ok(GlobalMetrics {
        range,
        from: time(start),
        to: now,
        bucket_secs: width,
        customers,
        servers,
        today: today_totals,
        open_alerts,
        points,
        daily,
    })
}

/// Customers (not deleted) by status, plan and WhatsApp state.
async fn customer_counts(db: &Db) -> Result<CustomerCounts> {
    let by_status = counts(
        db,
        "SELECT status, COUNT(*) FROM customers WHERE deleted_at IS NULL GROUP BY status",
    )
    .await?;
    Ok(CustomerCounts {
        total: by_status.values().sum(),
        active: by_status.get("active").copied().unwrap_or(0),
        suspended: by_status.get("suspended").copied().unwrap_or(0),
        by_plan: counts(
            db,
            "SELECT plan, COUNT(*) FROM customers WHERE deleted_at IS NULL GROUP BY plan",
        )
        .await?,
        by_whatsapp_status: counts(
            db,
            "SELECT whatsapp_status, COUNT(*) FROM customers WHERE deleted_at IS NULL GROUP BY whatsapp_status",
        )
        .await?,
    })
}

/// Servers (not deleted) by status and health.
async fn server_counts(db: &Db) -> Result<ServerCounts> {
    let by_status = counts(
        db,
        "SELECT status, COUNT(*) FROM servers WHERE deleted_at IS NULL GROUP BY status",
    )
    .await?;
    Ok(ServerCounts {
        total: by_status.values().sum(),
        by_status,
        by_health: counts(
            db,
            "SELECT health_status, COUNT(*) FROM servers WHERE deleted_at IS NULL GROUP BY health_status",
        )
        .await?,
    })
}

/// The fleet at a glance: customers by status, plan and WhatsApp state, servers by status
/// and health, today's usage, open alerts, and the fleet's sessions, messages, errors, CPU,
/// memory and p95 over time with usage per day.
#[utoipa::path(get, path = "/api/admin/metrics/global", tag = "metrics", params(RangeQuery),
    responses((status = 200, body = Envelope<GlobalMetrics>)))]
pub async fn global_metrics(
    State(state): State<AppState>,
    admin: AdminAuth,
    Query(q): Query<RangeQuery>,
) -> Result<AxumJson<Envelope<GlobalMetrics>>> {
    admin.require(Role::Viewer)?;
    crate::state::flush(&state).await;
    Ok(ok(global(
        &state.db,
        q.range.unwrap_or_default(),
        Utc::now(),
    )
    .await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_end_with_the_current_bucket_and_hold_a_few_hundred_points() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 7, 30).unwrap();
        for (range, points) in [
            (Range::Hour, 60),
            (Range::Day, 288),
            (Range::Week, 168),
            (Range::Month, 240),
        ] {
            let (_, width, start, end) = bounds(range, now);
            assert_eq!((end - start) / width, points, "{range:?}");
            assert!(end > now.timestamp() && end - width <= now.timestamp());
            assert_eq!(start % width, 0);
        }
    }

    #[test]
    fn ranges_are_named_as_the_api_documents_them() {
        let q: RangeQuery = serde_json::from_str(r#"{"range":"7d"}"#).unwrap();
        assert_eq!(q.range, Some(Range::Week));
        assert!(serde_json::from_str::<RangeQuery>(r#"{"range":"2d"}"#).is_err());
    }
}
