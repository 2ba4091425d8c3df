//! The HTTPS webhook server: TLS, routes, metrics, reloads and shutdown around the pure
//! admission core. Everything here is I/O glue; every verdict comes from
//! [`crate::admission::review`].
//!
//! Tests start it without signals: bind `127.0.0.1:0`, pass the listeners to [`serve`]
//! with a shutdown future, and read `local_addr()`.

mod devcert;
mod listener;
mod logging;
mod managed;
pub mod metrics;
mod reload;
mod router;
pub mod tls;

use std::future::Future;
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
use crate::cluster::CertManager;
use crate::policy::Policy;
use listener::{Limits, Phase, Transport};
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
/// How long a connection's first request (and, on HTTP/1.1, any request once its first
/// byte arrived) may take to deliver its headers. The API server sends a request's headers
/// at once, and its own webhook timeout is at most 30 s.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay without a request before it is closed (HTTP/2 with
/// GOAWAY, which a client retries safely). Shorter than Go's 90 s client idle timeout would
/// race HTTP/1.1 clients more often; long enough that the API server reuses its connections.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// HTTP/2 PING interval, and how long the answer may take before the connection is dropped.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
pub const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Live webhook connections (the API server multiplexes over a few HTTP/2 connections).
/// Lowered to fit the open-files limit if that is small.
pub const MAX_CONNECTIONS: usize = 256;
/// Live connections on the metrics port: probes and a scraper.
pub const METRICS_MAX_CONNECTIONS: usize = 32;
/// How long the server keeps serving after SIGTERM with `/readyz` failing, so that every
/// API server has taken the endpoint out before connections are closed.
pub const DRAIN_PERIOD: Duration = Duration::from_secs(5);
/// How long in-flight requests may run once the drain period is over (Kubernetes' default
/// grace period is 30 s; the Deployment leaves room for preStop + drain + this).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// What [`serve`] needs besides its listeners.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The serving pair, reloaded when the files change; unused with `self_managed`.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Self-managed certificates: serve what this manager keeps in its Secret instead of
    /// files, and stay unready until it is loaded and its CA injected.
    pub self_managed: Option<CertManager>,
    pub client_ca: Option<PathBuf>,
    /// The policy file; `None` serves the default policy.
    pub config: Option<PathBuf>,
    /// The webhook's own namespace (from `POD_NAMESPACE`), exempt from review.
    pub own_namespace: Option<String>,
    pub reload_interval: Duration,
    pub handshake_timeout: Duration,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub keep_alive_interval: Duration,
    pub keep_alive_timeout: Duration,
    pub max_connections: usize,
    pub metrics_max_connections: usize,
    pub drain_period: Duration,
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
            self_managed: None,
            client_ca: None,
            config: None,
            own_namespace: None,
            reload_interval: Duration::from_secs(2),
            handshake_timeout: HANDSHAKE_TIMEOUT,
            header_read_timeout: HEADER_READ_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            keep_alive_interval: KEEP_ALIVE_INTERVAL,
            keep_alive_timeout: KEEP_ALIVE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            metrics_max_connections: METRICS_MAX_CONNECTIONS,
            drain_period: DRAIN_PERIOD,
            shutdown_grace: SHUTDOWN_GRACE,
            listening_hint: None,
        }
    }

    /// Production timings for certificates kept by `manager` (`serve --cert-secret`).
    pub fn self_managed(manager: CertManager) -> Settings {
        Settings {
            self_managed: Some(manager),
            ..Settings::new(PathBuf::new(), PathBuf::new())
        }
    }

    fn limits(&self, max_connections: usize) -> Limits {
        Limits {
            handshake: self.handshake_timeout,
            header_read: self.header_read_timeout,
            idle: self.idle_timeout,
            keep_alive_interval: self.keep_alive_interval,
            keep_alive_timeout: self.keep_alive_timeout,
            max_connections: max_connections.max(1),
        }
    }
}

/// The connection caps of both listeners, lowered so that together they stay well inside
/// the open-files limit (with 64 descriptors left for everything else).
fn fit_to_open_files(webhook: usize, metrics: usize) -> (usize, usize) {
    let Some(limit) = listener::open_files_limit() else {
        return (webhook, metrics);
    };
    // A connection being evicted still holds its socket, so each listener may briefly
    // hold twice its cap.
    let budget = usize::try_from(limit.saturating_sub(64) / 2).unwrap_or(usize::MAX);
    let metrics = metrics.min(budget / 8).max(4);
    let webhook = webhook.min(budget.saturating_sub(metrics)).max(4);
    (webhook, metrics)
}

/// Runs the webhook on `listener` (and the metrics endpoints on `metrics_listener`) until
/// `shutdown` resolves; then fails `/readyz` and keeps serving for `drain_period`, closes
/// the listener and every connection without losing a request a client had sent
/// (HTTP/1.1: `Connection: close` on the next answer; HTTP/2: GOAWAY), lets in-flight
/// requests finish within `shutdown_grace`, and returns.
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

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut background = JoinSet::new();
    let resolver = match settings.self_managed.clone() {
        Some(manager) => managed::start(manager, &state, &mut background, &stop_rx),
        None => watch_cert_files(&settings, &state, &mut background, &stop_rx)?,
    };
    let acceptor = acceptor(&resolver, &settings)?;
    spawn_policy_reload(
        &mut background,
        &settings,
        config_paths,
        config_sig,
        &state,
        &stop_rx,
    );
    run_listeners(listener, metrics_listener, acceptor, &settings, state, shutdown).await?;
    let _ = stop_tx.send(true);
    background.abort_all();
    info!("stopped");
    Ok(())
}

/// Serves the pair in `settings.tls_cert`/`tls_key` and reloads it when the files change.
fn watch_cert_files(
    settings: &Settings,
    state: &Arc<State>,
    background: &mut JoinSet<()>,
    stop_rx: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Arc<tls::CertResolver>> {
    let cert_paths = vec![settings.tls_cert.clone(), settings.tls_key.clone()];
    let cert_sig = Signature::of(&refs(&cert_paths));
    let pair = tls::load_pair(&settings.tls_cert, &settings.tls_key)?;
    state.metrics.set_cert_not_after(pair.not_after);
    let resolver = Arc::new(tls::CertResolver::new(pair.key));
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
    Ok(resolver)
}

/// The TLS acceptor over a swappable certificate.
fn acceptor(
    resolver: &Arc<tls::CertResolver>,
    settings: &Settings,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let tls_config = Arc::new(tls::server_config(
        resolver.clone(),
        settings.client_ca.as_deref(),
    )?);
    Ok(tokio_rustls::TlsAcceptor::from(tls_config))
}

fn spawn_policy_reload(
    background: &mut JoinSet<()>,
    settings: &Settings,
    config_paths: Vec<PathBuf>,
    config_sig: Signature,
    state: &Arc<State>,
    stop_rx: &tokio::sync::watch::Receiver<bool>,
) {
    let Some(path) = settings.config.clone() else {
        return;
    };
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

/// Both listeners, each in its own task, from the first accept to the last connection.
async fn run_listeners(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    acceptor: tokio_rustls::TlsAcceptor,
    settings: &Settings,
    state: Arc<State>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    use tokio::sync::watch;
    let (webhook_cap, metrics_cap) =
        fit_to_open_files(settings.max_connections, settings.metrics_max_connections);
    // The metrics port outlives the webhook port during shutdown, so probes can watch
    // /readyz turn 503 while requests drain.
    let (metrics_phase_tx, metrics_phase) = watch::channel(Phase::Serving);
    let (metrics_stop_tx, metrics_stop) = watch::channel(false);
    let (metrics_abort_tx, metrics_abort) = watch::channel(false);
    let metrics_task = match metrics_listener {
        Some(l) => {
            info!(listen = %l.local_addr()?, "metrics, /healthz and /readyz on plain HTTP");
            let limits = Limits {
                // Probes and scrapes send at once and need no long keep-alive.
                header_read: settings.header_read_timeout.min(Duration::from_secs(5)),
                idle: settings.idle_timeout.min(Duration::from_secs(15)),
                ..settings.limits(metrics_cap)
            };
            Some(tokio::spawn(listener::accept_loop(
                "metrics",
                l,
                Transport::Plain,
                metrics_router(state.clone()),
                limits,
                metrics_phase,
                metrics_stop,
                metrics_abort,
            )))
        }
        None => None,
    };

    info!(
        listen = %listener.local_addr()?,
        config = settings.config.as_ref().map(|p| p.display().to_string()),
        config_hash = state.policy_hash(),
        mtls = settings.client_ca.is_some(),
        max_connections = webhook_cap,
        "batchguard webhook listening"
    );
    if let Some(hint) = &settings.listening_hint {
        info!("{hint}");
    }
    let (phase_tx, phase) = watch::channel(Phase::Serving);
    let (stop_tx, stop) = watch::channel(false);
    let (abort_tx, abort) = watch::channel(false);
    let mut webhook_task = tokio::spawn(listener::accept_loop(
        "webhook",
        listener,
        Transport::Tls(acceptor),
        router(state.clone()),
        settings.limits(webhook_cap),
        phase,
        stop,
        abort,
    ));

    shutdown.await;
    state.ready.store(false, Ordering::Relaxed);
    info!(
        drain = ?settings.drain_period,
        "shutting down: /readyz fails; still serving while endpoints update"
    );
    tokio::time::sleep(settings.drain_period).await;
    info!("drain period over: closing the listener and every connection");
    let _ = stop_tx.send(true);
    let _ = phase_tx.send(Phase::Closing);
    if tokio::time::timeout(settings.shutdown_grace, &mut webhook_task)
        .await
        .is_err()
    {
        warn!("shutdown grace period over; closing the remaining connections");
        let _ = abort_tx.send(true);
        let _ = webhook_task.await;
    }
    if let Some(mut task) = metrics_task {
        let _ = metrics_stop_tx.send(true);
        let _ = metrics_phase_tx.send(Phase::Closing);
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            let _ = metrics_abort_tx.send(true);
            let _ = task.await;
        }
    }
    Ok(())
}

/// Runs the webhook until SIGTERM/SIGINT.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let shutdown = shutdown_signal();
    let own_namespace = std::env::var("POD_NAMESPACE").ok().filter(|s| !s.is_empty());
    // Development certificates (and loopback listeners) only when no certificate source
    // was named.
    let dev = args.tls_cert.is_none() && args.cert_secret.is_none();
    let mut dev_ca = None;
    let mut settings = match (&args.cert_secret, &args.tls_cert, &args.tls_key) {
        (Some(secret), _, _) => {
            Settings::self_managed(cert_manager(&args, secret, own_namespace.as_deref()).await?)
        }
        (None, Some(cert), Some(key)) => Settings::new(cert.clone(), key.clone()),
        _ => {
            let dir = Path::new("certs/dev");
            let made = devcert::ensure(dir)?;
            if made.created {
                info!(dir = %dir.display(), "made a development CA and serving certificate");
            } else {
                info!(dir = %dir.display(), "reusing the development certificates");
            }
            dev_ca = Some(made.ca);
            Settings::new(made.cert, made.key)
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
    settings.client_ca = args.client_ca;
    settings.config = args.config;
    settings.own_namespace = own_namespace;
    settings.reload_interval = Duration::from_secs_f64(args.reload_interval);
    // On a laptop (development certificates) Ctrl-C should not wait for endpoints that
    // do not exist.
    settings.drain_period = args
        .drain_period
        .unwrap_or(if dev { Duration::ZERO } else { DRAIN_PERIOD });
    // The bound address, so `--listen 127.0.0.1:0` gets the real port; logged only once
    // the server really listens.
    let bound = listener.local_addr()?;
    settings.listening_hint = dev_ca.map(|ca| {
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
    serve(listener, Some(metrics_listener), settings, shutdown).await
}

/// The manager behind `--cert-secret`: the Secret (its namespace from the flag or
/// `POD_NAMESPACE`), the certificate's names (the Service's by default) and a client found
/// as kubectl finds its configuration. Nothing here talks to the API server yet: an
/// unreachable one is retried by the manager, with `/readyz` failing meanwhile.
async fn cert_manager(
    args: &ServeArgs,
    secret: &crate::cli::CertSecret,
    pod_namespace: Option<&str>,
) -> anyhow::Result<CertManager> {
    let secret = secret.resolve(pod_namespace).with_context(|| {
        format!(
            "--cert-secret {:?} names no namespace and POD_NAMESPACE is not set: \
             give it as NAMESPACE/NAME",
            secret.name
        )
    })?;
    // Without --cert-hosts: the Service's names, and the host of any `url` webhook.
    let default_hosts = args.cert_hosts.is_empty();
    let hosts = if default_hosts {
        crate::cluster::default_hosts("batchguard", &secret.namespace)
    } else {
        let mut hosts = args.cert_hosts.clone();
        let mut seen = std::collections::HashSet::new();
        hosts.retain(|h| seen.insert(h.clone()));
        hosts
    };
    let client = crate::cluster::client(args.kubeconfig.as_deref(), args.context.as_deref())
        .await
        .context("self-managed certificates (--cert-secret) need the Kubernetes API")?;
    info!(
        secret = %secret,
        hosts = ?hosts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        url_hosts = default_hosts,
        webhook_configurations = ?args.webhook_configurations,
        api_server = client.url(),
        "self-managed certificates"
    );
    let manager = CertManager::new(client, secret, hosts, args.webhook_configurations.clone())?
        .with_interval(args.cert_check_interval);
    Ok(if default_hosts {
        manager.with_url_hosts()
    } else {
        manager
    })
}

/// Resolves on SIGTERM or SIGINT (the handlers are installed when this is called).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Registered now, not when first polled: a signal that arrives once the server says it
    // listens must start the drain, not kill the process with the default action.
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>, name: &'static str| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    warn!(error = %e, "cannot listen for {name}");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            () = wait(interrupt, "SIGINT") => info!("SIGINT received"),
            () = wait(terminate, "SIGTERM") => info!("SIGTERM received"),
        }
    }
}
