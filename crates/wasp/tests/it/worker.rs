//! A separate `wasp worker` process against `wasp management` on PostgreSQL: registration
//! with the one-time key, heartbeats with metrics in the server list, the customer API
//! routed to that worker, and a wrong key refused and logged.

use crate::support::{free_addr, http, wait_healthy, PgDb, Running, WASP};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET: &str = "worker-test-secret-key-of-32-characters-or-more";

async fn admin(
    addr: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http()
        .request(method, format!("http://{addr}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_worker_registers_heartbeats_serves_its_customers_and_a_wrong_key_is_refused() {
    let pg = PgDb::create("worker");
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
    let token = login["data"]["token"].as_str().unwrap().to_owned();

    // Add a server: its key is shown once.
    let worker_addr = free_addr();
    let (status, created) = admin(
        &addr,
        &token,
        Method::POST,
        "/api/admin/servers",
        Some(json!({ "name": "worker-1", "ip_address": "127.0.0.1", "api_url": format!("http://{worker_addr}"),
                     "cpu_cores": 2, "ram_gb": 4, "max_capacity": 50 })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let server_id = created["data"]["id"].as_str().unwrap().to_owned();
    let server_key = created["data"]["api_key"].as_str().unwrap().to_owned();
    assert_eq!(created["data"]["status"], "initializing");

    // A worker without the database is stopped with a line naming the variable.
    let out = std::process::Command::new(WASP)
        .args(["worker"])
        .env("WASP_MANAGEMENT_URL", format!("http://{addr}"))
        .env("WASP_SERVER_KEY", &server_key)
        .env("WASP_HTTP_ADDR", free_addr())
        .env_remove("WASP_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("WASP_DATABASE_URL"));

    let worker_dir = tempfile::tempdir().unwrap();
    let worker_env = |key: &str, http_addr: &str| {
        vec![
            ("WASP_MANAGEMENT_URL", format!("http://{addr}")),
            ("WASP_SERVER_KEY", key.to_owned()),
            ("WASP_HTTP_ADDR", http_addr.to_owned()),
            ("WASP_DATABASE_URL", pg.url.clone()),
            (
                "WASP_DATA_DIR",
                worker_dir.path().to_str().unwrap().to_owned(),
            ),
            ("WASP_SANDBOX_RECEIPT_DELAY_MS", "0".to_owned()),
        ]
    };
    let env = worker_env(&server_key, &worker_addr);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut worker = Running::start(&["worker"], &env);
    let health = wait_healthy(&worker_addr).await;
    assert_eq!(health["role"], "worker");
    assert_eq!(health["server_id"], server_id.as_str());

    // Its heartbeats reach the server list and the health view.
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let (_, h) = admin(
            &addr,
            &token,
            Method::GET,
            &format!("/api/admin/servers/{server_id}/health"),
            None,
        )
        .await;
        if h["data"]["latest_metrics"].is_object() {
            break h["data"]["latest_metrics"].clone();
        }
        assert!(Instant::now() < deadline, "no heartbeat recorded: {h}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        metrics["cpu_usage"].is_number() && metrics["ram_usage"].is_number(),
        "{metrics}"
    );
    assert_eq!(metrics["total_instances"], 0);
    let (_, list) = admin(&addr, &token, Method::GET, "/api/admin/servers", None).await;
    let row = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == server_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["status"], "active");
    assert_eq!(row["connectivity_status"], "online");
    assert_ne!(row["health_status"], "unknown");

    // A customer placed on it is served by this worker process.
    let (status, customer) = admin(
        &addr,
        &token,
        Method::POST,
        "/api/admin/customers",
        Some(json!({ "email": "dana@example.com", "plan": "basic", "assign_server": server_id })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let test_key = customer["data"]["test_api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let call = |method: Method, path: &str, body: Option<Value>| {
        let mut req = http()
            .request(method, format!("http://{addr}/api/v1{path}"))
            .header("X-API-Key", &test_key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    assert_eq!(
        call(Method::GET, "/app/login", None)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let scanned: Value = call(Method::POST, "/sandbox/scan", Some(json!({})))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scanned["data"]["state"], "connected", "{scanned}");
    let sent = call(
        Method::POST,
        "/send/message",
        Some(json!({ "phone": "6281234567890", "message": "via worker-1" })),
    )
    .await
    .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, h) = admin(
            &addr,
            &token,
            Method::GET,
            &format!("/api/admin/servers/{server_id}/health"),
            None,
        )
        .await;
        let m = &h["data"]["latest_metrics"];
        // Both of the customer's sessions (live and sandbox) are placed; the sandbox one is
        // connected.
        if m["total_instances"] == 2 && m["active_connections"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "heartbeats never counted the session: {h}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A stopped worker: the gateway answers 503 in the error shape.
    assert!(worker.stop().success(), "SIGTERM is a clean stop");
    let resp = call(Method::GET, "/chats", None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "WORKER_UNAVAILABLE");

    // A well-formed key management does not know: the worker stops, naming the variable,
    // and management records a security event.
    let forged = wasp_protocol::SecretKey::generate(wasp_protocol::KeyKind::Server)
        .expose()
        .to_owned();
    let env = worker_env(&forged, &free_addr());
    let mut cmd = std::process::Command::new(WASP);
    cmd.arg("worker");
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "a refused key stops the worker");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WASP_SERVER_KEY"), "{stderr}");
    assert!(
        !stderr.contains(&forged),
        "the key is never printed: {stderr}"
    );
    let (_, logs) = admin(
        &addr,
        &token,
        Method::GET,
        "/api/admin/logs?action=server_auth_failed",
        None,
    )
    .await;
    assert!(logs["meta"]["total"].as_i64().unwrap() >= 1, "{logs}");
}
