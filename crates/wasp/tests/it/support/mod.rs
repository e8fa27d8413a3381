//! Running the real `wasp` binary from tests: a child process whose stdout is drained by a
//! thread (no read can block a test), stopped with SIGTERM, killed when dropped; and an
//! HTTP client with timeouts.

pub mod platform;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

pub const WASP: &str = env!("CARGO_BIN_EXE_wasp");

pub fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// A running `wasp` process, stopped with SIGTERM when dropped. A thread drains its
/// stdout into a channel so no read ever blocks the test and nothing printed is lost.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub stdout: Vec<String>,
}

impl Running {
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(WASP);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // WASP_TEST_LOG_DIR: each process's log (stderr) goes to <dir>/wasp-<n>.log, its
        // stdout to <dir>/wasp-<n>.out, for reading what a failing test's wasp did (set
        // WASP_LOG too for more).
        let log_dir = std::env::var_os("WASP_TEST_LOG_DIR").map(std::path::PathBuf::from);
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log_name = format!("wasp-{}-{n}", std::process::id());
        if let Some(file) = log_dir
            .as_ref()
            .and_then(|dir| std::fs::File::create(dir.join(format!("{log_name}.log"))).ok())
        {
            cmd.stderr(file);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("wasp starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        let mut copy =
            log_dir.and_then(|dir| std::fs::File::create(dir.join(format!("{log_name}.out"))).ok());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(file) = copy.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(file, "{line}");
                }
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            stdout: Vec::new(),
        }
    }

    /// The next stdout line containing `needle`, waiting at most 20 s; `None` when the
    /// process closed stdout (or the time ran out) without printing it.
    pub fn read_until(&mut self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            self.stdout.push(line.clone());
            if line.contains(needle) {
                return Some(line);
            }
        }
    }

    pub fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "wasp did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap()
}

pub async fn wait_healthy(addr: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(resp) = http().get(format!("http://{addr}/health")).send().await {
            if resp.status().is_success() {
                return resp.json().await.unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "wasp never became healthy on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub use wasp_worker::testkit::PgDb;
