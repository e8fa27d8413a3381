//! Capacity: which server can take a customer (placement's choice, and the check of an
//! operator's choice).

use crate::{db::Tx, on_tx, AppState, Error, Result};
use chrono::Utc;
use uuid::Uuid;

/// Picks the healthy, active server with the lowest utilisation that still has room
/// (in `region` when given); a degraded one (busy CPU) only when no healthy one has room,
/// an unhealthy or silent one never. On PostgreSQL the chosen row stays locked until the caller's
/// transaction ends, so concurrent placements cannot overfill it.
pub async fn pick_server(state: &AppState, tx: &mut Tx, region: Option<&str>) -> Result<Uuid> {
    let fresh_since = Utc::now() - chrono::Duration::seconds(state.config.heartbeat_degraded_secs);
    let lock = if matches!(tx, Tx::Postgres(_)) {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT id FROM servers WHERE deleted_at IS NULL AND status = 'active' \
         AND health_status IN ('healthy', 'degraded') \
         AND last_heartbeat >= $1 AND current_load < max_capacity AND ($2 IS NULL OR region = $2) \
         ORDER BY CASE WHEN health_status = 'healthy' THEN 0 ELSE 1 END, \
         (current_load * 1.0) / max_capacity, current_load, name LIMIT 1{lock}"
    );
    let picked = on_tx!(tx, |conn| sqlx::query_scalar::<_, Uuid>(&sql)
        .bind(fresh_since)
        .bind(region)
        .fetch_optional(&mut *conn)
        .await)?;
    picked.ok_or_else(|| {
        Error::client(
            axum::http::StatusCode::CONFLICT,
            crate::error::code::NO_SERVER_AVAILABLE,
            match region {
                Some(r) => format!("no healthy active server with free capacity in region `{r}`"),
                None => {
                    "no healthy active server with free capacity; add a server or raise a capacity"
                        .to_owned()
                }
            },
        )
    })
}

/// Checks that a specific server can take one more customer, locking it on PostgreSQL.
pub async fn check_server_has_room(tx: &mut Tx, server_id: Uuid) -> Result<()> {
    let lock = if matches!(tx, Tx::Postgres(_)) {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT status, current_load, max_capacity FROM servers WHERE id = $1 AND deleted_at IS NULL{lock}"
    );
    let row: Option<(String, i32, i32)> = on_tx!(tx, |conn| sqlx::query_as(&sql)
        .bind(server_id)
        .fetch_optional(&mut *conn)
        .await)?;
    let Some((status, load, capacity)) = row else {
        return Err(Error::validation("server_id", "no such server"));
    };
    if !matches!(status.as_str(), "active" | "initializing") {
        return Err(Error::conflict(
            crate::error::code::SERVER_FULL,
            format!("server is {status} and takes no new customers"),
        ));
    }
    if load >= capacity {
        return Err(Error::conflict(
            crate::error::code::SERVER_FULL,
            format!("server is full ({load}/{capacity} customers)"),
        ));
    }
    Ok(())
}
