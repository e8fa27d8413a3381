//! whatsapp-rust's own client code connecting on **our** session store, on SQLite and
//! PostgreSQL: an in-process server plays WhatsApp's side of the Noise handshake over a
//! capturing transport (the server's certificate chain is a test chain, which the client
//! accepts because this test build enables wacore-noise's `danger-skip-cert-chain-verify`;
//! the release binary is built without it, which CI checks).
//!
//! - An unpaired device's first connect runs the XX handshake, and the registration
//!   payload the server decrypts carries the library's default device properties (OS,
//!   version, platform, history-sync settings) and the client version we pinned.
//! - A paired device's first connect runs XX and stores the server's certificate chain;
//!   after a restart (a new `PersistenceManager` on the same database) the client picks IK
//!   from the stored state, with the same static key and the stored phone number.

use std::sync::{atomic::AtomicU32, Arc, Mutex};
use wasp_db::Db;
use wasp_fake_whatsapp::{public, Frames, Handshake, Identity};
use wasp_worker::{drivers::live::store::WaStore, testkit};
use whatsapp_rust::{
    async_channel,
    buffa::Message as _,
    bytes::Bytes,
    handshake::do_handshake,
    store::persistence_manager::PersistenceManager,
    transport::{Transport, TransportEvent},
    wacore::store::{device::DEVICE_PROPS, DeviceCommand},
    wacore_binary::consts::WA_CONN_HEADER,
    waproto::whatsapp as wa,
};

// ---------------------------------------------------------------------------
// The server's side: crates/fake-whatsapp, over a capturing transport
// ---------------------------------------------------------------------------

/// The client's end of the wire: what it sent, in order, and a way to wait for more.
#[derive(Default)]
struct Wire {
    sent: Mutex<Vec<Bytes>>,
    more: tokio::sync::Notify,
}

#[whatsapp_rust::async_trait]
impl Transport for Wire {
    async fn send(&self, data: Bytes) -> whatsapp_rust::anyhow::Result<()> {
        self.sent.lock().unwrap().push(data);
        self.more.notify_waiters();
        Ok(())
    }
    async fn disconnect(&self) {}
}

impl Wire {
    /// The `n`th thing the client sent (0-based), waiting for it.
    async fn nth(&self, n: usize) -> Vec<u8> {
        loop {
            let more = self.more.notified();
            if let Some(data) = self.sent.lock().unwrap().get(n) {
                return data.to_vec();
            }
            tokio::time::timeout(std::time::Duration::from_secs(10), more)
                .await
                .expect("the client sends within 10 s");
        }
    }
}

/// The server's view of the wire: one frame per thing the client sent; what the server
/// sends goes to the client as received data.
struct ServerSide<'a> {
    wire: &'a Wire,
    events: &'a async_channel::Sender<TransportEvent>,
    next: usize,
}

impl Frames for ServerSide<'_> {
    async fn recv(&mut self) -> Option<Vec<u8>> {
        let raw = self.wire.nth(self.next).await;
        self.next += 1;
        let body = raw.strip_prefix(&WA_CONN_HEADER[..]).unwrap_or(&raw);
        let len = (usize::from(body[0]) << 16) | (usize::from(body[1]) << 8) | usize::from(body[2]);
        Some(body[3..3 + len].to_vec())
    }

    async fn send(&mut self, framed: Vec<u8>) {
        self.events
            .send(TransportEvent::DataReceived(framed.into()))
            .await
            .expect("client listening");
    }
}

/// One connect of the library's client (`PersistenceManager` over `store`) to `server`.
async fn connect(server: &Identity, pm: &PersistenceManager) -> Handshake {
    let wire = Arc::new(Wire::default());
    let (events, mut received) = async_channel::unbounded();
    let failures = AtomicU32::new(0);
    let client = do_handshake(
        Arc::new(whatsapp_rust::TokioRuntime),
        pm,
        &failures,
        wire.clone(),
        &mut received,
        None,
    );
    let mut side = ServerSide {
        wire: &wire,
        events: &events,
        next: 0,
    };
    let (result, seen) = tokio::join!(client, server.handshake(&mut side));
    assert!(result.is_ok(), "handshake: {:?}", result.err());
    assert_eq!(failures.load(std::sync::atomic::Ordering::SeqCst), 0);
    seen.expect("the server accepts the handshake")
}

// ---------------------------------------------------------------------------
// On both databases
// ---------------------------------------------------------------------------

/// A migrated database with one customer's live session row; PostgreSQL's is dropped
/// afterwards.
async fn with_store<F, Fut>(postgres: bool, test: F)
where
    F: FnOnce(Db, WaStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = postgres.then(|| testkit::PgDb::create("handshake"));
    let db = match &pg {
        Some(pg) => {
            let db = Db::connect(&pg.url, 4).await.expect("PostgreSQL");
            db.migrate().await.expect("migrations");
            db
        }
        None => testkit::sqlite(dir.path()).await.expect("SQLite"),
    };
    let key = testkit::seed_live_session(&db).await.unwrap();
    test(db.clone(), WaStore::new(db.clone(), key)).await;
    db.close().await;
}

async fn manager(store: &WaStore) -> PersistenceManager {
    PersistenceManager::new(Arc::new(store.clone()))
        .await
        .expect("persistence manager")
}

async fn first_connect_pairs_with_the_default_device_props(_db: Db, store: WaStore) {
    let pm = manager(&store).await;
    pm.process_command(DeviceCommand::SetAppVersion((2, 3000, 1_042_742_319)))
        .await;
    let seen = connect(&Identity::new(), &pm).await;
    assert_eq!(seen.pattern, "XX");
    let pairing = seen
        .payload
        .device_pairing_data
        .as_option()
        .expect("an unpaired device registers");
    let props = wa::DeviceProps::decode_from_slice(pairing.device_props.as_deref().unwrap())
        .expect("device props");
    assert_eq!(props.os, DEVICE_PROPS.os);
    assert!(props.os.as_deref().is_some_and(|os| !os.is_empty()));
    assert_eq!(props.platform_type, DEVICE_PROPS.platform_type);
    assert!(props.version.as_option().is_some());
    assert!(props.history_sync_config.as_option().is_some());
    let version = &seen.payload.user_agent.app_version;
    assert_eq!(
        (version.primary, version.secondary, version.tertiary),
        (Some(2), Some(3000), Some(1_042_742_319))
    );
    // The identity it registers is the one our store holds.
    let stored = store_device(&store).await;
    assert_eq!(
        pairing.e_ident.as_deref(),
        Some(stored.identity_key.public_key.public_key_bytes())
    );
    assert_eq!(seen.client_static, public(&stored.noise_key));
}

async fn store_device(store: &WaStore) -> whatsapp_rust::wacore::store::Device {
    use whatsapp_rust::wacore::store::traits::DeviceStore;
    store.load().await.unwrap().expect("a stored device")
}

async fn a_restarted_session_reconnects_with_ik_from_the_stored_state(_db: Db, store: WaStore) {
    let server = Identity::new();
    let pm = manager(&store).await;
    pm.process_command(DeviceCommand::SetId(Some(
        "6281234567890:3@s.whatsapp.net".parse().unwrap(),
    )))
    .await;
    let first = connect(&server, &pm).await;
    assert_eq!(first.pattern, "XX", "nothing cached yet");
    pm.flush()
        .await
        .expect("the device is written to our store");
    drop(pm);
    let stored = store_device(&store).await;
    let chain = stored
        .server_cert_chain
        .as_ref()
        .expect("the chain is stored");
    assert_eq!(chain.leaf.key, server.static_public());

    // A restart: a new manager on the same database.
    let pm = manager(&store).await;
    let again = connect(&server, &pm).await;
    assert_eq!(
        again.pattern, "IK",
        "the stored chain lets the client skip a round trip"
    );
    assert_eq!(again.client_static, first.client_static, "the same device");
    assert_eq!(again.client_static, public(&stored.noise_key));
    assert_eq!(
        again.payload.username,
        Some(6_281_234_567_890),
        "a login, not a pairing"
    );
    assert!(again.payload.device_pairing_data.as_option().is_none());
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::with_store(false, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::with_store(true, super::$name).await
            }
        }
    )*};
}

on_both!(
    first_connect_pairs_with_the_default_device_props,
    a_restarted_session_reconnects_with_ik_from_the_stored_state,
);
