//! The sandbox controls: the simulated network's side of a test session (`/api/v1/sandbox`).

use super::{app::status_json, fields::*, media::media_error, Caller};
use super::{message::own_jid, message::EDIT_WINDOW_MINUTES, message::REVOKE_WINDOW_HOURS};
use crate::{
    driver::{Event, Kind, PresenceState, Receipt},
    jid::Jid,
    store::{self},
    WorkerState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use wasp_http::error::{created, ok, Error, Json, Result};

pub(crate) fn sandbox(caller: &Caller) -> Result<&crate::drivers::sandbox::SandboxSession> {
    caller.instance.driver.sandbox().ok_or_else(|| {
        Error::forbidden("sandbox controls work only on sandbox sessions: use an ak_test_ key")
    })
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = SandboxScan)]
#[serde(deny_unknown_fields)]
pub(super) struct ScanRequest {
    /// The simulated phone's number (international format); a made-up one when absent.
    #[schema(value_type = Option<crate::api::doc::Phone>)]
    phone: Option<String>,
}

pub(super) async fn sandbox_scan(caller: Caller, body: axum::body::Bytes) -> Result<Response> {
    let req: ScanRequest = optional_body(&body)?;
    let phone = match req.phone.as_deref() {
        Some(p) => Some(phone_field("phone", Some(p))?),
        None => None,
    };
    sandbox(&caller)?.scan(phone.as_deref())?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxReaction)]
#[serde(deny_unknown_fields)]
pub(super) struct InboundReaction {
    /// The session's message to react to.
    message_id: String,
    /// One emoji; empty removes the reaction.
    #[serde(default)]
    emoji: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxInbound)]
#[serde(deny_unknown_fields)]
pub(super) struct InboundRequest {
    /// The sender's phone number (international format).
    #[schema(value_type = crate::api::doc::Phone)]
    from: String,
    /// Text, or the caption of media.
    message: Option<String>,
    /// The sender's display name (at most 100 characters).
    push_name: Option<String>,
    /// Quote this message (its id).
    reply_message_id: Option<String>,
    /// image, video, audio, document or sticker, with `media_base64`.
    media_type: Option<String>,
    /// The media file, base64-encoded.
    media_base64: Option<String>,
    /// The media's MIME type; detected from the bytes when absent.
    mime_type: Option<String>,
    /// The file name shown for a document.
    file_name: Option<String>,
    /// A reaction to one of the session's messages instead of a message.
    reaction: Option<InboundReaction>,
    /// Instead of a message: the contact changes the text of one of its messages
    /// (`message.edited`).
    edit: Option<InboundEdit>,
    /// Instead of a message: the contact deletes one of its messages for everyone
    /// (`message.revoked`).
    revoke: Option<InboundRevoke>,
    /// Instead of a message: the contact is `composing`, `recording` (a voice message) or
    /// `paused` in the chat (`chat.presence`).
    presence: Option<String>,
    /// Instead of a message: the contact calls (`call.offer`); reject it with
    /// `POST /call/reject` and the answered `call_id`.
    call: Option<InboundCall>,
    /// Instead of a message: the contact creates a group and adds you to it
    /// (`group.joined`).
    group: Option<InboundGroup>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxEdit)]
#[serde(deny_unknown_fields)]
pub(super) struct InboundEdit {
    /// One of the contact's messages in the chat.
    message_id: String,
    /// The new text.
    message: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxRevoke)]
#[serde(deny_unknown_fields)]
pub(super) struct InboundRevoke {
    /// One of the contact's messages in the chat.
    message_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxCall)]
#[serde(deny_unknown_fields)]
pub(super) struct InboundCall {
    /// A video call (default: voice).
    #[serde(default)]
    video: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxGroup)]
#[serde(deny_unknown_fields)]
pub(super) struct InboundGroup {
    /// The group's name, 1 to 100 characters.
    title: String,
}

pub(super) fn media_kind(field: &str, s: &str) -> Result<Kind> {
    match s {
        "image" => Ok(Kind::Image),
        "video" => Ok(Kind::Video),
        "audio" => Ok(Kind::Audio),
        "document" => Ok(Kind::Document),
        "sticker" => Ok(Kind::Sticker),
        _ => Err(Error::validation(
            field,
            "must be image, video, audio, document or sticker",
        )),
    }
}

pub(super) async fn sandbox_inbound(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<InboundRequest>,
) -> Result<Response> {
    let from = phone_field("from", Some(&req.from))?;
    if req
        .push_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100 || n.contains('\0'))
    {
        return Err(Error::validation(
            "push_name",
            "must be at most 100 characters",
        ));
    }
    let session = sandbox(&caller)?;
    let alternatives = [
        req.reaction.is_some(),
        req.edit.is_some(),
        req.revoke.is_some(),
        req.presence.is_some(),
        req.call.is_some(),
        req.group.is_some(),
    ];
    let chosen = alternatives.iter().filter(|x| **x).count();
    if chosen > 1 || (chosen == 1 && (req.message.is_some() || req.media_base64.is_some())) {
        return Err(Error::validation(
            "message",
            "give one of message (or media), reaction, edit, revoke, presence, call or group",
        ));
    }
    let contact = Jid::user(&from);
    if let Some(edit) = req.edit {
        let text = text_field("message", &edit.message)?;
        let message = contacts_message(&worker, &caller, &contact, &edit.message_id).await?;
        if Utc::now() - message.timestamp > chrono::Duration::minutes(EDIT_WINDOW_MINUTES) {
            return Err(Error::validation(
                "edit.message_id",
                "messages can be edited up to 15 minutes after sending",
            ));
        }
        let at = Utc::now();
        session.from_network(Event::Edited {
            chat: contact.clone(),
            sender: contact,
            message_id: message.id.clone(),
            from_me: false,
            text: Some(text.clone()),
            at,
        })?;
        caller.instance.flush().await;
        return Ok(ok(json!({ "edited": message.id, "message": text })).into_response());
    }
    if let Some(revoke) = req.revoke {
        let message = contacts_message(&worker, &caller, &contact, &revoke.message_id).await?;
        if Utc::now() - message.timestamp > chrono::Duration::hours(REVOKE_WINDOW_HOURS) {
            return Err(Error::validation(
                "revoke.message_id",
                "messages can be deleted for everyone up to 48 hours after sending",
            ));
        }
        session.from_network(Event::Revoked {
            chat: contact.clone(),
            sender: contact,
            message_id: message.id.clone(),
            from_me: false,
            at: Utc::now(),
        })?;
        caller.instance.flush().await;
        return Ok(ok(json!({ "revoked": message.id })).into_response());
    }
    if let Some(presence) = req.presence {
        let state = PresenceState::parse(&presence).ok_or_else(|| {
            Error::validation("presence", "must be composing, recording or paused")
        })?;
        session.from_network(Event::ChatPresence {
            chat: contact.clone(),
            sender: contact,
            state,
        })?;
        caller.instance.flush().await;
        return Ok(ok(json!({ "presence": state.as_str() })).into_response());
    }
    if let Some(call) = req.call {
        let call_id = crate::drivers::sandbox::call_id();
        session.from_network(Event::CallOffer {
            call_id: call_id.clone(),
            from: contact,
            video: call.video,
            group: None,
            at: Utc::now(),
        })?;
        caller.instance.flush().await;
        return Ok(created(json!({ "call_id": call_id, "video": call.video })).into_response());
    }
    if let Some(group) = req.group {
        let me = own_jid(&caller);
        let (info, _) = crate::groups::create(
            worker.db(),
            caller.key,
            &contact.to_string(),
            &group.title,
            std::slice::from_ref(&me),
        )
        .await?;
        let group = recipient("group", &info.group_id)?;
        session.from_network(Event::GroupJoined {
            group,
            subject: Some(info.name.clone()),
            by: Some(contact),
            at: Utc::now(),
        })?;
        caller.instance.flush().await;
        return Ok(
            created(json!({ "group_id": info.group_id, "name": info.name })).into_response(),
        );
    }
    if let Some(reaction) = req.reaction {
        let (message, _) =
            store::message(worker.db(), caller.key, message_id(&reaction.message_id)?)
                .await?
                .filter(|(m, _)| m.chat_jid == Jid::user(&from).to_string())
                .ok_or_else(|| Error::not_found("message"))?;
        session.react(&from, &message.id, &reaction.emoji)?;
        caller.instance.flush().await;
        return Ok(
            created(json!({ "reacted_to": message.id, "emoji": reaction.emoji })).into_response(),
        );
    }
    let (kind, body, content) = match (req.media_type.as_deref(), req.media_base64.as_deref()) {
        (None, None) => {
            let body = text_field("message", req.message.as_deref().unwrap_or(""))?;
            (Kind::Text, Some(body), json!({}))
        }
        (Some(t), Some(data)) => {
            use base64::Engine;
            let kind = media_kind("media_type", t)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|_| Error::validation("media_base64", "must be base64"))?;
            if bytes.len() > crate::media::max_bytes(kind) {
                return Err(media_error(
                    crate::media::MediaError::TooLarge(kind),
                    "media_base64",
                ));
            }
            let mime = crate::media::resolve_mime(kind, &bytes, req.mime_type.as_deref())
                .map_err(|e| media_error(e, "media_base64"))?;
            let sha = worker
                .media
                .put(caller.key, &bytes)
                .await
                .map_err(|e| Error::internal_source("storing media", e))?;
            let caption = match req.message.as_deref() {
                Some(c) => Some(caption_field(c)?),
                None => None,
            };
            let content = json!({
                "mime_type": mime,
                "file_size": bytes.len(),
                "sha256": sha,
                "file_name": req.file_name.as_deref().and_then(crate::media::clean_file_name),
            });
            (kind, caption, content)
        }
        _ => {
            return Err(Error::validation(
                "media_base64",
                "media_type and media_base64 go together",
            ))
        }
    };
    let message = session.inbound(
        &from,
        req.push_name,
        kind,
        body,
        content,
        req.reply_message_id,
    )?;
    caller.instance.flush().await;
    // The chat it is filed under: the contact's number (the message came from its LID).
    Ok(created(json!({
        "message_id": message.id,
        "chat_jid": Jid::user(&from).to_string(),
        "chat_lid": message.chat.to_string(),
        "timestamp": message.timestamp,
    }))
    .into_response())
}

/// One of `contact`'s own messages in its chat with the session.
pub(super) async fn contacts_message(
    worker: &WorkerState,
    caller: &Caller,
    contact: &Jid,
    id: &str,
) -> Result<store::Message> {
    let (message, _) = store::message(worker.db(), caller.key, message_id(id)?)
        .await?
        .filter(|(m, _)| {
            m.chat_jid == contact.to_string() && m.sender_jid == contact.to_string() && !m.from_me
        })
        .ok_or_else(|| Error::not_found("message (one of the contact's own in its chat)"))?;
    if message.revoked_at.is_some() {
        return Err(Error::validation(
            "message_id",
            "the message was already deleted for everyone",
        ));
    }
    Ok(message)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxReceipt)]
#[serde(deny_unknown_fields)]
pub(super) struct ReceiptRequest {
    /// One of the session's own messages.
    message_id: String,
    /// delivered, read or played.
    #[schema(pattern = "^(delivered|read|played)$")]
    status: String,
}

pub(super) async fn sandbox_receipt(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ReceiptRequest>,
) -> Result<Response> {
    let status = match Receipt::parse(&req.status) {
        Some(s @ (Receipt::Delivered | Receipt::Read | Receipt::Played)) => s,
        _ => {
            return Err(Error::validation(
                "status",
                "must be delivered, read or played",
            ))
        }
    };
    let session = sandbox(&caller)?;
    let (message, _) = store::message(worker.db(), caller.key, &req.message_id)
        .await?
        .filter(|(m, _)| m.from_me)
        .ok_or_else(|| Error::not_found("message"))?;
    let chat = recipient("chat_jid", &message.chat_jid)?;
    session.receipt(&message.id, chat, status);
    caller.instance.flush().await;
    let (message, history) = store::message(worker.db(), caller.key, &req.message_id)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    Ok(ok(json!({
        "message_id": message.id,
        "status": message.status,
        "status_history": history,
    }))
    .into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = SandboxDisconnect)]
#[serde(deny_unknown_fields)]
pub(super) struct DisconnectRequest {
    /// Also log the device out, as if removed on the phone (a new login is then needed).
    #[serde(default)]
    logout: bool,
}

pub(super) async fn sandbox_disconnect(
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response> {
    let req: DisconnectRequest = optional_body(&body)?;
    sandbox(&caller)?.disconnect(req.logout)?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}
