//! Billing: revenue by plan prorated by day, server cost and margin, usage per customer,
//! the CSV export, and each customer's share of its server's cost.

use crate::harness::TestApp;
use crate::monitoring::add_usage;
use crate::on_both_databases;
use chrono::{NaiveDate, TimeZone, Utc};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

on_both_databases!(
    a_month_is_billed_by_the_days_each_account_existed,
    usage_per_customer_sorts_filters_pages_and_exports,
    a_servers_daily_cost_is_shared_by_its_customers,
    billing_periods_and_filters_are_checked,
);

const PERIOD: &str = "from=2025-01-01&to=2025-01-31";

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn customer(app: &TestApp, token: &str, email: &str, plan: &str, company: &str) -> String {
    let created = app
        .post(
            "/api/admin/customers",
            token,
            json!({
                "email": email, "plan": plan, "company_name": company, "assign_server": "none"
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.data()["id"].as_str().unwrap().to_owned()
}

/// Backdates a row's history as if it had been made then.
async fn history(app: &TestApp, table: &str, id: &str, created: &str, deleted: Option<&str>) {
    let at = |d: &str| Utc.from_utc_datetime(&day(d).and_hms_opt(9, 30, 0).unwrap());
    let sql = format!("UPDATE {table} SET created_at = $1, deleted_at = $2 WHERE id = $3");
    let mut tx = app.db.begin().await.unwrap();
    wasp_management::on_tx!(&mut tx, |conn| {
        sqlx::query(&sql)
            .bind(at(created))
            .bind(deleted.map(at))
            .bind(uuid::Uuid::parse_str(id).unwrap())
            .execute(&mut *conn)
            .await
            .unwrap();
    });
    tx.commit().await.unwrap();
}

async fn place(app: &TestApp, customer: &str, server: &str) {
    let mut tx = app.db.begin().await.unwrap();
    wasp_management::on_tx!(&mut tx, |conn| {
        sqlx::query("UPDATE customers SET assigned_server_id = $1 WHERE id = $2")
            .bind(uuid::Uuid::parse_str(server).unwrap())
            .bind(uuid::Uuid::parse_str(customer).unwrap())
            .execute(&mut *conn)
            .await
            .unwrap();
    });
    tx.commit().await.unwrap();
}

fn money(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn cents(v: &Value, expected: f64) {
    assert!(
        (money(v) - expected).abs() < 0.005,
        "{v} is not {expected:.2}"
    );
}

/// Basic a (all January), pro b (from the 17th), business c (deleted on the 10th),
/// enterprise d (from February), on a $62-a-month server (all of January).
struct Fleet {
    a: String,
    b: String,
    c: String,
    server: String,
}

async fn january(app: &TestApp, token: &str) -> Fleet {
    let server = app
        .post(
            "/api/admin/servers",
            token,
            json!({
                "name": "billed", "ip_address": "127.0.0.1", "api_url": "http://127.0.0.1:9",
                "max_capacity": 10, "cpu_cores": 2, "ram_gb": 4, "cost_per_month": 62
            }),
        )
        .await;
    assert_eq!(server.status, StatusCode::CREATED, "{}", server.body);
    let server = server.data()["id"].as_str().unwrap().to_owned();
    history(app, "servers", &server, "2024-06-01", None).await;
    let a = customer(
        app,
        token,
        "a@example.com",
        "basic",
        "=HYPERLINK(\"http://x\")",
    )
    .await;
    let b = customer(app, token, "b@example.com", "pro", "Bee Ltd").await;
    let c = customer(app, token, "c@example.com", "business", "Sea Co").await;
    let d = customer(app, token, "d@example.com", "enterprise", "Dee").await;
    history(app, "customers", &a, "2024-12-20", None).await;
    history(app, "customers", &b, "2025-01-17", None).await;
    history(app, "customers", &c, "2024-12-01", Some("2025-01-10")).await;
    history(app, "customers", &d, "2025-02-01", None).await;
    for id in [&a, &b, &d] {
        place(app, id, &server).await;
    }
    add_usage(app, &a, day("2025-01-05"), 100, 10).await;
    add_usage(app, &b, day("2025-01-20"), 50, 40).await;
    Fleet { a, b, c, server }
}

async fn a_month_is_billed_by_the_days_each_account_existed(app: TestApp) {
    let root = app.root_token().await;
    let f = january(&app, &root).await;
    app.post(
        &format!("/api/admin/customers/{}/suspend", f.b),
        &root,
        json!({}),
    )
    .await;
    let viewer = app
        .operator_token(&root, "viewer@wasp.test", "viewer")
        .await;
    let summary = app
        .get(&format!("/api/admin/billing/summary?{PERIOD}"), &viewer)
        .await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    let s = summary.data();
    assert_eq!(
        (s["from"].as_str(), s["to"].as_str(), s["days"].as_i64()),
        (Some("2025-01-01"), Some("2025-01-31"), Some(31))
    );
    assert_eq!(s["currency"], "USD");
    let plan = |name: &str| {
        s["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["plan"] == name)
            .unwrap()
            .clone()
    };
    // Every plan is listed at its price, in price order.
    let names: Vec<&str> = s["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["plan"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["basic", "pro", "business", "enterprise"]);
    cents(&plan("basic")["price_per_month"], 10.0);
    cents(&plan("enterprise")["price_per_month"], 150.0);
    // a: the whole month; b: 15 of 31 days; c: 10 of 31 days; d: not yet a customer.
    cents(&plan("basic")["revenue"], 10.0);
    cents(&plan("pro")["revenue"], 25.0 * 15.0 / 31.0);
    cents(&plan("business")["revenue"], 50.0 * 10.0 / 31.0);
    cents(&plan("enterprise")["revenue"], 0.0);
    assert_eq!(plan("pro")["customers"], 1);
    assert_eq!(
        plan("pro")["suspended"],
        1,
        "suspended accounts are still billed"
    );
    assert_eq!(plan("business")["active"], 0, "c was deleted");
    assert_eq!(plan("enterprise")["customers"], 0);
    assert_eq!(plan("basic")["api_requests"], 100);
    assert_eq!(plan("pro")["messages_sent"], 40);

    let revenue = 10.0 + 25.0 * 15.0 / 31.0 + 50.0 * 10.0 / 31.0;
    let t = &s["totals"];
    assert_eq!(t["customers"], 3);
    cents(&t["revenue"], revenue);
    cents(&t["server_cost"], 62.0);
    cents(&t["margin"], revenue - 62.0);
    assert!((money(&t["margin_pct"]) - (revenue - 62.0) / revenue * 100.0).abs() < 0.05);
    cents(&t["cost_per_customer"], 62.0 / 3.0);
    // Monthly recurring revenue is today's: a and d are active (b is suspended, c gone).
    cents(&t["mrr"], 160.0);

    let servers = s["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0]["server_id"], f.server.as_str());
    cents(&servers[0]["cost_per_month"], 62.0);
    cents(&servers[0]["cost"], 62.0);
    assert_eq!(servers[0]["customers"], 2, "a and b were billed on it");
    cents(&servers[0]["revenue"], 10.0 + 25.0 * 15.0 / 31.0);
    cents(&servers[0]["margin"], 10.0 + 25.0 * 15.0 / 31.0 - 62.0);

    // A period before anyone existed is empty; half a month of server is half its cost.
    let before = app
        .get(
            "/api/admin/billing/summary?from=2024-06-01&to=2024-06-15",
            &root,
        )
        .await;
    assert_eq!(before.data()["totals"]["customers"], 0);
    cents(&before.data()["totals"]["server_cost"], 31.0);
    assert!(before.data()["totals"]["margin_pct"].is_null());
    assert!(before.data()["totals"]["cost_per_customer"].is_null());
    // The default period is the current month so far.
    let now = app.get("/api/admin/billing/summary", &root).await;
    let today = Utc::now().date_naive();
    assert_eq!(now.data()["to"], today.to_string());
    assert_eq!(now.data()["from"], today.format("%Y-%m-01").to_string());
    let _ = f.c;
}

async fn usage_per_customer_sorts_filters_pages_and_exports(app: TestApp) {
    let root = app.root_token().await;
    let f = january(&app, &root).await;
    let list = app
        .get(&format!("/api/admin/billing/customers?{PERIOD}"), &root)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let rows = list.data().as_array().unwrap();
    let order: Vec<&str> = rows.iter().map(|r| r["email"].as_str().unwrap()).collect();
    // By revenue: c's 16.13 > b's 12.10 > a's 10.
    assert_eq!(order, ["c@example.com", "b@example.com", "a@example.com"]);
    assert_eq!(list.body["meta"]["total"], 3);
    let c = &rows[0];
    assert_eq!(c["customer_id"], f.c.as_str());
    assert_eq!(c["status"], "deleted");
    assert_eq!(c["days_billed"], 10);
    let a = &rows[2];
    assert_eq!(a["days_billed"], 31);
    assert_eq!(a["api_requests"], 100);
    assert_eq!(a["messages_sent"], 10);
    assert_eq!(a["messages_received"], 1);
    assert_eq!(a["server_name"], "billed");

    let by_messages = app
        .get(
            &format!("/api/admin/billing/customers?{PERIOD}&sort=messages&per_page=1"),
            &root,
        )
        .await;
    let rows = by_messages.data().as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["customer_id"], f.b.as_str());
    assert_eq!(by_messages.body["meta"]["total"], 3);
    let page2 = app
        .get(
            &format!("/api/admin/billing/customers?{PERIOD}&sort=messages&per_page=1&page=2"),
            &root,
        )
        .await;
    assert_eq!(page2.data()[0]["customer_id"], f.a.as_str());
    let basic = app
        .get(
            &format!("/api/admin/billing/customers?{PERIOD}&plan=basic"),
            &root,
        )
        .await;
    assert_eq!(basic.data().as_array().unwrap().len(), 1);
    let found = app
        .get(
            &format!("/api/admin/billing/customers?{PERIOD}&q=BEE"),
            &root,
        )
        .await;
    assert_eq!(found.data()[0]["customer_id"], f.b.as_str());
    let on_server = app
        .get(
            &format!(
                "/api/admin/billing/customers?{PERIOD}&server_id={}",
                f.server
            ),
            &root,
        )
        .await;
    assert_eq!(on_server.body["meta"]["total"], 2);

    // The CSV: a header and a row per billed customer, the spreadsheet formula defused.
    let resp = app
        .http
        .get(app.url(&format!("/api/admin/billing/export.csv?{PERIOD}")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"wasp-billing-2025-01-01-2025-01-31.csv\""
    );
    let text = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "customer_id");
    assert_eq!(&headers[9], "revenue_usd");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3, "{text}");
    let a_row = records.iter().find(|r| &r[1] == "a@example.com").unwrap();
    assert_eq!(&a_row[2], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&a_row[3], "basic");
    assert_eq!(&a_row[8], "31");
    assert_eq!(&a_row[9], "10.00");
    assert_eq!(&a_row[10], "100");
    let b_row = records.iter().find(|r| &r[1] == "b@example.com").unwrap();
    assert_eq!(&b_row[9], "12.10");
    // Operators only.
    let customer_key = app
        .post(
            &format!("/api/admin/customers/{}/regenerate-key", f.a),
            &root,
            json!({}),
        )
        .await;
    let key = customer_key.data()["api_key"].as_str().unwrap();
    let refused = app
        .call(
            Method::GET,
            "/api/admin/billing/export.csv",
            Some(key),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

async fn a_servers_daily_cost_is_shared_by_its_customers(app: TestApp) {
    let root = app.root_token().await;
    let f = january(&app, &root).await;
    // On the 20th, a and b are on the $62 server ($2 a day); d did not exist yet. Half is
    // shared evenly, half by activity: b made all of it.
    let n = wasp_management::billing::estimate_costs(&app.db, day("2025-01-20"))
        .await
        .unwrap();
    assert_eq!(n, 2);
    // Before b existed, a alone carries the server.
    wasp_management::billing::estimate_costs(&app.db, day("2025-01-05"))
        .await
        .unwrap();
    let list = app
        .get(
            &format!("/api/admin/billing/customers?{PERIOD}&sort=estimated_cost"),
            &root,
        )
        .await;
    let cost = |id: &str| {
        list.data()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["customer_id"] == id)
            .map(|r| money(&r["estimated_cost"]))
            .unwrap()
    };
    assert!((cost(&f.a) - (0.5 + 2.0)).abs() < 1e-4, "{}", list.body);
    assert!((cost(&f.b) - 1.5).abs() < 1e-4, "{}", list.body);
    assert_eq!(list.data()[0]["customer_id"], f.a.as_str());
    // Estimating a day again replaces its figures; the counts stay.
    wasp_management::billing::estimate_costs(&app.db, day("2025-01-20"))
        .await
        .unwrap();
    let summary = app
        .get(&format!("/api/admin/billing/summary?{PERIOD}"), &root)
        .await;
    let t = &summary.data()["totals"];
    assert!((money(&t["estimated_cost"]) - 4.0).abs() < 1e-4, "{t}");
    let pro = summary.data()["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["plan"] == "pro")
        .unwrap()
        .clone();
    assert_eq!(pro["messages_sent"], 40);
}

async fn billing_periods_and_filters_are_checked(app: TestApp) {
    let root = app.root_token().await;
    for (query, field) in [
        ("from=2025-02-01&to=2025-01-01", "from"),
        ("from=2024-01-01&to=2025-06-01", "from"),
        ("from=yesterday", "from"),
    ] {
        let r = app
            .get(&format!("/api/admin/billing/summary?{query}"), &root)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.code(), "VALIDATION_ERROR", "{query}");
        assert_eq!(r.body["error"]["field"], field, "{query}: {}", r.body);
    }
    let long = "x".repeat(256);
    for query in [
        "plan=gold",
        "sort=cheapest",
        "per_page=101",
        "page=0",
        &format!("q={long}"),
    ] {
        let r = app
            .get(&format!("/api/admin/billing/customers?{query}"), &root)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
    }
    let anonymous = app
        .call(Method::GET, "/api/admin/billing/summary", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
