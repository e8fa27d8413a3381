//! Mappings between whatsapp-rust's types and ours. Pure functions, unit-tested without a
//! network: messages, receipts and connection outcomes (`messages.rs`); groups, users and
//! profiles (`groups.rs`).

mod groups;
mod messages;

pub use groups::*;
pub use messages::*;
