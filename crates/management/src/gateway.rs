//! The customer API's front door: every `/api/v1/*` request that management does not
//! answer itself is authenticated by its API key and proxied to the worker that holds the
//! customer's session, with a service token naming the customer and session (the key
//! itself never leaves management). Bodies stream both ways; the worker's answer passes
//! through unchanged.

use crate::{
    audit::AuditEvent,
    error::code,
    http::RequestMeta,
    idempotency,
    keys::CustomerAuth,
    limits::{self, Decision},
    metering::{metered, sends_a_message},
    workers::CallFor,
    AppState, Error, Result,
};
use axum::response::IntoResponse;
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::Response,
};
use wasp_protocol::{service_token::Mode, KeyKind, Scope};

/// The header that makes a send idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The scope a key needs for a customer API call (`*` grants all).
pub fn required_scope(method: &axum::http::Method, path: &str) -> Scope {
    let rest = path.strip_prefix("/api/v1/").unwrap_or(path);
    let read = *method == axum::http::Method::GET;
    let area = rest.split('/').next().unwrap_or("");
    match area {
        "send" => Scope::MessagesSend,
        "message" if read => Scope::MessagesRead,
        "message" => Scope::MessagesSend,
        "chats" => Scope::ChatsRead,
        "chat" if read => Scope::ChatsRead,
        "chat" => Scope::MessagesSend,
        "group" => Scope::GroupsManage,
        "webhooks" => Scope::WebhooksManage,
        "events" => Scope::MessagesRead,
        "user" if rest == "user/my/groups" => Scope::GroupsManage,
        "user" | "newsletter" if read => Scope::ChatsRead,
        _ => Scope::SessionManage, // app, user and newsletter changes, call, sandbox
    }
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
    let body = axum::body::to_bytes(body, crate::http::MAX_BODY_BYTES)
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

/// Passes `req` of `auth`'s to the customer's worker.
async fn forward(
    state: &AppState,
    auth: &CustomerAuth,
    meta: &RequestMeta,
    req: Request,
) -> Result<Response> {
    let call = CallFor {
        customer: auth.customer_id,
        key: auth.key_id,
        mode: match auth.mode {
            KeyKind::Live => Mode::Live,
            _ => Mode::Test,
        },
    };
    state
        .workers()
        .forward(call, meta.request_id.as_deref(), req)
        .await
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
        .map_err(|e| Error::internal_source("worker answer unreadable", e))?;
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

#[cfg(test)]
mod tests {
    use axum::http::Method;

    #[test]
    fn each_customer_call_needs_the_scope_of_its_area() {
        use super::required_scope;
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            required_scope(&post, "/api/v1/send/message").as_str(),
            "messages:send"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/message/X/revoke").as_str(),
            "messages:send"
        );
        assert_eq!(
            required_scope(&get, "/api/v1/message/X/download").as_str(),
            "messages:read"
        );
        assert_eq!(required_scope(&get, "/api/v1/chats").as_str(), "chats:read");
        assert_eq!(
            required_scope(&get, "/api/v1/events").as_str(),
            "messages:read"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/webhooks").as_str(),
            "webhooks:manage"
        );
        assert_eq!(
            required_scope(&get, "/api/v1/chat/J/messages").as_str(),
            "chats:read"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/chat/J/pin").as_str(),
            "messages:send"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/group").as_str(),
            "groups:manage"
        );
        assert_eq!(
            required_scope(&get, "/api/v1/user/my/groups").as_str(),
            "groups:manage"
        );
        assert_eq!(
            required_scope(&get, "/api/v1/user/info").as_str(),
            "chats:read"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/user/pushname").as_str(),
            "session:manage"
        );
        assert_eq!(
            required_scope(&get, "/api/v1/app/login").as_str(),
            "session:manage"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/sandbox/scan").as_str(),
            "session:manage"
        );
        assert_eq!(
            required_scope(&post, "/api/v1/call/reject").as_str(),
            "session:manage"
        );
    }
}
