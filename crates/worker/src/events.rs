//! Events for the customer (webhooks): one typed model for both drivers, written to a
//! durable outbox (`wa_events`) together with one delivery row per subscribed endpoint
//! (`webhook_deliveries`), in the transaction of the change they describe where there is
//! one — so an event the worker acknowledged is never lost, also across a crash.
//!
//! The document delivered:
//! `{"id": "evt_…", "event": "message.received", "customer_id", "mode", "timestamp",
//!   "device_id": "<our JID>", "payload": {…}}` — `event`, `device_id` and `payload` as in
//! the webhook payload of the current codebase, so its receivers move over easily.

use crate::{
    driver::{GroupChange, Incoming, PresenceState},
    jid::Jid,
    model::SessionKey,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use wasp_db::{on_tx, Tx};

/// Every event type, for filters and documentation.
pub const TYPES: &[&str] = &[
    "message.received",
    "message.sent",
    "message.delivered",
    "message.read",
    "message.played",
    "message.failed",
    "message.reaction",
    "message.edited",
    "message.revoked",
    "message.deleted",
    "session.qr",
    "session.pairing_code",
    "session.connected",
    "session.disconnected",
    "session.logged_out",
    "group.joined",
    "group.participants",
    "chat.presence",
    "call.offer",
    "newsletter.joined",
    "newsletter.left",
    "newsletter.message",
    "webhook.test",
];

/// Whether an endpoint's filter (`["*"]`, exact types, or `prefix.*`) takes `event`.
pub fn filter_matches(filter: &[String], event: &str) -> bool {
    filter.iter().any(|f| {
        f == "*"
            || f == event
            || f.strip_suffix(".*")
                .is_some_and(|prefix| event.split_once('.').is_some_and(|(p, _)| p == prefix))
    })
}

/// Whether a filter entry names events that exist.
pub fn valid_filter(entry: &str) -> bool {
    entry == "*"
        || TYPES.contains(&entry)
        || entry.strip_suffix(".*").is_some_and(|p| {
            TYPES
                .iter()
                .any(|t| t.split_once('.').is_some_and(|(q, _)| q == p))
        })
}

/// An event about to be written.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: &'static str,
    pub payload: Value,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A JID's phone number, when it is a phone-number JID.
fn phone_of(jid: &Jid) -> Option<String> {
    let s = jid.to_string();
    let (user, server) = s.split_once('@')?;
    (server == "s.whatsapp.net").then(|| format!("+{user}"))
}

fn is_lid(jid: &Jid) -> bool {
    jid.to_string().ends_with("@lid")
}

impl NewEvent {
    /// A message received (or sent from the phone: `message.sent` with `is_from_me`).
    pub fn message(m: &Incoming) -> NewEvent {
        let mut payload = json!({
            "id": m.id,
            "chat_id": m.chat.to_string(),
            "timestamp": rfc3339(m.timestamp),
            "is_from_me": m.from_me,
            "type": m.kind.as_str(),
        });
        add_party(&mut payload, "from", &m.sender);
        if let Some(alt) = &m.sender_alt {
            // The other address WhatsApp gave: both phone and LID where known.
            if let Some(phone) = phone_of(alt) {
                payload["from_phone"] = json!(phone);
            }
            if is_lid(alt) {
                payload["from_lid"] = json!(alt.to_string());
            }
        }
        if let Some(lid) = m.chat_alt.as_ref().filter(|c| is_lid(c)) {
            payload["chat_lid"] = json!(lid.to_string());
        }
        if let Some(name) = &m.push_name {
            payload["from_name"] = json!(name);
        }
        if let Some(body) = &m.body {
            payload["body"] = json!(body);
        }
        if let Some(reply) = &m.reply_to {
            payload["replied_to_id"] = json!(reply);
        }
        if m.content.as_object().is_some_and(|o| !o.is_empty()) {
            payload["content"] = m.content.clone();
        }
        let kind = if m.chat.kind() == "newsletter" {
            // A post in a channel this account follows.
            payload["newsletter_id"] = json!(m.chat.to_string());
            "newsletter.message"
        } else if m.from_me {
            "message.sent"
        } else {
            "message.received"
        };
        NewEvent { kind, payload }
    }

    /// A message we sent through the API, as stored (`chat_lid`: the chat's LID, when known).
    pub fn sent(
        id: &str,
        chat: &str,
        chat_lid: Option<&str>,
        kind: &str,
        body: Option<&str>,
        at: DateTime<Utc>,
    ) -> Self {
        let mut payload = json!({
            "id": id,
            "chat_id": chat,
            "timestamp": rfc3339(at),
            "is_from_me": true,
            "type": kind,
        });
        if let Some(lid) = chat_lid {
            payload["chat_lid"] = json!(lid);
        }
        if let Some(body) = body {
            payload["body"] = json!(body);
        }
        NewEvent {
            kind: "message.sent",
            payload,
        }
    }

    /// A receipt that moved one of our messages forward (`delivered`, `read`, `played`).
    pub fn receipt(
        message_id: &str,
        chat: &Jid,
        status: &str,
        participant: Option<&Jid>,
        at: DateTime<Utc>,
    ) -> Option<NewEvent> {
        let kind = match status {
            "delivered" => "message.delivered",
            "read" => "message.read",
            "played" => "message.played",
            _ => return None,
        };
        let mut payload = json!({
            "id": message_id,
            "ids": [message_id],
            "chat_id": chat.to_string(),
            "receipt_type": status,
            "timestamp": rfc3339(at),
        });
        if let Some(p) = participant {
            payload["from"] = json!(p.to_string());
        }
        Some(NewEvent { kind, payload })
    }

    pub fn failed(message_id: &str, reason: &str) -> NewEvent {
        NewEvent {
            kind: "message.failed",
            payload: json!({ "id": message_id, "reason": reason, "timestamp": rfc3339(Utc::now()) }),
        }
    }

    pub fn reaction(chat: &Jid, sender: &Jid, message_id: &str, emoji: &str) -> NewEvent {
        NewEvent {
            kind: "message.reaction",
            payload: json!({
                "chat_id": chat.to_string(),
                "from": sender.to_string(),
                "reacted_message_id": message_id,
                "reaction": emoji,
                "timestamp": rfc3339(Utc::now()),
            }),
        }
    }

    pub fn session(kind: &'static str, payload: Value) -> NewEvent {
        NewEvent { kind, payload }
    }

    /// A message's new text (`message.edited`).
    pub fn edited(
        chat: &Jid,
        sender: &Jid,
        message_id: &str,
        from_me: bool,
        text: Option<&str>,
        at: DateTime<Utc>,
    ) -> NewEvent {
        let mut payload = json!({
            "id": message_id,
            "chat_id": chat.to_string(),
            "is_from_me": from_me,
            "body": text,
            "edited_at": rfc3339(at),
            "timestamp": rfc3339(at),
        });
        add_party(&mut payload, "from", sender);
        NewEvent {
            kind: "message.edited",
            payload,
        }
    }

    /// A message deleted for everyone (`message.revoked`).
    pub fn revoked(
        chat: &Jid,
        sender: &Jid,
        message_id: &str,
        from_me: bool,
        at: DateTime<Utc>,
    ) -> NewEvent {
        let mut payload = json!({
            "id": message_id,
            "chat_id": chat.to_string(),
            "is_from_me": from_me,
            "revoked_at": rfc3339(at),
            "timestamp": rfc3339(at),
        });
        add_party(&mut payload, "from", sender);
        NewEvent {
            kind: "message.revoked",
            payload,
        }
    }

    /// A message deleted for this account only (`message.deleted`).
    pub fn deleted(chat: &Jid, message_id: &str, at: DateTime<Utc>) -> NewEvent {
        NewEvent {
            kind: "message.deleted",
            payload: json!({
                "id": message_id,
                "chat_id": chat.to_string(),
                "deleted_for": "me",
                "timestamp": rfc3339(at),
            }),
        }
    }

    /// Typing or recording in a chat, or stopped (`chat.presence`); `media` is `audio`
    /// while recording, as in the current codebase's `chat_presence`.
    pub fn presence(chat: &Jid, sender: &Jid, state: PresenceState) -> NewEvent {
        let (state_str, media) = match state {
            PresenceState::Composing => ("composing", ""),
            PresenceState::Recording => ("composing", "audio"),
            PresenceState::Paused => ("paused", ""),
        };
        let mut payload = json!({
            "chat_id": chat.to_string(),
            "state": state_str,
            "media": media,
            "activity": state.as_str(),
            "is_group": chat.is_group(),
            "timestamp": rfc3339(Utc::now()),
        });
        add_party(&mut payload, "from", sender);
        NewEvent {
            kind: "chat.presence",
            payload,
        }
    }

    /// Someone is calling (`call.offer`).
    pub fn call_offer(
        call_id: &str,
        from: &Jid,
        video: bool,
        group: Option<&Jid>,
        at: DateTime<Utc>,
    ) -> NewEvent {
        let mut payload = json!({
            "call_id": call_id,
            "is_video": video,
            "auto_rejected": false,
            "timestamp": rfc3339(at),
        });
        add_party(&mut payload, "from", from);
        if let Some(g) = group {
            payload["group_jid"] = json!(g.to_string());
        }
        NewEvent {
            kind: "call.offer",
            payload,
        }
    }

    /// This account is now in a group (`group.joined`).
    pub fn group_joined(
        group: &Jid,
        subject: Option<&str>,
        by: Option<&Jid>,
        at: DateTime<Utc>,
    ) -> NewEvent {
        let mut payload = json!({
            "chat_id": group.to_string(),
            "name": subject,
            "timestamp": rfc3339(at),
        });
        if let Some(by) = by {
            add_party(&mut payload, "by", by);
        }
        NewEvent {
            kind: "group.joined",
            payload,
        }
    }

    /// Members of a group joined, left, were promoted or demoted (`group.participants`).
    pub fn group_participants(
        group: &Jid,
        change: GroupChange,
        participants: &[Jid],
        by: Option<&Jid>,
        at: DateTime<Utc>,
    ) -> NewEvent {
        let mut payload = json!({
            "chat_id": group.to_string(),
            "type": change.as_str(),
            "jids": participants.iter().map(Jid::to_string).collect::<Vec<_>>(),
            "phones": participants.iter().filter_map(phone_of).collect::<Vec<_>>(),
            "timestamp": rfc3339(at),
        });
        if let Some(by) = by {
            add_party(&mut payload, "by", by);
        }
        NewEvent {
            kind: "group.participants",
            payload,
        }
    }

    pub fn newsletter_joined(newsletter: &Jid, name: Option<&str>) -> NewEvent {
        NewEvent {
            kind: "newsletter.joined",
            payload: json!({
                "newsletter_id": newsletter.to_string(),
                "name": name,
                "timestamp": rfc3339(Utc::now()),
            }),
        }
    }

    pub fn newsletter_left(newsletter: &Jid) -> NewEvent {
        NewEvent {
            kind: "newsletter.left",
            payload: json!({
                "newsletter_id": newsletter.to_string(),
                "role": "subscriber",
                "timestamp": rfc3339(Utc::now()),
            }),
        }
    }
}

/// Sets `<field>` to a party's JID, and `<field>_phone` / `<field>_lid` where known.
fn add_party(payload: &mut Value, field: &str, jid: &Jid) {
    payload[field] = json!(jid.to_string());
    if let Some(phone) = phone_of(jid) {
        payload[format!("{field}_phone")] = json!(phone);
    }
    if is_lid(jid) {
        payload[format!("{field}_lid")] = json!(jid.to_string());
    }
}

/// An id for an event: `evt_` and a time-ordered UUID.
pub fn new_id() -> String {
    format!("evt_{}", uuid::Uuid::now_v7().simple())
}

/// The whole document delivered for an event.
pub fn document(
    id: &str,
    key: SessionKey,
    device: Option<&str>,
    event: &NewEvent,
    at: DateTime<Utc>,
) -> Value {
    json!({
        "id": id,
        "event": event.kind,
        "customer_id": key.customer,
        "mode": key.mode.as_str(),
        "timestamp": rfc3339(at),
        "device_id": device,
        "payload": event.payload,
    })
}

#[derive(sqlx::FromRow)]
struct Endpoint {
    id: uuid::Uuid,
    events: sqlx::types::Json<Vec<String>>,
}

/// An event with its id and the document delivered (built before the transaction that
/// writes it, so webhooks and the live stream carry the same id).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: String,
    pub kind: &'static str,
    pub key: SessionKey,
    pub doc: Value,
    pub at: DateTime<Utc>,
}

impl NewEvent {
    pub fn prepare(&self, key: SessionKey, device: Option<&str>) -> Prepared {
        let at = Utc::now();
        let id = new_id();
        Prepared {
            doc: document(&id, key, device, self, at),
            id,
            kind: self.kind,
            key,
            at,
        }
    }
}

/// Writes a prepared event to the outbox within `tx`, with a delivery for each active
/// endpoint of the session's customer and mode that asked for it. Nothing is written when
/// none did. Answers whether it was written.
pub async fn emit_in(tx: &mut Tx, event: &Prepared) -> Result<bool, sqlx::Error> {
    let key = event.key;
    let endpoints: Vec<Endpoint> = on_tx!(tx, |conn| {
        sqlx::query_as(
        "SELECT id, events FROM webhooks WHERE customer_id = $1 AND mode = $2 AND is_active = TRUE"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .fetch_all(&mut *conn)
    .await
    })?;
    let targets: Vec<uuid::Uuid> = endpoints
        .into_iter()
        .filter(|e| filter_matches(&e.events.0, event.kind))
        .map(|e| e.id)
        .collect();
    if targets.is_empty() {
        return Ok(false);
    }
    insert_event(tx, key, &event.id, event.kind, &event.doc, event.at).await?;
    for webhook in targets {
        insert_delivery(tx, key, &event.id, webhook, event.at).await?;
    }
    Ok(true)
}

/// The live stream (`GET /api/v1/events`): every event of this worker's sessions, as it
/// happens, to whoever listens (not stored; webhooks are the durable path).
pub struct Live {
    tx: tokio::sync::broadcast::Sender<Arc<Prepared>>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            tx: tokio::sync::broadcast::channel(4096).0,
        }
    }
}

impl Live {
    pub fn publish(&self, event: Prepared) {
        // No listener is not an error.
        let _ = self.tx.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<Prepared>> {
        self.tx.subscribe()
    }
}

/// Writes `event` with a delivery to the one endpoint `webhook` (whatever its filter).
pub async fn emit_to(
    db: &wasp_db::Db,
    key: SessionKey,
    device: Option<&str>,
    event: &NewEvent,
    webhook: uuid::Uuid,
) -> Result<String, sqlx::Error> {
    let now = Utc::now();
    let id = new_id();
    let doc = document(&id, key, device, event, now);
    let mut tx = db.begin().await?;
    insert_event(&mut tx, key, &id, event.kind, &doc, now).await?;
    insert_delivery(&mut tx, key, &id, webhook, now).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_event(
    tx: &mut Tx,
    key: SessionKey,
    id: &str,
    kind: &str,
    doc: &Value,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO wa_events (id, customer_id, mode, event_type, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(id)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(kind)
    .bind(sqlx::types::Json(doc))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))
}

async fn insert_delivery(
    tx: &mut Tx,
    key: SessionKey,
    event: &str,
    webhook: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, customer_id, mode, state, attempts, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)"
    )
    .bind(uuid::Uuid::now_v7())
    .bind(webhook)
    .bind(event)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })
}

/// [`emit_in`] in a transaction of its own.
pub async fn emit(db: &wasp_db::Db, event: &Prepared) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let written = emit_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_take_all_exact_types_or_a_family() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(filter_matches(&f(&["*"]), "message.received"));
        assert!(filter_matches(
            &f(&["message.received"]),
            "message.received"
        ));
        assert!(!filter_matches(&f(&["message.received"]), "message.read"));
        assert!(filter_matches(&f(&["message.*"]), "message.read"));
        assert!(!filter_matches(&f(&["message.*"]), "session.connected"));
        assert!(!filter_matches(&f(&[]), "message.received"));
        assert!(valid_filter("session.*") && valid_filter("call.offer") && valid_filter("*"));
        assert!(
            !valid_filter("message") && !valid_filter("nope.*") && !valid_filter("message.nope")
        );
    }
}
