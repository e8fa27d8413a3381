//! A customer's webhook endpoints, as operators see them (`GET
//! /api/admin/customers/{id}/webhooks`). Customers manage theirs through the customer API,
//! answered by their worker; secrets are never shown here.

use crate::{
    auth::{AdminAuth, Role},
    error::{ok, Envelope, Path},
    on_pool, AppState, Result,
};
use axum::{extract::State, Json as AxumJson};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A customer's endpoint (without its secret).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AdminWebhook {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub events: sqlx::types::Json<Vec<String>>,
    /// `live` or `test`.
    pub mode: String,
    pub is_active: bool,
    pub disabled_reason: Option<String>,
    pub max_retries: i32,
    pub retry_backoff_ms: i32,
    pub success_count: i64,
    pub failure_count: i64,
    pub last_triggered_at: Option<DateTime<Utc>>,
    /// Deliveries waiting for an attempt.
    pub pending_deliveries: i64,
    /// Deliveries that gave up (dead letters).
    pub failed_deliveries: i64,
    pub created_at: DateTime<Utc>,
}

/// A customer's webhook endpoints, with their delivery counts.
#[utoipa::path(get, path = "/api/admin/customers/{id}/webhooks", tag = "customers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<Vec<AdminWebhook>>), (status = 403), (status = 404)))]
pub async fn admin_webhooks(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Vec<AdminWebhook>>>> {
    admin.require(Role::Viewer)?;
    crate::customers::get(&state.db, id).await?;
    let rows: Vec<AdminWebhook> = on_pool!(&state.db, |pool| {
        sqlx::query_as(
        "SELECT w.id, w.url, w.description, w.events, w.mode, w.is_active, w.disabled_reason, \
         w.max_retries, w.retry_backoff_ms, w.success_count, w.failure_count, w.last_triggered_at, \
         (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending') AS pending_deliveries, \
         (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'failed') AS failed_deliveries, \
         w.created_at FROM webhooks w WHERE w.customer_id = $1 ORDER BY w.created_at"
    )
    .bind(id)
    .fetch_all(pool)
    .await
    })?;
    Ok(ok(rows))
}
