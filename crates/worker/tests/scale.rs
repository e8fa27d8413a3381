//! One worker holding 1,000 sandbox sessions: each logs in and sends through the worker's
//! HTTP API (service tokens as management signs them), then a restarted worker restores
//! every session and every chat.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::Semaphore};
use uuid::Uuid;
use wasp_db::{on_tx, Db};
use wasp_protocol::{
    registry::Registration,
    service_token::{Mode, TokenSigner},
};
use wasp_worker::{
    instances::LiveDriver, sandbox::SandboxConfig, Worker, WorkerConfig, WorkerState,
};

const SESSIONS: usize = 1_000;

async fn database(dir: &std::path::Path) -> Db {
    let db = Db::connect(&format!("sqlite://{}/wasp.db", dir.display()), 8)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

async fn seed(db: &Db, server: Uuid, customers: &[Uuid]) {
    let now = chrono::Utc::now();
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, |conn| sqlx::query(
        "INSERT INTO servers (id, name, ip_address, api_url, api_key_hash, api_key_hint, cpu_cores, ram_gb, status, created_at, updated_at) \
         VALUES ($1, 'scale', '127.0.0.1', 'http://127.0.0.1:9', 'hash', 'hint', 2, 4, 'active', $2, $2)"
    )
    .bind(server)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
    .unwrap();
    for (i, id) in customers.iter().enumerate() {
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO customers (id, email, assigned_server_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(id)
        .bind(format!("c{i}@example.com"))
        .bind(server)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A worker serving on a local port, registered as `server` with `signer`'s public key.
async fn start(
    db: &Db,
    server: Uuid,
    signer: &TokenSigner,
    dir: &std::path::Path,
) -> (WorkerState, String, tokio::sync::oneshot::Sender<()>) {
    let worker = Worker::new(
        WorkerConfig {
            management_url: "http://127.0.0.1:9".into(),
            server_key: String::new(),
            advertise_url: None,
            data_dir: dir.to_path_buf(),
            live_driver: LiveDriver::Sandbox,
            live: Default::default(),
            sandbox: SandboxConfig {
                receipt_delay: None,
                ..Default::default()
            },
            media_allow_private: false,
        },
        db.clone(),
        None,
    );
    worker
        .registered(&Registration {
            server_id: server,
            name: "scale".into(),
            heartbeat_interval_secs: 5,
            service_token_key: signer.public_key(),
        })
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = wasp_worker::router::router(worker.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (worker, url, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_worker_holds_a_thousand_sandbox_sessions_and_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let server = Uuid::new_v4();
    let customers: Vec<Uuid> = (0..SESSIONS).map(|_| Uuid::new_v4()).collect();
    seed(&db, server, &customers).await;
    let signer = Arc::new(TokenSigner::from_seed([42; 32]));
    let (worker, url, stop) = start(&db, server, &signer, dir.path()).await;
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
    let _ = stop.send(());
    instances.shutdown().await;
    drop(worker);
    let (worker, _url, _stop) = start(&db, server, &signer, dir.path()).await;
    let instances = worker.instances().unwrap().clone();
    let restored = instances.restore_all().await.unwrap();
    assert_eq!(restored, SESSIONS);
    assert_eq!(
        instances.connected(),
        SESSIONS,
        "every session reconnected after the restart"
    );
}
