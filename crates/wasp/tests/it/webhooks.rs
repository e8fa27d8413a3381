//! Webhooks end to end on `wasp up`: a sandbox event reaches a local receiver, signed so
//! that the Standard Webhooks reference library (PyPI `standardwebhooks`) verifies it and
//! with the `X-Hub-Signature-256` of the current codebase; retries with a delivery log;
//! filters; secret rotation; private addresses refused.

use crate::support::{
    self,
    platform::{Backend, Platform},
};
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode as AxumStatus},
    routing::post,
    Router,
};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    headers: HeaderMap,
    body: Bytes,
}

/// A local webhook receiver: answers `failures` times with `fail_status`, then 200.
#[derive(Clone)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    failures: Arc<Mutex<usize>>,
    fail_status: u16,
    url: String,
    /// While false, requests wait (unanswered) until it opens.
    open: tokio::sync::watch::Sender<bool>,
}

impl Receiver {
    async fn start(failures: usize, fail_status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Receiver {
            hits: Arc::default(),
            failures: Arc::new(Mutex::new(failures)),
            fail_status,
            url: format!("http://{addr}/hook"),
            open: tokio::sync::watch::Sender::new(true),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Hit> {
        let deadline = Instant::now() + within;
        loop {
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} deliveries arrived",
                hits.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    // A request whose sender went away meanwhile is dropped here, unrecorded.
    let _ = r.open.subscribe().wait_for(|open| *open).await;
    r.hits.lock().unwrap().push(Hit { headers, body });
    let mut failures = r.failures.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        return AxumStatus::from_u16(r.fail_status).unwrap();
    }
    AxumStatus::OK
}

fn header<'a>(hit: &'a Hit, name: &str) -> &'a str {
    hit.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Verifies a delivery with the Standard Webhooks reference library (Python).
fn verified_by_standardwebhooks(secret: &str, hit: &Hit) -> bool {
    let script = r#"
import sys, json
from standardwebhooks import Webhook
secret, msg_id, ts, sig = sys.argv[1:5]
body = sys.stdin.buffer.read()
Webhook(secret).verify(body, {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sig})
"#;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            secret,
            header(hit, "webhook-id"),
            header(hit, "webhook-timestamp"),
            header(hit, "webhook-signature"),
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (with the standardwebhooks package: pip install standardwebhooks)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&hit.body).unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        eprintln!("standardwebhooks: {}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.success()
}

fn hub_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A customer with its sandbox session logged in: its id and test key.
async fn connected_customer(p: &Platform, email: &str) -> (String, String) {
    let (id, _, key) = p.customer(email).await;
    p.get(&key, "/app/login").await;
    let (status, body) = p.post(&key, "/sandbox/scan", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, key)
}

async fn add_endpoint(p: &Platform, key: &str, body: Value) -> (String, String) {
    let (status, created) = p.post(key, "/webhooks", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["data"]["id"].as_str().unwrap().to_owned(),
        created["data"]["secret"].as_str().unwrap().to_owned(),
    )
}

async fn inbound(p: &Platform, key: &str, text: &str) {
    let (status, body) = p
        .post(
            key,
            "/sandbox/inbound",
            json!({ "from": "6281234567890", "message": text }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn signed_filtered_and_isolated(backend: Backend) {
    let p = Platform::start_with(backend, &[("WASP_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let (customer, key) = connected_customer(&p, "hooks@example.com").await;
    let received_only = Receiver::start(0, 500).await;
    let everything = Receiver::start(0, 500).await;
    let (_, secret) = add_endpoint(
        &p,
        &key,
        json!({ "url": received_only.url, "events": ["message.received"] }),
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    add_endpoint(&p, &key, json!({ "url": everything.url })).await;
    // The secret is never shown again.
    let (_, list) = p.get(&key, "/webhooks").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&secret));
    // Another customer's endpoint hears nothing of this one.
    let (_, other_key) = connected_customer(&p, "other@example.com").await;
    let other = Receiver::start(0, 500).await;
    add_endpoint(&p, &other_key, json!({ "url": other.url })).await;

    inbound(&p, &key, "hello hook").await;
    let hit = received_only.wait_for(1, Duration::from_secs(5)).await[0].clone();
    let doc: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(doc["event"], "message.received");
    assert_eq!(doc["mode"], "test");
    assert_eq!(doc["payload"]["body"], "hello hook");
    assert_eq!(doc["payload"]["from"], "6281234567890@s.whatsapp.net");
    assert_eq!(doc["payload"]["from_phone"], "+6281234567890");
    assert_eq!(doc["payload"]["is_from_me"], false);
    assert!(doc["device_id"]
        .as_str()
        .unwrap()
        .ends_with("@s.whatsapp.net"));
    assert_eq!(header(&hit, "webhook-id"), doc["id"].as_str().unwrap());
    assert!(header(&hit, "webhook-signature").starts_with("v1,"));
    assert!(
        verified_by_standardwebhooks(&secret, &hit),
        "the reference library accepts the signature"
    );
    assert!(
        !verified_by_standardwebhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &hit),
        "and refuses it under another secret"
    );
    assert_eq!(
        header(&hit, "x-hub-signature-256"),
        hub_signature(&secret, &hit.body)
    );

    // A send: `message.sent` goes to the endpoint that takes everything, not to the one
    // that asked for received messages only; then its receipts follow.
    let (status, sent) = p
        .post(
            &key,
            "/send/message",
            json!({ "phone": "6281234567890", "message": "hi back" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let id = sent["data"]["message_id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let kinds = loop {
        let kinds: Vec<String> = everything
            .hits()
            .iter()
            .map(|h| serde_json::from_slice::<Value>(&h.body).unwrap())
            .filter(|d| d["payload"]["id"] == id)
            .map(|d| d["event"].as_str().unwrap().to_owned())
            .collect();
        if kinds.contains(&"message.read".to_owned()) {
            break kinds;
        }
        assert!(Instant::now() < deadline, "receipts never came: {kinds:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        kinds,
        ["message.sent", "message.delivered", "message.read"],
        "each step once, in order"
    );
    assert_eq!(received_only.hits().len(), 1, "the filter held");
    // Operators see the endpoints and their counts, never the secrets.
    let (status, admin) = p
        .admin(
            Method::GET,
            &format!("/api/admin/customers/{customer}/webhooks"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{admin}");
    assert_eq!(admin["data"].as_array().unwrap().len(), 2);
    assert!(admin["data"][0]["success_count"].as_i64().unwrap() >= 1);
    assert!(!admin.to_string().contains("whsec_"));
    assert!(
        other.hits().is_empty(),
        "another customer's endpoint got nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_signed_filtered_and_isolated() {
    signed_filtered_and_isolated(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_signed_filtered_and_isolated() {
    signed_filtered_and_isolated(Backend::Postgres).await;
}

async fn retried_logged_replayed_and_rotated(backend: Backend) {
    let p = Platform::start_with(backend, &[("WASP_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let (_, key) = connected_customer(&p, "retry@example.com").await;

    // Fails 3 times, then recovers: the event arrives a 4th time, the log shows 4 attempts.
    let flaky = Receiver::start(3, 500).await;
    let (id, secret) = add_endpoint(
        &p,
        &key,
        json!({ "url": flaky.url, "events": ["message.received"], "retry_backoff_ms": 1 }),
    )
    .await;
    inbound(&p, &key, "try again").await;
    let hits = flaky.wait_for(4, Duration::from_secs(15)).await;
    assert!(hits
        .iter()
        .all(|h| header(h, "webhook-id") == header(&hits[0], "webhook-id")));
    assert!(verified_by_standardwebhooks(&secret, &hits[3]));
    let deadline = Instant::now() + Duration::from_secs(5);
    let delivery = loop {
        let (_, log) = p.get(&key, &format!("/webhooks/{id}/deliveries")).await;
        let d = log["data"][0].clone();
        if d["state"] == "delivered" {
            break d;
        }
        assert!(Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let codes: Vec<i64> = delivery["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 500, 200]);
    assert_eq!(delivery["attempts"], 4);
    // The log shows the request as sent: the exact body (the bytes signed) and, per
    // attempt, its headers but the signatures.
    assert_eq!(
        delivery["request_body"].as_str().unwrap().as_bytes(),
        &hits[3].body[..],
        "{delivery}"
    );
    for (attempt, hit) in delivery["log"].as_array().unwrap().iter().zip(&hits) {
        let sent = attempt["request_headers"].as_object().unwrap();
        for name in [
            "content-type",
            "user-agent",
            "webhook-id",
            "webhook-timestamp",
            "x-wasp-delivery",
        ] {
            assert_eq!(sent[name], header(hit, name), "{name}: {attempt}");
        }
        assert_eq!(sent["x-wasp-delivery"], delivery["id"]);
        assert_eq!(sent.len(), 5, "no signature kept: {attempt}");
    }
    assert!(delivery["log"][0]["latency_ms"].as_i64().is_some());
    let (_, endpoint) = p.get(&key, &format!("/webhooks/{id}")).await;
    assert_eq!(endpoint["data"]["success_count"], 1);
    assert_eq!(endpoint["data"]["failure_count"], 3);
    assert!(!endpoint["data"]["last_triggered_at"].is_null());
    assert_eq!(flaky.hits().len(), 4, "not once more after success");

    // A 4xx other than 408/429 is not retried: a dead letter at once, which a replay
    // delivers again.
    let gone = Receiver::start(1, 410).await;
    let (gone_id, _) = add_endpoint(
        &p,
        &key,
        json!({ "url": gone.url, "events": ["message.received"], "retry_backoff_ms": 1 }),
    )
    .await;
    inbound(&p, &key, "are you there").await;
    gone.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gone.hits().len(), 1, "410 is final");
    let (_, log) = p
        .get(
            &key,
            &format!("/webhooks/{gone_id}/deliveries?state=failed"),
        )
        .await;
    assert_eq!(log["data"].as_array().unwrap().len(), 1, "{log}");
    let (status, replayed) = p
        .post(
            &key,
            &format!("/webhooks/{gone_id}/replay"),
            json!({ "since": "2000-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(replayed["data"]["replayed"], 1);
    gone.wait_for(2, Duration::from_secs(5)).await;

    // Rotation: for 24 hours both secrets sign each delivery.
    let (status, rotated) = p
        .post(&key, &format!("/webhooks/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["data"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(!rotated["data"]["previous_secret_expires_at"].is_null());
    inbound(&p, &key, "after rotation").await;
    // (The flaky endpoint also got "are you there": this is its 6th request.)
    let hit = flaky.wait_for(6, Duration::from_secs(5)).await[5].clone();
    assert_eq!(
        header(&hit, "webhook-signature").split(' ').count(),
        2,
        "two signatures"
    );
    assert!(verified_by_standardwebhooks(&new_secret, &hit));
    assert!(verified_by_standardwebhooks(&secret, &hit));

    // A test event, on demand.
    let (status, _) = p
        .post(&key, &format!("/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let hit = flaky.wait_for(7, Duration::from_secs(5)).await[6].clone();
    let doc: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(doc["event"], "webhook.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_retried_logged_replayed_and_rotated() {
    retried_logged_replayed_and_rotated(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_retried_logged_replayed_and_rotated() {
    retried_logged_replayed_and_rotated(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_and_bad_input_are_refused() {
    let p = Platform::start(Backend::Sqlite).await;
    let (_, _, key) = p.customer("ssrf@example.com").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost/hook",
        "ftp://example.com/hook",
    ] {
        let (status, body) = p.post(&key, "/webhooks", json!({ "url": url })).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{url}: {body}"
        );
        assert_eq!(body["error"]["field"], "url");
    }
    let (status, body) = p
        .post(
            &key,
            "/webhooks",
            json!({ "url": "https://example.com/hook", "events": ["message.nope"] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
    );
    let (status, body) = p
        .post(
            &key,
            "/webhooks",
            json!({ "url": "https://example.com/hook", "events": ["message.*"], "max_retries": 3 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    // Not found for another customer; gone after delete.
    let (_, _, other) = p.customer("other@example.com").await;
    let (status, _) = p.get(&other, &format!("/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = p
        .call(&key, Method::DELETE, &format!("/webhooks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = p.get(&key, &format!("/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// 500 events acknowledged but not yet delivered (the receiver holds every request
/// unanswered), then SIGKILL: after the restart all 500 arrive, and the log shows each
/// delivered exactly once.
async fn nothing_acknowledged_is_lost_across_sigkill(backend: Backend) {
    let p = Platform::start_with(backend, &[("WASP_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    // Enterprise: 500 requests in a minute are within its (absent) limits.
    let (_, _, key) = p.customer_on("durable@example.com", "enterprise").await;
    p.get(&key, "/app/login").await;
    p.post(&key, "/sandbox/scan", json!({})).await;
    let receiver = Receiver::start(0, 500).await;
    receiver.open.send_replace(false);
    let (id, _) = add_endpoint(
        &p,
        &key,
        json!({ "url": receiver.url, "events": ["message.received"] }),
    )
    .await;
    const N: usize = 500;
    let client = support::http();
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..N {
        let (client, url, key) = (
            client.clone(),
            format!("http://{}/api/v1/sandbox/inbound", p.addr),
            key.clone(),
        );
        sends.spawn(async move {
            let resp = client
                .post(url)
                .header("X-API-Key", key)
                .json(&json!({ "from": "6281234567890", "message": format!("event {i}") }))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::CREATED);
        });
        if sends.len() >= 16 {
            sends.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = sends.join_next().await {
        done.unwrap();
    }
    assert!(receiver.hits().is_empty(), "nothing answered yet");

    let p = p.kill_and_restart().await;
    receiver.open.send_replace(true);
    let hits = receiver.wait_for(N, Duration::from_secs(60)).await;
    let ids: std::collections::BTreeSet<&str> =
        hits.iter().map(|h| header(h, "webhook-id")).collect();
    assert_eq!(ids.len(), N, "every event arrived");
    let bodies: std::collections::BTreeSet<String> = hits
        .iter()
        .map(|h| {
            serde_json::from_slice::<Value>(&h.body).unwrap()["payload"]["body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(bodies.len(), N, "each message's own event");

    // The log: every delivery delivered, with exactly one successful attempt.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut delivered;
    loop {
        delivered = Vec::new();
        for offset in (0..N).step_by(100) {
            let (status, page) = p
                .get(
                    &key,
                    &format!("/webhooks/{id}/deliveries?state=delivered&limit=100&offset={offset}"),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            delivered.extend(page["data"].as_array().unwrap().clone());
        }
        if delivered.len() == N || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(delivered.len(), N);
    for d in &delivered {
        let successes = d["log"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status_code"] == 200)
            .count();
        assert_eq!(successes, 1, "{d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_nothing_acknowledged_is_lost_across_sigkill() {
    nothing_acknowledged_is_lost_across_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nothing_acknowledged_is_lost_across_sigkill() {
    nothing_acknowledged_is_lost_across_sigkill(Backend::Postgres).await;
}

/// The live stream (`GET /api/v1/events`, Server-Sent Events through the gateway) shows an
/// inbound message within 100 ms, and only the streaming customer's.
async fn the_live_stream_shows_an_inbound_message_at_once(backend: Backend) {
    use futures_util::StreamExt;
    let p = Platform::start(backend).await;
    let (_, key) = connected_customer(&p, "live@example.com").await;
    let (_, other_key) = connected_customer(&p, "quiet@example.com").await;
    let resp = support::http()
        .get(format!(
            "http://{}/api/v1/events?events=message.received",
            p.addr
        ))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    tokio::spawn(async move {
        let mut body = resp.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if event.contains("data:") {
                    let _ = tx.send((Instant::now(), event));
                }
            }
        }
    });
    // Another customer's message does not show.
    inbound(&p, &other_key, "not yours").await;
    let sent = Instant::now();
    inbound(&p, &key, "live and direct").await;
    let (arrived, event) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event within 5 s")
        .unwrap();
    let took = arrived.duration_since(sent);
    assert!(event.contains("event: message.received"), "{event}");
    assert!(event.contains("live and direct"), "{event}");
    assert!(!event.contains("not yours"));
    let data = event
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    let doc: Value = serde_json::from_str(data).unwrap();
    assert_eq!(doc["payload"]["body"], "live and direct");
    assert!(
        took < Duration::from_millis(100),
        "the event took {took:?} from the inbound request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_live_stream_shows_an_inbound_message_at_once() {
    the_live_stream_shows_an_inbound_message_at_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_live_stream_shows_an_inbound_message_at_once() {
    the_live_stream_shows_an_inbound_message_at_once(Backend::Postgres).await;
}
