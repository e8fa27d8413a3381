//! API keys: admin and customer management, revocation, tenant isolation.

use crate::harness::TestApp;
use crate::on_both_databases;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_databases!(
    keys_are_created_shown_once_and_revoked_at_once,
    a_customer_key_never_reaches_another_customers_keys,
    regenerating_replaces_every_key_of_that_mode,
    malformed_and_unknown_keys_get_invalid_api_key,
    a_key_reaches_only_the_areas_of_its_scopes,
    a_test_key_never_creates_sees_or_revokes_live_keys,
);

async fn a_test_key_never_creates_sees_or_revokes_live_keys(app: TestApp) {
    let token = app.root_token().await;
    let created = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "modes@x.io", "assign_server": "none" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let live = created.data()["api_key"].as_str().unwrap().to_owned();
    let test = created.data()["test_api_key"].as_str().unwrap().to_owned();
    let ids_of = |r: &crate::harness::Reply| -> Vec<(String, String)> {
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["id"].as_str().unwrap().to_owned(),
                    k["mode"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let all = ids_of(&app.get("/api/v1/keys", &live).await);
    let live_id = all.iter().find(|(_, m)| m == "live").unwrap().0.clone();

    // A test key asking for a live key: 403, and no key is created.
    let refused = app
        .post(
            "/api/v1/keys",
            &test,
            json!({ "name": "x", "mode": "live" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.code(), "FORBIDDEN");
    assert_eq!(ids_of(&app.get("/api/v1/keys", &live).await).len(), 2);
    // Without a mode it gets a key of its own mode.
    let own = app
        .post("/api/v1/keys", &test, json!({ "name": "ci" }))
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.body);
    assert!(own.data()["api_key"]
        .as_str()
        .unwrap()
        .starts_with("ak_test_"));
    assert_eq!(own.data()["mode"], "test");

    // It sees test keys only, and a live key's id is unknown to it.
    let seen = ids_of(&app.get("/api/v1/keys", &test).await);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|(_, m)| m == "test"));
    let revoke = app.delete(&format!("/api/v1/keys/{live_id}"), &test).await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND, "{}", revoke.body);
    assert_eq!(revoke.code(), "NOT_FOUND");
    assert_eq!(
        app.get("/api/v1/keys", &live).await.status,
        StatusCode::OK,
        "the live key still works"
    );

    // The other direction: a live key creates test keys and revokes them.
    let by_live = app
        .post(
            "/api/v1/keys",
            &live,
            json!({ "name": "t", "mode": "test" }),
        )
        .await;
    assert_eq!(by_live.status, StatusCode::CREATED, "{}", by_live.body);
    let new_test = by_live.data()["api_key"].as_str().unwrap().to_owned();
    let new_test_id = by_live.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(ids_of(&app.get("/api/v1/keys", &live).await).len(), 4);
    let gone = app
        .delete(&format!("/api/v1/keys/{new_test_id}"), &live)
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(
        app.get("/api/v1/keys", &new_test).await.code(),
        "INVALID_API_KEY"
    );
}

async fn a_key_reaches_only_the_areas_of_its_scopes(app: TestApp) {
    let token = app.root_token().await;
    let (id, _) = new_customer(&app, &token, "scoped@x.io").await;
    let reader = app
        .post(
            &format!("/api/admin/customers/{id}/keys"),
            &token,
            json!({ "name": "dashboard", "mode": "test", "scopes": ["chats:read"] }),
        )
        .await;
    assert_eq!(reader.status, StatusCode::CREATED, "{}", reader.body);
    let reader = reader.data()["api_key"].as_str().unwrap().to_owned();
    // Within its scope the call goes on (to the worker: none is assigned here, so 503).
    let r = app.get("/api/v1/chats", &reader).await;
    assert_eq!(r.code(), "WORKER_UNAVAILABLE", "{}", r.body);
    // Outside it: 403 FORBIDDEN naming the scope, before any worker is asked.
    for (method, path) in [
        (Method::POST, "/api/v1/send/message"),
        (Method::POST, "/api/v1/group"),
        (Method::GET, "/api/v1/app/login"),
    ] {
        let r = app
            .call(
                method,
                path,
                Some(&reader),
                Some(json!({ "phone": "6281234567890", "message": "hi" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        assert_eq!(r.code(), "FORBIDDEN");
        assert!(r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scope"));
    }
}

async fn new_customer(app: &TestApp, token: &str, email: &str) -> (String, String) {
    let r = app
        .post(
            "/api/admin/customers",
            token,
            json!({ "email": email, "assign_server": "none" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (
        r.data()["id"].as_str().unwrap().to_owned(),
        r.data()["api_key"].as_str().unwrap().to_owned(),
    )
}

async fn keys_are_created_shown_once_and_revoked_at_once(app: TestApp) {
    let token = app.root_token().await;
    let (id, key) = new_customer(&app, &token, "k@x.io").await;

    let by_admin = app
        .post(
            &format!("/api/admin/customers/{id}/keys"),
            &token,
            json!({ "name": "CI", "mode": "test", "scopes": ["messages:send"] }),
        )
        .await;
    assert_eq!(by_admin.status, StatusCode::CREATED, "{}", by_admin.body);
    assert!(by_admin.data()["api_key"]
        .as_str()
        .unwrap()
        .starts_with("ak_test_"));
    assert_eq!(by_admin.data()["scopes"], json!(["messages:send"]));

    let by_customer = app
        .post(
            "/api/v1/keys",
            &key,
            json!({ "name": "Production", "mode": "live" }),
        )
        .await;
    assert_eq!(
        by_customer.status,
        StatusCode::CREATED,
        "{}",
        by_customer.body
    );
    let second = by_customer.data()["api_key"].as_str().unwrap().to_owned();
    let second_id = by_customer.data()["id"].as_str().unwrap().to_owned();
    let listed = app.get("/api/v1/keys", &second).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.data().as_array().unwrap().len(), 4);
    assert!(!listed.body.to_string().contains(&second[8..]));
    let used = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == second_id.as_str())
        .unwrap()
        .clone();
    assert!(used["last_used_at"].is_string(), "last use is recorded");
    assert_eq!(used["last_used_ip"], "127.0.0.1");

    let limited = by_admin.data()["api_key"].as_str().unwrap().to_owned();
    let refused = app
        .post("/api/v1/keys", &limited, json!({ "name": "escalate" }))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "a key without keys:manage cannot mint keys"
    );

    let revoked = app.delete(&format!("/api/v1/keys/{second_id}"), &key).await;
    assert_eq!(revoked.status, StatusCode::OK);
    let dead = app.get("/api/v1/keys", &second).await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED);
    assert_eq!(dead.code(), "INVALID_API_KEY");
    let admin_revoke = app
        .delete(
            &format!(
                "/api/admin/customers/{id}/keys/{}",
                by_admin.data()["id"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(admin_revoke.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/keys", &limited).await.status,
        StatusCode::UNAUTHORIZED
    );
    let states: Vec<String> = app
        .get(&format!("/api/admin/customers/{id}/keys"), &token)
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states.iter().filter(|s| *s == "revoked").count(), 2);

    assert_eq!(app.audit(&token, "create_api_key").await.len(), 2);
    assert_eq!(app.audit(&token, "revoke_api_key").await.len(), 2);
    let invalid = app.audit(&token, "invalid_api_key").await;
    assert!(invalid.len() >= 2 && invalid.iter().all(|r| r["event_type"] == "security_event"));
}

async fn a_customer_key_never_reaches_another_customers_keys(app: TestApp) {
    let token = app.root_token().await;
    let (a_id, a_key) = new_customer(&app, &token, "a@x.io").await;
    let (b_id, b_key) = new_customer(&app, &token, "b@x.io").await;
    let b_keys = app.get("/api/v1/keys", &b_key).await;
    let b_key_id = b_keys.data()[0]["id"].as_str().unwrap().to_owned();

    let a_list = app.get("/api/v1/keys", &a_key).await;
    assert!(a_list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["customer_id"] == a_id.as_str()));
    let steal = app
        .delete(&format!("/api/v1/keys/{b_key_id}"), &a_key)
        .await;
    assert_eq!(
        steal.status,
        StatusCode::NOT_FOUND,
        "another customer's key is invisible"
    );
    assert_eq!(
        app.get("/api/v1/keys", &b_key).await.status,
        StatusCode::OK,
        "and still works"
    );
    // Nor through the admin path of the wrong customer.
    let cross = app
        .delete(
            &format!("/api/admin/customers/{a_id}/keys/{b_key_id}"),
            &token,
        )
        .await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    // A customer key is not an admin credential.
    assert_eq!(
        app.get("/api/admin/customers", &a_key).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&format!("/api/admin/customers/{b_id}"), &a_key)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn regenerating_replaces_every_key_of_that_mode(app: TestApp) {
    let token = app.root_token().await;
    let created = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "r@x.io", "assign_server": "none" }),
        )
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let old_live = created.data()["api_key"].as_str().unwrap().to_owned();
    let old_test = created.data()["test_api_key"].as_str().unwrap().to_owned();
    let regen = app
        .post(
            &format!("/api/admin/customers/{id}/regenerate-key"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(regen.status, StatusCode::CREATED, "{}", regen.body);
    let new_live = regen.data()["api_key"].as_str().unwrap().to_owned();
    assert!(new_live.starts_with("ak_live_") && new_live != old_live);
    assert_eq!(
        app.get("/api/v1/keys", &old_live).await.status,
        StatusCode::UNAUTHORIZED,
        "the old key dies at once"
    );
    assert_eq!(
        app.get("/api/v1/keys", &new_live).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/keys", &old_test).await.status,
        StatusCode::OK,
        "test keys are untouched"
    );
    let audit = app.audit(&token, "regenerate_api_key").await;
    assert_eq!(audit[0]["metadata"]["revoked"], 1);
}

async fn malformed_and_unknown_keys_get_invalid_api_key(app: TestApp) {
    let none = app.call(Method::GET, "/api/v1/keys", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "INVALID_API_KEY");
    for bad in [
        "ak_live_short",
        "sk_live_abcdef",
        "ak_live_0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0O",
    ] {
        let r = app.get("/api/v1/keys", bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(r.code(), "INVALID_API_KEY");
    }
    let forged = wasp_protocol::SecretKey::generate(wasp_protocol::KeyKind::Live);
    let r = app
        .http
        .get(app.url("/api/v1/keys"))
        .header("X-API-Key", forged.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Invalid or expired API key");
}
