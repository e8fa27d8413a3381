//! Server registry: CRUD, one-time keys, heartbeats and placement.

use crate::harness::TestApp;
use crate::on_both_databases;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_databases!(
    server_crud_shows_the_key_once_and_soft_deletes,
    a_server_with_customers_cannot_be_deleted_until_drained,
    heartbeats_make_a_server_healthy_and_a_wrong_key_is_a_security_event,
    auto_assignment_picks_the_least_utilised_healthy_server_with_room,
);

async fn server_crud_shows_the_key_once_and_soft_deletes(app: TestApp) {
    let token = app.root_token().await;
    let created = app
        .post("/api/admin/servers", &token, json!({
            "name": "VPS-Asia-1", "ip_address": "127.0.0.10", "max_capacity": 100, "cpu_cores": 8,
            "ram_gb": 16, "region": "asia-southeast", "provider": "digitalocean", "cost_per_month": 40.00
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key = created.data()["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ak_server_"));
    assert_eq!(created.data()["status"], "initializing");
    let id = created.data()["id"].as_str().unwrap().to_owned();

    let one = app.get(&format!("/api/admin/servers/{id}"), &token).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.data().get("api_key").is_none());
    assert_eq!(one.data()["cost_per_month"], 40.0);
    assert_eq!(one.data()["connectivity_status"], "never");
    let list = app.get("/api/admin/servers", &token).await;
    assert_eq!(list.body["meta"]["total"], 1);
    assert_eq!(list.body["meta"]["page"], 1);
    assert_eq!(list.data()[0]["utilization_percent"], 0.0);
    for reply in [&one, &list] {
        assert!(
            !reply.body.to_string().contains(&key[10..]),
            "the server key is never shown again"
        );
    }
    let logs = app.get("/api/admin/logs?per_page=100", &token).await;
    assert!(!logs.body.to_string().contains(&key[10..]), "nor logged");

    let dup = app
        .post(
            "/api/admin/servers",
            &token,
            json!({ "name": "VPS-Asia-1", "ip_address": "127.0.0.2", "cpu_cores": 1, "ram_gb": 1 }),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let updated = app
        .put(
            &format!("/api/admin/servers/{id}"),
            &token,
            json!({ "max_capacity": 50, "status": "maintenance" }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.data()["max_capacity"], 50);
    assert_eq!(updated.data()["status"], "maintenance");
    let bad = app
        .put(
            &format!("/api/admin/servers/{id}"),
            &token,
            json!({ "status": "exploded" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "VALIDATION_ERROR");

    let deleted = app
        .delete(&format!("/api/admin/servers/{id}"), &token)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/admin/servers/{id}"), &token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/admin/servers", &token).await.body["meta"]["total"],
        0
    );
    // A deleted server's key no longer authenticates.
    assert_eq!(
        app.heartbeat(&key, 10.0).await.status,
        StatusCode::UNAUTHORIZED
    );
    for action in ["create_server", "update_server", "delete_server"] {
        let rows = app.audit(&token, action).await;
        assert_eq!(rows.len(), 1, "{action}");
        assert_eq!(rows[0]["resource_id"], id.as_str());
        assert!(rows[0]["request_id"].is_string());
    }
}

async fn a_server_with_customers_cannot_be_deleted_until_drained(app: TestApp) {
    let token = app.root_token().await;
    let (a, _) = app.add_server(&token, "A", 10, None).await;
    let (b, _) = app.add_server(&token, "B", 10, None).await;
    let customer = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "c1@x.io", "assign_server": a }),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.body);
    let cid = customer.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&format!("/api/admin/servers/{a}"), &token)
            .await
            .data()["current_load"],
        1
    );

    let refused = app.delete(&format!("/api/admin/servers/{a}"), &token).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "SERVER_NOT_EMPTY");
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("1 customer"));

    // Neither a server id nor "auto": refused naming the field, and nothing moved.
    let refused = app
        .post(
            &format!("/api/admin/customers/{cid}/reassign"),
            &token,
            json!({ "server_id": "server-b" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.code(), "VALIDATION_ERROR");
    assert_eq!(refused.body["error"]["field"], "server_id");
    assert_eq!(
        app.get(&format!("/api/admin/customers/{cid}"), &token)
            .await
            .data()["assigned_server_id"],
        a.as_str()
    );

    // The id as the document's pattern allows it, surrounded by whitespace.
    let moved = app
        .post(
            &format!("/api/admin/customers/{cid}/reassign"),
            &token,
            json!({ "server_id": format!(" {b}\n") }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.data()["assigned_server_id"], b.as_str());
    assert_eq!(
        app.get(&format!("/api/admin/servers/{a}"), &token)
            .await
            .data()["current_load"],
        0
    );
    assert_eq!(
        app.get(&format!("/api/admin/servers/{b}"), &token)
            .await
            .data()["current_load"],
        1
    );
    assert_eq!(
        app.delete(&format!("/api/admin/servers/{a}"), &token)
            .await
            .status,
        StatusCode::OK
    );
}

async fn heartbeats_make_a_server_healthy_and_a_wrong_key_is_a_security_event(app: TestApp) {
    let token = app.root_token().await;
    let (id, key) = app.add_server(&token, "W1", 10, None).await;
    let reg = app
        .call(
            Method::POST,
            "/internal/v1/register",
            Some(&key),
            Some(json!({ "version": "0.1.0" })),
        )
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.body);
    assert_eq!(reg.data()["server_id"], id.as_str());
    let beat = app.heartbeat(&key, 12.5).await;
    assert_eq!(beat.status, StatusCode::NO_CONTENT);
    let server = app.get(&format!("/api/admin/servers/{id}"), &token).await;
    assert_eq!(server.data()["status"], "active");
    assert_eq!(server.data()["health_status"], "healthy");
    assert_eq!(server.data()["connectivity_status"], "online");
    let health = app
        .get(&format!("/api/admin/servers/{id}/health"), &token)
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.data()["latest_metrics"]["cpu_usage"], 12.5);
    assert_eq!(
        health.data()["probe"]["reachable"],
        false,
        "nothing listens on 127.0.0.1:9"
    );

    assert_eq!(
        app.heartbeat(&key, 95.0).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/admin/servers/{id}"), &token)
            .await
            .data()["health_status"],
        "degraded"
    );

    let forged = wasp_protocol::SecretKey::generate(wasp_protocol::KeyKind::Server);
    let wrong = app.heartbeat(forged.expose(), 1.0).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "INVALID_SERVER_KEY");
    let customer_key = wasp_protocol::SecretKey::generate(wasp_protocol::KeyKind::Live);
    assert_eq!(
        app.heartbeat(customer_key.expose(), 1.0).await.status,
        StatusCode::UNAUTHORIZED
    );
    let events = app.audit(&token, "server_auth_failed").await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["event_type"] == "security_event"));
}

async fn auto_assignment_picks_the_least_utilised_healthy_server_with_room(app: TestApp) {
    let token = app.root_token().await;
    let (busy, busy_key) = app.add_server(&token, "busy", 4, Some("eu")).await;
    let (quiet, quiet_key) = app.add_server(&token, "quiet", 10, Some("eu")).await;
    let (silent, _) = app.add_server(&token, "silent", 100, Some("eu")).await; // never heartbeats
    let (asia, asia_key) = app.add_server(&token, "asia", 10, Some("asia")).await;
    for key in [&busy_key, &quiet_key, &asia_key] {
        assert_eq!(
            app.heartbeat(key, 10.0).await.status,
            StatusCode::NO_CONTENT
        );
    }
    // busy: 2/4 = 50 %; quiet: 0/10 = 0 %.
    for n in 0..2 {
        let r = app
            .post(
                "/api/admin/customers",
                &token,
                json!({ "email": format!("pinned{n}@x.io"), "assign_server": busy }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let mut placed = Vec::new();
    for n in 0..3 {
        let r = app.post("/api/admin/customers", &token, json!({ "email": format!("auto{n}@x.io"), "plan": "pro", "assign_server": "auto", "region": "eu" })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        placed.push(r.data()["assigned_server_id"].as_str().unwrap().to_owned());
    }
    assert!(
        placed.iter().all(|s| s == &quiet),
        "0/10 → 1/10 → 2/10 all stay below 2/4: {placed:?}"
    );
    assert!(
        !placed.contains(&silent),
        "a server without heartbeats is never chosen"
    );
    let in_asia = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "asia@x.io", "region": "asia" }),
        )
        .await;
    assert_eq!(in_asia.data()["assigned_server_id"], asia.as_str());
    // A busy (degraded) server is still used when it is the only one with room.
    assert_eq!(
        app.heartbeat(&asia_key, 95.0).await.status,
        StatusCode::NO_CONTENT
    );
    let busy_asia = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "asia2@x.io", "region": "asia" }),
        )
        .await;
    assert_eq!(busy_asia.status, StatusCode::CREATED, "{}", busy_asia.body);
    assert_eq!(busy_asia.data()["assigned_server_id"], asia.as_str());

    // Fill quiet past busy's 50 %: then busy wins.
    for n in 0..3 {
        app.post(
            "/api/admin/customers",
            &token,
            json!({ "email": format!("fill{n}@x.io"), "assign_server": quiet }),
        )
        .await;
    }
    let next = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "next@x.io", "region": "eu" }),
        )
        .await;
    assert_eq!(
        next.data()["assigned_server_id"],
        busy.as_str(),
        "quiet is at 60 %, busy at 50 %"
    );

    let nowhere = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "mars@x.io", "region": "mars" }),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::CONFLICT);
    assert_eq!(nowhere.code(), "NO_SERVER_AVAILABLE");
    assert_eq!(
        app.get("/api/admin/customers?q=mars", &token).await.body["meta"]["total"],
        0,
        "nothing half-created"
    );

    // A full server refuses a pinned customer.
    let (tiny, _) = app.add_server(&token, "tiny", 1, None).await;
    assert_eq!(
        app.post(
            "/api/admin/customers",
            &token,
            json!({ "email": "t1@x.io", "assign_server": tiny })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let full = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "t2@x.io", "assign_server": tiny }),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert_eq!(full.code(), "SERVER_FULL");
}
