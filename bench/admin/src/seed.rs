//! The seeded fleet: servers, customers and their keys, a month of heartbeats (what the
//! heartbeat path and retention leave), usage per customer per day, and the audit log.
//!
//! Everything is generated here from a fixed seed and written with multi-row INSERTs in big
//! transactions (bound values, so each backend stores them exactly as the application's
//! own writes do: 16-byte UUIDs and RFC 3339 text in SQLite, native types in PostgreSQL).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;
use std::time::Instant;
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db, Tx};

/// Heartbeat interval of a worker, seconds.
pub const HEARTBEAT_SECS: i64 = 5;
/// What retention keeps of raw heartbeats and minute buckets (`Retention::raw_hours`).
pub const RAW_HOURS: i64 = 48;

// ---------------------------------------------------------------------------------------
// A small deterministic generator (no dependency): SplitMix64.
// ---------------------------------------------------------------------------------------

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next().to_le_bytes());
        b[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
    pub fn hex(&mut self, chars: usize) -> String {
        let mut s = String::with_capacity(chars + 16);
        while s.len() < chars {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(chars);
        s
    }
}

// ---------------------------------------------------------------------------------------
// Bulk inserts.
// ---------------------------------------------------------------------------------------

/// One bound value.
pub enum Val {
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    I64(i64),
    I32(i32),
    F64(f64),
    OptF64(Option<f64>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    Date(NaiveDate),
    Bool(bool),
}

macro_rules! bind_all {
    ($q:expr, $rows:expr) => {{
        let mut q = $q;
        for row in $rows {
            for v in row {
                q = match v {
                    Val::Uuid(x) => q.bind(*x),
                    Val::OptUuid(x) => q.bind(*x),
                    Val::Text(x) => q.bind(x.as_str()),
                    Val::OptText(x) => q.bind(x.as_deref()),
                    Val::I64(x) => q.bind(*x),
                    Val::I32(x) => q.bind(*x),
                    Val::F64(x) => q.bind(*x),
                    Val::OptF64(x) => q.bind(*x),
                    Val::Time(x) => q.bind(*x),
                    Val::OptTime(x) => q.bind(*x),
                    Val::Date(x) => q.bind(*x),
                    Val::Bool(x) => q.bind(*x),
                };
            }
        }
        q
    }};
}

/// Columns of a table, each with the cast its placeholder needs in PostgreSQL (text into
/// INET, NUMERIC or JSONB).
pub struct Table {
    pub name: &'static str,
    pub cols: &'static [(&'static str, &'static str)],
}

/// Writes `rows` into `table` inside `tx`, as many rows a statement as the backend's
/// parameter limit allows.
pub async fn insert(tx: &mut Tx, table: &Table, rows: &[Vec<Val>]) {
    let ncols = table.cols.len();
    let (limit, pg) = match tx {
        Tx::Postgres(_) => (65_000, true),
        Tx::Sqlite(_) => (32_000, false),
    };
    let per = (limit / ncols).min(4_000);
    let names: Vec<&str> = table.cols.iter().map(|(n, _)| *n).collect();
    for chunk in rows.chunks(per) {
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", table.name, names.join(", "));
        let mut n = 0;
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (c, (_, cast)) in table.cols.iter().enumerate() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                if pg {
                    sql.push_str(&format!("${n}{cast}"));
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        on_tx!(&mut *tx, |conn| {
            bind_all!(sqlx::query(&sql).persistent(false), chunk)
                .execute(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("insert into {}: {e}", table.name));
        });
    }
}

// ---------------------------------------------------------------------------------------
// The fleet.
// ---------------------------------------------------------------------------------------

pub struct Server {
    pub id: Uuid,
    pub name: String,
    /// Customers placed on it (not deleted).
    pub customers: i32,
    pub base_cpu: f64,
    pub phase: f64,
}

pub struct Customer {
    pub id: Uuid,
    pub key_id: Uuid,
    pub email: String,
    pub company: String,
    pub plan: &'static str,
    pub server: usize,
    pub created: DateTime<Utc>,
    pub deleted: Option<DateTime<Utc>>,
    /// API calls on an average day.
    pub daily_calls: f64,
}

pub struct Fleet {
    pub now: DateTime<Utc>,
    pub servers: Vec<Server>,
    pub customers: Vec<Customer>,
    /// (request id, customer) of an API call row in the middle of the log.
    pub request_id: String,
    /// The customer with the most calls.
    pub heavy: Uuid,
    pub days: i64,
}

/// Sizes and times of the seed.
#[derive(Default, Clone)]
pub struct SeedStats {
    /// (what, rows, seconds).
    pub parts: Vec<(String, u64, f64)>,
    /// `billing::estimate_costs` per day: seconds each.
    pub estimate: Vec<f64>,
    pub estimate_rows: usize,
    /// The bulk rollup equals `metrics::record`'s on the sample (rows compared, heartbeats).
    pub rollup_check: (usize, usize, bool, String),
    pub analyze_secs: f64,
    pub db_bytes: Option<u64>,
}

const PLANS: [(&str, f64, f64); 4] = [
    // plan, share, API calls a day
    ("basic", 0.70, 120.0),
    ("pro", 0.20, 900.0),
    ("business", 0.09, 4_000.0),
    ("enterprise", 0.01, 20_000.0),
];
const REGIONS: [&str; 4] = ["eu-central", "eu-west", "us-east", "ap-southeast"];
const WORDS: [&str; 24] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "hooli",
    "vandelay",
    "massive",
    "dynamic",
    "north",
    "blue",
    "green",
    "rapid",
    "prime",
    "atlas",
    "nova",
    "delta",
    "orbit",
    "pixel",
];
const KINDS: [&str; 8] = [
    "Logistics",
    "Retail",
    "Clinic",
    "Travel",
    "Foods",
    "Realty",
    "Motors",
    "Academy",
];

pub fn fleet(customers: usize, servers: usize, days: i64, now: DateTime<Utc>) -> Fleet {
    let mut rng = Rng::new(0x5EED_AD31);
    let servers: Vec<Server> = (0..servers)
        .map(|i| Server {
            id: rng.uuid(),
            name: format!("wa-{}-{:02}", REGIONS[i % REGIONS.len()], i + 1),
            customers: 0,
            base_cpu: 15.0 + rng.f() * 20.0,
            phase: rng.f() * 0.5,
        })
        .collect();
    let mut out = Vec::with_capacity(customers);
    for i in 0..customers {
        let p = rng.f();
        let mut acc = 0.0;
        let mut plan = PLANS[0];
        for candidate in PLANS {
            acc += candidate.1;
            if p < acc {
                plan = candidate;
                break;
            }
        }
        let age = rng.range(3_600, 90 * 86_400);
        let created = now - Duration::seconds(age);
        let deleted = (rng.f() < 0.02).then(|| {
            let lived = rng.range(0, age.max(1));
            created + Duration::seconds(lived)
        });
        let w1 = WORDS[rng.range(0, WORDS.len() as i64) as usize];
        let w2 = WORDS[rng.range(0, WORDS.len() as i64) as usize];
        let kind = KINDS[rng.range(0, KINDS.len() as i64) as usize];
        out.push(Customer {
            id: rng.uuid(),
            key_id: rng.uuid(),
            email: format!("ops{i}@{w1}-{w2}.example.com"),
            company: format!("{} {} {kind} {i}", cap(w1), cap(w2)),
            plan: plan.0,
            server: i % servers.len(),
            created,
            deleted,
            daily_calls: plan.2 * (0.3 + rng.f() * 1.4),
        });
    }
    let mut servers = servers;
    for c in &out {
        if c.deleted.is_none() {
            servers[c.server].customers += 1;
        }
    }
    let heavy = out
        .iter()
        .filter(|c| c.deleted.is_none())
        .max_by(|a, b| a.daily_calls.total_cmp(&b.daily_calls))
        .map(|c| c.id)
        .unwrap_or_default();
    Fleet {
        now,
        servers,
        customers: out,
        request_id: String::new(),
        heavy,
        days,
    }
}

fn cap(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

const SERVERS: Table = Table {
    name: "servers",
    cols: &[
        ("id", ""),
        ("name", ""),
        ("ip_address", "::inet"),
        ("api_url", ""),
        ("api_key_hash", ""),
        ("api_key_hint", ""),
        ("max_capacity", ""),
        ("current_load", ""),
        ("cpu_cores", ""),
        ("ram_gb", ""),
        ("disk_gb", ""),
        ("status", ""),
        ("health_status", ""),
        ("last_heartbeat", ""),
        ("region", ""),
        ("provider", ""),
        ("cost_per_month", "::numeric"),
        ("created_at", ""),
        ("updated_at", ""),
    ],
};

const CUSTOMERS: Table = Table {
    name: "customers",
    cols: &[
        ("id", ""),
        ("email", ""),
        ("email_verified_at", ""),
        ("phone_number", ""),
        ("whatsapp_jid", ""),
        ("whatsapp_status", ""),
        ("assigned_server_id", ""),
        ("plan", ""),
        ("status", ""),
        ("password_hash", ""),
        ("password_must_change", ""),
        ("company_name", ""),
        ("full_name", ""),
        ("created_at", ""),
        ("updated_at", ""),
        ("last_login_at", ""),
        ("deleted_at", ""),
    ],
};

const API_KEYS: Table = Table {
    name: "api_keys",
    cols: &[
        ("id", ""),
        ("customer_id", ""),
        ("key_hash", ""),
        ("prefix", ""),
        ("key_hint", ""),
        ("name", ""),
        ("permissions", "::jsonb"),
        ("last_used_at", ""),
        ("request_count", ""),
        ("is_active", ""),
        ("created_at", ""),
        ("revoked_at", ""),
    ],
};

/// Servers, customers (with one API key each).
pub async fn accounts(db: &Db, f: &Fleet, stats: &mut SeedStats) {
    let started = Instant::now();
    let mut rng = Rng::new(7);
    let now = f.now;
    let rows: Vec<Vec<Val>> = f
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                Val::Uuid(s.id),
                Val::Text(s.name.clone()),
                Val::Text(format!("10.20.{}.{}", i / 200, 10 + i % 200)),
                Val::Text(format!("http://10.20.{}.{}:8080", i / 200, 10 + i % 200)),
                Val::Text(rng.hex(64)),
                Val::Text(format!("wsk_…{}", rng.hex(4))),
                Val::I32(600),
                Val::I32(s.customers),
                Val::I32(8),
                Val::I32(32),
                Val::I32(240),
                Val::Text("active".into()),
                Val::Text("healthy".into()),
                Val::Time(now),
                Val::Text(REGIONS[i % REGIONS.len()].into()),
                Val::Text("hetzner".into()),
                Val::Text(money(7_900 + 1_000 * (i as i64 % 3))),
                Val::Time(now - Duration::days(120)),
                Val::Time(now),
            ]
        })
        .collect();
    let mut tx = db.begin().await.expect("tx");
    insert(&mut tx, &SERVERS, &rows).await;
    tx.commit().await.expect("commit");

    let mut tx = db.begin().await.expect("tx");
    let mut rows = Vec::with_capacity(f.customers.len());
    let mut keys = Vec::with_capacity(f.customers.len());
    for (i, c) in f.customers.iter().enumerate() {
        let wa = match rng.f() {
            x if x < 0.86 => "connected",
            x if x < 0.93 => "disconnected",
            x if x < 0.97 => "logged_out",
            x if x < 0.99 => "scanning",
            _ => "pairing",
        };
        let status = if c.deleted.is_some() {
            "deleted"
        } else if rng.f() < 0.03 {
            "suspended"
        } else {
            "active"
        };
        let phone = format!("+4915{:09}", 100_000_000 + i);
        rows.push(vec![
            Val::Uuid(c.id),
            Val::Text(c.email.clone()),
            Val::Time(c.created + Duration::minutes(3)),
            Val::Text(phone.clone()),
            Val::OptText((wa == "connected").then(|| format!("{}@s.whatsapp.net", &phone[1..]))),
            Val::Text(
                if c.deleted.is_some() {
                    "disconnected"
                } else {
                    wa
                }
                .into(),
            ),
            Val::OptUuid(Some(f.servers[c.server].id)),
            Val::Text(c.plan.into()),
            Val::Text(status.into()),
            Val::Text("$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0$Zm9vYmFyYmF6cXV4cXV1eA".into()),
            Val::Bool(false),
            Val::Text(c.company.clone()),
            Val::Text(format!("Operator {i}")),
            Val::Time(c.created),
            Val::Time(c.deleted.unwrap_or(c.created)),
            Val::OptTime(Some(now - Duration::seconds(rng.range(60, 30 * 86_400)))),
            Val::OptTime(c.deleted),
        ]);
        keys.push(vec![
            Val::Uuid(c.key_id),
            Val::Uuid(c.id),
            Val::Text(rng.hex(64)),
            Val::Text("wsp_live_".into()),
            Val::Text(format!("wsp_live_…{}", rng.hex(4))),
            Val::Text("production".into()),
            Val::Text("[\"*\"]".into()),
            Val::OptTime(Some(
                c.deleted
                    .unwrap_or(now - Duration::seconds(rng.range(1, 3_600))),
            )),
            Val::I64((c.daily_calls * 30.0) as i64),
            Val::Bool(c.deleted.is_none()),
            Val::Time(c.created + Duration::minutes(5)),
            Val::OptTime(c.deleted),
        ]);
    }
    insert(&mut tx, &CUSTOMERS, &rows).await;
    insert(&mut tx, &API_KEYS, &keys).await;
    tx.commit().await.expect("commit");
    stats.parts.push((
        format!(
            "servers ({}), customers ({}) and their API keys",
            f.servers.len(),
            f.customers.len()
        ),
        (f.servers.len() + 2 * f.customers.len()) as u64,
        started.elapsed().as_secs_f64(),
    ));
}

// ---------------------------------------------------------------------------------------
// Heartbeats.
// ---------------------------------------------------------------------------------------

/// One heartbeat, as a worker reports it (percentages and rates in hundredths: the
/// DECIMAL(…, 2) columns keep two decimals).
#[derive(Clone)]
pub struct Beat {
    pub at: DateTime<Utc>,
    pub cpu: i64,
    pub ram: i64,
    pub disk: i64,
    pub net_in: i64,
    pub net_out: i64,
    pub connections: i32,
    pub instances: i32,
    pub messages: i32,
    pub errors: i32,
    pub avg_ms: i32,
    pub p95_ms: i32,
    pub p99_ms: i32,
}

/// The heartbeat of `server` at `at`.
pub fn beat(s: &Server, rng: &mut Rng, at: DateTime<Utc>, start: i64) -> Beat {
    let t = at.timestamp();
    let day = ((t % 86_400) as f64 / 86_400.0 + s.phase) * std::f64::consts::TAU;
    let load = 0.5 - 0.5 * day.cos(); // 0 at night, 1 mid-afternoon
    let noise = |rng: &mut Rng, width: f64| (rng.f() - 0.5) * width;
    let pct = |v: f64| (v.clamp(0.0, 100.0) * 100.0).round() as i64;
    let sessions = s.customers.max(1);
    let messages =
        ((40.0 + 900.0 * load) * sessions as f64 / 480.0 * (1.0 + noise(rng, 0.3))).max(0.0);
    let avg = 22.0 + 18.0 * load + noise(rng, 8.0);
    Beat {
        at,
        cpu: pct(s.base_cpu + 35.0 * load + noise(rng, 10.0)),
        ram: pct(48.0 + 12.0 * load + noise(rng, 2.0)),
        disk: pct(30.0 + 15.0 * (t - start) as f64 / (30.0 * 86_400.0)),
        net_in: ((messages * 1.8 + noise(rng, 20.0)).max(0.0) * 100.0).round() as i64,
        net_out: ((messages * 2.6 + noise(rng, 20.0)).max(0.0) * 100.0).round() as i64,
        connections: sessions - rng.range(0, 1 + sessions as i64 / 20) as i32,
        instances: sessions,
        messages: messages as i32,
        errors: (messages * 0.004 * rng.f()) as i32,
        avg_ms: avg as i32,
        p95_ms: (avg * (2.8 + rng.f())) as i32,
        p99_ms: (avg * (4.5 + 2.0 * rng.f())) as i32,
    }
}

fn dec(h: i64) -> String {
    format!("{}.{:02}", h / 100, h % 100)
}

/// What one bucket holds: sums, counts and maxima, as `metrics::record` folds them.
#[derive(Default, Clone, Copy)]
pub struct Acc {
    samples: i32,
    sum: [f64; 11],
    n: [i32; 11],
    cpu_max: Option<f64>,
    ram_max: Option<f64>,
    p95_max: Option<f64>,
}

impl Acc {
    /// The order of the rollup's columns: cpu, ram, disk, sessions, connections, messages,
    /// errors, response, p95, net_in, net_out.
    fn add(&mut self, b: &Beat) {
        let v = [
            b.cpu as f64 / 100.0,
            b.ram as f64 / 100.0,
            b.disk as f64 / 100.0,
            f64::from(b.instances),
            f64::from(b.connections),
            f64::from(b.messages),
            f64::from(b.errors),
            f64::from(b.avg_ms),
            f64::from(b.p95_ms),
            b.net_in as f64 / 100.0,
            b.net_out as f64 / 100.0,
        ];
        self.samples += 1;
        for (i, x) in v.iter().enumerate() {
            self.sum[i] += x;
            self.n[i] += 1;
        }
        let max = |m: &mut Option<f64>, x: f64| {
            if m.is_none_or(|m| x > m) {
                *m = Some(x);
            }
        };
        max(&mut self.cpu_max, v[0]);
        max(&mut self.ram_max, v[1]);
        max(&mut self.p95_max, v[8]);
    }
}

/// (resolution, bucket start) → bucket.
pub type Buckets = BTreeMap<(i32, i64), Acc>;

pub fn fold(buckets: &mut Buckets, b: &Beat, minutes_from: i64) {
    let t = b.at.timestamp();
    for resolution in [60i64, 3_600] {
        let bucket = t.div_euclid(resolution) * resolution;
        if resolution == 60 && bucket < minutes_from {
            continue;
        }
        buckets
            .entry((resolution as i32, bucket))
            .or_default()
            .add(b);
    }
}

const RAW: Table = Table {
    name: "server_metrics",
    cols: &[
        ("server_id", ""),
        ("cpu_usage", "::numeric"),
        ("ram_usage", "::numeric"),
        ("disk_usage", "::numeric"),
        ("network_in_mbps", "::numeric"),
        ("network_out_mbps", "::numeric"),
        ("active_connections", ""),
        ("total_instances", ""),
        ("messages_per_minute", ""),
        ("errors_per_minute", ""),
        ("avg_response_time_ms", ""),
        ("p95_response_time_ms", ""),
        ("p99_response_time_ms", ""),
        ("recorded_at", ""),
    ],
};

pub const ROLLUP: Table = Table {
    name: "server_metrics_rollup",
    cols: &[
        ("server_id", ""),
        ("resolution", ""),
        ("bucket", ""),
        ("samples", ""),
        ("cpu_sum", ""),
        ("cpu_n", ""),
        ("cpu_max", ""),
        ("ram_sum", ""),
        ("ram_n", ""),
        ("ram_max", ""),
        ("disk_sum", ""),
        ("disk_n", ""),
        ("sessions_sum", ""),
        ("sessions_n", ""),
        ("connections_sum", ""),
        ("connections_n", ""),
        ("messages_sum", ""),
        ("messages_n", ""),
        ("errors_sum", ""),
        ("errors_n", ""),
        ("response_sum", ""),
        ("response_n", ""),
        ("p95_sum", ""),
        ("p95_n", ""),
        ("p95_max", ""),
        ("net_in_sum", ""),
        ("net_in_n", ""),
        ("net_out_sum", ""),
        ("net_out_n", ""),
    ],
};

pub fn raw_row(server: Uuid, b: &Beat) -> Vec<Val> {
    vec![
        Val::Uuid(server),
        Val::Text(dec(b.cpu)),
        Val::Text(dec(b.ram)),
        Val::Text(dec(b.disk)),
        Val::Text(dec(b.net_in)),
        Val::Text(dec(b.net_out)),
        Val::I32(b.connections),
        Val::I32(b.instances),
        Val::I32(b.messages),
        Val::I32(b.errors),
        Val::I32(b.avg_ms),
        Val::I32(b.p95_ms),
        Val::I32(b.p99_ms),
        Val::Time(b.at),
    ]
}

pub fn rollup_rows(server: Uuid, buckets: &Buckets) -> Vec<Vec<Val>> {
    buckets
        .iter()
        .map(|(&(resolution, bucket), a)| {
            let mut row = vec![
                Val::Uuid(server),
                Val::I32(resolution),
                Val::I64(bucket),
                Val::I32(a.samples),
            ];
            for i in 0..11 {
                row.push(Val::F64(a.sum[i]));
                row.push(Val::I32(a.n[i]));
                match i {
                    0 => row.push(Val::OptF64(a.cpu_max)),
                    1 => row.push(Val::OptF64(a.ram_max)),
                    8 => row.push(Val::OptF64(a.p95_max)),
                    _ => {}
                }
            }
            row
        })
        .collect()
}

/// The heartbeats of `server` from `from` to `to`, every 5 s from its own phase.
pub fn beats<'a>(
    s: &'a Server,
    rng: &mut Rng,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    start: i64,
) -> impl Iterator<Item = Beat> + 'a {
    let offset_ms = (rng.next() % 5_000) as i64;
    let first = from + Duration::milliseconds(offset_ms);
    let count = ((to - first).num_milliseconds() / (HEARTBEAT_SECS * 1_000)).max(0);
    let mut local = Rng::new(rng.next());
    (0..count).map(move |k| {
        let at = first + Duration::milliseconds(k * HEARTBEAT_SECS * 1_000);
        beat(s, &mut local, at, start)
    })
}

/// A month of heartbeats from every server: the raw rows of the last 48 h and the minute
/// (48 h) and hour (the month) buckets, as the heartbeat path and an hourly purge at `now`
/// leave them.
pub async fn heartbeats(db: &Db, f: &Fleet, stats: &mut SeedStats) {
    let started = Instant::now();
    let now = f.now;
    let from = now - Duration::days(f.days);
    let cutoff = now - Duration::hours(RAW_HOURS);
    let mut rng = Rng::new(42);
    let (mut raw_n, mut rollup_n, mut generated) = (0u64, 0u64, 0u64);
    let mut gen_secs = 0.0;
    for s in &f.servers {
        let g = Instant::now();
        let mut buckets = Buckets::new();
        let mut raw = Vec::with_capacity((RAW_HOURS * 3_600 / HEARTBEAT_SECS) as usize + 10);
        for b in beats(s, &mut rng, from, now, from.timestamp()) {
            generated += 1;
            fold(&mut buckets, &b, cutoff.timestamp());
            if b.at >= cutoff {
                raw.push(raw_row(s.id, &b));
            }
        }
        let rollup = rollup_rows(s.id, &buckets);
        gen_secs += g.elapsed().as_secs_f64();
        raw_n += raw.len() as u64;
        rollup_n += rollup.len() as u64;
        let mut tx = db.begin().await.expect("tx");
        insert(&mut tx, &RAW, &raw).await;
        insert(&mut tx, &ROLLUP, &rollup).await;
        tx.commit().await.expect("commit");
    }
    stats.parts.push((
        format!(
            "heartbeats: {generated} generated over {} days ({:.1} s of it generating and folding), kept: {raw_n} raw `server_metrics` rows (48 h)",
            f.days, gen_secs
        ),
        raw_n,
        started.elapsed().as_secs_f64(),
    ));
    stats.parts.push((
        "heartbeats: `server_metrics_rollup` rows (minute buckets of 48 h, hour buckets of the month), in the same transactions (time above)".into(),
        rollup_n,
        0.0,
    ));
}

/// Checks the bulk fold against `metrics::record` on the same heartbeats: two throwaway
/// servers, one filled by `record` (one call per heartbeat, as the heartbeat path does),
/// the other by [`fold`] + [`insert`]; their rows compared; both servers removed.
pub async fn check_rollup(db: &Db, f: &Fleet, stats: &mut SeedStats) {
    let now = f.now;
    let mut rng = Rng::new(99);
    let ids = [rng.uuid(), rng.uuid()];
    let mut tx = db.begin().await.expect("tx");
    let rows: Vec<Vec<Val>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            vec![
                Val::Uuid(*id),
                Val::Text(format!("rollup-check-{i}")),
                Val::Text("10.99.0.1".into()),
                Val::Text("http://10.99.0.1:8080".into()),
                Val::Text(rng.hex(64)),
                Val::Text("wsk_…chk".into()),
                Val::I32(600),
                Val::I32(0),
                Val::I32(8),
                Val::I32(32),
                Val::I32(240),
                Val::Text("inactive".into()),
                Val::Text("unknown".into()),
                Val::Time(now),
                Val::Text("check".into()),
                Val::Text("check".into()),
                Val::Text("1.00".into()),
                Val::Time(now),
                Val::Time(now),
            ]
        })
        .collect();
    insert(&mut tx, &SERVERS, &rows).await;
    tx.commit().await.expect("commit");
    // 30 minutes across an hour boundary, three hours ago (minute and hour buckets), with
    // the servers' real figures.
    let hour = (now - Duration::hours(3)).timestamp().div_euclid(3_600) * 3_600;
    let from = Utc.timestamp_opt(hour - 15 * 60, 0).single().expect("time");
    let sample: Vec<Beat> = beats(
        &f.servers[0],
        &mut rng,
        from,
        from + Duration::minutes(30),
        from.timestamp(),
    )
    .collect();
    let mut tx = db.begin().await.expect("tx");
    for b in &sample {
        let m = wasp_management::servers::ServerMetrics {
            cpu_usage: Some(wasp_db::Dec(dec(b.cpu).parse().expect("decimal"))),
            ram_usage: Some(wasp_db::Dec(dec(b.ram).parse().expect("decimal"))),
            disk_usage: Some(wasp_db::Dec(dec(b.disk).parse().expect("decimal"))),
            network_in_mbps: Some(wasp_db::Dec(dec(b.net_in).parse().expect("decimal"))),
            network_out_mbps: Some(wasp_db::Dec(dec(b.net_out).parse().expect("decimal"))),
            active_connections: Some(b.connections),
            total_instances: Some(b.instances),
            messages_per_minute: Some(b.messages),
            errors_per_minute: Some(b.errors),
            avg_response_time_ms: Some(b.avg_ms),
            p95_response_time_ms: Some(b.p95_ms),
            p99_response_time_ms: Some(b.p99_ms),
            recorded_at: None,
        };
        wasp_management::metrics::record(&mut tx, ids[0], &m, b.at)
            .await
            .expect("metrics::record");
    }
    let mut buckets = Buckets::new();
    for b in &sample {
        fold(&mut buckets, b, 0);
    }
    insert(&mut tx, &ROLLUP, &rollup_rows(ids[1], &buckets)).await;
    tx.commit().await.expect("commit");
    let cols: Vec<&str> = ROLLUP.cols.iter().skip(1).map(|(n, _)| *n).collect();
    let sql = format!(
        "SELECT {} FROM server_metrics_rollup WHERE server_id = $1 ORDER BY resolution, bucket",
        cols.iter()
            .map(|c| format!("CAST({c} AS DOUBLE PRECISION)"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let ncols = cols.len();
    let read = |id: Uuid| {
        let sql = sql.clone();
        async move {
            use sqlx::Row;
            on_pool!(db, |pool| sqlx::query(&sql)
                .bind(id)
                .fetch_all(pool)
                .await
                .expect("read rollup")
                .iter()
                .map(|r| (0..ncols)
                    .map(|i| r.get::<Option<f64>, _>(i))
                    .collect::<Vec<_>>())
                .collect::<Vec<_>>())
        }
    };
    let (a, b) = (read(ids[0]).await, read(ids[1]).await);
    let mut same = a.len() == b.len() && !a.is_empty();
    let mut worst = 0.0f64;
    for (ra, rb) in a.iter().zip(&b) {
        for (x, y) in ra.iter().zip(rb) {
            match (x, y) {
                (Some(x), Some(y)) => {
                    let rel = (x - y).abs() / x.abs().max(1.0);
                    worst = worst.max(rel);
                    if rel > 1e-9 {
                        same = false;
                    }
                }
                (None, None) => {}
                _ => same = false,
            }
        }
    }
    let mut tx = db.begin().await.expect("tx");
    on_tx!(&mut tx, |conn| {
        for id in ids {
            sqlx::query("DELETE FROM server_metrics_rollup WHERE server_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await
                .expect("delete");
            sqlx::query("DELETE FROM servers WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await
                .expect("delete");
        }
    });
    tx.commit().await.expect("commit");
    stats.rollup_check = (a.len(), sample.len(), same, format!("{worst:.1e}"));
    assert!(same, "the bulk rollup differs from metrics::record's");
}

// ---------------------------------------------------------------------------------------
// Usage and the audit log.
// ---------------------------------------------------------------------------------------

const USAGE: Table = Table {
    name: "customer_usage",
    cols: &[
        ("customer_id", ""),
        ("date", ""),
        ("api_requests", ""),
        ("messages_sent", ""),
        ("messages_received", ""),
        ("images_sent", ""),
        ("videos_sent", ""),
        ("files_sent", ""),
        ("bandwidth_in_mb", "::numeric"),
        ("bandwidth_out_mb", "::numeric"),
        ("bandwidth_in_bytes", ""),
        ("bandwidth_out_bytes", ""),
        ("created_at", ""),
        ("updated_at", ""),
    ],
};

/// One row per customer per day it had an account, over the last `days` days (today so far
/// included), then `billing::estimate_costs` for each of those days (timed).
pub async fn usage(db: &Db, f: &Fleet, stats: &mut SeedStats) {
    let started = Instant::now();
    let now = f.now;
    let today = now.date_naive();
    let first = today - Duration::days(f.days - 1);
    let mut rng = Rng::new(1234);
    let mut rows = Vec::new();
    let mut total = 0u64;
    let day_done = f64::from(chrono::Timelike::num_seconds_from_midnight(&now.time())) / 86_400.0;
    for c in &f.customers {
        let mut day = first.max(c.created.date_naive());
        let last = c.deleted.map_or(today, |d| d.date_naive()).min(today);
        while day <= last {
            let weekend = matches!(
                chrono::Datelike::weekday(&day),
                chrono::Weekday::Sat | chrono::Weekday::Sun
            );
            let share = if day == today { day_done } else { 1.0 };
            let calls =
                (c.daily_calls * share * if weekend { 0.55 } else { 1.0 } * (0.6 + 0.8 * rng.f()))
                    as i64;
            let sent = calls * 6 / 10;
            let received = (sent as f64 * (0.5 + rng.f())) as i64;
            let images = sent / 20;
            let videos = sent / 100;
            let files = sent / 50;
            let bytes_in = calls * 900 + images * 180_000 + videos * 2_000_000 + files * 400_000;
            let bytes_out = calls * 1_400 + received * 600;
            let at = day.and_hms_opt(23, 59, 0).expect("time").and_utc().min(now);
            rows.push(vec![
                Val::Uuid(c.id),
                Val::Date(day),
                Val::I32(calls as i32),
                Val::I32(sent as i32),
                Val::I32(received as i32),
                Val::I32(images as i32),
                Val::I32(videos as i32),
                Val::I32(files as i32),
                Val::Text(format!("{:.2}", bytes_in as f64 / 1_048_576.0)),
                Val::Text(format!("{:.2}", bytes_out as f64 / 1_048_576.0)),
                Val::I64(bytes_in),
                Val::I64(bytes_out),
                Val::Time(day.and_hms_opt(0, 0, 5).expect("time").and_utc()),
                Val::Time(at),
            ]);
            day += Duration::days(1);
        }
        if rows.len() >= 50_000 {
            total += rows.len() as u64;
            let mut tx = db.begin().await.expect("tx");
            insert(&mut tx, &USAGE, &rows).await;
            tx.commit().await.expect("commit");
            rows.clear();
        }
    }
    total += rows.len() as u64;
    let mut tx = db.begin().await.expect("tx");
    insert(&mut tx, &USAGE, &rows).await;
    tx.commit().await.expect("commit");
    stats.parts.push((
        format!(
            "`customer_usage`: one row per customer per day it had an account, {} days",
            f.days
        ),
        total,
        started.elapsed().as_secs_f64(),
    ));
    let mut day = first;
    while day <= today {
        let t = Instant::now();
        stats.estimate_rows += wasp_management::billing::estimate_costs(db, day)
            .await
            .expect("estimate_costs");
        stats.estimate.push(t.elapsed().as_secs_f64());
        day += Duration::days(1);
    }
}

const AUDIT: Table = Table {
    name: "audit_logs",
    cols: &[
        ("timestamp", ""),
        ("event_type", ""),
        ("severity", ""),
        ("actor_type", ""),
        ("actor_id", ""),
        ("action", ""),
        ("resource_type", ""),
        ("resource_id", ""),
        ("ip_address", "::inet"),
        ("user_agent", ""),
        ("request_id", ""),
        ("metadata", "::jsonb"),
        ("status", ""),
        ("duration_ms", ""),
    ],
};

const ENDPOINTS: [(&str, u32); 9] = [
    ("POST /api/v1/messages/text", 40),
    ("POST /api/v1/messages/image", 8),
    ("POST /api/v1/messages/document", 4),
    ("GET /api/v1/app/status", 20),
    ("GET /api/v1/chats", 8),
    ("GET /api/v1/chats/{jid}/messages", 10),
    ("POST /api/v1/contacts/check", 6),
    ("GET /api/v1/usage", 2),
    ("GET /api/v1/groups", 2),
];
const ADMIN_ACTIONS: [&str; 6] = [
    "update_customer",
    "suspend_customer",
    "activate_customer",
    "regenerate_key",
    "reassign_customer",
    "create_customer",
];

/// `calls` API call rows over the last `days` days, in time order, each by a customer drawn
/// in proportion to its activity, with an admin action every 500 rows; answers the request
/// id of a call in the middle.
pub async fn audit(db: &Db, f: &mut Fleet, calls: u64, admin: Uuid, stats: &mut SeedStats) {
    let started = Instant::now();
    let now = f.now;
    let from = now - Duration::days(f.days);
    let span_ms = (now - from).num_milliseconds();
    let every = 500u64;
    let total = calls + calls / (every - 1);
    let live: Vec<&Customer> = f.customers.iter().collect();
    let mut cumulative = Vec::with_capacity(live.len());
    let mut acc = 0.0;
    for c in &live {
        acc += c.daily_calls;
        cumulative.push(acc);
    }
    let endpoint_total: u32 = ENDPOINTS.iter().map(|e| e.1).sum();
    let mut rng = Rng::new(77);
    let (mut api, mut admins) = (0u64, 0u64);
    let chunk = 50_000u64;
    let mut i = 0u64;
    while i < total {
        let end = (i + chunk).min(total);
        let mut rows = Vec::with_capacity((end - i) as usize);
        for k in i..end {
            let at =
                from + Duration::milliseconds((k as i128 * span_ms as i128 / total as i128) as i64);
            let request_id = rng.uuid().to_string();
            if k == total / 2 {
                f.request_id = request_id.clone();
            }
            if k % every == every / 2 {
                admins += 1;
                let c = live[rng.range(0, live.len() as i64) as usize];
                let action = ADMIN_ACTIONS[rng.range(0, ADMIN_ACTIONS.len() as i64) as usize];
                rows.push(vec![
                    Val::Time(at),
                    Val::Text("admin_action".into()),
                    Val::Text("info".into()),
                    Val::Text("admin".into()),
                    Val::OptUuid(Some(admin)),
                    Val::Text(action.into()),
                    Val::OptText(Some("customer".into())),
                    Val::OptText(Some(c.id.to_string())),
                    Val::OptText(Some("198.51.100.7".into())),
                    Val::OptText(Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0".into())),
                    Val::OptText(Some(request_id)),
                    Val::OptText(Some(
                        "{\"plan\":{\"from\":\"basic\",\"to\":\"pro\"}}".into(),
                    )),
                    Val::OptText(Some("success".into())),
                    Val::OptF64(None),
                ]);
                continue;
            }
            api += 1;
            // A customer in proportion to its calls (among those with an account then).
            let mut c;
            loop {
                let x = rng.f() * acc;
                c = live[cumulative.partition_point(|&v| v < x).min(live.len() - 1)];
                if c.created <= at && c.deleted.is_none_or(|d| d > at) {
                    break;
                }
            }
            let mut pick = rng.range(0, i64::from(endpoint_total)) as u32;
            let mut endpoint = ENDPOINTS[0].0;
            for (e, w) in ENDPOINTS {
                if pick < w {
                    endpoint = e;
                    break;
                }
                pick -= w;
            }
            let code = match rng.f() {
                x if x < 0.975 => 200,
                x if x < 0.99 => 400,
                x if x < 0.997 => 429,
                _ => 502,
            };
            rows.push(vec![
                Val::Time(at),
                Val::Text("api_call".into()),
                Val::Text("info".into()),
                Val::Text("customer".into()),
                Val::OptUuid(Some(c.id)),
                Val::Text(endpoint.into()),
                Val::OptText(Some("api_key".into())),
                Val::OptText(Some(c.key_id.to_string())),
                Val::OptText(Some(format!(
                    "203.0.113.{}",
                    1 + (c.id.as_u128() % 250) as u8
                ))),
                Val::OptText(Some("wasp-sdk-node/2.3.1".into())),
                Val::OptText(Some(request_id)),
                Val::OptText(Some(format!("{{\"status_code\":{code}}}"))),
                Val::OptText(Some(if code >= 400 { "failure" } else { "success" }.into())),
                Val::I32(rng.range(4, 250) as i32),
            ]);
        }
        let mut tx = db.begin().await.expect("tx");
        insert(&mut tx, &AUDIT, &rows).await;
        tx.commit().await.expect("commit");
        i = end;
    }
    stats.parts.push((
        format!("`audit_logs`: {api} `api_call` rows and {admins} `admin_action` rows over {} days, in time order", f.days),
        api + admins,
        started.elapsed().as_secs_f64(),
    ));
}
