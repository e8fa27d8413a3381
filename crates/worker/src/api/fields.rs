//! Input rules shared by the API's areas: phone numbers, recipients, texts, captions, paging.

use super::send::DISAPPEARING;
use crate::jid::{normalize_phone, Jid};
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use wasp_http::error::{Error, Result};

pub(crate) fn phone_field(field: &str, value: Option<&str>) -> Result<String> {
    let value = value.ok_or_else(|| Error::validation(field, "is required"))?;
    normalize_phone(value).map_err(|e| Error::validation(field, e.to_string()))
}

/// Longest text message.
pub const MAX_TEXT_CHARS: usize = 4096;

pub(crate) fn text_field(field: &str, value: &str) -> Result<String> {
    if value.contains('\0') {
        return Err(Error::validation(field, "must not contain NUL bytes"));
    }
    let n = value.chars().count();
    if value.trim().is_empty() || n > MAX_TEXT_CHARS {
        return Err(Error::validation(
            field,
            format!("must be 1 to {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

pub(crate) fn recipient(field: &str, value: &str) -> Result<Jid> {
    Jid::parse_recipient(value).map_err(|e| Error::validation(field, e.to_string()))
}

pub(super) fn page(limit: Option<i64>, offset: Option<i64>, default: i64) -> Result<(i64, i64)> {
    let limit = limit.unwrap_or(default);
    if !(1..=100).contains(&limit) {
        return Err(Error::validation("limit", "must be between 1 and 100"));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(Error::validation("offset", "must not be negative"));
    }
    Ok((limit, offset))
}

pub(super) fn listing<T: serde::Serialize>(
    rows: Vec<T>,
    total: i64,
    limit: i64,
    offset: i64,
) -> Response {
    axum::Json(json!({
        "success": true,
        "data": rows,
        "meta": { "total": total, "limit": limit, "offset": offset },
    }))
    .into_response()
}

/// A JSON body that may be left out entirely.
pub(crate) fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        Error::client(
            StatusCode::BAD_REQUEST,
            wasp_http::error::code::INVALID_JSON,
            format!("request body is not valid: {e}"),
        )
    })
}

pub(super) fn check_duration(duration: Option<u32>) -> Result<u32> {
    match duration {
        Some(d) if !DISAPPEARING.contains(&d) => Err(Error::validation(
            "duration",
            "must be 0, 86400, 604800 or 7776000",
        )),
        d => Ok(d.unwrap_or(0)),
    }
}

pub(super) fn message_id(id: &str) -> Result<&str> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::not_found("message"));
    }
    Ok(id)
}

/// Longest media caption WhatsApp shows.
pub(super) const MAX_CAPTION_CHARS: usize = 1024;

pub(super) fn caption_field(value: &str) -> Result<String> {
    let caption = text_field("caption", value)?;
    if caption.chars().count() > MAX_CAPTION_CHARS {
        return Err(Error::validation(
            "caption",
            format!("must be at most {MAX_CAPTION_CHARS} characters"),
        ));
    }
    Ok(caption)
}
