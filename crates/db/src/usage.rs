//! Usage metering: counts per customer per day, gathered in memory
//! on the request path and added to the table in batches (one upsert per customer and day),
//! so metering never costs a write per request. Management counts API requests, sends and
//! bandwidth; workers count received messages.

use crate::{Db, Tx};
use chrono::{NaiveDate, Utc};
use std::{collections::HashMap, sync::Mutex};
use uuid::Uuid;

/// Counts of one customer on one day (UTC).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub api_requests: i64,
    pub messages_sent: i64,
    pub messages_received: i64,
    pub images_sent: i64,
    pub videos_sent: i64,
    pub files_sent: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.api_requests += other.api_requests;
        self.messages_sent += other.messages_sent;
        self.messages_received += other.messages_received;
        self.images_sent += other.images_sent;
        self.videos_sent += other.videos_sent;
        self.files_sent += other.files_sent;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
    }
}

/// Counters not yet written.
#[derive(Default)]
pub struct UsageMeter {
    /// Keyed by our own ids: a fast seeded hash, not SipHash (one lookup per API call).
    pending: Mutex<HashMap<(Uuid, NaiveDate), Usage, foldhash::fast::RandomState>>,
    /// Held through a flush: a flush asked for while another writes (a reader making sure
    /// the table is up to date) waits for it, rather than finding nothing pending and
    /// returning while the counts are still on their way.
    flushing: tokio::sync::Mutex<()>,
}

const UPSERT_PG: &str = "INSERT INTO customer_usage (customer_id, date, api_requests, messages_sent, \
    messages_received, images_sent, videos_sent, files_sent, bandwidth_in_bytes, bandwidth_out_bytes, \
    bandwidth_in_mb, bandwidth_out_mb, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ROUND($9 / 1000000.0, 2), ROUND($10 / 1000000.0, 2), $11, $11) \
    ON CONFLICT (customer_id, date) DO UPDATE SET \
    api_requests = customer_usage.api_requests + excluded.api_requests, \
    messages_sent = customer_usage.messages_sent + excluded.messages_sent, \
    messages_received = customer_usage.messages_received + excluded.messages_received, \
    images_sent = customer_usage.images_sent + excluded.images_sent, \
    videos_sent = customer_usage.videos_sent + excluded.videos_sent, \
    files_sent = customer_usage.files_sent + excluded.files_sent, \
    bandwidth_in_bytes = customer_usage.bandwidth_in_bytes + excluded.bandwidth_in_bytes, \
    bandwidth_out_bytes = customer_usage.bandwidth_out_bytes + excluded.bandwidth_out_bytes, \
    bandwidth_in_mb = ROUND((customer_usage.bandwidth_in_bytes + excluded.bandwidth_in_bytes) / 1000000.0, 2), \
    bandwidth_out_mb = ROUND((customer_usage.bandwidth_out_bytes + excluded.bandwidth_out_bytes) / 1000000.0, 2), \
    updated_at = excluded.updated_at";

const UPSERT_SQLITE: &str = "INSERT INTO customer_usage (customer_id, date, api_requests, messages_sent, \
    messages_received, images_sent, videos_sent, files_sent, bandwidth_in_bytes, bandwidth_out_bytes, \
    bandwidth_in_mb, bandwidth_out_mb, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, printf('%.2f', $9 / 1000000.0), printf('%.2f', $10 / 1000000.0), $11, $11) \
    ON CONFLICT (customer_id, date) DO UPDATE SET \
    api_requests = api_requests + excluded.api_requests, \
    messages_sent = messages_sent + excluded.messages_sent, \
    messages_received = messages_received + excluded.messages_received, \
    images_sent = images_sent + excluded.images_sent, \
    videos_sent = videos_sent + excluded.videos_sent, \
    files_sent = files_sent + excluded.files_sent, \
    bandwidth_in_bytes = bandwidth_in_bytes + excluded.bandwidth_in_bytes, \
    bandwidth_out_bytes = bandwidth_out_bytes + excluded.bandwidth_out_bytes, \
    bandwidth_in_mb = printf('%.2f', (bandwidth_in_bytes + excluded.bandwidth_in_bytes) / 1000000.0), \
    bandwidth_out_mb = printf('%.2f', (bandwidth_out_bytes + excluded.bandwidth_out_bytes) / 1000000.0), \
    updated_at = excluded.updated_at";

impl UsageMeter {
    /// Adds `usage` to today's counts of `customer`.
    pub fn add(&self, customer: Uuid, usage: Usage) {
        let today = Utc::now().date_naive();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.entry((customer, today)).or_default().add(&usage);
    }

    /// Writes every pending count in one transaction; on failure the counts are kept for
    /// the next flush. Answers how many (customer, day) rows were written.
    pub async fn flush(&self, db: &Db) -> Result<usize, sqlx::Error> {
        let _one_at_a_time = self.flushing.lock().await;
        let batch: Vec<((Uuid, NaiveDate), Usage)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match write(db, &batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (key, usage) in &batch {
                    pending.entry(*key).or_default().add(usage);
                }
                Err(e)
            }
        }
    }
}

async fn write(db: &Db, batch: &[((Uuid, NaiveDate), Usage)]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let now = Utc::now();
    for ((customer, day), u) in batch {
        macro_rules! upsert {
            ($sql:expr, $conn:expr) => {
                sqlx::query($sql)
                    .bind(customer)
                    .bind(day)
                    .bind(u.api_requests)
                    .bind(u.messages_sent)
                    .bind(u.messages_received)
                    .bind(u.images_sent)
                    .bind(u.videos_sent)
                    .bind(u.files_sent)
                    .bind(u.bytes_in)
                    .bind(u.bytes_out)
                    .bind(now)
                    .execute($conn)
                    .await
                    .map(|r| r.rows_affected())
            };
        }
        match &mut tx {
            Tx::Postgres(t) => upsert!(UPSERT_PG, &mut **t),
            Tx::Sqlite(t) => upsert!(UPSERT_SQLITE, &mut **t),
        }?;
    }
    tx.commit().await
}
