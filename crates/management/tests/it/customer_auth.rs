//! Customer accounts for the dashboard: sign-in with the e-mail and password, the session
//! cookies, the temporary password, lockout, refresh and sign-out, reset and verification
//! links from the outbox, sign-up, and the cookie on the customer API (modes, CSRF,
//! tenancy, suspension).

use crate::harness::{Reply, TestApp};
use crate::on_both_databases;
use base64::Engine as _;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

on_both_databases!(
    the_temporary_password_signs_in_and_must_be_changed_first,
    wrong_passwords_lock_known_and_unknown_emails_alike_and_suspension_refuses,
    refresh_rotates_and_sign_out_ends_the_session,
    a_forgotten_password_is_reset_once_through_the_mailed_link,
    signup_is_closed_unless_opened,
    the_dashboard_calls_the_customer_api_as_a_key_of_the_mode_it_names,
    cookie_changes_from_other_sites_are_refused_and_create_nothing,
    customers_are_isolated_and_operator_and_customer_sessions_do_not_cross,
    suspension_ends_dashboard_sessions_and_their_event_stream,
    customers_edit_their_own_profile_fields_and_nothing_else,
);

/// Runs a test on both databases with open sign-up, behind a trusted proxy.
macro_rules! with_open_signup {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use wasp_management::db::Backend;
                async fn start(backend: Backend) -> crate::harness::TestApp {
                    crate::harness::TestApp::start_with(backend, |c| {
                        c.signup_open = true;
                        c.trust_proxy = true;
                    })
                    .await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(start(Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(start(Backend::Postgres).await).await
                }
            }
        )*
    };
}

with_open_signup!(
    open_signup_verifies_the_email_by_the_mailed_link_and_reveals_no_account,
    an_unverified_customer_gets_a_new_verification_link_on_request,
);

const PASSWORD: &str = "a-good-long-password";

/// A `Cookie:` header's pairs from an answer's `Set-Cookie`s (those not being cleared).
struct Cookies {
    set: Vec<String>,
}

impl Cookies {
    fn of(reply: &Reply) -> Cookies {
        Cookies {
            set: reply
                .headers
                .get_all(header::SET_COOKIE)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect(),
        }
    }

    /// The whole `Set-Cookie` line of `name`.
    fn line(&self, name: &str) -> &str {
        self.set
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.set))
    }

    /// `name=value` of `name`.
    fn pair(&self, name: &str) -> String {
        self.line(name).split(';').next().unwrap().to_owned()
    }

    fn access(&self) -> String {
        self.pair("wasp_customer")
    }

    fn refresh(&self) -> String {
        self.pair("wasp_customer_refresh")
    }
}

/// A request with a `Cookie:` header, an optional `X-Wasp-Mode` and JSON body.
async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    mode: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = app
        .http
        .request(method, app.url(path))
        .header(header::COOKIE, cookie);
    if let Some(mode) = mode {
        req = req.header("x-wasp-mode", mode);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    TestApp::reply(req.send().await.unwrap()).await
}

async fn anonymous(app: &TestApp, path: &str, body: Value) -> Reply {
    app.call(Method::POST, path, None, Some(body)).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (Reply, Cookies) {
    let reply = anonymous(
        app,
        "/api/customer/auth/login",
        json!({ "email": email, "password": password }),
    )
    .await;
    let cookies = Cookies::of(&reply);
    (reply, cookies)
}

/// Creates a customer as an operator: (id, temporary password, test key).
async fn customer(
    app: &TestApp,
    root: &str,
    email: &str,
    server: Option<&str>,
) -> (String, String, String) {
    let r = app
        .post(
            "/api/admin/customers",
            root,
            json!({ "email": email, "full_name": "Dee Veloper", "company_name": "Acme",
                    "assign_server": server.unwrap_or("none") }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (
        r.data()["id"].as_str().unwrap().to_owned(),
        r.data()["dashboard_password"].as_str().unwrap().to_owned(),
        r.data()["test_api_key"].as_str().unwrap().to_owned(),
    )
}

/// A customer who changed the temporary password to [`PASSWORD`], signed in: (id, cookies).
async fn signed_in(
    app: &TestApp,
    root: &str,
    email: &str,
    server: Option<&str>,
) -> (String, Cookies) {
    let (id, temporary, _) = customer(app, root, email, server).await;
    let (_, cookies) = sign_in(app, email, &temporary).await;
    let changed = with_cookie(
        app,
        Method::POST,
        "/api/customer/auth/password",
        &cookies.access(),
        None,
        Some(json!({ "current_password": temporary, "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    (id, cookies)
}

/// The outbox's lines, once there are at least `n` (mail is sent in the background).
async fn outbox(app: &TestApp, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let lines: Vec<Value> = std::fs::read_to_string(&app.outbox)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} mail(s) of {n} after 10 s",
            lines.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

/// The refresh generation a `wasp_customer_refresh=<jwt>` pair names.
fn generation(pair: &str) -> i64 {
    let jwt = pair.split_once('=').unwrap().1;
    let claims = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    claims["gen"].as_i64().unwrap()
}

/// Moves every dashboard session's last refresh rotation `secs` seconds into the past.
async fn age_rotation(app: &TestApp, secs: i64) {
    let at = chrono::Utc::now() - chrono::Duration::seconds(secs);
    let mut tx = app.db.begin().await.unwrap();
    wasp_management::on_tx!(&mut tx, |conn| {
        sqlx::query("UPDATE customer_sessions SET refresh_rotated_at = $1 WHERE refresh_rotated_at IS NOT NULL")
            .bind(at)
            .execute(&mut *conn)
            .await
            .unwrap();
    });
    tx.commit().await.unwrap();
}

async fn the_temporary_password_signs_in_and_must_be_changed_first(app: TestApp) {
    let root = app.root_token().await;
    let (id, temporary, _) = customer(&app, &root, "dev@example.com", None).await;

    let (reply, cookies) = sign_in(&app, "Dev@Example.com ", &temporary).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["success"], true);
    let data = reply.data();
    assert_eq!(data["customer"]["id"], id.as_str());
    assert_eq!(data["customer"]["email"], "dev@example.com");
    assert_eq!(data["customer"]["name"], "Dee Veloper");
    assert_eq!(data["customer"]["company"], "Acme");
    assert_eq!(data["customer"]["plan"], "basic");
    assert_eq!(data["customer"]["status"], "active");
    assert_eq!(
        data["customer"]["email_verified"], true,
        "an operator vouches"
    );
    assert_eq!(data["must_change_password"], true);
    assert!(data["expires_at"].is_string());
    // Cookies only: no token in the body.
    assert!(data.get("token").is_none() && data.get("refresh_token").is_none());
    let access = cookies.line("wasp_customer");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/;"] {
        assert!(access.contains(attribute), "{access}");
    }
    assert!(
        !access.contains("Secure"),
        "WASP_COOKIE_SECURE=false in tests: {access}"
    );
    let refresh = cookies.line("wasp_customer_refresh");
    assert!(
        refresh.contains("HttpOnly")
            && refresh.contains("SameSite=Strict")
            && refresh.contains("Path=/api/customer/auth;"),
        "{refresh}"
    );
    let cookie = cookies.access();

    // Until the password is changed, the customer API answers 403 (me still works).
    let keys = with_cookie(
        &app,
        Method::GET,
        "/api/v1/keys",
        &cookie,
        Some("test"),
        None,
    )
    .await;
    assert_eq!(
        (keys.status, keys.code()),
        (StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED"),
        "{}",
        keys.body
    );
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.data()["must_change_password"], true);
    assert_eq!(me.data()["customer"], data["customer"]);

    // A second sign-in (another browser), which the change will end.
    let (_, other) = sign_in(&app, "dev@example.com", &temporary).await;
    let change = |current: &str, new: &str| {
        with_cookie(
            &app,
            Method::POST,
            "/api/customer/auth/password",
            &cookie,
            None,
            Some(json!({ "current_password": current, "new_password": new })),
        )
    };
    let short = change(&temporary, "short").await;
    assert_eq!(short.code(), "VALIDATION_ERROR", "{}", short.body);
    assert_eq!(short.body["error"]["field"], "new_password");
    assert!(
        short.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least 12 characters"),
        "the rule is in the message: {}",
        short.body
    );
    let wrong = change("not-the-temporary-one", PASSWORD).await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );
    let changed = change(&temporary, PASSWORD).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.data()["must_change_password"], false);

    let keys = with_cookie(
        &app,
        Method::GET,
        "/api/v1/keys",
        &cookie,
        Some("test"),
        None,
    )
    .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    let other_me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &other.access(),
        None,
        None,
    )
    .await;
    assert_eq!(
        other_me.status,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    let (old, _) = sign_in(&app, "dev@example.com", &temporary).await;
    assert_eq!(old.code(), "INVALID_CREDENTIALS");
    let (new, _) = sign_in(&app, "dev@example.com", PASSWORD).await;
    assert_eq!(new.status, StatusCode::OK);
    assert_eq!(new.data()["must_change_password"], false);

    // Audited, without a password anywhere.
    assert_eq!(app.audit(&root, "customer_login").await.len(), 3);
    assert_eq!(app.audit(&root, "customer_password_changed").await.len(), 1);
    let all = app.get("/api/admin/logs?per_page=100", &root).await;
    let text = all.body.to_string();
    for secret in [temporary.as_str(), PASSWORD, "not-the-temporary-one"] {
        assert!(!text.contains(secret), "a password in the audit log");
    }
}

async fn wrong_passwords_lock_known_and_unknown_emails_alike_and_suspension_refuses(app: TestApp) {
    let root = app.root_token().await;
    let (id, temporary, _) = customer(&app, &root, "locked@example.com", None).await;
    for attempt in 1..=6 {
        let known = sign_in(&app, "locked@example.com", "wrong-password-here")
            .await
            .0;
        let unknown = sign_in(&app, "nobody@example.com", "wrong-password-here")
            .await
            .0;
        assert_eq!(
            (known.status, known.code(), &known.body["error"]["message"]),
            (
                unknown.status,
                unknown.code(),
                &unknown.body["error"]["message"]
            ),
            "attempt {attempt}"
        );
        let expected = if attempt < 5 {
            (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
        } else {
            (StatusCode::TOO_MANY_REQUESTS, "ACCOUNT_LOCKED")
        };
        assert_eq!((known.status, known.code()), expected, "attempt {attempt}");
    }
    let (right, cookies) = sign_in(&app, "locked@example.com", &temporary).await;
    assert_eq!(
        right.code(),
        "ACCOUNT_LOCKED",
        "locked even with the right password"
    );
    assert!(right.headers.contains_key(header::RETRY_AFTER));
    assert!(cookies.set.is_empty(), "no session");
    assert_eq!(app.audit(&root, "customer_account_locked").await.len(), 2);
    assert!(app.audit(&root, "customer_login_failed").await.len() >= 8);

    // Suspended: the right password is answered 403, a wrong one still 401.
    let (other, other_password, _) = customer(&app, &root, "suspended@example.com", None).await;
    let (_, session) = sign_in(&app, "suspended@example.com", &other_password).await;
    let r = app
        .post(
            &format!("/api/admin/customers/{other}/suspend"),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let refused = sign_in(&app, "suspended@example.com", &other_password)
        .await
        .0;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "CUSTOMER_SUSPENDED"),
        "{}",
        refused.body
    );
    let wrong = sign_in(&app, "suspended@example.com", "wrong-password-here")
        .await
        .0;
    assert_eq!(wrong.code(), "INVALID_CREDENTIALS");
    // The session it had ended with the suspension.
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &session.access(),
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let _ = id;
}

async fn refresh_rotates_and_sign_out_ends_the_session(app: TestApp) {
    let root = app.root_token().await;
    let (_, cookies) = signed_in(&app, &root, "r@example.com", None).await;
    let refresh = |pair: String| {
        let app = &app;
        async move {
            with_cookie(
                app,
                Method::POST,
                "/api/customer/auth/refresh",
                &pair,
                None,
                None,
            )
            .await
        }
    };
    // An access token is not a refresh token.
    let wrong_kind = format!(
        "wasp_customer_refresh={}",
        cookies.access().split_once('=').unwrap().1
    );
    assert_eq!(refresh(wrong_kind).await.status, StatusCode::UNAUTHORIZED);
    let renewed = refresh(cookies.refresh()).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    assert_eq!(renewed.data()["customer"]["email"], "r@example.com");
    let second = Cookies::of(&renewed);
    assert_ne!(
        second.refresh(),
        cookies.refresh(),
        "the refresh token rotates"
    );
    assert_eq!(generation(&second.refresh()), 1);

    // Two tabs refreshing at once with the same cookie: both are answered, with the same
    // successor, and neither looks like reuse; so is a third tab moments later.
    let (a, b) = tokio::join!(refresh(second.refresh()), refresh(second.refresh()));
    assert_eq!(
        (a.status, b.status),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        a.body,
        b.body
    );
    let (a, b) = (Cookies::of(&a), Cookies::of(&b));
    assert_eq!(generation(&a.refresh()), 2);
    assert_eq!(generation(&b.refresh()), 2, "the same successor");
    let late = refresh(second.refresh()).await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.body);
    let third = Cookies::of(&late);
    assert_eq!(generation(&third.refresh()), 2);
    for tab in [&a, &b, &third] {
        let me = with_cookie(
            &app,
            Method::GET,
            "/api/customer/auth/me",
            &tab.access(),
            None,
            None,
        )
        .await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    }
    assert!(app.audit(&root, "refresh_token_reused").await.is_empty());
    let graced = app.audit(&root, "customer_token_refreshed").await;
    assert_eq!(
        graced
            .iter()
            .filter(|e| e["metadata"]["grace"] == true)
            .count(),
        2,
        "{graced:?}"
    );

    // After the grace window, the used one again is reuse: the whole session ends, the
    // newest tokens too.
    age_rotation(&app, 60).await;
    let reused = refresh(second.refresh()).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "{}", reused.body);
    assert_eq!(
        refresh(third.refresh()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &third.access(),
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let events = app.audit(&root, "refresh_token_reused").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["severity"], "critical");
    assert_eq!(events[0]["actor_type"], "customer");

    // Within the window only the token just replaced is taken: one two generations old is
    // reuse at once.
    let (_, tab) = sign_in(&app, "r@example.com", PASSWORD).await;
    let next = Cookies::of(&refresh(tab.refresh()).await);
    let newest = refresh(next.refresh()).await;
    assert_eq!(newest.status, StatusCode::OK, "{}", newest.body);
    let stale = refresh(tab.refresh()).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED, "{}", stale.body);
    let newest = Cookies::of(&newest);
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &newest.access(),
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "the session ended");
    assert_eq!(app.audit(&root, "refresh_token_reused").await.len(), 2);

    // Sign-out: both cookies cleared, the session dead at once.
    let (_, fresh) = sign_in(&app, "r@example.com", PASSWORD).await;
    let both = format!("{}; {}", fresh.access(), fresh.refresh());
    let out = with_cookie(
        &app,
        Method::POST,
        "/api/customer/auth/logout",
        &both,
        None,
        None,
    )
    .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let cleared = Cookies::of(&out);
    assert!(cleared.line("wasp_customer").contains("Max-Age=0"));
    assert!(cleared.line("wasp_customer_refresh").contains("Max-Age=0"));
    for path in ["/api/customer/auth/me", "/api/v1/keys"] {
        let after = with_cookie(&app, Method::GET, path, &fresh.access(), Some("test"), None).await;
        assert_eq!(
            after.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            after.body
        );
    }
    assert_eq!(
        refresh(fresh.refresh()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.audit(&root, "customer_logout").await.len(), 1);
}

async fn a_forgotten_password_is_reset_once_through_the_mailed_link(app: TestApp) {
    let root = app.root_token().await;
    let (_, old_session) = signed_in(&app, &root, "forgot@example.com", None).await;
    // Unknown e-mails are answered alike, and mail nothing.
    for email in ["nobody@example.com", "Forgot@Example.com"] {
        let r = anonymous(&app, "/api/customer/auth/forgot", json!({ "email": email })).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        assert_eq!(
            r.body,
            json!({ "success": true, "data": { "accepted": true } })
        );
    }
    let lines = outbox(&app, 1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let mail = &lines[0];
    assert_eq!(mail["to"], "forgot@example.com");
    assert!(mail["subject"].as_str().unwrap().contains("Reset"));
    assert!(mail["created_at"].is_string());
    let link = mail["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/reset-password?token=", app.url(""))),
        "{link}"
    );
    assert!(mail["text"].as_str().unwrap().contains(link));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&app.outbox).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the outbox is private");
    }
    let token = token_of(link);
    let reset = |token: &str, password: &str| {
        anonymous(
            &app,
            "/api/customer/auth/reset",
            json!({ "token": token, "new_password": password }),
        )
    };
    // A refused password does not spend the link.
    let weak = reset(&token, "short").await;
    assert_eq!(weak.code(), "VALIDATION_ERROR", "{}", weak.body);
    let unknown = reset("made-up-token", "another-long-password").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::BAD_REQUEST, "INVALID_TOKEN")
    );
    let done = reset(&token, "another-long-password").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let again = reset(&token, "yet-another-password").await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::BAD_REQUEST, "INVALID_TOKEN"),
        "a link works once"
    );
    // Every session ended; the new password signs in, the old one does not.
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &old_session.access(),
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in(&app, "forgot@example.com", PASSWORD).await.0.code(),
        "INVALID_CREDENTIALS"
    );
    assert_eq!(
        sign_in(&app, "forgot@example.com", "another-long-password")
            .await
            .0
            .status,
        StatusCode::OK
    );
    // The token never reaches the audit log.
    let all = app.get("/api/admin/logs?per_page=100", &root).await;
    assert!(!all.body.to_string().contains(&token));
    assert_eq!(app.audit(&root, "customer_password_reset").await.len(), 1);
}

async fn signup_is_closed_unless_opened(app: TestApp) {
    let root = app.root_token().await;
    let r = anonymous(
        &app,
        "/api/customer/auth/signup",
        json!({ "email": "new@example.com", "password": PASSWORD }),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "SIGNUP_CLOSED"),
        "{}",
        r.body
    );
    let customers = app.get("/api/admin/customers", &root).await;
    assert_eq!(
        customers.data().as_array().unwrap().len(),
        0,
        "nothing created"
    );
}

/// A server whose worker is a stand-in: it answers every customer call with the service
/// token's claims, and `/api/v1/events` with a stream that stays open. Returns its id.
async fn fake_worker(app: &TestApp, root: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let worker = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        use axum::response::IntoResponse;
        let claims = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer wst1."))
            .and_then(|t| t.split('.').next())
            .and_then(|b| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or(Value::Null);
        if req.uri().path() == "/api/v1/events" {
            use futures_util::StreamExt as _;
            let open = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(": open\n\n".to_owned())
            })
            .chain(futures_util::stream::pending());
            return axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(axum::body::Body::from_stream(open))
                .unwrap();
        }
        axum::Json(json!({ "success": true, "data": {
            "claims": claims, "path": req.uri().path(), "method": req.method().as_str(),
            "content_type": req.headers().get("content-type").and_then(|v| v.to_str().ok()),
        }}))
        .into_response()
    });
    tokio::spawn(async move { axum::serve(listener, worker).await.unwrap() });
    let r = app
        .post(
            "/api/admin/servers",
            root,
            json!({ "name": "fake", "ip_address": "127.0.0.1", "api_url": url, "max_capacity": 10,
                    "cpu_cores": 2, "ram_gb": 4 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let key = r.data()["api_key"].as_str().unwrap().to_owned();
    let reg = app
        .call(
            Method::POST,
            "/internal/v1/register",
            Some(&key),
            Some(json!({})),
        )
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.body);
    r.data()["id"].as_str().unwrap().to_owned()
}

async fn open_signup_verifies_the_email_by_the_mailed_link_and_reveals_no_account(app: TestApp) {
    let root = app.root_token().await;
    let server = fake_worker(&app, &root).await;
    let (_, existing_password, _) = customer(&app, &root, "taken@example.com", Some(&server)).await;
    let signup = |email: &str| {
        anonymous(
            &app,
            "/api/customer/auth/signup",
            json!({ "email": email, "password": PASSWORD, "name": "New Person", "company": "NewCo" }),
        )
    };
    let weak = anonymous(
        &app,
        "/api/customer/auth/signup",
        json!({ "email": "weak@example.com", "password": "short" }),
    )
    .await;
    assert_eq!(weak.code(), "VALIDATION_ERROR");
    assert!(weak.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("12"));

    let fresh = signup("new@example.com").await;
    assert_eq!(fresh.status, StatusCode::ACCEPTED, "{}", fresh.body);
    let taken = signup("Taken@Example.com").await;
    assert_eq!(
        (taken.status, &taken.body),
        (fresh.status, &fresh.body),
        "answered alike"
    );
    let lines = outbox(&app, 2).await;
    let verify_mail = lines.iter().find(|l| l["to"] == "new@example.com").unwrap();
    let notice = lines
        .iter()
        .find(|l| l["to"] == "taken@example.com")
        .unwrap();
    assert!(
        notice["subject"].as_str().unwrap().contains("already have"),
        "{notice}"
    );
    assert!(notice["link"].is_null());
    let link = verify_mail["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/verify-email?token=", app.url(""))),
        "{link}"
    );
    // The taken account is untouched: its password still works.
    assert_eq!(
        sign_in(&app, "taken@example.com", &existing_password)
            .await
            .0
            .status,
        StatusCode::OK
    );

    // The new customer: basic plan, placed on the server, keys of both modes, unverified.
    let listed = app
        .get("/api/admin/customers?q=new@example.com", &root)
        .await;
    let row = &listed.data()[0];
    assert_eq!(row["plan"], "basic");
    assert_eq!(row["assigned_server_id"], server.as_str());
    assert_eq!(row["active_keys"], 2);
    assert_eq!(row["password_must_change"], false);

    let (login, cookies) = sign_in(&app, "new@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.data()["customer"]["email_verified"], false);
    assert_eq!(login.data()["customer"]["name"], "New Person");
    assert_eq!(login.data()["customer"]["company"], "NewCo");
    assert_eq!(login.data()["must_change_password"], false);
    let cookie = cookies.access();
    // The sandbox works at once; the live session waits for the verification.
    let test = with_cookie(
        &app,
        Method::GET,
        "/api/v1/app/status",
        &cookie,
        Some("test"),
        None,
    )
    .await;
    assert_eq!(test.status, StatusCode::OK, "{}", test.body);
    assert_eq!(test.data()["claims"]["mode"], "test");
    let live = with_cookie(
        &app,
        Method::GET,
        "/api/v1/app/status",
        &cookie,
        Some("live"),
        None,
    )
    .await;
    assert_eq!(
        (live.status, live.code()),
        (StatusCode::FORBIDDEN, "EMAIL_NOT_VERIFIED"),
        "{}",
        live.body
    );
    let live_key = with_cookie(
        &app,
        Method::POST,
        "/api/v1/keys",
        &cookie,
        Some("test"),
        Some(json!({ "mode": "live" })),
    )
    .await;
    assert_eq!(live_key.code(), "EMAIL_NOT_VERIFIED", "{}", live_key.body);

    let verify =
        |token: String| anonymous(&app, "/api/customer/auth/verify", json!({ "token": token }));
    let done = verify(token_of(link)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let again = verify(token_of(link)).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::BAD_REQUEST, "INVALID_TOKEN")
    );
    let live = with_cookie(
        &app,
        Method::GET,
        "/api/v1/app/status",
        &cookie,
        Some("live"),
        None,
    )
    .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    assert_eq!(live.data()["claims"]["mode"], "live");
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(me.data()["customer"]["email_verified"], true);
    assert_eq!(app.audit(&root, "customer_signup").await.len(), 1);
    assert_eq!(
        app.audit(&root, "customer_signup_existing_email")
            .await
            .len(),
        1
    );
}

async fn the_dashboard_calls_the_customer_api_as_a_key_of_the_mode_it_names(app: TestApp) {
    let root = app.root_token().await;
    let server = fake_worker(&app, &root).await;
    let (id, cookies) = signed_in(&app, &root, "mode@example.com", Some(&server)).await;
    let cookie = cookies.access();
    for mode in [None, Some("both"), Some("LIVE")] {
        let r = with_cookie(&app, Method::GET, "/api/v1/chats", &cookie, mode, None).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "MODE_REQUIRED"),
            "{mode:?}: {}",
            r.body
        );
    }
    for mode in ["test", "live"] {
        let r = with_cookie(
            &app,
            Method::GET,
            "/api/v1/chats",
            &cookie,
            Some(mode),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let claims = &r.data()["claims"];
        assert_eq!(claims["cus"], id.as_str());
        assert_eq!(claims["mode"], mode);
        assert!(claims.get("kid").is_none(), "no key: {claims}");
        assert!(
            r.headers.contains_key("x-ratelimit-limit"),
            "plan limits apply"
        );
    }
    // Key management: both modes, from either session (a test key could not).
    let created = with_cookie(
        &app,
        Method::POST,
        "/api/v1/keys",
        &cookie,
        Some("test"),
        Some(json!({ "name": "From the dashboard", "mode": "live" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.data()["api_key"]
        .as_str()
        .unwrap()
        .starts_with("ak_live_"));
    let listed = with_cookie(
        &app,
        Method::GET,
        "/api/v1/keys",
        &cookie,
        Some("test"),
        None,
    )
    .await;
    let modes: Vec<&str> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["mode"].as_str().unwrap())
        .collect();
    assert!(
        modes.contains(&"live") && modes.contains(&"test"),
        "{modes:?}"
    );
    let key_id = created.data()["id"].as_str().unwrap();
    let revoked = with_cookie(
        &app,
        Method::DELETE,
        &format!("/api/v1/keys/{key_id}"),
        &cookie,
        Some("test"),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    // Multipart uploads from our own pages pass (with the mode header).
    let form = reqwest::multipart::Form::new()
        .text("phone", "6281234567890")
        .part(
            "image",
            reqwest::multipart::Part::bytes(vec![0xff, 0xd8, 0xff]).file_name("a.jpg"),
        );
    let upload = app
        .http
        .post(app.url("/api/v1/send/image"))
        .header(header::COOKIE, &cookie)
        .header("x-wasp-mode", "test")
        .header(header::ORIGIN, app.url("").trim_end_matches('/'))
        .header("sec-fetch-site", "same-origin")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let upload = TestApp::reply(upload).await;
    assert_eq!(upload.status, StatusCode::OK, "{}", upload.body);
    assert!(upload.data()["content_type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/form-data"));

    // Metered and audited like a key's calls, marked as the dashboard's.
    let calls = app.audit(&root, "GET%20/api/v1/chats").await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in &calls {
        assert_eq!(call["actor_id"], id.as_str());
        assert!(call["resource_id"].is_null(), "{call}");
        assert_eq!(call["metadata"]["via"], "dashboard", "{call}");
    }
    let created_rows = app.audit(&root, "create_api_key").await;
    assert_eq!(created_rows[0]["metadata"]["via"], "dashboard");
    let usage = with_cookie(
        &app,
        Method::GET,
        "/api/v1/usage",
        &cookie,
        Some("test"),
        None,
    )
    .await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.body);
    assert!(
        usage.data()["totals"]["api_requests"].as_i64().unwrap() >= 3,
        "{}",
        usage.body
    );
}

async fn cookie_changes_from_other_sites_are_refused_and_create_nothing(app: TestApp) {
    let root = app.root_token().await;
    let server = fake_worker(&app, &root).await;
    let (_, cookies) = signed_in(&app, &root, "csrf@example.com", Some(&server)).await;
    let cookie = cookies.access();
    let count = || async {
        with_cookie(
            &app,
            Method::GET,
            "/api/v1/keys",
            &cookie,
            Some("test"),
            None,
        )
        .await
        .data()
        .as_array()
        .unwrap()
        .len()
    };
    let before = count().await;
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        for path in ["/api/v1/keys", "/api/v1/send/message"] {
            let r = app
                .http
                .post(app.url(path))
                .header(header::COOKIE, &cookie)
                .header("x-wasp-mode", "test")
                .header(name, value)
                .json(&json!({ "mode": "test" }))
                .send()
                .await
                .unwrap();
            let r = TestApp::reply(r).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::FORBIDDEN, "FORBIDDEN"),
                "{path} {name}: {}",
                r.body
            );
        }
        let out = app
            .http
            .post(app.url("/api/customer/auth/password"))
            .header(header::COOKIE, &cookie)
            .header(name, value)
            .json(&json!({ "current_password": PASSWORD, "new_password": "hijacked-password-1" }))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), StatusCode::FORBIDDEN);
    }
    // A form without the dashboard's mode header is refused too.
    let form = app
        .http
        .post(app.url("/api/v1/send/image"))
        .header(header::COOKIE, &cookie)
        .multipart(reqwest::multipart::Form::new().text("phone", "6281234567890"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert_eq!(count().await, before, "nothing created");
    assert_eq!(
        sign_in(&app, "csrf@example.com", PASSWORD).await.0.status,
        StatusCode::OK,
        "password unchanged"
    );
    assert!(
        app.audit(&root, "POST%20/api/v1/send/message")
            .await
            .is_empty(),
        "never reached the worker"
    );
}

async fn customers_are_isolated_and_operator_and_customer_sessions_do_not_cross(app: TestApp) {
    let root = app.root_token().await;
    let server = fake_worker(&app, &root).await;
    let (a, a_cookies) = signed_in(&app, &root, "a@example.com", Some(&server)).await;
    let (b, _) = signed_in(&app, &root, "b@example.com", Some(&server)).await;
    let a_cookie = a_cookies.access();
    let b_keys = app
        .get(&format!("/api/admin/customers/{b}/keys"), &root)
        .await;
    let b_key = b_keys.data()[0]["id"].as_str().unwrap().to_owned();

    let listed = with_cookie(
        &app,
        Method::GET,
        "/api/v1/keys",
        &a_cookie,
        Some("live"),
        None,
    )
    .await;
    assert!(listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["customer_id"] == a.as_str()));
    let r = with_cookie(
        &app,
        Method::DELETE,
        &format!("/api/v1/keys/{b_key}"),
        &a_cookie,
        Some("live"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let b_after = app
        .get(&format!("/api/admin/customers/{b}/keys"), &root)
        .await;
    assert_eq!(b_after.data()[0]["state"], "active");
    for path in [
        "/api/v1/chats",
        "/api/v1/webhooks",
        &format!("/api/v1/chat/{b}/messages"),
    ] {
        let r = with_cookie(&app, Method::GET, path, &a_cookie, Some("test"), None).await;
        assert_eq!(
            r.data()["claims"]["cus"],
            a.as_str(),
            "{path}: always A's own"
        );
    }
    // A customer's cookie is no operator's, and an operator's no customer's.
    for path in ["/api/admin/customers", "/api/admin/auth/me"] {
        let r = with_cookie(&app, Method::GET, path, &a_cookie, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let as_admin = format!("wasp_admin={}", a_cookie.split_once('=').unwrap().1);
    assert_eq!(
        with_cookie(
            &app,
            Method::GET,
            "/api/admin/customers",
            &as_admin,
            None,
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    let operator = format!("wasp_admin={root}");
    assert_eq!(
        with_cookie(
            &app,
            Method::GET,
            "/api/admin/customers",
            &operator,
            None,
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    let as_customer = format!("wasp_customer={root}");
    for path in ["/api/customer/auth/me", "/api/v1/keys", "/api/v1/chats"] {
        let r = with_cookie(&app, Method::GET, path, &as_customer, Some("test"), None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.body);
    }
    let r = with_cookie(
        &app,
        Method::GET,
        "/api/v1/keys",
        &operator,
        Some("test"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

async fn suspension_ends_dashboard_sessions_and_their_event_stream(app: TestApp) {
    let root = app.root_token().await;
    let server = fake_worker(&app, &root).await;
    let (id, cookies) = signed_in(&app, &root, "stream@example.com", Some(&server)).await;
    let mut stream = app
        .http
        .get(app.url("/api/v1/events"))
        .header(header::COOKIE, cookies.access())
        .header("x-wasp-mode", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("open"));
    let r = app
        .post(
            &format!("/api/admin/customers/{id}/suspend"),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while stream.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends with the suspension");
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &cookies.access(),
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let call = with_cookie(
        &app,
        Method::GET,
        "/api/v1/chats",
        &cookies.access(),
        Some("test"),
        None,
    )
    .await;
    assert_eq!(call.status, StatusCode::UNAUTHORIZED);
    // Re-activated: the old session stays ended; a new sign-in works.
    app.post(
        &format!("/api/admin/customers/{id}/activate"),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(
        with_cookie(
            &app,
            Method::GET,
            "/api/v1/chats",
            &cookies.access(),
            Some("test"),
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "stream@example.com", PASSWORD).await.0.status,
        StatusCode::OK
    );
}

async fn customers_edit_their_own_profile_fields_and_nothing_else(app: TestApp) {
    let root = app.root_token().await;
    let (id, cookies) = signed_in(&app, &root, "profile@example.com", None).await;
    let cookie = cookies.access();
    let patch = |body: Value| {
        with_cookie(
            &app,
            Method::PATCH,
            "/api/customer/auth/me",
            &cookie,
            None,
            Some(body),
        )
    };

    let saved = patch(json!({ "name": "  Ana Lima ", "company": "Lima & Co", "timezone": "Asia/Jakarta", "language": "pt-BR" })).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let profile = &saved.data()["customer"];
    assert_eq!(profile["name"], "Ana Lima", "trimmed");
    assert_eq!(profile["company"], "Lima & Co");
    assert_eq!(profile["timezone"], "Asia/Jakarta");
    assert_eq!(profile["language"], "pt-BR");
    assert_eq!(profile["email"], "profile@example.com");
    assert_eq!(saved.data()["must_change_password"], false);
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(me.data()["customer"], *profile);
    // The operator sees the same.
    let admin = app.get(&format!("/api/admin/customers/{id}"), &root).await;
    assert_eq!(admin.data()["full_name"], "Ana Lima");
    assert_eq!(admin.data()["company_name"], "Lima & Co");
    assert_eq!(admin.data()["timezone"], "Asia/Jakarta");

    // Only the fields given change; an empty text removes it.
    let cleared = patch(json!({ "company": "" })).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert!(cleared.data()["customer"]["company"].is_null());
    assert_eq!(cleared.data()["customer"]["name"], "Ana Lima");
    assert_eq!(cleared.data()["customer"]["language"], "pt-BR");

    // Refusals name their field, and change nothing.
    for (body, field) in [
        (json!({ "name": "x".repeat(256) }), "name"),
        (json!({ "company": "bad\u{7}bell" }), "company"),
        (json!({ "timezone": "Mars/Olympus Mons" }), "timezone"),
        (json!({ "language": "english!" }), "language"),
    ] {
        let r = patch(body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{body}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
    }
    // Plan, status, e-mail and limits are not the customer's.
    for body in [
        json!({ "plan": "enterprise" }),
        json!({ "status": "active" }),
        json!({ "email": "other@example.com" }),
        json!({ "name": "Ana", "messages_per_day": 1_000_000 }),
    ] {
        let r = patch(body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{body}: {}",
            r.body
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field"),
            "{}",
            r.body
        );
    }
    let admin = app.get(&format!("/api/admin/customers/{id}"), &root).await;
    assert_eq!(admin.data()["plan"], "basic");
    assert_eq!(admin.data()["email"], "profile@example.com");
    assert_eq!(admin.data()["full_name"], "Ana Lima");

    // Signed out, or from another site: refused.
    let anonymous = app
        .call(
            Method::PATCH,
            "/api/customer/auth/me",
            None,
            Some(json!({ "name": "Mallory" })),
        )
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    let forged = TestApp::reply(
        app.http
            .patch(app.url("/api/customer/auth/me"))
            .header(header::COOKIE, &cookie)
            .header("origin", "https://evil.example")
            .json(&json!({ "name": "Mallory" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let forged = TestApp::reply(
        app.http
            .patch(app.url("/api/customer/auth/me"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(r#"{"name":"Mallory"}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(me.data()["customer"]["name"], "Ana Lima");

    // A temporary password is changed first.
    let (_, temporary, _) = customer(&app, &root, "temp@example.com", None).await;
    let (_, temp) = sign_in(&app, "temp@example.com", &temporary).await;
    let r = with_cookie(
        &app,
        Method::PATCH,
        "/api/customer/auth/me",
        &temp.access(),
        None,
        Some(json!({ "name": "T" })),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED"),
        "{}",
        r.body
    );

    // Audited with the fields' names, not their values.
    let events = app.audit(&root, "customer_profile_updated").await;
    assert_eq!(events.len(), 2, "{events:?}");
    let fields: Vec<Value> = events
        .iter()
        .map(|e| e["metadata"]["fields"].clone())
        .collect();
    assert!(
        fields.contains(&json!(["name", "company", "timezone", "language"])),
        "{fields:?}"
    );
    assert!(fields.contains(&json!(["company"])), "{fields:?}");
    assert!(!events.iter().any(|e| e.to_string().contains("Ana Lima")));
}

async fn an_unverified_customer_gets_a_new_verification_link_on_request(app: TestApp) {
    let root = app.root_token().await;
    fake_worker(&app, &root).await;
    let resend = |cookie: String| {
        let app = &app;
        async move {
            with_cookie(
                app,
                Method::POST,
                "/api/customer/auth/verify/resend",
                &cookie,
                None,
                None,
            )
            .await
        }
    };
    // Signed in only.
    let r = app
        .call(Method::POST, "/api/customer/auth/verify/resend", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

    let r = anonymous(
        &app,
        "/api/customer/auth/signup",
        json!({ "email": "late@example.com", "password": PASSWORD }),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let first = outbox(&app, 1).await[0].clone();
    let (_, cookies) = sign_in(&app, "late@example.com", PASSWORD).await;

    let again = resend(cookies.access()).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(
        again.data(),
        &json!({ "sent": true, "email_verified": false })
    );
    let lines = outbox(&app, 2).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let second = &lines[1];
    assert_eq!(second["to"], "late@example.com");
    assert_eq!(second["subject"], first["subject"]);
    let link = second["link"].as_str().unwrap();
    assert_ne!(link, first["link"].as_str().unwrap(), "a new link");
    assert!(
        link.starts_with(&format!("{}/verify-email?token=", app.url(""))),
        "{link}"
    );
    assert_eq!(
        app.audit(&root, "customer_verification_resent").await.len(),
        1
    );

    // The new link verifies; so would the first (both within their 24 hours).
    let verified = anonymous(
        &app,
        "/api/customer/auth/verify",
        json!({ "token": token_of(link) }),
    )
    .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    let me = with_cookie(
        &app,
        Method::GET,
        "/api/customer/auth/me",
        &cookies.access(),
        None,
        None,
    )
    .await;
    assert_eq!(me.data()["customer"]["email_verified"], true);

    // Verified: no more mail, and the answer says why.
    let done = resend(cookies.access()).await;
    assert_eq!(done.status, StatusCode::ACCEPTED, "{}", done.body);
    assert_eq!(
        done.data(),
        &json!({ "sent": false, "email_verified": true })
    );
    let (_, operator_made) = signed_in(&app, &root, "vouched@example.com", None).await;
    assert_eq!(resend(operator_made.access()).await.data()["sent"], false);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        outbox(&app, 2).await.len(),
        2,
        "no mail for a verified address"
    );

    // From another site: refused, nothing mailed.
    let forged = TestApp::reply(
        app.http
            .post(app.url("/api/customer/auth/verify/resend"))
            .header(header::COOKIE, cookies.access())
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
}
