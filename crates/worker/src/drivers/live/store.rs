//! The live driver's session store: our implementation of whatsapp-rust's storage traits
//! ([`SignalStore`], [`AppSyncStore`], [`ProtocolStore`], [`MsgSecretStore`],
//! [`DeviceStore`], hence the library's
//! [`Backend`](whatsapp_rust::wacore::store::traits::Backend)) on sqlx, in the shared
//! database, on PostgreSQL and SQLite alike (`migrations/*/0004_live_store.sql`, tables
//! `wa_live_*`).
//!
//! A [`WaStore`] is bound to one customer session ([`SessionKey`]: customer and mode), which
//! is one linked WhatsApp device: the library's methods carry no device id. Every row
//! carries `(customer_id, mode)` as its first key columns and every statement is scoped by
//! both (`$1`, `$2`), so one session can never read or touch another's keys. Rows reference
//! `wa_sessions`, so deleting a session deletes its keys; [`WaStore::wipe`] clears them on
//! logout while keeping the session row.
//!
//! Durability: the library's Signal cache flushes its state before a message goes on the
//! wire and relies on a write being durable when it returns, so single writes are plain
//! autocommit statements (on SQLite, on the single writer connection) and batch methods run
//! in one transaction. Upserts are `ON CONFLICT … DO UPDATE`; the read-modify-write
//! operations the library requires to be atomic (trusted-contact tokens, message-secret
//! merges, taking a sent message) are single statements.

use crate::store::SessionKey;
use chrono::{DateTime, Utc};
use std::{collections::HashMap, sync::Arc};
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_protocol::service_token::Mode;
use whatsapp_rust::{
    async_trait,
    bytes::Bytes,
    wacore::{
        appstate::{hash::HashState, processor::AppStateMutationMAC},
        stats::StorageResourceReport,
        store::{
            device::DEVICE_PROPS,
            error::{Result, StoreError},
            traits::{
                AppStateSyncKey, AppSyncStore, DeviceInfo, DeviceListRecord, DeviceStore,
                LidPnMappingEntry, MsgSecretEntry, MsgSecretStore, PendingInboundKey,
                PendingInboundRow, ProtocolStore, SignalStore, TcTokenEntry,
            },
            Device,
        },
        time::now_secs,
    },
};

/// The device id [`DeviceStore::create`] reports: a store holds exactly one device (its
/// session's), and the library only logs the value.
pub const DEVICE_ID: i32 = 1;

/// Every `wa_live_` table, in the order [`WaStore::wipe`] clears them.
const TABLES: [&str; 18] = [
    "wa_live_identities",
    "wa_live_sessions",
    "wa_live_prekeys",
    "wa_live_signed_prekeys",
    "wa_live_sender_keys",
    "wa_live_app_state_sync_keys",
    "wa_live_app_state_versions",
    "wa_live_app_state_mutation_macs",
    "wa_live_sender_key_devices",
    "wa_live_lid_pn_mapping",
    "wa_live_base_keys",
    "wa_live_device_lists",
    "wa_live_group_metadata",
    "wa_live_tc_tokens",
    "wa_live_sent_messages",
    "wa_live_pending_inbound",
    "wa_live_msg_secrets",
    "wa_live_device",
];

/// Most values bound in one `IN (…)` list; longer lists are split (a write's chunks still
/// run in one transaction).
const IN_CHUNK: usize = 500;

/// A session's WhatsApp key store: the library's storage
/// [`Backend`](whatsapp_rust::wacore::store::traits::Backend) on the shared database, scoped
/// to one customer session. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct WaStore {
    db: Db,
    customer: Uuid,
    mode: Mode,
}

/// One value bound to a statement after the session scope (`$1` customer, `$2` mode).
#[derive(Clone, Copy, Debug)]
enum Arg<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    Int(i64),
    Int32(i32),
    Bool(bool),
    OptInt(Option<i64>),
    OptText(Option<&'a str>),
    Time(DateTime<Utc>),
}

/// One statement of a transaction.
struct Stmt<'a> {
    sql: &'a str,
    args: Vec<Arg<'a>>,
}

impl<'a> Stmt<'a> {
    fn new(sql: &'a str, args: Vec<Arg<'a>>) -> Self {
        Stmt { sql, args }
    }
}

/// Binds `$args` to `$query` (a `sqlx::query` or `query_as`), expanded once per backend.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args.iter().copied() {
            query = match arg {
                Arg::Text(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Int32(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
                Arg::OptInt(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Time(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Runs `$body` with `$pool` bound to the backend's writer pool (SQLite's single writer
/// connection), for autocommit writes.
macro_rules! on_writer {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Postgres($pool) => $body,
            Db::Sqlite { write: $pool, .. } => $body,
        }
    };
}

/// Maps a database error into the library's store error.
fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Connection(Box::new(e)),
        e => StoreError::Database(Box::new(e)),
    }
}

fn ser_err(e: serde_json::Error) -> StoreError {
    StoreError::Serialization(Box::new(e))
}

/// A stored id or counter back to the library's `u32`.
fn to_u32(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Validation(format!("{what} out of range: {v}")))
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl WaStore {
    /// The store of `key`'s session, on `db`. The session's `wa_sessions` row must exist
    /// before the first write (the tables reference it).
    pub fn new(db: Db, key: SessionKey) -> WaStore {
        WaStore {
            db,
            customer: key.customer,
            mode: key.mode,
        }
    }

    /// Which session this store belongs to.
    pub fn key(&self) -> SessionKey {
        SessionKey {
            customer: self.customer,
            mode: self.mode,
        }
    }

    /// Deletes every row of this session in all `wa_live_` tables (on logout: the device
    /// and its keys are gone for good), in one transaction. Other sessions are untouched.
    pub async fn wipe(&self) -> std::result::Result<(), sqlx::Error> {
        let sqls: Vec<String> = TABLES
            .iter()
            .map(|t| format!("DELETE FROM {t} WHERE customer_id = $1 AND mode = $2"))
            .collect();
        let stmts: Vec<Stmt<'_>> = sqls.iter().map(|s| Stmt::new(s, vec![])).collect();
        self.run_tx(&stmts).await.map(|_| ())
    }

    /// One autocommit write; the number of rows it affected.
    async fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        let mode = self.mode.as_str();
        on_writer!(&self.db, |pool| bind_args!(
            sqlx::query(sql).bind(self.customer).bind(mode),
            args
        )
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .map_err(db_err)
    }

    /// Statements in one transaction; the total number of rows they affected.
    async fn run_tx(&self, stmts: &[Stmt<'_>]) -> std::result::Result<u64, sqlx::Error> {
        if stmts.is_empty() {
            return Ok(0);
        }
        let mode = self.mode.as_str();
        let mut tx = self.db.begin().await?;
        let mut total = 0;
        for stmt in stmts {
            total += on_tx!(&mut tx, |conn| bind_args!(
                sqlx::query(stmt.sql).bind(self.customer).bind(mode),
                stmt.args
            )
            .execute(&mut *conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(total)
    }

    /// [`run_tx`](Self::run_tx) with the library's error.
    async fn batch(&self, stmts: &[Stmt<'_>]) -> Result<()> {
        self.run_tx(stmts).await.map(|_| ()).map_err(db_err)
    }

    async fn fetch_optional<T>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + Send
            + Unpin,
    {
        let mode = self.mode.as_str();
        on_pool!(&self.db, |pool| bind_args!(
            sqlx::query_as::<_, T>(sql).bind(self.customer).bind(mode),
            args
        )
        .fetch_optional(pool)
        .await)
        .map_err(db_err)
    }

    async fn fetch_all<T>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + Send
            + Unpin,
    {
        let mode = self.mode.as_str();
        on_pool!(&self.db, |pool| bind_args!(
            sqlx::query_as::<_, T>(sql).bind(self.customer).bind(mode),
            args
        )
        .fetch_all(pool)
        .await)
        .map_err(db_err)
    }

    /// A write that returns a row (`DELETE … RETURNING`), as one autocommit statement.
    async fn write_fetch_optional<T>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + Send
            + Unpin,
    {
        let mode = self.mode.as_str();
        on_writer!(&self.db, |pool| bind_args!(
            sqlx::query_as::<_, T>(sql).bind(self.customer).bind(mode),
            args
        )
        .fetch_optional(pool)
        .await)
        .map_err(db_err)
    }

    async fn fetch_bytes(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .fetch_optional::<(Vec<u8>,)>(sql, args)
            .await?
            .map(|(b,)| b))
    }
}

// ---------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------

const SCOPE: &str = "customer_id = $1 AND mode = $2";

const PUT_IDENTITY: &str =
    "INSERT INTO wa_live_identities (customer_id, mode, address, identity_key) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, mode, address) \
     DO UPDATE SET identity_key = excluded.identity_key";
const PUT_SESSION: &str = "INSERT INTO wa_live_sessions (customer_id, mode, address, record) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, mode, address) \
     DO UPDATE SET record = excluded.record";
const STORE_PREKEY: &str = "INSERT INTO wa_live_prekeys (customer_id, mode, id, record, uploaded) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, mode, id) \
     DO UPDATE SET record = excluded.record, uploaded = excluded.uploaded";
const PUT_SENDER_KEY: &str =
    "INSERT INTO wa_live_sender_keys (customer_id, mode, address, record) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, mode, address) \
     DO UPDATE SET record = excluded.record";
const PUT_MUTATION_MAC: &str = "INSERT INTO wa_live_app_state_mutation_macs \
     (customer_id, mode, name, index_mac, version, value_mac) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (customer_id, mode, name, index_mac) \
     DO UPDATE SET version = excluded.version, value_mac = excluded.value_mac";
const DELETE_MUTATION_MAC: &str = "DELETE FROM wa_live_app_state_mutation_macs \
     WHERE customer_id = $1 AND mode = $2 AND name = $3 AND index_mac = $4";
const SET_SENDER_KEY_STATUS: &str = "INSERT INTO wa_live_sender_key_devices \
     (customer_id, mode, group_jid, device_jid, has_key) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (customer_id, mode, group_jid, device_jid) DO UPDATE SET has_key = excluded.has_key";
const PUT_LID_MAPPING: &str = "INSERT INTO wa_live_lid_pn_mapping \
     (customer_id, mode, lid, phone_number, created_at, updated_at, learning_source) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (customer_id, mode, lid) DO UPDATE SET \
     phone_number = excluded.phone_number, created_at = excluded.created_at, \
     updated_at = excluded.updated_at, learning_source = excluded.learning_source";
const LID_MAPPING_COLUMNS: &str = "lid, phone_number, created_at, updated_at, learning_source";
const UPDATE_DEVICE_LIST: &str = "INSERT INTO wa_live_device_lists \
     (customer_id, mode, jid_user, devices, list_timestamp, phash, raw_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (customer_id, mode, jid_user) DO UPDATE SET \
     devices = excluded.devices, list_timestamp = excluded.list_timestamp, \
     phash = excluded.phash, raw_id = excluded.raw_id";
const STORE_PENDING_INBOUND: &str = "INSERT INTO wa_live_pending_inbound \
     (customer_id, mode, chat_jid, sender_jid, message_id, message, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (customer_id, mode, chat_jid, sender_jid, message_id) \
     DO UPDATE SET message = excluded.message, received_at = excluded.received_at";
const DELETE_PENDING_INBOUND: &str = "DELETE FROM wa_live_pending_inbound \
     WHERE customer_id = $1 AND mode = $2 AND chat_jid = $3 AND sender_jid = $4 AND message_id = $5";
/// The upsert merges like the library's `merge_msg_secret_expiry` (0 = never wins, else the
/// later deadline) and `merge_msg_secret_message_ts` (the later time).
const PUT_MSG_SECRET: &str = "INSERT INTO wa_live_msg_secrets \
     (customer_id, mode, chat_jid, sender_jid, message_id, secret, expires_at, message_ts) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (customer_id, mode, chat_jid, sender_jid, message_id) DO UPDATE SET \
     secret = excluded.secret, \
     expires_at = CASE WHEN wa_live_msg_secrets.expires_at = 0 OR excluded.expires_at = 0 THEN 0 \
       WHEN wa_live_msg_secrets.expires_at > excluded.expires_at THEN wa_live_msg_secrets.expires_at \
       ELSE excluded.expires_at END, \
     message_ts = CASE WHEN wa_live_msg_secrets.message_ts > excluded.message_ts \
       THEN wa_live_msg_secrets.message_ts ELSE excluded.message_ts END";

// ---------------------------------------------------------------------------
// SignalStore
// ---------------------------------------------------------------------------

#[async_trait]
impl SignalStore for WaStore {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.exec(PUT_IDENTITY, &[Arg::Text(address), Arg::Bytes(&key)])
            .await
            .map(|_| ())
    }

    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = identities
            .iter()
            .map(|(a, k)| Stmt::new(PUT_IDENTITY, vec![Arg::Text(a), Arg::Bytes(k)]))
            .collect();
        self.batch(&stmts).await
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        let sql =
            format!("SELECT identity_key FROM wa_live_identities WHERE {SCOPE} AND address = $3");
        match self.fetch_bytes(&sql, &[Arg::Text(address)]).await? {
            None => Ok(None),
            Some(b) => {
                let len = b.len();
                <[u8; 32]>::try_from(b).map(Some).map_err(|_| {
                    StoreError::Validation(format!("identity key of {address} has {len} bytes"))
                })
            }
        }
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_identities WHERE {SCOPE} AND address = $3");
        self.exec(&sql, &[Arg::Text(address)]).await.map(|_| ())
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        let sql = format!("SELECT record FROM wa_live_sessions WHERE {SCOPE} AND address = $3");
        Ok(self
            .fetch_bytes(&sql, &[Arg::Text(address)])
            .await?
            .map(Bytes::from))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.exec(PUT_SESSION, &[Arg::Text(address), Arg::Bytes(session)])
            .await
            .map(|_| ())
    }

    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = sessions
            .iter()
            .map(|(a, s)| Stmt::new(PUT_SESSION, vec![Arg::Text(a), Arg::Bytes(s)]))
            .collect();
        self.batch(&stmts).await
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_sessions WHERE {SCOPE} AND address = $3");
        self.exec(&sql, &[Arg::Text(address)]).await.map(|_| ())
    }

    async fn has_session(&self, address: &str) -> Result<bool> {
        let sql = format!("SELECT 1 FROM wa_live_sessions WHERE {SCOPE} AND address = $3");
        Ok(self
            .fetch_optional::<(i32,)>(&sql, &[Arg::Text(address)])
            .await?
            .is_some())
    }

    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        // Addresses are `user@server` (device 0) or `user:device@server`: an exact prefix
        // match, never a longer user that merely starts with this one.
        let prefix_len = i32::try_from(user.chars().count() + 1)
            .map_err(|_| StoreError::Validation("user too long".into()))?;
        let (at, colon) = (format!("{user}@"), format!("{user}:"));
        let sql = format!(
            "SELECT 1 FROM wa_live_sessions WHERE {SCOPE} AND substr(address, 1, $3) IN ($4, $5) \
             UNION ALL \
             SELECT 1 FROM wa_live_identities WHERE {SCOPE} AND substr(address, 1, $3) IN ($4, $5) \
             LIMIT 1"
        );
        let args = [Arg::Int32(prefix_len), Arg::Text(&at), Arg::Text(&colon)];
        Ok(self.fetch_optional::<(i32,)>(&sql, &args).await?.is_some())
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        self.exec(
            STORE_PREKEY,
            &[Arg::Int(id.into()), Arg::Bytes(record), Arg::Bool(uploaded)],
        )
        .await
        .map(|_| ())
    }

    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = keys
            .iter()
            .map(|(id, r)| {
                Stmt::new(
                    STORE_PREKEY,
                    vec![Arg::Int((*id).into()), Arg::Bytes(r), Arg::Bool(uploaded)],
                )
            })
            .collect();
        self.batch(&stmts).await
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        let sql = format!("SELECT record FROM wa_live_prekeys WHERE {SCOPE} AND id = $3");
        Ok(self
            .fetch_bytes(&sql, &[Arg::Int(id.into())])
            .await?
            .map(Bytes::from))
    }

    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let mut found: HashMap<u32, Bytes> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT id, record FROM wa_live_prekeys WHERE {SCOPE} AND id IN ({})",
                placeholders(3, chunk.len())
            );
            let args: Vec<Arg<'_>> = chunk.iter().map(|id| Arg::Int((*id).into())).collect();
            for (id, record) in self.fetch_all::<(i64, Vec<u8>)>(&sql, &args).await? {
                found.insert(to_u32(id, "prekey id")?, Bytes::from(record));
            }
        }
        // In the order asked for, like the default implementation.
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).map(|r| (*id, r.clone())))
            .collect())
    }

    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        // UPDATE only: a key consumed since the upload snapshot stays deleted.
        let sqls: Vec<(String, Vec<Arg<'_>>)> = ids
            .chunks(IN_CHUNK)
            .map(|chunk| {
                (
                    format!(
                        "UPDATE wa_live_prekeys SET uploaded = TRUE WHERE {SCOPE} AND id IN ({})",
                        placeholders(3, chunk.len())
                    ),
                    chunk.iter().map(|id| Arg::Int((*id).into())).collect(),
                )
            })
            .collect();
        let stmts: Vec<Stmt<'_>> = sqls
            .iter()
            .map(|(sql, args)| Stmt::new(sql, args.clone()))
            .collect();
        self.batch(&stmts).await
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_prekeys WHERE {SCOPE} AND id = $3");
        self.exec(&sql, &[Arg::Int(id.into())]).await.map(|_| ())
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        let sql = format!("SELECT MAX(id) FROM wa_live_prekeys WHERE {SCOPE}");
        let max = self.fetch_optional::<(Option<i64>,)>(&sql, &[]).await?;
        match max.and_then(|(m,)| m) {
            Some(m) => to_u32(m, "prekey id"),
            None => Ok(0),
        }
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO wa_live_signed_prekeys (customer_id, mode, id, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (customer_id, mode, id) DO UPDATE SET record = excluded.record",
            &[Arg::Int(id.into()), Arg::Bytes(record)],
        )
        .await
        .map(|_| ())
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        let sql = format!("SELECT record FROM wa_live_signed_prekeys WHERE {SCOPE} AND id = $3");
        self.fetch_bytes(&sql, &[Arg::Int(id.into())]).await
    }

    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        let sql =
            format!("SELECT id, record FROM wa_live_signed_prekeys WHERE {SCOPE} ORDER BY id");
        self.fetch_all::<(i64, Vec<u8>)>(&sql, &[])
            .await?
            .into_iter()
            .map(|(id, record)| Ok((to_u32(id, "signed prekey id")?, record)))
            .collect()
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_signed_prekeys WHERE {SCOPE} AND id = $3");
        self.exec(&sql, &[Arg::Int(id.into())]).await.map(|_| ())
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.exec(PUT_SENDER_KEY, &[Arg::Text(address), Arg::Bytes(record)])
            .await
            .map(|_| ())
    }

    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = sender_keys
            .iter()
            .map(|(a, r)| Stmt::new(PUT_SENDER_KEY, vec![Arg::Text(a), Arg::Bytes(r)]))
            .collect();
        self.batch(&stmts).await
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        let sql = format!("SELECT record FROM wa_live_sender_keys WHERE {SCOPE} AND address = $3");
        self.fetch_bytes(&sql, &[Arg::Text(address)]).await
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_sender_keys WHERE {SCOPE} AND address = $3");
        self.exec(&sql, &[Arg::Text(address)]).await.map(|_| ())
    }
}

// ---------------------------------------------------------------------------
// AppSyncStore
// ---------------------------------------------------------------------------

#[async_trait]
impl AppSyncStore for WaStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        let sql = format!(
            "SELECT key_data, fingerprint, key_timestamp FROM wa_live_app_state_sync_keys \
             WHERE {SCOPE} AND key_id = $3"
        );
        Ok(self
            .fetch_optional::<(Vec<u8>, Vec<u8>, i64)>(&sql, &[Arg::Bytes(key_id)])
            .await?
            .map(|(key_data, fingerprint, timestamp)| AppStateSyncKey {
                key_data,
                fingerprint,
                timestamp,
            }))
    }

    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        self.exec(
            "INSERT INTO wa_live_app_state_sync_keys \
             (customer_id, mode, key_id, key_data, fingerprint, key_timestamp) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (customer_id, mode, key_id) DO UPDATE SET key_data = excluded.key_data, \
             fingerprint = excluded.fingerprint, key_timestamp = excluded.key_timestamp",
            &[
                Arg::Bytes(key_id),
                Arg::Bytes(&key.key_data),
                Arg::Bytes(&key.fingerprint),
                Arg::Int(key.timestamp),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        let sql =
            format!("SELECT state FROM wa_live_app_state_versions WHERE {SCOPE} AND name = $3");
        match self.fetch_bytes(&sql, &[Arg::Text(name)]).await? {
            Some(state) => serde_json::from_slice(&state).map_err(ser_err),
            None => Ok(HashState::default()),
        }
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        let version = i64::try_from(state.version).map_err(|_| {
            StoreError::Validation(format!("version out of range: {}", state.version))
        })?;
        let blob = serde_json::to_vec(&state).map_err(ser_err)?;
        self.exec(
            "INSERT INTO wa_live_app_state_versions (customer_id, mode, name, version, state) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, mode, name) \
             DO UPDATE SET version = excluded.version, state = excluded.state",
            &[Arg::Text(name), Arg::Int(version), Arg::Bytes(&blob)],
        )
        .await
        .map(|_| ())
    }

    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        let version = i64::try_from(version)
            .map_err(|_| StoreError::Validation(format!("version out of range: {version}")))?;
        let stmts: Vec<Stmt<'_>> = mutations
            .iter()
            .map(|m| {
                Stmt::new(
                    PUT_MUTATION_MAC,
                    vec![
                        Arg::Text(name),
                        Arg::Bytes(&m.index_mac),
                        Arg::Int(version),
                        Arg::Bytes(&m.value_mac),
                    ],
                )
            })
            .collect();
        self.batch(&stmts).await
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        let sql = format!(
            "SELECT value_mac FROM wa_live_app_state_mutation_macs \
             WHERE {SCOPE} AND name = $3 AND index_mac = $4"
        );
        self.fetch_bytes(&sql, &[Arg::Text(name), Arg::Bytes(index_mac)])
            .await
    }

    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], Vec<u8>>> {
        let mut out = HashMap::with_capacity(index_macs.len());
        for chunk in index_macs.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT index_mac, value_mac FROM wa_live_app_state_mutation_macs \
                 WHERE {SCOPE} AND name = $3 AND index_mac IN ({})",
                placeholders(4, chunk.len())
            );
            let mut args = vec![Arg::Text(name)];
            args.extend(chunk.iter().map(|m| Arg::Bytes(m)));
            for (index_mac, value_mac) in self.fetch_all::<(Vec<u8>, Vec<u8>)>(&sql, &args).await? {
                if let Ok(key) = <[u8; 32]>::try_from(index_mac) {
                    out.insert(key, value_mac);
                }
            }
        }
        Ok(out)
    }

    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = index_macs
            .iter()
            .map(|m| Stmt::new(DELETE_MUTATION_MAC, vec![Arg::Text(name), Arg::Bytes(m)]))
            .collect();
        self.batch(&stmts).await
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        let sql =
            format!("DELETE FROM wa_live_app_state_mutation_macs WHERE {SCOPE} AND name = $3");
        self.exec(&sql, &[Arg::Text(name)]).await.map(|_| ())
    }

    /// The highest key id (byte order), as whatsapp-rust's own SQLite store answers: key ids
    /// grow with each key the phone shares, whatever order they reach us in.
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        let sql = format!(
            "SELECT key_id FROM wa_live_app_state_sync_keys WHERE {SCOPE} \
             ORDER BY key_id DESC LIMIT 1"
        );
        self.fetch_bytes(&sql, &[]).await
    }
}

// ---------------------------------------------------------------------------
// ProtocolStore
// ---------------------------------------------------------------------------

type LidRow = (String, String, i64, i64, String);

fn lid_entry(
    (lid, phone_number, created_at, updated_at, learning_source): LidRow,
) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid,
        phone_number,
        created_at,
        updated_at,
        learning_source,
    }
}

/// A device-list record's stored form: (devices JSON, raw id).
fn device_list_args(record: &DeviceListRecord) -> Result<(String, Option<i64>)> {
    let devices = serde_json::to_string(&record.devices).map_err(ser_err)?;
    Ok((devices, record.raw_id.map(i64::from)))
}

#[async_trait]
impl ProtocolStore for WaStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        let sql = format!(
            "SELECT device_jid, has_key FROM wa_live_sender_key_devices \
             WHERE {SCOPE} AND group_jid = $3 ORDER BY device_jid"
        );
        self.fetch_all::<(String, bool)>(&sql, &[Arg::Text(group_jid)])
            .await
    }

    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = entries
            .iter()
            .map(|(device, has_key)| {
                Stmt::new(
                    SET_SENDER_KEY_STATUS,
                    vec![Arg::Text(group_jid), Arg::Text(device), Arg::Bool(*has_key)],
                )
            })
            .collect();
        self.batch(&stmts).await
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        let sql =
            format!("DELETE FROM wa_live_sender_key_devices WHERE {SCOPE} AND group_jid = $3");
        self.exec(&sql, &[Arg::Text(group_jid)]).await.map(|_| ())
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        let sqls: Vec<(String, Vec<Arg<'_>>)> = device_jids
            .chunks(IN_CHUNK)
            .map(|chunk| {
                (
                    format!(
                        "DELETE FROM wa_live_sender_key_devices WHERE {SCOPE} AND device_jid IN ({})",
                        placeholders(3, chunk.len())
                    ),
                    chunk.iter().map(|d| Arg::Text(d)).collect(),
                )
            })
            .collect();
        let stmts: Vec<Stmt<'_>> = sqls
            .iter()
            .map(|(sql, args)| Stmt::new(sql, args.clone()))
            .collect();
        self.batch(&stmts).await
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_sender_key_devices WHERE {SCOPE}");
        self.exec(&sql, &[]).await.map(|_| ())
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        let sql = format!(
            "SELECT {LID_MAPPING_COLUMNS} FROM wa_live_lid_pn_mapping WHERE {SCOPE} AND lid = $3"
        );
        Ok(self
            .fetch_optional::<LidRow>(&sql, &[Arg::Text(lid)])
            .await?
            .map(lid_entry))
    }

    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        // The most recent LID for the phone number.
        let sql = format!(
            "SELECT {LID_MAPPING_COLUMNS} FROM wa_live_lid_pn_mapping WHERE {SCOPE} AND phone_number = $3 \
             ORDER BY updated_at DESC, created_at DESC, lid DESC LIMIT 1"
        );
        Ok(self
            .fetch_optional::<LidRow>(&sql, &[Arg::Text(phone)])
            .await?
            .map(lid_entry))
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.exec(PUT_LID_MAPPING, &lid_args(entry))
            .await
            .map(|_| ())
    }

    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = entries
            .iter()
            .map(|e| Stmt::new(PUT_LID_MAPPING, lid_args(e).to_vec()))
            .collect();
        self.batch(&stmts).await
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        let sql = format!(
            "SELECT {LID_MAPPING_COLUMNS} FROM wa_live_lid_pn_mapping WHERE {SCOPE} ORDER BY lid"
        );
        Ok(self
            .fetch_all::<LidRow>(&sql, &[])
            .await?
            .into_iter()
            .map(lid_entry)
            .collect())
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO wa_live_base_keys (customer_id, mode, address, message_id, base_key) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, mode, address, message_id) \
             DO UPDATE SET base_key = excluded.base_key",
            &[
                Arg::Text(address),
                Arg::Text(message_id),
                Arg::Bytes(base_key),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current_base_key: &[u8],
    ) -> Result<bool> {
        let sql = format!(
            "SELECT base_key FROM wa_live_base_keys WHERE {SCOPE} AND address = $3 AND message_id = $4"
        );
        Ok(self
            .fetch_bytes(&sql, &[Arg::Text(address), Arg::Text(message_id)])
            .await?
            .is_some_and(|stored| stored == current_base_key))
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        let sql = format!(
            "DELETE FROM wa_live_base_keys WHERE {SCOPE} AND address = $3 AND message_id = $4"
        );
        self.exec(&sql, &[Arg::Text(address), Arg::Text(message_id)])
            .await
            .map(|_| ())
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        let (devices, raw_id) = device_list_args(&record)?;
        self.exec(
            UPDATE_DEVICE_LIST,
            &[
                Arg::Text(&record.user),
                Arg::Text(&devices),
                Arg::Int(record.timestamp),
                Arg::OptText(record.phash.as_deref()),
                Arg::OptInt(raw_id),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        let stored: Vec<(String, Option<i64>)> = records
            .iter()
            .map(device_list_args)
            .collect::<Result<_>>()?;
        let stmts: Vec<Stmt<'_>> = records
            .iter()
            .zip(&stored)
            .map(|(record, (devices, raw_id))| {
                Stmt::new(
                    UPDATE_DEVICE_LIST,
                    vec![
                        Arg::Text(&record.user),
                        Arg::Text(devices),
                        Arg::Int(record.timestamp),
                        Arg::OptText(record.phash.as_deref()),
                        Arg::OptInt(*raw_id),
                    ],
                )
            })
            .collect();
        self.batch(&stmts).await
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        let sql = format!(
            "SELECT devices, list_timestamp, phash, raw_id FROM wa_live_device_lists \
             WHERE {SCOPE} AND jid_user = $3"
        );
        let Some((devices, timestamp, phash, raw_id)) = self
            .fetch_optional::<(String, i64, Option<String>, Option<i64>)>(&sql, &[Arg::Text(user)])
            .await?
        else {
            return Ok(None);
        };
        let devices: Vec<DeviceInfo> = serde_json::from_str(&devices).map_err(ser_err)?;
        Ok(Some(DeviceListRecord {
            user: user.to_owned(),
            devices,
            timestamp,
            phash,
            raw_id: raw_id.map(|r| to_u32(r, "raw id")).transpose()?,
        }))
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_device_lists WHERE {SCOPE} AND jid_user = $3");
        self.exec(&sql, &[Arg::Text(user)]).await.map(|_| ())
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        let sql =
            format!("SELECT metadata FROM wa_live_group_metadata WHERE {SCOPE} AND group_jid = $3");
        self.fetch_bytes(&sql, &[Arg::Text(group_jid)]).await
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO wa_live_group_metadata (customer_id, mode, group_jid, metadata) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, mode, group_jid) \
             DO UPDATE SET metadata = excluded.metadata",
            &[Arg::Text(group_jid), Arg::Bytes(blob)],
        )
        .await
        .map(|_| ())
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_group_metadata WHERE {SCOPE} AND group_jid = $3");
        self.exec(&sql, &[Arg::Text(group_jid)]).await.map(|_| ())
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        let sql = format!(
            "SELECT token, token_timestamp, sender_timestamp FROM wa_live_tc_tokens \
             WHERE {SCOPE} AND jid = $3"
        );
        Ok(self
            .fetch_optional::<(Vec<u8>, i64, Option<i64>)>(&sql, &[Arg::Text(jid)])
            .await?
            .map(|(token, token_timestamp, sender_timestamp)| TcTokenEntry {
                token,
                token_timestamp,
                sender_timestamp,
            }))
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.exec(
            "INSERT INTO wa_live_tc_tokens (customer_id, mode, jid, token, token_timestamp, sender_timestamp) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id, mode, jid) DO UPDATE SET \
             token = excluded.token, token_timestamp = excluded.token_timestamp, \
             sender_timestamp = excluded.sender_timestamp",
            &[
                Arg::Text(jid),
                Arg::Bytes(&entry.token),
                Arg::Int(entry.token_timestamp),
                Arg::OptInt(entry.sender_timestamp),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        let sql = format!("DELETE FROM wa_live_tc_tokens WHERE {SCOPE} AND jid = $3");
        self.exec(&sql, &[Arg::Text(jid)]).await.map(|_| ())
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        let sql = format!("SELECT jid FROM wa_live_tc_tokens WHERE {SCOPE} ORDER BY jid");
        Ok(self
            .fetch_all::<(String,)>(&sql, &[])
            .await?
            .into_iter()
            .map(|(j,)| j)
            .collect())
    }

    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        // A row goes only when both its received token and its sender bucket are stale.
        let sql = format!(
            "DELETE FROM wa_live_tc_tokens WHERE {SCOPE} \
             AND NOT (length(token) > 0 AND token_timestamp >= $3) \
             AND NOT (sender_timestamp IS NOT NULL AND sender_timestamp >= $4)"
        );
        let n = self
            .exec(&sql, &[Arg::Int(token_cutoff), Arg::Int(sender_cutoff)])
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        // One atomic upsert: a byte-less placeholder when absent, else the sender
        // timestamp only moves forward and the token is kept.
        self.exec(
            "INSERT INTO wa_live_tc_tokens (customer_id, mode, jid, token, token_timestamp, sender_timestamp) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (customer_id, mode, jid) DO UPDATE SET \
             sender_timestamp = CASE WHEN wa_live_tc_tokens.sender_timestamp IS NULL \
               OR wa_live_tc_tokens.sender_timestamp < excluded.sender_timestamp \
               THEN excluded.sender_timestamp ELSE wa_live_tc_tokens.sender_timestamp END",
            &[Arg::Text(jid), Arg::Bytes(&[]), Arg::Int(sender_timestamp)],
        )
        .await
        .map(|_| ())
    }

    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        // One atomic upsert, newer-wins: a stored placeholder always takes the first real
        // token; the sender timestamp is kept.
        self.exec(
            "INSERT INTO wa_live_tc_tokens (customer_id, mode, jid, token, token_timestamp, sender_timestamp) \
             VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (customer_id, mode, jid) DO UPDATE SET \
             token = excluded.token, token_timestamp = excluded.token_timestamp \
             WHERE length(wa_live_tc_tokens.token) = 0 \
               OR excluded.token_timestamp >= wa_live_tc_tokens.token_timestamp",
            &[Arg::Text(jid), Arg::Bytes(token), Arg::Int(token_timestamp)],
        )
        .await
        .map(|_| ())
    }

    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        self.exec(
            "INSERT INTO wa_live_sent_messages (customer_id, mode, chat_jid, message_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id, mode, chat_jid, message_id) \
             DO UPDATE SET payload = excluded.payload, created_at = excluded.created_at",
            &[
                Arg::Text(chat_jid),
                Arg::Text(message_id),
                Arg::Bytes(payload),
                Arg::Int(now_secs()),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        // One statement: two concurrent takes cannot both get the payload.
        let sql = format!(
            "DELETE FROM wa_live_sent_messages WHERE {SCOPE} AND chat_jid = $3 AND message_id = $4 \
             RETURNING payload"
        );
        Ok(self
            .write_fetch_optional::<(Vec<u8>,)>(&sql, &[Arg::Text(chat_jid), Arg::Text(message_id)])
            .await?
            .map(|(p,)| p))
    }

    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        let sql = format!("DELETE FROM wa_live_sent_messages WHERE {SCOPE} AND created_at < $3");
        let n = self.exec(&sql, &[Arg::Int(cutoff_timestamp)]).await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        self.exec(
            STORE_PENDING_INBOUND,
            &[
                Arg::Text(chat),
                Arg::Text(sender),
                Arg::Text(id),
                Arg::Bytes(message),
                Arg::Int(now_secs()),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        let sql = format!(
            "SELECT message FROM wa_live_pending_inbound \
             WHERE {SCOPE} AND chat_jid = $3 AND sender_jid = $4 AND message_id = $5"
        );
        self.fetch_bytes(&sql, &[Arg::Text(chat), Arg::Text(sender), Arg::Text(id)])
            .await
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.exec(
            DELETE_PENDING_INBOUND,
            &[Arg::Text(chat), Arg::Text(sender), Arg::Text(id)],
        )
        .await
        .map(|_| ())
    }

    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        let sql = format!("DELETE FROM wa_live_pending_inbound WHERE {SCOPE} AND received_at < $3");
        let n = self.exec(&sql, &[Arg::Int(cutoff_timestamp)]).await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        let now = now_secs();
        let stmts: Vec<Stmt<'_>> = rows
            .iter()
            .map(|r| {
                Stmt::new(
                    STORE_PENDING_INBOUND,
                    vec![
                        Arg::Text(r.chat),
                        Arg::Text(r.sender),
                        Arg::Text(r.id),
                        Arg::Bytes(r.message),
                        Arg::Int(now),
                    ],
                )
            })
            .collect();
        self.batch(&stmts).await
    }

    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        let stmts: Vec<Stmt<'_>> = keys
            .iter()
            .map(|k| {
                Stmt::new(
                    DELETE_PENDING_INBOUND,
                    vec![Arg::Text(k.chat), Arg::Text(k.sender), Arg::Text(k.id)],
                )
            })
            .collect();
        self.batch(&stmts).await
    }
}

fn lid_args(e: &LidPnMappingEntry) -> [Arg<'_>; 5] {
    [
        Arg::Text(&e.lid),
        Arg::Text(&e.phone_number),
        Arg::Int(e.created_at),
        Arg::Int(e.updated_at),
        Arg::Text(&e.learning_source),
    ]
}

// ---------------------------------------------------------------------------
// MsgSecretStore
// ---------------------------------------------------------------------------

#[async_trait]
impl MsgSecretStore for WaStore {
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        // One statement per entry (not a multi-row insert): a batch may repeat a key, and
        // each repeat must merge with the one before it.
        let stmts: Vec<Stmt<'_>> = entries
            .iter()
            .map(|e| {
                Stmt::new(
                    PUT_MSG_SECRET,
                    vec![
                        Arg::Text(&e.chat),
                        Arg::Text(&e.sender),
                        Arg::Text(&e.msg_id),
                        Arg::Bytes(&e.secret),
                        Arg::Int(e.expires_at),
                        Arg::Int(e.message_ts),
                    ],
                )
            })
            .collect();
        self.batch(&stmts).await?;
        Ok(entries.len())
    }

    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_msg_secret_with_ts(chat, sender, msg_id)
            .await?
            .map(|(secret, _)| secret))
    }

    async fn get_msg_secret_with_ts(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        let sql = format!(
            "SELECT secret, message_ts FROM wa_live_msg_secrets \
             WHERE {SCOPE} AND chat_jid = $3 AND sender_jid = $4 AND message_id = $5"
        );
        self.fetch_optional::<(Vec<u8>, i64)>(
            &sql,
            &[Arg::Text(chat), Arg::Text(sender), Arg::Text(msg_id)],
        )
        .await
    }

    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let sql = format!(
            "DELETE FROM wa_live_msg_secrets WHERE {SCOPE} AND expires_at <> 0 AND expires_at <= $3"
        );
        let n = self.exec(&sql, &[Arg::Int(cutoff_timestamp)]).await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

// ---------------------------------------------------------------------------
// DeviceStore
// ---------------------------------------------------------------------------

const SAVE_DEVICE: &str = "INSERT INTO wa_live_device (customer_id, mode, device, updated_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, mode) \
     DO UPDATE SET device = excluded.device, updated_at = excluded.updated_at";

#[async_trait]
impl DeviceStore for WaStore {
    async fn save(&self, device: &Device) -> Result<()> {
        let blob = serde_json::to_vec(device).map_err(ser_err)?;
        self.exec(
            SAVE_DEVICE,
            &[Arg::Bytes(&blob), Arg::Time(crate::store::now())],
        )
        .await
        .map(|_| ())
    }

    /// The stored device, with the device properties restored to the library's defaults:
    /// they are not serialised (`Device::device_props` is `serde(skip)`), and pairing sends
    /// them (OS, version, platform, history-sync settings), so a device loaded without them
    /// would pair with none. An override the bot is built with is applied after the load.
    async fn load(&self) -> Result<Option<Device>> {
        let sql = format!("SELECT device FROM wa_live_device WHERE {SCOPE}");
        let Some(blob) = self.fetch_bytes(&sql, &[]).await? else {
            return Ok(None);
        };
        let mut device: Device = serde_json::from_slice(&blob).map_err(ser_err)?;
        device.device_props = Arc::new(DEVICE_PROPS.clone());
        Ok(Some(device))
    }

    async fn exists(&self) -> Result<bool> {
        let sql = format!("SELECT 1 FROM wa_live_device WHERE {SCOPE}");
        Ok(self.fetch_optional::<(i32,)>(&sql, &[]).await?.is_some())
    }

    /// Materializes a fresh device (new identity, noise and prekey keys) unless the session
    /// already has one, like the library's own stores; returns [`DEVICE_ID`].
    async fn create(&self) -> Result<i32> {
        let blob = serde_json::to_vec(&Device::new()).map_err(ser_err)?;
        self.exec(
            "INSERT INTO wa_live_device (customer_id, mode, device, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, mode) DO NOTHING",
            &[Arg::Bytes(&blob), Arg::Time(crate::store::now())],
        )
        .await?;
        Ok(DEVICE_ID)
    }

    /// The data lives in the database server (or SQLite's own cache), not in this store.
    async fn resource_report(&self) -> StorageResourceReport {
        StorageResourceReport {
            memory_bytes: Some(0),
            ..Default::default()
        }
    }
}
