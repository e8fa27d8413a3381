//! Abuse protection per client address: requests that carry no credential and
//! requests refused for a bad credential count against the address (100 a minute by
//! default); each refusal past the limit is a strike, and the fifth strike within ten
//! minutes bans the address from the whole API for ten minutes. Every such 429 and every
//! ban is a security event. Customers with valid keys are never counted here: their
//! plan's limits apply instead.

use crate::{
    audit::AuditEvent,
    cache::Invalidation,
    error::code,
    http::RequestMeta,
    limits::{Rule, Subject},
    AppState, Error,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use std::{net::IpAddr, time::Duration};

pub use crate::config::AbuseLimits;

fn has_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key("x-api-key")
        || headers.contains_key(header::AUTHORIZATION)
        || headers.contains_key(header::COOKIE)
}

/// Paths whose uncredentialed use counts (the APIs; not health, metrics or the docs).
fn counted_path(path: &str) -> bool {
    (path.starts_with("/api/") || path.starts_with("/internal/"))
        && !path.starts_with("/api/docs")
        && path != "/api/openapi.json"
        && path != "/api/health"
}

fn banned(retry_after: u64) -> Response {
    Error::RateLimited {
        code: code::IP_BANNED,
        message: format!(
            "too many failed requests from your address; it is blocked for {retry_after} more seconds"
        ),
        retry_after,
    }
    .into_response()
}

/// The middleware: refuses banned addresses, counts uncredentialed and refused requests,
/// and meters and audits customer API calls ([`crate::metering::metered`]; one middleware
/// rather than two, as each costs every request a boxed future and a service clone).
pub async fn guard(
    State(state): State<AppState>,
    meta: RequestMeta,
    req: Request,
    next: Next,
) -> Response {
    guarded(&state, &meta, req, |req| next.run(req)).await
}

/// [`guard`] around `next` (the gateway's customer calls call it directly).
pub async fn guarded<F, Fut>(
    state: &AppState,
    meta: &RequestMeta,
    req: Request,
    next: F,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let Some(ip) = meta.ip else {
        return crate::metering::metered(state, meta, req, next).await;
    };
    if let Some(until) = state.cache.banned_until(ip) {
        // A worker's calls with a valid server key are not the address's to lose: one
        // abusive client behind the same address or proxy must not cut a worker off.
        let worker = req.uri().path().starts_with("/internal/")
            && crate::servers::carries_server_key(state, req.headers()).await;
        if !worker {
            let left = (until - Utc::now()).num_seconds().max(1) as u64;
            return banned(left);
        }
    }
    let limits = state.config.abuse;
    let rule = Rule {
        name: "abuse_per_minute",
        limit: limits.failures_per_minute,
        period: Duration::from_secs(60),
    };
    let uncredentialed = counted_path(req.uri().path()) && !has_credentials(req.headers());
    if uncredentialed {
        let decision = state.limiter.check(Subject::Ip(ip), &[rule]).await;
        if !decision.allowed {
            return strike(state, meta, ip, decision.retry_after).await;
        }
    }
    let response = crate::metering::metered(state, meta, req, next).await;
    if !uncredentialed && response.status() == StatusCode::UNAUTHORIZED {
        let decision = state.limiter.check(Subject::Ip(ip), &[rule]).await;
        if !decision.allowed {
            return strike(state, meta, ip, decision.retry_after).await;
        }
    }
    response
}

/// One refusal past the limit: a strike, a security event, and at the last strike a ban
/// (told to every replica).
async fn strike(state: &AppState, meta: &RequestMeta, ip: IpAddr, retry: Duration) -> Response {
    let limits = state.config.abuse;
    let strikes = state.limiter.strike(ip).await;
    state.audit.record(
        AuditEvent::security_event("anonymous", None, "rate_limit_exceeded", meta)
            .failure("too many failed or unauthenticated requests")
            .metadata(serde_json::json!({ "scope": "ip", "strikes": strikes })),
    );
    if strikes >= limits.strikes_before_ban {
        let until = Utc::now().timestamp() + limits.ban.as_secs() as i64;
        state.cache.invalidate(Invalidation::Ban(ip, until)).await;
        state.audit.record(
            AuditEvent::security_event("anonymous", None, "ip_banned", meta)
                .severity("critical")
                .failure(format!("{strikes} strikes"))
                .metadata(serde_json::json!({ "ban_seconds": limits.ban.as_secs() })),
        );
        tracing::warn!(%ip, strikes, "address banned for abuse");
        return banned(limits.ban.as_secs());
    }
    let retry_after = retry.as_secs_f64().ceil().max(1.0) as u64;
    Error::RateLimited {
        code: code::RATE_LIMIT_EXCEEDED,
        message: format!(
            "too many failed or unauthenticated requests from your address; retry in {retry_after} seconds"
        ),
        retry_after,
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apis_count_uncredentialed_use() {
        assert!(counted_path("/api/v1/chats"));
        assert!(counted_path("/api/admin/customers"));
        assert!(counted_path("/internal/v1/heartbeat"));
        assert!(!counted_path("/health"));
        assert!(!counted_path("/api/docs/index.html"));
        assert!(!counted_path("/api/openapi.json"));
        assert!(!counted_path("/metrics"));
    }
}
