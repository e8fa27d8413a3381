//! Abuse protection at the transport, through real sockets: oversized headers
//! and URLs are refused, clients that stall in their headers are dropped, stalled bodies
//! end in 408 and bodies over the size limit in 413, while ordinary keep-alive traffic and the client address still work.
//! Transport behaviour does not depend on the database, so these run on SQLite only.

use crate::harness::{TestApp, ROOT_EMAIL};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use wasp_management::db::Backend;

/// A management server whose slow-client timeouts are one second.
async fn start() -> TestApp {
    TestApp::start_with(Backend::Sqlite, |config| {
        config.transport.header_read_timeout = Duration::from_secs(1);
        config.transport.body_timeout = Duration::from_secs(1);
    })
    .await
}

/// What a raw client read before the server closed the connection (a reset counts as a
/// close), or `None` if the connection was still open after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

/// The JSON body of a raw HTTP/1.1 response.
fn json_body(response: &str) -> Value {
    let (_, body) = response
        .split_once("\r\n\r\n")
        .expect("a complete response");
    serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_40_kib_header_is_refused_with_431() {
    let app = start().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let big = "a".repeat(40 * 1024);
    let request = format!("GET /health HTTP/1.1\r\nHost: wasp.test\r\nX-Big: {big}\r\n\r\n");
    // The server may stop reading (and close) before all of it has been written.
    let _ = stream.write_all(request.as_bytes()).await;
    let response = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("the connection is closed");
    assert!(
        response.starts_with("HTTP/1.1 431 "),
        "hyper answers 431 and closes: {response:?}"
    );

    // 101 header fields (the limit is 100): 431 as well.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let fields: String = (0..101).map(|i| format!("X-F{i}: v\r\n")).collect();
    let request = format!("GET /health HTTP/1.1\r\nHost: wasp.test\r\n{fields}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let response = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("the connection is closed");
    assert!(response.starts_with("HTTP/1.1 431 "), "{response:?}");

    // A request within the limits on a fresh connection is served.
    let ok = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_9_kib_url_is_refused_with_414_in_the_error_shape() {
    let app = start().await;
    let long = format!("/health?q={}", "a".repeat(9 * 1024));
    let reply = TestApp::reply(app.http.get(app.url(&long)).send().await.unwrap()).await;
    assert_eq!(reply.status, StatusCode::URI_TOO_LONG);
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.code(), "URI_TOO_LONG");
    assert!(reply.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("8192"));

    // Just under the limit is fine.
    let short = format!("/health?q={}", "a".repeat(8 * 1024 - 20));
    let ok = app.http.get(app.url(&short)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    let app = start().await;
    // Half a request head, then nothing.
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: wasp.test\r\nX-Sl")
        .await
        .unwrap();
    let started = Instant::now();
    let response = read_until_closed(&mut slow, Duration::from_secs(10))
        .await
        .expect("disconnected after the 1 s header timeout");
    assert_eq!(response, "", "dropped without an answer");
    assert!(started.elapsed() >= Duration::from_millis(900));

    // A client that connects and sends nothing at all is dropped too.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let response = read_until_closed(&mut silent, Duration::from_secs(10))
        .await
        .expect("disconnected after the 1 s header timeout");
    assert_eq!(response, "");

    // So is one that sends only the start of the h2c preface.
    let mut partial = TcpStream::connect(app.addr).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0").await.unwrap();
    let response = read_until_closed(&mut partial, Duration::from_secs(10))
        .await
        .expect("disconnected after the 1 s header timeout");
    assert_eq!(response, "");
}

/// A client that keeps sending a byte now and then never stalls, but a body must arrive
/// whole within its deadline: 408 then too, and the connection closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_gets_408_at_its_deadline() {
    let app = TestApp::start_with(Backend::Sqlite, |config| {
        config.transport.body_timeout = Duration::from_secs(1);
        config.transport.body_deadline = Duration::from_secs(2);
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/admin/auth/login HTTP/1.1\r\nHost: wasp.test\r\n\
              Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        // One byte every 300 ms: never a 1 s stall, always more to come.
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut received)).await;
    let response = String::from_utf8_lossy(&received).into_owned();
    trickle.abort();
    assert!(response.starts_with("HTTP/1.1 408 "), "{response:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "ended at the deadline"
    );
    let body = json_body(&response);
    assert_eq!(body["error"]["code"], "REQUEST_TIMEOUT", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("took more than"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408_request_timeout() {
    let app = start().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/admin/auth/login HTTP/1.1\r\nHost: wasp.test\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":\"ro",
        )
        .await
        .unwrap();
    let response = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("answered and closed");
    assert!(response.starts_with("HTTP/1.1 408 "), "{response:?}");
    assert!(
        response.to_ascii_lowercase().contains("connection: close"),
        "{response:?}"
    );
    let body = json_body(&response);
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "REQUEST_TIMEOUT", "{body}");
}

/// A server at `worker_url` (registered, heartbeating) and a customer placed on it: the
/// customer's test key.
async fn customer_on(app: &TestApp, worker_url: &str, email: &str) -> String {
    let token = app.root_token().await;
    let server = app
        .post(
            "/api/admin/servers",
            &token,
            json!({ "name": "w1", "ip_address": "127.0.0.1", "api_url": worker_url,
                    "max_capacity": 5, "cpu_cores": 4, "ram_gb": 8 }),
        )
        .await;
    assert_eq!(server.status, StatusCode::CREATED, "{}", server.body);
    let server_id = server.data()["id"].as_str().unwrap().to_owned();
    let server_key = server.data()["api_key"].as_str().unwrap().to_owned();
    let beat = app.heartbeat(&server_key, 10.0).await;
    assert!(beat.status.is_success(), "{}", beat.body);
    let customer = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": email, "assign_server": server_id }),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.body);
    customer.data()["test_api_key"].as_str().unwrap().to_owned()
}

/// The customer API proxy streams request bodies to the worker: a body that stalls there
/// ends in 408 too, not in a worker error or a hung request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_through_the_proxy_gets_408() {
    let app = start().await;
    // A stand-in worker that reads whatever body it is sent.
    let worker = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let worker_url = format!("http://{}", worker.local_addr().unwrap());
    let echo = axum::Router::new().fallback(|body: axum::body::Bytes| async move {
        axum::Json(json!({ "success": true, "data": { "bytes": body.len() } }))
    });
    tokio::spawn(async move { axum::serve(worker, echo).await });

    let key = customer_on(&app, &worker_url, "slow@x.io").await;

    // The proxy works for a whole body.
    let whole = app
        .http
        .post(app.url("/api/v1/send/message"))
        .bearer_auth(&key)
        .json(&json!({ "phone": "6281234567890", "message": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        whole.status(),
        StatusCode::OK,
        "the proxy reaches the worker"
    );

    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/send/message HTTP/1.1\r\nHost: wasp.test\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"phone\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let response = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("answered and closed");
    assert!(response.starts_with("HTTP/1.1 408 "), "{response:?}");
    assert_eq!(json_body(&response)["error"]["code"], "REQUEST_TIMEOUT");
}

/// Sends `head` then a chunked body of `chunks` × 16 KiB (as long as the server reads),
/// and returns what the server answered before it closed the connection.
async fn send_chunked(app: &TestApp, head: &str, chunks: usize) -> String {
    let stream = TcpStream::connect(app.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = head.to_owned();
    // The write half is kept open until the answer is read (a client that shuts down its
    // side is gone, for the server).
    let writer = tokio::spawn(async move {
        let sent = async {
            write.write_all(head.as_bytes()).await?;
            let chunk = format!("4000\r\n{}\r\n", "a".repeat(16 * 1024));
            for _ in 0..chunks {
                write.write_all(chunk.as_bytes()).await?;
            }
            write.write_all(b"0\r\n\r\n").await
        }
        .await;
        (sent, write)
    });
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    drop(writer.await);
    String::from_utf8_lossy(&received).into_owned()
}

/// The request size limit holds for bodies that announce their length and
/// for bodies streamed without one, for management's own routes and for customer calls
/// passed to a worker: 413 in the error shape, and the worker never answers such a call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_size_limit_gets_413_announced_or_streamed() {
    let app = TestApp::start_with(Backend::Sqlite, |config| {
        config.transport.max_body_bytes = 64 * 1024;
    })
    .await;
    // A stand-in worker that counts the customer calls it answered.
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = answered.clone();
    let worker = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let worker_url = format!("http://{}", worker.local_addr().unwrap());
    let echo = axum::Router::new().fallback(
        move |uri: axum::http::Uri, body: axum::body::Bytes| async move {
            if uri.path().starts_with("/api/v1/") {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            axum::Json(json!({ "success": true, "data": { "bytes": body.len() } }))
        },
    );
    tokio::spawn(async move { axum::serve(worker, echo).await });
    let key = customer_on(&app, &worker_url, "big@x.io").await;
    let before = answered.load(std::sync::atomic::Ordering::SeqCst);

    // Within the limit, streamed: passed on whole.
    let within = send_chunked(
        &app,
        &format!(
            "POST /api/v1/send/file HTTP/1.1\r\nHost: wasp.test\r\nAuthorization: Bearer {key}\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ),
        3,
    )
    .await;
    assert!(within.starts_with("HTTP/1.1 200 "), "{within:?}");
    assert_eq!(json_body(&within)["data"]["bytes"], 3 * 16 * 1024);
    assert_eq!(
        answered.load(std::sync::atomic::Ordering::SeqCst),
        before + 1
    );

    for (what, path, auth) in [
        (
            "customer call",
            "/api/v1/send/file",
            format!("Authorization: Bearer {key}\r\n"),
        ),
        ("management route", "/api/admin/auth/login", String::new()),
    ] {
        // Announced: refused before a byte of the body is read.
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: wasp.test\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            100 * 1024
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let response = read_until_closed(&mut stream, Duration::from_secs(10))
            .await
            .expect("answered and closed");
        assert!(
            response.starts_with("HTTP/1.1 413 "),
            "{what}: {response:?}"
        );
        assert_eq!(
            json_body(&response)["error"]["code"],
            "PAYLOAD_TOO_LARGE",
            "{what}"
        );

        // Streamed past the limit: refused once the limit is crossed.
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: wasp.test\r\n{auth}Content-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        );
        let response = send_chunked(&app, &head, 8).await;
        assert!(
            response.starts_with("HTTP/1.1 413 "),
            "{what}: {response:?}"
        );
        assert_eq!(
            json_body(&response)["error"]["code"],
            "PAYLOAD_TOO_LARGE",
            "{what}"
        );
    }
    assert_eq!(
        answered.load(std::sync::atomic::Ordering::SeqCst),
        before + 1,
        "the worker answered no call over the limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_requests_share_a_connection_and_the_client_address_is_known() {
    let app = start().await;
    // Three requests, one connection.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    for i in 0..3 {
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: wasp.test\r\n\r\n")
            .await
            .unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        // Read the head, then exactly Content-Length bytes of body.
        let (header_end, length) = loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "request {i}: connection closed");
            head.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&head).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().unwrap())
                    })
                    .expect("content-length");
                break (end + 4, length);
            }
        };
        while head.len() < header_end + length {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "request {i}: connection closed mid-body");
            head.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&head);
        assert!(text.starts_with("HTTP/1.1 200 "), "request {i}: {text}");
    }

    // reqwest's pool too: several requests, all answered.
    for _ in 0..5 {
        let r = app.http.get(app.url("/health")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    // ConnectInfo still reaches the handlers: a failed sign-in is audited with our address.
    let failed = app.login(ROOT_EMAIL, "wrong-password").await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{}", failed.body);
    let token = app.root_token().await;
    let mut rows = Vec::new();
    // Audit rows may be written in batches; give the writer a few seconds.
    for _ in 0..50 {
        rows = app.audit(&token, "login_failed").await;
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["ip_address"], "127.0.0.1");
}

/// HTTP/2 without TLS (prior knowledge) is spoken on the same port: the server answers the
/// client preface with its SETTINGS frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_prior_knowledge_is_accepted() {
    let app = start().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    stream.write_all(&hello).await.unwrap();
    let mut frame_header = [0u8; 9];
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_exact(&mut frame_header),
    )
    .await
    .expect("the server answers")
    .unwrap();
    assert_eq!(frame_header[3], 4, "a SETTINGS frame: {frame_header:?}");
}
