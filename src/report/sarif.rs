//! The SARIF 2.1.0 emitter, for GitHub code scanning and other SARIF viewers: one run, the
//! driver with every rule batchguard has, and a result per finding with its file, line and
//! column.
//!
//! Written over serde rather than with the `serde-sarif` crate: the handful of SARIF
//! objects used here do not pay for the ~100 generated types (and their build script and
//! builder derives) that crate compiles; a test checks the output against the official
//! SARIF 2.1.0 schema instead.

use std::io::{self, Write};

use serde::Serialize;

use super::{DocResult, Located, Report, Source};
use crate::model::{RuleId, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Who made the report, as the driver names itself.
#[derive(Debug, Clone, Copy)]
pub struct Tool<'a> {
    pub version: &'a str,
    /// The project's home (`informationUri`), from which each rule's `helpUri` into the
    /// docs is built; both are left out without it (SARIF wants absolute URIs there).
    pub repository: Option<&'a str>,
}

impl Tool<'static> {
    /// This build: its version, and the `repository` of Cargo.toml when it is set.
    pub fn this_build() -> Tool<'static> {
        let repository = env!("CARGO_PKG_REPOSITORY");
        Tool {
            version: env!("CARGO_PKG_VERSION"),
            repository: (!repository.is_empty()).then_some(repository),
        }
    }
}

/// The variable that names the project's repository at run time (the GitHub Action sets
/// it from `github.action_repository`), for builds whose Cargo.toml has none.
pub const REPOSITORY_ENV: &str = "BATCHGUARD_REPOSITORY_URL";

impl<'a> Tool<'a> {
    /// This build, with the repository from `from_env` when that is an absolute http(s)
    /// URL (anything else is ignored: SARIF wants absolute URIs).
    pub fn with_repository_from(self, from_env: Option<&'a str>) -> Tool<'a> {
        let usable = from_env.map(str::trim).filter(|u| {
            (u.starts_with("https://") || u.starts_with("http://")) && !u.contains(char::is_whitespace)
        });
        Tool {
            repository: usable.or(self.repository),
            ..self
        }
    }
}

/// Writes the report as one pretty-printed SARIF log, followed by a newline.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let from_env = std::env::var(REPOSITORY_ENV).ok();
    write_with(
        out,
        report,
        Tool::this_build().with_repository_from(from_env.as_deref()),
    )
}

/// [`write`] for a given tool identity (tests pin it).
pub fn write_with(out: &mut dyn Write, report: &Report, tool: Tool<'_>) -> io::Result<()> {
    let information_uri = tool.repository.map(|r| r.trim_end_matches('/').to_string());
    let rules = RuleId::ALL
        .iter()
        .map(|&rule| Rule {
            id: rule.as_str(),
            short_description: Text { text: rule.summary() },
            help_uri: information_uri
                .as_ref()
                .map(|base| format!("{base}/blob/main/{}", help_page(rule))),
        })
        .collect();
    let results = report
        .results
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| result(report, r, f)))
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: ToolObject {
                driver: Driver {
                    name: "batchguard",
                    version: tool.version,
                    information_uri,
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::from)?;
    writeln!(out)
}

/// Where a rule is documented: its section of docs/rules.md, or for the pod-template
/// rules, docs/pod.md. The anchors are GitHub's slugs of the section headings.
pub fn help_page(rule: RuleId) -> &'static str {
    use RuleId::*;
    match rule {
        InvalidContainer
        | InvalidEnv
        | InvalidResources
        | InvalidProbe
        | InvalidVolume
        | InvalidVolumeMount
        | InvalidSecurityContext
        | InvalidScheduling
        | InvalidPodSpec
        | DeprecatedPodField => "docs/pod.md#rules",
        AllowedRestartPolicies
        | AllowedCompletionModes
        | AllowedConcurrencyPolicies
        | MaxSuccessfulJobsHistoryLimit
        | MaxFailedJobsHistoryLimit
        | MinScheduleInterval
        | RequireTimeZone => "docs/rules.md#policy-rules",
        NeverFiringSchedule | ShortStartingDeadline | TzPrefixOnUpdate => "docs/rules.md#advice",
        DstSchedule | WouldMutate => "docs/rules.md#audit-and-mutate-rules",
        YamlSyntax
        | YamlTooDeep
        | YamlAliasBudget
        | DuplicateKey
        | UnsupportedApiVersion
        | NotAnObject
        | UnreadableInput => "docs/rules.md#reader-rules",
        _ => "docs/rules.md#api-rules",
    }
}

fn result<'a>(report: &Report, r: &DocResult, f: &'a Located) -> SarifResult<'a> {
    let text = if f.field.is_empty() {
        f.message.clone()
    } else {
        format!("{}: {}", f.field, f.message)
    };
    let locations = match report.source {
        Source::Files => {
            let region = f.has_position().then_some(Region {
                start_line: f.line,
                start_column: f.column.max(1),
            });
            let physical = PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: file_uri(&r.file),
                },
                region,
            };
            vec![Location::Physical(physical)]
        }
        // A cluster object has no file: it is named as `namespace/Kind/name`.
        Source::Cluster => vec![Location::Logical(vec![LogicalLocation {
            fully_qualified_name: report.label(r),
            kind: "resource",
        }])],
    };
    SarifResult {
        rule_id: f.rule.as_str(),
        rule_index: RuleId::ALL.iter().position(|&x| x == f.rule).unwrap_or_default(),
        level: match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        message: OwnedText { text },
        locations,
    }
}

/// A path as a SARIF `artifactLocation.uri`: relative paths stay relative (code scanning
/// reads them from the repository root), absolute ones become `file://` URIs; anything
/// outside RFC 3986's unreserved characters and `/` is percent-encoded.
pub fn file_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: ToolObject<'a>,
    column_kind: &'a str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct ToolObject<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<String>,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    short_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
}

#[derive(Serialize)]
struct Text {
    text: &'static str,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'a str,
    message: OwnedText,
    locations: Vec<Location>,
}

#[derive(Serialize)]
enum Location {
    #[serde(rename = "physicalLocation")]
    Physical(PhysicalLocation),
    #[serde(rename = "logicalLocations")]
    Logical(Vec<LogicalLocation>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[cfg(test)]
mod tests;
