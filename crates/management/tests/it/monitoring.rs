//! The admin panel's monitoring: the fleet's and each server's metrics over time from
//! heartbeats, their retention, the customers list's WhatsApp-state filter, the audit log's
//! customer filter, and operators' temporary passwords.

use crate::harness::{Reply, TestApp};
use crate::on_both_databases;
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use wasp_management::metrics::{self, Range, Retention};

on_both_databases!(
    heartbeats_become_each_servers_charts_and_the_fleets,
    old_heartbeats_leave_the_day_chart_and_stay_in_the_month_chart,
    the_overview_counts_customers_servers_and_todays_usage,
    customers_filter_by_whatsapp_state_and_logs_by_customer,
    an_operator_with_a_temporary_password_must_choose_their_own_first,
);

async fn beat(app: &TestApp, key: &str, body: Value) -> Reply {
    let reply = app
        .call(
            Method::POST,
            "/internal/v1/heartbeat",
            Some(key),
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    reply
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|v| (v - expected).abs() < 1e-6)
}

async fn heartbeats_become_each_servers_charts_and_the_fleets(app: TestApp) {
    let root = app.root_token().await;
    let (a, a_key) = app.add_server(&root, "metrics-a", 100, None).await;
    let (b, b_key) = app.add_server(&root, "metrics-b", 100, None).await;
    for (cpu, sessions, p95) in [(10.0, 4, 100), (30.0, 6, 300)] {
        beat(&app, &a_key, json!({
            "cpu_usage": cpu, "ram_usage": 50.0, "disk_usage": 20.0, "total_instances": sessions,
            "active_connections": sessions, "messages_per_minute": 12, "errors_per_minute": 1,
            "p95_response_time_ms": p95, "avg_response_time_ms": 40
        }))
        .await;
    }
    // A worker may leave a figure out: it does not count as zero.
    beat(
        &app,
        &b_key,
        json!({ "cpu_usage": 70.0, "total_instances": 10 }),
    )
    .await;

    let viewer = app
        .operator_token(&root, "viewer@wasp.test", "viewer")
        .await;
    let one = app
        .get(&format!("/api/admin/metrics/servers/{a}?range=1h"), &viewer)
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.data()["server_id"], a.as_str());
    assert_eq!(one.data()["range"], "1h");
    assert_eq!(one.data()["bucket_secs"], 60);
    let points = one.data()["points"].as_array().unwrap();
    // Both beats fall in one minute or in two neighbouring ones.
    let samples: i64 = points.iter().map(|p| p["samples"].as_i64().unwrap()).sum();
    assert_eq!(samples, 2, "{points:?}");
    if points.len() == 1 {
        let p = &points[0];
        assert!(close(&p["cpu_avg"], 20.0), "{p}");
        assert!(close(&p["cpu_max"], 30.0), "{p}");
        assert!(close(&p["sessions"], 5.0), "{p}");
        assert!(close(&p["p95_ms"], 200.0), "{p}");
        assert!(close(&p["ram_avg"], 50.0), "{p}");
    }
    // The month chart reads hour buckets: the same two beats, averaged the same way.
    let month = app
        .get(
            &format!("/api/admin/metrics/servers/{a}?range=30d"),
            &viewer,
        )
        .await;
    assert_eq!(month.data()["bucket_secs"], 3 * 3600);
    let p = &month.data()["points"].as_array().unwrap()[0];
    assert_eq!(p["samples"], 2);
    assert!(
        close(&p["cpu_avg"], 20.0) && close(&p["cpu_max"], 30.0),
        "{p}"
    );
    assert!(close(&p["messages_per_minute"], 12.0) && close(&p["errors_per_minute"], 1.0));
    assert!(close(&p["avg_response_ms"], 40.0) && close(&p["disk_avg"], 20.0));

    let other = app
        .get(&format!("/api/admin/metrics/servers/{b}?range=7d"), &viewer)
        .await;
    let p = &other.data()["points"].as_array().unwrap()[0];
    assert!(close(&p["cpu_avg"], 70.0), "{p}");
    assert!(
        p["ram_avg"].is_null() && p["p95_ms"].is_null(),
        "not reported: {p}"
    );

    // The fleet: each server's average over the bucket, added up.
    let fleet = app.get("/api/admin/metrics/global?range=7d", &viewer).await;
    assert_eq!(fleet.status, StatusCode::OK, "{}", fleet.body);
    let p = &fleet.data()["points"].as_array().unwrap()[0];
    assert_eq!(p["servers_reporting"], 2);
    assert!(close(&p["sessions"], 15.0), "5 on a, 10 on b: {p}");
    assert!(close(&p["cpu_avg"], 45.0), "(20 + 70) / 2: {p}");
    assert!(close(&p["p95_ms"], 200.0), "{p}");
    assert_eq!(fleet.data()["servers"]["total"], 2);
    assert_eq!(fleet.data()["servers"]["by_health"]["healthy"], 2);

    // Refused: an unknown range, an unknown server, no session.
    let bad = app.get("/api/admin/metrics/global?range=2d", &viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "VALIDATION_ERROR");
    let unknown = app
        .get(
            &format!("/api/admin/metrics/servers/{}", uuid::Uuid::now_v7()),
            &viewer,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let anonymous = app
        .call(Method::GET, "/api/admin/metrics/global", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn old_heartbeats_leave_the_day_chart_and_stay_in_the_month_chart(app: TestApp) {
    let root = app.root_token().await;
    let (id, key) = app.add_server(&root, "retained", 100, None).await;
    beat(&app, &key, json!({ "cpu_usage": 42.0 })).await;
    let id = uuid::Uuid::parse_str(&id).unwrap();
    let now = Utc::now();
    let later = now + Duration::hours(50);
    let young = metrics::purge(&app.db, Retention::default(), now)
        .await
        .unwrap();
    assert_eq!(young, 0, "nothing is old yet");
    let removed = metrics::purge(&app.db, Retention::default(), later)
        .await
        .unwrap();
    assert_eq!(removed, 2, "the raw heartbeat and its minute bucket");
    // 50 hours on, the day chart (minute buckets) is empty; the week chart still has it.
    let day = metrics::server_series(&app.db, id, Range::Day, later)
        .await
        .unwrap();
    assert!(day.points.is_empty());
    let week = metrics::server_series(&app.db, id, Range::Week, later)
        .await
        .unwrap();
    assert_eq!(week.points.len(), 1);
    assert_eq!(week.points[0].cpu_avg, Some(42.0));
    // A year and more on, the hour bucket goes too.
    let removed = metrics::purge(&app.db, Retention::default(), now + Duration::days(401))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let health = app
        .get(&format!("/api/admin/servers/{id}/health"), &root)
        .await;
    assert!(health.data()["latest_metrics"].is_null(), "{}", health.body);
}

async fn create_customer(app: &TestApp, token: &str, email: &str, plan: &str) -> String {
    let created = app
        .post(
            "/api/admin/customers",
            token,
            json!({ "email": email, "plan": plan, "assign_server": "none" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.data()["id"].as_str().unwrap().to_owned()
}

/// Writes a day of usage as the gateway's counters would.
pub async fn add_usage(
    app: &TestApp,
    customer: &str,
    date: chrono::NaiveDate,
    requests: i32,
    sent: i32,
) {
    let customer = uuid::Uuid::parse_str(customer).unwrap();
    let now = Utc::now();
    let mut tx = app.db.begin().await.unwrap();
    wasp_management::on_tx!(&mut tx, |conn| {
        sqlx::query(
            "INSERT INTO customer_usage (customer_id, date, api_requests, messages_sent, messages_received, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $5)",
        )
        .bind(customer)
        .bind(date)
        .bind(requests)
        .bind(sent)
        .bind(now)
        .execute(&mut *conn)
        .await
        .unwrap();
    });
    tx.commit().await.unwrap();
}

/// Sets what a worker would report for a customer's live session.
async fn set_whatsapp_status(app: &TestApp, customer: &str, state: &str) {
    let mut tx = app.db.begin().await.unwrap();
    wasp_management::on_tx!(&mut tx, |conn| {
        sqlx::query("UPDATE customers SET whatsapp_status = $1 WHERE id = $2")
            .bind(state)
            .bind(uuid::Uuid::parse_str(customer).unwrap())
            .execute(&mut *conn)
            .await
            .unwrap();
    });
    tx.commit().await.unwrap();
}

async fn the_overview_counts_customers_servers_and_todays_usage(app: TestApp) {
    let root = app.root_token().await;
    let a = create_customer(&app, &root, "a@example.com", "basic").await;
    let b = create_customer(&app, &root, "b@example.com", "pro").await;
    let c = create_customer(&app, &root, "c@example.com", "pro").await;
    let gone = create_customer(&app, &root, "gone@example.com", "business").await;
    app.post(
        &format!("/api/admin/customers/{c}/suspend"),
        &root,
        json!({"reason": "unpaid"}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/admin/customers/{gone}"), &root)
            .await
            .status,
        StatusCode::OK
    );
    set_whatsapp_status(&app, &a, "connected").await;
    let today = Utc::now().date_naive();
    add_usage(&app, &a, today, 7, 3).await;
    add_usage(&app, &b, today, 5, 2).await;
    add_usage(&app, &b, today - Duration::days(3), 100, 50).await;
    app.add_server(&root, "idle", 10, None).await;

    let day = app.get("/api/admin/metrics/global", &root).await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.body);
    let d = day.data();
    assert_eq!(d["range"], "24h");
    assert_eq!(
        d["customers"]["total"], 3,
        "the deleted one is not counted: {d}"
    );
    assert_eq!(d["customers"]["active"], 2);
    assert_eq!(d["customers"]["suspended"], 1);
    assert_eq!(d["customers"]["by_plan"], json!({ "basic": 1, "pro": 2 }));
    assert_eq!(
        d["customers"]["by_whatsapp_status"],
        json!({ "connected": 1, "disconnected": 2 })
    );
    assert_eq!(d["today"]["api_requests"], 12);
    assert_eq!(d["today"]["messages_sent"], 5);
    assert_eq!(d["today"]["messages_received"], 2);
    assert_eq!(d["servers"]["by_status"]["initializing"], 1);
    assert_eq!(d["servers"]["by_health"]["unknown"], 1);
    assert_eq!(d["open_alerts"], 0);
    assert!(
        d["points"].as_array().unwrap().is_empty(),
        "no heartbeats yet"
    );
    // The week's daily usage includes three days ago.
    let week = app.get("/api/admin/metrics/global?range=7d", &root).await;
    let daily = week.data()["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 2, "{daily:?}");
    assert_eq!(daily[0]["api_requests"], 100);
    assert_eq!(daily[1]["date"], today.to_string());
}

async fn customers_filter_by_whatsapp_state_and_logs_by_customer(app: TestApp) {
    let root = app.root_token().await;
    let a = create_customer(&app, &root, "wa-a@example.com", "basic").await;
    let b = create_customer(&app, &root, "wa-b@example.com", "basic").await;
    set_whatsapp_status(&app, &a, "logged_out").await;
    let filtered = app
        .get("/api/admin/customers?whatsapp_status=logged_out", &root)
        .await;
    assert_eq!(filtered.status, StatusCode::OK, "{}", filtered.body);
    let ids: Vec<&str> = filtered
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str()]);
    assert_eq!(filtered.body["meta"]["total"], 1);

    // What happened to a and what a did; nothing of b's.
    app.post(
        &format!("/api/admin/customers/{a}/suspend"),
        &root,
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/admin/customers/{b}/suspend"),
        &root,
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/admin/customers/{a}/activate"),
        &root,
        json!({}),
    )
    .await;
    let logs = app
        .get(
            &format!("/api/admin/logs?customer_id={a}&per_page=100"),
            &root,
        )
        .await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.body);
    let rows = logs.data().as_array().unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"suspend_customer") && actions.contains(&"activate_customer"),
        "{actions:?}"
    );
    assert!(actions.contains(&"create_customer"), "{actions:?}");
    for row in rows {
        let about_a = row["resource_id"] == a.as_str() || row["actor_id"] == a.as_str();
        assert!(about_a, "a row not about the customer: {row}");
    }
    assert_eq!(logs.body["meta"]["total"], rows.len());
    let bad = app.get("/api/admin/logs?customer_id=nope", &root).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn an_operator_with_a_temporary_password_must_choose_their_own_first(app: TestApp) {
    let root = app.root_token().await;
    let created = app
        .post(
            "/api/admin/users",
            &root,
            json!({ "email": "new@wasp.test", "role": "admin" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.data()["must_change_password"], true);
    let temporary = created.data()["password"].as_str().unwrap().to_owned();
    let id = created.data()["id"].as_str().unwrap().to_owned();

    let login = app.login("new@wasp.test", &temporary).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.data()["admin"]["must_change_password"], true);
    let token = login.data()["token"].as_str().unwrap().to_owned();
    // Until then: only their own account.
    for (method, path) in [
        (Method::GET, "/api/admin/customers"),
        (Method::GET, "/api/admin/metrics/global"),
        (Method::POST, "/api/admin/servers"),
    ] {
        let refused = app
            .call(method, path, Some(&token), Some(json!({ "name": "x" })))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.code(), "PASSWORD_CHANGE_REQUIRED", "{path}");
    }
    let servers = app.get("/api/admin/servers", &root).await;
    assert_eq!(
        servers.data().as_array().unwrap().len(),
        0,
        "nothing was created"
    );
    let me = app.get("/api/admin/auth/me", &token).await;
    assert_eq!(me.data()["must_change_password"], true);
    let changed = app
        .post(
            "/api/admin/auth/password",
            &token,
            json!({ "current_password": temporary, "new_password": "my-own-password-789" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        app.get("/api/admin/customers", &token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/admin/auth/me", &token).await.data()["must_change_password"],
        false
    );

    // A super admin's reset makes it temporary again; the root, who chose theirs, is free.
    let reset = app
        .post(
            &format!("/api/admin/users/{id}/reset-password"),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(reset.data()["must_change_password"], true);
    let again = app
        .login("new@wasp.test", reset.data()["password"].as_str().unwrap())
        .await;
    let token = again.data()["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/admin/customers", token).await.code(),
        "PASSWORD_CHANGE_REQUIRED"
    );
    let users = app.get("/api/admin/users", &root).await;
    let root_row = users
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == crate::harness::ROOT_EMAIL)
        .unwrap()
        .clone();
    assert_eq!(root_row["must_change_password"], false);
}
