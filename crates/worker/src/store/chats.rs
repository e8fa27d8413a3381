//! Chats: listing and changing them (pin, archive, mute, disappearing), and the contacts
//! and newsletters among them.

use super::{now, SessionKey};
use chrono::{DateTime, Utc};
use serde::Serialize;
use wasp_db::{on_pool, on_tx, Db};

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
pub(super) fn like_pattern(term: &str) -> String {
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
pub(super) async fn chats_of_kind(
    db: &Db,
    key: SessionKey,
    kind: &str,
) -> Result<Vec<Contact>, sqlx::Error> {
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
