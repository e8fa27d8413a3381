//! The transport both roles serve HTTP with: HTTP/1.1 and h2c on one port,
//! with bounds on what a client may make us hold — header size and count, URL length, time
//! to send the headers, time between body bytes — and a bounded graceful shutdown.
//!
//! `axum::serve` exposes none of hyper's connection settings, so this drives
//! hyper-util's `auto` connection builder directly and hands every request to the router
//! with [`ConnectInfo<SocketAddr>`] set, as `into_make_service_with_connect_info` does.

use crate::error::{code, Error};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Request},
    http::{header, HeaderValue, StatusCode, Uri, Version},
    response::{IntoResponse, Response},
};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
};
use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::{pin, Pin},
    sync::{
        atomic::{AtomicU8, Ordering},
        Arc,
    },
    task::{ready, Context, Poll},
    time::Duration,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    time::Sleep,
};
use tower::ServiceExt;

/// What one client may make a server hold; [`Limits::default`] is the production setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of request line and headers together (HTTP/1.1: hyper's read buffer, which
    /// cannot be below 8 KiB; h2: the header list size). Beyond it: 431, or the connection
    /// is closed.
    pub max_header_bytes: usize,
    /// Header fields in one request (HTTP/1.1); beyond it: 431.
    pub max_headers: usize,
    /// Time a client has to send a request's headers, from its connection or from the end
    /// of its previous request; a client that takes longer is disconnected (slowloris).
    pub header_read_timeout: Duration,
    /// Longest wait for the next bytes of a request body while a handler reads it; a body
    /// that stalls that long ends the request with 408 REQUEST_TIMEOUT.
    pub body_timeout: Duration,
    /// Longest time a whole request body may take, from the request's arrival: a client
    /// trickling a byte now and then cannot hold a connection for ever (408 as well).
    pub body_deadline: Duration,
    /// Bytes of the request target (path and query); longer: 414 URI_TOO_LONG.
    pub max_uri_bytes: usize,
    /// Bytes of a request body: a request that announces more is answered 413 at once,
    /// without reading it; a body without a length that grows past it fails, and the
    /// request is answered 413.
    pub max_body_bytes: u64,
    /// After shutdown is asked for, how long requests in flight may take to finish before
    /// their connections are dropped.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            // 10 MB (the body limit) at 100 kB/s.
            body_deadline: Duration::from_secs(120),
            max_uri_bytes: 8 * 1024,
            max_body_bytes: 10 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// hyper refuses an HTTP/1 read buffer smaller than this.
const MIN_H1_BUFFER: usize = 8 * 1024;
/// What an h2c client sends first; any other first bytes mean HTTP/1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then stops
/// accepting and lets requests in flight finish (for at most `limits.shutdown_grace`).
/// Accept errors (e.g. out of file descriptors) are logged and retried, never fatal.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: Limits,
) -> io::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let limits = Arc::new(limits);
    let builder = Arc::new(connection_builder(&limits));
    let graceful = GracefulShutdown::new();
    // Tells connections still waiting for their first bytes that we are closing.
    let (closing, closing_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let watcher = graceful.watcher();
        let (app, limits, builder) = (app.clone(), limits.clone(), builder.clone());
        let mut closing_rx = closing_rx.clone();
        tokio::spawn(async move {
            let first_bytes = tokio::select! {
                ready = first_bytes(&stream, limits.header_read_timeout) => ready,
                _ = closing_rx.wait_for(|closing| *closing) => false,
            };
            if !first_bytes {
                return;
            }
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                handle(app.clone(), peer, limits.clone(), req)
            });
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::trace!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(
                grace_secs = limits.shutdown_grace.as_secs(),
                "requests still in flight after the shutdown grace period; dropping them"
            );
        }
    }
    Ok(())
}

fn connection_builder(limits: &Limits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_H1_BUFFER))
        .max_headers(limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(20))
        // Extended CONNECT, as axum::serve enables it (HTTP/2 WebSockets).
        .enable_connect_protocol();
    builder
}

/// Waits (at most `timeout`) until the client has sent enough to tell HTTP/1 from h2c.
/// hyper's header timer only starts once that is known, so a client that connects and
/// sends nothing would otherwise hold its connection for ever. `false`: drop it.
async fn first_bytes(stream: &TcpStream, timeout: Duration) -> bool {
    let wait = async {
        let mut buf = [0u8; H2_PREFACE.len()];
        loop {
            let n = stream.peek(&mut buf).await?;
            if n == 0 {
                return Ok::<_, io::Error>(false);
            }
            if n == buf.len() || buf[..n] != H2_PREFACE[..n] {
                return Ok(true);
            }
            // A partial h2 preface: peek answers at once while those bytes are unread.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    matches!(tokio::time::timeout(timeout, wait).await, Ok(Ok(true)))
}

/// Logs an accept error; pauses first when it is about us (out of descriptors, memory)
/// rather than about the one connection.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        tracing::debug!(error = %e, "connection failed during accept");
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One request: the URL length check, the body stall guard and `ConnectInfo`, around the
/// router.
async fn handle<S>(
    app: S,
    peer: SocketAddr,
    limits: Arc<Limits>,
    req: Request<Incoming>,
) -> Result<Response, Infallible>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    let version = req.version();
    if uri_len(req.uri()) > limits.max_uri_bytes {
        let error = Error::client(
            StatusCode::URI_TOO_LONG,
            code::URI_TOO_LONG,
            format!("the request URL exceeds {} bytes", limits.max_uri_bytes),
        );
        return Ok(closing(error.into_response(), version));
    }
    let announced = hyper::body::Body::size_hint(req.body()).exact();
    if announced.is_some_and(|n| n > limits.max_body_bytes) {
        return Ok(closing(
            crate::error::payload_too_large().into_response(),
            version,
        ));
    }
    // A request without a body (most GETs) cannot stall nor grow: no guard, no flag to
    // share.
    let guarded =
        (!hyper::body::Body::is_end_stream(req.body())).then(|| Arc::new(AtomicU8::new(BODY_OK)));
    let mut req = match &guarded {
        None => req.map(Body::new),
        Some(state) => req.map(|body| {
            Body::new(BodyGuard {
                inner: Body::new(body),
                timeout: limits.body_timeout,
                sleep: None,
                deadline: Box::pin(tokio::time::sleep(limits.body_deadline)),
                left: limits.max_body_bytes,
                state: state.clone(),
            })
        }),
    };
    req.extensions_mut().insert(ConnectInfo(peer));
    let response = match app.oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let error = match guarded.map(|s| s.load(Ordering::Acquire)) {
        Some(BODY_STALLED) => Error::client(
            StatusCode::REQUEST_TIMEOUT,
            code::REQUEST_TIMEOUT,
            format!(
                "the request body stalled for more than {} s",
                limits.body_timeout.as_secs_f64()
            ),
        ),
        Some(BODY_TOO_SLOW) => Error::client(
            StatusCode::REQUEST_TIMEOUT,
            code::REQUEST_TIMEOUT,
            format!(
                "the request body took more than {} s",
                limits.body_deadline.as_secs_f64()
            ),
        ),
        Some(BODY_TOO_LARGE) => crate::error::payload_too_large(),
        _ => return Ok(response),
    };
    // The handler saw a failed body read and answered as it does for any broken body
    // (400, a proxy error, …); the client is told what happened instead.
    let mut replaced = error.into_response();
    for (name, value) in response.headers() {
        let body_specific = [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::TRANSFER_ENCODING,
            header::SET_COOKIE,
            header::RETRY_AFTER,
        ]
        .contains(name);
        if !body_specific && !replaced.headers().contains_key(name) {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(closing(replaced, version))
}

/// Length of the request target as the client sent it.
fn uri_len(uri: &Uri) -> usize {
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len());
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + 3);
    target + authority + scheme
}

/// Marks an HTTP/1 response as the connection's last: the request's body was not read.
fn closing(mut response: Response, version: Version) -> Response {
    if version <= Version::HTTP_11 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// What became of a guarded request body.
const BODY_OK: u8 = 0;
const BODY_STALLED: u8 = 1;
const BODY_TOO_LARGE: u8 = 2;
const BODY_TOO_SLOW: u8 = 3;

/// A request body that fails when no frame arrives for `timeout` while it is being read,
/// when the whole body takes longer than its deadline, or when it carries more than the
/// limit, and records which so that the request can be answered 408 or 413.
struct BodyGuard {
    inner: Body,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    /// When the whole body must have arrived (from the request's arrival).
    deadline: Pin<Box<Sleep>>,
    /// Bytes it may still carry.
    left: u64,
    state: Arc<AtomicU8>,
}

/// The error a stalled request body fails with.
#[derive(Debug, thiserror::Error)]
#[error("the request body stalled")]
pub struct BodyStalled;

/// The error a request body larger than the limit fails with.
#[derive(Debug, thiserror::Error)]
#[error("the request body exceeds the size limit")]
pub struct BodyTooLarge;

impl hyper::body::Body for BodyGuard {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.state.store(BODY_TOO_SLOW, Ordering::Release);
            return Poll::Ready(Some(Err(BodyStalled.into())));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.sleep = None;
            if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                let len = data.map_or(0, |d| d.len() as u64);
                if len > this.left {
                    this.state.store(BODY_TOO_LARGE, Ordering::Release);
                    return Poll::Ready(Some(Err(BodyTooLarge.into())));
                }
                this.left -= len;
            }
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(sleep.as_mut().poll(cx));
        this.sleep = None;
        this.state.store(BODY_STALLED, Ordering::Release);
        Poll::Ready(Some(Err(BodyStalled.into())))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
