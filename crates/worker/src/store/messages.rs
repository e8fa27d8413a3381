//! Messages: storing what was sent and received, listing and reading them, and the changes
//! a message goes through (edit, revoke, reaction, star, read).

use super::{chats::like_pattern, now, receipts::insert_receipt, SessionKey};
use crate::driver::Kind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use wasp_db::{on_pool, on_tx, Db};

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

pub(super) fn preview(m: &NewMessage) -> String {
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

pub(super) const MESSAGE_COLUMNS: &str =
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
pub(super) async fn revoke(
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
pub(super) async fn edit(
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
pub(super) async fn update_content(
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
