//! Receipts: a message's delivery, read and played steps, one row each, and the status
//! they add up to (for a group, when every member reached it).

use super::{now, SessionKey};
use crate::driver::Receipt;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use wasp_db::{on_tx, Db};

pub(super) async fn insert_receipt(
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
pub(super) async fn group_reached_all(
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
