//! The sandbox: a simulated WhatsApp network inside the product (docs/ARCHITECTURE.md, "The two
//! drivers"). Customers reach it with `ak_test_` keys the way Stripe users use test mode.
//!
//! It behaves as live WhatsApp does: QR codes rotate (60 s, then 20 s, six codes, then the
//! login times out) and pair codes look like the real ones; the login completes when "the
//! phone" scans (`POST /api/v1/sandbox/scan`); message ids have WhatsApp's format; a sent
//! message is acknowledged by the server, then delivered and read by the contact after a
//! short delay (or when driven by `/sandbox/receipt`); contacts send messages through
//! `/sandbox/inbound`; a dropped connection reconnects by itself; a logout from the phone
//! ends the session. Numbers ending in `0000` are not on WhatsApp. Sandbox sessions of
//! different customers share one network: a message to another sandbox session's number is
//! delivered to it.

use crate::{
    driver::EventSink,
    driver::{
        Action, Credentials, Driver, DriverError, Event, Incoming, Kind, Outgoing, QrCode, Receipt,
        Sent,
    },
    jid::Jid,
};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chrono::Utc;
use rand::{Rng, RngCore};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};
use tokio::task::JoinHandle;

/// Timings of the simulated network.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Lifetime of the first QR code of a login (WhatsApp: 60 s).
    pub qr_first_ttl: Duration,
    /// Lifetime of each following code (WhatsApp: 20 s).
    pub qr_next_ttl: Duration,
    /// Codes shown before the login times out (WhatsApp: 6).
    pub qr_codes: u32,
    /// How long a pair code stays valid.
    pub pair_ttl: Duration,
    /// Delay before a contact's phone reports "delivered"; "read" follows after as long
    /// again. `None` disables automatic receipts (drive them with `/sandbox/receipt`).
    pub receipt_delay: Option<Duration>,
    /// Delay before a dropped connection comes back by itself.
    pub reconnect_delay: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            qr_first_ttl: Duration::from_secs(60),
            qr_next_ttl: Duration::from_secs(20),
            qr_codes: 6,
            pair_ttl: Duration::from_secs(180),
            receipt_delay: Some(Duration::from_millis(1500)),
            reconnect_delay: Duration::from_secs(2),
        }
    }
}

/// The simulated network: who is online on it.
pub struct SandboxNetwork {
    pub config: SandboxConfig,
    online: RwLock<HashMap<String, EventSink>>,
    /// Which customer's account each number is: one number is one WhatsApp account, so
    /// another customer cannot link a device to it (and read its messages).
    owners: RwLock<HashMap<String, uuid::Uuid>>,
    /// The phone number of every LID handed out on this network (LIDs derive from numbers
    /// one way, as WhatsApp's do).
    lids: RwLock<HashMap<String, String>>,
}

impl SandboxNetwork {
    pub fn new(config: SandboxConfig) -> Arc<SandboxNetwork> {
        Arc::new(SandboxNetwork {
            config,
            online: RwLock::new(HashMap::new()),
            owners: RwLock::new(HashMap::new()),
            lids: RwLock::new(HashMap::new()),
        })
    }

    /// The LID of a number on this network, as a JID.
    pub fn lid(&self, phone: &str) -> Jid {
        let user = lid_for(phone);
        self.lids
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(user.clone())
            .or_insert_with(|| phone.to_owned());
        Jid {
            user,
            server: crate::jid::LID_SERVER.to_owned(),
        }
    }

    /// The number a LID of this network belongs to.
    pub fn phone_of_lid(&self, lid: &str) -> Option<String> {
        self.lids
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(lid)
            .cloned()
    }

    /// Whether `owner` may link a device to `phone` (it is free, or its own).
    fn may_claim(&self, phone: &str, owner: uuid::Uuid) -> bool {
        self.owners
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(phone)
            .is_none_or(|o| *o == owner)
    }

    /// Records `owner` as the account holder of `phone`; false when it is another
    /// customer's number.
    fn claim_number(&self, phone: &str, owner: uuid::Uuid) -> bool {
        let mut owners = self.owners.write().unwrap_or_else(|e| e.into_inner());
        *owners.entry(phone.to_owned()).or_insert(owner) == owner
    }

    /// Whether a number has WhatsApp on the sandbox network: all do except those whose
    /// last four digits are `0000`.
    pub fn is_registered(phone: &str) -> bool {
        crate::jid::on_sandbox_whatsapp(phone)
    }

    fn go_online(&self, phone: &str, sink: EventSink) {
        self.online
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(phone.to_owned(), sink);
    }

    fn go_offline(&self, phone: &str, sink: &EventSink) {
        let mut online = self.online.write().unwrap_or_else(|e| e.into_inner());
        if online.get(phone).is_some_and(|s| s.same_as(sink)) {
            online.remove(phone);
        }
    }

    /// Delivers `event` to the session online with number `phone`, if any (what WhatsApp
    /// pushes to that account's devices). Answers whether one was online.
    pub fn notify(&self, phone: &str, event: Event) -> bool {
        match self.sink_of(phone) {
            Some(sink) => {
                sink.emit(event);
                true
            }
            None => false,
        }
    }

    fn sink_of(&self, phone: &str) -> Option<EventSink> {
        self.online
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(phone)
            .cloned()
    }
}

/// A WhatsApp message id as WhatsApp Web makes them (`3EB0` + 18 hex digits).
pub fn web_message_id() -> String {
    let mut bytes = [0u8; 9];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("3EB0{}", hex::encode_upper(bytes))
}

/// A message id as a phone makes them (`3A` + 18 hex digits).
pub fn phone_message_id() -> String {
    let mut bytes = [0u8; 9];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("3A{}", hex::encode_upper(bytes))
}

/// A newsletter (channel) id as WhatsApp makes them (`120363` and 12 digits).
pub fn newsletter_jid() -> Jid {
    Jid {
        user: format!(
            "120363{:012}",
            rand::thread_rng().gen_range(0..1_000_000_000_000u64)
        ),
        server: crate::jid::NEWSLETTER_SERVER.to_owned(),
    }
}

/// A call id as WhatsApp makes them (32 upper-case hex digits).
pub fn call_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode_upper(bytes)
}

/// A QR payload in WhatsApp's format: `ref,noise key,identity key,adv secret`.
fn qr_payload() -> String {
    let mut rng = rand::thread_rng();
    let mut part = |n: usize| {
        let mut b = vec![0u8; n];
        rng.fill_bytes(&mut b);
        B64.encode(b)
    };
    format!("2@{},{},{},{}", part(18), part(32), part(32), part(32))
}

/// A pair code as WhatsApp shows them: 8 characters of its alphabet, `ABCD-EFGH`.
fn pair_code() -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let chars: String = (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// A phone number for a QR login completed without one: +1 555 01xx xxxx (fictional).
fn sandbox_phone() -> String {
    format!("155501{:05}", rand::thread_rng().gen_range(0..100_000))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Offline,
    Qr,
    Pair { phone: String },
    Online,
}

struct Inner {
    phase: Phase,
    /// Phone and push name once logged in.
    account: Option<(String, String)>,
    /// The QR rotation, pair-code expiry or reconnect timer running now.
    timer: Option<JoinHandle<()>>,
}

/// One customer's sandbox session.
pub struct SandboxSession {
    network: Arc<SandboxNetwork>,
    /// The customer whose session this is.
    owner: uuid::Uuid,
    events: EventSink,
    inner: Arc<Mutex<Inner>>,
}

impl SandboxSession {
    pub fn new(
        network: Arc<SandboxNetwork>,
        owner: uuid::Uuid,
        events: EventSink,
    ) -> SandboxSession {
        SandboxSession {
            network,
            owner,
            events,
            inner: Arc::new(Mutex::new(Inner {
                phase: Phase::Offline,
                account: None,
                timer: None,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn replace_timer(inner: &mut Inner, timer: Option<JoinHandle<()>>) {
        if let Some(old) = std::mem::replace(&mut inner.timer, timer) {
            old.abort();
        }
    }

    fn connect(&self, inner: &mut Inner, phone: String, push_name: String) {
        inner.phase = Phase::Online;
        inner.account = Some((phone.clone(), push_name.clone()));
        self.network.go_online(&phone, self.events.clone());
        self.events.emit(Event::Connected {
            jid: Jid::user(&phone),
            lid: Some(self.network.lid(&phone)),
            push_name: Some(push_name),
            phone,
        });
    }

    /// Plays the phone: completes the QR or pair-code login waiting now. For a QR login
    /// `phone` picks the number that scans (a fictional one when absent); for a pair code it
    /// must be the number the code was issued for.
    pub fn scan(&self, phone: Option<&str>) -> Result<String, DriverError> {
        let mut inner = self.lock();
        let phone = match (&inner.phase, phone) {
            (Phase::Qr, Some(p)) => p.to_owned(),
            (Phase::Qr, None) => {
                // A fictional number of this customer's own, on WhatsApp.
                let mut phone = sandbox_phone();
                for _ in 0..64 {
                    if SandboxNetwork::is_registered(&phone)
                        && self.network.may_claim(&phone, self.owner)
                    {
                        break;
                    }
                    phone = sandbox_phone();
                }
                phone
            }
            (Phase::Pair { phone: expected }, given) => {
                if given.is_some_and(|g| g != expected) {
                    return Err(DriverError::Invalid(format!(
                        "the pair code was issued for +{expected}, not +{}",
                        given.unwrap_or_default()
                    )));
                }
                expected.clone()
            }
            _ => return Err(DriverError::NoPendingLogin),
        };
        if !SandboxNetwork::is_registered(&phone) {
            return Err(DriverError::NotOnWhatsApp(format!("+{phone}")));
        }
        if !self.network.claim_number(&phone, self.owner) {
            return Err(DriverError::Invalid(format!(
                "+{phone} is another sandbox account's number; scan with a number of your own, or with none"
            )));
        }
        Self::replace_timer(&mut inner, None);
        let push_name = format!("Sandbox {}", &phone[phone.len() - 4..]);
        self.connect(&mut inner, phone.clone(), push_name);
        Ok(phone)
    }

    /// A contact sends a message to this session.
    pub fn inbound(
        &self,
        from: &str,
        push_name: Option<String>,
        kind: Kind,
        body: Option<String>,
        content: serde_json::Value,
        reply_to: Option<String>,
    ) -> Result<Incoming, DriverError> {
        let inner = self.lock();
        if inner.phase != Phase::Online {
            return Err(DriverError::NotConnected);
        }
        // Addressed as WhatsApp addresses a contact migrated to LIDs: from its LID, with its
        // number beside it (the instance files it under the number, lids::normalise).
        let lid = self.network.lid(from);
        let message = Incoming {
            id: phone_message_id(),
            chat: lid.clone(),
            sender: lid,
            sender_alt: Some(Jid::user(from)),
            chat_alt: None,
            push_name,
            from_me: false,
            kind,
            body,
            content,
            reply_to,
            timestamp: Utc::now(),
        };
        self.events.emit(Event::Message(message.clone()));
        Ok(message)
    }

    /// A contact reacts to a message of the chat.
    pub fn react(&self, from: &str, message_id: &str, emoji: &str) -> Result<(), DriverError> {
        let sender = self.network.lid(from);
        self.from_network(Event::Reaction {
            chat: sender.clone(),
            sender,
            message_id: message_id.to_owned(),
            emoji: emoji.to_owned(),
        })
    }

    /// Something the network pushes to this session (a contact edits or deletes a message,
    /// types, calls): it reaches the session only while it is online, as on WhatsApp.
    pub fn from_network(&self, event: Event) -> Result<(), DriverError> {
        if self.lock().phase != Phase::Online {
            return Err(DriverError::NotConnected);
        }
        self.events.emit(event);
        Ok(())
    }

    /// This session's own number, once logged in.
    pub fn own_phone(&self) -> Option<String> {
        self.lock().account.as_ref().map(|(phone, _)| phone.clone())
    }

    pub fn network(&self) -> &Arc<SandboxNetwork> {
        &self.network
    }

    /// The contact's phone reports a receipt for one of our messages.
    pub fn receipt(&self, message_id: &str, chat: Jid, status: Receipt) {
        self.events.emit(Event::Receipt {
            message_id: message_id.to_owned(),
            participant: None,
            chat,
            status,
            at: Utc::now(),
        });
    }

    /// The connection drops (it comes back by itself after a moment), or with `logout` the
    /// user removes this device on the phone.
    pub fn disconnect(&self, logout: bool) -> Result<(), DriverError> {
        let mut inner = self.lock();
        let Some((phone, push_name)) = inner.account.clone() else {
            return Err(DriverError::NotLoggedIn);
        };
        self.network.go_offline(&phone, &self.events);
        if logout {
            inner.phase = Phase::Offline;
            inner.account = None;
            Self::replace_timer(&mut inner, None);
            self.events.emit(Event::LoggedOut {
                reason: "logged_out_from_phone".into(),
            });
            return Ok(());
        }
        inner.phase = Phase::Offline;
        self.events.emit(Event::Disconnected {
            reason: "connection_lost".into(),
        });
        let delay = self.network.config.reconnect_delay;
        let me = self.handle();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut inner = me.lock();
            if inner.phase == Phase::Offline && inner.account.is_some() {
                me.connect(&mut inner, phone, push_name);
            }
        });
        Self::replace_timer(&mut inner, Some(timer));
        Ok(())
    }

    /// A second handle on the same session, for timers.
    fn handle(&self) -> SandboxSession {
        SandboxSession {
            network: self.network.clone(),
            owner: self.owner,
            events: self.events.clone(),
            inner: self.inner.clone(),
        }
    }

    fn rotate_qr(&self) -> JoinHandle<()> {
        let me = self.handle();
        let config = self.network.config.clone();
        tokio::spawn(async move {
            let mut ttl = config.qr_first_ttl;
            for _ in 1..config.qr_codes {
                tokio::time::sleep(ttl).await;
                ttl = config.qr_next_ttl;
                if me.lock().phase != Phase::Qr {
                    return;
                }
                me.events.emit(Event::Qr {
                    code: qr_payload(),
                    ttl,
                });
            }
            tokio::time::sleep(ttl).await;
            let mut inner = me.lock();
            if inner.phase == Phase::Qr {
                inner.phase = Phase::Offline;
                inner.timer = None;
                me.events.emit(Event::Disconnected {
                    reason: "login_timeout".into(),
                });
            }
        })
    }
}

/// A stable simulated LID for a phone number.
/// The chat an action of `me` is in and the event it makes on the other side of that chat;
/// `None` for actions the other side does not see.
fn seen_by_peer<'a>(action: &'a Action, me: &Jid) -> Option<(&'a Jid, Event)> {
    let now = Utc::now();
    Some(match action {
        Action::Revoke { chat, id } => (
            chat,
            Event::Revoked {
                chat: me.clone(),
                sender: me.clone(),
                message_id: id.clone(),
                from_me: false,
                at: now,
            },
        ),
        Action::Edit { chat, id, text } => (
            chat,
            Event::Edited {
                chat: me.clone(),
                sender: me.clone(),
                message_id: id.clone(),
                from_me: false,
                text: Some(text.clone()),
                at: now,
            },
        ),
        Action::React {
            chat, id, emoji, ..
        } => (
            chat,
            Event::Reaction {
                chat: me.clone(),
                sender: me.clone(),
                message_id: id.clone(),
                emoji: emoji.clone(),
            },
        ),
        Action::ChatPresence { chat, composing } => (
            chat,
            Event::ChatPresence {
                chat: me.clone(),
                sender: me.clone(),
                state: if *composing {
                    crate::driver::PresenceState::Composing
                } else {
                    crate::driver::PresenceState::Paused
                },
            },
        ),
        _ => return None,
    })
}

fn lid_for(phone: &str) -> String {
    let digest = wasp_protocol::keys::keyed_digest(b"wasp-sandbox-lid", phone.as_bytes());
    let n = u64::from_str_radix(&digest[..12], 16).unwrap_or(0);
    format!("{}", 100_000_000_000_000 + n % 900_000_000_000_000)
}

#[async_trait::async_trait]
impl Driver for SandboxSession {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn phone_of(&self, lid: &Jid) -> Option<Jid> {
        self.network.phone_of_lid(&lid.user).map(|p| Jid::user(&p))
    }

    async fn lid_of(&self, phone: &Jid) -> Option<Jid> {
        SandboxNetwork::is_registered(&phone.user).then(|| self.network.lid(&phone.user))
    }

    async fn restore(&self, credentials: &Credentials) -> Result<(), DriverError> {
        let Some(phone) = credentials.phone.clone() else {
            return Err(DriverError::NotLoggedIn);
        };
        let push_name = credentials
            .push_name
            .clone()
            .unwrap_or_else(|| format!("Sandbox {}", &phone[phone.len().saturating_sub(4)..]));
        if !self.network.claim_number(&phone, self.owner) {
            return Err(DriverError::Invalid(format!(
                "+{phone} is another sandbox account's number"
            )));
        }
        let mut inner = self.lock();
        self.connect(&mut inner, phone, push_name);
        Ok(())
    }

    async fn login_qr(&self) -> Result<QrCode, DriverError> {
        let mut inner = self.lock();
        if inner.account.is_some() {
            return Err(DriverError::AlreadyLoggedIn);
        }
        inner.phase = Phase::Qr;
        let code = qr_payload();
        let ttl = self.network.config.qr_first_ttl;
        self.events.emit(Event::Qr {
            code: code.clone(),
            ttl,
        });
        let timer = self.rotate_qr();
        Self::replace_timer(&mut inner, Some(timer));
        Ok(QrCode { code, ttl })
    }

    async fn login_code(&self, phone: &str) -> Result<String, DriverError> {
        let mut inner = self.lock();
        if inner.account.is_some() {
            return Err(DriverError::AlreadyLoggedIn);
        }
        if !SandboxNetwork::is_registered(phone) {
            return Err(DriverError::NotOnWhatsApp(format!("+{phone}")));
        }
        inner.phase = Phase::Pair {
            phone: phone.to_owned(),
        };
        let code = pair_code();
        self.events.emit(Event::PairCode { code: code.clone() });
        let me = self.handle();
        let ttl = self.network.config.pair_ttl;
        let timer = tokio::spawn(async move {
            tokio::time::sleep(ttl).await;
            let mut inner = me.lock();
            if matches!(inner.phase, Phase::Pair { .. }) {
                inner.phase = Phase::Offline;
                inner.timer = None;
                me.events.emit(Event::Disconnected {
                    reason: "login_timeout".into(),
                });
            }
        });
        Self::replace_timer(&mut inner, Some(timer));
        Ok(code)
    }

    async fn reconnect(&self) -> Result<(), DriverError> {
        let mut inner = self.lock();
        let Some((phone, push_name)) = inner.account.clone() else {
            return Err(DriverError::NotLoggedIn);
        };
        Self::replace_timer(&mut inner, None);
        self.connect(&mut inner, phone, push_name);
        Ok(())
    }

    async fn logout(&self) -> Result<(), DriverError> {
        let mut inner = self.lock();
        let Some((phone, _)) = inner.account.take() else {
            return Err(DriverError::NotLoggedIn);
        };
        self.network.go_offline(&phone, &self.events);
        inner.phase = Phase::Offline;
        Self::replace_timer(&mut inner, None);
        self.events.emit(Event::LoggedOut {
            reason: "logged_out".into(),
        });
        Ok(())
    }

    async fn close(&self) {
        let mut inner = self.lock();
        Self::replace_timer(&mut inner, None);
        if let Some((phone, _)) = &inner.account {
            self.network.go_offline(phone, &self.events);
        }
        inner.phase = Phase::Offline;
    }

    async fn on_whatsapp(&self, phones: &[String]) -> Result<Vec<bool>, DriverError> {
        if self.lock().phase != Phase::Online {
            return Err(DriverError::NotConnected);
        }
        Ok(phones
            .iter()
            .map(|p| SandboxNetwork::is_registered(p))
            .collect())
    }

    async fn send(&self, message: &Outgoing) -> Result<Sent, DriverError> {
        let own_phone = {
            let inner = self.lock();
            match (&inner.phase, &inner.account) {
                (Phase::Online, Some((phone, _))) => phone.clone(),
                _ => return Err(DriverError::NotConnected),
            }
        };
        if !message.to.is_user() && !message.to.is_group() {
            return Err(DriverError::NotOnWhatsApp(message.to.to_string()));
        }
        // The account a LID belongs to: a LID no account on this network has is nobody.
        let to_phone = if message.to.is_lid() {
            self.network
                .phone_of_lid(&message.to.user)
                .ok_or_else(|| DriverError::NotOnWhatsApp(message.to.to_string()))?
        } else {
            message.to.user.clone()
        };
        if message.to.is_user() && !SandboxNetwork::is_registered(&to_phone) {
            return Err(DriverError::NotOnWhatsApp(format!("+{to_phone}")));
        }
        let sent = Sent {
            id: web_message_id(),
            timestamp: Utc::now(),
        };
        // Another sandbox session with that number receives it.
        if let Some(peer) = self.network.sink_of(&to_phone) {
            let own = self.network.lid(&own_phone);
            peer.emit(Event::Message(Incoming {
                id: sent.id.clone(),
                chat: own.clone(),
                sender: own,
                sender_alt: Some(Jid::user(&own_phone)),
                chat_alt: None,
                push_name: self.lock().account.as_ref().map(|(_, n)| n.clone()),
                from_me: false,
                kind: message.kind,
                body: message.body.clone(),
                content: message.content.clone(),
                reply_to: message.reply_to.clone(),
                timestamp: sent.timestamp,
            }));
        }
        if let Some(delay) = self.network.config.receipt_delay {
            let events = self.events.clone();
            let (id, chat) = (sent.id.clone(), message.to.clone());
            tokio::spawn(async move {
                for status in [Receipt::Delivered, Receipt::Read] {
                    tokio::time::sleep(delay).await;
                    events.emit(Event::Receipt {
                        message_id: id.clone(),
                        chat: chat.clone(),
                        status,
                        participant: None,
                        at: Utc::now(),
                    });
                }
            });
        }
        Ok(sent)
    }

    async fn act(&self, action: &Action) -> Result<Option<Sent>, DriverError> {
        if self.lock().phase != Phase::Online {
            return Err(DriverError::NotConnected);
        }
        // What the other side of a one-to-one chat sees, when it is a sandbox session
        // online on this network.
        let own = self.own_phone().map(|phone| Jid::user(&phone));
        if let Some((to, event)) = own.as_ref().and_then(|me| seen_by_peer(action, me)) {
            if to.server == crate::jid::USER_SERVER {
                self.network.notify(&to.user, event);
            }
        }
        match action {
            Action::React { .. } => Ok(Some(Sent {
                id: web_message_id(),
                timestamp: Utc::now(),
            })),
            Action::RejectCall { call_id, .. } if call_id.is_empty() => {
                Err(DriverError::Invalid("call_id: is required".into()))
            }
            _ => Ok(None),
        }
    }

    fn sandbox(&self) -> Option<&SandboxSession> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_codes_have_whatsapps_formats() {
        let id = web_message_id();
        assert!(id.starts_with("3EB0") && id.len() == 22, "{id}");
        assert!(id[4..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        let code = pair_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        let qr = qr_payload();
        assert!(qr.starts_with("2@") && qr.split(',').count() == 4, "{qr}");
        assert_ne!(qr, qr_payload(), "every code is new");
    }

    #[test]
    fn numbers_ending_in_0000_are_not_on_whatsapp() {
        assert!(SandboxNetwork::is_registered("6281234567890"));
        assert!(!SandboxNetwork::is_registered("6281234560000"));
    }

    #[test]
    fn a_phone_keeps_one_lid() {
        assert_eq!(lid_for("6281234567890"), lid_for("6281234567890"));
        assert_ne!(lid_for("6281234567890"), lid_for("6281234567891"));
        assert_eq!(lid_for("6281234567890").len(), 15);
    }
}
