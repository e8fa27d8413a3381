//! Plan limits on the customer API: each plan's requests per minute, reached exactly at
//! the limit, with the X-RateLimit headers on every answer and a 429 in the error shape
//! with Retry-After; customers limited independently; enterprise unlimited.

use crate::harness::TestApp;
use crate::on_both_databases;
use reqwest::StatusCode;
use serde_json::json;

on_both_databases!(the_minute_limit_is_reached_exactly_with_headers_and_per_customer,);

/// The same test with the counters in Redis (`WASP_TEST_REDIS_URL`, default the local one),
/// under a key prefix of its own.
mod redis_limiter {
    use wasp_management::db::Backend;

    async fn start(backend: Backend) -> crate::harness::TestApp {
        let url = std::env::var("WASP_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let prefix = format!("wasp-test-{}:", uuid::Uuid::new_v4().simple());
        crate::harness::TestApp::start_with(backend, |config| {
            config.redis_url = Some(url);
            config.redis_prefix = prefix;
        })
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::the_minute_limit_is_reached_exactly_with_headers_and_per_customer(
            start(Backend::Sqlite).await,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::the_minute_limit_is_reached_exactly_with_headers_and_per_customer(
            start(Backend::Postgres).await,
        )
        .await
    }
}

async fn customer(app: &TestApp, token: &str, email: &str, plan: &str) -> String {
    let r = app
        .post(
            "/api/admin/customers",
            token,
            json!({ "email": email, "plan": plan, "assign_server": "none" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.data()["test_api_key"].as_str().unwrap().to_owned()
}

fn header(r: &crate::harness::Reply, name: &str) -> Option<u64> {
    r.headers.get(name)?.to_str().ok()?.parse().ok()
}

async fn the_minute_limit_is_reached_exactly_with_headers_and_per_customer(app: TestApp) {
    let token = app.root_token().await;
    let basic = customer(&app, &token, "basic@x.io", "basic").await;
    let other = customer(&app, &token, "other@x.io", "basic").await;
    let enterprise = customer(&app, &token, "big@x.io", "enterprise").await;

    // 60 requests a minute on basic: each answered (here 503: no server assigned), each
    // with the headers counting down.
    for i in 0..60u64 {
        let r = app.get("/api/v1/chats", &basic).await;
        assert_eq!(r.code(), "WORKER_UNAVAILABLE", "request {i}: {}", r.body);
        assert_eq!(header(&r, "x-ratelimit-limit"), Some(60));
        assert_eq!(
            header(&r, "x-ratelimit-remaining"),
            Some(59 - i),
            "request {i}"
        );
        assert!(header(&r, "x-ratelimit-reset").is_some());
    }
    let refused = app.get("/api/v1/chats", &basic).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(refused.body["success"], false);
    assert!(refused.body["error"]["retry_after"].as_u64().unwrap() >= 1);
    assert!(header(&refused, "retry-after").unwrap() >= 1);
    assert_eq!(header(&refused, "x-ratelimit-remaining"), Some(0));

    // Another customer on the same plan is not affected.
    let r = app.get("/api/v1/chats", &other).await;
    assert_eq!(r.code(), "WORKER_UNAVAILABLE");
    assert_eq!(header(&r, "x-ratelimit-remaining"), Some(59));

    // Enterprise: no limit, no limit headers.
    for _ in 0..70 {
        let r = app.get("/api/v1/chats", &enterprise).await;
        assert_eq!(r.code(), "WORKER_UNAVAILABLE");
        assert!(r.headers.get("x-ratelimit-limit").is_none());
    }

    // Each 429 is a security event.
    let logs = app
        .get("/api/admin/logs?action=rate_limit_exceeded", &token)
        .await;
    assert_eq!(logs.body["meta"]["total"], 1, "{}", logs.body);
}
