//! The command line, declared once with clap derive: one struct per subcommand, with help
//! text that teaches (every flag explained, examples and exit codes in `--help`).

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cluster::{CertError, ClusterError, Host, SecretRef};

/// Judge Kubernetes batch/v1 Jobs and CronJobs exactly as kube-apiserver does.
#[derive(Debug, Parser)]
#[command(
    name = "batchguard",
    // build.rs sets it; a build that skips the script still gets the package version.
    version = match option_env!("BATCHGUARD_VERSION") {
        Some(version) => version,
        None => env!("CARGO_PKG_VERSION"),
    },
    about,
    long_about = "Judge Kubernetes batch/v1 Jobs and CronJobs exactly as kube-apiserver (v1.32) does: \
offline over manifest files (`validate`), for one cron expression (`schedule`), or in the \
cluster as an admission webhook (`serve`). `mutate` previews the webhook's defaults offline, \
and `audit` judges what a live cluster already holds.",
    after_help = concat!(
        "Examples:
  batchguard validate examples/
  batchguard validate --format json deploy/ | jq .summary
  kubectl get cronjobs -A -o yaml | batchguard validate
  batchguard mutate --check k8s/
  batchguard audit -A
  batchguard schedule --time-zone Europe/Berlin '30 2 * * *'
  batchguard config default > policy.yaml
  batchguard completions bash > ~/.local/share/bash-completion/completions/batchguard
  batchguard certs --out-dir certs/out --hosts localhost,127.0.0.1

Run `batchguard <command> --help` for each command's flags.

",
        "Exit codes:
  0  success: no error-level findings (warnings allowed), or the schedule is valid
  1  error findings, an unparseable document, an invalid schedule, or (mutate --check)
     a default the webhook would set
  2  usage error, unreadable path or list, bad policy file, or the command could not run"
    )
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    // `validate` and `schedule` take their help from their Args structs.
    Validate(ValidateArgs),
    Mutate(MutateArgs),
    Audit(AuditArgs),
    Schedule(ScheduleArgs),
    /// Work with the policy file.
    Config(ConfigArgs),
    /// Run the HTTPS admission webhook (validating and mutating).
    // Boxed: its many flags would make every other command's value as large.
    Serve(Box<ServeArgs>),
    /// Write a CA and a serving certificate to files, for installing certificates by hand.
    Certs(CertsArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write every page to a directory.
    Man(ManArgs),
}

pub use crate::report::Format as ReportFormat;

/// Output format of `schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people (colour on a terminal unless NO_COLOR is set).
    Text,
    /// For tools: one JSON object, a stable contract (see docs/cli.md).
    Json,
}

/// `batchguard validate`
#[derive(Debug, Args)]
#[command(
    about = "Check Job and CronJob manifests (YAML, JSON, multi-document, List) as the API server would",
    long_about = "Check Job and CronJob manifests offline, exactly as kube-apiserver would on CREATE.

Each PATH is a file or a directory. Directories are walked recursively, in sorted order, for \
*.yaml, *.yml and *.json files (hidden entries, whose names start with `.`, are left out). \
A file named explicitly is read whatever its extension. `-`, or no PATH at all, reads standard input.

Every document of a multi-document file is judged, and so is every item of a `kind: List`. \
The API server's defaults are applied in memory first, as the cluster would before \
validating. Documents of other kinds, or without apiVersion/kind, are counted as skipped; \
a Job or CronJob whose apiVersion is missing or not batch/v1 (batch/v1beta1) is an error. \
A document with a YAML syntax error is reported at its line:col and the others are still checked. \
A document that is not an object (a bare scalar or list) is an error (`not-an-object`); an \
unreadable path is a result of its own (`unreadable-input`) in every format.

A stored object, one that carries server-set metadata (`uid`, `resourceVersion`, \
`creationTimestamp`) as `kubectl get -o yaml` prints it, is judged as the API server judges an \
UPDATE that changes nothing, plus policy and advice: its generated selector is not an error.",
    after_help = concat!(
        "Examples:
  batchguard validate examples/
  batchguard validate cronjob.yaml job.json
  batchguard validate --config policy.yaml --format json manifests/ > report.json
  helm template chart/ | batchguard validate -
  kubectl get jobs,cronjobs -A -o yaml | batchguard validate -
  batchguard validate --format sarif manifests/ > batchguard.sarif
  batchguard validate --format github manifests/      # annotations in a GitHub Actions job
  batchguard validate --format junit manifests/ > junit.xml

",
        "Exit codes:
  0  no error-level findings (warnings allowed)
  1  at least one error finding or unparseable document
  2  usage error, unreadable path or bad policy file (other paths are still checked)"
    )
)]
pub struct ValidateArgs {
    /// Output format: `text` prints one compiler-style line per finding
    /// (`path:line:col: error[rule-id] field: message`) and a summary line; `json` one JSON
    /// report (docs/cli.md); `sarif` SARIF 2.1.0 (GitHub code scanning); `junit` JUnit XML;
    /// `github` GitHub Actions annotations.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Policy file (YAML) with stricter rules and warnings; see `batchguard config default`.
    /// Without it, the defaults make batchguard exactly as strict as the API server.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Files or directories to check; `-` (or nothing) reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Output of `mutate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MutateFormat {
    /// The documents as YAML, each after a `---` line.
    Yaml,
    /// The documents as JSON, one pretty-printed object each.
    Json,
    /// A JSON array with one entry per Job or CronJob: where it is, and its JSON Patch
    /// (RFC 6902) against the object as written.
    Patch,
}

/// `batchguard mutate`
#[derive(Debug, Args)]
#[command(
    about = "Apply the webhook's defaults to manifests offline and print them (or check that they are written down)",
    long_about = "Apply the webhook's `/mutate` defaults (the policy's `defaults:` section) to Job and \
CronJob manifests offline, with the same code the webhook runs, and print the result.

As in the cluster, each object is first defaulted as the API server would (offline \
manifests are not), then mutated; the output is the document as written plus batchguard's \
changes only, never the API server's defaults. What the manifest sets, even to an API \
default (`concurrencyPolicy: Allow`), is kept, as the webhook keeps what `kubectl apply` \
shows the user chose; `batchguard.io/keep: <field>` keeps an API default that is not \
written. Objects in an exempt namespace or with the ignore annotation are left alone, and \
so are stored Jobs (the webhook mutates Jobs on create only). The policy's `mode` is not \
consulted: in warn mode the webhook warns about these same defaults.

Inputs are read as `validate` reads them (files, directories, `-`, multi-document YAML, \
`kind: List`); other kinds are printed unchanged. Mapping keys are printed sorted, and \
comments are not kept.

With `--check`, nothing is printed but a report (`--report`, the formats of `validate`): \
one `would-mutate` error per default that is not written down.",
    after_help = concat!(
        "Examples:
  batchguard mutate cronjob.yaml
  batchguard mutate --config policy.yaml k8s/ > k8s-defaulted.yaml
  batchguard mutate --format patch cronjob.yaml
  batchguard mutate --check k8s/                        # in CI: are the defaults written down?
  batchguard mutate --check --report github k8s/
  helm template chart/ | batchguard mutate -

",
        "Exit codes:
  0  printed (with --check: nothing would change)
  1  with --check: the webhook would change something; or a document could not be parsed
     (it is reported and left out of the output)
  2  usage error, unreadable path or bad policy file"
    )
)]
pub struct MutateArgs {
    /// What to print: the mutated documents as `yaml` or `json`, or each object's JSON `patch`.
    #[arg(long, value_enum, default_value_t = MutateFormat::Yaml)]
    pub format: MutateFormat,
    /// Print no manifests: report each default the webhook would set as a `would-mutate`
    /// error, and exit 1 if there is any.
    #[arg(long)]
    pub check: bool,
    /// The report's format with `--check` (as `validate --format`).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ReportFormat::Text)]
    pub report: ReportFormat,
    /// Policy file (YAML) whose `defaults:` are applied; see `batchguard config default`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Files or directories; `-` (or nothing) reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// `batchguard audit`
#[derive(Debug, Args)]
#[command(
    about = "Judge every Job and CronJob of a live cluster, and say what the webhook would change",
    long_about = "Read every Job and CronJob from a live cluster (paginated LISTs of jobs.batch and \
cronjobs.batch, 500 per page) and judge each as the stored object it is: as the API server \
judges an UPDATE that changes nothing, plus the policy's rules and advice. For each CronJob \
it also warns about each default `/mutate` would set on a CronJob like it created today \
(`would-mutate`), about a schedule that never fires, and about daylight-saving changes in the \
next year that skip or repeat a run (`dst-schedule`, for CronJobs with spec.timeZone).

The cluster is found as kubectl finds it: --kubeconfig, else KUBECONFIG, else \
~/.kube/config, else the in-cluster ServiceAccount. Without -n or -A the context's namespace \
is read. The report is validate's, in any of its formats; in JSON each result's `file` is \
`cluster` and `namespace` is set. A list the API server refuses (RBAC: `list` on jobs.batch \
and cronjobs.batch is needed) or that cannot reach it is an `unreadable-input` result.",
    after_help = concat!(
        "Examples:
  batchguard audit -A
  batchguard audit -n prod --config policy.yaml
  batchguard audit --context staging -A --format json | jq '.results[] | select(.status == \"invalid\")'
  batchguard audit -A --format sarif > audit.sarif

",
        "Exit codes:
  0  no error-level findings (warnings allowed)
  1  at least one object has an error finding
  2  usage error, bad policy file or kubeconfig, or a list was refused (RBAC) or the API
     server could not be reached"
    )
)]
pub struct AuditArgs {
    /// Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,
    /// Read this namespace (default: the context's namespace).
    #[arg(
        short = 'n',
        long,
        value_name = "NAMESPACE",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// Read every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Policy file (YAML) with stricter rules, warnings and defaults; see `batchguard config default`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format, as `validate --format`.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `batchguard schedule`
#[derive(Debug, Args)]
#[command(
    about = "Check a CronJob schedule and list its next fire times",
    long_about = "Check one CronJob `spec.schedule` expression as the API server does on CREATE (same \
messages), then list its next fire times as the CronJob controller computes them, in the \
schedule's time zone. Warns when the schedule never fires, and when a daylight-saving change \
inside the listed window skips a run (clocks jump over it) or runs it twice (clocks go back).",
    after_help = concat!(
        "Examples:
  batchguard schedule '*/15 * * * *'
  batchguard schedule --time-zone America/New_York --count 10 '30 2 * * *'
  batchguard schedule --from 2026-10-24T00:00:00Z --time-zone Europe/Berlin '30 2 * * *'
  batchguard schedule --format json '0 0 30 2 *'

",
        "Exit codes:
  0  the schedule (and time zone) are valid
  1  the API server would reject the schedule or the time zone
  2  usage error (bad --from, bad --count)"
    )
)]
pub struct ScheduleArgs {
    /// The CronJob's `spec.timeZone` (an IANA name such as `Europe/Berlin`); without it the
    /// schedule runs in the controller's zone, UTC.
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// List fire times strictly after this instant (RFC 3339, e.g. `2026-03-28T00:00:00Z`);
    /// default: now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub from: Option<DateTime<FixedOffset>>,
    /// How many fire times to list (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub count: u16,
    /// Output format: `text` for people, `json` for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The schedule, quoted as one argument (`'0 3 * * *'`, `@daily`, `@every 1h30m`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
}

fn parse_rfc3339(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s).map_err(|e| {
        format!("{e} (expected RFC 3339, like 2026-03-28T00:00:00Z or 2026-03-28T01:00:00+01:00)")
    })
}

/// `batchguard config`
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:
  batchguard config default > policy.yaml
  batchguard validate --config policy.yaml manifests/

",
    "Exit codes:
  0  success
  2  usage error"
))]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the full default policy file, every key with its default and a comment.
    #[command(
        long_about = "Print the full default policy file, every key with its default and a comment. \
Reading it back gives exactly the built-in defaults, so it is a safe starting point for \
`validate --config` and `serve --config`.",
        after_help = concat!(
            "Examples:
  batchguard config default > policy.yaml
  batchguard validate --config policy.yaml manifests/
  batchguard serve --config policy.yaml

",
            "Exit codes:
  0  printed
  2  usage error, or standard output cannot be written"
        )
    )]
    Default,
}

/// `batchguard completions`
#[derive(Debug, Args)]
#[command(
    long_about = "Print a completion script for SHELL on standard output. It completes \
subcommands, flags and their values (formats, shells); load it once per shell as shown below.",
    after_help = concat!(
        "Examples:
  batchguard completions bash > ~/.local/share/bash-completion/completions/batchguard
  batchguard completions zsh > \"${fpath[1]}/_batchguard\"
  batchguard completions fish > ~/.config/fish/completions/batchguard.fish
  batchguard completions powershell >> $PROFILE

",
        "Exit codes:
  0  printed
  2  usage error (unknown shell)"
    )
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `batchguard man`
#[derive(Debug, Args)]
#[command(
    long_about = "Print the manual page of batchguard (or of one COMMAND) as roff, made from \
the same definitions as --help. With --dir, write batchguard.1 and one batchguard-COMMAND.1 \
per command into that directory instead.",
    after_help = concat!(
        "Examples:
  batchguard man | man -l -
  batchguard man validate | man -l -
  batchguard man --dir ~/.local/share/man/man1

",
        "Exit codes:
  0  printed or written
  2  usage error (unknown command), or the directory cannot be written"
    )
)]
pub struct ManArgs {
    /// Print this command's page (`validate`, `schedule`, `serve`, …) instead of the main one.
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write every page (batchguard.1, batchguard-validate.1, …) into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

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
    /// closed, so every API server has dropped the endpoint first (Go duration: `5s`, `1500ms`).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub drain_period: std::time::Duration,
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

fn parse_cert_secret(s: &str) -> Result<CertSecret, String> {
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

fn parse_host(s: &str) -> Result<Host, String> {
    s.trim().parse().map_err(|e: CertError| e.to_string())
}

/// A cluster-scoped object's name: a DNS subdomain (lowercase labels joined by dots).
fn parse_object_name(s: &str) -> Result<String, String> {
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

fn parse_check_interval(s: &str) -> Result<std::time::Duration, String> {
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

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let nanos = crate::gocompat::parse_go_duration(s)
        .map_err(|e| format!("{e} (expected a duration such as 5s or 1500ms)"))?;
    match u64::try_from(nanos) {
        Ok(n) if n <= 600 * 1_000_000_000 => Ok(std::time::Duration::from_nanos(n)),
        _ => Err(format!("{s:?} is not a duration between 0s and 10m")),
    }
}

/// The longest `--reload-interval`: an hour, so a rotated certificate is always picked up.
const MAX_RELOAD_INTERVAL: f64 = 3600.0;

fn parse_interval(s: &str) -> Result<f64, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_path_means_stdin() {
        let cli = Cli::try_parse_from(["batchguard", "validate"]).expect("parses");
        let Command::Validate(args) = cli.command else {
            panic!("validate expected")
        };
        assert!(args.paths.is_empty());
        assert_eq!(args.format, ReportFormat::Text);
    }

    #[test]
    fn every_report_format_is_accepted_by_validate() {
        for f in ["text", "json", "sarif", "junit", "github"] {
            let cli = Cli::try_parse_from(["batchguard", "validate", "--format", f]).expect("parses");
            assert!(matches!(cli.command, Command::Validate(_)), "{f}");
        }
    }

    #[test]
    fn mutate_prints_yaml_by_default_and_checks_with_a_report_format() {
        let cli = Cli::try_parse_from(["batchguard", "mutate", "a.yaml"]).expect("parses");
        let Command::Mutate(args) = cli.command else {
            panic!("mutate expected")
        };
        assert_eq!(
            (args.format, args.check, args.report),
            (MutateFormat::Yaml, false, ReportFormat::Text)
        );
        let cli = Cli::try_parse_from([
            "batchguard",
            "mutate",
            "--check",
            "--report",
            "sarif",
            "--format",
            "patch",
        ])
        .expect("parses");
        let Command::Mutate(args) = cli.command else {
            panic!("mutate expected")
        };
        assert_eq!(
            (args.format, args.check, args.report),
            (MutateFormat::Patch, true, ReportFormat::Sarif)
        );
        assert!(Cli::try_parse_from(["batchguard", "mutate", "--format", "sarif"]).is_err());
    }

    #[test]
    fn audit_takes_a_namespace_or_all_but_not_both() {
        let cli =
            Cli::try_parse_from(["batchguard", "audit", "-n", "prod", "--context", "c"]).expect("parses");
        let Command::Audit(args) = cli.command else {
            panic!("audit expected")
        };
        assert_eq!(args.namespace.as_deref(), Some("prod"));
        assert_eq!(args.context.as_deref(), Some("c"));
        assert!(!args.all_namespaces);
        let cli = Cli::try_parse_from(["batchguard", "audit", "-A", "--format", "junit"]).expect("parses");
        let Command::Audit(args) = cli.command else {
            panic!("audit expected")
        };
        assert!(args.all_namespaces && args.format == ReportFormat::Junit);
        assert!(Cli::try_parse_from(["batchguard", "audit", "-A", "-n", "x"]).is_err());
    }

    #[test]
    fn rejects_count_zero_and_bad_from() {
        assert!(Cli::try_parse_from(["batchguard", "schedule", "--count", "0", "* * * * *"]).is_err());
        assert!(Cli::try_parse_from(["batchguard", "schedule", "--from", "yesterday", "* * * * *"]).is_err());
    }

    #[test]
    fn a_bare_secret_name_takes_its_namespace_from_the_pod() {
        let bare = parse_cert_secret("batchguard-tls").expect("a name alone");
        assert_eq!(bare.resolve(None), None);
        let secret = bare.resolve(Some("ops")).expect("resolved");
        assert_eq!(secret.to_string(), "ops/batchguard-tls");
        let full = parse_cert_secret("batchguard/tls").expect("namespaced");
        assert_eq!(
            full.resolve(Some("ops")).map(|s| s.to_string()).as_deref(),
            Some("batchguard/tls")
        );
        assert!(parse_cert_secret("Tls").is_err());
        assert!(parse_cert_secret("").is_err());
    }

    #[test]
    fn cert_flags_split_on_commas_and_need_cert_secret() {
        let cli = Cli::try_parse_from([
            "batchguard",
            "serve",
            "--cert-secret",
            "a/b",
            "--cert-hosts",
            "x.svc,10.0.0.1",
            "--webhook-configurations",
            "one,two",
        ])
        .expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("serve expected")
        };
        assert_eq!(args.cert_hosts.len(), 2);
        assert_eq!(args.webhook_configurations, ["one", "two"]);
        assert_eq!(args.cert_check_interval, std::time::Duration::from_secs(60));
        assert!(Cli::try_parse_from(["batchguard", "serve", "--kubeconfig", "k"]).is_err());
    }

    #[test]
    fn schedule_expression_may_start_with_a_hyphen_free_descriptor() {
        let cli = Cli::try_parse_from(["batchguard", "schedule", "@every 1h"]).expect("parses");
        let Command::Schedule(args) = cli.command else {
            panic!("schedule expected")
        };
        assert_eq!(args.expr, "@every 1h");
        assert_eq!(args.count, 5);
    }

    #[test]
    fn reload_interval_says_its_real_range() {
        assert_eq!(parse_interval("0.5"), Ok(0.5));
        assert_eq!(parse_interval("3600"), Ok(3600.0));
        assert_eq!(
            parse_interval("0"),
            Err("\"0\" is out of range: must be greater than 0 and at most 3600 seconds".to_string())
        );
        assert_eq!(
            parse_interval("3601"),
            Err("\"3601\" is out of range: must be greater than 0 and at most 3600 seconds".to_string())
        );
        assert_eq!(
            parse_interval("2s"),
            Err("\"2s\" is not a number of seconds".to_string())
        );
        assert!(parse_interval("NaN").is_err());
    }

    #[test]
    fn every_help_has_examples_and_exit_codes() {
        let mut root = Cli::command().disable_help_subcommand(true);
        root.build();
        let mut pending = vec![root];
        let mut seen = 0;
        while let Some(mut cmd) = pending.pop() {
            pending.extend(cmd.get_subcommands().cloned());
            let help = cmd.render_long_help().to_string();
            for part in ["Examples:\n  batchguard", "Exit codes:\n  0  "] {
                assert!(
                    help.contains(part),
                    "`{}` --help lacks {part:?}:\n{help}",
                    cmd.get_name()
                );
            }
            seen += 1;
        }
        assert!(seen >= 8, "{seen} commands");
    }

    #[test]
    fn version_names_the_package_version() {
        let version = Cli::command().get_version().unwrap_or_default().to_string();
        assert!(version.starts_with(env!("CARGO_PKG_VERSION")), "{version}");
    }

    #[test]
    fn completions_and_man_parse() {
        let cli = Cli::try_parse_from(["batchguard", "completions", "zsh"]).expect("parses");
        assert!(matches!(
            cli.command,
            Command::Completions(CompletionsArgs {
                shell: clap_complete::Shell::Zsh
            })
        ));
        assert!(Cli::try_parse_from(["batchguard", "completions", "tcsh"]).is_err());
        assert!(Cli::try_parse_from(["batchguard", "man", "validate", "--dir", "x"]).is_err());
    }
}
