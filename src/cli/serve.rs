//! `batchguard serve` and `batchguard certs`: the webhook's flags (TLS from files or a
//! Secret, listeners, reloads, drain) and their parsers.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::cluster::{CertError, ClusterError, Host, SecretRef};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `batchguard serve` options.
#[derive(Debug, Clone, clap::Args)]
#[command(
    long_about = "Run the HTTPS admission webhook: POST /validate and POST /mutate take \
admission.k8s.io/v1 AdmissionReviews and answer as the API server would, plus the policy's \
defaults as a JSON Patch. Plain-HTTP /metrics, /healthz and /readyz run on a second port. \
Certificate and policy files are reloaded when they change; SIGTERM or SIGINT drains \
in-flight requests and exits 0.

Without --tls-cert, a development CA and serving certificate are made under certs/dev/ \
(reused on the next start), both ports listen on 127.0.0.1 only, and the log gives a \
ready-to-paste curl command once the server listens.",
    after_help = concat!(
        "Examples:
  batchguard serve
  batchguard serve --tls-cert /tls/tls.crt --tls-key /tls/tls.key \\
    --config /etc/batchguard/policy.yaml --log-format json
  curl -s --cacert certs/dev/ca.pem -H 'Content-Type: application/json' \\
    --data @tests/data/admission/cronjob-create.mutate.json https://127.0.0.1:8443/mutate

",
        "Exit codes:
  0  stopped by SIGTERM or SIGINT after draining
  2  usage error, or it could not start (bad policy file, unreadable certificate, address in use)"
    )
)]
pub struct ServeArgs {
    /// Address for the HTTPS webhook [default: 0.0.0.0:8443; 127.0.0.1:8443 with development certificates].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serving certificate (PEM, leaf first). Without it (and without --cert-secret), a development CA and certificate are made under certs/dev/.
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
    /// Seconds between checks of the certificate and policy files for changes (more than 0,
    /// at most 3600; fractions allowed).
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = parse_interval)]
    pub reload_interval: f64,
    /// After SIGTERM, how long to keep serving with /readyz failing before connections are
    /// closed, so every API server has dropped the endpoint first (Go duration: `5s`, `1500ms`)
    /// [default: 5s; 0s with development certificates, where no load balancer is waiting].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub drain_period: Option<std::time::Duration>,
    /// Self-managed certificates: keep a CA and the serving certificate in this Secret
    /// (`NAMESPACE/NAME`, or `NAME` in $POD_NAMESPACE), creating it on first start and
    /// replacing it a third of its lifetime before expiry; needs API access (see docs/install.md).
    #[arg(
        long,
        value_name = "NAMESPACE/NAME",
        value_parser = parse_cert_secret,
        conflicts_with_all = ["tls_cert", "tls_key"]
    )]
    pub cert_secret: Option<CertSecret>,
    /// Names the self-managed certificate covers (DNS names or IP addresses)
    /// [default: batchguard.<namespace>.svc and batchguard.<namespace>.svc.cluster.local
    /// (the Secret's namespace), plus the host of every `url` webhook in
    /// --webhook-configurations].
    #[arg(
        long,
        value_name = "HOST[,HOST]",
        value_delimiter = ',',
        value_parser = parse_host,
        requires = "cert_secret"
    )]
    pub cert_hosts: Vec<Host>,
    /// Mutating- and ValidatingWebhookConfigurations whose every webhook gets the CA as
    /// `caBundle` (re-written if someone removes it).
    #[arg(
        long,
        value_name = "NAME[,NAME]",
        value_delimiter = ',',
        value_parser = parse_object_name,
        requires = "cert_secret"
    )]
    pub webhook_configurations: Vec<String>,
    /// Kubeconfig for the API server [default: as kubectl: $KUBECONFIG, ~/.kube/config, or
    /// the in-cluster ServiceAccount].
    #[arg(long, value_name = "FILE", requires = "cert_secret")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one.
    #[arg(long, value_name = "NAME", requires = "cert_secret")]
    pub context: Option<String>,
    /// How often the Secret and the webhook configurations are checked again (failed
    /// checks retry sooner, backing off up to this).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_check_interval)]
    pub cert_check_interval: std::time::Duration,
}

/// `--cert-secret`: the namespace may come from $POD_NAMESPACE at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSecret {
    pub namespace: Option<String>,
    pub name: String,
}

impl CertSecret {
    /// The Secret, its namespace taken from `pod_namespace` when the flag named none.
    pub fn resolve(&self, pod_namespace: Option<&str>) -> Option<SecretRef> {
        let namespace = self.namespace.as_deref().or(pod_namespace)?;
        Some(SecretRef {
            namespace: namespace.to_owned(),
            name: self.name.clone(),
        })
    }
}

pub(super) fn parse_cert_secret(s: &str) -> Result<CertSecret, String> {
    if s.contains('/') {
        let secret: SecretRef = s.parse().map_err(|e: ClusterError| e.to_string())?;
        return Ok(CertSecret {
            namespace: Some(secret.namespace),
            name: secret.name,
        });
    }
    // The name alone must be valid too; any valid namespace checks it.
    let secret: SecretRef = format!("default/{s}").parse().map_err(|_| {
        format!("invalid secret reference {s:?}: expected NAMESPACE/NAME of lowercase DNS labels")
    })?;
    Ok(CertSecret {
        namespace: None,
        name: secret.name,
    })
}

pub(super) fn parse_host(s: &str) -> Result<Host, String> {
    s.trim().parse().map_err(|e: CertError| e.to_string())
}

/// A cluster-scoped object's name: a DNS subdomain (lowercase labels joined by dots).
pub(super) fn parse_object_name(s: &str) -> Result<String, String> {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if s.len() <= 253 && s.split('.').all(label) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "invalid object name {s:?}: expected lowercase letters, digits, '-' and '.'"
        ))
    }
}

pub(super) fn parse_check_interval(s: &str) -> Result<std::time::Duration, String> {
    match parse_duration(s)? {
        d if d >= std::time::Duration::from_secs(1) => Ok(d),
        _ => Err(format!("{s:?} is shorter than 1s")),
    }
}

/// `batchguard certs`
#[derive(Debug, Args)]
#[command(
    about = "Write a new CA and a serving certificate (ca.crt, tls.crt, tls.key) to a directory",
    long_about = "Write a new CA and a serving certificate signed by it to DIR/ca.crt, DIR/tls.crt and \
DIR/tls.key (mode 0600), for serving with --tls-cert/--tls-key or installing with \
deploy/overlays/static. The certificate is valid 365 days (ECDSA P-256) for every HOST; the CA \
key is not kept, so renewing means running this again (with --force) and installing the new \
ca.crt as caBundle too. Each file is written to a temporary name and renamed, so a reader \
never sees half a file. `batchguard serve --cert-secret` does all of this in the cluster by itself.",
    after_help = "Examples:
  batchguard certs --out-dir deploy/overlays/static/certs \\
    --hosts batchguard.batchguard.svc,batchguard.batchguard.svc.cluster.local
  batchguard certs --out-dir /tmp/bg --hosts localhost,127.0.0.1 --force

Exit codes:
  0  the three files were written
  2  usage error, a file exists already (without --force), or a file cannot be written"
)]
pub struct CertsArgs {
    /// Directory to write ca.crt, tls.crt and tls.key to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Names the serving certificate covers: DNS names or IP addresses (the webhook's
    /// Service is `<service>.<namespace>.svc`).
    #[arg(long, value_name = "HOST[,HOST]", value_delimiter = ',', value_parser = parse_host, required = true)]
    pub hosts: Vec<Host>,
    /// Replace files that exist already.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let nanos = crate::gocompat::parse_go_duration(s)
        .map_err(|e| format!("{e} (expected a duration such as 5s or 1500ms)"))?;
    match u64::try_from(nanos) {
        Ok(n) if n <= 600 * 1_000_000_000 => Ok(std::time::Duration::from_nanos(n)),
        _ => Err(format!("{s:?} is not a duration between 0s and 10m")),
    }
}

/// The longest `--reload-interval`: an hour, so a rotated certificate is always picked up.
pub(super) const MAX_RELOAD_INTERVAL: f64 = 3600.0;

pub(super) fn parse_interval(s: &str) -> Result<f64, String> {
    let value: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if value > 0.0 && value <= MAX_RELOAD_INTERVAL {
        Ok(value)
    } else {
        Err(format!(
            "{s:?} is out of range: must be greater than 0 and at most {MAX_RELOAD_INTERVAL} seconds"
        ))
    }
}
