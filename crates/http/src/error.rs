//! wasp's one error type (management and worker) and the extractors that report through it.
//!
//! Every failure leaves as `{"success":false,"error":{"code","message",…}}` with a stable
//! SCREAMING_SNAKE code (docs/API.md lists them). Internal errors are logged once here with
//! their source and answered with a generic message: no stack trace, no SQL, no secret.

use axum::{
    extract::{
        rejection::{JsonRejection, PathRejection, QueryRejection},
        FromRequest, FromRequestParts, Request,
    },
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

/// Stable machine-readable error codes.
pub mod code {
    pub const VALIDATION_ERROR: &str = "VALIDATION_ERROR";
    pub const INVALID_JSON: &str = "INVALID_JSON";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const CONFLICT: &str = "CONFLICT";
    pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    pub const MFA_REQUIRED: &str = "MFA_REQUIRED";
    pub const INVALID_MFA_CODE: &str = "INVALID_MFA_CODE";
    pub const ACCOUNT_LOCKED: &str = "ACCOUNT_LOCKED";
    pub const INVALID_API_KEY: &str = "INVALID_API_KEY";
    pub const INVALID_SERVER_KEY: &str = "INVALID_SERVER_KEY";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const CUSTOMER_SUSPENDED: &str = "CUSTOMER_SUSPENDED";
    /// A customer signed in with a temporary password must change it first.
    pub const PASSWORD_CHANGE_REQUIRED: &str = "PASSWORD_CHANGE_REQUIRED";
    /// A customer whose e-mail is not verified yet asked for its live session.
    pub const EMAIL_NOT_VERIFIED: &str = "EMAIL_NOT_VERIFIED";
    /// Customers cannot sign up by themselves on this deployment.
    pub const SIGNUP_CLOSED: &str = "SIGNUP_CLOSED";
    /// A one-time link's token is unknown, used or expired.
    pub const INVALID_TOKEN: &str = "INVALID_TOKEN";
    /// A dashboard call to the customer API named no session (`X-Wasp-Mode`).
    pub const MODE_REQUIRED: &str = "MODE_REQUIRED";
    pub const RATE_LIMIT_EXCEEDED: &str = "RATE_LIMIT_EXCEEDED";
    pub const IP_BANNED: &str = "IP_BANNED";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    pub const IDEMPOTENCY_IN_PROGRESS: &str = "IDEMPOTENCY_IN_PROGRESS";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const URI_TOO_LONG: &str = "URI_TOO_LONG";
    pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const SERVER_NOT_EMPTY: &str = "SERVER_NOT_EMPTY";
    pub const NO_SERVER_AVAILABLE: &str = "NO_SERVER_AVAILABLE";
    pub const SERVER_FULL: &str = "SERVER_FULL";
    pub const WORKER_UNAVAILABLE: &str = "WORKER_UNAVAILABLE";
    pub const WORKER_TIMEOUT: &str = "WORKER_TIMEOUT";
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
}

/// Everything a management request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client mistake with its status, code and message (and optional detail fields).
    #[error("{message}")]
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// Too many requests or attempts; `retry_after` in seconds.
    #[error("{message}")]
    RateLimited {
        code: &'static str,
        message: String,
        retry_after: u64,
    },
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
    /// An internal failure with its cause kept (logged with it; the client sees only
    /// INTERNAL_ERROR, as for [`Error::Internal`]).
    #[error("internal error: {context}")]
    InternalSource {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// 400 VALIDATION_ERROR naming the field at fault.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Error::Client {
            status: StatusCode::BAD_REQUEST,
            code: code::VALIDATION_ERROR,
            message: format!("{field}: {message}"),
            details: Some(json!({ "field": field })),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Error::client(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            format!("{what} not found"),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::client(StatusCode::CONFLICT, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Error::client(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::client(StatusCode::FORBIDDEN, code::FORBIDDEN, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal(message.into())
    }

    /// An internal failure: `context` says what failed, `source` why (kept as the error's
    /// source).
    pub fn internal_source(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::InternalSource {
            context: context.into(),
            source: source.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Client { status, .. } => *status,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Database(sqlx::Error::PoolTimedOut) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Internal(_) | Error::InternalSource { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Client { code, .. } | Error::RateLimited { code, .. } => code,
            Error::Database(sqlx::Error::PoolTimedOut) => code::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Internal(_) | Error::InternalSource { .. } => {
                code::INTERNAL_ERROR
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut error = json!({ "code": self.code() });
        let mut retry_header = None;
        match &self {
            Error::Client {
                message, details, ..
            } => {
                error["message"] = json!(message);
                if let Some(Value::Object(fields)) = details {
                    for (k, v) in fields {
                        error[k] = v.clone();
                    }
                }
            }
            Error::RateLimited {
                message,
                retry_after,
                ..
            } => {
                error["message"] = json!(message);
                error["retry_after"] = json!(retry_after);
                retry_header = Some(*retry_after);
            }
            Error::Database(sqlx::Error::PoolTimedOut) => {
                tracing::error!(error = %self, "database pool exhausted");
                error["message"] = json!("the service is busy; try again shortly");
                retry_header = Some(1);
            }
            Error::Database(source) => {
                tracing::error!(error = %source, "database error");
                error["message"] = json!("an internal error occurred");
            }
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                error["message"] = json!("an internal error occurred");
            }
            Error::InternalSource { context, source } => {
                tracing::error!(error = %context, source = %source, "internal error");
                error["message"] = json!("an internal error occurred");
            }
        }
        let mut response = (
            status,
            axum::Json(json!({ "success": false, "error": error })),
        )
            .into_response();
        if let Some(secs) = retry_header {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The success envelope `{"success":true,"data":…}`; in the OpenAPI document as
/// `body = Envelope<T>` (utoipa inlines it around `T`'s schema).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    /// Always true.
    pub success: bool,
    pub data: T,
    /// Present on paginated lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<PageMeta>,
}

/// The body of every failure, `{"success":false,"error":{code,message,…}}`, for the OpenAPI
/// document (the error itself is built by [`Error::into_response`]).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always false.
    pub success: bool,
    pub error: ErrorDetail,
}

/// `error` of an [`ErrorBody`].
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable machine code, e.g. VALIDATION_ERROR, SESSION_NOT_CONNECTED.
    pub code: String,
    /// A human-readable explanation (do not parse it).
    pub message: String,
    /// The request field at fault, for validation errors.
    pub field: Option<String>,
    /// Seconds to wait, on RATE_LIMIT_EXCEEDED (also in `Retry-After`).
    pub retry_after: Option<u64>,
}

/// Wraps `data` in the success envelope.
pub fn ok<T: Serialize>(data: T) -> axum::Json<Envelope<T>> {
    axum::Json(Envelope {
        success: true,
        data,
        meta: None,
    })
}

/// 201 Created with the success envelope.
pub fn created<T: Serialize>(data: T) -> (StatusCode, axum::Json<Envelope<T>>) {
    (StatusCode::CREATED, ok(data))
}

/// A JSON body extractor whose failures use our error shape and name the failing field.
/// Request structs use `#[serde(deny_unknown_fields)]`, so a misspelt field is an error too.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(rejection) => {
                return Err(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    payload_too_large()
                } else {
                    Error::client(
                        StatusCode::BAD_REQUEST,
                        code::INVALID_JSON,
                        "could not read the request body",
                    )
                });
            }
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Error::client(
                    StatusCode::BAD_REQUEST,
                    code::INVALID_JSON,
                    format!("malformed JSON: {inner}"),
                )
            } else {
                let field = if path == "." { "body" } else { path.as_str() };
                Error::validation(field, inner.to_string())
            }
        })?;
        deserializer.end().map_err(|e| {
            Error::client(
                StatusCode::BAD_REQUEST,
                code::INVALID_JSON,
                format!("malformed JSON: {e}"),
            )
        })?;
        Ok(Json(value))
    }
}

pub fn payload_too_large() -> Error {
    Error::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::PAYLOAD_TOO_LARGE,
        "request body exceeds the 10 MB limit",
    )
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        Error::client(
            rejection.status(),
            code::INVALID_JSON,
            rejection.body_text(),
        )
    }
}

/// A path extractor: an id that does not parse is a 404 (no such resource), in our shape.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(Error::not_found("resource"))
            }
            Err(other) => Err(Error::internal(other.body_text())),
        }
    }
}

/// A query-string extractor reporting bad parameters as VALIDATION_ERROR.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                // The parameter at fault, as `field` (axum finds it with serde_path_to_error).
                let field = std::error::Error::source(&e)
                    .and_then(std::error::Error::source)
                    .and_then(|inner| {
                        inner.downcast_ref::<serde_path_to_error::Error<serde::de::value::Error>>()
                    })
                    .map(|err| err.path().to_string())
                    .filter(|path| path != "." && !path.is_empty())
                    .unwrap_or_else(|| "query".to_owned());
                Err(Error::validation(&field, e.body_text()))
            }
            Err(other) => Err(Error::validation("query", other.body_text())),
        }
    }
}

/// A `multipart/form-data` extractor whose refusal (not multipart, no `boundary`) is a
/// `VALIDATION_ERROR` in our shape instead of axum's plain text.
pub struct Multipart(pub axum::extract::Multipart);

impl<S> FromRequest<S> for Multipart
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Multipart)
            .map_err(|_| {
                Error::validation(
                    "content-type",
                    "expected a multipart/form-data body with its boundary \
                     (Content-Type: multipart/form-data; boundary=…)",
                )
            })
    }
}

/// `meta` of a paginated list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PageMeta {
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}
