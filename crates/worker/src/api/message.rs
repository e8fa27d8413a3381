//! Operations on one message (`/api/v1/message`).

use super::{fields::*, Caller};
use super::{media::media_file, send::outgoing, send::send};
use crate::{
    driver::{Action, Kind},
    events::NewEvent,
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
use wasp_http::error::{ok, Error, Json, Path, Result};

pub(super) async fn get_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    let (message, history) = store::message(worker.db(), caller.key, &id)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    let mut value = serde_json::to_value(message)
        .map_err(|e| Error::internal_source("serialising a message", e))?;
    value["status_history"] = serde_json::to_value(history)
        .map_err(|e| Error::internal_source("serialising a message", e))?;
    Ok(ok(value).into_response())
}

/// How long after sending WhatsApp lets a message be edited, and deleted for everyone.
pub(super) const EDIT_WINDOW_MINUTES: i64 = 15;
pub(super) const REVOKE_WINDOW_HOURS: i64 = 48;

/// The message `id` in the chat named by `phone` (404 when it is not there).
pub(super) async fn message_in_chat(
    worker: &WorkerState,
    caller: &Caller,
    id: &str,
    phone: &str,
) -> Result<(store::Message, Jid)> {
    let chat = recipient("phone", phone)?;
    let (message, _) = store::message(worker.db(), caller.key, message_id(id)?)
        .await?
        .filter(|(m, _)| m.chat_jid == chat.to_string())
        .ok_or_else(|| Error::not_found("message"))?;
    Ok((message, chat))
}

pub(super) async fn message_now(
    worker: &WorkerState,
    caller: &Caller,
    id: &str,
) -> Result<Response> {
    let (message, history) = store::message(worker.db(), caller.key, id)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    let mut value = serde_json::to_value(message)
        .map_err(|e| Error::internal_source("serialising a message", e))?;
    value["status_history"] = serde_json::to_value(history)
        .map_err(|e| Error::internal_source("serialising a message", e))?;
    Ok(ok(value).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MessageInChat)]
#[serde(deny_unknown_fields)]
pub(super) struct InChat {
    /// The chat the message is in: a phone number or a JID.
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
}

pub(super) async fn revoke_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    if !message.from_me {
        return Err(Error::validation(
            "message_id",
            "only your own messages can be deleted for everyone",
        ));
    }
    if message.revoked_at.is_some() {
        return Err(Error::validation(
            "message_id",
            "the message was already deleted for everyone",
        ));
    }
    if Utc::now() - message.timestamp > chrono::Duration::hours(REVOKE_WINDOW_HOURS) {
        return Err(Error::validation(
            "message_id",
            "messages can be deleted for everyone up to 48 hours after sending",
        ));
    }
    caller
        .instance
        .driver
        .act(&Action::Revoke {
            chat: chat.clone(),
            id: message.id.clone(),
        })
        .await?;
    store::set_revoked(worker.db(), caller.key, &message.id).await?;
    let me = own_jid(&caller);
    emit(
        &worker,
        &caller,
        NewEvent::revoked(&chat, &me, &message.id, true, Utc::now()),
    )
    .await;
    message_now(&worker, &caller, &message.id).await
}

/// This session's own JID (empty before the first login).
pub(super) fn own_jid(caller: &Caller) -> Jid {
    let jid = caller.instance.status().session.jid.unwrap_or_default();
    Jid::parse_recipient(&jid).unwrap_or_else(|_| Jid::user(""))
}

/// Writes an event of what the customer did through the API (webhooks, live stream).
pub(super) async fn emit(worker: &WorkerState, caller: &Caller, event: NewEvent) {
    if let Some(instances) = worker.instances() {
        let device = caller.instance.status().session.jid;
        instances.emit(caller.key, device.as_deref(), event).await;
    }
}

pub(super) async fn delete_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    store::delete_message(worker.db(), caller.key, &message.id).await?;
    emit(
        &worker,
        &caller,
        NewEvent::deleted(&chat, &message.id, Utc::now()),
    )
    .await;
    Ok(ok(json!({ "message_id": message.id, "deleted": true })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ReactMessage)]
#[serde(deny_unknown_fields)]
pub(super) struct ReactRequest {
    /// The chat the message is in: a phone number or a JID.
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// One emoji; empty removes your reaction.
    #[serde(default)]
    emoji: String,
}

pub(super) async fn react_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ReactRequest>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    let emoji = req.emoji.trim().to_owned();
    if emoji.chars().count() > 10
        || emoji
            .chars()
            .any(|c| c.is_alphanumeric() || c.is_whitespace() || c == '\0')
    {
        return Err(Error::validation(
            "emoji",
            "must be one emoji (or empty to remove the reaction)",
        ));
    }
    let sender = recipient("sender", &message.sender_jid)?;
    let sent = caller
        .instance
        .driver
        .act(&Action::React {
            chat,
            id: message.id.clone(),
            sender,
            emoji: emoji.clone(),
        })
        .await?;
    let me = caller.instance.status().session.jid.unwrap_or_default();
    store::set_reaction(worker.db(), caller.key, &message.id, &me, &emoji).await?;
    Ok(ok(json!({
        "message_id": sent.map(|s| s.id),
        "reacted_to": message.id,
        "emoji": emoji,
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = EditMessage)]
#[serde(deny_unknown_fields)]
pub(super) struct EditRequest {
    /// The chat the message is in: a phone number or a JID.
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// The new text, 1 to 4096 characters.
    #[schema(value_type = crate::api::doc::Text)]
    message: String,
}

pub(super) async fn edit_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<EditRequest>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    let text = text_field("message", &req.message)?;
    if !message.from_me
        || message.revoked_at.is_some()
        || !matches!(message.kind.as_str(), "text" | "link")
    {
        return Err(Error::validation(
            "message_id",
            "only your own text messages can be edited",
        ));
    }
    if Utc::now() - message.timestamp > chrono::Duration::minutes(EDIT_WINDOW_MINUTES) {
        return Err(Error::validation(
            "message_id",
            "messages can be edited up to 15 minutes after sending",
        ));
    }
    caller
        .instance
        .driver
        .act(&Action::Edit {
            chat: chat.clone(),
            id: message.id.clone(),
            text: text.clone(),
        })
        .await?;
    store::edit_message(worker.db(), caller.key, &message.id, &text).await?;
    let me = own_jid(&caller);
    emit(
        &worker,
        &caller,
        NewEvent::edited(&chat, &me, &message.id, true, Some(&text), Utc::now()),
    )
    .await;
    message_now(&worker, &caller, &message.id).await
}

pub(super) async fn read_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    let ids = store::mark_read(
        worker.db(),
        caller.key,
        &message.chat_jid,
        message.timestamp,
    )
    .await?;
    if !ids.is_empty() {
        let sender = recipient("sender", &message.sender_jid)?;
        caller
            .instance
            .driver
            .act(&Action::Read {
                chat,
                ids: ids.clone(),
                sender,
            })
            .await?;
    }
    Ok(ok(json!({ "message_id": message.id, "marked_read": ids })).into_response())
}

pub(super) async fn star(
    worker: &WorkerState,
    caller: &Caller,
    id: &str,
    phone: &str,
    starred: bool,
) -> Result<Response> {
    let (message, _) = message_in_chat(worker, caller, id, phone).await?;
    store::set_starred(worker.db(), caller.key, &message.id, starred).await?;
    message_now(worker, caller, &message.id).await
}

pub(super) async fn star_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    star(&worker, &caller, &id, &req.phone, true).await
}

pub(super) async fn unstar_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    star(&worker, &caller, &id, &req.phone, false).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ForwardMessage)]
#[serde(deny_unknown_fields)]
pub(super) struct ForwardRequest {
    /// Where to forward it: a phone number or a JID.
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::api::doc::DisappearingTimer>)]
    duration: Option<u32>,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    force_reupload: bool,
}

pub(super) async fn forward_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ForwardRequest>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let (message, _) = store::message(worker.db(), caller.key, message_id(&id)?)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    if message.revoked_at.is_some() {
        return Err(Error::validation(
            "message_id",
            "a message deleted for everyone cannot be forwarded",
        ));
    }
    let kind = kind_of(&message.kind);
    let mut content = message.content.0.clone();
    if let Some(o) = content.as_object_mut() {
        o.remove("reactions");
    }
    let media = match kind {
        Kind::Image | Kind::Video | Kind::Audio | Kind::Document | Kind::Sticker => {
            Some(media_file(&worker, &caller, &message.id, &message.content.0).await?)
        }
        _ => None,
    };
    let mut out = outgoing(to, kind, message.body.clone(), content, true, req.duration)?;
    out.media = media;
    send(&worker, &caller, out).await
}

pub(super) fn kind_of(s: &str) -> Kind {
    match s {
        "image" => Kind::Image,
        "video" => Kind::Video,
        "audio" => Kind::Audio,
        "document" => Kind::Document,
        "sticker" => Kind::Sticker,
        "contact" => Kind::Contact,
        "location" => Kind::Location,
        "poll" => Kind::Poll,
        "link" => Kind::Link,
        _ => Kind::Text,
    }
}

// ---- operations on a chat --------------------------------------------------------------
