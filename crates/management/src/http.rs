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
use tracing::Instrument;

pub use crate::request_meta::{RequestMeta, RequestStart, REQUEST_ID};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

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
        let text =
            |name: &HeaderName, max: usize| {
                parts.headers.get(name).and_then(|v| v.to_str().ok()).map(
                    |s| -> std::sync::Arc<str> {
                        // Header values are ASCII here (`to_str`): bytes are characters.
                        if s.len() <= max {
                            s.into()
                        } else {
                            s.chars().take(max).collect::<String>().into()
                        }
                    },
                )
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

/// Gives the request an id (`x-request-id`: the client's, or a new UUID) and the answer the
/// same, stamps the arrival time, runs the request in a span (when debug logging is on),
/// counts it, puts our JSON shape on the router's bare 405 and 413, and sets the
/// security headers. One middleware for all of it: each layer costs every request a boxed
/// future and a clone of the service stack below it.
pub async fn request_context(State(state): State<AppState>, req: Request, next: Next) -> Response {
    in_context(&state, req, |req| next.run(req)).await
}

/// [`request_context`] around `next` (the gateway's customer calls call it directly).
pub async fn in_context<F, Fut>(state: &AppState, mut req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let started = Instant::now();
    let request_id = match req.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = new_request_id();
            req.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    req.extensions_mut().insert(RequestStart(started));
    let method = method_label(req.method());
    let span = if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug_span!(
            "request",
            method = %req.method(),
            uri = %req.uri(),
            request_id = ?request_id,
        )
    } else {
        tracing::Span::none()
    };
    let mut response = shape_bare_errors(next(req).instrument(span.clone()).await);
    let status = response.status();
    tracing::debug!(
        parent: &span,
        status = status.as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        "request answered"
    );
    let headers = response.headers_mut();
    if !headers.contains_key(&REQUEST_ID) {
        headers.insert(REQUEST_ID, request_id);
    }
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
    metrics::counter!(
        "wasp_http_requests_total",
        "method" => method,
        "status" => status_label(status)
    )
    .increment(1);
    metrics::histogram!("wasp_http_request_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    response
}

/// A metric label for a method, without an allocation for the usual ones.
fn method_label(method: &Method) -> metrics::SharedString {
    let known = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => return method.as_str().to_owned().into(),
    };
    known.into()
}

/// A metric label for a status, without an allocation for the usual ones.
fn status_label(status: StatusCode) -> metrics::SharedString {
    const KNOWN: [&str; 22] = [
        "200", "201", "202", "204", "301", "302", "304", "400", "401", "403", "404", "405", "408",
        "409", "413", "414", "422", "429", "500", "502", "503", "504",
    ];
    let text = status.as_str();
    match KNOWN.iter().find(|k| **k == text) {
        Some(k) => (*k).into(),
        None => text.to_owned().into(),
    }
}

/// The router's bare 405 and the body limit's bare 413, in our error shape.
fn shape_bare_errors(response: Response) -> Response {
    let status = response.status();
    if status == StatusCode::METHOD_NOT_ALLOWED
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
    if status == StatusCode::PAYLOAD_TOO_LARGE
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

/// The id of a request that came without one: a random UUID (v4) from the thread's
/// generator rather than one system call each.
fn new_request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut text);
    HeaderValue::from_str(text).expect("a UUID is a header value")
}

const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_XSS_PROTECTION, "1; mode=block"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
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
