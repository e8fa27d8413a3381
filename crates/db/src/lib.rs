#![forbid(unsafe_code)]
//! The one database: PostgreSQL in fleet mode, SQLite in `wasp up`.
//!
//! Queries are written once with `$n` placeholders (both backends accept them) and run on
//! whichever backend is configured through [`on_pool!`] and [`on_tx!`], which expand the same
//! body once per backend so each is type-checked against its own driver. The few types the
//! two databases store differently (INET, DECIMAL) have newtypes here that map onto the
//! native PostgreSQL type and onto TEXT in SQLite.

pub mod usage;

use sqlx::{
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    Database, Decode, Encode, PgPool, Postgres, Sqlite, SqlitePool, Type,
};
use std::{net::IpAddr, str::FromStr, time::Duration};

/// A connection pool on the configured backend.
#[derive(Clone, Debug)]
pub enum Db {
    Postgres(PgPool),
    /// SQLite: a pool of readers and a single writer connection, so write transactions queue
    /// in-process instead of failing with `SQLITE_BUSY`.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
}

/// An open write transaction on the configured backend.
pub enum Tx {
    Postgres(sqlx::Transaction<'static, Postgres>),
    Sqlite(sqlx::Transaction<'static, Sqlite>),
}

/// Runs `$body` with `$pool` bound to the backend's (reader) pool.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Postgres($pool) => $body,
            $crate::Db::Sqlite { read: $pool, .. } => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection (`&mut Connection`).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else {
            None
        }
    }
}

static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

impl Db {
    /// Opens a pool for `url` (`postgres://…` or `sqlite://path`), creating a SQLite file on
    /// first use.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
        match Backend::of_url(url) {
            Some(Backend::Postgres) => {
                let options = PgConnectOptions::from_str(url)?.application_name("wasp");
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Ok(Db::Postgres(pool))
            }
            Some(Backend::Sqlite) => {
                let base = SqliteConnectOptions::from_str(url)?
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let write_options = base
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    // A statement that writes several rows inside a transaction keeps a
                    // statement journal (to undo just that statement); on the default
                    // temp_store it spills to a temporary file past 64 KiB, which each of
                    // the batched writers' multi-row INSERTs did: a file created, written
                    // and deleted per statement. In memory it is a buffer.
                    .pragma("temp_store", "memory");
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(write_options)
                    .await?;
                // Opened after the writer has created the file and switched it to WAL.
                let read = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(base.read_only(true))
                    .await?;
                Ok(Db::Sqlite { read, write })
            }
            None => Err(sqlx::Error::Configuration(
                "database URL must start with postgres:// or sqlite://".into(),
            )),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Postgres(pool) => PG_MIGRATOR.run(pool).await,
            Db::Sqlite { write, .. } => SQLITE_MIGRATOR.run(write).await,
        }
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
        })
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))
    }

    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }
}

/// Whether an error is a unique-constraint violation (a duplicate name, email, …).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// An IP address: INET in PostgreSQL, TEXT in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Inet(pub IpAddr);

/// An exact decimal: NUMERIC in PostgreSQL, TEXT in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Dec(pub rust_decimal::Decimal);

impl Type<Postgres> for Inet {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <ipnetwork::IpNetwork as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &<Postgres as Database>::TypeInfo) -> bool {
        <ipnetwork::IpNetwork as Type<Postgres>>::compatible(ty)
    }
}
impl<'q> Encode<'q, Postgres> for Inet {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <ipnetwork::IpNetwork as Encode<Postgres>>::encode(ipnetwork::IpNetwork::from(self.0), buf)
    }
}
impl<'r> Decode<'r, Postgres> for Inet {
    fn decode(value: <Postgres as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Inet(
            <ipnetwork::IpNetwork as Decode<Postgres>>::decode(value)?.ip(),
        ))
    }
}
impl Type<Sqlite> for Inet {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}
impl<'q> Encode<'q, Sqlite> for Inet {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.0.to_string(), buf)
    }
}
impl<'r> Decode<'r, Sqlite> for Inet {
    fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Inet(<&str as Decode<Sqlite>>::decode(value)?.parse()?))
    }
}

impl Type<Postgres> for Dec {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <rust_decimal::Decimal as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &<Postgres as Database>::TypeInfo) -> bool {
        <rust_decimal::Decimal as Type<Postgres>>::compatible(ty)
    }
}
impl<'q> Encode<'q, Postgres> for Dec {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <rust_decimal::Decimal as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}
impl<'r> Decode<'r, Postgres> for Dec {
    fn decode(value: <Postgres as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Dec(<rust_decimal::Decimal as Decode<Postgres>>::decode(
            value,
        )?))
    }
}
impl Type<Sqlite> for Dec {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}
impl<'q> Encode<'q, Sqlite> for Dec {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.0.to_string(), buf)
    }
}
impl<'r> Decode<'r, Sqlite> for Dec {
    fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Dec(<&str as Decode<Sqlite>>::decode(value)?.parse()?))
    }
}
