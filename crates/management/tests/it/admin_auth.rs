//! Operator sign-in, sessions, lockout, MFA and roles.

use crate::harness::{TestApp, OPERATOR_PASSWORD, ROOT_EMAIL, ROOT_PASSWORD};
use crate::on_both_databases;
use reqwest::{header, Method, StatusCode};
use serde_json::json;

on_both_databases!(
    right_password_signs_in_and_wrong_password_is_refused,
    the_session_cookie_works_and_logout_ends_it,
    repeated_failures_lock_the_account_even_for_the_right_password,
    each_role_gets_its_routes_and_is_refused_the_others,
    mfa_requires_a_current_code_once_enabled,
    refresh_token_issues_a_new_access_token,
    an_operator_changes_their_own_password_by_the_customers_rule,
);

async fn right_password_signs_in_and_wrong_password_is_refused(app: TestApp) {
    let ok = app.login(ROOT_EMAIL, ROOT_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["success"], true);
    let token = ok.data()["token"].as_str().unwrap();
    assert!(ok.data()["expires_at"].is_string());
    assert_eq!(ok.data()["admin"]["role"], "super_admin");
    let me = app.get("/api/admin/auth/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.data()["email"], ROOT_EMAIL);

    let wrong = app.login(ROOT_EMAIL, "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "INVALID_CREDENTIALS");
    assert_eq!(wrong.body["success"], false);
    let unknown = app.login("nobody@wasp.test", "whatever-password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.code(),
        "INVALID_CREDENTIALS",
        "unknown emails look like wrong passwords"
    );

    let failures = app.audit(token, "login_failed").await;
    assert_eq!(failures.len(), 2);
    assert!(failures
        .iter()
        .all(|r| r["status"] == "failure" && r["ip_address"] == "127.0.0.1"));
    let logins = app.audit(token, "login").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["event_type"], "auth_event");
    // No password ever reaches the audit log.
    let all = app.get("/api/admin/logs?per_page=100", token).await;
    assert!(!all.body.to_string().contains(ROOT_PASSWORD));
    assert!(!all.body.to_string().contains("not-the-password"));

    let garbage = app.get("/api/admin/servers", "not-a-jwt").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    let missing = app
        .call(Method::GET, "/api/admin/servers", None, None)
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.code(), "UNAUTHORIZED");
}

async fn the_session_cookie_works_and_logout_ends_it(app: TestApp) {
    let resp = app
        .http
        .post(app.url("/api/admin/auth/login"))
        .json(&json!({ "email": ROOT_EMAIL, "password": ROOT_PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let access = cookies
        .iter()
        .find(|c| c.starts_with("wasp_admin="))
        .expect("access cookie");
    assert!(
        access.contains("HttpOnly") && access.contains("SameSite=Strict"),
        "{access}"
    );
    let cookie_pair = access.split(';').next().unwrap().to_owned();
    let body: serde_json::Value = resp.json().await.unwrap();
    let token = body["data"]["token"].as_str().unwrap().to_owned();

    let via_cookie = app
        .http
        .get(app.url("/api/admin/servers"))
        .header(header::COOKIE, &cookie_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(via_cookie.status(), StatusCode::OK);

    // A change made with the cookie must come from our own pages, as JSON: a sibling
    // subdomain's page, or a form posting text/plain, is refused and creates nothing.
    let create = |origin: &str, content_type: &str| {
        app.http
            .post(app.url("/api/admin/customers"))
            .header(header::COOKIE, &cookie_pair)
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, content_type)
            .body(r#"{"email":"csrf@x.io","assign_server":"none"}"#)
            .send()
    };
    for (origin, content_type) in [
        ("https://evil.example.com", "application/json"),
        ("https://sibling.localhost", "application/json"),
    ] {
        let refused = TestApp::reply(create(origin, content_type).await.unwrap()).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{origin}: {}",
            refused.body
        );
        assert_eq!(refused.code(), "FORBIDDEN");
    }
    let own = app.url("");
    let own = own.trim_end_matches('/');
    let form = TestApp::reply(create(own, "text/plain").await.unwrap()).await;
    assert_eq!(form.status, StatusCode::FORBIDDEN, "{}", form.body);
    let customers = app.get("/api/admin/customers", &token).await;
    assert_eq!(
        customers.data().as_array().unwrap().len(),
        0,
        "nothing was created"
    );
    let from_our_page = TestApp::reply(create(own, "application/json").await.unwrap()).await;
    assert_eq!(
        from_our_page.status,
        StatusCode::CREATED,
        "{}",
        from_our_page.body
    );

    let out = app.post("/api/admin/auth/logout", &token, json!({})).await;
    assert_eq!(out.status, StatusCode::OK);
    let cleared = out
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().contains("Max-Age=0"));
    assert!(cleared, "logout clears the cookies");
    let after = app.get("/api/admin/servers", &token).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "a logged-out token is dead at once"
    );
    let cookie_after = app
        .http
        .get(app.url("/api/admin/servers"))
        .header(header::COOKIE, &cookie_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(cookie_after.status(), StatusCode::UNAUTHORIZED);
    let root = app.root_token().await;
    assert_eq!(app.audit(&root, "logout").await.len(), 1);
}

/// Behind a trusted proxy, whose `X-Forwarded-For` gives each sign-in its address.
mod lockout_per_address {
    use super::*;
    use wasp_management::db::Backend;

    async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, |c| c.trust_proxy = true).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        an_unknown_email_is_answered_like_a_known_one_and_a_stranger_cannot_lock_an_operator_out(
            start(Backend::Sqlite).await,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        an_unknown_email_is_answered_like_a_known_one_and_a_stranger_cannot_lock_an_operator_out(
            start(Backend::Postgres).await,
        )
        .await
    }
}

/// A sign-in from `ip` (through a trusted proxy's `X-Forwarded-For`).
async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> crate::harness::Reply {
    let resp = app
        .http
        .post(app.url("/api/admin/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    TestApp::reply(resp).await
}

async fn an_unknown_email_is_answered_like_a_known_one_and_a_stranger_cannot_lock_an_operator_out(
    app: TestApp,
) {
    let root = app.root_token().await;
    app.operator_token(&root, "real@wasp.test", "admin").await;
    let stranger = "203.0.113.66";
    // Five wrong tries at a real and at a made-up e-mail: the same answers, step by step.
    for attempt in 1..=6 {
        let known = login_from(&app, stranger, "real@wasp.test", "wrong-password-here").await;
        let unknown = login_from(&app, stranger, "nobody@wasp.test", "wrong-password-here").await;
        assert_eq!(
            (known.status, known.code()),
            (unknown.status, unknown.code()),
            "attempt {attempt}: {} / {}",
            known.body,
            unknown.body
        );
        let expected = if attempt < 5 {
            "INVALID_CREDENTIALS"
        } else {
            "ACCOUNT_LOCKED"
        };
        assert_eq!(known.code(), expected, "attempt {attempt}");
        if attempt >= 5 {
            assert_eq!(
                known.body["error"]["message"],
                unknown.body["error"]["message"]
            );
        }
    }
    // The stranger is locked out of that e-mail, even with the right password...
    let right = login_from(&app, stranger, "real@wasp.test", OPERATOR_PASSWORD).await;
    assert_eq!(right.code(), "ACCOUNT_LOCKED");
    // ...but the operator, signing in from their own address, is not.
    let own = login_from(&app, "198.51.100.20", "real@wasp.test", OPERATOR_PASSWORD).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    // Both locks are security events; the operator listing shows the lock.
    assert_eq!(app.audit(&root, "account_locked").await.len(), 2);
    let users = app.get("/api/admin/users", &root).await;
    let real = users
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "real@wasp.test")
        .unwrap()
        .clone();
    assert!(real["locked_until"].is_string(), "{real}");
}

async fn repeated_failures_lock_the_account_even_for_the_right_password(app: TestApp) {
    let root = app.root_token().await;
    app.operator_token(&root, "ops@wasp.test", "admin").await;
    for attempt in 1..=4 {
        let r = app.login("ops@wasp.test", "wrong-password-here").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let fifth = app.login("ops@wasp.test", "wrong-password-here").await;
    assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(fifth.code(), "ACCOUNT_LOCKED");
    assert!(fifth.body["error"]["retry_after"].as_u64().unwrap() > 0);
    assert!(fifth.headers.get(header::RETRY_AFTER).is_some());

    let right = app.login("ops@wasp.test", OPERATOR_PASSWORD).await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "locked even with the right password"
    );
    assert_eq!(right.code(), "ACCOUNT_LOCKED");

    let locked = app.audit(&root, "account_locked").await;
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0]["event_type"], "security_event");

    // A super admin's reset unlocks the account.
    let users = app.get("/api/admin/users", &root).await;
    let id = users
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ops@wasp.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = app
        .post(
            &format!("/api/admin/users/{id}/reset-password"),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let new_password = reset.data()["password"].as_str().unwrap().to_owned();
    let again = app.login("ops@wasp.test", &new_password).await;
    assert_eq!(again.status, StatusCode::OK);
    let listed = app.get("/api/admin/users", &root).await;
    assert!(
        !listed.body.to_string().contains(&new_password),
        "a reset password is shown once"
    );
}

async fn each_role_gets_its_routes_and_is_refused_the_others(app: TestApp) {
    let root = app.root_token().await;
    let admin = app.operator_token(&root, "admin@wasp.test", "admin").await;
    let viewer = app
        .operator_token(&root, "viewer@wasp.test", "viewer")
        .await;
    let server_body =
        json!({ "name": "S", "ip_address": "127.0.0.9", "cpu_cores": 2, "ram_gb": 4 });

    // Viewer: reads everything, changes nothing.
    for path in [
        "/api/admin/servers",
        "/api/admin/customers",
        "/api/admin/logs",
        "/api/admin/auth/me",
    ] {
        assert_eq!(
            app.get(path, &viewer).await.status,
            StatusCode::OK,
            "viewer GET {path}"
        );
    }
    let refused = app
        .post("/api/admin/servers", &viewer, server_body.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "FORBIDDEN");
    let refused = app
        .post(
            "/api/admin/customers",
            &viewer,
            json!({ "email": "c@x.io", "assign_server": "none" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/admin/users", &viewer).await.status,
        StatusCode::FORBIDDEN
    );
    // Refused for the role first, whatever the body: a malformed one is not even read.
    for (method, path) in [
        (Method::POST, "/api/admin/servers"),
        (Method::POST, "/api/admin/customers"),
        (Method::POST, "/api/admin/users"),
        (
            Method::PUT,
            "/api/admin/customers/01a23b1d-ebf0-7289-8e70-f5bd296d5700",
        ),
    ] {
        let refused = app
            .call(
                method,
                path,
                Some(&viewer),
                Some(json!({ "nonsense": [1, 2] })),
            )
            .await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "viewer {path}: {}",
            refused.body
        );
    }
    assert_eq!(
        app.get("/api/admin/servers", &viewer)
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing was created"
    );

    // Admin: manages servers and customers, not operators.
    let created = app.post("/api/admin/servers", &admin, server_body).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let sid = created.data()["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/admin/servers/{sid}"), &viewer)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.put(
            &format!("/api/admin/servers/{sid}"),
            &viewer,
            json!({ "max_capacity": 5 })
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/admin/users", &admin).await.status,
        StatusCode::FORBIDDEN
    );
    let op = app
        .post(
            "/api/admin/users",
            &admin,
            json!({ "email": "x@wasp.test", "role": "super_admin" }),
        )
        .await;
    assert_eq!(
        op.status,
        StatusCode::FORBIDDEN,
        "an admin cannot create operators"
    );

    // Super admin: manages operators; the last super admin cannot be demoted.
    assert_eq!(
        app.get("/api/admin/users", &root).await.status,
        StatusCode::OK
    );
    let me = app.get("/api/admin/auth/me", &root).await;
    let root_id = me.data()["id"].as_str().unwrap();
    let demote = app
        .put(
            &format!("/api/admin/users/{root_id}"),
            &root,
            json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    assert!(
        demote.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("your own role"),
        "{}",
        demote.body
    );
    // Nor can an operator deactivate themselves or reset their own password (which would
    // end their own session): another super admin does that.
    let deactivate = app
        .put(
            &format!("/api/admin/users/{root_id}"),
            &root,
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(
        deactivate.status,
        StatusCode::CONFLICT,
        "{}",
        deactivate.body
    );
    let reset = app
        .post(
            &format!("/api/admin/users/{root_id}/reset-password"),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::CONFLICT, "{}", reset.body);
    assert_eq!(reset.code(), "CONFLICT");
    // Their own name is theirs to change, and they are still signed in.
    let renamed = app
        .put(
            &format!("/api/admin/users/{root_id}"),
            &root,
            json!({ "full_name": "Root Operator" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.data()["full_name"], "Root Operator");
    assert_eq!(renamed.data()["role"], "super_admin");

    // Deactivating an operator ends their sessions at once.
    let users = app.get("/api/admin/users", &root).await;
    let viewer_id = users
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "viewer@wasp.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/api/admin/users/{viewer_id}"), &root)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/admin/servers", &viewer).await.status,
        StatusCode::UNAUTHORIZED
    );
    let denied = app.login("viewer@wasp.test", OPERATOR_PASSWORD).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
}

async fn mfa_requires_a_current_code_once_enabled(app: TestApp) {
    let root = app.root_token().await;
    let setup = app
        .post("/api/admin/auth/mfa/setup", &root, json!({}))
        .await;
    assert_eq!(setup.status, StatusCode::CREATED, "{}", setup.body);
    let secret = setup.data()["secret"].as_str().unwrap().to_owned();
    assert!(setup.data()["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap(),
        Some("wasp".into()),
        ROOT_EMAIL.into(),
    )
    .unwrap();
    let wrong = app
        .post(
            "/api/admin/auth/mfa/enable",
            &root,
            json!({ "code": "000000" }),
        )
        .await;
    if totp.generate_current().unwrap() != "000000" {
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let enabled = app
        .post(
            "/api/admin/auth/mfa/enable",
            &root,
            json!({ "code": totp.generate_current().unwrap() }),
        )
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);

    let no_code = app.login(ROOT_EMAIL, ROOT_PASSWORD).await;
    assert_eq!(no_code.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_code.code(), "MFA_REQUIRED");
    let bad_code = app
        .call(
            Method::POST,
            "/api/admin/auth/login",
            None,
            Some(json!({ "email": ROOT_EMAIL, "password": ROOT_PASSWORD, "totp_code": "12345x" })),
        )
        .await;
    assert_eq!(bad_code.code(), "INVALID_MFA_CODE");
    let with_code = app.call(Method::POST, "/api/admin/auth/login", None, Some(json!({ "email": ROOT_EMAIL, "password": ROOT_PASSWORD, "totp_code": totp.generate_current().unwrap() }))).await;
    assert_eq!(with_code.status, StatusCode::OK, "{}", with_code.body);
    assert_eq!(with_code.data()["admin"]["mfa_enabled"], true);
    // The secret is never shown again.
    let me = app.get("/api/admin/auth/me", &root).await;
    assert!(!me.body.to_string().contains(&secret));
    let users = app.get("/api/admin/users", &root).await;
    assert!(!users.body.to_string().contains(&secret));
}

async fn refresh_token_issues_a_new_access_token(app: TestApp) {
    let login = app.login(ROOT_EMAIL, ROOT_PASSWORD).await;
    let refresh = login.data()["refresh_token"].as_str().unwrap().to_owned();
    let access = login.data()["token"].as_str().unwrap().to_owned();
    // A refresh token is not an access token, and vice versa.
    assert_eq!(
        app.get("/api/admin/servers", &refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong_kind = app
        .call(
            Method::POST,
            "/api/admin/auth/refresh",
            None,
            Some(json!({ "refresh_token": access })),
        )
        .await;
    assert_eq!(wrong_kind.status, StatusCode::UNAUTHORIZED);
    let renewed = app
        .call(
            Method::POST,
            "/api/admin/auth/refresh",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let new_access = renewed.data()["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/admin/servers", new_access).await.status,
        StatusCode::OK
    );
    // Refresh tokens rotate: the new one works once more...
    let rotated = renewed.data()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, refresh);
    let refresh_with = |token: &str| {
        app.call(
            Method::POST,
            "/api/admin/auth/refresh",
            None,
            Some(json!({ "refresh_token": token })),
        )
    };
    let again = refresh_with(&rotated).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let newest = again.data()["refresh_token"].as_str().unwrap().to_owned();
    let newest_access = again.data()["token"].as_str().unwrap().to_owned();
    // ...and a used one presented again (a copy) ends the whole session: the newest
    // tokens of the real holder stop working too, and it is a security event.
    let reused = refresh_with(&rotated).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "{}", reused.body);
    assert_eq!(refresh_with(&newest).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/admin/servers", &newest_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let root = app.root_token().await;
    let events = app.audit(&root, "refresh_token_reused").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["severity"], "critical");
    // Logging out ends the whole session, refresh included.
    let login = app.login(ROOT_EMAIL, ROOT_PASSWORD).await;
    let refresh = login.data()["refresh_token"].as_str().unwrap().to_owned();
    let new_access = login.data()["token"].as_str().unwrap().to_owned();
    app.post("/api/admin/auth/logout", &new_access, json!({}))
        .await;
    let after = app
        .call(
            Method::POST,
            "/api/admin/auth/refresh",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

async fn an_operator_changes_their_own_password_by_the_customers_rule(app: TestApp) {
    let token = app.root_token().await;
    let other = app.root_token().await;
    let change = |current: &str, new: &str| {
        app.post(
            "/api/admin/auth/password",
            &token,
            json!({ "current_password": current, "new_password": new }),
        )
    };
    let short = change(ROOT_PASSWORD, "short").await;
    assert_eq!(
        (short.status, short.code()),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
    );
    assert_eq!(short.body["error"]["field"], "new_password");
    let same = change(ROOT_PASSWORD, ROOT_PASSWORD).await;
    assert_eq!(same.code(), "VALIDATION_ERROR", "{}", same.body);
    assert_eq!(same.body["error"]["field"], "new_password");
    let wrong = change("not-the-password", "a-new-operator-password").await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );
    assert_eq!(app.audit(&token, "password_change_failed").await.len(), 1);
    let changed = change(ROOT_PASSWORD, "a-new-operator-password").await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        app.get("/api/admin/auth/me", &other).await.status,
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    assert_eq!(
        app.get("/api/admin/auth/me", &token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.login(ROOT_EMAIL, ROOT_PASSWORD).await.code(),
        "INVALID_CREDENTIALS"
    );
    assert_eq!(
        app.login(ROOT_EMAIL, "a-new-operator-password")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.audit(&token, "password_changed").await.len(), 1);
}
