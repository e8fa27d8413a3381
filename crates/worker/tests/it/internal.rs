//! The internal API management uses to place sessions: a customer token cannot use it; a
//! release closes the sessions; a purge (GDPR erasure) also deletes the media files.

use reqwest::StatusCode;
use uuid::Uuid;
use wasp_protocol::service_token::{Mode, TokenSigner};
use wasp_worker::{store::SessionKey, testkit};

#[tokio::test]
async fn hold_release_and_purge_a_customers_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    let (server, customer) = (Uuid::new_v4(), Uuid::new_v4());
    testkit::seed_server(&db, server, "internal").await.unwrap();
    testkit::seed_customers(&db, Some(server), &[customer])
        .await
        .unwrap();
    let signer = TokenSigner::from_seed([9; 32]);
    let served = testkit::serve(testkit::sandbox_config(dir.path()), &db, server, &signer)
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let management = signer.for_request(server, None, None, None);
    let as_customer = signer.for_request(server, Some(customer), Some(Mode::Test), None);
    let url = &served.url;

    // Only management may place sessions.
    let refused = http
        .post(format!("{url}/internal/instances"))
        .bearer_auth(&as_customer)
        .json(&serde_json::json!({ "customer_id": customer }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let held = http
        .post(format!("{url}/internal/instances"))
        .bearer_auth(&management)
        .json(&serde_json::json!({ "customer_id": customer }))
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), StatusCode::CREATED);
    assert_eq!(
        served.worker.instances().unwrap().len(),
        2,
        "live and sandbox"
    );

    // A media file of the customer's.
    let key = SessionKey {
        customer,
        mode: Mode::Test,
    };
    let sha = served.worker.media.put(key, b"a picture").await.unwrap();
    let file = served.worker.media.path(key, &sha).unwrap();
    assert!(file.exists());

    // A release closes the sessions and keeps the files (the customer may come back).
    let released = http
        .delete(format!("{url}/internal/instances/{customer}"))
        .bearer_auth(&management)
        .send()
        .await
        .unwrap();
    assert_eq!(released.status(), StatusCode::NO_CONTENT);
    assert!(served.worker.instances().unwrap().is_empty());
    assert!(file.exists());

    // A purge deletes them.
    let purged = http
        .delete(format!("{url}/internal/instances/{customer}?purge=true"))
        .bearer_auth(&management)
        .send()
        .await
        .unwrap();
    assert_eq!(purged.status(), StatusCode::NO_CONTENT);
    assert!(!file.exists(), "media files are erased");
}
