//! The command line, declared once with clap derive: one struct per subcommand, with help
//! text that teaches (every flag explained, examples and exit codes in `--help`).

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use clap::{Args, Parser, Subcommand, ValueEnum};

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

mod serve;

pub use serve::{CertSecret, CertsArgs, LogFormat, ServeArgs};

#[cfg(test)]
mod tests;
