//! One customer session held by this worker: its status, and the loop that applies its
//! driver's events in order — state changes persisted (fenced by the lease), messages,
//! receipts and message changes stored, every event handed to webhooks and live streams.

use super::manager::Instances;
use crate::{
    driver::{Driver, Envelope, Event, EventSink, GroupChange, Incoming, State},
    events::NewEvent,
    jid::Jid,
    store::{self, NewMessage, SessionKey, SessionState},
};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::{
    sync::{atomic::Ordering, Arc, Mutex},
    time::Duration,
};
use tokio::sync::{mpsc, oneshot, watch};
use wasp_db::Db;

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
    pub(super) status: watch::Sender<Status>,
    pub(super) sink: EventSink,
    pub(super) events: Mutex<Option<tokio::task::JoinHandle<()>>>,
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
        if self.sink.send(Envelope::Flush(tx)) {
            let _ = tokio::time::timeout(Duration::from_secs(10), rx).await;
        }
    }
}

/// Applies one instance's events in order: state changes persisted (fenced by the
/// lease), messages and receipts stored.
pub(super) async fn event_loop(
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

/// One event: a change of the session's state, or something that happened in its chats.
async fn apply(
    instances: &Instances,
    instance: &Instance,
    event: Event,
) -> Result<(), sqlx::Error> {
    // One chat per contact: LIDs become phone numbers where the session knows them.
    let event = crate::lids::normalise(instance.driver.as_ref(), event).await;
    let before = instance.status();
    let mut next = before.clone();
    match state_change(&event, &mut next) {
        Some(to) => change_state(instances, instance, &before, next, to, &event).await,
        None => apply_to_chats(instances, instance.key, &before.session, &event).await,
    }
}

/// The state a session event moves to, with what it changes of the status; `None` for
/// events that are not about the session's state.
fn state_change(event: &Event, next: &mut Status) -> Option<State> {
    match event {
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
        _ => None,
    }
}

/// Moves the session to `to` if its state machine allows it: the `session.*` event, the
/// status the API shows, and the row, saved only while this worker still holds the lease.
async fn change_state(
    instances: &Instances,
    instance: &Instance,
    before: &Status,
    mut next: Status,
    to: State,
    event: &Event,
) -> Result<(), sqlx::Error> {
    let key = instance.key;
    let from = before.state();
    if !from.may_become(to, before.session.logged_in) {
        tracing::warn!(session = %key, from = from.as_str(), to = to.as_str(), "state change ignored");
        return Ok(());
    }
    next.session.state = to.as_str().into();
    if let Some(e) = session_event(event, &next.session) {
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

/// An event in the session's chats: messages and their changes stored with their webhook
/// event; presence, calls, groups and newsletters only told.
async fn apply_to_chats(
    instances: &Instances,
    key: SessionKey,
    session: &SessionState,
    event: &Event,
) -> Result<(), sqlx::Error> {
    let device = session.jid.as_deref();
    let db = &instances.db;
    let told = match event {
        Event::Message(m) => return store_message(instances, key, device, m).await,
        Event::Receipt {
            message_id,
            chat,
            status,
            participant,
            at,
        } => {
            let (_, emitted) = store::apply_receipt_with(
                db,
                key,
                message_id,
                *status,
                participant.as_ref().map(|p| p.to_string()).as_deref(),
                *at,
                // One event per step a message takes (a group message steps once every
                // member got there), not one per receipt.
                Some((chat, device)),
            )
            .await?;
            if let Some(event) = emitted {
                instances.deliveries.notify_one();
                instances.stream.publish(event);
            }
            return Ok(());
        }
        Event::Reaction {
            chat,
            sender,
            message_id,
            emoji,
        } => {
            store::set_reaction(db, key, message_id, &sender.to_string(), emoji).await?;
            vec![NewEvent::reaction(chat, sender, message_id, emoji)]
        }
        Event::SendFailed { message_id, reason } => {
            if !store::mark_failed(db, key, message_id).await? {
                return Ok(());
            }
            instances.counters.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(session = %key, %reason, "a sent message was refused by WhatsApp");
            vec![NewEvent::failed(message_id, reason)]
        }
        Event::Edited {
            chat,
            sender,
            message_id,
            from_me,
            text,
            at,
        } => {
            store::apply_edit(db, key, &chat.to_string(), message_id, text.as_deref()).await?;
            vec![NewEvent::edited(
                chat,
                sender,
                message_id,
                *from_me,
                text.as_deref(),
                *at,
            )]
        }
        Event::Revoked {
            chat,
            sender,
            message_id,
            from_me,
            at,
        } => {
            store::apply_revoke(db, key, &chat.to_string(), message_id).await?;
            vec![NewEvent::revoked(chat, sender, message_id, *from_me, *at)]
        }
        Event::Deleted {
            chat,
            message_id,
            at,
        } => {
            store::delete_message(db, key, message_id).await?;
            vec![NewEvent::deleted(chat, message_id, *at)]
        }
        other => notices(other, session),
    };
    for event in told {
        instances.emit(key, device, event).await;
    }
    Ok(())
}

/// Events only told to the customer, stored nowhere else: presence, calls, groups and
/// newsletters.
fn notices(event: &Event, session: &SessionState) -> Vec<NewEvent> {
    match event {
        Event::ChatPresence {
            chat,
            sender,
            state,
        } => vec![NewEvent::presence(chat, sender, *state)],
        Event::CallOffer {
            call_id,
            from,
            video,
            group,
            at,
        } => vec![NewEvent::call_offer(
            call_id,
            from,
            *video,
            group.as_ref(),
            *at,
        )],
        Event::GroupJoined {
            group,
            subject,
            by,
            at,
        } => vec![NewEvent::group_joined(
            group,
            subject.as_deref(),
            by.as_ref(),
            *at,
        )],
        Event::GroupParticipants {
            group,
            change,
            participants,
            by,
            at,
        } => {
            let mut told = vec![NewEvent::group_participants(
                group,
                *change,
                participants,
                by.as_ref(),
                *at,
            )];
            // Someone added this account: it joined the group.
            let own = [session.jid.as_deref(), session.lid.as_deref()];
            if *change == GroupChange::Join
                && participants
                    .iter()
                    .any(|p| own.contains(&Some(p.to_string().as_str())))
            {
                told.push(NewEvent::group_joined(group, None, by.as_ref(), *at));
            }
            told
        }
        Event::NewsletterJoined { newsletter, name } => {
            vec![NewEvent::newsletter_joined(newsletter, name.as_deref())]
        }
        Event::NewsletterLeft { newsletter } => vec![NewEvent::newsletter_left(newsletter)],
        _ => Vec::new(),
    }
}

/// A message sent or received: stored with its webhook event in one transaction, counted.
async fn store_message(
    instances: &Instances,
    key: SessionKey,
    device: Option<&str>,
    m: &Incoming,
) -> Result<(), sqlx::Error> {
    let event = NewEvent::message(m).prepare(key, device);
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
    Ok(())
}

/// The `session.*` event of a state change, if any.
fn session_event(event: &Event, session: &SessionState) -> Option<NewEvent> {
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
