//! Who may read `/metrics`: the metrics name customers' activity and the fleet's load, so
//! they are not for the internet. A scrape is answered when it comes from this host itself
//! (a loopback peer that no reverse proxy forwarded: no `X-Forwarded-For`), or when it
//! carries `Authorization: Bearer <WASP_METRICS_TOKEN>`.

use axum::http::{header, HeaderMap};
use std::net::IpAddr;

/// Whether the `/metrics` request `req` may be answered (its peer from the transport's
/// `ConnectInfo`).
pub fn request_allowed<B>(req: &axum::http::Request<B>, token: Option<&str>) -> bool {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    allowed(req.headers(), peer, token)
}

/// Whether a `/metrics` request may be answered.
pub fn allowed(headers: &HeaderMap, peer: Option<IpAddr>, token: Option<&str>) -> bool {
    let local = peer.is_some_and(|ip| ip.is_loopback()) && !headers.contains_key("x-forwarded-for");
    if local {
        return true;
    }
    let (Some(token), Some(presented)) = (
        token.filter(|t| !t.is_empty()),
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ")),
    ) else {
        return false;
    };
    same(presented.trim().as_bytes(), token.as_bytes())
}

/// Equality that takes the same time wherever the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_this_host_or_the_token_reads_metrics() {
        let loopback = Some("127.0.0.1".parse().unwrap());
        let remote = Some("203.0.113.9".parse().unwrap());
        assert!(allowed(&with(&[]), loopback, None));
        assert!(!allowed(
            &with(&[("x-forwarded-for", "203.0.113.9")]),
            loopback,
            None
        ));
        assert!(!allowed(&with(&[]), remote, None));
        assert!(!allowed(
            &with(&[("authorization", "Bearer anything")]),
            remote,
            None
        ));
        let token = Some("s3cret-metrics-token");
        assert!(allowed(
            &with(&[("authorization", "Bearer s3cret-metrics-token")]),
            remote,
            token
        ));
        assert!(!allowed(
            &with(&[("authorization", "Bearer s3cret-metrics-tokeX")]),
            remote,
            token
        ));
        assert!(!allowed(
            &with(&[("authorization", "Bearer ")]),
            remote,
            Some("")
        ));
    }
}
