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
