//! Accepting and serving connections on one listener: a cap on live connections, the TLS
//! handshake inside the connection's own task (so a slow client cannot block `accept`),
//! HTTP/1.1 or HTTP/2 as ALPN chose, and a watchdog per connection that closes what a
//! client leaves idle or never finishes, and drains the connection at shutdown without
//! dropping a request the client has already sent.
//!
//! Why a watchdog of our own: hyper bounds an HTTP/1.1 header read, but has no idle timeout
//! for HTTP/2 and hyper-util's protocol detection has no timer at all, so a client that
//! stops after the HTTP/2 preface (or sends HEADERS without END_HEADERS) held its socket
//! forever. The watchdog sees two things only: whether a request is being handled, and
//! when the client last sent a byte.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, Request, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

/// The timeouts of one listener. See docs/server.md, "Limits and timeouts", for the values.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A TLS handshake must finish within this.
    pub handshake: Duration,
    /// A connection's first request, and on HTTP/1.1 any request whose first byte arrived,
    /// must have its headers read within this.
    pub header_read: Duration,
    /// A connection with no request in flight and nothing received for this long is closed
    /// (HTTP/2: GOAWAY).
    pub idle: Duration,
    /// HTTP/2 PING interval and the time the answer may take before the connection is
    /// dropped (a peer that vanished without a FIN).
    pub keep_alive_interval: Duration,
    pub keep_alive_timeout: Duration,
    /// Live connections kept; beyond it the oldest idle one is closed for each new one.
    pub max_connections: usize,
}

/// Server-side state of the shutdown, shared with every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Serving,
    /// Answer what arrives, each HTTP/1.1 response with `Connection: close`; HTTP/2 gets a
    /// GOAWAY; connections idle for a while are closed.
    Closing,
}

/// What a connection's watchdog and its service share.
#[derive(Debug)]
struct Shared {
    start: Instant,
    /// Milliseconds since `start` of the last byte received.
    last_read: AtomicU64,
    /// Milliseconds since `start` of the last time `in_flight` fell to zero (or the start).
    idle_since: AtomicU64,
    in_flight: AtomicUsize,
    /// Requests dispatched to the router on this connection.
    requests: AtomicU64,
    /// Answer with `Connection: close` (HTTP/1.1 only: the header is illegal in HTTP/2).
    close_after_response: AtomicBool,
    evict: Notify,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            start: Instant::now(),
            last_read: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            close_after_response: AtomicBool::new(false),
            evict: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn since(&self, at_ms: u64) -> Duration {
        Duration::from_millis(self.now_ms().saturating_sub(at_ms))
    }
}

/// The live connections of one listener, oldest first, so the oldest idle one can be asked
/// to go when the listener is full.
#[derive(Debug, Default)]
struct Registry {
    next_id: AtomicU64,
    live: Mutex<BTreeMap<u64, Arc<Shared>>>,
}

impl Registry {
    fn add(&self, shared: Arc<Shared>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, shared);
        id
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Asks the oldest connection without a request in flight to close; true if there was one.
    fn evict_oldest_idle(&self) -> bool {
        let live = self.lock();
        match live.values().find(|s| s.in_flight.load(Ordering::Acquire) == 0) {
            Some(victim) => {
                victim.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Shared>>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether connections on a listener speak TLS.
#[derive(Clone)]
pub(super) enum Transport {
    Tls(tokio_rustls::TlsAcceptor),
    /// The metrics port: plain HTTP/1.1.
    Plain,
}

/// Accepts on `listener` until `stop_accepting` turns true, and keeps the connections it
/// accepted until they end or `abort` turns true. Returns when every connection
/// of this listener is gone.
///
/// At most `max_connections` are kept: past it, each new connection makes the oldest idle
/// one close, so a flood of idle connections cannot lock out a real client, and a hard
/// ceiling of twice the cap (sockets still closing) bounds the file descriptors. An accept
/// error (EMFILE) pauses only this listener, briefly, instead of spinning.
// Each argument is one listener's own: its name, socket, protocol, routes, limits and the
// three shutdown signals it obeys; a struct would only repeat them.
#[allow(clippy::too_many_arguments)]
pub(super) async fn accept_loop(
    name: &'static str,
    listener: TcpListener,
    transport: Transport,
    app: Router,
    limits: Limits,
    mut phase: watch::Receiver<Phase>,
    mut stop_accepting: watch::Receiver<bool>,
    abort: watch::Receiver<bool>,
) {
    let registry = Arc::new(Registry::default());
    let hard_cap = Arc::new(Semaphore::new(limits.max_connections.saturating_mul(2).max(2)));
    let mut connections = JoinSet::new();
    let mut warned_full = false;
    loop {
        let permit = tokio::select! {
            _ = stop_accepting.wait_for(|s| *s) => break,
            permit = hard_cap.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = stop_accepting.wait_for(|s| *s) => break,
            accepted = listener.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Usually EMFILE or ENFILE: wait a little, without holding up the other
                // listener or the connections already open.
                warn!(listener = name, error = %e, "accept failed");
                drop(permit);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if registry.len() >= limits.max_connections {
            let evicted = registry.evict_oldest_idle();
            if !warned_full {
                warn!(
                    listener = name,
                    max = limits.max_connections,
                    evicted,
                    "connection limit reached: closing the oldest idle connection for each new one"
                );
                warned_full = true;
            }
        } else if registry.len() < limits.max_connections / 2 {
            warned_full = false;
        }
        let shared = Arc::new(Shared::new());
        let id = registry.add(shared.clone());
        let registry = registry.clone();
        let transport = transport.clone();
        let app = app.clone();
        let limits = limits.clone();
        let phase = phase.clone();
        let mut abort = abort.clone();
        connections.spawn(async move {
            tokio::select! {
                () = connection(tcp, peer, transport, app, &limits, shared, phase) => {}
                _ = abort.wait_for(|a| *a) => debug!(%peer, "connection closed at the end of the grace period"),
            }
            registry.remove(id);
            drop(permit);
        });
    }
    drop(listener);
    if *phase.borrow() == Phase::Serving {
        let _ = phase.wait_for(|p| *p != Phase::Serving).await;
    }
    if !connections.is_empty() {
        info!(
            listener = name,
            open = connections.len(),
            "closing open connections"
        );
    }
    while connections.join_next().await.is_some() {}
}

/// One connection: handshake (if TLS), then HTTP under the watchdog.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    app: Router,
    limits: &Limits,
    shared: Arc<Shared>,
    phase: watch::Receiver<Phase>,
) {
    let _ = tcp.set_nodelay(true);
    let tracked = Tracked {
        inner: tcp,
        shared: shared.clone(),
    };
    match transport {
        Transport::Plain => serve_http(tracked, peer, app, limits, shared, phase, Some(false)).await,
        Transport::Tls(acceptor) => {
            let tls = match tokio::time::timeout(limits.handshake, acceptor.accept(tracked)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let h2 = match tls.get_ref().1.alpn_protocol() {
                Some(b"h2") => Some(true),
                Some(b"http/1.1") => Some(false),
                _ => None,
            };
            // The handshake is not the first request: its clock starts now.
            shared.idle_since.store(shared.now_ms(), Ordering::Release);
            serve_http(tls, peer, app, limits, shared, phase, h2).await;
        }
    }
}

/// HTTP on an established stream. `h2`: what ALPN chose (`None`: detect).
async fn serve_http<I>(
    io: I,
    peer: SocketAddr,
    app: Router,
    limits: &Limits,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
    h2: Option<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // hyper restarts this timer whenever it waits for a request head, idle time
        // included; the watchdog applies the longer idle timeout, so hyper's timer is only
        // a backstop at the idle timeout.
        .header_read_timeout(limits.idle.max(limits.header_read))
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.keep_alive_interval)
        .keep_alive_timeout(limits.keep_alive_timeout)
        .max_concurrent_streams(64)
        .max_header_list_size(64 * 1024)
        .max_pending_accept_reset_streams(32)
        .max_local_error_reset_streams(64);
    let builder = match h2 {
        Some(true) => builder.http2_only(),
        Some(false) => builder.http1_only(),
        None => builder,
    };
    let is_h1 = h2 != Some(true);
    let service = Service {
        app,
        shared: shared.clone(),
    };
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let tick =
        (limits.header_read.min(limits.idle) / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let why = loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = shared.evict.notified() => break "the listener is full",
            _ = phase.wait_for(|p| *p == Phase::Closing) => break "shutting down",
            _ = ticker.tick() => {
                if let Some(why) = expired(&shared, limits, is_h1) {
                    break why;
                }
            }
        }
    };
    debug!(%peer, why, "closing the connection");
    let shutting_down = why == "shutting down";
    if shutting_down && is_h1 {
        // A keep-alive client may have a request on the wire right now: closing would lose
        // it. Answer it (and every request until the client sees it) with
        // `Connection: close`, and close only once the connection has been quiet a while.
        shared.close_after_response.store(true, Ordering::Release);
        loop {
            let quiet = shared.in_flight.load(Ordering::Acquire) == 0
                && shared.since(shared.last_read.load(Ordering::Acquire)) >= QUIET
                && shared.since(shared.idle_since.load(Ordering::Acquire)) >= QUIET;
            if quiet {
                break;
            }
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        debug!(%peer, error = %e, "connection ended with an error during shutdown");
                    }
                    return;
                }
                _ = tokio::time::sleep(tick.min(QUIET)) => {}
            }
        }
    }
    conn.as_mut().graceful_shutdown();
    // A graceful close waits for the client to read what is left; one that does not read
    // is dropped after the header timeout (at shutdown the server's grace period ends it).
    let limit = if shutting_down {
        Duration::MAX
    } else {
        limits.header_read
    };
    match tokio::time::timeout(limit, conn).await {
        Ok(Err(e)) => debug!(%peer, error = %e, "connection ended with an error while closing"),
        Ok(Ok(())) => {}
        Err(_) => debug!(%peer, "connection did not close in time; dropped"),
    }
}

/// How long an HTTP/1.1 connection must be quiet at shutdown before it is closed: a client
/// in a request loop sends its next request within this.
const QUIET: Duration = Duration::from_millis(250);

/// Why the watchdog closes a connection now, if it does.
fn expired(shared: &Shared, limits: &Limits, is_h1: bool) -> Option<&'static str> {
    if shared.in_flight.load(Ordering::Acquire) > 0 {
        return None;
    }
    let idle_for = shared.since(shared.idle_since.load(Ordering::Acquire));
    let first = shared.requests.load(Ordering::Acquire) == 0;
    if first && idle_for >= limits.header_read {
        return Some("no request within the header-read timeout");
    }
    let last_read = shared.last_read.load(Ordering::Acquire);
    let read_since_idle = last_read > shared.idle_since.load(Ordering::Acquire);
    // On HTTP/1.1 a byte after the last answer starts the next request's head. (On HTTP/2
    // bytes also come as PINGs and window updates, which start nothing.)
    if is_h1 && read_since_idle && idle_for >= limits.header_read {
        return Some("request headers not complete within the header-read timeout");
    }
    if idle_for >= limits.idle {
        return Some("idle");
    }
    None
}

/// The router, counting requests in flight and marking responses `Connection: close`
/// during shutdown.
#[derive(Clone)]
struct Service {
    app: Router,
    shared: Arc<Shared>,
}

struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle_since.store(self.0.now_ms(), Ordering::Release);
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response<axum::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        use tower::ServiceExt as _;
        self.shared.in_flight.fetch_add(1, Ordering::AcqRel);
        self.shared.requests.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(self.shared.clone());
        let app = self.app.clone();
        let h1 = req.version() <= axum::http::Version::HTTP_11;
        Box::pin(async move {
            let mut response = app.oneshot(req.map(axum::body::Body::new)).await?;
            if h1 && guard.0.close_after_response.load(Ordering::Acquire) {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            drop(guard);
            Ok(response)
        })
    }
}

/// The TCP stream, noting when the client last sent something.
struct Tracked {
    inner: TcpStream,
    shared: Arc<Shared>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let now = self.shared.now_ms();
            self.shared.last_read.store(now.max(1), Ordering::Release);
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The soft limit on open files, from `/proc/self/limits` (no FFI needed).
pub(super) fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
