//! The chat store and session rows, in the shared database (docs/ARCHITECTURE.md, "Where
//! state lives"). Every query takes a [`SessionKey`] and is scoped by customer and mode, so no
//! code path can read another customer's chats.

mod chats;
mod messages;
mod receipts;
mod sessions;

pub use chats::*;
pub use messages::*;
pub use receipts::*;
pub use sessions::*;

use chrono::{DateTime, Utc};
use uuid::Uuid;
use wasp_protocol::service_token::Mode;

/// Which session: a customer's live or sandbox one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub customer: Uuid,
    pub mode: Mode,
}

impl std::fmt::Display for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.customer, self.mode.as_str())
    }
}

/// Millisecond precision everywhere, so SQLite's text timestamps sort like PostgreSQL's.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}
