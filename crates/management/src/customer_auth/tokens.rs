//! What a customer does through a mailed one-time link: reset a forgotten password
//! (`/reset-password?token=…`, 1 hour), verify the e-mail address of a new account
//! (`/verify-email?token=…`, 24 hours; a signed-in customer may ask for a new one), and
//! sign up (`WASP_SIGNUP=open`). A token is 32 random bytes, stored only as its HMAC under
//! the server secret (`customer_tokens`), and works once. Answers never tell whether an e-mail has an account: a reset request and a
//! sign-up answer 202 alike, and their mail is sent in the background.

use super::{revoke_sessions, sessions_changed, throttle, CustomerSession, FAILURES};
use crate::{
    audit::AuditEvent,
    auth::Attempts,
    crypto,
    customers::{self, NewCustomer},
    db::Tx,
    error::{code, ok, Envelope, Json},
    http::RequestMeta,
    mail::Mail,
    on_pool, on_tx,
    operators::normalize_email,
    AppState, Error, Result,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use chrono::{Duration, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use wasp_protocol::Plan;

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    fn ttl(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::hours(24),
            Purpose::ResetPassword => Duration::hours(1),
        }
    }

    /// The dashboard page the link opens.
    fn page(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify-email",
            Purpose::ResetPassword => "reset-password",
        }
    }
}

fn digest(state: &AppState, token: &str) -> String {
    hex::encode(wasp_protocol::keys::keyed_digest_bytes(
        &state.secrets.key_pepper,
        format!("customer-token:{token}").as_bytes(),
    ))
}

/// A new token for `customer` (stored hashed in `tx`) and the link that carries it, under
/// `WASP_PUBLIC_URL` (never the request's `Host`, which a client chooses: a link built from
/// it would send the token wherever the requester likes).
async fn issue(state: &AppState, tx: &mut Tx, customer: Uuid, purpose: Purpose) -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO customer_tokens (token_hash, customer_id, purpose, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(digest(state, &token))
    .bind(customer)
    .bind(purpose.as_str())
    .bind(now)
    .bind(now + purpose.ttl())
    .execute(&mut *conn)
    .await
    .map(|_| ()))?;
    Ok(format!(
        "{}/{}?token={token}",
        state.config.public_url.trim_end_matches('/'),
        purpose.page()
    ))
}

fn invalid_token() -> Error {
    Error::client(
        StatusCode::BAD_REQUEST,
        code::INVALID_TOKEN,
        "this link is invalid, already used or expired; ask for a new one",
    )
}

/// Uses `token` for `purpose` (in `tx`): the customer it was issued to, once.
async fn consume(state: &AppState, tx: &mut Tx, token: &str, purpose: Purpose) -> Result<Uuid> {
    let now = Utc::now();
    let customer: Option<Uuid> = on_tx!(tx, |conn| sqlx::query_scalar(
        "UPDATE customer_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING customer_id"
    )
    .bind(now)
    .bind(digest(state, token.trim()))
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await)?;
    let customer = customer.ok_or_else(invalid_token)?;
    let live: Option<Uuid> = on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT id FROM customers WHERE id = $1 AND deleted_at IS NULL"
    )
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await)?;
    live.ok_or_else(invalid_token)
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        ok(serde_json::json!({ "accepted": true })),
    )
        .into_response()
}

/// `POST /api/customer/auth/forgot` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    pub email: String,
}

/// Ask for a password reset link (valid 1 hour, works once), mailed to the address if an
/// active customer has it. The answer is 202 whether or not one does.
#[utoipa::path(post, path = "/api/customer/auth/forgot", tag = "customer-auth", request_body = ForgotPassword,
    responses(
        (status = 202, description = "Accepted (whether or not the e-mail has an account)", body = super::AcceptedAnswer),
        (status = 400, description = "VALIDATION_ERROR: not an e-mail address", body = super::ErrorBody),
        (status = 429, description = "RATE_LIMIT_EXCEEDED", body = super::ErrorBody)))]
pub async fn forgot(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<ForgotPassword>,
) -> Result<Response> {
    throttle(&state, &meta).await?;
    let email = normalize_email(&req.email)?;
    // Looked up, and mailed, after the answer: its timing tells nothing.
    tokio::spawn(async move {
        if let Err(e) = send_reset(&state, &email, &meta).await {
            tracing::warn!(error = %e, "password reset request failed");
        }
    });
    Ok(accepted())
}

async fn send_reset(state: &AppState, email: &str, meta: &RequestMeta) -> Result<()> {
    let customer: Option<Uuid> = on_pool!(&state.db, |pool| sqlx::query_scalar(
        "SELECT id FROM customers WHERE LOWER(email) = $1 AND deleted_at IS NULL \
         AND status = 'active' AND password_hash IS NOT NULL"
    )
    .bind(email)
    .fetch_optional(pool)
    .await)?;
    let Some(customer) = customer else {
        AuditEvent::customer_auth_event(None, "customer_password_reset_requested", meta)
            .failure("no active customer has this e-mail")
            .write_alone(&state.db)
            .await?;
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    let link = issue(state, &mut tx, customer, Purpose::ResetPassword).await?;
    AuditEvent::customer_auth_event(Some(customer), "customer_password_reset_requested", meta)
        .resource("customer", customer)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state.mailer.send_later(Mail {
        to: email.to_owned(),
        subject: "Reset your wasp password".into(),
        text: format!(
            "Someone (hopefully you) asked to reset the password of your wasp account.\n\n\
             Choose a new password here (the link works once, for one hour):\n{link}\n\n\
             If it was not you, ignore this mail: your password stays as it is."
        ),
        link: Some(link),
    });
    Ok(())
}

/// `POST /api/customer/auth/reset` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The `token` of the mailed link.
    pub token: String,
    /// At least 12 characters (at most 256 bytes).
    pub new_password: String,
}

/// Set a new password with a mailed reset link's token: every session of the account ends,
/// its sign-in locks are lifted, and the e-mail counts as verified (the link reached it).
#[utoipa::path(post, path = "/api/customer/auth/reset", tag = "customer-auth", request_body = ResetPassword,
    responses(
        (status = 200, description = "Password set; sign in with it", body = super::AcceptedAnswer),
        (status = 400, description = "INVALID_TOKEN (unknown, used or expired) or VALIDATION_ERROR (the rule: at least 12 characters)", body = super::ErrorBody),
        (status = 429, description = "RATE_LIMIT_EXCEEDED", body = super::ErrorBody)))]
pub async fn reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<ResetPassword>,
) -> Result<Response> {
    throttle(&state, &meta).await?;
    // Checked before the token is used, so a refused password does not spend the link.
    super::check_new_password("new_password", &req.new_password)?;
    let hash = crypto::hash_password(&req.new_password)?;
    let mut tx = state.db.begin().await?;
    let customer = consume(&state, &mut tx, &req.token, Purpose::ResetPassword).await?;
    let now = Utc::now();
    let email: String = on_tx!(&mut tx, |conn| {
        sqlx::query(
            "UPDATE customers SET password_hash = $1, password_must_change = FALSE, \
             email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 WHERE id = $3",
        )
        .bind(&hash)
        .bind(now)
        .bind(customer)
        .execute(&mut *conn)
        .await?;
        // The account's other reset links go with this one.
        sqlx::query(
            "UPDATE customer_tokens SET used_at = $1 \
             WHERE customer_id = $2 AND purpose = 'reset_password' AND used_at IS NULL",
        )
        .bind(now)
        .bind(customer)
        .execute(&mut *conn)
        .await?;
        sqlx::query_scalar("SELECT LOWER(email) FROM customers WHERE id = $1")
            .bind(customer)
            .fetch_one(&mut *conn)
            .await?
    });
    revoke_sessions(&mut tx, customer, None).await?;
    Attempts::clear_email(FAILURES, &email, &mut tx).await?;
    redeemed(&state, tx, customer, "customer_password_reset", &meta).await?;
    Ok(ok(serde_json::json!({ "password_reset": true })).into_response())
}

/// `POST /api/customer/auth/verify` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    /// The `token` of the mailed link.
    pub token: String,
}

/// Verify the account's e-mail address with the mailed link's token; the live session
/// can be used from then on.
#[utoipa::path(post, path = "/api/customer/auth/verify", tag = "customer-auth", request_body = VerifyEmail,
    responses(
        (status = 200, description = "Verified", body = super::AcceptedAnswer),
        (status = 400, description = "INVALID_TOKEN (unknown, used or expired)", body = super::ErrorBody),
        (status = 429, description = "RATE_LIMIT_EXCEEDED", body = super::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<VerifyEmail>,
) -> Result<Response> {
    throttle(&state, &meta).await?;
    let mut tx = state.db.begin().await?;
    let customer = consume(&state, &mut tx, &req.token, Purpose::VerifyEmail).await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "UPDATE customers SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2"
    )
    .bind(Utc::now())
    .bind(customer)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })?;
    redeemed(&state, tx, customer, "customer_email_verified", &meta).await?;
    Ok(ok(serde_json::json!({ "email_verified": true })).into_response())
}

/// What every use of a link ends with: its audit row (`action`), the commit, and the
/// customer's sessions told (what they may do changed).
async fn redeemed(
    state: &AppState,
    mut tx: Tx,
    customer: Uuid,
    action: &str,
    meta: &RequestMeta,
) -> Result<()> {
    AuditEvent::customer_auth_event(Some(customer), action, meta)
        .resource("customer", customer)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    sessions_changed(state, customer).await;
    Ok(())
}

/// What `POST /api/customer/auth/verify/resend` answers (`data`).
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationResent {
    /// Whether a new link was mailed (`false`: the address is verified already).
    pub sent: bool,
    /// Whether the address is verified.
    pub email_verified: bool,
}

/// Mail a new e-mail verification link (valid 24 hours, works once) to the signed-in
/// customer's address; links mailed before keep working until they expire. An address
/// that is verified already gets no mail: the answer says so (`sent: false`), as the
/// session shows it anyway. Throttled per client address like the other account routes.
#[utoipa::path(post, path = "/api/customer/auth/verify/resend", operation_id = "customer_resend_verification", tag = "customer-auth",
    responses(
        (status = 202, description = "A new link is mailed (`sent: true`), or the address is verified already (`sent: false`)", body = Envelope<VerificationResent>),
        (status = 401, description = "UNAUTHORIZED: no or ended session", body = super::ErrorBody),
        (status = 403, description = "CUSTOMER_SUSPENDED, or FORBIDDEN (a cross-site request)", body = super::ErrorBody),
        (status = 429, description = "RATE_LIMIT_EXCEEDED", body = super::ErrorBody)),
    security(("customer_cookie" = [])))]
pub async fn resend_verification(
    State(state): State<AppState>,
    session: CustomerSession,
    meta: RequestMeta,
) -> Result<Response> {
    throttle(&state, &meta).await?;
    let answer = |sent: bool| {
        (
            StatusCode::ACCEPTED,
            ok(VerificationResent {
                sent,
                email_verified: !sent,
            }),
        )
            .into_response()
    };
    if session.profile.email_verified {
        return Ok(answer(false));
    }
    let customer = session.customer_id;
    let mut tx = state.db.begin().await?;
    let link = issue(&state, &mut tx, customer, Purpose::VerifyEmail).await?;
    AuditEvent::customer_auth_event(Some(customer), "customer_verification_resent", &meta)
        .resource("customer", customer)
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    state
        .mailer
        .send_later(verification_mail(&state, session.profile.email, link));
    Ok(answer(true))
}

/// The mail that carries an e-mail verification link (sign-up and resend).
fn verification_mail(state: &AppState, to: String, link: String) -> Mail {
    let base = state.config.public_url.trim_end_matches('/');
    Mail {
        to,
        subject: "Verify your wasp e-mail address".into(),
        text: format!(
            "Welcome to wasp.\n\nConfirm this e-mail address here (the link works once, for 24 \
             hours):\n{link}\n\nUntil then you can sign in at {base}/login and use your test \
             (sandbox) session; your live WhatsApp session opens once the address is verified."
        ),
        link: Some(link),
    }
}

/// `POST /api/customer/auth/signup` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    pub email: String,
    /// At least 12 characters (at most 256 bytes).
    pub password: String,
    pub name: Option<String>,
    pub company: Option<String>,
}

/// Create an account (`WASP_SIGNUP=open`): a customer on the basic plan, placed on a server
/// and given its keys like one an operator creates, with its e-mail unverified until the
/// mailed link (valid 24 hours) is opened; it may sign in at once and use its test
/// session. An e-mail that already has an account gets the same 202 (and a mail saying
/// so), so sign-up does not tell which e-mails have accounts.
#[utoipa::path(post, path = "/api/customer/auth/signup", tag = "customer-auth", request_body = Signup,
    responses(
        (status = 202, description = "Accepted: check the mailbox", body = super::AcceptedAnswer),
        (status = 400, description = "VALIDATION_ERROR (e-mail, the password rule: at least 12 characters, name or company)", body = super::ErrorBody),
        (status = 403, description = "SIGNUP_CLOSED", body = super::ErrorBody),
        (status = 409, description = "NO_SERVER_AVAILABLE: no server can take a customer now", body = super::ErrorBody),
        (status = 429, description = "RATE_LIMIT_EXCEEDED", body = super::ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<Signup>,
) -> Result<Response> {
    if !state.config.signup_open {
        return Err(Error::client(
            StatusCode::FORBIDDEN,
            code::SIGNUP_CLOSED,
            "sign-up is closed on this service; ask its operator for an account",
        ));
    }
    throttle(&state, &meta).await?;
    let email = normalize_email(&req.email)?;
    super::check_new_password("password", &req.password)?;
    customers::check_opt("name", &req.name, 255)?;
    customers::check_opt("company", &req.company, 255)?;
    let hash = crypto::hash_password(&req.password)?;
    let name = req.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let company = req
        .company
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    // A server is picked first, for a known e-mail too: answers and their timing are the
    // same up to the insert, and a full platform refuses everyone alike.
    let mut tx = state.db.begin().await?;
    let inserted = customers::insert_customer(
        &state,
        &mut tx,
        NewCustomer {
            email: &email,
            full_name: name,
            company_name: company,
            plan: Plan::Basic,
            assign_server: "auto",
            region: None,
            timezone: None,
            language: None,
            password_hash: &hash,
            password_must_change: false,
            email_verified: false,
        },
    )
    .await;
    let inserted = match inserted {
        Ok(inserted) => inserted,
        Err(e) if e.code() == code::CONFLICT => {
            drop(tx);
            return signup_of_known_email(&state, email, &meta).await;
        }
        Err(e) => return Err(e),
    };
    let link = issue(&state, &mut tx, inserted.id, Purpose::VerifyEmail).await?;
    AuditEvent::customer_auth_event(Some(inserted.id), "customer_signup", &meta)
        .resource("customer", inserted.id)
        .metadata(serde_json::json!({ "plan": "basic", "assigned_server_id": inserted.server_id }))
        .write(&mut tx)
        .await?;
    tx.commit().await?;
    customers::hold_sessions(&state, &inserted);
    state
        .mailer
        .send_later(verification_mail(&state, email, link));
    Ok(accepted())
}

/// A sign-up with an e-mail that has an account already: audited, the account's owner
/// told by mail, and the same answer as a new sign-up.
async fn signup_of_known_email(
    state: &AppState,
    email: String,
    meta: &RequestMeta,
) -> Result<Response> {
    AuditEvent::customer_auth_event(None, "customer_signup_existing_email", meta)
        .failure("the e-mail already has an account")
        .write_alone(&state.db)
        .await?;
    let base = state.config.public_url.trim_end_matches('/');
    state.mailer.send_later(Mail {
        to: email,
        subject: "You already have a wasp account".into(),
        text: format!(
            "Someone (hopefully you) tried to sign up to wasp with this e-mail address, \
             which already has an account.\n\nSign in at {base}/login, or choose a new \
             password at {base}/forgot-password if you forgot it.\n\n\
             If it was not you, ignore this mail."
        ),
        link: None,
    });
    Ok(accepted())
}
