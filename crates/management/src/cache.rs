//! The gateway's in-process caches: API keys by their digest, and the routing table
//! (customer → worker). Entries live a short time and are dropped at once when what they
//! describe changes — on this replica directly, on the others through Redis pub/sub
//! (`{prefix}gateway`) when `WASP_REDIS_URL` is set. Key usage (`last_used_at`, IP,
//! request count) is gathered here too and written in batches, never once per request.

use axum::http::{
    uri::{Authority, Scheme},
    HeaderValue,
};
use chrono::{DateTime, Utc};
use std::{
    collections::{HashMap, HashSet},
    hash::Hash,
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, RwLock,
    },
    time::{Duration, Instant},
};
use uuid::Uuid;
use wasp_protocol::Plan;

/// How long a key or a route is trusted without asking the database again. Changes made
/// through wasp reach every replica at once; this (with [`STALE_GRACE`]) bounds only changes
/// made behind its back (and replicas running without Redis).
pub const TTL: Duration = Duration::from_secs(30);

/// How long past [`TTL`] an entry is still served to the requests that arrive while one of
/// them reads it again. Without it, every request in flight when a busy key's entry expired
/// would miss at once and ask the database (a burst of queries, and tens of milliseconds of
/// tail latency, every 30 s per busy key).
pub const STALE_GRACE: Duration = Duration::from_secs(5);

/// What a cache lookup found.
#[derive(Debug)]
pub enum Lookup<'a, T, K: Eq + Hash + Copy> {
    /// Young enough (or past its TTL while another request reads it again): use it.
    Fresh(T),
    /// Past its TTL: this request reads it again, and holds the claim until it is done; the
    /// others meanwhile keep using the old entry (within [`STALE_GRACE`]).
    Refresh(T, RefreshClaim<'a, K>),
    /// Not there, or too old to serve: read it.
    Missing,
}

impl<T, K: Eq + Hash + Copy> Lookup<'_, T, K> {
    pub fn is_missing(&self) -> bool {
        matches!(self, Lookup::Missing)
    }
}

/// One request's claim on reading an entry again; released when dropped.
#[derive(Debug)]
pub struct RefreshClaim<'a, K: Eq + Hash + Copy> {
    refreshing: &'a Mutex<FastSet<K>>,
    key: K,
}

impl<K: Eq + Hash + Copy> Drop for RefreshClaim<'_, K> {
    fn drop(&mut self) {
        self.refreshing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

/// The lookup of an entry `age` old: fresh, to be read again by this caller (the first to
/// find it past its TTL), or missing.
fn lookup<'a, T, K: Eq + Hash + Copy>(
    found: Option<(T, Duration)>,
    key: K,
    refreshing: &'a Mutex<FastSet<K>>,
) -> Lookup<'a, T, K> {
    match found {
        Some((value, age)) if age < TTL => Lookup::Fresh(value),
        Some((value, age)) if age < TTL + STALE_GRACE => {
            let claimed = refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key);
            if claimed {
                Lookup::Refresh(value, RefreshClaim { refreshing, key })
            } else {
                Lookup::Fresh(value)
            }
        }
        _ => Lookup::Missing,
    }
}

/// What the gateway needs to know about a valid key.
#[derive(Debug, Clone)]
pub struct CachedKey {
    pub key_id: Uuid,
    pub customer_id: Uuid,
    pub scopes: Arc<[String]>,
    pub expires_at: Option<DateTime<Utc>>,
    pub suspended: bool,
    pub plan: Plan,
    cached_at: Instant,
}

impl CachedKey {
    pub fn new(
        key_id: Uuid,
        customer_id: Uuid,
        scopes: Arc<[String]>,
        expires_at: Option<DateTime<Utc>>,
        suspended: bool,
        plan: Plan,
    ) -> CachedKey {
        CachedKey {
            key_id,
            customer_id,
            scopes,
            expires_at,
            suspended,
            plan,
            cached_at: Instant::now(),
        }
    }
}

/// The worker that holds a customer's sessions.
#[derive(Debug, Clone)]
pub struct Route {
    pub server_id: Uuid,
    /// Its API's base URL, without a trailing `/`.
    pub api_url: Arc<str>,
    /// The base URL's scheme, authority and `Host` header, parsed once, when it is plain
    /// `http://host:port` without a path (a request's URI is then built without formatting
    /// or parsing).
    pub origin: Option<(Scheme, Authority, HeaderValue)>,
}

impl Route {
    pub fn new(server_id: Uuid, api_url: &str) -> Route {
        let api_url = api_url.trim_end_matches('/');
        let origin = api_url
            .strip_prefix("http://")
            .filter(|rest| !rest.contains('/'))
            .and_then(|rest| {
                let authority = rest.parse::<Authority>().ok()?;
                let host = HeaderValue::from_str(authority.as_str()).ok()?;
                Some((Scheme::HTTP, authority, host))
            });
        Route {
            server_id,
            api_url: Arc::from(api_url),
            origin,
        }
    }
}

/// What changed, as published to the other replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation {
    /// Keys, status, plan or placement of one customer.
    Customer(Uuid),
    /// Anything (a server's address, a reconnect to Redis after missing messages).
    All,
    /// An address banned for abuse until the given Unix time (seconds).
    Ban(IpAddr, i64),
}

impl Invalidation {
    fn encode(&self) -> String {
        match self {
            Invalidation::Customer(id) => format!("customer:{id}"),
            Invalidation::All => "all".into(),
            Invalidation::Ban(ip, until) => format!("ban:{until}:{ip}"),
        }
    }

    fn decode(text: &str) -> Option<Invalidation> {
        if text == "all" {
            return Some(Invalidation::All);
        }
        if let Some(id) = text.strip_prefix("customer:") {
            return id.parse().ok().map(Invalidation::Customer);
        }
        let rest = text.strip_prefix("ban:")?;
        let (until, ip) = rest.split_once(':')?;
        Some(Invalidation::Ban(ip.parse().ok()?, until.parse().ok()?))
    }
}

/// One key's use since the last flush.
#[derive(Debug, Clone, Copy)]
struct KeyUse {
    at: DateTime<Utc>,
    ip: Option<IpAddr>,
    count: i64,
}

/// A map keyed by what we made (ids, HMAC digests), with a fast seeded hash in place of
/// SipHash: on the gateway's path every call looks several of them up.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// A key's HMAC digest under the pepper, as bytes (see [`wasp_protocol::keys::keyed_digest_bytes`]).
pub type KeyDigest = [u8; 32];

/// The caches of one management process.
pub struct GatewayCache {
    keys: RwLock<FastMap<KeyDigest, CachedKey>>,
    routes: RwLock<FastMap<Uuid, (Route, Instant)>>,
    /// Entries past their TTL that one request is reading again.
    refreshing_keys: Mutex<FastSet<KeyDigest>>,
    refreshing_routes: Mutex<FastSet<Uuid>>,
    /// Bumped by every invalidation; a lookup that started before one does not fill the
    /// cache with what it read (it may be stale).
    generation: AtomicU64,
    uses: Mutex<FastMap<Uuid, KeyUse>>,
    /// Held through a flush of key uses (a reader's flush waits for one under way).
    flushing_uses: tokio::sync::Mutex<()>,
    /// Addresses banned for abuse, until when.
    bans: RwLock<HashMap<IpAddr, DateTime<Utc>>>,
    /// Service tokens reused for part of their life: (server, customer, live?, key) →
    /// `Authorization` header value (`Bearer …`).
    tokens: RwLock<FastMap<TokenFor, (HeaderValue, Instant)>>,
    /// Customers with an event stream open on this process: bumped by every invalidation of
    /// the customer, so each stream checks its key again (`streams.rs`).
    streams: Mutex<FastMap<Uuid, tokio::sync::watch::Sender<u64>>>,
    bus: Option<Bus>,
}

/// What a service token is for: server, customer, live (or test), key.
type TokenFor = (Uuid, Uuid, bool, Uuid);

/// How long a minted service token is reused (they are valid 60 s; signing one costs
/// ~15 µs, more than the rest of the key check and limits together).
pub const TOKEN_REUSE: Duration = Duration::from_secs(30);

impl GatewayCache {
    pub fn new(redis_url: Option<&str>, prefix: &str) -> Result<GatewayCache, redis::RedisError> {
        Ok(GatewayCache {
            keys: RwLock::default(),
            routes: RwLock::default(),
            refreshing_keys: Mutex::default(),
            refreshing_routes: Mutex::default(),
            generation: AtomicU64::new(0),
            uses: Mutex::default(),
            flushing_uses: tokio::sync::Mutex::default(),
            bans: RwLock::default(),
            tokens: RwLock::default(),
            streams: Mutex::default(),
            bus: redis_url.map(|url| Bus::new(url, prefix)).transpose()?,
        })
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached key with this digest (see [`Lookup`]).
    pub fn key(&self, digest: &KeyDigest) -> Lookup<'_, CachedKey, KeyDigest> {
        let found = {
            let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
            keys.get(digest).map(|k| (k.clone(), k.cached_at.elapsed()))
        };
        lookup(found, *digest, &self.refreshing_keys)
    }

    /// Whether `old`, found past its TTL, may still serve after reading it again failed: it
    /// is still the entry held (nothing dropped or replaced it meanwhile, such as a revoke)
    /// and still within the grace.
    pub fn key_still_servable(&self, digest: &KeyDigest, old: &CachedKey) -> bool {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(digest).is_some_and(|k| {
            k.cached_at == old.cached_at && k.cached_at.elapsed() < TTL + STALE_GRACE
        })
    }

    /// Makes every cached key `by` older (tests of what happens past the TTL).
    #[cfg(test)]
    pub(crate) fn age_keys(&self, by: Duration) {
        for k in self.keys.write().unwrap().values_mut() {
            k.cached_at = k.cached_at.checked_sub(by).expect("uptime");
        }
    }

    /// Drops a key found no longer valid when it was read again.
    pub fn forget_key(&self, digest: &KeyDigest) {
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest);
    }

    /// Remembers a key read at `generation`, unless something was invalidated since.
    pub fn put_key(&self, generation: u64, digest: KeyDigest, key: CachedKey) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if self.generation() == generation {
            keys.insert(digest, key);
        }
    }

    /// The customer's route (see [`Lookup`]).
    pub fn route(&self, customer: Uuid) -> Lookup<'_, Route, Uuid> {
        let found = {
            let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
            routes
                .get(&customer)
                .map(|(r, at)| (r.clone(), at.elapsed()))
        };
        lookup(found, customer, &self.refreshing_routes)
    }

    /// [`GatewayCache::key_still_servable`] for a route.
    pub fn route_still_servable(&self, customer: Uuid, old: &Route) -> bool {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        routes.get(&customer).is_some_and(|(r, at)| {
            r.server_id == old.server_id
                && r.api_url == old.api_url
                && at.elapsed() < TTL + STALE_GRACE
        })
    }

    /// Drops a route found gone when it was read again.
    pub fn forget_route(&self, customer: Uuid) {
        self.routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&customer);
    }

    pub fn put_route(&self, generation: u64, customer: Uuid, route: Route) {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if self.generation() == generation {
            routes.insert(customer, (route, Instant::now()));
        }
    }

    /// The `Authorization` header value (`Bearer <service token>`) for (server, customer,
    /// mode, key), the token minted by `mint` when there is no recent one. `None` when the
    /// token cannot be a header value.
    pub fn token(
        &self,
        server: Uuid,
        customer: Uuid,
        live: bool,
        key: Uuid,
        mint: impl FnOnce() -> String,
    ) -> Option<HeaderValue> {
        let k = (server, customer, live, key);
        if let Some((token, at)) = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&k)
        {
            if at.elapsed() < TOKEN_REUSE {
                return Some(token.clone());
            }
        }
        let mut bearer = HeaderValue::try_from(format!("Bearer {}", mint())).ok()?;
        bearer.set_sensitive(true);
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(k, (bearer.clone(), Instant::now()));
        Some(bearer)
    }

    /// Drops what `what` makes stale, here only.
    pub fn apply(&self, what: Invalidation) {
        match what {
            Invalidation::Ban(ip, until) => {
                if let Some(until) = DateTime::from_timestamp(until, 0) {
                    self.bans
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(ip, until);
                }
            }
            Invalidation::Customer(id) => {
                // Bumped while the maps are locked, so no lookup that read before this
                // can store after it.
                let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
                let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
                self.generation.fetch_add(1, Ordering::AcqRel);
                keys.retain(|_, k| k.customer_id != id);
                routes.remove(&id);
                drop((keys, routes));
                self.wake_streams(Some(id));
            }
            Invalidation::All => {
                let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
                let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
                self.generation.fetch_add(1, Ordering::AcqRel);
                keys.clear();
                routes.clear();
                drop((keys, routes));
                self.wake_streams(None);
            }
        }
    }

    /// Drops what `what` makes stale here and on every other replica.
    pub async fn invalidate(&self, what: Invalidation) {
        self.apply(what);
        if let Some(bus) = &self.bus {
            bus.publish(what).await;
        }
    }

    /// A receiver woken whenever `customer` is invalidated (on this process or, through
    /// Redis, on another), for an open event stream to check its key again.
    pub fn watch_streams(&self, customer: Uuid) -> tokio::sync::watch::Receiver<u64> {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.retain(|_, tx| tx.receiver_count() > 0);
        streams
            .entry(customer)
            .or_insert_with(|| tokio::sync::watch::channel(0).0)
            .subscribe()
    }

    /// Wakes the open streams of `customer` (of every customer with `None`).
    fn wake_streams(&self, customer: Option<Uuid>) {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let wake = |tx: &tokio::sync::watch::Sender<u64>| tx.send_modify(|n| *n += 1);
        match customer {
            Some(id) => streams.get(&id).into_iter().for_each(wake),
            None => streams.values().for_each(wake),
        }
    }

    /// When `ip` is banned, until when.
    pub fn banned_until(&self, ip: IpAddr) -> Option<DateTime<Utc>> {
        let bans = self.bans.read().unwrap_or_else(|e| e.into_inner());
        bans.get(&ip).copied().filter(|until| *until > Utc::now())
    }

    /// Notes one use of a key (written by [`GatewayCache::flush_key_uses`]).
    pub fn record_use(&self, key_id: Uuid, ip: Option<IpAddr>) {
        let now = Utc::now();
        let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
        let entry = uses.entry(key_id).or_insert(KeyUse {
            at: now,
            ip,
            count: 0,
        });
        entry.at = now;
        entry.ip = ip.or(entry.ip);
        entry.count += 1;
    }

    /// Writes the gathered key uses in one transaction.
    pub async fn flush_key_uses(&self, db: &crate::Db) -> crate::Result<usize> {
        let _one_at_a_time = self.flushing_uses.lock().await;
        let uses: Vec<(Uuid, KeyUse)> = {
            let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
            uses.drain().collect()
        };
        if uses.is_empty() {
            return Ok(0);
        }
        let mut tx = db.begin().await?;
        for (id, u) in &uses {
            crate::on_tx!(&mut tx, |conn| {
                sqlx::query(
                    "UPDATE api_keys SET last_used_at = $1, last_used_ip = $2, \
                     request_count = request_count + $3 WHERE id = $4",
                )
                .bind(u.at)
                .bind(u.ip.map(crate::db::Inet))
                .bind(u.count)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        tx.commit().await?;
        Ok(uses.len())
    }

    /// Forgets expired entries and bans.
    pub fn sweep(&self) {
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, k| k.cached_at.elapsed() < TTL + STALE_GRACE);
        self.routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (_, at)| at.elapsed() < TTL + STALE_GRACE);
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (_, at)| at.elapsed() < TOKEN_REUSE);
        let now = Utc::now();
        self.bans
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, until| *until > now);
    }

    /// Listens for the other replicas' invalidations until the process ends; reconnects
    /// after a failure, dropping everything (messages may have been missed meanwhile).
    pub async fn listen(self: Arc<Self>) {
        let Some(bus) = &self.bus else { return };
        let mut backoff = Duration::from_millis(200);
        loop {
            match bus.subscribe().await {
                Ok(mut pubsub) => {
                    backoff = Duration::from_millis(200);
                    self.apply(Invalidation::All);
                    use futures_util::StreamExt;
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let text: String = message.get_payload().unwrap_or_default();
                        match Invalidation::decode(&text) {
                            Some(what) => self.apply(what),
                            None => tracing::warn!("unknown gateway invalidation message"),
                        }
                    }
                    tracing::warn!("gateway invalidations: Redis subscription ended; reconnecting");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "gateway invalidations: cannot subscribe to Redis");
                }
            }
            self.apply(Invalidation::All);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

/// The Redis channel the replicas tell each other about changes on.
struct Bus {
    client: redis::Client,
    conn: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    channel: String,
}

impl Bus {
    fn new(url: &str, prefix: &str) -> Result<Bus, redis::RedisError> {
        Ok(Bus {
            client: redis::Client::open(url)?,
            conn: tokio::sync::OnceCell::new(),
            channel: format!("{prefix}gateway"),
        })
    }

    async fn publish(&self, what: Invalidation) {
        let conn = self
            .conn
            .get_or_try_init(|| redis::aio::ConnectionManager::new(self.client.clone()))
            .await;
        let result = match conn {
            Ok(conn) => {
                let mut conn = conn.clone();
                redis::cmd("PUBLISH")
                    .arg(&self.channel)
                    .arg(what.encode())
                    .query_async::<i64>(&mut conn)
                    .await
                    .map(|_| ())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot tell the other replicas about a change; they see it within {}s", (TTL + STALE_GRACE).as_secs());
        }
    }

    async fn subscribe(&self) -> Result<redis::aio::PubSub, redis::RedisError> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(&self.channel).await?;
        Ok(pubsub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(customer: Uuid) -> CachedKey {
        CachedKey::new(
            Uuid::new_v4(),
            customer,
            Arc::from(vec!["*".to_owned()]),
            None,
            false,
            Plan::Basic,
        )
    }

    #[test]
    fn invalidations_round_trip_through_their_wire_form() {
        for what in [
            Invalidation::All,
            Invalidation::Customer(Uuid::new_v4()),
            Invalidation::Ban("203.0.113.9".parse().unwrap(), 1_800_000_000),
            Invalidation::Ban("2001:db8::1".parse().unwrap(), 1_800_000_000),
        ] {
            assert_eq!(Invalidation::decode(&what.encode()), Some(what));
        }
        assert_eq!(Invalidation::decode("nonsense"), None);
    }

    #[test]
    fn a_customer_invalidation_drops_its_keys_and_route_only() {
        let cache = GatewayCache::new(None, "t:").unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let g = cache.generation();
        cache.put_key(g, [0xda; 32], key(a));
        cache.put_key(g, [0xdb; 32], key(b));
        let route = Route::new(Uuid::new_v4(), "http://w");
        cache.put_route(g, a, route.clone());
        cache.put_route(g, b, route);
        cache.apply(Invalidation::Customer(a));
        assert!(cache.key(&[0xda; 32]).is_missing());
        assert!(cache.route(a).is_missing());
        assert!(matches!(cache.key(&[0xdb; 32]), Lookup::Fresh(_)));
        assert!(matches!(cache.route(b), Lookup::Fresh(_)));
    }

    #[test]
    fn an_invalidation_wakes_the_open_streams_of_that_customer_only() {
        let cache = GatewayCache::new(None, "t:").unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let (mut on_a, on_b) = (cache.watch_streams(a), cache.watch_streams(b));
        // Received from another replica through Redis, or made here: the same apply.
        cache.apply(Invalidation::Customer(a));
        assert!(on_a.has_changed().unwrap());
        assert!(!on_b.has_changed().unwrap());
        on_a.mark_unchanged();
        cache.apply(Invalidation::All);
        assert!(on_a.has_changed().unwrap() && on_b.has_changed().unwrap());
        // A customer whose streams all closed is forgotten at the next watch.
        drop((on_a, on_b));
        let _c = cache.watch_streams(Uuid::new_v4());
        assert_eq!(cache.streams.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_does_not_fill_the_cache() {
        let cache = GatewayCache::new(None, "t:").unwrap();
        let c = Uuid::new_v4();
        let before = cache.generation();
        cache.apply(Invalidation::Customer(c)); // e.g. the key was revoked meanwhile
        cache.put_key(before, [0xd0; 32], key(c));
        assert!(cache.key(&[0xd0; 32]).is_missing());
    }

    /// A key `age` old, as if it had been read from the database then.
    fn aged(customer: Uuid, age: Duration) -> CachedKey {
        let mut k = key(customer);
        k.cached_at = Instant::now().checked_sub(age).expect("uptime");
        k
    }

    #[test]
    fn an_entry_past_its_ttl_is_read_again_by_one_request_while_the_others_keep_it() {
        let cache = GatewayCache::new(None, "t:").unwrap();
        let c = Uuid::new_v4();
        let g = cache.generation();
        cache.put_key(g, [1; 32], aged(c, TTL - Duration::from_secs(1)));
        assert!(matches!(cache.key(&[1; 32]), Lookup::Fresh(_)));

        cache.put_key(g, [1; 32], aged(c, TTL + Duration::from_secs(1)));
        let first = cache.key(&[1; 32]);
        let Lookup::Refresh(old, claim) = first else {
            panic!("the first request past the TTL reads the key again: {first:?}");
        };
        assert_eq!(old.customer_id, c);
        // Every other request meanwhile keeps the old entry, and asks nothing.
        for _ in 0..3 {
            assert!(matches!(cache.key(&[1; 32]), Lookup::Fresh(k) if k.customer_id == c));
        }
        // A read that failed gives the claim up: the next request tries again. Meanwhile
        // the old entry serves, while it stands.
        assert!(cache.key_still_servable(&[1; 32], &old));
        drop(claim);
        assert!(matches!(cache.key(&[1; 32]), Lookup::Refresh(..)));
        // Read again: fresh for everyone.
        cache.put_key(g, [1; 32], key(c));
        assert!(matches!(cache.key(&[1; 32]), Lookup::Fresh(_)));

        // Too old to serve (no request came during the grace): everyone reads it.
        cache.put_key(g, [1; 32], aged(c, TTL + STALE_GRACE));
        assert!(cache.key(&[1; 32]).is_missing());
        assert!(cache.key(&[1; 32]).is_missing());
        // And one found no longer valid is dropped.
        cache.put_key(g, [2; 32], key(c));
        cache.forget_key(&[2; 32]);
        assert!(cache.key(&[2; 32]).is_missing());
    }

    #[test]
    fn routes_past_their_ttl_are_read_again_by_one_request() {
        let cache = GatewayCache::new(None, "t:").unwrap();
        let c = Uuid::new_v4();
        let route = Route::new(Uuid::new_v4(), "http://w");
        let past = Instant::now()
            .checked_sub(TTL + Duration::from_secs(1))
            .expect("uptime");
        cache
            .routes
            .write()
            .unwrap()
            .insert(c, (route.clone(), past));
        let Lookup::Refresh(old, _claim) = cache.route(c) else {
            panic!("the first request past the TTL reads the route again");
        };
        assert_eq!(old.server_id, route.server_id);
        assert!(matches!(cache.route(c), Lookup::Fresh(r) if r.server_id == route.server_id));
        assert!(cache.route_still_servable(c, &old));
        cache.forget_route(c);
        assert!(cache.route(c).is_missing());
        assert!(!cache.route_still_servable(c, &old));
    }

    #[test]
    fn an_entry_dropped_or_replaced_while_it_was_read_again_no_longer_serves() {
        let cache = GatewayCache::new(None, "t:").unwrap();
        let c = Uuid::new_v4();
        let g = cache.generation();
        cache.put_key(g, [3; 32], aged(c, TTL + Duration::from_secs(1)));
        let Lookup::Refresh(old, _claim) = cache.key(&[3; 32]) else {
            panic!("past its TTL");
        };
        // Revoked through wasp while the read was under way (and the read failed).
        cache.apply(Invalidation::Customer(c));
        assert!(!cache.key_still_servable(&[3; 32], &old));
        // Replaced by a newer read: the old one is not served either.
        cache.put_key(cache.generation(), [3; 32], key(c));
        assert!(!cache.key_still_servable(&[3; 32], &old));
        // Past the grace.
        cache.put_key(cache.generation(), [4; 32], aged(c, TTL + STALE_GRACE));
        let stale = cache.keys.read().unwrap().get(&[4; 32]).cloned().unwrap();
        assert!(!cache.key_still_servable(&[4; 32], &stale));
    }

    #[test]
    fn bans_expire() {
        let cache = GatewayCache::new(None, "t:").unwrap();
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        cache.apply(Invalidation::Ban(ip, Utc::now().timestamp() + 60));
        assert!(cache.banned_until(ip).is_some());
        cache.apply(Invalidation::Ban(ip, Utc::now().timestamp() - 1));
        assert!(cache.banned_until(ip).is_none());
    }
}
