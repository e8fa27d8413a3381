//! Management places customers' sessions on workers through the internal API: a new
//! customer's instances exist on its worker before its first request; a reassign moves a
//! logged-in session to another worker process with its chats, without a new login; a
//! deleted customer's sessions are closed.

use crate::support::{free_addr, http, wait_healthy, PgDb, Running};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET: &str = "placement-test-secret-key-of-32-characters-or-more";

struct Ops {
    addr: String,
    token: String,
}

impl Ops {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = http()
            .request(method, format!("http://{}{path}", self.addr))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the server's latest heartbeat reports `instances` sessions.
    async fn wait_instances(&self, server: &str, instances: i64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, h) = self
                .call(
                    Method::GET,
                    &format!("/api/admin/servers/{server}/health"),
                    None,
                )
                .await;
            if h["data"]["latest_metrics"]["total_instances"] == instances {
                return;
            }
            assert!(Instant::now() < deadline, "{what}: {h}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn start_worker(env: &[(String, String)]) -> Running {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Running::start(&["worker"], &env)
}

async fn customer_call(
    addr: &str,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http()
        .request(method, format!("http://{addr}/api/v1{path}"))
        .header("X-API-Key", key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A text send with an `Idempotency-Key`.
async fn send_once(
    addr: &str,
    key: &str,
    text: &str,
    idempotency_key: &str,
) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("http://{addr}/api/v1/send/message"))
        .header("X-API-Key", key)
        .header("Idempotency-Key", idempotency_key)
        .json(&json!({ "phone": "6281234567890", "message": text }))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sessions_are_placed_moved_with_their_chats_and_closed() {
    let pg = PgDb::create("placement");
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let _management = Running::start(
        &["management"],
        &[
            ("WASP_DATABASE_URL", pg.url.as_str()),
            ("WASP_SECRET_KEY", SECRET),
            ("WASP_ADMIN_EMAIL", "ops@example.com"),
            ("WASP_ADMIN_PASSWORD", "correct-horse-battery"),
            ("WASP_HTTP_ADDR", addr.as_str()),
            ("WASP_DATA_DIR", dir.path().to_str().unwrap()),
        ],
    );
    wait_healthy(&addr).await;
    let login: Value = http()
        .post(format!("http://{addr}/api/admin/auth/login"))
        .json(&json!({ "email": "ops@example.com", "password": "correct-horse-battery" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ops = Ops {
        addr: addr.clone(),
        token: login["data"]["token"].as_str().unwrap().to_owned(),
    };

    // Two servers, each with its worker process.
    let mut servers = Vec::new();
    let mut workers = Vec::new();
    let mut dirs = Vec::new();
    for name in ["worker-a", "worker-b"] {
        let worker_addr = free_addr();
        let (status, created) = ops
            .call(
                Method::POST,
                "/api/admin/servers",
                Some(json!({ "name": name, "ip_address": "127.0.0.1", "api_url": format!("http://{worker_addr}"),
                             "cpu_cores": 2, "ram_gb": 4, "max_capacity": 50 })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let worker_dir = tempfile::tempdir().unwrap();
        let env = [
            ("WASP_MANAGEMENT_URL", format!("http://{addr}")),
            (
                "WASP_SERVER_KEY",
                created["data"]["api_key"].as_str().unwrap().to_owned(),
            ),
            ("WASP_HTTP_ADDR", worker_addr.clone()),
            ("WASP_DATABASE_URL", pg.url.clone()),
            (
                "WASP_DATA_DIR",
                worker_dir.path().to_str().unwrap().to_owned(),
            ),
            ("WASP_SANDBOX_RECEIPT_DELAY_MS", "0".to_owned()),
        ];
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        workers.push((start_worker(&env), env, worker_addr.clone()));
        wait_healthy(&worker_addr).await;
        servers.push(created["data"]["id"].as_str().unwrap().to_owned());
        dirs.push(worker_dir);
    }
    let (a, b) = (servers[0].as_str(), servers[1].as_str());
    ops.wait_instances(a, 0, "worker-a heartbeats").await;

    // A new customer's sessions (live and sandbox) are created on its worker at once.
    let (status, customer) = ops
        .call(
            Method::POST,
            "/api/admin/customers",
            Some(json!({ "email": "mover@example.com", "plan": "pro", "assign_server": a })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let id = customer["data"]["id"].as_str().unwrap().to_owned();
    let key = customer["data"]["test_api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    ops.wait_instances(a, 2, "instances placed before any request")
        .await;

    // Log in, talk, and get an answer on worker-a.
    let (status, _) = customer_call(&addr, &key, Method::GET, "/app/login", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, scanned) =
        customer_call(&addr, &key, Method::POST, "/sandbox/scan", Some(json!({}))).await;
    assert_eq!(scanned["data"]["state"], "connected", "{scanned}");
    let phone = scanned["data"]["phone_number"].clone();
    let (status, sent) = customer_call(
        &addr,
        &key,
        Method::POST,
        "/send/message",
        Some(json!({ "phone": "6281234567890", "message": "before the move" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (status, _) = customer_call(
        &addr,
        &key,
        Method::POST,
        "/sandbox/inbound",
        Some(json!({ "from": "6281234567890", "message": "answer on a" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Reassign: worker-a lets go, worker-b takes the session over, logged in.
    let (status, moved) = ops
        .call(
            Method::POST,
            &format!("/api/admin/customers/{id}/reassign"),
            Some(json!({ "server_id": b })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["data"]["assigned_server_id"], b);
    let (status, state) = customer_call(&addr, &key, Method::GET, "/app/status", None).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut state = state;
    while state["data"]["state"] != "connected" {
        assert!(
            Instant::now() < deadline,
            "the moved session did not reconnect: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = customer_call(&addr, &key, Method::GET, "/app/status", None)
            .await
            .1;
    }
    assert_eq!(
        state["data"]["phone_number"], phone,
        "same account, no new login"
    );
    let (_, history) = customer_call(
        &addr,
        &key,
        Method::GET,
        "/chat/6281234567890@s.whatsapp.net/messages",
        None,
    )
    .await;
    let bodies: Vec<&str> = history["data"]
        .as_array()
        .expect("a page of messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(
        bodies.contains(&"before the move") && bodies.contains(&"answer on a"),
        "the chat history moved along: {history}"
    );
    let (status, sent) = customer_call(
        &addr,
        &key,
        Method::POST,
        "/send/message",
        Some(json!({ "phone": "6281234567890", "message": "after the move" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    ops.wait_instances(a, 0, "worker-a closed the moved sessions")
        .await;
    ops.wait_instances(b, 2, "worker-b holds them").await;

    // A restarted worker reconnects the sessions it owns at start, before any request.
    let restarted_at = chrono::Utc::now();
    {
        let (process, env, worker_addr) = &mut workers[1];
        assert!(process.stop().success(), "SIGTERM is a clean stop");
        // While its worker is down the customer gets a 503 in the error shape, and a send
        // made with an Idempotency-Key can be retried later: nothing was sent, nothing lost.
        let (status, down) =
            send_once(&addr, &key, "while b was down", "retry-me-after-b-is-back").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{down}");
        assert_eq!(down["error"]["code"], "WORKER_UNAVAILABLE", "{down}");
        *process = start_worker(env);
        wait_healthy(worker_addr).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, h) = ops
            .call(Method::GET, &format!("/api/admin/servers/{b}/health"), None)
            .await;
        let m = &h["data"]["latest_metrics"];
        let fresh = m["recorded_at"]
            .as_str()
            .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
            .is_some_and(|t| t > restarted_at);
        if fresh && m["total_instances"] == 2 && m["active_connections"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted worker did not reconnect its session by itself: {h}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The retry of the refused send goes out now, once, however often it is repeated.
    let (status, first) =
        send_once(&addr, &key, "while b was down", "retry-me-after-b-is-back").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, again) =
        send_once(&addr, &key, "while b was down", "retry-me-after-b-is-back").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["data"]["message_id"], first["data"]["message_id"]);

    // And back to worker-a, which took it first: the session follows again.
    let (status, moved) = ops
        .call(
            Method::POST,
            &format!("/api/admin/customers/{id}/reassign"),
            Some(json!({ "server_id": a })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, state) = customer_call(&addr, &key, Method::GET, "/app/status", None).await;
        if state["data"]["state"] == "connected" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not reconnected on worker-a: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, page) = customer_call(
        &addr,
        &key,
        Method::GET,
        "/chat/6281234567890@s.whatsapp.net/messages",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["meta"]["total"], 4, "{page}");
    ops.wait_instances(b, 0, "worker-b let go").await;

    // Deleting the customer closes its sessions.
    let (status, _) = ops
        .call(Method::DELETE, &format!("/api/admin/customers/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    ops.wait_instances(a, 0, "a deleted customer's sessions are closed")
        .await;
    drop(workers);
}
