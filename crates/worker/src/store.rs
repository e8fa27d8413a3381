//! The chat store and session rows, in the shared database (DESIGN.md "Where state
//! lives"). Every query takes a [`SessionKey`] and is scoped by customer and mode, so no
//! code path can read another customer's chats.

use crate::driver::{Kind, Receipt};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_protocol::service_token::Mode;

/// Which session: a customer's live or sandbox one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub customer: Uuid,
    pub mode: Mode,
}

impl std::fmt::Display for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.customer, self.mode.as_str())
    }
}

/// A session row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub customer_id: Uuid,
    pub mode: String,
    pub server_id: Option<Uuid>,
    pub epoch: i64,
    pub driver: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub logged_in: bool,
    pub phone_number: Option<String>,
    pub jid: Option<String>,
    pub lid: Option<String>,
    pub push_name: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
    pub state_changed_at: DateTime<Utc>,
    pub avatar_sha256: Option<String>,
}

impl SessionRow {
    pub fn key(&self) -> Option<SessionKey> {
        Some(SessionKey {
            customer: self.customer_id,
            mode: Mode::parse(&self.mode)?,
        })
    }
}

const SESSION_COLUMNS: &str =
    "customer_id, mode, server_id, epoch, driver, state, state_reason, logged_in, \
     phone_number, jid, lid, push_name, connected_at, state_changed_at, avatar_sha256";

/// Millisecond precision everywhere, so SQLite's text timestamps sort like PostgreSQL's.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Takes ownership of a session for `server`, creating its row on first use, and bumps
/// the fencing epoch: from now on only this server's writes with the returned epoch count.
pub async fn claim(
    db: &Db,
    key: SessionKey,
    server: Uuid,
    driver: &str,
) -> Result<SessionRow, sqlx::Error> {
    let now = now();
    let sql = format!(
        "INSERT INTO wa_sessions (customer_id, mode, server_id, epoch, driver, state, logged_in, \
         state_changed_at, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, 'disconnected', FALSE, $5, $5, $5) \
         ON CONFLICT (customer_id, mode) DO UPDATE SET server_id = $3, epoch = wa_sessions.epoch + 1, \
         driver = $4, updated_at = $5 RETURNING {SESSION_COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let row = on_tx!(&mut tx, |conn| sqlx::query_as::<_, SessionRow>(&sql)
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(server)
        .bind(driver)
        .bind(now)
        .fetch_one(&mut *conn)
        .await)?;
    tx.commit().await?;
    Ok(row)
}

/// The sessions a server owns (restored when it starts).
pub async fn sessions_of(db: &Db, server: Uuid) -> Result<Vec<SessionRow>, sqlx::Error> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM wa_sessions WHERE server_id = $1");
    on_pool!(db, |pool| sqlx::query_as::<_, SessionRow>(&sql)
        .bind(server)
        .fetch_all(pool)
        .await)
}

pub async fn session(db: &Db, key: SessionKey) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql =
        format!("SELECT {SESSION_COLUMNS} FROM wa_sessions WHERE customer_id = $1 AND mode = $2");
    on_pool!(db, |pool| sqlx::query_as::<_, SessionRow>(&sql)
        .bind(key.customer)
        .bind(key.mode.as_str())
        .fetch_optional(pool)
        .await)
}

/// A session's state as the instance knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionState {
    pub state: String,
    pub reason: Option<String>,
    pub logged_in: bool,
    pub phone: Option<String>,
    pub jid: Option<String>,
    pub lid: Option<String>,
    pub push_name: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
}

/// Writes a session's state if `server` still holds the lease at `epoch`; `false` means
/// the session moved away and this worker must stop driving it.
pub async fn save_state(
    db: &Db,
    key: SessionKey,
    server: Uuid,
    epoch: i64,
    s: &SessionState,
) -> Result<bool, sqlx::Error> {
    let now = now();
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_sessions SET state = $1, state_reason = $2, logged_in = $3, phone_number = $4, jid = $5, \
         lid = $6, push_name = $7, connected_at = $8, state_changed_at = $9, updated_at = $9 \
         WHERE customer_id = $10 AND mode = $11 AND server_id = $12 AND epoch = $13"
    )
    .bind(&s.state)
    .bind(&s.reason)
    .bind(s.logged_in)
    .bind(&s.phone)
    .bind(&s.jid)
    .bind(&s.lid)
    .bind(&s.push_name)
    .bind(s.connected_at)
    .bind(now)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(server)
    .bind(epoch)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 1 && key.mode == Mode::Live {
        // The live session is the customer's WhatsApp number: management shows it.
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE customers SET whatsapp_status = $1, phone_number = $2, whatsapp_jid = $3, updated_at = $4 WHERE id = $5"
        )
        .bind(&s.state)
        .bind(s.phone.as_ref().map(|p| format!("+{p}")))
        .bind(&s.jid)
        .bind(now)
        .bind(key.customer)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

/// Gives a session up (instance removed): no server owns it until the next claim.
pub async fn release(
    db: &Db,
    key: SessionKey,
    server: Uuid,
    epoch: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE wa_sessions SET server_id = NULL, updated_at = $1 \
         WHERE customer_id = $2 AND mode = $3 AND server_id = $4 AND epoch = $5"
    )
    .bind(now())
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(server)
    .bind(epoch)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await
}

/// A message to store, sent or received.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub chat_jid: String,
    pub chat_kind: &'static str,
    pub chat_name: Option<String>,
    pub sender_jid: String,
    pub from_me: bool,
    pub kind: Kind,
    pub body: Option<String>,
    pub content: serde_json::Value,
    /// `sent` for ours once the server acknowledged it, `received` for inbound.
    pub status: &'static str,
    pub reply_to: Option<String>,
    pub forwarded: bool,
    pub sent_at: DateTime<Utc>,
}

fn preview(m: &NewMessage) -> String {
    match &m.body {
        Some(b) => b.chars().take(200).collect(),
        None => format!("[{}]", m.kind.as_str()),
    }
}

/// Stores a message and updates its chat; `false` when it was already stored (a
/// redelivery), in which case nothing changes.
pub async fn store_message(db: &Db, key: SessionKey, m: &NewMessage) -> Result<bool, sqlx::Error> {
    store_message_with(db, key, m, None).await
}

/// [`store_message`], writing `event` to the webhook outbox in the same transaction (only
/// when the message is new), with `device` (the session's JID) in it.
pub async fn store_message_with(
    db: &Db,
    key: SessionKey,
    m: &NewMessage,
    event: Option<&crate::events::Prepared>,
) -> Result<bool, sqlx::Error> {
    let now = now();
    let mut tx = db.begin().await?;
    let inserted = on_tx!(&mut tx, |conn| {
        sqlx::query(
        "INSERT INTO wa_messages (customer_id, mode, id, chat_jid, sender_jid, from_me, kind, body, content, status, \
         reply_to, is_forwarded, sent_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
         ON CONFLICT (customer_id, mode, id) DO NOTHING"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(&m.id)
    .bind(&m.chat_jid)
    .bind(&m.sender_jid)
    .bind(m.from_me)
    .bind(m.kind.as_str())
    .bind(&m.body)
    .bind(Json(&m.content))
    .bind(m.status)
    .bind(&m.reply_to)
    .bind(m.forwarded)
    .bind(m.sent_at)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    if inserted == 0 {
        return Ok(false);
    }
    let has_media = matches!(
        m.kind,
        Kind::Image | Kind::Video | Kind::Audio | Kind::Document | Kind::Sticker
    );
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "INSERT INTO wa_chats (customer_id, mode, jid, kind, name, unread_count, has_media, last_message_id, \
         last_message_at, last_message_preview, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
         ON CONFLICT (customer_id, mode, jid) DO UPDATE SET \
         name = COALESCE(wa_chats.name, $5), unread_count = wa_chats.unread_count + $6, \
         has_media = (wa_chats.has_media OR $7), \
         last_message_id = CASE WHEN wa_chats.last_message_at IS NULL OR wa_chats.last_message_at <= $9 THEN $8 ELSE wa_chats.last_message_id END, \
         last_message_preview = CASE WHEN wa_chats.last_message_at IS NULL OR wa_chats.last_message_at <= $9 THEN $10 ELSE wa_chats.last_message_preview END, \
         last_message_at = CASE WHEN wa_chats.last_message_at IS NULL OR wa_chats.last_message_at <= $9 THEN $9 ELSE wa_chats.last_message_at END, \
         updated_at = $11"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(&m.chat_jid)
    .bind(m.chat_kind)
    .bind(&m.chat_name)
    .bind(if m.from_me { 0i32 } else { 1 })
    .bind(has_media)
    .bind(&m.id)
    .bind(m.sent_at)
    .bind(preview(m))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    insert_receipt(&mut tx, key, &m.id, m.status, "", m.sent_at).await?;
    if let Some(event) = event {
        crate::events::emit_in(&mut tx, event).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn insert_receipt(
    tx: &mut wasp_db::Tx,
    key: SessionKey,
    message_id: &str,
    status: &str,
    participant: &str,
    at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO wa_receipts (customer_id, mode, message_id, status, participant, at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(message_id)
    .bind(status)
    .bind(participant)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))
}

/// Records a receipt for one of our messages and advances its status (never backwards:
/// a late "delivered" after "read" is kept in the history only). Returns the message's
/// status afterwards, or `None` when no such message of ours exists.
pub async fn apply_receipt(
    db: &Db,
    key: SessionKey,
    message_id: &str,
    status: Receipt,
    participant: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    apply_receipt_with(db, key, message_id, status, participant, at, None)
        .await
        .map(|(status, _)| status)
}

/// [`apply_receipt`], writing a `message.delivered`/`read`/`played` event to the webhook
/// outbox in the same transaction when the message's status advances, and answering it
/// too (for the live stream). `emit` is the chat and the session's JID.
pub async fn apply_receipt_with(
    db: &Db,
    key: SessionKey,
    message_id: &str,
    status: Receipt,
    participant: Option<&str>,
    at: DateTime<Utc>,
    emit: Option<(&crate::jid::Jid, Option<&str>)>,
) -> Result<(Option<String>, Option<crate::events::Prepared>), sqlx::Error> {
    let mut emitted = None;
    let mut tx = db.begin().await?;
    let current: Option<String> = on_tx!(&mut tx, |conn| {
        sqlx::query_scalar(
        "SELECT status FROM wa_messages WHERE customer_id = $1 AND mode = $2 AND id = $3 AND from_me = TRUE"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(message_id)
    .fetch_optional(&mut *conn)
    .await
    })?;
    let Some(current) = current else {
        return Ok((None, None));
    };
    insert_receipt(
        &mut tx,
        key,
        message_id,
        status.as_str(),
        participant.unwrap_or(""),
        at,
    )
    .await?;
    let advances = Receipt::parse(&current).is_none_or(|c| status > c) && current != "failed";
    // In a group, the message is "read" only once every other member read it (and
    // "delivered" once delivered to all); until then a participant's receipt is kept in the
    // history only. Groups whose members are not known here never advance on receipts.
    let everyone = match participant {
        Some(_) if advances => group_reached_all(&mut tx, key, message_id, status).await?,
        _ => false,
    };
    let result = if advances && (participant.is_none() || everyone) {
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE wa_messages SET status = $1, updated_at = $2 WHERE customer_id = $3 AND mode = $4 AND id = $5"
        )
        .bind(status.as_str())
        .bind(now())
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(message_id)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        if let Some((chat, device)) = emit {
            if let Some(event) =
                crate::events::NewEvent::receipt(message_id, chat, status.as_str(), None, at)
            {
                let prepared = event.prepare(key, device);
                crate::events::emit_in(&mut tx, &prepared).await?;
                emitted = Some(prepared);
            }
        }
        status.as_str().to_owned()
    } else {
        current
    };
    tx.commit().await?;
    Ok((Some(result), emitted))
}

/// Whether every other member of the group a message of ours went to has a receipt of at
/// least `status` for it. The members are the group's active participants when the group
/// is kept here (sandbox), else the `recipients` count recorded when it was sent (live).
async fn group_reached_all(
    tx: &mut wasp_db::Tx,
    key: SessionKey,
    message_id: &str,
    status: Receipt,
) -> Result<bool, sqlx::Error> {
    let at_least: Vec<&str> = [Receipt::Delivered, Receipt::Read, Receipt::Played]
        .into_iter()
        .filter(|r| *r >= status)
        .map(Receipt::as_str)
        .collect();
    let placeholders = (0..at_least.len())
        .map(|i| format!("${}", i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT \
           (SELECT COUNT(*) FROM wa_group_participants p \
             WHERE p.customer_id = m.customer_id AND p.mode = m.mode AND p.group_jid = m.chat_jid \
               AND p.status = 'active' AND p.jid <> m.sender_jid), \
           (SELECT COUNT(DISTINCT r.participant) FROM wa_receipts r \
             WHERE r.customer_id = m.customer_id AND r.mode = m.mode AND r.message_id = m.id \
               AND r.participant <> '' AND r.status IN ({placeholders})), \
           m.content \
         FROM wa_messages m WHERE m.customer_id = $1 AND m.mode = $2 AND m.id = $3"
    );
    let counts: Option<(i64, i64, Json<serde_json::Value>)> = on_tx!(tx, |conn| {
        let mut q = sqlx::query_as(&sql)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(message_id);
        for s in &at_least {
            q = q.bind(*s);
        }
        q.fetch_optional(&mut *conn).await
    })?;
    let Some((known, reached, Json(content))) = counts else {
        return Ok(false);
    };
    // Members of a live group are not stored here; its size was recorded at send time.
    let members = if known > 0 {
        known
    } else {
        content["recipients"].as_i64().unwrap_or(0)
    };
    Ok(members > 0 && reached >= members)
}

/// A chat as listed by `GET /chats`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Chat {
    pub jid: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub unread_count: i32,
    pub archived: bool,
    pub pinned: bool,
    pub disappearing_secs: i32,
    pub has_media: bool,
    pub last_message_id: Option<String>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_message_preview: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ChatQuery {
    pub limit: i64,
    pub offset: i64,
    pub search: Option<String>,
    pub archived: Option<bool>,
    pub has_media: bool,
}

/// `%term%` for LIKE, with the wildcards in `term` escaped.
fn like_pattern(term: &str) -> String {
    let escaped = term
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn list_chats(
    db: &Db,
    key: SessionKey,
    q: &ChatQuery,
) -> Result<(Vec<Chat>, i64), sqlx::Error> {
    let filter = "customer_id = $1 AND mode = $2 \
         AND (CAST($3 AS TEXT) IS NULL OR LOWER(COALESCE(name, '')) LIKE $3 ESCAPE '\\' OR jid LIKE $3 ESCAPE '\\') \
         AND (CAST($4 AS INTEGER) IS NULL OR archived = ($4 = 1)) \
         AND ($5 = 0 OR has_media)";
    let search = q.search.as_deref().map(like_pattern);
    let archived = q.archived.map(i32::from);
    let media = i32::from(q.has_media);
    let list_sql = format!(
        "SELECT jid, kind, name, unread_count, archived, pinned, disappearing_secs, has_media, last_message_id, \
         last_message_at, last_message_preview FROM wa_chats WHERE {filter} \
         ORDER BY pinned DESC, last_message_at DESC, jid LIMIT $6 OFFSET $7"
    );
    let count_sql = format!("SELECT COUNT(*) FROM wa_chats WHERE {filter}");
    on_pool!(db, |pool| {
        let rows = sqlx::query_as::<_, Chat>(&list_sql)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(&search)
            .bind(archived)
            .bind(media)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(&search)
            .bind(archived)
            .bind(media)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

/// A stored message as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Message {
    pub id: String,
    pub chat_jid: String,
    pub sender_jid: String,
    pub from_me: bool,
    #[serde(rename = "type")]
    pub kind: String,
    /// Text, or the caption of media.
    pub body: Option<String>,
    #[schema(value_type = Object)]
    pub content: Json<serde_json::Value>,
    /// pending, sent, delivered, read, played, failed (own messages); received (inbound).
    pub status: String,
    pub reply_to: Option<String>,
    pub is_forwarded: bool,
    pub starred: bool,
    pub edited_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub timestamp: DateTime<Utc>,
}

/// One step of a message's status history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StatusStep {
    pub status: String,
    /// The group member the receipt came from; empty for one-to-one chats.
    pub participant: String,
    pub at: DateTime<Utc>,
}

const MESSAGE_COLUMNS: &str =
    "id, chat_jid, sender_jid, from_me, kind, body, content, status, reply_to, \
     is_forwarded, starred, edited_at, revoked_at, sent_at AS timestamp";

#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    pub limit: i64,
    pub offset: i64,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub media_only: bool,
    pub from_me: Option<bool>,
    pub search: Option<String>,
}

/// A chat's history, newest first.
pub async fn list_messages(
    db: &Db,
    key: SessionKey,
    chat: &str,
    q: &MessageQuery,
) -> Result<(Vec<Message>, i64), sqlx::Error> {
    let filter = "customer_id = $1 AND mode = $2 AND chat_jid = $3 \
         AND (CAST($4 AS TEXT) IS NULL OR sent_at >= $4) AND (CAST($5 AS TEXT) IS NULL OR sent_at <= $5) \
         AND ($6 = 0 OR kind IN ('image', 'video', 'audio', 'document', 'sticker')) \
         AND (CAST($7 AS INTEGER) IS NULL OR from_me = ($7 = 1)) \
         AND (CAST($8 AS TEXT) IS NULL OR LOWER(COALESCE(body, '')) LIKE $8 ESCAPE '\\')";
    let list_sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM wa_messages WHERE {filter} ORDER BY sent_at DESC, id LIMIT $9 OFFSET $10"
    );
    let count_sql = format!("SELECT COUNT(*) FROM wa_messages WHERE {filter}");
    let search = q.search.as_deref().map(like_pattern);
    let from_me = q.from_me.map(i32::from);
    let media = i32::from(q.media_only);
    on_pool!(db, |pool| {
        let rows = sqlx::query_as::<_, Message>(&list_sql)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(chat)
            .bind(q.start)
            .bind(q.end)
            .bind(media)
            .bind(from_me)
            .bind(&search)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(chat)
            .bind(q.start)
            .bind(q.end)
            .bind(media)
            .bind(from_me)
            .bind(&search)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

/// One message with its status history.
pub async fn message(
    db: &Db,
    key: SessionKey,
    id: &str,
) -> Result<Option<(Message, Vec<StatusStep>)>, sqlx::Error> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM wa_messages WHERE customer_id = $1 AND mode = $2 AND id = $3");
    on_pool!(db, |pool| {
        let Some(m) = sqlx::query_as::<_, Message>(&sql)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await?
        else {
            return Ok(None);
        };
        let history = sqlx::query_as::<_, StatusStep>(
            "SELECT status, participant, at FROM wa_receipts WHERE customer_id = $1 AND mode = $2 AND message_id = $3 \
             ORDER BY at, status",
        )
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(id)
        .fetch_all(pool)
        .await?;
        Ok(Some((m, history)))
    })
}

/// Marks one of our messages as deleted for everyone: its content is gone for good.
pub async fn set_revoked(db: &Db, key: SessionKey, id: &str) -> Result<bool, sqlx::Error> {
    revoke(db, key, id, None).await
}

/// A message of a chat deleted for everyone by its sender (or a group admin), as WhatsApp
/// reported it: its content is gone for good.
pub async fn apply_revoke(
    db: &Db,
    key: SessionKey,
    chat: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    revoke(db, key, id, Some(chat)).await
}

/// Revokes one of our messages (`chat` None) or any message of `chat`.
async fn revoke(
    db: &Db,
    key: SessionKey,
    id: &str,
    chat: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let now = now();
    let sql = if chat.is_some() {
        "UPDATE wa_messages SET revoked_at = $1, body = NULL, content = $2, updated_at = $1 \
         WHERE customer_id = $3 AND mode = $4 AND id = $5 AND revoked_at IS NULL AND chat_jid = $6"
    } else {
        "UPDATE wa_messages SET revoked_at = $1, body = NULL, content = $2, updated_at = $1 \
         WHERE customer_id = $3 AND mode = $4 AND id = $5 AND revoked_at IS NULL AND from_me = TRUE"
    };
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |conn| {
        let mut q = sqlx::query(sql)
            .bind(now)
            .bind(Json(serde_json::json!({})))
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(id);
        if let Some(chat) = chat {
            q = q.bind(chat);
        }
        q.execute(&mut *conn).await.map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Deletes a message from this account's store only ("delete for me").
pub async fn delete_message(db: &Db, key: SessionKey, id: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |conn| sqlx::query(
        "DELETE FROM wa_messages WHERE customer_id = $1 AND mode = $2 AND id = $3"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n == 1)
}

pub async fn set_starred(
    db: &Db,
    key: SessionKey,
    id: &str,
    starred: bool,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_messages SET starred = $1, updated_at = $2 WHERE customer_id = $3 AND mode = $4 AND id = $5"
    )
    .bind(starred)
    .bind(now())
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Replaces the text of one of our text messages.
pub async fn edit_message(
    db: &Db,
    key: SessionKey,
    id: &str,
    text: &str,
) -> Result<bool, sqlx::Error> {
    edit(db, key, id, Some(text), None).await
}

/// A message of a chat whose text its sender changed, as WhatsApp reported it.
pub async fn apply_edit(
    db: &Db,
    key: SessionKey,
    chat: &str,
    id: &str,
    text: Option<&str>,
) -> Result<bool, sqlx::Error> {
    edit(db, key, id, text, Some(chat)).await
}

/// Edits one of our messages (`chat` None) or any message of `chat`.
async fn edit(
    db: &Db,
    key: SessionKey,
    id: &str,
    text: Option<&str>,
    chat: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let now = now();
    let sql = if chat.is_some() {
        "UPDATE wa_messages SET body = $1, edited_at = $2, updated_at = $2 \
         WHERE customer_id = $3 AND mode = $4 AND id = $5 AND revoked_at IS NULL AND chat_jid = $6"
    } else {
        "UPDATE wa_messages SET body = $1, edited_at = $2, updated_at = $2 \
         WHERE customer_id = $3 AND mode = $4 AND id = $5 AND revoked_at IS NULL AND from_me = TRUE"
    };
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |conn| {
        let mut q = sqlx::query(sql)
            .bind(text)
            .bind(now)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .bind(id);
        if let Some(chat) = chat {
            q = q.bind(chat);
        }
        q.execute(&mut *conn).await.map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Sets (or with an empty emoji removes) `by`'s reaction on a message; reactions live in
/// the message's `content.reactions` as `{jid: emoji}`.
pub async fn set_reaction(
    db: &Db,
    key: SessionKey,
    id: &str,
    by: &str,
    emoji: &str,
) -> Result<bool, sqlx::Error> {
    update_content(db, key, id, |content| {
        if !content.is_object() {
            *content = serde_json::json!({});
        }
        let reactions = content.as_object_mut().map(|o| {
            o.entry("reactions")
                .or_insert_with(|| serde_json::json!({}))
        });
        if let Some(serde_json::Value::Object(map)) = reactions {
            if emoji.is_empty() {
                map.remove(by);
            } else {
                map.insert(by.to_owned(), serde_json::Value::String(emoji.to_owned()));
            }
        }
    })
    .await
}

/// Changes a message's `content` in one transaction; false when there is no such message.
async fn update_content(
    db: &Db,
    key: SessionKey,
    id: &str,
    change: impl FnOnce(&mut serde_json::Value),
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let content: Option<Json<serde_json::Value>> = on_tx!(&mut tx, |conn| sqlx::query_scalar(
        "SELECT content FROM wa_messages WHERE customer_id = $1 AND mode = $2 AND id = $3"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await)?;
    let Some(Json(mut content)) = content else {
        return Ok(false);
    };
    change(&mut content);
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_messages SET content = $1, updated_at = $2 WHERE customer_id = $3 AND mode = $4 AND id = $5"
    )
    .bind(Json(&content))
    .bind(now())
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(true)
}

/// Marks the inbound messages of a chat up to `until` as read and recounts its unread
/// messages; returns the ids newly read.
pub async fn mark_read(
    db: &Db,
    key: SessionKey,
    chat: &str,
    until: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ids: Vec<String> = on_tx!(&mut tx, |conn| {
        sqlx::query_scalar(
        "SELECT id FROM wa_messages WHERE customer_id = $1 AND mode = $2 AND chat_jid = $3 AND from_me = FALSE \
         AND status = 'received' AND sent_at <= $4"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(chat)
    .bind(until)
    .fetch_all(&mut *conn)
    .await
    })?;
    let now = now();
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_messages SET status = 'read', updated_at = $1 WHERE customer_id = $2 AND mode = $3 \
         AND chat_jid = $4 AND from_me = FALSE AND status = 'received' AND sent_at <= $5"
    )
    .bind(now)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(chat)
    .bind(until)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_chats SET unread_count = (SELECT COUNT(*) FROM wa_messages m WHERE m.customer_id = $1 \
         AND m.mode = $2 AND m.chat_jid = $3 AND m.from_me = FALSE AND m.status = 'received'), updated_at = $4 \
         WHERE customer_id = $1 AND mode = $2 AND jid = $3"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(chat)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(ids)
}

/// What to change on a chat.
#[derive(Debug, Clone, Default)]
pub struct ChatChange {
    pub pinned: Option<bool>,
    pub archived: Option<bool>,
    pub disappearing_secs: Option<i32>,
}

/// Changes a chat's settings, creating the chat when it has no messages yet.
pub async fn change_chat(
    db: &Db,
    key: SessionKey,
    jid: &str,
    kind: &str,
    change: &ChatChange,
) -> Result<Chat, sqlx::Error> {
    let now = now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "INSERT INTO wa_chats (customer_id, mode, jid, kind, pinned, archived, disappearing_secs, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, COALESCE($5, FALSE), COALESCE($6, FALSE), COALESCE($7, 0), $8, $8) \
         ON CONFLICT (customer_id, mode, jid) DO UPDATE SET pinned = COALESCE($5, wa_chats.pinned), \
         archived = COALESCE($6, wa_chats.archived), disappearing_secs = COALESCE($7, wa_chats.disappearing_secs), \
         updated_at = $8"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(jid)
    .bind(kind)
    .bind(change.pinned)
    .bind(change.archived)
    .bind(change.disappearing_secs)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    let chat = on_tx!(&mut tx, |conn| {
        sqlx::query_as::<_, Chat>(
        "SELECT jid, kind, name, unread_count, archived, pinned, disappearing_secs, has_media, last_message_id, \
         last_message_at, last_message_preview FROM wa_chats WHERE customer_id = $1 AND mode = $2 AND jid = $3"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(jid)
    .fetch_one(&mut *conn)
    .await
    })?;
    tx.commit().await?;
    Ok(chat)
}

/// Sets the session's own profile photo.
pub async fn set_avatar(db: &Db, key: SessionKey, sha256: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_sessions SET avatar_sha256 = $1, updated_at = $2 WHERE customer_id = $3 AND mode = $4"
    )
    .bind(sha256)
    .bind(now())
    .bind(key.customer)
    .bind(key.mode.as_str())
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await
}

/// A contact: someone the session has a one-to-one chat with.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Contact {
    pub jid: String,
    pub name: Option<String>,
}

pub async fn contacts(db: &Db, key: SessionKey) -> Result<Vec<Contact>, sqlx::Error> {
    chats_of_kind(db, key, "user").await
}

/// The chats of one kind, as (JID, name), by name.
async fn chats_of_kind(db: &Db, key: SessionKey, kind: &str) -> Result<Vec<Contact>, sqlx::Error> {
    on_pool!(db, |pool| {
        sqlx::query_as::<_, Contact>(
        "SELECT jid, name FROM wa_chats WHERE customer_id = $1 AND mode = $2 AND kind = $3 ORDER BY name, jid"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(kind)
    .fetch_all(pool)
    .await
    })
}

/// The newsletters (channels) a sandbox account follows: its chats of kind `newsletter`.
pub async fn newsletters(db: &Db, key: SessionKey) -> Result<Vec<Contact>, sqlx::Error> {
    chats_of_kind(db, key, "newsletter").await
}

/// Follows a newsletter (a sandbox account): its chat exists from now on.
pub async fn follow_newsletter(
    db: &Db,
    key: SessionKey,
    jid: &str,
    name: &str,
) -> Result<(), sqlx::Error> {
    let now = now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "INSERT INTO wa_chats (customer_id, mode, jid, kind, name, created_at, updated_at) \
         VALUES ($1, $2, $3, 'newsletter', $4, $5, $5) ON CONFLICT (customer_id, mode, jid) DO NOTHING"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(jid)
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })?;
    tx.commit().await
}

/// Stops following a newsletter: its chat and posts are gone. False when not followed.
pub async fn unfollow_newsletter(db: &Db, key: SessionKey, jid: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |conn| {
        sqlx::query(
            "DELETE FROM wa_messages WHERE customer_id = $1 AND mode = $2 AND chat_jid = $3",
        )
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(jid)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
        "DELETE FROM wa_chats WHERE customer_id = $1 AND mode = $2 AND jid = $3 AND kind = 'newsletter'"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(jid)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Records where a message's attachment is in the media store (after it was fetched from
/// WhatsApp on first download).
pub async fn set_media_sha256(
    db: &Db,
    key: SessionKey,
    id: &str,
    sha256: &str,
) -> Result<(), sqlx::Error> {
    update_content(db, key, id, |content| {
        content["sha256"] = serde_json::Value::String(sha256.to_owned());
    })
    .await
    .map(|_| ())
}

/// Whether `server` still holds the lease of a session at `epoch` (no other worker took
/// it over since).
pub async fn holds_lease(
    db: &Db,
    key: SessionKey,
    server: Uuid,
    epoch: i64,
) -> Result<bool, sqlx::Error> {
    let n: i64 = on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM wa_sessions WHERE customer_id = $1 AND mode = $2 AND server_id = $3 AND epoch = $4"
    )
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(server)
    .bind(epoch)
    .fetch_one(pool)
    .await
    })?;
    Ok(n == 1)
}

/// Marks one of our messages as failed (WhatsApp refused it after it left; `reason` is
/// logged by the caller), with the step in its status history. False when there is no
/// such message of ours, or it was already delivered.
pub async fn mark_failed(db: &Db, key: SessionKey, id: &str) -> Result<bool, sqlx::Error> {
    let now = now();
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE wa_messages SET status = 'failed', updated_at = $1 \
         WHERE customer_id = $2 AND mode = $3 AND id = $4 AND from_me = TRUE AND status IN ('pending', 'sent')"
    )
    .bind(now)
    .bind(key.customer)
    .bind(key.mode.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 1 {
        insert_receipt(&mut tx, key, id, "failed", "", now).await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}
