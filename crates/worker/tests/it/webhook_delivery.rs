//! The webhook deliverer on its own, against a real database and local receivers: the SSRF
//! guard applies at delivery time (an endpoint stored with a private address is refused
//! without a request), and an endpoint failing for days is disabled with an alert.

use axum::{http::StatusCode, routing::post, Router};
use chrono::{Duration as Days, Utc};
use serde_json::json;
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_protocol::service_token::Mode;
use wasp_worker::{
    events::NewEvent,
    store::{self, SessionKey},
    testkit,
    webhooks::Deliverer,
};

/// A receiver answering `status` to everything, counting requests: its URL and counter.
async fn receiver(status: StatusCode) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

async fn setup(db: &Db) -> (Uuid, SessionKey) {
    let (server, customer) = (Uuid::new_v4(), Uuid::new_v4());
    testkit::seed_server(db, server, "hooks").await.unwrap();
    testkit::seed_customers(db, Some(server), &[customer])
        .await
        .unwrap();
    let key = SessionKey {
        customer,
        mode: Mode::Test,
    };
    store::claim(db, key, server, "sandbox").await.unwrap();
    (server, key)
}

/// An endpoint stored directly (as if made before a policy change), failing since `since`.
async fn endpoint(
    db: &Db,
    key: SessionKey,
    url: &str,
    failing_since: Option<chrono::DateTime<Utc>>,
) -> Uuid {
    let id = Uuid::now_v7();
    let now = Utc::now();
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, |conn| sqlx::query(
        "INSERT INTO webhooks (id, customer_id, mode, url, secret, events, is_active, max_retries, \
         retry_backoff_ms, failing_since, created_at, updated_at) \
         VALUES ($1, $2, 'test', $3, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', $4, TRUE, 0, 1, $5, $6, $6)"
    )
    .bind(id)
    .bind(key.customer)
    .bind(url)
    .bind(sqlx::types::Json(json!(["*"])))
    .bind(failing_since)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn delivery_state(db: &Db, webhook: Uuid) -> Option<(String, Option<String>)> {
    on_pool!(db, |pool| sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT state, last_error FROM webhook_deliveries WHERE webhook_id = $1"
    )
    .bind(webhook)
    .fetch_optional(pool)
    .await)
    .unwrap()
}

async fn until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_address_is_refused_at_delivery_without_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    let (server, key) = setup(&db).await;
    let (url, hits) = receiver(StatusCode::OK).await;
    let webhook = endpoint(&db, key, &url, None).await;
    let wake = Arc::new(tokio::sync::Notify::new());
    // Private addresses not allowed on this worker.
    let deliverer = Deliverer::new(db.clone(), server, false, false, wake.clone());
    tokio::spawn(deliverer.run());
    let event = NewEvent::session("webhook.test", json!({})).prepare(key, None);
    assert!(wasp_worker::events::emit(&db, &event).await.unwrap());
    wake.notify_one();
    let (state, error) = until("the refusal", async || {
        delivery_state(&db, webhook)
            .await
            .filter(|(s, _)| s != "pending")
    })
    .await;
    assert_eq!(state, "failed", "not retried");
    assert!(
        error.as_deref().unwrap_or("").contains("private"),
        "{error:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no request was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_for_days_is_disabled_with_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    let (server, key) = setup(&db).await;
    let (url, hits) = receiver(StatusCode::SERVICE_UNAVAILABLE).await;
    let failing = endpoint(&db, key, &url, Some(Utc::now() - Days::days(6))).await;
    let recent = endpoint(&db, key, &url, Some(Utc::now() - Days::hours(1))).await;
    let wake = Arc::new(tokio::sync::Notify::new());
    let deliverer = Deliverer::new(db.clone(), server, true, false, wake.clone());
    tokio::spawn(deliverer.run());
    let event = NewEvent::session("webhook.test", json!({})).prepare(key, None);
    assert!(wasp_worker::events::emit(&db, &event).await.unwrap());
    wake.notify_one();
    until("both attempts", async || {
        (hits.load(Ordering::SeqCst) >= 2
            && delivery_state(&db, failing).await?.0 == "failed"
            && delivery_state(&db, recent).await?.0 == "failed")
            .then_some(())
    })
    .await;
    let active = |id: Uuid| {
        let db = db.clone();
        async move {
            on_pool!(&db, |pool| sqlx::query_as::<_, (bool, Option<String>)>(
                "SELECT is_active, disabled_reason FROM webhooks WHERE id = $1"
            )
            .bind(id)
            .fetch_one(pool)
            .await)
            .unwrap()
        }
    };
    let (is_active, reason) = active(failing).await;
    assert!(!is_active);
    assert!(reason.unwrap().contains("5 days"));
    assert!(active(recent).await.0, "an hour of failures is not enough");
    let alerts: Vec<(String, String, Uuid)> = on_pool!(&db, |pool| sqlx::query_as(
        "SELECT type, message, customer_id FROM alerts"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].0, "webhook_disabled");
    assert!(alerts[0].1.contains("127.0.0.1"));
    assert!(!alerts[0].1.contains("/hook"), "no path in the message");
    assert_eq!(alerts[0].2, key.customer);
}

/// Many deliveries to two endpoints, one answering 200 and one 500 (no retries): the
/// attempts are recorded in batches, and still exactly one attempt per delivery, each
/// delivery's final state, and each endpoint's counters exact.
async fn batched_records_keep_every_attempt_and_exact_counters(db: Db) {
    const N: usize = 300;
    let (server, key) = setup(&db).await;
    let (ok_url, ok_hits) = receiver(StatusCode::OK).await;
    let (bad_url, bad_hits) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let ok = endpoint(&db, key, &ok_url, None).await;
    let bad = endpoint(&db, key, &bad_url, None).await;
    let wake = Arc::new(tokio::sync::Notify::new());
    let deliverer = Deliverer::new(db.clone(), server, true, false, wake.clone());
    let delivering = tokio::spawn(deliverer.clone().run());
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let (db, wake) = (db.clone(), wake.clone());
        writers.spawn(async move {
            for i in 0..N / 4 {
                let event =
                    NewEvent::session("webhook.test", json!({ "n": w * N + i })).prepare(key, None);
                assert!(wasp_worker::events::emit(&db, &event).await.unwrap());
                wake.notify_one();
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            on_pool!(&db, |pool| sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(pool)
                .await)
            .unwrap()
        }
    };
    until("every delivery settled", async || {
        (count("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'").await == 0)
            .then_some(())
    })
    .await;
    delivering.abort();
    deliverer.flush().await;
    assert_eq!(ok_hits.load(Ordering::SeqCst), N, "each delivered once");
    assert_eq!(bad_hits.load(Ordering::SeqCst), N, "each attempted once");
    assert_eq!(
        count("SELECT COUNT(*) FROM webhook_attempts").await,
        2 * N as i64,
        "one attempt logged per delivery"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM webhook_deliveries d WHERE attempts = 1 AND \
             (SELECT COUNT(*) FROM webhook_attempts a WHERE a.delivery_id = d.id AND a.attempt = 1) = 1"
        )
        .await,
        2 * N as i64,
        "each delivery's attempt is its first, logged once"
    );
    let per_state = |webhook: Uuid, state: &'static str| {
        let db = db.clone();
        async move {
            on_pool!(&db, |pool| sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 AND state = $2"
            )
            .bind(webhook)
            .bind(state)
            .fetch_one(pool)
            .await)
            .unwrap()
        }
    };
    assert_eq!(per_state(ok, "delivered").await, N as i64);
    assert_eq!(per_state(bad, "failed").await, N as i64);
    let counters = |id: Uuid| {
        let db = db.clone();
        async move {
            on_pool!(&db, |pool| {
                sqlx::query_as::<
                _,
                (i64, i64, bool, Option<chrono::DateTime<Utc>>, Option<chrono::DateTime<Utc>>),
            >(
                "SELECT CAST(success_count AS BIGINT), CAST(failure_count AS BIGINT), is_active, \
                 failing_since, last_triggered_at FROM webhooks WHERE id = $1"
            )
            .bind(id)
            .fetch_one(pool)
            .await
            })
            .unwrap()
        }
    };
    let (successes, failures, active, failing_since, last) = counters(ok).await;
    assert_eq!((successes, failures, active), (N as i64, 0, true));
    assert!(failing_since.is_none() && last.is_some());
    let (successes, failures, active, failing_since, last) = counters(bad).await;
    assert_eq!(
        (successes, failures, active),
        (0, N as i64, true),
        "failing for minutes only"
    );
    assert!(failing_since.is_some() && last.is_some());
    let (delivered_at, attempted_at): (Option<chrono::DateTime<Utc>>, chrono::DateTime<Utc>) =
        on_pool!(&db, |pool| sqlx::query_as(
            "SELECT d.delivered_at, a.attempted_at FROM webhook_deliveries d \
             JOIN webhook_attempts a ON a.delivery_id = d.id WHERE d.webhook_id = $1 LIMIT 1"
        )
        .bind(ok)
        .fetch_one(pool)
        .await)
        .unwrap();
    assert_eq!(delivered_at, Some(attempted_at));
    assert_eq!(
        count("SELECT COUNT(*) FROM alerts").await,
        0,
        "no endpoint disabled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_batched_records_keep_every_attempt_and_exact_counters() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    batched_records_keep_every_attempt_and_exact_counters(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_batched_records_keep_every_attempt_and_exact_counters() {
    let pg = testkit::PgDb::create("hooks_batch");
    let db = Db::connect(&pg.url, 8).await.unwrap();
    db.migrate().await.unwrap();
    batched_records_keep_every_attempt_and_exact_counters(db.clone()).await;
    db.close().await;
}
