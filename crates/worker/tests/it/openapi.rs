//! The customer API's OpenAPI document: it lists every route we implement of the gowa
//! API (and nothing internal), and what a sandbox session really answers matches it —
//! every documented operation is called, its status must be documented and its body
//! must fit the documented schema.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::{
    collections::{BTreeSet, HashMap},
    time::Duration,
};
use uuid::Uuid;
use wasp_protocol::service_token::{Mode, TokenSigner};
use wasp_worker::testkit;

fn document() -> Value {
    serde_json::to_value(wasp_worker::api::openapi()).unwrap()
}

/// Every operation of the document, as (METHOD, path).
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The routes of the gowa API that wasp implements, and wasp's sandbox controls.
const CUSTOMER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/app/login"),
    ("GET", "/app/login-with-code"),
    ("GET", "/app/logout"),
    ("POST", "/app/logout"),
    ("GET", "/app/reconnect"),
    ("POST", "/app/reconnect"),
    ("GET", "/app/status"),
    ("GET", "/app/passkey"),
    ("POST", "/app/passkey/response"),
    ("POST", "/app/passkey/confirm"),
    ("POST", "/send/message"),
    ("POST", "/send/image"),
    ("POST", "/send/audio"),
    ("POST", "/send/file"),
    ("POST", "/send/sticker"),
    ("POST", "/send/video"),
    ("POST", "/send/contact"),
    ("POST", "/send/link"),
    ("POST", "/send/location"),
    ("POST", "/send/poll"),
    ("POST", "/send/presence"),
    ("POST", "/send/chat-presence"),
    ("GET", "/message/{message_id}"),
    ("POST", "/message/{message_id}/revoke"),
    ("POST", "/message/{message_id}/delete"),
    ("POST", "/message/{message_id}/reaction"),
    ("POST", "/message/{message_id}/update"),
    ("POST", "/message/{message_id}/read"),
    ("POST", "/message/{message_id}/star"),
    ("POST", "/message/{message_id}/unstar"),
    ("POST", "/message/{message_id}/forward"),
    ("GET", "/message/{message_id}/download"),
    ("GET", "/chats"),
    ("GET", "/chat/{chat_jid}/messages"),
    ("POST", "/chat/{chat_jid}/pin"),
    ("POST", "/chat/{chat_jid}/disappearing"),
    ("POST", "/chat/{chat_jid}/archive"),
    ("POST", "/call/reject"),
    ("POST", "/group"),
    ("GET", "/group/info"),
    ("GET", "/group/participants"),
    ("POST", "/group/participants"),
    ("GET", "/group/participants/export"),
    ("POST", "/group/participants/remove"),
    ("POST", "/group/participants/promote"),
    ("POST", "/group/participants/demote"),
    ("POST", "/group/join-with-link"),
    ("GET", "/group/info-from-link"),
    ("GET", "/group/participant-requests"),
    ("POST", "/group/participant-requests/approve"),
    ("POST", "/group/participant-requests/reject"),
    ("POST", "/group/leave"),
    ("POST", "/group/photo"),
    ("POST", "/group/name"),
    ("POST", "/group/locked"),
    ("POST", "/group/announce"),
    ("POST", "/group/topic"),
    ("GET", "/group/invite-link"),
    ("GET", "/user/info"),
    ("GET", "/user/avatar"),
    ("POST", "/user/avatar"),
    ("POST", "/user/pushname"),
    ("GET", "/user/my/privacy"),
    ("GET", "/user/my/groups"),
    ("GET", "/user/my/newsletters"),
    ("GET", "/user/my/contacts"),
    ("GET", "/user/check"),
    ("GET", "/user/business-profile"),
    ("POST", "/newsletter/unfollow"),
    ("GET", "/newsletter/messages"),
    ("POST", "/sandbox/scan"),
    ("POST", "/sandbox/inbound"),
    ("POST", "/sandbox/receipt"),
    ("POST", "/sandbox/disconnect"),
    ("POST", "/sandbox/group-request"),
    ("POST", "/sandbox/newsletter"),
    ("GET", "/events"),
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("GET", "/webhooks/{webhook_id}"),
    ("PATCH", "/webhooks/{webhook_id}"),
    ("DELETE", "/webhooks/{webhook_id}"),
    ("POST", "/webhooks/{webhook_id}/rotate-secret"),
    ("POST", "/webhooks/{webhook_id}/test"),
    ("GET", "/webhooks/{webhook_id}/deliveries"),
    ("POST", "/webhooks/{webhook_id}/replay"),
];

#[test]
fn the_document_lists_every_customer_route_and_nothing_internal() {
    let doc = document();
    let documented = operations(&doc);
    let expected: BTreeSet<(String, String)> = CUSTOMER_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), format!("/api/v1{p}")))
        .collect();
    let missing: Vec<_> = expected.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, not in the list {extra:?}"
    );
    assert_eq!(documented.len(), 86);
    assert!(doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .all(|p| p.starts_with("/api/v1/") && !p.contains("internal")));
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["name"],
        "X-API-Key"
    );
}

#[test]
fn every_operation_is_tagged_secured_and_uniquely_named_and_every_ref_resolves() {
    let doc = document();
    let text = doc.to_string();
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let tag = op["tags"][0].as_str().unwrap_or_default();
        assert!(
            [
                "app",
                "send",
                "message",
                "chat",
                "chats",
                "user",
                "group",
                "newsletter",
                "call",
                "sandbox",
                "webhooks"
            ]
            .contains(&tag),
            "{method} {path}: tag {tag:?}"
        );
        assert!(
            path.starts_with("/api/v1/sandbox/") == (tag == "sandbox"),
            "{method} {path}"
        );
        assert!(op["summary"].is_string(), "{method} {path}");
        assert_eq!(
            op["security"],
            json!([{ "api_key": [] }]),
            "{method} {path}"
        );
        assert!(
            ids.insert(op["operationId"].as_str().unwrap().to_owned()),
            "{method} {path}: duplicate operationId"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.contains_key("200") || responses.contains_key("201"),
            "{method} {path}: no success answer"
        );
        for status in ["401", "503"] {
            assert!(responses.contains_key(status), "{method} {path}: {status}");
        }
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(
                op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                "{method} {path}: path parameter {name}"
            );
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(schemas.contains_key(name), "unresolved $ref {name}");
    }
}

#[test]
fn json_bodies_and_query_parameters_are_described() {
    let doc = document();
    let send = &doc["paths"]["/api/v1/send/message"]["post"]["requestBody"];
    assert_eq!(send["required"], true);
    let schema = &send["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(schema, "#/components/schemas/SendMessage");
    let send_message = &doc["components"]["schemas"]["SendMessage"];
    assert_eq!(send_message["required"], json!(["phone", "message"]));
    assert!(send_message["properties"]["phone"]["description"].is_string());
    // Every POST that reads JSON has a body schema; the multipart ones a form.
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        if let Some(content) = op["requestBody"]["content"].as_object() {
            for (kind, media) in content {
                assert!(
                    media["schema"].is_object(),
                    "{method} {path}: {kind} without a schema"
                );
            }
        }
    }
    let image = &doc["paths"]["/api/v1/send/image"]["post"]["requestBody"]["content"]
        ["multipart/form-data"]["schema"];
    assert_eq!(image["properties"]["image"]["format"], "binary");
    assert!(image["properties"]["image_url"].is_object());
    assert!(image["properties"]["ptt"]["description"].is_string());
    let chats = doc["paths"]["/api/v1/chats"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(chats
        .iter()
        .any(|p| p["name"] == "limit" && p["in"] == "query"));
    let check = doc["paths"]["/api/v1/user/check"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(check
        .iter()
        .any(|p| p["name"] == "phone" && p["required"] == true));
    // Error answers name their codes.
    let errors = &doc["paths"]["/api/v1/send/message"]["post"]["responses"];
    assert!(errors["409"]["description"]
        .as_str()
        .unwrap()
        .contains("SESSION_NOT_CONNECTED"));
    assert!(errors["400"]["description"]
        .as_str()
        .unwrap()
        .contains("INVALID_JSON"));
}

// ---- what a sandbox session answers fits the document --------------------------------

/// Checks `value` against `schema` (the subset of JSON Schema utoipa writes), with
/// objects closed: a key the schema does not name is drift too.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(parts) = schema["oneOf"]
        .as_array()
        .or_else(|| schema["anyOf"].as_array())
    {
        let errors: Vec<String> = parts
            .iter()
            .filter_map(|p| check(doc, p, value, at).err())
            .collect();
        return if errors.len() < parts.len() {
            Ok(())
        } else {
            Err(errors.join(" / "))
        };
    }
    if let Some(parts) = schema["allOf"].as_array() {
        // Merge the parts' properties into one closed object.
        let mut merged = json!({ "type": "object", "properties": {}, "required": [] });
        for part in parts {
            let part = resolve(doc, part);
            for (k, v) in part["properties"].as_object().into_iter().flatten() {
                merged["properties"][k] = v.clone();
            }
            for r in part["required"].as_array().into_iter().flatten() {
                merged["required"].as_array_mut().unwrap().push(r.clone());
            }
        }
        return check(doc, &merged, value, at);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.is_empty() {
        return Ok(());
    }
    let fits = types.iter().any(|t| match *t {
        "null" => value.is_null(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    });
    if !fits {
        return Err(format!("{at}: {value} is not {types:?}"));
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object())
    {
        for key in object.keys() {
            if !properties.contains_key(key) {
                return Err(format!("{at}: `{key}` is not documented"));
            }
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            let required = required.as_str().unwrap();
            if !object.contains_key(required) {
                return Err(format!("{at}: required `{required}` is missing"));
            }
        }
        for (key, v) in object {
            check(doc, &properties[key], v, &format!("{at}.{key}"))?;
        }
    }
    if let (Some(items), Some(item_schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(doc, item_schema, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

/// A sandbox session of one customer on a worker serving on a local port, calling the
/// API as management would, and checking every answer against the document.
struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
    doc: Value,
    /// Operations called, with the statuses they answered.
    seen: HashMap<(String, String), BTreeSet<u16>>,
}

enum Body {
    None,
    Json(Value),
    Form(reqwest::multipart::Form),
}

impl Client {
    /// Calls `method path` (`template` is its documented path, `/api/v1` left out) and
    /// returns the status and JSON body (Null when the answer is not JSON).
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        body: Body,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.clone(), format!("{}/api/v1{path}", self.url))
            .bearer_auth(&self.token);
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Form(f) => req.multipart(f),
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = resp.bytes().await.unwrap();
        let key = (method.as_str().to_owned(), format!("/api/v1{template}"));
        let op = &self.doc["paths"][&key.1][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{key:?} is not documented");
        let answer = &op["responses"][status.as_str()];
        assert!(
            answer.is_object(),
            "{key:?} answered {status}, which is not documented: {}",
            String::from_utf8_lossy(&bytes)
        );
        self.seen
            .entry(key.clone())
            .or_default()
            .insert(status.as_u16());
        let documented: Vec<&String> = answer["content"].as_object().unwrap().keys().collect();
        if content_type.starts_with("application/json") {
            assert_eq!(documented, ["application/json"], "{key:?} {status}");
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            let schema = &answer["content"]["application/json"]["schema"];
            if let Err(e) = check(&self.doc, schema, &value, "body") {
                panic!("{key:?} {status}: {e}\n{value:#}");
            }
            (status, value)
        } else {
            assert!(
                documented.iter().all(|d| d.as_str() != "application/json"),
                "{key:?} {status} answered {content_type}, documented {documented:?}"
            );
            (status, Value::Null)
        }
    }

    async fn get(&mut self, template: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, template, path, Body::None).await
    }

    async fn post(&mut self, template: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, template, path, Body::Json(body))
            .await
    }
}

/// The first bytes of a PNG (enough for the type to be recognised).
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
];

/// The first bytes of an Ogg Opus file, an MP4 and a WebP image.
const OGG: &[u8] = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead";
const MP4: &[u8] = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2";
const WEBP: &[u8] = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00";

fn png(field: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        field.to_owned(),
        reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("a.png"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_answers_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let db = testkit::sqlite(dir.path()).await.unwrap();
    let server = Uuid::new_v4();
    let (customer, fresh) = (Uuid::new_v4(), Uuid::new_v4());
    testkit::seed_server(&db, server, "docs").await.unwrap();
    testkit::seed_customers(&db, Some(server), &[customer, fresh])
        .await
        .unwrap();
    let signer = TokenSigner::from_seed([7; 32]);
    let served = testkit::serve(testkit::sandbox_config(dir.path()), &db, server, &signer)
        .await
        .unwrap();
    let url = served.url.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap();
    let doc = document();
    let mut c = Client {
        http: http.clone(),
        url: url.clone(),
        token: signer.for_request(server, Some(customer), Some(Mode::Test), None),
        doc: doc.clone(),
        seen: HashMap::new(),
    };

    // The internal API is still served (it answers, without a token: 401, not 404).
    let internal = http
        .get(format!("{url}/internal/instances"))
        .send()
        .await
        .unwrap();
    assert_eq!(internal.status(), StatusCode::UNAUTHORIZED);

    // ---- app: a pair code on a fresh session, a QR login on ours.
    let mut other = Client {
        http: http.clone(),
        url: url.clone(),
        token: signer.for_request(server, Some(fresh), Some(Mode::Test), None),
        doc: doc.clone(),
        seen: HashMap::new(),
    };
    let (status, _) = other
        .get(
            "/app/login-with-code",
            "/app/login-with-code?phone=6281234567890",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = other
        .get("/app/login-with-code", "/app/login-with-code")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    c.seen.extend(other.seen);

    c.get("/app/status", "/app/status").await;
    let (status, _) = c.get("/app/login", "/app/login").await;
    assert_eq!(status, StatusCode::OK);
    let (status, me) = c
        .post(
            "/sandbox/scan",
            "/sandbox/scan",
            json!({ "phone": "15550104455" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["data"]["state"], "connected");
    c.get("/app/passkey", "/app/passkey").await;
    c.post("/app/passkey/response", "/app/passkey/response", json!({}))
        .await;
    c.post("/app/passkey/confirm", "/app/passkey/confirm", json!({}))
        .await;

    // ---- send
    let budi = "6281234567890@s.whatsapp.net";
    let (status, sent) = c
        .post(
            "/send/message",
            "/send/message",
            json!({ "phone": budi, "message": "helo" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let mine = sent["data"]["message_id"].as_str().unwrap().to_owned();
    c.post("/send/message", "/send/message", json!({ "phone": budi }))
        .await;
    c.post(
        "/send/contact",
        "/send/contact",
        json!({ "phone": budi, "contact_name": "Siti", "contact_phone": "+62 811 2222 3333" }),
    )
    .await;
    c.post(
        "/send/link",
        "/send/link",
        json!({ "phone": budi, "link": "https://example.com/a", "caption": "look" }),
    )
    .await;
    c.post(
        "/send/location",
        "/send/location",
        json!({ "phone": budi, "latitude": "-6.2", "longitude": 106.8 }),
    )
    .await;
    c.post(
        "/send/poll",
        "/send/poll",
        json!({ "phone": budi, "question": "Lunch?", "options": ["Yes", "No"], "max_answer": 1 }),
    )
    .await;
    c.post(
        "/send/presence",
        "/send/presence",
        json!({ "type": "available" }),
    )
    .await;
    c.post(
        "/send/chat-presence",
        "/send/chat-presence",
        json!({ "phone": budi, "action": "start" }),
    )
    .await;
    let mut image = None;
    for kind in ["image", "file", "audio", "video", "sticker"] {
        let bytes: &[u8] = match kind {
            "audio" => OGG,
            "video" => MP4,
            "sticker" => WEBP,
            _ => PNG,
        };
        let form = reqwest::multipart::Form::new()
            .part(
                kind,
                reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("media"),
            )
            .text("phone", budi);
        let path = format!("/send/{kind}");
        let (status, body) = c.call(Method::POST, &path, &path, Body::Form(form)).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        if kind == "image" {
            image = Some(body["data"]["message_id"].as_str().unwrap().to_owned());
        }
    }
    let image = image.unwrap();
    let (status, _) = c
        .get(
            "/message/{message_id}/download",
            &format!("/message/{image}/download"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    c.get(
        "/message/{message_id}/download",
        &format!("/message/{mine}/download"),
    )
    .await;

    // ---- inbound, and operations on messages
    let (status, inbound) = c
        .post(
            "/sandbox/inbound",
            "/sandbox/inbound",
            json!({ "from": "6281234567890", "message": "one", "push_name": "Budi" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inbound}");
    let theirs = inbound["data"]["message_id"].as_str().unwrap().to_owned();
    let (status, _) = c
        .post(
            "/sandbox/inbound",
            "/sandbox/inbound",
            json!({ "from": "6281234567890", "reaction": { "message_id": mine, "emoji": "👍" } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = c
        .post(
            "/sandbox/receipt",
            "/sandbox/receipt",
            json!({ "message_id": mine, "status": "read" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let in_chat = json!({ "phone": budi });
    for (op, id) in [
        ("read", &theirs),
        ("star", &theirs),
        ("unstar", &theirs),
        ("revoke", &theirs),
    ] {
        let template = format!("/message/{{message_id}}/{op}");
        c.post(&template, &format!("/message/{id}/{op}"), in_chat.clone())
            .await;
    }
    c.post(
        "/message/{message_id}/reaction",
        &format!("/message/{theirs}/reaction"),
        json!({ "phone": budi, "emoji": "🎉" }),
    )
    .await;
    let (status, _) = c
        .post(
            "/message/{message_id}/update",
            &format!("/message/{mine}/update"),
            json!({ "phone": budi, "message": "hello" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    c.post(
        "/message/{message_id}/forward",
        &format!("/message/{mine}/forward"),
        json!({ "phone": "6289999999999" }),
    )
    .await;
    let (status, _) = c
        .get("/message/{message_id}", &format!("/message/{mine}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    c.get("/message/{message_id}", "/message/nope").await;
    let (status, _) = c
        .post(
            "/message/{message_id}/revoke",
            &format!("/message/{mine}/revoke"),
            in_chat.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    c.post(
        "/message/{message_id}/delete",
        &format!("/message/{mine}/delete"),
        in_chat.clone(),
    )
    .await;

    // ---- chats
    let (_, chats) = c.get("/chats", "/chats?limit=10").await;
    assert!(!chats["data"].as_array().unwrap().is_empty());
    c.get("/chats", "/chats?limit=1000").await;
    let (_, messages) = c
        .get(
            "/chat/{chat_jid}/messages",
            &format!("/chat/{budi}/messages"),
        )
        .await;
    assert!(!messages["data"].as_array().unwrap().is_empty());
    c.post(
        "/chat/{chat_jid}/pin",
        &format!("/chat/{budi}/pin"),
        json!({ "pinned": true }),
    )
    .await;
    c.post(
        "/chat/{chat_jid}/archive",
        &format!("/chat/{budi}/archive"),
        json!({ "archived": true }),
    )
    .await;
    c.post(
        "/chat/{chat_jid}/disappearing",
        &format!("/chat/{budi}/disappearing"),
        json!({ "timer_seconds": 86400 }),
    )
    .await;
    c.post(
        "/call/reject",
        "/call/reject",
        json!({ "caller_jid": budi, "call_id": "ABC123" }),
    )
    .await;

    // ---- groups
    let (status, created) = c
        .post(
            "/group",
            "/group",
            json!({ "title": "Team", "participants": ["6281234567890", "6281234560000"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let group = created["data"]["group_id"].as_str().unwrap().to_owned();
    let q = format!("?group_id={group}");
    c.get("/group/info", &format!("/group/info{q}")).await;
    c.get("/group/info", "/group/info").await;
    c.get("/group/participants", &format!("/group/participants{q}"))
        .await;
    let who = |p: &str| json!({ "group_id": group, "participants": [p] });
    for op in ["", "/promote", "/demote", "/remove"] {
        let path = format!("/group/participants{op}");
        c.post(&path, &path, who("6281111111111")).await;
    }
    let (status, _) = c
        .get(
            "/group/participants/export",
            &format!("/group/participants/export{q}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, link) = c
        .get("/group/invite-link", &format!("/group/invite-link{q}"))
        .await;
    let link = link["data"]["invite_link"].as_str().unwrap().to_owned();
    c.get(
        "/group/info-from-link",
        &format!("/group/info-from-link?link={link}"),
    )
    .await;
    c.get(
        "/group/info-from-link",
        "/group/info-from-link?link=https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv",
    )
    .await;
    for from in ["6282222222222", "6283333333333"] {
        let (status, _) = c
            .post(
                "/sandbox/group-request",
                "/sandbox/group-request",
                json!({ "group_id": group, "from": from }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    c.get(
        "/group/participant-requests",
        &format!("/group/participant-requests{q}"),
    )
    .await;
    for (op, from) in [("approve", "6282222222222"), ("reject", "6283333333333")] {
        let path = format!("/group/participant-requests/{op}");
        c.post(&path, &path, who(from)).await;
    }
    c.post(
        "/group/name",
        "/group/name",
        json!({ "group_id": group, "name": "Team 2" }),
    )
    .await;
    c.post(
        "/group/topic",
        "/group/topic",
        json!({ "group_id": group, "topic": "about" }),
    )
    .await;
    c.post(
        "/group/locked",
        "/group/locked",
        json!({ "group_id": group, "locked": true }),
    )
    .await;
    c.post(
        "/group/announce",
        "/group/announce",
        json!({ "group_id": group, "announce": true }),
    )
    .await;
    let (status, _) = c
        .call(
            Method::POST,
            "/group/photo",
            "/group/photo",
            Body::Form(png("photo").text("group_id", group.clone())),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, joined) = c
        .post(
            "/group/join-with-link",
            "/group/join-with-link",
            json!({ "link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    c.post(
        "/group/leave",
        "/group/leave",
        json!({ "group_id": joined["data"]["group_id"] }),
    )
    .await;

    // ---- user and newsletters
    c.get("/user/check", "/user/check?phone=6281234567890")
        .await;
    c.get("/user/info", "/user/info?phone=6281234567890").await;
    c.get("/user/info", "/user/info?phone=6281234560000").await;
    let (status, _) = c
        .call(
            Method::POST,
            "/user/avatar",
            "/user/avatar",
            Body::Form(png("avatar")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = c
        .get("/user/avatar", "/user/avatar?phone=15550104455")
        .await;
    assert_eq!(status, StatusCode::OK);
    c.post(
        "/user/pushname",
        "/user/pushname",
        json!({ "push_name": "Erin" }),
    )
    .await;
    for path in [
        "/user/my/privacy",
        "/user/my/groups",
        "/user/my/newsletters",
        "/user/my/contacts",
    ] {
        let (status, _) = c.get(path, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    c.get(
        "/user/business-profile",
        "/user/business-profile?phone=6281234567890",
    )
    .await;
    let (status, followed) = c
        .post(
            "/sandbox/newsletter",
            "/sandbox/newsletter",
            json!({ "name": "Tech News" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let channel = followed["data"]["newsletter_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = c
        .post(
            "/sandbox/newsletter",
            "/sandbox/newsletter",
            json!({ "newsletter_id": channel, "message": "first post" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, posts) = c
        .get(
            "/newsletter/messages",
            &format!("/newsletter/messages?newsletter_id={channel}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(posts["data"][0]["body"], "first post");
    c.get(
        "/newsletter/messages",
        "/newsletter/messages?newsletter_id=120363144038483540@newsletter",
    )
    .await;
    let (status, _) = c
        .post(
            "/newsletter/unfollow",
            "/newsletter/unfollow",
            json!({ "newsletter_id": channel }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    c.post(
        "/newsletter/unfollow",
        "/newsletter/unfollow",
        json!({ "newsletter_id": "120363144038483540@newsletter" }),
    )
    .await;

    // ---- connection
    let (status, _) = c
        .post(
            "/sandbox/disconnect",
            "/sandbox/disconnect",
            json!({ "logout": false }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for method in [Method::POST, Method::GET] {
        let (status, _) = c
            .call(
                method.clone(),
                "/app/reconnect",
                "/app/reconnect",
                Body::None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = c
            .call(method, "/app/logout", "/app/logout", Body::None)
            .await;
        assert_eq!(status, StatusCode::OK);
        c.get("/app/login", "/app/login").await;
        c.post("/sandbox/scan", "/sandbox/scan", json!({})).await;
    }
    c.post("/app/logout", "/app/logout", json!({})).await;
    c.post("/app/reconnect", "/app/reconnect", json!({})).await;
    c.post(
        "/send/message",
        "/send/message",
        json!({ "phone": budi, "message": "x" }),
    )
    .await;

    // ---- webhooks: an endpoint (the test worker allows private addresses), its log.
    let (status, hook) = c
        .post(
            "/webhooks",
            "/webhooks",
            json!({ "url": "http://127.0.0.1:9/hook", "events": ["message.*"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let hook = hook["data"]["id"].as_str().unwrap().to_owned();
    c.get("/webhooks", "/webhooks").await;
    let item = "/webhooks/{webhook_id}";
    let one = format!("/webhooks/{hook}");
    c.get(item, &one).await;
    c.call(
        Method::PATCH,
        item,
        &one,
        Body::Json(json!({ "is_active": true })),
    )
    .await;
    c.post(
        "/webhooks/{webhook_id}/rotate-secret",
        &format!("{one}/rotate-secret"),
        json!({}),
    )
    .await;
    c.post(
        "/webhooks/{webhook_id}/test",
        &format!("{one}/test"),
        json!({}),
    )
    .await;
    c.get(
        "/webhooks/{webhook_id}/deliveries",
        &format!("{one}/deliveries"),
    )
    .await;
    c.post(
        "/webhooks/{webhook_id}/replay",
        &format!("{one}/replay"),
        json!({ "since": "2000-01-01T00:00:00Z" }),
    )
    .await;
    c.call(Method::DELETE, item, &one, Body::None).await;
    // The live stream answers at once and stays open: its head is checked, not its body.
    let live = http
        .get(format!("{url}/api/v1/events?events=message.*"))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    c.seen
        .entry(("GET".into(), "/api/v1/events".into()))
        .or_default()
        .insert(200);
    drop(live);

    // Every documented operation was called.
    let called: BTreeSet<(String, String)> = c.seen.keys().cloned().collect();
    let uncalled: Vec<_> = operations(&doc).difference(&called).cloned().collect();
    assert!(uncalled.is_empty(), "never called: {uncalled:?}");
    // ... and succeeded, except those no sandbox session can succeed with.
    let failed: BTreeSet<String> = c
        .seen
        .iter()
        .filter(|(_, statuses)| !statuses.iter().any(|s| (200..300).contains(s)))
        .map(|((method, path), _)| format!("{method} {path}"))
        .collect();
    let always_failing: BTreeSet<String> = [
        "POST /api/v1/app/passkey/response",
        "POST /api/v1/app/passkey/confirm",
        "GET /api/v1/user/business-profile",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(failed, always_failing);
}

#[test]
fn the_checker_catches_drift() {
    let doc = document();
    let status = json!({ "$ref": "#/components/schemas/SessionStatus" });
    let good = json!({
        "state": "connected", "state_reason": null, "is_connected": true, "is_logged_in": true,
        "mode": "test", "driver": "sandbox", "phone_number": "+1555", "jid": "1555@s.whatsapp.net",
        "lid": null, "push_name": null, "connected_at": "2024-01-01T00:00:00Z", "qr_code": null,
        "qr_expires_at": null, "pair_code": null,
    });
    check(&doc, &status, &good, "body").unwrap();
    let mut extra = good.clone();
    extra["surprise"] = json!(1);
    assert!(check(&doc, &status, &extra, "body").is_err());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("state");
    assert!(check(&doc, &status, &missing, "body").is_err());
    let mut wrong = good;
    wrong["is_connected"] = json!("yes");
    assert!(check(&doc, &status, &wrong, "body").is_err());
    let detail = json!({ "$ref": "#/components/schemas/MessageDetail" });
    assert!(check(
        &doc,
        &detail,
        &json!({ "status_history": [], "oops": 1 }),
        "body"
    )
    .is_err());
}
