//! A session is driven by one worker at a time: when another worker takes its lease over,
//! the one that lost it closes the session at its next check (or at its next send) and
//! never writes over the new owner's lease.

use std::time::Duration;
use uuid::Uuid;
use wasp_db::Db;
use wasp_protocol::service_token::Mode;
use wasp_worker::{
    driver::State,
    drivers::{
        sandbox::{SandboxConfig, SandboxNetwork},
        Drivers, LiveDriver,
    },
    session::manager::Instances,
    store::{self, SessionKey},
    testkit,
};

fn instances(db: &Db, server: Uuid) -> std::sync::Arc<Instances> {
    Instances::new(
        db.clone(),
        server,
        Drivers::new(
            db.clone(),
            LiveDriver::Sandbox,
            Default::default(),
            SandboxNetwork::new(SandboxConfig {
                receipt_delay: None,
                ..Default::default()
            }),
        ),
    )
}

#[tokio::test]
async fn a_worker_that_lost_the_lease_closes_the_session_and_leaves_the_new_owner_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    let (a, b, customer) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    testkit::seed_server(&db, a, "a").await.unwrap();
    testkit::seed_server(&db, b, "b").await.unwrap();
    testkit::seed_customers(&db, Some(a), &[customer])
        .await
        .unwrap();
    let key = SessionKey {
        customer,
        mode: Mode::Test,
    };

    // Worker A holds the session, logged in.
    let on_a = instances(&db, a);
    let instance = on_a.get_or_create(key).await.unwrap();
    instance.driver.login_qr().await.unwrap();
    instance
        .driver
        .sandbox()
        .unwrap()
        .scan(Some("15550109999"))
        .unwrap();
    instance.flush().await;
    assert_eq!(instance.status().state(), State::Connected);
    assert_eq!(on_a.check_leases().await.unwrap(), 0, "A still holds it");
    assert!(on_a.still_holds(&instance).await.unwrap());

    // Worker B takes it over (a move A never heard of) and restores it.
    let on_b = instances(&db, b);
    let taken = on_b.get_or_create(key).await.unwrap();
    assert!(
        taken.epoch > instance.epoch,
        "the take-over bumps the epoch"
    );

    // A's next check gives it up and closes its connection.
    assert_eq!(on_a.check_leases().await.unwrap(), 1);
    assert!(on_a.is_empty(), "A no longer lists the session");
    assert!(instance.status().moved);
    assert!(!on_a.still_holds(&instance).await.unwrap());

    // A's late events cannot overwrite B's lease or state.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let row = store::session(&db, key).await.unwrap().unwrap();
    assert_eq!(row.server_id, Some(b));
    assert_eq!(row.epoch, taken.epoch);
    assert_eq!(on_b.check_leases().await.unwrap(), 0, "B keeps it");
    assert_eq!(on_b.len(), 1);
}
