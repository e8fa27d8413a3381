//! Password changes: the checks operators and customers share, and an operator's own
//! `POST /api/admin/auth/password`.

use super::AdminAuth;
use crate::{
    audit::AuditEvent,
    crypto,
    error::{code, ok, Envelope, Json},
    http::RequestMeta,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{extract::State, Json as AxumJson};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

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
