//! Usage per customer per day: `GET /api/v1/usage` for the customer,
//! `GET /api/admin/customers/{id}/usage` for operators. Counts gathered in memory are
//! written first, so an answer includes every request answered before it.

use crate::{
    auth::{AdminAuth, Role},
    error::{ok, Envelope, Path, Query},
    keys::CustomerAuth,
    on_pool, AppState, Error, Result,
};
use axum::{extract::State, Json as AxumJson};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Longest period one answer covers.
const MAX_DAYS: i64 = 366;

/// The period asked for (UTC days, both included; default the last 30 days).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// Last day, `YYYY-MM-DD` (default today).
    pub to: Option<NaiveDate>,
}

/// The counts of one day, or of a period.
#[derive(Debug, Default, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DayUsage {
    /// The day (absent in totals).
    #[sqlx(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    pub api_requests: i64,
    pub messages_sent: i64,
    pub messages_received: i64,
    pub images_sent: i64,
    pub videos_sent: i64,
    pub files_sent: i64,
    /// Bytes received from the customer (request bodies).
    pub bandwidth_in_bytes: i64,
    /// Bytes sent to the customer (response bodies).
    pub bandwidth_out_bytes: i64,
}

/// A customer's usage over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageReport {
    pub customer_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days with any use, oldest first.
    pub days: Vec<DayUsage>,
    pub totals: DayUsage,
}

/// Refuses a period that ends before it starts or covers more than [`MAX_DAYS`] days.
pub(crate) fn check_period(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if from > to {
        return Err(Error::validation("from", "must not be after `to`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(Error::validation(
            "from",
            format!("a period covers at most {MAX_DAYS} days"),
        ));
    }
    Ok(())
}

async fn report(state: &AppState, customer: Uuid, q: UsageQuery) -> Result<UsageReport> {
    let to = q.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = q.from.unwrap_or(to - Duration::days(29));
    check_period(from, to)?;
    crate::state::flush(state).await;
    let days: Vec<DayUsage> = on_pool!(&state.db, |pool| {
        sqlx::query_as(
        "SELECT date, CAST(api_requests AS BIGINT) AS api_requests, \
         CAST(messages_sent AS BIGINT) AS messages_sent, CAST(messages_received AS BIGINT) AS messages_received, \
         CAST(images_sent AS BIGINT) AS images_sent, CAST(videos_sent AS BIGINT) AS videos_sent, \
         CAST(files_sent AS BIGINT) AS files_sent, bandwidth_in_bytes, bandwidth_out_bytes FROM customer_usage \
         WHERE customer_id = $1 AND date >= $2 AND date <= $3 ORDER BY date"
    )
    .bind(customer)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    })?;
    let mut totals = DayUsage::default();
    for d in &days {
        totals.api_requests += d.api_requests;
        totals.messages_sent += d.messages_sent;
        totals.messages_received += d.messages_received;
        totals.images_sent += d.images_sent;
        totals.videos_sent += d.videos_sent;
        totals.files_sent += d.files_sent;
        totals.bandwidth_in_bytes += d.bandwidth_in_bytes;
        totals.bandwidth_out_bytes += d.bandwidth_out_bytes;
    }
    Ok(UsageReport {
        customer_id: customer,
        from,
        to,
        days,
        totals,
    })
}

/// Your usage per day: API requests, messages sent and received, media sent, bandwidth.
#[utoipa::path(get, path = "/api/v1/usage", tag = "customer-usage", params(UsageQuery),
    responses((status = 200, body = Envelope<UsageReport>), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = [])))]
pub async fn customer_usage(
    State(state): State<AppState>,
    auth: CustomerAuth,
    Query(q): Query<UsageQuery>,
) -> Result<AxumJson<Envelope<UsageReport>>> {
    auth.require_scope(wasp_protocol::Scope::UsageRead)?;
    Ok(ok(report(&state, auth.customer_id, q).await?))
}

/// A customer's usage per day.
#[utoipa::path(get, path = "/api/admin/customers/{id}/usage", tag = "customers",
    params(("id" = Uuid, Path), UsageQuery),
    responses((status = 200, body = Envelope<UsageReport>), (status = 400), (status = 403), (status = 404)))]
pub async fn admin_usage(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<Uuid>,
    Query(q): Query<UsageQuery>,
) -> Result<AxumJson<Envelope<UsageReport>>> {
    admin.require(Role::Viewer)?;
    crate::customers::get(&state.db, id).await?;
    Ok(ok(report(&state, id, q).await?))
}
