//! The live driver's session store (`wasp_worker::drivers::live::store::WaStore`) against both
//! databases: SQLite in a temporary directory and PostgreSQL (`WASP_TEST_POSTGRES_URL`,
//! default the local server; a fresh database per test, dropped afterwards).
//!
//! The contract tests run one scenario on our store and on the library's reference
//! `InMemoryBackend`: each scenario asserts what a user of the store would check, and
//! records what it read, and both transcripts must be equal. The other tests cover what
//! only a database has: tenant isolation, `wipe`, the cascade from `wa_sessions`,
//! durability across reconnecting, the uploaded flag, and an atomic take.

use std::{fmt::Debug, future::Future, sync::Arc};
use uuid::Uuid;
use wasp_db::{on_pool, on_tx, Db};
use wasp_protocol::service_token::Mode;
use wasp_worker::{drivers::live::store::WaStore, store::SessionKey};
use whatsapp_rust::{
    bytes::Bytes,
    wacore::{
        appstate::{hash::HashState, processor::AppStateMutationMAC},
        store::{
            traits::{
                AppStateSyncKey, AppSyncStore, Backend, DeviceInfo, DeviceListRecord, DeviceStore,
                LidPnMappingEntry, MsgSecretEntry, PendingInboundKey, PendingInboundRow,
                ProtocolStore, SignalStore, TcTokenEntry,
            },
            Device, InMemoryBackend,
        },
        time::now_secs,
    },
};

type Store = Arc<dyn Backend>;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// A migrated database with three sessions: customer A live and test, customer B live.
struct Env {
    url: String,
    db: Db,
    a: WaStore,
    a_test: WaStore,
    b: WaStore,
}

fn postgres_admin_url() -> String {
    std::env::var("WASP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn admin_exec(sql: &str) {
    let admin = Db::connect(&postgres_admin_url(), 1)
        .await
        .expect("PostgreSQL reachable for tests");
    if let Db::Postgres(pool) = &admin {
        sqlx::query(sql).execute(pool).await.expect(sql);
    }
    admin.close().await;
}

async fn seed(db: &Db, customers: &[Uuid], sessions: &[SessionKey]) {
    let now = wasp_worker::store::now();
    let mut tx = db.begin().await.unwrap();
    for (i, id) in customers.iter().enumerate() {
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO customers (id, email, created_at, updated_at) VALUES ($1, $2, $3, $3)"
        )
        .bind(id)
        .bind(format!("c{i}@example.com"))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
        .unwrap();
    }
    for key in sessions {
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO wa_sessions (customer_id, mode, epoch, driver, state, logged_in, \
             state_changed_at, created_at, updated_at) \
             VALUES ($1, $2, 0, 'live', 'disconnected', FALSE, $3, $3, $3)"
        )
        .bind(key.customer)
        .bind(key.mode.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Runs `f` on a fresh database of `kind`, then drops the database (also when `f` panics).
async fn with_env<F, Fut>(kind: Kind, f: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, pg_name) = match kind {
        Kind::Sqlite => (format!("sqlite://{}/wasp.db", dir.path().display()), None),
        Kind::Postgres => {
            let name = format!("wasp_t_{}", Uuid::new_v4().simple());
            admin_exec(&format!("CREATE DATABASE {name}")).await;
            let base = postgres_admin_url();
            let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
            (format!("{prefix}/{name}"), Some(name))
        }
    };
    let db = Db::connect(&url, 4).await.expect("connect test database");
    db.migrate().await.expect("migrations apply");
    let (ca, cb) = (Uuid::now_v7(), Uuid::now_v7());
    let key = |customer, mode| SessionKey { customer, mode };
    let (ka, ka_test, kb) = (
        key(ca, Mode::Live),
        key(ca, Mode::Test),
        key(cb, Mode::Live),
    );
    seed(&db, &[ca, cb], &[ka, ka_test, kb]).await;
    let env = Env {
        url,
        a: WaStore::new(db.clone(), ka),
        a_test: WaStore::new(db.clone(), ka_test),
        b: WaStore::new(db.clone(), kb),
        db,
    };
    let result = tokio::spawn(f(env)).await;
    if let Some(name) = pg_name {
        admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    }
    drop(dir);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `scenario` on session A's store and on a fresh `InMemoryBackend`; the transcripts
/// must be equal.
async fn contract<F, Fut>(kind: Kind, scenario: F)
where
    F: Fn(Store) -> Fut + Send + 'static,
    Fut: Future<Output = Vec<String>> + Send + 'static,
{
    with_env(kind, move |env| async move {
        let ours = scenario(Arc::new(env.a.clone())).await;
        let reference = scenario(Arc::new(InMemoryBackend::new())).await;
        assert!(!ours.is_empty());
        assert_eq!(ours, reference, "our store and InMemoryBackend disagree");
    })
    .await
}

/// Declares `sqlite` and `postgres` tests for each contract scenario.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::contract(super::Kind::Sqlite, super::scenarios::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::contract(super::Kind::Postgres, super::scenarios::$name).await
            }
        }
    )*};
}

/// Declares `sqlite` and `postgres` tests for each `async fn name(env: Env)`.
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::with_env(super::Kind::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::with_env(super::Kind::Postgres, super::$name).await
            }
        }
    )*};
}

/// What a scenario read, for comparing two stores.
#[derive(Default)]
struct Log(Vec<String>);

impl Log {
    fn rec(&mut self, label: &str, value: impl Debug) {
        self.0.push(format!("{label}: {value:?}"));
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn arc(s: &str) -> Arc<str> {
    Arc::from(s)
}

// ---------------------------------------------------------------------------
// Contract scenarios (every trait method, on our store and the reference)
// ---------------------------------------------------------------------------

contract_tests!(
    identities,
    sessions,
    prekeys,
    signed_prekeys,
    sender_keys,
    sync_keys_and_versions,
    mutation_macs,
    sender_key_devices,
    lid_pn_mapping,
    base_keys,
    device_lists,
    group_metadata,
    tc_tokens,
    sent_messages,
    pending_inbound,
    msg_secrets,
    device,
);

mod scenarios {
    use super::*;

    pub async fn identities(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let a0 = "5511999990000@s.whatsapp.net";
        let a5 = "5511999990000:5@s.whatsapp.net";
        assert_eq!(s.load_identity(a0).await.unwrap(), None);
        assert!(!s.has_signal_state_for_user("5511999990000").await.unwrap());

        s.put_identity(a0, [1; 32]).await.unwrap();
        assert_eq!(s.load_identity(a0).await.unwrap(), Some([1; 32]));
        s.put_identity(a0, [2; 32]).await.unwrap();
        assert_eq!(
            s.load_identity(a0).await.unwrap(),
            Some([2; 32]),
            "overwrite"
        );

        s.put_identities_batch(&[
            (arc(a5), [3; 32]),
            (arc("100000012345678@lid"), [4; 32]),
            (arc(a0), [5; 32]),
        ])
        .await
        .unwrap();
        for a in [a0, a5, "100000012345678@lid", "nobody@s.whatsapp.net"] {
            log.rec(a, s.load_identity(a).await.unwrap());
        }
        assert_eq!(s.load_identity(a0).await.unwrap(), Some([5; 32]));

        // Identity-only state counts; exact user match only.
        for user in [
            "5511999990000",
            "551199999000",
            "55119999900001",
            "100000012345678",
            "1000000",
        ] {
            log.rec(user, s.has_signal_state_for_user(user).await.unwrap());
        }
        assert!(s.has_signal_state_for_user("5511999990000").await.unwrap());
        assert!(!s.has_signal_state_for_user("551199999000").await.unwrap());

        s.delete_identity(a0).await.unwrap();
        assert_eq!(s.load_identity(a0).await.unwrap(), None);
        assert_eq!(s.load_identity(a5).await.unwrap(), Some([3; 32]));
        // Device 5 is still known.
        assert!(s.has_signal_state_for_user("5511999990000").await.unwrap());
        s.delete_identity(a5).await.unwrap();
        assert!(!s.has_signal_state_for_user("5511999990000").await.unwrap());
        s.delete_identity("never-stored").await.unwrap();
        log.0
    }

    pub async fn sessions(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let a = "4477001122@s.whatsapp.net";
        let b = "4477001122:3@s.whatsapp.net";
        assert_eq!(s.get_session(a).await.unwrap(), None);
        assert!(!s.has_session(a).await.unwrap());

        s.put_session(a, b"ratchet-1").await.unwrap();
        assert_eq!(
            s.get_session(a).await.unwrap(),
            Some(Bytes::from_static(b"ratchet-1"))
        );
        assert!(s.has_session(a).await.unwrap());
        assert!(s.has_signal_state_for_user("4477001122").await.unwrap());
        assert!(!s.has_signal_state_for_user("447700112").await.unwrap());

        s.put_sessions_batch(&[
            (arc(a), Bytes::from_static(b"ratchet-2")),
            (arc(b), Bytes::from_static(b"other")),
        ])
        .await
        .unwrap();
        s.put_sessions_batch(&[]).await.unwrap();
        for addr in [a, b, "x@s.whatsapp.net"] {
            log.rec(addr, s.get_session(addr).await.unwrap());
            log.rec(addr, s.has_session(addr).await.unwrap());
        }
        assert_eq!(
            s.get_session(a).await.unwrap(),
            Some(Bytes::from_static(b"ratchet-2"))
        );

        s.delete_session(a).await.unwrap();
        assert!(!s.has_session(a).await.unwrap());
        assert!(s.has_session(b).await.unwrap());
        s.delete_session(b).await.unwrap();
        assert!(!s.has_signal_state_for_user("4477001122").await.unwrap());
        log.0
    }

    pub async fn prekeys(s: Store) -> Vec<String> {
        let mut log = Log::default();
        assert_eq!(s.get_max_prekey_id().await.unwrap(), 0, "empty store");
        assert_eq!(s.load_prekey(1).await.unwrap(), None);

        let batch: Vec<(u32, Bytes)> = (1..=5)
            .map(|i| (i, Bytes::from(format!("pk{i}").into_bytes())))
            .collect();
        s.store_prekeys_batch(&batch, false).await.unwrap();
        s.store_prekey(10, b"pk10", true).await.unwrap();
        assert_eq!(s.get_max_prekey_id().await.unwrap(), 10);
        assert_eq!(
            s.load_prekey(3).await.unwrap(),
            Some(Bytes::from_static(b"pk3"))
        );

        // Only existing keys, in the order asked for.
        let loaded = s.load_prekeys_batch(&[4, 99, 1, 10]).await.unwrap();
        assert_eq!(
            loaded,
            vec![
                (4, Bytes::from_static(b"pk4")),
                (1, Bytes::from_static(b"pk1")),
                (10, Bytes::from_static(b"pk10")),
            ]
        );
        log.rec("batch", &loaded);
        assert!(s.load_prekeys_batch(&[]).await.unwrap().is_empty());

        s.store_prekey(4, b"pk4-new", false).await.unwrap();
        assert_eq!(
            s.load_prekey(4).await.unwrap(),
            Some(Bytes::from_static(b"pk4-new"))
        );

        s.remove_prekey(10).await.unwrap();
        assert_eq!(s.get_max_prekey_id().await.unwrap(), 5);
        s.remove_prekey(3).await.unwrap();
        // Marking never resurrects a consumed key.
        s.mark_prekeys_uploaded(&[3, 4, 5]).await.unwrap();
        s.mark_prekeys_uploaded(&[]).await.unwrap();
        assert_eq!(s.load_prekey(3).await.unwrap(), None);
        for id in 1..=6 {
            log.rec(&format!("pk{id}"), s.load_prekey(id).await.unwrap());
        }
        log.rec("max", s.get_max_prekey_id().await.unwrap());
        log.0
    }

    pub async fn signed_prekeys(s: Store) -> Vec<String> {
        let mut log = Log::default();
        assert!(s.load_all_signed_prekeys().await.unwrap().is_empty());
        assert_eq!(s.load_signed_prekey(1).await.unwrap(), None);
        s.store_signed_prekey(2, b"spk2").await.unwrap();
        s.store_signed_prekey(1, b"spk1").await.unwrap();
        s.store_signed_prekey(2, b"spk2-rotated").await.unwrap();
        assert_eq!(
            s.load_signed_prekey(2).await.unwrap(),
            Some(b"spk2-rotated".to_vec())
        );
        let all = sorted(s.load_all_signed_prekeys().await.unwrap());
        assert_eq!(
            all,
            vec![(1, b"spk1".to_vec()), (2, b"spk2-rotated".to_vec())]
        );
        log.rec("all", &all);
        s.remove_signed_prekey(1).await.unwrap();
        assert_eq!(s.load_signed_prekey(1).await.unwrap(), None);
        log.rec(
            "after remove",
            sorted(s.load_all_signed_prekeys().await.unwrap()),
        );
        log.0
    }

    pub async fn sender_keys(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let k1 = "120363000000000001@g.us::4477001122::0";
        let k2 = "120363000000000001@g.us::4477003344::0";
        assert_eq!(s.get_sender_key(k1).await.unwrap(), None);
        s.put_sender_key(k1, b"sk1").await.unwrap();
        assert_eq!(s.get_sender_key(k1).await.unwrap(), Some(b"sk1".to_vec()));
        s.put_sender_keys_batch(&[
            (arc(k1), Bytes::from_static(b"sk1-b")),
            (arc(k2), Bytes::from_static(b"sk2")),
        ])
        .await
        .unwrap();
        for k in [k1, k2] {
            log.rec(k, s.get_sender_key(k).await.unwrap());
        }
        assert_eq!(s.get_sender_key(k1).await.unwrap(), Some(b"sk1-b".to_vec()));
        s.delete_sender_key(k1).await.unwrap();
        assert_eq!(s.get_sender_key(k1).await.unwrap(), None);
        assert_eq!(s.get_sender_key(k2).await.unwrap(), Some(b"sk2".to_vec()));
        log.0
    }

    pub async fn sync_keys_and_versions(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let key = |b: u8| AppStateSyncKey {
            key_data: vec![b; 32],
            fingerprint: vec![b, b],
            timestamp: 1_700_000_000 + i64::from(b),
        };
        assert!(s.get_sync_key(b"k1").await.unwrap().is_none());
        assert_eq!(s.get_latest_sync_key_id().await.unwrap(), None);

        s.set_sync_key(b"k1", key(1)).await.unwrap();
        s.set_sync_key(b"k2", key(2)).await.unwrap();
        assert_eq!(
            s.get_latest_sync_key_id().await.unwrap(),
            Some(b"k2".to_vec())
        );
        let k1 = s.get_sync_key(b"k1").await.unwrap().unwrap();
        assert_eq!(
            (k1.key_data, k1.fingerprint, k1.timestamp),
            (vec![1; 32], vec![1, 1], 1_700_000_001)
        );
        // Storing a key again replaces it. (Which key is the latest after keys arrive out
        // of order differs from InMemoryBackend on purpose: see latest_sync_key_is_the_highest_id.)
        s.set_sync_key(b"k1", key(3)).await.unwrap();
        log.rec("k1", s.get_sync_key(b"k1").await.unwrap());
        log.rec("k2", s.get_sync_key(b"k2").await.unwrap());

        let fresh = s.get_version("regular").await.unwrap();
        assert_eq!(fresh.version, 0);
        assert_eq!(fresh.hash, [0; 128]);
        assert!(!fresh.mac_mismatch_fatal);
        let state = HashState {
            version: 7,
            hash: [9; 128],
            mac_mismatch_fatal: true,
            ..Default::default()
        };
        s.set_version("regular", state).await.unwrap();
        s.set_version(
            "critical_block",
            HashState {
                version: 2,
                hash: [4; 128],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let got = s.get_version("regular").await.unwrap();
        assert_eq!(
            (got.version, got.hash, got.mac_mismatch_fatal),
            (7, [9; 128], true)
        );
        s.set_version(
            "regular",
            HashState {
                version: 8,
                hash: [10; 128],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        for name in ["regular", "critical_block", "regular_low"] {
            let st = s.get_version(name).await.unwrap();
            log.rec(name, (st.version, st.hash.to_vec(), st.mac_mismatch_fatal));
        }
        log.0
    }

    pub async fn mutation_macs(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let mac = |i: u8, v: u8| AppStateMutationMAC {
            index_mac: vec![i; 32],
            value_mac: vec![v; 32],
        };
        assert_eq!(s.get_mutation_mac("regular", &[1; 32]).await.unwrap(), None);
        s.put_mutation_macs("regular", 1, &[mac(1, 10), mac(2, 20)])
            .await
            .unwrap();
        s.put_mutation_macs("critical", 1, &[mac(1, 90)])
            .await
            .unwrap();
        s.put_mutation_macs("regular", 2, &[]).await.unwrap();
        assert_eq!(
            s.get_mutation_mac("regular", &[1; 32]).await.unwrap(),
            Some(vec![10; 32])
        );
        assert_eq!(
            s.get_mutation_mac("critical", &[1; 32]).await.unwrap(),
            Some(vec![90; 32]),
            "collections are separate"
        );

        let many = s
            .get_mutation_macs("regular", &[[1; 32], [2; 32], [3; 32]])
            .await
            .unwrap();
        assert_eq!(many.len(), 2);
        assert_eq!(many.get(&[2; 32]), Some(&vec![20; 32]));
        log.rec("many", sorted(many.into_iter().collect()));
        assert!(s
            .get_mutation_macs("regular", &[])
            .await
            .unwrap()
            .is_empty());

        // A later version overwrites the value MAC of an index.
        s.put_mutation_macs("regular", 2, &[mac(1, 11)])
            .await
            .unwrap();
        assert_eq!(
            s.get_mutation_mac("regular", &[1; 32]).await.unwrap(),
            Some(vec![11; 32])
        );

        s.delete_mutation_macs("regular", &[vec![1; 32], vec![7; 32]])
            .await
            .unwrap();
        assert_eq!(s.get_mutation_mac("regular", &[1; 32]).await.unwrap(), None);
        assert_eq!(
            s.get_mutation_mac("regular", &[2; 32]).await.unwrap(),
            Some(vec![20; 32])
        );
        assert!(s
            .get_mutation_mac("critical", &[1; 32])
            .await
            .unwrap()
            .is_some());

        s.put_mutation_macs("regular", 3, &[mac(5, 50)])
            .await
            .unwrap();
        s.clear_mutation_macs("regular").await.unwrap();
        for (name, i) in [("regular", 2), ("regular", 5), ("critical", 1)] {
            log.rec(name, s.get_mutation_mac(name, &[i; 32]).await.unwrap());
        }
        assert!(s
            .get_mutation_mac("regular", &[5; 32])
            .await
            .unwrap()
            .is_none());
        assert!(s
            .get_mutation_mac("critical", &[1; 32])
            .await
            .unwrap()
            .is_some());
        log.0
    }

    pub async fn sender_key_devices(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let (g1, g2) = ("120363000000000001@g.us", "120363000000000002@g.us");
        let (d1, d2, d3) = (
            "4477001122:1@s.whatsapp.net",
            "4477003344@s.whatsapp.net",
            "100000012345678:2@lid",
        );
        assert!(s.get_sender_key_devices(g1).await.unwrap().is_empty());
        s.set_sender_key_status(g1, &[(d1, true), (d2, false)])
            .await
            .unwrap();
        s.set_sender_key_status(g2, &[(d1, true), (d3, true)])
            .await
            .unwrap();
        s.set_sender_key_status(g1, &[]).await.unwrap();
        assert_eq!(
            sorted(s.get_sender_key_devices(g1).await.unwrap()),
            vec![(d1.to_owned(), true), (d2.to_owned(), false)]
        );
        s.set_sender_key_status(g1, &[(d2, true)]).await.unwrap();
        log.rec("g1", sorted(s.get_sender_key_devices(g1).await.unwrap()));

        // d1 goes from every group.
        s.delete_sender_key_device_rows(&[d1]).await.unwrap();
        s.delete_sender_key_device_rows(&[]).await.unwrap();
        assert_eq!(
            sorted(s.get_sender_key_devices(g1).await.unwrap()),
            vec![(d2.to_owned(), true)]
        );
        assert_eq!(
            sorted(s.get_sender_key_devices(g2).await.unwrap()),
            vec![(d3.to_owned(), true)]
        );

        s.clear_sender_key_devices(g1).await.unwrap();
        assert!(s.get_sender_key_devices(g1).await.unwrap().is_empty());
        assert_eq!(s.get_sender_key_devices(g2).await.unwrap().len(), 1);

        s.set_sender_key_status(g1, &[(d1, false)]).await.unwrap();
        s.clear_all_sender_key_devices().await.unwrap();
        for g in [g1, g2] {
            assert!(s.get_sender_key_devices(g).await.unwrap().is_empty());
            log.rec(g, s.get_sender_key_devices(g).await.unwrap());
        }
        log.0
    }

    fn lid(lid: &str, pn: &str, at: i64, source: &str) -> LidPnMappingEntry {
        LidPnMappingEntry {
            lid: lid.into(),
            phone_number: pn.into(),
            created_at: at,
            updated_at: at,
            learning_source: source.into(),
        }
    }

    pub async fn lid_pn_mapping(s: Store) -> Vec<String> {
        let mut log = Log::default();
        assert!(s.get_lid_mapping("100").await.unwrap().is_none());
        assert!(s.get_pn_mapping("5511").await.unwrap().is_none());
        assert!(s.get_all_lid_mappings().await.unwrap().is_empty());

        s.put_lid_mapping(&lid("100", "5511", 1000, "usync"))
            .await
            .unwrap();
        let by_lid = s.get_lid_mapping("100").await.unwrap().unwrap();
        assert_eq!(
            (
                by_lid.phone_number.as_str(),
                by_lid.learning_source.as_str()
            ),
            ("5511", "usync")
        );
        let by_pn = s.get_pn_mapping("5511").await.unwrap().unwrap();
        assert_eq!(by_pn.lid, "100");

        // A LID moving to another number: the old number no longer resolves.
        s.put_lid_mapping(&lid("200", "5522", 1000, "usync"))
            .await
            .unwrap();
        s.put_lid_mapping(&lid("200", "5533", 2000, "peer_pn_message"))
            .await
            .unwrap();
        assert!(s.get_pn_mapping("5522").await.unwrap().is_none());
        assert_eq!(s.get_pn_mapping("5533").await.unwrap().unwrap().lid, "200");
        assert_eq!(
            s.get_lid_mapping("200")
                .await
                .unwrap()
                .unwrap()
                .phone_number,
            "5533"
        );

        // Two LIDs for a number: the most recent wins.
        s.put_lid_mappings(&[
            lid("300", "5544", 1000, "usync"),
            lid("400", "5544", 3000, "usync"),
            lid("500", "5555", 1000, "history_sync"),
        ])
        .await
        .unwrap();
        s.put_lid_mappings(&[]).await.unwrap();
        assert_eq!(s.get_pn_mapping("5544").await.unwrap().unwrap().lid, "400");

        for l in ["100", "200", "300", "400", "500", "600"] {
            log.rec(l, s.get_lid_mapping(l).await.unwrap());
        }
        for p in ["5511", "5522", "5533", "5544", "5555"] {
            log.rec(p, s.get_pn_mapping(p).await.unwrap());
        }
        let mut all = s.get_all_lid_mappings().await.unwrap();
        all.sort_by(|a, b| a.lid.cmp(&b.lid));
        assert_eq!(all.len(), 5);
        log.rec("all", all);
        log.0
    }

    pub async fn base_keys(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let a = "4477001122:1@s.whatsapp.net";
        assert!(!s.has_same_base_key(a, "M1", b"base").await.unwrap());
        s.save_base_key(a, "M1", b"base").await.unwrap();
        assert!(s.has_same_base_key(a, "M1", b"base").await.unwrap());
        assert!(!s.has_same_base_key(a, "M1", b"other").await.unwrap());
        assert!(!s.has_same_base_key(a, "M2", b"base").await.unwrap());
        s.save_base_key(a, "M1", b"rotated").await.unwrap();
        log.rec(
            "after overwrite",
            (
                s.has_same_base_key(a, "M1", b"base").await.unwrap(),
                s.has_same_base_key(a, "M1", b"rotated").await.unwrap(),
            ),
        );
        s.delete_base_key(a, "M1").await.unwrap();
        assert!(!s.has_same_base_key(a, "M1", b"rotated").await.unwrap());
        log.0
    }

    fn devices(user: &str, n: u32, raw_id: Option<u32>) -> DeviceListRecord {
        DeviceListRecord {
            user: user.into(),
            devices: (0..n)
                .map(|d| DeviceInfo::new(d, (d > 0).then_some(d + 10)).with_hosting(d == 2))
                .collect(),
            timestamp: 1_700_000_000 + i64::from(n),
            phash: raw_id.map(|r| format!("2:{r}")),
            raw_id,
        }
    }

    pub async fn device_lists(s: Store) -> Vec<String> {
        let mut log = Log::default();
        assert!(s.get_devices("4477001122").await.unwrap().is_none());
        s.update_device_list(devices("4477001122", 3, Some(7)))
            .await
            .unwrap();
        let got = s.get_devices("4477001122").await.unwrap().unwrap();
        assert_eq!(got.devices.len(), 3);
        assert!(got.devices[2].is_hosted);
        assert_eq!(got.devices[1].key_index, Some(11));
        assert_eq!((got.raw_id, got.phash.as_deref()), (Some(7), Some("2:7")));
        s.update_device_list(devices("4477001122", 1, None))
            .await
            .unwrap();
        let got = s.get_devices("4477001122").await.unwrap().unwrap();
        assert_eq!((got.devices.len(), got.raw_id, got.phash), (1, None, None));

        s.update_device_lists(vec![
            devices("100000012345678", 2, Some(u32::MAX)),
            devices("4477003344", 4, Some(1)),
        ])
        .await
        .unwrap();
        s.update_device_lists(vec![]).await.unwrap();
        for u in ["4477001122", "100000012345678", "4477003344", "nobody"] {
            log.rec(u, s.get_devices(u).await.unwrap());
        }
        s.delete_devices("4477001122").await.unwrap();
        assert!(s.get_devices("4477001122").await.unwrap().is_none());
        assert!(s.get_devices("4477003344").await.unwrap().is_some());
        log.0
    }

    pub async fn group_metadata(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let g = "120363000000000001@g.us";
        assert!(s.get_group_metadata(g).await.unwrap().is_none());
        s.put_group_metadata(g, b"blob-v1").await.unwrap();
        assert_eq!(
            s.get_group_metadata(g).await.unwrap().as_deref(),
            Some(&b"blob-v1"[..])
        );
        s.put_group_metadata(g, b"blob-v2").await.unwrap();
        log.rec("v2", s.get_group_metadata(g).await.unwrap());
        s.delete_group_metadata(g).await.unwrap();
        assert!(s.get_group_metadata(g).await.unwrap().is_none());
        log.0
    }

    pub async fn tc_tokens(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let entry = |token: &[u8], token_timestamp, sender_timestamp| TcTokenEntry {
            token: token.to_vec(),
            token_timestamp,
            sender_timestamp,
        };
        assert!(s.get_tc_token("u1").await.unwrap().is_none());
        assert!(s.get_all_tc_token_jids().await.unwrap().is_empty());

        // Touch: a byte-less placeholder, then a real token survives later touches.
        s.touch_tc_token_sender_timestamp("u1", 1000).await.unwrap();
        let ph = s.get_tc_token("u1").await.unwrap().unwrap();
        assert!(ph.token.is_empty());
        assert_eq!(
            (ph.token_timestamp, ph.sender_timestamp),
            (1000, Some(1000))
        );
        s.put_tc_token("u1", &entry(&[7, 8, 9], 2000, None))
            .await
            .unwrap();
        s.touch_tc_token_sender_timestamp("u1", 3000).await.unwrap();
        s.touch_tc_token_sender_timestamp("u1", 2500).await.unwrap();
        let merged = s.get_tc_token("u1").await.unwrap().unwrap();
        assert_eq!(merged.token, vec![7, 8, 9], "touch keeps the real token");
        assert_eq!(merged.token_timestamp, 2000);
        assert_eq!(merged.sender_timestamp, Some(3000), "only moves forward");

        // Received tokens: the sender bucket is kept, newer wins, placeholders give way.
        s.touch_tc_token_sender_timestamp("u2", 5000).await.unwrap();
        s.store_received_tc_token("u2", &[1, 2, 3], 4000)
            .await
            .unwrap();
        let e = s.get_tc_token("u2").await.unwrap().unwrap();
        assert_eq!(
            (e.token, e.token_timestamp, e.sender_timestamp),
            (vec![1, 2, 3], 4000, Some(5000))
        );
        s.store_received_tc_token("u2", &[4], 3000).await.unwrap();
        assert_eq!(
            s.get_tc_token("u2").await.unwrap().unwrap().token,
            vec![1, 2, 3],
            "a stale token does not overwrite"
        );
        s.store_received_tc_token("u2", &[5], 4000).await.unwrap();
        assert_eq!(
            s.get_tc_token("u2").await.unwrap().unwrap().token,
            vec![5],
            "an equally new token does"
        );
        s.store_received_tc_token("u3", &[9], 4000).await.unwrap();
        assert_eq!(
            s.get_tc_token("u3")
                .await
                .unwrap()
                .unwrap()
                .sender_timestamp,
            None
        );

        // Pruning: token_cutoff 1000, sender_cutoff 2000.
        s.touch_tc_token_sender_timestamp("recent_ph", 2500)
            .await
            .unwrap();
        s.touch_tc_token_sender_timestamp("stale_ph", 100)
            .await
            .unwrap();
        s.put_tc_token("expired_tok_live_sender", &entry(&[1], 1, Some(2500)))
            .await
            .unwrap();
        s.put_tc_token("orphan_expired", &entry(&[2], 1, None))
            .await
            .unwrap();
        s.put_tc_token("fresh_tok", &entry(&[3], 5000, None))
            .await
            .unwrap();
        s.put_tc_token("edge", &entry(&[4], 1000, Some(1999)))
            .await
            .unwrap();
        log.rec(
            "jids before",
            sorted(s.get_all_tc_token_jids().await.unwrap()),
        );
        let removed = s.delete_expired_tc_tokens(1000, 2000).await.unwrap();
        assert_eq!(removed, 2, "only fully stale rows go");
        assert!(s.get_tc_token("stale_ph").await.unwrap().is_none());
        assert!(s.get_tc_token("orphan_expired").await.unwrap().is_none());
        assert!(s.get_tc_token("edge").await.unwrap().is_some());
        assert!(s.get_tc_token("recent_ph").await.unwrap().is_some());
        assert_eq!(s.delete_expired_tc_tokens(1000, 2000).await.unwrap(), 0);

        s.delete_tc_token("u3").await.unwrap();
        assert!(s.get_tc_token("u3").await.unwrap().is_none());
        let jids = sorted(s.get_all_tc_token_jids().await.unwrap());
        assert_eq!(jids.len(), 6);
        log.rec("jids after", &jids);
        for j in jids {
            log.rec(&j, s.get_tc_token(&j).await.unwrap());
        }
        log.0
    }

    pub async fn sent_messages(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let chat = "4477001122@s.whatsapp.net";
        assert!(s.take_sent_message(chat, "M1").await.unwrap().is_none());
        s.store_sent_message(chat, "M1", b"payload-1")
            .await
            .unwrap();
        s.store_sent_message(chat, "M2", b"payload-2")
            .await
            .unwrap();
        s.store_sent_message("120363000000000001@g.us", "M1", b"group")
            .await
            .unwrap();
        s.store_sent_message(chat, "M1", b"payload-1b")
            .await
            .unwrap();

        let taken = s.take_sent_message(chat, "M1").await.unwrap();
        assert_eq!(taken.as_deref(), Some(&b"payload-1b"[..]));
        assert!(
            s.take_sent_message(chat, "M1").await.unwrap().is_none(),
            "taken once"
        );
        log.rec("taken", taken);

        let now = now_secs();
        assert_eq!(s.delete_expired_sent_messages(now - 3600).await.unwrap(), 0);
        assert_eq!(s.delete_expired_sent_messages(now + 3600).await.unwrap(), 2);
        assert!(s.take_sent_message(chat, "M2").await.unwrap().is_none());
        log.rec(
            "group after expiry",
            s.take_sent_message("120363000000000001@g.us", "M1")
                .await
                .unwrap(),
        );
        log.0
    }

    pub async fn pending_inbound(s: Store) -> Vec<String> {
        let mut log = Log::default();
        let (chat, alice, bob) = (
            "120363000000000001@g.us",
            "4477001122@s.whatsapp.net",
            "4477003344@s.whatsapp.net",
        );
        assert!(s
            .get_pending_inbound(chat, alice, "I1")
            .await
            .unwrap()
            .is_none());
        s.store_pending_inbound(chat, alice, "I1", b"msg-1")
            .await
            .unwrap();
        assert_eq!(
            s.get_pending_inbound(chat, alice, "I1").await.unwrap(),
            Some(b"msg-1".to_vec())
        );
        // Keyed by (chat, sender, id): the same id from another sender is another row.
        assert!(s
            .get_pending_inbound(chat, bob, "I1")
            .await
            .unwrap()
            .is_none());
        s.store_pending_inbound(chat, alice, "I1", b"msg-1b")
            .await
            .unwrap();

        s.store_pending_inbound_batch(&[
            PendingInboundRow {
                chat,
                sender: bob,
                id: "I1",
                message: b"bob-1",
            },
            PendingInboundRow {
                chat,
                sender: bob,
                id: "I2",
                message: b"bob-2",
            },
            PendingInboundRow {
                chat: bob,
                sender: bob,
                id: "I3",
                message: b"dm-3",
            },
        ])
        .await
        .unwrap();
        s.store_pending_inbound_batch(&[]).await.unwrap();
        for (c, snd, id) in [
            (chat, alice, "I1"),
            (chat, bob, "I1"),
            (chat, bob, "I2"),
            (bob, bob, "I3"),
        ] {
            log.rec(id, s.get_pending_inbound(c, snd, id).await.unwrap());
        }

        s.delete_pending_inbound(chat, alice, "I1").await.unwrap();
        assert!(s
            .get_pending_inbound(chat, alice, "I1")
            .await
            .unwrap()
            .is_none());
        assert!(s
            .get_pending_inbound(chat, bob, "I1")
            .await
            .unwrap()
            .is_some());
        s.delete_pending_inbound_batch(&[
            PendingInboundKey {
                chat,
                sender: bob,
                id: "I1",
            },
            PendingInboundKey {
                chat,
                sender: bob,
                id: "nope",
            },
        ])
        .await
        .unwrap();
        s.delete_pending_inbound_batch(&[]).await.unwrap();
        assert!(s
            .get_pending_inbound(chat, bob, "I1")
            .await
            .unwrap()
            .is_none());

        let now = now_secs();
        assert_eq!(
            s.delete_expired_pending_inbound(now - 3600).await.unwrap(),
            0
        );
        assert_eq!(
            s.delete_expired_pending_inbound(now + 3600).await.unwrap(),
            2
        );
        assert!(s
            .get_pending_inbound(bob, bob, "I3")
            .await
            .unwrap()
            .is_none());
        log.0
    }

    fn secret(
        chat: &str,
        sender: &str,
        id: &str,
        b: u8,
        expires_at: i64,
        ts: i64,
    ) -> MsgSecretEntry {
        MsgSecretEntry {
            chat: arc(chat),
            sender: arc(sender),
            msg_id: arc(id),
            secret: [b; 32],
            expires_at,
            message_ts: ts,
        }
    }

    pub async fn msg_secrets(s: Store) -> Vec<String> {
        let mut log = Log::default();
        assert!(s.get_msg_secret("c", "s", "M1").await.unwrap().is_none());
        s.put_msg_secret("c", "s", "M1", &[1; 32]).await.unwrap();
        assert_eq!(
            s.get_msg_secret("c", "s", "M1").await.unwrap(),
            Some(vec![1; 32])
        );
        assert_eq!(
            s.get_msg_secret_with_ts("c", "s", "M1").await.unwrap(),
            Some((vec![1; 32], 0))
        );
        // Keyed by all three.
        let stored = s
            .put_msg_secrets(vec![
                secret("c", "s", "M2", 2, 100, 50),
                secret("c", "t", "M1", 3, 0, 0),
                secret("d", "s", "M1", 4, 200, 60),
                secret("c", "s", "M2", 5, 50, 0),
            ])
            .await
            .unwrap();
        assert_eq!(stored, 4);
        assert_eq!(s.put_msg_secrets(vec![]).await.unwrap(), 0);

        // Same key again: secret overwritten, later deadline and known parent time kept.
        assert_eq!(
            s.get_msg_secret_with_ts("c", "s", "M2").await.unwrap(),
            Some((vec![5; 32], 50))
        );
        // "Never" (0) wins over any deadline.
        s.put_msg_secrets(vec![secret("d", "s", "M1", 6, 0, 70)])
            .await
            .unwrap();
        s.put_msg_secrets(vec![secret("c", "s", "M1", 7, 300, 0)])
            .await
            .unwrap();
        for (c, snd, id) in [
            ("c", "s", "M1"),
            ("c", "s", "M2"),
            ("c", "t", "M1"),
            ("d", "s", "M1"),
        ] {
            log.rec(id, s.get_msg_secret_with_ts(c, snd, id).await.unwrap());
        }

        // Expiry: M2 expires at 100; the rest never (0).
        assert_eq!(s.delete_expired_msg_secrets(99).await.unwrap(), 0);
        assert_eq!(s.delete_expired_msg_secrets(100).await.unwrap(), 1);
        assert!(s.get_msg_secret("c", "s", "M2").await.unwrap().is_none());
        assert_eq!(s.delete_expired_msg_secrets(i64::MAX).await.unwrap(), 0);
        assert!(s.get_msg_secret("d", "s", "M1").await.unwrap().is_some());
        s.put_msg_secrets(vec![secret("e", "s", "M9", 8, 500, 1)])
            .await
            .unwrap();
        log.rec("expired", s.delete_expired_msg_secrets(1000).await.unwrap());
        log.0
    }

    pub async fn device(s: Store) -> Vec<String> {
        let mut log = Log::default();
        assert!(!s.exists().await.unwrap());
        assert!(s.load().await.unwrap().is_none());

        let id = s.create().await.unwrap();
        log.rec("created", id);
        assert!(s.exists().await.unwrap());
        let created = s
            .load()
            .await
            .unwrap()
            .expect("create materializes a device");
        let created_json = serde_json::to_string(&created).unwrap();

        // A second create keeps the existing device.
        s.create().await.unwrap();
        let again = s.load().await.unwrap().unwrap();
        assert_eq!(serde_json::to_string(&again).unwrap(), created_json);

        let mut d = again;
        d.push_name = "wasp".into();
        d.registration_id = 4242;
        d.login_counter = 3;
        d.server_has_prekeys = true;
        s.save(&d).await.unwrap();
        let loaded = s.load().await.unwrap().unwrap();
        assert_eq!(
            serde_json::to_string(&loaded).unwrap(),
            serde_json::to_string(&d).unwrap(),
            "save/load round trip"
        );
        log.rec(
            "loaded",
            (
                loaded.push_name,
                loaded.registration_id,
                loaded.login_counter,
                loaded.server_has_prekeys,
            ),
        );
        s.snapshot_db("probe", Some(b"x")).await.unwrap();
        log.0
    }
}

// ---------------------------------------------------------------------------
// Database-only tests
// ---------------------------------------------------------------------------

db_tests!(
    latest_sync_key_is_the_highest_id,
    pairing_payload_carries_the_default_device_props,
    isolation_and_wipe,
    durability_across_reconnect,
    uploaded_flags,
    take_sent_message_is_atomic,
    resource_report,
);

/// The latest app-state key is the one with the highest id, as in whatsapp-rust's SQLite
/// store, whatever order the keys were stored in (a key the phone shares again, or an older
/// one arriving late, does not become the latest).
async fn latest_sync_key_is_the_highest_id(env: Env) {
    let key = |b: u8| AppStateSyncKey {
        key_data: vec![b; 32],
        fingerprint: vec![b],
        timestamp: i64::from(b),
    };
    let s = &env.a;
    let id = |n: u16| [0, 0, 0, 0, (n >> 8) as u8, n as u8].to_vec();
    s.set_sync_key(&id(0x0102), key(2)).await.unwrap();
    s.set_sync_key(&id(0x0001), key(1)).await.unwrap();
    assert_eq!(s.get_latest_sync_key_id().await.unwrap(), Some(id(0x0102)));
    s.set_sync_key(&id(0x0001), key(3)).await.unwrap();
    assert_eq!(s.get_latest_sync_key_id().await.unwrap(), Some(id(0x0102)));
    s.set_sync_key(&id(0x0200), key(4)).await.unwrap();
    assert_eq!(s.get_latest_sync_key_id().await.unwrap(), Some(id(0x0200)));
    // Another session's keys do not count.
    assert_eq!(env.b.get_latest_sync_key_id().await.unwrap(), None);
}

/// The registration payload the library builds from a device (what a QR or pair-code login
/// sends) carries the device properties: OS, version, platform type and history-sync
/// settings. They are not serialised, so a store that loads a device without restoring
/// them pairs with none. Compared with the library's own in-memory store, through the
/// library's PersistenceManager (exists, create, load), and again after a restart.
async fn pairing_payload_carries_the_default_device_props(env: Env) {
    use whatsapp_rust::store::persistence_manager::PersistenceManager;
    async fn props_of(backend: Store) -> Vec<u8> {
        let pm = PersistenceManager::new(backend)
            .await
            .expect("persistence manager");
        let payload = pm.get_device_snapshot().get_client_payload();
        payload
            .device_pairing_data
            .as_option()
            .expect("an unpaired device sends registration data")
            .device_props
            .clone()
            .expect("device props in the registration data")
    }
    let reference = props_of(Arc::new(InMemoryBackend::new())).await;
    let defaults = whatsapp_rust::waproto::codec::device_props_to_vec(
        &whatsapp_rust::wacore::store::device::DEVICE_PROPS,
    );
    assert_eq!(reference, defaults);
    assert!(reference.len() > 10, "the defaults are not empty");
    let ours: Store = Arc::new(env.a.clone());
    assert_eq!(props_of(ours.clone()).await, defaults, "first start");
    assert_eq!(props_of(ours).await, defaults, "after a restart");
}

/// One of everything, with values that depend on `tag`, under the same keys in every
/// session.
async fn populate(s: &dyn Backend, tag: u8, device: &Device) {
    let t = i64::from(tag);
    s.save(device).await.unwrap();
    s.put_identity("4477001122@s.whatsapp.net", [tag; 32])
        .await
        .unwrap();
    s.put_session("4477001122@s.whatsapp.net", &[tag, 1])
        .await
        .unwrap();
    s.store_prekeys_batch(
        &[
            (1, Bytes::from(vec![tag, 2])),
            (u32::from(tag) + 10, Bytes::from(vec![tag])),
        ],
        false,
    )
    .await
    .unwrap();
    s.store_signed_prekey(1, &[tag, 3]).await.unwrap();
    s.put_sender_key("g@g.us::4477001122::0", &[tag, 4])
        .await
        .unwrap();
    s.set_sync_key(
        &[tag],
        AppStateSyncKey {
            key_data: vec![tag; 32],
            fingerprint: vec![tag],
            timestamp: t,
        },
    )
    .await
    .unwrap();
    s.set_version(
        "regular",
        HashState {
            version: u64::from(tag),
            hash: [tag; 128],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.put_mutation_macs(
        "regular",
        1,
        &[AppStateMutationMAC {
            index_mac: vec![0; 32],
            value_mac: vec![tag; 32],
        }],
    )
    .await
    .unwrap();
    s.set_sender_key_status("g@g.us", &[("4477001122:1@s.whatsapp.net", tag > 1)])
        .await
        .unwrap();
    s.put_lid_mapping(&LidPnMappingEntry {
        lid: "100".into(),
        phone_number: format!("55{tag}"),
        created_at: t,
        updated_at: t,
        learning_source: "usync".into(),
    })
    .await
    .unwrap();
    s.save_base_key("4477001122@s.whatsapp.net", "M1", &[tag])
        .await
        .unwrap();
    s.update_device_list(DeviceListRecord {
        user: "4477001122".into(),
        devices: vec![DeviceInfo::new(u32::from(tag), None)],
        timestamp: t,
        phash: None,
        raw_id: Some(u32::from(tag)),
    })
    .await
    .unwrap();
    s.put_group_metadata("g@g.us", &[tag, 5]).await.unwrap();
    s.put_tc_token(
        "100@lid",
        &TcTokenEntry {
            token: vec![tag],
            token_timestamp: t,
            sender_timestamp: Some(t),
        },
    )
    .await
    .unwrap();
    s.store_sent_message("4477001122@s.whatsapp.net", "S1", &[tag, 6])
        .await
        .unwrap();
    s.store_pending_inbound("g@g.us", "4477001122@s.whatsapp.net", "P1", &[tag, 7])
        .await
        .unwrap();
    s.put_msg_secrets(vec![MsgSecretEntry {
        chat: arc("g@g.us"),
        sender: arc("4477001122@s.whatsapp.net"),
        msg_id: arc("S1"),
        secret: [tag; 32],
        expires_at: 10_000 + t,
        message_ts: t,
    }])
    .await
    .unwrap();
}

/// Everything [`populate`] wrote, read back (non-destructively, except the sent message,
/// which is taken and stored again).
async fn snapshot(s: &dyn Backend) -> Vec<String> {
    let mut log = Log::default();
    log.rec("exists", s.exists().await.unwrap());
    log.rec(
        "device",
        s.load()
            .await
            .unwrap()
            .map(|d| serde_json::to_string(&d).unwrap()),
    );
    log.rec(
        "identity",
        s.load_identity("4477001122@s.whatsapp.net").await.unwrap(),
    );
    log.rec(
        "session",
        s.get_session("4477001122@s.whatsapp.net").await.unwrap(),
    );
    log.rec("prekey 1", s.load_prekey(1).await.unwrap());
    log.rec("max prekey", s.get_max_prekey_id().await.unwrap());
    log.rec(
        "signed prekeys",
        sorted(s.load_all_signed_prekeys().await.unwrap()),
    );
    log.rec(
        "sender key",
        s.get_sender_key("g@g.us::4477001122::0").await.unwrap(),
    );
    let latest = s.get_latest_sync_key_id().await.unwrap();
    log.rec("latest sync key", &latest);
    if let Some(id) = latest {
        log.rec("sync key", s.get_sync_key(&id).await.unwrap());
    }
    let v = s.get_version("regular").await.unwrap();
    log.rec("version", (v.version, v.hash.to_vec()));
    log.rec(
        "mac",
        s.get_mutation_mac("regular", &[0; 32]).await.unwrap(),
    );
    log.rec(
        "skd",
        sorted(s.get_sender_key_devices("g@g.us").await.unwrap()),
    );
    log.rec("lid", s.get_lid_mapping("100").await.unwrap());
    log.rec("all lids", s.get_all_lid_mappings().await.unwrap());
    for tag in 1..=3u8 {
        log.rec(
            &format!("base key {tag}"),
            s.has_same_base_key("4477001122@s.whatsapp.net", "M1", &[tag])
                .await
                .unwrap(),
        );
    }
    log.rec("devices", s.get_devices("4477001122").await.unwrap());
    log.rec("group", s.get_group_metadata("g@g.us").await.unwrap());
    log.rec("tc", s.get_tc_token("100@lid").await.unwrap());
    log.rec("tc jids", s.get_all_tc_token_jids().await.unwrap());
    let sent = s
        .take_sent_message("4477001122@s.whatsapp.net", "S1")
        .await
        .unwrap();
    if let Some(p) = &sent {
        s.store_sent_message("4477001122@s.whatsapp.net", "S1", p)
            .await
            .unwrap();
    }
    log.rec("sent", sent);
    log.rec(
        "pending",
        s.get_pending_inbound("g@g.us", "4477001122@s.whatsapp.net", "P1")
            .await
            .unwrap(),
    );
    log.rec(
        "secret",
        s.get_msg_secret_with_ts("g@g.us", "4477001122@s.whatsapp.net", "S1")
            .await
            .unwrap(),
    );
    log.0
}

/// Every deleting method of the traits, on the keys [`populate`] wrote.
async fn destroy(s: &dyn Backend) {
    let addr = "4477001122@s.whatsapp.net";
    s.delete_identity(addr).await.unwrap();
    s.delete_session(addr).await.unwrap();
    s.mark_prekeys_uploaded(&[1, 11, 12, 13]).await.unwrap();
    s.remove_prekey(1).await.unwrap();
    for id in 11..=13 {
        s.remove_prekey(id).await.unwrap();
    }
    s.remove_signed_prekey(1).await.unwrap();
    s.delete_sender_key("g@g.us::4477001122::0").await.unwrap();
    s.delete_mutation_macs("regular", &[vec![0; 32]])
        .await
        .unwrap();
    s.clear_mutation_macs("regular").await.unwrap();
    s.delete_sender_key_device_rows(&["4477001122:1@s.whatsapp.net"])
        .await
        .unwrap();
    s.clear_sender_key_devices("g@g.us").await.unwrap();
    s.clear_all_sender_key_devices().await.unwrap();
    s.delete_base_key(addr, "M1").await.unwrap();
    s.delete_devices("4477001122").await.unwrap();
    s.delete_group_metadata("g@g.us").await.unwrap();
    s.delete_tc_token("100@lid").await.unwrap();
    assert_eq!(
        s.delete_expired_tc_tokens(i64::MAX, i64::MAX)
            .await
            .unwrap(),
        0
    );
    assert!(s.take_sent_message(addr, "S1").await.unwrap().is_some());
    assert_eq!(s.delete_expired_sent_messages(i64::MAX).await.unwrap(), 0);
    s.delete_pending_inbound("g@g.us", addr, "P1")
        .await
        .unwrap();
    s.delete_pending_inbound_batch(&[PendingInboundKey {
        chat: "g@g.us",
        sender: addr,
        id: "P1",
    }])
    .await
    .unwrap();
    assert_eq!(s.delete_expired_pending_inbound(i64::MAX).await.unwrap(), 0);
    assert_eq!(s.delete_expired_msg_secrets(i64::MAX).await.unwrap(), 1);
}

/// The reference's view of a session populated with `tag` (or empty).
async fn reference(tag: Option<(u8, &Device)>) -> Vec<String> {
    let mem = InMemoryBackend::new();
    if let Some((tag, device)) = tag {
        populate(&mem, tag, device).await;
    }
    snapshot(&mem).await
}

/// The `wa_live_` tables in the database's catalog.
async fn live_tables(db: &Db) -> Vec<String> {
    let sql = match db {
        Db::Postgres(_) => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
             AND substr(tablename, 1, 8) = 'wa_live_' ORDER BY 1"
        }
        Db::Sqlite { .. } => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND substr(name, 1, 8) = 'wa_live_' ORDER BY 1"
        }
    };
    on_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql)
        .fetch_all(pool)
        .await)
    .unwrap()
}

/// Rows a session holds in each `wa_live_` table that has any.
async fn rows_of(db: &Db, key: SessionKey) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in live_tables(db).await {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE customer_id = $1 AND mode = $2");
        let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(&sql)
            .bind(key.customer)
            .bind(key.mode.as_str())
            .fetch_one(pool)
            .await)
        .unwrap();
        if n > 0 {
            out.push((table, n));
        }
    }
    out
}

async fn isolation_and_wipe(env: Env) {
    assert_eq!(live_tables(&env.db).await.len(), 18);
    let devices: Vec<Device> = (0..3)
        .map(|i| {
            let mut d = Device::new();
            d.push_name = format!("session {i}");
            d
        })
        .collect();
    let sessions = [(&env.a, 1u8), (&env.a_test, 2), (&env.b, 3)];
    for (i, (store, tag)) in sessions.iter().enumerate() {
        populate(*store, *tag, &devices[i]).await;
    }
    // Every session reads exactly its own values, as the reference would.
    for (i, (store, tag)) in sessions.iter().enumerate() {
        assert_eq!(
            snapshot(*store).await,
            reference(Some((*tag, &devices[i]))).await,
            "session {i} sees only its own rows"
        );
    }
    let full = rows_of(&env.db, env.a.key()).await;
    assert_eq!(full.len(), 18, "populate writes every table: {full:?}");
    assert_eq!(rows_of(&env.db, env.b.key()).await, full);

    // Every deleting method, on session A: the other sessions keep all their rows.
    destroy(&env.a).await;
    for (i, (store, tag)) in sessions.iter().enumerate().skip(1) {
        assert_eq!(
            snapshot(*store).await,
            reference(Some((*tag, &devices[i]))).await,
            "session {i} is untouched by session 0's deletes"
        );
    }
    assert_eq!(rows_of(&env.db, env.b.key()).await, full);
    // What A keeps has no deleting method in the trait; wipe() is for it.
    let kept: Vec<String> = rows_of(&env.db, env.a.key())
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        kept,
        [
            "wa_live_app_state_sync_keys",
            "wa_live_app_state_versions",
            "wa_live_device",
            "wa_live_lid_pn_mapping",
        ]
    );

    // wipe() empties this session only; the session row stays.
    env.a.wipe().await.unwrap();
    assert!(rows_of(&env.db, env.a.key()).await.is_empty());
    assert_eq!(snapshot(&env.a).await, reference(None).await);
    assert_eq!(
        snapshot(&env.a_test).await,
        reference(Some((2, &devices[1]))).await
    );
    assert!(wasp_worker::store::session(&env.db, env.a.key())
        .await
        .unwrap()
        .is_some());
    // A wiped session starts over.
    assert_eq!(env.a.create().await.unwrap(), 1);
    assert!(env.a.exists().await.unwrap());

    // Deleting a session row deletes its keys (cascade), and only its keys.
    let a_test_rows = rows_of(&env.db, env.a_test.key()).await;
    let mut tx = env.db.begin().await.unwrap();
    on_tx!(&mut tx, |conn| sqlx::query(
        "DELETE FROM wa_sessions WHERE customer_id = $1 AND mode = $2"
    )
    .bind(env.b.key().customer)
    .bind(env.b.key().mode.as_str())
    .execute(&mut *conn)
    .await
    .map(|_| ()))
    .unwrap();
    tx.commit().await.unwrap();
    assert!(rows_of(&env.db, env.b.key()).await.is_empty());
    assert_eq!(rows_of(&env.db, env.a_test.key()).await, a_test_rows);
}

async fn durability_across_reconnect(env: Env) {
    let device = Device::new();
    populate(&env.a, 4, &device).await;
    let before = snapshot(&env.a).await;
    let key = env.a.key();
    env.db.close().await;
    drop(env.a);

    let db = Db::connect(&env.url, 2).await.unwrap();
    let store = WaStore::new(db.clone(), key);
    let after = snapshot(&store).await;
    assert_eq!(after, before);
    assert_eq!(after, reference(Some((4, &device))).await);
    db.close().await;
}

async fn uploaded_flags(env: Env) {
    let s = &env.a;
    let flags = |s: &WaStore| {
        let (db, key) = (env.db.clone(), s.key());
        async move {
            on_pool!(&db, |pool| sqlx::query_as::<_, (i64, bool)>(
                "SELECT id, uploaded FROM wa_live_prekeys WHERE customer_id = $1 AND mode = $2 ORDER BY id"
            )
            .bind(key.customer)
            .bind(key.mode.as_str())
            .fetch_all(pool)
            .await)
            .unwrap()
        }
    };
    let keys: Vec<(u32, Bytes)> = (1..=4).map(|i| (i, Bytes::from(vec![i as u8]))).collect();
    s.store_prekeys_batch(&keys, false).await.unwrap();
    s.store_prekey(5, b"five", true).await.unwrap();
    env.a_test.store_prekeys_batch(&keys, false).await.unwrap();
    s.remove_prekey(4).await.unwrap();

    s.mark_prekeys_uploaded(&[1, 2, 4, 99]).await.unwrap();
    assert_eq!(
        flags(s).await,
        vec![(1, true), (2, true), (3, false), (5, true)],
        "marked keys are uploaded; removed and unknown ids are not inserted"
    );
    assert!(
        flags(&env.a_test).await.iter().all(|(_, up)| !up),
        "another session's keys are untouched"
    );
    // A large list (more than one IN chunk) in one call.
    let many: Vec<(u32, Bytes)> = (100..1400).map(|i| (i, Bytes::from_static(b"k"))).collect();
    s.store_prekeys_batch(&many, false).await.unwrap();
    let ids: Vec<u32> = (100..1400).collect();
    s.mark_prekeys_uploaded(&ids).await.unwrap();
    assert_eq!(s.load_prekeys_batch(&ids).await.unwrap().len(), 1300);
    assert_eq!(s.get_max_prekey_id().await.unwrap(), 1399);
    assert_eq!(
        flags(s).await.iter().filter(|(_, up)| *up).count(),
        3 + 1300
    );
}

async fn take_sent_message_is_atomic(env: Env) {
    let chat = "4477001122@s.whatsapp.net";
    env.a
        .store_sent_message(chat, "M1", b"payload")
        .await
        .unwrap();
    env.b
        .store_sent_message(chat, "M1", b"other")
        .await
        .unwrap();
    let takers: Vec<_> = (0..8)
        .map(|_| {
            let s = env.a.clone();
            tokio::spawn(async move { s.take_sent_message(chat, "M1").await.unwrap() })
        })
        .collect();
    let mut got = Vec::new();
    for t in takers {
        if let Some(p) = t.await.unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got, vec![b"payload".to_vec()], "exactly one taker gets it");
    assert_eq!(
        env.b.take_sent_message(chat, "M1").await.unwrap(),
        Some(b"other".to_vec())
    );
}

async fn resource_report(env: Env) {
    let report = env.a.resource_report().await;
    assert_eq!(report.memory_bytes, Some(0));
    assert_eq!(env.a.key().mode, Mode::Live);
    assert_eq!(env.a_test.key().mode, Mode::Test);
    assert_eq!(env.a.key().customer, env.a_test.key().customer);
}
