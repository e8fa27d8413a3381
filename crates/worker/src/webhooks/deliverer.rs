//! The delivery engine: picks due deliveries from the outbox, sends them through the SSRF
//! guard with bounded concurrency, and records every attempt in batches.

use crate::net;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::Rng;
use serde_json::{json, Value};
use std::{
    collections::{hash_map::Entry, BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_http::error::Result;

use super::{
    request_body,
    signing::{hub_signature, standard_signature},
    DISABLE_AFTER, RESPONSE_KEPT, SCHEDULE_SECS,
};

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
