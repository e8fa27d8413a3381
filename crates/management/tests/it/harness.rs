//! A real management server on 127.0.0.1:0 over a fresh database per test: a SQLite file
//! in a temporary directory, or a PostgreSQL database created for the test and dropped
//! afterwards (`WASP_TEST_POSTGRES_URL`, default the local server).

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use tokio::sync::oneshot;
use wasp_management::{db::Backend, operators, AppState, Config, Db};

pub const ROOT_EMAIL: &str = "root@wasp.test";
pub const ROOT_PASSWORD: &str = "correct-horse-battery-staple";
/// The password operators made by [`TestApp::operator_token`] choose.
pub const OPERATOR_PASSWORD: &str = "operator-chosen-password-456";

pub fn postgres_admin_url() -> String {
    std::env::var("WASP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Db,
    pub http: reqwest::Client,
    /// The outbox file customer mail is appended to (no SMTP in tests).
    pub outbox: std::path::PathBuf,
    _mail_dir: tempfile::TempDir,
    pg_database: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A response's status, headers and JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, |_| {}).await
    }

    /// [`TestApp::start`] with a configuration change.
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_database) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/wasp.db", dir.path().display()), None),
            Backend::Postgres => {
                let name = format!("wasp_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Db::connect(&postgres_admin_url(), 1)
                    .await
                    .expect("PostgreSQL reachable for tests");
                if let Db::Postgres(pool) = &admin {
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(pool)
                        .await
                        .expect("create test database");
                }
                admin.close().await;
                let base = postgres_admin_url();
                let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
                (format!("{prefix}/{name}"), Some(name))
            }
        };
        let db = Db::connect(&url, 8).await.expect("connect test database");
        db.migrate().await.expect("migrations apply");
        operators::bootstrap(&db, Some(ROOT_EMAIL), Some(ROOT_PASSWORD))
            .await
            .expect("first operator");
        let mut app = TestApp::serve(db, configure).await;
        app.pg_database = pg_database;
        app._dir = dir;
        app
    }

    /// A management server on `db`, on a free port.
    async fn serve(db: Db, configure: impl FnOnce(&mut Config)) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::local(addr);
        config.cookie_secure = false;
        let mail_dir = tempfile::tempdir().expect("temp dir");
        let outbox = mail_dir.path().join("outbox.jsonl");
        config.mail.outbox = Some(outbox.clone());
        configure(&mut config);
        let state = AppState::new(
            db.clone(),
            config,
            b"test-secret-test-secret-test-secret!",
            None,
        );
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            wasp_management::app::serve(state, listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        TestApp {
            addr,
            db,
            http: reqwest::Client::new(),
            outbox,
            _mail_dir: mail_dir,
            pg_database: None,
            shutdown: Some(tx),
            server: Some(server),
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Another management replica on the same database (its own process state: caches,
    /// limiters), configured by `configure` on top of the defaults.
    pub async fn replica(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::serve(self.db.clone(), configure).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a request with an optional bearer token (admin JWT or API key) and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, auth: &str) -> Reply {
        self.call(Method::GET, path, Some(auth), None).await
    }
    pub async fn post(&self, path: &str, auth: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(auth), Some(body)).await
    }
    pub async fn put(&self, path: &str, auth: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(auth), Some(body)).await
    }
    pub async fn delete(&self, path: &str, auth: &str) -> Reply {
        self.call(Method::DELETE, path, Some(auth), None).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/admin/auth/login",
            None,
            Some(serde_json::json!({ "email": email, "password": password })),
        )
        .await
    }

    /// Signs in as the first super admin and returns the access token.
    pub async fn root_token(&self) -> String {
        let reply = self.login(ROOT_EMAIL, ROOT_PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.data()["token"].as_str().unwrap().to_owned()
    }

    /// Creates an operator with `role` through the API and returns its token.
    pub async fn operator_token(&self, root: &str, email: &str, role: &str) -> String {
        let password = "operator-password-123";
        let reply = self
            .post(
                "/api/admin/users",
                root,
                serde_json::json!({ "email": email, "role": role, "password": password }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let login = self.login(email, password).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        let token = login.data()["token"].as_str().unwrap().to_owned();
        // A password a super admin set is temporary: the operator chooses their own first.
        let changed = self
            .post(
                "/api/admin/auth/password",
                &token,
                serde_json::json!({ "current_password": password, "new_password": OPERATOR_PASSWORD }),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        token
    }

    /// Adds a server and returns (id, server key).
    pub async fn add_server(
        &self,
        token: &str,
        name: &str,
        capacity: i64,
        region: Option<&str>,
    ) -> (String, String) {
        let reply = self
            .post("/api/admin/servers", token, serde_json::json!({
                "name": name, "ip_address": "127.0.0.1", "api_url": "http://127.0.0.1:9", "max_capacity": capacity, "cpu_cores": 4, "ram_gb": 8, "region": region
            }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        (
            reply.data()["id"].as_str().unwrap().to_owned(),
            reply.data()["api_key"].as_str().unwrap().to_owned(),
        )
    }

    /// Plays a worker's heartbeat with the server key.
    pub async fn heartbeat(&self, server_key: &str, cpu: f64) -> Reply {
        self.call(Method::POST, "/internal/v1/heartbeat", Some(server_key), Some(serde_json::json!({
            "cpu_usage": cpu, "ram_usage": 40.0, "disk_usage": 30.0, "active_connections": 0, "total_instances": 0
        })))
        .await
    }

    /// Audit rows with `action`, newest first, read through the API.
    pub async fn audit(&self, token: &str, action: &str) -> Vec<Value> {
        let reply = self
            .get(
                &format!("/api/admin/logs?action={action}&per_page=100"),
                token,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.data().as_array().unwrap().clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        let name = self.pg_database.take();
        // Drop the test database from a thread with its own runtime: Drop cannot await.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Some(name) = name {
                    if let Ok(Db::Postgres(pool)) = Db::connect(&postgres_admin_url(), 1).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                        pool.close().await;
                    }
                }
            });
        })
        .join()
        .ok();
    }
}

/// Runs each named `async fn(TestApp)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::harness::TestApp::start(wasp_management::db::Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::harness::TestApp::start(wasp_management::db::Backend::Postgres).await).await
                }
            }
        )*
    };
}
