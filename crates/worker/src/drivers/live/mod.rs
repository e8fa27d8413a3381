//! The live WhatsApp driver, on the `whatsapp-rust` crate: its session store (our own
//! implementation of the library's storage traits on sqlx, in the shared database), the
//! mappings between the library's types and ours, and the driver itself.

pub mod groups;
pub mod mapping;
pub mod session;
pub mod store;
pub mod version;

use std::{sync::Arc, time::Duration};
use whatsapp_rust::transport::{Transport, TransportEvent, TransportFactory};

/// Settings of live sessions.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Where sessions connect: WhatsApp's websocket (`None`), or another transport (the
    /// tests' in-process server, a closed port).
    pub transport: Option<SharedTransport>,
    /// The websocket sessions dial when `transport` is unset (`WASP_LIVE_WS_URL`):
    /// WhatsApp's own (`None`), or a WhatsApp-compatible endpoint (the tests' fake
    /// WhatsApp, a relay).
    pub ws_url: Option<String>,
    /// How long a login waits for WhatsApp's first QR or pair code before it answers
    /// `DRIVER_UNAVAILABLE` (`WASP_LIVE_LOGIN_TIMEOUT_SECS`). It covers the library's own
    /// steps before the first code: the websocket connect (bounded at 20 s by the library),
    /// the Noise handshake and WhatsApp's pairing request.
    pub login_timeout: Duration,
    /// The WhatsApp Web client version sessions announce (one per worker).
    pub version: Arc<version::ClientVersion>,
}

/// The default login bound (`WASP_LIVE_LOGIN_TIMEOUT_SECS`).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            transport: None,
            ws_url: None,
            login_timeout: LOGIN_TIMEOUT,
            version: Arc::new(version::ClientVersion::built_in()),
        }
    }
}

/// A transport factory shared by every session of a worker.
#[derive(Clone)]
pub struct SharedTransport(pub Arc<dyn TransportFactory>);

impl std::fmt::Debug for SharedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedTransport")
    }
}

#[whatsapp_rust::async_trait]
impl TransportFactory for SharedTransport {
    async fn create_transport(
        &self,
    ) -> whatsapp_rust::anyhow::Result<(
        Arc<dyn Transport>,
        whatsapp_rust::async_channel::Receiver<TransportEvent>,
    )> {
        self.0.create_transport().await
    }
}
