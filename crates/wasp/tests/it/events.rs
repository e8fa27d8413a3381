//! The events beyond messages and receipts, through `wasp up` (gateway → worker → sandbox
//! driver → outbox → live stream and webhooks): what a contact does (edits, deletes for
//! everyone, types, calls, adds you to a group), what the customer does through the API
//! (edits, revokes, deletes for itself, group changes), and what one sandbox account does
//! to another.

use crate::support::{
    self,
    platform::{Backend, Platform},
};
use axum::{extract::State, http::StatusCode as AxumStatus, routing::post, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};
use tokio::sync::{mpsc, Mutex};

/// The live stream of one key, as parsed event documents.
struct Stream(mpsc::UnboundedReceiver<Value>);

impl Stream {
    async fn open(p: &Platform, key: &str, filter: &str) -> Stream {
        use futures_util::StreamExt;
        let resp = support::http()
            .get(format!("http://{}/api/v1/events?events={filter}", p.addr))
            .header("X-API-Key", key)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut body = resp.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let event: String = buffer.drain(..end + 2).collect();
                    if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                        let _ = tx.send(serde_json::from_str(data).unwrap());
                    }
                }
            }
        });
        Stream(rx)
    }

    /// The next event; it must be of type `kind`.
    async fn next(&mut self, kind: &str) -> Value {
        let doc = tokio::time::timeout(Duration::from_secs(5), self.0.recv())
            .await
            .unwrap_or_else(|_| panic!("no {kind} within 5 s"))
            .unwrap();
        assert_eq!(doc["event"], kind, "{doc}");
        doc
    }

    /// The server closes the stream within 5 s (events sent before that are passed over).
    async fn ends(&mut self) {
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            while self.0.recv().await.is_some() {}
        })
        .await;
        assert!(ended.is_ok(), "the stream is still open");
    }

    /// Nothing more arrives for a moment.
    async fn quiet(&mut self) {
        if let Ok(Some(doc)) = tokio::time::timeout(Duration::from_millis(300), self.0.recv()).await
        {
            panic!("unexpected event {doc}");
        }
    }
}

const CONTACT: &str = "6281234567890";

async fn what_a_contact_does_reaches_the_customer(backend: Backend) {
    let p = Platform::start(backend).await;
    let key = p
        .logged_in("contact-events@example.com", "6285550001111")
        .await;
    let mut stream = Stream::open(
        &p,
        &key,
        "message.received,message.edited,message.revoked,chat.presence,call.offer,group.*,newsletter.*",
    )
    .await;
    // Another customer's session sees none of it.
    let other = p.logged_in("bystander@example.com", "6285550002222").await;
    let mut bystander = Stream::open(&p, &other, "*").await;

    // The contact writes, then fixes its text.
    let (status, sent) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "message": "helo" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let id = sent["data"]["message_id"].as_str().unwrap().to_owned();
    let received = stream.next("message.received").await;
    // The contact wrote from its LID: the event names its phone-number chat and JID, with
    // the LID beside them.
    assert_eq!(received["payload"]["from_phone"], format!("+{CONTACT}"));
    let contact_jid = format!("{CONTACT}@s.whatsapp.net");
    assert_eq!(received["payload"]["from"], contact_jid.as_str());
    assert_eq!(received["payload"]["chat_id"], contact_jid.as_str());
    let lid = sent["data"]["chat_lid"].as_str().unwrap_or_default();
    assert!(lid.ends_with("@lid"), "{sent}");
    assert_eq!(received["payload"]["from_lid"], lid, "{received}");
    assert_eq!(received["payload"]["chat_lid"], lid, "{received}");
    let (status, body) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "edit": { "message_id": id, "message": "hello" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let edited = stream.next("message.edited").await;
    assert_eq!(edited["payload"]["id"], id.as_str());
    assert_eq!(edited["payload"]["body"], "hello");
    assert_eq!(edited["payload"]["from_phone"], format!("+{CONTACT}"));
    assert_eq!(edited["payload"]["is_from_me"], false);
    assert_eq!(edited["device_id"], "6285550001111@s.whatsapp.net");
    let (_, message) = p.get(&key, &format!("/message/{id}")).await;
    assert_eq!(message["data"]["body"], "hello", "{message}");

    // Then deletes it for everyone: its content is gone from the history too.
    let (status, body) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "revoke": { "message_id": id } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let revoked = stream.next("message.revoked").await;
    assert_eq!(revoked["payload"]["id"], id.as_str());
    assert_eq!(
        revoked["payload"]["chat_id"],
        format!("{CONTACT}@s.whatsapp.net")
    );
    let (_, message) = p.get(&key, &format!("/message/{id}")).await;
    assert!(message["data"]["body"].is_null(), "{message}");
    // A revoked message cannot be edited or revoked again; a message of ours is not the
    // contact's to edit.
    let (status, body) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "edit": { "message_id": id, "message": "again" } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, ours) = p
        .post(
            &key,
            "/send/message",
            json!({ "phone": CONTACT, "message": "mine" }),
        )
        .await;
    let ours = ours["data"]["message_id"].as_str().unwrap();
    let (status, _) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "revoke": { "message_id": ours } }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Typing, recording, stopping.
    for (state, expected, media) in [
        ("composing", "composing", ""),
        ("recording", "composing", "audio"),
        ("paused", "paused", ""),
    ] {
        let (status, body) = p
            .post(
                &key,
                "/sandbox/inbound",
                json!({ "from": CONTACT, "presence": state }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let presence = stream.next("chat.presence").await;
        assert_eq!(presence["payload"]["state"], expected);
        assert_eq!(presence["payload"]["media"], media);
        assert_eq!(presence["payload"]["activity"], state);
        assert_eq!(presence["payload"]["is_group"], false);
    }
    let (status, body) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "presence": "dancing" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");

    // A video call, which the customer rejects with the call id it was given.
    let (status, call) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "call": { "video": true } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    let offer = stream.next("call.offer").await;
    assert_eq!(offer["payload"]["call_id"], call["data"]["call_id"]);
    assert_eq!(offer["payload"]["is_video"], true);
    assert_eq!(offer["payload"]["from_phone"], format!("+{CONTACT}"));
    let (status, body) = p
        .post(
            &key,
            "/call/reject",
            json!({ "call_id": call["data"]["call_id"], "caller_jid": CONTACT }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The contact makes a group with the customer in it; the customer leaves it.
    let (status, group) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "group": { "title": "Family" } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group_id = group["data"]["group_id"].as_str().unwrap().to_owned();
    let joined = stream.next("group.joined").await;
    assert_eq!(joined["payload"]["chat_id"], group_id.as_str());
    assert_eq!(joined["payload"]["name"], "Family");
    assert_eq!(joined["payload"]["by_phone"], format!("+{CONTACT}"));
    let (status, body) = p
        .post(&key, "/group/leave", json!({ "group_id": group_id }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let left = stream.next("group.participants").await;
    assert_eq!(left["payload"]["type"], "leave");
    assert_eq!(left["payload"]["phones"], json!(["+6285550001111"]));

    // The phone follows a channel, which posts; then the customer unfollows it.
    let (status, channel) = p
        .post(&key, "/sandbox/newsletter", json!({ "name": "Tech News" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    let channel = channel["data"]["newsletter_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(channel.ends_with("@newsletter"), "{channel}");
    let joined = stream.next("newsletter.joined").await;
    assert_eq!(joined["payload"]["newsletter_id"], channel.as_str());
    assert_eq!(joined["payload"]["name"], "Tech News");
    let (_, mine) = p.get(&key, "/user/my/newsletters").await;
    assert_eq!(mine["data"][0]["id"], channel.as_str(), "{mine}");
    let (status, post) = p
        .post(
            &key,
            "/sandbox/newsletter",
            json!({ "newsletter_id": channel, "message": "Rust 2.0 is out" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let message = stream.next("newsletter.message").await;
    assert_eq!(message["payload"]["newsletter_id"], channel.as_str());
    assert_eq!(message["payload"]["body"], "Rust 2.0 is out");
    assert_eq!(message["payload"]["id"], post["data"]["message_id"]);
    let (status, posts) = p
        .get(
            &key,
            &format!("/newsletter/messages?newsletter_id={channel}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{posts}");
    assert_eq!(posts["data"][0]["body"], "Rust 2.0 is out");
    let (status, body) = p
        .post(
            &key,
            "/newsletter/unfollow",
            json!({ "newsletter_id": channel }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let left = stream.next("newsletter.left").await;
    assert_eq!(left["payload"]["newsletter_id"], channel.as_str());
    let (status, _) = p
        .post(
            &key,
            "/newsletter/unfollow",
            json!({ "newsletter_id": channel }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = p
        .post(
            &key,
            "/sandbox/newsletter",
            json!({ "newsletter_id": channel, "message": "after you left" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Two things at once are refused.
    let (status, body) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": CONTACT, "presence": "paused", "call": {} }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    stream.quiet().await;
    bystander.quiet().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_what_a_contact_does_reaches_the_customer() {
    what_a_contact_does_reaches_the_customer(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_what_a_contact_does_reaches_the_customer() {
    what_a_contact_does_reaches_the_customer(Backend::Postgres).await;
}

/// An open event stream ends the moment its key stops working: revoked, expired, its
/// customer suspended; other keys' streams stay open until then.
async fn a_stream_lives_no_longer_than_its_key(backend: Backend) {
    let p = Platform::start(backend).await;
    let (id, _, key) = p.customer("streams@example.com").await;
    p.get(&key, "/app/login").await;
    let (status, body) = p
        .post(&key, "/sandbox/scan", json!({ "phone": "6285550003333" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_key = |extra: Value| {
        let p = &p;
        let id = id.clone();
        async move {
            let mut req = json!({ "name": "stream", "mode": "test" });
            req.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let (status, body) = p
                .admin(
                    reqwest::Method::POST,
                    &format!("/api/admin/customers/{id}/keys"),
                    Some(req),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            (
                body["data"]["id"].as_str().unwrap().to_owned(),
                body["data"]["api_key"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (revoked_id, to_revoke) = new_key(json!({})).await;
    let expires = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let (_, expiring) = new_key(json!({ "expires_at": expires })).await;
    let mut kept = Stream::open(&p, &key, "message.received").await;
    let mut revoked = Stream::open(&p, &to_revoke, "message.received").await;
    let mut expired = Stream::open(&p, &expiring, "message.received").await;
    let inbound = |text: &'static str| {
        let p = &p;
        let key = key.clone();
        async move {
            let (status, body) = p
                .post(
                    &key,
                    "/sandbox/inbound",
                    json!({ "from": CONTACT, "message": text }),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    };
    inbound("one").await;
    for stream in [&mut kept, &mut revoked, &mut expired] {
        stream.next("message.received").await;
    }

    let (status, body) = p
        .admin(
            reqwest::Method::DELETE,
            &format!("/api/admin/customers/{id}/keys/{revoked_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    revoked.ends().await;
    inbound("two").await;
    assert_eq!(
        kept.next("message.received").await["payload"]["body"],
        "two"
    );

    expired.ends().await;
    inbound("three").await;
    assert_eq!(
        kept.next("message.received").await["payload"]["body"],
        "three"
    );

    let (status, body) = p
        .admin(
            reqwest::Method::POST,
            &format!("/api/admin/customers/{id}/suspend"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    kept.ends().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_stream_lives_no_longer_than_its_key() {
    a_stream_lives_no_longer_than_its_key(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stream_lives_no_longer_than_its_key() {
    a_stream_lives_no_longer_than_its_key(Backend::Postgres).await;
}

/// A webhook receiver that keeps the documents it got.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    async fn take(State(got): State<Arc<Mutex<Vec<Value>>>>, body: String) -> AxumStatus {
        got.lock().await.push(serde_json::from_str(&body).unwrap());
        AxumStatus::OK
    }
    let app = Router::new()
        .route("/hook", post(take))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// What the customer does through the API is reported too, and reaches a sandbox account
/// on the other side of the chat as WhatsApp would show it there.
async fn own_actions_and_the_other_side(backend: Backend) {
    let p = Platform::start_with(backend, &[("WASP_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let alice = p.logged_in("alice@example.com", "6285551110001").await;
    let bob = p.logged_in("bob@example.com", "6285551110002").await;
    let mut mine = Stream::open(
        &p,
        &alice,
        "message.edited,message.revoked,message.deleted,group.*",
    )
    .await;
    let mut theirs = Stream::open(
        &p,
        &bob,
        "message.received,message.edited,message.revoked,message.reaction,chat.presence",
    )
    .await;
    // Bob's webhook asks for edits and revokes only.
    let (url, got) = receiver().await;
    let (status, hook) = p
        .post(
            &bob,
            "/webhooks",
            json!({ "url": url, "events": ["message.edited", "message.revoked"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");

    let (status, sent) = p
        .post(
            &alice,
            "/send/message",
            json!({ "phone": "6285551110002", "message": "see you at 5" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let id = sent["data"]["message_id"].as_str().unwrap().to_owned();
    let received = theirs.next("message.received").await;
    assert_eq!(received["payload"]["id"], id.as_str());

    // Alice types, fixes the time, reacts, then deletes it for everyone.
    let (status, body) = p
        .post(
            &alice,
            "/send/chat-presence",
            json!({ "phone": "6285551110002", "action": "start" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let typing = theirs.next("chat.presence").await;
    assert_eq!(typing["payload"]["from_phone"], "+6285551110001");
    assert_eq!(typing["payload"]["state"], "composing");

    let (status, body) = p
        .post(
            &alice,
            &format!("/message/{id}/update"),
            json!({ "phone": "6285551110002", "message": "see you at 6" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let edited = mine.next("message.edited").await;
    assert_eq!(edited["payload"]["is_from_me"], true);
    assert_eq!(edited["payload"]["body"], "see you at 6");
    let edited = theirs.next("message.edited").await;
    assert_eq!(edited["payload"]["id"], id.as_str());
    assert_eq!(edited["payload"]["is_from_me"], false);
    let (_, stored) = p.get(&bob, &format!("/message/{id}")).await;
    assert_eq!(stored["data"]["body"], "see you at 6", "{stored}");

    let (status, body) = p
        .post(
            &alice,
            &format!("/message/{id}/reaction"),
            json!({ "phone": "6285551110002", "emoji": "👍" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reaction = theirs.next("message.reaction").await;
    assert_eq!(reaction["payload"]["reacted_message_id"], id.as_str());

    let (status, body) = p
        .post(
            &alice,
            &format!("/message/{id}/revoke"),
            json!({ "phone": "6285551110002" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    mine.next("message.revoked").await;
    let revoked = theirs.next("message.revoked").await;
    assert_eq!(revoked["payload"]["from_phone"], "+6285551110001");
    let (_, stored) = p.get(&bob, &format!("/message/{id}")).await;
    assert!(stored["data"]["body"].is_null(), "{stored}");

    // Deleting for herself reaches only Alice.
    let (status, body) = p
        .post(
            &alice,
            &format!("/message/{id}/delete"),
            json!({ "phone": "6285551110002" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deleted = mine.next("message.deleted").await;
    assert_eq!(deleted["payload"]["deleted_for"], "me");

    // Alice's groups: created, members added, promoted, demoted, removed.
    let (status, group) = p
        .post(
            &alice,
            "/group",
            json!({ "title": "Team", "participants": ["6285551110002"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group_id = group["data"]["group_id"].as_str().unwrap().to_owned();
    let joined = mine.next("group.joined").await;
    assert_eq!(joined["payload"]["name"], "Team");
    for (path, kind) in [
        ("/group/participants", "join"),
        ("/group/participants/promote", "promote"),
        ("/group/participants/demote", "demote"),
        ("/group/participants/remove", "leave"),
    ] {
        let (status, body) = p
            .post(
                &alice,
                path,
                json!({ "group_id": group_id, "participants": ["6285551110003"] }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let change = mine.next("group.participants").await;
        assert_eq!(change["payload"]["type"], kind);
        assert_eq!(
            change["payload"]["jids"],
            json!(["6285551110003@s.whatsapp.net"])
        );
        assert_eq!(change["payload"]["by_phone"], "+6285551110001");
    }
    // A change that changes nobody reports nothing.
    let (status, _) = p
        .post(
            &alice,
            "/group/participants/remove",
            json!({ "group_id": group_id, "participants": ["6285551110003"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    mine.quiet().await;
    theirs.quiet().await;

    // Bob's endpoint got exactly the edit and the revoke, signed documents of his own.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if got.lock().await.len() >= 2 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = got.lock().await;
    // (Deliveries run in parallel: their order is not promised.)
    let mut kinds: Vec<&str> = got.iter().map(|d| d["event"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["message.edited", "message.revoked"], "{got:?}");
    assert!(got.iter().all(|d| d["payload"]["id"] == id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_own_actions_and_the_other_side() {
    own_actions_and_the_other_side(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_own_actions_and_the_other_side() {
    own_actions_and_the_other_side(Backend::Postgres).await;
}
