//! Mappings of messages between whatsapp-rust's types and ours: addresses, inbound messages and
//! reactions, receipts, connection outcomes, and the protobuf of outgoing messages. Pure
//! functions, unit-tested without a network.

use crate::{
    driver::{Event, GroupChange, Incoming, Kind, Outgoing, PresenceState, Receipt},
    jid::Jid,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use whatsapp_rust::{
    buffa::MessageField,
    wacore::{
        download::Downloadable,
        proto_helpers::MessageExt,
        types::{
            call::{CallAction, IncomingCall},
            events::{
                ChatPresenceUpdate, ConnectFailureReason, DeleteMessageForMeUpdate, GroupUpdate,
                MexNotification, Receipt as WaReceipt,
            },
            message::MessageInfo,
            presence::{ChatPresence, ChatPresenceMedia, ReceiptType},
        },
    },
    waproto::whatsapp as wa,
    Jid as WaJid,
};

/// Our address as the library's.
pub fn to_wa(jid: &Jid) -> Option<WaJid> {
    jid.to_string().parse().ok()
}

/// The library's address as ours, without device or agent parts.
pub fn from_wa(jid: &WaJid) -> Jid {
    let text = jid.to_non_ad_string();
    match text.split_once('@') {
        Some((user, server)) => Jid {
            user: user.to_owned(),
            server: server.to_owned(),
        },
        None => Jid {
            user: text,
            server: String::new(),
        },
    }
}

pub(super) fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn b64(bytes: Option<&[u8]>) -> Value {
    bytes
        .map(|b| Value::String(base64::engine::general_purpose::STANDARD.encode(b)))
        .unwrap_or(Value::Null)
}

/// What the library needs to download an inbound attachment later (`message/{id}/download`
/// fetches and decrypts it on demand, then keeps it in the media store), read through the
/// library's own [`Downloadable`] view of the media message.
fn media_content(
    kind: Kind,
    mime: Option<&str>,
    file_name: Option<&str>,
    media: &dyn Downloadable,
) -> Value {
    json!({
        "mime_type": mime,
        "file_size": media.file_length(),
        "file_name": file_name,
        "wa_media": {
            "kind": kind.as_str(),
            "direct_path": media.direct_path(),
            "media_key": b64(media.media_key()),
            "file_sha256": b64(media.file_sha256()),
            "file_enc_sha256": b64(media.file_enc_sha256()),
            "file_length": media.file_length(),
        },
    })
}

/// The kind, text and kind-specific content of a message, or `None` for what the chat
/// store does not keep (protocol messages, key distribution, unknown kinds).
pub fn content_of(message: &wa::Message) -> Option<(Kind, Option<String>, Value)> {
    let m = message.get_base_message();
    if let Some(text) = m.conversation.as_deref() {
        return Some((Kind::Text, Some(text.to_owned()), json!({})));
    }
    if let Some(ext) = m.extended_text_message.as_option() {
        let text = ext.text.clone();
        let link = ext
            .matched_text
            .as_deref()
            .filter(|l| l.starts_with("http://") || l.starts_with("https://"));
        return Some(match link {
            Some(link) => (
                Kind::Link,
                text,
                json!({ "link": link, "title": ext.title, "description": ext.description }),
            ),
            None => (Kind::Text, text, json!({})),
        });
    }
    if let Some(img) = m.image_message.as_option() {
        let content = media_content(Kind::Image, img.mimetype.as_deref(), None, img);
        return Some((Kind::Image, img.caption.clone(), content));
    }
    if let Some(v) = m.video_message.as_option() {
        let content = media_content(Kind::Video, v.mimetype.as_deref(), None, v);
        return Some((Kind::Video, v.caption.clone(), content));
    }
    if let Some(a) = m.audio_message.as_option() {
        let mut content = media_content(Kind::Audio, a.mimetype.as_deref(), None, a);
        content["ptt"] = json!(a.ptt.unwrap_or(false));
        content["seconds"] = json!(a.seconds);
        return Some((Kind::Audio, None, content));
    }
    if let Some(d) = m.document_message.as_option() {
        let content = media_content(
            Kind::Document,
            d.mimetype.as_deref(),
            d.file_name.as_deref(),
            d,
        );
        return Some((Kind::Document, d.caption.clone(), content));
    }
    if let Some(s) = m.sticker_message.as_option() {
        let content = media_content(Kind::Sticker, s.mimetype.as_deref(), None, s);
        return Some((Kind::Sticker, None, content));
    }
    if let Some(c) = m.contact_message.as_option() {
        let name = c.display_name.clone().unwrap_or_default();
        let phone = c.vcard.as_deref().and_then(vcard_phone);
        return Some((
            Kind::Contact,
            Some(name.clone()),
            json!({ "display_name": name, "phone": phone, "vcard": c.vcard }),
        ));
    }
    if let Some(l) = m.location_message.as_option() {
        return Some((
            Kind::Location,
            non_empty(l.name.as_deref()),
            json!({
                "latitude": l.degrees_latitude,
                "longitude": l.degrees_longitude,
                "name": l.name,
                "address": l.address,
            }),
        ));
    }
    let poll = m
        .poll_creation_message
        .as_option()
        .or(m.poll_creation_message_v2.as_option())
        .or(m.poll_creation_message_v3.as_option());
    if let Some(p) = poll {
        let options: Vec<String> = p
            .options
            .iter()
            .filter_map(|o| o.option_name.clone())
            .collect();
        return Some((
            Kind::Poll,
            p.name.clone(),
            json!({
                "question": p.name,
                "options": options,
                "max_answer": p.selectable_options_count,
            }),
        ));
    }
    None
}

/// The `TEL` of a vCard, as `+digits`.
fn vcard_phone(vcard: &str) -> Option<String> {
    let line = vcard
        .lines()
        .find(|l| l.to_ascii_uppercase().starts_with("TEL"))?;
    let value = line.rsplit(':').next()?;
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty()).then(|| format!("+{digits}"))
}

/// The id of the message a message quotes.
fn quoted_id(message: &wa::Message) -> Option<String> {
    let m = message.get_base_message();
    let context = m
        .extended_text_message
        .as_option()
        .and_then(|x| x.context_info.as_option())
        .or_else(|| {
            m.image_message
                .as_option()
                .and_then(|x| x.context_info.as_option())
        })
        .or_else(|| {
            m.video_message
                .as_option()
                .and_then(|x| x.context_info.as_option())
        })
        .or_else(|| {
            m.document_message
                .as_option()
                .and_then(|x| x.context_info.as_option())
        })
        .or_else(|| {
            m.audio_message
                .as_option()
                .and_then(|x| x.context_info.as_option())
        })?;
    context.stanza_id.clone()
}

/// An inbound message (or one of ours sent from the phone) as our event; reactions become
/// [`Event::Reaction`]. `None` for what is not a chat message.
pub fn inbound(message: &wa::Message, info: &MessageInfo) -> Option<Event> {
    let chat = from_wa(&info.source.chat);
    let sender = from_wa(&info.source.sender);
    let base = message.get_base_message();
    if let Some(reaction) = base.reaction_message.as_option() {
        let target = reaction.key.as_option()?.id.clone()?;
        return Some(Event::Reaction {
            chat,
            sender,
            message_id: target,
            emoji: reaction.text.clone().unwrap_or_default(),
        });
    }
    if let Some(protocol) = base.protocol_message.as_option() {
        use wa::message::protocol_message::Type;
        let target = protocol.key.as_option().and_then(|k| k.id.clone())?;
        let (from_me, at) = (info.source.is_from_me, info.timestamp);
        return match protocol.r#type {
            Some(Type::REVOKE) => Some(Event::Revoked {
                chat,
                sender,
                message_id: target,
                from_me,
                at,
            }),
            Some(Type::MESSAGE_EDIT) => Some(Event::Edited {
                chat,
                sender,
                message_id: target,
                from_me,
                text: protocol
                    .edited_message
                    .as_option()
                    .and_then(content_of)
                    .and_then(|(_, body, _)| body),
                at,
            }),
            // Key shares, history sync notices, ephemeral settings: not chat content.
            _ => None,
        };
    }
    let (kind, body, content) = content_of(message)?;
    Some(Event::Message(Incoming {
        id: info.id.to_string(),
        chat,
        sender,
        sender_alt: info.source.sender_alt.as_ref().map(from_wa),
        chat_alt: info.source.recipient_alt.as_ref().map(from_wa),
        push_name: non_empty(Some(info.push_name.as_str())),
        from_me: info.source.is_from_me,
        kind,
        body,
        content,
        reply_to: quoted_id(message),
        timestamp: info.timestamp,
    }))
}

/// Someone typing, recording or stopping in a chat.
pub fn chat_presence(update: &ChatPresenceUpdate) -> Event {
    let state = match (update.state, update.media) {
        (ChatPresence::Paused, _) => PresenceState::Paused,
        (ChatPresence::Composing, ChatPresenceMedia::Audio) => PresenceState::Recording,
        (ChatPresence::Composing, _) => PresenceState::Composing,
    };
    Event::ChatPresence {
        chat: from_wa(&update.source.chat),
        sender: from_wa(&update.source.sender),
        state,
    }
}

/// An incoming call's offer; `None` for the other call signals (accept, terminate, …) and
/// for offers replayed after the call ended (those arrive as missed calls).
pub fn call_offer(call: &IncomingCall) -> Option<Event> {
    match &call.action {
        CallAction::Offer {
            call_id,
            call_creator,
            caller_pn,
            is_video,
            group_jid,
            ..
        } if !call.offline => Some(Event::CallOffer {
            call_id: call_id.clone(),
            // The caller's phone-number address when the offer names it.
            from: from_wa(caller_pn.as_ref().unwrap_or(call_creator)),
            video: *is_video,
            group: group_jid.as_ref().map(from_wa),
            at: call.timestamp,
        }),
        _ => None,
    }
}

/// A group notification about members, or this account's new membership; `None` for
/// setting and metadata changes.
pub fn group_update(update: &GroupUpdate) -> Option<Event> {
    use whatsapp_rust::wacore::stanza::groups::GroupNotificationAction as A;
    let group = from_wa(&update.group_jid);
    let by = update
        .participant_pn
        .as_ref()
        .or(update.participant.as_ref())
        .map(from_wa);
    let at = update.timestamp;
    let (change, participants) = match &update.action {
        A::Create { .. } => {
            return Some(Event::GroupJoined {
                group,
                subject: None,
                by,
                at,
            })
        }
        A::Add { participants, .. } => (GroupChange::Join, participants),
        A::Remove { participants, .. } => (GroupChange::Leave, participants),
        A::Promote { participants } => (GroupChange::Promote, participants),
        A::Demote { participants } => (GroupChange::Demote, participants),
        _ => return None,
    };
    Some(Event::GroupParticipants {
        group,
        change,
        participants: participants
            .iter()
            .map(|p| from_wa(p.phone_number.as_ref().unwrap_or(&p.jid)))
            .collect(),
        by,
        at,
    })
}

/// A message deleted for this account on another of its devices.
pub fn deleted_for_me(update: &DeleteMessageForMeUpdate) -> Event {
    Event::Deleted {
        chat: from_wa(&update.chat_jid),
        message_id: update.message_id.clone(),
        at: update.timestamp,
    }
}

/// Following or leaving a newsletter, from WhatsApp's server-pushed (MEX) notifications;
/// `None` for other operations.
pub fn newsletter_change(notification: &MexNotification) -> Option<Event> {
    let joined = notification.op_name.contains("NewsletterJoin");
    let left = notification.op_name.contains("NewsletterLeave");
    if !joined && !left {
        return None;
    }
    let newsletter = find_newsletter(&notification.payload)?;
    Some(if joined {
        let name = find_key(&notification.payload, "name").and_then(|n| {
            n.as_str()
                .map(str::to_owned)
                .or_else(|| n["text"].as_str().map(str::to_owned))
        });
        Event::NewsletterJoined { newsletter, name }
    } else {
        Event::NewsletterLeft { newsletter }
    })
}

/// The first `…@newsletter` id anywhere in a document.
fn find_newsletter(v: &Value) -> Option<Jid> {
    match v {
        Value::String(s) if s.ends_with("@newsletter") => Jid::parse_recipient(s).ok(),
        Value::Object(o) => o.values().find_map(find_newsletter),
        Value::Array(a) => a.iter().find_map(find_newsletter),
        _ => None,
    }
}

/// The first value under `key` anywhere in a document.
fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => o
            .get(key)
            .or_else(|| o.values().find_map(|x| find_key(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

/// Our receipt status for the library's receipt type; `None` for types that say nothing
/// about delivery (retries, our own devices' reads, server errors).
pub fn receipt_status(kind: &ReceiptType) -> Option<Receipt> {
    match kind {
        ReceiptType::Delivered => Some(Receipt::Delivered),
        ReceiptType::Sender => None,
        ReceiptType::Read => Some(Receipt::Read),
        ReceiptType::Played => Some(Receipt::Played),
        _ => None,
    }
}

/// A receipt for our messages as events, one per message id.
pub fn receipts(receipt: &WaReceipt) -> Vec<Event> {
    let Some(status) = receipt_status(&receipt.r#type) else {
        return Vec::new();
    };
    if receipt.source.is_from_me {
        // Our own other device read something: not a delivery report.
        return Vec::new();
    }
    let chat = from_wa(&receipt.source.chat);
    let participant = receipt
        .source
        .is_group
        .then(|| from_wa(&receipt.source.sender));
    receipt
        .message_ids
        .iter()
        .map(|id| Event::Receipt {
            message_id: id.to_string(),
            chat: chat.clone(),
            status,
            participant: participant.clone(),
            at: receipt.timestamp,
        })
        .collect()
}

/// A server's refusal (nack) of one of our messages as a failure event; `None` for plain
/// acks and for acks of other stanzas (receipts, notifications, calls).
pub fn nack(ack: &whatsapp_rust::wacore::types::events::ServerAck) -> Option<Event> {
    let code = ack.error.as_deref()?;
    if ack.class.as_deref().is_some_and(|c| c != "message") {
        return None;
    }
    Some(Event::SendFailed {
        message_id: ack.id.clone(),
        reason: format!("server_refused_{code}"),
    })
}

/// Why a connection attempt failed, as the `state_reason` the API shows.
pub fn failure_reason(reason: &ConnectFailureReason) -> &'static str {
    match reason {
        ConnectFailureReason::LoggedOut => "logged_out_from_phone",
        ConnectFailureReason::TempBanned => "temporarily_banned",
        ConnectFailureReason::AccountLocked => "account_locked",
        ConnectFailureReason::ClientOutdated => "client_outdated",
        ConnectFailureReason::UnknownLogout => "logged_out",
        _ => "connect_failure",
    }
}

fn context(message: &Outgoing) -> Option<wa::ContextInfo> {
    if message.reply_to.is_none() && !message.forwarded && message.expiration_secs == 0 {
        return None;
    }
    Some(wa::ContextInfo {
        stanza_id: message.reply_to.clone(),
        is_forwarded: message.forwarded.then_some(true),
        forwarding_score: message.forwarded.then_some(1),
        expiration: (message.expiration_secs > 0).then_some(message.expiration_secs),
        ..Default::default()
    })
}

/// The protobuf of a message without media (text, link, contact, location). Media kinds
/// are built from their upload, polls by the library's poll API.
pub fn outgoing(message: &Outgoing) -> Option<wa::Message> {
    let context = context(message);
    let body = message.body.clone().unwrap_or_default();
    let content = &message.content;
    let m = match message.kind {
        Kind::Text if context.is_none() => wa::Message {
            conversation: Some(body),
            ..Default::default()
        },
        Kind::Text | Kind::Link => {
            let link = content["link"].as_str().map(str::to_owned);
            wa::Message {
                extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
                    text: Some(body),
                    matched_text: link,
                    context_info: context.map(MessageField::some).unwrap_or_default(),
                    ..Default::default()
                }),
                ..Default::default()
            }
        }
        Kind::Contact => wa::Message {
            contact_message: MessageField::some(wa::message::ContactMessage {
                display_name: content["display_name"].as_str().map(str::to_owned),
                vcard: content["vcard"].as_str().map(str::to_owned),
                context_info: context.map(MessageField::some).unwrap_or_default(),
                ..Default::default()
            }),
            ..Default::default()
        },
        Kind::Location => wa::Message {
            location_message: MessageField::some(wa::message::LocationMessage {
                degrees_latitude: content["latitude"].as_f64(),
                degrees_longitude: content["longitude"].as_f64(),
                name: content["name"].as_str().map(str::to_owned),
                address: content["address"].as_str().map(str::to_owned),
                context_info: context.map(MessageField::some).unwrap_or_default(),
                ..Default::default()
            }),
            ..Default::default()
        },
        _ => return None,
    };
    Some(m)
}

/// The context (reply, forward, timer) of a media message.
pub fn media_context(message: &Outgoing) -> Option<Box<wa::ContextInfo>> {
    context(message).map(Box::new)
}

/// The attachment reference stored with an inbound media message, decoded for download.
pub struct MediaRef {
    pub kind: Kind,
    pub direct_path: String,
    pub media_key: Vec<u8>,
    pub file_sha256: Vec<u8>,
    pub file_enc_sha256: Vec<u8>,
    pub file_length: u64,
}

/// Reads the `wa_media` reference [`content_of`] stored.
pub fn media_ref(content: &Value) -> Option<MediaRef> {
    let r = &content["wa_media"];
    let bytes = |field: &str| {
        r[field]
            .as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
    };
    let kind = match r["kind"].as_str()? {
        "image" => Kind::Image,
        "video" => Kind::Video,
        "audio" => Kind::Audio,
        "document" => Kind::Document,
        "sticker" => Kind::Sticker,
        _ => return None,
    };
    Some(MediaRef {
        kind,
        direct_path: r["direct_path"].as_str()?.to_owned(),
        media_key: bytes("media_key")?,
        file_sha256: bytes("file_sha256")?,
        file_enc_sha256: bytes("file_enc_sha256")?,
        file_length: r["file_length"].as_u64().unwrap_or(0),
    })
}

/// The time a send was accepted, for [`crate::driver::Sent`].
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A newsletter post as the API shows it: ids, time, whether we posted it, and its
/// content like a chat message's.
pub fn newsletter_post(post: &whatsapp_rust::features::NewsletterMessage) -> Value {
    let (kind, body, content) = post
        .message
        .as_ref()
        .and_then(content_of)
        .map(|(k, b, c)| (Some(k.as_str()), b, c))
        .unwrap_or((None, None, json!({})));
    json!({
        "id": post.message_id,
        "server_id": post.server_id,
        "timestamp": DateTime::<Utc>::from_timestamp(post.timestamp as i64, 0),
        "from_me": post.is_sender,
        "kind": kind,
        "body": body,
        "content": content,
    })
}

#[cfg(test)]
mod tests;
