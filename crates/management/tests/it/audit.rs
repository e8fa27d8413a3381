//! The audit log: who did what, filters, and append-only storage.

use crate::harness::TestApp;
use crate::on_both_databases;
use reqwest::StatusCode;
use serde_json::json;

on_both_databases!(
    every_admin_action_leaves_a_row_with_actor_and_request,
    the_audit_log_refuses_updates_and_early_deletes,
);

async fn every_admin_action_leaves_a_row_with_actor_and_request(app: TestApp) {
    let token = app.root_token().await;
    let me = app.get("/api/admin/auth/me", &token).await;
    let admin_id = me.data()["id"].as_str().unwrap().to_owned();
    let (server, _) = app.add_server(&token, "audited", 3, None).await;
    let customer = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "a@audit.io", "assign_server": server }),
        )
        .await;
    let cid = customer.data()["id"].as_str().unwrap().to_owned();
    app.put(
        &format!("/api/admin/customers/{cid}"),
        &token,
        json!({ "plan": "pro" }),
    )
    .await;
    app.delete(&format!("/api/admin/customers/{cid}"), &token)
        .await;

    let rows = app
        .get(
            &format!("/api/admin/logs?event_type=admin_action&actor_id={admin_id}&per_page=100"),
            &token,
        )
        .await;
    assert_eq!(rows.status, StatusCode::OK);
    let actions: Vec<&str> = rows
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "delete_customer",
            "update_customer",
            "create_customer",
            "create_server"
        ],
        "newest first"
    );
    for row in rows.data().as_array().unwrap() {
        assert_eq!(row["actor_type"], "admin");
        assert_eq!(row["status"], "success");
        assert!(row["request_id"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(row["duration_ms"].is_i64());
        assert_eq!(row["ip_address"], "127.0.0.1");
    }
    // The request id in the response header is the one in the audit row.
    let resp = app
        .http
        .put(app.url(&format!("/api/admin/servers/{server}")))
        .bearer_auth(&token)
        .json(&json!({ "region": "eu" }))
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let by_request = app
        .get(&format!("/api/admin/logs?request_id={request_id}"), &token)
        .await;
    assert_eq!(by_request.data()[0]["action"], "update_server");

    let by_resource = app
        .get(
            &format!("/api/admin/logs?resource_type=customer&resource_id={cid}"),
            &token,
        )
        .await;
    assert_eq!(by_resource.body["meta"]["total"], 3);
    let future = app
        .get("/api/admin/logs?from=2999-01-01T00:00:00Z", &token)
        .await;
    assert_eq!(future.body["meta"]["total"], 0);
    let bad = app.get("/api/admin/logs?from=yesterday", &token).await;
    assert_eq!(bad.code(), "VALIDATION_ERROR");
}

async fn the_audit_log_refuses_updates_and_early_deletes(app: TestApp) {
    let token = app.root_token().await;
    app.add_server(&token, "x", 1, None).await;
    let (update, delete, count) = wasp_management::on_pool!(&app.db, |pool| {
        let update = sqlx::query("UPDATE audit_logs SET action = 'tampered'")
            .execute(pool)
            .await;
        let delete = sqlx::query("DELETE FROM audit_logs").execute(pool).await;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_logs")
            .fetch_one(pool)
            .await
            .unwrap();
        (update.is_err(), delete.is_err(), count)
    });
    // SQLite's reader pool is read-only, so also try through a write transaction.
    let mut tx = app.db.begin().await.unwrap();
    let in_tx = wasp_management::on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE audit_logs SET action = 'tampered'"
    )
    .execute(&mut *conn)
    .await
    .is_err());
    drop(tx);
    assert!(update && delete && in_tx, "UPDATE and DELETE are refused");
    assert!(count >= 2);
    assert_eq!(app.audit(&token, "tampered").await.len(), 0);
    // The retention purge removes nothing younger than 90 days.
    let removed = wasp_management::audit::purge_older_than(&app.db, 90)
        .await
        .unwrap();
    assert_eq!(removed, 0);
}
