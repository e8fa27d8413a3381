//! Customers: creation with placement and one-time credentials,
//! listing, plan and status changes, reassignment, key regeneration, soft delete and GDPR
//! erasure.

use crate::{
    audit::AuditEvent,
    auth::{AdminAuth, Role},
    bind_args, crypto,
    db::{is_unique_violation, Db, Tx},
    error::{code, created, ok, Envelope, Json, Path, Query},
    fleet::{self, Target},
    http::RequestMeta,
    keys::{self, CreatedKey, KeyMode, NewKey},
    on_pool, on_tx,
    operators::normalize_email,
    pagination::{Arg, Filters, PageParams},
    servers,
    workers::Placement,
    AppState, Error, Result,
};
use axum::{extract::State, response::IntoResponse, Json as AxumJson};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wasp_protocol::{plans::PlanLimits, Plan, Scope};

#[derive(Debug, sqlx::FromRow)]
struct CustomerRow {
    id: Uuid,
    email: String,
    full_name: Option<String>,
    company_name: Option<String>,
    phone_number: Option<String>,
    whatsapp_jid: Option<String>,
    whatsapp_status: String,
    assigned_server_id: Option<Uuid>,
    assigned_server_name: Option<String>,
    plan: String,
    status: String,
    password_must_change: bool,
    timezone: String,
    language: String,
    active_keys: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

const CUSTOMER_SELECT: &str = "SELECT c.id, c.email, c.full_name, c.company_name, c.phone_number, c.whatsapp_jid, \
    c.whatsapp_status, c.assigned_server_id, s.name AS assigned_server_name, c.plan, c.status, \
    c.password_must_change, c.timezone, c.language, \
    (SELECT COUNT(*) FROM api_keys k WHERE k.customer_id = c.id AND k.revoked_at IS NULL) AS active_keys, \
    c.created_at, c.updated_at, c.last_login_at \
    FROM customers c LEFT JOIN servers s ON s.id = c.assigned_server_id";

/// A customer as the admin API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer {
    pub id: Uuid,
    pub email: String,
    pub full_name: Option<String>,
    pub company_name: Option<String>,
    pub phone_number: Option<String>,
    pub whatsapp_jid: Option<String>,
    /// disconnected, scanning, pairing, connected, logged_out
    pub whatsapp_status: String,
    pub assigned_server_id: Option<Uuid>,
    pub assigned_server_name: Option<String>,
    /// basic, pro, business, enterprise
    pub plan: String,
    #[schema(value_type = Object)]
    pub limits: Option<PlanLimits>,
    /// active, suspended, deleted
    pub status: String,
    pub password_must_change: bool,
    pub timezone: String,
    pub language: String,
    pub active_keys: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<CustomerRow> for Customer {
    fn from(r: CustomerRow) -> Self {
        Customer {
            limits: r.plan.parse::<Plan>().ok().map(Plan::limits),
            id: r.id,
            email: r.email,
            full_name: r.full_name,
            company_name: r.company_name,
            phone_number: r.phone_number,
            whatsapp_jid: r.whatsapp_jid,
            whatsapp_status: r.whatsapp_status,
            assigned_server_id: r.assigned_server_id,
            assigned_server_name: r.assigned_server_name,
            plan: r.plan,
            status: r.status,
            password_must_change: r.password_must_change,
            timezone: r.timezone,
            language: r.language,
            active_keys: r.active_keys,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login_at: r.last_login_at,
        }
    }
}

/// Loads a customer that is not deleted.
pub async fn get(db: &Db, id: Uuid) -> Result<Customer> {
    let sql = format!("{CUSTOMER_SELECT} WHERE c.id = $1 AND c.deleted_at IS NULL");
    on_pool!(db, |pool| sqlx::query_as::<_, CustomerRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .map(Customer::from)
    .ok_or_else(|| Error::not_found("customer"))
}

pub(crate) fn check_opt(field: &str, value: &Option<String>, max: usize) -> Result<()> {
    if let Some(v) = value {
        if v.chars().count() > max || v.chars().any(char::is_control) {
            return Err(Error::validation(
                field,
                format!("must be at most {max} printable characters"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_timezone(tz: &Option<String>) -> Result<()> {
    if let Some(tz) = tz {
        let ok = !tz.is_empty()
            && tz.len() <= 50
            && tz
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if !ok {
            return Err(Error::validation(
                "timezone",
                "must be an IANA zone name such as Asia/Jakarta",
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_language(lang: &Option<String>) -> Result<()> {
    if let Some(lang) = lang {
        let ok = (2..=10).contains(&lang.len())
            && lang.chars().all(|c| c.is_ascii_alphabetic() || c == '-');
        if !ok {
            return Err(Error::validation(
                "language",
                "must be a language tag such as en or pt-BR",
            ));
        }
    }
    Ok(())
}

fn unique_email_error(e: sqlx::Error) -> Error {
    if is_unique_violation(&e) {
        Error::conflict(code::CONFLICT, "a customer with this email already exists")
    } else {
        e.into()
    }
}

/// `POST /api/admin/customers` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    #[schema(value_type = crate::operators::EmailAddress)]
    pub email: String,
    pub full_name: Option<String>,
    pub company_name: Option<String>,
    /// basic (default), pro, business, enterprise
    #[schema(value_type = Option<String>, example = "pro")]
    pub plan: Option<Plan>,
    /// `auto` (default: least-utilised healthy server with room), a server id, or `none`.
    #[schema(example = "auto")]
    pub assign_server: Option<String>,
    /// With `auto`: only servers in this region.
    pub region: Option<String>,
    pub timezone: Option<String>,
    pub language: Option<String>,
}

/// A customer just created, with its one-time credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCustomer {
    #[serde(flatten)]
    pub customer: Customer,
    /// `ak_live_…`, shown only now.
    pub api_key: String,
    /// `ak_test_…` for the sandbox, shown only now.
    pub test_api_key: String,
    pub dashboard_url: String,
    /// Temporary; must be changed at first login. Shown only now.
    pub dashboard_password: String,
}

/// What a new customer is: created by an operator ([`create_customer`]) or signing up
/// (`customer_auth::signup`).
pub struct NewCustomer<'a> {
    /// Already normalised ([`normalize_email`]).
    pub email: &'a str,
    pub full_name: Option<&'a str>,
    pub company_name: Option<&'a str>,
    pub plan: Plan,
    /// `auto`, `none` or a server id (see [`CreateCustomer::assign_server`]).
    pub assign_server: &'a str,
    pub region: Option<&'a str>,
    pub timezone: Option<&'a str>,
    pub language: Option<&'a str>,
    /// The argon2id hash of the dashboard password.
    pub password_hash: &'a str,
    /// A temporary password: changed at the first sign-in.
    pub password_must_change: bool,
    /// Whether the e-mail counts as verified (an operator vouches for it; a sign-up proves
    /// it through the mailed link).
    pub email_verified: bool,
}

/// A customer inserted by [`insert_customer`] (not yet committed).
pub struct InsertedCustomer {
    pub id: Uuid,
    pub server_id: Option<Uuid>,
    pub live: CreatedKey,
    pub test: CreatedKey,
}

/// Creates a customer in `tx`: placed on a server (in the same transaction), with its
/// default live and test keys. `CONFLICT` when the e-mail is taken. After the commit, call
/// [`hold_sessions`] so its server creates its sessions.
pub async fn insert_customer(
    state: &AppState,
    tx: &mut Tx,
    new: NewCustomer<'_>,
) -> Result<InsertedCustomer> {
    let server_id = match new.assign_server {
        "auto" => Some(fleet::pick_server(state, tx, new.region).await?),
        "none" => None,
        other => {
            let id = other.parse::<Uuid>().map_err(|_| {
                Error::validation("assign_server", "must be \"auto\", \"none\" or a server id")
            })?;
            fleet::check_server_has_room(tx, id).await?;
            Some(id)
        }
    };
    let id = Uuid::now_v7();
    let now = Utc::now();
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO customers (id, email, full_name, company_name, plan, status, assigned_server_id, password_hash, \
         password_must_change, timezone, language, created_at, updated_at, email_verified_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $11, $12)"
    )
    .bind(id)
    .bind(new.email)
    .bind(new.full_name)
    .bind(new.company_name)
    .bind(new.plan.as_str())
    .bind(server_id)
    .bind(new.password_hash)
    .bind(new.password_must_change)
    .bind(new.timezone.unwrap_or("UTC"))
    .bind(new.language.unwrap_or("en"))
    .bind(now)
    .bind(new.email_verified.then_some(now))
    .execute(&mut *conn)
    .await.map(|r| r.rows_affected()))
    .map_err(unique_email_error)?;
    if let Some(server_id) = server_id {
        servers::refresh_load(tx, server_id).await?;
    }
    let live = keys::create(
        state,
        tx,
        id,
        NewKey {
            mode: KeyMode::Live,
            name: Some("Default live key".into()),
            scopes: vec![Scope::All.to_string()],
            expires_at: None,
        },
    )
    .await?;
    let test = keys::create(
        state,
        tx,
        id,
        NewKey {
            mode: KeyMode::Test,
            name: Some("Default test key".into()),
            scopes: vec![Scope::All.to_string()],
            expires_at: None,
        },
    )
    .await?;
    Ok(InsertedCustomer {
        id,
        server_id,
        live,
        test,
    })
}

/// Asks the new customer's server, in the background, to create its sessions.
pub fn hold_sessions(state: &AppState, inserted: &InsertedCustomer) {
    if let Some(server) = inserted.server_id {
        let (state, id) = (state.clone(), inserted.id);
        tokio::spawn(async move {
            state.workers().place(server, id, Placement::Hold).await;
        });
    }
}

/// Create a customer, place it on a server and issue its keys and temporary password.
#[utoipa::path(post, path = "/api/admin/customers", tag = "customers", request_body = CreateCustomer,
    responses((status = 201, body = Envelope<CreatedCustomer>), (status = 400), (status = 403),
              (status = 409, description = "CONFLICT (email taken), NO_SERVER_AVAILABLE or SERVER_FULL")))]
pub async fn create_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Json(req): Json<CreateCustomer>,
) -> Result<impl IntoResponse> {
    admin.require(Role::Admin)?;
    let email = normalize_email(&req.email)?;
    check_opt("full_name", &req.full_name, 255)?;
    check_opt("company_name", &req.company_name, 255)?;
    check_opt("region", &req.region, 50)?;
    check_timezone(&req.timezone)?;
    check_language(&req.language)?;
    let plan = req.plan.unwrap_or(Plan::Basic);
    let password = crypto::generate_password(16);
    let hash = crypto::hash_password(&password)?;
    let placement = req.assign_server.as_deref().unwrap_or("auto");
    let mut tx = state.db.begin().await?;
    let inserted = insert_customer(
        &state,
        &mut tx,
        NewCustomer {
            email: &email,
            full_name: req.full_name.as_deref(),
            company_name: req.company_name.as_deref(),
            plan,
            assign_server: placement,
            region: req.region.as_deref(),
            timezone: req.timezone.as_deref(),
            language: req.language.as_deref(),
            password_hash: &hash,
            password_must_change: true,
            email_verified: true,
        },
    )
    .await?;
    let id = inserted.id;
    AuditEvent::admin_action(&admin, "create_customer", &meta)
        .resource("customer", id)
        .metadata(json!({ "plan": plan, "assigned_server_id": inserted.server_id, "placement": placement }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    hold_sessions(&state, &inserted);
    Ok(created(CreatedCustomer {
        customer: get(&state.db, id).await?,
        api_key: inserted.live.api_key,
        test_api_key: inserted.test.api_key,
        dashboard_url: format!("{}/", state.config.public_url.trim_end_matches('/')),
        dashboard_password: password,
    }))
}

/// Filters of `GET /api/admin/customers`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CustomerFilters {
    pub status: Option<String>,
    pub plan: Option<String>,
    pub server_id: Option<Uuid>,
    /// The live WhatsApp session's state: disconnected, scanning, pairing, connected,
    /// logged_out.
    pub whatsapp_status: Option<String>,
    /// Matches email, name or company (case-insensitive substring).
    pub q: Option<String>,
    /// Page number, from 1.
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    #[param(minimum = 1, maximum = 2147483647, format = Int32)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[serde(default, deserialize_with = "crate::pagination::per_page")]
    #[param(minimum = 1, maximum = 100, format = Int32)]
    pub per_page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    pub success: bool,
    pub data: Vec<Customer>,
    pub meta: crate::pagination::PageMeta,
}

/// List customers.
#[utoipa::path(get, path = "/api/admin/customers", tag = "customers", params(CustomerFilters),
    responses((status = 200, body = CustomerList), (status = 401)))]
pub async fn list_customers(
    State(state): State<AppState>,
    admin: AdminAuth,
    Query(f): Query<CustomerFilters>,
) -> Result<AxumJson<Envelope<Vec<Customer>>>> {
    admin.require(Role::Viewer)?;
    let mut filters = Filters::default();
    filters.push_raw("c.deleted_at IS NULL");
    if let Some(v) = &f.status {
        filters.push("c.status = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = &f.plan {
        filters.push("c.plan = {}", Arg::Text(v.clone()));
    }
    if let Some(v) = f.server_id {
        filters.push("c.assigned_server_id = {}", Arg::Uuid(v));
    }
    if let Some(v) = &f.whatsapp_status {
        filters.push("c.whatsapp_status = {}", Arg::Text(v.clone()));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        filters.push(
            "(LOWER(c.email) LIKE {0} ESCAPE '\\' OR LOWER(COALESCE(c.full_name, '')) LIKE {0} ESCAPE '\\' OR LOWER(COALESCE(c.company_name, '')) LIKE {0} ESCAPE '\\')".replace("{0}", "{}").as_str(),
            Arg::Text(format!("%{escaped}%")),
        );
    }
    let page = PageParams {
        page: f.page,
        per_page: f.per_page,
    };
    let where_sql = filters.where_sql();
    let n = filters.next_index();
    let list_sql = format!(
        "{CUSTOMER_SELECT}{where_sql} ORDER BY c.created_at DESC, c.id DESC LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let count_sql = format!("SELECT COUNT(*) FROM customers c{where_sql}");
    let (rows, total) = on_pool!(&state.db, |pool| {
        let rows = bind_args!(sqlx::query_as::<_, CustomerRow>(&list_sql), filters.args)
            .bind(i64::from(page.per_page()))
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
        let total: i64 = bind_args!(sqlx::query_scalar(&count_sql), filters.args)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    })?;
    let mut body = ok(rows.into_iter().map(Customer::from).collect::<Vec<_>>());
    body.0.meta = Some(page.meta(total));
    Ok(body)
}

/// One customer.
#[utoipa::path(get, path = "/api/admin/customers/{id}", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<Customer>), (status = 404)))]
pub async fn get_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Customer>>> {
    admin.require(Role::Viewer)?;
    Ok(ok(get(&state.db, id).await?))
}

/// `PUT /api/admin/customers/{id}` body: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomer {
    #[schema(value_type = Option<crate::operators::EmailAddress>)]
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub company_name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub plan: Option<Plan>,
    /// active or suspended
    pub status: Option<String>,
    pub timezone: Option<String>,
    pub language: Option<String>,
}

async fn apply_update(
    state: &AppState,
    admin: &AdminAuth,
    meta: &RequestMeta,
    id: Uuid,
    req: UpdateCustomer,
    action: &str,
) -> Result<Customer> {
    let email = req.email.as_deref().map(normalize_email).transpose()?;
    check_opt("full_name", &req.full_name, 255)?;
    check_opt("company_name", &req.company_name, 255)?;
    check_timezone(&req.timezone)?;
    check_language(&req.language)?;
    if let Some(status) = &req.status {
        if !matches!(status.as_str(), "active" | "suspended") {
            return Err(Error::validation(
                "status",
                "must be active or suspended (use DELETE to delete)",
            ));
        }
    }
    let before = get(&state.db, id).await?;
    let mut tx = state.db.begin().await?;
    on_tx!(&mut tx, |conn| sqlx::query(
        "UPDATE customers SET email = COALESCE($1, email), full_name = COALESCE($2, full_name), \
         company_name = COALESCE($3, company_name), plan = COALESCE($4, plan), status = COALESCE($5, status), \
         timezone = COALESCE($6, timezone), language = COALESCE($7, language), updated_at = $8 \
         WHERE id = $9 AND deleted_at IS NULL"
    )
    .bind(&email)
    .bind(&req.full_name)
    .bind(&req.company_name)
    .bind(req.plan.map(Plan::as_str))
    .bind(&req.status)
    .bind(&req.timezone)
    .bind(&req.language)
    .bind(Utc::now())
    .bind(id)
    .execute(&mut *conn)
    .await.map(|r| r.rows_affected()))
    .map_err(unique_email_error)?;
    if req.status.as_deref() == Some("suspended") {
        // A suspension ends the customer's dashboard sessions at once.
        revoke_sessions(&mut tx, id, None).await?;
    }
    AuditEvent::admin_action(admin, action, meta)
        .resource("customer", id)
        .metadata(json!({
            "plan": { "from": before.plan, "to": req.plan },
            "status": { "from": before.status, "to": req.status },
            "email_changed": email.is_some(),
        }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::Customer(id))
        .await;
    get(&state.db, id).await
}

/// Update a customer (plan, status, profile).
#[utoipa::path(put, path = "/api/admin/customers/{id}", tag = "customers", params(("id" = Uuid, Path)), request_body = UpdateCustomer,
    responses((status = 200, body = Envelope<Customer>), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn update_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateCustomer>,
) -> Result<AxumJson<Envelope<Customer>>> {
    admin.require(Role::Admin)?;
    Ok(ok(apply_update(
        &state,
        &admin,
        &meta,
        id,
        req,
        "update_customer",
    )
    .await?))
}

fn status_only(status: &str) -> UpdateCustomer {
    UpdateCustomer {
        email: None,
        full_name: None,
        company_name: None,
        plan: None,
        status: Some(status.into()),
        timezone: None,
        language: None,
    }
}

/// Suspend a customer: its keys are refused with CUSTOMER_SUSPENDED until activated.
#[utoipa::path(post, path = "/api/admin/customers/{id}/suspend", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<Customer>), (status = 403), (status = 404)))]
pub async fn suspend_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Customer>>> {
    admin.require(Role::Admin)?;
    Ok(ok(apply_update(
        &state,
        &admin,
        &meta,
        id,
        status_only("suspended"),
        "suspend_customer",
    )
    .await?))
}

/// Re-activate a suspended customer.
#[utoipa::path(post, path = "/api/admin/customers/{id}/activate", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<Customer>), (status = 403), (status = 404)))]
pub async fn activate_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Customer>>> {
    admin.require(Role::Admin)?;
    Ok(ok(apply_update(
        &state,
        &admin,
        &meta,
        id,
        status_only("active"),
        "activate_customer",
    )
    .await?))
}

/// Revokes every dashboard session (`customer_auth.rs`) of `customer` but `except` (in
/// the caller's transaction). After the commit, invalidate the customer in the gateway
/// cache so its open event streams check again.
pub async fn revoke_sessions(tx: &mut Tx, customer: Uuid, except: Option<Uuid>) -> Result<()> {
    on_tx!(tx, |conn| sqlx::query(
        "UPDATE customer_sessions SET revoked_at = $1 \
         WHERE customer_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR id <> $3)"
    )
    .bind(Utc::now())
    .bind(customer)
    .bind(except)
    .execute(&mut *conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Marks a customer deleted, revokes its keys and frees its server slot.
async fn soft_delete(tx: &mut Tx, customer: &Customer) -> Result<u64> {
    let now = Utc::now();
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE customers SET status = 'deleted', deleted_at = COALESCE(deleted_at, $1), updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(customer.id)
        .execute(&mut *conn)
        .await.map(|r| r.rows_affected())
    })?;
    let revoked = keys::revoke_all(tx, customer.id, None).await?;
    revoke_sessions(tx, customer.id, None).await?;
    // Its sessions belong to no worker any more: the worker closes them at its next lease
    // check even if the release call does not reach it, and never restores them.
    on_tx!(tx, |conn| {
        sqlx::query(
        "UPDATE wa_sessions SET server_id = NULL, epoch = epoch + 1, updated_at = $1 WHERE customer_id = $2"
    )
    .bind(now)
    .bind(customer.id)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })?;
    if let Some(server_id) = customer.assigned_server_id {
        servers::refresh_load(tx, server_id).await?;
    }
    Ok(revoked)
}

/// Closes a removed customer's sessions on its worker, in the background.
fn release_sessions(state: &AppState, customer: &Customer) {
    if let Some(server) = customer.assigned_server_id {
        let (state, id) = (state.clone(), customer.id);
        tokio::spawn(async move {
            state.workers().place(server, id, Placement::Release).await;
        });
    }
}

/// Delete a customer (soft delete: keys revoked, server slot freed, usage kept).
#[utoipa::path(delete, path = "/api/admin/customers/{id}", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200), (status = 403), (status = 404)))]
pub async fn delete_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    admin.require(Role::Admin)?;
    let customer = get(&state.db, id).await?;
    let mut tx = state.db.begin().await?;
    let revoked = soft_delete(&mut tx, &customer).await?;
    AuditEvent::admin_action(&admin, "delete_customer", &meta)
        .resource("customer", id)
        .metadata(json!({ "keys_revoked": revoked, "server_id": customer.assigned_server_id }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::Customer(id))
        .await;
    release_sessions(&state, &customer);
    Ok(ok(json!({ "id": id, "deleted": true })))
}

/// Removes a customer's personal data and credentials for good, in `tx`: its e-mail,
/// names, password, keys, webhooks, dashboard sessions and tokens, and its WhatsApp
/// sessions with everything stored under them.
async fn erase_personal_data(tx: &mut Tx, id: Uuid) -> Result<()> {
    let now = Utc::now();
    on_tx!(tx, |conn| {
        // Its sign-in failures name its e-mail (they would go within a day anyway).
        sqlx::query(
            "DELETE FROM customer_login_failures WHERE email = (SELECT LOWER(email) FROM customers WHERE id = $1)",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE customers SET email = $1, full_name = NULL, company_name = NULL, phone_number = NULL, \
             whatsapp_jid = NULL, password_hash = NULL, email_verified_at = NULL, last_login_at = NULL, \
             erased_at = $2, updated_at = $2 WHERE id = $3",
        )
        .bind(format!("erased-{id}@erased.invalid"))
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM api_keys WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM webhooks WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        // Dashboard sessions and one-time tokens.
        sqlx::query("DELETE FROM customer_sessions WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM customer_tokens WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        // Sessions, and with them (by cascade) chats, messages, receipts, groups and the
        // live session's WhatsApp keys.
        sqlx::query("DELETE FROM wa_sessions WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// GDPR erasure: removes the customer's personal data and credentials for good; keeps
/// anonymised usage rows (which hold only the customer id).
#[utoipa::path(post, path = "/api/admin/customers/{id}/erase", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200), (status = 403), (status = 404)))]
pub async fn erase_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    admin.require(Role::Admin)?;
    // Erasure also applies to customers that were already soft-deleted.
    let exists: Option<Option<DateTime<Utc>>> = on_pool!(&state.db, |pool| sqlx::query_scalar(
        "SELECT erased_at FROM customers WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    match exists {
        None | Some(Some(_)) => return Err(Error::not_found("customer")),
        Some(None) => {}
    }
    let live = get(&state.db, id).await.ok();
    // Its worker closes the sessions and deletes the media files first, so nothing writes
    // them while they are erased.
    if let Some(server) = live.as_ref().and_then(|c| c.assigned_server_id) {
        state.workers().place(server, id, Placement::Purge).await;
    }
    let mut tx = state.db.begin().await?;
    if let Some(customer) = &live {
        soft_delete(&mut tx, customer).await?;
    }
    erase_personal_data(&mut tx, id).await?;
    AuditEvent::admin_action(&admin, "erase_customer", &meta)
        .resource("customer", id)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::Customer(id))
        .await;
    Ok(ok(json!({ "id": id, "erased": true })))
}

/// `POST /api/admin/customers/{id}/reassign` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    /// The target server's id, or `auto` for the least-utilised healthy one.
    #[schema(
        pattern = "^[ \\t\\n\\r]*(auto|[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})[ \\t\\n\\r]*$"
    )]
    pub server_id: String,
}

/// Move a customer to another server.
#[utoipa::path(post, path = "/api/admin/customers/{id}/reassign", tag = "customers", params(("id" = Uuid, Path)), request_body = ReassignRequest,
    responses((status = 200, body = Envelope<Customer>), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn reassign_customer(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(req): Json<ReassignRequest>,
) -> Result<AxumJson<Envelope<Customer>>> {
    admin.require(Role::Admin)?;
    let target = match req.server_id.trim() {
        "auto" => Target::Auto,
        other => Target::Server(
            other
                .parse::<Uuid>()
                .map_err(|_| Error::validation("server_id", "must be a server id or \"auto\""))?,
        ),
    };
    let audit = AuditEvent::admin_action(&admin, "reassign_customer", &meta);
    fleet::move_customer(&state, id, target, audit).await?;
    Ok(ok(get(&state.db, id).await?))
}

/// `POST /api/admin/customers/{id}/regenerate-key` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegenerateKeyRequest {
    /// Which keys to replace: live (default) or test.
    pub mode: Option<KeyMode>,
}

/// Revoke every active key of one mode and issue a new one (shown once).
#[utoipa::path(post, path = "/api/admin/customers/{id}/regenerate-key", tag = "customers", params(("id" = Uuid, Path)), request_body = Option<RegenerateKeyRequest>,
    responses((status = 201, body = Envelope<CreatedKey>), (status = 403), (status = 404)))]
pub async fn regenerate_key(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse> {
    admin.require(Role::Admin)?;
    let req: RegenerateKeyRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RegenerateKeyRequest::default()
    } else {
        // No body, or JSON null, means the defaults.
        serde_json::from_slice::<Option<RegenerateKeyRequest>>(&body)
            .map_err(|e| Error::validation("body", e.to_string()))?
            .unwrap_or_default()
    };
    get(&state.db, id).await?;
    let mode = req.mode.unwrap_or(KeyMode::Live);
    let mut tx = state.db.begin().await?;
    let revoked = keys::revoke_all(&mut tx, id, Some(mode)).await?;
    let new_key = keys::create(
        &state,
        &mut tx,
        id,
        NewKey {
            mode,
            name: Some(format!("Regenerated {}", Utc::now().format("%Y-%m-%d"))),
            scopes: vec![Scope::All.to_string()],
            expires_at: None,
        },
    )
    .await?;
    AuditEvent::admin_action(&admin, "regenerate_api_key", &meta)
        .resource("customer", id)
        .metadata(json!({ "mode": mode, "revoked": revoked, "new_key_id": new_key.key.id }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::Customer(id))
        .await;
    Ok(created::<CreatedKey>(new_key))
}
