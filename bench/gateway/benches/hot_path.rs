//! The gateway's hot path with criterion: one key check on a cached key, one limiter
//! decision (a basic plan's 3 rules, customers in turn), and their baselines: one
//! HMAC-SHA-256 of the key and one `HashMap` lookup. `cargo bench -p wasp-bench-gateway`;
//! the benchmark binary (`src/main.rs`) measures the same with a timed loop for its report.

use criterion::{criterion_group, criterion_main, Criterion};
use std::{collections::HashMap, hint::black_box, time::Instant};
use uuid::Uuid;
use wasp_db::on_tx;
use wasp_management::{
    keys::{self, KeyMode, NewKey},
    limits::{self, LocalLimiter},
    AppState, Config,
};
use wasp_protocol::{keys::keyed_digest, Plan};

/// An app state on a fresh SQLite database with one basic customer; its test key.
async fn state(dir: &std::path::Path) -> (AppState, String) {
    let db = wasp_worker::testkit::sqlite(dir).await.expect("database");
    let state = AppState::new(
        db,
        Config::local("127.0.0.1:0".parse().expect("addr")),
        b"bench-secret-bench-secret-bench-secret!",
        None,
    );
    let id = Uuid::now_v7();
    let mut tx = state.db.begin().await.expect("begin");
    on_tx!(&mut tx, |conn| sqlx::query(
        "INSERT INTO customers (id, email, plan, status, created_at, updated_at) \
         VALUES ($1, $2, 'basic', 'active', $3, $3)"
    )
    .bind(id)
    .bind(format!("{id}@bench.example"))
    .bind(chrono::Utc::now())
    .execute(&mut *conn)
    .await
    .map(|_| ()))
    .expect("customer");
    let key = keys::create(
        &state,
        &mut tx,
        id,
        NewKey {
            mode: KeyMode::Test,
            name: None,
            scopes: vec!["*".into()],
            expires_at: None,
        },
    )
    .await
    .expect("key")
    .api_key;
    tx.commit().await.expect("commit");
    (state, key)
}

fn hot_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (state, key) = rt.block_on(state(dir.path()));
    // The first check fills the cache.
    rt.block_on(keys::check_key(&state, &key))
        .expect("the key checks");

    c.bench_function("check_key (cached)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(keys::check_key(&state, black_box(&key)).await.is_ok());
                }
                t.elapsed()
            })
        })
    });
    let pepper = state.secrets.key_pepper.clone();
    c.bench_function("baseline: HMAC-SHA-256 of the key", |b| {
        b.iter(|| keyed_digest(black_box(&pepper), black_box(key.as_bytes())))
    });

    let customers: Vec<Uuid> = (0..10_000).map(|_| Uuid::new_v4()).collect();
    let rules = limits::request_rules(Plan::Basic);
    let limiter = LocalLimiter::default();
    let mut i = 0usize;
    c.bench_function("LocalLimiter::check (basic plan, 10k customers)", |b| {
        b.iter(|| {
            i = (i + 1) % customers.len();
            limiter.check(customers[i], black_box(&rules))
        })
    });
    let by_customer: HashMap<Uuid, u64> = customers.iter().map(|c| (*c, 1)).collect();
    let mut j = 0usize;
    c.bench_function("baseline: HashMap<Uuid, _> lookup (10k)", |b| {
        b.iter(|| {
            j = (j + 1) % customers.len();
            by_customer.get(black_box(&customers[j])).copied()
        })
    });
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
