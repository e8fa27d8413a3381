//! Mappings between whatsapp-rust's types and ours: addresses, inbound messages and
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

fn non_empty(s: Option<&str>) -> Option<String> {
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
mod tests {
    use super::*;
    use crate::driver::Outgoing;
    use whatsapp_rust::wacore::types::{events::Receipt as WaReceipt, message::MessageSource};

    fn jid(s: &str) -> WaJid {
        s.parse().expect("jid")
    }

    fn info(chat: &str, sender: &str, from_me: bool) -> MessageInfo {
        MessageInfo {
            source: MessageSource {
                chat: jid(chat),
                sender: jid(sender),
                is_from_me: from_me,
                is_group: chat.ends_with("@g.us"),
                ..Default::default()
            },
            id: "3A5F0C1D2E3F4A5B6C7D".into(),
            push_name: "Budi".into(),
            timestamp: DateTime::from_timestamp(1_700_000_000, 0).expect("ts"),
            ..Default::default()
        }
    }

    fn outgoing(kind: Kind, body: Option<&str>, content: Value) -> Outgoing {
        Outgoing {
            to: Jid::user("6281234567890"),
            kind,
            body: body.map(str::to_owned),
            content,
            reply_to: None,
            forwarded: false,
            expiration_secs: 0,
            media: None,
        }
    }

    #[test]
    fn addresses_round_trip_and_lose_the_device_part() {
        let ours = Jid::user("6281234567890");
        let theirs = to_wa(&ours).expect("valid");
        assert_eq!(from_wa(&theirs), ours);
        let device = jid("6281234567890:12@s.whatsapp.net");
        assert_eq!(from_wa(&device), ours);
        let group = jid("120363012345678901@g.us");
        assert_eq!(from_wa(&group).to_string(), "120363012345678901@g.us");
        assert!(from_wa(&group).is_group());
        assert_eq!(from_wa(&jid("100000001@lid")).server, "lid");
    }

    #[test]
    fn a_text_message_arrives_as_text_with_sender_and_push_name() {
        let message = wa::Message {
            conversation: Some("halo".into()),
            ..Default::default()
        };
        let Some(Event::Message(m)) = inbound(
            &message,
            &info(
                "6289999999999@s.whatsapp.net",
                "6289999999999@s.whatsapp.net",
                false,
            ),
        ) else {
            panic!("not a message");
        };
        assert_eq!(m.kind, Kind::Text);
        assert_eq!(m.body.as_deref(), Some("halo"));
        assert_eq!(m.sender.user, "6289999999999");
        assert_eq!(m.push_name.as_deref(), Some("Budi"));
        assert_eq!(m.id, "3A5F0C1D2E3F4A5B6C7D");
        assert!(!m.from_me);
        assert_eq!(m.timestamp.timestamp(), 1_700_000_000);
    }

    #[test]
    fn wrapped_and_quoted_messages_are_unwrapped() {
        let inner = wa::Message {
            extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
                text: Some("see https://example.com".into()),
                matched_text: Some("https://example.com".into()),
                context_info: MessageField::some(wa::ContextInfo {
                    stanza_id: Some("3EB0AAAAAAAAAAAAAAAAAA".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let wrapped = wa::Message {
            ephemeral_message: MessageField::some(wa::message::FutureProofMessage {
                message: MessageField::some(inner),
            }),
            ..Default::default()
        };
        let Some(Event::Message(m)) = inbound(
            &wrapped,
            &info(
                "6289999999999@s.whatsapp.net",
                "6289999999999@s.whatsapp.net",
                false,
            ),
        ) else {
            panic!("not a message");
        };
        assert_eq!(m.kind, Kind::Link);
        assert_eq!(m.content["link"], "https://example.com");
        assert_eq!(m.reply_to.as_deref(), Some("3EB0AAAAAAAAAAAAAAAAAA"));
    }

    #[test]
    fn media_keeps_what_a_later_download_needs() {
        let message = wa::Message {
            document_message: MessageField::some(wa::message::DocumentMessage {
                mimetype: Some("application/pdf".into()),
                file_name: Some("invoice.pdf".into()),
                file_length: Some(2048),
                direct_path: Some("/v/t62.7119-24/abc".into()),
                media_key: Some(vec![1; 32]),
                file_sha256: Some(vec![2; 32]),
                file_enc_sha256: Some(vec![3; 32]),
                caption: Some("March".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (kind, body, content) = content_of(&message).expect("document");
        assert_eq!(kind, Kind::Document);
        assert_eq!(body.as_deref(), Some("March"));
        assert_eq!(content["mime_type"], "application/pdf");
        assert_eq!(content["file_name"], "invoice.pdf");
        let reference = media_ref(&content).expect("reference");
        assert_eq!(reference.kind, Kind::Document);
        assert_eq!(reference.direct_path, "/v/t62.7119-24/abc");
        assert_eq!(reference.media_key, vec![1; 32]);
        assert_eq!(reference.file_enc_sha256, vec![3; 32]);
        assert_eq!(reference.file_length, 2048);
        assert!(media_ref(&json!({ "sha256": "x" })).is_none());
    }

    #[test]
    fn contacts_locations_and_polls_keep_their_fields() {
        let contact = wa::Message {
            contact_message: MessageField::some(wa::message::ContactMessage {
                display_name: Some("Ani".into()),
                vcard: Some(
                    "BEGIN:VCARD\nVERSION:3.0\nFN:Ani\nTEL;type=CELL:+62 812-1111-2222\nEND:VCARD"
                        .into(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (kind, _, content) = content_of(&contact).expect("contact");
        assert_eq!(kind, Kind::Contact);
        assert_eq!(content["phone"], "+6281211112222");

        let location = wa::Message {
            location_message: MessageField::some(wa::message::LocationMessage {
                degrees_latitude: Some(-6.2),
                degrees_longitude: Some(106.8),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (kind, _, content) = content_of(&location).expect("location");
        assert_eq!(kind, Kind::Location);
        assert_eq!(content["latitude"], -6.2);

        let poll = wa::Message {
            poll_creation_message_v3: MessageField::some(wa::message::PollCreationMessage {
                name: Some("Lunch?".into()),
                options: vec![
                    wa::message::poll_creation_message::Option {
                        option_name: Some("Yes".into()),
                        ..Default::default()
                    },
                    wa::message::poll_creation_message::Option {
                        option_name: Some("No".into()),
                        ..Default::default()
                    },
                ],
                selectable_options_count: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (kind, body, content) = content_of(&poll).expect("poll");
        assert_eq!(kind, Kind::Poll);
        assert_eq!(body.as_deref(), Some("Lunch?"));
        assert_eq!(content["options"], json!(["Yes", "No"]));
    }

    #[test]
    fn reactions_become_reaction_events_and_protocol_messages_are_skipped() {
        let reaction = wa::Message {
            reaction_message: MessageField::some(wa::message::ReactionMessage {
                key: MessageField::some(wa::MessageKey {
                    id: Some("3EB0BBBBBBBBBBBBBBBBBB".into()),
                    ..Default::default()
                }),
                text: Some("👍".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        match inbound(
            &reaction,
            &info(
                "120363012345678901@g.us",
                "6289999999999@s.whatsapp.net",
                false,
            ),
        ) {
            Some(Event::Reaction {
                chat,
                message_id,
                emoji,
                ..
            }) => {
                assert!(chat.is_group());
                assert_eq!(message_id, "3EB0BBBBBBBBBBBBBBBBBB");
                assert_eq!(emoji, "👍");
            }
            other => panic!("expected a reaction, got {other:?}"),
        }
        let protocol = wa::Message {
            protocol_message: MessageField::some(wa::message::ProtocolMessage::default()),
            ..Default::default()
        };
        assert!(inbound(
            &protocol,
            &info(
                "6289999999999@s.whatsapp.net",
                "6289999999999@s.whatsapp.net",
                false
            )
        )
        .is_none());
    }

    #[test]
    fn edits_and_revokes_become_their_events() {
        use wa::message::protocol_message::Type;
        let key = wa::MessageKey {
            id: Some("3A0000000000000000EE".into()),
            ..Default::default()
        };
        let edit = wa::Message {
            protocol_message: MessageField::some(wa::message::ProtocolMessage {
                key: MessageField::some(key.clone()),
                r#type: Some(Type::MESSAGE_EDIT),
                edited_message: MessageField::some(wa::Message {
                    conversation: Some("halo, fixed".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let from = "6289999999999@s.whatsapp.net";
        match inbound(&edit, &info(from, from, false)) {
            Some(Event::Edited {
                message_id,
                text,
                from_me,
                chat,
                ..
            }) => {
                assert_eq!(message_id, "3A0000000000000000EE");
                assert_eq!(text.as_deref(), Some("halo, fixed"));
                assert!(!from_me);
                assert_eq!(chat.to_string(), from);
            }
            other => panic!("expected an edit, got {other:?}"),
        }
        let revoke = wa::Message {
            protocol_message: MessageField::some(wa::message::ProtocolMessage {
                key: MessageField::some(key),
                r#type: Some(Type::REVOKE),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(matches!(
            inbound(&revoke, &info(from, from, true)),
            Some(Event::Revoked { message_id, from_me: true, .. }) if message_id == "3A0000000000000000EE"
        ));
    }

    #[test]
    fn presence_calls_groups_deletes_and_newsletters_map() {
        use whatsapp_rust::wacore::stanza::groups::{
            GroupNotificationAction, GroupParticipantInfo,
        };
        let at = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
        let source = MessageSource {
            chat: jid("6289999999999@s.whatsapp.net"),
            sender: jid("6289999999999@s.whatsapp.net"),
            ..Default::default()
        };
        let recording = ChatPresenceUpdate::builder()
            .source(source.clone())
            .state(ChatPresence::Composing)
            .media(ChatPresenceMedia::Audio)
            .build();
        assert!(matches!(
            chat_presence(&recording),
            Event::ChatPresence {
                state: PresenceState::Recording,
                ..
            }
        ));
        let paused = ChatPresenceUpdate::builder()
            .source(source)
            .state(ChatPresence::Paused)
            .media(ChatPresenceMedia::Text)
            .build();
        assert!(matches!(
            chat_presence(&paused),
            Event::ChatPresence {
                state: PresenceState::Paused,
                ..
            }
        ));

        let offer = |offline: bool| {
            IncomingCall::builder()
                .from(jid("123456789012345@lid"))
                .stanza_id("S1".to_owned())
                .timestamp(at)
                .offline(offline)
                .action(CallAction::Offer {
                    call_id: "C0FFEE".into(),
                    call_creator: jid("123456789012345@lid"),
                    caller_pn: Some(jid("6289999999999@s.whatsapp.net")),
                    caller_country_code: None,
                    device_class: None,
                    joinable: false,
                    is_video: true,
                    audio: Vec::new(),
                    group_jid: None,
                })
                .build()
        };
        match call_offer(&offer(false)) {
            Some(Event::CallOffer {
                call_id,
                from,
                video,
                ..
            }) => {
                assert_eq!(call_id, "C0FFEE");
                assert_eq!(from.to_string(), "6289999999999@s.whatsapp.net");
                assert!(video);
            }
            other => panic!("expected an offer, got {other:?}"),
        }
        assert!(
            call_offer(&offer(true)).is_none(),
            "a replayed offer does not ring"
        );

        let member = |j: &str| GroupParticipantInfo {
            jid: jid(j),
            phone_number: None,
            display_name: None,
            r#type: None,
            lid: None,
            username: None,
            join_time: None,
            group_history_sent_state: None,
        };
        let update = GroupUpdate::builder()
            .group_jid(jid("120363012345678901@g.us"))
            .participant(jid("6281111111111@s.whatsapp.net"))
            .timestamp(at)
            .is_lid_addressing_mode(false)
            .action(GroupNotificationAction::Promote {
                participants: vec![member("6282222222222@s.whatsapp.net")],
            })
            .build();
        match group_update(&update) {
            Some(Event::GroupParticipants {
                group,
                change: GroupChange::Promote,
                participants,
                by,
                ..
            }) => {
                assert!(group.is_group());
                assert_eq!(participants[0].to_string(), "6282222222222@s.whatsapp.net");
                assert_eq!(by.unwrap().to_string(), "6281111111111@s.whatsapp.net");
            }
            other => panic!("expected a promotion, got {other:?}"),
        }
        let subject = GroupUpdate::builder()
            .group_jid(jid("120363012345678901@g.us"))
            .timestamp(at)
            .is_lid_addressing_mode(false)
            .action(GroupNotificationAction::Unlocked)
            .build();
        assert!(group_update(&subject).is_none());

        let deleted = DeleteMessageForMeUpdate::builder()
            .chat_jid(jid("6289999999999@s.whatsapp.net"))
            .message_id("3A00DE1E7E".to_owned())
            .from_me(false)
            .timestamp(at)
            .action(Box::default())
            .from_full_sync(false)
            .build();
        assert!(matches!(
            deleted_for_me(&deleted),
            Event::Deleted { message_id, .. } if message_id == "3A00DE1E7E"
        ));

        let joined = MexNotification::builder()
            .op_name("NotificationNewsletterJoin".to_owned())
            .payload(json!({"data": {"xwa2_notify_newsletter_on_join": {
                "id": "120363123456789012@newsletter",
                "thread_metadata": {"name": {"text": "Tech News"}}}}}))
            .build();
        match newsletter_change(&joined) {
            Some(Event::NewsletterJoined { newsletter, name }) => {
                assert_eq!(newsletter.to_string(), "120363123456789012@newsletter");
                assert_eq!(name.as_deref(), Some("Tech News"));
            }
            other => panic!("expected a join, got {other:?}"),
        }
        let other = MexNotification::builder()
            .op_name("NotificationUserReachoutTimelockUpdate".to_owned())
            .payload(json!({}))
            .build();
        assert!(newsletter_change(&other).is_none());
    }

    #[test]
    fn receipts_map_to_delivery_progress_per_message() {
        let source = MessageSource {
            chat: jid("120363012345678901@g.us"),
            sender: jid("6289999999999@s.whatsapp.net"),
            is_group: true,
            ..Default::default()
        };
        let receipt = WaReceipt::builder()
            .source(source.clone())
            .message_ids(vec!["3EB0A".into(), "3EB0B".into()])
            .timestamp(Utc::now())
            .r#type(ReceiptType::Read)
            .offline(false)
            .build();
        let events = receipts(&receipt);
        assert_eq!(events.len(), 2);
        match &events[1] {
            Event::Receipt {
                message_id,
                status,
                participant,
                ..
            } => {
                assert_eq!(message_id, "3EB0B");
                assert_eq!(*status, Receipt::Read);
                assert_eq!(
                    participant.as_ref().map(|p| p.user.as_str()),
                    Some("6289999999999")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            receipt_status(&ReceiptType::Delivered),
            Some(Receipt::Delivered)
        );
        assert_eq!(receipt_status(&ReceiptType::Played), Some(Receipt::Played));
        assert_eq!(receipt_status(&ReceiptType::Retry), None);
        let own_device = WaReceipt::builder()
            .source(MessageSource {
                is_from_me: true,
                ..source
            })
            .message_ids(vec!["3EB0A".into()])
            .timestamp(Utc::now())
            .r#type(ReceiptType::Read)
            .offline(false)
            .build();
        assert!(receipts(&own_device).is_empty());
    }

    #[test]
    fn outgoing_messages_build_the_protobuf_whatsapp_expects() {
        let text = super::outgoing(&outgoing(Kind::Text, Some("hi"), json!({}))).expect("text");
        assert_eq!(text.conversation.as_deref(), Some("hi"));

        let mut reply = outgoing(Kind::Text, Some("yes"), json!({}));
        reply.reply_to = Some("3EB0CCCC".into());
        reply.forwarded = true;
        reply.expiration_secs = 86_400;
        let proto = super::outgoing(&reply).expect("reply");
        let ext = proto.extended_text_message.as_option().expect("extended");
        let context = ext.context_info.as_option().expect("context");
        assert_eq!(context.stanza_id.as_deref(), Some("3EB0CCCC"));
        assert_eq!(context.is_forwarded, Some(true));
        assert_eq!(context.expiration, Some(86_400));

        let link = super::outgoing(&outgoing(
            Kind::Link,
            Some("look\nhttps://example.com"),
            json!({ "link": "https://example.com" }),
        ))
        .expect("link");
        assert_eq!(
            link.extended_text_message
                .as_option()
                .and_then(|e| e.matched_text.as_deref()),
            Some("https://example.com")
        );

        let location = super::outgoing(&outgoing(
            Kind::Location,
            None,
            json!({ "latitude": -6.2, "longitude": 106.8 }),
        ))
        .expect("location");
        let l = location.location_message.as_option().expect("location");
        assert_eq!(l.degrees_latitude, Some(-6.2));
        assert_eq!(l.degrees_longitude, Some(106.8));

        let contact = super::outgoing(&outgoing(
            Kind::Contact,
            None,
            json!({ "display_name": "Ani", "vcard": "BEGIN:VCARD\nEND:VCARD" }),
        ))
        .expect("contact");
        assert_eq!(
            contact
                .contact_message
                .as_option()
                .and_then(|c| c.display_name.as_deref()),
            Some("Ani")
        );
        // Media and polls are built elsewhere (upload, poll API).
        assert!(super::outgoing(&outgoing(Kind::Image, None, json!({}))).is_none());
        assert!(super::outgoing(&outgoing(Kind::Poll, None, json!({}))).is_none());
    }

    #[test]
    fn a_server_nack_of_a_message_fails_it_and_plain_acks_do_not() {
        use whatsapp_rust::wacore::types::events::ServerAck;
        let nack = ServerAck::builder()
            .id("3EB0FAIL".to_owned())
            .class("message".to_owned())
            .error("479".to_owned())
            .build();
        match nack_of(&nack) {
            Some(Event::SendFailed { message_id, reason }) => {
                assert_eq!(message_id, "3EB0FAIL");
                assert_eq!(reason, "server_refused_479");
            }
            other => panic!("{other:?}"),
        }
        let ack = ServerAck::builder()
            .id("3EB0OK".to_owned())
            .class("message".to_owned())
            .build();
        assert!(nack_of(&ack).is_none());
        let receipt_nack = ServerAck::builder()
            .id("x".to_owned())
            .class("receipt".to_owned())
            .error("400".to_owned())
            .build();
        assert!(nack_of(&receipt_nack).is_none());
    }

    fn nack_of(ack: &whatsapp_rust::wacore::types::events::ServerAck) -> Option<Event> {
        super::nack(ack)
    }

    #[test]
    fn newsletter_posts_show_their_ids_time_and_content() {
        use whatsapp_rust::features::{NewsletterMessage, NewsletterMessageType};
        let post = NewsletterMessage {
            message_id: "3EB0NEWS".into(),
            server_id: 117,
            timestamp: 1_700_000_000,
            message_type: NewsletterMessageType::Text,
            is_sender: false,
            message: Some(wa::Message {
                conversation: Some("launch day".into()),
                ..Default::default()
            }),
            reactions: Vec::new(),
        };
        let v = newsletter_post(&post);
        assert_eq!(v["id"], "3EB0NEWS");
        assert_eq!(v["server_id"], 117);
        assert_eq!(v["kind"], "text");
        assert_eq!(v["body"], "launch day");
        assert_eq!(v["from_me"], false);
        assert!(v["timestamp"].as_str().unwrap().starts_with("2023-11-14"));
    }

    #[test]
    fn failure_reasons_are_stable_codes() {
        assert_eq!(
            failure_reason(&ConnectFailureReason::LoggedOut),
            "logged_out_from_phone"
        );
        assert_eq!(
            failure_reason(&ConnectFailureReason::TempBanned),
            "temporarily_banned"
        );
        assert_eq!(
            failure_reason(&ConnectFailureReason::Generic),
            "connect_failure"
        );
    }
}

// ---- groups, users and profiles ----------------------------------------------------------

use crate::{
    driver::DriverError,
    groups::{Change, GroupInfo, Participant, ParticipantResult},
};
use whatsapp_rust::{
    features::{
        GroupError as WaGroupError, GroupMetadata, GroupParticipant, MembershipRequest,
        NewsletterMetadata, NewsletterRole, NewsletterState, NewsletterVerification,
        ParticipantChangeResponse, ParticipantType,
    },
    wacore::iq::privacy::{PrivacyCategory, PrivacySettingsResponse},
    IqError,
};

fn timestamp(secs: Option<u64>) -> Option<DateTime<Utc>> {
    secs.and_then(|s| DateTime::from_timestamp(i64::try_from(s).ok()?, 0))
}

/// The role of a group member as the API names it.
pub fn role(kind: &ParticipantType) -> &'static str {
    match kind {
        ParticipantType::SuperAdmin => "superadmin",
        ParticipantType::Admin => "admin",
        ParticipantType::Member => "member",
    }
}

/// A member's address: its phone-number JID when WhatsApp gives one (LID-addressed
/// groups), else the JID it is listed under.
fn member_jid(p: &GroupParticipant) -> WaJid {
    p.phone_number.clone().unwrap_or_else(|| p.jid.clone())
}

/// Whether `p` is one of `users` (the user parts of a phone number or LID).
fn is_one_of(p: &GroupParticipant, users: &[String]) -> bool {
    [Some(&p.jid), p.phone_number.as_ref(), p.lid.as_ref()]
        .into_iter()
        .flatten()
        .any(|j| users.iter().any(|u| u.as_str() == j.user.as_str()))
}

/// An active member; `since` stands in when WhatsApp does not say when it joined.
pub fn participant(p: &GroupParticipant, since: DateTime<Utc>) -> Participant {
    Participant {
        jid: from_wa(&member_jid(p)).to_string(),
        role: role(&p.participant_type).to_owned(),
        status: "active".to_owned(),
        added_at: timestamp(p.details.as_ref().and_then(|d| d.join_time)).unwrap_or(since),
    }
}

/// A group as the API shows it. `me` holds the user parts of the session's own phone
/// number and LID (for `is_member`); when it is empty the session counts as a member.
/// WhatsApp gives no photo id with the metadata, and the creation time is the epoch when
/// it is missing.
pub fn group_info(meta: &GroupMetadata, me: &[String]) -> GroupInfo {
    let created_at = timestamp(meta.creation_time).unwrap_or(DateTime::UNIX_EPOCH);
    let mut participants: Vec<Participant> = meta
        .participants
        .iter()
        .map(|p| participant(p, created_at))
        .collect();
    let rank = |r: &str| match r {
        "superadmin" => 0,
        "admin" => 1,
        _ => 2,
    };
    participants.sort_by(|a, b| {
        (rank(&a.role), a.added_at, &a.jid).cmp(&(rank(&b.role), b.added_at, &b.jid))
    });
    let disappearing = meta
        .ephemeral
        .and_then(|e| e.expiration)
        .map(|e| i32::try_from(e).unwrap_or(i32::MAX))
        .unwrap_or(0);
    GroupInfo {
        group_id: from_wa(&meta.id).to_string(),
        name: meta.subject.clone(),
        topic: non_empty(meta.description.as_deref()),
        owner_jid: meta
            .creator_pn
            .as_ref()
            .or(meta.creator.as_ref())
            .map(|j| from_wa(j).to_string()),
        is_announce: meta.is_announcement,
        is_locked: meta.is_locked,
        is_ephemeral: disappearing > 0,
        disappearing_secs: disappearing,
        picture_id: None,
        is_member: me.is_empty() || meta.participants.iter().any(|p| is_one_of(p, me)),
        participant_count: participants.len(),
        participants,
        created_at,
    }
}

/// What an invite link shows before joining (the `GroupPreview` answer).
pub fn group_preview(meta: &GroupMetadata) -> Value {
    let mut preview = json!({
        "group_id": from_wa(&meta.id).to_string(),
        "name": meta.subject,
        "topic": non_empty(meta.description.as_deref()),
        "is_announce": meta.is_announcement,
        "is_locked": meta.is_locked,
        "is_ephemeral": meta.ephemeral.and_then(|e| e.expiration).unwrap_or(0) > 0,
        "participant_count": meta.size.map(|s| s as usize).unwrap_or(meta.participants.len()),
    });
    if let Some(at) = timestamp(meta.creation_time) {
        preview["created_at"] = json!(at);
    }
    preview
}

/// A pending request to join, as the API lists them.
pub fn join_request(r: &MembershipRequest) -> Participant {
    Participant {
        jid: from_wa(&r.jid).to_string(),
        role: "member".to_owned(),
        status: "requested".to_owned(),
        added_at: timestamp(r.request_time).unwrap_or_else(now),
    }
}

fn success_message(change: Change) -> &'static str {
    match change {
        Change::Add => "participant added",
        Change::Remove => "participant removed",
        Change::Promote => "participant promoted",
        Change::Demote => "participant demoted",
        Change::Approve => "request approved",
        Change::Reject => "request rejected",
    }
}

/// Why WhatsApp refused one participant of a bulk change (its error code).
pub fn participant_error(change: Change, code: &str) -> String {
    let reason = match (code, change) {
        ("403", Change::Add) => {
            "the user's privacy settings do not allow adding them; send them an invite link"
        }
        ("408", Change::Add) => "the user left the group recently",
        ("409", Change::Add) => "already a participant",
        ("500", Change::Add) => "the group is full",
        ("404", Change::Approve | Change::Reject) => "no pending request",
        ("404", _) => "not a participant",
        ("406", _) => "the group's creator cannot be changed",
        ("401", _) => "not authorized",
        ("403", _) => "not allowed",
        _ => "",
    };
    if reason.is_empty() {
        format!("WhatsApp refused (code {code})")
    } else {
        reason.to_owned()
    }
}

fn same_user(jid: &Jid, wa: Option<&WaJid>) -> bool {
    wa.is_some_and(|w| w.user.as_str() == jid.user)
}

/// One result per participant asked for, in the order asked, from WhatsApp's answers
/// (matched by phone number or JID user part).
pub fn participant_results(
    change: Change,
    asked: &[Jid],
    answers: &[ParticipantChangeResponse],
) -> Vec<ParticipantResult> {
    asked
        .iter()
        .map(|jid| {
            let answer = answers
                .iter()
                .find(|a| same_user(jid, Some(&a.jid)) || same_user(jid, a.phone_number.as_ref()));
            let (status, message) = match answer {
                Some(a) => match a.error.as_deref() {
                    None => ("success", success_message(change).to_owned()),
                    Some(code) => ("error", participant_error(change, code)),
                },
                None => (
                    "error",
                    "WhatsApp gave no answer for this participant".to_owned(),
                ),
            };
            ParticipantResult {
                participant: jid.to_string(),
                status,
                message,
            }
        })
        .collect()
}

/// The results of a group creation: who is in the new group was added.
pub fn created_results(asked: &[Jid], meta: &GroupMetadata) -> Vec<ParticipantResult> {
    asked
        .iter()
        .map(|jid| {
            let added = meta
                .participants
                .iter()
                .any(|p| is_one_of(p, std::slice::from_ref(&jid.user)));
            ParticipantResult {
                participant: jid.to_string(),
                status: if added { "success" } else { "error" },
                message: if added {
                    "participant added"
                } else {
                    "not added (not on WhatsApp, or their privacy settings need an invite link)"
                }
                .to_owned(),
            }
        })
        .collect()
}

/// A failed request to WhatsApp as a driver error.
pub fn iq_failure(e: &IqError) -> DriverError {
    match e {
        IqError::NotConnected | IqError::Disconnected(_) | IqError::ClientState(_) => {
            DriverError::NotConnected
        }
        IqError::ServerError { code, text, .. } => {
            let reason = match code {
                400 => "the request is malformed",
                401 => "not authorized",
                403 => "not allowed (you may not be a member or an admin)",
                404 => "not found",
                406 => "not acceptable",
                409 => "conflict",
                410 => "the invite link was reset",
                419 => "the group is full",
                423 => "the group is locked",
                _ => "",
            };
            if reason.is_empty() || *code >= 500 || *code == 429 {
                DriverError::Unavailable(format!("WhatsApp did not take the request: {e}"))
            } else {
                DriverError::Invalid(format!(
                    "WhatsApp refused the request: {reason} ({code} {text})"
                ))
            }
        }
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

/// A failed group operation as a driver error.
pub fn group_failure(e: &WaGroupError) -> DriverError {
    match e {
        WaGroupError::Iq(iq) => iq_failure(iq),
        WaGroupError::InvalidRequest(m) => DriverError::Invalid(m.clone()),
        WaGroupError::DescriptionConflict => {
            DriverError::Invalid("the group's description changed meanwhile; try again".into())
        }
        other => DriverError::Unavailable(format!("WhatsApp did not take the request: {other}")),
    }
}

/// A user's profile (the `UserInfo` answer) from what usync gave.
pub fn user_info(
    phone: &str,
    status: Option<&str>,
    picture_id: Option<&str>,
    verified_name: Option<&str>,
    devices: &[u16],
) -> Value {
    let devices: Vec<Value> = if devices.is_empty() { &[0u16][..] } else { devices }
        .iter()
        .map(|d| json!({ "User": phone, "Agent": 0, "Device": d, "Server": "s.whatsapp.net", "AD": *d != 0 }))
        .collect();
    json!({
        "jid": Jid::user(phone).to_string(),
        "verified_name": non_empty(verified_name),
        "status": status.unwrap_or_default(),
        "picture_id": non_empty(picture_id),
        "devices": devices,
    })
}

/// The privacy settings (the `Privacy` answer); a category WhatsApp leaves out is `all`.
pub fn privacy(settings: &PrivacySettingsResponse) -> Value {
    let value = |c: PrivacyCategory| {
        settings
            .get(&c)
            .map(|s| s.value.as_str().to_string())
            .unwrap_or_else(|| "all".to_owned())
    };
    json!({
        "group_add": value(PrivacyCategory::GroupAdd),
        "last_seen": value(PrivacyCategory::Last),
        "status": value(PrivacyCategory::Status),
        "profile": value(PrivacyCategory::Profile),
        "read_receipts": value(PrivacyCategory::ReadReceipts),
        "online": value(PrivacyCategory::Online),
        "call_add": value(PrivacyCategory::CallAdd),
    })
}

/// A followed newsletter.
pub fn newsletter(n: &NewsletterMetadata) -> Value {
    json!({
        "id": from_wa(&n.jid).to_string(),
        "name": n.name,
        "description": non_empty(n.description.as_deref()),
        "subscriber_count": n.subscriber_count,
        "verified": n.verification == NewsletterVerification::Verified,
        "state": match n.state {
            NewsletterState::Active => "active",
            NewsletterState::Suspended => "suspended",
            NewsletterState::Geosuspended => "geosuspended",
            _ => "unknown",
        },
        "role": n.role.as_ref().map(|r| match r {
            NewsletterRole::Owner => "owner",
            NewsletterRole::Admin => "admin",
            NewsletterRole::Subscriber => "subscriber",
            NewsletterRole::Guest => "guest",
            _ => "unknown",
        }),
        "picture_url": n.picture_url,
        "invite_code": n.invite_code,
        "created_at": timestamp(n.creation_time),
    })
}

#[cfg(test)]
mod group_tests {
    use super::*;
    use whatsapp_rust::{
        features::{GroupEphemeralSettings, GroupParticipant, ParticipantType},
        wacore::{
            iq::privacy::{PrivacySetting, PrivacyValue},
            protocol::ProtocolNode,
        },
        NodeBuilder,
    };

    fn member(phone: &str, lid: Option<&str>, kind: ParticipantType) -> GroupParticipant {
        GroupParticipant {
            jid: match lid {
                Some(l) => format!("{l}@lid").parse().unwrap(),
                None => WaJid::pn(phone),
            },
            phone_number: lid.map(|_| WaJid::pn(phone)),
            lid: lid.map(|l| format!("{l}@lid").parse().unwrap()),
            username: None,
            participant_type: kind,
            details: None,
        }
    }

    fn metadata() -> GroupMetadata {
        GroupMetadata {
            id: "120363025246125486@g.us".parse().unwrap(),
            subject: "Team".into(),
            description: Some("  ".into()),
            creator: Some("111@lid".parse().unwrap()),
            creator_pn: Some(WaJid::pn("15550000001")),
            creation_time: Some(1_700_000_000),
            is_announcement: true,
            is_locked: false,
            ephemeral: Some(GroupEphemeralSettings {
                expiration: Some(86_400),
                trigger: None,
            }),
            size: Some(7),
            participants: vec![
                member("15550000003", None, ParticipantType::Member),
                member("15550000002", Some("222"), ParticipantType::Admin),
                member("15550000001", Some("111"), ParticipantType::SuperAdmin),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn group_metadata_maps_to_the_api_group() {
        let info = group_info(&metadata(), &["111".to_owned()]);
        assert_eq!(info.group_id, "120363025246125486@g.us");
        assert_eq!(info.name, "Team");
        assert_eq!(info.topic, None, "a blank description is no topic");
        assert_eq!(
            info.owner_jid.as_deref(),
            Some("15550000001@s.whatsapp.net")
        );
        assert!(info.is_announce);
        assert!(!info.is_locked);
        assert!(info.is_ephemeral);
        assert_eq!(info.disappearing_secs, 86_400);
        assert_eq!(info.picture_id, None);
        assert!(info.is_member, "matched by our LID");
        assert_eq!(info.participant_count, 3);
        assert_eq!(info.created_at.timestamp(), 1_700_000_000);
        // Ordered creator, admins, members; LID members shown by phone number.
        let list: Vec<(&str, &str, &str)> = info
            .participants
            .iter()
            .map(|p| (p.jid.as_str(), p.role.as_str(), p.status.as_str()))
            .collect();
        assert_eq!(
            list,
            vec![
                ("15550000001@s.whatsapp.net", "superadmin", "active"),
                ("15550000002@s.whatsapp.net", "admin", "active"),
                ("15550000003@s.whatsapp.net", "member", "active"),
            ]
        );
        assert!(info
            .participants
            .iter()
            .all(|p| p.added_at == info.created_at));
        assert!(!group_info(&metadata(), &["999".to_owned()]).is_member);
        assert!(group_info(&metadata(), &[]).is_member);
    }

    #[test]
    fn a_group_without_a_timer_or_creation_time_maps_to_defaults() {
        let meta = GroupMetadata {
            id: "120363000000000001@g.us".parse().unwrap(),
            subject: "Plain".into(),
            description: Some("About us".into()),
            ..Default::default()
        };
        let info = group_info(&meta, &[]);
        assert_eq!(info.topic.as_deref(), Some("About us"));
        assert!(!info.is_ephemeral);
        assert_eq!(info.disappearing_secs, 0);
        assert_eq!(info.owner_jid, None);
        assert_eq!(info.created_at, DateTime::UNIX_EPOCH);
        assert_eq!(info.participant_count, 0);
    }

    #[test]
    fn an_invite_preview_has_the_preview_fields() {
        let preview = group_preview(&metadata());
        assert_eq!(preview["group_id"], "120363025246125486@g.us");
        assert_eq!(preview["name"], "Team");
        assert_eq!(preview["topic"], Value::Null);
        assert_eq!(preview["is_announce"], true);
        assert_eq!(preview["is_locked"], false);
        assert_eq!(preview["is_ephemeral"], true);
        assert_eq!(preview["participant_count"], 7, "the size WhatsApp reports");
        assert_eq!(
            preview["created_at"],
            json!(DateTime::from_timestamp(1_700_000_000, 0).unwrap())
        );
        let bare = group_preview(&GroupMetadata {
            id: "120363000000000001@g.us".parse().unwrap(),
            ..Default::default()
        });
        assert!(bare.get("created_at").is_none());
        assert_eq!(bare["participant_count"], 0);
    }

    fn answer(jid: &str, error: Option<&str>, phone: Option<&str>) -> ParticipantChangeResponse {
        let mut node = NodeBuilder::new("participant").attr("jid", jid.parse::<WaJid>().unwrap());
        if let Some(e) = error {
            node = node.attr("error", e);
        }
        if let Some(p) = phone {
            node = node.attr("phone_number", WaJid::pn(p));
        }
        ParticipantChangeResponse::try_from_node(&node.build()).unwrap()
    }

    #[test]
    fn participant_changes_give_one_result_per_participant_asked() {
        let asked = [
            Jid::user("15550000002"),
            Jid::user("15550000003"),
            Jid::user("15550000004"),
            Jid::user("15550000005"),
        ];
        let answers = [
            answer("222@lid", None, Some("15550000002")),
            answer("15550000003@s.whatsapp.net", Some("403"), None),
            answer("15550000004@s.whatsapp.net", Some("409"), None),
        ];
        let results = participant_results(Change::Add, &asked, &answers);
        let got: Vec<(&str, &str, &str)> = results
            .iter()
            .map(|r| (r.participant.as_str(), r.status, r.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("15550000002@s.whatsapp.net", "success", "participant added"),
                (
                    "15550000003@s.whatsapp.net",
                    "error",
                    "the user's privacy settings do not allow adding them; send them an invite link"
                ),
                ("15550000004@s.whatsapp.net", "error", "already a participant"),
                (
                    "15550000005@s.whatsapp.net",
                    "error",
                    "WhatsApp gave no answer for this participant"
                ),
            ]
        );
        let removed = participant_results(
            Change::Remove,
            &asked[..1],
            &[answer("15550000002@s.whatsapp.net", Some("404"), None)],
        );
        assert_eq!(removed[0].message, "not a participant");
        let approved = participant_results(
            Change::Approve,
            &asked[..1],
            &[answer("15550000002@s.whatsapp.net", None, None)],
        );
        assert_eq!(
            (approved[0].status, approved[0].message.as_str()),
            ("success", "request approved")
        );
        assert_eq!(
            participant_error(Change::Promote, "499"),
            "WhatsApp refused (code 499)"
        );
    }

    #[test]
    fn a_created_group_reports_who_was_added() {
        let asked = [Jid::user("15550000002"), Jid::user("15550000009")];
        let results = created_results(&asked, &metadata());
        assert_eq!(results[0].status, "success");
        assert_eq!(results[0].message, "participant added");
        assert_eq!(results[1].participant, "15550000009@s.whatsapp.net");
        assert_eq!(results[1].status, "error");
    }

    #[test]
    fn join_requests_are_requested_members() {
        let r = MembershipRequest {
            jid: WaJid::pn("15550000007"),
            request_time: Some(1_700_000_100),
        };
        let p = join_request(&r);
        assert_eq!(p.jid, "15550000007@s.whatsapp.net");
        assert_eq!(
            (p.role.as_str(), p.status.as_str()),
            ("member", "requested")
        );
        assert_eq!(p.added_at.timestamp(), 1_700_000_100);
    }

    #[test]
    fn library_failures_map_to_driver_errors() {
        assert_eq!(
            group_failure(&WaGroupError::Iq(IqError::NotConnected)),
            DriverError::NotConnected
        );
        let refused = |code| {
            group_failure(&WaGroupError::Iq(IqError::ServerError {
                code,
                text: "x".into(),
                error_type: None,
                backoff: None,
            }))
        };
        assert!(matches!(refused(403), DriverError::Invalid(m) if m.contains("not allowed")));
        assert!(matches!(refused(404), DriverError::Invalid(m) if m.contains("not found")));
        assert!(matches!(refused(500), DriverError::Unavailable(_)));
        assert!(matches!(refused(429), DriverError::Unavailable(_)));
        assert!(matches!(
            group_failure(&WaGroupError::InvalidRequest("invalid or empty invite code".into())),
            DriverError::Invalid(m) if m == "invalid or empty invite code"
        ));
        assert!(matches!(
            group_failure(&WaGroupError::Iq(IqError::Timeout)),
            DriverError::Unavailable(_)
        ));
        assert!(matches!(
            group_failure(&WaGroupError::DescriptionConflict),
            DriverError::Invalid(_)
        ));
    }

    #[test]
    fn user_info_has_the_sandbox_shape() {
        let v = user_info(
            "15550000002",
            Some("Busy"),
            Some("123"),
            Some("Acme"),
            &[0, 3],
        );
        assert_eq!(v["jid"], "15550000002@s.whatsapp.net");
        assert_eq!(v["verified_name"], "Acme");
        assert_eq!(v["status"], "Busy");
        assert_eq!(v["picture_id"], "123");
        assert_eq!(v["devices"].as_array().unwrap().len(), 2);
        assert_eq!(v["devices"][1]["Device"], 3);
        assert_eq!(v["devices"][1]["AD"], true);
        let bare = user_info("15550000002", None, None, None, &[]);
        assert_eq!(bare["status"], "");
        assert_eq!(bare["verified_name"], Value::Null);
        assert_eq!(bare["picture_id"], Value::Null);
        assert_eq!(bare["devices"][0]["Device"], 0);
    }

    #[test]
    fn privacy_settings_fill_every_field() {
        let settings = PrivacySettingsResponse {
            settings: vec![
                PrivacySetting {
                    category: PrivacyCategory::Last,
                    value: PrivacyValue::Contacts,
                },
                PrivacySetting {
                    category: PrivacyCategory::Online,
                    value: PrivacyValue::MatchLastSeen,
                },
                PrivacySetting {
                    category: PrivacyCategory::CallAdd,
                    value: PrivacyValue::Known,
                },
            ],
        };
        let v = privacy(&settings);
        assert_eq!(v["last_seen"], "contacts");
        assert_eq!(v["online"], "match_last_seen");
        assert_eq!(v["call_add"], "known");
        for field in ["group_add", "status", "profile", "read_receipts"] {
            assert_eq!(v[field], "all", "{field}");
        }
        assert_eq!(v.as_object().unwrap().len(), 7);
    }

    #[test]
    fn newsletters_map_to_objects() {
        let n = NewsletterMetadata {
            jid: "120363000000000002@newsletter".parse().unwrap(),
            name: "News".into(),
            description: Some("Daily".into()),
            subscriber_count: 42,
            verification: NewsletterVerification::Verified,
            state: NewsletterState::Active,
            picture_url: None,
            preview_url: None,
            invite_code: Some("abc".into()),
            role: Some(NewsletterRole::Subscriber),
            creation_time: Some(1_700_000_000),
        };
        let v = newsletter(&n);
        assert_eq!(v["id"], "120363000000000002@newsletter");
        assert_eq!(v["name"], "News");
        assert_eq!(v["subscriber_count"], 42);
        assert_eq!(v["verified"], true);
        assert_eq!(v["state"], "active");
        assert_eq!(v["role"], "subscriber");
        assert_eq!(v["invite_code"], "abc");
        assert!(v["created_at"].is_string());
    }
}
