//! The audit log: every admin action, auth event and security event, written in
//! the same transaction as the change it records; append-only in the database. Reading it
//! is `audit_log.rs`.

use crate::{
    db::{Db, Inet, Tx},
    on_tx,
    request_meta::RequestMeta,
    Result,
};
use axum::http::Method;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::{collections::HashMap, sync::Arc};
use uuid::Uuid;

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub event_type: &'static str,
    pub severity: &'static str,
    pub actor_type: &'static str,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<String>,
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub metadata: Option<Value>,
    pub status: &'static str,
    pub error_message: Option<String>,
    pub duration_ms: Option<i32>,
    /// When it happened (rows written in batches keep the time of the event).
    pub timestamp: DateTime<Utc>,
}

impl AuditEvent {
    pub(crate) fn new(
        event_type: &'static str,
        actor_type: &'static str,
        action: &str,
        meta: &RequestMeta,
    ) -> Self {
        AuditEvent {
            event_type,
            severity: "info",
            actor_type,
            actor_id: None,
            action: action.to_owned(),
            resource_type: None,
            resource_id: None,
            ip: meta.ip,
            user_agent: meta.user_agent.as_deref().map(str::to_owned),
            request_id: meta.request_id.as_deref().map(str::to_owned),
            metadata: None,
            status: "success",
            error_message: None,
            duration_ms: Some(meta.elapsed_ms()),
            timestamp: Utc::now(),
        }
    }

    /// A login, logout or token event; `actor` is the operator when known.
    pub fn auth_event(actor: Option<Uuid>, action: &str, meta: &RequestMeta) -> Self {
        let mut event = AuditEvent::new(
            "auth_event",
            if actor.is_some() {
                "admin"
            } else {
                "anonymous"
            },
            action,
            meta,
        );
        event.actor_id = actor;
        event
    }

    /// A customer's sign-in, sign-out, password or token event; `customer` when known.
    pub fn customer_auth_event(customer: Option<Uuid>, action: &str, meta: &RequestMeta) -> Self {
        let mut event = AuditEvent::new(
            "auth_event",
            if customer.is_some() {
                "customer"
            } else {
                "anonymous"
            },
            action,
            meta,
        );
        event.actor_id = customer;
        event
    }

    /// Something that may be an attack: lockouts, bad server keys, refused credentials.
    pub fn security_event(
        actor_type: &'static str,
        actor: Option<Uuid>,
        action: &str,
        meta: &RequestMeta,
    ) -> Self {
        let mut event = AuditEvent::new("security_event", actor_type, action, meta);
        event.actor_id = actor;
        event.severity = "warning";
        event
    }

    /// An action by a customer through its API key.
    pub fn customer_action(customer_id: Uuid, action: &str, meta: &RequestMeta) -> Self {
        let mut event = AuditEvent::new("api_call", "customer", action, meta);
        event.actor_id = Some(customer_id);
        event
    }

    /// Work done by the platform itself or from the `wasp` command line.
    pub fn system(action: &str) -> Self {
        AuditEvent::new("system_event", "system", action, &RequestMeta::system())
    }

    pub fn resource(mut self, kind: &'static str, id: impl ToString) -> Self {
        // The audit viewer's queries rely on it (see `audit_log::excludes_api_calls`).
        debug_assert!(
            self.event_type != "api_call" || kind == "api_key",
            "an api_call row's resource is the key it was made with"
        );
        self.resource_type = Some(kind);
        self.resource_id = Some(id.to_string());
        self
    }

    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    pub fn failure(mut self, message: impl Into<String>) -> Self {
        self.status = "failure";
        self.error_message = Some(message.into());
        self
    }

    pub fn severity(mut self, severity: &'static str) -> Self {
        self.severity = severity;
        self
    }

    /// A customer API call: endpoint, status, latency, key, address, user agent
    /// and request id; never a body, a key or a query string.
    pub fn api_call(
        customer_id: Uuid,
        key_id: Uuid,
        endpoint: String,
        status: u16,
        meta: &RequestMeta,
    ) -> Self {
        let mut event = AuditEvent::new("api_call", "customer", &endpoint, meta);
        event.actor_id = Some(customer_id);
        event.resource_type = Some("api_key");
        event.resource_id = Some(key_id.to_string());
        event.metadata = Some(serde_json::json!({ "status_code": status }));
        if status >= 400 {
            event.status = "failure";
        }
        event
    }

    /// Writes the row inside the caller's transaction.
    pub async fn write(self, tx: &mut Tx) -> Result<()> {
        let sql = "INSERT INTO audit_logs (timestamp, event_type, severity, actor_type, actor_id, action, \
                   resource_type, resource_id, ip_address, user_agent, request_id, metadata, status, \
                   error_message, duration_ms) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
        let now = self.timestamp;
        let ip = self.ip.map(Inet);
        let metadata = self.metadata.map(sqlx::types::Json);
        on_tx!(tx, |conn| sqlx::query(sql)
            .bind(now)
            .bind(self.event_type)
            .bind(self.severity)
            .bind(self.actor_type)
            .bind(self.actor_id)
            .bind(&self.action)
            .bind(self.resource_type)
            .bind(&self.resource_id)
            .bind(ip)
            .bind(&self.user_agent)
            .bind(&self.request_id)
            .bind(&metadata)
            .bind(self.status)
            .bind(&self.error_message)
            .bind(self.duration_ms)
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Writes the row in a transaction of its own (for events with no other change, such as
    /// a failed login, which must be recorded although the request fails).
    pub async fn write_alone(self, db: &Db) -> Result<()> {
        let mut tx = db.begin().await?;
        self.write(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Audit rows recorded off the request path (customer API calls, refused keys, limits),
/// written in batches by the flusher and on graceful shutdown. A process that is killed
/// loses at most the last 100 ms of them; a full buffer drops rows (counted) rather than
/// slow the API down.
pub struct AuditWriter {
    pending: std::sync::Mutex<Pending>,
    /// The call buffer of the last flush, emptied, kept for the next one: at thousands of
    /// calls a second a fresh buffer each second costs more (growth copies, page faults)
    /// than the calls themselves.
    spare: std::sync::Mutex<Vec<ApiCall>>,
    /// `"{METHOD} {sanitised path}"` of recent calls, so a call to an endpoint seen before
    /// costs no sanitising, formatting or allocation (see [`AuditWriter::endpoint`]).
    endpoints: std::sync::RwLock<Endpoints>,
    /// Held through a flush: a flush asked for while another writes (the log listing making
    /// sure it is up to date) waits for it, rather than finding nothing pending and
    /// returning while the rows are still on their way.
    flushing: tokio::sync::Mutex<()>,
}

/// Path → the `action` text of each method seen on it.
type Endpoints = HashMap<Box<str>, Vec<(Method, Arc<str>)>>;

#[derive(Default)]
struct Pending {
    events: Vec<AuditEvent>,
    /// Customer API calls, the bulk of the rows, kept compact until they are written.
    calls: Vec<ApiCall>,
}

impl Pending {
    fn len(&self) -> usize {
        self.events.len() + self.calls.len()
    }
}

/// One customer API call's audit row: endpoint, status, latency, key, address,
/// user agent and request id; never a body, a key or a query string. Written as an
/// `api_call` row like [`AuditEvent::api_call`], without building one per call.
#[derive(Debug, Clone)]
pub struct ApiCall {
    pub timestamp: DateTime<Utc>,
    pub customer_id: Uuid,
    /// The key the call was made with; `None` for the dashboard's signed-in session (the
    /// row's `resource_id` is then empty and its metadata says `"via": "dashboard"`).
    pub key_id: Option<Uuid>,
    /// `"{METHOD} {sanitised path}"`, from [`AuditWriter::endpoint`].
    pub endpoint: Arc<str>,
    pub status: u16,
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<Arc<str>>,
    pub request_id: Option<Arc<str>>,
    pub duration_ms: i32,
}

impl ApiCall {
    pub fn new(
        customer_id: Uuid,
        key_id: Option<Uuid>,
        endpoint: Arc<str>,
        status: u16,
        meta: &RequestMeta,
    ) -> Self {
        ApiCall {
            timestamp: Utc::now(),
            customer_id,
            key_id,
            endpoint,
            status,
            ip: meta.ip,
            user_agent: meta.user_agent.clone(),
            request_id: meta.request_id.clone(),
            duration_ms: meta.elapsed_ms(),
        }
    }
}

/// API call rows on SQLite go in as multi-row `VALUES` statements of a few fixed sizes,
/// each prepared once per connection and reused: no JSON to build and parse again, no
/// statement text per flush. What every call row has in common is written in the SQL; the
/// status code gives the metadata and the outcome.
const CALL_ROW_SIZES: [usize; 8] = [128, 64, 32, 16, 8, 4, 2, 1];

/// The statement for `CALL_ROW_SIZES[which]` rows.
fn insert_calls_sqlite(which: usize) -> &'static str {
    static STATEMENTS: [std::sync::OnceLock<String>; CALL_ROW_SIZES.len()] =
        [const { std::sync::OnceLock::new() }; CALL_ROW_SIZES.len()];
    STATEMENTS[which].get_or_init(|| {
        let rows = CALL_ROW_SIZES[which];
        let mut sql = String::from(
            "INSERT INTO audit_logs (timestamp, event_type, severity, actor_type, actor_id, \
             action, resource_type, resource_id, ip_address, user_agent, request_id, metadata, \
             status, duration_ms) VALUES ",
        );
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            // Anonymous parameters: SQLite looks a named one up by a walk of all the names,
            // which over a thousand parameters costs more than the rows.
            sql.push_str(
                "(?, 'api_call', 'info', 'customer', ?, ?, 'api_key', ?, ?, ?, ?, \
                 '{\"status_code\":' || ? || ? || '}', \
                 CASE WHEN ? >= 400 THEN 'failure' ELSE 'success' END, ?)",
            );
        }
        sql
    })
}

/// The metadata of an `api_call` row.
#[derive(Serialize)]
struct CallMetadata {
    status_code: u16,
    /// `dashboard` for a call made with the dashboard's signed-in session (no key).
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'static str>,
}

/// What an `api_call` row's metadata adds after the status code (SQLite's statement builds
/// the JSON in SQL): the dashboard marker for a call made without a key.
fn via_suffix(key_id: Option<Uuid>) -> &'static str {
    match key_id {
        Some(_) => "",
        None => ",\"via\":\"dashboard\"",
    }
}

/// Rows kept waiting at most; beyond, rows are dropped and counted.
const MAX_PENDING: usize = 100_000;
/// Rows per INSERT statement (15 parameters each, under both databases' limits).
const ROWS_PER_STATEMENT: usize = 500;
/// API call rows per INSERT statement (10 parameters each).
const CALLS_PER_STATEMENT: usize = 1_000;
/// Distinct endpoints remembered; beyond, the memory starts over.
const MAX_ENDPOINTS: usize = 4_096;

impl Default for AuditWriter {
    fn default() -> Self {
        AuditWriter {
            pending: std::sync::Mutex::new(Pending::default()),
            spare: Default::default(),
            endpoints: Default::default(),
            flushing: Default::default(),
        }
    }
}

impl AuditWriter {
    /// Queues a row for the next flush.
    pub fn record(&self, event: AuditEvent) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() >= MAX_PENDING {
            metrics::counter!("wasp_audit_rows_dropped_total").increment(1);
            return;
        }
        pending.events.push(event);
    }

    /// Queues a customer API call's row for the next flush.
    pub fn record_call(&self, call: ApiCall) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() >= MAX_PENDING {
            drop(pending);
            metrics::counter!("wasp_audit_rows_dropped_total").increment(1);
            return;
        }
        pending.calls.push(call);
    }

    /// The `action` of an API call row: `"{METHOD} {path}"`, the path sanitised (no key,
    /// token or phone number reaches the log). Remembered per method and path.
    pub fn endpoint(&self, method: &Method, path: &str) -> Arc<str> {
        {
            let endpoints = self.endpoints.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = endpoints
                .get(path)
                .and_then(|by_method| by_method.iter().find(|(m, _)| m == method))
            {
                return found.1.clone();
            }
        }
        let endpoint: Arc<str> = Arc::from(format!(
            "{method} {}",
            wasp_http::sanitize::sanitize_path(path)
        ));
        let mut endpoints = self.endpoints.write().unwrap_or_else(|e| e.into_inner());
        if endpoints.len() >= MAX_ENDPOINTS {
            endpoints.clear();
        }
        endpoints
            .entry(Box::from(path))
            .or_default()
            .push((method.clone(), endpoint.clone()));
        endpoint
    }

    /// Writes every queued row, in one transaction. Rows that could not be written are
    /// queued again.
    pub async fn flush(&self, db: &Db) -> Result<usize> {
        let _one_at_a_time = self.flushing.lock().await;
        let spare = std::mem::take(&mut *self.spare.lock().unwrap_or_else(|e| e.into_inner()));
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            Pending {
                events: std::mem::take(&mut pending.events),
                calls: std::mem::replace(&mut pending.calls, spare),
            }
        };
        let n = batch.len();
        if n == 0 {
            *self.spare.lock().unwrap_or_else(|e| e.into_inner()) = batch.calls;
            return Ok(0);
        }
        match write_batch(db, &batch.events, &batch.calls).await {
            Ok(()) => {
                let mut calls = batch.calls;
                calls.clear();
                *self.spare.lock().unwrap_or_else(|e| e.into_inner()) = calls;
                Ok(n)
            }
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                let room = MAX_PENDING.saturating_sub(pending.len());
                let events_room = room.min(batch.events.len());
                pending
                    .events
                    .extend(batch.events.into_iter().take(events_room));
                pending
                    .calls
                    .extend(batch.calls.into_iter().take(room - events_room));
                Err(e)
            }
        }
    }
}

async fn write_batch(db: &Db, batch: &[AuditEvent], calls: &[ApiCall]) -> Result<()> {
    let mut tx = db.begin().await?;
    write_events(&mut tx, batch).await?;
    match &mut tx {
        Tx::Sqlite(conn) => write_calls_sqlite(conn, calls).await?,
        Tx::Postgres(conn) => write_calls_postgres(conn, calls).await?,
    }
    tx.commit().await?;
    Ok(())
}

/// Inserts audit rows, [`ROWS_PER_STATEMENT`] a statement.
async fn write_events(tx: &mut Tx, batch: &[AuditEvent]) -> Result<()> {
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        on_tx!(&mut *tx, |conn| {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO audit_logs (timestamp, event_type, severity, actor_type, actor_id, action, \
                 resource_type, resource_id, ip_address, user_agent, request_id, metadata, status, \
                 error_message, duration_ms) ",
            );
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(e.timestamp)
                    .push_bind(e.event_type)
                    .push_bind(e.severity)
                    .push_bind(e.actor_type)
                    .push_bind(e.actor_id)
                    .push_bind(e.action.clone())
                    .push_bind(e.resource_type)
                    .push_bind(e.resource_id.clone())
                    .push_bind(e.ip.map(Inet))
                    .push_bind(e.user_agent.clone())
                    .push_bind(e.request_id.clone())
                    .push_bind(e.metadata.clone().map(sqlx::types::Json))
                    .push_bind(e.status)
                    .push_bind(e.error_message.clone())
                    .push_bind(e.duration_ms);
            });
            insert
                .build()
                .execute(&mut *conn)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Inserts API call rows on SQLite, through the prepared statements of
/// [`CALL_ROW_SIZES`] rows.
async fn write_calls_sqlite(
    conn: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    calls: &[ApiCall],
) -> Result<()> {
    let mut rest = calls;
    for (which, rows) in CALL_ROW_SIZES.into_iter().enumerate() {
        while rest.len() >= rows {
            let (chunk, tail) = rest.split_at(rows);
            rest = tail;
            let mut insert = sqlx::query(insert_calls_sqlite(which));
            for c in chunk {
                insert = insert
                    .bind(c.timestamp)
                    .bind(c.customer_id)
                    .bind(&*c.endpoint)
                    .bind(c.key_id.map(|k| k.hyphenated().to_string()))
                    .bind(c.ip.map(Inet))
                    .bind(c.user_agent.as_deref())
                    .bind(c.request_id.as_deref())
                    .bind(c.status)
                    .bind(via_suffix(c.key_id))
                    .bind(c.status)
                    .bind(c.duration_ms);
            }
            insert.execute(&mut **conn).await?;
        }
    }
    Ok(())
}

/// Inserts API call rows on PostgreSQL, [`CALLS_PER_STATEMENT`] a statement.
async fn write_calls_postgres(
    conn: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    calls: &[ApiCall],
) -> Result<()> {
    for chunk in calls.chunks(CALLS_PER_STATEMENT) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO audit_logs (timestamp, event_type, severity, actor_type, actor_id, action, \
             resource_type, resource_id, ip_address, user_agent, request_id, metadata, status, \
             duration_ms) ",
        );
        // What every call row has in common is written in the statement, not bound.
        insert.push_values(chunk, |mut row, c| {
            row.push_bind(c.timestamp)
                .push("'api_call', 'info', 'customer'")
                .push_bind(c.customer_id)
                .push_bind(&*c.endpoint)
                .push("'api_key'")
                .push_bind(c.key_id.map(|k| k.hyphenated().to_string()))
                .push_bind(c.ip.map(Inet))
                .push_bind(c.user_agent.as_deref())
                .push_bind(c.request_id.as_deref())
                .push_bind(sqlx::types::Json(CallMetadata {
                    status_code: c.status,
                    via: c.key_id.is_none().then_some("dashboard"),
                }))
                .push(if c.status >= 400 {
                    "'failure'"
                } else {
                    "'success'"
                })
                .push_bind(c.duration_ms);
        });
        insert.build().execute(&mut **conn).await?;
    }
    Ok(())
}

/// Deletes rows older than `days` (at least 90), returning how many went. The database
/// refuses any other deletion.
pub async fn purge_older_than(db: &Db, days: u32) -> Result<u64> {
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(days.max(90)));
    let mut tx = db.begin().await?;
    let removed = on_tx!(&mut tx, |conn| {
        if matches!(db, Db::Postgres(_)) {
            sqlx::query("SET LOCAL wasp.audit_retention = 'on'")
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("DELETE FROM audit_logs WHERE timestamp < $1")
            .bind(cutoff)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    if removed > 0 {
        AuditEvent::system("audit_retention_purge")
            .metadata(serde_json::json!({ "removed": removed, "retention_days": days.max(90) }))
            .write(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(removed)
}
