//! Delivery progress of our messages in the chat store: a direct message advances with
//! each receipt and never goes backwards; a group message is "delivered" once every other
//! member has it and "read" once every other member read it.

use uuid::Uuid;
use wasp_db::{on_tx, Db};
use wasp_protocol::service_token::Mode;
use wasp_worker::{
    driver::{Kind, Receipt},
    store::{self, NewMessage, SessionKey},
    testkit,
};

const ME: &str = "15550101111@s.whatsapp.net";
const GROUP: &str = "120363000000000001@g.us";
const MEMBERS: [&str; 2] = [
    "6281200000001@s.whatsapp.net",
    "6281200000002@s.whatsapp.net",
];

async fn setup(db: &Db) -> SessionKey {
    let (server, customer) = (Uuid::new_v4(), Uuid::new_v4());
    testkit::seed_server(db, server, "receipts").await.unwrap();
    testkit::seed_customers(db, Some(server), &[customer])
        .await
        .unwrap();
    let key = SessionKey {
        customer,
        mode: Mode::Test,
    };
    store::claim(db, key, server, "sandbox").await.unwrap();
    let now = store::now();
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, |conn| sqlx::query(
        "INSERT INTO wa_groups (customer_id, mode, jid, subject, owner_jid, created_at, updated_at) \
         VALUES ($1, 'test', $2, 'Team', $3, $4, $4)"
    )
    .bind(customer)
    .bind(GROUP)
    .bind(ME)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ()))
    .unwrap();
    for member in [ME].iter().chain(MEMBERS.iter()) {
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO wa_group_participants (customer_id, mode, group_jid, jid, role, status, added_at) \
             VALUES ($1, 'test', $2, $3, 'member', 'active', $4)"
        )
        .bind(customer)
        .bind(GROUP)
        .bind(*member)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
        .unwrap();
    }
    tx.commit().await.unwrap();
    key
}

async fn sent(db: &Db, key: SessionKey, id: &str, chat: &str) {
    sent_with(db, key, id, chat, serde_json::json!({})).await;
}

/// A group message as the live driver stores it: the group is not kept here, its size is
/// recorded with the message.
async fn sent_to_live_group(db: &Db, key: SessionKey, id: &str, recipients: usize) {
    let content = serde_json::json!({ "recipients": recipients });
    sent_with(db, key, id, "120363000000000999@g.us", content).await;
}

async fn sent_with(db: &Db, key: SessionKey, id: &str, chat: &str, content: serde_json::Value) {
    store::store_message(
        db,
        key,
        &NewMessage {
            id: id.into(),
            chat_jid: chat.into(),
            chat_kind: if chat.ends_with("@g.us") {
                "group"
            } else {
                "user"
            },
            chat_name: None,
            sender_jid: ME.into(),
            from_me: true,
            kind: Kind::Text,
            body: Some("hello".into()),
            content,
            status: "sent",
            reply_to: None,
            forwarded: false,
            sent_at: store::now(),
        },
    )
    .await
    .unwrap();
}

async fn receipt(db: &Db, key: SessionKey, id: &str, status: Receipt, who: Option<&str>) -> String {
    store::apply_receipt(db, key, id, status, who, store::now())
        .await
        .unwrap()
        .expect("our message")
}

#[tokio::test]
async fn sqlite_group_messages_advance_when_every_member_got_there() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    group_messages_advance_when_every_member_got_there(&db).await;
}

#[tokio::test]
async fn postgres_group_messages_advance_when_every_member_got_there() {
    let pg = testkit::PgDb::create("receipts");
    let db = Db::connect(&pg.url, 4).await.unwrap();
    db.migrate().await.unwrap();
    group_messages_advance_when_every_member_got_there(&db).await;
    db.close().await;
}

async fn group_messages_advance_when_every_member_got_there(db: &Db) {
    let key = setup(db).await;

    // A direct message: each receipt advances it, a late one does not go back.
    sent(db, key, "3EB0DIRECT", MEMBERS[0]).await;
    assert_eq!(
        receipt(db, key, "3EB0DIRECT", Receipt::Read, None).await,
        "read"
    );
    assert_eq!(
        receipt(db, key, "3EB0DIRECT", Receipt::Delivered, None).await,
        "read"
    );

    // A group message of ours, to two other members.
    sent(db, key, "3EB0GROUP", GROUP).await;
    let one = Some(MEMBERS[0]);
    let two = Some(MEMBERS[1]);
    assert_eq!(
        receipt(db, key, "3EB0GROUP", Receipt::Delivered, one).await,
        "sent"
    );
    assert_eq!(
        receipt(db, key, "3EB0GROUP", Receipt::Read, one).await,
        "sent"
    );
    // Delivered to the second member too: delivered to all.
    assert_eq!(
        receipt(db, key, "3EB0GROUP", Receipt::Delivered, two).await,
        "delivered"
    );
    // The same member twice does not count as two.
    assert_eq!(
        receipt(db, key, "3EB0GROUP", Receipt::Read, one).await,
        "delivered"
    );
    assert_eq!(
        receipt(db, key, "3EB0GROUP", Receipt::Read, two).await,
        "read"
    );
    let (message, history) = store::message(db, key, "3EB0GROUP").await.unwrap().unwrap();
    assert_eq!(message.status, "read");
    assert!(
        history.len() >= 4,
        "every member's receipt is in the history"
    );

    // WhatsApp refuses a message after it left: failed, with the reason in the history;
    // no later receipt revives it, and a delivered message cannot fail any more.
    sent(db, key, "3EB0REFUSED", MEMBERS[1]).await;
    assert!(store::mark_failed(db, key, "3EB0REFUSED").await.unwrap());
    assert_eq!(
        receipt(db, key, "3EB0REFUSED", Receipt::Delivered, None).await,
        "failed"
    );
    let (message, history) = store::message(db, key, "3EB0REFUSED")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.status, "failed");
    assert!(
        history.iter().any(|step| step.status == "failed"),
        "the failure is in the history: {history:?}"
    );
    assert!(!store::mark_failed(db, key, "3EB0DIRECT").await.unwrap());
    assert!(!store::mark_failed(db, key, "3EB0UNKNOWN").await.unwrap());

    // A live group of three others: read once all three read it.
    sent_to_live_group(db, key, "3EB0LIVE", 3).await;
    let others = [
        "6281200000011@s.whatsapp.net",
        "6281200000012@s.whatsapp.net",
        "6281200000013@s.whatsapp.net",
    ];
    assert_eq!(
        receipt(db, key, "3EB0LIVE", Receipt::Read, Some(others[0])).await,
        "sent"
    );
    assert_eq!(
        receipt(db, key, "3EB0LIVE", Receipt::Read, Some(others[1])).await,
        "sent"
    );
    assert_eq!(
        receipt(db, key, "3EB0LIVE", Receipt::Read, Some(others[2])).await,
        "read"
    );
}
