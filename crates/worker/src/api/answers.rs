//! Schemas of `data` in the answers that have no type of their own in the code: each
//! mirrors the `json!` of its handler.
#![allow(dead_code)]

use crate::groups::{GroupInfo, ParticipantResult};
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

#[derive(Serialize, ToSchema)]
pub struct GroupCreated {
    pub group_id: String,
    pub group: GroupInfo,
    /// The outcome for each participant asked for.
    pub participants: Vec<ParticipantResult>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupParticipants {
    pub group_id: String,
    pub name: String,
    pub participants: Vec<crate::groups::Participant>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupJoined {
    pub group_id: String,
}

/// What an invite link shows before joining.
#[derive(Serialize, ToSchema)]
pub struct GroupPreview {
    pub group_id: String,
    pub name: String,
    pub topic: Option<String>,
    /// When known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    pub is_announce: bool,
    pub is_locked: bool,
    pub is_ephemeral: bool,
    pub participant_count: usize,
}

#[derive(Serialize, ToSchema)]
pub struct GroupLeft {
    pub group_id: String,
    pub left: bool,
}

#[derive(Serialize, ToSchema)]
pub struct InviteLink {
    pub group_id: String,
    /// `https://chat.whatsapp.com/…`
    pub invite_link: String,
}

#[derive(Serialize, ToSchema)]
pub struct JoinRequested {
    pub group_id: String,
    /// The JID of who asked.
    pub requested_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserInfo {
    pub jid: String,
    /// A business's verified name.
    pub verified_name: Option<String>,
    /// The user's about text.
    pub status: String,
    pub picture_id: Option<String>,
    /// The user's devices, as WhatsApp lists them.
    #[schema(value_type = Vec<Object>)]
    pub devices: Vec<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Avatar {
    /// The photo's id.
    pub id: String,
    /// image
    #[serde(rename = "type")]
    pub kind: String,
    /// A download URL, when WhatsApp gives one.
    pub url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AvatarSet {
    /// The new photo's id.
    pub picture_id: String,
}

/// Who may see or do what: all, contacts, contact_blacklist, match_last_seen, known
/// or none.
#[derive(Serialize, ToSchema)]
pub struct Privacy {
    pub group_add: String,
    pub last_seen: String,
    pub status: String,
    pub profile: String,
    pub read_receipts: String,
    pub online: String,
    pub call_add: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserCheck {
    pub phone_number: String,
    pub is_on_whatsapp: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyStatus {
    /// Whether a challenge is waiting for an answer.
    pub available: bool,
    /// The pending challenge, when there is one.
    #[schema(value_type = Option<Object>)]
    pub challenge: Option<serde_json::Value>,
    /// The session's state.
    pub state: String,
    pub message: String,
}
