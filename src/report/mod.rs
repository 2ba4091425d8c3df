//! A run's results, whatever face produced them (`validate`, `audit`, `mutate --check`):
//! one [`DocResult`] per document, List item, cluster object or unreadable input, the
//! [`Summary`], the exit code, and one emitter per output format ([`text`], [`json`],
//! [`sarif`], [`junit`], [`github`]), all fed the same [`Report`].

pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{RuleId, Severity};

/// The output formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// For people: `path:line:col: error[rule-id] field: message` lines and a summary line
    /// (colour on a terminal unless NO_COLOR is set).
    #[default]
    Text,
    /// For tools: one JSON object, a stable contract (see docs/cli.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML: a testsuite per file, a testcase per document, a failure per error.
    Junit,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`): annotations on the diff.
    Github,
}

/// Writes `report` in `format`; `color` matters only for text.
pub fn write(out: &mut dyn Write, report: &Report, format: Format, color: bool) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, report, color),
        Format::Json => json::write(out, report),
        Format::Sarif => sarif::write(out, report),
        Format::Junit => junit::write(out, report),
        Format::Github => github::write(out, report),
    }
}

/// What became of one document (or one item of a List).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A Job or CronJob with no error-level finding (it may carry warnings).
    Valid,
    /// A Job or CronJob with at least one error-level finding.
    Invalid,
    /// Not a batch/v1 Job or CronJob: not judged.
    Skipped,
    /// Not valid YAML/JSON, or not an object; its one finding says where.
    Unparseable,
    /// An input that could not be read (a path, or for `audit` a list the API server
    /// refused); its one finding says why. Not a document: not counted in `documents`.
    Unreadable,
}

/// A finding placed in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    pub rule: RuleId,
    pub severity: Severity,
    /// The field path as the API server prints it; empty for a syntax error.
    pub field: String,
    pub message: String,
    /// 1-based; 0 when there is no position (an unreadable input, a cluster object).
    pub line: usize,
    pub column: usize,
}

impl Located {
    /// Whether the finding points into a source text.
    pub fn has_position(&self) -> bool {
        self.line > 0
    }
}

/// The verdict on one document, or on one item of a List.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocResult {
    pub file: String,
    /// 0-based index of the document in its file (empty documents are not counted).
    pub document: usize,
    /// 0-based index inside a List's `items`; `None` for a top-level object.
    pub item: Option<usize>,
    /// Where the document (or the List item) starts; for an unparseable document, the
    /// line of the syntax error.
    pub line: usize,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub status: Status,
    /// Sorted by position.
    pub findings: Vec<Located>,
}

impl DocResult {
    /// A document that could not be read, with one finding of `rule` at `line:column`.
    pub fn unparseable(
        file: &str,
        document: usize,
        rule: RuleId,
        (line, column): (usize, usize),
        message: String,
    ) -> DocResult {
        DocResult {
            file: file.to_string(),
            document,
            item: None,
            line,
            kind: None,
            name: None,
            namespace: None,
            status: Status::Unparseable,
            findings: vec![Located {
                rule,
                severity: Severity::Error,
                field: String::new(),
                message,
                line,
                column,
            }],
        }
    }

    /// An input that could not be read, with one `unreadable-input` error saying why.
    /// It has no position: `document`, `line` and the finding's `line`/`column` are 0.
    pub fn unreadable(file: &str, message: String) -> DocResult {
        DocResult {
            file: file.to_string(),
            document: 0,
            item: None,
            line: 0,
            kind: None,
            name: None,
            namespace: None,
            status: Status::Unreadable,
            findings: vec![Located {
                rule: RuleId::UnreadableInput,
                severity: Severity::Error,
                field: String::new(),
                message,
                line: 0,
                column: 0,
            }],
        }
    }
}

/// Counts over a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Inputs read (files and standard input; for `audit`, the lists read).
    pub files: usize,
    /// Results that are documents, with each List item counted on its own
    /// (`checked + skipped + unparseable`); unreadable inputs are not documents.
    pub documents: usize,
    /// Jobs and CronJobs judged (`valid + invalid`).
    pub checked: usize,
    pub skipped: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Error-level findings, syntax errors and unreadable inputs included.
    pub errors: usize,
    pub warnings: usize,
    /// Documents that could not be parsed, or are not objects.
    pub unparseable: usize,
    /// Inputs that could not be read.
    pub unreadable: usize,
}

/// Where a report's objects came from: files (positions are `line:col` in them) or a live
/// cluster (no positions; an object is named `namespace/Kind/name`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Source {
    #[default]
    Files,
    Cluster,
}

/// The `file` of every result of a cluster report.
pub const CLUSTER_FILE: &str = "cluster";

/// Everything a run found: the emitters print this.
#[derive(Debug, Default)]
pub struct Report {
    pub source: Source,
    /// How many inputs were read.
    pub files: usize,
    /// In input order; an unreadable input is a result of its own.
    pub results: Vec<DocResult>,
    /// Every input problem, fatal or not, in input order, for the notes on stderr. The
    /// fatal ones (unreadable paths) are also results; the others (an empty directory, a
    /// skipped named pipe) are notes only.
    pub input_errors: Vec<InputError>,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            files: self.files,
            ..Summary::default()
        };
        for r in &self.results {
            match r.status {
                Status::Valid => s.valid += 1,
                Status::Invalid => s.invalid += 1,
                Status::Skipped => s.skipped += 1,
                Status::Unparseable => s.unparseable += 1,
                Status::Unreadable => s.unreadable += 1,
            }
            for f in &r.findings {
                match f.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                }
            }
        }
        s.checked = s.valid + s.invalid;
        s.documents = s.checked + s.skipped + s.unparseable;
        s
    }

    /// The exit code `validate` (and `audit`, `mutate --check`) ends with: 2 if an input
    /// could not be read, else 1 if anything is in error, else 0.
    pub fn exit_code(&self) -> u8 {
        let unreadable = self.results.iter().any(|r| r.status == Status::Unreadable);
        if unreadable || self.input_errors.iter().any(InputError::is_fatal) {
            2
        } else if self
            .results
            .iter()
            .any(|r| matches!(r.status, Status::Invalid | Status::Unparseable))
        {
            1
        } else {
            0
        }
    }

    /// What a result is called where no position can be given: the file, or for a
    /// cluster object `namespace/Kind/name` (the parts it has).
    pub fn label(&self, result: &DocResult) -> String {
        match self.source {
            Source::Files => result.file.clone(),
            Source::Cluster => {
                let parts: Vec<&str> = [&result.namespace, &result.kind, &result.name]
                    .into_iter()
                    .filter_map(|p| p.as_deref())
                    .collect();
                if parts.is_empty() {
                    CLUSTER_FILE.to_string()
                } else {
                    parts.join("/")
                }
            }
        }
    }
}

/// A path that could not be read. Reported on stderr; the other inputs are still checked.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no *.yaml, *.yml or *.json files found in directory {path}")]
    EmptyDirectory { path: String },
    /// Found by walking a directory: a named pipe could block the run forever.
    #[error("skipped {path}: not a regular file (a named pipe, socket or device)")]
    NotRegularFile { path: String },
}

impl InputError {
    /// Whether this should fail the run (exit 2); an empty directory or a skipped special
    /// file is only worth a note.
    pub fn is_fatal(&self) -> bool {
        matches!(self, InputError::Read { .. })
    }
}

/// Asserts that `keys` are written in this order in the JSON `text` (each at its first
/// `"key":`): a parsed `Value` keeps no key order, so contract tests read the text.
#[cfg(test)]
pub(crate) fn assert_keys_in_order(text: &[u8], keys: &[&str]) {
    let text = String::from_utf8_lossy(text);
    let at: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).expect("key written"))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::validate::check_source;
    use chrono::Utc;

    fn check(src: &str) -> Vec<DocResult> {
        check_source("m.yaml", src.as_bytes(), &Policy::default(), Utc::now())
    }

    const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\n  namespace: ci\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n";

    #[test]
    fn summary_counts_every_status() {
        let mut report = Report {
            files: 2,
            results: check("apiVersion: v1\nkind: Pod\n---\n{a: [\n---\nkind: Job\n"),
            ..Report::default()
        };
        report.results.extend(check(JOB));
        let s = report.summary();
        assert_eq!((s.files, s.documents, s.skipped, s.invalid), (2, 4, 1, 1));
        assert_eq!((s.unparseable, s.unreadable), (1, 0));
        assert_eq!(s.checked, s.valid + s.invalid);
        assert!(s.errors >= 2);
        assert_eq!(report.exit_code(), 1);
    }

    #[test]
    fn an_unreadable_input_is_counted_apart_from_documents_and_exits_2() {
        let mut report = Report {
            files: 1,
            results: check(JOB),
            ..Report::default()
        };
        report.results.push(DocResult::unreadable(
            "gone.yaml",
            "cannot read: No such file".into(),
        ));
        let s = report.summary();
        assert_eq!((s.documents, s.unreadable, s.unparseable), (1, 1, 0));
        assert_eq!(s.documents, s.checked + s.skipped + s.unparseable);
        assert!(s.errors >= 1);
        assert_eq!(report.exit_code(), 2);
        let f = &report.results[1].findings[0];
        assert_eq!((f.rule, f.line, f.column), (RuleId::UnreadableInput, 0, 0));
        assert!(!f.has_position());
    }

    #[test]
    fn cluster_objects_are_labelled_by_namespace_kind_and_name() {
        let mut result = DocResult::unreadable(CLUSTER_FILE, "x".into());
        let report = Report {
            source: Source::Cluster,
            ..Report::default()
        };
        assert_eq!(report.label(&result), "cluster");
        result.kind = Some("CronJob".into());
        assert_eq!(report.label(&result), "CronJob");
        result.namespace = Some("prod".into());
        result.name = Some("nightly".into());
        assert_eq!(report.label(&result), "prod/CronJob/nightly");
        let files = Report::default();
        assert_eq!(files.label(&result), "cluster");
    }
}
