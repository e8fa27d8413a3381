//! The API's error codes, the status each answers with, and the conversions of the worker's
//! errors into the documented error shape.

use crate::{driver::DriverError, session::manager::InstanceError};
use axum::http::StatusCode;
use wasp_http::error::Error;

/// Error codes of the messaging API.
pub mod code {
    pub const SESSION_NOT_CONNECTED: &str = "SESSION_NOT_CONNECTED";
    pub const SESSION_NOT_LOGGED_IN: &str = "SESSION_NOT_LOGGED_IN";
    pub const ALREADY_LOGGED_IN: &str = "ALREADY_LOGGED_IN";
    pub const NOT_ON_WHATSAPP: &str = "NOT_ON_WHATSAPP";
    pub const NO_PENDING_LOGIN: &str = "NO_PENDING_LOGIN";
    pub const DRIVER_UNAVAILABLE: &str = "DRIVER_UNAVAILABLE";
    pub const SESSION_MOVED: &str = "SESSION_MOVED";
    pub const MEDIA_FETCH_FAILED: &str = "MEDIA_FETCH_FAILED";
    pub const MEDIA_UNAVAILABLE: &str = "MEDIA_UNAVAILABLE";
}

impl From<DriverError> for Error {
    fn from(e: DriverError) -> Error {
        driver_error(e)
    }
}

impl From<InstanceError> for Error {
    fn from(e: InstanceError) -> Error {
        match e {
            InstanceError::Database(e) => Error::Database(e),
        }
    }
}

fn driver_error(e: DriverError) -> Error {
    let (status, code) = match &e {
        DriverError::NotConnected => (StatusCode::CONFLICT, code::SESSION_NOT_CONNECTED),
        DriverError::NotLoggedIn => (StatusCode::CONFLICT, code::SESSION_NOT_LOGGED_IN),
        DriverError::AlreadyLoggedIn => (StatusCode::CONFLICT, code::ALREADY_LOGGED_IN),
        DriverError::NotOnWhatsApp(_) => (StatusCode::BAD_REQUEST, code::NOT_ON_WHATSAPP),
        DriverError::NoPendingLogin => (StatusCode::CONFLICT, code::NO_PENDING_LOGIN),
        DriverError::Invalid(_) => (
            StatusCode::BAD_REQUEST,
            wasp_http::error::code::VALIDATION_ERROR,
        ),
        DriverError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, code::DRIVER_UNAVAILABLE),
    };
    Error::client(status, code, e.to_string())
}

/// Error codes by what an operation does, for the document.
pub(crate) mod errors {
    use super::code::*;
    use wasp_http::error::code::{FORBIDDEN, NOT_FOUND, VALIDATION_ERROR};

    /// Anything that goes through the session's WhatsApp connection.
    pub const DRIVER: &[&str] = &[
        SESSION_NOT_CONNECTED,
        SESSION_NOT_LOGGED_IN,
        DRIVER_UNAVAILABLE,
    ];
    /// Sending a message (to a group: only as a member allowed to send).
    pub const SEND: &[&str] = &[
        SESSION_NOT_CONNECTED,
        SESSION_NOT_LOGGED_IN,
        NOT_ON_WHATSAPP,
        DRIVER_UNAVAILABLE,
        FORBIDDEN,
        NOT_FOUND,
        VALIDATION_ERROR,
    ];
    /// Sending media given by URL.
    pub const SEND_MEDIA: &[&str] = &[
        SESSION_NOT_CONNECTED,
        SESSION_NOT_LOGGED_IN,
        NOT_ON_WHATSAPP,
        DRIVER_UNAVAILABLE,
        FORBIDDEN,
        NOT_FOUND,
        MEDIA_FETCH_FAILED,
    ];
    /// The sandbox controls (403 on a session that is not a sandbox one).
    pub const SANDBOX: &[&str] = &[FORBIDDEN, VALIDATION_ERROR];
    /// Group operations: a connected session, a group that exists, the right role.
    pub const GROUP: &[&str] = &[
        SESSION_NOT_CONNECTED,
        DRIVER_UNAVAILABLE,
        FORBIDDEN,
        NOT_FOUND,
        VALIDATION_ERROR,
    ];
    /// The user's own profile and lists: a connected session.
    pub const CONNECTED: &[&str] = &[SESSION_NOT_CONNECTED, DRIVER_UNAVAILABLE];
    /// Looking up someone else: a connected session, a number on WhatsApp.
    pub const LOOKUP: &[&str] = &[
        SESSION_NOT_CONNECTED,
        DRIVER_UNAVAILABLE,
        NOT_ON_WHATSAPP,
        NOT_FOUND,
    ];
}
