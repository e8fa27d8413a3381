//! Webhooks: the customer's endpoints (`/api/v1/webhooks`, per session mode: endpoints made
//! with a test key get the sandbox's events) and the delivery of the events in the outbox
//! (`events.rs`) to them — signed per Standard Webhooks and with `X-Hub-Signature-256`,
//! at least once, retried on a schedule with jitter, logged attempt by attempt, through the
//! SSRF guard at every delivery.

use crate::{
    api::{db_error, Caller},
    apidoc::{doc, Api},
    events::{self, NewEvent},
    net,
    store::SessionKey,
    WorkerState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use base64::Engine;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use std::{
    collections::{hash_map::Entry, BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_http::error::{created, ok, Error, Json, Path, Query, Result};

/// Endpoints a customer may have per mode.
pub const MAX_ENDPOINTS: i64 = 10;
/// How long a rotated-out secret still signs.
pub const SECRET_OVERLAP: ChronoDuration = ChronoDuration::hours(24);
/// Retry delays at the default backoff (1000 ms), after attempt 1, 2, …; later attempts use
/// the last. An endpoint's `retry_backoff_ms` scales them (500 halves them).
pub const SCHEDULE_SECS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// An endpoint failing without a single success for this long is disabled.
pub const DISABLE_AFTER: ChronoDuration = ChronoDuration::days(5);
/// Response bytes kept per attempt.
const RESPONSE_KEPT: usize = 1024;

// ---------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------

/// A webhook endpoint (its secret is shown only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// Event types delivered: `["*"]`, exact types, or families such as `"message.*"`.
    pub events: Vec<String>,
    /// `live` or `test`: the session whose events it receives (the key's that created it).
    pub mode: String,
    pub is_active: bool,
    /// Why it was disabled, when the platform disabled it.
    pub disabled_reason: Option<String>,
    pub max_retries: i32,
    pub retry_backoff_ms: i32,
    pub success_count: i64,
    pub failure_count: i64,
    pub last_triggered_at: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: Uuid,
    url: String,
    description: Option<String>,
    events: sqlx::types::Json<Vec<String>>,
    mode: String,
    is_active: bool,
    disabled_reason: Option<String>,
    max_retries: i32,
    retry_backoff_ms: i32,
    success_count: i64,
    failure_count: i64,
    last_triggered_at: Option<DateTime<Utc>>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, url, description, events, mode, is_active, disabled_reason, max_retries, \
    retry_backoff_ms, success_count, failure_count, last_triggered_at, previous_secret_expires_at, \
    created_at, updated_at";

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Webhook {
        Webhook {
            id: r.id,
            url: r.url,
            description: r.description,
            events: r.events.0,
            mode: r.mode,
            is_active: r.is_active,
            disabled_reason: r.disabled_reason,
            max_retries: r.max_retries,
            retry_backoff_ms: r.retry_backoff_ms,
            success_count: r.success_count,
            failure_count: r.failure_count,
            last_triggered_at: r.last_triggered_at,
            previous_secret_expires_at: r.previous_secret_expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new endpoint, with its secret (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: verify signatures with it. Store it now: it is never shown again.
    pub secret: String,
}

/// `POST /api/v1/webhooks` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed (https; http only where the operator allows it).
    pub url: String,
    /// Event types (default `["*"]`).
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Retries after the first attempt, 0 to 10 (default 5).
    pub max_retries: Option<i32>,
    /// Scales the retry schedule (default 1000: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    pub retry_backoff_ms: Option<i32>,
}

/// `PATCH /api/v1/webhooks/{id}` body: what to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Re-activating clears a platform disable.
    pub is_active: Option<bool>,
    pub max_retries: Option<i32>,
    pub retry_backoff_ms: Option<i32>,
}

fn new_secret() -> String {
    let bytes: [u8; 24] = rand::thread_rng().gen();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn check_url(worker: &WorkerState, url: &str) -> Result<String> {
    if url.len() > 500 {
        return Err(Error::validation("url", "must be at most 500 characters"));
    }
    let parsed = net::check_url(url, worker.config.webhook_allow_private).map_err(|e| {
        Error::validation("url", format!("{e} (webhooks go to public addresses only)"))
    })?;
    if worker.config.webhook_https_only && parsed.scheme() != "https" {
        return Err(Error::validation("url", "must be an https URL"));
    }
    Ok(parsed.to_string())
}

fn check_events(events: Option<Vec<String>>) -> Result<Vec<String>> {
    let events = events.unwrap_or_else(|| vec!["*".into()]);
    if events.is_empty() || events.len() > events::TYPES.len() {
        return Err(Error::validation(
            "events",
            "must list 1 or more event types, or [\"*\"]",
        ));
    }
    if let Some(bad) = events.iter().find(|e| !events::valid_filter(e)) {
        return Err(Error::validation(
            "events",
            format!("unknown event type `{bad}`"),
        ));
    }
    Ok(events)
}

fn check_retries(max_retries: Option<i32>, backoff: Option<i32>) -> Result<()> {
    if max_retries.is_some_and(|n| !(0..=10).contains(&n)) {
        return Err(Error::validation("max_retries", "must be between 0 and 10"));
    }
    if backoff.is_some_and(|n| !(1..=3_600_000).contains(&n)) {
        return Err(Error::validation(
            "retry_backoff_ms",
            "must be between 1 and 3600000",
        ));
    }
    Ok(())
}

fn check_description(d: &Option<String>) -> Result<()> {
    if d.as_ref().is_some_and(|d| d.chars().count() > 255) {
        return Err(Error::validation(
            "description",
            "must be at most 255 characters",
        ));
    }
    Ok(())
}

async fn get_row(db: &Db, key: SessionKey, id: Uuid) -> Result<WebhookRow> {
    let sql =
        format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND customer_id = $2 AND mode = $3");
    on_pool!(db, |pool| sqlx::query_as::<_, WebhookRow>(&sql)
        .bind(id)
        .bind(key.customer)
        .bind(key.mode.as_str())
        .fetch_optional(pool)
        .await)
    .map_err(db_error)?
    .ok_or_else(|| Error::not_found("webhook"))
}

async fn list_webhooks(State(worker): State<WorkerState>, caller: Caller) -> Result<Response> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE customer_id = $1 AND mode = $2 ORDER BY created_at"
    );
    let rows = on_pool!(worker.db(), |pool| sqlx::query_as::<_, WebhookRow>(&sql)
        .bind(caller.key.customer)
        .bind(caller.key.mode.as_str())
        .fetch_all(pool)
        .await)
    .map_err(db_error)?;
    let list: Vec<Webhook> = rows.into_iter().map(Webhook::from).collect();
    Ok(ok(list).into_response())
}

async fn create_webhook(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<CreateWebhook>,
) -> Result<Response> {
    let url = check_url(&worker, &req.url)?;
    let events = check_events(req.events)?;
    check_retries(req.max_retries, req.retry_backoff_ms)?;
    check_description(&req.description)?;
    let key = caller.key;
    let id = Uuid::now_v7();
    let secret = new_secret();
    let now = Utc::now();
    let mut tx = worker.db().begin().await.map_err(db_error)?;
    let count: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhooks WHERE customer_id = $1 AND mode = $2"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .fetch_one(&mut *conn)
    .await)
    .map_err(db_error)?;
    if count >= MAX_ENDPOINTS {
        return Err(Error::conflict(
            wasp_http::error::code::CONFLICT,
            format!("at most {MAX_ENDPOINTS} webhook endpoints per session; delete one first"),
        ));
    }
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "INSERT INTO webhooks (id, customer_id, mode, url, secret, events, description, is_active, \
         max_retries, retry_backoff_ms, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9, $10, $10)"
    )
    .bind(id)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(&url)
    .bind(&secret)
    .bind(sqlx::types::Json(&events))
    .bind(&req.description)
    .bind(req.max_retries.unwrap_or(5))
    .bind(req.retry_backoff_ms.unwrap_or(1000))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    let webhook = get_row(worker.db(), key, id).await?.into();
    Ok(created(CreatedWebhook { webhook, secret }).into_response())
}

async fn get_webhook(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    let row = get_row(worker.db(), caller.key, id).await?;
    Ok(ok(Webhook::from(row)).into_response())
}

async fn update_webhook(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateWebhook>,
) -> Result<Response> {
    let url = req
        .url
        .as_deref()
        .map(|u| check_url(&worker, u))
        .transpose()?;
    let events = req.events.map(|e| check_events(Some(e))).transpose()?;
    check_retries(req.max_retries, req.retry_backoff_ms)?;
    check_description(&req.description)?;
    get_row(worker.db(), caller.key, id).await?;
    let mut tx = worker.db().begin().await.map_err(db_error)?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE webhooks SET url = COALESCE($1, url), events = COALESCE($2, events), \
         description = COALESCE($3, description), is_active = COALESCE($4, is_active), \
         max_retries = COALESCE($5, max_retries), retry_backoff_ms = COALESCE($6, retry_backoff_ms), \
         disabled_reason = CASE WHEN $4 THEN NULL ELSE disabled_reason END, \
         failing_since = CASE WHEN $4 THEN NULL ELSE failing_since END, \
         updated_at = $7 WHERE id = $8"
    )
    .bind(&url)
    .bind(events.as_ref().map(sqlx::types::Json))
    .bind(&req.description)
    .bind(req.is_active)
    .bind(req.max_retries)
    .bind(req.retry_backoff_ms)
    .bind(Utc::now())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    let row = get_row(worker.db(), caller.key, id).await?;
    Ok(ok(Webhook::from(row)).into_response())
}

async fn delete_webhook(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let mut tx = worker.db().begin().await.map_err(db_error)?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "DELETE FROM webhooks WHERE id = $1"
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(ok(Deleted { id, deleted: true }).into_response())
}

async fn rotate_secret(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let secret = new_secret();
    let now = Utc::now();
    let mut tx = worker.db().begin().await.map_err(db_error)?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = $1, secret = $2, \
         updated_at = $3 WHERE id = $4"
    )
    .bind(now + SECRET_OVERLAP)
    .bind(&secret)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    let webhook = get_row(worker.db(), caller.key, id).await?.into();
    Ok(ok(CreatedWebhook { webhook, secret }).into_response())
}

/// Sends a `webhook.test` event to this endpoint alone.
async fn test_webhook(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let event = NewEvent::session(
        "webhook.test",
        json!({ "webhook_id": id, "message": "a test event from wasp" }),
    );
    let device = caller.instance.status().session.jid;
    let event_id = events::emit_to(worker.db(), caller.key, device.as_deref(), &event, id)
        .await
        .map_err(db_error)?;
    if let Some(instances) = worker.instances() {
        instances.deliveries.notify_one();
    }
    Ok(created(TestSent { event_id }).into_response())
}

// ---------------------------------------------------------------------------------------
// The delivery log and replays
// ---------------------------------------------------------------------------------------

/// One delivery of an event to an endpoint, with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub event_id: String,
    pub event_type: String,
    /// `pending` (waiting for its next attempt), `delivered`, or `failed` (no more
    /// attempts: a dead letter; replay it to try again).
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The request body sent (every attempt sends these same bytes, the ones signed): the
    /// event's JSON.
    pub request_body: String,
    pub log: Vec<Attempt>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attempt {
    pub attempt: i32,
    /// The headers the request was sent with (`content-type`, `user-agent`, `webhook-id`,
    /// `webhook-timestamp`, `x-wasp-delivery`), by lower-case name. The signature headers
    /// (`webhook-signature`, `x-hub-signature-256`) are left out: they derive from the
    /// endpoint's secret. `null` when the request was not sent (refused here) or for
    /// attempts logged before request headers were kept.
    pub request_headers: Option<BTreeMap<String, String>>,
    /// The endpoint's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// Why it failed without an answer (timeout, refused address, …).
    pub error: Option<String>,
    pub latency_ms: i32,
    /// The first 1 KiB of the endpoint's answer.
    pub response_body: Option<String>,
    pub attempted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: Uuid,
    attempt: i32,
    request_headers: Option<String>,
    status_code: Option<i32>,
    error: Option<String>,
    latency_ms: i32,
    response_body: Option<String>,
    attempted_at: DateTime<Utc>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Attempt {
        Attempt {
            attempt: r.attempt,
            request_headers: r
                .request_headers
                .and_then(|h| serde_json::from_str(&h).ok()),
            status_code: r.status_code,
            error: r.error,
            latency_ms: r.latency_ms,
            response_body: r.response_body,
            attempted_at: r.attempted_at,
        }
    }
}

/// The body a delivery of `payload` sends (and signs): the same bytes at every attempt.
fn request_body(payload: &Value) -> Vec<u8> {
    serde_json::to_vec(payload).unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: Uuid,
    event_id: String,
    event_type: String,
    state: String,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    payload: sqlx::types::Json<Value>,
}

/// Filters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only deliveries in this state (`pending`, `delivered`, `failed`).
    pub state: Option<String>,
    /// 1 to 100 (default 25), newest first.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

async fn list_deliveries(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(q): Query<DeliveryQuery>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let limit = q.limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(Error::validation("limit", "must be between 1 and 100"));
    }
    let offset = q.offset.unwrap_or(0).max(0);
    if let Some(s) = &q.state {
        if !matches!(s.as_str(), "pending" | "delivered" | "failed") {
            return Err(Error::validation(
                "state",
                "must be pending, delivered or failed",
            ));
        }
    }
    let rows: Vec<DeliveryRow> = on_pool!(worker.db(), |pool| sqlx::query_as(
        "SELECT d.id, d.event_id, e.event_type, d.state, d.attempts, d.next_attempt_at, d.last_status_code, \
         d.last_error, d.created_at, d.delivered_at, e.payload FROM webhook_deliveries d JOIN wa_events e ON e.id = d.event_id \
         WHERE d.webhook_id = $1 AND ($2 IS NULL OR d.state = $2) \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $3 OFFSET $4"
    )
    .bind(id)
    .bind(&q.state)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await)
    .map_err(db_error)?;
    // Every attempt of the page's deliveries in one query: those of the deliveries made in
    // the page's time span (a delivery made meanwhile is simply not asked for).
    let span = rows.iter().map(|r| r.created_at).fold(
        None,
        |acc: Option<(DateTime<Utc>, DateTime<Utc>)>, t| {
            Some(acc.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
        },
    );
    let attempts: Vec<AttemptRow> = match span {
        None => Vec::new(),
        Some((from, to)) => on_pool!(worker.db(), |pool| sqlx::query_as(
            "SELECT a.delivery_id, a.attempt, a.request_headers, a.status_code, a.error, a.latency_ms, a.response_body, \
             a.attempted_at FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE d.webhook_id = $1 AND d.created_at >= $2 AND d.created_at <= $3 \
             ORDER BY a.delivery_id, a.attempt"
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)
        .map_err(db_error)?,
    };
    let mut logs: HashMap<Uuid, Vec<Attempt>> = HashMap::new();
    for a in attempts {
        logs.entry(a.delivery_id).or_default().push(a.into());
    }
    let list: Vec<Delivery> = rows
        .into_iter()
        .map(|r| Delivery {
            log: logs.remove(&r.id).unwrap_or_default(),
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
            request_body: String::from_utf8_lossy(&request_body(&r.payload.0)).into_owned(),
        })
        .collect();
    Ok(ok(list).into_response())
}

/// `POST /api/v1/webhooks/{id}/replay` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Replay this delivery (any state).
    pub delivery_id: Option<Uuid>,
    /// Or every failed delivery created since then.
    pub since: Option<DateTime<Utc>>,
}

async fn replay(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(req): Json<ReplayRequest>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let now = Utc::now();
    let mut tx = worker.db().begin().await.map_err(db_error)?;
    let n = match (req.delivery_id, req.since) {
        (Some(delivery), None) => on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, updated_at = $1 \
             WHERE id = $2 AND webhook_id = $3 AND state <> 'pending'"
        )
        .bind(now)
        .bind(delivery)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())),
        (None, Some(since)) => on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, updated_at = $1 \
             WHERE webhook_id = $2 AND state = 'failed' AND created_at >= $3"
        )
        .bind(now)
        .bind(id)
        .bind(since)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())),
        _ => {
            return Err(Error::validation(
                "delivery_id",
                "give either delivery_id or since",
            ))
        }
    }
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    if n > 0 {
        if let Some(instances) = worker.instances() {
            instances.deliveries.notify_one();
        }
    }
    Ok(ok(Replayed { replayed: n }).into_response())
}

/// An endpoint removed.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    pub id: Uuid,
    pub deleted: bool,
}

/// The test event written.
#[derive(Serialize, ToSchema)]
pub struct TestSent {
    pub event_id: String,
}

/// How many deliveries were put back in the queue.
#[derive(Serialize, ToSchema)]
pub struct Replayed {
    pub replayed: u64,
}

/// `GET /api/v1/events` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Comma-separated event types or families (`message.*`); default all.
    pub events: Option<String>,
}

/// The live stream: Server-Sent Events of this session's events as they happen.
async fn live_events(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<StreamQuery>,
) -> Result<Response> {
    use axum::response::sse::{Event as Sse, KeepAlive};
    let filter: Vec<String> = match q.events.as_deref() {
        None | Some("") => vec!["*".into()],
        Some(list) => {
            let filter: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
            if let Some(bad) = filter.iter().find(|e| !events::valid_filter(e)) {
                return Err(Error::validation(
                    "events",
                    format!("unknown event type `{bad}`"),
                ));
            }
            filter
        }
    };
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let key = caller.key;
    let rx = instances.stream.subscribe();
    let stream = futures_util::stream::unfold(rx, move |mut rx| {
        let filter = filter.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(e) if e.key == key && events::filter_matches(&filter, e.kind) => {
                        let sse = Sse::default()
                            .id(e.id.clone())
                            .event(e.kind)
                            .data(e.doc.to_string());
                        return Some((Ok::<_, std::convert::Infallible>(sse), rx));
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        let sse = Sse::default()
                            .event("stream.lagged")
                            .data(json!({ "missed": n }).to_string());
                        return Some((Ok(sse), rx));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(axum::response::sse::Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The webhooks part of the customer API.
pub fn api() -> Api {
    use utoipa::openapi::path::HttpMethod::Patch;
    const NOT_FOUND: &[&str] = &[wasp_http::error::code::NOT_FOUND];
    let validation = &[wasp_http::error::code::VALIDATION_ERROR];
    Api::default()
        .tag(
            "webhooks",
            "Endpoints that receive your session's events, signed; their delivery log; the live stream",
        )
        .get(
            "/api/v1/events",
            live_events,
            doc("webhooks", "The live stream of your session's events (Server-Sent Events)")
                .describe(
                    "Each event as `id: <event id>`, `event: <type>`, `data: <the webhook document>`, \
                     as it happens; a comment every 15 s keeps the connection open. Not stored: \
                     what happens while you are not connected is not replayed here (webhooks are \
                     the durable path). `stream.lagged` says how many events a slow reader missed.",
                )
                .query::<StreamQuery>()
                .returns_file("text/event-stream", "Server-Sent Events")
                .errors(&[wasp_http::error::code::VALIDATION_ERROR]),
        )
        .get(
            "/api/v1/webhooks",
            list_webhooks,
            doc(
                "webhooks",
                "Your webhook endpoints (for the session of your key's mode)",
            )
            .returns_list::<Webhook>(),
        )
        .post(
            "/api/v1/webhooks",
            create_webhook,
            doc(
                "webhooks",
                "Add an endpoint; its signing secret is shown once",
            )
            .json::<CreateWebhook>()
            .created()
            .returns::<CreatedWebhook>()
            .errors(validation)
            .errors(&[wasp_http::error::code::CONFLICT]),
        )
        .get(
            "/api/v1/webhooks/{webhook_id}",
            get_webhook,
            doc("webhooks", "One endpoint").returns::<Webhook>(),
        )
        .on(
            &[Patch],
            "/api/v1/webhooks/{webhook_id}",
            update_webhook,
            doc(
                "webhooks",
                "Change an endpoint (URL, events, active, retries)",
            )
            .json::<UpdateWebhook>()
            .returns::<Webhook>()
            .errors(validation),
        )
        .delete(
            "/api/v1/webhooks/{webhook_id}",
            delete_webhook,
            doc("webhooks", "Remove an endpoint and its delivery log").returns::<Deleted>(),
        )
        .post(
            "/api/v1/webhooks/{webhook_id}/rotate-secret",
            rotate_secret,
            doc(
                "webhooks",
                "Replace the signing secret; the old one keeps signing for 24 hours",
            )
            .returns::<CreatedWebhook>(),
        )
        .post(
            "/api/v1/webhooks/{webhook_id}/test",
            test_webhook,
            doc("webhooks", "Send a `webhook.test` event to this endpoint")
                .created()
                .returns::<TestSent>(),
        )
        .get(
            "/api/v1/webhooks/{webhook_id}/deliveries",
            list_deliveries,
            doc(
                "webhooks",
                "The delivery log: each event's delivery and every attempt",
            )
            .query::<DeliveryQuery>()
            .returns_list::<Delivery>()
            .errors(validation),
        )
        .post(
            "/api/v1/webhooks/{webhook_id}/replay",
            replay,
            doc(
                "webhooks",
                "Deliver again: one delivery, or every failed one since a time",
            )
            .json::<ReplayRequest>()
            .returns::<Replayed>()
            .errors(validation)
            .errors(NOT_FOUND),
        )
}

// ---------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------

type HmacSha256 = Hmac<Sha256>;

/// The key a `whsec_…` secret stands for (its base64 part, decoded).
fn secret_key(secret: &str) -> Vec<u8> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_else(|_| secret.as_bytes().to_vec())
}

/// The Standard Webhooks signature of `body`: `v1,<base64 HMAC-SHA256(id.timestamp.body)>`.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(&secret_key(secret)).expect("any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// `X-Hub-Signature-256`: `sha256=<hex HMAC-SHA256(body)>` under the whole secret string.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The delay before attempt `attempts + 1` (after `attempts` failed), with ±20 % jitter.
pub fn retry_delay(attempts: i32, backoff_ms: i32) -> Duration {
    let step = SCHEDULE_SECS[(attempts.max(1) as usize - 1).min(SCHEDULE_SECS.len() - 1)];
    let base = step as f64 * backoff_ms.max(1) as f64 / 1000.0;
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::from_secs_f64((base * jitter).max(0.001))
}

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    webhook_id: Uuid,
    event_id: String,
    attempts: i32,
    url: String,
    secret: Option<String>,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    max_retries: i32,
    retry_backoff_ms: i32,
    payload: sqlx::types::Json<Value>,
}

/// An attempt made, waiting to be recorded with others in one transaction.
struct Finished {
    id: Uuid,
    webhook_id: Uuid,
    /// For the alert when the endpoint gets disabled.
    url: String,
    attempt: i32,
    latency_ms: i32,
    at: DateTime<Utc>,
    /// The headers sent (JSON object, signatures left out); `None` when not sent.
    request_headers: Option<String>,
    status_code: Option<i32>,
    error: Option<String>,
    response: Option<String>,
    /// `delivered`, `pending` (retried at `next`) or `failed`.
    state: &'static str,
    next: Option<DateTime<Utc>>,
    /// The delivery's slot: given back only once the attempt is committed, so the
    /// deliveries attempted but not yet recorded stay within [`CONCURRENCY`].
    _slot: OwnedSemaphorePermit,
}

impl Finished {
    /// What an attempt's outcome means for its delivery (its state and next attempt).
    fn settle(
        d: &Due,
        latency_ms: i32,
        (outcome, request_headers): (Outcome, Option<SentHeaders>),
        at: DateTime<Utc>,
        slot: OwnedSemaphorePermit,
    ) -> Finished {
        let attempt = d.attempts + 1;
        let (status_code, error, response, delivered, retryable, retry_after) = match outcome {
            Outcome::Answered {
                status,
                retry_after,
                body,
            } => {
                let ok = (200..300).contains(&status);
                // A 4xx other than 408/429 is the receiver's final answer.
                let refused = (400..500).contains(&status) && !matches!(status, 408 | 429);
                let retryable = !ok && !refused;
                (
                    Some(i32::from(status)),
                    None,
                    Some(body),
                    ok,
                    retryable,
                    retry_after,
                )
            }
            Outcome::NoAnswer(e) => (None, Some(e), None, false, true, None),
            Outcome::Refused(e) => (None, Some(e), None, false, false, None),
        };
        let (state, next) = if delivered {
            ("delivered", None)
        } else if retryable && attempt <= d.max_retries {
            let delay = retry_delay(attempt, d.retry_backoff_ms)
                .max(retry_after.unwrap_or_default())
                .min(Duration::from_secs(86_400));
            (
                "pending",
                Some(at + ChronoDuration::from_std(delay).unwrap_or_default()),
            )
        } else {
            ("failed", None)
        };
        Finished {
            id: d.id,
            webhook_id: d.webhook_id,
            url: d.url.clone(),
            attempt,
            latency_ms,
            at,
            request_headers: request_headers.and_then(|h| serde_json::to_string(&h).ok()),
            status_code,
            error,
            response,
            state,
            next,
            _slot: slot,
        }
    }

    fn delivered(&self) -> bool {
        self.state == "delivered"
    }
}

/// What the delivering tasks tell the recorder.
enum ToRecorder {
    Finished(Finished),
    /// Answered once everything sent before it is committed.
    Flush(oneshot::Sender<()>),
}

/// Deliveries being attempted (`None`), or recorded at that instant (`Some`): a pick that
/// read the database before that attempt was committed must not send it again.
type InFlight = Arc<Mutex<HashMap<Uuid, Option<Instant>>>>;

/// Delivers the due deliveries of the sessions this worker holds.
///
/// Each due delivery is posted by a task of its own (at most [`CONCURRENCY`] at once);
/// its outcome goes to one recorder, which writes every outcome that arrived meanwhile in
/// one transaction (the attempts, the deliveries' new states, each endpoint's counters),
/// so the database sees one write per batch instead of one per delivery. A delivery
/// attempted but not yet recorded is still `pending` in the database: it stays in
/// `in_flight` (and is not picked again) until its batch is committed and a pick has
/// begun after that commit. A crash before the commit loses no event: the delivery is
/// sent again (at least once).
pub struct Deliverer {
    db: Db,
    server: Uuid,
    client: reqwest::Client,
    allow_private: bool,
    https_only: bool,
    wake: Arc<Notify>,
    in_flight: InFlight,
    slots: Arc<Semaphore>,
    outcomes: mpsc::UnboundedSender<ToRecorder>,
    /// The recorder's end of `outcomes`, until [`Deliverer::run`] starts it.
    recorder: Mutex<Option<mpsc::UnboundedReceiver<ToRecorder>>>,
}

/// Deliveries read per pick (beyond those already being attempted).
const PAGE: usize = 500;
/// Deliveries in flight at once per worker (posting, or waiting to be recorded).
const CONCURRENCY: usize = 256;
/// The shortest time between two picks woken by new events (a bound on the latency added).
const PICK_INTERVAL: Duration = Duration::from_millis(2);
/// How long the recorder waits for more outcomes when only a few arrived.
const RECORD_LINGER: Duration = Duration::from_millis(5);
/// Outcomes recorded per transaction at most.
const BATCH: usize = 512;
/// How long an endpoint has to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// How long [`Deliverer::flush`] waits for the recorder.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

impl Deliverer {
    pub fn new(
        db: Db,
        server: Uuid,
        allow_private: bool,
        https_only: bool,
        wake: Arc<Notify>,
    ) -> Arc<Deliverer> {
        let (outcomes, recorder) = mpsc::unbounded_channel();
        Arc::new(Deliverer {
            db,
            server,
            client: net::guarded_client(allow_private, TIMEOUT),
            allow_private,
            https_only,
            wake,
            in_flight: InFlight::default(),
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
            outcomes,
            recorder: Mutex::new(Some(recorder)),
        })
    }

    /// Runs until the task is dropped: picks due deliveries whenever events are written,
    /// and at least every half second. The recorder it starts outlives it until every
    /// attempt under way is recorded.
    pub async fn run(self: Arc<Self>) {
        let recorder = self
            .recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(outcomes) = recorder {
            let recorder = Recorder {
                db: self.db.clone(),
                wake: self.wake.clone(),
                in_flight: self.in_flight.clone(),
            };
            tokio::spawn(recorder.run(outcomes));
        }
        loop {
            let mut backlog = false;
            let picked = tokio::time::Instant::now();
            match self.due().await {
                Ok((full, due)) => {
                    // A full page: more are due; pick again as soon as these are under way
                    // (shortly, when every row read was already being attempted).
                    backlog = full;
                    if backlog && due.is_empty() {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    for d in due {
                        let Ok(slot) = self.slots.clone().acquire_owned().await else {
                            return;
                        };
                        let me = self.clone();
                        tokio::spawn(async move { me.deliver(d, slot).await });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook deliveries could not be read"),
            }
            if backlog {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            // Events written one by one wake this once each: one pick for those of a few
            // milliseconds, not one each.
            tokio::time::sleep_until(picked + PICK_INTERVAL).await;
        }
    }

    /// Waits (a few seconds at most) until the attempts finished so far are recorded: for a
    /// graceful stop, after the task running [`Deliverer::run`] was aborted. Attempts still
    /// under way are not waited for: they are made again by the next owner.
    pub async fn flush(&self) {
        let started = self
            .recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none();
        let (done, recorded) = oneshot::channel();
        if started && self.outcomes.send(ToRecorder::Flush(done)).is_ok() {
            let _ = tokio::time::timeout(FLUSH_WAIT, recorded).await;
        }
    }

    /// The due deliveries not being attempted here: (whether more may be due, rows to
    /// attempt). The ids are read first and the whole rows (payloads included) only for
    /// those not already being attempted.
    async fn due(&self) -> Result<(bool, Vec<Due>), sqlx::Error> {
        let started = Instant::now();
        let limit = PAGE
            + self
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len();
        let ids: Vec<Uuid> = on_pool!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 JOIN wa_sessions s ON s.customer_id = d.customer_id AND s.mode = d.mode \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND s.server_id = $2 \
                 AND w.is_active = TRUE ORDER BY d.next_attempt_at LIMIT $3",
            )
            .bind(Utc::now())
            .bind(self.server)
            .bind(limit as i64)
            .fetch_all(pool)
            .await
        })?;
        let full = ids.len() == limit;
        let fresh: Vec<Uuid> = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            // Attempts recorded before this read began are seen by it as they are now.
            in_flight.retain(|_, done| done.is_none_or(|at| at >= started));
            ids.into_iter()
                .filter(|id| match in_flight.entry(*id) {
                    // Being attempted, or recorded while this read ran: not again.
                    Entry::Occupied(_) => false,
                    Entry::Vacant(slot) => {
                        slot.insert(None);
                        true
                    }
                })
                .collect()
        };
        if fresh.is_empty() {
            return Ok((full, Vec::new()));
        }
        let rows: Result<Vec<Due>, sqlx::Error> = on_pool!(&self.db, |pool| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT d.id, d.webhook_id, d.event_id, d.attempts, w.url, w.secret, \
                 w.previous_secret, w.previous_secret_expires_at, w.max_retries, \
                 w.retry_backoff_ms, e.payload \
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 JOIN wa_events e ON e.id = d.event_id \
                 WHERE d.state = 'pending' AND w.is_active = TRUE AND d.id IN (",
            );
            let mut list = q.separated(", ");
            for id in &fresh {
                list.push_bind(*id);
            }
            // No ORDER BY: it would tempt the planner to walk the pending index in order
            // instead of looking the ids up; the rows are put back in the ids' order below.
            q.push(")");
            q.build_query_as().persistent(false).fetch_all(pool).await
        });
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        match rows {
            Ok(mut rows) => {
                // Those gone meanwhile (attempted by another owner, endpoint disabled) are
                // not ours to hold.
                let order: HashMap<Uuid, usize> =
                    fresh.iter().enumerate().map(|(i, id)| (*id, i)).collect();
                rows.sort_by_key(|d| order.get(&d.id).copied());
                let kept: std::collections::HashSet<Uuid> = rows.iter().map(|d| d.id).collect();
                for id in fresh.iter().filter(|id| !kept.contains(id)) {
                    in_flight.remove(id);
                }
                Ok((full, rows))
            }
            Err(e) => {
                for id in &fresh {
                    in_flight.remove(id);
                }
                Err(e)
            }
        }
    }

    async fn deliver(&self, d: Due, slot: OwnedSemaphorePermit) {
        let body = request_body(&d.payload.0);
        let started = Instant::now();
        let outcome = self.post(&d, &body).await;
        let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let finished = Finished::settle(&d, latency_ms, outcome, Utc::now(), slot);
        if self.outcomes.send(ToRecorder::Finished(finished)).is_err() {
            // No recorder (stopping): the delivery stays pending and is made again.
            tracing::warn!(delivery = %d.id, "webhook attempt not recorded: the deliverer is stopping");
            self.in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(d.id, Some(Instant::now()));
        }
    }

    /// Posts `body` to the endpoint: the outcome, and the headers sent (but the
    /// signatures) unless it was refused here.
    async fn post(&self, d: &Due, body: &[u8]) -> (Outcome, Option<SentHeaders>) {
        let url = match net::check_url(&d.url, self.allow_private) {
            Ok(url) if self.https_only && url.scheme() != "https" => {
                return (Outcome::Refused("https is required".into()), None)
            }
            Ok(url) => url,
            Err(e) => return (Outcome::Refused(e.to_string()), None),
        };
        let Some(secret) = &d.secret else {
            return (Outcome::Refused("the endpoint has no secret".into()), None);
        };
        let now = Utc::now();
        let timestamp = now.timestamp();
        let mut signature = standard_signature(secret, &d.event_id, timestamp, body);
        if let (Some(previous), Some(until)) = (&d.previous_secret, d.previous_secret_expires_at) {
            if until > now {
                signature.push(' ');
                signature.push_str(&standard_signature(previous, &d.event_id, timestamp, body));
            }
        }
        let logged: SentHeaders = [
            ("content-type", "application/json".to_owned()),
            ("user-agent", net::USER_AGENT.to_owned()),
            ("webhook-id", d.event_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("x-wasp-delivery", d.id.to_string()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let mut request = self.client.post(url);
        for (name, value) in &logged {
            if name != "user-agent" {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let sent = request
            .header("webhook-signature", signature)
            .header("x-hub-signature-256", hub_signature(secret, body))
            .body(body.to_vec())
            .send()
            .await;
        let outcome = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let mut text = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                text.truncate(RESPONSE_KEPT);
                Outcome::Answered {
                    status,
                    retry_after,
                    body: String::from_utf8_lossy(&text).into_owned(),
                }
            }
            Err(e) => {
                let reason = if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    format!("could not connect: {}", root_cause(&e))
                } else {
                    root_cause(&e)
                };
                Outcome::NoAnswer(reason)
            }
        };
        (outcome, Some(logged))
    }
}

/// The headers of a webhook request that its attempt logs (by lower-case name).
type SentHeaders = BTreeMap<String, String>;

/// Writes the attempts made, many per transaction.
struct Recorder {
    db: Db,
    wake: Arc<Notify>,
    in_flight: InFlight,
}

/// An endpoint's outcomes in one batch, in the order they happened.
#[derive(Default)]
struct Tally {
    successes: i64,
    failures: i64,
    last_at: Option<DateTime<Utc>>,
    /// The first outcome of the batch was a failure: the endpoint may have been failing
    /// for days already (disabled as the attempt-by-attempt rule would have).
    opened_with_failure: bool,
    /// A success in the batch: the failures before it no longer count.
    any_success: bool,
    /// The first failure after the last success (`failing_since` from then on).
    failing_since: Option<DateTime<Utc>>,
    url: String,
}

impl Tally {
    fn of(batch: &[Finished]) -> Vec<(Uuid, Tally)> {
        let mut tallies: Vec<(Uuid, Tally)> = Vec::new();
        for f in batch {
            let i = match tallies.iter().position(|(id, _)| *id == f.webhook_id) {
                Some(i) => i,
                None => {
                    tallies.push((
                        f.webhook_id,
                        Tally {
                            opened_with_failure: !f.delivered(),
                            url: f.url.clone(),
                            ..Tally::default()
                        },
                    ));
                    tallies.len() - 1
                }
            };
            let t = &mut tallies[i].1;
            t.last_at = t.last_at.max(Some(f.at));
            if f.delivered() {
                t.successes += 1;
                t.any_success = true;
                t.failing_since = None;
            } else {
                t.failures += 1;
                t.failing_since.get_or_insert(f.at);
            }
        }
        tallies
    }
}

impl Recorder {
    async fn run(self, mut outcomes: mpsc::UnboundedReceiver<ToRecorder>) {
        let mut messages = Vec::with_capacity(BATCH);
        // Ends when every sender is gone: the deliverer and all its delivering tasks.
        while outcomes.recv_many(&mut messages, BATCH).await > 0 {
            // A few outcomes at a time (events trickling in): wait a moment for more, so a
            // burst costs the database a transaction every few milliseconds, not one per
            // delivery (the deliveries are already sent: only their slots wait).
            let flushing = messages.iter().any(|m| matches!(m, ToRecorder::Flush(_)));
            if messages.len() < BATCH / 8 && !flushing {
                tokio::time::sleep(RECORD_LINGER).await;
                while messages.len() < BATCH {
                    match outcomes.try_recv() {
                        Ok(m) => messages.push(m),
                        Err(_) => break,
                    }
                }
            }
            let mut batch = Vec::with_capacity(messages.len());
            let mut flushes = Vec::new();
            for m in messages.drain(..) {
                match m {
                    ToRecorder::Finished(f) => batch.push(f),
                    ToRecorder::Flush(done) => flushes.push(done),
                }
            }
            if !batch.is_empty() {
                self.record(batch).await;
            }
            for done in flushes {
                let _ = done.send(());
            }
        }
    }

    /// Commits `batch`, then lets its deliveries be picked again (by picks that begin from
    /// now on) and gives back their slots.
    async fn record(&self, batch: Vec<Finished>) {
        let written = self.write(&batch).await;
        let committed = Instant::now();
        {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            for f in &batch {
                in_flight.insert(f.id, Some(committed));
            }
        }
        match written {
            Ok(disabled) => {
                for webhook in disabled {
                    tracing::warn!(webhook = %webhook, "webhook endpoint disabled after failing for days");
                }
                for (outcome, state) in [
                    ("delivered", "delivered"),
                    ("retry", "pending"),
                    ("failed", "failed"),
                ] {
                    let n = batch.iter().filter(|f| f.state == state).count();
                    if n > 0 {
                        metrics::counter!("wasp_webhook_attempts_total", "outcome" => outcome)
                            .increment(n as u64);
                    }
                }
                if batch.iter().any(|f| f.next.is_some()) {
                    self.wake.notify_one();
                }
            }
            // Not recorded: the deliveries are still pending and are attempted again.
            Err(e) => tracing::error!(
                error = %e,
                attempts = batch.len(),
                "webhook attempts could not be recorded"
            ),
        }
    }

    /// One transaction: every attempt, every delivery's new state, and per endpoint its
    /// counters, `failing_since`, and the disabling after days of failures (with its
    /// alert). Answers the endpoints disabled.
    async fn write(&self, batch: &[Finished]) -> Result<Vec<Uuid>, sqlx::Error> {
        let now = Utc::now();
        let tallies = Tally::of(batch);
        let mut disabled = Vec::new();
        let mut tx = self.db.begin().await?;
        on_tx!(&mut tx, |conn| {
            let mut attempts = sqlx::QueryBuilder::new(
                "INSERT INTO webhook_attempts (delivery_id, webhook_id, attempt, status_code, \
                 error, latency_ms, response_body, attempted_at, request_headers) ",
            );
            attempts.push_values(batch, |mut row, f| {
                row.push_bind(f.id)
                    .push_bind(f.webhook_id)
                    .push_bind(f.attempt)
                    .push_bind(f.status_code)
                    .push_bind(f.error.as_deref())
                    .push_bind(f.latency_ms)
                    .push_bind(f.response.as_deref())
                    .push_bind(f.at)
                    .push_bind(f.request_headers.as_deref());
            });
            attempts
                .build()
                .persistent(false)
                .execute(&mut *conn)
                .await?;

            // VALUES columns are column1, column2, … in both databases.
            let mut deliveries = sqlx::QueryBuilder::new(
                "UPDATE webhook_deliveries SET state = v.column2, attempts = v.column3, \
                 next_attempt_at = v.column4, last_status_code = v.column5, last_error = v.column6, \
                 updated_at = v.column7, delivered_at = CASE WHEN v.column2 = 'delivered' \
                 THEN v.column7 ELSE webhook_deliveries.delivered_at END FROM (",
            );
            deliveries.push_values(batch, |mut row, f| {
                row.push_bind(f.id)
                    .push_bind(f.state)
                    .push_bind(f.attempt)
                    .push_bind(f.next)
                    .push_bind(f.status_code)
                    .push_bind(f.error.as_deref())
                    .push_bind(f.at);
            });
            deliveries.push(") AS v WHERE webhook_deliveries.id = v.column1");
            deliveries
                .build()
                .persistent(false)
                .execute(&mut *conn)
                .await?;

            for (webhook, t) in &tallies {
                // Failing for days without one success: disabled (its deliveries wait; a
                // re-activation resumes them). Only a batch opening with a failure can
                // find the endpoint failing since before it.
                if t.opened_with_failure {
                    let gone = sqlx::query(
                        "UPDATE webhooks SET is_active = FALSE, disabled_reason = $1, updated_at = $2 \
                         WHERE id = $3 AND is_active = TRUE AND failing_since < $4",
                    )
                    .bind("failing for 5 days without a successful delivery")
                    .bind(now)
                    .bind(webhook)
                    .bind(now - DISABLE_AFTER)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if gone == 1 {
                        // An alert for the operators (and the customer's dashboard).
                        sqlx::query(
                            "INSERT INTO alerts (id, type, severity, title, message, customer_id, status, \
                             metadata, created_at, updated_at) \
                             SELECT $1, 'webhook_disabled', 'warning', $2, $3, customer_id, 'active', $4, $5, $5 \
                             FROM webhooks WHERE id = $6",
                        )
                        .bind(Uuid::now_v7())
                        .bind("Webhook endpoint disabled")
                        .bind(format!(
                            "The endpoint {} failed every delivery for 5 days and was disabled; \
                             its deliveries wait until it is re-activated.",
                            host_of(&t.url)
                        ))
                        .bind(sqlx::types::Json(json!({ "webhook_id": webhook })))
                        .bind(now)
                        .bind(webhook)
                        .execute(&mut *conn)
                        .await?;
                        disabled.push(*webhook);
                    }
                }
                // After a success, failing from the first failure that followed it (or not
                // at all); without one, failing since whenever it began.
                let counters = if t.any_success {
                    "UPDATE webhooks SET success_count = success_count + $1, \
                     failure_count = failure_count + $2, last_triggered_at = $3, \
                     failing_since = $4 WHERE id = $5"
                } else {
                    "UPDATE webhooks SET success_count = success_count + $1, \
                     failure_count = failure_count + $2, last_triggered_at = $3, \
                     failing_since = COALESCE(failing_since, $4) WHERE id = $5"
                };
                sqlx::query(counters)
                    .bind(t.successes)
                    .bind(t.failures)
                    .bind(t.last_at)
                    .bind(t.failing_since)
                    .bind(webhook)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        tx.commit().await?;
        Ok(disabled)
    }
}

/// The host of a URL, for messages (never its path or query, which may hold tokens).
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "(invalid URL)".into())
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

enum Outcome {
    Answered {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    NoAnswer(String),
    /// Not sent: refused here (a private address, http where https is required).
    Refused(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            standard_signature(secret, id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(hub_signature("s", b"x").starts_with("sha256="));
    }

    #[test]
    fn a_batch_counts_per_endpoint_and_keeps_failing_since_as_attempt_by_attempt() {
        let slots = Arc::new(Semaphore::new(8));
        let t0 = Utc::now();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let outcome = |webhook: Uuid, ok: bool, secs: i64| Finished {
            id: Uuid::now_v7(),
            webhook_id: webhook,
            url: "https://example.com/hook".into(),
            attempt: 1,
            latency_ms: 1,
            at: t0 + ChronoDuration::seconds(secs),
            request_headers: None,
            status_code: Some(if ok { 200 } else { 500 }),
            error: None,
            response: None,
            state: if ok { "delivered" } else { "failed" },
            next: None,
            _slot: slots.clone().try_acquire_owned().unwrap(),
        };
        let batch = [
            outcome(a, false, 1),
            outcome(b, true, 2),
            outcome(a, true, 3),
            outcome(a, false, 4),
            outcome(a, false, 5),
            outcome(b, true, 6),
        ];
        let tallies = Tally::of(&batch);
        assert_eq!(tallies.len(), 2);
        let (id, ta) = &tallies[0];
        assert_eq!(*id, a);
        assert_eq!((ta.successes, ta.failures), (1, 3));
        assert!(ta.opened_with_failure && ta.any_success);
        // Failing again since the first failure after its last success.
        assert_eq!(ta.failing_since, Some(t0 + ChronoDuration::seconds(4)));
        assert_eq!(ta.last_at, Some(t0 + ChronoDuration::seconds(5)));
        let (id, tb) = &tallies[1];
        assert_eq!(*id, b);
        assert_eq!((tb.successes, tb.failures), (2, 0));
        assert!(!tb.opened_with_failure && tb.any_success && tb.failing_since.is_none());
    }

    #[test]
    fn the_schedule_grows_scales_with_the_backoff_and_jitters() {
        let first = retry_delay(1, 1000);
        assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6));
        let second = retry_delay(2, 1000);
        assert!(second >= Duration::from_secs(240) && second <= Duration::from_secs(360));
        let last = retry_delay(20, 1000);
        assert!(last >= Duration::from_secs(28_800));
        assert!(retry_delay(1, 10) < Duration::from_millis(61));
    }
}
