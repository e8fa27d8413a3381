//! An operator's TOTP second factor: enrolment, confirmation, removal, and the code check
//! of a sign-in.

use super::{session::operator_info, AdminAuth};
use crate::{
    audit::AuditEvent,
    error::{code, created, ok, Envelope, Json},
    http::RequestMeta,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{extract::State, response::IntoResponse, Json as AxumJson};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub(super) fn totp_for(secret_b32: &str, email: &str) -> Result<totp_rs::TOTP> {
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
    .map_err(|e| Error::internal_source("MFA secret unusable", e))
}

pub(super) fn totp_matches(secret_b32: &str, email: &str, code: &str) -> Result<bool> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    Ok(totp_for(secret_b32, email)?
        .check_current(code)
        .unwrap_or(false))
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

pub(super) async fn set_mfa(
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
