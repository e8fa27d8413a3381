//! The worker's customer API (`/api/v1`, reached through management's gateway with a
//! service token naming the customer and session), the sandbox controls, and the internal
//! API management uses to place instances (`/internal/instances`).

mod answers;
mod app;
mod call;
mod caller;
mod chat;
pub mod doc;
mod error;
mod events;
mod fields;
mod group;
mod internal;
mod media;
mod message;
mod newsletter;
pub mod router;
mod sandbox;
mod send;
mod user;
mod webhooks;

pub use fields::MAX_TEXT_CHARS;

pub use caller::{Caller, Management};
pub use error::code;

use crate::{store, WorkerState};
use axum::{
    routing::{delete, post},
    Router,
};
use doc::{doc, Api};
use error::errors;
use wasp_protocol::placement::INSTANCES_PATH;

/// The customer API's routes, and the internal API's (which the document leaves out).
pub fn routes() -> Router<WorkerState> {
    api().router
}

/// The OpenAPI document of the customer API (`/api/v1`), built from the same table as
/// [`routes`]. Management merges it into the document it serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().doc
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
            app::login_qr,
            doc("app", "Start a QR-code login")
                .describe("Returns the first QR code to scan with the phone (WhatsApp → Linked devices). Codes rotate: poll `/app/status` for the current one.")
                .returns::<LoginQr>()
                .errors(&[code::ALREADY_LOGGED_IN, code::DRIVER_UNAVAILABLE]),
        )
        .get(
            "/api/v1/app/login-with-code",
            app::login_code,
            doc("app", "Start a login with a pair code")
                .describe("Returns an 8-character code to enter on the phone (Linked devices → Link with phone number).")
                .query::<app::PhoneQuery>()
                .returns::<PairCode>()
                .errors(&[code::ALREADY_LOGGED_IN, code::NOT_ON_WHATSAPP, code::DRIVER_UNAVAILABLE]),
        )
        .on(
            &[Get, Post],
            "/api/v1/app/logout",
            app::logout,
            doc("app", "Log the session out")
                .describe("Unlinks this device from the phone; a new login is needed afterwards.")
                .returns::<SessionStatus>()
                .errors(&[code::SESSION_NOT_LOGGED_IN, code::DRIVER_UNAVAILABLE]),
        )
        .on(
            &[Get, Post],
            "/api/v1/app/reconnect",
            app::reconnect,
            doc("app", "Reconnect the session")
                .returns::<SessionStatus>()
                .errors(&[code::SESSION_NOT_LOGGED_IN, code::DRIVER_UNAVAILABLE]),
        )
        .get(
            "/api/v1/app/status",
            app::app_status,
            doc("app", "The session's status").returns::<SessionStatus>(),
        )
        // ---- send
        .post(
            "/api/v1/send/message",
            send::send_message,
            doc("send", "Send a text message")
                .json::<send::SendMessage>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/image",
            media::send_image,
            doc("send", "Send an image")
                .describe("JPEG, PNG or WebP, uploaded in `image` or fetched from `image_url`.")
                .multipart("image", true, &media::MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/file",
            media::send_file,
            doc("send", "Send a document")
                .describe("Any file, uploaded in `file` or fetched from `file_url`; its name is kept.")
                .multipart("file", true, &media::MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/audio",
            media::send_audio,
            doc("send", "Send audio")
                .describe("Uploaded in `audio` or fetched from `audio_url`; `ptt=true` sends it as a voice note. Audio has no caption.")
                .multipart("audio", true, &media::MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/video",
            media::send_video,
            doc("send", "Send a video")
                .describe("MP4, uploaded in `video` or fetched from `video_url`; `gif_playback=true` loops it like a GIF.")
                .multipart("video", true, &media::MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/sticker",
            media::send_sticker,
            doc("send", "Send a sticker")
                .describe("WebP, uploaded in `sticker` or fetched from `sticker_url`. Stickers have no caption.")
                .multipart("sticker", true, &media::MEDIA_FIELDS, &["phone"])
                .returns::<SentMessage>()
                .errors(SEND_MEDIA),
        )
        .post(
            "/api/v1/send/contact",
            send::send_contact,
            doc("send", "Send a contact card")
                .json::<send::SendContact>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/link",
            send::send_link,
            doc("send", "Send a link")
                .json::<send::SendLink>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/location",
            send::send_location,
            doc("send", "Send a location")
                .json::<send::SendLocation>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/poll",
            send::send_poll,
            doc("send", "Send a poll")
                .json::<send::SendPoll>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        .post(
            "/api/v1/send/presence",
            send::send_presence,
            doc("send", "Set your presence (online or not)")
                .json::<send::SendPresence>()
                .returns::<PresenceSet>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/send/chat-presence",
            send::send_chat_presence,
            doc("send", "Show or stop \"typing…\" in a chat")
                .json::<send::SendChatPresence>()
                .returns::<ChatPresenceSet>()
                .errors(DRIVER),
        )
        // ---- message
        .get(
            "/api/v1/message/{message_id}",
            message::get_message,
            doc("message", "A message, with its status history").returns::<MessageDetail>(),
        )
        .get(
            "/api/v1/message/{message_id}/download",
            media::download_message,
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
            message::revoke_message,
            doc("message", "Delete a message for everyone")
                .describe("Only your own messages, up to 48 hours after sending.")
                .json::<message::InChat>()
                .returns::<MessageDetail>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/delete",
            message::delete_message,
            doc("message", "Delete a message for you")
                .describe("Removes it from this API's history; the other side keeps it.")
                .json::<message::InChat>()
                .returns::<MessageDeleted>(),
        )
        .post(
            "/api/v1/message/{message_id}/reaction",
            message::react_message,
            doc("message", "React to a message")
                .json::<message::ReactRequest>()
                .returns::<Reacted>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/update",
            message::edit_message,
            doc("message", "Edit a message")
                .describe("Only your own text messages, up to 15 minutes after sending.")
                .json::<message::EditRequest>()
                .returns::<MessageDetail>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/read",
            message::read_message,
            doc("message", "Mark a message, and the chat's earlier ones, as read")
                .json::<message::InChat>()
                .returns::<MarkedRead>()
                .errors(DRIVER),
        )
        .post(
            "/api/v1/message/{message_id}/star",
            message::star_message,
            doc("message", "Star a message")
                .json::<message::InChat>()
                .returns::<MessageDetail>(),
        )
        .post(
            "/api/v1/message/{message_id}/unstar",
            message::unstar_message,
            doc("message", "Unstar a message")
                .json::<message::InChat>()
                .returns::<MessageDetail>(),
        )
        .post(
            "/api/v1/message/{message_id}/forward",
            message::forward_message,
            doc("message", "Forward a message to another chat")
                .json::<message::ForwardRequest>()
                .returns::<SentMessage>()
                .errors(SEND),
        )
        // ---- chats
        .get(
            "/api/v1/chats",
            chat::list_chats,
            doc("chats", "The session's chats")
                .describe("Pinned first, then by the latest message.")
                .query::<chat::ChatsQuery>()
                .returns_page::<store::Chat>(),
        )
        .get(
            "/api/v1/chat/{chat_jid}/messages",
            chat::chat_messages,
            doc("chat", "A chat's messages, newest first")
                .query::<chat::MessagesQuery>()
                .returns_page::<store::Message>(),
        )
        .post(
            "/api/v1/chat/{chat_jid}/pin",
            chat::pin_chat,
            doc("chat", "Pin or unpin a chat")
                .json::<chat::PinRequest>()
                .returns::<store::Chat>(),
        )
        .post(
            "/api/v1/chat/{chat_jid}/archive",
            chat::archive_chat,
            doc("chat", "Archive or unarchive a chat")
                .json::<chat::ArchiveRequest>()
                .returns::<store::Chat>(),
        )
        .post(
            "/api/v1/chat/{chat_jid}/disappearing",
            chat::disappearing_chat,
            doc("chat", "Set a chat's disappearing-message timer")
                .json::<chat::DisappearingRequest>()
                .returns::<store::Chat>()
                .errors(DRIVER),
        )
        // ---- call
        .post(
            "/api/v1/call/reject",
            call::reject_call,
            doc("call", "Reject an incoming call")
                .json::<call::RejectCall>()
                .returns::<CallRejected>()
                .errors(DRIVER),
        )
        // ---- sandbox
        .post(
            "/api/v1/sandbox/scan",
            sandbox::sandbox_scan,
            doc("sandbox", "Simulate the phone scanning the QR code (or entering the pair code)")
                .describe(SANDBOX_ONLY)
                .optional_json::<sandbox::ScanRequest>()
                .returns::<SessionStatus>()
                .errors(SANDBOX)
                .errors(&[code::NO_PENDING_LOGIN, code::NOT_ON_WHATSAPP]),
        )
        .post(
            "/api/v1/sandbox/inbound",
            sandbox::sandbox_inbound,
            doc("sandbox", "Simulate an incoming message or reaction")
                .describe(SANDBOX_ONLY)
                .json::<sandbox::InboundRequest>()
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
            sandbox::sandbox_receipt,
            doc("sandbox", "Simulate a delivery, read or played receipt for one of your messages")
                .describe(SANDBOX_ONLY)
                .json::<sandbox::ReceiptRequest>()
                .returns::<ReceiptApplied>()
                .errors(SANDBOX)
                .errors(&[wasp_http::error::code::NOT_FOUND]),
        )
        .post(
            "/api/v1/sandbox/disconnect",
            sandbox::sandbox_disconnect,
            doc("sandbox", "Simulate losing the connection, or the phone removing the device")
                .describe(SANDBOX_ONLY)
                .optional_json::<sandbox::DisconnectRequest>()
                .returns::<SessionStatus>()
                .errors(SANDBOX)
                .errors(&[code::SESSION_NOT_LOGGED_IN]),
        )
        .merge(group::api())
        .merge(user::api())
        .merge(newsletter::api())
        .merge(webhooks::api())
        .undocumented(
            Router::new()
                .route(
                    INSTANCES_PATH,
                    post(internal::create_instance).get(internal::list_instances),
                )
                .route(
                    &format!("{INSTANCES_PATH}/{{customer_id}}"),
                    delete(internal::remove_instance).get(internal::get_instance),
                ),
        )
}
