//! The instance manager: one instance per customer session held by this worker, each with
//! its own driver, event loop and state; created on demand, restored on start, closed
//! cleanly on shutdown.

use super::instance::{event_loop, Instance, Status};
use crate::{
    driver::{Credentials, EventSink, State},
    drivers::Drivers,
    store::{self, SessionKey, SessionState},
};
use std::{
    collections::HashMap,
    sync::{atomic::AtomicU64, Arc, Mutex, RwLock},
};
use tokio::sync::{watch, OnceCell};
use uuid::Uuid;
use wasp_db::Db;
use wasp_protocol::service_token::Mode;

/// Counts of what the instances did, for heartbeats and /metrics.
#[derive(Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub failed: AtomicU64,
}

/// Every instance on this worker.
pub struct Instances {
    pub(super) db: Db,
    pub(super) server: Uuid,
    drivers: Drivers,
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
    pub fn new(db: Db, server: Uuid, drivers: Drivers) -> Arc<Instances> {
        Arc::new(Instances {
            db,
            server,
            drivers,
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
        let row = store::claim(&self.db, key, self.server, self.drivers.kind(key)).await?;
        let (sink, rx) = EventSink::channel();
        let driver = self.drivers.open(key, sink.clone());
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
