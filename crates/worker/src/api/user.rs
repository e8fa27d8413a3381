//! The user's profile and contacts, lookups of other users (`/api/v1/user`) and passkey login.

use super::{answers, app::status_json, fields::*, Caller};
use super::{group::me, group::photo_form, newsletter::sandbox_newsletter_json};
use crate::{
    api::doc::{doc, Api},
    driver::DriverError,
    groups::{self},
    jid::Jid,
    store, WorkerState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use wasp_http::error::{ok, Error, Json, Query, Result};

/// The user's profile, contacts and lookups, and passkey login, as a table of the customer API.
pub(super) fn api() -> Api {
    use super::{
        answers::SessionStatus,
        code,
        errors::{CONNECTED, DRIVER, LOOKUP},
    };
    use crate::groups::GroupInfo;
    use answers::*;

    Api::default()
        // ---- user
        .get(
            "/api/v1/user/info",
            user_info,
            doc("user", "A WhatsApp user's profile")
                .query::<PhoneQuery>()
                .returns::<UserInfo>()
                .errors(LOOKUP),
        )
        .get(
            "/api/v1/user/avatar",
            user_avatar,
            doc("user", "A WhatsApp user's profile photo")
                .describe("404 when the user has none (or does not show it to you).")
                .query::<PhoneQuery>()
                .returns::<Avatar>()
                .errors(LOOKUP),
        )
        .post(
            "/api/v1/user/avatar",
            set_avatar,
            doc("user", "Set your profile photo")
                .describe("JPEG or PNG.")
                .multipart("avatar", false, &[], &["avatar"])
                .returns::<AvatarSet>()
                .errors(CONNECTED),
        )
        .post(
            "/api/v1/user/pushname",
            set_push_name,
            doc("user", "Set your display name")
                .json::<PushNameRequest>()
                .returns::<SessionStatus>()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/privacy",
            my_privacy,
            doc("user", "Your privacy settings")
                .returns::<Privacy>()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/groups",
            my_groups,
            doc("user", "The groups you are in")
                .returns_list::<GroupInfo>()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/newsletters",
            my_newsletters,
            doc("user", "The newsletters (channels) you follow")
                .returns_objects()
                .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/my/contacts",
            my_contacts,
            doc(
                "user",
                "Your contacts: everyone you have a one-to-one chat with",
            )
            .returns_list::<crate::store::Contact>()
            .errors(CONNECTED),
        )
        .get(
            "/api/v1/user/check",
            user_check,
            doc("user", "Whether a phone number is on WhatsApp")
                .query::<PhoneQuery>()
                .returns::<UserCheck>()
                .errors(DRIVER),
        )
        .get(
            "/api/v1/user/business-profile",
            business_profile,
            doc("user", "A business account's profile")
                .describe("404 when the number is not a business account.")
                .query::<PhoneQuery>()
                .errors(LOOKUP),
        )
        // ---- passkey login
        .get(
            "/api/v1/app/passkey",
            passkey_status,
            doc("app", "Whether a passkey challenge is pending")
                .describe(
                    "WhatsApp asks some accounts to confirm a login with a passkey on the phone.",
                )
                .returns::<PasskeyStatus>(),
        )
        .post(
            "/api/v1/app/passkey/response",
            passkey_response,
            doc("app", "Answer a pending passkey challenge")
                .describe("The body is the passkey assertion as the authenticator produced it.")
                .optional_object_body()
                .errors(&[code::NO_PENDING_LOGIN]),
        )
        .post(
            "/api/v1/app/passkey/confirm",
            passkey_confirm,
            doc("app", "Confirm a passkey login").errors(&[code::NO_PENDING_LOGIN]),
        )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct PhoneQuery {
    /// A phone number (international format) or a JID.
    #[param(value_type = Option<crate::api::doc::Phone>, required = true)]
    phone: Option<String>,
    /// Accepted and ignored.
    #[allow(dead_code)]
    is_preview: Option<bool>,
    /// Accepted and ignored.
    #[allow(dead_code)]
    is_community: Option<bool>,
}

pub(super) async fn user_check(caller: Caller, Query(q): Query<PhoneQuery>) -> Result<Response> {
    let phone = phone_field("phone", q.phone.as_deref())?;
    let found = caller
        .instance
        .driver
        .on_whatsapp(std::slice::from_ref(&phone))
        .await?;
    Ok(ok(json!({ "phone_number": format!("+{phone}"), "is_on_whatsapp": found.first().copied().unwrap_or(false) })).into_response())
}

pub(super) async fn registered_contact(caller: &Caller, phone: Option<&str>) -> Result<String> {
    let phone = phone_field("phone", phone)?;
    let found = caller
        .instance
        .driver
        .on_whatsapp(std::slice::from_ref(&phone))
        .await?;
    if !found.first().copied().unwrap_or(false) {
        return Err(DriverError::NotOnWhatsApp(format!("+{phone}")).into());
    }
    Ok(phone)
}

pub(super) async fn user_info(caller: Caller, Query(q): Query<PhoneQuery>) -> Result<Response> {
    me(&caller)?;
    let phone = registered_contact(&caller, q.phone.as_deref()).await?;
    if let Some(live) = caller.instance.driver.live() {
        let info = live.user_info(&phone).await?;
        return Ok(ok(info).into_response());
    }
    Ok(ok(json!({
        "jid": Jid::user(&phone).to_string(),
        "verified_name": null,
        "status": "Hey there! I am using WhatsApp.",
        "picture_id": null,
        "devices": [{ "User": phone, "Agent": 0, "Device": "UNKNOWN", "Server": "s.whatsapp.net", "AD": true }],
    }))
    .into_response())
}

pub(super) async fn user_avatar(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<PhoneQuery>,
) -> Result<Response> {
    me(&caller)?;
    let phone = registered_contact(&caller, q.phone.as_deref()).await?;
    if let Some(live) = caller.instance.driver.live() {
        return match live.avatar(&phone).await? {
            Some(avatar) => Ok(ok(avatar).into_response()),
            None => Err(Error::not_found("profile photo")),
        };
    }
    let own = caller.instance.status().session.phone;
    let row = store::session(worker.db(), caller.key).await?;
    let avatar = row
        .and_then(|r| r.avatar_sha256)
        .filter(|_| own.as_deref() == Some(phone.as_str()));
    match avatar {
        Some(sha) => {
            Ok(ok(json!({ "id": &sha[..10], "type": "image", "url": null })).into_response())
        }
        None => Err(Error::not_found("profile photo")),
    }
}

pub(super) async fn set_avatar(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    me(&caller)?;
    let (_, bytes) = photo_form(form, "avatar").await?;
    if let Some(live) = caller.instance.driver.live() {
        let id = live.set_avatar(bytes).await?;
        return Ok(ok(json!({ "picture_id": id })).into_response());
    }
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal_source("storing media", e))?;
    store::set_avatar(worker.db(), caller.key, &sha).await?;
    Ok(ok(json!({ "picture_id": &sha[..10] })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PushName)]
#[serde(deny_unknown_fields)]
pub(super) struct PushNameRequest {
    /// The name others see, 1 to 25 characters.
    #[schema(
        min_length = 1,
        max_length = 25,
        pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    )]
    push_name: String,
}

pub(super) async fn set_push_name(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<PushNameRequest>,
) -> Result<Response> {
    me(&caller)?;
    let name = req.push_name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 25 || name.contains('\0') {
        return Err(Error::validation("push_name", "must be 1 to 25 characters"));
    }
    if let Some(live) = caller.instance.driver.live() {
        live.set_push_name(&name).await?;
    }
    caller.instance.set_push_name(worker.db(), &name).await?;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

pub(super) async fn my_privacy(caller: Caller) -> Result<Response> {
    me(&caller)?;
    if let Some(live) = caller.instance.driver.live() {
        let privacy = live.privacy().await?;
        return Ok(ok(privacy).into_response());
    }
    Ok(ok(json!({
        "group_add": "all", "last_seen": "all", "status": "all", "profile": "all", "read_receipts": "all",
        "online": "all", "call_add": "all",
    }))
    .into_response())
}

pub(super) async fn my_groups(
    State(worker): State<WorkerState>,
    caller: Caller,
) -> Result<Response> {
    me(&caller)?;
    if let Some(live) = caller.instance.driver.live() {
        let list = live.my_groups().await?;
        return Ok(ok(list).into_response());
    }
    let list = groups::mine(worker.db(), caller.key).await?;
    Ok(ok(list).into_response())
}

pub(super) async fn my_newsletters(
    State(worker): State<WorkerState>,
    caller: Caller,
) -> Result<Response> {
    me(&caller)?;
    if let Some(live) = caller.instance.driver.live() {
        let list = live.newsletters().await?;
        return Ok(ok(list).into_response());
    }
    let list: Vec<serde_json::Value> = store::newsletters(worker.db(), caller.key)
        .await?
        .iter()
        .map(|n| sandbox_newsletter_json(&n.jid, n.name.as_deref()))
        .collect();
    Ok(ok(list).into_response())
}

pub(super) async fn my_contacts(
    State(worker): State<WorkerState>,
    caller: Caller,
) -> Result<Response> {
    me(&caller)?;
    let contacts = store::contacts(worker.db(), caller.key).await?;
    Ok(ok(contacts).into_response())
}

pub(super) async fn business_profile(
    caller: Caller,
    Query(q): Query<PhoneQuery>,
) -> Result<Response> {
    me(&caller)?;
    let phone = registered_contact(&caller, q.phone.as_deref()).await?;
    if let Some(live) = caller.instance.driver.live() {
        if let Some(profile) = live.business_profile(&phone).await? {
            return Ok(ok(profile).into_response());
        }
    }
    Err(Error::not_found(
        "business profile (the number is not a business account)",
    ))
}

/// Passkey login is offered by WhatsApp to some accounts on the phone; no passkey
/// challenge is ever pending for a sandbox session or on this build's live driver.
pub(super) async fn passkey_status(caller: Caller) -> Result<Response> {
    let status = caller.instance.status();
    Ok(ok(json!({
        "available": false,
        "challenge": null,
        "state": status.session.state,
        "message": "no passkey challenge is pending; log in with a QR code or a pair code",
    }))
    .into_response())
}

pub(super) async fn passkey_response(
    _caller: Caller,
    _body: axum::body::Bytes,
) -> Result<Response> {
    Err(DriverError::NoPendingLogin.into())
}

pub(super) async fn passkey_confirm(_caller: Caller) -> Result<Response> {
    Err(DriverError::NoPendingLogin.into())
}
