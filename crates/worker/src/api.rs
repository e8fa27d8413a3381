//! The worker's customer API (`/api/v1`, reached through management's gateway with a
//! service token naming the customer and session), the sandbox controls, and the internal
//! API management uses to place instances (`/internal/instances`).

use crate::{
    apidoc::{doc, Api},
    driver::{Action, DriverError, Event, Kind, Outgoing, PresenceState, Receipt},
    events::NewEvent,
    instances::{Instance, Status},
    jid::{normalize_phone, Jid},
    store::{self, ChatQuery, MessageQuery, NewMessage, SessionKey},
    WorkerState,
};
use axum::{
    extract::{FromRequestParts, State},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, post},
    Router,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{atomic::Ordering, Arc};
use uuid::Uuid;
use wasp_http::error::{created, ok, Error, Json, Path, Query, Result};
use wasp_protocol::service_token::{Claims, Mode};

/// Error codes of the messaging API.
pub mod code {
    pub const SESSION_NOT_CONNECTED: &str = "SESSION_NOT_CONNECTED";
    pub const SESSION_NOT_LOGGED_IN: &str = "SESSION_NOT_LOGGED_IN";
    pub const ALREADY_LOGGED_IN: &str = "ALREADY_LOGGED_IN";
    pub const NOT_ON_WHATSAPP: &str = "NOT_ON_WHATSAPP";
    pub const NO_PENDING_LOGIN: &str = "NO_PENDING_LOGIN";
    pub const DRIVER_UNAVAILABLE: &str = "DRIVER_UNAVAILABLE";
    pub const SESSION_MOVED: &str = "SESSION_MOVED";
    pub const MEDIA_FETCH_FAILED: &str = "MEDIA_FETCH_FAILED";
    pub const MEDIA_UNAVAILABLE: &str = "MEDIA_UNAVAILABLE";
}

pub(crate) fn driver_error(e: DriverError) -> Error {
    let (status, code) = match &e {
        DriverError::NotConnected => (StatusCode::CONFLICT, code::SESSION_NOT_CONNECTED),
        DriverError::NotLoggedIn => (StatusCode::CONFLICT, code::SESSION_NOT_LOGGED_IN),
        DriverError::AlreadyLoggedIn => (StatusCode::CONFLICT, code::ALREADY_LOGGED_IN),
        DriverError::NotOnWhatsApp(_) => (StatusCode::BAD_REQUEST, code::NOT_ON_WHATSAPP),
        DriverError::NoPendingLogin => (StatusCode::CONFLICT, code::NO_PENDING_LOGIN),
        DriverError::Invalid(_) => (
            StatusCode::BAD_REQUEST,
            wasp_http::error::code::VALIDATION_ERROR,
        ),
        DriverError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, code::DRIVER_UNAVAILABLE),
    };
    Error::client(status, code, e.to_string())
}

pub(crate) fn db_error(e: sqlx::Error) -> Error {
    Error::Database(e)
}

/// The verified service token of a request.
fn claims(parts: &Parts, worker: &WorkerState) -> Result<Claims> {
    let unauthorized = || {
        Error::unauthorized(
            wasp_http::error::code::UNAUTHORIZED,
            "this worker answers only management (service token required)",
        )
    };
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let verified = worker.verify_token(token.trim()).ok_or_else(|| {
        Error::client(
            StatusCode::SERVICE_UNAVAILABLE,
            wasp_http::error::code::SERVICE_UNAVAILABLE,
            "this worker is not registered with management yet",
        )
    })?;
    verified.map_err(|e| {
        tracing::warn!(reason = %e, "service token refused");
        unauthorized()
    })
}

/// A customer request: the session it is for, from the service token.
pub struct Caller {
    pub key: SessionKey,
    pub instance: Arc<Instance>,
}

impl FromRequestParts<WorkerState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, worker: &WorkerState) -> Result<Self> {
        let claims = claims(parts, worker)?;
        let (Some(customer), Some(mode)) = (claims.cus, claims.mode) else {
            return Err(Error::forbidden(
                "this token does not name a customer session",
            ));
        };
        let key = SessionKey { customer, mode };
        let instances = worker
            .instances()
            .ok_or_else(|| Error::internal("instances not ready"))?;
        let instance = instances
            .get_or_create(key)
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        if instance.status().moved {
            return Err(Error::client(
                StatusCode::SERVICE_UNAVAILABLE,
                code::SESSION_MOVED,
                "this session moved to another server; retry",
            ));
        }
        Ok(Caller { key, instance })
    }
}

/// A call from management itself (no customer).
pub struct Management;

impl FromRequestParts<WorkerState> for Management {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, worker: &WorkerState) -> Result<Self> {
        let claims = claims(parts, worker)?;
        if claims.cus.is_some() {
            return Err(Error::forbidden("customer tokens cannot manage instances"));
        }
        Ok(Management)
    }
}

/// The customer API's routes, and the internal API's (which the document leaves out).
pub fn routes() -> Router<WorkerState> {
    api().router
}

/// The OpenAPI document of the customer API (`/api/v1`), built from the same table as
/// [`routes`]. Management merges it into the document it serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().doc
}

/// Error codes by what an operation does, for the document.
pub(crate) mod errors {
    use super::code::*;
    use wasp_http::error::code::{FORBIDDEN, NOT_FOUND, VALIDATION_ERROR};

    /// Anything that goes through the session's WhatsApp connection.
    pub const DRIVER: &[&str] = &[
        SESSION_NOT_CONNECTED,
        SESSION_NOT_LOGGED_IN,
        DRIVER_UNAVAILABLE,
    ];
    /// Sending a message (to a group: only as a member allowed to send).
    pub const SEND: &[&str] = &[
        SESSION_NOT_CONNECTED,
        SESSION_NOT_LOGGED_IN,
        NOT_ON_WHATSAPP,
        DRIVER_UNAVAILABLE,
        FORBIDDEN,
        NOT_FOUND,
        VALIDATION_ERROR,
    ];
    /// Sending media given by URL.
    pub const SEND_MEDIA: &[&str] = &[
        SESSION_NOT_CONNECTED,
        SESSION_NOT_LOGGED_IN,
        NOT_ON_WHATSAPP,
        DRIVER_UNAVAILABLE,
        FORBIDDEN,
        NOT_FOUND,
        MEDIA_FETCH_FAILED,
    ];
    /// The sandbox controls (403 on a session that is not a sandbox one).
    pub const SANDBOX: &[&str] = &[FORBIDDEN, VALIDATION_ERROR];
    /// Group operations: a connected session, a group that exists, the right role.
    pub const GROUP: &[&str] = &[
        SESSION_NOT_CONNECTED,
        DRIVER_UNAVAILABLE,
        FORBIDDEN,
        NOT_FOUND,
        VALIDATION_ERROR,
    ];
    /// The user's own profile and lists: a connected session.
    pub const CONNECTED: &[&str] = &[SESSION_NOT_CONNECTED, DRIVER_UNAVAILABLE];
    /// Looking up someone else: a connected session, a number on WhatsApp.
    pub const LOOKUP: &[&str] = &[
        SESSION_NOT_CONNECTED,
        DRIVER_UNAVAILABLE,
        NOT_ON_WHATSAPP,
        NOT_FOUND,
    ];
}

const SANDBOX_ONLY: &str =
    "A sandbox control: works only on sandbox sessions (an `ak_test_` key, or \
     any key on a sandbox worker); other sessions answer 403 FORBIDDEN.";

/// The customer API (documented) and the internal API (not), as one table.
fn api() -> Api {
    use answers::*;
    use errors::*;
    use utoipa::openapi::path::HttpMethod::{Get, Post};
    Api::default()
        .with_security_scheme()
        .tag("app", "Logging the WhatsApp session in and out, and its status")
        .tag("send", "Sending messages and presence")
        .tag("message", "Operations on one message")
        .tag("chat", "Operations on one chat, and its messages")
        .tag("chats", "The session's chats")
        .tag("user", "Your profile, contacts and lookups of other users")
        .tag("group", "Groups: creating, members, settings, invite links")
        .tag("newsletter", "WhatsApp channels (newsletters)")
        .tag("call", "Calls")
        .tag("sandbox", SANDBOX_ONLY)
        // ---- app
        .get(
            "/api/v1/app/login",
            login_qr,
            doc("app", "Start a QR-code login")
                .describe("Returns the first QR code to scan with the phone (WhatsApp → Linked devices). Codes rotate: poll `/app/status` for the current one.")
                .returns::<LoginQr>()
                .errors(&[code::ALREADY_LOGGED_IN, code::DRIVER_UNAVAILABLE]),
        )
        .get(
            "/api/v1/app/login-with-code",
            login_code,
            doc("app", "Start a login with a pair code")
                .describe("Returns an 8-character code to enter on the phone (Linked devices → Link with phone number).")
                .query::<PhoneQuery>()
                .returns::<PairCode>()
                .errors(&[code::ALREADY_LOGGED_IN, code::NOT_ON_WHATSAPP, code::DRIVER_UNAVAILABLE]),
        )
        .on(
            &[Get, Post],
            "/api/v1/app/logout",
            logout,
            doc("app", "Log the session out")
                .describe("Unlinks this device from the phone; a new login is needed afterwards.")
                .returns::<SessionStatus>()
                .errors(&[code::SESSION_NOT_LOGGED_IN, code::DRIVER_UNAVAILABLE]),
        )
        .on(
            &[Get, Post],
            "/api/v1/app/reconnect",
            reconnect,
            doc("app", "Reconnect the session")
                .returns::<SessionStatus>()
                .errors(&[code::SESSION_NOT_LOGGED_IN, code::DRIVER_UNAVAILABLE]),
        )
        .get(
            "/api/v1/app/status",
            app_status,
            doc("app", "The session's status").returns::<SessionStatus>(),
        )
        // ---- send
        .post(
            "/api/v1/send/message",
            send_message,
            doc("send", "Send a text message")
                .json::<SendMessage>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/image",
            send_image,
            doc("send", "Send an image")
                .describe("JPEG, PNG or WebP, uploaded in `image` or fetched from `image_url`.")
                .multipart("image", true, &MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/file",
            send_file,
            doc("send", "Send a document")
                .describe("Any file, uploaded in `file` or fetched from `file_url`; its name is kept.")
                .multipart("file", true, &MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/audio",
            send_audio,
            doc("send", "Send audio")
                .describe("Uploaded in `audio` or fetched from `audio_url`; `ptt=true` sends it as a voice note. Audio has no caption.")
                .multipart("audio", true, &MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/video",
            send_video,
            doc("send", "Send a video")
                .describe("MP4, uploaded in `video` or fetched from `video_url`; `gif_playback=true` loops it like a GIF.")
                .multipart("video", true, &MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/sticker",
            send_sticker,
            doc("send", "Send a sticker")
                .describe("WebP, uploaded in `sticker` or fetched from `sticker_url`. Stickers have no caption.")
                .multipart("sticker", true, &MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/contact",
            send_contact,
            doc("send", "Send a contact card")
                .json::<SendContact>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/link",
            send_link,
            doc("send", "Send a link")
                .json::<SendLink>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/location",
            send_location,
            doc("send", "Send a location")
                .json::<SendLocation>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/poll",
            send_poll,
            doc("send", "Send a poll")
                .json::<SendPoll>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/presence",
            send_presence,
            doc("send", "Set your presence (online or not)")
                .json::<SendPresence>()
                .returns::<PresenceSet>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/send/chat-presence",
            send_chat_presence,
            doc("send", "Show or stop \"typing…\" in a chat")
                .json::<SendChatPresence>()
                .returns::<ChatPresenceSet>()
                .errors(DRIVER),
        )
        // ---- message
        .get(
            "/api/v1/message/{message_id}",
            get_message,
            doc("message", "A message, with its status history").returns::<MessageDetail>(),
        )
        .get(
            "/api/v1/message/{message_id}/download",
            download_message,
            doc("message", "Download a message's media")
                .returns_file("*/*", "The file, with its own Content-Type (application/octet-stream for types a browser could run) and a Content-Disposition naming it")
                .errors(&[
                    code::MEDIA_UNAVAILABLE,
                    wasp_http::error::code::VALIDATION_ERROR,
                    code::SESSION_NOT_CONNECTED,
                    code::DRIVER_UNAVAILABLE,
                ]),
        )
        .post(
            "/api/v1/message/{message_id}/revoke",
            revoke_message,
            doc("message", "Delete a message for everyone")
                .describe("Only your own messages, up to 48 hours after sending.")
                .json::<InChat>()
                .returns::<MessageDetail>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/delete",
            delete_message,
            doc("message", "Delete a message for you")
                .describe("Removes it from this API's history; the other side keeps it.")
                .json::<InChat>()
                .returns::<MessageDeleted>(),
        )
        .post(
            "/api/v1/message/{message_id}/reaction",
            react_message,
            doc("message", "React to a message")
                .json::<ReactRequest>()
                .returns::<Reacted>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/update",
            edit_message,
            doc("message", "Edit a message")
                .describe("Only your own text messages, up to 15 minutes after sending.")
                .json::<EditRequest>()
                .returns::<MessageDetail>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/read",
            read_message,
            doc("message", "Mark a message, and the chat's earlier ones, as read")
                .json::<InChat>()
                .returns::<MarkedRead>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/star",
            star_message,
            doc("message", "Star a message")
                .json::<InChat>()
                .returns::<MessageDetail>(),
        )
        .post(
            "/api/v1/message/{message_id}/unstar",
            unstar_message,
            doc("message", "Unstar a message")
                .json::<InChat>()
                .returns::<MessageDetail>(),
        )
        .post(
            "/api/v1/message/{message_id}/forward",
            forward_message,
            doc("message", "Forward a message to another chat")
                .json::<ForwardRequest>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        // ---- chats
        .get(
            "/api/v1/chats",
            list_chats,
            doc("chats", "The session's chats")
                .describe("Pinned first, then by the latest message.")
                .query::<ChatsQuery>()
                .returns_page::<store::Chat>(),
        )
        .get(
            "/api/v1/chat/{chat_jid}/messages",
            chat_messages,
            doc("chat", "A chat's messages, newest first")
                .query::<MessagesQuery>()
                .returns_page::<store::Message>(),
        )
        .post(
            "/api/v1/chat/{chat_jid}/pin",
            pin_chat,
            doc("chat", "Pin or unpin a chat")
                .json::<PinRequest>()
                .returns::<store::Chat>(),
        )
        .post(
            "/api/v1/chat/{chat_jid}/archive",
            archive_chat,
            doc("chat", "Archive or unarchive a chat")
                .json::<ArchiveRequest>()
                .returns::<store::Chat>(),
        )
        .post(
            "/api/v1/chat/{chat_jid}/disappearing",
            disappearing_chat,
            doc("chat", "Set a chat's disappearing-message timer")
                .json::<DisappearingRequest>()
                .returns::<store::Chat>()
                .errors(DRIVER),
        )
        // ---- call
        .post(
            "/api/v1/call/reject",
            reject_call,
            doc("call", "Reject an incoming call")
                .json::<RejectCall>()
                .returns::<CallRejected>()
                .errors(DRIVER),
        )
        // ---- sandbox
        .post(
            "/api/v1/sandbox/scan",
            sandbox_scan,
            doc("sandbox", "Simulate the phone scanning the QR code (or entering the pair code)")
                .describe(SANDBOX_ONLY)
                .optional_json::<ScanRequest>()
                .returns::<SessionStatus>()
                .errors(SANDBOX)
                .errors(&[code::NO_PENDING_LOGIN, code::NOT_ON_WHATSAPP]),
        )
        .post(
            "/api/v1/sandbox/inbound",
            sandbox_inbound,
            doc("sandbox", "Simulate an incoming message or reaction")
                .describe(SANDBOX_ONLY)
                .json::<InboundRequest>()
                .created()
                .returns::<SandboxInboundResult>()
                .errors(SANDBOX)
                .errors(&[
                    code::SESSION_NOT_CONNECTED,
                    code::SESSION_NOT_LOGGED_IN,
                    wasp_http::error::code::NOT_FOUND,
                    wasp_http::error::code::UNSUPPORTED_MEDIA_TYPE,
                ]),
        )
        .post(
            "/api/v1/sandbox/receipt",
            sandbox_receipt,
            doc("sandbox", "Simulate a delivery, read or played receipt for one of your messages")
                .describe(SANDBOX_ONLY)
                .json::<ReceiptRequest>()
                .returns::<ReceiptApplied>()
                .errors(SANDBOX)
                .errors(&[wasp_http::error::code::NOT_FOUND]),
        )
        .post(
            "/api/v1/sandbox/disconnect",
            sandbox_disconnect,
            doc("sandbox", "Simulate losing the connection, or the phone removing the device")
                .describe(SANDBOX_ONLY)
                .optional_json::<DisconnectRequest>()
                .returns::<SessionStatus>()
                .errors(SANDBOX)
                .errors(&[code::SESSION_NOT_LOGGED_IN]),
        )
        .merge(crate::api_groups::api())
        .merge(crate::webhooks::api())
        .undocumented(
            Router::new()
                .route(
                    "/internal/instances",
                    post(create_instance).get(list_instances),
                )
                .route(
                    "/internal/instances/{customer_id}",
                    delete(remove_instance).get(get_instance),
                ),
        )
}

/// Schemas of `data` in the answers that have no type of their own in the code: each
/// mirrors the `json!` of its handler.
#[allow(dead_code)]
pub(crate) mod answers {
    use crate::store::{Message, StatusStep};
    use chrono::{DateTime, Utc};
    use serde::Serialize;
    use utoipa::ToSchema;

    /// A session's status (`/app/status`, and the answer of the calls that change it).
    #[derive(Serialize, ToSchema)]
    pub struct SessionStatus {
        /// disconnected, scanning (QR login), pairing (pair-code login), connected or
        /// logged_out (the phone removed this device).
        pub state: String,
        /// Why the session is in this state, when known.
        pub state_reason: Option<String>,
        pub is_connected: bool,
        /// Whether the session has WhatsApp credentials (it reconnects by itself).
        pub is_logged_in: bool,
        /// live (`ak_live_` keys) or test (`ak_test_` keys, the sandbox).
        pub mode: String,
        /// What drives the session: live (WhatsApp) or sandbox (simulated).
        pub driver: String,
        /// The account's phone number, `+` and digits.
        pub phone_number: Option<String>,
        pub jid: Option<String>,
        /// The account's LID (WhatsApp's privacy id), when known.
        pub lid: Option<String>,
        /// The account's display name.
        pub push_name: Option<String>,
        pub connected_at: Option<DateTime<Utc>>,
        /// While scanning: the current QR code's text.
        pub qr_code: Option<String>,
        pub qr_expires_at: Option<DateTime<Utc>>,
        /// While pairing: the code to enter on the phone.
        pub pair_code: Option<String>,
    }

    /// A QR login started.
    #[derive(Serialize, ToSchema)]
    pub struct LoginQr {
        /// The QR code's text: render it as a QR image.
        pub qr_code: String,
        /// Seconds until this code is replaced by the next one.
        pub qr_duration: u64,
        /// The session's state (scanning).
        pub state: String,
    }

    /// A pair-code login started.
    #[derive(Serialize, ToSchema)]
    pub struct PairCode {
        /// Enter it on the phone: Linked devices → Link with phone number.
        pub pair_code: String,
        pub phone_number: String,
    }

    /// A message handed to WhatsApp.
    #[derive(Serialize, ToSchema)]
    pub struct SentMessage {
        pub message_id: String,
        /// sent; later receipts move it to delivered, read, played (see the message).
        pub status: String,
        /// The chat it is filed under: the contact's phone-number JID when known (also for
        /// a message sent to its LID), else the address it went to.
        pub chat_jid: String,
        /// The contact's LID (`…@lid`), when known.
        pub chat_lid: Option<String>,
        pub timestamp: DateTime<Utc>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct PresenceSet {
        /// available or unavailable.
        pub presence: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ChatPresenceSet {
        pub chat_jid: String,
        /// start or stop.
        pub action: String,
    }

    /// A message with its status history.
    #[derive(Serialize, ToSchema)]
    pub struct MessageDetail {
        #[serde(flatten)]
        pub message: Message,
        /// Every status the message went through, oldest first.
        pub status_history: Vec<StatusStep>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct MessageDeleted {
        pub message_id: String,
        pub deleted: bool,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Reacted {
        /// The reaction's own message id.
        pub message_id: Option<String>,
        /// The message reacted to.
        pub reacted_to: String,
        /// Empty when the reaction was removed.
        pub emoji: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct MarkedRead {
        pub message_id: String,
        /// The ids of the messages newly marked read.
        pub marked_read: Vec<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct CallRejected {
        pub call_id: String,
        pub rejected: bool,
    }

    /// What the simulated contact sent: a message (`message_id`, `chat_jid`, `timestamp`)
    /// or a reaction (`reacted_to`, `emoji`).
    #[derive(Serialize, ToSchema)]
    pub struct SandboxInboundResult {
        pub message_id: Option<String>,
        /// The chat the message is filed under: the contact's phone-number JID.
        pub chat_jid: Option<String>,
        /// The contact's LID, which the message came from (as from a contact migrated to
        /// LIDs on WhatsApp).
        pub chat_lid: Option<String>,
        pub timestamp: Option<DateTime<Utc>>,
        pub reacted_to: Option<String>,
        pub emoji: Option<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ReceiptApplied {
        pub message_id: String,
        /// The message's status now.
        pub status: String,
        pub status_history: Vec<StatusStep>,
    }
}

/// A session's status as the API shows it.
pub(crate) fn status_json(instance: &Instance, status: &Status) -> Value {
    let s = &status.session;
    json!({
        "state": s.state,
        "state_reason": s.reason,
        "is_connected": s.state == "connected",
        "is_logged_in": s.logged_in,
        "mode": instance.key.mode.as_str(),
        "driver": instance.driver.name(),
        "phone_number": s.phone.as_ref().map(|p| format!("+{p}")),
        "jid": s.jid,
        "lid": s.lid,
        "push_name": s.push_name,
        "connected_at": s.connected_at,
        "qr_code": status.qr.as_ref().map(|(code, _)| code),
        "qr_expires_at": status.qr.as_ref().map(|(_, at)| at),
        "pair_code": status.pair_code,
    })
}

async fn login_qr(caller: Caller) -> Result<Response> {
    let qr = caller
        .instance
        .driver
        .login_qr()
        .await
        .map_err(driver_error)?;
    caller.instance.flush().await;
    let status = caller.instance.status();
    Ok(ok(json!({
        "qr_code": qr.code,
        "qr_duration": qr.ttl.as_secs(),
        "state": status.session.state,
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PhoneQuery {
    /// The phone number of the account to link, in international format (`6281234567890`).
    #[param(value_type = Option<crate::apidoc::Phone>, required = true)]
    phone: Option<String>,
}

pub(crate) fn phone_field(field: &str, value: Option<&str>) -> Result<String> {
    let value = value.ok_or_else(|| Error::validation(field, "is required"))?;
    normalize_phone(value).map_err(|e| Error::validation(field, e.to_string()))
}

async fn login_code(caller: Caller, Query(q): Query<PhoneQuery>) -> Result<Response> {
    let phone = phone_field("phone", q.phone.as_deref())?;
    let code = caller
        .instance
        .driver
        .login_code(&phone)
        .await
        .map_err(driver_error)?;
    caller.instance.flush().await;
    Ok(ok(json!({ "pair_code": code, "phone_number": format!("+{phone}") })).into_response())
}

async fn logout(caller: Caller) -> Result<Response> {
    caller
        .instance
        .driver
        .logout()
        .await
        .map_err(driver_error)?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

async fn reconnect(caller: Caller) -> Result<Response> {
    caller
        .instance
        .driver
        .reconnect()
        .await
        .map_err(driver_error)?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

async fn app_status(caller: Caller) -> Result<Response> {
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

/// Longest text message.
pub const MAX_TEXT_CHARS: usize = 4096;

pub(crate) fn text_field(field: &str, value: &str) -> Result<String> {
    if value.contains('\0') {
        return Err(Error::validation(field, "must not contain NUL bytes"));
    }
    let n = value.chars().count();
    if value.trim().is_empty() || n > MAX_TEXT_CHARS {
        return Err(Error::validation(
            field,
            format!("must be 1 to {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

pub(crate) fn recipient(field: &str, value: &str) -> Result<Jid> {
    Jid::parse_recipient(value).map_err(|e| Error::validation(field, e.to_string()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendMessage {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// The text, 1 to 4096 characters.
    #[schema(value_type = crate::apidoc::Text)]
    message: String,
    /// Quote this message (its id).
    reply_message_id: Option<String>,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::apidoc::DisappearingTimer>)]
    duration: Option<u32>,
    /// People to mention: phone numbers or JIDs, or `@everyone` in a group.
    #[serde(default)]
    #[schema(value_type = Vec<crate::apidoc::Mention>)]
    mentions: Vec<String>,
}

/// Disappearing-message timers WhatsApp allows.
const DISAPPEARING: [u32; 4] = [0, 86_400, 604_800, 7_776_000];

async fn send_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendMessage>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let body = text_field("message", &req.message)?;
    if let Some(d) = req.duration {
        if !DISAPPEARING.contains(&d) {
            return Err(Error::validation(
                "duration",
                "must be 0, 86400, 604800 or 7776000",
            ));
        }
    }
    let mut mentions = Vec::with_capacity(req.mentions.len());
    for m in &req.mentions {
        if m == "@everyone" {
            mentions.push(m.clone());
        } else {
            mentions.push(recipient("mentions", m)?.to_string());
        }
    }
    let content = if mentions.is_empty() {
        json!({})
    } else {
        json!({ "mentions": mentions })
    };
    let message = Outgoing {
        to,
        kind: Kind::Text,
        body: Some(body),
        content,
        reply_to: req.reply_message_id,
        forwarded: req.is_forwarded,
        expiration_secs: req.duration.unwrap_or(0),
        media: None,
    };
    send(&worker, &caller, message).await
}

/// Sends through the driver and stores the message as sent.
pub(crate) async fn send(
    worker: &WorkerState,
    caller: &Caller,
    message: Outgoing,
) -> Result<Response> {
    if message.to.is_group() && caller.instance.driver.sandbox().is_some() {
        let me = caller.instance.status().session.jid.unwrap_or_default();
        crate::groups::check_can_send(worker.db(), caller.key, &message.to.to_string(), &me)
            .await
            .map_err(crate::api_groups::group_error)?;
    }
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    // Every send checks the lease: a worker that lost the session must not send for it.
    if !instances
        .still_holds(&caller.instance)
        .await
        .map_err(db_error)?
    {
        return Err(Error::client(
            StatusCode::SERVICE_UNAVAILABLE,
            code::SESSION_MOVED,
            "this session moved to another server; retry",
        ));
    }
    // Filed under the contact's number even when the message goes to its LID.
    let (chat, chat_lid) =
        crate::lids::resolve(caller.instance.driver.as_ref(), message.to.clone(), None).await;
    let (chat, chat_lid) = (chat.to_string(), chat_lid.map(|l| l.to_string()));
    // A quote names a message of this chat: not another chat's, nor another customer's.
    if let Some(quoted) = &message.reply_to {
        let in_chat = store::message(worker.db(), caller.key, quoted)
            .await
            .map_err(db_error)?
            .is_some_and(|(m, _)| m.chat_jid == chat);
        if !in_chat {
            return Err(Error::validation(
                "reply_message_id",
                "no message with this id in this chat",
            ));
        }
    }
    let counters = &instances.counters;
    let sent = match caller.instance.driver.send(&message).await {
        Ok(sent) => sent,
        Err(e) => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return Err(driver_error(e));
        }
    };
    let own = caller.instance.status().session.jid.unwrap_or_default();
    let mut content = message.content.clone();
    if let (true, Some(live)) = (message.to.is_group(), caller.instance.driver.live()) {
        // How many others the message went to, for its delivered/read ticks.
        if let Ok(group) = live.group_info(&message.to.to_string()).await {
            let others = group
                .participants
                .iter()
                .filter(|p| p.status == "active" && p.jid != own)
                .count();
            content["recipients"] = json!(others);
        }
    }
    let event = crate::events::NewEvent::sent(
        &sent.id,
        &chat,
        chat_lid.as_deref(),
        message.kind.as_str(),
        message.body.as_deref(),
        sent.timestamp,
    );
    let event = event.prepare(caller.key, (!own.is_empty()).then_some(own.as_str()));
    store::store_message_with(
        worker.db(),
        caller.key,
        &NewMessage {
            id: sent.id.clone(),
            chat_jid: chat.clone(),
            chat_kind: message.to.kind(),
            chat_name: None,
            sender_jid: own,
            from_me: true,
            kind: message.kind,
            body: message.body.clone(),
            content,
            status: "sent",
            reply_to: message.reply_to.clone(),
            forwarded: message.forwarded,
            sent_at: sent.timestamp,
        },
        Some(&event),
    )
    .await
    .map_err(db_error)?;
    instances.deliveries.notify_one();
    instances.stream.publish(event);
    counters.sent.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("wasp_worker_messages_sent_total", "kind" => message.kind.as_str())
        .increment(1);
    Ok(ok(json!({
        "message_id": sent.id,
        "status": "sent",
        "chat_jid": chat,
        "chat_lid": chat_lid,
        "timestamp": sent.timestamp,
    }))
    .into_response())
}

fn page(limit: Option<i64>, offset: Option<i64>, default: i64) -> Result<(i64, i64)> {
    let limit = limit.unwrap_or(default);
    if !(1..=100).contains(&limit) {
        return Err(Error::validation("limit", "must be between 1 and 100"));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(Error::validation("offset", "must not be negative"));
    }
    Ok((limit, offset))
}

fn listing<T: serde::Serialize>(rows: Vec<T>, total: i64, limit: i64, offset: i64) -> Response {
    axum::Json(json!({
        "success": true,
        "data": rows,
        "meta": { "total": total, "limit": limit, "offset": offset },
    }))
    .into_response()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ChatsQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Chats to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Only chats whose name or JID contains this.
    search: Option<String>,
    /// Only chats with media messages.
    #[serde(default)]
    has_media: bool,
    /// Only archived (true) or only unarchived (false) chats.
    archived: Option<bool>,
}

async fn list_chats(
    State(worker): State<WorkerState>,
    caller: Caller,
    Query(q): Query<ChatsQuery>,
) -> Result<Response> {
    let (limit, offset) = page(q.limit, q.offset, 25)?;
    let query = ChatQuery {
        limit,
        offset,
        search: q.search.filter(|s| !s.is_empty()),
        archived: q.archived,
        has_media: q.has_media,
    };
    let (rows, total) = store::list_chats(worker.db(), caller.key, &query)
        .await
        .map_err(db_error)?;
    Ok(listing(rows, total, limit, offset))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MessagesQuery {
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Messages to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Only messages sent at or after this time (RFC 3339).
    start_time: Option<DateTime<Utc>>,
    /// Only messages sent at or before this time (RFC 3339).
    end_time: Option<DateTime<Utc>>,
    /// Only media messages.
    #[serde(default)]
    media_only: bool,
    /// Only your own messages (true) or only the other side's (false).
    is_from_me: Option<bool>,
    /// Only messages whose text contains this.
    search: Option<String>,
}

async fn chat_messages(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat_jid): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> Result<Response> {
    let chat = recipient("chat_jid", &chat_jid)?;
    let (limit, offset) = page(q.limit, q.offset, 50)?;
    let query = MessageQuery {
        limit,
        offset,
        start: q.start_time,
        end: q.end_time,
        media_only: q.media_only,
        // As in the current codebase: media_only wins over is_from_me=false.
        from_me: if q.media_only && q.is_from_me == Some(false) {
            None
        } else {
            q.is_from_me
        },
        search: q.search.filter(|s| !s.is_empty()),
    };
    let (rows, total) = store::list_messages(worker.db(), caller.key, &chat.to_string(), &query)
        .await
        .map_err(db_error)?;
    Ok(listing(rows, total, limit, offset))
}

async fn get_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    let (message, history) = store::message(worker.db(), caller.key, &id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| Error::not_found("message"))?;
    let mut value = serde_json::to_value(message).map_err(|e| Error::internal(e.to_string()))?;
    value["status_history"] =
        serde_json::to_value(history).map_err(|e| Error::internal(e.to_string()))?;
    Ok(ok(value).into_response())
}

pub(crate) fn sandbox(caller: &Caller) -> Result<&crate::sandbox::SandboxSession> {
    caller.instance.driver.sandbox().ok_or_else(|| {
        Error::forbidden("sandbox controls work only on sandbox sessions: use an ak_test_ key")
    })
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = SandboxScan)]
#[serde(deny_unknown_fields)]
struct ScanRequest {
    /// The simulated phone's number (international format); a made-up one when absent.
    #[schema(value_type = Option<crate::apidoc::Phone>)]
    phone: Option<String>,
}

/// A JSON body that may be left out entirely.
pub(crate) fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        Error::client(
            StatusCode::BAD_REQUEST,
            wasp_http::error::code::INVALID_JSON,
            format!("request body is not valid: {e}"),
        )
    })
}

async fn sandbox_scan(caller: Caller, body: axum::body::Bytes) -> Result<Response> {
    let req: ScanRequest = optional_body(&body)?;
    let phone = match req.phone.as_deref() {
        Some(p) => Some(phone_field("phone", Some(p))?),
        None => None,
    };
    sandbox(&caller)?
        .scan(phone.as_deref())
        .map_err(driver_error)?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxReaction)]
#[serde(deny_unknown_fields)]
struct InboundReaction {
    /// The session's message to react to.
    message_id: String,
    /// One emoji; empty removes the reaction.
    #[serde(default)]
    emoji: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxInbound)]
#[serde(deny_unknown_fields)]
struct InboundRequest {
    /// The sender's phone number (international format).
    #[schema(value_type = crate::apidoc::Phone)]
    from: String,
    /// Text, or the caption of media.
    message: Option<String>,
    /// The sender's display name (at most 100 characters).
    push_name: Option<String>,
    /// Quote this message (its id).
    reply_message_id: Option<String>,
    /// image, video, audio, document or sticker, with `media_base64`.
    media_type: Option<String>,
    /// The media file, base64-encoded.
    media_base64: Option<String>,
    /// The media's MIME type; detected from the bytes when absent.
    mime_type: Option<String>,
    /// The file name shown for a document.
    file_name: Option<String>,
    /// A reaction to one of the session's messages instead of a message.
    reaction: Option<InboundReaction>,
    /// Instead of a message: the contact changes the text of one of its messages
    /// (`message.edited`).
    edit: Option<InboundEdit>,
    /// Instead of a message: the contact deletes one of its messages for everyone
    /// (`message.revoked`).
    revoke: Option<InboundRevoke>,
    /// Instead of a message: the contact is `composing`, `recording` (a voice message) or
    /// `paused` in the chat (`chat.presence`).
    presence: Option<String>,
    /// Instead of a message: the contact calls (`call.offer`); reject it with
    /// `POST /call/reject` and the answered `call_id`.
    call: Option<InboundCall>,
    /// Instead of a message: the contact creates a group and adds you to it
    /// (`group.joined`).
    group: Option<InboundGroup>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxEdit)]
#[serde(deny_unknown_fields)]
struct InboundEdit {
    /// One of the contact's messages in the chat.
    message_id: String,
    /// The new text.
    message: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxRevoke)]
#[serde(deny_unknown_fields)]
struct InboundRevoke {
    /// One of the contact's messages in the chat.
    message_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxCall)]
#[serde(deny_unknown_fields)]
struct InboundCall {
    /// A video call (default: voice).
    #[serde(default)]
    video: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxGroup)]
#[serde(deny_unknown_fields)]
struct InboundGroup {
    /// The group's name, 1 to 100 characters.
    title: String,
}

fn media_kind(field: &str, s: &str) -> Result<Kind> {
    match s {
        "image" => Ok(Kind::Image),
        "video" => Ok(Kind::Video),
        "audio" => Ok(Kind::Audio),
        "document" => Ok(Kind::Document),
        "sticker" => Ok(Kind::Sticker),
        _ => Err(Error::validation(
            field,
            "must be image, video, audio, document or sticker",
        )),
    }
}

async fn sandbox_inbound(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<InboundRequest>,
) -> Result<Response> {
    let from = phone_field("from", Some(&req.from))?;
    if req
        .push_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100 || n.contains('\0'))
    {
        return Err(Error::validation(
            "push_name",
            "must be at most 100 characters",
        ));
    }
    let session = sandbox(&caller)?;
    let alternatives = [
        req.reaction.is_some(),
        req.edit.is_some(),
        req.revoke.is_some(),
        req.presence.is_some(),
        req.call.is_some(),
        req.group.is_some(),
    ];
    let chosen = alternatives.iter().filter(|x| **x).count();
    if chosen > 1 || (chosen == 1 && (req.message.is_some() || req.media_base64.is_some())) {
        return Err(Error::validation(
            "message",
            "give one of message (or media), reaction, edit, revoke, presence, call or group",
        ));
    }
    let contact = Jid::user(&from);
    if let Some(edit) = req.edit {
        let text = text_field("message", &edit.message)?;
        let message = contacts_message(&worker, &caller, &contact, &edit.message_id).await?;
        if Utc::now() - message.timestamp > chrono::Duration::minutes(EDIT_WINDOW_MINUTES) {
            return Err(Error::validation(
                "edit.message_id",
                "messages can be edited up to 15 minutes after sending",
            ));
        }
        let at = Utc::now();
        session
            .from_network(Event::Edited {
                chat: contact.clone(),
                sender: contact,
                message_id: message.id.clone(),
                from_me: false,
                text: Some(text.clone()),
                at,
            })
            .map_err(driver_error)?;
        caller.instance.flush().await;
        return Ok(ok(json!({ "edited": message.id, "message": text })).into_response());
    }
    if let Some(revoke) = req.revoke {
        let message = contacts_message(&worker, &caller, &contact, &revoke.message_id).await?;
        if Utc::now() - message.timestamp > chrono::Duration::hours(REVOKE_WINDOW_HOURS) {
            return Err(Error::validation(
                "revoke.message_id",
                "messages can be deleted for everyone up to 48 hours after sending",
            ));
        }
        session
            .from_network(Event::Revoked {
                chat: contact.clone(),
                sender: contact,
                message_id: message.id.clone(),
                from_me: false,
                at: Utc::now(),
            })
            .map_err(driver_error)?;
        caller.instance.flush().await;
        return Ok(ok(json!({ "revoked": message.id })).into_response());
    }
    if let Some(presence) = req.presence {
        let state = PresenceState::parse(&presence).ok_or_else(|| {
            Error::validation("presence", "must be composing, recording or paused")
        })?;
        session
            .from_network(Event::ChatPresence {
                chat: contact.clone(),
                sender: contact,
                state,
            })
            .map_err(driver_error)?;
        caller.instance.flush().await;
        return Ok(ok(json!({ "presence": state.as_str() })).into_response());
    }
    if let Some(call) = req.call {
        let call_id = crate::sandbox::call_id();
        session
            .from_network(Event::CallOffer {
                call_id: call_id.clone(),
                from: contact,
                video: call.video,
                group: None,
                at: Utc::now(),
            })
            .map_err(driver_error)?;
        caller.instance.flush().await;
        return Ok(created(json!({ "call_id": call_id, "video": call.video })).into_response());
    }
    if let Some(group) = req.group {
        let me = own_jid(&caller);
        let (info, _) = crate::groups::create(
            worker.db(),
            caller.key,
            &contact.to_string(),
            &group.title,
            std::slice::from_ref(&me),
        )
        .await
        .map_err(crate::api_groups::group_error)?;
        let group = recipient("group", &info.group_id)?;
        session
            .from_network(Event::GroupJoined {
                group,
                subject: Some(info.name.clone()),
                by: Some(contact),
                at: Utc::now(),
            })
            .map_err(driver_error)?;
        caller.instance.flush().await;
        return Ok(
            created(json!({ "group_id": info.group_id, "name": info.name })).into_response(),
        );
    }
    if let Some(reaction) = req.reaction {
        let (message, _) =
            store::message(worker.db(), caller.key, message_id(&reaction.message_id)?)
                .await
                .map_err(db_error)?
                .filter(|(m, _)| m.chat_jid == Jid::user(&from).to_string())
                .ok_or_else(|| Error::not_found("message"))?;
        session
            .react(&from, &message.id, &reaction.emoji)
            .map_err(driver_error)?;
        caller.instance.flush().await;
        return Ok(
            created(json!({ "reacted_to": message.id, "emoji": reaction.emoji })).into_response(),
        );
    }
    let (kind, body, content) = match (req.media_type.as_deref(), req.media_base64.as_deref()) {
        (None, None) => {
            let body = text_field("message", req.message.as_deref().unwrap_or(""))?;
            (Kind::Text, Some(body), json!({}))
        }
        (Some(t), Some(data)) => {
            use base64::Engine;
            let kind = media_kind("media_type", t)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|_| Error::validation("media_base64", "must be base64"))?;
            if bytes.len() > crate::media::max_bytes(kind) {
                return Err(media_error(
                    crate::media::MediaError::TooLarge(kind),
                    "media_base64",
                ));
            }
            let mime = crate::media::resolve_mime(kind, &bytes, req.mime_type.as_deref())
                .map_err(|e| media_error(e, "media_base64"))?;
            let sha = worker
                .media
                .put(caller.key, &bytes)
                .await
                .map_err(|e| Error::internal(e.to_string()))?;
            let caption = match req.message.as_deref() {
                Some(c) => Some(caption_field(c)?),
                None => None,
            };
            let content = json!({
                "mime_type": mime,
                "file_size": bytes.len(),
                "sha256": sha,
                "file_name": req.file_name.as_deref().and_then(crate::media::clean_file_name),
            });
            (kind, caption, content)
        }
        _ => {
            return Err(Error::validation(
                "media_base64",
                "media_type and media_base64 go together",
            ))
        }
    };
    let message = session
        .inbound(
            &from,
            req.push_name,
            kind,
            body,
            content,
            req.reply_message_id,
        )
        .map_err(driver_error)?;
    caller.instance.flush().await;
    // The chat it is filed under: the contact's number (the message came from its LID).
    Ok(created(json!({
        "message_id": message.id,
        "chat_jid": Jid::user(&from).to_string(),
        "chat_lid": message.chat.to_string(),
        "timestamp": message.timestamp,
    }))
    .into_response())
}

/// One of `contact`'s own messages in its chat with the session.
async fn contacts_message(
    worker: &WorkerState,
    caller: &Caller,
    contact: &Jid,
    id: &str,
) -> Result<store::Message> {
    let (message, _) = store::message(worker.db(), caller.key, message_id(id)?)
        .await
        .map_err(db_error)?
        .filter(|(m, _)| {
            m.chat_jid == contact.to_string() && m.sender_jid == contact.to_string() && !m.from_me
        })
        .ok_or_else(|| Error::not_found("message (one of the contact's own in its chat)"))?;
    if message.revoked_at.is_some() {
        return Err(Error::validation(
            "message_id",
            "the message was already deleted for everyone",
        ));
    }
    Ok(message)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = SandboxReceipt)]
#[serde(deny_unknown_fields)]
struct ReceiptRequest {
    /// One of the session's own messages.
    message_id: String,
    /// delivered, read or played.
    #[schema(pattern = "^(delivered|read|played)$")]
    status: String,
}

async fn sandbox_receipt(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<ReceiptRequest>,
) -> Result<Response> {
    let status = match Receipt::parse(&req.status) {
        Some(s @ (Receipt::Delivered | Receipt::Read | Receipt::Played)) => s,
        _ => {
            return Err(Error::validation(
                "status",
                "must be delivered, read or played",
            ))
        }
    };
    let session = sandbox(&caller)?;
    let (message, _) = store::message(worker.db(), caller.key, &req.message_id)
        .await
        .map_err(db_error)?
        .filter(|(m, _)| m.from_me)
        .ok_or_else(|| Error::not_found("message"))?;
    let chat = recipient("chat_jid", &message.chat_jid)?;
    session.receipt(&message.id, chat, status);
    caller.instance.flush().await;
    let (message, history) = store::message(worker.db(), caller.key, &req.message_id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| Error::not_found("message"))?;
    Ok(ok(json!({
        "message_id": message.id,
        "status": message.status,
        "status_history": history,
    }))
    .into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = SandboxDisconnect)]
#[serde(deny_unknown_fields)]
struct DisconnectRequest {
    /// Also log the device out, as if removed on the phone (a new login is then needed).
    #[serde(default)]
    logout: bool,
}

async fn sandbox_disconnect(caller: Caller, body: axum::body::Bytes) -> Result<Response> {
    let req: DisconnectRequest = optional_body(&body)?;
    sandbox(&caller)?
        .disconnect(req.logout)
        .map_err(driver_error)?;
    caller.instance.flush().await;
    Ok(ok(status_json(&caller.instance, &caller.instance.status())).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateInstance {
    customer_id: Uuid,
    /// `live`, `test`, or both when absent.
    mode: Option<Mode>,
}

fn modes(mode: Option<Mode>) -> Vec<Mode> {
    mode.map(|m| vec![m])
        .unwrap_or_else(|| vec![Mode::Live, Mode::Test])
}

fn instance_json(instance: &Instance) -> Value {
    let mut v = status_json(instance, &instance.status());
    v["customer_id"] = json!(instance.key.customer);
    v["epoch"] = json!(instance.epoch);
    v
}

async fn create_instance(
    State(worker): State<WorkerState>,
    _: Management,
    Json(req): Json<CreateInstance>,
) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let mut out = Vec::new();
    for mode in modes(req.mode) {
        let key = SessionKey {
            customer: req.customer_id,
            mode,
        };
        let instance = instances
            .get_or_create(key)
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        out.push(instance_json(&instance));
    }
    Ok(created(out).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeQuery {
    mode: Option<Mode>,
    /// Also delete the customer's media files (a GDPR erasure).
    #[serde(default)]
    purge: bool,
}

async fn remove_instance(
    State(worker): State<WorkerState>,
    _: Management,
    Path(customer): Path<Uuid>,
    Query(q): Query<ModeQuery>,
) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let mut removed = 0;
    for mode in modes(q.mode) {
        removed += usize::from(
            instances
                .remove(SessionKey { customer, mode })
                .await
                .map_err(db_error)?,
        );
    }
    if q.purge {
        worker
            .media
            .purge(customer)
            .await
            .map_err(|e| Error::internal(format!("media purge: {e}")))?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if removed == 0 {
        return Err(Error::not_found("instance"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_instances(State(worker): State<WorkerState>, _: Management) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let mut all: Vec<Value> = instances.list().iter().map(|i| instance_json(i)).collect();
    all.sort_by(|a, b| a["customer_id"].as_str().cmp(&b["customer_id"].as_str()));
    Ok(ok(all).into_response())
}

async fn get_instance(
    State(worker): State<WorkerState>,
    _: Management,
    Path(customer): Path<Uuid>,
) -> Result<Response> {
    let instances = worker
        .instances()
        .ok_or_else(|| Error::internal("instances not ready"))?;
    let found: Vec<Value> = [Mode::Live, Mode::Test]
        .into_iter()
        .filter_map(|mode| instances.get(SessionKey { customer, mode }))
        .map(|i| instance_json(&i))
        .collect();
    if found.is_empty() {
        return Err(Error::not_found("instance"));
    }
    Ok(ok(found).into_response())
}

// ---- more kinds of message -------------------------------------------------------------

fn check_duration(duration: Option<u32>) -> Result<u32> {
    match duration {
        Some(d) if !DISAPPEARING.contains(&d) => Err(Error::validation(
            "duration",
            "must be 0, 86400, 604800 or 7776000",
        )),
        d => Ok(d.unwrap_or(0)),
    }
}

fn outgoing(
    to: Jid,
    kind: Kind,
    body: Option<String>,
    content: Value,
    forwarded: bool,
    duration: Option<u32>,
) -> Result<Outgoing> {
    Ok(Outgoing {
        to,
        kind,
        body,
        content,
        reply_to: None,
        forwarded,
        expiration_secs: check_duration(duration)?,
        media: None,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendContact {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// The contact's name (at most 100 characters).
    #[schema(value_type = crate::apidoc::Text)]
    contact_name: String,
    /// The contact's phone number (international format).
    #[schema(value_type = crate::apidoc::Phone)]
    contact_phone: String,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::apidoc::DisappearingTimer>)]
    duration: Option<u32>,
}

/// A vCard 3.0 for a contact card, as WhatsApp sends them.
fn vcard(name: &str, phone: &str) -> String {
    let escaped: String = name
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect::<String>()
        .replace(';', "\\;")
        .replace(',', "\\,");
    format!("BEGIN:VCARD\nVERSION:3.0\nN:;{escaped};;;\nFN:{escaped}\nTEL;type=CELL;type=VOICE;waid={phone}:+{phone}\nEND:VCARD")
}

async fn send_contact(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendContact>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let name = text_field("contact_name", &req.contact_name)?;
    if name.chars().count() > 100 {
        return Err(Error::validation(
            "contact_name",
            "must be at most 100 characters",
        ));
    }
    let phone = phone_field("contact_phone", Some(&req.contact_phone))?;
    let content = json!({ "display_name": name, "phone": format!("+{phone}"), "vcard": vcard(&name, &phone) });
    let message = outgoing(
        to,
        Kind::Contact,
        Some(name),
        content,
        req.is_forwarded,
        req.duration,
    )?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendLink {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// An http(s) URL, at most 2048 characters.
    link: String,
    /// Text sent above the link.
    #[schema(value_type = Option<crate::apidoc::Text>)]
    caption: Option<String>,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::apidoc::DisappearingTimer>)]
    duration: Option<u32>,
}

async fn send_link(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendLink>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let link = match url::Url::parse(req.link.trim()) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && req.link.len() <= 2048 =>
        {
            u.to_string()
        }
        _ => {
            return Err(Error::validation(
                "link",
                "must be an http or https URL of at most 2048 characters",
            ))
        }
    };
    let caption = match req.caption.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(text_field("caption", c)?),
        None => None,
    };
    let body = match &caption {
        Some(c) => format!("{c}\n{link}"),
        None => link.clone(),
    };
    let body = text_field("caption", &body)?;
    let content = json!({ "link": link, "caption": caption });
    let message = outgoing(
        to,
        Kind::Link,
        Some(body),
        content,
        req.is_forwarded,
        req.duration,
    )?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendLocation {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// Degrees, -90 to 90: a number or a numeric string.
    #[schema(value_type = f64, minimum = -90, maximum = 90)]
    latitude: serde_json::Value,
    /// Degrees, -180 to 180: a number or a numeric string.
    #[schema(value_type = f64, minimum = -180, maximum = 180)]
    longitude: serde_json::Value,
    /// Show the message as forwarded.
    #[serde(default)]
    is_forwarded: bool,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::apidoc::DisappearingTimer>)]
    duration: Option<u32>,
}

/// A coordinate given as a number or a string (the current codebase takes strings).
fn coordinate(field: &str, value: &Value, limit: f64) -> Result<f64> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    parsed
        .filter(|v| v.is_finite() && v.abs() <= limit)
        .ok_or_else(|| {
            Error::validation(
                field,
                format!("must be a number between -{limit} and {limit}"),
            )
        })
}

async fn send_location(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendLocation>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let latitude = coordinate("latitude", &req.latitude, 90.0)?;
    let longitude = coordinate("longitude", &req.longitude, 180.0)?;
    let content = json!({ "latitude": latitude, "longitude": longitude });
    let message = outgoing(
        to,
        Kind::Location,
        None,
        content,
        req.is_forwarded,
        req.duration,
    )?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendPoll {
    /// The recipient: a phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID (`…@s.whatsapp.net`, a group's `…@g.us`).
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// At most 255 characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    )]
    question: String,
    /// 2 to 12 different options, each at most 100 characters.
    #[schema(min_items = 2, max_items = 12)]
    options: Vec<String>,
    /// How many options one person may choose: 1 to the number of options.
    max_answer: u32,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::apidoc::DisappearingTimer>)]
    duration: Option<u32>,
}

async fn send_poll(
    State(worker): State<WorkerState>,
    caller: Caller,
    Json(req): Json<SendPoll>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let question = text_field("question", &req.question)?;
    if question.chars().count() > 255 {
        return Err(Error::validation(
            "question",
            "must be at most 255 characters",
        ));
    }
    if !(2..=12).contains(&req.options.len()) {
        return Err(Error::validation("options", "must hold 2 to 12 options"));
    }
    let mut options: Vec<String> = Vec::with_capacity(req.options.len());
    for o in &req.options {
        let o = text_field("options", o)?;
        if o.chars().count() > 100 {
            return Err(Error::validation(
                "options",
                "each option must be at most 100 characters",
            ));
        }
        if options.contains(&o) {
            return Err(Error::validation(
                "options",
                "options must be different from each other",
            ));
        }
        options.push(o);
    }
    if req.max_answer == 0 || req.max_answer as usize > options.len() {
        return Err(Error::validation(
            "max_answer",
            "must be between 1 and the number of options",
        ));
    }
    let content = json!({ "question": question, "options": options, "max_answer": req.max_answer });
    let message = outgoing(to, Kind::Poll, Some(question), content, false, req.duration)?;
    send(&worker, &caller, message).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendPresence {
    /// available or unavailable.
    #[serde(rename = "type")]
    #[schema(pattern = "^(available|unavailable)$")]
    kind: String,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    is_forwarded: bool,
}

async fn send_presence(caller: Caller, Json(req): Json<SendPresence>) -> Result<Response> {
    let available = match req.kind.as_str() {
        "available" => true,
        "unavailable" => false,
        _ => {
            return Err(Error::validation(
                "type",
                "must be available or unavailable",
            ))
        }
    };
    caller
        .instance
        .driver
        .act(&Action::Presence { available })
        .await
        .map_err(driver_error)?;
    Ok(ok(json!({ "presence": req.kind })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendChatPresence {
    /// The chat: a phone number or a JID.
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// start (typing…) or stop.
    #[schema(pattern = "^(start|stop)$")]
    action: String,
}

async fn send_chat_presence(caller: Caller, Json(req): Json<SendChatPresence>) -> Result<Response> {
    let chat = recipient("phone", &req.phone)?;
    let composing = match req.action.as_str() {
        "start" => true,
        "stop" => false,
        _ => return Err(Error::validation("action", "must be start or stop")),
    };
    caller
        .instance
        .driver
        .act(&Action::ChatPresence {
            chat: chat.clone(),
            composing,
        })
        .await
        .map_err(driver_error)?;
    Ok(ok(json!({ "chat_jid": chat.to_string(), "action": req.action })).into_response())
}

// ---- operations on a message -----------------------------------------------------------

/// How long after sending WhatsApp lets a message be edited, and deleted for everyone.
const EDIT_WINDOW_MINUTES: i64 = 15;
const REVOKE_WINDOW_HOURS: i64 = 48;

fn message_id(id: &str) -> Result<&str> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::not_found("message"));
    }
    Ok(id)
}

/// The message `id` in the chat named by `phone` (404 when it is not there).
async fn message_in_chat(
    worker: &WorkerState,
    caller: &Caller,
    id: &str,
    phone: &str,
) -> Result<(store::Message, Jid)> {
    let chat = recipient("phone", phone)?;
    let (message, _) = store::message(worker.db(), caller.key, message_id(id)?)
        .await
        .map_err(db_error)?
        .filter(|(m, _)| m.chat_jid == chat.to_string())
        .ok_or_else(|| Error::not_found("message"))?;
    Ok((message, chat))
}

async fn message_now(worker: &WorkerState, caller: &Caller, id: &str) -> Result<Response> {
    let (message, history) = store::message(worker.db(), caller.key, id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| Error::not_found("message"))?;
    let mut value = serde_json::to_value(message).map_err(|e| Error::internal(e.to_string()))?;
    value["status_history"] =
        serde_json::to_value(history).map_err(|e| Error::internal(e.to_string()))?;
    Ok(ok(value).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MessageInChat)]
#[serde(deny_unknown_fields)]
struct InChat {
    /// The chat the message is in: a phone number or a JID.
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
}

async fn revoke_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    if !message.from_me {
        return Err(Error::validation(
            "message_id",
            "only your own messages can be deleted for everyone",
        ));
    }
    if message.revoked_at.is_some() {
        return Err(Error::validation(
            "message_id",
            "the message was already deleted for everyone",
        ));
    }
    if Utc::now() - message.timestamp > chrono::Duration::hours(REVOKE_WINDOW_HOURS) {
        return Err(Error::validation(
            "message_id",
            "messages can be deleted for everyone up to 48 hours after sending",
        ));
    }
    caller
        .instance
        .driver
        .act(&Action::Revoke {
            chat: chat.clone(),
            id: message.id.clone(),
        })
        .await
        .map_err(driver_error)?;
    store::set_revoked(worker.db(), caller.key, &message.id)
        .await
        .map_err(db_error)?;
    let me = own_jid(&caller);
    emit(
        &worker,
        &caller,
        NewEvent::revoked(&chat, &me, &message.id, true, Utc::now()),
    )
    .await;
    message_now(&worker, &caller, &message.id).await
}

/// This session's own JID (empty before the first login).
fn own_jid(caller: &Caller) -> Jid {
    let jid = caller.instance.status().session.jid.unwrap_or_default();
    Jid::parse_recipient(&jid).unwrap_or_else(|_| Jid::user(""))
}

/// Writes an event of what the customer did through the API (webhooks, live stream).
async fn emit(worker: &WorkerState, caller: &Caller, event: NewEvent) {
    if let Some(instances) = worker.instances() {
        let device = caller.instance.status().session.jid;
        instances.emit(caller.key, device.as_deref(), event).await;
    }
}

async fn delete_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    store::delete_message(worker.db(), caller.key, &message.id)
        .await
        .map_err(db_error)?;
    emit(
        &worker,
        &caller,
        NewEvent::deleted(&chat, &message.id, Utc::now()),
    )
    .await;
    Ok(ok(json!({ "message_id": message.id, "deleted": true })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ReactMessage)]
#[serde(deny_unknown_fields)]
struct ReactRequest {
    /// The chat the message is in: a phone number or a JID.
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// One emoji; empty removes your reaction.
    #[serde(default)]
    emoji: String,
}

async fn react_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ReactRequest>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    let emoji = req.emoji.trim().to_owned();
    if emoji.chars().count() > 10
        || emoji
            .chars()
            .any(|c| c.is_alphanumeric() || c.is_whitespace() || c == '\0')
    {
        return Err(Error::validation(
            "emoji",
            "must be one emoji (or empty to remove the reaction)",
        ));
    }
    let sender = recipient("sender", &message.sender_jid)?;
    let sent = caller
        .instance
        .driver
        .act(&Action::React {
            chat,
            id: message.id.clone(),
            sender,
            emoji: emoji.clone(),
        })
        .await
        .map_err(driver_error)?;
    let me = caller.instance.status().session.jid.unwrap_or_default();
    store::set_reaction(worker.db(), caller.key, &message.id, &me, &emoji)
        .await
        .map_err(db_error)?;
    Ok(ok(json!({
        "message_id": sent.map(|s| s.id),
        "reacted_to": message.id,
        "emoji": emoji,
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = EditMessage)]
#[serde(deny_unknown_fields)]
struct EditRequest {
    /// The chat the message is in: a phone number or a JID.
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// The new text, 1 to 4096 characters.
    #[schema(value_type = crate::apidoc::Text)]
    message: String,
}

async fn edit_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<EditRequest>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    let text = text_field("message", &req.message)?;
    if !message.from_me
        || message.revoked_at.is_some()
        || !matches!(message.kind.as_str(), "text" | "link")
    {
        return Err(Error::validation(
            "message_id",
            "only your own text messages can be edited",
        ));
    }
    if Utc::now() - message.timestamp > chrono::Duration::minutes(EDIT_WINDOW_MINUTES) {
        return Err(Error::validation(
            "message_id",
            "messages can be edited up to 15 minutes after sending",
        ));
    }
    caller
        .instance
        .driver
        .act(&Action::Edit {
            chat: chat.clone(),
            id: message.id.clone(),
            text: text.clone(),
        })
        .await
        .map_err(driver_error)?;
    store::edit_message(worker.db(), caller.key, &message.id, &text)
        .await
        .map_err(db_error)?;
    let me = own_jid(&caller);
    emit(
        &worker,
        &caller,
        NewEvent::edited(&chat, &me, &message.id, true, Some(&text), Utc::now()),
    )
    .await;
    message_now(&worker, &caller, &message.id).await
}

async fn read_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    let (message, chat) = message_in_chat(&worker, &caller, &id, &req.phone).await?;
    let ids = store::mark_read(
        worker.db(),
        caller.key,
        &message.chat_jid,
        message.timestamp,
    )
    .await
    .map_err(db_error)?;
    if !ids.is_empty() {
        let sender = recipient("sender", &message.sender_jid)?;
        caller
            .instance
            .driver
            .act(&Action::Read {
                chat,
                ids: ids.clone(),
                sender,
            })
            .await
            .map_err(driver_error)?;
    }
    Ok(ok(json!({ "message_id": message.id, "marked_read": ids })).into_response())
}

async fn star(
    worker: &WorkerState,
    caller: &Caller,
    id: &str,
    phone: &str,
    starred: bool,
) -> Result<Response> {
    let (message, _) = message_in_chat(worker, caller, id, phone).await?;
    store::set_starred(worker.db(), caller.key, &message.id, starred)
        .await
        .map_err(db_error)?;
    message_now(worker, caller, &message.id).await
}

async fn star_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    star(&worker, &caller, &id, &req.phone, true).await
}

async fn unstar_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<InChat>,
) -> Result<Response> {
    star(&worker, &caller, &id, &req.phone, false).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ForwardMessage)]
#[serde(deny_unknown_fields)]
struct ForwardRequest {
    /// Where to forward it: a phone number or a JID.
    #[schema(value_type = crate::apidoc::Recipient)]
    phone: String,
    /// Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = Option<crate::apidoc::DisappearingTimer>)]
    duration: Option<u32>,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    force_reupload: bool,
}

async fn forward_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ForwardRequest>,
) -> Result<Response> {
    let to = recipient("phone", &req.phone)?;
    let (message, _) = store::message(worker.db(), caller.key, message_id(&id)?)
        .await
        .map_err(db_error)?
        .ok_or_else(|| Error::not_found("message"))?;
    if message.revoked_at.is_some() {
        return Err(Error::validation(
            "message_id",
            "a message deleted for everyone cannot be forwarded",
        ));
    }
    let kind = kind_of(&message.kind);
    let mut content = message.content.0.clone();
    if let Some(o) = content.as_object_mut() {
        o.remove("reactions");
    }
    let media = match kind {
        Kind::Image | Kind::Video | Kind::Audio | Kind::Document | Kind::Sticker => {
            Some(media_file(&worker, &caller, &message.id, &message.content.0).await?)
        }
        _ => None,
    };
    let mut out = outgoing(to, kind, message.body.clone(), content, true, req.duration)?;
    out.media = media;
    send(&worker, &caller, out).await
}

fn kind_of(s: &str) -> Kind {
    match s {
        "image" => Kind::Image,
        "video" => Kind::Video,
        "audio" => Kind::Audio,
        "document" => Kind::Document,
        "sticker" => Kind::Sticker,
        "contact" => Kind::Contact,
        "location" => Kind::Location,
        "poll" => Kind::Poll,
        "link" => Kind::Link,
        _ => Kind::Text,
    }
}

// ---- operations on a chat --------------------------------------------------------------

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PinChat)]
#[serde(deny_unknown_fields)]
struct PinRequest {
    pinned: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ArchiveChat)]
#[serde(deny_unknown_fields)]
struct ArchiveRequest {
    archived: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DisappearingChat)]
#[serde(deny_unknown_fields)]
struct DisappearingRequest {
    /// 0 (off), 86400, 604800 or 7776000.
    #[schema(value_type = crate::apidoc::DisappearingTimer)]
    timer_seconds: u32,
}

async fn change_chat(
    worker: &WorkerState,
    caller: &Caller,
    chat_jid: &str,
    change: store::ChatChange,
) -> Result<Response> {
    let chat = recipient("chat_jid", chat_jid)?;
    let row = store::change_chat(
        worker.db(),
        caller.key,
        &chat.to_string(),
        chat.kind(),
        &change,
    )
    .await
    .map_err(db_error)?;
    Ok(ok(row).into_response())
}

async fn pin_chat(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat): Path<String>,
    Json(req): Json<PinRequest>,
) -> Result<Response> {
    change_chat(
        &worker,
        &caller,
        &chat,
        store::ChatChange {
            pinned: Some(req.pinned),
            ..Default::default()
        },
    )
    .await
}

async fn archive_chat(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat): Path<String>,
    Json(req): Json<ArchiveRequest>,
) -> Result<Response> {
    change_chat(
        &worker,
        &caller,
        &chat,
        store::ChatChange {
            archived: Some(req.archived),
            ..Default::default()
        },
    )
    .await
}

async fn disappearing_chat(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(chat_jid): Path<String>,
    Json(req): Json<DisappearingRequest>,
) -> Result<Response> {
    if !DISAPPEARING.contains(&req.timer_seconds) {
        return Err(Error::validation(
            "timer_seconds",
            "must be 0, 86400, 604800 or 7776000",
        ));
    }
    let chat = recipient("chat_jid", &chat_jid)?;
    caller
        .instance
        .driver
        .act(&Action::Disappearing {
            chat,
            seconds: req.timer_seconds,
        })
        .await
        .map_err(driver_error)?;
    change_chat(
        &worker,
        &caller,
        &chat_jid,
        store::ChatChange {
            disappearing_secs: Some(req.timer_seconds as i32),
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RejectCall {
    /// Who is calling: a phone number or a JID.
    #[schema(value_type = crate::apidoc::Recipient)]
    caller_jid: String,
    /// The call's id, from the incoming-call event (at most 128 characters).
    #[schema(min_length = 1, max_length = 128)]
    call_id: String,
}

async fn reject_call(caller: Caller, Json(req): Json<RejectCall>) -> Result<Response> {
    let from = recipient("caller_jid", &req.caller_jid)?;
    if req.call_id.is_empty() || req.call_id.chars().count() > 128 {
        return Err(Error::validation(
            "call_id",
            "is required (at most 128 characters)",
        ));
    }
    caller
        .instance
        .driver
        .act(&Action::RejectCall {
            caller: from,
            call_id: req.call_id.clone(),
        })
        .await
        .map_err(driver_error)?;
    Ok(ok(json!({ "call_id": req.call_id, "rejected": true })).into_response())
}

// ---- media -------------------------------------------------------------------------

/// Longest media caption WhatsApp shows.
const MAX_CAPTION_CHARS: usize = 1024;

fn caption_field(value: &str) -> Result<String> {
    let caption = text_field("caption", value)?;
    if caption.chars().count() > MAX_CAPTION_CHARS {
        return Err(Error::validation(
            "caption",
            format!("must be at most {MAX_CAPTION_CHARS} characters"),
        ));
    }
    Ok(caption)
}

pub(crate) fn media_error(e: crate::media::MediaError, field: &str) -> Error {
    use crate::media::MediaError as M;
    match e {
        M::TooLarge(_) => Error::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            wasp_http::error::code::PAYLOAD_TOO_LARGE,
            e.to_string(),
        ),
        M::Type(..) => Error::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            wasp_http::error::code::UNSUPPORTED_MEDIA_TYPE,
            e.to_string(),
        ),
        M::Url(_) => Error::validation(field, e.to_string()),
        M::Fetch(_) => Error::client(
            StatusCode::BAD_REQUEST,
            code::MEDIA_FETCH_FAILED,
            e.to_string(),
        ),
        M::Io(e) => Error::internal(e.to_string()),
    }
}

/// A media send form: its text fields and the uploaded file, if any.
struct MediaForm {
    fields: std::collections::HashMap<String, String>,
    file: Option<(Vec<u8>, Option<String>, Option<String>)>,
}

impl MediaForm {
    fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn flag(&self, name: &str) -> Result<bool> {
        match self.text(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(_) => Err(Error::validation(name, "must be true or false")),
        }
    }
}

/// Text fields a media form may carry besides the file and its URL, with what they mean.
const MEDIA_FIELDS: [(&str, &str); 10] = [
    ("phone", "The recipient: a phone number in international format or a JID (`…@s.whatsapp.net`, `…@g.us`)."),
    ("caption", "Text shown with the media (at most 1024 characters); not for audio or stickers."),
    ("reply_message_id", "Quote this message (its id): one of this chat's messages in the chat store, else 400 VALIDATION_ERROR."),
    ("view_once", "`true` to let the recipient open it once."),
    ("compress", "Accepted and ignored."),
    ("hd", "`true` to send an image or video in HD."),
    ("duration", "Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000."),
    ("is_forwarded", "`true` to show the message as forwarded."),
    ("ptt", "Audio: `true` to send it as a voice note."),
    ("gif_playback", "Video: `true` to play it like a GIF."),
];

async fn read_form(
    mut form: axum::extract::Multipart,
    file_field: &str,
    kind: Kind,
) -> Result<MediaForm> {
    let read = read_fields(&mut form, file_field, kind).await;
    if read.is_err() {
        // Read the rest of the body (the 10 MB limit still holds) before answering: a
        // client, or the gateway streaming the upload, that is still sending when the
        // answer comes and the connection closes sees a broken pipe instead of the error.
        while let Ok(Some(mut field)) = form.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    }
    read
}

async fn read_fields(
    form: &mut axum::extract::Multipart,
    file_field: &str,
    kind: Kind,
) -> Result<MediaForm> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                wasp_http::error::code::PAYLOAD_TOO_LARGE,
                "the request is larger than 10 MB",
            )
        } else {
            Error::client(
                StatusCode::BAD_REQUEST,
                wasp_http::error::code::VALIDATION_ERROR,
                format!("multipart form: {e}"),
            )
        }
    };
    let url_field = format!("{file_field}_url");
    let mut out = MediaForm {
        fields: Default::default(),
        file: None,
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if bytes.len() + chunk.len() > crate::media::max_bytes(kind) {
                    return Err(media_error(
                        crate::media::MediaError::TooLarge(kind),
                        file_field,
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            out.file = Some((bytes, file_name, content_type));
        } else if name == url_field || MEDIA_FIELDS.iter().any(|(field, _)| *field == name) {
            let value = field.text().await.map_err(bad)?;
            if value.len() > 8192 {
                return Err(Error::validation(&name, "is too long"));
            }
            out.fields.insert(name, value);
        } else {
            return Err(Error::validation(&name, "unknown field"));
        }
    }
    Ok(out)
}

async fn send_media(
    worker: WorkerState,
    caller: Caller,
    form: axum::extract::Multipart,
    kind: Kind,
    file_field: &str,
) -> Result<Response> {
    let form = read_form(form, file_field, kind).await?;
    let to = recipient("phone", form.text("phone").unwrap_or(""))?;
    let url_field = format!("{file_field}_url");
    let (bytes, claimed, name) = match (form.file.clone(), form.text(&url_field)) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                file_field,
                format!("send either {file_field} or {url_field}, not both"),
            ))
        }
        (Some((bytes, name, claimed)), None) => (bytes, claimed, name),
        (None, Some(url)) => {
            let (bytes, claimed, name) = crate::media::fetch(
                &worker.fetcher,
                url,
                kind,
                worker.config.media_allow_private,
            )
            .await
            .map_err(|e| media_error(e, &url_field))?;
            (bytes, claimed, name)
        }
        (None, None) => {
            return Err(Error::validation(
                file_field,
                format!("is required (or {url_field})"),
            ))
        }
    };
    if bytes.is_empty() {
        return Err(Error::validation(file_field, "is empty"));
    }
    let mime = crate::media::resolve_mime(kind, &bytes, claimed.as_deref())
        .map_err(|e| media_error(e, file_field))?;
    let caption = match form.text("caption") {
        Some(_) if matches!(kind, Kind::Audio | Kind::Sticker) => {
            return Err(Error::validation(
                "caption",
                format!("a {} has no caption", kind.as_str()),
            ))
        }
        Some(c) => Some(caption_field(c)?),
        None => None,
    };
    let duration = match form.text("duration") {
        Some(d) => Some(
            d.parse::<u32>()
                .map_err(|_| Error::validation("duration", "must be a number of seconds"))?,
        ),
        None => None,
    };
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    let mut content = json!({
        "mime_type": mime,
        "file_size": bytes.len(),
        "sha256": sha,
        "file_name": name.as_deref().and_then(crate::media::clean_file_name),
    });
    for flag in ["view_once", "ptt", "gif_playback", "hd"] {
        if form.flag(flag)? {
            content[flag] = json!(true);
        }
    }
    let message = Outgoing {
        to,
        kind,
        body: caption,
        content,
        reply_to: form.text("reply_message_id").map(str::to_owned),
        forwarded: form.flag("is_forwarded")?,
        expiration_secs: check_duration(duration)?,
        media: worker.media.path(caller.key, &sha),
    };
    send(&worker, &caller, message).await
}

async fn send_image(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Image, "image").await
}

async fn send_file(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Document, "file").await
}

async fn send_audio(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Audio, "audio").await
}

async fn send_video(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Video, "video").await
}

async fn send_sticker(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Sticker, "sticker").await
}

/// The media file of a message, as bytes with its type and name.
fn media_unavailable() -> Error {
    Error::client(
        StatusCode::NOT_FOUND,
        code::MEDIA_UNAVAILABLE,
        "the media of this message is no longer on this server",
    )
}

/// The local file of a message's attachment: from the media store, or (for media a live
/// session received) fetched from WhatsApp and decrypted on first use, then kept.
async fn media_file(
    worker: &WorkerState,
    caller: &Caller,
    id: &str,
    content: &Value,
) -> Result<std::path::PathBuf> {
    if let Some(path) = content["sha256"]
        .as_str()
        .and_then(|sha| worker.media.path(caller.key, sha))
        .filter(|p| p.exists())
    {
        return Ok(path);
    }
    if content["wa_media"].is_null() {
        return Err(if content["sha256"].is_null() {
            Error::validation("message_id", "this message has no media")
        } else {
            media_unavailable()
        });
    }
    let bytes = caller
        .instance
        .driver
        .download(content)
        .await
        .map_err(driver_error)?;
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    store::set_media_sha256(worker.db(), caller.key, id, &sha)
        .await
        .map_err(db_error)?;
    worker
        .media
        .path(caller.key, &sha)
        .ok_or_else(media_unavailable)
}

/// The type a download is served with: the claimed one when it cannot run in a browser,
/// else `application/octet-stream`. A sender chooses the type of what it sends; HTML, SVG,
/// XML or script served from our origin would run there.
fn inert_type(claimed: Option<&str>) -> &str {
    const OPAQUE: &str = "application/octet-stream";
    let Some(claimed) = claimed else {
        return OPAQUE;
    };
    let essence = claimed
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (top, sub) = essence.split_once('/').unwrap_or(("", ""));
    let active = ["html", "xml", "svg", "script", "xsl"]
        .iter()
        .any(|word| sub.contains(word));
    let inert_top = matches!(top, "image" | "audio" | "video" | "application")
        || matches!(essence.as_str(), "text/plain" | "text/csv" | "text/vcard");
    if active || !inert_top || essence.contains(['"', '\\', ',']) {
        OPAQUE
    } else {
        claimed
    }
}

async fn download_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    let (message, _) = store::message(worker.db(), caller.key, message_id(&id)?)
        .await
        .map_err(db_error)?
        .ok_or_else(|| Error::not_found("message"))?;
    let content = &message.content.0;
    let path = media_file(&worker, &caller, &message.id, content).await?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| media_unavailable())?;
    let mime = inert_type(content["mime_type"].as_str());
    let name = content["file_name"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "{}.{}",
                message.id,
                mime.rsplit('/').next().unwrap_or("bin")
            )
        });
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, mime.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            // Nothing in a download may run, even if a browser renders it.
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}
