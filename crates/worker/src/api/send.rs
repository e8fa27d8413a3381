//! Sending messages and presence (`/api/v1/send`).

use super::{code, fields::*, Caller};
use crate::{
    driver::{Action, Kind, Outgoing},
    jid::Jid,
    store::{self, NewMessage},
    WorkerState,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use wasp_http::error::{ok, Error, Json, Result};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendMessage {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// The text, 1 to 4096 characters.
    #[schema(value_type = crate::api::doc::Text)]
    message: String,
    /// Quote this message (its id).
    reply_message_id: Option<String>,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::api::doc::DisappearingTimer>)]
    duration: Option<u32>,
    /// People to mention: phone numbers or JIDs, or `@everyone` in a group.
    #[serde(default)]
    #[schema(value_type = Vec<crate::api::doc::Mention>)]
    mentions: Vec<String>,
}

/// Disappearing-message timers WhatsApp allows.
pub(super) const DISAPPEARING: [u32; 4] = [0, 86_400, 604_800, 7_776_000];

pub(super) async fn send_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendMessage>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let body = text_field("message", &req.message)?;
    if let Some(d) = req.duration {
        if !DISAPPEARING.contains(&d) {
            return Err(Error::validation(
                "duration",
                "must be 0, 86400, 604800 or 7776000",
            ));
        }
    }
    let mut mentions = Vec::with_capacity(req.mentions.len());
    for m in &req.mentions {
        if m == "@everyone" {
            mentions.push(m.clone());
        } else {
            mentions.push(recipient("mentions", m)?.to_string());
        }
    }
    let content = if mentions.is_empty() {
        json!({})
    } else {
        json!({ "mentions": mentions })
    };
    let message = Outgoing {
        to,
        kind: Kind::Text,
        body: Some(body),
        content,
        reply_to: req.reply_message_id,
        forwarded: req.is_forwarded,
        expiration_secs: req.duration.unwrap_or(0),
        media: None,
    };
    send(&worker, &caller, message).await
}

/// Sends through the driver and stores the message as sent.
pub(crate) async fn send(
    worker: &WorkerState,
    caller: &Caller,
    message: Outgoing,
) -> Result<Response> {
    if message.to.is_group() && caller.instance.driver.sandbox().is_some() {
        let me = caller.instance.status().session.jid.unwrap_or_default();
        crate::groups::check_can_send(worker.db(), caller.key, &message.to.to_string(), &me)
            .await?;
    }
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    // Every send checks the lease: a worker that lost the session must not send for it.
    if !instances.still_holds(&caller.instance).await? {
        return Err(Error::client(
            StatusCode::SERVICE_UNAVAILABLE,
            code::SESSION_MOVED,
            "this session moved to another server; retry",
        ));
    }
    // Filed under the contact's number even when the message goes to its LID.
    let (chat, chat_lid) =
        crate::lids::resolve(caller.instance.driver.as_ref(), message.to.clone(), None).await;
    let (chat, chat_lid) = (chat.to_string(), chat_lid.map(|l| l.to_string()));
    // A quote names a message of this chat: not another chat's, nor another customer's.
    if let Some(quoted) = &message.reply_to {
        let in_chat = store::message(worker.db(), caller.key, quoted)
            .await?
            .is_some_and(|(m, _)| m.chat_jid == chat);
        if !in_chat {
            return Err(Error::validation(
                "reply_message_id",
                "no message with this id in this chat",
            ));
        }
    }
    let counters = &instances.counters;
    let sent = match caller.instance.driver.send(&message).await {
        Ok(sent) => sent,
        Err(e) => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return Err(e.into());
        }
    };
    let own = caller.instance.status().session.jid.unwrap_or_default();
    let mut content = message.content.clone();
    if let (true, Some(live)) = (message.to.is_group(), caller.instance.driver.live()) {
        // How many others the message went to, for its delivered/read ticks.
        if let Ok(group) = live.group_info(&message.to.to_string()).await {
            let others = group
                .participants
                .iter()
                .filter(|p| p.status == "active" && p.jid != own)
                .count();
            content["recipients"] = json!(others);
        }
    }
    let event = crate::events::NewEvent::sent(
        &sent.id,
        &chat,
        chat_lid.as_deref(),
        message.kind.as_str(),
        message.body.as_deref(),
        sent.timestamp,
    );
    let event = event.prepare(caller.key, (!own.is_empty()).then_some(own.as_str()));
    store::store_message_with(
        worker.db(),
        caller.key,
        &NewMessage {
            id: sent.id.clone(),
            chat_jid: chat.clone(),
            chat_kind: message.to.kind(),
            chat_name: None,
            sender_jid: own,
            from_me: true,
            kind: message.kind,
            body: message.body.clone(),
            content,
            status: "sent",
            reply_to: message.reply_to.clone(),
            forwarded: message.forwarded,
            sent_at: sent.timestamp,
        },
        Some(&event),
    )
    .await?;
    instances.deliveries.notify_one();
    instances.stream.publish(event);
    counters.sent.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("wasp_worker_messages_sent_total", "kind" => message.kind.as_str())
        .increment(1);
    Ok(ok(json!({
        "message_id": sent.id,
        "status": "sent",
        "chat_jid": chat,
        "chat_lid": chat_lid,
        "timestamp": sent.timestamp,
    }))
    .into_response())
}

pub(super) fn outgoing(
    to: Jid,
    kind: Kind,
    body: Option<String>,
    content: Value,
    forwarded: bool,
    duration: Option<u32>,
) -> Result<Outgoing> {
    Ok(Outgoing {
        to,
        kind,
        body,
        content,
        reply_to: None,
        forwarded,
        expiration_secs: check_duration(duration)?,
        media: None,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendContact {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// The contact's name (at most 100 characters).
    #[schema(value_type = crate::api::doc::Text)]
    contact_name: String,
    /// The contact's phone number (international format).
    #[schema(value_type = crate::api::doc::Phone)]
    contact_phone: String,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::api::doc::DisappearingTimer>)]
    duration: Option<u32>,
}

/// A vCard 3.0 for a contact card, as WhatsApp sends them.
pub(super) fn vcard(name: &str, phone: &str) -> String {
    let escaped: String = name
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect::<String>()
        .replace(';', "\\;")
        .replace(',', "\\,");
    format!("BEGIN:VCARD\nVERSION:3.0\nN:;{escaped};;;\nFN:{escaped}\nTEL;type=CELL;type=VOICE;waid={phone}:+{phone}\nEND:VCARD")
}

pub(super) async fn send_contact(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendContact>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let name = text_field("contact_name", &req.contact_name)?;
    if name.chars().count() > 100 {
        return Err(Error::validation(
            "contact_name",
            "must be at most 100 characters",
        ));
    }
    let phone = phone_field("contact_phone", Some(&req.contact_phone))?;
    let content = json!({ "display_name": name, "phone": format!("+{phone}"), "vcard": vcard(&name, &phone) });
    let message = outgoing(
        to,
        Kind::Contact,
        Some(name),
        content,
        req.is_forwarded,
        req.duration,
    )?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendLink {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// An http(s) URL, at most 2048 characters.
    link: String,
    /// Text sent above the link.
    #[schema(value_type = Option<crate::api::doc::Text>)]
    caption: Option<String>,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::api::doc::DisappearingTimer>)]
    duration: Option<u32>,
}

pub(super) async fn send_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendLink>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let link = match url::Url::parse(req.link.trim()) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && req.link.len() <= 2048 =>
        {
            u.to_string()
        }
        _ => {
            return Err(Error::validation(
                "link",
                "must be an http or https URL of at most 2048 characters",
            ))
        }
    };
    let caption = match req.caption.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(text_field("caption", c)?),
        None => None,
    };
    let body = match &caption {
        Some(c) => format!("{c}\n{link}"),
        None => link.clone(),
    };
    let body = text_field("caption", &body)?;
    let content = json!({ "link": link, "caption": caption });
    let message = outgoing(
        to,
        Kind::Link,
        Some(body),
        content,
        req.is_forwarded,
        req.duration,
    )?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendLocation {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// Degrees, -90 to 90: a number or a numeric string.
    #[schema(value_type = f64, minimum = -90, maximum = 90)]
    latitude: serde_json::Value,
    /// Degrees, -180 to 180: a number or a numeric string.
    #[schema(value_type = f64, minimum = -180, maximum = 180)]
    longitude: serde_json::Value,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::api::doc::DisappearingTimer>)]
    duration: Option<u32>,
}

/// A coordinate given as a number or a string (the current codebase takes strings).
pub(super) fn coordinate(field: &str, value: &Value, limit: f64) -> Result<f64> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    parsed
        .filter(|v| v.is_finite() && v.abs() <= limit)
        .ok_or_else(|| {
            Error::validation(
                field,
                format!("must be a number between -{limit} and {limit}"),
            )
        })
}

pub(super) async fn send_location(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendLocation>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let latitude = coordinate("latitude", &req.latitude, 90.0)?;
    let longitude = coordinate("longitude", &req.longitude, 180.0)?;
    let content = json!({ "latitude": latitude, "longitude": longitude });
    let message = outgoing(
        to,
        Kind::Location,
        None,
        content,
        req.is_forwarded,
        req.duration,
    )?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendPoll {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// At most 255 characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    )]
    question: String,
    /// 2 to 12 different options, each at most 100 characters.
    #[schema(min_items = 2, max_items = 12)]
    options: Vec<String>,
    /// How many options one person may choose: 1 to the number of options.
    max_answer: u32,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::api::doc::DisappearingTimer>)]
    duration: Option<u32>,
}

pub(super) async fn send_poll(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendPoll>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let question = text_field("question", &req.question)?;
    if question.chars().count() > 255 {
        return Err(Error::validation(
            "question",
            "must be at most 255 characters",
        ));
    }
    if !(2..=12).contains(&req.options.len()) {
        return Err(Error::validation("options", "must hold 2 to 12 options"));
    }
    let mut options: Vec<String> = Vec::with_capacity(req.options.len());
    for o in &req.options {
        let o = text_field("options", o)?;
        if o.chars().count() > 100 {
            return Err(Error::validation(
                "options",
                "each option must be at most 100 characters",
            ));
        }
        if options.contains(&o) {
            return Err(Error::validation(
                "options",
                "options must be different from each other",
            ));
        }
        options.push(o);
    }
    if req.max_answer == 0 || req.max_answer as usize > options.len() {
        return Err(Error::validation(
            "max_answer",
            "must be between 1 and the number of options",
        ));
    }
    let content = json!({ "question": question, "options": options, "max_answer": req.max_answer });
    let message = outgoing(to, Kind::Poll, Some(question), content, false, req.duration)?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendPresence {
    /// available or unavailable.
    #[serde(rename = "type")]
    #[schema(pattern = "^(available|unavailable)$")]
    kind: String,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    is_forwarded: bool,
}

pub(super) async fn send_presence(
    caller: Caller,
    Json(req): Json<SendPresence>,
) -> Result<Response> {
    let available = match req.kind.as_str() {
        "available" => true,
        "unavailable" => false,
        _ => {
            return Err(Error::validation(
                "type",
                "must be available or unavailable",
            ))
        }
    };
    caller
        .instance
        .driver
        .act(&Action::Presence { available })
        .await?;
    Ok(ok(json!({ "presence": req.kind })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendChatPresence {
    /// The chat: a phone number or a JID.
    #[schema(value_type = crate::api::doc::Recipient)]
    phone: String,
    /// start (typing…) or stop.
    #[schema(pattern = "^(start|stop)$")]
    action: String,
}

pub(super) async fn send_chat_presence(
    caller: Caller,
    Json(req): Json<SendChatPresence>,
) -> Result<Response> {
    let chat = recipient("phone", &req.phone)?;
    let composing = match req.action.as_str() {
        "start" => true,
        "stop" => false,
        _ => return Err(Error::validation("action", "must be start or stop")),
    };
    caller
        .instance
        .driver
        .act(&Action::ChatPresence {
            chat: chat.clone(),
            composing,
        })
        .await?;
    Ok(ok(json!({ "chat_jid": chat.to_string(), "action": req.action })).into_response())
}

// ---- operations on a message -----------------------------------------------------------
