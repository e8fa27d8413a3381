//! A worker killed mid-conversation never reuses a Signal key: whatsapp-rust keeps Signal
//! state in a write-behind cache and persists a *reservation* of chain counters before any
//! counter inside it goes on the wire, so after a crash a session resumes past everything
//! the dead process may have used. This runs that guarantee on our session store, on
//! SQLite and PostgreSQL: a child process (this test binary, run again) advances a
//! one-to-one session and a group sender key, flushes once, advances both further without
//! flushing, and is SIGKILLed; a fresh cache over a fresh store on the same database then
//! resumes at the reservation, with message keys the child never derived.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};
use uuid::Uuid;
use wasp_db::Db;
use wasp_protocol::service_token::Mode;
use wasp_worker::{drivers::live::store::WaStore, store::SessionKey, testkit};
use whatsapp_rust::{
    store::signal_cache::SignalStoreCache,
    wacore::libsignal::{
        protocol::{
            consts::SENDER_CHAIN_RESERVATION_BATCH, create_sender_key_distribution_message,
            group_encrypt, ChainKey, IdentityKey, KeyPair, ProtocolAddress, RootKey,
            SenderKeyRecord, SenderKeyStore, SessionRecord, SessionState,
        },
        store::sender_key_name::SenderKeyName,
    },
};

use rand010::{rngs::StdRng, SeedableRng};

const CHILD: &str = "WASP_DURABILITY_CHILD_DATABASE";
const CHILD_CUSTOMER: &str = "WASP_DURABILITY_CHILD_CUSTOMER";
const SEED: u64 = 0x0057_A5B0_D0AB_1E00;
/// Counters the child spends after its one flush (fewer than a reservation batch).
const UNFLUSHED: u32 = 5;

/// The message key material of one counter: what must never be derived twice.
type Key = ([u8; 32], [u8; 16]);

fn peer() -> ProtocolAddress {
    ProtocolAddress::new("6289876543210", 1.into())
}

fn group() -> SenderKeyName {
    SenderKeyName::from_parts("120363000000000042@g.us", "6281234567890@s.whatsapp.net:0")
}

/// The same one-to-one session for a given seed (so the test can replay the child's keys).
fn session(seed: u64) -> SessionRecord {
    let mut rng = StdRng::seed_from_u64(seed);
    let ours = IdentityKey::new(KeyPair::generate(&mut rng).public_key);
    let theirs = IdentityKey::new(KeyPair::generate(&mut rng).public_key);
    let base = KeyPair::generate(&mut rng).public_key;
    let mut state = SessionState::new(3, &ours, &theirs, &RootKey::new([3; 32]), &base);
    state.set_sender_chain(&KeyPair::generate(&mut rng), &ChainKey::new([5; 32], 0));
    SessionRecord::new(state)
}

/// Spends the next sending counter of `record` (as encrypting a message would): its index
/// and key material, reserving a batch of counters when the reservation is used up.
fn spend(record: &mut SessionRecord) -> (u32, Key) {
    let state = record.session_state().expect("a session state");
    let chain = state.get_sender_chain_key().expect("a sending chain");
    let keys = chain.message_keys().generate_keys();
    let next = chain.next_chain_key().expect("the next chain key");
    record
        .session_state_mut()
        .expect("a session state")
        .set_sender_chain_key(&next)
        .expect("chain advanced");
    if chain.index() >= record.reserved_sender_chain_index() {
        record.reserve_sender_chain_counters(chain.index());
    }
    (chain.index(), (*keys.cipher_key(), *keys.iv()))
}

/// A sender-key store over the library's cache, as the client's group sends use it.
struct Groups<'a> {
    cache: &'a SignalStoreCache,
    store: &'a WaStore,
}

#[whatsapp_rust::async_trait]
impl SenderKeyStore for Groups<'_> {
    async fn store_sender_key(
        &mut self,
        name: &SenderKeyName,
        record: SenderKeyRecord,
    ) -> whatsapp_rust::wacore::libsignal::protocol::error::Result<()> {
        self.cache.put_sender_key(name, record).await;
        Ok(())
    }

    async fn load_sender_key(
        &self,
        name: &SenderKeyName,
    ) -> whatsapp_rust::wacore::libsignal::protocol::error::Result<Option<SenderKeyRecord>> {
        let record = self
            .cache
            .get_sender_key(name, self.store)
            .await
            .map_err(|e| {
                whatsapp_rust::wacore::libsignal::protocol::SignalProtocolError::BackendError(
                    "wasp session store",
                    e.into(),
                )
            })?;
        Ok(record.map(|r| (*r).clone()))
    }
}

async fn store_of(url: &str, customer: Uuid) -> (Db, WaStore) {
    let db = Db::connect(url, 2).await.expect("database");
    let key = SessionKey {
        customer,
        mode: Mode::Live,
    };
    (db.clone(), WaStore::new(db, key))
}

/// The child: advance, flush once, advance more, tell the parent, and wait to be killed.
#[tokio::test]
#[ignore = "run as a child process by the durability tests"]
async fn child_advances_signal_state_until_killed() {
    let (Ok(url), Ok(customer)) = (std::env::var(CHILD), std::env::var(CHILD_CUSTOMER)) else {
        return;
    };
    let (_db, store) = store_of(&url, customer.parse().expect("customer id")).await;
    let cache = SignalStoreCache::new();
    let mut rng = StdRng::seed_from_u64(SEED ^ 1);

    let mut dm = session(SEED);
    assert_eq!(spend(&mut dm).0, 0);
    cache.put_session(&peer(), dm).await;
    let mut groups = Groups {
        cache: &cache,
        store: &store,
    };
    create_sender_key_distribution_message(&group(), &mut groups, &mut rng)
        .await
        .expect("sender key");
    let sent = group_encrypt(&mut groups, &group(), b"one", &mut rng)
        .await
        .expect("group message");
    assert_eq!(sent.iteration(), 0);
    // What the client does before anything goes on the wire.
    cache.flush(&store).await.expect("flush");

    let mut dm = cache
        .get_session(&peer(), &store)
        .await
        .expect("read")
        .expect("the session");
    for n in 1..=UNFLUSHED {
        assert_eq!(spend(&mut dm).0, n);
    }
    cache.put_session(&peer(), dm).await;
    for n in 1..=UNFLUSHED {
        let sent = group_encrypt(&mut groups, &group(), b"more", &mut rng)
            .await
            .expect("group message");
        assert_eq!(sent.iteration(), n);
    }
    println!("ADVANCED");
    std::future::pending::<()>().await;
}

/// Runs the child on `url` and SIGKILLs it once it advanced.
fn crash_child(url: &str, customer: Uuid) {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "live_durability::child_advances_signal_state_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, url)
        .env(CHILD_CUSTOMER, customer.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child started");
    let out = BufReader::new(child.stdout.take().expect("child stdout"));
    let advanced = out
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("ADVANCED"));
    assert!(advanced, "the child advanced its state");
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("child ended");
    assert!(!status.success(), "killed, not exited");
}

async fn killed_mid_conversation_a_session_never_reuses_a_key(postgres: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = postgres.then(|| testkit::PgDb::create("durability"));
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}/wasp.db", dir.path().display()),
    };
    let db = Db::connect(&url, 2).await.expect("database");
    db.migrate().await.expect("migrations");
    let customer = testkit::seed_live_session(&db).await.unwrap().customer;
    db.close().await;

    let child_url = url.clone();
    tokio::task::spawn_blocking(move || crash_child(&child_url, customer))
        .await
        .expect("child run");

    // Every key the child may have put on the wire.
    let mut replay = session(SEED);
    let used: Vec<Key> = (0..=UNFLUSHED).map(|_| spend(&mut replay).1).collect();

    // A new process: a fresh cache over a fresh store on the same database.
    let (db, store) = store_of(&url, customer).await;
    let cache = SignalStoreCache::new();
    let mut dm = cache
        .get_session(&peer(), &store)
        .await
        .expect("read")
        .expect("the session survived");
    let (counter, key) = spend(&mut dm);
    assert_eq!(
        counter, SENDER_CHAIN_RESERVATION_BATCH,
        "resumes past the reservation"
    );
    assert!(!used.contains(&key), "no message key is used twice");
    cache.put_session(&peer(), dm).await;
    let mut groups = Groups {
        cache: &cache,
        store: &store,
    };
    let mut rng = StdRng::seed_from_u64(SEED ^ 2);
    let resumed = group_encrypt(&mut groups, &group(), b"after", &mut rng)
        .await
        .expect("group message after the crash");
    assert_eq!(resumed.iteration(), SENDER_CHAIN_RESERVATION_BATCH);
    // The new reservation is written before the next message leaves, and read back exactly.
    assert!(cache.needs_pre_wire_flush().await);
    cache.flush(&store).await.expect("flush");
    cache.clear_after_flush().await;
    let mut again = cache
        .get_session(&peer(), &store)
        .await
        .expect("read")
        .expect("the session");
    assert_eq!(spend(&mut again).0, SENDER_CHAIN_RESERVATION_BATCH + 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_mid_conversation_a_session_never_reuses_a_key() {
    killed_mid_conversation_a_session_never_reuses_a_key(false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_conversation_a_session_never_reuses_a_key() {
    killed_mid_conversation_a_session_never_reuses_a_key(true).await
}
