//! The live WhatsApp driver, on the `whatsapp-rust` crate: its session store (our own
//! implementation of the library's storage traits on sqlx, in the shared database), the
//! mappings between the library's types and ours, and the driver itself.

pub mod groups;
pub mod mapping;
pub mod session;
pub mod store;

use std::time::Duration;

/// Settings of live sessions.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// How long a login waits for WhatsApp's first QR or pair code before it answers
    /// `DRIVER_UNAVAILABLE` (`WASP_LIVE_LOGIN_TIMEOUT_SECS`).
    pub login_timeout: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            login_timeout: Duration::from_secs(20),
        }
    }
}
