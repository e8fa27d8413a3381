//! A customer API call passed on to the worker that holds the customer's sessions: its
//! route (from the routing table in memory), a service token naming the customer and mode,
//! the headers that go through, and the worker's answer streamed back.

use super::{Reach, WORKER_TIMEOUT};
use crate::{
    cache::{Lookup, Route},
    error::code,
    on_pool,
    request_meta::REQUEST_ID,
    Error, Result,
};
use axum::{
    body::Body,
    extract::Request,
    http::{
        header,
        uri::{Authority, PathAndQuery},
        HeaderMap, HeaderName, HeaderValue, StatusCode,
    },
    response::Response,
};
use uuid::Uuid;
use wasp_protocol::service_token::Mode;

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

/// Whom a customer call is for: what its service token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallFor {
    pub customer: Uuid,
    /// The key used; `None` for the dashboard's session.
    pub key: Option<Uuid>,
    pub mode: Mode,
}

impl Reach<'_> {
    /// Sends `req` (of `call`'s caller, with its request id) to the worker that holds the
    /// customer's sessions, and its answer back.
    pub async fn forward(
        self,
        call: CallFor,
        request_id: Option<&str>,
        req: Request,
    ) -> Result<Response> {
        forward(self, call, request_id, req).await
    }
}

#[derive(sqlx::FromRow)]
struct RouteRow {
    server_id: Uuid,
    api_url: String,
}

/// The worker that holds a customer's sessions, from the routing table in memory (filled
/// from the database, dropped on reassignment).
async fn route(reach: Reach<'_>, customer: Uuid) -> Result<Route> {
    // Past its TTL, one request reads the route again while the others keep the old one.
    let (old, claim) = match reach.cache.route(customer) {
        Lookup::Fresh(route) => return Ok(route),
        Lookup::Refresh(old, claim) => (Some(old), Some(claim)),
        Lookup::Missing => (None, None),
    };
    let generation = reach.cache.generation();
    let row: std::result::Result<Option<RouteRow>, sqlx::Error> = on_pool!(reach.db, |pool| {
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
        (Err(e), Some(old)) if reach.cache.route_still_servable(customer, &old) => {
            tracing::warn!(error = %e, "route re-read failed; the cached route serves meanwhile");
            return Ok(old);
        }
        (Err(e), _) => return Err(e.into()),
    };
    if row.is_none() && claim.is_some() {
        reach.cache.forget_route(customer);
    }
    let row = row.ok_or_else(|| {
        Error::client(
            StatusCode::SERVICE_UNAVAILABLE,
            code::WORKER_UNAVAILABLE,
            "your account has no WhatsApp server assigned yet; contact support",
        )
    })?;
    let route = Route::new(row.server_id, &row.api_url);
    reach.cache.put_route(generation, customer, route.clone());
    Ok(route)
}

async fn forward(
    reach: Reach<'_>,
    call: CallFor,
    request_id: Option<&str>,
    req: Request,
) -> Result<Response> {
    let route = route(reach, call.customer).await?;
    let bearer = service_token(reach, &route, call)?;
    let (parts, body) = req.into_parts();
    let mut headers = outbound_headers(&parts.headers, request_id, bearer);
    let server = route.server_id;
    let (authority, path_and_query) = match destination(&route, &parts.uri, &mut headers)? {
        Destination::Pool(authority, path_and_query) => (authority, path_and_query),
        // Boxed, as a cold path of every call's future.
        Destination::Tls(url) => {
            return Box::pin(through_reqwest(
                reach,
                server,
                parts.method,
                &url,
                headers,
                body,
            ))
            .await
        }
    };
    let mut outbound = axum::http::Request::new(body);
    *outbound.method_mut() = parts.method;
    *outbound.uri_mut() = axum::http::Uri::from(path_and_query);
    *outbound.headers_mut() = headers;
    let sent = tokio::time::timeout(WORKER_TIMEOUT, reach.upstream.send(&authority, outbound));
    let upstream = match sent.await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) if client_body_refused(&e) => return Err(body_refused()),
        Ok(Err(e)) => return Err(unavailable(server, &e)),
        Err(_) => return Err(timed_out(server)),
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

/// The service token for `call` to its worker, as a header value (cached).
fn service_token(reach: Reach<'_>, route: &Route, call: CallFor) -> Result<HeaderValue> {
    reach
        .cache
        .token(
            route.server_id,
            call.customer,
            call.mode == Mode::Live,
            // The dashboard's session has no key: one token per customer and mode.
            call.key.unwrap_or(Uuid::nil()),
            || {
                reach.tokens.for_request(
                    route.server_id,
                    Some(call.customer),
                    Some(call.mode),
                    call.key,
                )
            },
        )
        .ok_or_else(|| Error::internal("service token is not a header value"))
}

/// The headers the worker gets: the forwarded ones, the request id, the service token.
fn outbound_headers(
    incoming: &HeaderMap,
    request_id: Option<&str>,
    bearer: HeaderValue,
) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(FORWARDED_REQUEST.len() + 2);
    copy_headers(incoming, &mut headers, &FORWARDED_REQUEST);
    if let Some(id) = request_id {
        // The header as it came (it is the id unless it was cut to its first 100 chars).
        let as_sent = incoming
            .get(&REQUEST_ID)
            .filter(|v| v.as_bytes() == id.as_bytes())
            .cloned();
        if let Some(v) = as_sent.or_else(|| id.parse().ok()) {
            headers.insert(REQUEST_ID.clone(), v);
        }
    }
    headers.insert(header::AUTHORIZATION, bearer);
    headers
}

/// Where a call goes: over the keep-alive pool (plain http), or through reqwest (TLS).
enum Destination {
    Pool(Authority, PathAndQuery),
    Tls(String),
}

/// The destination of a call to `uri` on the route's worker; sets `Host` for the pool.
fn destination(
    route: &Route,
    uri: &axum::http::Uri,
    headers: &mut HeaderMap,
) -> Result<Destination> {
    if let Some((_, authority, host)) = &route.origin {
        // Plain http to a worker at the root of its host: the request's own path.
        headers.insert(header::HOST, host.clone());
        let path_and_query = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        return Ok(Destination::Pool(authority.clone(), path_and_query));
    }
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{}", route.api_url, path_and_query);
    if !url.starts_with("http://") {
        return Ok(Destination::Tls(url));
    }
    // Plain http under a path prefix.
    let invalid_url = || unavailable(route.server_id, &"the server's api_url is not a valid URL");
    let uri: axum::http::Uri = url.parse().map_err(|_| invalid_url())?;
    let authority = uri.authority().cloned().ok_or_else(invalid_url)?;
    let host = HeaderValue::from_str(authority.as_str()).map_err(|_| invalid_url())?;
    headers.insert(header::HOST, host);
    let path_and_query = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Ok(Destination::Pool(authority, path_and_query))
}

/// A call to an `https://` worker, through reqwest (TLS).
async fn through_reqwest(
    reach: Reach<'_>,
    server: Uuid,
    method: axum::http::Method,
    url: &str,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let sent = reach
        .http
        .request(method, url)
        .headers(headers)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send()
        .await;
    let upstream = match sent {
        Ok(resp) => resp,
        Err(e) if e.is_timeout() => return Err(timed_out(server)),
        Err(e) if client_body_refused(&e) => return Err(body_refused()),
        Err(e) => return Err(unavailable(server, &e)),
    };
    let mut response = Response::builder().status(upstream.status().as_u16());
    if let Some(h) = response.headers_mut() {
        copy_headers(upstream.headers(), h, &FORWARDED_RESPONSE);
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .map_err(|e| Error::internal_source("the worker's answer could not be passed on", e))
}

/// The answer when `server` cannot be reached.
fn unavailable(server: Uuid, e: &dyn std::fmt::Display) -> Error {
    tracing::warn!(%server, error = %e, "worker unreachable");
    Error::client(
        StatusCode::SERVICE_UNAVAILABLE,
        code::WORKER_UNAVAILABLE,
        "the WhatsApp server for your account is unavailable; retry shortly",
    )
}

/// The answer when `server` did not answer in time.
fn timed_out(server: Uuid) -> Error {
    tracing::warn!(%server, "worker timed out");
    Error::client(
        StatusCode::GATEWAY_TIMEOUT,
        code::WORKER_TIMEOUT,
        "the WhatsApp server did not answer in time; the request may still complete",
    )
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

#[cfg(test)]
mod tests {
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
}
