//! Customer accounts for the dashboard (`/api/customer/auth/*`): customers sign in with
//! their e-mail and password — the temporary one an operator's creation hands out, or the
//! one they chose at sign-up — and get a session in two HTTP-only cookies: `wasp_customer`
//! (access JWT, 24 h, Path=/) and `wasp_customer_refresh` (7 days, rotating, Path=
//! /api/customer/auth). The pieces are the operators' (`auth/`): argon2id, JWTs bound to a
//! revocable row (`customer_sessions`), refresh rotation with reuse detection, the per
//! (e-mail, address) lockout that answers unknown e-mails alike (`customer_login_failures`),
//! per-address throttling, audit rows.
//!
//! With the cookie, the dashboard calls the customer API (`/api/v1/*`) as the customer:
//! [`gateway_auth`] turns the session into a [`CustomerAuth`] of the mode the request names
//! in `X-Wasp-Mode` (`live` or `test`), with every scope. A temporary password must be
//! changed first (`PASSWORD_CHANGE_REQUIRED`); an unverified e-mail keeps the customer to
//! its test session (`EMAIL_NOT_VERIFIED` on live). Password resets, e-mail verification
//! and sign-up (`WASP_SIGNUP=open`) use one-time links mailed in the background
//! (`mail.rs`; [`tokens`]).

pub mod tokens;

use crate::{
    audit::AuditEvent,
    auth::{self, Attempts},
    crypto,
    customers::revoke_sessions,
    db::{Db, Inet, Tx},
    error::{code, ok, Envelope, ErrorBody, Json},
    http::RequestMeta,
    keys::CustomerAuth,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{
    extract::{FromRequestParts, State},
    http::{header, request::Parts, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json as AxumJson,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;
use wasp_protocol::{KeyKind, Plan};

/// The access cookie (a JWT naming the session), sent on every path.
pub const ACCESS_COOKIE: &str = "wasp_customer";
/// The refresh cookie, sent only to `/api/customer/auth/*`.
pub const REFRESH_COOKIE: &str = "wasp_customer_refresh";
const REFRESH_PATH: &str = "/api/customer/auth";
/// The header a dashboard call to `/api/v1` names its session with.
pub const MODE_HEADER: &str = "x-wasp-mode";
const ACCESS_TYP: &str = "customer_access";
const REFRESH_TYP: &str = "customer_refresh";
pub(crate) const FAILURES: &str = "customer_login_failures";

/// A customer as the dashboard shows it to themselves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerProfile {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub company: Option<String>,
    /// IANA zone name, such as `Asia/Jakarta` (default `UTC`).
    pub timezone: String,
    /// Language tag, such as `en` or `pt-BR` (default `en`).
    pub language: String,
    /// basic, pro, business, enterprise
    pub plan: String,
    /// active or suspended
    pub status: String,
    /// Until it is, only the test (sandbox) session can be used.
    pub email_verified: bool,
}

/// What sign-in, refresh, `me` and a password change answer (`data`). The tokens are in
/// the cookies only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerSessionInfo {
    pub customer: CustomerProfile,
    /// A temporary password: every other call answers `403 PASSWORD_CHANGE_REQUIRED`
    /// until `POST /api/customer/auth/password`.
    pub must_change_password: bool,
    /// When the access cookie expires (refresh before).
    pub expires_at: DateTime<Utc>,
}

/// `{success: true, data}` of a call that answers a simple confirmation.
#[derive(Serialize, ToSchema)]
pub struct AcceptedAnswer {
    pub success: bool,
    #[schema(value_type = Object, example = json!({"accepted": true}))]
    pub data: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    email: String,
    full_name: Option<String>,
    company_name: Option<String>,
    timezone: String,
    language: String,
    plan: String,
    status: String,
    password_must_change: bool,
    email_verified_at: Option<DateTime<Utc>>,
    deleted_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl SessionRow {
    fn usable(&self) -> bool {
        self.revoked_at.is_none() && self.expires_at > Utc::now() && self.deleted_at.is_none()
    }

    fn profile(&self, id: Uuid) -> CustomerProfile {
        CustomerProfile {
            id,
            email: self.email.clone(),
            name: self.full_name.clone(),
            company: self.company_name.clone(),
            timezone: self.timezone.clone(),
            language: self.language.clone(),
            plan: self.plan.clone(),
            status: self.status.clone(),
            email_verified: self.email_verified_at.is_some(),
        }
    }
}

async fn load_session(db: &Db, customer: Uuid, session: Uuid) -> Result<Option<SessionRow>> {
    let sql =
        "SELECT c.email, c.full_name, c.company_name, c.timezone, c.language, c.plan, c.status, \
               c.password_must_change, \
               c.email_verified_at, c.deleted_at, s.expires_at, s.revoked_at \
               FROM customer_sessions s JOIN customers c ON c.id = s.customer_id \
               WHERE s.id = $1 AND s.customer_id = $2";
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, SessionRow>(sql)
        .bind(session)
        .bind(customer)
        .fetch_optional(pool)
        .await)?)
}

fn suspended() -> Error {
    Error::client(
        StatusCode::FORBIDDEN,
        code::CUSTOMER_SUSPENDED,
        "this account is suspended; contact support",
    )
}

/// A request signed in with the dashboard's access cookie.
#[derive(Debug, Clone)]
pub struct CustomerSession {
    pub customer_id: Uuid,
    pub session_id: Uuid,
    pub profile: CustomerProfile,
    pub must_change_password: bool,
    /// When the access cookie's token expires.
    pub expires_at: DateTime<Utc>,
}

impl CustomerSession {
    pub fn info(&self) -> CustomerSessionInfo {
        CustomerSessionInfo {
            customer: self.profile.clone(),
            must_change_password: self.must_change_password,
            expires_at: self.expires_at,
        }
    }
}

/// The session the access cookie names: `401 UNAUTHORIZED` when there is none or it ended,
/// `403 CUSTOMER_SUSPENDED` for a suspended customer. An operator's token is no customer's
/// (its claims are of another kind).
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<CustomerSession> {
    let token = auth::cookie(headers, ACCESS_COOKIE).ok_or_else(auth::invalid_token)?;
    let claims = auth::verify(state, token, ACCESS_TYP)?;
    let row = load_session(&state.db, claims.sub, claims.sid)
        .await?
        .filter(SessionRow::usable)
        .ok_or_else(auth::invalid_token)?;
    if row.status == "suspended" {
        return Err(suspended());
    }
    Ok(CustomerSession {
        customer_id: claims.sub,
        session_id: claims.sid,
        must_change_password: row.password_must_change,
        expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now),
        profile: row.profile(claims.sub),
    })
}

impl FromRequestParts<AppState> for CustomerSession {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        authenticate(state, &parts.headers).await
    }
}

/// A dashboard call to the customer API (`/api/v1/*` with the access cookie and no API
/// key): the customer, in the session `X-Wasp-Mode` names, with every scope — what a key
/// of that mode with `*` would be. Refused: `PASSWORD_CHANGE_REQUIRED` (403) while the
/// password is temporary, `MODE_REQUIRED` (400) without a valid `X-Wasp-Mode`,
/// `EMAIL_NOT_VERIFIED` (403) for the live session of an unverified e-mail.
pub async fn gateway_auth(state: &AppState, headers: &HeaderMap) -> Result<CustomerAuth> {
    let session = authenticate(state, headers).await?;
    if session.must_change_password {
        return Err(password_change_required());
    }
    let mode = match headers.get(MODE_HEADER).map(|v| v.as_bytes()) {
        Some(b"live") => KeyKind::Live,
        Some(b"test") => KeyKind::Test,
        _ => {
            return Err(Error::client(
                StatusCode::BAD_REQUEST,
                code::MODE_REQUIRED,
                "a dashboard call names its session: send the header X-Wasp-Mode: live or X-Wasp-Mode: test",
            ))
        }
    };
    if mode == KeyKind::Live && !session.profile.email_verified {
        return Err(crate::keys::email_not_verified());
    }
    Ok(CustomerAuth {
        customer_id: session.customer_id,
        key_id: None,
        session_id: Some(session.session_id),
        email_verified: session.profile.email_verified,
        mode,
        scopes: Arc::from(vec![wasp_protocol::Scope::All.to_string()]),
        plan: session.profile.plan.parse().unwrap_or(Plan::Basic),
        expires_at: Some(session.expires_at),
    })
}

fn password_change_required() -> Error {
    Error::client(
        StatusCode::FORBIDDEN,
        code::PASSWORD_CHANGE_REQUIRED,
        "change your temporary password first (POST /api/customer/auth/password)",
    )
}

/// Whether a dashboard session still opens a customer's event stream (`streams.rs`): the
/// session is live and the customer active.
pub async fn session_still_valid(state: &AppState, customer: Uuid, session: Uuid) -> Result<bool> {
    Ok(load_session(&state.db, customer, session)
        .await?
        .is_some_and(|row| row.usable() && row.status == "active" && !row.password_must_change))
}

/// Tells the gateway (every replica) that `customer`'s sessions changed: its open event
/// streams check their credential again.
async fn sessions_changed(state: &AppState, customer: Uuid) {
    state
        .cache
        .invalidate(crate::cache::Invalidation::Customer(customer))
        .await;
}

/// Refuses a request past the per-address throttle of the account routes.
async fn throttle(state: &AppState, meta: &RequestMeta) -> Result<()> {
    if let Err(retry_after) = state.customer_throttle.check(meta.ip) {
        AuditEvent::security_event("anonymous", None, "customer_auth_throttled", meta)
            .failure("too many account requests from this address")
            .write_alone(&state.db)
            .await?;
        return Err(Error::RateLimited {
            code: code::RATE_LIMIT_EXCEEDED,
            message: format!("too many attempts; try again in {retry_after} seconds"),
            retry_after,
        });
    }
    Ok(())
}

/// The answer that carries a session: `info` in the envelope, the tokens in the cookies.
fn session_answer(
    state: &AppState,
    info: &CustomerSessionInfo,
    access: &str,
    refresh: &str,
    refresh_ttl: chrono::Duration,
) -> Response {
    let mut response = ok(info).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        auth::cookie_header(
            state,
            ACCESS_COOKIE,
            access,
            "/",
            auth::ACCESS_TTL.num_seconds(),
        ),
    );
    headers.append(
        header::SET_COOKIE,
        auth::cookie_header(
            state,
            REFRESH_COOKIE,
            refresh,
            REFRESH_PATH,
            refresh_ttl.num_seconds().max(1),
        ),
    );
    response
}

/// Signs the session's tokens and loads what the answer shows.
async fn issue(
    state: &AppState,
    customer: Uuid,
    session: Uuid,
    generation: i32,
    refresh_ttl: chrono::Duration,
) -> Result<Response> {
    let (access, expires_at) =
        auth::sign_generation(state, customer, session, ACCESS_TYP, auth::ACCESS_TTL, 0)?;
    let (refresh, _) = auth::sign_generation(
        state,
        customer,
        session,
        REFRESH_TYP,
        refresh_ttl,
        generation,
    )?;
    let row = load_session(&state.db, customer, session)
        .await?
        .ok_or_else(auth::invalid_token)?;
    let info = CustomerSessionInfo {
        customer: row.profile(customer),
        must_change_password: row.password_must_change,
        expires_at,
    };
    Ok(session_answer(state, &info, &access, &refresh, refresh_ttl))
}

/// `POST /api/customer/auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerLogin {
    pub email: String,
    pub password: String,
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: Uuid,
    password_hash: Option<String>,
    status: String,
}

/// Counts a failed sign-in (of a customer, or of an e-mail no customer has), audited; the
/// lock time when this one locked the e-mail for the address.
async fn record_failure(
    db: &Db,
    attempts: &Attempts,
    customer: Option<Uuid>,
    reason: &str,
    meta: &RequestMeta,
) -> Result<Option<DateTime<Utc>>> {
    let (failures, lock) = attempts.failed(db).await?;
    let mut tx = db.begin().await?;
    AuditEvent::customer_auth_event(customer, "customer_login_failed", meta)
        .metadata(serde_json::json!({ "reason": reason, "consecutive_failures": failures }))
        .failure(reason)
        .write(&mut tx)
        .await?;
    if let Some(until) = lock {
        AuditEvent::security_event("customer", customer, "customer_account_locked", meta)
            .metadata(serde_json::json!({ "locked_until": until, "failures": failures }))
            .write(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(lock)
}

/// Sign in with e-mail and password. The session is in the cookies (`wasp_customer`,
/// `wasp_customer_refresh`), never in the body. Five failures of one e-mail from one
/// address lock it there for 15 minutes, for e-mails no customer has alike.
#[utoipa::path(post, path = "/api/customer/auth/login", operation_id = "customer_login", tag = "customer-auth", request_body = CustomerLogin,
    responses(
        (status = 200, description = "Signed in; cookies set", body = Envelope<CustomerSessionInfo>),
        (status = 401, description = "INVALID_CREDENTIALS (wrong password or unknown e-mail)", body = ErrorBody),
        (status = 403, description = "CUSTOMER_SUSPENDED (right password, suspended account)", body = ErrorBody),
        (status = 429, description = "ACCOUNT_LOCKED or RATE_LIMIT_EXCEEDED", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<CustomerLogin>,
) -> Result<Response> {
    throttle(&state, &meta).await?;
    let email = req.email.trim().to_lowercase();
    let attempts = Attempts::in_table(FAILURES, &email, &meta);
    let row = on_pool!(&state.db, |pool| {
        sqlx::query_as::<_, LoginRow>(
        "SELECT id, password_hash, status FROM customers WHERE LOWER(email) = $1 AND deleted_at IS NULL"
    )
    .bind(&email)
    .fetch_optional(pool)
    .await
    })?;
    let id = row.as_ref().map(|r| r.id);
    if let Some(until) = attempts.locked_until(&state.db).await? {
        AuditEvent::customer_auth_event(id, "customer_login_refused_locked", &meta)
            .failure("locked for this address")
            .write_alone(&state.db)
            .await?;
        return Err(auth::locked_error(until));
    }
    let hash = row.as_ref().and_then(|r| r.password_hash.as_deref());
    let password_ok = match hash {
        Some(hash) => crypto::verify_password(&req.password, hash),
        None => {
            // The same work and the same answers as for a customer's wrong password.
            crypto::burn_password_check(&req.password);
            false
        }
    };
    let Some(row) = row.filter(|_| password_ok) else {
        let reason = if id.is_some() {
            "wrong_password"
        } else {
            "unknown_email"
        };
        if let Some(until) = record_failure(&state.db, &attempts, id, reason, &meta).await? {
            return Err(auth::locked_error(until));
        }
        return Err(auth::bad_credentials());
    };
    if row.status != "active" {
        AuditEvent::customer_auth_event(Some(row.id), "customer_login_refused_suspended", &meta)
            .failure("customer suspended")
            .write_alone(&state.db)
            .await?;
        return Err(suspended());
    }
    let session = start_session(&state, row.id, &attempts, &meta).await?;
    issue(&state, row.id, session, 0, auth::REFRESH_TTL).await
}

/// Opens a dashboard session for `customer`, signed in: its row, the sign-in time, the
/// failures cleared and the audit row, in one transaction. The session's id.
async fn start_session(
    state: &AppState,
    customer: Uuid,
    attempts: &Attempts,
    meta: &RequestMeta,
) -> Result<Uuid> {
    let session = Uuid::now_v7();
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query("UPDATE customers SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(customer)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO customer_sessions (id, customer_id, created_at, expires_at, ip_address, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session)
        .bind(customer)
        .bind(now)
        .bind(now + auth::REFRESH_TTL)
        .bind(meta.ip.map(Inet))
        .bind(meta.user_agent.as_deref())
        .execute(&mut *conn)
        .await?;
    });
    attempts.succeeded(&mut tx).await?;
    AuditEvent::customer_auth_event(Some(customer), "customer_login", meta)
        .resource("customer", customer)
        .metadata(serde_json::json!({ "session_id": session }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(session)
}

/// How long a refresh token stays good after it rotated: two tabs of the dashboard that
/// refresh at once send the same cookie, and the one answered second must not look like a
/// stolen token. Within this window the token just replaced is answered with the same
/// successor (the session's current generation); after it, presenting it is reuse.
pub const REFRESH_GRACE: chrono::Duration = chrono::Duration::seconds(20);

/// What presenting a refresh token of generation `gen` did to session `sid`.
enum Rotation {
    /// Moved on to this generation.
    Rotated(i32),
    /// The token was replaced moments ago: answered with the current generation again.
    Grace(i32),
    /// Used before (outside the grace window): the session is revoked.
    Reused,
}

/// Moves the session's refresh generation on from `gen` (one use per token), or accepts
/// the generation just replaced within [`REFRESH_GRACE`] of its rotation, or revokes the
/// session (in `tx`; the caller records the security event and commits).
async fn rotate(tx: &mut Tx, sid: Uuid, gen: i32) -> Result<Rotation> {
    let now = Utc::now();
    let next: Option<i32> = on_tx!(tx, |conn| {
        sqlx::query_scalar(
        "UPDATE customer_sessions SET refresh_generation = refresh_generation + 1, refresh_rotated_at = $3 \
         WHERE id = $1 AND refresh_generation = $2 AND revoked_at IS NULL RETURNING refresh_generation"
    )
    .bind(sid)
    .bind(gen)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    })?;
    if let Some(next) = next {
        return Ok(Rotation::Rotated(next));
    }
    let current: Option<(i32, Option<DateTime<Utc>>)> = on_tx!(tx, |conn| sqlx::query_as(
        "SELECT refresh_generation, refresh_rotated_at FROM customer_sessions \
         WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(sid)
    .fetch_optional(&mut *conn)
    .await)?;
    if let Some((current, Some(rotated_at))) = current {
        if current == gen.saturating_add(1) && now - rotated_at <= REFRESH_GRACE {
            return Ok(Rotation::Grace(current));
        }
    }
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE customer_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"
    )
    .bind(now)
    .bind(sid)
    .execute(&mut *conn)
    .await
    .map(|_| ()))?;
    Ok(Rotation::Reused)
}

/// New cookies for the refresh cookie. Refresh tokens rotate: each works once, and one
/// presented again ends the whole session (a `refresh_token_reused` security event) —
/// except within 20 seconds of its rotation, when it is answered with the same successor
/// (two tabs refreshing at once with the same cookie).
#[utoipa::path(post, path = "/api/customer/auth/refresh", operation_id = "customer_refresh", tag = "customer-auth",
    responses(
        (status = 200, description = "New cookies set", body = Envelope<CustomerSessionInfo>),
        (status = 401, description = "UNAUTHORIZED: no, used, expired or revoked refresh cookie", body = ErrorBody),
        (status = 403, description = "CUSTOMER_SUSPENDED", body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Result<Response> {
    let token = auth::cookie(&headers, REFRESH_COOKIE).ok_or_else(auth::invalid_token)?;
    let claims = auth::verify(&state, token, REFRESH_TYP)?;
    let row = load_session(&state.db, claims.sub, claims.sid)
        .await?
        .filter(SessionRow::usable)
        .ok_or_else(auth::invalid_token)?;
    if row.status == "suspended" {
        return Err(suspended());
    }
    let mut tx = state.db.begin().await?;
    let (next, grace) = match rotate(&mut tx, claims.sid, claims.gen).await? {
        Rotation::Rotated(next) => (next, false),
        Rotation::Grace(current) => (current, true),
        Rotation::Reused => {
            AuditEvent::security_event("customer", Some(claims.sub), "refresh_token_reused", &meta)
                .resource("customer", claims.sub)
                .severity("critical")
                .failure("a used refresh token was presented again; the session is ended")
                .write(&mut tx)
                .await?;
            tx.commit().await?;
            sessions_changed(&state, claims.sub).await;
            return Err(auth::invalid_token());
        }
    };
    let mut event =
        AuditEvent::customer_auth_event(Some(claims.sub), "customer_token_refreshed", &meta)
            .resource("customer", claims.sub);
    if grace {
        event = event.metadata(serde_json::json!({ "session_id": claims.sid, "grace": true }));
    }
    event.write(&mut tx).await?;
    tx.commit().await?;
    issue(
        &state,
        claims.sub,
        claims.sid,
        next,
        row.expires_at - Utc::now(),
    )
    .await
}

/// Sign out: the session ends at once (its event streams too) and both cookies are
/// cleared. Answers 200 also without a valid session, so a stale page can always sign out.
#[utoipa::path(post, path = "/api/customer/auth/logout", operation_id = "customer_logout", tag = "customer-auth",
    responses((status = 200, description = "Signed out; cookies cleared", body = AcceptedAnswer)))]
pub async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Result<Response> {
    // The access cookie's session, or the refresh cookie's once the access one expired.
    let claims = auth::cookie(&headers, ACCESS_COOKIE)
        .and_then(|t| auth::verify(&state, t, ACCESS_TYP).ok())
        .or_else(|| {
            auth::cookie(&headers, REFRESH_COOKIE)
                .and_then(|t| auth::verify(&state, t, REFRESH_TYP).ok())
        });
    if let Some(claims) = claims {
        let mut tx = state.db.begin().await?;
        let ended = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE customer_sessions SET revoked_at = $1 \
             WHERE id = $2 AND customer_id = $3 AND revoked_at IS NULL"
        )
        .bind(Utc::now())
        .bind(claims.sid)
        .bind(claims.sub)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected()))?;
        if ended > 0 {
            AuditEvent::customer_auth_event(Some(claims.sub), "customer_logout", &meta)
                .resource("customer", claims.sub)
                .write(&mut tx)
                .await?;
        }
        tx.commit().await?;
        if ended > 0 {
            sessions_changed(&state, claims.sub).await;
        }
    }
    let mut response = ok(serde_json::json!({ "logged_out": true })).into_response();
    let out = response.headers_mut();
    out.append(
        header::SET_COOKIE,
        auth::cookie_header(&state, ACCESS_COOKIE, "", "/", 0),
    );
    out.append(
        header::SET_COOKIE,
        auth::cookie_header(&state, REFRESH_COOKIE, "", REFRESH_PATH, 0),
    );
    Ok(response)
}

/// The signed-in customer (works while the password must be changed).
#[utoipa::path(get, path = "/api/customer/auth/me", operation_id = "customer_me", tag = "customer-auth",
    responses(
        (status = 200, body = Envelope<CustomerSessionInfo>),
        (status = 401, description = "UNAUTHORIZED: no or ended session", body = ErrorBody),
        (status = 403, description = "CUSTOMER_SUSPENDED", body = ErrorBody)),
    security(("customer_cookie" = [])))]
pub async fn me(session: CustomerSession) -> AxumJson<Envelope<CustomerSessionInfo>> {
    ok(session.info())
}

/// `PATCH /api/customer/auth/me` body: only the fields given change. The e-mail address,
/// plan, status and limits are not yours to change here (ask the operator).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerProfileUpdate {
    /// Your name, at most 255 characters; an empty string removes it.
    pub name: Option<String>,
    /// Your company, at most 255 characters; an empty string removes it.
    pub company: Option<String>,
    /// An IANA zone name, such as `Asia/Jakarta`.
    pub timezone: Option<String>,
    /// A language tag, such as `en` or `pt-BR`.
    pub language: Option<String>,
}

/// A profile text field: trimmed, at most 255 printable characters; empty means none.
fn profile_text(field: &str, value: Option<String>) -> Result<Option<Option<String>>> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim().to_owned();
    crate::customers::check_opt(field, &Some(value.clone()), 255)?;
    Ok(Some((!value.is_empty()).then_some(value)))
}

/// Change your own profile: name, company, time zone and language. Fields left out stay
/// as they are. Audited (`customer_profile_updated`, with the names of the fields changed).
#[utoipa::path(patch, path = "/api/customer/auth/me", operation_id = "customer_update_profile", tag = "customer-auth", request_body = CustomerProfileUpdate,
    responses(
        (status = 200, description = "Saved; the answer shows the session with the new profile", body = Envelope<CustomerSessionInfo>),
        (status = 400, description = "VALIDATION_ERROR at the field (too long, control characters, not a time zone or language tag), or a field that is not yours to change", body = ErrorBody),
        (status = 401, description = "UNAUTHORIZED: no or ended session", body = ErrorBody),
        (status = 403, description = "PASSWORD_CHANGE_REQUIRED, CUSTOMER_SUSPENDED, or FORBIDDEN (a cross-site request)", body = ErrorBody),
        (status = 429, description = "RATE_LIMIT_EXCEEDED", body = ErrorBody)),
    security(("customer_cookie" = [])))]
pub async fn update_profile(
    State(state): State<AppState>,
    session: CustomerSession,
    meta: RequestMeta,
    Json(req): Json<CustomerProfileUpdate>,
) -> Result<AxumJson<Envelope<CustomerSessionInfo>>> {
    if session.must_change_password {
        return Err(password_change_required());
    }
    let name = profile_text("name", req.name)?;
    let company = profile_text("company", req.company)?;
    let timezone = req.timezone.map(|t| t.trim().to_owned());
    let language = req.language.map(|l| l.trim().to_owned());
    crate::customers::check_timezone(&timezone)?;
    crate::customers::check_language(&language)?;
    let changed: Vec<&str> = [
        ("name", name.is_some()),
        ("company", company.is_some()),
        ("timezone", timezone.is_some()),
        ("language", language.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, given)| given.then_some(field))
    .collect();
    if !changed.is_empty() {
        let mut tx = state.db.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE customers SET full_name = CASE WHEN $1 THEN $2 ELSE full_name END, \
             company_name = CASE WHEN $3 THEN $4 ELSE company_name END, \
             timezone = COALESCE($5, timezone), language = COALESCE($6, language), updated_at = $7 \
             WHERE id = $8 AND deleted_at IS NULL"
        )
        .bind(name.is_some())
        .bind(name.clone().flatten())
        .bind(company.is_some())
        .bind(company.clone().flatten())
        .bind(&timezone)
        .bind(&language)
        .bind(Utc::now())
        .bind(session.customer_id)
        .execute(&mut *conn)
        .await
        .map(|_| ()))?;
        AuditEvent::customer_auth_event(
            Some(session.customer_id),
            "customer_profile_updated",
            &meta,
        )
        .resource("customer", session.customer_id)
        .metadata(serde_json::json!({ "fields": changed }))
        .write(&mut tx)
        .await?;
        tx.commit().await?;
    }
    let row = load_session(&state.db, session.customer_id, session.session_id)
        .await?
        .ok_or_else(auth::invalid_token)?;
    let mut info = session.info();
    info.customer = row.profile(session.customer_id);
    Ok(ok(info))
}

/// `POST /api/customer/auth/password` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPasswordChange {
    pub current_password: String,
    /// At least 12 characters (at most 256 bytes), not the current one.
    pub new_password: String,
}

/// Checks a new customer password against the operators' rule.
fn check_new_password(field: &str, password: &str) -> Result<()> {
    crypto::check_password_policy(password).map_err(|m| Error::validation(field, m))
}

/// Change your password (the temporary one too): `must_change_password` is cleared and
/// every other session of yours ends.
#[utoipa::path(post, path = "/api/customer/auth/password", operation_id = "customer_change_password", tag = "customer-auth", request_body = CustomerPasswordChange,
    responses(
        (status = 200, description = "Changed; the answer shows the session", body = Envelope<CustomerSessionInfo>),
        (status = 400, description = "VALIDATION_ERROR: the new password breaks the rule (at least 12 characters) or is the current one", body = ErrorBody),
        (status = 401, description = "INVALID_CREDENTIALS (current password wrong) or UNAUTHORIZED", body = ErrorBody)),
    security(("customer_cookie" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    session: CustomerSession,
    meta: RequestMeta,
    Json(req): Json<CustomerPasswordChange>,
) -> Result<AxumJson<Envelope<CustomerSessionInfo>>> {
    let stored: Option<String> = on_pool!(&state.db, |pool| sqlx::query_scalar(
        "SELECT password_hash FROM customers WHERE id = $1"
    )
    .bind(session.customer_id)
    .fetch_one(pool)
    .await)?;
    let Some(hash) =
        auth::checked_password_change(stored.as_deref(), &req.current_password, &req.new_password)?
    else {
        AuditEvent::customer_auth_event(
            Some(session.customer_id),
            "customer_password_change_failed",
            &meta,
        )
        .failure("wrong current password")
        .write_alone(&state.db)
        .await?;
        return Err(auth::wrong_current_password());
    };
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE customers SET password_hash = $1, password_must_change = FALSE, updated_at = $2 WHERE id = $3"
    )
    .bind(&hash)
    .bind(Utc::now())
    .bind(session.customer_id)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })?;
    revoke_sessions(&mut tx, session.customer_id, Some(session.session_id)).await?;
    AuditEvent::customer_auth_event(
        Some(session.customer_id),
        "customer_password_changed",
        &meta,
    )
    .resource("customer", session.customer_id)
    .write(&mut tx)
    .await?;
    tx.commit().await?;
    sessions_changed(&state, session.customer_id).await;
    let mut info = session.info();
    info.must_change_password = false;
    Ok(ok(info))
}
