//! `Idempotency-Key` on send operations: the first request with a key is sent and its
//! answer kept for 24 hours; a retry with the same key and the same request gets that
//! answer again (`Idempotent-Replayed: true`) and sends nothing; the same key with another
//! request is refused with 409. Keys belong to one customer and one mode (live or test).

use crate::{error::code, on_pool, on_tx, AppState, Error, Result};
use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long an answer is kept.
pub const RETENTION: Duration = Duration::hours(24);
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// Largest answer kept for replay (send answers are small JSON documents).
pub const MAX_STORED_BODY: usize = 1024 * 1024;

pub const REPLAYED: &str = "idempotent-replayed";

/// A validated key and the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct Claim {
    pub customer: Uuid,
    pub mode: &'static str,
    pub key: String,
    pub request_hash: String,
}

impl Claim {
    pub fn new(
        customer: Uuid,
        mode: &'static str,
        key: &HeaderValue,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<Claim> {
        let key = key
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
            .ok_or_else(|| {
                Error::validation(
                    "Idempotency-Key",
                    format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
                )
            })?
            .to_owned();
        let mut hash = Sha256::new();
        hash.update(method.as_bytes());
        hash.update([0]);
        hash.update(path_and_query.as_bytes());
        hash.update([0]);
        hash.update(body);
        Ok(Claim {
            customer,
            mode,
            key,
            request_hash: hex::encode(hash.finalize()),
        })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    request_hash: String,
    state: String,
    response_status: Option<i32>,
    response_headers: Option<sqlx::types::Json<Vec<(String, String)>>>,
    response_body: Option<Vec<u8>>,
}

/// What to do with a request that carries a key.
pub enum Outcome {
    /// First use: send it, then [`finish`] (or [`abandon`]).
    Proceed,
    /// Answered before: this is the answer.
    Replay(Response),
}

fn in_progress() -> Error {
    Error::conflict(
        code::IDEMPOTENCY_IN_PROGRESS,
        "a request with this Idempotency-Key is still being answered; retry in a moment",
    )
}

fn reused() -> Error {
    Error::conflict(
        code::IDEMPOTENCY_KEY_REUSED,
        "this Idempotency-Key was used with a different request; use a new key for a new request",
    )
}

async fn read(state: &AppState, claim: &Claim) -> Result<Option<Row>> {
    let now = Utc::now();
    Ok(on_pool!(&state.db, |pool| {
        sqlx::query_as::<_, Row>(
        "SELECT request_hash, state, response_status, response_headers, response_body \
         FROM idempotency_keys WHERE customer_id = $1 AND mode = $2 AND key = $3 AND expires_at > $4"
    )
    .bind(claim.customer)
    .bind(claim.mode)
    .bind(&claim.key)
    .bind(now)
    .fetch_optional(pool)
    .await
    })?)
}

fn answer_of(claim: &Claim, row: Row) -> Result<Outcome> {
    if row.request_hash != claim.request_hash {
        return Err(reused());
    }
    if row.state != "done" {
        return Err(in_progress());
    }
    let status = row
        .response_status
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = Response::builder().status(status);
    if let Some(headers) = response.headers_mut() {
        for (name, value) in row.response_headers.map(|h| h.0).unwrap_or_default() {
            if let (Ok(n), Ok(v)) = (
                header::HeaderName::try_from(name),
                HeaderValue::try_from(value),
            ) {
                headers.insert(n, v);
            }
        }
        headers.insert(REPLAYED, HeaderValue::from_static("true"));
    }
    response
        .body(Body::from(row.response_body.unwrap_or_default()))
        .map(Outcome::Replay)
        .map_err(|e| Error::internal_source("the stored answer could not be rebuilt", e))
}

/// Whether an earlier request answered this key (read only; nothing is claimed).
pub async fn lookup(state: &AppState, claim: &Claim) -> Result<Option<Outcome>> {
    match read(state, claim).await? {
        Some(row) => answer_of(claim, row).map(Some),
        None => Ok(None),
    }
}

/// Claims the key for this request. Exactly one of several concurrent requests with the
/// same key proceeds; the others get its answer, or 409 while it is being answered.
pub async fn claim(state: &AppState, claim: &Claim) -> Result<Outcome> {
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    // An expired row of the same key is replaced.
    let inserted = on_tx!(&mut tx, |conn| {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE customer_id = $1 AND mode = $2 AND key = $3 AND expires_at <= $4",
        )
        .bind(claim.customer)
        .bind(claim.mode)
        .bind(&claim.key)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO idempotency_keys (customer_id, mode, key, request_hash, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(claim.customer)
        .bind(claim.mode)
        .bind(&claim.key)
        .bind(&claim.request_hash)
        .bind(now)
        .bind(now + RETENTION)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    if inserted == 1 {
        return Ok(Outcome::Proceed);
    }
    match read(state, claim).await? {
        Some(row) => answer_of(claim, row),
        None => Err(in_progress()),
    }
}

/// Keeps the answer of a claimed key for replay.
pub async fn finish(
    state: &AppState,
    claim: &Claim,
    status: StatusCode,
    content_type: Option<&HeaderValue>,
    body: &[u8],
) -> Result<()> {
    let headers: Vec<(String, String)> = content_type
        .and_then(|v| v.to_str().ok())
        .map(|v| vec![(header::CONTENT_TYPE.as_str().to_owned(), v.to_owned())])
        .unwrap_or_default();
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', response_status = $1, response_headers = $2, \
         response_body = $3 WHERE customer_id = $4 AND mode = $5 AND key = $6"
    )
    .bind(i32::from(status.as_u16()))
    .bind(sqlx::types::Json(headers))
    .bind(body)
    .bind(claim.customer)
    .bind(claim.mode)
    .bind(&claim.key)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(())
}

/// Gives a claimed key up when the request certainly sent nothing (the worker could not be
/// reached), so a retry with it sends.
pub async fn abandon(state: &AppState, claim: &Claim) -> Result<()> {
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "DELETE FROM idempotency_keys WHERE customer_id = $1 AND mode = $2 AND key = $3 AND state = 'pending'"
    )
    .bind(claim.customer)
    .bind(claim.mode)
    .bind(&claim.key)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(())
}

/// Deletes answers older than the retention (housekeeping).
pub async fn purge_expired(state: &AppState) -> Result<u64> {
    let mut tx = state.db.begin().await?;
    let n = on_tx!(&mut tx, |conn| sqlx::query(
        "DELETE FROM idempotency_keys WHERE expires_at <= $1"
    )
    .bind(Utc::now())
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}
