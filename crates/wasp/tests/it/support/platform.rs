//! `wasp up` with an operator signed in, on SQLite or PostgreSQL, and the calls tests make
//! on it.

use super::{free_addr, http, wait_healthy, PgDb, Running};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// `wasp up` with an operator signed in.
pub struct Platform {
    pub process: Running,
    pub addr: String,
    pub token: String,
    _dir: tempfile::TempDir,
    _pg: Option<PgDb>,
    /// Environment added to the defaults (kept across restarts).
    extra: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Platform {
    pub async fn start(backend: Backend) -> Platform {
        Self::start_with(backend, &[]).await
    }

    /// [`Platform::start`] with more environment (`WASP_…` settings).
    pub async fn start_with(backend: Backend, extra: &[(&str, &str)]) -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let pg = matches!(backend, Backend::Postgres).then(|| PgDb::create("sandbox"));
        let extra = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::start_in(dir, pg, extra).await
    }

    pub async fn start_in(
        dir: tempfile::TempDir,
        pg: Option<PgDb>,
        extra: Vec<(String, String)>,
    ) -> Platform {
        let addr = free_addr();
        let data = dir.path().join("data");
        let mut env = vec![
            ("WASP_DATA_DIR", data.to_str().unwrap().to_owned()),
            ("WASP_HTTP_ADDR", addr.clone()),
            ("WASP_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
            ("WASP_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
            ("WASP_SANDBOX_RECEIPT_DELAY_MS", "150".to_owned()),
            ("WASP_SANDBOX_RECONNECT_DELAY_MS", "150".to_owned()),
            ("WASP_LIVE_LOGIN_TIMEOUT_SECS", "2".to_owned()),
            ("WASP_COOKIE_SECURE", "false".to_owned()),
            // Live sessions dial a closed local port, never WhatsApp, whatever the machine
            // can reach (tests that pair use the fake WhatsApp: live_pairing.rs).
            ("WASP_LIVE_WS_URL", "ws://127.0.0.1:1/ws/chat".to_owned()),
        ];
        if let Some(pg) = &pg {
            env.push(("WASP_DATABASE_URL", pg.url.clone()));
            env.push((
                "WASP_SECRET_KEY",
                "e2e-secret-key-of-at-least-32-characters".into(),
            ));
        }
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let process = Running::start(&["up"], &env);
        wait_healthy(&addr).await;
        let login: Value = http()
            .post(format!("http://{addr}/api/admin/auth/login"))
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["data"]["token"]
            .as_str()
            .expect("admin token")
            .to_owned();
        let platform = Platform {
            process,
            addr,
            token,
            _dir: dir,
            _pg: pg,
            extra,
        };
        platform.wait_for_local_worker().await;
        platform
    }

    /// Kills the process (SIGKILL: no graceful stop) and starts it again on the same data.
    pub async fn kill_and_restart(mut self) -> Platform {
        self.process.child.kill().expect("SIGKILL");
        self.process.child.wait().expect("reaped");
        let Platform {
            _dir, _pg, extra, ..
        } = self;
        Self::start_in(_dir, _pg, extra).await
    }

    /// Stops the process and starts it again on the same data.
    pub async fn restart(mut self) -> Platform {
        assert!(self.process.stop().success(), "SIGTERM is a clean stop");
        let Platform {
            _dir, _pg, extra, ..
        } = self;
        Self::start_in(_dir, _pg, extra).await
    }

    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
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

    pub async fn wait_for_local_worker(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, list) = self.admin(Method::GET, "/api/admin/servers", None).await;
            if let Some(local) = list["data"].as_array().and_then(|servers| {
                servers
                    .iter()
                    .find(|s| s["name"] == "local" && s["status"] == "active")
                    .cloned()
            }) {
                // Registered on both sides: the worker's own health says so.
                let health = http()
                    .get(format!("{}/health", local["api_url"].as_str().unwrap()))
                    .send()
                    .await;
                if health.is_ok_and(|r| r.status().is_success()) {
                    return local;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the in-process worker never registered: {list}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new customer placed automatically: (id, live key, test key).
    pub async fn customer(&self, email: &str) -> (String, String, String) {
        self.customer_on(email, "pro").await
    }

    /// A new customer with its sandbox session logged in as `phone`: its test key.
    pub async fn logged_in(&self, email: &str, phone: &str) -> String {
        let (_, _, key) = self.customer(email).await;
        self.get(&key, "/app/login").await;
        let (status, body) = self
            .post(&key, "/sandbox/scan", json!({ "phone": phone }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        key
    }

    /// [`Platform::customer`] on another plan.
    pub async fn customer_on(&self, email: &str, plan: &str) -> (String, String, String) {
        let (status, body) = self
            .admin(
                Method::POST,
                "/api/admin/customers",
                Some(json!({ "email": email, "plan": plan, "assign_server": "auto" })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let d = &body["data"];
        (
            d["id"].as_str().unwrap().to_owned(),
            d["api_key"].as_str().unwrap().to_owned(),
            d["test_api_key"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn call(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = http()
            .request(method, format!("http://{}/api/v1{path}", self.addr))
            .header("X-API-Key", key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.call(key, Method::GET, path, None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(key, Method::POST, path, Some(body)).await
    }

    /// Polls `path` until `check` holds on its `data`.
    pub async fn wait_until(
        &self,
        key: &str,
        path: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, body) = self.get(key, path).await;
            if check(&body["data"]) {
                return body["data"].clone();
            }
            assert!(Instant::now() < deadline, "{what} never happened: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
