//! What the gateway hop costs, measured in one run on this machine:
//!
//! 1. one cheap, real customer call (`GET /api/v1/app/status` of a logged-in sandbox
//!    session) under load: (a) straight to the worker with a service token, the baseline;
//!    (b) through management's gateway with the customer's API key; (c) through nginx
//!    `proxy_pass` to the worker (Debian's nginx, started here), the reference for what a
//!    plain reverse proxy adds;
//! 2. the gateway's hot path alone: one key check on a cached key and one limiter decision,
//!    against one HMAC-SHA-256 and one `HashMap` lookup (`benches/hot_path.rs` measures the
//!    same with criterion).
//!
//! `cargo run --release -p wasp-bench-gateway -- [--seconds 5] [--warmup 1]
//!  [--concurrency 32] [--open-rate 5000] [--rounds 3] [--iterations 200000] [--nginx-workers auto]
//!  [--no-nginx] [--out bench/gateway/REPORT.md]` (`bench/gateway/run` installs nginx first).
//!
//! Two regimes: closed loop (every connection sends back to back: saturation, where latency
//! is mostly queueing for the shared cores, so it measures CPU per request) and open loop
//! (requests sent at a fixed rate below every path's capacity, each timed from when it was
//! due, not when it went out, so a slow answer delaying the next send is counted: what a
//! customer sees on a machine that is not saturated). Each regime runs in `--rounds`
//! interleaved rounds (direct, gateway, nginx, then again), and the report pools each path's
//! rounds (one histogram over all of them), so a machine whose speed drifts or flips between
//! runs weighs on every path alike, and shows each round's ratio for the spread.
//!
//! For profilers: `--profile-requests N [--profile-path gateway|direct]` sends N requests
//! one after another on one connection after the setup, prints the time, and exits, e.g.
//! under `valgrind --tool=callgrind` twice with different N to get instructions per call;
//! `--profile-requests 1` instead runs the closed loop on those paths alone for `--seconds`
//! (for a sampling profiler such as `perf record`). `--profile-open` runs only the open loop
//! (at `--open-rate`) on the `--profile-path` paths and prints their latencies.

use http_body_util::{BodyExt, Empty};
use hyper::{body::Bytes, header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::{
    collections::HashMap,
    fmt::Write as _,
    hint::black_box,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tokio::net::TcpStream;
use uuid::Uuid;
use wasp_db::{on_tx, Db};
use wasp_management::{
    keys::{self, KeyMode, NewKey},
    limits::{self, LocalLimiter},
    AppState, Config,
};
use wasp_protocol::{
    keys::keyed_digest,
    service_token::{Claims, Mode},
    Plan, SecretKey,
};
use wasp_worker::testkit;

const NGINX: &str = "/usr/sbin/nginx";
/// The customer call measured: cheap, real (the session is looked up and answered).
const CALL: &str = "/api/v1/app/status";

struct Args {
    seconds: u64,
    warmup: u64,
    concurrency: usize,
    iterations: u32,
    nginx_workers: String,
    nginx: bool,
    out: String,
    /// Requests a second of the open-loop runs (0: none).
    open_rate: u64,
    /// Interleaved rounds of each regime (every path once per round), pooled in the report.
    rounds: u32,
    /// Profiling: send this many requests one after another on one connection to the
    /// paths named by `--profile-path`, print the time they took, and stop (no report).
    profile_requests: u64,
    profile_path: String,
    /// Profiling: run only the open loop, at `--open-rate`, on the paths named by
    /// `--profile-path`, print each one's latencies, and stop (no report).
    profile_open: bool,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 5,
        warmup: 1,
        concurrency: 32,
        iterations: 200_000,
        nginx_workers: "auto".into(),
        nginx: true,
        out: "bench/gateway/REPORT.md".into(),
        open_rate: 5_000,
        rounds: 3,
        profile_requests: 0,
        profile_path: "gateway".into(),
        profile_open: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-nginx" {
            a.nginx = false;
            continue;
        }
        if flag == "--profile-open" {
            a.profile_open = true;
            continue;
        }
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--seconds" => a.seconds = value.parse().unwrap_or(a.seconds),
            "--warmup" => a.warmup = value.parse().unwrap_or(a.warmup),
            "--concurrency" => a.concurrency = value.parse().unwrap_or(a.concurrency),
            "--iterations" => a.iterations = value.parse().unwrap_or(a.iterations),
            "--nginx-workers" => a.nginx_workers = value,
            "--out" => a.out = value,
            "--open-rate" => a.open_rate = value.parse().unwrap_or(a.open_rate),
            "--rounds" => a.rounds = value.parse().unwrap_or(a.rounds).max(1),
            "--profile-requests" => {
                a.profile_requests = value.parse().unwrap_or(a.profile_requests)
            }
            "--profile-path" => a.profile_path = value,
            other => {
                eprintln!("unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    a
}

// ---------------------------------------------------------------------------------------
// The load generator.
// ---------------------------------------------------------------------------------------

/// Where a run sends its requests and with which credential header.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    header: (header::HeaderName, String),
}

struct Load {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    requests: u64,
    /// Requests sent, warm-up included.
    total: u64,
    errors: u64,
    /// CPU time of every process involved (servers, proxy, load generator) per request.
    cpu_per_request: Duration,
    /// Every measured request's latency.
    latencies: Histogram,
    seconds: u64,
}

impl Load {
    /// One path's rounds as one run: latencies pooled, counts added, CPU per request sent.
    fn pooled(runs: Vec<Load>) -> Load {
        let mut all = histogram();
        let (mut requests, mut total, mut errors, mut seconds) = (0, 0, 0, 0);
        let mut cpu = 0.0;
        for l in &runs {
            all.add(&l.latencies).expect("same bounds");
            requests += l.requests;
            total += l.total;
            errors += l.errors;
            seconds += l.seconds;
            cpu += l.cpu_per_request.as_secs_f64() * l.total as f64;
        }
        let ns = |q: f64| Duration::from_nanos(all.value_at_quantile(q));
        Load {
            per_second: requests as f64 / seconds.max(1) as f64,
            p50: ns(0.50),
            p99: ns(0.99),
            max: Duration::from_nanos(all.max()),
            requests,
            total,
            errors,
            cpu_per_request: Duration::from_secs_f64(cpu / total.max(1) as f64),
            latencies: all,
            seconds,
        }
    }
}

type Histogram = hdrhistogram::Histogram<u64>;

fn histogram() -> Histogram {
    // Nanoseconds, 1 ns to 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds")
}

/// One HTTP/1.1 keep-alive connection to `addr`.
type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> Option<Sender> {
    let stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    Some(sender)
}

/// One request on `sender`: whether it answered 200 (body read to its end).
async fn call(sender: &mut Sender, target: &Target) -> bool {
    if sender.ready().await.is_err() {
        return false;
    }
    let request = Request::get(CALL)
        .header(header::HOST, target.addr.to_string())
        .header(&target.header.0, &target.header.1)
        .body(Empty::new())
        .expect("request");
    match sender.send_request(request).await {
        Ok(response) => {
            let ok = response.status() == StatusCode::OK;
            ok && response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
    }
}

/// `concurrency` lanes, each one keep-alive connection sending the call back to back, for
/// `warmup` (not recorded) then `seconds` (recorded: every request started in the window).
async fn load(target: &Target, concurrency: usize, warmup: u64, seconds: u64) -> Load {
    let start = Instant::now();
    let from = start + Duration::from_secs(warmup);
    let until = from + Duration::from_secs(seconds);
    let mut lanes = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let target = target.clone();
        lanes.spawn(async move {
            let mut latencies = histogram();
            let mut errors = 0u64;
            let mut total = 0u64;
            let mut sender = None;
            loop {
                if Instant::now() >= until {
                    break;
                }
                // A connection the server closed after an answer (keep-alive request limit)
                // is replaced before the next request, not counted as a failure.
                if sender.as_ref().is_none_or(|s: &Sender| s.is_closed()) {
                    sender = connect(target.addr).await;
                }
                let t = Instant::now();
                let ok = match sender.as_mut() {
                    Some(s) => call(s, &target).await,
                    None => false,
                };
                total += 1;
                if t >= from {
                    let _ = latencies.record(t.elapsed().as_nanos().max(1) as u64);
                    if !ok {
                        errors += 1;
                    }
                }
                if !ok {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    sender = None;
                }
            }
            (latencies, errors, total)
        });
    }
    let mut all = histogram();
    let mut errors = 0;
    let mut total = 0;
    while let Some(done) = lanes.join_next().await {
        let (latencies, e, n) = done.expect("lane");
        all.add(&latencies).expect("same bounds");
        errors += e;
        total += n;
    }
    let ns = |q: f64| Duration::from_nanos(all.value_at_quantile(q));
    Load {
        per_second: all.len() as f64 / seconds as f64,
        p50: ns(0.50),
        p99: ns(0.99),
        max: Duration::from_nanos(all.max()),
        requests: all.len(),
        total,
        errors,
        cpu_per_request: Duration::ZERO,
        latencies: all,
        seconds,
    }
}

/// CPU time (user + system) the processes `pids` have used so far.
fn cpu(pids: &[u32]) -> Duration {
    let ticks: u64 = pids
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            let fields: Vec<u64> = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect();
            // utime and stime, fields 14 and 15 of stat (12 and 13 after the name).
            Some(fields.get(11)? + fields.get(12)?)
        })
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// `master` and its child processes (nginx's workers).
fn with_children(master: u32) -> Vec<u32> {
    let mut pids = vec![master];
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .parse::<u32>()
                        .ok()
                });
            if parent == Some(master) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// [`load`], with the CPU time per request (warm-up included) of this process and `others`.
async fn measured(
    target: &Target,
    others: &[u32],
    concurrency: usize,
    warmup: u64,
    seconds: u64,
) -> Load {
    let mut pids = vec![std::process::id()];
    pids.extend_from_slice(others);
    let before = cpu(&pids);
    let mut l = load(target, concurrency, warmup, seconds).await;
    l.cpu_per_request = (cpu(&pids).saturating_sub(before)) / l.total.max(1) as u32;
    l
}

/// Most connections (requests in flight) of an open-loop run.
const OPEN_LOOP_CONNECTIONS: usize = 64;

/// What an open-loop run saw.
struct Open {
    /// Requests answered a second over the measured window.
    per_second: f64,
    /// Latency from when each request was due (its slot in the schedule) to the end of its
    /// answer.
    p50: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
    requests: u64,
    errors: u64,
    /// How late the pacer sent (from the slot to the request leaving), median and p99: the
    /// load generator's own share of every latency above.
    lag_p50: Duration,
    lag_p99: Duration,
    /// Connections opened (each request takes an idle one, or opens one when none is idle).
    connections: usize,
    /// CPU time of every process involved per request, warm-up included.
    cpu_per_request: Duration,
    latencies: Histogram,
    lags: Histogram,
    seconds: u64,
    /// Bursts of requests slower than [`STALL`]: when (seconds into the run), how many.
    stalls: Vec<(f64, usize)>,
}

impl Open {
    /// One path's rounds as one run (see [`Load::pooled`]).
    fn pooled(runs: Vec<Open>) -> Open {
        let (mut latency, mut lag) = (histogram(), histogram());
        let (mut errors, mut seconds, mut connections) = (0, 0, 0);
        let mut cpu = Duration::ZERO;
        for o in &runs {
            latency.add(&o.latencies).expect("same bounds");
            lag.add(&o.lags).expect("same bounds");
            errors += o.errors;
            seconds += o.seconds;
            connections = connections.max(o.connections);
            cpu += o.cpu_per_request;
        }
        let q = |h: &Histogram, q: f64| Duration::from_nanos(h.value_at_quantile(q));
        Open {
            per_second: latency.len() as f64 / seconds.max(1) as f64,
            p50: q(&latency, 0.50),
            p99: q(&latency, 0.99),
            p999: q(&latency, 0.999),
            max: Duration::from_nanos(latency.max()),
            requests: latency.len(),
            errors,
            lag_p50: q(&lag, 0.50),
            lag_p99: q(&lag, 0.99),
            connections,
            // Every round sends the same number of requests.
            cpu_per_request: cpu / runs.len().max(1) as u32,
            latencies: latency,
            lags: lag,
            seconds,
            stalls: Vec::new(),
        }
    }
}

/// Requests at a fixed `rate` a second, for `warmup` then `seconds`: a pacing thread
/// (`std::thread::sleep`, microsecond-precise, where tokio's timer has millisecond ticks)
/// spawns one request per slot; each takes an idle keep-alive connection or opens one (at
/// most [`OPEN_LOOP_CONNECTIONS`]), so a slow answer never holds the next request back
/// (no coordinated omission), and is timed from its slot.
async fn open_loop(target: &Target, others: &[u32], rate: u64, warmup: u64, seconds: u64) -> Open {
    use std::sync::{Arc, Mutex};
    let mut pids = vec![std::process::id()];
    pids.extend_from_slice(others);
    let cpu_before = cpu(&pids);
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let slots = rate * (warmup + seconds);
    let measured_from = rate * warmup;
    let idle: Arc<Mutex<Vec<Sender>>> = Arc::default();
    let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    struct Seen {
        latency: Histogram,
        lag: Histogram,
        errors: u64,
        /// When (seconds into the run) the requests slower than [`STALL`] were due.
        stalls: Vec<f64>,
    }
    let seen = Arc::new(Mutex::new(Seen {
        latency: histogram(),
        lag: histogram(),
        errors: 0,
        stalls: Vec::new(),
    }));
    // At most this many requests in flight (and so connections), like a client's pool: a
    // burst of slow answers must not turn into hundreds of new connections, whose SYNs
    // overflow a listen queue and come back a second later. A request waiting for a
    // connection is still timed from its slot.
    let lanes = Arc::new(tokio::sync::Semaphore::new(OPEN_LOOP_CONNECTIONS));
    let start = Instant::now() + Duration::from_millis(20);
    let runtime = tokio::runtime::Handle::current();
    let target = target.clone();
    // The pacer spawns each request itself at its slot (no channel, no dispatcher task in
    // between), and asks the kernel for 1 ns timer slack instead of the default 50 µs.
    let pacer = tokio::task::spawn_blocking(move || {
        let _ = std::fs::write("/proc/thread-self/timerslack_ns", "1");
        let mut inflight = Vec::with_capacity(slots as usize);
        for i in 0..slots {
            let due = start + interval * i as u32;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let (target, idle, opened, seen, lanes) = (
                target.clone(),
                idle.clone(),
                opened.clone(),
                seen.clone(),
                lanes.clone(),
            );
            inflight.push(runtime.spawn(async move {
                let lag = due.elapsed();
                let _lane = lanes.acquire().await.expect("semaphore open");
                let reused = idle.lock().expect("idle").pop();
                let mut sender = match reused {
                    Some(s) if !s.is_closed() => Some(s),
                    _ => {
                        opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        connect(target.addr).await
                    }
                };
                let ok = match sender.as_mut() {
                    Some(s) => call(s, &target).await,
                    None => false,
                };
                let latency = due.elapsed();
                if ok {
                    if let Some(s) = sender {
                        idle.lock().expect("idle").push(s);
                    }
                }
                if i >= measured_from {
                    let mut seen = seen.lock().expect("seen");
                    let _ = seen.latency.record(latency.as_nanos().max(1) as u64);
                    let _ = seen.lag.record(lag.as_nanos().max(1) as u64);
                    if latency >= STALL {
                        seen.stalls.push((due - start).as_secs_f64());
                    }
                    if !ok {
                        seen.errors += 1;
                    }
                }
            }));
        }
        (inflight, seen, opened)
    });
    let (inflight, seen, opened) = pacer.await.expect("pacer");
    for request in inflight {
        let _ = request.await;
    }
    let seen = seen.lock().expect("seen");
    let q = |h: &Histogram, q: f64| Duration::from_nanos(h.value_at_quantile(q));
    Open {
        per_second: seen.latency.len() as f64 / seconds as f64,
        p50: q(&seen.latency, 0.50),
        p99: q(&seen.latency, 0.99),
        p999: q(&seen.latency, 0.999),
        max: Duration::from_nanos(seen.latency.max()),
        requests: seen.latency.len(),
        errors: seen.errors,
        lag_p50: q(&seen.lag, 0.50),
        lag_p99: q(&seen.lag, 0.99),
        connections: opened.load(std::sync::atomic::Ordering::Relaxed),
        cpu_per_request: cpu(&pids).saturating_sub(cpu_before) / slots.max(1) as u32,
        latencies: seen.latency.clone(),
        lags: seen.lag.clone(),
        seconds,
        stalls: stall_bursts(&seen.stalls),
    }
}

/// An open-loop request this slow counts as stalled.
const STALL: Duration = Duration::from_millis(5);

/// Stalled requests grouped into bursts (due within 100 ms of each other): when each burst
/// began (seconds into the run) and how many requests it held.
fn stall_bursts(due: &[f64]) -> Vec<(f64, usize)> {
    let mut due = due.to_vec();
    due.sort_by(f64::total_cmp);
    let mut bursts: Vec<(f64, f64, usize)> = Vec::new();
    for t in due {
        match bursts.last_mut() {
            Some((_, last, n)) if t - *last <= 0.1 => {
                *last = t;
                *n += 1;
            }
            _ => bursts.push((t, t, 1)),
        }
    }
    bursts.into_iter().map(|(t, _, n)| (t, n)).collect()
}

/// One round's added latencies (against the direct call of the same round), in seconds.
struct Round {
    gateway: (f64, f64),
    nginx: Option<(f64, f64)>,
    gateway_per_second: f64,
}

impl Round {
    fn of(
        direct: (Duration, Duration),
        gateway: (Duration, Duration),
        nginx: Option<(Duration, Duration)>,
        gateway_per_second: f64,
    ) -> Round {
        let added = |(p50, p99): (Duration, Duration)| {
            (
                p50.as_secs_f64() - direct.0.as_secs_f64(),
                p99.as_secs_f64() - direct.1.as_secs_f64(),
            )
        };
        Round {
            gateway: added(gateway),
            nginx: nginx.map(added),
            gateway_per_second,
        }
    }

    /// `gateway / nginx (ratio×)` at p50.
    fn describe_p50(&self) -> String {
        match self.nginx {
            Some((n50, _)) => format!(
                "{} / {} ({})",
                signed_ms(self.gateway.0),
                signed_ms(n50),
                ratio(self.gateway.0, n50)
            ),
            None => signed_ms(self.gateway.0),
        }
    }
}

/// `gateway / nginx` as `1.23×`, or `—` when nginx added nothing measurable.
fn ratio(gateway: f64, nginx: f64) -> String {
    if nginx > 0.0 {
        format!("{:.2}×", gateway / nginx)
    } else {
        "—".into()
    }
}

/// The rounds as a table, for the spread behind the pooled figures.
fn rounds_table(r: &mut String, rounds: &[Round]) {
    let _ = writeln!(
        r,
        "\n| round | gateway req/s | gateway added p50 / p99 | nginx added p50 / p99 | ratio p50 | ratio p99 |"
    );
    let _ = writeln!(r, "|---:|---:|---:|---:|---:|---:|");
    for (i, round) in rounds.iter().enumerate() {
        let (g50, g99) = round.gateway;
        let (nginx, r50, r99) = match round.nginx {
            Some((n50, n99)) => (
                format!("{} / {}", signed_ms(n50), signed_ms(n99)),
                ratio(g50, n50),
                ratio(g99, n99),
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        let _ = writeln!(
            r,
            "| {} | {:.0} | {} / {} | {nginx} | {r50} | {r99} |",
            i + 1,
            round.gateway_per_second,
            signed_ms(g50),
            signed_ms(g99),
        );
    }
}

/// `n` requests one after another on one connection (for profilers): the time they took.
async fn sequential(target: &Target, n: u64) -> (Duration, u64) {
    let mut sender = connect(target.addr).await.expect("connects");
    let t = Instant::now();
    let mut errors = 0;
    for _ in 0..n {
        if !call(&mut sender, target).await {
            errors += 1;
            sender = connect(target.addr).await.expect("connects");
        }
    }
    (t.elapsed(), errors)
}

// ---------------------------------------------------------------------------------------
// nginx.
// ---------------------------------------------------------------------------------------

/// nginx in the foreground as a child process, stopped (TERM, then KILL) when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    fn start(
        dir: &Path,
        upstream: SocketAddr,
        token: &str,
        workers: &str,
    ) -> Result<(Nginx, SocketAddr), String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?;
        let d = dir.display();
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| e.to_string())?;
        let conf = format!(
            r#"daemon off;
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    upstream worker {{
        server {upstream};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen {port};
        keepalive_requests 1000000;
        location / {{
            proxy_pass http://worker;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer {token}";
        }}
    }}
}}
"#
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).map_err(|e| e.to_string())?;
        let child = Command::new(NGINX)
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{NGINX} did not start: {e}"))?;
        let nginx = Nginx {
            child,
            dir: dir.to_path_buf(),
        };
        Ok((nginx, port))
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // TERM makes the master stop its workers too (KILL would orphan them).
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

fn nginx_version() -> Option<String> {
    let out = Command::new(NGINX).arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    Some(
        text.strip_prefix("nginx version: ")
            .unwrap_or(&text)
            .to_owned(),
    )
}

// ---------------------------------------------------------------------------------------
// Micro-benchmarks: a timed loop, median of five runs.
// ---------------------------------------------------------------------------------------

/// Nanoseconds per iteration of `f`, the median of five runs of `iterations` each.
fn per_op(iterations: u32, mut f: impl FnMut(u32)) -> f64 {
    for i in 0..iterations / 10 {
        f(i);
    }
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for i in 0..iterations {
                f(i);
            }
            t.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[2]
}

/// [`per_op`] for an async body (one that completes without waiting, as a cached key check).
async fn per_op_async<F, Fut>(iterations: u32, f: F) -> f64
where
    F: Fn(u32) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..iterations / 10 {
        f(i).await;
    }
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for i in 0..iterations {
            f(i).await;
        }
        runs.push(t.elapsed().as_nanos() as f64 / iterations as f64);
    }
    runs.sort_by(f64::total_cmp);
    runs[2]
}

// ---------------------------------------------------------------------------------------
// Setup.
// ---------------------------------------------------------------------------------------

/// A customer on `server` (if any) with `plan` and a test key: (customer, key id, key).
async fn customer(state: &AppState, server: Option<Uuid>, plan: Plan) -> (Uuid, Uuid, String) {
    let id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let mut tx = state.db.begin().await.expect("begin");
    on_tx!(&mut tx, |conn| sqlx::query(
        "INSERT INTO customers (id, email, plan, status, assigned_server_id, created_at, updated_at) \
         VALUES ($1, $2, $3, 'active', $4, $5, $5)"
    )
    .bind(id)
    .bind(format!("{id}@bench.example"))
    .bind(plan.as_str())
    .bind(server)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
    .expect("customer");
    let created = keys::create(
        state,
        &mut tx,
        id,
        NewKey {
            mode: KeyMode::Test,
            name: Some("bench".into()),
            scopes: vec!["*".into()],
            expires_at: None,
        },
    )
    .await
    .expect("key");
    tx.commit().await.expect("commit");
    (id, created.key.id, created.api_key)
}

async fn set_api_url(db: &Db, server: Uuid, url: &str) {
    let mut tx = db.begin().await.expect("begin");
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE servers SET api_url = $1, max_capacity = 1000 WHERE id = $2"
    )
    .bind(url)
    .bind(server)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
    .expect("api_url");
    tx.commit().await.expect("commit");
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .parse()
        .expect("http://ip:port")
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

fn commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn signed_ms(d: f64) -> String {
    format!("{:+.3} ms", d * 1e3)
}

fn ns(v: f64) -> String {
    if v >= 1_000.0 {
        format!("{:.2} µs", v / 1_000.0)
    } else {
        format!("{v:.0} ns")
    }
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = testkit::sqlite(dir.path()).await.expect("database");

    // Management first: its signer is the one the worker trusts.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let management_addr = listener.local_addr().expect("addr");
    let state = AppState::new(
        db.clone(),
        Config::local(management_addr),
        b"bench-secret-bench-secret-bench-secret!",
        None,
    );
    {
        let state = state.clone();
        tokio::spawn(async move {
            wasp_management::app::serve(state, listener, std::future::pending())
                .await
                .expect("management serves");
        });
    }

    // The worker, registered as the customer's server.
    let server = Uuid::new_v4();
    testkit::seed_server(&db, server, "bench")
        .await
        .expect("server");
    let served = testkit::serve(
        testkit::sandbox_config(dir.path()),
        &db,
        server,
        &state.tokens,
    )
    .await
    .expect("worker");
    set_api_url(&db, server, &served.url).await;
    let worker_addr = addr_of(&served.url);
    let (customer_id, key_id, api_key) = customer(&state, Some(server), Plan::Enterprise).await;

    // Log the sandbox session in through the gateway, so the call measured is real.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let gateway_url = format!("http://{management_addr}");
    let login = http
        .get(format!("{gateway_url}/api/v1/app/login"))
        .header("x-api-key", &api_key)
        .send()
        .await
        .expect("login");
    assert_eq!(
        login.status(),
        reqwest::StatusCode::OK,
        "login: {}",
        login.text().await.unwrap_or_default()
    );
    let scan = http
        .post(format!("{gateway_url}/api/v1/sandbox/scan"))
        .header("x-api-key", &api_key)
        .json(&json!({ "phone": "+15550000001" }))
        .send()
        .await
        .expect("scan");
    assert_eq!(
        scan.status(),
        reqwest::StatusCode::OK,
        "scan: {}",
        scan.text().await.unwrap_or_default()
    );

    // A service token like the gateway's, but valid for the whole run.
    let token = state.tokens.sign(&Claims {
        srv: server,
        cus: Some(customer_id),
        mode: Some(Mode::Test),
        kid: Some(key_id),
        exp: chrono::Utc::now().timestamp() + 3_600,
    });
    let direct = Target {
        addr: worker_addr,
        header: (header::AUTHORIZATION, format!("Bearer {token}")),
    };
    let gateway = Target {
        addr: management_addr,
        header: (
            header::HeaderName::from_static("x-api-key"),
            api_key.clone(),
        ),
    };

    // nginx, when installed.
    let nginx_dir = dir.path().join("nginx");
    let mut nginx: Option<(Nginx, Target)> = None;
    let mut nginx_note = String::new();
    if !args.nginx {
        nginx_note = "skipped (`--no-nginx`)".into();
    } else if !Path::new(NGINX).exists() {
        nginx_note = format!("skipped: {NGINX} is not installed (`bench/gateway/run` installs it)");
    } else {
        match Nginx::start(&nginx_dir, worker_addr, &token, &args.nginx_workers) {
            Ok((n, addr)) => {
                let target = Target {
                    addr,
                    header: (header::HeaderName::from_static("x-bench"), "1".into()),
                };
                let deadline = Instant::now() + Duration::from_secs(5);
                while TcpStream::connect(addr).await.is_err() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                nginx = Some((n, target));
            }
            Err(e) => nginx_note = format!("skipped: {e}"),
        }
    }

    // Every path answers the same call, 200, before it is measured.
    let mut bodies = Vec::new();
    let mut paths: Vec<(&str, &Target)> = vec![("direct", &direct), ("gateway", &gateway)];
    if let Some((_, t)) = &nginx {
        paths.push(("nginx", t));
    }
    for (name, target) in &paths {
        let (k, v) = &target.header;
        let response = http
            .get(format!("http://{}{CALL}", target.addr))
            .header(k.as_str(), v)
            .send()
            .await
            .expect("probe");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status != reqwest::StatusCode::OK {
            if let Some((n, _)) = &nginx {
                eprintln!("nginx error log:\n{}", n.error_log());
            }
            panic!("{name}: {status} {body}");
        }
        println!("{name}: {status} {body}");
        bodies.push(body);
    }
    let sample = bodies.first().cloned().unwrap_or_default();

    if args.profile_open {
        for name in args.profile_path.split(',') {
            let Some((_, target)) = paths.iter().find(|(n, _)| *n == name) else {
                eprintln!("no path {name}");
                continue;
            };
            let pids = match (&nginx, name) {
                (Some((n, _)), "nginx") => with_children(n.child.id()),
                _ => vec![],
            };
            let o = open_loop(target, &pids, args.open_rate, args.warmup, args.seconds).await;
            println!(
                "open {name}: {:.0}/s p50 {} p99 {} p99.9 {} max {} errors {} (pacer lag p50 {} p99 {}); bursts of requests over 5 ms (s into the run: count): {}",
                o.per_second,
                ms(o.p50),
                ms(o.p99),
                ms(o.p999),
                ms(o.max),
                o.errors,
                ms(o.lag_p50),
                ms(o.lag_p99),
                o.stalls
                    .iter()
                    .map(|(t, n)| format!("{t:.2}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        drop(nginx);
        std::process::exit(0);
    }

    if args.profile_requests > 0 {
        for name in args.profile_path.split(',') {
            let Some((_, target)) = paths.iter().find(|(n, _)| *n == name) else {
                eprintln!("no path {name}");
                continue;
            };
            if args.profile_requests == 1 {
                // One closed-loop run of `--seconds` on this path alone (for a sampling
                // profiler attached to this process).
                let l = measured(target, &[], args.concurrency, 0, args.seconds).await;
                println!(
                    "profile {name}: {:.0}/s p50 {} CPU {:.1} µs/request, {} errors",
                    l.per_second,
                    ms(l.p50),
                    l.cpu_per_request.as_secs_f64() * 1e6,
                    l.errors
                );
                continue;
            }
            let (took, errors) = sequential(target, args.profile_requests).await;
            println!(
                "profile {name}: {} requests in {:.3} s ({:.1} µs each), {errors} errors",
                args.profile_requests,
                took.as_secs_f64(),
                took.as_secs_f64() * 1e6 / args.profile_requests as f64
            );
        }
        drop(nginx);
        std::process::exit(0);
    }

    // 1. Under load, in interleaved rounds.
    println!(
        "load: {} rounds of {} s (after {} s warm-up) at {} connections, per path",
        args.rounds, args.seconds, args.warmup, args.concurrency
    );
    let nginx_pids = nginx.as_ref().map(|(n, _)| with_children(n.child.id()));
    let (mut a_runs, mut b_runs, mut c_runs) = (Vec::new(), Vec::new(), Vec::new());
    // Each round's added p50 and p99 of the gateway and of nginx, and the gateway's rate.
    let mut closed_rounds: Vec<Round> = Vec::new();
    for round in 1..=args.rounds {
        let a = measured(&direct, &[], args.concurrency, args.warmup, args.seconds).await;
        let b = measured(&gateway, &[], args.concurrency, args.warmup, args.seconds).await;
        let c = match (&nginx, &nginx_pids) {
            (Some((_, target)), Some(pids)) => {
                Some(measured(target, pids, args.concurrency, args.warmup, args.seconds).await)
            }
            _ => None,
        };
        let r = Round::of(
            (a.p50, a.p99),
            (b.p50, b.p99),
            c.as_ref().map(|c| (c.p50, c.p99)),
            b.per_second,
        );
        println!(
            "round {round}: direct {:.0}/s p50 {}; gateway {:.0}/s p50 {}; nginx {}; added p50 {}",
            a.per_second,
            ms(a.p50),
            b.per_second,
            ms(b.p50),
            c.as_ref()
                .map(|c| format!("{:.0}/s p50 {}", c.per_second, ms(c.p50)))
                .unwrap_or_else(|| nginx_note.clone()),
            r.describe_p50()
        );
        closed_rounds.push(r);
        a_runs.push(a);
        b_runs.push(b);
        c_runs.extend(c);
    }
    let a = Load::pooled(a_runs);
    let b = Load::pooled(b_runs);
    let c = (!c_runs.is_empty()).then(|| Load::pooled(c_runs));

    // 2. Open loop, at a fixed rate below every path's capacity, in interleaved rounds.
    let mut open: Vec<(&str, Open)> = Vec::new();
    let mut open_rounds: Vec<Round> = Vec::new();
    if args.open_rate > 0 {
        println!(
            "open loop: {} req/s, {} rounds of {} s (after {} s warm-up) per path",
            args.open_rate, args.rounds, args.seconds, args.warmup
        );
        let mut paths: Vec<(&str, &Target, Vec<u32>)> = vec![
            ("(a) direct (baseline)", &direct, vec![]),
            ("(b) gateway", &gateway, vec![]),
        ];
        if let (Some((_, target)), Some(pids)) = (&nginx, &nginx_pids) {
            paths.push(("(c) nginx", target, pids.clone()));
        }
        let mut runs: Vec<Vec<Open>> = paths.iter().map(|_| Vec::new()).collect();
        for round in 1..=args.rounds {
            for (i, (_, target, pids)) in paths.iter().enumerate() {
                let o = open_loop(target, pids, args.open_rate, args.warmup, args.seconds).await;
                runs[i].push(o);
            }
            let last = |i: usize| runs.get(i).and_then(|r| r.last());
            let at = |i: usize| last(i).map(|o: &Open| (o.p50, o.p99));
            let r = Round::of(
                at(0).unwrap_or_default(),
                at(1).unwrap_or_default(),
                at(2),
                last(1).map(|o| o.per_second).unwrap_or(0.0),
            );
            println!(
                "open round {round}: p50/p99 direct {}, gateway {}, nginx {}; added p50 {}",
                at(0)
                    .map(|(p50, p99)| format!("{}/{}", ms(p50), ms(p99)))
                    .unwrap_or_default(),
                at(1)
                    .map(|(p50, p99)| format!("{}/{}", ms(p50), ms(p99)))
                    .unwrap_or_default(),
                at(2)
                    .map(|(p50, p99)| format!("{}/{}", ms(p50), ms(p99)))
                    .unwrap_or_default(),
                r.describe_p50()
            );
            open_rounds.push(r);
        }
        for ((name, _, _), runs) in paths.into_iter().zip(runs) {
            open.push((name, Open::pooled(runs)));
        }
    }

    let nginx_log = nginx
        .as_ref()
        .map(|(n, _)| n.error_log())
        .unwrap_or_default();
    if let Some((mut n, _)) = nginx.take() {
        n.stop();
    }

    // 3. The hot path alone.
    let n = args.iterations;
    // A basic customer, so its key carries a plan with limits; the first check fills the cache.
    let (_, _, basic_key) = customer(&state, None, Plan::Basic).await;
    keys::check_key(&state, &basic_key)
        .await
        .expect("the key checks");
    let check_key = per_op_async(n, |_| async {
        black_box(keys::check_key(&state, black_box(&basic_key)).await.is_ok());
    })
    .await;
    let pepper = state.secrets.key_pepper.clone();
    let hmac = per_op(n, |_| {
        black_box(keyed_digest(
            black_box(&pepper),
            black_box(basic_key.as_bytes()),
        ));
    });
    let parse = per_op(n, |_| {
        black_box(SecretKey::parse(black_box(&basic_key)).is_ok());
    });
    let digests: HashMap<String, u64> = (0..10_000u64)
        .map(|i| (keyed_digest(&pepper, &i.to_le_bytes()), i))
        .collect();
    let probe = keyed_digest(&pepper, &4_242u64.to_le_bytes());
    let lookup = per_op(n, |_| {
        black_box(digests.get(black_box(probe.as_str())));
    });
    let customers: Vec<Uuid> = (0..10_000).map(|_| Uuid::new_v4()).collect();
    let rules = limits::request_rules(Plan::Basic);
    let limiter = LocalLimiter::default();
    let limit = per_op(n, |i| {
        black_box(limiter.check(customers[i as usize % customers.len()], black_box(&rules)));
    });
    let by_customer: HashMap<Uuid, u64> = customers.iter().map(|c| (*c, 1)).collect();
    let uuid_lookup = per_op(n, |i| {
        black_box(by_customer.get(black_box(&customers[i as usize % customers.len()])));
    });
    let mint = per_op(n / 10, |_| {
        black_box(state.tokens.for_request(
            server,
            Some(customer_id),
            Some(Mode::Test),
            Some(key_id),
        ));
    });
    println!(
        "check_key {} (HMAC {}, parse {}, lookup {}); limiter {} (lookup {}); token {}",
        ns(check_key),
        ns(hmac),
        ns(parse),
        ns(lookup),
        ns(limit),
        ns(uuid_lookup),
        ns(mint)
    );

    // The report.
    let added = |x: &Load| {
        (
            x.p50.as_secs_f64() - a.p50.as_secs_f64(),
            x.p99.as_secs_f64() - a.p99.as_secs_f64(),
        )
    };
    let (g50, g99) = added(&b);
    let mut r = String::new();
    let _ = writeln!(r, "# Gateway benchmark: what the gateway hop costs\n");
    let _ = writeln!(
        r,
        "Measured {} on this machine ({}), commit `{}`, by `bench/gateway/run` \
         (`cargo run --release -p wasp-bench-gateway`). nginx: {}.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(),
        commit(),
        nginx_version().unwrap_or_else(|| "not installed".into()),
    );
    let _ = writeln!(
        r,
        "One process holds a worker (sandbox driver) and a management app on the same SQLite \
         database, each on its own 127.0.0.1 port, and the load generator; nginx, when measured, \
         is a separate process. **Everything shares the same {} cores**: the load generator's \
         own cost is in every figure, and a hop's CPU is taken from the servers behind it.\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let _ = writeln!(r, "## Closed loop: a customer call at saturation\n");
    let _ =
        writeln!(
        r,
        "The call: `GET {CALL}` of an enterprise customer (no plan limit) whose sandbox session \
         was logged in through the gateway (`GET /api/v1/app/login`, `POST /api/v1/sandbox/scan`); \
         it answers `{}`. Load: {} keep-alive HTTP/1.1 connections sending back to back \
         (hyper, one connection per lane), {} s warm-up then {} s measured, per path, in {} \
         interleaved rounds (direct, gateway, nginx, then again); each path's figures pool its \
         rounds (one latency histogram over all of them), and the rounds table below shows \
         each round's own ratio.\n",
        sample.chars().take(60).collect::<String>().replace('|', "\\|") + "…",
        args.concurrency,
        args.warmup,
        args.seconds,
        args.rounds
    );
    let _ = writeln!(
        r,
        "- (a) **direct**: to the worker, `Authorization: Bearer` a service token signed by \
         management's key (valid for the run); the baseline.\n\
         - (b) **gateway**: to management with `X-API-Key`: key check (cached), scope, plan limits, \
         route (cached), a service token (minted once per 30 s per customer key, reused meanwhile; the worker remembers tokens it verified), proxy over pooled keep-alive connections (hyper's HTTP/1 connections, management's own pool), \
         usage and audit (batched).\n\
         - (c) **nginx**: `proxy_pass` to the worker, upstream `keepalive 64`, HTTP/1.1, the \
         same service token set by `proxy_set_header`, `access_log off`, \
         `worker_processes {}`.\n",
        args.nginx_workers
    );
    let _ = writeln!(
        r,
        "| path | req/s | p50 | p99 | max | requests | errors | × direct req/s | added p50 | added p99 | CPU per request |"
    );
    let _ = writeln!(r, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows: Vec<(&str, &Load)> = vec![("(a) direct (baseline)", &a), ("(b) gateway", &b)];
    if let Some(c) = &c {
        rows.push(("(c) nginx", c));
    }
    for (name, l) in rows {
        let (d50, d99) = added(l);
        let _ = writeln!(
            r,
            "| {name} | {:.0} | {} | {} | {} | {} | {} | {:.2}× | {} | {} | {:.1} µs |",
            l.per_second,
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            l.requests,
            l.errors,
            l.per_second / a.per_second.max(1.0),
            signed_ms(d50),
            signed_ms(d99),
            l.cpu_per_request.as_secs_f64() * 1e6
        );
    }
    let _ = writeln!(
        r,
        "\nCPU per request: user + system time of this process (worker, management, load \
         generator) and, for (c), of nginx's processes, over the run (warm-up included), per request sent."
    );
    let ratio = c.as_ref().map(|c| {
        let (n50, n99) = added(c);
        (g50 / n50, g99 / n99, n50, n99)
    });
    rounds_table(&mut r, &closed_rounds);
    match ratio {
        Some((r50, r99, _, _)) => {
            let _ = writeln!(
                r,
                "\nGateway added / nginx added, pooled over the rounds: **{r50:.2}×** at p50, **{r99:.2}×** at p99."
            );
        }
        None => {
            let _ = writeln!(r, "\n(c) nginx: {nginx_note}.");
        }
    }
    if !nginx_log.trim().is_empty() {
        let _ = writeln!(
            r,
            "\nnginx error log during the run:\n\n```\n{}\n```",
            nginx_log.trim()
        );
    }

    // The open-loop table: added latency against the direct call at the same rate.
    let open_added = |name: &str| -> Option<(f64, f64)> {
        let base = &open.first()?.1;
        let o = &open.iter().find(|(n, _)| n.contains(name))?.1;
        Some((
            o.p50.as_secs_f64() - base.p50.as_secs_f64(),
            o.p99.as_secs_f64() - base.p99.as_secs_f64(),
        ))
    };
    if !open.is_empty() {
        let _ = writeln!(
            r,
            "\n## Open loop: {} req/s, what a customer sees below saturation\n",
            args.open_rate
        );
        let _ = writeln!(
            r,
            "The same call at a fixed rate of {} requests a second per path ({} s warm-up, {} s \
             measured, {} interleaved rounds pooled as above), below every path's capacity above. A pacing thread releases one request \
             per slot; it takes an idle keep-alive connection or opens one, so a slow answer never \
             delays the next send; each latency runs from the request's slot (when it was due), \
             not from when it left, so any queueing in the generator or the servers is counted \
             (no coordinated omission). At most {} requests are in flight (so at most {} \
             connections, like a client's pool); one beyond waits for a free connection, its \
             wait counted. \"Pacer lag\" is how late requests left their slot: the \
             generator's own share, the same for every path.\n",
            args.open_rate,
            args.warmup,
            args.seconds,
            args.rounds,
            OPEN_LOOP_CONNECTIONS,
            OPEN_LOOP_CONNECTIONS
        );
        let _ = writeln!(
            r,
            "| path | answered/s | p50 | p99 | p99.9 | max | requests | errors | added p50 | added p99 | pacer lag p50 / p99 | connections | CPU per request |"
        );
        let _ = writeln!(
            r,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let base = &open[0].1;
        for (name, o) in &open {
            let _ = writeln!(
                r,
                "| {name} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {:.1} µs |",
                o.per_second,
                ms(o.p50),
                ms(o.p99),
                ms(o.p999),
                ms(o.max),
                o.requests,
                o.errors,
                signed_ms(o.p50.as_secs_f64() - base.p50.as_secs_f64()),
                signed_ms(o.p99.as_secs_f64() - base.p99.as_secs_f64()),
                ms(o.lag_p50),
                ms(o.lag_p99),
                o.connections,
                o.cpu_per_request.as_secs_f64() * 1e6
            );
        }
        rounds_table(&mut r, &open_rounds);
        if let (Some((g50, g99)), Some((n50, n99))) = (open_added("gateway"), open_added("nginx")) {
            let _ = writeln!(
                r,
                "\nGateway added / nginx added at {} req/s, pooled over the rounds: **{:.2}×** at p50, **{:.2}×** at p99.",
                args.open_rate,
                g50 / n50,
                g99 / n99
            );
        }
    }

    let _ = writeln!(r, "\n## The gateway's hot path alone\n");
    let _ = writeln!(
        r,
        "A timed loop of {n} iterations (the service token: {}), the median of 5 runs, in this \
         process after the load; `benches/hot_path.rs` measures the first two with criterion \
         (`cargo bench -p wasp-bench-gateway`).\n",
        n / 10
    );
    let _ = writeln!(r, "| operation | per call | × its baseline |");
    let _ = writeln!(r, "|---|---:|---:|");
    let _ = writeln!(
        r,
        "| `keys::check_key`, cached key (prefix, HMAC digest, cache lookup, expiry; format and checksum only on a miss) | {} | {:.1}× HMAC |",
        ns(check_key),
        check_key / hmac
    );
    let _ = writeln!(
        r,
        "| baseline: one HMAC-SHA-256 of the key (`keyed_digest`) | {} | 1.0× |",
        ns(hmac)
    );
    let _ = writeln!(
        r,
        "| for comparison: `SecretKey::parse` (format, base58, SHA-256 checksum), paid on a cache miss only | {} | {:.1}× HMAC |",
        ns(parse),
        parse / hmac
    );
    let _ = writeln!(
        r,
        "| baseline: one `HashMap<String, _>` lookup by digest (10,000 entries) | {} | |",
        ns(lookup)
    );
    let _ = writeln!(
        r,
        "| `LocalLimiter::check`, basic plan's 3 rules, 10,000 customers in turn | {} | {:.1}× lookup |",
        ns(limit),
        limit / uuid_lookup
    );
    let _ = writeln!(
        r,
        "| baseline: one `HashMap<Uuid, _>` lookup (10,000 entries) | {} | 1.0× |",
        ns(uuid_lookup)
    );
    let _ = writeln!(
        r,
        "| for scale: minting one service token (Ed25519 signature), once per 30 s per customer key | {} | |",
        ns(mint)
    );

    let _ = writeln!(r, "\n## Verdict against the goals\n");
    // Within 1.5× of nginx's added latency. When nginx added nothing measurable (its added
    // latency at or below zero: the baseline's own noise was larger), a ratio means nothing:
    // the gateway meets it only by adding nothing either.
    let within = |gateway: f64, nginx: f64| {
        if nginx > 0.0 {
            gateway / nginx <= 1.5
        } else {
            gateway <= 0.0
        }
    };
    match ratio {
        Some((r50, r99, n50, n99)) => {
            let met = within(g50, n50) && within(g99, n99);
            let _ = writeln!(
                r,
                "- Gateway added latency ≤ 1.5× nginx's, closed loop (saturation, {} connections): **{}** — at p50 the gateway adds {} against nginx's {} ({r50:.2}×); at p99 {} against {} ({r99:.2}×).",
                args.concurrency,
                if met { "met" } else { "missed" },
                signed_ms(g50),
                signed_ms(n50),
                signed_ms(g99),
                signed_ms(n99),
            );
        }
        None => {
            let _ = writeln!(
                r,
                "- Gateway added latency ≤ 1.5× nginx's: **not measured** (nginx {nginx_note}); the gateway adds {} at p50, {} at p99.",
                signed_ms(g50),
                signed_ms(g99)
            );
        }
    }
    if let (Some((g50, g99)), Some((n50, n99))) = (open_added("gateway"), open_added("nginx")) {
        let (r50, r99) = (g50 / n50, g99 / n99);
        let (ok50, ok99) = (within(g50, n50), within(g99, n99));
        let _ = writeln!(
            r,
            "- Gateway added latency ≤ 1.5× nginx's, open loop at {} req/s: **{}** — at p50 the gateway adds {} against nginx's {} ({r50:.2}×); at p99 {} against {} ({r99:.2}×{}).",
            args.open_rate,
            match (ok50, ok99) {
                (true, true) => "met",
                (true, false) => "met at p50, missed at p99",
                (false, true) => "missed at p50, met at p99",
                (false, false) => "missed",
            },
            signed_ms(g50),
            signed_ms(n50),
            signed_ms(g99),
            signed_ms(n99),
            if n99 <= 0.0 {
                "; nginx added nothing measurable at p99 in this run, so no ratio holds"
            } else {
                ""
            },
        );
    }
    let _ = writeln!(
        r,
        "- ≥ 10,000 req/s on 2 cores through the gateway: **{}** — {:.0} req/s ({:.0}% of the goal), with the worker and the load generator on the same cores.",
        if b.per_second >= 10_000.0 { "met" } else { "missed" },
        b.per_second,
        b.per_second / 100.0
    );
    let _ = writeln!(
        r,
        "- A key check ≤ 5 µs: **{}** — {} per cached check.",
        if check_key <= 5_000.0 {
            "met"
        } else {
            "missed"
        },
        ns(check_key)
    );
    let hop = b.cpu_per_request.as_secs_f64() - a.cpu_per_request.as_secs_f64();
    // The token is minted once per 30 s per key, not per call: not part of a call's cost.
    let measured_parts = (check_key + limit) / 1e3;
    let _ = writeln!(
        r,
        "- What the hop costs in CPU: {:.1} µs per call through the gateway above the direct call{}. \
         Of that, the parts measured alone take {:.1} µs (key check {}, limiter {}); \
         the rest, {:.1} µs, is the proxying itself (a second HTTP server and client hop through hyper, the request \
         context, the per-call audit row in the database and usage count, the request id). With the \
         cores shared by everything, that CPU is what caps the gateway's rate.",
        hop * 1e6,
        c.as_ref()
            .map(|c| format!(
                ", against {:.1} µs through nginx",
                (c.cpu_per_request.as_secs_f64() - a.cpu_per_request.as_secs_f64()) * 1e6
            ))
            .unwrap_or_default(),
        measured_parts,
        ns(check_key),
        ns(limit),
        hop * 1e6 - measured_parts
    );
    let _ = writeln!(
        r,
        "- Errors: {} direct, {} gateway{}.",
        a.errors,
        b.errors,
        c.as_ref()
            .map(|c| format!(", {} nginx", c.errors))
            .unwrap_or_default()
    );
    std::fs::write(&args.out, r).expect("write report");
    println!("report written to {}", args.out);
    std::process::exit(0);
}
