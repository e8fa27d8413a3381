//! Who calls the customer API: [`CustomerAuth`] from an API key (`keys.rs`) or from the
//! dashboard's signed-in session and its `X-Wasp-Mode` (`customer_auth.rs`), left in the
//! request's [`AuthSlot`] for metering.

use crate::{
    audit::AuditEvent,
    error::code,
    http::RequestMeta,
    keys::{check_key, invalid_key, presented_key, AuthSlot, CustomerAuth, KeyCheck, KeyRefusal},
    AppState, Error, Result,
};
use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
};

impl FromRequestParts<AppState> for CustomerAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if let Some(auth) = parts.extensions.get::<CustomerAuth>() {
            return Ok(auth.clone());
        }
        // The address only (the full context, with its strings, only for a refusal).
        let ip = match parts.extensions.get::<RequestMeta>() {
            Some(meta) => meta.ip,
            None => RequestMeta::from_request_parts(parts, state).await?.ip,
        };
        let Some(presented) = presented_key(&parts.headers) else {
            if crate::auth::cookie(&parts.headers, crate::customer_auth::ACCESS_COOKIE).is_some() {
                // The dashboard: its signed-in session, in the mode the request names.
                let auth = crate::customer_auth::gateway_auth(state, &parts.headers).await?;
                if let Some(slot) = parts.extensions.get::<AuthSlot>() {
                    slot.fill(&auth);
                }
                parts.extensions.insert(auth.clone());
                return Ok(auth);
            }
            parts.extensions.insert(KeyRefusal::Missing);
            return Err(Error::unauthorized(
                code::INVALID_API_KEY,
                "send your API key in the X-API-Key header",
            ));
        };
        match check_key(state, presented).await {
            Ok((mode, key)) => {
                state.cache.record_use(key.key_id, ip);
                let auth = CustomerAuth {
                    customer_id: key.customer_id,
                    key_id: Some(key.key_id),
                    session_id: None,
                    email_verified: true,
                    mode,
                    scopes: key.scopes,
                    plan: key.plan,
                    expires_at: key.expires_at,
                };
                if let Some(slot) = parts.extensions.get::<AuthSlot>() {
                    slot.fill(&auth);
                }
                parts.extensions.insert(auth.clone());
                Ok(auth)
            }
            Err(KeyCheck::Failed(e)) => Err(e),
            Err(KeyCheck::Refused(KeyRefusal::Suspended)) => Err(Error::client(
                StatusCode::FORBIDDEN,
                code::CUSTOMER_SUSPENDED,
                "this account is suspended; contact support",
            )),
            Err(KeyCheck::Refused(refusal)) => {
                let meta = RequestMeta::from_request_parts(parts, state).await?;
                parts.extensions.insert(refusal);
                state.audit.record(
                    AuditEvent::security_event("anonymous", None, "invalid_api_key", &meta)
                        .failure(refusal.reason()),
                );
                Err(invalid_key())
            }
        }
    }
}
