//! The HTTPS webhook server: TLS, routes, metrics, reloads and shutdown around the pure
//! admission core. Everything here is I/O glue; every verdict comes from [`core::review`].
//!
//! Tests start it without signals: bind `127.0.0.1:0`, pass the listeners to [`serve`]
//! with a shutdown future, and read `local_addr()`.

mod devcert;
pub mod metrics;
pub mod tls;
mod watch;

use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest as _, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::policy::Policy;
use metrics::{Metrics, ReloadResult};
use watch::Signature;

/// The admission core the server calls: the pure [`crate::admission`] module.
pub mod core {
    pub use crate::admission::{review, Env, Outcome, ReviewError, Verdict, Webhook};
}
use self::core::{Env, Webhook};

/// Largest accepted request body: the API server sends object and oldObject, each up to
/// etcd's ~3 MiB object limit.
pub const BODY_LIMIT: usize = 6 * 1024 * 1024;
/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request body (the API server's own timeout is at
/// most 30 s, and usually 10 s).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long in-flight requests may run after a shutdown signal (Kubernetes' default grace
/// period is 30 s).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `batchguard serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address for the HTTPS webhook [default: 0.0.0.0:8443; 127.0.0.1:8443 with development certificates].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serving certificate (PEM, leaf first). Without it, a development CA and certificate are made under certs/dev/.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Serving key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The policy file (reloaded on change). Without it, the built-in default policy.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM): mTLS from the API server.
    #[arg(long)]
    pub client_ca: Option<PathBuf>,
    /// Plain-HTTP address for /metrics, /healthz and /readyz [default: 0.0.0.0:9090; 127.0.0.1:9090 with development certificates].
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds between checks of the certificate and policy files for changes.
    #[arg(long, default_value_t = 2.0, value_parser = parse_interval)]
    pub reload_interval: f64,
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds between 0 and 3600")),
    }
}

/// What [`serve`] needs besides its listeners.
#[derive(Debug, Clone)]
pub struct Settings {
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub client_ca: Option<PathBuf>,
    /// The policy file; `None` serves the default policy.
    pub config: Option<PathBuf>,
    /// The webhook's own namespace (from `POD_NAMESPACE`), exempt from review.
    pub own_namespace: Option<String>,
    pub reload_interval: Duration,
    pub handshake_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Settings {
    /// Production timings for a certificate pair.
    pub fn new(tls_cert: PathBuf, tls_key: PathBuf) -> Settings {
        Settings {
            tls_cert,
            tls_key,
            client_ca: None,
            config: None,
            own_namespace: None,
            reload_interval: Duration::from_secs(2),
            handshake_timeout: HANDSHAKE_TIMEOUT,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

/// The admission core's entry point, held by [`State`] so that a test can put a
/// misbehaving core behind the real routes.
type ReviewFn = fn(Webhook, &[u8], &Policy, &Env) -> Result<core::Outcome, core::ReviewError>;

/// Shared by every request: the current policy, the metrics and readiness.
#[derive(Debug)]
pub struct State {
    policy: RwLock<Arc<LoadedPolicy>>,
    metrics: Metrics,
    own_namespace: Option<String>,
    ready: AtomicBool,
    review: ReviewFn,
}

#[derive(Debug)]
struct LoadedPolicy {
    policy: Policy,
    hash: String,
}

impl State {
    pub fn new(policy: Policy, own_namespace: Option<String>) -> Arc<State> {
        State::with_review(policy, own_namespace, core::review)
    }

    fn with_review(policy: Policy, own_namespace: Option<String>, review: ReviewFn) -> Arc<State> {
        Arc::new(State {
            policy: RwLock::new(Arc::new(LoadedPolicy::new(policy))),
            metrics: Metrics::default(),
            own_namespace,
            ready: AtomicBool::new(true),
            review,
        })
    }

    fn current(&self) -> Arc<LoadedPolicy> {
        self.policy.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_policy(&self, policy: Policy) {
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(LoadedPolicy::new(policy));
    }

    /// The hash `/readyz` reports.
    pub fn policy_hash(&self) -> String {
        self.current().hash.clone()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

impl LoadedPolicy {
    fn new(policy: Policy) -> LoadedPolicy {
        LoadedPolicy {
            hash: policy.hash(),
            policy,
        }
    }
}

/// The webhook routes: `POST /validate` and `POST /mutate` (any query string).
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The plain-HTTP routes: `/metrics`, `/healthz`, `/readyz`.
pub fn metrics_router(state: Arc<State>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(state)
}

async fn validate(axum::extract::State(state): axum::extract::State<Arc<State>>, req: Request) -> Response {
    admit(&state, Webhook::Validate, req).await
}

async fn mutate(axum::extract::State(state): axum::extract::State<Arc<State>>, req: Request) -> Response {
    admit(&state, Webhook::Mutate, req).await
}

async fn not_found() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "not found: the webhook serves POST /validate and POST /mutate\n".into(),
    )
}

fn webhook_label(webhook: &Webhook) -> &'static str {
    match webhook {
        Webhook::Validate => "validate",
        Webhook::Mutate => "mutate",
    }
}

/// The one span and event per review, both at `$level`. The span is made once the review is
/// done, with every field at once: a span the level filter turns off costs nothing, while
/// an enabled one formats its fields once (filling them in one by one formatted them again
/// on each `record`). The JSON formatter names the span itself `name`, which would clash
/// with the object's name, so in JSON the event carries the review's fields (and the span
/// is left out); in text they show in the span prefix.
macro_rules! review_log {
    ($level:expr, $json:expr, $label:expr, $outcome:expr, $kind:expr, $verdict:expr, $micros:expr) => {{
        let span = tracing::span!(
            $level,
            "review",
            webhook = $label,
            uid = $outcome.uid.as_str(),
            kind = $kind,
            namespace = $outcome.namespace.as_deref(),
            name = $outcome.name.as_deref(),
            operation = $outcome.operation.as_str(),
            verdict = $verdict
        );
        span.in_scope(|| {
            if $json {
                tracing::event!(
                    $level,
                    webhook = $label,
                    uid = $outcome.uid.as_str(),
                    kind = $kind,
                    namespace = $outcome.namespace.as_deref(),
                    name = $outcome.name.as_deref(),
                    operation = $outcome.operation.as_str(),
                    verdict = $verdict,
                    patched = ?$outcome.patched_fields,
                    micros = $micros,
                    "admission review"
                )
            } else {
                tracing::event!($level, patched = ?$outcome.patched_fields, micros = $micros, "admission review")
            }
        })
    }};
}

/// One review: check the media type, read the body, run the core with panics caught, and
/// answer 200 with the review, or a 4xx/5xx with a one-line reason.
async fn admit(state: &State, webhook: Webhook, req: Request) -> Response {
    let start = Instant::now();
    let _in_flight = state.metrics.in_flight();
    let label = webhook_label(&webhook);
    let reject = |status: StatusCode, message: String| {
        state
            .metrics
            .record_rejection(label, status.as_u16(), start.elapsed());
        debug!(webhook = label, status = status.as_u16(), %message, "request rejected");
        text(status, message + "\n")
    };
    if let Err(message) = check_content_type(req.headers()) {
        return reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, message);
    }
    let body = match tokio::time::timeout(BODY_TIMEOUT, Bytes::from_request(req, &())).await {
        Err(_) => {
            return reject(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            )
        }
        Ok(Err(rejection)) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "the request body is larger than the {} MiB limit",
                    BODY_LIMIT >> 20
                )
            } else {
                format!("cannot read the request body: {}", rejection.body_text())
            };
            return reject(status, message);
        }
        Ok(Ok(body)) => body,
    };
    let loaded = state.current();
    let env = Env {
        now: chrono::Utc::now(),
        own_namespace: state.own_namespace.clone(),
    };
    // The core is pure and should never panic; if it does, this request gets a 500 and the
    // server keeps serving everyone else.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        (state.review)(webhook, &body, &loaded.policy, &env)
    }));
    match result {
        Ok(Ok(outcome)) => {
            let kind = outcome.kind.map_or("unknown", |k| k.as_str());
            let verdict = outcome.verdict.as_str();
            state
                .metrics
                .record_review(label, kind, outcome.operation.as_str(), verdict, start.elapsed());
            state.metrics.record_patches(&outcome.patched_fields);
            let micros = start.elapsed().as_micros() as u64;
            // Denials and warnings are logged at info: they are what a platform team looks
            // for. Plain allows, exemptions and patches only at debug: the API server's audit
            // log already records every webhook patch, `batchguard_patches_total` counts them,
            // and an info line per Job would cost a formatted write on every request (a
            // quarter of the CPU per review in bench/cpu.sh). A core that reports its own
            // failure ("failed") is an error.
            let json = JSON_LOGS.load(Ordering::Relaxed);
            match verdict {
                "failed" => review_log!(tracing::Level::ERROR, json, label, outcome, kind, verdict, micros),
                "denied" | "warned" => {
                    review_log!(tracing::Level::INFO, json, label, outcome, kind, verdict, micros)
                }
                _ => review_log!(tracing::Level::DEBUG, json, label, outcome, kind, verdict, micros),
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                outcome.body,
            )
                .into_response()
        }
        Ok(Err(e)) => {
            warn!(webhook = label, error = %e, "unreadable AdmissionReview");
            state
                .metrics
                .record_rejection(label, StatusCode::BAD_REQUEST.as_u16(), start.elapsed());
            text(
                StatusCode::BAD_REQUEST,
                format!("cannot review this request: {e}\n"),
            )
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string payload".into());
            error!(webhook = label, panic = %what, body_len = body.len(), "the admission core panicked");
            state.metrics.record_panic();
            state.metrics.record_rejection(
                label,
                StatusCode::INTERNAL_SERVER_ERROR.as_u16(),
                start.elapsed(),
            );
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error while reviewing this request (logged)\n".into(),
            )
        }
    }
}

/// `application/json`, optionally with parameters such as `charset=utf-8`.
fn check_content_type(headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("missing Content-Type: send application/json".into());
    };
    let value = value.to_str().unwrap_or("");
    let media = value.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(format!(
            "unsupported Content-Type {value:?}: send application/json"
        ))
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn metrics_page(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    let body = state.metrics.render(&state.policy_hash());
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn readyz(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    let ready = state.ready.load(Ordering::Relaxed);
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "shutting down" },
        "configHash": state.policy_hash(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// Runs the webhook on `listener` (and the metrics endpoints on `metrics_listener`) until
/// `shutdown` resolves; then stops accepting, lets in-flight requests finish within
/// `settings.shutdown_grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let config_paths: Vec<PathBuf> = settings.config.iter().cloned().collect();
    let config_sig = Signature::of(&refs(&config_paths));
    let policy = match &settings.config {
        Some(path) => Policy::load(path)?,
        None => Policy::default(),
    };
    let state = State::new(policy, settings.own_namespace.clone());

    let cert_paths = vec![settings.tls_cert.clone(), settings.tls_key.clone()];
    let cert_sig = Signature::of(&refs(&cert_paths));
    let pair = tls::load_pair(&settings.tls_cert, &settings.tls_key)?;
    state.metrics.set_cert_not_after(pair.not_after);
    let resolver = Arc::new(tls::CertResolver::new(pair.key));
    let tls_config = Arc::new(tls::server_config(
        resolver.clone(),
        settings.client_ca.as_deref(),
    )?);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut background = JoinSet::new();
    {
        let state = state.clone();
        let resolver = resolver.clone();
        let cert = settings.tls_cert.clone();
        let key = settings.tls_key.clone();
        background.spawn(poll_changes(
            cert_paths,
            cert_sig,
            settings.reload_interval,
            stop_rx.clone(),
            move || match tls::load_pair(&cert, &key) {
                Ok(pair) => {
                    resolver.set(pair.key);
                    state.metrics.set_cert_not_after(pair.not_after);
                    state.metrics.record_cert_reload(ReloadResult::Success);
                    info!(cert = %cert.display(), not_after = pair.not_after, "serving certificate reloaded");
                }
                Err(e) => {
                    state.metrics.record_cert_reload(ReloadResult::Failure);
                    error!(error = %e, "new serving certificate rejected; still serving the previous one");
                }
            },
        ));
    }
    if let Some(path) = settings.config.clone() {
        let state = state.clone();
        background.spawn(poll_changes(
            config_paths,
            config_sig,
            settings.reload_interval,
            stop_rx.clone(),
            move || match Policy::load(&path) {
                Ok(policy) => {
                    let hash = policy.hash();
                    state.set_policy(policy);
                    state.metrics.record_config_reload(ReloadResult::Success);
                    info!(config = %path.display(), hash, "policy reloaded");
                }
                Err(e) => {
                    state.metrics.record_config_reload(ReloadResult::Failure);
                    error!(
                        error = format!("{e:#}"),
                        "new policy rejected; still serving the previous one"
                    );
                }
            },
        ));
    }
    // The metrics port outlives the webhook port during shutdown, so probes can watch
    // /readyz turn 503 while requests drain.
    let (metrics_stop_tx, metrics_stop_rx) = tokio::sync::watch::channel(false);
    if let Some(l) = &metrics_listener {
        info!(listen = %l.local_addr()?, "metrics, /healthz and /readyz on plain HTTP");
    }
    let metrics_task = metrics_listener.map(|l| {
        let mut stop = metrics_stop_rx;
        tokio::spawn(
            axum::serve(l, metrics_router(state.clone()))
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .into_future(),
        )
    });

    info!(
        listen = %listener.local_addr()?,
        config = settings.config.as_ref().map(|p| p.display().to_string()),
        config_hash = state.policy_hash(),
        mtls = settings.client_ca.is_some(),
        "batchguard webhook listening"
    );
    let app = router(state.clone());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    connections.spawn(connection(
                        tcp,
                        peer,
                        acceptor.clone(),
                        app.clone(),
                        settings.handshake_timeout,
                        stop_rx.clone(),
                    ));
                }
                Err(e) => {
                    // Usually EMFILE: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    info!(in_flight = connections.len(), "shutting down: no new connections");
    drop(listener);
    state.ready.store(false, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            left = connections.len(),
            "shutdown grace period over; closing the remaining connections"
        );
        connections.abort_all();
    }
    background.abort_all();
    let _ = metrics_stop_tx.send(true);
    if let Some(task) = metrics_task {
        match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(Err(e))) => warn!(error = %e, "metrics server failed"),
            Ok(Err(e)) => warn!(error = %e, "metrics server task failed"),
            Ok(Ok(Ok(()))) | Err(_) => {}
        }
    }
    info!("stopped");
    Ok(())
}

fn refs(paths: &[PathBuf]) -> Vec<&Path> {
    paths.iter().map(PathBuf::as_path).collect()
}

/// Calls `reload` whenever what `paths` resolve to changes. A failed reload is not retried
/// until the files change again: the signature is taken before reading, so a half-written
/// pair is seen once more when its second file lands.
async fn poll_changes(
    paths: Vec<PathBuf>,
    mut seen: Signature,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    reload: impl Fn() + Send + 'static,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = Signature::of(&refs(&paths));
        if now != seen {
            seen = now;
            reload();
        }
    }
}

/// One TCP connection: the TLS handshake under a timeout, then HTTP/1.1 or HTTP/2 as ALPN
/// chose, closed gracefully when the server shuts down.
async fn connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    app: Router,
    handshake_timeout: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
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
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // The header timer also runs while a keep-alive connection is idle, so it doubles as
    // the idle timeout: long enough that an HTTP/1.1 client rarely reuses a connection we
    // are closing (the API server itself speaks HTTP/2), short enough to shed slow clients.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(app));
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                debug!(%peer, error = %e, "connection ended with an error");
            }
            return;
        }
        _ = stop.wait_for(|s| *s) => {}
    }
    conn.as_mut().graceful_shutdown();
    if let Err(e) = conn.await {
        debug!(%peer, error = %e, "connection ended with an error during shutdown");
    }
}

/// Set when `--log-format json` is in effect (see the review event in [`admit`]).
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

/// Sets up `tracing` output on stderr; a second call (tests, or a binary that already did it)
/// is a no-op.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => {
            let result = builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .try_init();
            if result.is_ok() {
                JSON_LOGS.store(true, Ordering::Relaxed);
            }
            result
        }
    };
}

/// Runs the webhook until SIGTERM/SIGINT.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let dev = args.tls_cert.is_none();
    let (cert, key, dev_ca) = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => (cert, key, None),
        _ => {
            let dir = Path::new("certs/dev");
            let made = devcert::ensure(dir)?;
            if made.created {
                info!(dir = %dir.display(), "made a development CA and serving certificate");
            } else {
                info!(dir = %dir.display(), "reusing the development certificates");
            }
            (made.cert, made.key, Some(made.ca))
        }
    };
    let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let any = |port| SocketAddr::from(([0, 0, 0, 0], port));
    let listen = args
        .listen
        .unwrap_or(if dev { loopback(8443) } else { any(8443) });
    let metrics_listen = args
        .metrics_listen
        .unwrap_or(if dev { loopback(9090) } else { any(9090) });
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let metrics_listener = TcpListener::bind(metrics_listen)
        .await
        .with_context(|| format!("cannot listen on {metrics_listen} for metrics"))?;
    let own_namespace = std::env::var("POD_NAMESPACE").ok().filter(|s| !s.is_empty());
    let settings = Settings {
        client_ca: args.client_ca,
        config: args.config,
        own_namespace,
        reload_interval: Duration::from_secs_f64(args.reload_interval),
        ..Settings::new(cert, key)
    };
    if let Some(ca) = dev_ca {
        let host = if listen.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            match listen {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        info!(
            "try it: curl --cacert {} -H 'Content-Type: application/json' --data @tests/data/admission/cronjob-create.mutate.json https://{host}:{}/mutate",
            ca.display(),
            listen.port()
        );
    }
    serve(listener, Some(metrics_listener), settings, shutdown_signal()).await
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
        () = terminate => info!("SIGTERM received"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        h
    }

    fn panicking_core(_: Webhook, _: &[u8], _: &Policy, _: &Env) -> Result<core::Outcome, core::ReviewError> {
        panic!("simulated bug in the admission core")
    }

    async fn post(app: &Router, body: &'static [u8]) -> (StatusCode, String) {
        use tower::ServiceExt as _;
        let req = axum::http::Request::post("/validate?timeout=10s")
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body))
            .expect("request");
        let resp = app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn a_panicking_core_is_answered_500_and_the_router_keeps_serving() {
        let state = State::with_review(Policy::default(), None, panicking_core);
        let app = router(state.clone());
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"}}"#;
        for _ in 0..2 {
            let (status, text) = post(&app, body).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(text.contains("internal error"), "{text}");
        }
        let page = state.metrics().render(&state.policy_hash());
        assert!(page.contains("batchguard_panics_total 2\n"), "{page}");
        assert!(page.contains("batchguard_admission_in_flight 0\n"), "{page}");
        assert!(page.contains("batchguard_admission_rejected_total{webhook=\"validate\",code=\"500\"} 2\n"));
    }

    #[tokio::test]
    async fn the_real_core_answers_through_the_router() {
        let body = include_bytes!("../../tests/data/admission/job-delete.validate-delete.json");
        let request: serde_json::Value = serde_json::from_slice(body).expect("fixture is JSON");
        let state = State::new(Policy::default(), None);
        let (status, text) = post(&router(state), body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON answer");
        assert_eq!(answer["response"]["uid"], request["request"]["uid"]);
    }

    /// Text logs at `info`: a denial logs one event inside the `review` span, whose prefix
    /// carries the review's fields; a plain patch logs nothing (its span and event are at
    /// `debug`), and does at `debug`.
    #[test]
    fn review_span_and_event_follow_the_verdict_level() {
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let fixture = |name: &str| {
            std::fs::read(format!(
                "{}/tests/data/admission/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("fixture")
        };
        let create = fixture("cronjob-create.validate.json");
        let bad = String::from_utf8(create)
            .expect("utf-8")
            .replace(r#""*/5 * * * *""#, r#""not a schedule""#);
        let patch = fixture("cronjob-create.mutate.json");
        let logs = |level: &str| {
            let buf = Buf::default();
            let writer = buf.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(level))
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            tracing::subscriber::with_default(subscriber, || {
                let app = router(State::new(Policy::default(), None));
                runtime.block_on(async {
                    for (path, body) in [("/validate", bad.as_bytes().to_vec()), ("/mutate", patch.clone())] {
                        use tower::ServiceExt as _;
                        let req = axum::http::Request::post(path)
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(axum::body::Body::from(body))
                            .expect("request");
                        let resp = app.clone().oneshot(req).await.expect("infallible");
                        assert_eq!(resp.status(), StatusCode::OK);
                    }
                });
            });
            let text =
                String::from_utf8(buf.0.lock().unwrap_or_else(|e| e.into_inner()).clone()).expect("utf-8");
            text.lines()
                .filter(|l| l.contains("admission review"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let has = |line: &str, parts: &[&str]| {
            for part in parts {
                assert!(line.contains(part), "{part:?} not in {line}");
            }
        };
        let info = logs("info");
        assert_eq!(info.len(), 1, "{info:?}");
        has(
            &info[0],
            &[
                " INFO review{webhook=\"validate\" uid=",
                r#"kind="CronJob" namespace="default" name="cj-create" operation="CREATE" verdict="denied"}"#,
            ],
        );
        let debug = logs("debug");
        assert_eq!(debug.len(), 2, "{debug:?}");
        has(
            &debug[1],
            &[
                " DEBUG review{webhook=\"mutate\"",
                r#"verdict="patched"}"#,
                "spec.concurrencyPolicy",
            ],
        );
    }

    #[test]
    fn accepts_json_with_a_charset() {
        assert!(check_content_type(&headers(Some("application/json"))).is_ok());
        assert!(check_content_type(&headers(Some("application/json; charset=utf-8"))).is_ok());
        assert!(check_content_type(&headers(Some("Application/JSON"))).is_ok());
    }

    #[test]
    fn rejects_other_media_types() {
        assert!(check_content_type(&headers(None)).is_err());
        assert!(check_content_type(&headers(Some("text/plain"))).is_err());
        assert!(check_content_type(&headers(Some("application/jsonx"))).is_err());
        assert!(check_content_type(&headers(Some("application/yaml"))).is_err());
    }
}
