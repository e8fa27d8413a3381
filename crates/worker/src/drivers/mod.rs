//! The WhatsApp drivers: live (`live/`, on whatsapp-rust) and sandbox (`sandbox.rs`, the
//! simulated network). Each implements `driver::Driver`.

pub mod live;
pub mod sandbox;

use crate::{
    driver::{Driver, EventSink},
    store::SessionKey,
};
use std::sync::Arc;
use wasp_db::Db;
use wasp_protocol::service_token::Mode;

/// Which driver live (`ak_live_`) sessions use on this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveDriver {
    /// whatsapp-rust.
    Live,
    /// `WASP_WORKER_DRIVER=sandbox`: live sessions are sandboxed too (no WhatsApp access).
    Sandbox,
}

/// Opens the driver of each session: sandbox sessions (test keys, or every session on a
/// sandbox worker) on the simulated network, the others on whatsapp-rust.
pub struct Drivers {
    db: Db,
    live: LiveDriver,
    live_config: live::LiveConfig,
    network: Arc<sandbox::SandboxNetwork>,
}

impl Drivers {
    pub fn new(
        db: Db,
        live: LiveDriver,
        live_config: live::LiveConfig,
        network: Arc<sandbox::SandboxNetwork>,
    ) -> Drivers {
        Drivers {
            db,
            live,
            live_config,
            network,
        }
    }

    /// Which driver live sessions use here.
    pub fn live(&self) -> LiveDriver {
        self.live
    }

    /// The name of the driver a session gets (`sandbox` or `live`), as its row records it.
    pub fn kind(&self, key: SessionKey) -> &'static str {
        if key.mode == Mode::Test || self.live == LiveDriver::Sandbox {
            "sandbox"
        } else {
            "live"
        }
    }

    /// The driver of a session, reporting its events to `sink`.
    pub fn open(&self, key: SessionKey, sink: EventSink) -> Arc<dyn Driver> {
        if self.kind(key) == "sandbox" {
            Arc::new(sandbox::SandboxSession::new(
                self.network.clone(),
                key.customer,
                sink,
            ))
        } else {
            Arc::new(live::session::LiveSession::new(
                live::store::WaStore::new(self.db.clone(), key),
                sink,
                self.live_config.clone(),
            ))
        }
    }
}
