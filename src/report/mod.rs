//! A run's results, whatever face produced them (`validate`, and later `audit` and
//! `mutate --check`): one [`DocResult`] per document or List item, the [`Summary`], the exit
//! code, and one emitter per output format ([`text`], [`json`]).

pub mod json;
pub mod text;

use serde::Serialize;

use crate::model::{RuleId, Severity};

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
    /// Not valid YAML/JSON; its one finding says where.
    Unparseable,
}

/// A finding placed in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    pub rule: RuleId,
    pub severity: Severity,
    /// The field path as the API server prints it; empty for a syntax error.
    pub field: String,
    pub message: String,
    pub line: usize,
    pub column: usize,
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
}

/// Counts over a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Inputs read (files and standard input).
    pub files: usize,
    /// Results: documents, with each List item counted on its own.
    pub documents: usize,
    /// Jobs and CronJobs judged (`valid + invalid`).
    pub checked: usize,
    pub skipped: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Error-level findings, syntax errors included.
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    /// Documents that could not be parsed (not a field of the JSON contract; it is
    /// `documents - checked - skipped`).
    pub fn unparseable(&self) -> usize {
        self.documents - self.checked - self.skipped
    }
}

/// Everything a run found: the emitters print this.
#[derive(Debug, Default)]
pub struct Report {
    /// How many inputs were read.
    pub files: usize,
    pub results: Vec<DocResult>,
    /// Paths that could not be read, and other input trouble, in input order.
    pub input_errors: Vec<InputError>,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            files: self.files,
            documents: self.results.len(),
            ..Summary::default()
        };
        for r in &self.results {
            match r.status {
                Status::Valid => s.valid += 1,
                Status::Invalid => s.invalid += 1,
                Status::Skipped => s.skipped += 1,
                Status::Unparseable => {}
            }
            for f in &r.findings {
                match f.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                }
            }
        }
        s.checked = s.valid + s.invalid;
        s
    }

    /// The exit code `validate` ends with: 2 if an input could not be read, else 1 if
    /// anything is in error, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.input_errors.iter().any(InputError::is_fatal) {
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
            input_errors: Vec::new(),
        };
        report.results.extend(check(JOB));
        let s = report.summary();
        assert_eq!((s.files, s.documents, s.skipped, s.invalid), (2, 4, 1, 1));
        assert_eq!(s.unparseable(), 1);
        assert_eq!(s.checked, s.valid + s.invalid);
        assert!(s.errors >= 2);
        assert_eq!(report.exit_code(), 1);
    }
}
