//! The real binary's logs: a request whose URL carries a key, a token and a
//! phone number is traced at debug level, and no line on stderr shows any of them, in
//! either log format.

use crate::support::{free_addr, http, wait_healthy, WASP};
use std::{
    io::Read,
    process::{Child, Command, Stdio},
    thread::JoinHandle,
    time::{Duration, Instant},
};

const KEY_BODY: &str = "3yQm8Gx7Qp2vN9kLr5TbZ1aWcE4fHjK6sPdX8uYnV2oAbCdEfG";
const TOKEN: &str = "abc123secret";
const PHONE: &str = "6281234567890";

/// `wasp up` with its stderr collected by a thread until the process ends.
struct Up {
    child: Child,
    stderr: Option<JoinHandle<String>>,
}

impl Up {
    fn start(data: &std::path::Path, addr: &str, format: &str) -> Up {
        let mut child = Command::new(WASP)
            .arg("up")
            .env("WASP_DATA_DIR", data)
            .env("WASP_HTTP_ADDR", addr)
            .env("WASP_ADMIN_EMAIL", "ops@example.com")
            .env("WASP_ADMIN_PASSWORD", "correct-horse-battery")
            // The request trace (method, URI) is a debug-level span of management's
            // request context.
            .env("WASP_LOG", "wasp_management::http=debug,info")
            .env("WASP_LOG_FORMAT", format)
            // Colours on: field names and `=` then have escape codes in between.
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wasp starts");
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        });
        Up {
            child,
            stderr: Some(stderr),
        }
    }

    /// Stops the process with SIGTERM and returns all it wrote to stderr.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "wasp did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Requests that put secrets where the request trace shows them.
async fn leak_attempts(addr: &str) {
    let key = format!("ak_live_{KEY_BODY}");
    let url = format!("http://{addr}/api/v1/status/{key}?token={TOKEN}&phone={PHONE}");
    let resp = http()
        .get(&url)
        .header("X-API-Key", &key)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let resp = http()
        .post(format!(
            "http://{addr}/api/admin/auth/login?password={TOKEN}"
        ))
        .json(&serde_json::json!({ "email": "ops@example.com", "password": TOKEN }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
}

fn assert_sanitised(logs: &str, format: &str) {
    assert!(
        logs.contains("/api/v1/status/ak_live_***"),
        "{format}: the request was traced with its key masked:\n{logs}"
    );
    assert!(
        logs.contains("token=***") && logs.contains("****7890"),
        "{format}: token and phone masked:\n{logs}"
    );
    assert!(
        logs.contains("/api/admin/auth/login?password=***"),
        "{format}:\n{logs}"
    );
    for secret in [KEY_BODY, TOKEN, PHONE] {
        assert!(
            !logs.contains(secret),
            "{format}: `{secret}` reached the log:\n{logs}"
        );
    }
}

#[tokio::test]
async fn no_key_token_or_phone_number_reaches_the_log_in_either_format() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for format in ["text", "json"] {
        let addr = free_addr();
        let up = Up::start(&data, &addr, format);
        wait_healthy(&addr).await;
        leak_attempts(&addr).await;
        let logs = up.stop();
        assert_sanitised(&logs, format);
        if format == "json" {
            for line in logs.lines().filter(|l| l.starts_with('{')) {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("still one JSON object a line ({e}): {line}"));
            }
        }
    }
}
