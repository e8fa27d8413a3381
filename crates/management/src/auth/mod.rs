//! Operator authentication: argon2id passwords, JWT access (24 h) and
//! refresh (7 days) tokens bound to a revocable session row, HTTP-only SameSite=Strict
//! cookies or `Authorization: Bearer`, per-IP throttling and per-account lockout, optional
//! TOTP, and roles enforced on every admin route.

use crate::{
    audit::AuditEvent, db::Db, error::code, http::RequestMeta, on_pool, AppState, Error, Result,
};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue, Method},
};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub mod mfa;
pub mod password;
pub mod session;
pub mod throttle;

pub use crate::limits::LoginThrottle;
pub(crate) use password::{checked_password_change, wrong_current_password};
pub use session::{OperatorInfo, TokenResponse};
pub(crate) use throttle::{bad_credentials, locked_error, Attempts};

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

pub(super) fn sign(
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
    .map_err(|e| Error::internal_source("token signing failed", e))?;
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

/// The audit rows of operators' actions (beside [`AdminAuth`], whose operator they name).
impl AuditEvent {
    /// An action taken by a signed-in operator.
    pub fn admin_action(admin: &AdminAuth, action: &str, meta: &RequestMeta) -> Self {
        let mut event = AuditEvent::new("admin_action", "admin", action, meta);
        event.actor_id = Some(admin.admin_id);
        event
    }
}
