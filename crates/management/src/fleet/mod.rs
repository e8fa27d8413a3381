//! The fleet's decisions about where customers live: which server can take one
//! ([`capacity`]) and moving one from server to server ([`moves`]), the operation a
//! reassignment, and later a drain, a rebalance or a failover, all call.

pub mod capacity;
pub mod moves;

pub use capacity::{check_server_has_room, pick_server};
pub use moves::{move_customer, Moved, Target};
