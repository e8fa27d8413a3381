//! Bad input, limits, headers and the OpenAPI document.

use crate::harness::TestApp;
use crate::on_both_databases;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_databases!(
    bad_input_is_answered_in_the_error_shape,
    every_response_carries_security_headers_and_a_request_id,
    openapi_and_docs_are_served_offline,
    page_numbers_outside_the_documented_range_are_refused,
);

async fn bad_input_is_answered_in_the_error_shape(app: TestApp) {
    let token = app.root_token().await;
    let send_raw = |body: &'static str| {
        app.http
            .post(app.url("/api/admin/servers"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let malformed = TestApp::reply(send_raw("{\"name\": ").await.unwrap()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.body["success"], false);
    assert_eq!(malformed.code(), "INVALID_JSON");

    let unknown = app.post("/api/admin/servers", &token, json!({ "name": "a", "ip_address": "127.0.0.1", "cpu_cores": 1, "ram_gb": 1, "colour": "red" })).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.code(), "VALIDATION_ERROR");
    assert_eq!(unknown.body["error"]["field"], "colour");

    let wrong_type = app
        .post(
            "/api/admin/servers",
            &token,
            json!({ "name": "a", "ip_address": "not-an-ip", "cpu_cores": 1, "ram_gb": 1 }),
        )
        .await;
    assert_eq!(wrong_type.code(), "VALIDATION_ERROR");
    assert_eq!(wrong_type.body["error"]["field"], "ip_address");
    let missing = app
        .post("/api/admin/servers", &token, json!({ "name": "a" }))
        .await;
    assert_eq!(missing.code(), "VALIDATION_ERROR");
    let range = app
        .post(
            "/api/admin/servers",
            &token,
            json!({ "name": "a", "ip_address": "127.0.0.1", "cpu_cores": 0, "ram_gb": 1 }),
        )
        .await;
    assert_eq!(range.body["error"]["field"], "cpu_cores");

    // Announce an 11 MB body and read the answer before sending it, as a client would see it.
    let too_big = raw_request(&app, &format!(
        "POST /api/admin/servers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        11 * 1024 * 1024
    ))
    .await;
    assert!(too_big.starts_with("HTTP/1.1 413"), "{too_big}");
    assert!(too_big.contains("PAYLOAD_TOO_LARGE"), "{too_big}");
    let too_big = TestApp::reply(
        app.http
            .post(app.url("/api/admin/servers"))
            .bearer_auth(&token)
            .json(&json!({ "name": "x".repeat(9 * 1024 * 1024) }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        too_big.code(),
        "VALIDATION_ERROR",
        "9 MB is within the limit and reaches validation"
    );

    for path in [
        "/api/admin/servers/not-a-uuid",
        "/api/admin/customers/123",
        "/api/admin/servers/00000000-0000-0000-0000-000000000000",
    ] {
        let r = app.get(path, &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.code(), "NOT_FOUND");
    }
    let nowhere = app.get("/api/admin/nothing-here", &token).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.code(), "NOT_FOUND");
    let method = app
        .call(Method::PATCH, "/api/admin/servers", Some(&token), None)
        .await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(method.code(), "METHOD_NOT_ALLOWED");

    // Nothing was created by any of it.
    assert_eq!(
        app.get("/api/admin/servers", &token).await.body["meta"]["total"],
        0
    );
}

async fn every_response_carries_security_headers_and_a_request_id(app: TestApp) {
    for path in ["/health", "/api/admin/servers", "/api/nothing"] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-xss-protection"], "1; mode=block");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(
            csp.contains("script-src 'self';"),
            "no inline script may run: {csp}"
        );
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(h.contains_key("permissions-policy"));
        assert_eq!(h["x-request-id"].len(), 36);
    }
    let given = app
        .http
        .get(app.url("/health"))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        given.headers()["x-request-id"],
        "trace-123",
        "a caller's request id is kept"
    );
    let health: serde_json::Value = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["role"], "management");
    assert_eq!(health["dependencies"]["database"], "ok");
}

async fn openapi_and_docs_are_served_offline(app: TestApp) {
    let spec: serde_json::Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/admin/auth/login",
        "/api/admin/servers",
        "/api/admin/servers/{id}/health",
        "/api/admin/customers/{id}/reassign",
        "/api/v1/keys",
        "/api/admin/logs",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} documented");
    }
    let docs = app.http.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "the docs UI is bundled");
    assert!(
        !html.contains("cdn.") && !html.contains("unpkg"),
        "and loads nothing from a CDN"
    );
}

async fn page_numbers_outside_the_documented_range_are_refused(app: TestApp) {
    let token = app.root_token().await;
    for list in [
        "/api/admin/customers",
        "/api/admin/servers",
        "/api/admin/logs",
    ] {
        for query in [
            "page=0",
            "page=2147483648",
            "per_page=0",
            "per_page=101",
            "page=-1",
        ] {
            let reply = app.get(&format!("{list}?{query}"), &token).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{list}?{query}: {}",
                reply.body
            );
            assert_eq!(reply.code(), "VALIDATION_ERROR", "{list}?{query}");
        }
        let reply = app
            .get(&format!("{list}?page=2147483647&per_page=100"), &token)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{list}: the largest page is a page: {}",
            reply.body
        );
        assert_eq!(reply.body["data"], serde_json::json!([]));
        assert_eq!(reply.body["meta"]["page"], 2147483647);
    }
}

async fn raw_request(app: &TestApp, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// `/metrics` answers this host, and a scraper elsewhere only with the metrics token: a
/// request a proxy forwarded (X-Forwarded-For) counts as from elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_this_host_or_the_token() {
    let app = TestApp::start_with(wasp_management::db::Backend::Sqlite, |c| {
        c.metrics_token = Some("scrape-token-0123456789".into())
    })
    .await;
    let scrape = |forwarded: bool, token: Option<&str>| {
        let mut req = app.http.get(app.url("/metrics"));
        if forwarded {
            req = req.header("x-forwarded-for", "203.0.113.7");
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    let local = scrape(false, None).await.unwrap();
    assert_ne!(local.status(), StatusCode::UNAUTHORIZED);
    let stranger = TestApp::reply(scrape(true, None).await.unwrap()).await;
    assert_eq!(
        stranger.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        stranger.body
    );
    assert_eq!(stranger.code(), "UNAUTHORIZED");
    let wrong = scrape(true, Some("scrape-token-0123456788")).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scraper = scrape(true, Some("scrape-token-0123456789")).await.unwrap();
    assert_ne!(scraper.status(), StatusCode::UNAUTHORIZED);
}
