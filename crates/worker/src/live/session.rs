//! One customer's live WhatsApp connection: a whatsapp-rust `Bot` on our session store,
//! behind the same [`Driver`] trait as the sandbox.
//!
//! The library reports everything as events on its bus; [`Forwarder`] turns them into our
//! [`Event`]s, in order, on the instance's channel. Inbound messages go through the
//! library's durability hook, which returns only once the instance stored them, so a
//! message WhatsApp was told we have is in the chat store (a crash before that makes the
//! server deliver it again).

use super::{mapping, store::WaStore};
use crate::{
    driver::{Action, Credentials, Driver, DriverError, Event, Kind, Outgoing, QrCode, Sent},
    instances::EventSink,
};
use std::{
    sync::{Arc, Mutex, Weak},
    time::Duration,
};
use tokio::sync::broadcast;
use whatsapp_rust::{
    bot::{Bot, BotHandle},
    media::{self, AudioOptions, DocumentOptions, ImageOptions, VideoOptions},
    send::RevokeType,
    upload::UploadOptions,
    wacore::{
        download::{Downloadable, MediaType},
        pair_code::PairCodeOptions,
        store::traits::DeviceStore,
        types::events::{Event as WaEvent, EventHandler, InboundMessage},
    },
    waproto::whatsapp as wa,
    Client, InboundDurabilityHook,
};

/// What a login in progress is waiting for.
#[derive(Debug, Clone)]
enum Login {
    Qr(String, Duration),
    PairCode(String),
    Failed(String),
}

/// A live session.
pub struct LiveSession {
    store: Arc<WaStore>,
    sink: EventSink,
    running: tokio::sync::Mutex<Option<BotHandle>>,
    client: Mutex<Option<Arc<Client>>>,
    login: broadcast::Sender<Login>,
    config: super::LiveConfig,
}

impl LiveSession {
    pub fn new(store: WaStore, sink: EventSink, config: super::LiveConfig) -> LiveSession {
        LiveSession {
            config,
            store: Arc::new(store),
            sink,
            running: tokio::sync::Mutex::new(None),
            client: Mutex::new(None),
            login: broadcast::channel(16).0,
        }
    }

    fn client(&self) -> Result<Arc<Client>, DriverError> {
        let client = self
            .client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(DriverError::NotConnected)?;
        if !client.is_connected() {
            return Err(DriverError::NotConnected);
        }
        Ok(client)
    }

    /// The connected client, for the live group and profile operations
    /// (`DriverError::NotConnected` when the session is not connected).
    pub(crate) fn connected_client(&self) -> Result<Arc<Client>, DriverError> {
        self.client()
    }

    /// Whether the store holds a paired device.
    async fn paired(&self) -> bool {
        match self.store.load().await {
            Ok(Some(device)) => device.pn.is_some(),
            _ => false,
        }
    }

    /// Builds and starts the bot (stopping a previous one first).
    async fn start(&self, pair: Option<PairCodeOptions>) -> Result<(), DriverError> {
        let mut running = self.running.lock().await;
        if let Some(old) = running.take() {
            old.shutdown().await;
        }
        let client_slot = Arc::new(Mutex::new(Weak::new()));
        let forwarder = Forwarder {
            sink: self.sink.clone(),
            login: self.login.clone(),
            client: client_slot.clone(),
            store: self.store.clone(),
        };
        let mut builder = Bot::builder()
            .with_backend_arc(self.store.clone())
            .skip_history_sync()
            .with_event_handler(forwarder)
            .with_inbound_durability_hook(Durable {
                sink: self.sink.clone(),
            });
        if let Some(options) = pair {
            builder = builder.with_pair_code(options);
        }
        let bot = builder
            .build()
            .await
            .map_err(|e| DriverError::Unavailable(format!("whatsapp client: {e}")))?;
        let client = bot.client();
        *client_slot.lock().unwrap_or_else(|e| e.into_inner()) = Arc::downgrade(&client);
        *self.client.lock().unwrap_or_else(|e| e.into_inner()) = Some(client);
        *running = Some(bot.spawn());
        Ok(())
    }

    async fn stop(&self) {
        if let Some(handle) = self.running.lock().await.take() {
            handle.shutdown().await;
        }
        self.client.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Starts a login and waits for its first code.
    async fn begin_login(&self, pair: Option<PairCodeOptions>) -> Result<Login, DriverError> {
        if self.paired().await {
            return Err(DriverError::AlreadyLoggedIn);
        }
        let mut signals = self.login.subscribe();
        self.start(pair).await?;
        let first = tokio::time::timeout(self.config.login_timeout, async {
            loop {
                match signals.recv().await {
                    Ok(signal) => return Some(signal),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .await;
        match first {
            Ok(Some(Login::Failed(reason))) => {
                self.stop().await;
                Err(DriverError::Unavailable(format!(
                    "WhatsApp refused the login: {reason}"
                )))
            }
            Ok(Some(signal)) => Ok(signal),
            _ => {
                self.stop().await;
                Err(DriverError::Unavailable(
                    "could not reach WhatsApp from this server; try again later".into(),
                ))
            }
        }
    }
}

fn send_error(e: impl std::fmt::Display) -> DriverError {
    DriverError::Unavailable(format!("WhatsApp did not take the request: {e}"))
}

fn address(jid: &crate::jid::Jid) -> Result<whatsapp_rust::Jid, DriverError> {
    mapping::to_wa(jid).ok_or_else(|| DriverError::Invalid(format!("{jid} is not a valid address")))
}

#[async_trait::async_trait]
impl Driver for LiveSession {
    fn name(&self) -> &'static str {
        "live"
    }

    fn live(&self) -> Option<&LiveSession> {
        Some(self)
    }

    async fn restore(&self, _credentials: &Credentials) -> Result<(), DriverError> {
        if !self.paired().await {
            return Err(DriverError::NotLoggedIn);
        }
        self.start(None).await
    }

    async fn login_qr(&self) -> Result<QrCode, DriverError> {
        match self.begin_login(None).await? {
            Login::Qr(code, ttl) => Ok(QrCode { code, ttl }),
            other => Err(DriverError::Unavailable(format!(
                "unexpected login answer: {other:?}"
            ))),
        }
    }

    async fn login_code(&self, phone: &str) -> Result<String, DriverError> {
        let options = PairCodeOptions {
            phone_number: phone.to_owned(),
            ..Default::default()
        };
        match self.begin_login(Some(options)).await? {
            Login::PairCode(code) => Ok(code),
            // The QR flow starts alongside; the pair code follows it.
            Login::Qr(..) => {
                let mut signals = self.login.subscribe();
                match tokio::time::timeout(self.config.login_timeout, signals.recv()).await {
                    Ok(Ok(Login::PairCode(code))) => Ok(code),
                    _ => Err(DriverError::Unavailable(
                        "WhatsApp did not issue a pair code; try again".into(),
                    )),
                }
            }
            Login::Failed(reason) => Err(DriverError::Unavailable(reason)),
        }
    }

    async fn reconnect(&self) -> Result<(), DriverError> {
        if !self.paired().await {
            return Err(DriverError::NotLoggedIn);
        }
        let current = self
            .client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match current {
            Some(client) => {
                client.reconnect_immediately().await;
                Ok(())
            }
            None => self.start(None).await,
        }
    }

    async fn logout(&self) -> Result<(), DriverError> {
        if !self.paired().await {
            return Err(DriverError::NotLoggedIn);
        }
        let current = self
            .client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(client) = current {
            client.logout().await;
        }
        self.stop().await;
        // The library keeps keys after a logout; a logged-out device must not come back.
        self.store
            .wipe()
            .await
            .map_err(|e| DriverError::Unavailable(format!("session store: {e}")))?;
        self.sink.emit(Event::LoggedOut {
            reason: "logged_out".into(),
        });
        Ok(())
    }

    async fn close(&self) {
        self.stop().await;
    }

    async fn on_whatsapp(&self, phones: &[String]) -> Result<Vec<bool>, DriverError> {
        let client = self.client()?;
        let jids: Vec<whatsapp_rust::Jid> = phones
            .iter()
            .map(|p| whatsapp_rust::Jid::pn(p.as_str()))
            .collect();
        let results = client
            .contacts()
            .is_on_whatsapp(&jids)
            .await
            .map_err(send_error)?;
        Ok(phones
            .iter()
            .map(|p| {
                results
                    .iter()
                    .any(|r| r.is_registered && r.jid.user.as_str() == p)
            })
            .collect())
    }

    async fn send(&self, message: &Outgoing) -> Result<Sent, DriverError> {
        let client = self.client()?;
        let to = address(&message.to)?;
        if message.kind == Kind::Poll {
            let question = message.content["question"].as_str().unwrap_or_default();
            let options: Vec<String> = message.content["options"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let max = message.content["max_answer"].as_u64().unwrap_or(1) as u32;
            let (sent, _secret) = client
                .polls()
                .create(to, question, &options, max)
                .await
                .map_err(send_error)?;
            return Ok(Sent {
                id: sent.message_id,
                timestamp: mapping::now(),
            });
        }
        let proto = match mapping::outgoing(message) {
            Some(proto) => proto,
            None => self.media_message(&client, message).await?,
        };
        let sent = client.send_message(to, proto).await.map_err(send_error)?;
        Ok(Sent {
            id: sent.message_id,
            timestamp: mapping::now(),
        })
    }

    async fn act(&self, action: &Action) -> Result<Option<Sent>, DriverError> {
        let client = self.client()?;
        match action {
            Action::Revoke { chat, id } => {
                client
                    .revoke_message(address(chat)?, id.clone(), RevokeType::Sender)
                    .await
                    .map_err(send_error)?;
            }
            Action::Edit { chat, id, text } => {
                let new = wa::Message {
                    conversation: Some(text.clone()),
                    ..Default::default()
                };
                client
                    .edit_message(address(chat)?, id.clone(), new)
                    .await
                    .map_err(send_error)?;
            }
            Action::React {
                chat,
                id,
                sender,
                emoji,
            } => {
                let own = client.pn().map(|j| mapping::from_wa(&j));
                let key = wa::MessageKey {
                    remote_jid: Some(chat.to_string()),
                    from_me: Some(own.as_ref() == Some(sender)),
                    id: Some(id.clone()),
                    participant: chat.is_group().then(|| sender.to_string()),
                };
                let sent = client
                    .send_reaction(address(chat)?, key, emoji)
                    .await
                    .map_err(send_error)?;
                return Ok(Some(Sent {
                    id: sent.message_id,
                    timestamp: mapping::now(),
                }));
            }
            Action::Read { chat, ids, sender } => {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let sender = address(sender)?;
                let group = chat.is_group();
                client
                    .mark_as_read(&address(chat)?, group.then_some(&sender), &ids)
                    .await
                    .map_err(send_error)?;
            }
            Action::Presence { available } => {
                let presence = client.presence();
                let result = if *available {
                    presence.set_available().await
                } else {
                    presence.set_unavailable().await
                };
                result.map_err(send_error)?;
            }
            Action::ChatPresence { chat, composing } => {
                let chat = address(chat)?;
                let state = client.chatstate();
                let result = if *composing {
                    state.send_composing(&chat).await
                } else {
                    state.send_paused(&chat).await
                };
                result.map_err(send_error)?;
            }
            Action::Disappearing { chat, seconds } => {
                if chat.is_group() {
                    client
                        .groups()
                        .set_ephemeral(address(chat)?, *seconds)
                        .await
                        .map_err(send_error)?;
                } else {
                    client
                        .set_chat_disappearing_timer(address(chat)?, *seconds)
                        .await
                        .map_err(send_error)?;
                }
            }
            Action::RejectCall { caller, call_id } => {
                let peer = address(caller)?;
                client
                    .voip()
                    .reject_call(call_id, &peer, &peer)
                    .await
                    .map_err(send_error)?;
            }
        }
        Ok(None)
    }

    async fn download(&self, content: &serde_json::Value) -> Result<Vec<u8>, DriverError> {
        let reference = mapping::media_ref(content)
            .ok_or_else(|| DriverError::Invalid("this message has no media".into()))?;
        let client = self.client()?;
        client
            .download(&reference)
            .await
            .map_err(|e| DriverError::Unavailable(format!("media download failed: {e}")))
    }
}

impl LiveSession {
    /// Uploads the media of `message` and builds its protobuf.
    async fn media_message(
        &self,
        client: &Client,
        message: &Outgoing,
    ) -> Result<wa::Message, DriverError> {
        let path = message
            .media
            .as_ref()
            .ok_or_else(|| DriverError::Invalid("this message needs a media file".into()))?;
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| DriverError::Unavailable(format!("media file: {e}")))?;
        let kind = match message.kind {
            Kind::Image => MediaType::Image,
            Kind::Video => MediaType::Video,
            Kind::Audio => MediaType::Audio,
            Kind::Sticker => MediaType::Sticker,
            Kind::Document => MediaType::Document,
            other => {
                return Err(DriverError::Invalid(format!(
                    "{} messages carry no media",
                    other.as_str()
                )))
            }
        };
        let upload = client
            .upload(bytes, kind, UploadOptions::new())
            .await
            .map_err(send_error)?;
        let mime = message.content["mime_type"].as_str().map(str::to_owned);
        let caption = message.body.clone();
        let context_info = mapping::media_context(message);
        Ok(match message.kind {
            Kind::Image => media::image_message(
                upload,
                ImageOptions {
                    caption,
                    mimetype: mime,
                    context_info,
                    ..Default::default()
                },
            ),
            Kind::Video => media::video_message(
                upload,
                VideoOptions {
                    caption,
                    mimetype: mime,
                    gif_playback: message.content["gif_playback"].as_bool(),
                    context_info,
                    ..Default::default()
                },
            ),
            Kind::Audio => media::audio_message(
                upload,
                AudioOptions {
                    mimetype: mime,
                    ptt: message.content["ptt"].as_bool(),
                    context_info,
                    ..Default::default()
                },
            ),
            Kind::Sticker => wa::Message {
                sticker_message: whatsapp_rust::buffa::MessageField::some(
                    wa::message::StickerMessage {
                        url: Some(upload.url),
                        direct_path: Some(upload.direct_path),
                        media_key: Some(upload.media_key.to_vec()),
                        file_sha256: Some(upload.file_sha256.to_vec()),
                        file_enc_sha256: Some(upload.file_enc_sha256.to_vec()),
                        file_length: Some(upload.file_length),
                        media_key_timestamp: Some(upload.media_key_timestamp),
                        mimetype: mime.or_else(|| Some("image/webp".into())),
                        ..Default::default()
                    },
                ),
                ..Default::default()
            },
            _ => media::document_message(
                upload,
                DocumentOptions {
                    mimetype: mime,
                    file_name: message.content["file_name"].as_str().map(str::to_owned),
                    caption,
                    context_info,
                    ..Default::default()
                },
            ),
        })
    }
}

impl Downloadable for mapping::MediaRef {
    fn direct_path(&self) -> Option<&str> {
        Some(&self.direct_path)
    }
    fn media_key(&self) -> Option<&[u8]> {
        Some(&self.media_key)
    }
    fn file_enc_sha256(&self) -> Option<&[u8]> {
        Some(&self.file_enc_sha256)
    }
    fn file_sha256(&self) -> Option<&[u8]> {
        Some(&self.file_sha256)
    }
    fn file_length(&self) -> Option<u64> {
        Some(self.file_length)
    }
    fn app_info(&self) -> MediaType {
        match self.kind {
            Kind::Image => MediaType::Image,
            Kind::Video => MediaType::Video,
            Kind::Audio => MediaType::Audio,
            Kind::Sticker => MediaType::Sticker,
            _ => MediaType::Document,
        }
    }
}

/// Commits inbound messages to the chat store before WhatsApp is acknowledged.
struct Durable {
    sink: EventSink,
}

#[async_trait::async_trait]
impl InboundDurabilityHook for Durable {
    async fn on_messages(
        &self,
        _client: Arc<Client>,
        batch: &[InboundMessage],
    ) -> whatsapp_rust::anyhow::Result<()> {
        for item in batch {
            if let Some(event) = mapping::inbound(&item.message, &item.info) {
                self.sink.emit(event);
            }
        }
        if self.sink.flush().await {
            Ok(())
        } else {
            Err(whatsapp_rust::anyhow::anyhow!(
                "the session's event loop is gone"
            ))
        }
    }
}

/// Turns the library's events into ours, in order.
pub(crate) struct Forwarder {
    sink: EventSink,
    login: broadcast::Sender<Login>,
    client: Arc<Mutex<Weak<Client>>>,
    store: Arc<WaStore>,
}

impl Forwarder {
    fn connected(&self) -> Option<Event> {
        let client = self
            .client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .upgrade()?;
        let pn = client.pn()?;
        let jid = mapping::from_wa(&pn);
        Some(Event::Connected {
            phone: jid.user.clone(),
            jid,
            lid: client.lid().map(|l| mapping::from_wa(&l)),
            push_name: Some(client.push_name()).filter(|n| !n.is_empty()),
        })
    }
}

impl EventHandler for Forwarder {
    fn handle_event(&self, event: Arc<WaEvent>) {
        for ours in forward(&event) {
            self.sink.emit(ours);
        }
        match &*event {
            WaEvent::PairingQrCode(qr) => {
                let _ = self.login.send(Login::Qr(qr.code.clone(), qr.timeout));
            }
            WaEvent::PairingCode(code) => {
                let _ = self.login.send(Login::PairCode(code.code.clone()));
            }
            WaEvent::PairingCodeError(e) => {
                let _ = self.login.send(Login::Failed(format!("{e:?}")));
            }
            WaEvent::ConnectFailure(f) => {
                let _ = self
                    .login
                    .send(Login::Failed(mapping::failure_reason(&f.reason).into()));
            }
            WaEvent::Connected(_) => {
                if let Some(connected) = self.connected() {
                    self.sink.emit(connected);
                }
            }
            WaEvent::LoggedOut(_) => {
                // Credentials are void: forget them so a restart does not try them again.
                let store = self.store.clone();
                tokio::spawn(async move {
                    if let Err(e) = store.wipe().await {
                        tracing::warn!(error = %e, "could not wipe a logged-out session's keys");
                    }
                });
            }
            _ => {}
        }
    }
}

/// The events of ours that one library event means (connection events that need the
/// client, like `Connected`, are built by [`Forwarder`]).
pub fn forward(event: &WaEvent) -> Vec<Event> {
    match event {
        WaEvent::PairingQrCode(qr) => vec![Event::Qr {
            code: qr.code.clone(),
            ttl: qr.timeout,
        }],
        WaEvent::PairingCode(code) => vec![Event::PairCode {
            code: code.code.clone(),
        }],
        WaEvent::PairingQrCodesExhausted(_) => vec![Event::Disconnected {
            reason: "login_timeout".into(),
        }],
        WaEvent::PairError(_) => vec![Event::Disconnected {
            reason: "pairing_failed".into(),
        }],
        WaEvent::Disconnected(_) => vec![Event::Disconnected {
            reason: "connection_lost".into(),
        }],
        WaEvent::StreamReplaced(_) => vec![Event::Disconnected {
            reason: "replaced_by_another_client".into(),
        }],
        WaEvent::TemporaryBan(_) => vec![Event::Disconnected {
            reason: "temporarily_banned".into(),
        }],
        WaEvent::ClientOutdated(_) => vec![Event::Disconnected {
            reason: "client_outdated".into(),
        }],
        WaEvent::ConnectFailure(f) => vec![Event::Disconnected {
            reason: mapping::failure_reason(&f.reason).into(),
        }],
        WaEvent::LoggedOut(out) => vec![Event::LoggedOut {
            reason: match mapping::failure_reason(&out.reason) {
                "connect_failure" | "logged_out" => "logged_out_from_phone",
                other => other,
            }
            .into(),
        }],
        // Messages the durability hook committed were forwarded by it already.
        WaEvent::Messages(batch) if !batch.hook_committed => batch
            .messages
            .iter()
            .filter_map(|m| mapping::inbound(&m.message, &m.info))
            .collect(),
        WaEvent::Receipt(receipt) => mapping::receipts(receipt),
        WaEvent::ServerAck(ack) => mapping::nack(ack).into_iter().collect(),
        WaEvent::ChatPresence(update) => vec![mapping::chat_presence(update)],
        WaEvent::IncomingCall(call) => mapping::call_offer(call).into_iter().collect(),
        WaEvent::GroupUpdate(update) => mapping::group_update(update).into_iter().collect(),
        WaEvent::DeleteMessageForMeUpdate(update) => vec![mapping::deleted_for_me(update)],
        WaEvent::MexNotification(n) => mapping::newsletter_change(n).into_iter().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::wacore::{
        net::DisconnectReason,
        types::{
            events::{
                BatchOrigin, ConnectFailureReason, Disconnected, LoggedOut, MessageBatch,
                PairingQrCode, PairingQrCodesExhausted, StreamReplaced,
            },
            message::{MessageInfo, MessageSource},
        },
    };

    fn text_batch(committed: bool) -> WaEvent {
        let info = MessageInfo {
            source: MessageSource {
                chat: "6289999999999@s.whatsapp.net".parse().expect("jid"),
                sender: "6289999999999@s.whatsapp.net".parse().expect("jid"),
                ..Default::default()
            },
            id: "3A00000000000000AAAA".into(),
            ..Default::default()
        };
        let message = wa::Message {
            conversation: Some("halo".into()),
            ..Default::default()
        };
        let items: Arc<[InboundMessage]> = vec![InboundMessage::builder()
            .message(Arc::new(message))
            .info(Arc::new(info))
            .build()]
        .into();
        WaEvent::Messages(
            MessageBatch::builder()
                .messages(items)
                .origin(BatchOrigin::Live)
                .hook_committed(committed)
                .build(),
        )
    }

    #[test]
    fn qr_codes_rotate_through_events_with_their_lifetime() {
        let event = WaEvent::PairingQrCode(
            PairingQrCode::builder()
                .code("2@abc,def,ghi".to_owned())
                .timeout(Duration::from_secs(60))
                .build(),
        );
        match forward(&event).as_slice() {
            [Event::Qr { code, ttl }] => {
                assert_eq!(code, "2@abc,def,ghi");
                assert_eq!(*ttl, Duration::from_secs(60));
            }
            other => panic!("{other:?}"),
        }
        let exhausted = WaEvent::PairingQrCodesExhausted(
            PairingQrCodesExhausted::builder()
                .disconnected(true)
                .build(),
        );
        assert!(matches!(
            forward(&exhausted).as_slice(),
            [Event::Disconnected { reason }] if reason == "login_timeout"
        ));
    }

    #[test]
    fn connection_loss_replacement_and_logout_have_distinct_reasons() {
        let lost = WaEvent::Disconnected(
            Disconnected::builder()
                .reason(DisconnectReason::StreamEnded)
                .build(),
        );
        assert!(matches!(forward(&lost).as_slice(),
            [Event::Disconnected { reason }] if reason == "connection_lost"));
        let replaced = WaEvent::StreamReplaced(StreamReplaced::builder().build());
        assert!(matches!(forward(&replaced).as_slice(),
            [Event::Disconnected { reason }] if reason == "replaced_by_another_client"));
        let removed = WaEvent::LoggedOut(
            LoggedOut::builder()
                .on_connect(false)
                .reason(ConnectFailureReason::LoggedOut)
                .build(),
        );
        assert!(matches!(forward(&removed).as_slice(),
            [Event::LoggedOut { reason }] if reason == "logged_out_from_phone"));
    }

    #[test]
    fn committed_batches_are_not_forwarded_twice() {
        // The durability hook forwarded these already.
        assert!(forward(&text_batch(true)).is_empty());
        // Newsletter and recovered messages bypass the hook: forwarded here.
        match forward(&text_batch(false)).as_slice() {
            [Event::Message(m)] => assert_eq!(m.body.as_deref(), Some("halo")),
            other => panic!("{other:?}"),
        }
    }
}
