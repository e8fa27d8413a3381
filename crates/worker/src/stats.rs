//! Request and system statistics reported in heartbeats.

use std::{
    collections::VecDeque,
    path::Path,
    sync::Mutex,
    time::{Duration, Instant},
};
use wasp_protocol::registry::Heartbeat;

/// Samples kept for the percentile window (bounded so a burst cannot grow memory).
const MAX_SAMPLES: usize = 20_000;
const WINDOW: Duration = Duration::from_secs(60);

/// Latencies and outcomes of the requests served in the last minute.
#[derive(Default)]
pub struct RequestStats {
    samples: Mutex<VecDeque<Sample>>,
}

#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    micros: u64,
    error: bool,
}

/// Summary of the last minute.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Window {
    pub requests: usize,
    pub errors: usize,
    pub avg_ms: i32,
    pub p95_ms: i32,
    pub p99_ms: i32,
}

impl RequestStats {
    pub fn record(&self, elapsed: Duration, error: bool) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while samples
            .front()
            .is_some_and(|s| now.duration_since(s.at) > WINDOW)
            || samples.len() >= MAX_SAMPLES
        {
            samples.pop_front();
        }
        samples.push_back(Sample {
            at: now,
            micros: elapsed.as_micros() as u64,
            error,
        });
    }

    /// The last minute's counts and latency percentiles.
    pub fn window(&self) -> Window {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let mut micros: Vec<u64> = samples
            .iter()
            .filter(|s| now.duration_since(s.at) <= WINDOW)
            .map(|s| s.micros)
            .collect();
        let errors = samples
            .iter()
            .filter(|s| s.error && now.duration_since(s.at) <= WINDOW)
            .count();
        if micros.is_empty() {
            return Window::default();
        }
        micros.sort_unstable();
        let pick = |q: f64| {
            let idx = ((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1;
            (micros[idx] / 1000) as i32
        };
        let avg = micros.iter().sum::<u64>() / micros.len() as u64;
        Window {
            requests: micros.len(),
            errors,
            avg_ms: (avg / 1000) as i32,
            p95_ms: pick(0.95),
            p99_ms: pick(0.99),
        }
    }
}

/// Reads CPU, memory and disk use of this machine.
pub struct SystemSampler {
    system: sysinfo::System,
}

impl Default for SystemSampler {
    fn default() -> Self {
        let mut system = sysinfo::System::new();
        system.refresh_cpu_usage();
        SystemSampler { system }
    }
}

impl SystemSampler {
    /// Fills the system fields of a heartbeat (CPU use since the previous call).
    pub fn sample(&mut self, data_dir: &Path, report: &mut Heartbeat) {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        report.cpu_usage = Some(round2(f64::from(self.system.global_cpu_usage())));
        let total = self.system.total_memory();
        if total > 0 {
            report.ram_usage = Some(round2(
                self.system.used_memory() as f64 * 100.0 / total as f64,
            ));
        }
        report.disk_usage = disk_usage(data_dir);
    }
}

fn round2(v: f64) -> f64 {
    (v.clamp(0.0, 100.0) * 100.0).round() / 100.0
}

/// Use of the file system holding `dir` (the mount point with the longest matching prefix).
fn disk_usage(dir: &Path) -> Option<f64> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let disks = sysinfo::Disks::new_with_refreshed_list();
    let disk = disks
        .list()
        .iter()
        .filter(|d| dir.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())?;
    let total = disk.total_space();
    (total > 0).then(|| round2((total - disk.available_space()) as f64 * 100.0 / total as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_recorded_latencies() {
        let stats = RequestStats::default();
        for ms in 1..=100 {
            stats.record(Duration::from_millis(ms), ms > 98);
        }
        let w = stats.window();
        assert_eq!(w.requests, 100);
        assert_eq!(w.errors, 2);
        assert_eq!(w.p95_ms, 95);
        assert_eq!(w.p99_ms, 99);
        assert_eq!(w.avg_ms, 50);
    }

    #[test]
    fn an_empty_window_reports_zeroes() {
        assert_eq!(RequestStats::default().window(), Window::default());
    }

    #[test]
    fn system_sample_gives_percentages() {
        let mut sampler = SystemSampler::default();
        let mut report = Heartbeat::default();
        sampler.sample(Path::new("."), &mut report);
        let ram = report.ram_usage.unwrap();
        assert!((0.0..=100.0).contains(&ram) && ram > 0.0);
        assert!(report.cpu_usage.is_some_and(|c| (0.0..=100.0).contains(&c)));
        assert!(report
            .disk_usage
            .is_some_and(|d| (0.0..=100.0).contains(&d)));
    }
}
