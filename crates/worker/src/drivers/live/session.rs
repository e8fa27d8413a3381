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
    driver::EventSink,
    driver::{Action, Credentials, Driver, DriverError, Event, Kind, Outgoing, QrCode, Sent},
};
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, Weak,
    },
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
    bot: Running,
    sink: EventSink,
    login: broadcast::Sender<Login>,
    config: super::LiveConfig,
}

/// The running bot of a session and its store, shared with the event forwarder, which must
/// stop the bot itself when the phone logs the device out.
#[derive(Clone)]
struct Running {
    store: Arc<WaStore>,
    handle: Arc<tokio::sync::Mutex<Option<BotHandle>>>,
    client: Arc<Mutex<Option<Arc<Client>>>>,
    /// Set while an API logout runs: the library then reports a `LoggedOut` of its own,
    /// which `logout` answers for (one event, with its reason).
    logging_out: Arc<AtomicBool>,
}

impl Running {
    /// Stops the bot (its background saver included) and forgets its client.
    async fn stop(&self) {
        if let Some(handle) = self.handle.lock().await.take() {
            handle.shutdown().await;
        }
        self.client.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// After the phone logged the device out: stops the bot first, so nothing writes the
    /// device back, then deletes its keys, so neither a restart nor a new login tries the
    /// revoked credentials. Only if `client` is still the running one (a newer login is
    /// left alone).
    async fn forget(&self, client: Weak<Client>) {
        {
            let mut handle = self.handle.lock().await;
            let ours = match (handle.as_ref(), client.upgrade()) {
                (Some(running), Some(client)) => Arc::ptr_eq(&running.client(), &client),
                (None, _) => true,
                (Some(_), None) => false,
            };
            if !ours {
                return;
            }
            if let Some(running) = handle.take() {
                running.shutdown().await;
            }
            self.client.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
        if let Err(e) = self.store.wipe().await {
            tracing::warn!(error = %e, "could not wipe a logged-out session's keys");
        }
    }
}

impl LiveSession {
    pub fn new(store: WaStore, sink: EventSink, config: super::LiveConfig) -> LiveSession {
        LiveSession {
            config,
            bot: Running {
                store: Arc::new(store),
                handle: Arc::default(),
                client: Arc::default(),
                logging_out: Arc::default(),
            },
            sink,
            login: broadcast::channel(16).0,
        }
    }

    fn client(&self) -> Result<Arc<Client>, DriverError> {
        let client = self.client_slot().ok_or(DriverError::NotConnected)?;
        if !client.is_connected() {
            return Err(DriverError::NotConnected);
        }
        Ok(client)
    }

    /// The running bot's client, connected or not.
    fn client_slot(&self) -> Option<Arc<Client>> {
        self.bot
            .client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The connected client, for the live group and profile operations
    /// (`DriverError::NotConnected` when the session is not connected).
    pub(crate) fn connected_client(&self) -> Result<Arc<Client>, DriverError> {
        self.client()
    }

    /// Whether the store holds a paired device.
    async fn paired(&self) -> bool {
        match self.bot.store.load().await {
            Ok(Some(device)) => device.pn.is_some(),
            _ => false,
        }
    }

    /// Builds and starts the bot (stopping a previous one first).
    async fn start(&self, pair: Option<PairCodeOptions>) -> Result<(), DriverError> {
        let version = self.config.version.resolve().await;
        let mut running = self.bot.handle.lock().await;
        if let Some(old) = running.take() {
            old.shutdown().await;
        }
        self.bot.logging_out.store(false, Ordering::SeqCst);
        let client_slot = Arc::new(Mutex::new(Weak::new()));
        let forwarder = Forwarder {
            sink: self.sink.clone(),
            login: self.login.clone(),
            client: client_slot.clone(),
            bot: self.bot.clone(),
        };
        let mut builder = Bot::builder()
            .with_backend_arc(self.bot.store.clone())
            .with_version(version.into())
            .skip_history_sync()
            .with_event_handler(forwarder)
            .with_inbound_durability_hook(Durable {
                sink: self.sink.clone(),
            });
        if let Some(options) = pair {
            builder = builder.with_pair_code(options);
        }
        if let Some(transport) = &self.config.transport {
            builder = builder.with_transport_factory(transport.clone());
        } else if let Some(url) = &self.config.ws_url {
            builder = builder.with_transport_factory(
                whatsapp_rust::transport::TokioWebSocketTransportFactory::new().with_url(url),
            );
        }
        let bot = builder
            .build()
            .await
            .map_err(|e| DriverError::Unavailable(format!("whatsapp client: {e}")))?;
        let client = bot.client();
        *client_slot.lock().unwrap_or_else(|e| e.into_inner()) = Arc::downgrade(&client);
        *self.bot.client.lock().unwrap_or_else(|e| e.into_inner()) = Some(client);
        *running = Some(bot.spawn());
        Ok(())
    }

    async fn stop(&self) {
        self.bot.stop().await;
    }

    /// Starts a login and waits, within the login timeout, for the first code `wanted`
    /// accepts (or a refusal). One receiver, subscribed before the bot starts, sees every
    /// signal of the login: a pair code that follows the first QR code is not missed.
    async fn begin_login(
        &self,
        pair: Option<PairCodeOptions>,
        wanted: fn(&Login) -> bool,
    ) -> Result<Login, DriverError> {
        if self.paired().await {
            return Err(DriverError::AlreadyLoggedIn);
        }
        let mut signals = self.login.subscribe();
        self.start(pair).await?;
        let first = tokio::time::timeout(self.config.login_timeout, async {
            loop {
                match signals.recv().await {
                    Ok(signal) if wanted(&signal) || matches!(signal, Login::Failed(_)) => {
                        return Some(signal)
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
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

    async fn phone_of(&self, lid: &crate::jid::Jid) -> Option<crate::jid::Jid> {
        let (_, phone) = self.lid_and_phone(lid).await?;
        Some(crate::jid::Jid::user(&phone))
    }

    async fn lid_of(&self, phone: &crate::jid::Jid) -> Option<crate::jid::Jid> {
        let (lid, _) = self.lid_and_phone(phone).await?;
        Some(crate::jid::Jid {
            user: lid,
            server: crate::jid::LID_SERVER.to_owned(),
        })
    }

    async fn restore(&self, _credentials: &Credentials) -> Result<(), DriverError> {
        if !self.paired().await {
            return Err(DriverError::NotLoggedIn);
        }
        self.start(None).await
    }

    async fn login_qr(&self) -> Result<QrCode, DriverError> {
        match self
            .begin_login(None, |s| matches!(s, Login::Qr(..)))
            .await?
        {
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
        // The QR flow starts alongside; the pair code follows the first QR code.
        match self
            .begin_login(Some(options), |s| matches!(s, Login::PairCode(_)))
            .await?
        {
            Login::PairCode(code) => Ok(code),
            other => Err(DriverError::Unavailable(format!(
                "WhatsApp did not issue a pair code ({other:?}); try again"
            ))),
        }
    }

    async fn reconnect(&self) -> Result<(), DriverError> {
        if !self.paired().await {
            return Err(DriverError::NotLoggedIn);
        }
        let current = self.client_slot();
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
        let current = self.client_slot();
        // The library reports this logout as a `LoggedOut` of its own; this one reports it.
        self.bot.logging_out.store(true, Ordering::SeqCst);
        if let Some(client) = current {
            client.logout().await;
        }
        self.stop().await;
        // The library keeps keys after a logout; a logged-out device must not come back.
        self.bot
            .store
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
    /// The (LID, phone number) pair of an account, from the running client's mapping cache
    /// (which reads the store on a miss), or from the store while no client runs.
    async fn lid_and_phone(&self, jid: &crate::jid::Jid) -> Option<(String, String)> {
        use whatsapp_rust::wacore::store::traits::ProtocolStore;
        if let Some(client) = self.client_slot() {
            let entry = client.get_lid_pn_entry(&address(jid).ok()?).await.ok()??;
            return Some((entry.lid.to_string(), entry.phone_number.to_string()));
        }
        let store = &self.bot.store;
        let entry = if jid.is_lid() {
            store.get_lid_mapping(&jid.user).await
        } else {
            store.get_pn_mapping(&jid.user).await
        };
        entry.ok()?.map(|e| (e.lid, e.phone_number))
    }

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

impl Durable {
    /// Stores what `batch` means in the chat store; `Ok` only once all of it is stored.
    async fn commit(&self, batch: &[InboundMessage]) -> Result<(), String> {
        let events: Vec<Event> = batch
            .iter()
            .filter_map(|item| mapping::inbound(&item.message, &item.info))
            .collect();
        self.sink.commit(events).await
    }
}

#[async_trait::async_trait]
impl InboundDurabilityHook for Durable {
    /// The library's contract: `Ok` only once the batch is durable; `Err` withholds the ack,
    /// so WhatsApp delivers the messages again (a database hiccup never loses one).
    async fn on_messages(
        &self,
        _client: Arc<Client>,
        batch: &[InboundMessage],
    ) -> whatsapp_rust::anyhow::Result<()> {
        self.commit(batch)
            .await
            .map_err(|e| whatsapp_rust::anyhow::anyhow!(e))
    }
}

/// Turns the library's events into ours, in order.
pub(crate) struct Forwarder {
    sink: EventSink,
    login: broadcast::Sender<Login>,
    client: Arc<Mutex<Weak<Client>>>,
    bot: Running,
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
        if matches!(&*event, WaEvent::LoggedOut(_)) && self.bot.logging_out.load(Ordering::SeqCst) {
            return; // an API logout, which reports itself
        }
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
                // Credentials are void: stop the bot, then forget them, so neither a restart
                // nor a new login tries them again. Spawned: this runs on the bot's own task.
                let bot = self.bot.clone();
                let client = self
                    .client
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                tokio::spawn(async move { bot.forget(client).await });
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

    fn batch_items(event: &WaEvent) -> Vec<InboundMessage> {
        match event {
            WaEvent::Messages(batch) => batch.messages.to_vec(),
            _ => unreachable!(),
        }
    }

    /// The durability hook's contract: `Ok` (WhatsApp is acknowledged) only once the message
    /// is in the chat store; a write that fails answers `Err`, so WhatsApp delivers the
    /// message again, and the redelivery is stored.
    #[tokio::test]
    async fn an_inbound_message_is_acknowledged_only_once_it_is_stored() {
        use crate::{session::manager::Instances, testkit};
        use wasp_protocol::service_token::Mode;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = testkit::sqlite(dir.path()).await.expect("database");
        let (server, customer) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        testkit::seed_server(&db, server, "w")
            .await
            .expect("server");
        testkit::seed_customers(&db, Some(server), &[customer])
            .await
            .expect("customer");
        let instances = Instances::new(
            db.clone(),
            server,
            crate::drivers::Drivers::new(
                db.clone(),
                crate::drivers::LiveDriver::Live,
                Default::default(),
                crate::drivers::sandbox::SandboxNetwork::new(Default::default()),
            ),
        );
        let key = crate::store::SessionKey {
            customer,
            mode: Mode::Live,
        };
        let instance = instances.get_or_create(key).await.expect("instance");
        let hook = Durable {
            sink: instance.sink(),
        };
        let batch = batch_items(&text_batch(false));
        let wasp_db::Db::Sqlite { write, .. } = &db else {
            unreachable!()
        };
        sqlx::query(
            "CREATE TRIGGER fail_writes BEFORE INSERT ON wa_messages \
             BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
        )
        .execute(write)
        .await
        .expect("trigger");

        let refused = hook.commit(&batch).await;
        assert!(refused.is_err(), "not stored, so not acknowledged");
        let id = "3A00000000000000AAAA";
        assert!(crate::store::message(&db, key, id).await.unwrap().is_none());

        sqlx::query("DROP TRIGGER fail_writes")
            .execute(write)
            .await
            .expect("drop trigger");
        assert_eq!(
            hook.commit(&batch).await,
            Ok(()),
            "the redelivery is stored"
        );
        let (stored, _) = crate::store::message(&db, key, id)
            .await
            .unwrap()
            .expect("the message is in the chat store");
        assert_eq!(stored.body.as_deref(), Some("halo"));
        // Delivered once more (an ack that was lost): still one message, still acknowledged.
        assert_eq!(hook.commit(&batch).await, Ok(()));
        instances.shutdown().await;
    }

    /// A transport that never reaches anything: the bot runs, and never connects.
    struct Nowhere;

    #[whatsapp_rust::async_trait]
    impl whatsapp_rust::transport::TransportFactory for Nowhere {
        async fn create_transport(
            &self,
        ) -> whatsapp_rust::anyhow::Result<(
            Arc<dyn whatsapp_rust::transport::Transport>,
            whatsapp_rust::async_channel::Receiver<whatsapp_rust::transport::TransportEvent>,
        )> {
            Err(whatsapp_rust::anyhow::anyhow!("no network in this test"))
        }
    }

    /// A live session on a fresh SQLite store (with a paired device when `paired`), whose
    /// bot never connects, and the events it emits.
    async fn live_session(
        paired: bool,
    ) -> (
        LiveSession,
        tokio::sync::mpsc::UnboundedReceiver<Event>,
        tempfile::TempDir,
    ) {
        use crate::testkit;
        use whatsapp_rust::wacore::store::traits::DeviceStore;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = testkit::sqlite(dir.path()).await.expect("database");
        let key = testkit::seed_live_session(&db).await.unwrap();
        let store = WaStore::new(db, key);
        if paired {
            let mut device = whatsapp_rust::wacore::store::Device::new();
            device.pn = Some("6281234567890:2@s.whatsapp.net".parse().unwrap());
            store.save(&device).await.unwrap();
        }
        let (sink, events) = EventSink::for_test();
        let config = crate::drivers::live::LiveConfig {
            transport: Some(crate::drivers::live::SharedTransport(Arc::new(Nowhere))),
            login_timeout: Duration::from_secs(2),
            ..Default::default()
        };
        (LiveSession::new(store, sink, config), events, dir)
    }

    /// Every event emitted so far.
    async fn emitted(
        session: &LiveSession,
        events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
    ) -> Vec<Event> {
        assert!(session.sink.flush().await);
        let mut all = Vec::new();
        while let Ok(event) = events.try_recv() {
            all.push(event);
        }
        all
    }

    fn logouts(events: &[Event]) -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::LoggedOut { reason } => Some(reason.as_str()),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_pair_code_that_follows_the_first_qr_code_at_once_is_not_missed() {
        let (session, _events, _dir) = live_session(false).await;
        let session = Arc::new(session);
        let login = {
            let session = session.clone();
            tokio::spawn(async move { session.login_code("6281234567890").await })
        };
        // Once the login listens, WhatsApp's first QR code and the pair code come together.
        while session.login.receiver_count() == 0 {
            tokio::task::yield_now().await;
        }
        let _ = session
            .login
            .send(Login::Qr("2@ref,a,b,c".into(), Duration::from_secs(60)));
        let _ = session.login.send(Login::PairCode("WASP1234".into()));
        let code = login.await.expect("login task").expect("a pair code");
        assert_eq!(code, "WASP1234");
        session.stop().await;
    }

    #[tokio::test]
    async fn an_api_logout_reports_one_logged_out_event_with_its_reason_and_forgets_the_device() {
        let (session, mut events, _dir) = live_session(true).await;
        session
            .restore(&Credentials::default())
            .await
            .expect("restored");
        session.logout().await.expect("logged out");
        let all = emitted(&session, &mut events).await;
        assert_eq!(logouts(&all), ["logged_out"], "{all:?}");
        assert!(!session.paired().await, "the device is gone");
        assert!(session.bot.handle.lock().await.is_none());
    }

    #[tokio::test]
    async fn logged_out_from_the_phone_the_bot_stops_before_its_keys_are_wiped() {
        let (session, mut events, _dir) = live_session(true).await;
        session
            .restore(&Credentials::default())
            .await
            .expect("restored");
        let client = session.client_slot().expect("a running client");
        let forwarder = Forwarder {
            sink: session.sink.clone(),
            login: session.login.clone(),
            client: Arc::new(Mutex::new(Arc::downgrade(&client))),
            bot: session.bot.clone(),
        };
        forwarder.handle_event(Arc::new(WaEvent::LoggedOut(
            LoggedOut::builder()
                .on_connect(false)
                .reason(ConnectFailureReason::LoggedOut)
                .build(),
        )));
        // The forwarder stops the bot (nothing can write the device back), then wipes.
        tokio::time::timeout(Duration::from_secs(10), async {
            while session.bot.handle.lock().await.is_some() || session.paired().await {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the bot stopped and the device is forgotten");
        assert!(session.client_slot().is_none());
        assert!(session.bot.store.load().await.unwrap().is_none());
        let all = emitted(&session, &mut events).await;
        assert_eq!(logouts(&all), ["logged_out_from_phone"], "{all:?}");
        assert!(matches!(
            session.restore(&Credentials::default()).await,
            Err(DriverError::NotLoggedIn)
        ));
    }

    /// The session's address book (the library's LID mappings, in our store) maps a
    /// contact's LID and number both ways, so its messages land in one chat.
    #[tokio::test]
    async fn lids_and_numbers_map_through_the_sessions_stored_mappings() {
        use whatsapp_rust::wacore::store::traits::{LidPnMappingEntry, ProtocolStore};
        let (session, _events, _dir) = live_session(true).await;
        session
            .bot
            .store
            .put_lid_mapping(&LidPnMappingEntry {
                lid: "201234567890123".into(),
                phone_number: "6289876543210".into(),
                created_at: 1,
                updated_at: 1,
                learning_source: "usync".into(),
            })
            .await
            .unwrap();
        let lid = crate::jid::Jid {
            user: "201234567890123".into(),
            server: "lid".into(),
        };
        let phone = crate::jid::Jid::user("6289876543210");
        assert_eq!(session.phone_of(&lid).await, Some(phone.clone()));
        assert_eq!(session.lid_of(&phone).await, Some(lid.clone()));
        assert_eq!(
            session
                .lid_of(&crate::jid::Jid::user("6281111111111"))
                .await,
            None
        );
        // The same through a running client (its cache reads the store on a miss).
        session.restore(&Credentials::default()).await.unwrap();
        assert_eq!(session.phone_of(&lid).await, Some(phone));
        session.stop().await;
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
