//! An operator's session: sign-in (with the lockout and the TOTP code), refresh with
//! rotating tokens, sign-out, and who is signed in.

use super::{
    cookie, cookie_header, invalid_token, load_session,
    mfa::totp_matches,
    sign, sign_generation,
    throttle::{bad_credentials, locked_error, record_failure, Attempts},
    verify, AdminAuth, Role, ACCESS_COOKIE, ACCESS_TTL, REFRESH_COOKIE, REFRESH_TTL,
};
use crate::{
    audit::AuditEvent,
    crypto,
    db::{Db, Inet, Tx},
    error::{code, ok, Envelope, Json},
    http::RequestMeta,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json as AxumJson,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /api/admin/auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The current 6-digit code, for operators with MFA enabled.
    pub totp_code: Option<String>,
}

/// A signed-in operator as shown to themselves and to super admins.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorInfo {
    pub id: Uuid,
    pub email: String,
    pub full_name: Option<String>,
    pub role: Role,
    pub mfa_enabled: bool,
    /// The password is a temporary one a super admin set: until
    /// `POST /api/admin/auth/password` replaces it, every other admin call answers
    /// `403 PASSWORD_CHANGE_REQUIRED`.
    pub must_change_password: bool,
}

/// Tokens issued at login or refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Access token (24 h): send as `Authorization: Bearer` or rely on the cookie.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Refresh token (7 days), for `POST /api/admin/auth/refresh`.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub admin: OperatorInfo,
}

#[derive(sqlx::FromRow)]
pub(super) struct LoginRow {
    pub(super) id: Uuid,
    pub(super) email: String,
    pub(super) password_hash: String,
    pub(super) full_name: Option<String>,
    pub(super) role: String,
    pub(super) mfa_enabled: bool,
    pub(super) mfa_secret: Option<String>,
    pub(super) is_active: bool,
    pub(super) password_must_change: bool,
}

pub(super) fn with_session_cookies(
    state: &AppState,
    tokens: &TokenResponse,
    body: Response,
) -> Response {
    let mut response = body;
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie_header(
            state,
            ACCESS_COOKIE,
            &tokens.token,
            "/",
            ACCESS_TTL.num_seconds(),
        ),
    );
    headers.append(
        header::SET_COOKIE,
        cookie_header(
            state,
            REFRESH_COOKIE,
            &tokens.refresh_token,
            "/api/admin/auth",
            REFRESH_TTL.num_seconds(),
        ),
    );
    response
}

/// Sign in with email and password (and TOTP code when enabled).
#[utoipa::path(post, path = "/api/admin/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in; cookies set", body = Envelope<TokenResponse>),
              (status = 401, description = "INVALID_CREDENTIALS, MFA_REQUIRED or INVALID_MFA_CODE"),
              (status = 429, description = "ACCOUNT_LOCKED or RATE_LIMIT_EXCEEDED")))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<LoginRequest>,
) -> Result<Response> {
    check_throttle(&state, &meta).await?;
    let email = req.email.trim().to_lowercase();
    let attempts = Attempts::new(&email, &meta);
    let sql =
        "SELECT id, email, password_hash, full_name, role, mfa_enabled, mfa_secret, is_active, \
               password_must_change FROM admin_users WHERE LOWER(email) = $1";
    let row = on_pool!(&state.db, |pool| sqlx::query_as::<_, LoginRow>(sql)
        .bind(&email)
        .fetch_optional(pool)
        .await)?;
    if let Some(until) = attempts.locked_until(&state.db).await? {
        let mut refused =
            AuditEvent::auth_event(row.as_ref().map(|r| r.id), "login_refused_locked", &meta)
                .failure("locked for this address");
        if let Some(row) = &row {
            refused = refused.resource("admin_user", row.id);
        }
        refused.write_alone(&state.db).await?;
        return Err(locked_error(until));
    }
    let Some(row) = row else {
        // The same work and the same answers as for an operator's wrong password.
        crypto::burn_password_check(&req.password);
        if let Some(until) =
            record_failure(&state.db, &attempts, None, "unknown_email", &meta).await?
        {
            return Err(locked_error(until));
        }
        return Err(bad_credentials());
    };
    let password_ok = crypto::verify_password(&req.password, &row.password_hash);
    if !password_ok || !row.is_active {
        let reason = if password_ok {
            "inactive_account"
        } else {
            "wrong_password"
        };
        if let Some(until) = record_failure(&state.db, &attempts, Some(&row), reason, &meta).await?
        {
            return Err(locked_error(until));
        }
        return Err(bad_credentials());
    }
    if row.mfa_enabled {
        check_mfa_code(&state, &row, req.totp_code.as_deref(), &attempts, &meta).await?;
    }
    let tokens = start_session(&state, &row, &attempts, &meta).await?;
    let body = ok(&tokens).into_response();
    Ok(with_session_cookies(&state, &tokens, body))
}

/// The per-address throttle of operator sign-ins: a refusal is audited.
async fn check_throttle(state: &AppState, meta: &RequestMeta) -> Result<()> {
    if let Err(retry_after) = state.login_throttle.check(meta.ip) {
        AuditEvent::security_event("anonymous", None, "login_throttled", meta)
            .failure("too many sign-in attempts from this address")
            .write_alone(&state.db)
            .await?;
        return Err(Error::RateLimited {
            code: code::RATE_LIMIT_EXCEEDED,
            message: format!("too many sign-in attempts; try again in {retry_after} seconds"),
            retry_after,
        });
    }
    Ok(())
}

/// The TOTP code of a sign-in to an account with MFA: missing (audited) or wrong (counted
/// as a failure, like a wrong password) is refused.
async fn check_mfa_code(
    state: &AppState,
    row: &LoginRow,
    given: Option<&str>,
    attempts: &Attempts,
    meta: &RequestMeta,
) -> Result<()> {
    let secret = row.mfa_secret.as_deref().unwrap_or_default();
    match given {
        None => {
            AuditEvent::auth_event(Some(row.id), "login_mfa_required", meta)
                .resource("admin_user", row.id)
                .failure("MFA code required")
                .write_alone(&state.db)
                .await?;
            Err(Error::unauthorized(
                code::MFA_REQUIRED,
                "this account needs its 6-digit MFA code (totp_code)",
            ))
        }
        Some(code_given) if !totp_matches(secret, &row.email, code_given)? => {
            if let Some(until) =
                record_failure(&state.db, attempts, Some(row), "wrong_mfa_code", meta).await?
            {
                return Err(locked_error(until));
            }
            Err(Error::unauthorized(
                code::INVALID_MFA_CODE,
                "the MFA code is wrong or expired",
            ))
        }
        Some(_) => Ok(()),
    }
}

pub(super) async fn start_session(
    state: &AppState,
    row: &LoginRow,
    attempts: &Attempts,
    meta: &RequestMeta,
) -> Result<TokenResponse> {
    let session_id = Uuid::now_v7();
    let now = Utc::now();
    let (token, expires_at) = sign(state, row.id, session_id, "access", ACCESS_TTL)?;
    let (refresh_token, refresh_expires_at) =
        sign(state, row.id, session_id, "refresh", REFRESH_TTL)?;
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query("UPDATE admin_users SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(row.id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO admin_sessions (id, admin_id, created_at, expires_at, ip_address, user_agent) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(session_id)
            .bind(row.id)
            .bind(now)
            .bind(refresh_expires_at)
            .bind(meta.ip.map(Inet))
            .bind(meta.user_agent.as_deref())
            .execute(&mut *conn)
            .await?;
    });
    attempts.succeeded(&mut tx).await?;
    AuditEvent::auth_event(Some(row.id), "login", meta)
        .resource("admin_user", row.id)
        .metadata(serde_json::json!({ "session_id": session_id, "mfa": row.mfa_enabled }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(TokenResponse {
        token,
        expires_at,
        refresh_token,
        refresh_expires_at,
        admin: OperatorInfo {
            id: row.id,
            email: row.email.clone(),
            full_name: row.full_name.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            mfa_enabled: row.mfa_enabled,
            must_change_password: row.password_must_change,
        },
    })
}

/// `POST /api/admin/auth/refresh` body (the refresh cookie works instead).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
}

/// Exchange a refresh token (body or cookie) for a new access token and a new refresh
/// token. Refresh tokens rotate: each works once, and one presented again after it was used
/// (copied by someone else, or the real one after a thief used it) ends the whole session.
#[utoipa::path(post, path = "/api/admin/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Envelope<TokenResponse>), (status = 401)))]
pub async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response> {
    let from_body = if body.is_empty() {
        None
    } else {
        serde_json::from_slice::<RefreshRequest>(&body)
            .map_err(|e| Error::validation("body", e.to_string()))?
            .refresh_token
    };
    let token = from_body
        .as_deref()
        .or_else(|| cookie(&headers, REFRESH_COOKIE))
        .ok_or_else(invalid_token)?;
    let claims = verify(&state, token, "refresh")?;
    let session = load_session(&state.db, claims.sub, claims.sid)
        .await?
        .ok_or_else(invalid_token)?;
    if session.revoked_at.is_some() || session.expires_at <= Utc::now() || !session.is_active {
        return Err(invalid_token());
    }
    // Move the generation on, only from the one this token names: one use per token.
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let Some(next) = rotate_refresh(&mut tx, "admin_sessions", claims.sid, claims.gen).await?
    else {
        AuditEvent::security_event("admin", Some(claims.sub), "refresh_token_reused", &meta)
            .resource("admin_user", claims.sub)
            .severity("critical")
            .failure("a used refresh token was presented again; the session is ended")
            .write(&mut tx)
            .await?;
        tx.commit().await?;
        return Err(invalid_token());
    };
    tx.commit().await?;
    let (token, expires_at) = sign(&state, claims.sub, claims.sid, "access", ACCESS_TTL)?;
    let (refresh_token, refresh_expires_at) = sign_generation(
        &state,
        claims.sub,
        claims.sid,
        "refresh",
        session.expires_at - now,
        next,
    )?;
    let info = operator_info(&state.db, claims.sub).await?;
    AuditEvent::auth_event(Some(claims.sub), "token_refreshed", &meta)
        .resource("admin_user", claims.sub)
        .write_alone(&state.db)
        .await?;
    let tokens = TokenResponse {
        token,
        expires_at,
        refresh_token,
        refresh_expires_at,
        admin: info,
    };
    let response = ok(&tokens).into_response();
    Ok(with_session_cookies(&state, &tokens, response))
}

/// Moves the refresh generation of session `sid` (in `table`: `admin_sessions` or
/// `customer_sessions`) on from `gen`, the one the presented refresh token names: one use
/// per token. `None` when the token was used already: whoever holds it, the session is no
/// longer trusted, and it is revoked here (the caller records the security event and
/// commits).
pub(crate) async fn rotate_refresh(
    tx: &mut Tx,
    table: &'static str,
    sid: Uuid,
    gen: i32,
) -> Result<Option<i32>> {
    let bump = format!(
        "UPDATE {table} SET refresh_generation = refresh_generation + 1 \
         WHERE id = $1 AND refresh_generation = $2 AND revoked_at IS NULL RETURNING refresh_generation"
    );
    let next: Option<i32> = on_tx!(tx, |conn| {
        sqlx::query_scalar(&bump)
            .bind(sid)
            .bind(gen)
            .fetch_optional(&mut *conn)
            .await
    })?;
    if next.is_none() {
        let revoke =
            format!("UPDATE {table} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL");
        on_tx!(tx, |conn| sqlx::query(&revoke)
            .bind(Utc::now())
            .bind(sid)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
    }
    Ok(next)
}

/// End this session: the tokens stop working at once and the cookies are cleared.
#[utoipa::path(post, path = "/api/admin/auth/logout", tag = "auth",
    responses((status = 200), (status = 401)))]
pub async fn logout(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE admin_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"
    )
    .bind(Utc::now())
    .bind(admin.session_id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    AuditEvent::auth_event(Some(admin.admin_id), "logout", &meta)
        .resource("admin_user", admin.admin_id)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    let mut response = ok(serde_json::json!({ "logged_out": true })).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie_header(&state, ACCESS_COOKIE, "", "/", 0),
    );
    headers.append(
        header::SET_COOKIE,
        cookie_header(&state, REFRESH_COOKIE, "", "/api/admin/auth", 0),
    );
    Ok(response)
}

pub(crate) async fn operator_info(db: &Db, id: Uuid) -> Result<OperatorInfo> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        email: String,
        full_name: Option<String>,
        role: String,
        mfa_enabled: bool,
        password_must_change: bool,
    }
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Row>(
        "SELECT id, email, full_name, role, mfa_enabled, password_must_change FROM admin_users WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?
    .ok_or_else(|| Error::not_found("operator"))?;
    Ok(OperatorInfo {
        id: row.id,
        email: row.email,
        full_name: row.full_name,
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        mfa_enabled: row.mfa_enabled,
        must_change_password: row.password_must_change,
    })
}

/// The signed-in operator.
#[utoipa::path(get, path = "/api/admin/auth/me", tag = "auth",
    responses((status = 200, body = Envelope<OperatorInfo>), (status = 401)))]
pub async fn me(
    State(state): State<AppState>,
    admin: AdminAuth,
) -> Result<AxumJson<Envelope<OperatorInfo>>> {
    Ok(ok(operator_info(&state.db, admin.admin_id).await?))
}
