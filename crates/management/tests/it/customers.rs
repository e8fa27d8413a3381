//! Customers: creation with one-time credentials, listing, suspension, deletion, erasure.

use crate::harness::TestApp;
use crate::on_both_databases;
use reqwest::StatusCode;
use serde_json::json;

on_both_databases!(
    a_new_customer_gets_one_time_credentials_never_shown_again,
    suspension_refuses_the_customers_keys_until_activated,
    deleting_a_customer_revokes_its_keys_and_erasure_removes_personal_data,
    customer_list_filters_and_paginates,
);

async fn a_new_customer_gets_one_time_credentials_never_shown_again(app: TestApp) {
    let token = app.root_token().await;
    let created = app
        .post("/api/admin/customers", &token, json!({
            "email": "Customer@Example.com", "full_name": "John Doe", "company_name": "Acme Inc",
            "plan": "pro", "assign_server": "none"
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let data = created.data();
    let live = data["api_key"].as_str().unwrap().to_owned();
    let test = data["test_api_key"].as_str().unwrap().to_owned();
    let password = data["dashboard_password"].as_str().unwrap().to_owned();
    assert!(live.starts_with("ak_live_") && test.starts_with("ak_test_"));
    assert!(password.len() >= 16);
    assert_eq!(data["email"], "customer@example.com");
    assert_eq!(data["plan"], "pro");
    assert_eq!(data["limits"]["requests_per_minute"], 300);
    assert_eq!(data["password_must_change"], true);
    assert!(data["dashboard_url"]
        .as_str()
        .unwrap()
        .starts_with("http://"));
    let id = data["id"].as_str().unwrap().to_owned();

    let again = app.get(&format!("/api/admin/customers/{id}"), &token).await;
    let keys = app
        .get(&format!("/api/admin/customers/{id}/keys"), &token)
        .await;
    let list = app.get("/api/admin/customers", &token).await;
    let logs = app.get("/api/admin/logs?per_page=100", &token).await;
    for reply in [&again, &keys, &list, &logs] {
        let text = reply.body.to_string();
        assert!(
            !text.contains(&live[8..]) && !text.contains(&test[8..]),
            "keys are shown once"
        );
        assert!(
            !text.contains(&password),
            "the temporary password is shown once"
        );
    }
    assert_eq!(keys.data().as_array().unwrap().len(), 2);
    assert!(keys.data()[0]["key_hint"].as_str().unwrap().contains('…'));
    assert_eq!(again.data()["active_keys"], 2);

    let dup = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "customer@EXAMPLE.com", "assign_server": "none" }),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad_plan = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "x@y.io", "plan": "gold" }),
        )
        .await;
    assert_eq!(bad_plan.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_plan.code(), "VALIDATION_ERROR");
    let bad_email = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "not-an-email" }),
        )
        .await;
    assert_eq!(bad_email.code(), "VALIDATION_ERROR");
    assert_eq!(bad_email.body["error"]["field"], "email");

    let created_rows = app.audit(&token, "create_customer").await;
    assert_eq!(created_rows.len(), 1);
    assert!(
        !created_rows[0].to_string().contains("customer@example.com"),
        "no personal data in the audit metadata"
    );
}

async fn suspension_refuses_the_customers_keys_until_activated(app: TestApp) {
    let token = app.root_token().await;
    let created = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "s@x.io", "assign_server": "none" }),
        )
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let key = created.data()["api_key"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/keys", &key).await.status, StatusCode::OK);

    let suspended = app
        .post(
            &format!("/api/admin/customers/{id}/suspend"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK);
    assert_eq!(suspended.data()["status"], "suspended");
    let refused = app.get("/api/v1/keys", &key).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "CUSTOMER_SUSPENDED");

    let active = app
        .put(
            &format!("/api/admin/customers/{id}"),
            &token,
            json!({ "status": "active", "plan": "business" }),
        )
        .await;
    assert_eq!(active.status, StatusCode::OK, "{}", active.body);
    assert_eq!(active.data()["plan"], "business");
    assert_eq!(app.get("/api/v1/keys", &key).await.status, StatusCode::OK);
    let rows = app.audit(&token, "suspend_customer").await;
    assert_eq!(rows[0]["metadata"]["status"]["to"], "suspended");
}

async fn deleting_a_customer_revokes_its_keys_and_erasure_removes_personal_data(app: TestApp) {
    let token = app.root_token().await;
    let (server, _) = app.add_server(&token, "S1", 5, None).await;
    let created = app
        .post(
            "/api/admin/customers",
            &token,
            json!({ "email": "gone@x.io", "full_name": "Jane Roe", "assign_server": server }),
        )
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let key = created.data()["api_key"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&format!("/api/admin/servers/{server}"), &token)
            .await
            .data()["current_load"],
        1
    );
    // Its WhatsApp session and chats (as a worker stores them, on its server).
    let customer = uuid::Uuid::parse_str(&id).unwrap();
    let now = chrono::Utc::now();
    let mut tx = app.db.begin().await.unwrap();
    wasp_management::on_tx!(&mut tx, |pool| {
        sqlx::query(
            "INSERT INTO wa_sessions (customer_id, mode, server_id, epoch, driver, state, logged_in, phone_number, \
             state_changed_at, created_at, updated_at) VALUES ($1, 'test', $3, 1, 'sandbox', 'connected', TRUE, '15550100001', $2, $2, $2)",
        )
        .bind(customer)
        .bind(now)
        .bind(uuid::Uuid::parse_str(&server).unwrap())
        .execute(&mut *pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO wa_chats (customer_id, mode, jid, kind, name, created_at, updated_at) \
             VALUES ($1, 'test', '6281234567890@s.whatsapp.net', 'user', 'Budi', $2, $2)",
        )
        .bind(customer)
        .bind(now)
        .execute(&mut *pool)
        .await
        .unwrap();
    });
    tx.commit().await.unwrap();

    assert_eq!(
        app.delete(&format!("/api/admin/customers/{id}"), &token)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/admin/customers/{id}"), &token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The deleted customer's session belongs to no worker any more (never restored; a
    // worker still holding it gives it up at its next lease check).
    let lease: (Option<uuid::Uuid>, i64) = wasp_management::on_pool!(&app.db, |pool| {
        sqlx::query_as("SELECT server_id, epoch FROM wa_sessions WHERE customer_id = $1")
            .bind(customer)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(lease, (None, 2));
    let refused = app.get("/api/v1/keys", &key).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "INVALID_API_KEY");
    assert_eq!(
        app.get(&format!("/api/admin/servers/{server}"), &token)
            .await
            .data()["current_load"],
        0,
        "slot freed"
    );
    // The email can be used again by a new customer.
    assert_eq!(
        app.post(
            "/api/admin/customers",
            &token,
            json!({ "email": "gone@x.io", "assign_server": "none" })
        )
        .await
        .status,
        StatusCode::CREATED
    );

    let erased = app
        .post(
            &format!("/api/admin/customers/{id}/erase"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    let row: (String, Option<String>, i64) = wasp_management::on_pool!(&app.db, |pool| {
        let (email, name): (String, Option<String>) =
            sqlx::query_as("SELECT email, full_name FROM customers WHERE id = $1")
                .bind(uuid::Uuid::parse_str(&id).unwrap())
                .fetch_one(pool)
                .await
                .unwrap();
        let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE customer_id = $1")
            .bind(uuid::Uuid::parse_str(&id).unwrap())
            .fetch_one(pool)
            .await
            .unwrap();
        (email, name, keys)
    });
    assert!(row.0.starts_with("erased-") && row.0.ends_with("@erased.invalid"));
    assert_eq!(row.1, None);
    assert_eq!(row.2, 0);
    let left: (i64, i64) = wasp_management::on_pool!(&app.db, |pool| {
        let sessions: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM wa_sessions WHERE customer_id = $1")
                .bind(customer)
                .fetch_one(pool)
                .await
                .unwrap();
        let chats: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wa_chats WHERE customer_id = $1")
            .bind(customer)
            .fetch_one(pool)
            .await
            .unwrap();
        (sessions, chats)
    });
    assert_eq!(left, (0, 0), "sessions and chats are erased");
    assert_eq!(
        app.post(
            &format!("/api/admin/customers/{id}/erase"),
            &token,
            json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

async fn customer_list_filters_and_paginates(app: TestApp) {
    let token = app.root_token().await;
    for (n, plan) in ["basic", "pro", "pro", "enterprise", "basic"]
        .iter()
        .enumerate()
    {
        let r = app.post("/api/admin/customers", &token, json!({ "email": format!("u{n}@list.io"), "company_name": format!("Company {n}"), "plan": plan, "assign_server": "none" })).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let page = app
        .get("/api/admin/customers?per_page=2&page=2", &token)
        .await;
    assert_eq!(page.body["meta"]["total"], 5);
    assert_eq!(page.body["meta"]["per_page"], 2);
    assert_eq!(page.data().as_array().unwrap().len(), 2);
    let pro = app.get("/api/admin/customers?plan=pro", &token).await;
    assert_eq!(pro.body["meta"]["total"], 2);
    let search = app.get("/api/admin/customers?q=company%203", &token).await;
    assert_eq!(search.body["meta"]["total"], 1);
    assert_eq!(search.data()[0]["email"], "u3@list.io");
    let wildcard = app.get("/api/admin/customers?q=%25", &token).await;
    assert_eq!(wildcard.body["meta"]["total"], 0, "% is matched literally");
    let bad = app.get("/api/admin/customers?page=abc", &token).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "VALIDATION_ERROR");
}
