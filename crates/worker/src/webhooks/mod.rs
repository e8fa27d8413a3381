//! Webhooks: the customer's endpoints (`/api/v1/webhooks`, per session mode: endpoints made
//! with a test key get the sandbox's events) and the delivery of the events in the outbox
//! (`events.rs`) to them — signed per Standard Webhooks and with `X-Hub-Signature-256`,
//! at least once, retried on a schedule with jitter, logged attempt by attempt, through the
//! SSRF guard at every delivery.

mod deliverer;
mod signing;

pub use deliverer::{retry_delay, Deliverer};
pub(crate) use signing::new_secret;
pub use signing::{hub_signature, standard_signature};

use chrono::Duration as ChronoDuration;
use serde_json::Value;

/// Endpoints a customer may have per mode.
pub const MAX_ENDPOINTS: i64 = 10;
/// How long a rotated-out secret still signs.
pub const SECRET_OVERLAP: ChronoDuration = ChronoDuration::hours(24);
/// Retry delays at the default backoff (1000 ms), after attempt 1, 2, …; later attempts use
/// the last. An endpoint's `retry_backoff_ms` scales them (500 halves them).
pub const SCHEDULE_SECS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// An endpoint failing without a single success for this long is disabled.
pub const DISABLE_AFTER: ChronoDuration = ChronoDuration::days(5);
/// Response bytes kept per attempt.
pub(crate) const RESPONSE_KEPT: usize = 1024;

// ---------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------

/// The body a delivery of `payload` sends (and signs): the same bytes at every attempt.
pub(crate) fn request_body(payload: &Value) -> Vec<u8> {
    serde_json::to_vec(payload).unwrap_or_default()
}
