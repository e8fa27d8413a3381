//! Operators (admin users): the first super admin, `wasp admin …` from the shell, and the
//! super-admin-only `/api/admin/users` API.

use crate::{
    audit::AuditEvent,
    auth::{AdminAuth, Role},
    crypto,
    db::{is_unique_violation, Db, Tx},
    error::{code, created, ok, Envelope, Json, Path},
    http::RequestMeta,
    on_pool, on_tx, AppState, Error, Result,
};
use axum::{extract::State, response::IntoResponse, Json as AxumJson};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An operator as listed (never the password hash or MFA secret).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Operator {
    pub id: Uuid,
    pub email: String,
    pub full_name: Option<String>,
    pub role: String,
    pub mfa_enabled: bool,
    pub is_active: bool,
    /// Holds a temporary password (set by a super admin): every admin call but their own
    /// account's answers 403 PASSWORD_CHANGE_REQUIRED until they choose their own.
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// `locked_until`: the latest lock of the operator's e-mail from any address (a lock holds
/// only for the address that failed, see `auth/throttle.rs`).
const OPERATOR_COLUMNS: &str = "id, email, full_name, role, mfa_enabled, is_active, \
     password_must_change AS must_change_password, \
     (SELECT MAX(f.locked_until) FROM admin_login_failures f WHERE f.email = LOWER(admin_users.email) \
      AND f.locked_until IS NOT NULL) AS locked_until, created_at, last_login_at";

/// An operator just created or reset, with the password shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorWithPassword {
    #[serde(flatten)]
    pub operator: Operator,
    /// Shown once; only present when wasp generated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The OpenAPI schema of an e-mail address as [`validate_email`] takes it (fields name it
/// with `#[schema(value_type = EmailAddress)]`).
pub struct EmailAddress;

impl utoipa::PartialSchema for EmailAddress {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .max_length(Some(255))
            // One @, something before it, a dot inside the part after it, no spaces or
            // control characters; surrounding spaces are trimmed.
            .pattern(Some(EMAIL_PATTERN))
            .description(Some("An e-mail address (compared without regard to case)."))
            .examples([serde_json::json!("dev@example.com")])
            .into()
    }
}

impl utoipa::ToSchema for EmailAddress {}

const EMAIL_PATTERN: &str = r"^[ \t\n\r]*[^@\s\x00-\x1f\x7f-\x9f]+@[^\s.\x00-\x1f\x7f-\x9f][^\s\x00-\x1f\x7f-\x9f]*\.[^\s\x00-\x1f\x7f-\x9f]*[^\s.\x00-\x1f\x7f-\x9f][ \t\n\r]*$";

pub(crate) fn validate_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 255
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(Error::validation("email", "must be a valid email address"))
    }
}

pub(crate) use self::validate_email as normalize_email;

/// Inserts an operator; the password is generated when not given. `must_change`: the
/// password is a temporary one, to be replaced at the first sign-in.
pub async fn insert(
    tx: &mut Tx,
    email: &str,
    full_name: Option<&str>,
    role: Role,
    password: Option<&str>,
    must_change: bool,
) -> Result<(Operator, Option<String>)> {
    let email = validate_email(email)?;
    let generated = password.is_none().then(|| crypto::generate_password(20));
    let password = password.or(generated.as_deref()).unwrap_or_default();
    crypto::check_password_policy(password).map_err(|m| Error::validation("password", m))?;
    let hash = crypto::hash_password(password)?;
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO admin_users (id, email, password_hash, full_name, role, created_at, updated_at, password_changed_at, \
         password_must_change) VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $7) RETURNING {OPERATOR_COLUMNS}"
    );
    let operator = on_tx!(tx, |conn| sqlx::query_as::<_, Operator>(&sql)
        .bind(Uuid::now_v7())
        .bind(&email)
        .bind(&hash)
        .bind(full_name)
        .bind(role.as_str())
        .bind(now)
        .bind(must_change)
        .fetch_one(&mut *conn)
        .await)
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::conflict(code::CONFLICT, "an operator with this email already exists")
        } else {
            e.into()
        }
    })?;
    Ok((operator, generated))
}

/// What start-up did about the first operator.
#[derive(Debug)]
pub enum Bootstrap {
    /// Operators already exist.
    Existing,
    /// Created from `WASP_ADMIN_EMAIL`/`WASP_ADMIN_PASSWORD`.
    Created { email: String },
    /// Created with a generated password, to be printed once.
    Generated { email: String, password: String },
}

/// Creates the first super admin on an empty database.
pub async fn bootstrap(db: &Db, email: Option<&str>, password: Option<&str>) -> Result<Bootstrap> {
    let mut tx = db.begin().await?;
    let count: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(
        "SELECT COUNT(*) FROM admin_users"
    )
    .fetch_one(&mut *conn)
    .await)?;
    if count > 0 {
        return Ok(Bootstrap::Existing);
    }
    let email = email.unwrap_or("admin@localhost.localdomain");
    let (operator, generated) = insert(
        &mut tx,
        email,
        Some("Super Admin"),
        Role::SuperAdmin,
        password,
        // The installer chose it, or saw it printed once on their own terminal.
        false,
    )
    .await?;
    AuditEvent::system("create_first_operator")
        .resource("admin_user", operator.id)
        .metadata(serde_json::json!({ "email": operator.email, "password_generated": generated.is_some() }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(match generated {
        Some(password) => Bootstrap::Generated {
            email: operator.email,
            password,
        },
        None => Bootstrap::Created {
            email: operator.email,
        },
    })
}

/// Lists every operator, for `wasp admin list` and the API.
pub async fn list(db: &Db) -> Result<Vec<Operator>> {
    let sql = format!("SELECT {OPERATOR_COLUMNS} FROM admin_users ORDER BY created_at");
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, Operator>(&sql)
        .fetch_all(pool)
        .await)?)
}

/// Sets a new password (generated when not given), clears any lockout and ends the
/// operator's sessions. Returns the generated password. `must_change`: the password is a
/// temporary one, to be replaced at the next sign-in.
pub async fn reset_password(
    tx: &mut Tx,
    id: Uuid,
    password: Option<&str>,
    must_change: bool,
) -> Result<Option<String>> {
    let generated = password.is_none().then(|| crypto::generate_password(20));
    let password = password.or(generated.as_deref()).unwrap_or_default();
    crypto::check_password_policy(password).map_err(|m| Error::validation("password", m))?;
    let hash = crypto::hash_password(password)?;
    let now = Utc::now();
    let updated = on_tx!(tx, |conn| {
        let n = sqlx::query(
            "UPDATE admin_users SET password_hash = $1, password_changed_at = $2, password_must_change = $3 WHERE id = $4",
        )
        .bind(&hash)
        .bind(now)
        .bind(must_change)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        // A reset unlocks the account from every address.
        sqlx::query(
            "DELETE FROM admin_login_failures WHERE email = (SELECT LOWER(email) FROM admin_users WHERE id = $1)",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE admin_sessions SET revoked_at = $1 WHERE admin_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        n
    });
    if updated == 0 {
        return Err(Error::not_found("operator"));
    }
    Ok(generated)
}

/// Finds an operator's id by email.
pub async fn id_by_email(db: &Db, email: &str) -> Result<Uuid> {
    let email = email.trim().to_lowercase();
    on_pool!(db, |pool| sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM admin_users WHERE LOWER(email) = $1"
    )
    .bind(&email)
    .fetch_optional(pool)
    .await)?
    .ok_or_else(|| Error::not_found("operator"))
}

async fn get(db: &Db, id: Uuid) -> Result<Operator> {
    let sql = format!("SELECT {OPERATOR_COLUMNS} FROM admin_users WHERE id = $1");
    on_pool!(db, |pool| sqlx::query_as::<_, Operator>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or_else(|| Error::not_found("operator"))
}

async fn active_super_admins(tx: &mut Tx) -> Result<i64> {
    Ok(on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT COUNT(*) FROM admin_users WHERE role = 'super_admin' AND is_active = TRUE"
    )
    .fetch_one(&mut *conn)
    .await)?)
}

/// `POST /api/admin/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOperator {
    #[schema(value_type = crate::operators::EmailAddress)]
    pub email: String,
    pub full_name: Option<String>,
    pub role: Role,
    /// At least 12 characters; generated and shown once when omitted.
    #[schema(min_length = 12)]
    pub password: Option<String>,
}

/// `PUT /api/admin/users/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOperator {
    pub full_name: Option<String>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

/// List operators (super admin).
#[utoipa::path(get, path = "/api/admin/users", tag = "operators",
    responses((status = 200, body = Envelope<Vec<Operator>>), (status = 403)))]
pub async fn list_operators(
    State(state): State<AppState>,
    admin: AdminAuth,
) -> Result<AxumJson<Envelope<Vec<Operator>>>> {
    admin.require(Role::SuperAdmin)?;
    Ok(ok(list(&state.db).await?))
}

/// Add an operator (super admin). A generated password is shown once. Either way the
/// password is temporary: the operator must choose their own at the first sign-in.
#[utoipa::path(post, path = "/api/admin/users", tag = "operators", request_body = CreateOperator,
    responses((status = 201, body = Envelope<OperatorWithPassword>), (status = 403), (status = 409)))]
pub async fn create_operator(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Json(req): Json<CreateOperator>,
) -> Result<impl IntoResponse> {
    admin.require(Role::SuperAdmin)?;
    let mut tx = state.db.begin().await?;
    let (operator, password) = insert(
        &mut tx,
        &req.email,
        req.full_name.as_deref(),
        req.role,
        req.password.as_deref(),
        true,
    )
    .await?;
    AuditEvent::admin_action(&admin, "create_operator", &meta)
        .resource("admin_user", operator.id)
        .metadata(serde_json::json!({ "email": operator.email, "role": operator.role }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(created(OperatorWithPassword { operator, password }))
}

/// Change an operator's role, name or active flag (super admin). Your own role and active
/// flag are another super admin's to change (409).
#[utoipa::path(put, path = "/api/admin/users/{id}", tag = "operators", request_body = UpdateOperator,
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Operator>), (status = 403), (status = 404), (status = 409)))]
pub async fn update_operator(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateOperator>,
) -> Result<AxumJson<Envelope<Operator>>> {
    admin.require(Role::SuperAdmin)?;
    if id == admin.admin_id && (req.role.is_some() || req.is_active.is_some()) {
        return Err(Error::conflict(
            code::CONFLICT,
            "you cannot change your own role or deactivate yourself; another super admin can",
        ));
    }
    let current = get(&state.db, id).await?;
    let mut tx = state.db.begin().await?;
    let demotes = req.role.is_some_and(|r| r != Role::SuperAdmin) || req.is_active == Some(false);
    if current.role == "super_admin"
        && current.is_active
        && demotes
        && active_super_admins(&mut tx).await? <= 1
    {
        return Err(Error::conflict(
            code::CONFLICT,
            "the last active super admin cannot be demoted or deactivated",
        ));
    }
    let now = Utc::now();
    on_tx!(&mut tx, |conn| {
        sqlx::query("UPDATE admin_users SET full_name = COALESCE($1, full_name), role = COALESCE($2, role), is_active = COALESCE($3, is_active) WHERE id = $4")
            .bind(&req.full_name)
            .bind(req.role.map(Role::as_str))
            .bind(req.is_active)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        if req.is_active == Some(false) {
            sqlx::query("UPDATE admin_sessions SET revoked_at = $1 WHERE admin_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
    });
    AuditEvent::admin_action(&admin, "update_operator", &meta)
        .resource("admin_user", id)
        .metadata(serde_json::json!({ "role": req.role, "is_active": req.is_active, "full_name_changed": req.full_name.is_some() }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(ok(get(&state.db, id).await?))
}

/// Deactivate an operator (super admin); their sessions end at once.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "operators",
    params(("id" = Uuid, Path)), responses((status = 200), (status = 403), (status = 404), (status = 409)))]
pub async fn delete_operator(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<Operator>>> {
    admin.require(Role::SuperAdmin)?;
    if id == admin.admin_id {
        return Err(Error::conflict(
            code::CONFLICT,
            "you cannot deactivate yourself",
        ));
    }
    update_operator(
        State(state),
        admin,
        meta,
        Path(id),
        Json(UpdateOperator {
            full_name: None,
            role: None,
            is_active: Some(false),
        }),
    )
    .await
}

/// Set a new generated password for another operator (super admin), shown once and
/// temporary (they must choose their own at the next sign-in); unlocks
/// the account and ends its sessions. Your own: `POST /api/admin/auth/password` (409 here).
#[utoipa::path(post, path = "/api/admin/users/{id}/reset-password", tag = "operators",
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<OperatorWithPassword>), (status = 403), (status = 404), (status = 409)))]
pub async fn reset_operator_password(
    State(state): State<AppState>,
    admin: AdminAuth,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<AxumJson<Envelope<OperatorWithPassword>>> {
    admin.require(Role::SuperAdmin)?;
    if id == admin.admin_id {
        return Err(Error::conflict(
            code::CONFLICT,
            "change your own password with POST /api/admin/auth/password",
        ));
    }
    let mut tx = state.db.begin().await?;
    let password = reset_password(&mut tx, id, None, true).await?;
    AuditEvent::admin_action(&admin, "reset_operator_password", &meta)
        .resource("admin_user", id)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(ok(OperatorWithPassword {
        operator: get(&state.db, id).await?,
        password,
    }))
}
