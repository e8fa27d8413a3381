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

pub use crate::model::SessionKey;

use chrono::{DateTime, Utc};

/// Millisecond precision everywhere, so SQLite's text timestamps sort like PostgreSQL's.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}
