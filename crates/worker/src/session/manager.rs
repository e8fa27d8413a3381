//! The instance manager: one instance per customer session held by this worker, each with
//! its own driver, event loop and state; created on demand, restored on start, closed
//! cleanly on shutdown.

use crate::{
    drivers::live::{session::LiveSession, store::WaStore},
    drivers::sandbox::{SandboxNetwork, SandboxSession},
    jid::Jid,
    session::driver::{Credentials, Driver, Event, State},
    store::{self, NewMessage, SessionKey, SessionState},
};
use chrono::{DateTime, Utc};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, RwLock,
    },
    time::Duration,
};
use tokio::sync::{mpsc, oneshot, watch, OnceCell};
use uuid::Uuid;
use wasp_db::Db;
use wasp_protocol::service_token::Mode;

/// Which driver live (`ak_live_`) sessions use on this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveDriver {
    /// whatsapp-rust.
    Live,
    /// `WASP_WORKER_DRIVER=sandbox`: live sessions are sandboxed too (no WhatsApp access).
    Sandbox,
}

enum Envelope {
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

    pub fn same_as(&self, other: &EventSink) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

/// What the API shows of a session right now.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub session: SessionState,
    pub qr: Option<(String, DateTime<Utc>)>,
    pub pair_code: Option<String>,
    /// Set when another worker took the session over; this instance no longer drives it.
    pub moved: bool,
}

impl Status {
    pub fn state(&self) -> State {
        State::parse(&self.session.state)
    }
}

/// One customer session held by this worker.
pub struct Instance {
    pub key: SessionKey,
    pub driver: Arc<dyn Driver>,
    pub epoch: i64,
    status: watch::Sender<Status>,
    sink: EventSink,
    events: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Instance {
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    /// Changes the name contacts see, and stores it with the session.
    pub async fn set_push_name(&self, db: &Db, name: &str) -> Result<(), sqlx::Error> {
        let mut status = self.status();
        status.session.push_name = Some(name.to_owned());
        let server = store::session(db, self.key)
            .await?
            .and_then(|r| r.server_id)
            .unwrap_or_default();
        store::save_state(db, self.key, server, self.epoch, &status.session).await?;
        self.status.send_replace(status);
        Ok(())
    }

    /// Where this instance's driver reports its events.
    #[cfg(test)]
    pub(crate) fn sink(&self) -> EventSink {
        self.sink.clone()
    }

    /// Waits until every event emitted before this call has been applied and stored.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.sink.tx.send(Envelope::Flush(tx)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(10), rx).await;
        }
    }
}

/// Counts of what the instances did, for heartbeats and /metrics.
#[derive(Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub failed: AtomicU64,
}

/// Every instance on this worker.
pub struct Instances {
    db: Db,
    server: Uuid,
    live: LiveDriver,
    live_config: crate::drivers::live::LiveConfig,
    pub network: Arc<SandboxNetwork>,
    map: RwLock<HashMap<SessionKey, Arc<OnceCell<Arc<Instance>>>>>,
    pub counters: Counters,
    /// Received messages per customer per day, for `customer_usage` (written in batches).
    pub usage: wasp_db::usage::UsageMeter,
    /// Woken when events were written, so webhook delivery starts at once.
    pub deliveries: Arc<tokio::sync::Notify>,
    /// Every event, to the live streams of this worker's sessions.
    pub stream: crate::events::Live,
}

/// Why an instance could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl Instances {
    pub fn new(
        db: Db,
        server: Uuid,
        live: LiveDriver,
        live_config: crate::drivers::live::LiveConfig,
        network: Arc<SandboxNetwork>,
    ) -> Arc<Instances> {
        Arc::new(Instances {
            db,
            server,
            live,
            live_config,
            network,
            map: RwLock::new(HashMap::new()),
            counters: Counters::default(),
            usage: Default::default(),
            deliveries: Arc::new(tokio::sync::Notify::new()),
            stream: Default::default(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn server(&self) -> Uuid {
        self.server
    }

    fn cell(&self, key: SessionKey) -> Arc<OnceCell<Arc<Instance>>> {
        if let Some(cell) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return cell.clone();
        }
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone()
    }

    /// The instance if this worker holds it.
    pub fn get(&self, key: SessionKey) -> Option<Arc<Instance>> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .and_then(|c| c.get().cloned())
    }

    /// The instance, created (and its session claimed and restored) on first use.
    pub async fn get_or_create(
        self: &Arc<Self>,
        key: SessionKey,
    ) -> Result<Arc<Instance>, InstanceError> {
        let cell = self.cell(key);
        let instance = cell
            .get_or_try_init(|| async { self.create(key).await })
            .await?
            .clone();
        if !instance.status().moved {
            return Ok(instance);
        }
        // Another worker took this session over, and management now sends it here again
        // (it moved back): drop the stale instance and take the lease anew.
        tracing::info!(session = %key, "session moved back to this worker; taking it over");
        self.lose(&instance).await;
        let cell = self.cell(key);
        let instance = cell
            .get_or_try_init(|| async { self.create(key).await })
            .await?;
        Ok(instance.clone())
    }

    pub fn list(&self) -> Vec<Arc<Instance>> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter_map(|c| c.get().cloned())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.list().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn connected(&self) -> usize {
        self.list()
            .iter()
            .filter(|i| i.status().state() == State::Connected)
            .count()
    }

    async fn create(self: &Arc<Self>, key: SessionKey) -> Result<Arc<Instance>, InstanceError> {
        let sandboxed = key.mode == Mode::Test || self.live == LiveDriver::Sandbox;
        let row = store::claim(
            &self.db,
            key,
            self.server,
            if sandboxed { "sandbox" } else { "live" },
        )
        .await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let sink = EventSink { tx };
        let driver: Arc<dyn Driver> = if sandboxed {
            Arc::new(SandboxSession::new(
                self.network.clone(),
                key.customer,
                sink.clone(),
            ))
        } else {
            Arc::new(LiveSession::new(
                WaStore::new(self.db.clone(), key),
                sink.clone(),
                self.live_config.clone(),
            ))
        };
        let session = SessionState {
            // A restarted worker starts every session disconnected; restore reconnects it.
            state: if row.state == "logged_out" {
                "logged_out".into()
            } else {
                "disconnected".into()
            },
            reason: row.state_reason.clone(),
            logged_in: row.logged_in,
            phone: row.phone_number.clone(),
            jid: row.jid.clone(),
            lid: row.lid.clone(),
            push_name: row.push_name.clone(),
            connected_at: row.connected_at,
        };
        let instance = Arc::new(Instance {
            key,
            driver: driver.clone(),
            epoch: row.epoch,
            status: watch::channel(Status {
                session,
                ..Status::default()
            })
            .0,
            sink,
            events: Mutex::new(None),
        });
        let task = tokio::spawn(event_loop(self.clone(), instance.clone(), rx));
        *instance.events.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        if row.logged_in {
            let credentials = Credentials {
                phone: row.phone_number,
                jid: row.jid,
                lid: row.lid,
                push_name: row.push_name,
            };
            if let Err(e) = driver.restore(&credentials).await {
                tracing::warn!(session = %key, error = %e, "session not restored");
            }
            instance.flush().await;
        }
        metrics::gauge!("wasp_worker_instances").increment(1.0);
        tracing::debug!(session = %key, epoch = row.epoch, driver = driver.name(), "instance created");
        Ok(instance)
    }

    /// Closes an instance and gives its session up (it stays in the database, with its
    /// chats, for the next owner).
    pub async fn remove(&self, key: SessionKey) -> Result<bool, sqlx::Error> {
        let cell = self
            .map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        let Some(instance) = cell.and_then(|c| c.get().cloned()) else {
            return Ok(false);
        };
        self.close_instance(&instance).await;
        store::release(&self.db, key, self.server, instance.epoch).await?;
        metrics::gauge!("wasp_worker_instances").decrement(1.0);
        Ok(true)
    }

    async fn close_instance(&self, instance: &Instance) {
        instance.driver.close().await;
        let mut status = instance.status();
        if status.session.state != "logged_out" && !status.moved {
            status.session.state = "disconnected".into();
            status.session.reason = Some("worker_stopped".into());
            let _ = store::save_state(
                &self.db,
                instance.key,
                self.server,
                instance.epoch,
                &status.session,
            )
            .await;
        }
        instance.flush().await;
        if let Some(task) = instance
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
    }

    /// Lets go of every instance whose lease another worker took (its epoch moved on, or
    /// the session was given to another server) and closes its connection, so two
    /// processes never drive one WhatsApp session for longer than one check interval.
    /// Returns how many were given up.
    pub async fn check_leases(&self) -> Result<usize, sqlx::Error> {
        let owned: HashMap<SessionKey, i64> = store::sessions_of(&self.db, self.server)
            .await?
            .into_iter()
            .filter_map(|row| {
                let mode = Mode::parse(&row.mode)?;
                Some((
                    SessionKey {
                        customer: row.customer_id,
                        mode,
                    },
                    row.epoch,
                ))
            })
            .collect();
        let mut lost = 0;
        for instance in self.list() {
            if owned.get(&instance.key) == Some(&instance.epoch) || instance.status().moved {
                continue;
            }
            tracing::warn!(session = %instance.key, "lease lost to another worker; closing the session here");
            self.lose(&instance).await;
            lost += 1;
        }
        Ok(lost)
    }

    /// Marks an instance as moved away, closes it and forgets it.
    pub async fn lose(&self, instance: &Arc<Instance>) {
        let removed = {
            let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
            match map.get(&instance.key).and_then(|c| c.get()) {
                Some(current) if Arc::ptr_eq(current, instance) => map.remove(&instance.key),
                _ => None,
            }
        };
        instance.status.send_modify(|s| s.moved = true);
        // Also ends its event loop (which holds the instance), so nothing of it lingers.
        self.close_instance(instance).await;
        if removed.is_some() {
            metrics::gauge!("wasp_worker_instances").decrement(1.0);
        }
    }

    /// Whether this worker still holds `instance`'s lease; an instance that lost it is
    /// given up at once.
    pub async fn still_holds(&self, instance: &Arc<Instance>) -> Result<bool, sqlx::Error> {
        if instance.status().moved {
            return Ok(false);
        }
        let held = store::holds_lease(&self.db, instance.key, self.server, instance.epoch).await?;
        if !held {
            tracing::warn!(session = %instance.key, "lease lost to another worker; closing the session here");
            self.lose(instance).await;
        }
        Ok(held)
    }

    /// Restores every session this server owns, a few at a time so a restart does not
    /// reconnect thousands of sessions in the same second.
    pub async fn restore_all(self: &Arc<Self>) -> Result<usize, sqlx::Error> {
        let rows = store::sessions_of(&self.db, self.server).await?;
        let limit = Arc::new(tokio::sync::Semaphore::new(16));
        let mut tasks = tokio::task::JoinSet::new();
        for row in rows {
            let Some(key) = row.key() else { continue };
            let (me, limit) = (self.clone(), limit.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire().await;
                me.get_or_create(key).await.is_ok()
            });
        }
        let mut restored = 0;
        while let Some(done) = tasks.join_next().await {
            restored += usize::from(done.unwrap_or(false));
        }
        Ok(restored)
    }

    /// Graceful shutdown: every driver closed, every pending event stored.
    pub async fn shutdown(&self) {
        let all: Vec<_> = self.list();
        let mut tasks = tokio::task::JoinSet::new();
        for instance in all {
            let db = self.db.clone();
            let server = self.server;
            tasks.spawn(async move {
                instance.driver.close().await;
                let mut status = instance.status();
                if status.session.state != "logged_out" && !status.moved {
                    status.session.state = "disconnected".into();
                    status.session.reason = Some("worker_stopped".into());
                    let _ = store::save_state(
                        &db,
                        instance.key,
                        server,
                        instance.epoch,
                        &status.session,
                    )
                    .await;
                }
                instance.flush().await;
            });
        }
        while tasks.join_next().await.is_some() {}
        self.flush_usage().await;
    }

    /// Writes an event that has no other change to go with (a session change, a reaction)
    /// and wakes the delivery; a failure is logged (the change itself is already stored).
    pub async fn emit(
        &self,
        key: SessionKey,
        device: Option<&str>,
        event: crate::events::NewEvent,
    ) {
        let prepared = event.prepare(key, device);
        match crate::events::emit(&self.db, &prepared).await {
            Ok(written) => {
                if written {
                    self.deliveries.notify_one();
                }
                self.stream.publish(prepared);
            }
            Err(e) => {
                tracing::error!(session = %key, error = %e, kind = event.kind, "event not written")
            }
        }
    }

    /// Writes the received-message counts gathered since the last call.
    pub async fn flush_usage(&self) {
        if let Err(e) = self.usage.flush(&self.db).await {
            tracing::warn!(error = %e, "usage flush failed; retried");
        }
    }
}

/// Applies one instance's events in order: state changes persisted (fenced by the
/// lease), messages and receipts stored.
async fn event_loop(
    instances: Arc<Instances>,
    instance: Arc<Instance>,
    mut rx: mpsc::UnboundedReceiver<Envelope>,
) {
    while let Some(envelope) = rx.recv().await {
        match envelope {
            Envelope::Flush(done) => {
                let _ = done.send(());
            }
            Envelope::Event(event) => {
                if let Err(e) = apply(&instances, &instance, *event).await {
                    tracing::error!(session = %instance.key, error = %e, "event not stored");
                }
            }
            Envelope::Commit(events, done) => {
                let mut result = Ok(());
                for event in events {
                    if let Err(e) = apply(&instances, &instance, event).await {
                        tracing::error!(session = %instance.key, error = %e, "event not stored; to be delivered again");
                        result = Err(format!("not stored: {e}"));
                        break;
                    }
                }
                let _ = done.send(result);
            }
        }
    }
}

async fn apply(
    instances: &Instances,
    instance: &Instance,
    event: Event,
) -> Result<(), sqlx::Error> {
    use crate::events::NewEvent;
    // One chat per contact: LIDs become phone numbers where the session knows them.
    let event = crate::lids::normalise(instance.driver.as_ref(), event).await;
    let key = instance.key;
    let before = instance.status();
    let device = before.session.jid.as_deref();
    let mut next = before.clone();
    let to = match &event {
        Event::Qr { code, ttl } => {
            next.qr = Some((
                code.clone(),
                Utc::now() + chrono::Duration::from_std(*ttl).unwrap_or_default(),
            ));
            next.pair_code = None;
            Some(State::Scanning)
        }
        Event::PairCode { code } => {
            next.pair_code = Some(code.clone());
            next.qr = None;
            Some(State::Pairing)
        }
        Event::Connected {
            phone,
            jid,
            lid,
            push_name,
        } => {
            next.session.logged_in = true;
            next.session.phone = Some(phone.clone());
            next.session.jid = Some(jid.to_string());
            next.session.lid = lid.as_ref().map(Jid::to_string);
            next.session.push_name = push_name.clone();
            next.session.connected_at = Some(store::now());
            next.session.reason = None;
            next.qr = None;
            next.pair_code = None;
            Some(State::Connected)
        }
        Event::Disconnected { reason } => {
            next.session.reason = Some(reason.clone());
            next.qr = None;
            next.pair_code = None;
            Some(State::Disconnected)
        }
        Event::LoggedOut { reason } => {
            next.session = SessionState {
                state: State::LoggedOut.as_str().into(),
                reason: Some(reason.clone()),
                ..SessionState::default()
            };
            next.qr = None;
            next.pair_code = None;
            Some(State::LoggedOut)
        }
        Event::Message(m) => {
            let event =
                crate::events::NewEvent::message(m).prepare(key, before.session.jid.as_deref());
            let stored = store::store_message_with(
                &instances.db,
                key,
                &NewMessage {
                    id: m.id.clone(),
                    chat_jid: m.chat.to_string(),
                    chat_kind: m.chat.kind(),
                    chat_name: if m.chat.is_group() {
                        None
                    } else {
                        m.push_name.clone()
                    },
                    sender_jid: m.sender.to_string(),
                    from_me: m.from_me,
                    kind: m.kind,
                    body: m.body.clone(),
                    content: m.content.clone(),
                    status: if m.from_me { "sent" } else { "received" },
                    reply_to: m.reply_to.clone(),
                    forwarded: false,
                    sent_at: m.timestamp,
                },
                Some(&event),
            )
            .await?;
            if stored {
                instances.deliveries.notify_one();
                instances.stream.publish(event);
            }
            if stored && !m.from_me {
                instances.counters.received.fetch_add(1, Ordering::Relaxed);
                instances.usage.add(
                    key.customer,
                    wasp_db::usage::Usage {
                        messages_received: 1,
                        ..Default::default()
                    },
                );
                metrics::counter!("wasp_worker_messages_received_total").increment(1);
            }
            None
        }
        Event::Reaction {
            chat,
            sender,
            message_id,
            emoji,
        } => {
            store::set_reaction(&instances.db, key, message_id, &sender.to_string(), emoji).await?;
            instances
                .emit(
                    key,
                    before.session.jid.as_deref(),
                    crate::events::NewEvent::reaction(chat, sender, message_id, emoji),
                )
                .await;
            None
        }
        Event::SendFailed { message_id, reason } => {
            if store::mark_failed(&instances.db, key, message_id).await? {
                instances
                    .emit(
                        key,
                        before.session.jid.as_deref(),
                        crate::events::NewEvent::failed(message_id, reason),
                    )
                    .await;
                instances.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(session = %key, %reason, "a sent message was refused by WhatsApp");
            }
            None
        }
        Event::Edited {
            chat,
            sender,
            message_id,
            from_me,
            text,
            at,
        } => {
            store::apply_edit(
                &instances.db,
                key,
                &chat.to_string(),
                message_id,
                text.as_deref(),
            )
            .await?;
            let event = NewEvent::edited(chat, sender, message_id, *from_me, text.as_deref(), *at);
            instances.emit(key, device, event).await;
            None
        }
        Event::Revoked {
            chat,
            sender,
            message_id,
            from_me,
            at,
        } => {
            store::apply_revoke(&instances.db, key, &chat.to_string(), message_id).await?;
            let event = NewEvent::revoked(chat, sender, message_id, *from_me, *at);
            instances.emit(key, device, event).await;
            None
        }
        Event::Deleted {
            chat,
            message_id,
            at,
        } => {
            store::delete_message(&instances.db, key, message_id).await?;
            instances
                .emit(key, device, NewEvent::deleted(chat, message_id, *at))
                .await;
            None
        }
        Event::ChatPresence {
            chat,
            sender,
            state,
        } => {
            instances
                .emit(key, device, NewEvent::presence(chat, sender, *state))
                .await;
            None
        }
        Event::CallOffer {
            call_id,
            from,
            video,
            group,
            at,
        } => {
            let event = NewEvent::call_offer(call_id, from, *video, group.as_ref(), *at);
            instances.emit(key, device, event).await;
            None
        }
        Event::GroupJoined {
            group,
            subject,
            by,
            at,
        } => {
            let event = NewEvent::group_joined(group, subject.as_deref(), by.as_ref(), *at);
            instances.emit(key, device, event).await;
            None
        }
        Event::GroupParticipants {
            group,
            change,
            participants,
            by,
            at,
        } => {
            let event =
                NewEvent::group_participants(group, *change, participants, by.as_ref(), *at);
            instances.emit(key, device, event).await;
            // Someone added this account: it joined the group.
            let own = [before.session.jid.as_deref(), before.session.lid.as_deref()];
            if *change == crate::session::driver::GroupChange::Join
                && participants
                    .iter()
                    .any(|p| own.contains(&Some(p.to_string().as_str())))
            {
                let joined = NewEvent::group_joined(group, None, by.as_ref(), *at);
                instances.emit(key, device, joined).await;
            }
            None
        }
        Event::NewsletterJoined { newsletter, name } => {
            instances
                .emit(
                    key,
                    device,
                    NewEvent::newsletter_joined(newsletter, name.as_deref()),
                )
                .await;
            None
        }
        Event::NewsletterLeft { newsletter } => {
            instances
                .emit(key, device, NewEvent::newsletter_left(newsletter))
                .await;
            None
        }
        Event::Receipt {
            message_id,
            chat,
            status,
            participant,
            at,
        } => {
            let (_, emitted) = store::apply_receipt_with(
                &instances.db,
                key,
                message_id,
                *status,
                participant.as_ref().map(|p| p.to_string()).as_deref(),
                *at,
                // One event per step a message takes (a group message steps once every
                // member got there), not one per receipt.
                Some((chat, before.session.jid.as_deref())),
            )
            .await?;
            if let Some(event) = emitted {
                instances.deliveries.notify_one();
                instances.stream.publish(event);
            }
            None
        }
    };
    let Some(to) = to else { return Ok(()) };
    let from = before.state();
    if !from.may_become(to, before.session.logged_in) {
        tracing::warn!(session = %key, from = from.as_str(), to = to.as_str(), "state change ignored");
        return Ok(());
    }
    next.session.state = to.as_str().into();
    if let Some(e) = session_event(&event, &next.session) {
        instances.emit(key, next.session.jid.as_deref(), e).await;
    }
    let changed = next.session != before.session;
    instance.status.send_replace(next.clone());
    if changed {
        let held = store::save_state(
            &instances.db,
            key,
            instances.server,
            instance.epoch,
            &next.session,
        )
        .await?;
        if !held {
            tracing::warn!(session = %key, "session taken over by another worker; closing it here");
            instance.status.send_modify(|s| s.moved = true);
            instance.driver.close().await;
        } else {
            tracing::info!(session = %key, state = to.as_str(), reason = next.session.reason.as_deref().unwrap_or(""), "session state");
        }
    }
    Ok(())
}

/// The `session.*` event of a state change, if any.
fn session_event(event: &Event, session: &SessionState) -> Option<crate::events::NewEvent> {
    use crate::events::NewEvent;
    use serde_json::json;
    Some(match event {
        Event::Qr { code, ttl } => NewEvent::session(
            "session.qr",
            json!({ "qr_code": code, "qr_duration": ttl.as_secs() }),
        ),
        Event::PairCode { code } => {
            NewEvent::session("session.pairing_code", json!({ "pair_code": code }))
        }
        Event::Connected { .. } => NewEvent::session(
            "session.connected",
            json!({
                "phone_number": session.phone,
                "jid": session.jid,
                "lid": session.lid,
                "push_name": session.push_name,
            }),
        ),
        Event::Disconnected { reason } => {
            NewEvent::session("session.disconnected", json!({ "reason": reason }))
        }
        Event::LoggedOut { reason } => {
            NewEvent::session("session.logged_out", json!({ "reason": reason }))
        }
        _ => return None,
    })
}
