//! Calls (`/api/v1/call`).

use super::{fields::*, Caller};
use crate::driver::Action;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use wasp_http::error::{ok, Error, Json, Result};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RejectCall {
    /// Who is calling: a phone number or a JID.
    #[schema(value_type = crate::api::doc::Recipient)]
    caller_jid: String,
    /// The call's id, from the incoming-call event (at most 128 characters).
    #[schema(min_length = 1, max_length = 128)]
    call_id: String,
}

pub(super) async fn reject_call(caller: Caller, Json(req): Json<RejectCall>) -> Result<Response> {
    let from = recipient("caller_jid", &req.caller_jid)?;
    if req.call_id.is_empty() || req.call_id.chars().count() > 128 {
        return Err(Error::validation(
            "call_id",
            "is required (at most 128 characters)",
        ));
    }
    caller
        .instance
        .driver
        .act(&Action::RejectCall {
            caller: from,
            call_id: req.call_id.clone(),
        })
        .await?;
    Ok(ok(json!({ "call_id": req.call_id, "rejected": true })).into_response())
}

// ---- media -------------------------------------------------------------------------
