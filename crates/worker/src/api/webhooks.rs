//! The customer's webhook endpoints (`/api/v1/webhooks`, per session mode: endpoints made with
//! a test key get the sandbox's events), their deliveries and replays.

use crate::{
    api::{
        doc::{doc, Api},
        Caller,
    },
    events::{self, NewEvent},
    net,
    store::SessionKey,
    WorkerState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_http::error::{created, ok, Error, Json, Path, Query, Result};

use crate::webhooks::{new_secret, request_body, MAX_ENDPOINTS, SECRET_OVERLAP};

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
pub(super) struct WebhookRow {
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

pub(super) const COLUMNS: &str =
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

pub(super) fn check_url(worker: &WorkerState, url: &str) -> Result<String> {
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

pub(super) fn check_events(events: Option<Vec<String>>) -> Result<Vec<String>> {
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

pub(super) fn check_retries(max_retries: Option<i32>, backoff: Option<i32>) -> Result<()> {
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

pub(super) fn check_description(d: &Option<String>) -> Result<()> {
    if d.as_ref().is_some_and(|d| d.chars().count() > 255) {
        return Err(Error::validation(
            "description",
            "must be at most 255 characters",
        ));
    }
    Ok(())
}

pub(super) async fn get_row(db: &Db, key: SessionKey, id: Uuid) -> Result<WebhookRow> {
    let sql =
        format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND customer_id = $2 AND mode = $3");
    on_pool!(db, |pool| sqlx::query_as::<_, WebhookRow>(&sql)
        .bind(id)
        .bind(key.customer)
        .bind(key.mode.as_str())
        .fetch_optional(pool)
        .await)?
    .ok_or_else(|| Error::not_found("webhook"))
}

pub(super) async fn list_webhooks(
    State(worker): State<WorkerState>,
    caller: Caller,
) -> Result<Response> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE customer_id = $1 AND mode = $2 ORDER BY created_at"
    );
    let rows = on_pool!(worker.db(), |pool| sqlx::query_as::<_, WebhookRow>(&sql)
        .bind(caller.key.customer)
        .bind(caller.key.mode.as_str())
        .fetch_all(pool)
        .await)?;
    let list: Vec<Webhook> = rows.into_iter().map(Webhook::from).collect();
    Ok(ok(list).into_response())
}

pub(super) async fn create_webhook(
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
    let mut tx = worker.db().begin().await?;
    let count: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhooks WHERE customer_id = $1 AND mode = $2"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .fetch_one(&mut *conn)
    .await)?;
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
    })?;
    tx.commit().await?;
    let webhook = get_row(worker.db(), key, id).await?.into();
    Ok(created(CreatedWebhook { webhook, secret }).into_response())
}

pub(super) async fn get_webhook(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    let row = get_row(worker.db(), caller.key, id).await?;
    Ok(ok(Webhook::from(row)).into_response())
}

pub(super) async fn update_webhook(
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
    let mut tx = worker.db().begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
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
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    let row = get_row(worker.db(), caller.key, id).await?;
    Ok(ok(Webhook::from(row)).into_response())
}

pub(super) async fn delete_webhook(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let mut tx = worker.db().begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "DELETE FROM webhooks WHERE id = $1"
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(ok(Deleted { id, deleted: true }).into_response())
}

pub(super) async fn rotate_secret(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let secret = new_secret();
    let now = Utc::now();
    let mut tx = worker.db().begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = $1, secret = $2, \
         updated_at = $3 WHERE id = $4"
    )
    .bind(now + SECRET_OVERLAP)
    .bind(&secret)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    let webhook = get_row(worker.db(), caller.key, id).await?.into();
    Ok(ok(CreatedWebhook { webhook, secret }).into_response())
}

/// Sends a `webhook.test` event to this endpoint alone.
pub(super) async fn test_webhook(
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
    let event_id = events::emit_to(worker.db(), caller.key, device.as_deref(), &event, id).await?;
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
pub(super) struct AttemptRow {
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

#[derive(sqlx::FromRow)]
pub(super) struct DeliveryRow {
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

pub(super) async fn list_deliveries(
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
    let rows: Vec<DeliveryRow> = on_pool!(worker.db(), |pool| {
        sqlx::query_as(
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
    .await
    })?;
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
        Some((from, to)) => on_pool!(worker.db(), |pool| {
            sqlx::query_as(
            "SELECT a.delivery_id, a.attempt, a.request_headers, a.status_code, a.error, a.latency_ms, a.response_body, \
             a.attempted_at FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE d.webhook_id = $1 AND d.created_at >= $2 AND d.created_at <= $3 \
             ORDER BY a.delivery_id, a.attempt"
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        })?,
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

pub(super) async fn replay(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(req): Json<ReplayRequest>,
) -> Result<Response> {
    get_row(worker.db(), caller.key, id).await?;
    let now = Utc::now();
    let mut tx = worker.db().begin().await?;
    let n = match (req.delivery_id, req.since) {
        (Some(delivery), None) => on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, updated_at = $1 \
             WHERE id = $2 AND webhook_id = $3 AND state <> 'pending'"
        )
        .bind(now)
        .bind(delivery)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        }),
        (None, Some(since)) => on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, updated_at = $1 \
             WHERE webhook_id = $2 AND state = 'failed' AND created_at >= $3"
        )
        .bind(now)
        .bind(id)
        .bind(since)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        }),
        _ => {
            return Err(Error::validation(
                "delivery_id",
                "give either delivery_id or since",
            ))
        }
    }?;
    tx.commit().await?;
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

/// The webhooks part of the customer API.
pub(super) fn api() -> Api {
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
            super::events::live_events,
            doc("webhooks", "The live stream of your session's events (Server-Sent Events)")
                .describe(
                    "Each event as `id: <event id>`, `event: <type>`, `data: <the webhook document>`, \
                     as it happens; a comment every 15 s keeps the connection open. Not stored: \
                     what happens while you are not connected is not replayed here (webhooks are \
                     the durable path). `stream.lagged` says how many events a slow reader missed.",
                )
                .query::<super::events::StreamQuery>()
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
