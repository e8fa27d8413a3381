//! The gateway's keep-alive connections to plain-http workers.
//!
//! A pool of HTTP/1 connections per worker address over hyper's connection API. A
//! connection goes back to the pool the moment its answer's body has been read to the end
//! (or, for an answer without a body, when the answer arrives): no task per request to
//! watch for it, no lock held while a request is under way. Idle connections are reused
//! newest first, so the ones left unused age out; a connection idle longer than the
//! workers keep one open is never reused.

use axum::body::Body;
use axum::http::{uri::Authority, Request, Response};
use hyper::{
    body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint},
    client::conn::http1::SendRequest,
};
use hyper_util::rt::TokioIo;
use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("connect to {0}: {1}")]
    Connect(Authority, std::io::Error),
    #[error("connect to {0}: timed out")]
    ConnectTimeout(Authority),
    #[error("{0}")]
    Http(#[from] hyper::Error),
}

/// How the pool treats its connections.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub connect_timeout: Duration,
    /// A connection idle longer is closed, not reused (below the workers' own idle cut).
    pub idle_timeout: Duration,
    /// Idle connections kept per worker; beyond, a returned connection is closed.
    pub max_idle_per_host: usize,
}

/// Pooled keep-alive HTTP/1 connections, per worker address. Cheap to clone.
#[derive(Clone)]
pub struct Upstream(Arc<Shared>);

struct Shared {
    config: PoolConfig,
    /// By the authority's text (`Authority` hashes itself a byte at a time, lowercased;
    /// ours come from the servers' registered URLs, spelt the same every time).
    idle: Mutex<crate::cache::FastMap<Box<str>, Vec<Idle>>>,
}

struct Idle {
    sender: SendRequest<Body>,
    since: Instant,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("idle", &self.idle_connections())
            .finish()
    }
}

impl Upstream {
    pub fn new(config: PoolConfig) -> Upstream {
        Upstream(Arc::new(Shared {
            config,
            idle: Mutex::default(),
        }))
    }

    /// Sends `req` (origin-form URI, `Host` set by the caller) to `authority` over an idle
    /// connection or a new one. A request refused by a pooled connection before any of it
    /// was sent (the worker closed it meanwhile) is sent again over a new connection.
    pub async fn send(
        &self,
        authority: &Authority,
        mut req: Request<Body>,
    ) -> Result<Response<Pooled>, UpstreamError> {
        while let Some(mut sender) = self.checkout(authority) {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(response) => return Ok(self.pooled(authority, sender, response)),
                Err(mut e) => match e.take_message() {
                    // Not sent: try the next connection.
                    Some(unsent) => req = unsent,
                    None => return Err(e.into_error().into()),
                },
            }
        }
        // Boxed: connecting is the cold path, and its future is the largest part of this one.
        let mut sender = Box::pin(self.connect(authority)).await?;
        let response = sender.send_request(req).await?;
        Ok(self.pooled(authority, sender, response))
    }

    /// The most recently used idle connection to `authority` that is still open and fresh.
    fn checkout(&self, authority: &Authority) -> Option<SendRequest<Body>> {
        let mut idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(authority.as_str())?;
        while let Some(conn) = list.pop() {
            if !conn.sender.is_closed() && conn.since.elapsed() < self.0.config.idle_timeout {
                return Some(conn.sender);
            }
        }
        None
    }

    async fn connect(&self, authority: &Authority) -> Result<SendRequest<Body>, UpstreamError> {
        let port = authority.port_u16().unwrap_or(80);
        let stream = tokio::time::timeout(
            self.0.config.connect_timeout,
            tokio::net::TcpStream::connect((authority.host(), port)),
        )
        .await
        .map_err(|_| UpstreamError::ConnectTimeout(authority.clone()))?
        .map_err(|e| UpstreamError::Connect(authority.clone(), e))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "worker connection ended");
            }
        });
        Ok(sender)
    }

    fn pooled(
        &self,
        authority: &Authority,
        sender: SendRequest<Body>,
        response: Response<Incoming>,
    ) -> Response<Pooled> {
        let (parts, body) = response.into_parts();
        let mut body = Pooled {
            body,
            home: Some(Home {
                pool: self.clone(),
                authority: authority.clone(),
                sender,
            }),
        };
        body.return_if_done();
        Response::from_parts(parts, body)
    }

    fn put_back(&self, authority: Authority, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let max = self.0.config.max_idle_per_host;
        let mut idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner());
        let conn = Idle {
            sender,
            since: Instant::now(),
        };
        match idle.get_mut(authority.as_str()) {
            Some(list) if list.len() < max => list.push(conn),
            Some(_) => {}
            None if max > 0 => {
                idle.insert(Box::from(authority.as_str()), vec![conn]);
            }
            None => {}
        }
    }

    /// Closes the connections idle too long (called now and then; a checkout skips them
    /// anyway).
    pub fn sweep(&self) {
        let timeout = self.0.config.idle_timeout;
        let mut idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|_, list| {
            list.retain(|c| !c.sender.is_closed() && c.since.elapsed() < timeout);
            !list.is_empty()
        });
    }

    /// Idle connections held now, over all workers.
    pub fn idle_connections(&self) -> usize {
        let idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.values().map(Vec::len).sum()
    }
}

#[derive(Debug)]
struct Home {
    pool: Upstream,
    authority: Authority,
    sender: SendRequest<Body>,
}

/// A worker's answer body; its connection goes back to the pool when the body has been
/// read to its end. Dropped before its end, the connection is closed instead (what is left
/// of the answer would have to be read first).
#[derive(Debug)]
pub struct Pooled {
    body: Incoming,
    home: Option<Home>,
}

impl Pooled {
    fn return_if_done(&mut self) {
        if self.body.is_end_stream() {
            if let Some(home) = self.home.take() {
                home.pool.put_back(home.authority, home.sender);
            }
        }
    }
}

impl HttpBody for Pooled {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        match &frame {
            Poll::Ready(None) => {
                if let Some(home) = this.home.take() {
                    home.pool.put_back(home.authority, home.sender);
                }
            }
            Poll::Ready(Some(Ok(_))) => this.return_if_done(),
            // An error: the connection is not reused.
            Poll::Ready(Some(Err(_))) => this.home = None,
            Poll::Pending => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.return_if_done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{routing::get, Router};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A server counting the connections it accepted.
    async fn server() -> (Authority, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let app = Router::new()
            .route("/small", get(|| async { "hello" }))
            .route("/big", get(|| async { vec![7u8; 1 << 20] }))
            .route(
                "/empty",
                get(|| async { axum::http::StatusCode::NO_CONTENT }),
            );
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let app = app.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        tower::ServiceExt::oneshot(app.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (addr.to_string().parse().unwrap(), accepted)
    }

    impl Pooled {
        async fn read_all(self) -> Bytes {
            axum::body::to_bytes(Body::new(self), usize::MAX)
                .await
                .unwrap()
        }
    }

    fn get_req(authority: &Authority, path: &str) -> Request<Body> {
        Request::builder()
            .uri(path)
            .header("host", authority.as_str())
            .body(Body::empty())
            .unwrap()
    }

    fn pool() -> Upstream {
        Upstream::new(PoolConfig {
            connect_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(8),
            max_idle_per_host: 4,
        })
    }

    #[tokio::test]
    async fn answers_read_to_the_end_reuse_one_connection() {
        let (authority, accepted) = server().await;
        let pool = pool();
        for path in ["/small", "/big", "/empty", "/small", "/big"] {
            let response = pool
                .send(&authority, get_req(&authority, path))
                .await
                .unwrap();
            let body = response.into_body().read_all().await;
            let expected = match path {
                "/small" => 5,
                "/big" => 1 << 20,
                _ => 0,
            };
            assert_eq!(body.len(), expected, "{path}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(pool.idle_connections(), 1);
    }

    #[tokio::test]
    async fn a_body_dropped_before_its_end_closes_its_connection() {
        let (authority, accepted) = server().await;
        let pool = pool();
        let response = pool
            .send(&authority, get_req(&authority, "/big"))
            .await
            .unwrap();
        drop(response);
        assert_eq!(pool.idle_connections(), 0);
        let response = pool
            .send(&authority, get_req(&authority, "/small"))
            .await
            .unwrap();
        assert_eq!(&response.into_body().read_all().await[..], b"hello");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_requests_open_connections_and_keep_at_most_the_limit() {
        let (authority, accepted) = server().await;
        let pool = pool();
        let mut answers = Vec::new();
        for _ in 0..6 {
            answers.push(
                pool.send(&authority, get_req(&authority, "/small"))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 6);
        for answer in answers {
            answer.into_body().read_all().await;
        }
        assert_eq!(pool.idle_connections(), 4);
    }

    #[tokio::test]
    async fn a_connection_the_worker_closed_while_idle_is_replaced() {
        // Answers one request per connection, keep-alive, then closes it shortly after.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority: Authority = listener.local_addr().unwrap().to_string().parse().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                    }
                    stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                });
            }
        });
        let pool = pool();
        for _ in 0..2 {
            let response = pool
                .send(&authority, get_req(&authority, "/"))
                .await
                .unwrap();
            assert_eq!(&response.into_body().read_all().await[..], b"ok");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_worker_that_is_down_is_an_error() {
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority: Authority = closed.local_addr().unwrap().to_string().parse().unwrap();
        drop(closed);
        let refused = pool().send(&authority, get_req(&authority, "/")).await;
        assert!(
            matches!(refused, Err(UpstreamError::Connect(..))),
            "{refused:?}"
        );
    }
}
