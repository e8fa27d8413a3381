//! Everything management says to workers: the HTTP clients ([`client`]: reqwest for
//! `https://` workers and the keep-alive pool of [`upstream`] for plain-http ones), the
//! customer API calls passed on to a customer's worker ([`forward`]), and the placement
//! calls that make a worker hold or give up a customer's sessions ([`placement`]). The
//! wire formats are `wasp_protocol`'s (`placement`, `service_token`).

pub mod client;
pub mod forward;
pub mod placement;
pub mod upstream;

pub use client::{upstream_pool, worker_client, WORKER_TIMEOUT};
pub use forward::CallFor;
pub use placement::Placement;

use crate::{cache::GatewayCache, Db};
use upstream::Upstream;
use wasp_protocol::service_token::TokenSigner;

/// What talking to workers needs of management's state (`AppState::workers` lends it):
/// the server registry, the routing and token caches, the token signer and the clients.
#[derive(Clone, Copy)]
pub struct Reach<'a> {
    pub db: &'a Db,
    pub cache: &'a GatewayCache,
    pub tokens: &'a TokenSigner,
    /// Reqwest, for the placement calls and `https://` workers.
    pub http: &'a reqwest::Client,
    /// The keep-alive pool, for customer calls to plain-http workers.
    pub upstream: &'a Upstream,
}
