//! Worker ↔ management wire formats: registration and heartbeats.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /internal/v1/register`, sent by a worker with its server key.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Where management can reach this worker, if different from what the operator entered.
    pub api_url: Option<String>,
    /// The worker's wasp version.
    pub version: Option<String>,
}

/// What a registered worker learns about itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Registration {
    pub server_id: uuid::Uuid,
    pub name: String,
    pub heartbeat_interval_secs: u64,
    /// Management's Ed25519 public key (base64url): the worker accepts only service tokens
    /// that verify with it.
    pub service_token_key: String,
}

/// `POST /internal/v1/heartbeat`: the `server_metrics` fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// CPU use, percent of all cores.
    pub cpu_usage: Option<f64>,
    /// Memory use, percent.
    pub ram_usage: Option<f64>,
    /// Disk use of the data directory's file system, percent.
    pub disk_usage: Option<f64>,
    pub network_in_mbps: Option<f64>,
    pub network_out_mbps: Option<f64>,
    /// Connected WhatsApp sessions.
    pub active_connections: Option<i32>,
    /// Sessions held, connected or not.
    pub total_instances: Option<i32>,
    pub messages_per_minute: Option<i32>,
    pub errors_per_minute: Option<i32>,
    pub avg_response_time_ms: Option<i32>,
    pub p95_response_time_ms: Option<i32>,
    pub p99_response_time_ms: Option<i32>,
}
