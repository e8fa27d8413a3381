//! Plan limits on the customer API: requests per minute, hour and day, and
//! messages per day, each a GCRA (generic cell rate algorithm) bucket per customer.
//!
//! GCRA keeps one number per bucket, the theoretical arrival time (TAT): a request of cost
//! `c` is allowed when `max(TAT, now) + c·T − now ≤ period`, where `T = period / limit`;
//! allowed requests move the TAT. Every rule of a request is checked before any is
//! committed, so a request refused by one rule consumes nothing from the others.

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::{
    collections::HashMap,
    fmt,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};
use uuid::Uuid;
use wasp_protocol::Plan;

/// One limit: `limit` units per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub limit: u32,
    pub period: Duration,
}

impl Rule {
    fn interval(&self) -> Duration {
        self.period / self.limit.max(1)
    }
}

/// What a check answered, for the `X-RateLimit-*` headers and a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The rule the headers describe: the one that refused, or else the one with the least
    /// room left.
    pub rule: Option<Rule>,
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset_after: Duration,
    /// When refused: how long until the request would be allowed.
    pub retry_after: Duration,
}

impl Decision {
    fn unlimited() -> Decision {
        Decision {
            allowed: true,
            rule: None,
            remaining: u32::MAX,
            reset_after: Duration::ZERO,
            retry_after: Duration::ZERO,
        }
    }
}

/// The request rules of a plan (enterprise: none).
pub fn request_rules(plan: Plan) -> Vec<Rule> {
    let l = plan.limits();
    [
        ("requests_per_minute", l.requests_per_minute, 60),
        ("requests_per_hour", l.requests_per_hour, 3_600),
        ("requests_per_day", l.requests_per_day, 86_400),
    ]
    .into_iter()
    .filter_map(|(name, limit, secs)| {
        limit.map(|limit| Rule {
            name,
            limit,
            period: Duration::from_secs(secs),
        })
    })
    .collect()
}

/// The message rule of a plan, for send operations (enterprise: none).
pub fn message_rule(plan: Plan) -> Option<Rule> {
    plan.limits().messages_per_day.map(|limit| Rule {
        name: "messages_per_day",
        limit,
        period: Duration::from_secs(86_400),
    })
}

/// Who a bucket counts: a customer (plan limits) or a client address (abuse limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Customer(Uuid),
    Ip(IpAddr),
}

impl From<Uuid> for Subject {
    fn from(id: Uuid) -> Subject {
        Subject::Customer(id)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Customer(id) => write!(f, "{id}"),
            Subject::Ip(ip) => write!(f, "ip:{ip}"),
        }
    }
}

/// How long abuse strikes of an address are remembered.
pub const STRIKE_WINDOW: Duration = Duration::from_secs(600);

/// In-process limiter (one management process, `WASP_REDIS_URL` unset).
pub struct LocalLimiter {
    epoch: Instant,
    /// TAT per (subject, rule), as time since `epoch`.
    buckets: Mutex<HashMap<(Subject, &'static str), Duration>>,
    /// Abuse strikes per address: count and when the first was given.
    strikes: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Default for LocalLimiter {
    fn default() -> Self {
        LocalLimiter {
            epoch: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
            strikes: Mutex::new(HashMap::new()),
        }
    }
}

impl LocalLimiter {
    /// Checks `rules` for one request of `subject` and, when every rule allows it, counts it.
    pub fn check(&self, subject: impl Into<Subject>, rules: &[Rule]) -> Decision {
        self.check_at(subject.into(), rules, self.epoch.elapsed())
    }

    /// Gives `ip` one more strike and answers how many it has within [`STRIKE_WINDOW`].
    pub fn strike(&self, ip: IpAddr) -> u32 {
        let mut strikes = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        let entry = strikes.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() > STRIKE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        entry.0
    }

    fn check_at(&self, customer: Subject, rules: &[Rule], now: Duration) -> Decision {
        if rules.is_empty() {
            return Decision::unlimited();
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut outcomes = Vec::with_capacity(rules.len());
        for rule in rules {
            let tat = buckets
                .get(&(customer, rule.name))
                .copied()
                .unwrap_or(now)
                .max(now);
            outcomes.push((rule, gcra(rule, tat, now)));
        }
        let refused = outcomes.iter().find(|(_, o)| !o.allowed);
        if refused.is_none() {
            for (rule, o) in &outcomes {
                buckets.insert((customer, rule.name), o.new_tat);
            }
        }
        let (rule, o) = refused
            .or_else(|| outcomes.iter().min_by_key(|(_, o)| o.remaining))
            .copied()
            .expect("at least one rule");
        Decision {
            allowed: refused.is_none(),
            rule: Some(*rule),
            remaining: o.remaining,
            reset_after: o.reset_after,
            retry_after: o.retry_after,
        }
    }

    /// Forgets buckets that are full again (their TAT is in the past), so memory follows
    /// the active customers.
    pub fn sweep(&self) {
        let now = self.epoch.elapsed();
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, tat| *tat > now);
        self.strikes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (_, first)| first.elapsed() <= STRIKE_WINDOW);
    }
}

/// The plan limiter of this deployment: in process, or shared through Redis
/// (`WASP_REDIS_URL`). Both run the same GCRA and answer the same decisions.
pub enum Limiter {
    Local(LocalLimiter),
    Redis(Box<RedisLimiter>),
}

impl Limiter {
    pub fn new(redis_url: Option<&str>, prefix: &str) -> Result<Limiter, redis::RedisError> {
        Ok(match redis_url {
            None => Limiter::Local(LocalLimiter::default()),
            Some(url) => Limiter::Redis(Box::new(RedisLimiter::new(url, prefix)?)),
        })
    }

    /// Checks `rules` for one request of `customer` and counts it when all allow it. When
    /// Redis cannot be reached the request is allowed (and logged): the API stays up.
    pub async fn check(&self, subject: impl Into<Subject>, rules: &[Rule]) -> Decision {
        let subject = subject.into();
        match self {
            Limiter::Local(l) => l.check(subject, rules),
            Limiter::Redis(r) => match r.check(subject, rules).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "plan limits unavailable (Redis); request allowed");
                    Decision::unlimited()
                }
            },
        }
    }

    /// Gives `ip` an abuse strike; answers its strikes within [`STRIKE_WINDOW`] (1 when
    /// Redis cannot be reached).
    pub async fn strike(&self, ip: IpAddr) -> u32 {
        match self {
            Limiter::Local(l) => l.strike(ip),
            Limiter::Redis(r) => r.strike(ip).await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "abuse strikes unavailable (Redis)");
                1
            }),
        }
    }

    pub fn sweep(&self) {
        if let Limiter::Local(l) = self {
            l.sweep();
        }
    }
}

/// GCRA over every rule of a request in one atomic script, on Redis's clock (so replicas
/// agree). KEYS: one bucket per rule; ARGV: interval and period of each rule, in µs.
/// Answers {allowed, rule index (1-based), remaining, reset µs, retry µs}.
const GCRA_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local refused, best, best_remaining, reset, retry = 0, 0, -1, 0, 0
local new_tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local period = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local used = new_tat - now
  if used <= period then
    new_tats[i] = new_tat
    local remaining = math.floor((period - used) / interval)
    if refused == 0 and (best_remaining < 0 or remaining < best_remaining) then
      best, best_remaining, reset = i, remaining, used
    end
  elseif refused == 0 then
    refused, reset, retry = i, tat - now, used - period
  end
end
if refused > 0 then
  return {0, refused, 0, reset, retry}
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], new_tats[i], 'PX', math.floor((new_tats[i] - now) / 1000) + 1000)
end
return {1, best, best_remaining, reset, 0}
";

/// Plan limits counted in Redis, shared by every management replica.
pub struct RedisLimiter {
    client: redis::Client,
    conn: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    prefix: String,
    script: redis::Script,
}

impl RedisLimiter {
    pub fn new(url: &str, prefix: &str) -> Result<RedisLimiter, redis::RedisError> {
        Ok(RedisLimiter {
            client: redis::Client::open(url)?,
            conn: tokio::sync::OnceCell::new(),
            prefix: prefix.to_owned(),
            script: redis::Script::new(GCRA_SCRIPT),
        })
    }

    async fn connection(&self) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
        self.conn
            .get_or_try_init(|| redis::aio::ConnectionManager::new(self.client.clone()))
            .await
            .cloned()
    }

    pub async fn strike(&self, ip: IpAddr) -> Result<u32, redis::RedisError> {
        let key = format!("{}strikes:{ip}", self.prefix);
        let mut conn = self.connection().await?;
        // The window starts at the first strike (SET NX EX works on every Redis version).
        let (count,): (u32,) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(STRIKE_WINDOW.as_secs())
            .arg("NX")
            .ignore()
            .incr(&key, 1)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }

    pub async fn check(
        &self,
        customer: Subject,
        rules: &[Rule],
    ) -> Result<Decision, redis::RedisError> {
        if rules.is_empty() {
            return Ok(Decision::unlimited());
        }
        let mut invocation = self.script.prepare_invoke();
        for rule in rules {
            invocation
                .key(format!("{}rl:{customer}:{}", self.prefix, rule.name))
                .arg(rule.interval().as_micros() as u64)
                .arg(rule.period.as_micros() as u64);
        }
        let mut conn = self.connection().await?;
        let (allowed, index, remaining, reset, retry): (i64, i64, i64, i64, i64) =
            invocation.invoke_async(&mut conn).await?;
        let rule = rules.get((index.max(1) - 1) as usize).copied();
        Ok(Decision {
            allowed: allowed == 1,
            rule,
            remaining: remaining.max(0) as u32,
            reset_after: Duration::from_micros(reset.max(0) as u64),
            retry_after: Duration::from_micros(retry.max(0) as u64),
        })
    }
}

#[derive(Clone, Copy)]
struct Outcome {
    allowed: bool,
    new_tat: Duration,
    remaining: u32,
    reset_after: Duration,
    retry_after: Duration,
}

/// One GCRA step for a request of cost 1, the bucket's TAT already at least `now`.
fn gcra(rule: &Rule, tat: Duration, now: Duration) -> Outcome {
    let t = rule.interval();
    let new_tat = tat + t;
    let used = new_tat - now;
    if used <= rule.period {
        let room = rule.period - used;
        Outcome {
            allowed: true,
            new_tat,
            remaining: (room.as_nanos() / t.as_nanos().max(1)) as u32,
            reset_after: used,
            retry_after: Duration::ZERO,
        }
    } else {
        Outcome {
            allowed: false,
            new_tat: tat,
            remaining: 0,
            reset_after: tat - now,
            retry_after: used - rule.period,
        }
    }
}

/// Per-IP throttle for sign-in attempts (operators' and customers'), ahead of the
/// per-e-mail lockout of `auth/throttle.rs`.
pub struct LoginThrottle {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginThrottle {
    /// `per_minute` attempts a minute per address, with that many in a burst.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        LoginThrottle {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
        }
    }

    /// `Err(seconds to wait)` when the address has used up its attempts.
    pub fn check(&self, ip: Option<IpAddr>) -> std::result::Result<(), u64> {
        let Some(ip) = ip else { return Ok(()) };
        self.limiter.check_key(&ip).map_err(|not_until| {
            let clock = governor::clock::DefaultClock::default();
            not_until.wait_time_from(clock.now()).as_secs().max(1)
        })
    }

    /// Drops idle entries so the map does not grow without bound.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(limit: u32, secs: u64) -> Rule {
        Rule {
            name: "r",
            limit,
            period: Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_full_bucket_allows_exactly_the_limit_then_refuses_until_a_unit_drips_back() {
        let l = LocalLimiter::default();
        let c = Subject::Customer(Uuid::new_v4());
        let r = [rule(60, 60)];
        let t0 = Duration::from_secs(100);
        for i in 0..60 {
            let d = l.check_at(c, &r, t0);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 59 - i);
        }
        let d = l.check_at(c, &r, t0);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, Duration::from_secs(1), "one unit per second");
        assert!(!l.check_at(c, &r, t0 + Duration::from_millis(999)).allowed);
        assert!(l.check_at(c, &r, t0 + Duration::from_secs(1)).allowed);
        // Customers are independent.
        assert!(
            l.check_at(Subject::Customer(Uuid::new_v4()), &r, t0)
                .allowed
        );
    }

    #[test]
    fn a_refusal_by_one_rule_consumes_nothing_from_the_others() {
        let l = LocalLimiter::default();
        let c = Subject::Customer(Uuid::new_v4());
        let minute = Rule {
            name: "minute",
            ..rule(2, 60)
        };
        let day = Rule {
            name: "day",
            ..rule(100, 86_400)
        };
        let t = Duration::from_secs(10);
        assert!(l.check_at(c, &[minute, day], t).allowed);
        assert!(l.check_at(c, &[minute, day], t).allowed);
        let refused = l.check_at(c, &[minute, day], t);
        assert!(!refused.allowed);
        assert_eq!(refused.rule.map(|r| r.name), Some("minute"));
        let d = l.check_at(c, &[day], t);
        assert_eq!(d.remaining, 97, "only the two allowed requests counted");
    }

    #[test]
    fn plans_have_their_table_limits_and_enterprise_none() {
        assert_eq!(request_rules(Plan::Basic)[0].limit, 60);
        assert_eq!(request_rules(Plan::Pro).len(), 3);
        assert!(request_rules(Plan::Enterprise).is_empty());
        assert_eq!(message_rule(Plan::Basic).map(|r| r.limit), Some(1_000));
        assert_eq!(message_rule(Plan::Enterprise), None);
        let l = LocalLimiter::default();
        assert!(l.check(Uuid::new_v4(), &[]).allowed);
    }
}
