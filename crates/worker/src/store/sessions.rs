//! Session rows: the lease a worker holds on a session (claim, renew, release) and the
//! state and credentials it saves.

use super::{now, SessionKey};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_protocol::service_token::Mode;

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

pub(super) const SESSION_COLUMNS: &str =
    "customer_id, mode, server_id, epoch, driver, state, state_reason, logged_in, \
     phone_number, jid, lid, push_name, connected_at, state_changed_at, avatar_sha256";

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
