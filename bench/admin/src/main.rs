//! The admin panel's API on a seeded fleet, measured in one run on this machine, on SQLite
//! and on PostgreSQL:
//!
//! 1. **seed** what production holds after a month: 20 servers (capacity 600, a monthly
//!    cost), 10,000 customers placed on them (70 % basic, 20 % pro, 9 % business,
//!    1 % enterprise; ~3 % suspended, ~2 % deleted; mostly connected) created over 90 days,
//!    one API key each; a month of heartbeats every 5 s from every server, of which what the
//!    heartbeat path and retention leave (raw rows of the last 48 h, minute buckets of 48 h,
//!    hour buckets of the month — folded here in bulk the way `metrics::record` folds them,
//!    checked against `metrics::record` on a sample); one `customer_usage` row per customer
//!    per day with `billing::estimate_costs` run for each day (timed: the hourly
//!    housekeeping's cost); a million `api_call` audit rows plus admin actions;
//! 2. **serve** the real management app (`AppState::new`, `app::serve`) on 127.0.0.1 over
//!    that database, as `crates/management/tests/it/harness.rs` does, and sign in;
//! 3. **measure** each call the admin pages make through HTTP — warm-up, then N timed
//!    repetitions, p50/p95/max and bytes — against a baseline measured in the same run:
//!    `GET /api/admin/auth/me` (an authenticated call that reads one row);
//! 4. **diagnose**: the SQL behind the calls run alone, with its plan.
//!
//! `cargo run --release -p wasp-bench-admin -- [--db both|sqlite|postgres]
//!  [--customers 10000] [--servers 20] [--days 30] [--calls 1000000] [--reps 20]
//!  [--out bench/admin/REPORT.md]` (`bench/admin/run`). PostgreSQL: a database
//! `wasp_bench_<uuid>` on the server `WASP_TEST_POSTGRES_URL` names (default the local
//! one), dropped at the end.

#[macro_use]
mod seed;
mod diagnose;
mod measure;

use chrono::{DateTime, Duration as Days, Utc};
use diagnose::{Finding, Probe};
use measure::{Call, Stat};
use seed::{Fleet, SeedStats, Val};
use std::{fmt::Write as _, process::Command, time::Duration, time::Instant};
use tokio::sync::oneshot;
use uuid::Uuid;
use wasp_db::{on_pool, Db};
use wasp_management::{operators, AppState, Config};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROOT_EMAIL: &str = "root@wasp.bench";
const ROOT_PASSWORD: &str = "correct-horse-battery-staple";
/// A call slower than this at p95 is looked into.
const SLOW: Duration = Duration::from_millis(500);

struct Args {
    db: String,
    customers: usize,
    servers: usize,
    days: i64,
    calls: u64,
    reps: usize,
    out: String,
    /// Keep the databases (SQLite file in this directory; PostgreSQL database not dropped).
    keep: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        db: "both".into(),
        customers: 10_000,
        servers: 20,
        days: 30,
        calls: 1_000_000,
        reps: 20,
        out: "bench/admin/REPORT.md".into(),
        keep: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--db" => a.db = value,
            "--customers" => a.customers = value.parse().unwrap_or(a.customers).max(10),
            "--servers" => a.servers = value.parse().unwrap_or(a.servers).max(1),
            "--days" => a.days = value.parse().unwrap_or(a.days).clamp(3, 366),
            "--calls" => a.calls = value.parse().unwrap_or(a.calls),
            "--reps" => a.reps = value.parse().unwrap_or(a.reps).max(1),
            "--out" => a.out = value,
            "--keep" => a.keep = Some(value),
            other => {
                eprintln!("unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    a
}

fn postgres_admin_url() -> String {
    std::env::var("WASP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

struct Suite {
    name: &'static str,
    detail: String,
    seed: SeedStats,
    seed_secs: f64,
    fleet_note: String,
    baseline: Stat,
    stats: Vec<Stat>,
    findings: Vec<Finding>,
}

/// Seeds `db`, serves it, measures, diagnoses.
async fn suite(
    args: &Args,
    db: Db,
    name: &'static str,
    detail: String,
    file: Option<std::path::PathBuf>,
) -> Suite {
    let started = Instant::now();
    db.migrate().await.expect("migrations apply");
    operators::bootstrap(&db, Some(ROOT_EMAIL), Some(ROOT_PASSWORD))
        .await
        .expect("first operator");
    let admin: Uuid = on_pool!(&db, |pool| sqlx::query_scalar(
        "SELECT id FROM admin_users LIMIT 1"
    )
    .fetch_one(pool)
    .await)
    .expect("operator");
    let now = Utc::now();
    let mut fleet = seed::fleet(args.customers, args.servers, args.days, now);
    let mut stats = SeedStats::default();
    eprintln!("[{name}] seeding accounts");
    seed::accounts(&db, &fleet, &mut stats).await;
    eprintln!("[{name}] seeding heartbeats");
    seed::heartbeats(&db, &fleet, &mut stats).await;
    seed::check_rollup(&db, &fleet, &mut stats).await;
    eprintln!("[{name}] seeding usage and estimating costs");
    seed::usage(&db, &fleet, &mut stats).await;
    eprintln!("[{name}] seeding the audit log");
    seed::audit(&db, &mut fleet, args.calls, admin, &mut stats).await;
    if let Db::Postgres(pool) = &db {
        // What autovacuum does within a minute of loads this size: without statistics the
        // planner guesses, and production tables have them.
        let t = Instant::now();
        sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
        stats.analyze_secs = t.elapsed().as_secs_f64();
    }
    let seed_secs = started.elapsed().as_secs_f64();
    stats.db_bytes = match (&db, &file) {
        (Db::Postgres(pool), _) => {
            sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                .fetch_one(pool)
                .await
                .ok()
                .map(|b| b as u64)
        }
        (_, Some(path)) => {
            let wal = path.with_extension("db-wal");
            Some(
                std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
                    + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0),
            )
        }
        _ => None,
    };

    // The server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = Config::local(addr);
    config.cookie_secure = false;
    let mail_dir = tempfile::tempdir().expect("temp dir");
    config.mail.outbox = Some(mail_dir.path().join("outbox.jsonl"));
    let state = AppState::new(
        db.clone(),
        config,
        b"bench-secret-bench-secret-bench-secret!",
        None,
    );
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        wasp_management::app::serve(state, listener, async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/admin/auth/login"))
        .json(&serde_json::json!({ "email": ROOT_EMAIL, "password": ROOT_PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {login}"))
        .to_owned();

    let calls = calls(&fleet);
    eprintln!("[{name}] measuring {} calls", calls.len() + 1);
    let me = Call {
        page: "baseline",
        label: "auth/me".into(),
        path: "/api/admin/auth/me".into(),
    };
    let baseline = measure::measure(&http, &base, &token, &me, args.reps * 5).await;
    let mut results = Vec::new();
    for call in &calls {
        let s = measure::measure(&http, &base, &token, call, args.reps).await;
        eprintln!(
            "  {:<40} p50 {:>9} p95 {:>9} {:>9} B{}",
            s.label,
            ms(s.p50),
            ms(s.p95),
            s.bytes,
            s.error
                .as_deref()
                .map(|e| format!("  ERROR {e}"))
                .unwrap_or_default()
        );
        results.push(s);
    }
    let _ = tx.send(());
    let _ = server.await;

    eprintln!("[{name}] diagnosing");
    let mut findings = Vec::new();
    for p in probes(&fleet) {
        findings.push(diagnose::run(&db, &p).await);
    }
    let live = fleet
        .customers
        .iter()
        .filter(|c| c.deleted.is_none())
        .count();
    let fleet_note = format!(
        "{} customers ({} not deleted), {} servers; the customer page's customer: the busiest (enterprise, `{}`); request id looked up: `{}`",
        fleet.customers.len(),
        live,
        fleet.servers.len(),
        fleet.heavy,
        fleet.request_id
    );
    db.close().await;
    Suite {
        name,
        detail,
        seed: stats,
        seed_secs,
        fleet_note,
        baseline,
        stats: results,
        findings,
    }
}

/// The calls of each page of the admin panel.
fn calls(f: &Fleet) -> Vec<Call> {
    let server = f.servers[0].id;
    let heavy = f.heavy;
    let live = f.customers.iter().filter(|c| c.deleted.is_none()).count();
    let last_page = live.div_ceil(20);
    let today = f.now.date_naive();
    let from = today - Days::days(f.days - 1);
    let c = |page, label: &str, path: String| Call {
        page,
        label: label.into(),
        path,
    };
    vec![
        c(
            "overview",
            "metrics/global 24h",
            "/api/admin/metrics/global?range=24h".into(),
        ),
        c(
            "overview",
            "metrics/global 30d",
            "/api/admin/metrics/global?range=30d".into(),
        ),
        c("servers", "servers list", "/api/admin/servers".into()),
        c(
            "server",
            "metrics/servers/{id} 24h",
            format!("/api/admin/metrics/servers/{server}?range=24h"),
        ),
        c(
            "server",
            "metrics/servers/{id} 7d",
            format!("/api/admin/metrics/servers/{server}?range=7d"),
        ),
        c(
            "server",
            "metrics/servers/{id} 30d",
            format!("/api/admin/metrics/servers/{server}?range=30d"),
        ),
        c(
            "customers",
            "customers page 1",
            "/api/admin/customers?page=1&per_page=20".into(),
        ),
        c(
            "customers",
            "customers plan=pro&status=active",
            "/api/admin/customers?plan=pro&status=active&per_page=20".into(),
        ),
        c(
            "customers",
            "customers whatsapp_status=logged_out",
            "/api/admin/customers?whatsapp_status=logged_out&per_page=20".into(),
        ),
        c(
            "customers",
            "customers q=acme",
            "/api/admin/customers?q=acme&per_page=20".into(),
        ),
        c(
            "customers",
            "customers last page",
            format!("/api/admin/customers?page={last_page}&per_page=20"),
        ),
        c(
            "customer",
            "customers/{id}",
            format!("/api/admin/customers/{heavy}"),
        ),
        c(
            "customer",
            "customers/{id}/usage",
            format!("/api/admin/customers/{heavy}/usage"),
        ),
        c(
            "customer",
            "logs customer_id=",
            format!("/api/admin/logs?customer_id={heavy}&per_page=20"),
        ),
        c(
            "logs",
            "logs page 1",
            "/api/admin/logs?page=1&per_page=50".into(),
        ),
        c(
            "logs",
            "logs page 100",
            "/api/admin/logs?page=100&per_page=50".into(),
        ),
        c(
            "logs",
            "logs request_id=",
            format!("/api/admin/logs?request_id={}&per_page=50", f.request_id),
        ),
        c(
            "logs",
            "logs event_type=admin_action",
            "/api/admin/logs?event_type=admin_action&per_page=50".into(),
        ),
        c(
            "logs",
            "logs event_type=api_call",
            "/api/admin/logs?event_type=api_call&per_page=50".into(),
        ),
        c(
            "billing",
            "billing/summary (month)",
            format!("/api/admin/billing/summary?from={from}&to={today}"),
        ),
        c(
            "billing",
            "billing/customers sort=revenue",
            format!("/api/admin/billing/customers?from={from}&to={today}&per_page=20"),
        ),
        c(
            "billing",
            "billing/customers sort=messages",
            format!(
                "/api/admin/billing/customers?from={from}&to={today}&sort=messages&per_page=20"
            ),
        ),
        c(
            "billing",
            "billing/export.csv (month)",
            format!("/api/admin/billing/export.csv?from={from}&to={today}"),
        ),
    ]
}

/// The statements behind the heavier calls (copied from their modules).
fn probes(f: &Fleet) -> Vec<Probe> {
    let now = f.now;
    let today = now.date_naive();
    let from = today - Days::days(f.days - 1);
    let start = from.and_hms_opt(0, 0, 0).expect("time").and_utc();
    let end = (today + Days::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("time")
        .and_utc();
    let fleet_sql = |width: i64, resolution: i32, length: i64| {
        let end_ts = (now.timestamp().div_euclid(width) + 1) * width;
        (
            "SELECT bucket, COUNT(*) AS servers_reporting, SUM(sessions) AS sessions, SUM(messages) AS messages, AVG(cpu) AS cpu FROM (\
             SELECT server_id, (bucket / $1) * $1 AS bucket, \
             CASE WHEN SUM(sessions_n) > 0 THEN SUM(sessions_sum) / SUM(sessions_n) END AS sessions, \
             CASE WHEN SUM(messages_n) > 0 THEN SUM(messages_sum) / SUM(messages_n) END AS messages, \
             CASE WHEN SUM(cpu_n) > 0 THEN SUM(cpu_sum) / SUM(cpu_n) END AS cpu \
             FROM server_metrics_rollup WHERE resolution = $2 AND bucket >= $3 AND bucket < $4 GROUP BY 1, 2\
             ) per_server GROUP BY bucket ORDER BY bucket"
                .to_owned(),
            vec![Val::I64(width), Val::I32(resolution), Val::I64(end_ts - length), Val::I64(end_ts)],
        )
    };
    let (g24, a24) = fleet_sql(300, 60, 86_400);
    let (g30, a30) = fleet_sql(10_800, 3_600, 30 * 86_400);
    let customer_filter = "((actor_type = 'customer' AND actor_id = $1) OR \
         (resource_type = 'customer' AND resource_id = $2 AND event_type <> 'api_call'))";
    let p = |call, what, sql: &str, args| Probe {
        call,
        what,
        sql: sql.to_owned(),
        args,
    };
    vec![
        p("metrics/global 24h", "fleet chart (minute buckets, 5-min points)", &g24, a24),
        p("metrics/global 30d", "fleet chart (hour buckets, 3-h points)", &g30, a30),
        p("metrics/global 30d", "usage per day", "SELECT date, CAST(SUM(api_requests) AS BIGINT), CAST(SUM(messages_sent) AS BIGINT), CAST(SUM(messages_received) AS BIGINT) FROM customer_usage WHERE date >= $1 AND date <= $2 GROUP BY date ORDER BY date",
          vec![Val::Date(from), Val::Date(today)]),
        p("customers q=acme", "count of the search", "SELECT COUNT(*) FROM customers c WHERE c.deleted_at IS NULL AND (LOWER(c.email) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(c.full_name, '')) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(c.company_name, '')) LIKE $1 ESCAPE '\\')",
          vec![Val::Text("%acme%".into())]),
        p("logs page 1", "count of every row", "SELECT COUNT(*) FROM audit_logs", vec![]),
        p("logs page 1", "the page", "SELECT * FROM audit_logs ORDER BY timestamp DESC, id DESC LIMIT $1 OFFSET $2", vec![Val::I64(50), Val::I64(0)]),
        p("logs request_id=", "the page", "SELECT * FROM audit_logs WHERE request_id = $1 ORDER BY timestamp DESC, id DESC LIMIT $2 OFFSET $3",
          vec![Val::Text(f.request_id.clone()), Val::I64(50), Val::I64(0)]),
        p("logs request_id=", "the count", "SELECT COUNT(*) FROM audit_logs WHERE request_id = $1", vec![Val::Text(f.request_id.clone())]),
        p("logs event_type=api_call", "the count", "SELECT COUNT(*) FROM audit_logs WHERE event_type = $1", vec![Val::Text("api_call".into())]),
        p("logs event_type=admin_action", "the count", "SELECT COUNT(*) FROM audit_logs WHERE event_type = $1 AND event_type <> 'api_call'", vec![Val::Text("admin_action".into())]),
        p("logs customer_id=", "the page", &format!("SELECT * FROM audit_logs WHERE {customer_filter} ORDER BY timestamp DESC, id DESC LIMIT 20 OFFSET 0"),
          vec![Val::Uuid(f.heavy), Val::Text(f.heavy.to_string())]),
        p("logs customer_id=", "the count", &format!("SELECT COUNT(*) FROM audit_logs WHERE {customer_filter}"),
          vec![Val::Uuid(f.heavy), Val::Text(f.heavy.to_string())]),
        p("billing/summary (month)", "ledger: customers of the period", "SELECT c.id, c.email, c.company_name, c.plan, c.status, c.assigned_server_id, s.name AS server_name, \
         c.created_at, c.deleted_at FROM customers c LEFT JOIN servers s ON s.id = c.assigned_server_id \
         WHERE c.created_at < $1 AND (c.deleted_at IS NULL OR c.deleted_at >= $2)",
          vec![Val::Time(end), Val::Time(start)]),
        p("billing/summary (month)", "ledger: usage per customer over the period", "SELECT customer_id, CAST(SUM(api_requests) AS BIGINT) AS api_requests, \
         CAST(SUM(messages_sent) AS BIGINT) AS messages_sent, CAST(SUM(messages_received) AS BIGINT) AS messages_received, \
         CAST(SUM(images_sent + videos_sent + files_sent) AS BIGINT) AS media_sent, \
         CAST(SUM(bandwidth_in_bytes) AS BIGINT) AS bandwidth_in_bytes, CAST(SUM(bandwidth_out_bytes) AS BIGINT) AS bandwidth_out_bytes, \
         CAST(SUM(estimated_cost) AS DOUBLE PRECISION) AS estimated_cost \
         FROM customer_usage WHERE date >= $1 AND date <= $2 GROUP BY customer_id",
          vec![Val::Date(from), Val::Date(today)]),
    ]
}

// ---------------------------------------------------------------------------------------
// Report.
// ---------------------------------------------------------------------------------------

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e3;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn bytes(b: usize) -> String {
    if b >= 1_048_576 {
        format!("{:.2} MB", b as f64 / 1_048_576.0)
    } else if b >= 1024 {
        format!("{:.1} kB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpu}, {cores} cores, Linux {kernel}")
}

fn git(args: &[&str]) -> String {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn report(args: &Args, suites: &[Suite], started: DateTime<Utc>, load_before: &str) -> String {
    let mut r = String::new();
    let dirty = !git(&["status", "--porcelain", "--", "crates", "migrations"]).is_empty();
    let _ = writeln!(
        r,
        "# Admin panel benchmark: the admin API on a seeded fleet\n"
    );
    let _ = writeln!(
        r,
        "Measured {} on this machine ({}), commit `{}`{}, by `bench/admin/run` (`cargo run --release -p wasp-bench-admin`). Load: 1-minute load average {} before, {} after.\n",
        started.format("%Y-%m-%d %H:%M UTC"),
        machine(),
        git(&["rev-parse", "--short", "HEAD"]),
        if dirty { " plus the uncommitted changes in `crates/` and `migrations/` of the tree (the metrics and billing endpoints, migration 0016)" } else { "" },
        load_before,
        load()
    );
    let _ = writeln!(r, "One process holds the real management app (`AppState::new` + `app::serve` on 127.0.0.1, as `crates/management/tests/it/harness.rs` starts it) and the client (reqwest, one keep-alive connection, one call at a time). **They share the same 2 cores** (and with PostgreSQL, the database server too). Each call: {} timed repetitions after 2 warm-up calls (5 when a warm-up call took over 2 s), request sent to body read; the baseline `GET /api/admin/auth/me` (an authenticated call that reads one row) {} times. Signed in as a super admin with `POST /api/admin/auth/login`.\n", args.reps, args.reps * 5);

    let _ = writeln!(r, "## The seed\n");
    let _ = writeln!(r, "What production holds after a month ({} customers, {} servers, {} days): servers with `cost_per_month` and capacity 600; customers created over the last 90 days, 70 % basic / 20 % pro / 9 % business / 1 % enterprise, ~3 % suspended, ~2 % deleted, WhatsApp mostly connected, one API key each; heartbeats every {} s from every server over the whole period, of which what the heartbeat path (`server_metrics` row + `metrics::record`) and an hourly purge (`metrics::purge`, {} h of raw rows and minute buckets) leave; usage for every day each customer had an account, `estimated_cost` filled by `billing::estimate_costs` day by day; the audit log's API call rows in time order, a customer drawn in proportion to its activity, with an admin action every 500 rows. Written with bound multi-row INSERTs in big transactions (values stored exactly as the app's own writes store them).\n",
        args.customers, args.servers, args.days, seed::HEARTBEAT_SECS, seed::RAW_HOURS);
    let _ = writeln!(
        r,
        "| what | {} |",
        suites
            .iter()
            .map(|s| format!("{} rows | {} time", s.name, s.name))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(
        r,
        "|---|{}",
        suites.iter().map(|_| "---:|---:|").collect::<String>()
    );
    if let Some(first) = suites.first() {
        for (i, (what, _, _)) in first.seed.parts.iter().enumerate() {
            let cells: Vec<String> = suites
                .iter()
                .map(|s| {
                    let (_, n, t) = &s.seed.parts[i];
                    format!(
                        "{n} | {}",
                        if *t > 0.0 {
                            format!("{t:.1} s")
                        } else {
                            "–".into()
                        }
                    )
                })
                .collect();
            let _ = writeln!(r, "| {what} | {} |", cells.join(" | "));
        }
        let est: Vec<String> = suites
            .iter()
            .map(|s| {
                let e = &s.seed.estimate;
                let total: f64 = e.iter().sum();
                format!(
                    "{} | {total:.1} s ({:.0} ms a day, max {:.0} ms)",
                    s.seed.estimate_rows,
                    total * 1e3 / e.len().max(1) as f64,
                    e.iter().copied().fold(0.0, f64::max) * 1e3
                )
            })
            .collect();
        let _ = writeln!(r, "| `billing::estimate_costs`, once per day of the period (customers given a figure) | {} |", est.join(" | "));
        let _ = writeln!(
            r,
            "| whole seed (migrations, the above, PostgreSQL's ANALYZE) | {} |",
            suites
                .iter()
                .map(|s| format!(
                    "{} | {:.1} s",
                    s.seed.db_bytes.map_or("?".into(), |b| format!(
                        "{:.0} MB on disk",
                        b as f64 / 1_048_576.0
                    )),
                    s.seed_secs
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    let _ = writeln!(r);
    for s in suites {
        let (rows, beats, same, worst) = &s.seed.rollup_check;
        let _ = writeln!(r, "- {}: {}. Bulk rollup check: {beats} heartbeats over 30 minutes across an hour boundary folded by `metrics::record` (one call per heartbeat, as the heartbeat path does) and by the bench's bulk fold: {rows} rows each, **{}** (largest relative difference {worst}).{}",
            s.name, s.fleet_note, if *same { "equal" } else { "DIFFERENT" },
            if s.seed.analyze_secs > 0.0 { format!(" `ANALYZE` after the load: {:.1} s (what autovacuum does within a minute of loads this size; production tables have statistics).", s.seed.analyze_secs) } else { " No `ANALYZE` (the app never runs it, so a production SQLite file has no statistics either).".into() });
    }
    let _ = writeln!(r, "\nThe housekeeping's hourly cost estimate (`billing::estimate_recent_costs`) runs `estimate_costs` for yesterday and today: about twice the per-day time above, every hour.\n");

    // Summary.
    let _ = writeln!(r, "## Summary\n");
    let _ = writeln!(r, "| database | baseline `auth/me` p50 | slowest call (p95) | its p50 / p95 | calls with p95 > {} ms |", SLOW.as_millis());
    let _ = writeln!(r, "|---|---:|---|---:|---|");
    for s in suites {
        let slowest = s.stats.iter().max_by_key(|x| x.p95);
        let slow: Vec<String> = s
            .stats
            .iter()
            .filter(|x| x.p95 > SLOW)
            .map(|x| format!("{} ({})", x.label, ms(x.p95)))
            .collect();
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} / {} | {} |",
            s.name,
            ms(s.baseline.p50),
            slowest.map_or("–".into(), |x| format!("**{}**", x.label)),
            slowest.map_or("–".into(), |x| ms(x.p50)),
            slowest.map_or("–".into(), |x| ms(x.p95)),
            if slow.is_empty() {
                "none".into()
            } else {
                slow.join(", ")
            }
        );
    }
    let _ = writeln!(r);

    for s in suites {
        let _ = writeln!(r, "## {}\n", s.name);
        let _ = writeln!(r, "{}\n", s.detail);
        let _ = writeln!(
            r,
            "| page | call | p50 | p95 | max | reps | bytes | p50 × baseline |"
        );
        let _ = writeln!(r, "|---|---|---:|---:|---:|---:|---:|---:|");
        let b = &s.baseline;
        let _ = writeln!(
            r,
            "| baseline | `GET /api/admin/auth/me` | {} | {} | {} | {} | {} | 1.0× |",
            ms(b.p50),
            ms(b.p95),
            ms(b.max),
            b.reps,
            bytes(b.bytes)
        );
        for x in &s.stats {
            let flag = if x.p95 > SLOW { " ⚠" } else { "" };
            let _ = writeln!(
                r,
                "| {} | {}{flag} | {} | {} | {} | {} | {} | {:.0}× |",
                x.page,
                x.label,
                ms(x.p50),
                ms(x.p95),
                ms(x.max),
                x.reps,
                bytes(x.bytes),
                x.p50.as_secs_f64() / b.p50.as_secs_f64().max(1e-9)
            );
        }
        let errors: Vec<String> = s
            .stats
            .iter()
            .filter_map(|x| {
                x.error
                    .as_ref()
                    .map(|e| format!("{}: {} errors, first {e}", x.label, x.errors))
            })
            .collect();
        if !errors.is_empty() {
            let _ = writeln!(r, "\n**Errors**: {}", errors.join("; "));
        }
        let _ = writeln!(
            r,
            "\nPaths: {}.\n",
            s.stats
                .iter()
                .map(|x| format!("{} `{}`", x.label, x.path))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(r, "The SQL behind the heavier calls, run alone (median of 3) on the same database after the measurements:\n");
        let _ = writeln!(r, "| call | statement | time | plan (abridged) |");
        let _ = writeln!(r, "|---|---|---:|---|");
        for f in &s.findings {
            let plan: Vec<String> = f
                .plan
                .iter()
                .enumerate()
                // PostgreSQL: the top node, how each table is read, and the total.
                .filter(|(i, l)| {
                    *i == 0
                        || !l.contains("(cost=") && !l.contains(':')
                        || ["Scan", "Rows Removed", "Execution Time", "Index Cond"]
                            .iter()
                            .any(|k| l.contains(k))
                })
                .map(|(_, l)| l)
                .take(10)
                .map(|l| l.trim().replace('|', "\\|"))
                .collect();
            let _ = writeln!(
                r,
                "| {} | {} | {} | `{}` |",
                f.call,
                f.what,
                ms(f.time),
                plan.join("` ⏎ `")
            );
        }
        let _ = writeln!(r);
    }
    let _ = writeln!(r, "## Reading\n");
    r.push_str(&reading(suites));
    // The diagnosis of the slow calls, written by hand from a run's plans and experiments.
    if let Ok(findings) = std::fs::read_to_string("bench/admin/FINDINGS.md") {
        let _ = writeln!(r);
        r.push_str(&findings);
    }
    r
}

/// What the figures say (generated from them).
fn reading(suites: &[Suite]) -> String {
    let mut r = String::new();
    for s in suites {
        let b = s.baseline.p50;
        let mut sorted: Vec<&Stat> = s.stats.iter().collect();
        sorted.sort_by_key(|x| std::cmp::Reverse(x.p95));
        let top: Vec<String> = sorted
            .iter()
            .take(4)
            .map(|x| {
                format!(
                    "{} (p50 {}, p95 {}, {:.0}× the baseline)",
                    x.label,
                    ms(x.p50),
                    ms(x.p95),
                    x.p50.as_secs_f64() / b.as_secs_f64().max(1e-9)
                )
            })
            .collect();
        let fast = s
            .stats
            .iter()
            .filter(|x| x.p95 <= Duration::from_millis(50))
            .count();
        let _ = writeln!(
            r,
            "- **{}**: the baseline answers in {} (p50). The slowest calls: {}. {} of the {} calls answer within 50 ms at p95; {} exceed {} ms.",
            s.name,
            ms(b),
            top.join("; "),
            fast,
            s.stats.len(),
            s.stats.iter().filter(|x| x.p95 > SLOW).count(),
            SLOW.as_millis()
        );
    }
    r
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let started = Utc::now();
    let load_before = load();
    let mut suites = Vec::new();
    if args.db != "postgres" {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = match &args.keep {
            Some(keep) => {
                std::fs::create_dir_all(keep).expect("--keep directory");
                std::path::Path::new(keep)
                    .join(format!("wasp-bench-{}.db", Uuid::new_v4().simple()))
            }
            None => dir.path().join("wasp.db"),
        };
        eprintln!("SQLite file {}", path.display());
        let db = Db::connect(&format!("sqlite://{}", path.display()), 8)
            .await
            .expect("sqlite");
        suites.push(
            suite(
                &args,
                db,
                "SQLite",
                "SQLite: a file in a temporary directory, WAL, one writer connection and 8 readers (`Db::connect`).".into(),
                Some(path),
            )
            .await,
        );
    }
    if args.db != "sqlite" {
        let name = format!("wasp_bench_{}", Uuid::new_v4().simple());
        let admin = Db::connect(&postgres_admin_url(), 1)
            .await
            .expect("PostgreSQL reachable");
        let version: String = match &admin {
            Db::Postgres(pool) => {
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(pool)
                    .await
                    .expect("create database");
                sqlx::query_scalar("SELECT version()")
                    .fetch_one(pool)
                    .await
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        let base = postgres_admin_url();
        let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
        let db = Db::connect(&format!("{prefix}/{name}"), 8)
            .await
            .expect("connect");
        let detail = format!(
            "PostgreSQL: {} on this machine, a fresh database `{name}` (dropped after), pool of 8 (`Db::connect`).",
            version.split(" on ").next().unwrap_or(&version)
        );
        suites.push(suite(&args, db, "PostgreSQL", detail, None).await);
        eprintln!("PostgreSQL database {name}");
        if let (Db::Postgres(pool), None) = (&admin, &args.keep) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(pool)
                .await;
        }
        admin.close().await;
    }
    let text = report(&args, &suites, started, &load_before);
    std::fs::write(&args.out, &text).expect("write report");
    eprintln!("wrote {}", args.out);
}
