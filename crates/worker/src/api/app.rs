//! Logging the WhatsApp session in and out, and its status (`/api/v1/app`).

use super::{fields::*, Caller};
use crate::session::instance::{Instance, Status};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use wasp_http::error::{ok, Query, Result};

/// A session's status as the API shows it.
pub(crate) fn status_json(instance: &Instance, status: &Status) -> Value {
    let s = &status.session;
    json!({
        "state": s.state,
        "state_reason": s.reason,
        "is_connected": s.state == "connected",
        "is_logged_in": s.logged_in,
        "mode": instance.key.mode.as_str(),
        "driver": instance.driver.name(),
        "phone_number": s.phone.as_ref().map(|p| format!("+{p}")),
        "jid": s.jid,
        "lid": s.lid,
        "push_name": s.push_name,
        "connected_at": s.connected_at,
        "qr_code": status.qr.as_ref().map(|(code, _)| code),
        "qr_expires_at": status.qr.as_ref().map(|(_, at)| at),
        "pair_code": status.pair_code,
    })
}

pub(super) async fn login_qr(caller: Caller) -> Result<Response> {
    let qr = caller.instance.driver.login_qr().await?;
    caller.instance.flush().await;
    let status = caller.instance.status();
    Ok(ok(json!({
        "qr_code": qr.code,
        "qr_duration": qr.ttl.as_secs(),
        "state": status.session.state,
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PhoneQuery {
    /// The phone number of the account to link, in international format (`6281234567890`).
    #[param(value_type = Option<crate::api::doc::Phone>, required = true)]
    phone: Option<String>,
}

pub(super) async fn login_code(caller: Caller, Query(q): Query<PhoneQuery>) -> Result<Response> {
    let phone = phone_field("phone", q.phone.as_deref())?;
    let code = caller.instance.driver.login_code(&phone).await?;
    caller.instance.flush().await;
    Ok(ok(json!({ "pair_code": code, "phone_number": format!("+{phone}") })).into_response())
}

pub(super) async fn logout(caller: Caller) -> Result<Response> {
    caller.instance.driver.logout().await?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

pub(super) async fn reconnect(caller: Caller) -> Result<Response> {
    caller.instance.driver.reconnect().await?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

pub(super) async fn app_status(caller: Caller) -> Result<Response> {
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}
