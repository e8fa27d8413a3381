//! Cross-cutting HTTP pieces: request context, security headers, JSON fallbacks.

use crate::{error::code, AppState, Error};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{
    net::{IpAddr, SocketAddr},
    time::Instant,
};

/// The request-id header set on every request and response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// When the request reached us, for `duration_ms` in audit rows.
#[derive(Clone, Copy, Debug)]
pub struct RequestStart(pub Instant);

/// Who sent a request and how: for audit rows and throttling.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
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

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        // Read once per request (the abuse guard, metering and handlers all ask).
        if let Some(meta) = parts.extensions.get::<RequestMeta>() {
            return Ok(meta.clone());
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = if state.config.trust_proxy {
            forwarded_for(&parts.headers).or(peer)
        } else {
            peer
        };
        let text = |name: &HeaderName, max: usize| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(max).collect::<String>())
        };
        let meta = RequestMeta {
            ip,
            user_agent: text(&header::USER_AGENT, 512),
            request_id: text(&REQUEST_ID, 100),
            started: parts
                .extensions
                .get::<RequestStart>()
                .map(|s| s.0)
                .unwrap_or_else(Instant::now),
        };
        parts.extensions.insert(meta.clone());
        Ok(meta)
    }
}

/// The client address a trusted reverse proxy put first in `X-Forwarded-For`.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get("x-forwarded-for")?
        .to_str()
        .ok()?
        .split(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Stamps the arrival time, counts the request, and sets the PRD §6.6 security headers.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    req.extensions_mut().insert(RequestStart(started));
    let method = req.method().clone();
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    if state.config.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!("wasp_http_requests_total", "method" => method.as_str().to_owned(), "status" => status)
        .increment(1);
    metrics::histogram!("wasp_http_request_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    response
}

const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_XSS_PROTECTION, "1; mode=block"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
         base-uri 'self'; form-action 'self'",
    ),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (
        HeaderName::from_static("permissions-policy"),
        "geolocation=(), microphone=(), camera=()",
    ),
];

/// Answers unknown routes with our JSON 404 (or 405 for a known path with the wrong method).
pub async fn fallback(method: Method) -> Response {
    let _ = method;
    Error::client(StatusCode::NOT_FOUND, code::NOT_FOUND, "no such route").into_response()
}

/// Rewrites axum's bare 405 into our error shape.
pub async fn method_not_allowed(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && response.headers().get(header::CONTENT_TYPE).is_none()
    {
        let allow = response.headers().get(header::ALLOW).cloned();
        let mut replaced = Error::client(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            "method not allowed on this route",
        )
        .into_response();
        if let Some(allow) = allow {
            replaced.headers_mut().insert(header::ALLOW, allow);
        }
        return replaced;
    }
    response
}

/// Turns the body-limit layer's bare 413 into our error shape.
pub async fn payload_limit_shape(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes())
            != Some(b"application/json")
    {
        return crate::error::payload_too_large().into_response();
    }
    response
}
