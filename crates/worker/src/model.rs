//! The worker's shared vocabulary, below every other module: which session a row, an
//! event or a request belongs to.

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
