//! Operator authentication: argon2id passwords, JWT access (24 h) and
//! refresh (7 days) tokens bound to a revocable session row, HTTP-only SameSite=Strict
//! cookies or `Authorization: Bearer`, per-IP throttling and per-account lockout, optional
//! TOTP, and roles enforced on every admin route.

use crate::{
    audit::AuditEvent,
    crypto,
    db::{Db, Inet, Tx},
    error::{code, created, ok, Envelope, Json},
    http::RequestMeta,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{
    extract::{FromRequestParts, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, Method},
    response::{IntoResponse, Response},
    Json as AxumJson,
};
use chrono::{DateTime, Duration, Utc};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::{net::IpAddr, num::NonZeroU32};
use utoipa::ToSchema;
use uuid::Uuid;

pub const ACCESS_COOKIE: &str = "wasp_admin";
pub const REFRESH_COOKIE: &str = "wasp_admin_refresh";
pub(crate) const ACCESS_TTL: Duration = Duration::hours(24);
pub(crate) const REFRESH_TTL: Duration = Duration::days(7);
/// The table of operators' sign-in failures (customers have their own, see
/// `customer_auth.rs`).
const ADMIN_FAILURES: &str = "admin_login_failures";
/// Consecutive failures that lock an account, and for how long.
pub const LOCKOUT_THRESHOLD: i32 = 5;
pub const LOCKOUT_DURATION: Duration = Duration::minutes(15);

/// Operator roles, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Manages servers, customers and keys.
    Admin,
    /// Also manages operators.
    SuperAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
            Role::SuperAdmin => "super_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "admin" => Some(Role::Admin),
            "super_admin" => Some(Role::SuperAdmin),
            _ => None,
        }
    }
}

/// An authenticated operator, extracted from the cookie or bearer token.
#[derive(Debug, Clone)]
pub struct AdminAuth {
    pub admin_id: Uuid,
    pub email: String,
    pub role: Role,
    pub session_id: Uuid,
}

impl AdminAuth {
    /// Refuses with 403 unless the operator has at least `min`.
    pub fn require(&self, min: Role) -> Result<()> {
        if self.role >= min {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "this action needs the {} role",
                min.as_str()
            )))
        }
    }
}

/// What a session token says: whose (`sub`), which session row (`sid`), what for (`typ`:
/// `access`/`refresh` for operators, `customer_access`/`customer_refresh` for customers, so
/// one kind never passes for another).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) sub: Uuid,
    pub(crate) sid: Uuid,
    pub(crate) typ: String,
    iat: i64,
    pub(crate) exp: i64,
    /// A refresh token's generation in its session (see [`refresh`]).
    #[serde(default)]
    pub(crate) gen: i32,
}

fn sign(
    state: &AppState,
    admin_id: Uuid,
    session_id: Uuid,
    typ: &str,
    ttl: Duration,
) -> Result<(String, DateTime<Utc>)> {
    sign_generation(state, admin_id, session_id, typ, ttl, 0)
}

pub(crate) fn sign_generation(
    state: &AppState,
    admin_id: Uuid,
    session_id: Uuid,
    typ: &str,
    ttl: Duration,
    gen: i32,
) -> Result<(String, DateTime<Utc>)> {
    let now = Utc::now();
    let expires = now + ttl;
    let claims = Claims {
        sub: admin_id,
        sid: session_id,
        typ: typ.to_owned(),
        iat: now.timestamp(),
        exp: expires.timestamp(),
        gen,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&state.secrets.jwt_key),
    )
    .map_err(|e| Error::internal(format!("token signing failed: {e}")))?;
    Ok((token, expires))
}

pub(crate) fn verify(state: &AppState, token: &str, typ: &str) -> Result<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(&state.secrets.jwt_key),
        &validation,
    )
    .map_err(|_| invalid_token())?
    .claims;
    if claims.typ != typ {
        return Err(invalid_token());
    }
    Ok(claims)
}

pub(crate) fn invalid_token() -> Error {
    Error::unauthorized(
        code::UNAUTHORIZED,
        "missing, invalid or expired session token",
    )
}

/// Reads one cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    email: String,
    role: String,
    is_active: bool,
    password_must_change: bool,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

async fn load_session(db: &Db, admin_id: Uuid, session_id: Uuid) -> Result<Option<SessionRow>> {
    let sql =
        "SELECT a.email, a.role, a.is_active, a.password_must_change, s.expires_at, s.revoked_at \
               FROM admin_sessions s JOIN admin_users a ON a.id = s.admin_id \
               WHERE s.id = $1 AND s.admin_id = $2";
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, SessionRow>(sql)
        .bind(session_id)
        .bind(admin_id)
        .fetch_optional(pool)
        .await)?)
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(&parts.headers)
            .or_else(|| cookie(&parts.headers, ACCESS_COOKIE))
            .ok_or_else(invalid_token)?;
        let claims = verify(state, token, "access")?;
        let session = load_session(&state.db, claims.sub, claims.sid)
            .await?
            .ok_or_else(invalid_token)?;
        if session.revoked_at.is_some() || session.expires_at <= Utc::now() || !session.is_active {
            return Err(invalid_token());
        }
        let role = Role::parse(&session.role).ok_or_else(invalid_token)?;
        // A viewer reads: every change is refused here, before its body is even read, so
        // the answer is 403 whatever the body (only their own sign-out, password and MFA
        // are theirs to change).
        let own_account = parts.uri.path().starts_with("/api/admin/auth/");
        // A temporary password opens only the operator's own account (to replace it).
        if session.password_must_change && !own_account {
            return Err(Error::client(
                axum::http::StatusCode::FORBIDDEN,
                code::PASSWORD_CHANGE_REQUIRED,
                "change your temporary password first (POST /api/admin/auth/password)",
            ));
        }
        if role == Role::Viewer
            && !own_account
            && !matches!(parts.method, Method::GET | Method::HEAD)
        {
            return Err(Error::forbidden("this action needs the admin role"));
        }
        Ok(AdminAuth {
            admin_id: claims.sub,
            email: session.email,
            role,
            session_id: claims.sid,
        })
    }
}

/// Per-IP throttle for login attempts, ahead of the per-account lockout.
pub struct LoginThrottle {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginThrottle {
    /// `per_minute` attempts a minute per address, with that many in a burst.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        LoginThrottle {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
        }
    }

    /// `Err(seconds to wait)` when the address has used up its attempts.
    pub fn check(&self, ip: Option<IpAddr>) -> std::result::Result<(), u64> {
        let Some(ip) = ip else { return Ok(()) };
        self.limiter.check_key(&ip).map_err(|not_until| {
            let clock = governor::clock::DefaultClock::default();
            not_until.wait_time_from(clock.now()).as_secs().max(1)
        })
    }

    /// Drops idle entries so the map does not grow without bound.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
    }
}

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
struct LoginRow {
    id: Uuid,
    email: String,
    password_hash: String,
    full_name: Option<String>,
    role: String,
    mfa_enabled: bool,
    mfa_secret: Option<String>,
    is_active: bool,
    password_must_change: bool,
}

pub(crate) fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn with_session_cookies(state: &AppState, tokens: &TokenResponse, body: Response) -> Response {
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

pub(crate) fn locked_error(until: DateTime<Utc>) -> Error {
    let secs = (until - Utc::now()).num_seconds().max(1) as u64;
    Error::RateLimited {
        code: code::ACCOUNT_LOCKED,
        message: format!(
            "too many failed sign-ins; this account is locked for {} more minute(s)",
            secs.div_ceil(60)
        ),
        retry_after: secs,
    }
}

pub(crate) fn bad_credentials() -> Error {
    Error::unauthorized(code::INVALID_CREDENTIALS, "invalid email or password")
}

/// The checks of a password change, the same for operators and customers: the new password
/// meets the rule and is not the current one (`400 VALIDATION_ERROR` at `new_password`),
/// and the current one matches `stored`. `Some(hash)` of the new password to store, or
/// `None` when the current password is wrong: the caller audits that and answers
/// [`wrong_current_password`].
pub(crate) fn checked_password_change(
    stored: Option<&str>,
    current: &str,
    new: &str,
) -> Result<Option<String>> {
    crypto::check_password_policy(new).map_err(|m| Error::validation("new_password", m))?;
    if new == current {
        return Err(Error::validation(
            "new_password",
            "must differ from the current password",
        ));
    }
    if !stored.is_some_and(|h| crypto::verify_password(current, h)) {
        return Ok(None);
    }
    crypto::hash_password(new).map(Some)
}

pub(crate) fn wrong_current_password() -> Error {
    Error::unauthorized(code::INVALID_CREDENTIALS, "current password is wrong")
}

/// The sign-in failures of one e-mail from one address: five in a row lock that e-mail for
/// that address, whether or not an account has it (the answers do not tell), and a
/// stranger elsewhere cannot lock an account's owner out. Operators and customers count in
/// tables of their own (`table`), of the same shape.
pub(crate) struct Attempts {
    table: &'static str,
    email: String,
    ip: String,
}

impl Attempts {
    /// An operator's sign-in.
    fn new(email: &str, meta: &RequestMeta) -> Attempts {
        Attempts::in_table(ADMIN_FAILURES, email, meta)
    }

    /// A sign-in counted in `table` (`admin_login_failures` or `customer_login_failures`).
    pub(crate) fn in_table(table: &'static str, email: &str, meta: &RequestMeta) -> Attempts {
        Attempts {
            table,
            email: email.chars().take(255).collect(),
            ip: meta.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        }
    }

    /// Forgets every address's count and lock of `email` (a password reset).
    pub(crate) async fn clear_email(table: &'static str, email: &str, tx: &mut Tx) -> Result<()> {
        let sql = format!("DELETE FROM {table} WHERE email = $1");
        on_tx!(tx, |conn| sqlx::query(&sql)
            .bind(email)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Until when sign-ins of this e-mail from this address are refused, if they are.
    pub(crate) async fn locked_until(&self, db: &Db) -> Result<Option<DateTime<Utc>>> {
        let sql = format!(
            "SELECT locked_until FROM {} WHERE email = $1 AND ip_address = $2",
            self.table
        );
        let until: Option<Option<DateTime<Utc>>> = on_pool!(db, |pool| {
            sqlx::query_scalar(&sql)
                .bind(&self.email)
                .bind(&self.ip)
                .fetch_optional(pool)
                .await
        })?;
        Ok(until.flatten().filter(|u| *u > Utc::now()))
    }

    /// Counts a failure, locking at the threshold; the lock time when this one locked. Old
    /// rows are purged on the way.
    pub(crate) async fn failed(&self, db: &Db) -> Result<(i32, Option<DateTime<Utc>>)> {
        let now = Utc::now();
        let table = self.table;
        let purge = format!("DELETE FROM {table} WHERE updated_at < $1");
        let count = format!(
            "INSERT INTO {table} (email, ip_address, failures, updated_at) \
             VALUES ($1, $2, 1, $3) ON CONFLICT (email, ip_address) DO UPDATE \
             SET failures = {table}.failures + 1, updated_at = $3 RETURNING failures"
        );
        let lock_sql = format!(
            "UPDATE {table} SET failures = 0, locked_until = $1 WHERE email = $2 AND ip_address = $3"
        );
        let mut tx = db.begin().await?;
        let failures: i32 = on_tx!(&mut tx, |conn| {
            sqlx::query(&purge)
                .bind(now - Duration::days(1))
                .execute(&mut *conn)
                .await?;
            sqlx::query_scalar(&count)
                .bind(&self.email)
                .bind(&self.ip)
                .bind(now)
                .fetch_one(&mut *conn)
                .await
        })?;
        let lock = (failures >= LOCKOUT_THRESHOLD).then(|| now + LOCKOUT_DURATION);
        if let Some(until) = lock {
            on_tx!(&mut tx, |conn| sqlx::query(&lock_sql)
                .bind(until)
                .bind(&self.email)
                .bind(&self.ip)
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
        }
        tx.commit().await?;
        Ok((failures, lock))
    }

    /// A successful sign-in clears this address's count.
    pub(crate) async fn succeeded(&self, tx: &mut Tx) -> Result<()> {
        let sql = format!(
            "DELETE FROM {} WHERE email = $1 AND ip_address = $2",
            self.table
        );
        on_tx!(tx, |conn| sqlx::query(&sql)
            .bind(&self.email)
            .bind(&self.ip)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Counts a failed attempt (of an operator, or of an e-mail no operator has: `row` is
/// `None`), audited; the lock time when this failure locked the e-mail for the address.
async fn record_failure(
    db: &Db,
    attempts: &Attempts,
    row: Option<&LoginRow>,
    reason: &str,
    meta: &RequestMeta,
) -> Result<Option<DateTime<Utc>>> {
    let (failures, lock) = attempts.failed(db).await?;
    let id = row.map(|r| r.id);
    let mut tx = db.begin().await?;
    let mut failed = AuditEvent::auth_event(id, "login_failed", meta)
        .metadata(serde_json::json!({ "reason": reason, "consecutive_failures": failures }))
        .failure(reason);
    if let Some(id) = id {
        failed = failed.resource("admin_user", id);
    }
    failed.write(&mut tx).await?;
    if let Some(until) = lock {
        let mut locked = AuditEvent::security_event("admin", id, "account_locked", meta)
            .metadata(serde_json::json!({ "locked_until": until, "failures": failures }));
        if let Some(id) = id {
            locked = locked.resource("admin_user", id);
        }
        locked.write(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(lock)
}

fn totp_for(secret_b32: &str, email: &str) -> Result<totp_rs::TOTP> {
    let secret = totp_rs::Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|_| Error::internal("stored MFA secret is not valid base32"))?;
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        Some("wasp".into()),
        email.to_owned(),
    )
    .map_err(|e| Error::internal(format!("MFA secret unusable: {e}")))
}

fn totp_matches(secret_b32: &str, email: &str, code: &str) -> Result<bool> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    Ok(totp_for(secret_b32, email)?
        .check_current(code)
        .unwrap_or(false))
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
    if let Err(retry_after) = state.login_throttle.check(meta.ip) {
        AuditEvent::security_event("anonymous", None, "login_throttled", &meta)
            .failure("too many sign-in attempts from this address")
            .write_alone(&state.db)
            .await?;
        return Err(Error::RateLimited {
            code: code::RATE_LIMIT_EXCEEDED,
            message: format!("too many sign-in attempts; try again in {retry_after} seconds"),
            retry_after,
        });
    }
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
        let secret = row.mfa_secret.as_deref().unwrap_or_default();
        match req.totp_code.as_deref() {
            None => {
                AuditEvent::auth_event(Some(row.id), "login_mfa_required", &meta)
                    .resource("admin_user", row.id)
                    .failure("MFA code required")
                    .write_alone(&state.db)
                    .await?;
                return Err(Error::unauthorized(
                    code::MFA_REQUIRED,
                    "this account needs its 6-digit MFA code (totp_code)",
                ));
            }
            Some(code_given) if !totp_matches(secret, &row.email, code_given)? => {
                if let Some(until) =
                    record_failure(&state.db, &attempts, Some(&row), "wrong_mfa_code", &meta)
                        .await?
                {
                    return Err(locked_error(until));
                }
                return Err(Error::unauthorized(
                    code::INVALID_MFA_CODE,
                    "the MFA code is wrong or expired",
                ));
            }
            Some(_) => {}
        }
    }
    let tokens = start_session(&state, &row, &attempts, &meta).await?;
    let body = ok(&tokens).into_response();
    Ok(with_session_cookies(&state, &tokens, body))
}

async fn start_session(
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

/// `POST /api/admin/auth/password` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password; every other session of yours ends.
#[utoipa::path(post, path = "/api/admin/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 200), (status = 400), (status = 401)))]
pub async fn change_password(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Json(req): Json<ChangePasswordRequest>,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    let stored: String = on_pool!(&state.db, |pool| sqlx::query_scalar(
        "SELECT password_hash FROM admin_users WHERE id = $1"
    )
    .bind(admin.admin_id)
    .fetch_one(pool)
    .await)?;
    let Some(hash) =
        checked_password_change(Some(&stored), &req.current_password, &req.new_password)?
    else {
        AuditEvent::auth_event(Some(admin.admin_id), "password_change_failed", &meta)
            .failure("wrong current password")
            .write_alone(&state.db)
            .await?;
        return Err(wrong_current_password());
    };
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
            "UPDATE admin_users SET password_hash = $1, password_changed_at = $2, password_must_change = FALSE WHERE id = $3",
        )
        .bind(&hash)
        .bind(now)
        .bind(admin.admin_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE admin_sessions SET revoked_at = $1 WHERE admin_id = $2 AND id <> $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(admin.admin_id)
            .bind(admin.session_id)
            .execute(&mut *conn)
            .await?;
    });
    AuditEvent::auth_event(Some(admin.admin_id), "password_changed", &meta)
        .resource("admin_user", admin.admin_id)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(ok(serde_json::json!({ "password_changed": true })))
}

/// A new MFA secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaSetup {
    /// Base32 secret for authenticator apps.
    pub secret: String,
    /// `otpauth://` URL to show as a QR code.
    pub otpauth_url: String,
}

/// `POST /api/admin/auth/mfa/enable|disable` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCode {
    pub code: String,
}

/// Start MFA enrolment: returns a new secret (not active until confirmed with a code).
#[utoipa::path(post, path = "/api/admin/auth/mfa/setup", tag = "auth",
    responses((status = 201, body = Envelope<MfaSetup>), (status = 401), (status = 409)))]
pub async fn mfa_setup(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
) -> Result<impl IntoResponse> {
    let info = operator_info(&state.db, admin.admin_id).await?;
    if info.mfa_enabled {
        return Err(Error::conflict(
            code::CONFLICT,
            "MFA is already enabled; disable it first",
        ));
    }
    let secret = totp_rs::Secret::generate_secret().to_encoded().to_string();
    let otpauth_url = totp_for(&secret, &info.email)?.get_url();
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE admin_users SET mfa_secret = $1 WHERE id = $2"
    )
    .bind(&secret)
    .bind(admin.admin_id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    AuditEvent::auth_event(Some(admin.admin_id), "mfa_setup_started", &meta)
        .resource("admin_user", admin.admin_id)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(created(MfaSetup {
        secret,
        otpauth_url,
    }))
}

async fn set_mfa(
    state: &AppState,
    admin: &AdminAuth,
    meta: &RequestMeta,
    code_given: &str,
    enable: bool,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        email: String,
        mfa_enabled: bool,
        mfa_secret: Option<String>,
    }
    let row = on_pool!(&state.db, |pool| sqlx::query_as::<_, Row>(
        "SELECT email, mfa_enabled, mfa_secret FROM admin_users WHERE id = $1"
    )
    .bind(admin.admin_id)
    .fetch_one(pool)
    .await)?;
    let Some(secret) = row.mfa_secret.filter(|_| row.mfa_enabled != enable) else {
        return Err(Error::conflict(
            code::CONFLICT,
            if enable {
                "start with POST /api/admin/auth/mfa/setup (or MFA is already on)"
            } else {
                "MFA is not enabled"
            },
        ));
    };
    let action = if enable {
        "mfa_enabled"
    } else {
        "mfa_disabled"
    };
    if !totp_matches(&secret, &row.email, code_given)? {
        AuditEvent::auth_event(Some(admin.admin_id), action, meta)
            .failure("wrong MFA code")
            .write_alone(&state.db)
            .await?;
        return Err(Error::unauthorized(
            code::INVALID_MFA_CODE,
            "the MFA code is wrong or expired",
        ));
    }
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE admin_users SET mfa_enabled = $1, mfa_secret = $2 WHERE id = $3"
    )
    .bind(enable)
    .bind(enable.then_some(secret.clone()))
    .bind(admin.admin_id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    AuditEvent::auth_event(Some(admin.admin_id), action, meta)
        .resource("admin_user", admin.admin_id)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(ok(serde_json::json!({ "mfa_enabled": enable })))
}

/// Confirm MFA enrolment with a current code.
#[utoipa::path(post, path = "/api/admin/auth/mfa/enable", tag = "auth", request_body = MfaCode,
    responses((status = 200), (status = 401), (status = 409)))]
pub async fn mfa_enable(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Json(req): Json<MfaCode>,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    set_mfa(&state, &admin, &meta, &req.code, true).await
}

/// Turn MFA off (needs a current code).
#[utoipa::path(post, path = "/api/admin/auth/mfa/disable", tag = "auth", request_body = MfaCode,
    responses((status = 200), (status = 401), (status = 409)))]
pub async fn mfa_disable(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Json(req): Json<MfaCode>,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    set_mfa(&state, &admin, &meta, &req.code, false).await
}
