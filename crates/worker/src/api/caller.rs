//! Who is calling: a customer session named by management's service token (`Caller`), or
//! management itself (`Management`).

use super::code;
use crate::{session::instance::Instance, store::SessionKey, WorkerState};
use axum::{extract::FromRequestParts, http::request::Parts, http::StatusCode};
use std::sync::Arc;
use wasp_http::error::{Error, Result};
use wasp_protocol::service_token::Claims;

/// The verified service token of a request.
fn claims(parts: &Parts, worker: &WorkerState) -> Result<Claims> {
    let unauthorized = || {
        Error::unauthorized(
            wasp_http::error::code::UNAUTHORIZED,
            "this worker answers only management (service token required)",
        )
    };
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let verified = worker.verify_token(token.trim()).ok_or_else(|| {
        Error::client(
            StatusCode::SERVICE_UNAVAILABLE,
            wasp_http::error::code::SERVICE_UNAVAILABLE,
            "this worker is not registered with management yet",
        )
    })?;
    verified.map_err(|e| {
        tracing::warn!(reason = %e, "service token refused");
        unauthorized()
    })
}

/// A customer request: the session it is for, from the service token.
pub struct Caller {
    pub key: SessionKey,
    pub instance: Arc<Instance>,
}

impl FromRequestParts<WorkerState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, worker: &WorkerState) -> Result<Self> {
        let claims = claims(parts, worker)?;
        let (Some(customer), Some(mode)) = (claims.cus, claims.mode) else {
            return Err(Error::forbidden(
                "this token does not name a customer session",
            ));
        };
        let key = SessionKey { customer, mode };
        let instances = worker
            .instances()
            .ok_or_else(|| Error::internal("instances not ready"))?;
        let instance = instances.get_or_create(key).await?;
        if instance.status().moved {
            return Err(Error::client(
                StatusCode::SERVICE_UNAVAILABLE,
                code::SESSION_MOVED,
                "this session moved to another server; retry",
            ));
        }
        Ok(Caller { key, instance })
    }
}

/// A call from management itself (no customer).
pub struct Management;

impl FromRequestParts<WorkerState> for Management {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, worker: &WorkerState) -> Result<Self> {
        let claims = claims(parts, worker)?;
        if claims.cus.is_some() {
            return Err(Error::forbidden("customer tokens cannot manage instances"));
        }
        Ok(Management)
    }
}
