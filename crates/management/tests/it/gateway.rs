//! The gateway's front door: cached keys dropped at once on every replica when revoked or
//! when the customer is suspended; per-address abuse limits and bans, in process and in
//! Redis, told to every replica.

use crate::harness::{Reply, TestApp};
use crate::on_both_databases;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wasp_management::db::Backend;

fn redis_url() -> String {
    std::env::var("WASP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn prefix() -> String {
    format!("wasp-test-{}:", uuid::Uuid::new_v4().simple())
}

/// A customer with no server (its calls answer 503 once authenticated): (id, test key).
async fn customer(app: &TestApp, token: &str, email: &str) -> (String, String) {
    let r = app
        .post(
            "/api/admin/customers",
            token,
            json!({ "email": email, "plan": "enterprise", "assign_server": "none" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (
        r.data()["id"].as_str().unwrap().to_owned(),
        r.data()["test_api_key"].as_str().unwrap().to_owned(),
    )
}

/// A customer API call from `ip` (the apps trust `X-Forwarded-For` where asked).
async fn call_from(app: &TestApp, ip: &str, key: Option<&str>) -> Reply {
    let mut req = app
        .http
        .get(app.url("/api/v1/chats"))
        .header("x-forwarded-for", ip);
    if let Some(key) = key {
        req = req.header("x-api-key", key);
    }
    TestApp::reply(req.send().await.unwrap()).await
}

/// Polls `app` with `key` until the answer has `code`; answers how long it took.
async fn until_code(app: &TestApp, key: &str, code: &str) -> Duration {
    let start = Instant::now();
    loop {
        let r = call_from(app, "127.0.0.1", Some(key)).await;
        if r.code() == code {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never {code}: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Two replicas sharing the database and Redis: a key used (so cached) on both is refused
/// by both within a second of its revocation on one; a suspension likewise.
async fn revocation_and_suspension_reach_every_replica_within_a_second(backend: Backend) {
    let (url, prefix) = (redis_url(), prefix());
    let (u2, p2) = (url.clone(), prefix.clone());
    let a = TestApp::start_with(backend, |c| {
        c.redis_url = Some(url);
        c.redis_prefix = prefix;
    })
    .await;
    let b = a
        .replica(|c| {
            c.redis_url = Some(u2);
            c.redis_prefix = p2;
        })
        .await;
    // Give b's subscription a moment to be in place.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let token = a.root_token().await;
    let (id, key) = customer(&a, &token, "cached@x.io").await;
    for app in [&a, &b] {
        let r = call_from(app, "127.0.0.1", Some(&key)).await;
        assert_eq!(r.code(), "WORKER_UNAVAILABLE", "authenticated: {}", r.body);
    }
    let keys = a
        .get(&format!("/api/admin/customers/{id}/keys"), &token)
        .await;
    let key_id = keys.data().as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The key's use was recorded (in a batch, not per request).
    assert!(keys
        .data()
        .as_array()
        .unwrap()
        .iter()
        .any(|k| !k["last_used_at"].is_null()));

    let r = a
        .delete(&format!("/api/admin/customers/{id}/keys/{key_id}"), &token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        call_from(&a, "127.0.0.1", Some(&key)).await.code(),
        "INVALID_API_KEY",
        "refused at once where it was revoked"
    );
    let took = until_code(&b, &key, "INVALID_API_KEY").await;
    assert!(
        took < Duration::from_secs(1),
        "the other replica took {took:?}"
    );

    // Suspension, with another key of the same customer, used on b first.
    let created = a
        .post(
            &format!("/api/admin/customers/{id}/keys"),
            &token,
            json!({ "mode": "test" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key2 = created.data()["api_key"].as_str().unwrap().to_owned();
    assert_eq!(
        call_from(&b, "127.0.0.1", Some(&key2)).await.code(),
        "WORKER_UNAVAILABLE"
    );
    let r = a
        .post(
            &format!("/api/admin/customers/{id}/suspend"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let took = until_code(&b, &key2, "CUSTOMER_SUSPENDED").await;
    assert!(
        took < Duration::from_secs(1),
        "the other replica took {took:?}"
    );
    let r = a
        .post(
            &format!("/api/admin/customers/{id}/activate"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let took = until_code(&b, &key2, "WORKER_UNAVAILABLE").await;
    assert!(took < Duration::from_secs(1), "re-activation took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_revocation_and_suspension_reach_every_replica_within_a_second() {
    revocation_and_suspension_reach_every_replica_within_a_second(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_revocation_and_suspension_reach_every_replica_within_a_second() {
    revocation_and_suspension_reach_every_replica_within_a_second(Backend::Postgres).await
}

on_both_databases!(a_key_revoked_or_its_customer_suspended_is_refused_at_once,);

/// One process, no Redis: the cache never serves a revoked key or a suspended customer.
async fn a_key_revoked_or_its_customer_suspended_is_refused_at_once(app: TestApp) {
    let token = app.root_token().await;
    let (id, key) = customer(&app, &token, "once@x.io").await;
    assert_eq!(
        call_from(&app, "127.0.0.1", Some(&key)).await.code(),
        "WORKER_UNAVAILABLE"
    );
    app.post(
        &format!("/api/admin/customers/{id}/suspend"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(
        call_from(&app, "127.0.0.1", Some(&key)).await.code(),
        "CUSTOMER_SUSPENDED"
    );
    app.post(
        &format!("/api/admin/customers/{id}/activate"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(
        call_from(&app, "127.0.0.1", Some(&key)).await.code(),
        "WORKER_UNAVAILABLE"
    );
    // Regenerating the test key revokes the cached one.
    let r = app
        .post(
            &format!("/api/admin/customers/{id}/regenerate-key"),
            &token,
            json!({ "mode": "test" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        call_from(&app, "127.0.0.1", Some(&key)).await.code(),
        "INVALID_API_KEY"
    );
    let new_key = r.data()["api_key"].as_str().unwrap();
    assert_eq!(
        call_from(&app, "127.0.0.1", Some(new_key)).await.code(),
        "WORKER_UNAVAILABLE"
    );
}

/// 100 failed requests a minute from one address pass (each a 401); the next are refused,
/// each a strike; the fifth strike bans the address for ten minutes — even with a valid
/// key — while other addresses are untouched. Told to every replica.
async fn an_address_that_keeps_failing_is_limited_then_banned(a: TestApp, b: Option<TestApp>) {
    let token = a.root_token().await;
    let (_, key) = customer(&a, &token, "victim@x.io").await;
    let attacker = "203.0.113.5";
    let bogus = "ak_test_1111111111111111111111111111111111";
    for i in 0..100 {
        let r = call_from(&a, attacker, Some(bogus)).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "request {i}: {}",
            r.body
        );
    }
    for strike in 1..=4 {
        let r = call_from(&a, attacker, Some(bogus)).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMIT_EXCEEDED"),
            "strike {strike}: {}",
            r.body
        );
        assert!(r.headers.contains_key("retry-after"));
    }
    // No credential at all counts the same.
    let r = call_from(&a, attacker, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "IP_BANNED"),
        "{}",
        r.body
    );
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((590..=600).contains(&retry), "ten minutes: {retry}");
    // Banned even with a valid key, and from the admin API.
    assert_eq!(
        call_from(&a, attacker, Some(&key)).await.code(),
        "IP_BANNED"
    );
    // A worker behind that address, with its server key, still gets through; a wrong
    // server key from it is still banned.
    let (_, server_key) = a.add_server(&token, "behind-the-proxy", 100, None).await;
    let beat = |key: String| {
        a.http
            .post(a.url("/internal/v1/heartbeat"))
            .header("x-forwarded-for", attacker)
            .bearer_auth(key)
            .json(
                &serde_json::json!({ "cpu_usage": 1.0, "ram_usage": 1.0, "disk_usage": 1.0,
                "active_connections": 0, "total_instances": 0 }),
            )
            .send()
    };
    let ok = TestApp::reply(beat(server_key.clone()).await.unwrap()).await;
    assert!(ok.status.is_success(), "{}: {}", ok.status, ok.body);
    let (body, last) = server_key.split_at(server_key.len() - 1);
    let forged = format!("{body}{}", if last == "1" { "2" } else { "1" });
    let refused = TestApp::reply(beat(forged).await.unwrap()).await;
    assert_eq!(refused.code(), "IP_BANNED", "{}", refused.body);
    // Another address is not affected.
    assert_eq!(
        call_from(&a, "198.51.100.7", Some(&key)).await.code(),
        "WORKER_UNAVAILABLE"
    );
    if let Some(b) = &b {
        let start = Instant::now();
        loop {
            if call_from(b, attacker, Some(&key)).await.code() == "IP_BANNED" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "the ban did not reach b"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // Each 429 and the ban are security events naming the address.
    let limited = a.audit(&token, "rate_limit_exceeded").await;
    let from_attacker: Vec<&Value> = limited
        .iter()
        .filter(|r| {
            r["ip_address"]
                .as_str()
                .is_some_and(|ip| ip.starts_with(attacker))
        })
        .collect();
    assert_eq!(from_attacker.len(), 5, "{limited:?}");
    assert!(from_attacker
        .iter()
        .all(|r| r["event_type"] == "security_event"));
    let bans = a.audit(&token, "ip_banned").await;
    assert_eq!(bans.len(), 1, "{bans:?}");
    assert_eq!(bans[0]["severity"], "critical");
}

mod abuse_in_process {
    use super::*;

    async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, |c| c.trust_proxy = true).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        an_address_that_keeps_failing_is_limited_then_banned(start(Backend::Sqlite).await, None)
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        an_address_that_keeps_failing_is_limited_then_banned(start(Backend::Postgres).await, None)
            .await
    }
}

mod abuse_in_redis {
    use super::*;

    async fn start(backend: Backend) -> (TestApp, TestApp) {
        let (url, prefix) = (redis_url(), prefix());
        let (u2, p2) = (url.clone(), prefix.clone());
        let a = TestApp::start_with(backend, |c| {
            c.trust_proxy = true;
            c.redis_url = Some(url);
            c.redis_prefix = prefix;
        })
        .await;
        let b = a
            .replica(|c| {
                c.trust_proxy = true;
                c.redis_url = Some(u2);
                c.redis_prefix = p2;
            })
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        (a, b)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let (a, b) = start(Backend::Sqlite).await;
        an_address_that_keeps_failing_is_limited_then_banned(a, Some(b)).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let (a, b) = start(Backend::Postgres).await;
        an_address_that_keeps_failing_is_limited_then_banned(a, Some(b)).await
    }
}
