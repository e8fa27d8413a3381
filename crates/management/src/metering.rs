//! Metering and auditing of the customer API: every authenticated `/api/v1` call adds to
//! its customer's usage per day (requests, bytes, messages and their media) and leaves one
//! `api_call` audit row, both batched off the request path.

use crate::{audit::ApiCall, http::RequestMeta, idempotency, keys::AuthSlot, AppState};
use axum::{body::Body, extract::Request, response::Response};
use futures_util::StreamExt;
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use wasp_db::usage::Usage;

/// Whether a request sends a message (counted against the plan's messages per day).
pub fn sends_a_message(method: &axum::http::Method, path: &str) -> bool {
    *method == axum::http::Method::POST
        && ((path.starts_with("/api/v1/send/")
            && !matches!(path, "/api/v1/send/presence" | "/api/v1/send/chat-presence"))
            || (path.starts_with("/api/v1/message/") && path.ends_with("/forward")))
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
    let (req, bytes_in) = count_bytes_in(req);
    let response = next(req).await;
    let Some(auth) = slot.get() else {
        return response;
    };
    let status = response.status();
    let path = uri.path();
    let bytes_out = exact_size(response.body());
    let bytes_in = match &bytes_in {
        BytesIn::Known(n) => *n,
        BytesIn::Counted(counter) => counter.load(Ordering::Relaxed),
    };
    let usage = call_usage(&method, path, &response, bytes_in, bytes_out);
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
    count_bytes_out(state, auth.customer_id, response)
}

/// The size of a request body: known at once, or counted as it is read.
enum BytesIn {
    Known(u64),
    Counted(Arc<AtomicU64>),
}

/// `req` with its body counted, unless its size is known (every GET, most JSON posts):
/// those are counted without wrapping them.
fn count_bytes_in(req: Request) -> (Request, BytesIn) {
    if let Some(n) = exact_size(req.body()) {
        return (req, BytesIn::Known(n));
    }
    let bytes_in = Arc::new(AtomicU64::new(0));
    let counter = bytes_in.clone();
    let (parts, body) = req.into_parts();
    let body = counted(body, move |n| {
        counter.fetch_add(n, Ordering::Relaxed);
    });
    (Request::from_parts(parts, body), BytesIn::Counted(bytes_in))
}

/// What one answered call adds to its customer's usage: a request, its bytes, and a
/// message (of its media kind) when it sent one that was not a replay.
fn call_usage(
    method: &axum::http::Method,
    path: &str,
    response: &Response,
    bytes_in: u64,
    bytes_out: Option<u64>,
) -> Usage {
    let mut usage = Usage {
        api_requests: 1,
        bytes_in: bytes_in as i64,
        bytes_out: bytes_out.unwrap_or(0) as i64,
        ..Usage::default()
    };
    let replayed = response.headers().contains_key(idempotency::REPLAYED);
    if response.status().is_success() && !replayed && sends_a_message(method, path) {
        usage.messages_sent = 1;
        match media_kind(path) {
            Some("image") => usage.images_sent = 1,
            Some("video") => usage.videos_sent = 1,
            Some(_) => usage.files_sent = 1,
            None => {}
        }
    }
    usage
}

/// `response` with its body's bytes added to `customer`'s usage once it has been sent.
fn count_bytes_out(state: &AppState, customer: uuid::Uuid, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let usage_state = state.clone();
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

#[cfg(test)]
mod tests {
    use super::sends_a_message;
    use axum::http::Method;

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
