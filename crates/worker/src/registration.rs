//! Registration with management and the heartbeat loop.

use crate::{stats::SystemSampler, StartError, WorkerState};
use reqwest::StatusCode;
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};
use wasp_protocol::registry::{Heartbeat, RegisterRequest, Registration};

/// Where this worker stands with management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Starting,
    /// Management could not be reached yet; retrying.
    Unreachable,
    Registered {
        server_id: uuid::Uuid,
        name: String,
    },
    /// The key stopped working (server deleted or key rotated).
    Refused,
}

pub struct Registrar {
    worker: WorkerState,
    last_count: AtomicU64,
    last_count_at: std::time::Instant,
}

#[derive(serde::Deserialize)]
struct Envelope<T> {
    data: T,
}

impl Registrar {
    pub fn new(worker: WorkerState) -> Self {
        Registrar {
            worker,
            last_count: AtomicU64::new(0),
            last_count_at: std::time::Instant::now(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.worker.config.management_url.trim_end_matches('/')
        )
    }

    /// Registers, retrying with backoff while management is unreachable. A refused key is
    /// a configuration error and ends start-up.
    pub async fn register_until_accepted(&self) -> Result<Registration, StartError> {
        let mut delay = Duration::from_millis(250);
        loop {
            let body = RegisterRequest {
                api_url: self.worker.config.advertise_url.clone(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            };
            let sent = self
                .worker
                .http
                .post(self.url("/internal/v1/register"))
                .bearer_auth(&self.worker.config.server_key)
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(resp) if resp.status().is_success() => {
                    match resp.json::<Envelope<Registration>>().await {
                        Ok(envelope) => {
                            let r = envelope.data;
                            self.worker.registered(&r)?;
                            tracing::info!(server_id = %r.server_id, name = %r.name, "registered with management");
                            self.worker.registration.send_replace(Status::Registered {
                                server_id: r.server_id,
                                name: r.name.clone(),
                            });
                            return Ok(r);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "unreadable registration answer; retrying")
                        }
                    }
                }
                Ok(resp) if resp.status() == StatusCode::UNAUTHORIZED => {
                    self.worker.registration.send_replace(Status::Refused);
                    return Err(StartError::KeyRefused(format!(
                        "HTTP {}",
                        resp.status().as_u16()
                    )));
                }
                Ok(resp) => tracing::warn!(
                    status = resp.status().as_u16(),
                    "registration failed; retrying"
                ),
                Err(e) => {
                    self.worker.registration.send_replace(Status::Unreachable);
                    tracing::warn!(error = %e, url = %self.url(""), "management unreachable; retrying");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    }

    /// Sends a heartbeat every interval until the task is aborted.
    pub async fn heartbeat_loop(mut self, registration: Registration) {
        let mut sampler = SystemSampler::default();
        let mut tick = tokio::time::interval(Duration::from_secs(
            registration.heartbeat_interval_secs.max(1),
        ));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let report = self.report(&mut sampler);
            match self
                .worker
                .http
                .post(self.url("/internal/v1/heartbeat"))
                .bearer_auth(&self.worker.config.server_key)
                .json(&report)
                .send()
                .await
            {
                Ok(resp) if resp.status().is_success() => {
                    if !matches!(
                        *self.worker.registration.borrow(),
                        Status::Registered { .. }
                    ) {
                        self.worker.registration.send_replace(Status::Registered {
                            server_id: registration.server_id,
                            name: registration.name.clone(),
                        });
                    }
                }
                Ok(resp) if resp.status() == StatusCode::UNAUTHORIZED => {
                    self.worker.registration.send_replace(Status::Refused);
                    tracing::error!(
                        "management refused this worker's key (server deleted or key rotated)"
                    );
                }
                Ok(resp) => tracing::warn!(status = resp.status().as_u16(), "heartbeat refused"),
                Err(e) => {
                    self.worker.registration.send_replace(Status::Unreachable);
                    tracing::warn!(error = %e, "heartbeat failed");
                }
            }
        }
    }

    /// The heartbeat for this moment.
    pub fn report(&mut self, sampler: &mut SystemSampler) -> Heartbeat {
        let mut report = Heartbeat::default();
        sampler.sample(&self.worker.config.data_dir, &mut report);
        let window = self.worker.stats.window();
        report.errors_per_minute = Some(window.errors as i32);
        report.avg_response_time_ms = Some(window.avg_ms);
        report.p95_response_time_ms = Some(window.p95_ms);
        report.p99_response_time_ms = Some(window.p99_ms);
        if let Some(instances) = self.worker.instances() {
            report.active_connections = Some(instances.connected() as i32);
            report.total_instances = Some(instances.len() as i32);
            let c = &instances.counters;
            let total = c.sent.load(Ordering::Relaxed) + c.received.load(Ordering::Relaxed);
            let elapsed = self.last_count_at.elapsed().as_secs_f64().max(1.0);
            let last = self.last_count.swap(total, Ordering::Relaxed);
            report.messages_per_minute =
                Some(((total.saturating_sub(last)) as f64 * 60.0 / elapsed).round() as i32);
            self.last_count_at = std::time::Instant::now();
            metrics::gauge!("wasp_worker_sessions_connected")
                .set(report.active_connections.unwrap_or(0) as f64);
        } else {
            report.active_connections = Some(0);
            report.total_instances = Some(0);
            report.messages_per_minute = Some(0);
        }
        report
    }
}
