//! The WhatsApp Web client version live sessions announce, resolved once per worker.
//!
//! WhatsApp refuses logins from a client version it considers outdated, and the library, left
//! alone, fetches the current one from `web.whatsapp.com/sw.js` for every device every 24 h
//! and fails the connect when that fetch fails. Here the worker resolves it centrally and
//! builds every session with it: the operator's pinned version (`WASP_LIVE_CLIENT_VERSION`)
//! when set; otherwise the fetched one (at most once a day for the whole worker), falling
//! back to the last fetched or to [`BUILT_IN`] when WhatsApp's page cannot be read. A
//! failed fetch therefore never fails a login. The worker's `/health` reports the version
//! in use and where it came from.

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use whatsapp_rust::http::HttpClient;

/// A WhatsApp Web client version, `primary.secondary.tertiary` (e.g. `2.3000.1042742319`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(pub u32, pub u32, pub u32);

/// The version whatsapp-rust 0.7.0 ships as its default: known to log in when that release
/// was made. Used when nothing better is known.
pub const BUILT_IN: Version = Version(2, 3000, 1_042_742_319);

/// How long a fetched version is used before it is fetched again.
const FRESH_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long after a failed fetch the next one is tried (logins meanwhile use the fallback).
const RETRY_AFTER: Duration = Duration::from_secs(600);
/// Bound on one fetch of WhatsApp's page.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl std::str::FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Version, String> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        let bad = || format!("`{s}` is not a version such as 2.3000.1042742319");
        let [a, b, c] = parts.as_slice() else {
            return Err(bad());
        };
        Ok(Version(
            a.parse().map_err(|_| bad())?,
            b.parse().map_err(|_| bad())?,
            c.parse().map_err(|_| bad())?,
        ))
    }
}

impl From<Version> for (u32, u32, u32) {
    fn from(v: Version) -> Self {
        (v.0, v.1, v.2)
    }
}

/// Where the version in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Set by the operator (`WASP_LIVE_CLIENT_VERSION`); never fetched.
    Pinned,
    /// Read from WhatsApp's page.
    Fetched,
    /// The built-in or last fetched version, because no fetch succeeded (yet).
    Fallback,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Pinned => "pinned",
            Source::Fetched => "fetched",
            Source::Fallback => "fallback",
        }
    }
}

struct State {
    current: Version,
    source: Source,
    /// When the last fetch was tried, and whether it succeeded.
    tried: Option<(Instant, bool)>,
}

/// The worker's client version (shared by every live session).
pub struct ClientVersion {
    pinned: Option<Version>,
    http: Option<Arc<dyn HttpClient>>,
    state: Mutex<State>,
    /// One fetch at a time: logins meanwhile wait for it instead of fetching too.
    fetching: tokio::sync::Mutex<()>,
}

impl fmt::Debug for ClientVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (version, source) = self.current();
        write!(f, "ClientVersion({version}, {})", source.as_str())
    }
}

impl ClientVersion {
    /// Always `version`, as the operator asked.
    pub fn pinned(version: Version) -> ClientVersion {
        ClientVersion::new(Some(version), None)
    }

    /// Fetched from WhatsApp's page, falling back to [`BUILT_IN`].
    pub fn fetched() -> ClientVersion {
        ClientVersion::fetched_with(Arc::new(whatsapp_rust::http::UreqHttpClient::new()))
    }

    /// Fetched through `http`, falling back to [`BUILT_IN`].
    pub fn fetched_with(http: Arc<dyn HttpClient>) -> ClientVersion {
        ClientVersion::new(None, Some(http))
    }

    /// Never fetched: [`BUILT_IN`] (tests, and machines that do not reach WhatsApp).
    pub fn built_in() -> ClientVersion {
        ClientVersion::new(None, None)
    }

    fn new(pinned: Option<Version>, http: Option<Arc<dyn HttpClient>>) -> ClientVersion {
        ClientVersion {
            state: Mutex::new(State {
                current: pinned.unwrap_or(BUILT_IN),
                source: if pinned.is_some() {
                    Source::Pinned
                } else {
                    Source::Fallback
                },
                tried: None,
            }),
            pinned,
            http,
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The version in use now and where it came from (for `/health`).
    pub fn current(&self) -> (Version, Source) {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (state.current, state.source)
    }

    /// The version a session starting now announces: fetched again when the last fetch is
    /// older than a day (or failed more than 10 minutes ago); never an error.
    pub async fn resolve(&self) -> Version {
        if self.pinned.is_some() || !self.due() {
            return self.current().0;
        }
        let Some(http) = &self.http else {
            return self.current().0;
        };
        let _one = self.fetching.lock().await;
        if !self.due() {
            return self.current().0;
        }
        let fetched = tokio::time::timeout(
            FETCH_TIMEOUT,
            whatsapp_rust::version::fetch_latest_app_version(http),
        )
        .await;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match fetched {
            Ok(Ok((a, b, c))) => {
                state.current = Version(a, b, c);
                state.source = Source::Fetched;
                state.tried = Some((Instant::now(), true));
                tracing::info!(version = %state.current, "WhatsApp Web client version fetched");
            }
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {} s", FETCH_TIMEOUT.as_secs()),
                };
                state.tried = Some((Instant::now(), false));
                // Keep the last fetched version if there is one; it is older but was current.
                if state.source != Source::Fetched {
                    state.source = Source::Fallback;
                }
                tracing::warn!(version = %state.current, %error,
                    "could not fetch WhatsApp Web's client version; using the fallback");
            }
        }
        state.current
    }

    fn due(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.tried {
            None => true,
            Some((at, true)) => at.elapsed() >= FRESH_FOR,
            Some((at, false)) => at.elapsed() >= RETRY_AFTER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use whatsapp_rust::http::{HttpRequest, HttpResponse};

    /// Answers every request with `status` and `body`, counting them.
    struct Page {
        status: u16,
        body: &'static str,
        calls: AtomicUsize,
    }

    #[whatsapp_rust::async_trait]
    impl HttpClient for Page {
        async fn execute(
            &self,
            _request: HttpRequest,
        ) -> whatsapp_rust::anyhow::Result<HttpResponse> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.status == 0 {
                return Err(whatsapp_rust::anyhow::anyhow!("connection refused"));
            }
            Ok(HttpResponse {
                status_code: self.status,
                body: self.body.as_bytes().to_vec(),
            })
        }
    }

    fn page(status: u16, body: &'static str) -> Arc<Page> {
        Arc::new(Page {
            status,
            body,
            calls: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn an_unreachable_page_falls_back_to_the_built_in_version_and_is_not_asked_again_at_once()
    {
        for failing in [
            page(0, ""),
            page(503, "<html>"),
            page(200, "no version here"),
        ] {
            let version = ClientVersion::fetched_with(failing.clone());
            assert_eq!(version.resolve().await, BUILT_IN);
            assert_eq!(version.current(), (BUILT_IN, Source::Fallback));
            assert_eq!(version.resolve().await, BUILT_IN);
            assert_eq!(
                failing.calls.load(Ordering::SeqCst),
                1,
                "retried later only"
            );
        }
    }

    #[tokio::test]
    async fn a_fetched_version_is_used_by_every_session_for_a_day() {
        let ok = page(200, r#"self.__swData={"client_revision":1026131876,"x":1}"#);
        let version = ClientVersion::fetched_with(ok.clone());
        assert_eq!(
            version.current().1,
            Source::Fallback,
            "before the first login"
        );
        assert_eq!(version.resolve().await, Version(2, 3000, 1_026_131_876));
        assert_eq!(version.resolve().await, Version(2, 3000, 1_026_131_876));
        assert_eq!(version.current().1, Source::Fetched);
        assert_eq!(
            ok.calls.load(Ordering::SeqCst),
            1,
            "one fetch for the worker"
        );
    }

    #[tokio::test]
    async fn an_operator_pinned_version_is_never_fetched() {
        let pinned: Version = "2.3000.1".parse().expect("version");
        let version = ClientVersion::pinned(pinned);
        assert_eq!(version.resolve().await, Version(2, 3000, 1));
        assert_eq!(version.current(), (Version(2, 3000, 1), Source::Pinned));
        assert!("2.3000".parse::<Version>().is_err());
        assert!("2.x.1".parse::<Version>().is_err());
        assert_eq!(BUILT_IN.to_string(), "2.3000.1042742319");
    }
}
