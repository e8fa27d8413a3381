//! The one interface both WhatsApp drivers implement (live: whatsapp-rust; sandbox: the
//! simulated network), and the events they report to their instance.

use crate::jid::Jid;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A session's life-cycle state (`disconnected → scanning | pairing → connected →
/// logged_out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Disconnected,
    /// Showing QR codes, waiting for the phone to scan one.
    Scanning,
    /// A pair code was issued, waiting for it to be entered on the phone.
    Pairing,
    Connected,
    /// The phone removed this device; a new login is needed.
    LoggedOut,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Disconnected => "disconnected",
            State::Scanning => "scanning",
            State::Pairing => "pairing",
            State::Connected => "connected",
            State::LoggedOut => "logged_out",
        }
    }

    pub fn parse(s: &str) -> State {
        match s {
            "scanning" => State::Scanning,
            "pairing" => State::Pairing,
            "connected" => State::Connected,
            "logged_out" => State::LoggedOut,
            _ => State::Disconnected,
        }
    }

    /// Whether the machine may move from `self` to `to`. Everything may fall back to
    /// `disconnected` (a lost connection, a timed-out login); only a login in progress can
    /// become `connected` from scratch, and a session with credentials can reconnect.
    pub fn may_become(self, to: State, logged_in: bool) -> bool {
        use State::*;
        match (self, to) {
            (a, b) if a == b => matches!(a, Scanning | Pairing), // a new code
            (_, Disconnected) => true,
            (Disconnected | LoggedOut, Scanning | Pairing) => !logged_in,
            (Scanning | Pairing, Scanning | Pairing) => true,
            (Scanning | Pairing, Connected) => true,
            (Disconnected, Connected) => logged_in,
            (Connected | Disconnected | Scanning | Pairing, LoggedOut) => logged_in,
            _ => false,
        }
    }
}

/// The kinds of message the chat store and the API know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Image,
    Video,
    Audio,
    Document,
    Sticker,
    Contact,
    Location,
    Poll,
    Link,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Document => "document",
            Kind::Sticker => "sticker",
            Kind::Contact => "contact",
            Kind::Location => "location",
            Kind::Poll => "poll",
            Kind::Link => "link",
        }
    }
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: Jid,
    pub kind: Kind,
    /// Text, or the caption of media.
    pub body: Option<String>,
    /// Kind-specific fields, stored with the message.
    pub content: serde_json::Value,
    pub reply_to: Option<String>,
    pub forwarded: bool,
    /// Disappearing-message timer in seconds (0: none).
    pub expiration_secs: u32,
    /// The media file to upload, for media kinds.
    pub media: Option<std::path::PathBuf>,
}

/// What the network answered when a message left.
#[derive(Debug, Clone)]
pub struct Sent {
    pub id: String,
    pub timestamp: DateTime<Utc>,
}

/// A message that arrived (or one of ours echoed from another device).
#[derive(Debug, Clone)]
pub struct Incoming {
    pub id: String,
    pub chat: Jid,
    pub sender: Jid,
    /// The sender's other address where WhatsApp gives it: its LID when `sender` is a
    /// phone-number JID, or the reverse. Once the instance normalised the message
    /// ([`crate::lids::normalise`]), `sender` is the phone-number JID when known and this
    /// its LID.
    pub sender_alt: Option<Jid>,
    /// The chat's other address where WhatsApp gives it (a one-to-one chat addressed by LID
    /// has its phone number here, or the reverse); after normalising, the chat's LID.
    pub chat_alt: Option<Jid>,
    pub push_name: Option<String>,
    pub from_me: bool,
    pub kind: Kind,
    pub body: Option<String>,
    pub content: serde_json::Value,
    pub reply_to: Option<String>,
    pub timestamp: DateTime<Utc>,
}

/// Delivery progress of one of our messages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Receipt {
    /// The server accepted it.
    Sent,
    Delivered,
    Read,
    /// A voice note or video was played.
    Played,
}

impl Receipt {
    pub fn as_str(self) -> &'static str {
        match self {
            Receipt::Sent => "sent",
            Receipt::Delivered => "delivered",
            Receipt::Read => "read",
            Receipt::Played => "played",
        }
    }

    pub fn parse(s: &str) -> Option<Receipt> {
        match s {
            "sent" => Some(Receipt::Sent),
            "delivered" => Some(Receipt::Delivered),
            "read" => Some(Receipt::Read),
            "played" => Some(Receipt::Played),
            _ => None,
        }
    }
}

/// What a driver reports to its instance, in order.
// Messages are most of the events and the largest; events travel to the instance boxed
// (`EventSink::emit`), so boxing the message inside as well would allocate twice.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Event {
    /// A QR code to show; the next one replaces it after `ttl`.
    Qr {
        code: String,
        ttl: Duration,
    },
    /// A pair code to type on the phone.
    PairCode {
        code: String,
    },
    /// The login was completed on the phone, or a restored session reconnected.
    Connected {
        phone: String,
        jid: Jid,
        lid: Option<Jid>,
        push_name: Option<String>,
    },
    /// The connection dropped or a login attempt ended; credentials (if any) are kept.
    Disconnected {
        reason: String,
    },
    /// The device was removed; credentials are gone.
    LoggedOut {
        reason: String,
    },
    Message(Incoming),
    /// Someone reacted to a message (an empty emoji removes the reaction).
    Reaction {
        chat: Jid,
        sender: Jid,
        message_id: String,
        emoji: String,
    },
    Receipt {
        message_id: String,
        chat: Jid,
        status: Receipt,
        participant: Option<Jid>,
        at: DateTime<Utc>,
    },
    /// WhatsApp's server refused one of our messages after it left (a nack): it will not
    /// be delivered.
    SendFailed {
        message_id: String,
        reason: String,
    },
    /// A message's text was changed by its sender (a contact, or we from another device).
    Edited {
        chat: Jid,
        sender: Jid,
        message_id: String,
        from_me: bool,
        text: Option<String>,
        at: DateTime<Utc>,
    },
    /// A message was deleted for everyone by its sender (or a group admin).
    Revoked {
        chat: Jid,
        sender: Jid,
        message_id: String,
        from_me: bool,
        at: DateTime<Utc>,
    },
    /// A message was deleted for this account only, on one of its other devices.
    Deleted {
        chat: Jid,
        message_id: String,
        at: DateTime<Utc>,
    },
    /// Someone is typing or recording in a chat, or stopped.
    ChatPresence {
        chat: Jid,
        sender: Jid,
        state: PresenceState,
    },
    /// Someone is calling.
    CallOffer {
        call_id: String,
        from: Jid,
        video: bool,
        group: Option<Jid>,
        at: DateTime<Utc>,
    },
    /// This account became a member of a group: added by someone, by creating it, or by
    /// joining with an invite link.
    GroupJoined {
        group: Jid,
        subject: Option<String>,
        by: Option<Jid>,
        at: DateTime<Utc>,
    },
    /// The members of a group this account is in changed.
    GroupParticipants {
        group: Jid,
        change: GroupChange,
        participants: Vec<Jid>,
        by: Option<Jid>,
        at: DateTime<Utc>,
    },
    /// This account followed a newsletter (channel).
    NewsletterJoined {
        newsletter: Jid,
        name: Option<String>,
    },
    /// This account stopped following a newsletter.
    NewsletterLeft {
        newsletter: Jid,
    },
}

/// A chat presence: what someone is doing in a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceState {
    /// Typing a text message.
    Composing,
    /// Recording a voice message.
    Recording,
    /// Stopped typing or recording.
    Paused,
}

impl PresenceState {
    pub fn parse(s: &str) -> Option<PresenceState> {
        match s {
            "composing" => Some(PresenceState::Composing),
            "recording" => Some(PresenceState::Recording),
            "paused" => Some(PresenceState::Paused),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PresenceState::Composing => "composing",
            PresenceState::Recording => "recording",
            PresenceState::Paused => "paused",
        }
    }
}

/// How the members of a group changed (the `type` of `group.participants`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupChange {
    /// Added, or joined by link or request.
    Join,
    /// Removed, or left.
    Leave,
    Promote,
    Demote,
}

impl GroupChange {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupChange::Join => "join",
            GroupChange::Leave => "leave",
            GroupChange::Promote => "promote",
            GroupChange::Demote => "demote",
        }
    }
}

/// Something done on WhatsApp that is not a new chat message.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Delete one of our messages for everyone.
    Revoke { chat: Jid, id: String },
    /// Replace the text of one of our messages.
    Edit { chat: Jid, id: String, text: String },
    /// React to a message; an empty emoji removes the reaction.
    React {
        chat: Jid,
        id: String,
        sender: Jid,
        emoji: String,
    },
    /// Send read receipts for messages of a chat.
    Read {
        chat: Jid,
        ids: Vec<String>,
        sender: Jid,
    },
    /// Our global presence.
    Presence { available: bool },
    /// Typing indicator in a chat.
    ChatPresence { chat: Jid, composing: bool },
    /// The disappearing-messages timer of a chat.
    Disappearing { chat: Jid, seconds: u32 },
    /// Decline an incoming call.
    RejectCall { caller: Jid, call_id: String },
}

/// How a driver call failed, mapped to an API error by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error("the session is not connected to WhatsApp")]
    NotConnected,
    #[error("the session is not logged in; log in first")]
    NotLoggedIn,
    #[error("the session is already logged in")]
    AlreadyLoggedIn,
    #[error("{0} is not on WhatsApp")]
    NotOnWhatsApp(String),
    #[error("no login is waiting to be completed")]
    NoPendingLogin,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unavailable(String),
}

/// What the instance remembers of a session between runs, handed to a driver on restore.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub phone: Option<String>,
    pub jid: Option<String>,
    pub lid: Option<String>,
    pub push_name: Option<String>,
}

/// The first QR code of a login.
#[derive(Debug, Clone)]
pub struct QrCode {
    pub code: String,
    pub ttl: Duration,
}

/// What an instance's event loop receives (`session/instance.rs`).
pub(crate) enum Envelope {
    Event(Box<Event>),
    Flush(oneshot::Sender<()>),
    /// Events that must be stored before something else happens (inbound messages before
    /// WhatsApp is acknowledged): answered with the first failure, if any.
    Commit(Vec<Event>, oneshot::Sender<Result<(), String>>),
}

/// Where a driver reports its events; cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<Envelope>,
}

impl EventSink {
    /// Queues an event for the instance's loop (in order). Events for an instance that is
    /// gone are dropped.
    pub fn emit(&self, event: Event) {
        let _ = self.tx.send(Envelope::Event(Box::new(event)));
    }

    /// Waits until every event emitted before this call has been applied and stored;
    /// false when the instance's loop is gone (or did not answer within 10 s).
    pub async fn flush(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Envelope::Flush(tx)).is_err() {
            return false;
        }
        matches!(
            tokio::time::timeout(Duration::from_secs(10), rx).await,
            Ok(Ok(()))
        )
    }

    /// Applies `events` in order after every event emitted before them, and answers only once
    /// all of them are stored: `Err` when one could not be (a database failure), or when the
    /// instance's loop is gone or did not answer within 10 s. The events are then to be
    /// delivered again (storing a message twice is harmless: its id is its key).
    pub async fn commit(&self, events: Vec<Event>) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Envelope::Commit(events, tx)).is_err() {
            return Err("the session's event loop is gone".into());
        }
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the session's event loop is gone".into()),
            Err(_) => Err("the session's event loop did not answer within 10 s".into()),
        }
    }

    /// A sink whose events are handed to the returned receiver as they come (commits and
    /// flushes answered at once), for tests of a driver alone.
    #[cfg(test)]
    pub(crate) fn for_test() -> (EventSink, mpsc::UnboundedReceiver<Event>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (out, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(envelope) = rx.recv().await {
                match envelope {
                    Envelope::Event(event) => drop(out.send(*event)),
                    Envelope::Flush(done) => drop(done.send(())),
                    Envelope::Commit(batch, done) => {
                        batch.into_iter().for_each(|e| drop(out.send(e)));
                        drop(done.send(Ok(())));
                    }
                }
            }
        });
        (EventSink { tx }, events)
    }

    /// A sink and the receiver its instance's event loop reads.
    pub(crate) fn channel() -> (EventSink, mpsc::UnboundedReceiver<Envelope>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (EventSink { tx }, rx)
    }

    /// Hands an envelope to the loop; false when the loop is gone.
    pub(crate) fn send(&self, envelope: Envelope) -> bool {
        self.tx.send(envelope).is_ok()
    }

    pub fn same_as(&self, other: &EventSink) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

/// One WhatsApp connection. Calls return once the network answered; everything that
/// happens later arrives as [`Event`]s on the channel the driver was built with.
#[async_trait::async_trait]
pub trait Driver: Send + Sync + 'static {
    /// `live` or `sandbox`.
    fn name(&self) -> &'static str;
    /// Reconnects a session that has credentials (after a restart or a move).
    async fn restore(&self, credentials: &Credentials) -> Result<(), DriverError>;
    /// Starts a QR login; codes rotate through [`Event::Qr`].
    async fn login_qr(&self) -> Result<QrCode, DriverError>;
    /// Starts a pair-code login for `phone` (E.164 digits).
    async fn login_code(&self, phone: &str) -> Result<String, DriverError>;
    /// Reconnects now, with the credentials the session holds.
    async fn reconnect(&self) -> Result<(), DriverError>;
    /// Logs this device out (the phone forgets it).
    async fn logout(&self) -> Result<(), DriverError>;
    /// Closes the connection, keeping credentials (graceful shutdown, a move).
    async fn close(&self);
    /// Which of `phones` (E.164 digits) are on WhatsApp.
    async fn on_whatsapp(&self, phones: &[String]) -> Result<Vec<bool>, DriverError>;
    async fn send(&self, message: &Outgoing) -> Result<Sent, DriverError>;
    /// Performs an [`Action`]; reactions answer with the id of the reaction message.
    async fn act(&self, action: &Action) -> Result<Option<Sent>, DriverError>;
    /// Fetches the attachment of a received message (from the `content` stored with it)
    /// when it is not in the media store yet.
    async fn download(&self, _content: &serde_json::Value) -> Result<Vec<u8>, DriverError> {
        Err(DriverError::Invalid(
            "this message's media is not available from WhatsApp".into(),
        ))
    }
    /// The phone-number JID this session knows for a LID (`…@lid`).
    async fn phone_of(&self, _lid: &Jid) -> Option<Jid> {
        None
    }
    /// The LID this session knows for a phone-number JID.
    async fn lid_of(&self, _phone: &Jid) -> Option<Jid> {
        None
    }
    /// The sandbox controls, when this is a sandbox session.
    fn sandbox(&self) -> Option<&crate::drivers::sandbox::SandboxSession> {
        None
    }
    /// The live session, when this is one (groups and profile operations go through it).
    fn live(&self) -> Option<&crate::drivers::live::session::LiveSession> {
        None
    }
}

/// A driver that cannot connect, for sessions whose driver is not available in this build
/// or on this machine; every call explains why.
pub struct Unavailable {
    pub reason: String,
}

#[async_trait::async_trait]
impl Driver for Unavailable {
    fn name(&self) -> &'static str {
        "live"
    }
    async fn restore(&self, _: &Credentials) -> Result<(), DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
    async fn login_qr(&self) -> Result<QrCode, DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
    async fn login_code(&self, _: &str) -> Result<String, DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
    async fn reconnect(&self) -> Result<(), DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
    async fn logout(&self) -> Result<(), DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
    async fn close(&self) {}
    async fn on_whatsapp(&self, _: &[String]) -> Result<Vec<bool>, DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
    async fn send(&self, _: &Outgoing) -> Result<Sent, DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
    async fn act(&self, _: &Action) -> Result<Option<Sent>, DriverError> {
        Err(DriverError::Unavailable(self.reason.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::State::*;

    #[test]
    fn the_state_machine_allows_the_documented_paths_only() {
        // A fresh login by QR or by code.
        assert!(Disconnected.may_become(Scanning, false));
        assert!(Disconnected.may_become(Pairing, false));
        assert!(Scanning.may_become(Connected, false));
        assert!(Pairing.may_become(Connected, false));
        assert!(Scanning.may_become(Scanning, false), "QR rotation");
        // A connection that drops and comes back with its credentials.
        assert!(Connected.may_become(Disconnected, true));
        assert!(Disconnected.may_become(Connected, true));
        assert!(Connected.may_become(LoggedOut, true));
        // Refused: connecting without a login, logging in twice, logging out unknown.
        assert!(!Disconnected.may_become(Connected, false));
        assert!(!Connected.may_become(Scanning, true));
        assert!(!Disconnected.may_become(Scanning, true));
        assert!(!LoggedOut.may_become(Connected, false));
        assert!(!Disconnected.may_become(LoggedOut, false));
        // A login after logout starts again from scanning.
        assert!(LoggedOut.may_become(Scanning, false));
    }
}
