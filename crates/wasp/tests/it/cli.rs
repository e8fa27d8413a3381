//! The real `wasp` binary: first start, restart, configuration errors, `wasp admin`.

use crate::support::{free_addr, http, wait_healthy, PgDb, Running, WASP};
use std::process::Command;

async fn login(addr: &str, email: &str, password: &str) -> reqwest::StatusCode {
    http()
        .post(format!("http://{addr}/api/admin/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn up_starts_on_an_empty_data_dir_prints_the_password_once_and_restarts_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let addr = free_addr();
    let envs = [
        ("WASP_DATA_DIR", data.to_str().unwrap()),
        ("WASP_HTTP_ADDR", addr.as_str()),
    ];

    let mut first = Running::start(&["up"], &envs);
    let email_line = first
        .read_until("email:")
        .expect("the first operator is announced");
    let email = email_line.split_whitespace().last().unwrap().to_owned();
    let password_line = first
        .read_until("password:")
        .expect("its password is printed");
    let password = password_line.split_whitespace().last().unwrap().to_owned();
    let health = wait_healthy(&addr).await;
    assert_eq!(health["dependencies"]["database_backend"], "sqlite");
    assert!(data.join("wasp.db").exists() && data.join("secret.key").exists());
    // Messages, webhook secrets and WhatsApp keys live there: this user's only.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700, "the data directory");
        for file in ["wasp.db", "wasp.db-wal", "wasp.db-shm", "secret.key"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
    }
    assert_eq!(
        login(&addr, &email, &password).await,
        reqwest::StatusCode::OK
    );
    // One OpenAPI document for everything served: the admin API and the customer API
    // the gateway passes to workers.
    let doc: serde_json::Value = http()
        .get(format!("http://{addr}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths["/api/admin/servers"]["get"].is_object());
    assert!(paths["/api/v1/send/message"]["post"]["requestBody"].is_object());
    assert!(
        paths.keys().all(|p| !p.starts_with("/internal/instances")),
        "the workers' internal API is not in the document"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["name"],
        "X-API-Key"
    );
    assert!(first.stop().success(), "SIGTERM is a clean stop");

    let mut second = Running::start(&["up"], &envs);
    wait_healthy(&addr).await;
    assert_eq!(
        login(&addr, &email, &password).await,
        reqwest::StatusCode::OK,
        "same operator after restart"
    );
    assert!(second.stop().success());
    assert!(
        second.read_until("password:").is_none(),
        "the password is printed only on the first start"
    );
}

#[tokio::test]
async fn chosen_first_operator_and_postgres_management_role() {
    let pg = PgDb::create("cli");
    let url = pg.url.clone();
    let addr = free_addr();
    let dir = tempfile::tempdir().unwrap();
    let mut running = Running::start(
        &["management"],
        &[
            ("WASP_DATABASE_URL", url.as_str()),
            ("WASP_SECRET_KEY", "0123456789abcdef0123456789abcdef-test"),
            ("WASP_ADMIN_EMAIL", "ops@example.com"),
            ("WASP_ADMIN_PASSWORD", "a-chosen-password-1"),
            ("WASP_HTTP_ADDR", addr.as_str()),
            ("WASP_DATA_DIR", dir.path().to_str().unwrap()),
        ],
    );
    let health = wait_healthy(&addr).await;
    assert_eq!(health["dependencies"]["database_backend"], "postgres");
    assert_eq!(
        login(&addr, "ops@example.com", "a-chosen-password-1").await,
        reqwest::StatusCode::OK
    );
    assert!(running.stop().success());
    assert!(
        running
            .stdout
            .iter()
            .all(|l| !l.contains("a-chosen-password-1")),
        "a given password is never printed"
    );
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(WASP);
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_stops_start_up_with_a_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cases: [(&str, &str, &str); 7] = [
        ("WASP_HTTP_ADDR", "not-an-address", "WASP_HTTP_ADDR"),
        ("WASP_REDIS_URL", "not a url", "WASP_REDIS_URL"),
        // Nothing listens on port 1: a Redis that cannot be reached stops start-up too.
        ("WASP_REDIS_URL", "redis://127.0.0.1:1", "WASP_REDIS_URL"),
        (
            "WASP_DATABASE_URL",
            "mysql://localhost/wasp",
            "WASP_DATABASE_URL",
        ),
        ("WASP_SECRET_KEY", "too-short", "WASP_SECRET_KEY"),
        (
            "WASP_AUDIT_RETENTION_DAYS",
            "30",
            "WASP_AUDIT_RETENTION_DAYS",
        ),
        ("WASP_LOG_FORMAT", "xml", "WASP_LOG_FORMAT"),
    ];
    for (var, value, named) in cases {
        let (ok, _, stderr) = run(
            &["up"],
            &[
                ("WASP_DATA_DIR", data),
                (var, value),
                (
                    "WASP_HTTP_ADDR",
                    if var == "WASP_HTTP_ADDR" {
                        value
                    } else {
                        "127.0.0.1:0"
                    },
                ),
            ],
        );
        assert!(!ok, "{var}={value} must stop start-up");
        assert!(stderr.contains(named), "{var}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (ok, _, stderr) = run(
        &["management"],
        &[
            (
                "WASP_DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            ("WASP_DATA_DIR", data),
        ],
    );
    assert!(
        !ok && stderr.contains("WASP_SECRET_KEY is required"),
        "{stderr}"
    );
}

#[test]
fn admin_commands_create_list_and_reset_operators() {
    let dir = tempfile::tempdir().unwrap();
    let envs = [("WASP_DATA_DIR", dir.path().to_str().unwrap())];
    let (ok, out, err) = run(
        &[
            "admin",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "viewer",
        ],
        &envs,
    );
    assert!(ok, "{err}");
    assert!(out.contains("created ops@example.com (viewer)"), "{out}");
    let first = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password shown")
        .to_owned();
    let (ok, out, _) = run(&["admin", "list"], &envs);
    assert!(ok && out.contains("ops@example.com") && out.contains("viewer"));
    assert!(!out.contains(&first), "list never shows passwords");
    let (ok, out, _) = run(
        &["admin", "reset-password", "--email", "ops@example.com"],
        &envs,
    );
    assert!(ok);
    let second = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap();
    assert_ne!(first, second);
    let (ok, _, err) = run(&["admin", "create", "--email", "ops@example.com"], &envs);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = run(
        &[
            "admin",
            "create",
            "--email",
            "weak@example.com",
            "--password",
            "short",
        ],
        &envs,
    );
    assert!(!ok && err.contains("12 characters"), "{err}");
    let (ok, _, err) = run(
        &["admin", "reset-password", "--email", "ghost@example.com"],
        &envs,
    );
    assert!(!ok && err.contains("not found"), "{err}");
}
