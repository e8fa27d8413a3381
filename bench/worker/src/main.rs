//! Capacity of one worker, measured in one run on this machine:
//!
//! 1. resident memory per connected sandbox session at growing counts (each session logged
//!    in through the worker's HTTP API, as management's gateway would call it);
//! 2. sends per second through the worker's HTTP API with every session connected, against
//!    the same server's `/health` as the baseline (the cost of HTTP alone);
//! 3. resident memory per whatsapp-rust client built on our session store (and on the
//!    library's in-memory store, for comparison), constructed without a network.
//!
//! `cargo run --release -p wasp-bench-worker -- [--sizes 100,1000,5000] [--seconds 5]
//!  [--concurrency 64] [--clients 300] [--out bench/worker/REPORT.md]`
//! `WASP_BENCH_DATABASE_URL` runs it on PostgreSQL instead of a temporary SQLite file.

use reqwest::StatusCode;
use serde_json::json;
use std::{
    fmt::Write as _,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::Semaphore;
use uuid::Uuid;
use wasp_db::Db;
use wasp_protocol::service_token::{Mode, TokenSigner};
use wasp_worker::{
    drivers::live::store::WaStore,
    store::{self, SessionKey},
    testkit,
};

struct Args {
    sizes: Vec<usize>,
    seconds: u64,
    concurrency: usize,
    clients: usize,
    out: String,
}

fn args() -> Args {
    let mut a = Args {
        sizes: vec![100, 1_000, 5_000],
        seconds: 5,
        concurrency: 64,
        clients: 300,
        out: "bench/worker/REPORT.md".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--sizes" => {
                a.sizes = value
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect()
            }
            "--seconds" => a.seconds = value.parse().unwrap_or(a.seconds),
            "--concurrency" => a.concurrency = value.parse().unwrap_or(a.concurrency),
            "--clients" => a.clients = value.parse().unwrap_or(a.clients),
            "--out" => a.out = value,
            other => {
                eprintln!("unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    a.sizes.sort_unstable();
    a
}

/// This process's resident memory in bytes.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

struct Load {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

/// Runs `make` at `concurrency` for `seconds` and measures the rate and latency.
async fn load<F, Fut>(seconds: u64, concurrency: usize, make: F) -> Load
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let make = Arc::new(make);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..concurrency {
        let make = make.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut n = lane;
            while Instant::now() < deadline {
                let t = Instant::now();
                if !make(n).await {
                    errors += 1;
                }
                latencies.push(t.elapsed());
                n += concurrency;
            }
            (latencies, errors)
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        let (l, e) = done.expect("lane");
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1))];
    Load {
        per_second: all.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
        errors,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let max = args.sizes.last().copied().unwrap_or(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, database) = match std::env::var("WASP_BENCH_DATABASE_URL") {
        Ok(url) => (Db::connect(&url, 16).await.expect("database"), "PostgreSQL"),
        Err(_) => (
            Db::connect(&format!("sqlite://{}/wasp.db", dir.path().display()), 8)
                .await
                .expect("database"),
            "SQLite",
        ),
    };
    db.migrate().await.expect("migrate");
    let server = Uuid::new_v4();
    let customers: Vec<Uuid> = (0..max).map(|_| Uuid::now_v7()).collect();
    testkit::seed_server(&db, server, "bench")
        .await
        .expect("server");
    testkit::seed_customers(&db, Some(server), &customers)
        .await
        .expect("customers");

    let signer = Arc::new(TokenSigner::from_seed([7; 32]));
    let served = testkit::serve(testkit::sandbox_config(dir.path()), &db, server, &signer)
        .await
        .expect("worker");
    let (worker, url) = (served.worker.clone(), served.url.clone());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(args.concurrency * 2)
        .no_proxy()
        .build()
        .expect("client");
    // Warm the server and the client pool before the baseline reading.
    for _ in 0..args.concurrency {
        let _ = http.get(format!("{url}/health")).send().await;
    }
    let base_rss = rss();
    println!("worker up, {database}, resident {}", mib(base_rss as f64));

    // 1. Memory per connected sandbox session.
    let mut memory = Vec::new();
    let mut done = 0;
    for &size in &args.sizes {
        let limit = Arc::new(Semaphore::new(args.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        let started = Instant::now();
        for (i, customer) in customers[done..size].iter().copied().enumerate() {
            let i = done + i;
            let (http, url, signer, limit) =
                (http.clone(), url.clone(), signer.clone(), limit.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire().await.expect("permit");
                let token = signer.for_request(server, Some(customer), Some(Mode::Test), None);
                let login = http
                    .get(format!("{url}/api/v1/app/login"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("login");
                assert_eq!(login.status(), StatusCode::OK);
                let scan = http
                    .post(format!("{url}/api/v1/sandbox/scan"))
                    .bearer_auth(&token)
                    .json(&json!({ "phone": format!("+1555{:07}", 1_000_001 + i) }))
                    .send()
                    .await
                    .expect("scan");
                assert_eq!(scan.status(), StatusCode::OK);
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.expect("session");
        }
        done = size;
        let instances = worker.instances().expect("instances");
        assert_eq!(instances.connected(), size, "every session connected");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = rss();
        let per = (now.saturating_sub(base_rss)) as f64 / size as f64;
        println!(
            "{size} sessions connected in {:.1}s: resident {} ({} per session)",
            started.elapsed().as_secs_f64(),
            mib(now as f64),
            kib(per)
        );
        memory.push((size, now, per, started.elapsed()));
    }

    // 2. Sends per second with every session connected, against /health as the baseline.
    let seconds = args.seconds;
    let health = {
        let (http, url) = (http.clone(), url.clone());
        load(seconds, args.concurrency, move |_| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                http.get(format!("{url}/health"))
                    .send()
                    .await
                    .map(|r| r.status() == StatusCode::OK)
                    .unwrap_or(false)
            }
        })
        .await
    };
    let senders: Arc<Vec<String>> = Arc::new(
        customers[..done]
            .iter()
            .map(|c| {
                // Tokens live 60 s; the load lasts less.
                signer.for_request(server, Some(*c), Some(Mode::Test), None)
            })
            .collect(),
    );
    let sends = {
        let (http, url, senders) = (http.clone(), url.clone(), senders.clone());
        load(seconds, args.concurrency, move |n| {
            let (http, url) = (http.clone(), url.clone());
            let token = senders[n % senders.len()].clone();
            async move {
                http.post(format!("{url}/api/v1/send/message"))
                    .bearer_auth(token)
                    .json(&json!({ "phone": "6281234567890", "message": format!("bench {n}") }))
                    .send()
                    .await
                    .map(|r| r.status() == StatusCode::OK)
                    .unwrap_or(false)
            }
        })
        .await
    };
    println!(
        "health {:.0}/s, sends {:.0}/s ({} errors)",
        health.per_second, sends.per_second, sends.errors
    );

    // 3. whatsapp-rust clients built without a network: on our store, and on the library's
    // in-memory store for comparison.
    let clients = args.clients.min(customers.len());
    let before = rss();
    let mut bots = Vec::new();
    for _ in 0..clients {
        let bot = whatsapp_rust::bot::Bot::builder()
            .with_backend(whatsapp_rust::wacore::store::InMemoryBackend::new())
            .skip_history_sync()
            .build()
            .await
            .expect("bot");
        bots.push(bot);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let in_memory = (rss().saturating_sub(before)) as f64 / clients as f64;
    let before = rss();
    let started = Instant::now();
    for customer in &customers[..clients] {
        let key = SessionKey {
            customer: *customer,
            mode: Mode::Live,
        };
        store::claim(&db, key, server, "live").await.expect("claim");
        let bot = whatsapp_rust::bot::Bot::builder()
            .with_backend(WaStore::new(db.clone(), key))
            .skip_history_sync()
            .build()
            .await
            .expect("bot");
        bots.push(bot);
    }
    let built_in = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ours = (rss().saturating_sub(before)) as f64 / clients as f64;
    println!(
        "whatsapp-rust client: {} on our store, {} in memory",
        kib(ours),
        kib(in_memory)
    );

    // The report.
    let mut r = String::new();
    let _ = writeln!(r, "# Worker capacity benchmark\n");
    let _ = writeln!(
        r,
        "Measured {} on this machine ({} cores), database {database}, by `cargo run --release -p wasp-bench-worker`. \
         One worker process; sessions logged in through its HTTP API with service tokens, as the gateway calls it; \
         the load generator runs in the same process (it shares the cores).\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    let _ = writeln!(r, "## Memory per connected sandbox session\n");
    let _ = writeln!(
        r,
        "Baseline: the worker with no session, resident {}.\n",
        mib(base_rss as f64)
    );
    let _ = writeln!(
        r,
        "| sessions | resident | above baseline | per session | logged in (this step) |"
    );
    let _ = writeln!(r, "|---:|---:|---:|---:|---:|");
    for (size, now, per, took) in &memory {
        let _ = writeln!(
            r,
            "| {size} | {} | {} | {} | {:.1} s |",
            mib(*now as f64),
            mib(now.saturating_sub(base_rss) as f64),
            kib(*per),
            took.as_secs_f64()
        );
    }
    if let Some((size, now, _, _)) = memory.last() {
        let per = now.saturating_sub(base_rss) as f64 / *size as f64;
        let in_2gib = ((2u64 << 30).saturating_sub(base_rss)) as f64 / per.max(1.0);
        let _ = writeln!(
            r,
            "\nAt this rate 2 GiB hold about **{:.0} sandbox sessions** (goal: ≥ 2,000 in ≤ 2 GiB). A live session also holds its whatsapp-rust client and its Signal state (below).",
            in_2gib
        );
    }
    let _ = writeln!(
        r,
        "\n## Sends per second through one worker ({} sessions connected)\n",
        done
    );
    let _ = writeln!(
        r,
        "{} s at {} concurrent requests each; every send is validated, stored in the chat store and handed to the sandbox network.\n",
        seconds, args.concurrency
    );
    let _ = writeln!(r, "| request | per second | p50 | p99 | errors |");
    let _ = writeln!(r, "|---|---:|---:|---:|---:|");
    for (name, l) in [
        ("`GET /health` (baseline)", &health),
        ("`POST /api/v1/send/message`", &sends),
    ] {
        let _ = writeln!(
            r,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            l.per_second,
            l.p50.as_secs_f64() * 1e3,
            l.p99.as_secs_f64() * 1e3,
            l.errors
        );
    }
    let _ = writeln!(
        r,
        "\nSends run at **{:.2}×** the baseline's rate.",
        sends.per_second / health.per_second.max(1.0)
    );
    let _ = writeln!(
        r,
        "\n## whatsapp-rust clients built without a network ({clients} each)\n"
    );
    let _ = writeln!(r, "| store | per client | built in |");
    let _ = writeln!(r, "|---|---:|---:|");
    let _ = writeln!(
        r,
        "| ours (`WaStore`, {database}) | {} | {:.0} ms for {clients} |",
        kib(ours),
        built_in.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        r,
        "| library's `InMemoryBackend` (baseline) | {} | |",
        kib(in_memory)
    );
    let _ = writeln!(
        r,
        "\nA connected, paired session holds more (Signal sessions, device lists, caches): \
         upstream measures a few hundred KiB per session against its mock server."
    );
    std::fs::write(&args.out, r).expect("write report");
    println!("report written to {}", args.out);
    drop(bots);
    std::process::exit(0);
}
