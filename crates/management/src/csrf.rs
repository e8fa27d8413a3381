//! Cross-site request forgery: a state-changing request that a browser authenticates with
//! one of our session cookies (the operators' `wasp_admin*`, the customers' dashboard
//! `wasp_customer*`) must come from our own pages. SameSite=Strict keeps the cookie off
//! other sites' requests, but not off a sibling subdomain's ("same site"), and a form can
//! post `text/plain` that parses as JSON. So such a request is refused (403 FORBIDDEN)
//! unless:
//! - the browser does not call it cross-origin: `Sec-Fetch-Site` absent, `same-origin` or
//!   `none` (typed by the user), and `Origin` absent or our own (`WASP_PUBLIC_URL`, or the
//!   address the request was sent to);
//! - its body, if any, is declared `application/json` (what a form cannot send), or, for
//!   the dashboard's calls to the customer API (`/api/v1/*` with the customer cookie), is a
//!   `multipart/form-data` upload that carries the `X-Wasp-Mode` header those calls need
//!   (a custom header no cross-site form can send, and no cross-origin script without a
//!   CORS preflight we never grant).
//!
//! The customer account routes (`/api/customer/*`: sign-in, sign-up, reset) are checked
//! the same even without a cookie, so no other site can sign a browser in or post them.
//! Requests that authenticate otherwise (`Authorization: Bearer`, `X-API-Key`) carry no
//! ambient credential and are not concerned; neither are reads (GET, HEAD, OPTIONS).

use crate::{auth, customer_auth, keys, AppState, Error};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The middleware.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check_request(&state, &req) {
        Ok(()) => next.run(req).await,
        Err(refused) => refused.into_response(),
    }
}

/// `Err` (403 FORBIDDEN) when `req` is a forged cross-site request (see the module's doc).
pub fn check_request<B>(state: &AppState, req: &axum::http::Request<B>) -> Result<(), Error> {
    check(
        &state.config.public_url,
        req.method(),
        req.uri().path(),
        req.headers(),
    )
}

/// `Err` when `headers` make a forged cross-site request (see the module's doc).
fn check(public_url: &str, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), Error> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let has = |names: [&str; 2]| {
        names
            .iter()
            .any(|name| auth::cookie(headers, name).is_some())
    };
    let operator_cookie = !headers.contains_key(header::AUTHORIZATION)
        && !headers.contains_key("x-api-key")
        && has([auth::ACCESS_COOKIE, auth::REFRESH_COOKIE]);
    // The customer API takes the cookie only when no key is presented.
    let customer_cookie = keys::presented_key(headers).is_none()
        && has([customer_auth::ACCESS_COOKIE, customer_auth::REFRESH_COOKIE]);
    if !operator_cookie && !customer_cookie && !path.starts_with("/api/customer/") {
        return Ok(());
    }
    let refuse = |why: &str| {
        Err(Error::forbidden(format!(
            "cross-site request refused: {why}"
        )))
    };
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return refuse("it does not come from this site's pages");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !own_origin(public_url, headers, origin) {
            return refuse("its Origin is not this site");
        }
    }
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|n| n != "0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    let json = media_type.is_some_and(|v| v.eq_ignore_ascii_case("application/json"));
    let dashboard_upload = customer_cookie
        && path.starts_with("/api/v1/")
        && headers.contains_key(customer_auth::MODE_HEADER)
        && media_type.is_some_and(|v| v.eq_ignore_ascii_case("multipart/form-data"));
    if has_body && !json && !dashboard_upload {
        return refuse("a body must be sent as application/json");
    }
    Ok(())
}

/// Whether `origin` is `public_url`'s origin or the one the request was addressed to.
fn own_origin(public_url: &str, headers: &HeaderMap, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    let public = public_url
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or("")));
    if public.as_deref() == Some(origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest == host)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const PUBLIC: &str = "https://wasp.example.com";
    const COOKIE: (&str, &str) = ("cookie", "wasp_admin=eyJ.x.y");

    #[test]
    fn a_cookie_post_from_elsewhere_is_refused() {
        for bad in [
            vec![
                COOKIE,
                ("sec-fetch-site", "same-site"),
                ("content-type", "application/json"),
                ("content-length", "2"),
            ],
            vec![COOKIE, ("sec-fetch-site", "cross-site")],
            vec![COOKIE, ("origin", "https://evil.example.com")],
            vec![COOKIE, ("origin", "https://shop.wasp.example.com")],
            vec![COOKIE, ("origin", "null")],
            vec![
                COOKIE,
                ("content-type", "text/plain"),
                ("content-length", "20"),
            ],
            vec![
                COOKIE,
                ("content-type", "application/x-www-form-urlencoded"),
                ("content-length", "9"),
            ],
        ] {
            assert!(
                check(
                    PUBLIC,
                    &Method::POST,
                    "/api/admin/customers",
                    &headers(&bad)
                )
                .is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn own_pages_api_clients_and_reads_pass() {
        for good in [
            vec![
                COOKIE,
                ("sec-fetch-site", "same-origin"),
                ("origin", PUBLIC),
                ("content-type", "application/json; charset=utf-8"),
                ("content-length", "2"),
            ],
            vec![
                COOKIE,
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ],
            vec![COOKIE],
            vec![COOKIE, ("content-length", "0")],
            vec![
                ("authorization", "Bearer x"),
                ("origin", "https://evil.example.com"),
                ("content-type", "text/plain"),
                ("content-length", "5"),
            ],
            vec![("content-type", "text/plain"), ("content-length", "5")],
        ] {
            assert!(
                check(
                    PUBLIC,
                    &Method::POST,
                    "/api/admin/customers",
                    &headers(&good)
                )
                .is_ok(),
                "{good:?}"
            );
        }
        let cross = headers(&[COOKIE, ("sec-fetch-site", "cross-site")]);
        assert!(check(PUBLIC, &Method::GET, "/api/admin/customers", &cross).is_ok());
    }

    const CUSTOMER: (&str, &str) = ("cookie", "wasp_customer=eyJ.x.y");

    #[test]
    fn the_dashboard_cookie_is_guarded_like_the_operators_and_may_upload_with_its_mode() {
        let post = |path: &str, pairs: &[(&'static str, &str)]| {
            check(PUBLIC, &Method::POST, path, &headers(pairs))
        };
        let multipart = ("content-type", "multipart/form-data; boundary=x");
        let body = ("content-length", "200");
        let mode = ("x-wasp-mode", "test");
        for bad in [
            vec![CUSTOMER, ("origin", "https://evil.example")],
            vec![CUSTOMER, ("sec-fetch-site", "cross-site"), mode],
            vec![CUSTOMER, ("content-type", "text/plain"), body, mode],
            // A form upload without the dashboard's header.
            vec![CUSTOMER, multipart, body],
        ] {
            assert!(post("/api/v1/send/image", &bad).is_err(), "{bad:?}");
        }
        // The account routes, even without a cookie: no foreign page, no form.
        assert!(post(
            "/api/customer/auth/login",
            &[("origin", "https://evil.example")]
        )
        .is_err());
        assert!(post(
            "/api/customer/auth/forgot",
            &[("content-type", "text/plain"), ("content-length", "20")]
        )
        .is_err());
        for good in [
            vec![CUSTOMER, multipart, body, mode, ("origin", PUBLIC)],
            vec![CUSTOMER, ("content-type", "application/json"), body, mode],
            // A key presented: the cookie is not what authenticates.
            vec![
                CUSTOMER,
                ("x-api-key", "ak_test_x"),
                ("origin", "https://evil.example"),
            ],
        ] {
            assert!(post("/api/v1/send/image", &good).is_ok(), "{good:?}");
        }
        // Multipart is for the customer API only.
        assert!(post(
            "/api/customer/auth/password",
            &[CUSTOMER, multipart, body, mode]
        )
        .is_err());
        assert!(post(
            "/api/customer/auth/login",
            &[
                ("content-type", "application/json"),
                ("content-length", "20")
            ]
        )
        .is_ok());
    }
}
