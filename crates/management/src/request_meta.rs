//! Who sent a request and how ([`RequestMeta`]), for audit rows and throttling; the
//! extractor that fills it is `http.rs`'s.

use axum::http::HeaderName;
use std::{net::IpAddr, time::Instant};

/// The request-id header set on every request and response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// When the request reached us, for `duration_ms` in audit rows.
#[derive(Clone, Copy, Debug)]
pub struct RequestStart(pub Instant);

/// Who sent a request and how: for audit rows and throttling.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    /// Shared, not copied, by the audit rows and the handlers a request passes through.
    pub user_agent: Option<std::sync::Arc<str>>,
    pub request_id: Option<std::sync::Arc<str>>,
    pub started: Instant,
}

impl RequestMeta {
    /// Milliseconds since the request arrived.
    pub fn elapsed_ms(&self) -> i32 {
        i32::try_from(self.started.elapsed().as_millis()).unwrap_or(i32::MAX)
    }

    /// A context for work not started by a request (CLI, background jobs).
    pub fn system() -> RequestMeta {
        RequestMeta {
            ip: None,
            user_agent: None,
            request_id: None,
            started: Instant::now(),
        }
    }
}
