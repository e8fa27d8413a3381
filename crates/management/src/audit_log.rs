//! Reading the audit log: `GET /api/admin/logs` and the filtered, paged query behind it
//! (writing rows is `audit.rs`).

use crate::{
    auth::{AdminAuth, Role},
    bind_args,
    db::{Db, Inet},
    error::{ok, Envelope, Query},
    on_pool,
    pagination::{Arg, Filters, PageParams},
    AppState, Result,
};
use axum::{extract::State, Json as AxumJson};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An audit row as listed.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditLog {
    pub id: i64,
    pub timestamp: DateTime<Utc>,
    pub event_type: String,
    pub severity: String,
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub ip_address: Option<Inet>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<sqlx::types::Json<Value>>,
    pub status: Option<String>,
    pub error_message: Option<String>,
    pub duration_ms: Option<i32>,
}

/// Filters of `GET /api/admin/logs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogFilters {
    /// admin_action, api_call, auth_event, security_event, system_event
    pub event_type: Option<String>,
    pub severity: Option<String>,
    /// admin, customer, server, system, anonymous
    pub actor_type: Option<String>,
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// success or failure
    pub status: Option<String>,
    pub request_id: Option<String>,
    /// Rows about one customer: its own calls and sign-ins (the customer as actor) and what
    /// operators and the system did to it (the customer as resource).
    pub customer_id: Option<Uuid>,
    /// Only rows at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only rows before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page number, from 1.
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    #[param(minimum = 1, maximum = 2147483647, format = Int32)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[serde(default, deserialize_with = "crate::pagination::per_page")]
    #[param(minimum = 1, maximum = 100, format = Int32)]
    pub per_page: Option<u32>,
}

/// The condition of the event and resource indexes (migration 0009): API call rows, nearly
/// all of the table, are found by time and by customer and stay out of the other two.
const NOT_AN_API_CALL: &str = "event_type <> 'api_call'";

/// Whether the filters rule out API call rows: another event type, or a resource other than
/// an API key (an `api_call` row's resource is always the key it was made with).
fn excludes_api_calls(f: &LogFilters) -> bool {
    match (&f.event_type, &f.resource_type) {
        (Some(event), _) => event != "api_call",
        (None, Some(resource)) => resource != "api_key",
        (None, None) => false,
    }
}

/// Lists audit rows, newest first.
pub async fn list(db: &Db, f: &LogFilters) -> Result<(Vec<AuditLog>, i64)> {
    let (filters, list_sql, count_sql) = list_queries(f);
    let page = PageParams {
        page: f.page,
        per_page: f.per_page,
    };
    on_pool!(db, |pool| {
        let rows = bind_args!(sqlx::query_as::<_, AuditLog>(&list_sql), filters.args)
            .bind(i64::from(page.per_page()))
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
        let total: i64 = bind_args!(sqlx::query_scalar(&count_sql), filters.args)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

/// The filters' values, the page's query (its last two parameters: LIMIT and OFFSET) and
/// the count's.
fn list_queries(f: &LogFilters) -> (Filters, String, String) {
    let mut filters = Filters::default();
    let text = |v: &Option<String>| v.clone().map(Arg::Text);
    for (column, value) in [
        ("event_type", text(&f.event_type)),
        ("severity", text(&f.severity)),
        ("actor_type", text(&f.actor_type)),
        ("action", text(&f.action)),
        ("resource_type", text(&f.resource_type)),
        ("resource_id", text(&f.resource_id)),
        ("status", text(&f.status)),
        ("request_id", text(&f.request_id)),
        ("actor_id", f.actor_id.map(Arg::Uuid)),
    ] {
        if let Some(value) = value {
            filters.push(&format!("{column} = {{}}"), value);
        }
    }
    if let Some(customer) = f.customer_id {
        // Either index serves its half (an API call row's resource is its key, never the
        // customer, so the resource half leaves them out as the partial index does).
        filters.push_many(
            &format!(
                "((actor_type = 'customer' AND actor_id = {{0}}) OR \
                 (resource_type = 'customer' AND resource_id = {{1}} AND {NOT_AN_API_CALL}))"
            ),
            vec![Arg::Uuid(customer), Arg::Text(customer.to_string())],
        );
    }
    if excludes_api_calls(f) {
        // Said outright so SQLite uses the event and resource indexes, which leave API call
        // rows out (it only uses a partial index when the query contains its condition).
        filters.push_raw(NOT_AN_API_CALL);
    }
    if let Some(from) = f.from {
        filters.push("timestamp >= {}", Arg::Time(from));
    }
    if let Some(to) = f.to {
        filters.push("timestamp < {}", Arg::Time(to));
    }
    let where_sql = filters.where_sql();
    let n = filters.next_index();
    let list_sql = format!(
        "SELECT * FROM audit_logs{where_sql} ORDER BY timestamp DESC, id DESC LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let count_sql = format!("SELECT COUNT(*) FROM audit_logs{where_sql}");
    (filters, list_sql, count_sql)
}

#[derive(Serialize, ToSchema)]
#[schema(as = AuditLogList)]
pub struct AuditLogListDoc {
    pub success: bool,
    pub data: Vec<AuditLog>,
    pub meta: crate::pagination::PageMeta,
}

/// List audit log rows, newest first, with filters.
#[utoipa::path(get, path = "/api/admin/logs", tag = "audit", params(LogFilters),
    responses((status = 200, body = AuditLogListDoc), (status = 401), (status = 403)))]
pub async fn list_logs(
    State(state): State<AppState>,
    admin: AdminAuth,
    Query(filters): Query<LogFilters>,
) -> Result<AxumJson<Envelope<Vec<AuditLog>>>> {
    admin.require(Role::Viewer)?;
    // Rows batched in this process are written first, so the list is up to date.
    if let Err(e) = state.audit.flush(&state.db).await {
        tracing::warn!(error = %e, "audit flush before listing failed");
    }
    let (rows, total) = list(&state.db, &filters).await?;
    let page = PageParams {
        page: filters.page,
        per_page: filters.per_page,
    };
    let mut body = ok(rows);
    body.0.meta = Some(page.meta(total));
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        audit::{ApiCall, AuditEvent, AuditWriter},
        http::RequestMeta,
    };
    use axum::http::Method;

    fn meta() -> RequestMeta {
        RequestMeta::system()
    }

    fn filters(event: Option<&str>, resource: Option<(&str, Option<String>)>) -> LogFilters {
        LogFilters {
            event_type: event.map(str::to_owned),
            resource_type: resource.as_ref().map(|(kind, _)| (*kind).to_owned()),
            resource_id: resource.and_then(|(_, id)| id),
            ..LogFilters::default()
        }
    }

    /// The audit viewer's filters find the same rows whether API call rows are in the event
    /// and resource indexes or not, and each query is answered from an index, not by reading
    /// the whole table.
    #[tokio::test]
    async fn the_viewers_filters_find_every_row_through_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("audit.db").display());
        let db = Db::connect(&url, 2).await.unwrap();
        db.migrate().await.unwrap();
        let writer = AuditWriter::default();
        let (customer, key, other_key) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for (k, status) in [(key, 200), (key, 429), (other_key, 200)] {
            writer.record_call(ApiCall::new(
                customer,
                Some(k),
                writer.endpoint(&Method::GET, "/api/v1/app/status"),
                status,
                &meta(),
            ));
        }
        writer.record(
            AuditEvent::customer_action(customer, "create_api_key", &meta())
                .resource("api_key", key),
        );
        writer.record(AuditEvent::system("suspend").resource("customer", customer));
        writer.record(AuditEvent::security_event(
            "customer",
            Some(customer),
            "ban",
            &meta(),
        ));
        assert_eq!(writer.flush(&db).await.unwrap(), 6);

        let key_rows = Some(("api_key", Some(key.to_string())));
        let customer_rows = Some(("customer", Some(customer.to_string())));
        let (time, event, resource) = (
            &["idx_audit_timestamp"][..],
            &["idx_audit_event"][..],
            &["idx_audit_resource"][..],
        );
        for (f, expected, indexes) in [
            (filters(None, None), 6, time),
            (filters(Some("api_call"), None), 4, time),
            (filters(Some("security_event"), None), 1, event),
            (
                filters(Some("system_event"), customer_rows.clone()),
                1,
                &["idx_audit_event", "idx_audit_resource"][..],
            ),
            (filters(None, customer_rows), 1, resource),
            // A key's rows: the calls made with it and what was done to it (read in time
            // order, as the calls are most of the table).
            (filters(None, key_rows), 3, time),
        ] {
            let (rows, total) = list(&db, &f).await.unwrap();
            assert_eq!((rows.len(), total), (expected, expected as i64), "{f:?}");
            let (args, list_sql, _) = list_queries(&f);
            let Db::Sqlite { read, .. } = &db else {
                unreachable!()
            };
            let explain = format!("EXPLAIN QUERY PLAN {list_sql}");
            let plan: Vec<String> = bind_args!(sqlx::query(&explain), args.args)
                .bind(50i64)
                .bind(0i64)
                .fetch_all(read)
                .await
                .unwrap()
                .iter()
                .map(|row| sqlx::Row::get::<String, _>(row, 3))
                .collect();
            assert!(
                plan.iter()
                    .any(|step| indexes.iter().any(|index| step.contains(index))),
                "{f:?} should use one of {indexes:?}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{f:?} reads its rows in order, without sorting them: {plan:?}"
            );
        }
    }
}
