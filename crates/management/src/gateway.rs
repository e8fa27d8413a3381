//! The customer API's front door: every `/api/v1/*` request that management does not
//! answer itself is authenticated by its API key and proxied to the worker that holds the
//! customer's session, with a service token naming the customer and session (the key
//! itself never leaves management). Bodies stream both ways; the worker's answer passes
//! through unchanged.

use crate::{
    audit::{ApiCall, AuditEvent},
    error::code,
    http::RequestMeta,
    keys::CustomerAuth,
    limits::{self, Decision},
    on_pool, AppState, Error, Result,
};
use crate::{
    cache::{Lookup, Route},
    idempotency,
};
use axum::response::IntoResponse;
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::Response,
};
use futures_util::StreamExt;
use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::Duration,
};
use uuid::Uuid;
use wasp_db::usage::Usage;
use wasp_protocol::{service_token::Mode, KeyKind};

/// The header that makes a send idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// How long a worker may take to answer one customer call.
pub const WORKER_TIMEOUT: Duration = Duration::from_secs(60);

/// The pooled keep-alive client for worker calls.
pub fn worker_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(WORKER_TIMEOUT)
        // Below the workers' idle-connection cut (their header read timeout, 10 s), so a
        // pooled connection is never reused just as the worker closes it.
        .pool_idle_timeout(Duration::from_secs(8))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// The plain-http connections to workers (pooled keep-alive connections; most deployments
/// reach their workers over a private network). Workers behind `https://` go through reqwest.
pub fn upstream() -> crate::upstream::Upstream {
    crate::upstream::Upstream::new(crate::upstream::PoolConfig {
        connect_timeout: Duration::from_secs(3),
        // Below the workers' idle-connection cut (their header read timeout, 10 s).
        idle_timeout: Duration::from_secs(8),
        max_idle_per_host: 256,
    })
}

/// Request headers passed on to the worker; everything else (the API key, cookies,
/// hop-by-hop headers) stays here.
const FORWARDED_REQUEST: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::ACCEPT,
    header::CONTENT_ENCODING,
];

/// Response headers passed back to the customer (a worker's own content security policy,
/// stricter than ours on downloads, included; a 405's `Allow`).
const FORWARDED_RESPONSE: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_DISPOSITION,
    header::CACHE_CONTROL,
    header::CONTENT_SECURITY_POLICY,
    header::ALLOW,
];

#[derive(sqlx::FromRow)]
struct RouteRow {
    server_id: Uuid,
    api_url: String,
}

/// The worker that holds a customer's sessions, from the routing table in memory (filled
/// from the database, dropped on reassignment).
async fn route(state: &AppState, customer: Uuid) -> Result<Route> {
    // Past its TTL, one request reads the route again while the others keep the old one.
    let (old, claim) = match state.cache.route(customer) {
        Lookup::Fresh(route) => return Ok(route),
        Lookup::Refresh(old, claim) => (Some(old), Some(claim)),
        Lookup::Missing => (None, None),
    };
    let generation = state.cache.generation();
    let row: std::result::Result<Option<RouteRow>, sqlx::Error> = on_pool!(&state.db, |pool| {
        sqlx::query_as(
        "SELECT s.id AS server_id, s.api_url FROM customers c JOIN servers s ON s.id = c.assigned_server_id \
         WHERE c.id = $1 AND s.deleted_at IS NULL"
    )
    .bind(customer)
    .fetch_optional(pool)
    .await
    });
    let row = match (row, old) {
        (Ok(row), _) => row,
        // The database could not be asked: the route, right a moment ago, serves until the
        // grace runs out (a reassignment through wasp drops it at once anyway).
        (Err(e), Some(old)) if state.cache.route_still_servable(customer, &old) => {
            tracing::warn!(error = %e, "route re-read failed; the cached route serves meanwhile");
            return Ok(old);
        }
        (Err(e), _) => return Err(e.into()),
    };
    if row.is_none() && claim.is_some() {
        state.cache.forget_route(customer);
    }
    let row = row.ok_or_else(|| {
        Error::client(
            StatusCode::SERVICE_UNAVAILABLE,
            code::WORKER_UNAVAILABLE,
            "your account has no WhatsApp server assigned yet; contact support",
        )
    })?;
    let route = Route::new(row.server_id, &row.api_url);
    state.cache.put_route(generation, customer, route.clone());
    Ok(route)
}

/// Whether a request sends a message (counted against the plan's messages per day).
fn sends_a_message(method: &axum::http::Method, path: &str) -> bool {
    *method == axum::http::Method::POST
        && ((path.starts_with("/api/v1/send/")
            && !matches!(path, "/api/v1/send/presence" | "/api/v1/send/chat-presence"))
            || (path.starts_with("/api/v1/message/") && path.ends_with("/forward")))
}

/// The scope a key needs for a customer API call (`*` grants all).
pub fn required_scope(method: &axum::http::Method, path: &str) -> &'static str {
    let rest = path.strip_prefix("/api/v1/").unwrap_or(path);
    let read = *method == axum::http::Method::GET;
    let area = rest.split('/').next().unwrap_or("");
    match area {
        "send" => "messages:send",
        "message" if read => "messages:read",
        "message" => "messages:send",
        "chats" => "chats:read",
        "chat" if read => "chats:read",
        "chat" => "messages:send",
        "group" => "groups:manage",
        "webhooks" => "webhooks:manage",
        "events" => "messages:read",
        "user" if rest == "user/my/groups" => "groups:manage",
        "user" | "newsletter" if read => "chats:read",
        _ => "session:manage", // app, user and newsletter changes, call, sandbox
    }
}

/// What kind of media a send carries, for the usage counts.
fn media_kind(path: &str) -> Option<&'static str> {
    match path.strip_prefix("/api/v1/send/")? {
        "image" | "sticker" => Some("image"),
        "video" => Some("video"),
        "file" | "audio" => Some("file"),
        _ => None,
    }
}

/// Filled by [`CustomerAuth`]'s extractor when a request to the customer API is
/// authenticated, so [`metered`] can meter and audit it afterwards.
#[derive(Clone, Default)]
pub struct AuthSlot(Arc<OnceLock<CustomerAuth>>);

impl AuthSlot {
    pub fn fill(&self, auth: &CustomerAuth) {
        let _ = self.0.set(auth.clone());
    }
}

/// Calls `done` with the number of bytes `body` carries when it has been read to its end
/// (or dropped). For a body of unknown size; one of known size is counted at once.
fn counted(body: Body, done: impl FnOnce(u64) + Send + 'static) -> Body {
    struct Count<F: FnOnce(u64)>(u64, Option<F>);
    impl<F: FnOnce(u64)> Drop for Count<F> {
        fn drop(&mut self) {
            if let Some(done) = self.1.take() {
                done(self.0);
            }
        }
    }
    let mut count = Count(0, Some(done));
    Body::from_stream(body.into_data_stream().map(move |chunk| {
        // The whole counter moves into the stream (not just its number), so `done` runs
        // when the stream is dropped.
        let count = &mut count;
        if let Ok(bytes) = &chunk {
            count.0 += bytes.len() as u64;
        }
        chunk
    }))
}

/// The size of a body when it is known before it is read.
fn exact_size(body: &Body) -> Option<u64> {
    use axum::body::HttpBody;
    body.size_hint().exact()
}

/// Meters and audits every authenticated customer API call (usage per day; one `api_call`
/// audit row with endpoint, status, latency, key, address and request id — never a body,
/// a key or a query string). Both are batched off the request path. Called by the abuse
/// guard (one middleware for both).
pub async fn metered<F, Fut>(
    state: &AppState,
    meta: &RequestMeta,
    mut req: Request,
    next: F,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    if !req.uri().path().starts_with("/api/v1/") {
        return next(req).await;
    }
    let slot = AuthSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().clone();
    // A clone of the URI shares its bytes: no copy of the path.
    let uri = req.uri().clone();
    // Bodies of known size (every GET, most JSON posts) are counted without wrapping them.
    let (req, bytes_in) = match exact_size(req.body()) {
        Some(n) => (req, Err(n)),
        None => {
            let bytes_in = Arc::new(AtomicU64::new(0));
            let counter = bytes_in.clone();
            let (parts, body) = req.into_parts();
            let body = counted(body, move |n| {
                counter.fetch_add(n, Ordering::Relaxed);
            });
            (Request::from_parts(parts, body), Ok(bytes_in))
        }
    };
    let response = next(req).await;
    let Some(auth) = slot.0.get() else {
        return response;
    };
    let status = response.status();
    let path = uri.path();
    let bytes_out = exact_size(response.body());
    let mut usage = Usage {
        api_requests: 1,
        bytes_in: match &bytes_in {
            Err(n) => *n as i64,
            Ok(counter) => counter.load(Ordering::Relaxed) as i64,
        },
        bytes_out: bytes_out.unwrap_or(0) as i64,
        ..Usage::default()
    };
    let replayed = response.headers().contains_key(idempotency::REPLAYED);
    if status.is_success() && !replayed && sends_a_message(&method, path) {
        usage.messages_sent = 1;
        match media_kind(path) {
            Some("image") => usage.images_sent = 1,
            Some("video") => usage.videos_sent = 1,
            Some(_) => usage.files_sent = 1,
            None => {}
        }
    }
    state.usage.add(auth.customer_id, usage);
    state.audit.record_call(ApiCall::new(
        auth.customer_id,
        auth.key_id,
        state.audit.endpoint(&method, path),
        status.as_u16(),
        meta,
    ));
    if bytes_out.is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let (usage_state, customer) = (state.clone(), auth.customer_id);
    let body = counted(body, move |n| {
        usage_state.usage.add(
            customer,
            Usage {
                bytes_out: n as i64,
                ..Usage::default()
            },
        );
    });
    Response::from_parts(parts, body)
}

/// Paths under `/api/v1` that management answers itself (the customer's keys and usage);
/// every other one is a messaging call passed to the customer's worker.
const MANAGEMENT_OWNED: [&str; 2] = ["/api/v1/keys", "/api/v1/usage"];

/// Whether `path` is a customer API call answered by a worker.
pub fn is_proxied(path: &str) -> bool {
    path.starts_with("/api/v1/")
        && !MANAGEMENT_OWNED.iter().any(|owned| {
            path.strip_prefix(owned)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// Management's HTTP service: customer API calls for workers go straight to
/// [`customer_call`], everything else through the router. The same steps as the router's
/// layers (request context, abuse guard, metering and audit, then the proxy) in one future,
/// without the router's matching, boxed middleware futures and per-layer service clones: the
/// gateway's hot path.
#[derive(Clone)]
pub struct Service {
    state: AppState,
    router: axum::Router,
}

impl Service {
    pub fn new(state: AppState, router: axum::Router) -> Service {
        Service { state, router }
    }
}

impl tower::Service<Request> for Service {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if is_proxied(req.uri().path()) {
            let state = self.state.clone();
            Box::pin(async move { Ok(customer_call(state, req).await) })
        } else {
            Box::pin(tower::ServiceExt::oneshot(self.router.clone(), req))
        }
    }
}

/// One customer API call for a worker: what the router's layers and [`proxy`] do, in line.
pub async fn customer_call(state: AppState, req: Request) -> Response {
    crate::http::in_context(&state, req, |req| async {
        // The dashboard's cookie calls come from our own pages only (csrf.rs).
        if let Err(refused) = crate::csrf::check_request(&state, &req) {
            return refused.into_response();
        }
        let (meta, req) = match extract::<RequestMeta>(&state, req).await {
            Ok(extracted) => extracted,
            Err(refused) => return refused,
        };
        crate::abuse::guarded(&state, &meta, req, |req| {
            metered(&state, &meta, req, |req| async {
                let (auth, req) = match extract::<CustomerAuth>(&state, req).await {
                    Ok(extracted) => extracted,
                    Err(refused) => return refused,
                };
                proxy(State(state.clone()), auth, meta.clone(), req)
                    .await
                    .into_response()
            })
        })
        .await
    })
    .await
}

/// What an extractor takes from a request's head, and the request back; its refusal as the
/// answer.
async fn extract<T>(state: &AppState, req: Request) -> std::result::Result<(T, Request), Response>
where
    T: axum::extract::FromRequestParts<AppState, Rejection = Error>,
{
    let (mut parts, body) = req.into_parts();
    match T::from_request_parts(&mut parts, state).await {
        Ok(value) => Ok((value, Request::from_parts(parts, body))),
        Err(e) => Err(e.into_response()),
    }
}

fn set_limit_headers(headers: &mut HeaderMap, decision: &Decision) {
    let Some(rule) = decision.rule else { return };
    let reset = decision.reset_after.as_secs_f64().ceil() as u64;
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(rule.limit)),
        ("x-ratelimit-remaining", u64::from(decision.remaining)),
        ("x-ratelimit-reset", reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// `/api/v1/*`: authenticate, apply the plan's limits, route, proxy. Every answer carries
/// the `X-RateLimit-*` headers of the limit closest to being reached. A send with an
/// `Idempotency-Key` is sent once and answered the same on every retry.
pub async fn proxy(
    State(state): State<AppState>,
    auth: CustomerAuth,
    meta: RequestMeta,
    req: Request,
) -> Result<Response> {
    auth.require_scope(required_scope(req.method(), req.uri().path()))?;
    let sends = sends_a_message(req.method(), req.uri().path());
    if sends {
        if let Some(key) = req.headers().get(IDEMPOTENCY_KEY).cloned() {
            // Boxed: the idempotent path's database work would otherwise make every call's
            // future (moved at each await it is nested in) several kilobytes larger.
            return Box::pin(proxy_once(state, auth, meta, req, key)).await;
        }
    }
    let decision = state
        .limiter
        .check(auth.customer_id, &call_rules(auth.plan, sends))
        .await;
    if !decision.allowed {
        return Ok(refuse(&state, &auth, &meta, &decision).await);
    }
    // A stream lives no longer than its key, or its dashboard session (streams.rs).
    let stream_credential = crate::streams::is_stream(&req)
        .then(|| crate::streams::Credential::of(&auth, req.headers()))
        .flatten();
    let mut response = forward(&state, &auth, &meta, req)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    if let Some(credential) = stream_credential.filter(|_| response.status().is_success()) {
        response = crate::streams::guard(&state, &auth, credential, response);
    }
    set_limit_headers(response.headers_mut(), &decision);
    Ok(response)
}

/// The plan's rules a call counts against.
fn call_rules(plan: wasp_protocol::Plan, sends: bool) -> Vec<limits::Rule> {
    let mut rules = limits::request_rules(plan);
    if sends {
        rules.extend(limits::message_rule(plan));
    }
    rules
}

/// A send with an `Idempotency-Key`: sent once, its answer kept and given again to every
/// retry within 24 h (counted as a request, not as a message: nothing is sent again).
async fn proxy_once(
    state: AppState,
    auth: CustomerAuth,
    meta: RequestMeta,
    req: Request,
    key: HeaderValue,
) -> Result<Response> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, crate::router::MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            Error::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::PAYLOAD_TOO_LARGE,
                "request body too large",
            )
        })?;
    let mode = match auth.mode {
        KeyKind::Live => "live",
        _ => "test",
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    let claim = idempotency::Claim::new(
        auth.customer_id,
        mode,
        &key,
        parts.method.as_str(),
        path,
        &body,
    )?;
    if let Some(idempotency::Outcome::Replay(mut answer)) =
        idempotency::lookup(&state, &claim).await?
    {
        let decision = state
            .limiter
            .check(auth.customer_id, &limits::request_rules(auth.plan))
            .await;
        if !decision.allowed {
            return Ok(refuse(&state, &auth, &meta, &decision).await);
        }
        set_limit_headers(answer.headers_mut(), &decision);
        return Ok(answer);
    }
    let req = Request::from_parts(parts, Body::from(body));
    let decision = state
        .limiter
        .check(auth.customer_id, &call_rules(auth.plan, true))
        .await;
    if !decision.allowed {
        return Ok(refuse(&state, &auth, &meta, &decision).await);
    }
    let mut response = match idempotency::claim(&state, &claim).await? {
        idempotency::Outcome::Replay(answer) => answer,
        idempotency::Outcome::Proceed => forward_once(&state, &auth, &meta, req, &claim).await?,
    };
    set_limit_headers(response.headers_mut(), &decision);
    Ok(response)
}

/// The 429 of a refused request, audited as a security event.
async fn refuse(
    state: &AppState,
    auth: &CustomerAuth,
    meta: &RequestMeta,
    decision: &Decision,
) -> Response {
    let rule = decision.rule.map(|r| r.name).unwrap_or("limit");
    let retry_after = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    state.audit.record(
        AuditEvent::security_event(
            "customer",
            Some(auth.customer_id),
            "rate_limit_exceeded",
            meta,
        )
        .resource("customer", auth.customer_id)
        .metadata(serde_json::json!({ "rule": rule, "plan": auth.plan.as_str() })),
    );
    let mut response = Error::RateLimited {
        code: code::RATE_LIMIT_EXCEEDED,
        message: format!(
            "your plan's {} limit is reached; retry in {retry_after} seconds",
            rule.replace('_', " ")
        ),
        retry_after,
    }
    .into_response();
    set_limit_headers(response.headers_mut(), decision);
    response
}

/// Forwards a request whose idempotency key this process has claimed, and keeps its answer.
async fn forward_once(
    state: &AppState,
    auth: &CustomerAuth,
    meta: &RequestMeta,
    req: Request,
    claim: &idempotency::Claim,
) -> Result<Response> {
    let response = match forward(state, auth, meta, req).await {
        Ok(response) => response,
        Err(e) => {
            // Nothing reached WhatsApp when the worker could not be reached: the key is
            // given up so a retry sends. Any other failure is kept like an answer.
            if e.code() == code::WORKER_UNAVAILABLE {
                idempotency::abandon(state, claim).await?;
                return Ok(e.into_response());
            }
            e.into_response()
        }
    };
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, idempotency::MAX_STORED_BODY)
        .await
        .map_err(|e| Error::internal(format!("worker answer unreadable: {e}")))?;
    idempotency::finish(
        state,
        claim,
        parts.status,
        parts.headers.get(header::CONTENT_TYPE),
        &body,
    )
    .await?;
    Ok(Response::from_parts(parts, Body::from(body)))
}

async fn forward(
    state: &AppState,
    auth: &CustomerAuth,
    meta: &RequestMeta,
    req: Request,
) -> Result<Response> {
    let route = route(state, auth.customer_id).await?;
    let mode = match auth.mode {
        KeyKind::Live => Mode::Live,
        _ => Mode::Test,
    };
    let bearer = state
        .cache
        .token(
            route.server_id,
            auth.customer_id,
            mode == Mode::Live,
            // The dashboard's session has no key: one token per customer and mode.
            auth.key_id.unwrap_or(Uuid::nil()),
            || {
                state.tokens.for_request(
                    route.server_id,
                    Some(auth.customer_id),
                    Some(mode),
                    auth.key_id,
                )
            },
        )
        .ok_or_else(|| Error::internal("service token is not a header value"))?;
    let (parts, body) = req.into_parts();
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::warn!(server = %route.server_id, error = %e, "worker unreachable");
        Error::client(
            StatusCode::SERVICE_UNAVAILABLE,
            code::WORKER_UNAVAILABLE,
            "the WhatsApp server for your account is unavailable; retry shortly",
        )
    };
    let timed_out = || {
        tracing::warn!(server = %route.server_id, "worker timed out");
        Error::client(
            StatusCode::GATEWAY_TIMEOUT,
            code::WORKER_TIMEOUT,
            "the WhatsApp server did not answer in time; the request may still complete",
        )
    };
    let mut headers = HeaderMap::with_capacity(FORWARDED_REQUEST.len() + 2);
    copy_headers(&parts.headers, &mut headers, &FORWARDED_REQUEST);
    if let Some(id) = &meta.request_id {
        // The header as it came (it is the id unless it was cut to its first 100 chars).
        let as_sent = parts
            .headers
            .get(&crate::http::REQUEST_ID)
            .filter(|v| v.as_bytes() == id.as_bytes())
            .cloned();
        if let Some(v) = as_sent.or_else(|| id.parse().ok()) {
            headers.insert(crate::http::REQUEST_ID.clone(), v);
        }
    }
    headers.insert(header::AUTHORIZATION, bearer);

    let invalid_url = || unavailable(&"the server's api_url is not a valid URL");
    let (authority, path_and_query) = if let Some((_, authority, host)) = &route.origin {
        // Plain http to a worker at the root of its host: the request's own path.
        headers.insert(header::HOST, host.clone());
        let path_and_query = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| axum::http::uri::PathAndQuery::from_static("/"));
        (authority.clone(), path_and_query)
    } else {
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let url = format!("{}{}", route.api_url, path_and_query);
        if !url.starts_with("http://") {
            // https workers: through reqwest (TLS).
            // Boxed, as a cold path of every call's future.
            let sent = Box::pin(
                state
                    .worker_http
                    .request(parts.method.clone(), &url)
                    .headers(headers)
                    .body(reqwest::Body::wrap_stream(body.into_data_stream()))
                    .send(),
            )
            .await;
            let upstream = match sent {
                Ok(resp) => resp,
                Err(e) if e.is_timeout() => return Err(timed_out()),
                Err(e) if client_body_refused(&e) => return Err(body_refused()),
                Err(e) => return Err(unavailable(&e)),
            };
            let mut response = Response::builder().status(upstream.status().as_u16());
            if let Some(h) = response.headers_mut() {
                copy_headers(upstream.headers(), h, &FORWARDED_RESPONSE);
            }
            return response
                .body(Body::from_stream(upstream.bytes_stream()))
                .map_err(|e| Error::internal(e.to_string()));
        }
        // Plain http under a path prefix.
        let uri: axum::http::Uri = url.parse().map_err(|_| invalid_url())?;
        let authority = uri.authority().cloned().ok_or_else(invalid_url)?;
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| invalid_url())?;
        headers.insert(header::HOST, host);
        let path_and_query = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| axum::http::uri::PathAndQuery::from_static("/"));
        (authority, path_and_query)
    };
    let mut outbound = axum::http::Request::new(body);
    *outbound.method_mut() = parts.method;
    *outbound.uri_mut() = axum::http::Uri::from(path_and_query);
    *outbound.headers_mut() = headers;
    let sent = tokio::time::timeout(WORKER_TIMEOUT, state.upstream.send(&authority, outbound));
    let upstream = match sent.await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) if client_body_refused(&e) => return Err(body_refused()),
        Ok(Err(e)) => return Err(unavailable(&e)),
        Err(_) => return Err(timed_out()),
    };
    let (upstream, incoming) = upstream.into_parts();
    let mut response = Response::new(Body::new(incoming));
    *response.status_mut() = upstream.status;
    copy_headers(
        &upstream.headers,
        response.headers_mut(),
        &FORWARDED_RESPONSE,
    );
    Ok(response)
}

/// Whether a forward failed because the client's body was refused on its way in (over the
/// size limit, stalled, too slow): the transport answers the client 413 or 408, and the
/// worker is not at fault.
fn client_body_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.is::<wasp_http::serve::BodyTooLarge>() || e.is::<wasp_http::serve::BodyStalled>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The answer to a forward whose body the transport refused (it replaces it with 413 or
/// 408, see `wasp_http::serve`).
fn body_refused() -> Error {
    tracing::debug!("request body refused by the transport while it was forwarded");
    Error::client(
        StatusCode::BAD_REQUEST,
        code::VALIDATION_ERROR,
        "the request body was refused",
    )
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap, names: &[HeaderName]) {
    for name in names {
        for value in from.get_all(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// What management asks of a worker about a customer's sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Hold the sessions (create the instances; a logged-in session reconnects).
    Hold,
    /// Give them up (close the connections, release the lease) so another worker may
    /// take them, or because the customer is gone.
    Release,
    /// Give them up and delete the customer's media files there (GDPR erasure).
    Purge,
}

/// Tells the worker `server` to hold or release `customer`'s sessions, through the internal
/// API. Best effort: a worker that is down restores what it owns when it starts, and
/// creates an instance at the customer's first request; a release that fails is fenced by
/// the lease epoch the next owner takes.
pub async fn place(state: &AppState, server: Uuid, customer: Uuid, what: Placement) -> bool {
    let api_url: Option<String> = match on_pool!(&state.db, |pool| sqlx::query_scalar(
        "SELECT api_url FROM servers WHERE id = $1 AND deleted_at IS NULL"
    )
    .bind(server)
    .fetch_optional(pool)
    .await)
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "placement: server lookup failed");
            return false;
        }
    };
    let Some(api_url) = api_url else {
        return false;
    };
    let base = api_url.trim_end_matches('/');
    let token = state.tokens.for_request(server, None, None, None);
    let request = match what {
        Placement::Hold => state
            .worker_http
            .post(format!("{base}/internal/instances"))
            .json(&serde_json::json!({ "customer_id": customer })),
        Placement::Release => state
            .worker_http
            .delete(format!("{base}/internal/instances/{customer}")),
        Placement::Purge => state
            .worker_http
            .delete(format!("{base}/internal/instances/{customer}?purge=true")),
    };
    match request.bearer_auth(token).send().await {
        Ok(resp) if resp.status().is_success() => true,
        Ok(resp) => {
            tracing::warn!(%server, %customer, status = %resp.status(), ?what, "worker refused a placement");
            false
        }
        Err(e) => {
            tracing::warn!(%server, %customer, error = %e, ?what, "worker unreachable for a placement");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_proxied, sends_a_message};
    use axum::http::Method;

    #[test]
    fn a_body_refused_on_its_way_in_is_not_blamed_on_the_worker() {
        use super::client_body_refused;
        #[derive(Debug)]
        struct Wrapped(Box<dyn std::error::Error + Send + Sync>);
        impl std::fmt::Display for Wrapped {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl std::error::Error for Wrapped {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&*self.0)
            }
        }
        let too_large = Wrapped(Box::new(Wrapped(Box::new(wasp_http::serve::BodyTooLarge))));
        assert!(client_body_refused(&too_large));
        assert!(client_body_refused(&Wrapped(Box::new(
            wasp_http::serve::BodyStalled
        ))));
        let refused = Wrapped(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(!client_body_refused(&refused));
    }

    #[test]
    fn each_customer_call_needs_the_scope_of_its_area() {
        use super::required_scope;
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            required_scope(&post, "/api/v1/send/message"),
            "messages:send"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/message/X/revoke"),
            "messages:send"
        );
        assert_eq!(
            required_scope(&get, "/api/v1/message/X/download"),
            "messages:read"
        );
        assert_eq!(required_scope(&get, "/api/v1/chats"), "chats:read");
        assert_eq!(required_scope(&get, "/api/v1/events"), "messages:read");
        assert_eq!(required_scope(&post, "/api/v1/webhooks"), "webhooks:manage");
        assert_eq!(
            required_scope(&get, "/api/v1/chat/J/messages"),
            "chats:read"
        );
        assert_eq!(required_scope(&post, "/api/v1/chat/J/pin"), "messages:send");
        assert_eq!(required_scope(&post, "/api/v1/group"), "groups:manage");
        assert_eq!(
            required_scope(&get, "/api/v1/user/my/groups"),
            "groups:manage"
        );
        assert_eq!(required_scope(&get, "/api/v1/user/info"), "chats:read");
        assert_eq!(
            required_scope(&post, "/api/v1/user/pushname"),
            "session:manage"
        );
        assert_eq!(required_scope(&get, "/api/v1/app/login"), "session:manage");
        assert_eq!(
            required_scope(&post, "/api/v1/sandbox/scan"),
            "session:manage"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/call/reject"),
            "session:manage"
        );
    }

    #[test]
    fn management_answers_its_own_customer_paths_and_passes_every_other_to_workers() {
        let doc = crate::router::openapi();
        let own: Vec<&String> = doc
            .paths
            .paths
            .keys()
            .filter(|p| p.starts_with("/api/v1/"))
            .collect();
        assert!(own.len() >= 3, "{own:?}");
        for path in own {
            // A path parameter as a client would fill it.
            let concrete: String = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        "0b9f2c1e"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            assert!(!is_proxied(&concrete), "{concrete} is management's own");
        }
        for proxied in [
            "/api/v1/send/text",
            "/api/v1/app/status",
            "/api/v1/keysmith",
            "/api/v1/usage-report",
        ] {
            assert!(is_proxied(proxied), "{proxied}");
        }
        for not in [
            "/api/admin/customers",
            "/api/v1",
            "/health",
            "/api/v2/send/text",
        ] {
            assert!(!is_proxied(not), "{not}");
        }
    }

    #[test]
    fn only_message_sends_count_against_the_daily_message_quota() {
        assert!(sends_a_message(&Method::POST, "/api/v1/send/message"));
        assert!(sends_a_message(&Method::POST, "/api/v1/send/image"));
        assert!(sends_a_message(
            &Method::POST,
            "/api/v1/message/3EB0AA/forward"
        ));
        assert!(!sends_a_message(&Method::POST, "/api/v1/send/presence"));
        assert!(!sends_a_message(
            &Method::POST,
            "/api/v1/send/chat-presence"
        ));
        assert!(!sends_a_message(&Method::GET, "/api/v1/send/message"));
        assert!(!sends_a_message(
            &Method::POST,
            "/api/v1/message/3EB0AA/reaction"
        ));
        assert!(!sends_a_message(&Method::GET, "/api/v1/chats"));
    }
}
