//! Long-lived customer streams (`GET /api/v1/events`) live no longer than the key that
//! opened them. A stream's key is checked when it opens, like every call's; then the stream
//! ends at once when the key is revoked, expires, no longer carries the scope the stream
//! needs, or the customer is suspended or deleted. A stream the dashboard opened with its
//! signed-in session ends likewise when the session ends (sign-out, password change or
//! reset, refresh token reuse) or the customer is suspended or deleted. Every such change invalidates the
//! customer in the gateway cache, on this process and, through Redis, on every replica
//! ([`crate::cache::GatewayCache::watch_streams`]); each open stream of the customer then
//! checks its key again and ends if it no longer passes. Expiry needs no change: the stream
//! ends at the key's expiry time.

use crate::{
    keys::{self, CustomerAuth, KeyCheck},
    AppState,
};
use axum::{
    body::Body,
    http::{HeaderMap, Method, Request},
    response::Response,
};
use futures_util::StreamExt as _;

/// The scope the event stream needs (the one `/api/v1/events` is called with).
const SCOPE: wasp_protocol::Scope = wasp_protocol::Scope::MessagesRead;

/// Whether `req` opens a long-lived stream.
pub fn is_stream<B>(req: &Request<B>) -> bool {
    req.method() == Method::GET && req.uri().path() == "/api/v1/events"
}

/// What opened a stream, checked again at each wake-up.
#[derive(Debug, Clone)]
pub enum Credential {
    /// The API key presented.
    Key(String),
    /// The dashboard's session (its id is in the [`CustomerAuth`]).
    Session(uuid::Uuid),
}

impl Credential {
    /// The credential `auth` was made from (`None` if there is none to check again).
    pub fn of(auth: &CustomerAuth, headers: &HeaderMap) -> Option<Credential> {
        match auth.session_id {
            Some(session) => Some(Credential::Session(session)),
            None => keys::presented_key(headers).map(|k| Credential::Key(k.to_owned())),
        }
    }
}

/// The worker's streamed answer, ended as soon as `credential` stops passing.
pub fn guard(
    state: &AppState,
    auth: &CustomerAuth,
    credential: Credential,
    answer: Response,
) -> Response {
    let (parts, body) = answer.into_parts();
    let ended = Box::pin(until_void(state.clone(), auth.clone(), credential));
    let body = body.into_data_stream().take_until(ended);
    Response::from_parts(parts, Body::from_stream(body))
}

/// Resolves when the key no longer opens this customer's stream.
async fn until_void(state: AppState, auth: CustomerAuth, credential: Credential) {
    let mut woken = state.cache.watch_streams(auth.customer_id);
    let expiry = auth.expires_at.map(|at| {
        let left = (at - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + left
    });
    loop {
        tokio::select! {
            changed = woken.changed() => {
                if changed.is_err() || !still_passes(&state, &auth, &credential).await {
                    tracing::info!(customer = %auth.customer_id, key = ?auth.key_id,
                        "event stream ended: its key no longer passes");
                    return;
                }
            }
            () = sleep_until(expiry) => {
                tracing::info!(customer = %auth.customer_id, key = ?auth.key_id,
                    "event stream ended: its key or session token expired");
                return;
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Whether the key still opens this stream: valid, the same customer's, with the scope. A
/// database that cannot be asked keeps the stream (the next change checks again).
async fn still_passes(state: &AppState, auth: &CustomerAuth, credential: &Credential) -> bool {
    let presented = match credential {
        Credential::Key(presented) => presented,
        Credential::Session(session) => {
            return match crate::customer_auth::session_still_valid(
                state,
                auth.customer_id,
                *session,
            )
            .await
            {
                Ok(valid) => valid,
                Err(e) => {
                    tracing::warn!(error = %e, "could not check an event stream's session; it stays open");
                    true
                }
            };
        }
    };
    match keys::check_key(state, presented).await {
        Ok((_, key)) => {
            key.customer_id == auth.customer_id
                && Some(key.key_id) == auth.key_id
                && SCOPE.granted_by(&key.scopes)
        }
        Err(KeyCheck::Failed(e)) => {
            tracing::warn!(error = %e, "could not check an event stream's key; it stays open");
            true
        }
        Err(KeyCheck::Refused(_)) => false,
    }
}
