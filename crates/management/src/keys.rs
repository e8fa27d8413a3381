//! Customer API keys (docs/ARCHITECTURE.md, "Security decisions"): `ak_live_`/`ak_test_` keys stored only as
//! HMAC-SHA-256 under the server pepper, several per customer with a name, scopes and an
//! optional expiry; revocable; with `last_used_at`/IP. The admin manages them under
//! `/api/admin/customers/{id}/keys`, a customer under `/api/v1/keys` with any of its keys.

use crate::cache::{CachedKey, KeyDigest, Lookup};
use crate::{
    audit::AuditEvent,
    auth::{AdminAuth, Role},
    db::{Db, Inet, Tx},
    error::{code, created, ok, Envelope, Json, Path},
    http::RequestMeta,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    Json as AxumJson,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::{
    net::IpAddr,
    sync::{Arc, OnceLock},
};
use utoipa::ToSchema;
use uuid::Uuid;
use wasp_protocol::{keys::keyed_digest_bytes, KeyKind, Plan, Scope, SecretKey};

/// Key modes a customer can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    /// `ak_live_`: reaches the customer's real WhatsApp session.
    Live,
    /// `ak_test_`: reaches the customer's sandbox session.
    Test,
}

impl KeyMode {
    pub fn kind(self) -> KeyKind {
        match self {
            KeyMode::Live => KeyKind::Live,
            KeyMode::Test => KeyKind::Test,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct KeyRow {
    id: Uuid,
    customer_id: Uuid,
    prefix: String,
    key_hint: String,
    name: Option<String>,
    permissions: sqlx::types::Json<Vec<String>>,
    last_used_at: Option<DateTime<Utc>>,
    last_used_ip: Option<Inet>,
    request_count: i64,
    is_active: bool,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

const KEY_COLUMNS: &str =
    "id, customer_id, prefix, key_hint, name, permissions, last_used_at, last_used_ip, \
    request_count, is_active, created_at, revoked_at, expires_at";

/// An API key as listed: never the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: Option<String>,
    /// live or test
    pub mode: String,
    /// `ak_live_` or `ak_test_`
    pub prefix: String,
    /// Recognisable tail, e.g. `ak_live_…x7Qp`.
    pub key_hint: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>)]
    pub last_used_ip: Option<IpAddr>,
    pub request_count: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// active, revoked or expired
    pub state: String,
}

impl From<KeyRow> for ApiKey {
    fn from(r: KeyRow) -> Self {
        let state = if r.revoked_at.is_some() || !r.is_active {
            "revoked"
        } else if r.expires_at.is_some_and(|e| e <= Utc::now()) {
            "expired"
        } else {
            "active"
        };
        ApiKey {
            id: r.id,
            customer_id: r.customer_id,
            name: r.name,
            mode: if r.prefix == KeyKind::Test.prefix() {
                "test"
            } else {
                "live"
            }
            .to_owned(),
            prefix: r.prefix,
            key_hint: r.key_hint,
            scopes: r.permissions.0,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip.map(|i| i.0),
            request_count: r.request_count,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            state: state.to_owned(),
        }
    }
}

/// A key just created, with the secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The full key. Store it now: it is never shown again.
    pub api_key: String,
}

/// What a new key should be.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub mode: KeyMode,
    pub name: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn validate_new_key(
    name: &Option<String>,
    scopes: &[String],
    expires_at: Option<DateTime<Utc>>,
) -> Result<()> {
    if let Some(name) = name {
        if name.trim().is_empty()
            || name.chars().count() > 100
            || name.chars().any(char::is_control)
        {
            return Err(Error::validation(
                "name",
                "must be 1–100 printable characters",
            ));
        }
    }
    if scopes.is_empty() {
        return Err(Error::validation(
            "scopes",
            "must name at least one scope (or \"*\")",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| Scope::parse(s).is_none()) {
        let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        return Err(Error::validation(
            "scopes",
            format!("unknown scope `{bad}`; known: {}", known.join(", ")),
        ));
    }
    if expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(Error::validation("expires_at", "must be in the future"));
    }
    Ok(())
}

/// Creates a key for a customer inside the caller's transaction.
pub async fn create(
    state: &AppState,
    tx: &mut Tx,
    customer_id: Uuid,
    new: NewKey,
) -> Result<CreatedKey> {
    validate_new_key(&new.name, &new.scopes, new.expires_at)?;
    let secret = SecretKey::generate(new.mode.kind());
    let sql = format!(
        "INSERT INTO api_keys (id, customer_id, key_hash, prefix, key_hint, name, permissions, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {KEY_COLUMNS}"
    );
    let row = on_tx!(tx, |conn| sqlx::query_as::<_, KeyRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(customer_id)
        .bind(secret.digest(&state.secrets.key_pepper))
        .bind(secret.kind().prefix())
        .bind(secret.hint())
        .bind(new.name.as_deref().map(str::trim))
        .bind(sqlx::types::Json(&new.scopes))
        .bind(Utc::now())
        .bind(new.expires_at)
        .fetch_one(&mut *conn)
        .await)?;
    Ok(CreatedKey {
        key: row.into(),
        api_key: secret.expose().to_owned(),
    })
}

/// Every key of a customer, newest first (revoked ones included, marked).
/// A customer's keys, newest first; only those of one kind when `only` is given.
pub async fn list(db: &Db, customer_id: Uuid, only: Option<KeyKind>) -> Result<Vec<ApiKey>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE customer_id = $1 AND ($2 IS NULL OR prefix = $2) ORDER BY created_at DESC, id DESC");
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, KeyRow>(&sql)
        .bind(customer_id)
        .bind(only.map(KeyKind::prefix))
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

/// Revokes one key of a customer (only of one kind when `only` is given); another
/// customer's key id, or one of another kind, is a 404.
pub async fn revoke(
    tx: &mut Tx,
    customer_id: Uuid,
    key_id: Uuid,
    only: Option<KeyKind>,
) -> Result<()> {
    let revoked = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1), is_active = FALSE \
         WHERE id = $2 AND customer_id = $3 AND ($4 IS NULL OR prefix = $4)",
        )
        .bind(Utc::now())
        .bind(key_id)
        .bind(customer_id)
        .bind(only.map(KeyKind::prefix))
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    if revoked == 0 {
        return Err(Error::not_found("API key"));
    }
    Ok(())
}

/// Revokes every active key of a customer (of one mode, when given); returns how many.
pub async fn revoke_all(tx: &mut Tx, customer_id: Uuid, mode: Option<KeyMode>) -> Result<u64> {
    let prefix = mode.map(|m| m.kind().prefix());
    Ok(on_tx!(tx, |conn| sqlx::query(
        "UPDATE api_keys SET revoked_at = $1, is_active = FALSE \
         WHERE customer_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR prefix = $3)"
    )
    .bind(Utc::now())
    .bind(customer_id)
    .bind(prefix)
    .execute(&mut *conn)
    .await
    .map(|r| r.rows_affected()))?)
}

/// `POST …/keys` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// A label such as "Production" or "CI".
    pub name: Option<String>,
    /// `live` or `test`. Defaults to `live` for an operator, and to the calling key's own
    /// mode on `/api/v1/keys`, where a test key may create only test keys.
    pub mode: Option<KeyMode>,
    /// Defaults to `["*"]`.
    pub scopes: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl CreateKeyRequest {
    fn into_new(self, default_mode: KeyMode) -> NewKey {
        NewKey {
            mode: self.mode.unwrap_or(default_mode),
            name: self.name,
            scopes: self.scopes.unwrap_or_else(|| vec![Scope::All.to_string()]),
            expires_at: self.expires_at,
        }
    }
}

async fn ensure_customer(db: &Db, id: Uuid) -> Result<()> {
    let found: Option<Uuid> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM customers WHERE id = $1 AND deleted_at IS NULL"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    found
        .map(|_| ())
        .ok_or_else(|| Error::not_found("customer"))
}

/// A customer's keys (admin).
#[utoipa::path(get, path = "/api/admin/customers/{id}/keys", tag = "keys", params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<Vec<ApiKey>>), (status = 404)))]
pub async fn admin_list_keys(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Vec<ApiKey>>>> {
    admin.require(Role::Viewer)?;
    ensure_customer(&state.db, id).await?;
    flush_uses(&state).await;
    Ok(ok(list(&state.db, id, None).await?))
}

/// Create a key for a customer (admin); the key is shown once.
#[utoipa::path(post, path = "/api/admin/customers/{id}/keys", tag = "keys", params(("id" = Uuid, Path)), request_body = CreateKeyRequest,
    responses((status = 201, body = Envelope<CreatedKey>), (status = 400), (status = 403), (status = 404)))]
pub async fn admin_create_key(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(req): Json<CreateKeyRequest>,
) -> Result<impl IntoResponse> {
    admin.require(Role::Admin)?;
    ensure_customer(&state.db, id).await?;
    let mut tx = state.db.begin().await?;
    let created_key = create(&state, &mut tx, id, req.into_new(KeyMode::Live)).await?;
    AuditEvent::admin_action(&admin, "create_api_key", &meta)
        .resource("api_key", created_key.key.id)
        .metadata(serde_json::json!({ "customer_id": id, "mode": created_key.key.mode, "scopes": created_key.key.scopes }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(created(created_key))
}

/// Revoke a customer's key (admin); it stops working at once.
#[utoipa::path(delete, path = "/api/admin/customers/{id}/keys/{key_id}", tag = "keys",
    params(("id" = Uuid, Path), ("key_id" = Uuid, Path)), responses((status = 200), (status = 403), (status = 404)))]
pub async fn admin_revoke_key(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path((id, key_id)): Path<(Uuid, Uuid)>,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    admin.require(Role::Admin)?;
    let mut tx = state.db.begin().await?;
    revoke(&mut tx, id, key_id, None).await?;
    AuditEvent::admin_action(&admin, "revoke_api_key", &meta)
        .resource("api_key", key_id)
        .metadata(serde_json::json!({ "customer_id": id }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::Customer(id))
        .await;
    Ok(ok(serde_json::json!({ "id": key_id, "revoked": true })))
}

// ---------------------------------------------------------------------------------------
// Customer side: authentication by API key, and /api/v1/keys.
// ---------------------------------------------------------------------------------------

/// A request to the customer API authenticated by a customer's API key, or by the
/// dashboard's signed-in session (`customer_auth.rs`: the session cookie and
/// `X-Wasp-Mode`), which acts as a key of that mode with every scope.
#[derive(Debug, Clone)]
pub struct CustomerAuth {
    pub customer_id: Uuid,
    /// The key used; `None` for the dashboard's session.
    pub key_id: Option<Uuid>,
    /// The dashboard session used; `None` for a key.
    pub session_id: Option<Uuid>,
    /// Whether the customer's e-mail is verified (always true for a key: an unverified
    /// customer's live calls are refused, see `customer_auth::gateway_auth`).
    pub email_verified: bool,
    pub mode: KeyKind,
    pub scopes: Arc<[String]>,
    /// The customer's plan, for its limits.
    pub plan: Plan,
    /// When the key stops working, if it expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl CustomerAuth {
    /// The keys this key may see and manage on `/api/v1/keys`: a test key only test keys
    /// (a leaked CI key must not become production access), a live key those of both modes,
    /// and so does the dashboard's session in either mode (its customer signed in with a
    /// password).
    pub fn manages(&self) -> Option<KeyKind> {
        (self.mode == KeyKind::Test && self.session_id.is_none()).then_some(KeyKind::Test)
    }

    /// Who made a change, for its audit row: the key, or the dashboard's session.
    pub fn audit_origin(&self) -> serde_json::Value {
        match self.session_id {
            Some(session) => serde_json::json!({ "via": "dashboard", "session_id": session }),
            None => serde_json::json!({ "by_key": self.key_id }),
        }
    }

    /// The mode of a key this key creates when the request names none: its own.
    fn own_mode(&self) -> KeyMode {
        if self.mode == KeyKind::Test {
            KeyMode::Test
        } else {
            KeyMode::Live
        }
    }

    /// Refuses with 403 unless the key carries `scope` (or `*`).
    pub fn require_scope(&self, scope: Scope) -> Result<()> {
        if scope.granted_by(&self.scopes) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "this API key lacks the `{scope}` scope"
            )))
        }
    }
}

/// Filled by [`CustomerAuth`]'s extractor when a request to the customer API is
/// authenticated, so `gateway::metered` can meter and audit it afterwards.
#[derive(Clone, Default)]
pub struct AuthSlot(Arc<OnceLock<CustomerAuth>>);

impl AuthSlot {
    pub fn fill(&self, auth: &CustomerAuth) {
        let _ = self.0.set(auth.clone());
    }

    /// The authenticated caller, once the extractor has run.
    pub fn get(&self) -> Option<&CustomerAuth> {
        self.0.get()
    }
}

/// The refusal of a live call by a customer whose e-mail is not verified yet.
pub(crate) fn email_not_verified() -> Error {
    Error::client(
        StatusCode::FORBIDDEN,
        code::EMAIL_NOT_VERIFIED,
        "verify your e-mail address (the link we mailed you) before using your live session",
    )
}

pub(crate) fn invalid_key() -> Error {
    Error::unauthorized(code::INVALID_API_KEY, "Invalid or expired API key")
}

/// The key presented in `X-API-Key` or `Authorization: Bearer ak_…`.
pub fn presented_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get("x-api-key") {
        return v.to_str().ok().map(str::trim);
    }
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| t.starts_with("ak_"))
}

#[derive(sqlx::FromRow)]
struct AuthRow {
    key_id: Uuid,
    customer_id: Uuid,
    permissions: sqlx::types::Json<Vec<String>>,
    is_active: bool,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    customer_status: String,
    deleted_at: Option<DateTime<Utc>>,
    plan: String,
}

/// Why a presented key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// No key in the request.
    Missing,
    /// Not a customer key, or its checksum is wrong: refused before any lookup.
    Malformed,
    Unknown,
    Revoked,
    Expired,
    Suspended,
}

impl KeyRefusal {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            KeyRefusal::Missing => "no key",
            KeyRefusal::Malformed => "malformed key",
            KeyRefusal::Unknown => "unknown key",
            KeyRefusal::Revoked => "revoked key",
            KeyRefusal::Expired => "expired key",
            KeyRefusal::Suspended => "customer suspended",
        }
    }
}

/// Writes the key uses gathered in memory, so a listing shows the latest.
async fn flush_uses(state: &AppState) {
    if let Err(e) = state.cache.flush_key_uses(&state.db).await {
        tracing::warn!(error = %e, "key usage flush failed");
    }
}

/// Checks a presented key: its HMAC digest looked up in the in-process cache; on a miss,
/// format and checksum, then the database (filling the cache). The gateway's hot path; see `bench/gateway`.
pub async fn check_key(
    state: &AppState,
    presented: &str,
) -> std::result::Result<(KeyKind, CachedKey), KeyCheck> {
    let kind = [KeyKind::Live, KeyKind::Test]
        .into_iter()
        .find(|kind| presented.starts_with(kind.prefix()))
        .ok_or(KeyCheck::Refused(KeyRefusal::Malformed))?;
    // The digest first: a key found in the cache is byte for byte one that was parsed and
    // checked before, so only a miss pays for the format and checksum check.
    let digest = keyed_digest_bytes(&state.secrets.key_pepper, presented.as_bytes());
    let cached = match state.cache.key(&digest) {
        Lookup::Fresh(cached) => cached,
        Lookup::Missing => read_key(state, presented, kind, digest).await?,
        // Past its TTL: this request reads it again while the others keep the old entry.
        Lookup::Refresh(old, _claim) => match read_key(state, presented, kind, digest).await {
            Ok(cached) => cached,
            // The database could not be asked: the entry, valid a moment ago, serves until
            // the grace runs out (a change made through wasp drops it at once anyway).
            Err(KeyCheck::Failed(e)) if state.cache.key_still_servable(&digest, &old) => {
                tracing::warn!(error = %e, "key re-read failed; the cached entry serves meanwhile");
                old
            }
            Err(failed @ KeyCheck::Failed(_)) => return Err(failed),
            Err(refused) => {
                state.cache.forget_key(&digest);
                return Err(refused);
            }
        },
    };
    if cached.expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(KeyCheck::Refused(KeyRefusal::Expired));
    }
    if cached.suspended {
        return Err(KeyCheck::Refused(KeyRefusal::Suspended));
    }
    Ok((kind, cached))
}

/// The slow path of [`check_key`]: format and checksum, then the database; a valid key is
/// cached (unless something was invalidated while it was read).
async fn read_key(
    state: &AppState,
    presented: &str,
    kind: KeyKind,
    digest: KeyDigest,
) -> std::result::Result<CachedKey, KeyCheck> {
    if !SecretKey::parse(presented).is_ok_and(|k| k.kind() == kind) {
        return Err(KeyCheck::Refused(KeyRefusal::Malformed));
    }
    let generation = state.cache.generation();
    let sql = "SELECT k.id AS key_id, k.customer_id, k.permissions, k.is_active, k.revoked_at, k.expires_at, \
               c.status AS customer_status, c.deleted_at, c.plan \
               FROM api_keys k JOIN customers c ON c.id = k.customer_id WHERE k.key_hash = $1";
    let row = on_pool!(&state.db, |pool| sqlx::query_as::<_, AuthRow>(sql)
        .bind(hex::encode(digest))
        .fetch_optional(pool)
        .await)
    .map_err(|e| KeyCheck::Failed(e.into()))?;
    let Some(row) = row else {
        return Err(KeyCheck::Refused(KeyRefusal::Unknown));
    };
    if !row.is_active || row.revoked_at.is_some() || row.deleted_at.is_some() {
        return Err(KeyCheck::Refused(KeyRefusal::Revoked));
    }
    let cached = CachedKey::new(
        row.key_id,
        row.customer_id,
        Arc::from(row.permissions.0),
        row.expires_at,
        row.customer_status == "suspended",
        row.plan.parse().unwrap_or(Plan::Basic),
    );
    state.cache.put_key(generation, digest, cached.clone());
    Ok(cached)
}

/// A key check that did not give a customer.
#[derive(Debug)]
pub enum KeyCheck {
    Refused(KeyRefusal),
    /// The database could not be asked.
    Failed(Error),
}

/// Your API keys (a test key sees only test keys).
#[utoipa::path(get, path = "/api/v1/keys", tag = "customer-keys",
    responses((status = 200, body = Envelope<Vec<ApiKey>>), (status = 401, description = "INVALID_API_KEY")),
    security(("api_key" = [])))]
pub async fn customer_list_keys(
    State(state): State<AppState>,
    auth: CustomerAuth,
) -> Result<AxumJson<Envelope<Vec<ApiKey>>>> {
    flush_uses(&state).await;
    Ok(ok(list(&state.db, auth.customer_id, auth.manages()).await?))
}

/// Create an API key; shown once. A key can only grant scopes it has itself, and a test key
/// can only create test keys.
#[utoipa::path(post, path = "/api/v1/keys", tag = "customer-keys", request_body = CreateKeyRequest,
    responses((status = 201, body = Envelope<CreatedKey>), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = [])))]
pub async fn customer_create_key(
    State(state): State<AppState>,
    auth: CustomerAuth,
    meta: RequestMeta,
    Json(req): Json<CreateKeyRequest>,
) -> Result<impl IntoResponse> {
    auth.require_scope(Scope::KeysManage)?;
    let new = req.into_new(auth.own_mode());
    if auth.manages().is_some_and(|only| new.mode.kind() != only) {
        return Err(Error::forbidden(
            "a test key can only create test keys; create live keys with a live key",
        ));
    }
    if new.mode == KeyMode::Live && !auth.email_verified {
        return Err(email_not_verified());
    }
    if !auth.scopes.iter().any(|s| s == Scope::All.as_str()) {
        if let Some(wider) = new.scopes.iter().find(|s| !auth.scopes.contains(s)) {
            return Err(Error::forbidden(format!(
                "cannot grant scope `{wider}` that this key does not have"
            )));
        }
    }
    let mut tx = state.db.begin().await?;
    let created_key = create(&state, &mut tx, auth.customer_id, new).await?;
    AuditEvent::customer_action(auth.customer_id, "create_api_key", &meta)
        .resource("api_key", created_key.key.id)
        .metadata({
            let mut origin = auth.audit_origin();
            origin["mode"] = serde_json::json!(created_key.key.mode);
            origin["scopes"] = serde_json::json!(created_key.key.scopes);
            origin
        })
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(created(created_key))
}

/// Revoke one of your keys (the key making the call included). A test key can revoke only
/// test keys: a live key's id is a 404 to it.
#[utoipa::path(delete, path = "/api/v1/keys/{key_id}", tag = "customer-keys", params(("key_id" = Uuid, Path)),
    responses((status = 200), (status = 401), (status = 404)), security(("api_key" = [])))]
pub async fn customer_revoke_key(
    State(state): State<AppState>,
    auth: CustomerAuth,
    meta: RequestMeta,
    Path(key_id): Path<Uuid>,
) -> Result<AxumJson<Envelope<serde_json::Value>>> {
    auth.require_scope(Scope::KeysManage)?;
    let mut tx = state.db.begin().await?;
    revoke(&mut tx, auth.customer_id, key_id, auth.manages()).await?;
    AuditEvent::customer_action(auth.customer_id, "revoke_api_key", &meta)
        .resource("api_key", key_id)
        .metadata(auth.audit_origin())
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(crate::cache::Invalidation::Customer(auth.customer_id))
        .await;
    Ok(ok(serde_json::json!({ "id": key_id, "revoked": true })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{STALE_GRACE, TTL};
    use std::time::Duration;

    /// A management state on a fresh SQLite database, with one customer and its test key.
    async fn state_with_key(dir: &std::path::Path) -> (AppState, Uuid, String) {
        let db = crate::Db::connect(&format!("sqlite://{}/w.db", dir.display()), 4)
            .await
            .expect("database");
        db.migrate().await.expect("migrations");
        let state = AppState::new(
            db,
            crate::Config::local("127.0.0.1:0".parse().unwrap()),
            b"unit-test-secret-unit-test-secret!!",
            None,
        );
        let customer = Uuid::now_v7();
        let mut tx = state.db.begin().await.expect("begin");
        crate::on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO customers (id, email, plan, status, created_at, updated_at) \
             VALUES ($1, $2, 'basic', 'active', $3, $3)"
        )
        .bind(customer)
        .bind(format!("{customer}@example.com"))
        .bind(Utc::now())
        .execute(&mut *conn)
        .await
        .map(|_| ()))
        .expect("customer");
        let created = create(
            &state,
            &mut tx,
            customer,
            NewKey {
                mode: KeyMode::Test,
                name: None,
                scopes: vec![Scope::All.to_string()],
                expires_at: None,
            },
        )
        .await
        .expect("key");
        tx.commit().await.expect("commit");
        (state, created.key.id, created.api_key)
    }

    #[tokio::test]
    async fn a_key_read_again_past_its_ttl_follows_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let (state, key_id, key) = state_with_key(dir.path()).await;
        assert!(check_key(&state, &key).await.is_ok());

        // Revoked behind the cache's back (not through wasp, which drops it at once): the
        // request that reads it again past the TTL is refused, and so is every one after.
        let mut tx = state.db.begin().await.unwrap();
        crate::on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2"
        )
        .bind(Utc::now())
        .bind(key_id)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
        .unwrap();
        tx.commit().await.unwrap();
        assert!(
            check_key(&state, &key).await.is_ok(),
            "cached within the TTL"
        );
        state.cache.age_keys(TTL + Duration::from_secs(1));
        for _ in 0..2 {
            assert!(matches!(
                check_key(&state, &key).await,
                Err(KeyCheck::Refused(KeyRefusal::Revoked))
            ));
        }
    }

    #[tokio::test]
    async fn a_failed_re_read_serves_the_cached_key_only_within_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let (state, _, key) = state_with_key(dir.path()).await;
        assert!(check_key(&state, &key).await.is_ok());
        state.db.close().await;
        // Past the TTL, the database unreachable: the entry, valid a moment ago, serves.
        state.cache.age_keys(TTL + Duration::from_secs(1));
        assert!(check_key(&state, &key).await.is_ok());
        // Past the grace it does not.
        state.cache.age_keys(STALE_GRACE);
        assert!(matches!(
            check_key(&state, &key).await,
            Err(KeyCheck::Failed(_))
        ));
    }
}
