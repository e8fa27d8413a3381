//! The calls the admin panel's pages make, timed through HTTP against the real server.

use std::time::{Duration, Instant};

/// One call of a page.
pub struct Call {
    pub page: &'static str,
    pub label: String,
    pub path: String,
}

/// Its figures.
#[derive(Clone)]
pub struct Stat {
    pub page: &'static str,
    pub label: String,
    pub path: String,
    pub reps: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub max: Duration,
    pub bytes: usize,
    /// Non-200 answers (with the first one's status and start of body).
    pub errors: usize,
    pub error: Option<String>,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Two warm-up calls, then `reps` timed ones (5 when a warm-up call took over 2 s), one at a
/// time: request sent to body read.
pub async fn measure(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    call: &Call,
    reps: usize,
) -> Stat {
    let mut errors = 0;
    let mut error = None;
    let mut bytes = 0;
    let once = async || {
        let started = Instant::now();
        let resp = http
            .get(format!("{base}{}", call.path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        let status = resp.status();
        let body = resp.bytes().await.expect("body");
        let took = started.elapsed();
        (took, status, body)
    };
    let mut slow = false;
    for _ in 0..2 {
        let (took, _, _) = once().await;
        slow |= took > Duration::from_secs(2);
    }
    let reps = if slow { reps.min(5) } else { reps };
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let (took, status, body) = once().await;
        if status != reqwest::StatusCode::OK {
            errors += 1;
            error.get_or_insert_with(|| {
                format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                )
            });
        }
        bytes = body.len();
        times.push(took);
    }
    times.sort();
    Stat {
        page: call.page,
        label: call.label.clone(),
        path: call.path.clone(),
        reps,
        p50: pct(&times, 0.50),
        p95: pct(&times, 0.95),
        max: times.last().copied().unwrap_or_default(),
        bytes,
        errors,
        error,
    }
}
