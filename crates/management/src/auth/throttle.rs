//! Brute-force defence for sign-ins, operators' and customers': a per-address throttle
//! ahead of a per-e-mail lockout, and the answers a refused sign-in gets.

use super::{session::LoginRow, ADMIN_FAILURES, LOCKOUT_DURATION, LOCKOUT_THRESHOLD};
use crate::{
    audit::AuditEvent,
    db::{Db, Tx},
    error::code,
    http::RequestMeta,
    on_pool, on_tx, Error, Result,
};
use chrono::{DateTime, Duration, Utc};

pub(crate) fn locked_error(until: DateTime<Utc>) -> Error {
    let secs = (until - Utc::now()).num_seconds().max(1) as u64;
    Error::RateLimited {
        code: code::ACCOUNT_LOCKED,
        message: format!(
            "too many failed sign-ins; this account is locked for {} more minute(s)",
            secs.div_ceil(60)
        ),
        retry_after: secs,
    }
}

pub(crate) fn bad_credentials() -> Error {
    Error::unauthorized(code::INVALID_CREDENTIALS, "invalid email or password")
}

/// The sign-in failures of one e-mail from one address: five in a row lock that e-mail for
/// that address, whether or not an account has it (the answers do not tell), and a
/// stranger elsewhere cannot lock an account's owner out. Operators and customers count in
/// tables of their own (`table`), of the same shape.
pub(crate) struct Attempts {
    table: &'static str,
    email: String,
    ip: String,
}

impl Attempts {
    /// An operator's sign-in.
    pub(super) fn new(email: &str, meta: &RequestMeta) -> Attempts {
        Attempts::in_table(ADMIN_FAILURES, email, meta)
    }

    /// A sign-in counted in `table` (`admin_login_failures` or `customer_login_failures`).
    pub(crate) fn in_table(table: &'static str, email: &str, meta: &RequestMeta) -> Attempts {
        Attempts {
            table,
            email: email.chars().take(255).collect(),
            ip: meta.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        }
    }

    /// Forgets every address's count and lock of `email` (a password reset).
    pub(crate) async fn clear_email(table: &'static str, email: &str, tx: &mut Tx) -> Result<()> {
        let sql = format!("DELETE FROM {table} WHERE email = $1");
        on_tx!(tx, |conn| sqlx::query(&sql)
            .bind(email)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Until when sign-ins of this e-mail from this address are refused, if they are.
    pub(crate) async fn locked_until(&self, db: &Db) -> Result<Option<DateTime<Utc>>> {
        let sql = format!(
            "SELECT locked_until FROM {} WHERE email = $1 AND ip_address = $2",
            self.table
        );
        let until: Option<Option<DateTime<Utc>>> = on_pool!(db, |pool| {
            sqlx::query_scalar(&sql)
                .bind(&self.email)
                .bind(&self.ip)
                .fetch_optional(pool)
                .await
        })?;
        Ok(until.flatten().filter(|u| *u > Utc::now()))
    }

    /// Counts a failure, locking at the threshold; the lock time when this one locked. Old
    /// rows are purged on the way.
    pub(crate) async fn failed(&self, db: &Db) -> Result<(i32, Option<DateTime<Utc>>)> {
        let now = Utc::now();
        let table = self.table;
        let purge = format!("DELETE FROM {table} WHERE updated_at < $1");
        let count = format!(
            "INSERT INTO {table} (email, ip_address, failures, updated_at) \
             VALUES ($1, $2, 1, $3) ON CONFLICT (email, ip_address) DO UPDATE \
             SET failures = {table}.failures + 1, updated_at = $3 RETURNING failures"
        );
        let lock_sql = format!(
            "UPDATE {table} SET failures = 0, locked_until = $1 WHERE email = $2 AND ip_address = $3"
        );
        let mut tx = db.begin().await?;
        let failures: i32 = on_tx!(&mut tx, |conn| {
            sqlx::query(&purge)
                .bind(now - Duration::days(1))
                .execute(&mut *conn)
                .await?;
            sqlx::query_scalar(&count)
                .bind(&self.email)
                .bind(&self.ip)
                .bind(now)
                .fetch_one(&mut *conn)
                .await
        })?;
        let lock = (failures >= LOCKOUT_THRESHOLD).then(|| now + LOCKOUT_DURATION);
        if let Some(until) = lock {
            on_tx!(&mut tx, |conn| sqlx::query(&lock_sql)
                .bind(until)
                .bind(&self.email)
                .bind(&self.ip)
                .execute(&mut *conn)
                .await
                .map(|_| ()))?;
        }
        tx.commit().await?;
        Ok((failures, lock))
    }

    /// A successful sign-in clears this address's count.
    pub(crate) async fn succeeded(&self, tx: &mut Tx) -> Result<()> {
        let sql = format!(
            "DELETE FROM {} WHERE email = $1 AND ip_address = $2",
            self.table
        );
        on_tx!(tx, |conn| sqlx::query(&sql)
            .bind(&self.email)
            .bind(&self.ip)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Counts a failed attempt (of an operator, or of an e-mail no operator has: `row` is
/// `None`), audited; the lock time when this failure locked the e-mail for the address.
pub(super) async fn record_failure(
    db: &Db,
    attempts: &Attempts,
    row: Option<&LoginRow>,
    reason: &str,
    meta: &RequestMeta,
) -> Result<Option<DateTime<Utc>>> {
    let (failures, lock) = attempts.failed(db).await?;
    let id = row.map(|r| r.id);
    let mut tx = db.begin().await?;
    let mut failed = AuditEvent::auth_event(id, "login_failed", meta)
        .metadata(serde_json::json!({ "reason": reason, "consecutive_failures": failures }))
        .failure(reason);
    if let Some(id) = id {
        failed = failed.resource("admin_user", id);
    }
    failed.write(&mut tx).await?;
    if let Some(until) = lock {
        let mut locked = AuditEvent::security_event("admin", id, "account_locked", meta)
            .metadata(serde_json::json!({ "locked_until": until, "failures": failures }));
        if let Some(id) = id {
            locked = locked.resource("admin_user", id);
        }
        locked.write(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(lock)
}
