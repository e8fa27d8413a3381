//! End to end on the real binary (`wasp up`): the customer API through management's
//! gateway to the in-process worker and its sandbox driver, on SQLite and on PostgreSQL.

use crate::support::{
    http,
    platform::{Backend, Platform},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn qr_login_send_receive_and_isolation(backend: Backend) {
    let p = Platform::start(backend).await;
    let (_, live_a, test_a) = p.customer("alice@example.com").await;
    let (_, _, test_b) = p.customer("bob@example.com").await;

    let (status, body) = p.get(&test_a, "/app/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["state"], "disconnected");
    assert_eq!(body["data"]["is_logged_in"], false);
    assert_eq!(body["data"]["mode"], "test");

    // QR login: a code in WhatsApp's format, the session scanning.
    let (status, body) = p.get(&test_a, "/app/login").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let qr = body["data"]["qr_code"].as_str().unwrap().to_owned();
    assert!(qr.starts_with("2@") && qr.split(',').count() == 4, "{qr}");
    assert_eq!(body["data"]["qr_duration"], 60);
    let (_, body) = p.get(&test_a, "/app/status").await;
    assert_eq!(body["data"]["state"], "scanning");
    assert_eq!(body["data"]["qr_code"], qr.as_str());

    // Sending before the login completes is refused.
    let (status, body) = p
        .post(
            &test_a,
            "/send/message",
            json!({ "phone": "6281234567890", "message": "hi" }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "SESSION_NOT_CONNECTED"),
        "{body}"
    );

    // The phone scans.
    let (status, body) = p
        .post(
            &test_a,
            "/sandbox/scan",
            json!({ "phone": "+1 555 010 2233" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["state"], "connected");
    assert_eq!(body["data"]["phone_number"], "+15550102233");
    assert_eq!(body["data"]["jid"], "15550102233@s.whatsapp.net");
    assert!(body["data"]["lid"].as_str().unwrap().ends_with("@lid"));
    let (status, body) = p.get(&test_a, "/app/login").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "ALREADY_LOGGED_IN")
    );

    // Send: an id in WhatsApp's format, then delivered and read.
    let (status, body) = p
        .post(
            &test_a,
            "/send/message",
            json!({ "phone": "+62 812-3456-7890", "message": "Hello from wasp" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["data"]["message_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("3EB0") && id.len() == 22, "{id}");
    assert_eq!(body["data"]["status"], "sent");
    assert_eq!(body["data"]["chat_jid"], "6281234567890@s.whatsapp.net");
    let contact_lid = body["data"]["chat_lid"].as_str().unwrap().to_owned();
    assert!(contact_lid.ends_with("@lid"), "{body}");
    let read = p
        .wait_until(
            &test_a,
            &format!("/message/{id}"),
            "the read receipt",
            |m| m["status"] == "read",
        )
        .await;
    let steps: Vec<&str> = read["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["sent", "delivered", "read"]);

    // Bad input is refused in the error shape, and nothing is sent.
    for (body, field) in [
        (json!({ "phone": "12345", "message": "x" }), "phone"),
        (
            json!({ "phone": "6281234567890", "message": "" }),
            "message",
        ),
        (
            json!({ "phone": "6281234567890", "message": "a".repeat(4097) }),
            "message",
        ),
        (
            json!({ "phone": "6281234567890", "message": "nul\u{0}byte" }),
            "message",
        ),
        (
            json!({ "phone": "6281234567890", "message": "x", "duration": 5 }),
            "duration",
        ),
    ] {
        let (status, resp) = p.post(&test_a, "/send/message", body).await;
        assert_eq!(
            (status, code(&resp)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{resp}"
        );
        assert_eq!(resp["error"]["field"], field, "{resp}");
    }
    let (status, resp) = p
        .post(
            &test_a,
            "/send/message",
            json!({ "phone": "6281234567890", "text": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown field: {resp}");
    let (status, resp) = p
        .post(
            &test_a,
            "/send/message",
            json!({ "phone": "6281234560000", "message": "x" }),
        )
        .await;
    assert_eq!(
        (status, code(&resp)),
        (StatusCode::BAD_REQUEST, "NOT_ON_WHATSAPP"),
        "{resp}"
    );
    let (_, page) = p
        .get(&test_a, "/chat/6281234567890@s.whatsapp.net/messages")
        .await;
    assert_eq!(
        page["meta"]["total"], 1,
        "only the valid message was sent: {page}"
    );

    // A contact answers.
    let (status, body) = p
        .post(
            &test_a,
            "/sandbox/inbound",
            json!({ "from": "+6281234567890", "message": "Hi back", "push_name": "Budi" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let inbound_id = body["data"]["message_id"].as_str().unwrap().to_owned();
    assert!(inbound_id.starts_with("3A"), "{inbound_id}");
    // It wrote from its LID (as a contact migrated to LIDs does), and lands in the chat of
    // its number: one chat per contact.
    assert_eq!(body["data"]["chat_jid"], "6281234567890@s.whatsapp.net");
    assert_eq!(body["data"]["chat_lid"], contact_lid.as_str());

    let (status, chats) = p.get(&test_a, "/chats").await;
    assert_eq!(status, StatusCode::OK, "{chats}");
    assert_eq!(chats["meta"]["total"], 1);
    let chat = &chats["data"][0];
    assert_eq!(chat["jid"], "6281234567890@s.whatsapp.net");
    assert_eq!(chat["name"], "Budi");
    assert_eq!(chat["unread_count"], 1);
    assert_eq!(chat["last_message_preview"], "Hi back");

    let (_, history) = p
        .get(&test_a, "/chat/6281234567890@s.whatsapp.net/messages")
        .await;
    let ids: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [inbound_id.as_str(), id.as_str()], "newest first");
    assert_eq!(history["data"][0]["from_me"], false);
    assert_eq!(history["data"][0]["body"], "Hi back");
    let (_, mine) = p
        .get(
            &test_a,
            "/chat/6281234567890%40s.whatsapp.net/messages?is_from_me=true",
        )
        .await;
    assert_eq!(mine["meta"]["total"], 1, "{mine}");
    let (_, found) = p
        .get(
            &test_a,
            "/chat/6281234567890@s.whatsapp.net/messages?search=hello",
        )
        .await;
    assert_eq!(found["data"][0]["id"], id.as_str(), "{found}");
    // Sent to its LID, a message still goes in the contact's one chat.
    let (status, to_lid) = p
        .post(
            &test_a,
            "/send/message",
            json!({ "phone": contact_lid, "message": "to your LID" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{to_lid}");
    assert_eq!(to_lid["data"]["chat_jid"], "6281234567890@s.whatsapp.net");
    assert_eq!(to_lid["data"]["chat_lid"], contact_lid.as_str());
    let (_, chats) = p.get(&test_a, "/chats").await;
    assert_eq!(chats["meta"]["total"], 1, "{chats}");
    let (_, history) = p
        .get(&test_a, "/chat/6281234567890@s.whatsapp.net/messages")
        .await;
    assert_eq!(history["meta"]["total"], 3, "{history}");
    let (status, _) = p.get(&test_a, "/chats?limit=500").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A second customer sees none of it.
    let (_, chats_b) = p.get(&test_b, "/chats").await;
    assert_eq!(chats_b["meta"]["total"], 0, "{chats_b}");
    let (status, _) = p.get(&test_b, &format!("/message/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, history_b) = p
        .get(&test_b, "/chat/6281234567890@s.whatsapp.net/messages")
        .await;
    assert_eq!(history_b["meta"]["total"], 0);
    let (_, status_b) = p.get(&test_b, "/app/status").await;
    assert_eq!(status_b["data"]["state"], "disconnected");
    let (status, body) = p
        .post(
            &test_b,
            "/sandbox/receipt",
            json!({ "message_id": id, "status": "read" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Nor can it link a device to the first customer's number to read its messages.
    let (status, _) = p.get(&test_b, "/app/login").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = p
        .post(&test_b, "/sandbox/scan", json!({ "phone": "+15550102233" }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
        "{body}"
    );
    let (_, status_b) = p.get(&test_b, "/app/status").await;
    assert_eq!(status_b["data"]["state"], "scanning", "{status_b}");

    // The live key reaches the customer's live session, which is not the sandbox one.
    let (_, live) = p.get(&live_a, "/app/status").await;
    assert_eq!(live["data"]["mode"], "live");
    assert_eq!(live["data"]["is_logged_in"], false);
    let (status, body) = p.post(&live_a, "/sandbox/scan", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{body}"
    );
    let (_, live_chats) = p.get(&live_a, "/chats").await;
    assert_eq!(live_chats["meta"]["total"], 0);
    // It runs on the live driver (whatsapp-rust), here dialling a closed local port
    // (WASP_LIVE_WS_URL in support/platform.rs): a login says so in the error shape after
    // its wait, and nothing else changes.
    assert_eq!(live["data"]["driver"], "live");
    let started = std::time::Instant::now();
    let (status, body) = p.get(&live_a, "/app/login").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "DRIVER_UNAVAILABLE"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not reach WhatsApp"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "bounded by WASP_LIVE_LOGIN_TIMEOUT_SECS"
    );
    let (status, body) = p
        .post(
            &live_a,
            "/send/message",
            json!({ "phone": "6281234567890", "message": "hi" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, live) = p.get(&live_a, "/app/status").await;
    assert_eq!(live["data"]["state"], "disconnected", "{live}");
    assert_eq!(live["data"]["is_logged_in"], false);
    // Groups and profile go through the live driver too: not connected, so 409 for each.
    for (status, body) in [
        p.get(&live_a, "/user/my/groups").await,
        p.get(&live_a, "/user/info?phone=6281234567890").await,
        p.post(
            &live_a,
            "/group",
            json!({ "title": "Team", "participants": ["6281234567890"] }),
        )
        .await,
    ] {
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "SESSION_NOT_CONNECTED"),
            "{body}"
        );
    }

    // No key, a bad key: refused by the gateway before any worker sees them.
    let resp = http()
        .get(format!("http://{}/api/v1/chats", p.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = p.get("ak_test_notARealKey", "/chats").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The worker itself answers only management's signed tokens.
    let worker = p.wait_for_local_worker().await;
    let worker_url = worker["api_url"].as_str().unwrap();
    let resp = http()
        .get(format!("{worker_url}/api/v1/chats"))
        .header("X-API-Key", &test_a)
        .bearer_auth(&test_a)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = http()
        .get(format!("{worker_url}/internal/instances"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sqlite_qr_login_send_receive_and_isolation() {
    qr_login_send_receive_and_isolation(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_qr_login_send_receive_and_isolation() {
    qr_login_send_receive_and_isolation(Backend::Postgres).await;
}

async fn pair_code_restart_disconnect_and_logout(backend: Backend) {
    let p = Platform::start(backend).await;
    let (_, _, test) = p.customer("carol@example.com").await;

    let (status, body) = p.get(&test, "/app/login-with-code").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
    );
    let (status, body) = p
        .get(&test, "/app/login-with-code?phone=%2B6281234567891")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pair = body["data"]["pair_code"].as_str().unwrap();
    assert_eq!(pair.len(), 9, "{pair}");
    let (_, status_body) = p.get(&test, "/app/status").await;
    assert_eq!(status_body["data"]["state"], "pairing");
    assert_eq!(status_body["data"]["pair_code"], pair);
    let (status, _) = p
        .post(&test, "/sandbox/scan", json!({ "phone": "6281299999999" }))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the code belongs to another number"
    );
    let (status, body) = p.post(&test, "/sandbox/scan", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["phone_number"], "+6281234567891");

    let (_, sent) = p
        .post(
            &test,
            "/send/message",
            json!({ "phone": "6281211112222", "message": "before restart" }),
        )
        .await;
    let sent_id = sent["data"]["message_id"].as_str().unwrap().to_owned();
    p.post(
        &test,
        "/sandbox/inbound",
        json!({ "from": "6281233334444", "message": "also before" }),
    )
    .await;

    // Restart: the session reconnects by itself and every chat is still there.
    let p = p.restart().await;
    let status = p
        .wait_until(&test, "/app/status", "the session restore", |s| {
            s["state"] == "connected"
        })
        .await;
    assert_eq!(status["phone_number"], "+6281234567891");
    let (_, chats) = p.get(&test, "/chats").await;
    assert_eq!(chats["meta"]["total"], 2, "{chats}");
    let (_, message) = p.get(&test, &format!("/message/{sent_id}")).await;
    assert_eq!(message["data"]["body"], "before restart");

    // A dropped connection comes back by itself.
    let (status, body) = p.post(&test, "/sandbox/disconnect", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["state"], "disconnected");
    assert_eq!(body["data"]["state_reason"], "connection_lost");
    p.wait_until(&test, "/app/status", "the reconnect", |s| {
        s["state"] == "connected"
    })
    .await;

    // Logged out from the phone: sends are refused until a new login.
    let (_, body) = p
        .post(&test, "/sandbox/disconnect", json!({ "logout": true }))
        .await;
    assert_eq!(body["data"]["state"], "logged_out");
    assert_eq!(body["data"]["state_reason"], "logged_out_from_phone");
    let (status, body) = p
        .post(
            &test,
            "/send/message",
            json!({ "phone": "6281211112222", "message": "x" }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "SESSION_NOT_CONNECTED")
    );
    let (status, body) = p.get(&test, "/app/login").await;
    assert_eq!(status, StatusCode::OK, "a new login can start: {body}");
}

#[tokio::test]
async fn sqlite_pair_code_restart_disconnect_and_logout() {
    pair_code_restart_disconnect_and_logout(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_pair_code_restart_disconnect_and_logout() {
    pair_code_restart_disconnect_and_logout(Backend::Postgres).await;
}

async fn message_kinds_and_operations(backend: Backend) {
    let p = Platform::start(backend).await;
    let (_, _, key) = p.customer("erin@example.com").await;
    p.get(&key, "/app/login").await;
    let (_, me) = p
        .post(&key, "/sandbox/scan", json!({ "phone": "15550104455" }))
        .await;
    let my_jid = me["data"]["jid"].as_str().unwrap().to_owned();
    let budi = "6281234567890@s.whatsapp.net";

    // Contact, link, location, poll: each stored with its kind and fields.
    let (status, body) = p
        .post(
            &key,
            "/send/contact",
            json!({ "phone": budi, "contact_name": "Siti", "contact_phone": "+62 811 2222 3333" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, contact) = p
        .get(
            &key,
            &format!("/message/{}", body["data"]["message_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(contact["data"]["type"], "contact");
    assert!(
        contact["data"]["content"]["vcard"]
            .as_str()
            .unwrap()
            .contains("waid=6281122223333"),
        "{contact}"
    );

    let (status, body) = p
        .post(
            &key,
            "/send/link",
            json!({ "phone": budi, "link": "https://example.com/a", "caption": "look" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = p
        .post(
            &key,
            "/send/link",
            json!({ "phone": budi, "link": "ftp://example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = p
        .post(
            &key,
            "/send/location",
            json!({ "phone": budi, "latitude": "-6.2", "longitude": "106.8" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, location) = p
        .get(
            &key,
            &format!("/message/{}", body["data"]["message_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(location["data"]["content"]["latitude"], -6.2);
    let (status, _) = p
        .post(
            &key,
            "/send/location",
            json!({ "phone": budi, "latitude": 91, "longitude": 0 }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for bad in [
        json!({ "phone": budi, "question": "Lunch?", "options": ["Yes"], "max_answer": 1 }),
        json!({ "phone": budi, "question": "Lunch?", "options": ["Yes", "Yes"], "max_answer": 1 }),
        json!({ "phone": budi, "question": "Lunch?", "options": ["Yes", "No"], "max_answer": 3 }),
    ] {
        let (status, body) = p.post(&key, "/send/poll", bad).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{body}"
        );
    }
    let (status, _) = p.post(&key, "/send/poll", json!({ "phone": budi, "question": "Lunch?", "options": ["Yes", "No"], "max_answer": 1 })).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = p
        .post(&key, "/send/presence", json!({ "type": "available" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = p
        .post(&key, "/send/presence", json!({ "type": "busy" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = p
        .post(
            &key,
            "/send/chat-presence",
            json!({ "phone": budi, "action": "start" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Inbound messages are unread until read.
    let (_, first) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": "6281234567890", "message": "one", "push_name": "Budi" }),
        )
        .await;
    let first = first["data"]["message_id"].as_str().unwrap().to_owned();
    let (_, second) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": "6281234567890", "message": "two" }),
        )
        .await;
    let second = second["data"]["message_id"].as_str().unwrap().to_owned();
    let (_, chats) = p.get(&key, "/chats").await;
    assert_eq!(chats["data"][0]["unread_count"], 2, "{chats}");
    let (status, read) = p
        .post(
            &key,
            &format!("/message/{second}/read"),
            json!({ "phone": budi }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["data"]["marked_read"].as_array().unwrap().len(), 2);
    let (_, chats) = p.get(&key, "/chats").await;
    assert_eq!(chats["data"][0]["unread_count"], 0);

    // Reactions: set, remove, refuse non-emoji.
    let (status, body) = p
        .post(
            &key,
            &format!("/message/{first}/reaction"),
            json!({ "phone": budi, "emoji": "👍" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["message_id"]
        .as_str()
        .unwrap()
        .starts_with("3EB0"));
    let (_, m) = p.get(&key, &format!("/message/{first}")).await;
    assert_eq!(m["data"]["content"]["reactions"][&my_jid], "👍", "{m}");
    p.post(
        &key,
        &format!("/message/{first}/reaction"),
        json!({ "phone": budi, "emoji": "" }),
    )
    .await;
    let (_, m) = p.get(&key, &format!("/message/{first}")).await;
    assert!(
        m["data"]["content"]["reactions"].get(&my_jid).is_none(),
        "{m}"
    );
    let (status, _) = p
        .post(
            &key,
            &format!("/message/{first}/reaction"),
            json!({ "phone": budi, "emoji": "abc" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A message id in another chat is not found there.
    let (status, _) = p
        .post(
            &key,
            &format!("/message/{first}/star"),
            json!({ "phone": "6289999999999" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Edit our own text; not theirs.
    let (_, mine) = p
        .post(
            &key,
            "/send/message",
            json!({ "phone": budi, "message": "helo" }),
        )
        .await;
    let mine = mine["data"]["message_id"].as_str().unwrap().to_owned();
    let (status, edited) = p
        .post(
            &key,
            &format!("/message/{mine}/update"),
            json!({ "phone": budi, "message": "hello" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["data"]["body"], "hello");
    assert!(edited["data"]["edited_at"].is_string());
    let (status, _) = p
        .post(
            &key,
            &format!("/message/{first}/update"),
            json!({ "phone": budi, "message": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Star and unstar.
    let (_, starred) = p
        .post(
            &key,
            &format!("/message/{first}/star"),
            json!({ "phone": budi }),
        )
        .await;
    assert_eq!(starred["data"]["starred"], true);
    let (_, unstarred) = p
        .post(
            &key,
            &format!("/message/{first}/unstar"),
            json!({ "phone": budi }),
        )
        .await;
    assert_eq!(unstarred["data"]["starred"], false);

    // Forward to another chat.
    let (status, fwd) = p
        .post(
            &key,
            &format!("/message/{first}/forward"),
            json!({ "phone": "6287777777777" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fwd}");
    let (_, copy) = p
        .get(
            &key,
            &format!("/message/{}", fwd["data"]["message_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(copy["data"]["body"], "one");
    assert_eq!(copy["data"]["is_forwarded"], true);
    assert_eq!(copy["data"]["chat_jid"], "6287777777777@s.whatsapp.net");

    // Delete for everyone (ours only, once), delete for me.
    let (status, revoked) = p
        .post(
            &key,
            &format!("/message/{mine}/revoke"),
            json!({ "phone": budi }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["data"]["revoked_at"].is_string());
    assert!(
        revoked["data"]["body"].is_null(),
        "the content is gone: {revoked}"
    );
    let (status, _) = p
        .post(
            &key,
            &format!("/message/{mine}/revoke"),
            json!({ "phone": budi }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = p
        .post(
            &key,
            &format!("/message/{first}/revoke"),
            json!({ "phone": budi }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not ours");
    let (status, _) = p
        .post(
            &key,
            &format!("/message/{second}/delete"),
            json!({ "phone": budi }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = p.get(&key, &format!("/message/{second}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Chat settings.
    let (status, pinned) = p
        .post(
            &key,
            "/chat/6287777777777@s.whatsapp.net/pin",
            json!({ "pinned": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    let (_, chats) = p.get(&key, "/chats").await;
    assert_eq!(
        chats["data"][0]["jid"], "6287777777777@s.whatsapp.net",
        "pinned first: {chats}"
    );
    p.post(
        &key,
        &format!("/chat/{budi}/archive"),
        json!({ "archived": true }),
    )
    .await;
    let (_, active) = p.get(&key, "/chats?archived=false").await;
    assert!(
        active["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["jid"] != budi),
        "{active}"
    );
    let (_, archived) = p.get(&key, "/chats?archived=true").await;
    assert_eq!(archived["data"][0]["jid"], budi);
    let (status, chat) = p
        .post(
            &key,
            &format!("/chat/{budi}/disappearing"),
            json!({ "timer_seconds": 86400 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{chat}");
    assert_eq!(chat["data"]["disappearing_secs"], 86400);
    let (status, _) = p
        .post(
            &key,
            &format!("/chat/{budi}/disappearing"),
            json!({ "timer_seconds": 5 }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = p
        .post(
            &key,
            "/call/reject",
            json!({ "caller_jid": budi, "call_id": "ABC123" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn sqlite_message_kinds_and_operations() {
    message_kinds_and_operations(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_message_kinds_and_operations() {
    message_kinds_and_operations(Backend::Postgres).await;
}

/// The first bytes of a PNG (enough for the type to be recognised).
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
];

impl Platform {
    async fn upload(
        &self,
        key: &str,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> (StatusCode, Value) {
        let resp = http()
            .post(format!("http://{}/api/v1{path}", self.addr))
            .header("X-API-Key", key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// Whether a download carries a policy under which nothing in it can run.
fn download_is_sandboxed(download: &reqwest::Response) -> bool {
    download
        .headers()
        .get_all("content-security-policy")
        .iter()
        .any(|v| v.to_str().unwrap_or_default().contains("sandbox"))
}

fn file(bytes: &[u8], name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

async fn media_up_down_and_refused(backend: Backend) {
    use reqwest::multipart::Form;
    let p = Platform::start(backend).await;
    let (_, _, key) = p.customer("frank@example.com").await;
    p.get(&key, "/app/login").await;
    p.post(&key, "/sandbox/scan", json!({})).await;
    let budi = "6281234567890";

    // An image goes up, is sent, and comes back byte for byte.
    let form = Form::new()
        .text("phone", budi)
        .text("caption", "our logo")
        .part("image", file(PNG, "logo.png"));
    let (status, body) = p.upload(&key, "/send/image", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["data"]["message_id"].as_str().unwrap().to_owned();
    let (_, message) = p.get(&key, &format!("/message/{id}")).await;
    assert_eq!(message["data"]["type"], "image");
    assert_eq!(message["data"]["body"], "our logo");
    assert_eq!(message["data"]["content"]["mime_type"], "image/png");
    assert_eq!(message["data"]["content"]["file_size"], PNG.len());
    let download = http()
        .get(format!("http://{}/api/v1/message/{id}/download", p.addr))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("logo.png"));
    assert!(download_is_sandboxed(&download), "{:?}", download.headers());
    assert_eq!(download.bytes().await.unwrap().as_ref(), PNG);

    // A page or an SVG is a file like another, but it is served as opaque bytes: a
    // sender's script never runs on our origin.
    for (name, bytes, claimed) in [
        (
            "page.html",
            &b"<html><script>alert(1)</script></html>"[..],
            "text/html",
        ),
        (
            "logo.svg",
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            "image/svg+xml",
        ),
    ] {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name(name.to_owned())
            .mime_str(claimed)
            .unwrap();
        let form = Form::new().text("phone", budi).part("file", part);
        let (status, body) = p.upload(&key, "/send/file", form).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        let id = body["data"]["message_id"].as_str().unwrap();
        let download = http()
            .get(format!("http://{}/api/v1/message/{id}/download", p.addr))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(download.status(), StatusCode::OK);
        assert_eq!(
            download.headers()["content-type"],
            "application/octet-stream",
            "{name}"
        );
        assert!(download_is_sandboxed(&download));
        assert_eq!(download.bytes().await.unwrap().as_ref(), bytes);
    }

    // The type comes from the bytes: an executable named .png is refused, and so is a PNG
    // sticker (stickers are WebP).
    let form = Form::new().text("phone", budi).part(
        "image",
        file(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "evil.png"),
    );
    let (status, body) = p.upload(&key, "/send/image", form).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
        "{body}"
    );
    let form = Form::new()
        .text("phone", budi)
        .part("sticker", file(PNG, "s.png"));
    let (status, _) = p.upload(&key, "/send/sticker", form).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Size limits per kind: a 6 MB image is too large (images stop at 5 MB).
    let mut big = PNG.to_vec();
    big.resize(6 * 1024 * 1024, 0);
    let form = Form::new()
        .text("phone", budi)
        .part("image", file(&big, "big.png"));
    let (status, body) = p.upload(&key, "/send/image", form).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        "{body}"
    );

    // A URL to a private address is refused before anything is fetched.
    for url in [
        "http://127.0.0.1:9/x.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x.png",
        "file:///etc/passwd",
    ] {
        let form = Form::new().text("phone", budi).text("image_url", url);
        let (status, body) = p.upload(&key, "/send/image", form).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{url}: {body}"
        );
        assert_eq!(body["error"]["field"], "image_url");
    }
    let (status, _) = p
        .upload(&key, "/send/image", Form::new().text("phone", budi))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no file and no URL");
    let form = Form::new()
        .text("phone", budi)
        .text("colour", "red")
        .part("image", file(PNG, "a.png"));
    let (status, _) = p.upload(&key, "/send/image", form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown field");

    // A body that is not a multipart form with its boundary (curl's `-H "Content-Type:
    // multipart/form-data"` without one, or JSON) is refused in the error shape.
    for content_type in ["multipart/form-data", "application/json"] {
        let resp = http()
            .post(format!("http://{}/api/v1/send/image", p.addr))
            .header("X-API-Key", &key)
            .header("Content-Type", content_type)
            .body(format!(r#"{{"phone":"{budi}"}}"#))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{content_type}: {body}"
        );
        assert_eq!(body["error"]["field"], "content-type", "{body}");
    }

    // Documents keep a clean name; voice notes keep their flag.
    let form = Form::new().text("phone", budi).part(
        "file",
        file(b"a,b\n1,2\n", "../../etc/report.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let (status, body) = p.upload(&key, "/send/file", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, doc) = p
        .get(
            &key,
            &format!("/message/{}", body["data"]["message_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(doc["data"]["content"]["file_name"], "report.csv");
    assert_eq!(doc["data"]["content"]["mime_type"], "text/csv");
    let ogg = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead";
    let form = Form::new()
        .text("phone", budi)
        .text("ptt", "true")
        .part("audio", file(ogg, "voice.ogg"));
    let (status, body) = p.upload(&key, "/send/audio", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, voice) = p
        .get(
            &key,
            &format!("/message/{}", body["data"]["message_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(voice["data"]["content"]["ptt"], true, "{voice}");

    // A contact sends a photo and reacts to ours.
    use base64::Engine;
    let (status, body) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": budi, "message": "a photo", "media_type": "image",
                    "media_base64": base64::engine::general_purpose::STANDARD.encode(PNG) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let photo = body["data"]["message_id"].as_str().unwrap().to_owned();
    let (_, media_chats) = p.get(&key, "/chats?has_media=true").await;
    assert_eq!(media_chats["meta"]["total"], 1, "{media_chats}");
    let (_, media_only) = p
        .get(
            &key,
            &format!("/chat/{budi}@s.whatsapp.net/messages?media_only=true"),
        )
        .await;
    assert_eq!(
        media_only["meta"]["total"], 6,
        "image, page, SVG, document, voice note, photo: {media_only}"
    );
    let download = http()
        .get(format!("http://{}/api/v1/message/{photo}/download", p.addr))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(download.bytes().await.unwrap().as_ref(), PNG);
    let (status, body) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": budi, "reaction": { "message_id": id, "emoji": "❤️" } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, reacted) = p.get(&key, &format!("/message/{id}")).await;
    assert_eq!(
        reacted["data"]["content"]["reactions"][format!("{budi}@s.whatsapp.net")],
        "❤️",
        "{reacted}"
    );

    // A text message has nothing to download.
    let (_, text) = p
        .post(
            &key,
            "/send/message",
            json!({ "phone": budi, "message": "no media" }),
        )
        .await;
    let (status, _) = p
        .get(
            &key,
            &format!(
                "/message/{}/download",
                text["data"]["message_id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sqlite_media_up_down_and_refused() {
    media_up_down_and_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_media_up_down_and_refused() {
    media_up_down_and_refused(Backend::Postgres).await;
}

async fn groups_users_and_newsletters(backend: Backend) {
    use reqwest::multipart::Form;
    let p = Platform::start(backend).await;
    let (_, _, key) = p.customer("gina@example.com").await;
    let (_, _, other) = p.customer("hank@example.com").await;
    let (status, body) = p
        .post(
            &key,
            "/group",
            json!({ "title": "Team", "participants": ["6281234567890"] }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "SESSION_NOT_CONNECTED"),
        "groups need a session: {body}"
    );
    p.get(&key, "/app/login").await;
    p.post(&key, "/sandbox/scan", json!({ "phone": "15550107777" }))
        .await;
    let me = "15550107777@s.whatsapp.net";
    let budi = "6281234567890@s.whatsapp.net";

    let (status, body) = p
        .post(
            &key,
            "/group",
            json!({ "title": "Team", "participants": ["6281234567890", "6281234560000"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let group = body["data"]["group_id"].as_str().unwrap().to_owned();
    assert!(
        group.starts_with("120363") && group.ends_with("@g.us"),
        "{group}"
    );
    assert_eq!(body["data"]["participants"][0]["status"], "success");
    assert_eq!(
        body["data"]["participants"][1]["status"], "error",
        "not on WhatsApp: {body}"
    );
    let (_, info) = p.get(&key, &format!("/group/info?group_id={group}")).await;
    assert_eq!(info["data"]["participant_count"], 2, "{info}");
    assert_eq!(info["data"]["owner_jid"], me);
    assert_eq!(info["data"]["participants"][0]["role"], "superadmin");

    let add = |who: &str| json!({ "group_id": group, "participants": [who] });
    let (_, r) = p
        .post(&key, "/group/participants", add("6281111111111"))
        .await;
    assert_eq!(r["data"][0]["status"], "success", "{r}");
    let (_, r) = p
        .post(&key, "/group/participants", add("6281111111111"))
        .await;
    assert_eq!(r["data"][0]["status"], "error", "already in: {r}");
    let (_, r) = p.post(&key, "/group/participants/promote", add(budi)).await;
    assert_eq!(r["data"][0]["status"], "success");
    let (_, info) = p
        .get(&key, &format!("/group/participants?group_id={group}"))
        .await;
    assert!(
        info["data"]["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["jid"] == budi && x["role"] == "admin"),
        "{info}"
    );
    p.post(&key, "/group/participants/demote", add(budi)).await;
    let (_, r) = p.post(&key, "/group/participants/remove", add(budi)).await;
    assert_eq!(r["data"][0]["status"], "success");
    let (_, r) = p.post(&key, "/group/participants/remove", add(me)).await;
    assert_eq!(r["data"][0]["status"], "error", "the creator stays: {r}");

    // Settings.
    let (_, renamed) = p
        .post(
            &key,
            "/group/name",
            json!({ "group_id": group, "name": "Team 2" }),
        )
        .await;
    assert_eq!(renamed["data"]["name"], "Team 2");
    let (status, _) = p
        .post(
            &key,
            "/group/name",
            json!({ "group_id": group, "name": "x".repeat(101) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, chats) = p.get(&key, "/chats").await;
    assert!(
        chats["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["jid"] == group.as_str() && c["name"] == "Team 2"),
        "{chats}"
    );
    let (_, t) = p
        .post(
            &key,
            "/group/topic",
            json!({ "group_id": group, "topic": "Weekly sync" }),
        )
        .await;
    assert_eq!(t["data"]["topic"], "Weekly sync");
    let (_, l) = p
        .post(
            &key,
            "/group/locked",
            json!({ "group_id": group, "locked": true }),
        )
        .await;
    assert_eq!(l["data"]["is_locked"], true);
    let (_, a) = p
        .post(
            &key,
            "/group/announce",
            json!({ "group_id": group, "announce": true }),
        )
        .await;
    assert_eq!(a["data"]["is_announce"], true);
    let form = Form::new().text("group_id", group.clone()).part(
        "photo",
        reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("g.png"),
    );
    let (status, photo) = p.upload(&key, "/group/photo", form).await;
    assert_eq!(status, StatusCode::OK, "{photo}");
    assert!(photo["data"]["picture_id"].is_string());

    // Invite links.
    let (_, link) = p
        .get(&key, &format!("/group/invite-link?group_id={group}"))
        .await;
    let link = link["data"]["invite_link"].as_str().unwrap().to_owned();
    assert!(link.starts_with("https://chat.whatsapp.com/"), "{link}");
    let (_, reset) = p
        .get(
            &key,
            &format!("/group/invite-link?group_id={group}&reset=true"),
        )
        .await;
    assert_ne!(reset["data"]["invite_link"], link.as_str());
    let new_link = reset["data"]["invite_link"].as_str().unwrap().to_owned();
    let (_, from_link) = p
        .get(&key, &format!("/group/info-from-link?link={new_link}"))
        .await;
    assert_eq!(from_link["data"]["group_id"], group.as_str(), "{from_link}");

    // Join requests, approved by an admin.
    let (status, _) = p
        .post(
            &key,
            "/sandbox/group-request",
            json!({ "group_id": group, "from": "6282222222222" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, requests) = p
        .get(
            &key,
            &format!("/group/participant-requests?group_id={group}"),
        )
        .await;
    assert_eq!(
        requests["data"][0]["jid"], "6282222222222@s.whatsapp.net",
        "{requests}"
    );
    let (_, r) = p
        .post(
            &key,
            "/group/participant-requests/approve",
            add("6282222222222"),
        )
        .await;
    assert_eq!(r["data"][0]["status"], "success");
    let (_, info) = p.get(&key, &format!("/group/info?group_id={group}")).await;
    assert_eq!(info["data"]["participant_count"], 3);

    // CSV export.
    let csv = http()
        .get(format!(
            "http://{}/api/v1/group/participants/export?group_id={group}",
            p.addr
        ))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("jid,phone_number,role\n") && csv.contains("+15550107777,superadmin"),
        "{csv}"
    );

    // Sending to the group as its admin works.
    let (status, sent) = p
        .post(
            &key,
            "/send/message",
            json!({ "phone": group, "message": "hello team" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");

    // A group joined by link, then left: no more sending there.
    let (status, joined) = p
        .post(
            &key,
            "/group/join-with-link",
            json!({ "link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    let joined = joined["data"]["group_id"].as_str().unwrap().to_owned();
    let (_, info) = p.get(&key, &format!("/group/info?group_id={joined}")).await;
    assert!(info["data"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["jid"] == me && x["role"] == "member"));
    let (status, _) = p
        .post(
            &key,
            "/group/name",
            json!({ "group_id": joined, "name": "mine now" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an unlocked group's name can be changed by members"
    );
    let (status, _) = p
        .post(
            &key,
            "/group/announce",
            json!({ "group_id": joined, "announce": true }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "but only admins change its settings"
    );
    let (status, _) = p
        .post(&key, "/group/leave", json!({ "group_id": joined }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mine) = p.get(&key, "/user/my/groups").await;
    let ids: Vec<&str> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [group.as_str()]);
    let (status, _) = p
        .post(
            &key,
            "/send/message",
            json!({ "phone": joined, "message": "still here?" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another customer cannot see the group.
    p.get(&other, "/app/login").await;
    p.post(&other, "/sandbox/scan", json!({})).await;
    let (status, _) = p
        .get(&other, &format!("/group/info?group_id={group}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = p
        .post(&other, "/group/participants", add("6283333333333"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // User lookups and the profile.
    let (_, check) = p.get(&key, "/user/check?phone=6281234567890").await;
    assert_eq!(check["data"]["is_on_whatsapp"], true);
    let (_, check) = p.get(&key, "/user/check?phone=6281234560000").await;
    assert_eq!(check["data"]["is_on_whatsapp"], false);
    let (_, info) = p.get(&key, "/user/info?phone=6281234567890").await;
    assert_eq!(info["data"]["jid"], budi);
    let (status, body) = p.get(&key, "/user/info?phone=6281234560000").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "NOT_ON_WHATSAPP")
    );
    let (status, renamed) = p
        .post(&key, "/user/pushname", json!({ "push_name": "Gina" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["data"]["push_name"], "Gina");
    let (status, _) = p
        .post(
            &key,
            "/user/pushname",
            json!({ "push_name": "x".repeat(26) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let form = Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("me.png"),
    );
    let (status, _) = p.upload(&key, "/user/avatar", form).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = p.get(&key, "/user/avatar?phone=15550107777").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = p.get(&key, "/user/avatar?phone=6281234567890").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, privacy) = p.get(&key, "/user/my/privacy").await;
    assert_eq!(privacy["data"]["group_add"], "all");
    p.post(
        &key,
        "/sandbox/inbound",
        json!({ "from": "6281234567890", "message": "hi", "push_name": "Budi" }),
    )
    .await;
    let (_, contacts) = p.get(&key, "/user/my/contacts").await;
    assert!(
        contacts["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["jid"] == budi && c["name"] == "Budi"),
        "{contacts}"
    );
    let (_, newsletters) = p.get(&key, "/user/my/newsletters").await;
    assert_eq!(newsletters["data"], json!([]));
    let (status, _) = p
        .get(
            &key,
            "/newsletter/messages?newsletter_id=120363144038483540@newsletter",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = p
        .post(
            &key,
            "/newsletter/unfollow",
            json!({ "newsletter_id": "not-a-newsletter" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, passkey) = p.get(&key, "/app/passkey").await;
    assert_eq!(passkey["data"]["available"], false);
    let (status, _) = p.post(&key, "/app/passkey/confirm", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn sqlite_groups_users_and_newsletters() {
    groups_users_and_newsletters(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_groups_users_and_newsletters() {
    groups_users_and_newsletters(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// The gateway: idempotent sends, usage metering and the audit of API calls.
// ---------------------------------------------------------------------------------------

impl Platform {
    /// A text send with an `Idempotency-Key`: (status, replayed?, body).
    async fn send_idempotent(
        &self,
        key: &str,
        idem: &str,
        text: &str,
    ) -> (StatusCode, bool, Value) {
        let resp = http()
            .post(format!("http://{}/api/v1/send/message", self.addr))
            .header("X-API-Key", key)
            .header("Idempotency-Key", idem)
            .json(&json!({ "phone": "6281234567890", "message": text }))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let replayed = resp
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        (status, replayed, resp.json().await.unwrap_or(Value::Null))
    }

    /// The `api_call` audit rows of a customer, through the admin API.
    async fn api_calls(&self, customer: &str) -> Vec<Value> {
        let mut rows = Vec::new();
        for page in 1.. {
            let (status, body) = self
                .admin(
                    Method::GET,
                    &format!("/api/admin/logs?event_type=api_call&actor_id={customer}&per_page=100&page={page}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let batch = body["data"].as_array().unwrap().clone();
            if batch.is_empty() {
                break;
            }
            rows.extend(batch);
        }
        rows
    }

    async fn admin_usage(&self, customer: &str) -> Value {
        let (status, body) = self
            .admin(
                Method::GET,
                &format!("/api/admin/customers/{customer}/usage"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["totals"].clone()
    }
}

async fn idempotent_sends_usage_and_audit(backend: Backend) {
    let p = Platform::start(backend).await;
    let (customer, _, key) = p.customer("ida@example.com").await;
    let mut calls = 0; // authenticated customer API calls made so far
    p.get(&key, "/app/login").await;
    p.post(&key, "/sandbox/scan", json!({})).await;
    calls += 2;

    // A send with a key goes out once; its retry answers the same and sends nothing.
    let (status, replayed, first) = p
        .send_idempotent(&key, "order-1001", "your order shipped")
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(!replayed);
    let (status, replayed, again) = p
        .send_idempotent(&key, "order-1001", "your order shipped")
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(replayed, "the retry is marked as a replay");
    assert_eq!(again, first, "the very same answer");
    // The same key with another request is refused; a new key sends.
    let (status, _, reused) = p
        .send_idempotent(&key, "order-1001", "something else")
        .await;
    assert_eq!(
        (status, code(&reused)),
        (StatusCode::CONFLICT, "IDEMPOTENCY_KEY_REUSED"),
        "{reused}"
    );
    let (status, _, other) = p
        .send_idempotent(&key, "order-1002", "something else")
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_ne!(other["data"]["message_id"], first["data"]["message_id"]);
    calls += 4;
    let (_, page) = p
        .get(&key, "/chat/6281234567890@s.whatsapp.net/messages")
        .await;
    calls += 1;
    let shipped = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["body"] == "your order shipped")
        .count();
    assert_eq!(shipped, 1, "sent once: {page}");

    // An image and a refused request (bad input) are metered too.
    let form = reqwest::multipart::Form::new()
        .text("phone", "6281234567890")
        .part("image", file(PNG, "logo.png"));
    let (status, body) = p.upload(&key, "/send/image", form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = p.post(&key, "/send/message", json!({ "phone": "x" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    calls += 2;

    // The customer's usage: every call before this one, the sends that went out (the
    // replay and the refusals excluded), the image, bytes both ways.
    let (status, usage) = p.get(&key, "/usage").await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    let today = &usage["data"]["days"][0];
    assert_eq!(
        usage["data"]["days"].as_array().unwrap().len(),
        1,
        "{usage}"
    );
    assert_eq!(today["api_requests"], calls, "{usage}");
    assert_eq!(today["messages_sent"], 3, "{usage}");
    assert_eq!(today["images_sent"], 1, "{usage}");
    assert!(
        today["bandwidth_in_bytes"].as_i64().unwrap() > PNG.len() as i64,
        "{usage}"
    );
    assert!(
        today["bandwidth_out_bytes"].as_i64().unwrap() > 0,
        "{usage}"
    );
    assert_eq!(usage["data"]["totals"]["api_requests"], calls);
    calls += 1;

    // A number written with dots in a path is still a number: masked in the audit log.
    let (status, body) = p.get(&key, "/chat/62.812.345.67890/messages").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    calls += 1;

    // The operator sees the same, this last call included; and one audit row per call with
    // its endpoint and status, nothing of the bodies or keys.
    let totals = p.admin_usage(&customer).await;
    assert_eq!(totals["api_requests"], calls, "{totals}");
    assert_eq!(totals["messages_sent"], 3);
    let rows = p.api_calls(&customer).await;
    assert_eq!(rows.len(), calls as usize, "one audit row per call");
    let conflict = rows
        .iter()
        .find(|r| r["metadata"]["status_code"] == 409)
        .expect("the refused reuse is audited");
    assert_eq!(conflict["action"], "POST /api/v1/send/message");
    assert_eq!(conflict["status"], "failure");
    assert_eq!(conflict["event_type"], "api_call");
    assert_eq!(conflict["severity"], "info");
    assert_eq!(
        (&conflict["actor_type"], &conflict["actor_id"]),
        (&json!("customer"), &json!(customer))
    );
    // The key's id, never the key.
    assert_eq!(conflict["resource_type"], "api_key");
    assert!(
        conflict["resource_id"]
            .as_str()
            .is_some_and(|id| id.parse::<uuid::Uuid>().is_ok()),
        "{conflict}"
    );
    assert_eq!(conflict["ip_address"], "127.0.0.1");
    assert!(rows
        .iter()
        .filter(|r| r["metadata"]["status_code"] == 200)
        .all(|r| r["status"] == "success"));
    assert!(conflict["request_id"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(conflict["duration_ms"].as_i64().is_some());
    let all = serde_json::to_string(&rows).unwrap();
    assert!(!all.contains(&key), "no key in the audit log");
    assert!(
        !all.contains("your order shipped"),
        "no message body in the audit log"
    );
    assert!(
        !all.contains("6281234567890") && !all.contains("62.812.345.67890"),
        "no full phone number in the audit log"
    );
    assert!(
        rows.iter()
            .any(|r| r["action"] == "GET /api/v1/chat/****7890/messages"),
        "{all}"
    );

    // Another customer's key reads its own usage only.
    let (_, _, other_key) = p.customer("other@example.com").await;
    let (_, theirs) = p.get(&other_key, "/usage").await;
    assert_eq!(theirs["data"]["totals"]["api_requests"], 0, "{theirs}");

    // Received messages are counted by the worker.
    let (status, _) = p
        .post(
            &key,
            "/sandbox/inbound",
            json!({ "from": "6281234567890", "message": "thanks!" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, usage) = p.get(&key, "/usage").await;
        if usage["data"]["totals"]["messages_received"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "never counted: {usage}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_idempotent_sends_usage_and_audit() {
    idempotent_sends_usage_and_audit(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_idempotent_sends_usage_and_audit() {
    idempotent_sends_usage_and_audit(Backend::Postgres).await;
}

/// Load from 4 clients, SIGTERM in the middle: after the restart, usage and the audit log
/// count exactly the requests that were answered.
async fn usage_and_audit_survive_a_graceful_stop_mid_load(backend: Backend) {
    let p = Platform::start(backend).await;
    let (customer, _, key) = p.customer("load@example.com").await;
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (addr, key, answered) = (p.addr.clone(), key.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let client = http();
            loop {
                let sent = client
                    .get(format!("http://{addr}/api/v1/app/status"))
                    .header("X-API-Key", &key)
                    .send()
                    .await;
                let Ok(resp) = sent else { break };
                if resp.bytes().await.is_err() {
                    break;
                }
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let p = p.restart().await;
    for c in clients {
        c.await.unwrap();
    }
    let answered = answered.load(std::sync::atomic::Ordering::SeqCst);
    assert!(answered > 50, "the load ran: {answered}");
    let totals = p.admin_usage(&customer).await;
    assert_eq!(totals["api_requests"], answered, "{totals}");
    assert_eq!(p.api_calls(&customer).await.len() as i64, answered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_usage_and_audit_survive_a_graceful_stop_mid_load() {
    usage_and_audit_survive_a_graceful_stop_mid_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_usage_and_audit_survive_a_graceful_stop_mid_load() {
    usage_and_audit_survive_a_graceful_stop_mid_load(Backend::Postgres).await;
}

/// A reply quotes a message of its own chat: another customer's message id, or one of
/// another chat, is refused naming the field, and nothing is sent.
async fn a_reply_quotes_only_a_message_of_its_chat(backend: Backend) {
    let p = Platform::start(backend).await;
    let a = p.logged_in("quote-a@example.com", "6285550004444").await;
    let b = p.logged_in("quote-b@example.com", "6285550005555").await;
    let inbound = |key: &str, from: &str| {
        let body = json!({ "from": from, "message": "quote me" });
        let key = key.to_owned();
        let p = &p;
        async move {
            let (status, body) = p.post(&key, "/sandbox/inbound", body).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["data"]["message_id"].as_str().unwrap().to_owned()
        }
    };
    let theirs = inbound(&b, "6281234567890").await;
    let other_chat = inbound(&a, "6289876543210").await;
    let own = inbound(&a, "6281234567890").await;
    for quoted in [
        theirs.as_str(),
        other_chat.as_str(),
        "3EB0000000000000000000",
    ] {
        let (status, body) = p
            .post(
                &a,
                "/send/message",
                json!({ "phone": "6281234567890", "message": "re", "reply_message_id": quoted }),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{quoted}: {body}"
        );
        assert_eq!(body["error"]["field"], "reply_message_id");
    }
    let (_, history) = p
        .get(
            &a,
            "/chat/6281234567890@s.whatsapp.net/messages?is_from_me=true",
        )
        .await;
    assert_eq!(history["meta"]["total"], 0, "nothing was sent: {history}");
    let (status, body) = p
        .post(
            &a,
            "/send/message",
            json!({ "phone": "6281234567890", "message": "re", "reply_message_id": own }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["data"]["message_id"].as_str().unwrap();
    let (_, message) = p.get(&a, &format!("/message/{id}")).await;
    assert_eq!(message["data"]["reply_to"], own.as_str(), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_reply_quotes_only_a_message_of_its_chat() {
    a_reply_quotes_only_a_message_of_its_chat(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_reply_quotes_only_a_message_of_its_chat() {
    a_reply_quotes_only_a_message_of_its_chat(Backend::Postgres).await;
}
