//! The HTTPS webhook server: TLS, routes, metrics, reloads and shutdown around the pure
//! admission core. Everything here is I/O glue; every verdict comes from
//! [`crate::admission::review`].
//!
//! Tests start it without signals: bind `127.0.0.1:0`, pass the listeners to [`serve`]
//! with a shutdown future, and read `local_addr()`.

mod devcert;
mod listener;
mod logging;
pub mod metrics;
mod reload;
mod router;
pub mod tls;

use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::cli::ServeArgs;
use crate::policy::Policy;
use metrics::ReloadResult;
use reload::{poll_changes, refs, Signature};

pub use logging::init_logging;
pub use router::{metrics_router, router, State};

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
    /// Logged once the webhook really listens (the development curl command), never
    /// before a start that may still fail.
    pub listening_hint: Option<String>,
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
            listening_hint: None,
        }
    }
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
                    error!(
                        error = format!("{:#}", anyhow::Error::new(e)),
                        "new serving certificate rejected; still serving the previous one"
                    );
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
    if let Some(hint) = &settings.listening_hint {
        info!("{hint}");
    }
    let app = router(state.clone());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    connections.spawn(listener::connection(
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
    // The bound address, so `--listen 127.0.0.1:0` gets the real port.
    let bound = listener.local_addr()?;
    let listening_hint = dev_ca.map(|ca| {
        let host = if bound.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            match bound {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        format!(
            "try it: curl -s --cacert {} -H 'Content-Type: application/json' --data @tests/data/admission/cronjob-create.mutate.json https://{host}:{}/mutate",
            ca.display(),
            bound.port()
        )
    });
    let settings = Settings {
        client_ca: args.client_ca,
        config: args.config,
        own_namespace,
        reload_interval: Duration::from_secs_f64(args.reload_interval),
        listening_hint,
        ..Settings::new(cert, key)
    };
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
