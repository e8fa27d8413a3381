//! Moving a customer to another server: the assignment and both servers' loads change in
//! one transaction (with the caller's audit row), then the old worker lets go of the
//! sessions and the new one takes them over.

use crate::{
    audit::AuditEvent,
    cache::Invalidation,
    error::code,
    fleet::capacity::{check_server_has_room, pick_server},
    on_pool, on_tx, servers,
    workers::Placement,
    AppState, Error, Result,
};
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

/// Where a customer is moved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The least-utilised healthy server with room ([`pick_server`]).
    Auto,
    /// This server, if it has room; not the one the customer is on.
    Server(Uuid),
}

/// A move done: where the customer was and where it is now, and whether each worker
/// acknowledged its part (a worker that did not is caught up by its lease checks and
/// restores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub customer: Uuid,
    pub from: Option<Uuid>,
    pub to: Uuid,
    /// The old worker let go of the sessions (true when there was none).
    pub released: bool,
    /// The new worker took the sessions over.
    pub held: bool,
}

/// Moves `customer` (not deleted) to `target`. `audit` says who moves it and why (an
/// operator's reassignment, a drain…); the move adds `from_server_id` and `to_server_id` to
/// its metadata and writes it in the move's transaction. `NOT_FOUND` for no such customer,
/// `CONFLICT` when it is already on the target, `NO_SERVER_AVAILABLE` or `SERVER_FULL`
/// when the target cannot take it.
pub async fn move_customer(
    state: &AppState,
    customer: Uuid,
    target: Target,
    audit: AuditEvent,
) -> Result<Moved> {
    let from = assigned_server(state, customer).await?;
    let mut tx = state.db.begin().await?;
    let to = match target {
        Target::Auto => pick_server(state, &mut tx, None).await?,
        Target::Server(to) => {
            if from == Some(to) {
                return Err(Error::conflict(
                    code::CONFLICT,
                    "the customer is already on this server",
                ));
            }
            check_server_has_room(&mut tx, to).await?;
            to
        }
    };
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE customers SET assigned_server_id = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(to)
    .bind(Utc::now())
    .bind(customer)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?;
    servers::refresh_load(&mut tx, to).await?;
    if let Some(from) = from {
        servers::refresh_load(&mut tx, from).await?;
    }
    audit
        .resource("customer", customer)
        .metadata(json!({ "from_server_id": from, "to_server_id": to }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(Invalidation::Customer(customer))
        .await;
    // The old worker lets go first (a session is driven by one process at a time), then the
    // new one takes the sessions over and reconnects them.
    let released = match from {
        Some(from) => {
            state
                .workers()
                .place(from, customer, Placement::Release)
                .await
        }
        None => true,
    };
    let held = state.workers().place(to, customer, Placement::Hold).await;
    Ok(Moved {
        customer,
        from,
        to,
        released,
        held,
    })
}

/// The server a customer (not deleted) is assigned to.
async fn assigned_server(state: &AppState, customer: Uuid) -> Result<Option<Uuid>> {
    let row: Option<Option<Uuid>> = on_pool!(&state.db, |pool| sqlx::query_scalar(
        "SELECT assigned_server_id FROM customers WHERE id = $1 AND deleted_at IS NULL"
    )
    .bind(customer)
    .fetch_optional(pool)
    .await)?;
    row.ok_or_else(|| Error::not_found("customer"))
}
