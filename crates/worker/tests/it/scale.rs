//! One worker holding 1,000 sandbox sessions: each logs in and sends through the worker's
//! HTTP API (service tokens as management signs them), then a restarted worker restores
//! every session and every chat.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};
use tokio::sync::Semaphore;
use uuid::Uuid;
use wasp_db::Db;
use wasp_protocol::service_token::{Mode, TokenSigner};
use wasp_worker::{testkit, WorkerState};

const SESSIONS: usize = 1_000;

async fn start(
    db: &Db,
    server: Uuid,
    signer: &TokenSigner,
    dir: &std::path::Path,
) -> (WorkerState, String, testkit::Served) {
    let served = testkit::serve(testkit::sandbox_config(dir), db, server, signer)
        .await
        .unwrap();
    (served.worker.clone(), served.url.clone(), served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_worker_holds_a_thousand_sandbox_sessions_and_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    let server = Uuid::new_v4();
    let customers: Vec<Uuid> = (0..SESSIONS).map(|_| Uuid::new_v4()).collect();
    testkit::seed_server(&db, server, "scale").await.unwrap();
    testkit::seed_customers(&db, Some(server), &customers)
        .await
        .unwrap();
    let signer = Arc::new(TokenSigner::from_seed([42; 32]));
    let (worker, url, mut served) = start(&db, server, &signer, dir.path()).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()
        .unwrap();

    let limit = Arc::new(Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, customer) in customers.iter().copied().enumerate() {
        let (http, url, signer, limit) = (http.clone(), url.clone(), signer.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let token = signer.for_request(server, Some(customer), Some(Mode::Test), None);
            let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
                let mut req = http
                    .request(method, format!("{url}/api/v1{path}"))
                    .bearer_auth(&token);
                if let Some(body) = body {
                    req = req.json(&body);
                }
                req.send()
            };
            let login = call(reqwest::Method::GET, "/app/login", None)
                .await
                .unwrap();
            assert_eq!(login.status(), StatusCode::OK);
            let phone = format!("+1555{:07}", 1_000_001 + i);
            let scan = call(
                reqwest::Method::POST,
                "/sandbox/scan",
                Some(json!({ "phone": phone })),
            )
            .await
            .unwrap();
            assert_eq!(scan.status(), StatusCode::OK);
            let sent = call(
                reqwest::Method::POST,
                "/send/message",
                Some(json!({ "phone": "6281234567890", "message": format!("message {i}") })),
            )
            .await
            .unwrap();
            assert_eq!(sent.status(), StatusCode::OK);
            let body: Value = sent.json().await.unwrap();
            body["data"]["message_id"].as_str().unwrap().to_owned()
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(done) = tasks.join_next().await {
        ids.insert(done.unwrap());
    }
    assert_eq!(ids.len(), SESSIONS, "every send got its own message id");
    let instances = worker.instances().unwrap().clone();
    assert_eq!(instances.len(), SESSIONS);
    assert_eq!(instances.connected(), SESSIONS);
    assert_eq!(
        instances
            .counters
            .sent
            .load(std::sync::atomic::Ordering::Relaxed),
        SESSIONS as u64
    );

    // Each customer sees exactly its own message.
    for (i, customer) in customers.iter().enumerate().step_by(97) {
        let token = signer.for_request(server, Some(*customer), Some(Mode::Test), None);
        let page: Value = http
            .get(format!(
                "{url}/api/v1/chat/6281234567890@s.whatsapp.net/messages"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["meta"]["total"], 1, "{page}");
        assert_eq!(page["data"][0]["body"], format!("message {i}"));
    }

    // Restart: a new worker on the same database restores all of them.
    served.stop();
    instances.shutdown().await;
    drop(worker);
    let (worker, _url, _served) = start(&db, server, &signer, dir.path()).await;
    let instances = worker.instances().unwrap().clone();
    let restored = instances.restore_all().await.unwrap();
    assert_eq!(restored, SESSIONS);
    assert_eq!(
        instances.connected(),
        SESSIONS,
        "every session reconnected after the restart"
    );
}
