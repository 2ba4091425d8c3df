//! `batchguard validate`: files to documents to findings to a [`Report`], so that CI sees
//! exactly the verdicts the API server would give. The judging is [`crate::rules`]; this
//! module finds the inputs, splits them into documents and items, keeps source positions,
//! and leaves printing to the emitters ([`text`], [`json`]).

pub mod json;
pub mod text;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::config::{Mode, Policy};
use crate::cron::go_quote as quote;
use crate::rules::{self, Context, Finding, Kind, Operation, Origin, Segment, Severity};
use crate::yaml::{self, Pos, Spans};

/// The rule id given to a document that is not valid YAML (or JSON).
pub const SYNTAX_RULE: &str = "yaml-syntax";
/// The rule id given to a document nested deeper than [`yaml::MAX_DEPTH`].
pub const TOO_DEEP_RULE: &str = "yaml-too-deep";
/// The rule id given to a document whose aliases would expand past the budget.
pub const ALIAS_BUDGET_RULE: &str = "yaml-alias-budget";
/// The rule id of the warning for a mapping key given twice (the last value is kept).
pub const DUPLICATE_KEY_RULE: &str = "duplicate-key";
/// The rule id given to a Job or CronJob whose apiVersion is not `batch/v1`.
pub const API_VERSION_RULE: &str = "unsupported-api-version";

/// The label used for standard input in reports.
pub const STDIN_LABEL: &str = "<stdin>";

/// Extensions read when walking a directory.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// One source of manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// How the input is named in reports: the path as given (joined for walked files), or `<stdin>`.
    pub fn label(&self) -> String {
        match self {
            Input::Stdin => STDIN_LABEL.to_string(),
            Input::File(p) => p.display().to_string(),
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
    pub rule: String,
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
    fn unparseable(
        file: &str,
        document: usize,
        rule: &str,
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
                rule: rule.to_string(),
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

/// Turns the PATH arguments into inputs: files as given, directories walked recursively in
/// sorted order for `*.yaml`/`*.yml`/`*.json` (hidden entries left out), `-` or nothing as
/// standard input. Paths that cannot be read are returned beside the inputs.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    if paths.is_empty() {
        inputs.push(Input::Stdin);
    }
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Err(source) => errors.push(InputError::Read {
                path: path.display().to_string(),
                source,
            }),
            Ok(meta) if meta.is_dir() => {
                let before = inputs.len();
                let mut seen = HashSet::new();
                walk(path, &mut seen, &mut inputs, &mut errors);
                if inputs.len() == before {
                    errors.push(InputError::EmptyDirectory {
                        path: path.display().to_string(),
                    });
                }
            }
            Ok(_) => inputs.push(Input::File(path.clone())),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, seen: &mut HashSet<PathBuf>, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    // A symlink loop would otherwise walk forever.
    if let Ok(real) = std::fs::canonicalize(dir) {
        if !seen.insert(real) {
            return;
        }
    }
    let read_error = |source| InputError::Read {
        path: dir.display().to_string(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(read_error(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => names.push(entry.file_name()),
            Err(e) => errors.push(read_error(e)),
        }
    }
    names.sort();
    for name in names {
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = dir.join(&name);
        match std::fs::metadata(&path) {
            Err(source) => errors.push(InputError::Read {
                path: path.display().to_string(),
                source,
            }),
            Ok(meta) if meta.is_dir() => walk(&path, seen, inputs, errors),
            Ok(meta) => {
                let wanted = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e));
                if wanted && meta.is_file() {
                    inputs.push(Input::File(path));
                } else if wanted {
                    // Named on the command line, a pipe is read; found by a walk, it is
                    // more likely a leftover that nobody will ever write to.
                    errors.push(InputError::NotRegularFile {
                        path: path.display().to_string(),
                    });
                }
            }
        }
    }
}

/// Reads one input whole. Standard input is read at most once per process in practice.
pub fn read_input(input: &Input) -> Result<Vec<u8>, InputError> {
    let mut buf = Vec::new();
    let result = match input {
        Input::Stdin => std::io::stdin().lock().read_to_end(&mut buf).map(|_| ()),
        Input::File(p) => std::fs::read(p).map(|b| buf = b),
    };
    result.map_err(|source| InputError::Read {
        path: input.label(),
        source,
    })?;
    Ok(buf)
}

/// Judges every document of one source text. `file` names it in the results.
pub fn check_source(file: &str, bytes: &[u8], policy: &Policy, now: DateTime<Utc>) -> Vec<DocResult> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return vec![not_utf8(file, bytes, &e)],
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let source = Source::new(text);
    let mut results = Vec::new();
    // One document at a time: only one tree is held, however long the file.
    for (index, doc) in yaml::documents(text).enumerate() {
        match doc {
            Err(mut e) => {
                source.pull_back_from_marker(&mut e);
                let rule = match e.kind {
                    yaml::ErrorKind::Syntax => SYNTAX_RULE,
                    yaml::ErrorKind::TooDeep => TOO_DEEP_RULE,
                    yaml::ErrorKind::AliasBudget => ALIAS_BUDGET_RULE,
                };
                results.push(DocResult::unparseable(
                    file,
                    index,
                    rule,
                    (e.line, e.column),
                    e.message,
                ));
            }
            Ok(doc) => {
                let Some(value) = doc.value else { continue };
                let first = results.len();
                let judge = Judge {
                    file,
                    document: index,
                    root: &value,
                    source: &source,
                    spans: &doc.spans,
                    policy,
                    now,
                };
                let line = judge.position(&[]).map_or(doc.line, |p| p.line);
                judge.document(&value, line, &mut results);
                add_warnings(&mut results[first..], &doc.warnings);
            }
        }
    }
    results
}

/// Gives each reading warning to the result it concerns: the List item under which it
/// stands (its field then relative to the item, as the rules' are), else the document's
/// first result.
fn add_warnings(results: &mut [DocResult], warnings: &[yaml::Warning]) {
    for w in warnings {
        let in_item = |r: &DocResult| match (r.item, w.path.as_slice()) {
            (Some(i), [Segment::Key(items), Segment::Index(j), ..]) => items == "items" && *j == i,
            _ => false,
        };
        let (target, relative) = match results.iter().position(in_item) {
            Some(i) => (i, &w.path[2..]),
            None => (0, w.path.as_slice()),
        };
        let Some(result) = results.get_mut(target) else {
            return;
        };
        let rule = match w.kind {
            yaml::WarningKind::DuplicateKey { .. } | yaml::WarningKind::MoreDuplicateKeys { .. } => {
                DUPLICATE_KEY_RULE
            }
        };
        result.findings.push(Located {
            rule: rule.to_string(),
            severity: Severity::Warning,
            field: Segment::dotted(relative),
            message: w.to_string(),
            line: w.pos.line,
            column: w.pos.column,
        });
        // Stable: findings at one position keep their order.
        result.findings.sort_by_key(|f| (f.line, f.column));
    }
}

/// A file that is not UTF-8 cannot be YAML; point at the first bad byte.
fn not_utf8(file: &str, bytes: &[u8], e: &std::str::Utf8Error) -> DocResult {
    let good = &bytes[..e.valid_up_to()];
    let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
    let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = 1 + String::from_utf8_lossy(&good[line_start..]).chars().count();
    DocResult::unparseable(
        file,
        0,
        SYNTAX_RULE,
        (line, column),
        format!("invalid UTF-8 (byte 0x{:02x})", bytes[e.valid_up_to()]),
    )
}

/// The source text with its line starts, to look at the character a position marks.
struct Source<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { text, line_starts }
    }

    /// The parser reports a document cut short (an unclosed `[` or `{`, say) where the
    /// next `---` begins, or past the end; the end of the document's last line says more.
    fn pull_back_from_marker(&self, e: &mut yaml::SyntaxError) {
        let line_text = |n: usize| -> Option<&str> {
            let start = *self.line_starts.get(n.checked_sub(1)?)?;
            let end = self.line_starts.get(n).map_or(self.text.len(), |&e| e);
            Some(self.text[start..end].trim_end_matches(['\n', '\r']))
        };
        let at_marker = match line_text(e.line) {
            None => true,
            Some(l) => {
                l == "---"
                    || l.starts_with("--- ")
                    || l == "..."
                    || (e.line == self.line_starts.len() && l.is_empty())
            }
        };
        if !at_marker {
            return;
        }
        let mut n = e.line.min(self.line_starts.len() + 1);
        while n > 1 {
            n -= 1;
            let Some(l) = line_text(n) else { break };
            let content = l.trim();
            if content == "---" || content == "..." {
                break;
            }
            if !content.is_empty() && !content.starts_with('#') {
                e.line = n;
                e.column = l.chars().count() + 1;
                e.message.push_str(" at the end of the document");
                return;
            }
        }
    }

    fn char_at(&self, pos: Pos) -> Option<char> {
        let start = *self.line_starts.get(pos.line.checked_sub(1)?)?;
        self.text[start..].chars().nth(pos.column.checked_sub(1)?)
    }
}

struct Judge<'a> {
    file: &'a str,
    document: usize,
    /// The whole document, to tell which nodes of a finding's path exist.
    root: &'a Value,
    source: &'a Source<'a>,
    spans: &'a Spans,
    policy: &'a Policy,
    now: DateTime<Utc>,
}

impl Judge<'_> {
    fn document(&self, value: &Value, line: usize, out: &mut Vec<DocResult>) {
        if let Some(items) = list_items(value) {
            if items.is_empty() {
                out.push(self.skipped(value, None, line));
            }
            for (i, item) in items.iter().enumerate() {
                let prefix = [Segment::Key("items".into()), Segment::Index(i)];
                let item_line = self.position(&prefix).map_or(line, |p| p.line);
                out.push(self.object(item, Some(i), &prefix, item_line));
            }
        } else {
            out.push(self.object(value, None, &[], line));
        }
    }

    fn object(&self, value: &Value, item: Option<usize>, prefix: &[Segment], line: usize) -> DocResult {
        let api_version = value.get("apiVersion").and_then(Value::as_str);
        let kind_name = value.get("kind").and_then(Value::as_str);
        let Some(kind_name) = kind_name else {
            return self.skipped(value, item, line);
        };
        let kind = match api_version.and_then(|v| Kind::from_type(v, kind_name)) {
            Some(kind) => kind,
            None => {
                return match wrong_api_version(api_version, kind_name) {
                    Some((message, field)) => {
                        let pos = self.position(&at(prefix, field));
                        let mut r = self.result(value, item, line, Status::Invalid);
                        r.findings.push(Located {
                            rule: API_VERSION_RULE.to_string(),
                            severity: Severity::Error,
                            field: field.to_string(),
                            message,
                            line: pos.map_or(line, |p| p.line),
                            column: pos.map_or(1, |p| p.column),
                        });
                        r
                    }
                    None => self.skipped(value, item, line),
                };
            }
        };
        let ctx = Context {
            operation: Operation::Create,
            old: None,
            now: self.now,
        };
        let findings = rules::check_manifest(kind, value, self.policy, &ctx);
        let located = self.place(findings, prefix, line);
        let status = if located.iter().any(|f| f.severity == Severity::Error) {
            Status::Invalid
        } else {
            Status::Valid
        };
        let mut r = self.result(value, item, line, status);
        r.kind = Some(kind.as_str().to_string());
        r.findings = located;
        r
    }

    /// Where the node at `path` starts, or for a missing node, where its nearest existing
    /// ancestor does. A scalar is pointed at its value; a mapping or sequence at its key
    /// (`spec:`), or for a List item or the root, at its first entry, because the parser
    /// marks block collections at their first `:`.
    fn position(&self, path: &[Segment]) -> Option<Pos> {
        let mut node = self.root;
        let mut depth = 0;
        for segment in path {
            let child = match (segment, node) {
                (Segment::Key(k), Value::Object(m)) => m.get(k),
                (Segment::Index(i), Value::Array(a)) => a.get(*i),
                _ => None,
            };
            match child {
                Some(child) => {
                    node = child;
                    depth += 1;
                }
                None => break,
            }
        }
        self.start_of(node, &path[..depth])
    }

    fn start_of(&self, node: &Value, path: &[Segment]) -> Option<Pos> {
        let first_child = match node {
            Value::Object(m) => m.keys().next().map(|k| Segment::Key(k.clone())),
            Value::Array(a) if !a.is_empty() => Some(Segment::Index(0)),
            _ => None,
        };
        let Some(first_child) = first_child else {
            return self.spans.locate(path);
        };
        if let Some(pos) = matches!(path.last(), Some(Segment::Key(_)))
            .then(|| self.spans.key(path))
            .flatten()
        {
            return Some(pos);
        }
        // Flow collections (`{…}`, `[…]`, all of JSON) are marked where they open.
        if let Some(pos) = self.spans.locate(path) {
            if matches!(self.source.char_at(pos), Some('{' | '[')) {
                return Some(pos);
            }
        }
        let mut child_path = path.to_vec();
        child_path.push(first_child);
        let child = match (node, child_path.last()) {
            (Value::Object(m), Some(Segment::Key(k))) => m.get(k),
            (Value::Array(a), Some(Segment::Index(i))) => a.get(*i),
            _ => None,
        };
        match (node, child) {
            // A block mapping starts at its first key in the source (a Value's keys are
            // not kept in source order).
            (Value::Object(m), _) => m
                .keys()
                .filter_map(|k| {
                    child_path.pop();
                    child_path.push(Segment::Key(k.clone()));
                    self.spans.key(&child_path)
                })
                .min(),
            (_, Some(child)) => self.start_of(child, &child_path),
            _ => None,
        }
        .or_else(|| self.spans.locate(path))
    }

    /// Points each finding at its node in the source (or its nearest existing parent, for
    /// a missing field), applies warn mode, and sorts by position.
    fn place(&self, findings: Vec<Finding>, prefix: &[Segment], line: usize) -> Vec<Located> {
        let mut located: Vec<Located> = findings
            .into_iter()
            .map(|f| {
                let mut path = prefix.to_vec();
                path.extend(f.location.iter().cloned());
                let pos = self.position(&path);
                // In warn mode only batchguard's own stricter rules soften: the cluster
                // rejects API-level errors whatever the webhook says.
                let severity = if self.policy.mode == Mode::Warn && f.origin == Origin::Policy {
                    Severity::Warning
                } else {
                    f.severity
                };
                Located {
                    rule: f.rule.to_string(),
                    severity,
                    field: f.field,
                    message: f.message,
                    line: pos.map_or(line, |p| p.line),
                    column: pos.map_or(1, |p| p.column),
                }
            })
            .collect();
        // Stable: findings at one position keep the engine's order (the API server's).
        located.sort_by_key(|f| (f.line, f.column));
        located
    }

    fn skipped(&self, value: &Value, item: Option<usize>, line: usize) -> DocResult {
        self.result(value, item, line, Status::Skipped)
    }

    fn result(&self, value: &Value, item: Option<usize>, line: usize, status: Status) -> DocResult {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let metadata = value.get("metadata");
        DocResult {
            file: self.file.to_string(),
            document: self.document,
            item,
            line,
            kind: text(value.get("kind")),
            name: text(metadata.and_then(|m| m.get("name"))),
            namespace: text(metadata.and_then(|m| m.get("namespace"))),
            status,
            findings: Vec::new(),
        }
    }
}

fn at(prefix: &[Segment], key: &str) -> Vec<Segment> {
    let mut p = prefix.to_vec();
    p.push(Segment::Key(key.to_string()));
    p
}

/// The items of a `kind: List` (or any `…List` kind holding an `items` array, as kubectl
/// reads them); `None` for anything else.
fn list_items(value: &Value) -> Option<&Vec<Value>> {
    let kind = value.get("kind")?.as_str()?;
    if !kind.ends_with("List") {
        return None;
    }
    value.get("items")?.as_array()
}

/// A Job or CronJob the cluster would not even decode as batch/v1: `batch/v1beta1` and the
/// like (removed in 1.25), or no apiVersion at all. Returns the message and the field to
/// point at; `None` when the document is simply not ours.
fn wrong_api_version(api_version: Option<&str>, kind: &str) -> Option<(String, &'static str)> {
    if kind != "Job" && kind != "CronJob" {
        return None;
    }
    match api_version {
        None => Some((
            "Required value: apiVersion is not set; Jobs and CronJobs are batch/v1".to_string(),
            "kind",
        )),
        // Another group's `Job` (Volcano's `batch.volcano.sh`, say) is not ours; the core
        // group (`v1`) has none, so `v1` is a typo.
        Some(v) if v == "batch" || v.starts_with("batch/") || !v.contains('/') => Some((
            format!("Unsupported value: {}: supported values: \"batch/v1\"", quote(v)),
            "apiVersion",
        )),
        Some(_) => None,
    }
}

/// Options for [`run_with`].
pub struct RunOptions<'a> {
    pub now: DateTime<Utc>,
    /// Called after each input with (done, total).
    pub progress: Option<&'a mut dyn FnMut(usize, usize)>,
}

/// The whole pipeline over PATH arguments: discover, read, parse, judge. The `validate`
/// command and the benchmark share it.
pub fn run(paths: &[PathBuf], policy: &Policy) -> Report {
    run_with(
        paths,
        policy,
        RunOptions {
            now: Utc::now(),
            progress: None,
        },
    )
}

/// [`run`] with a fixed "now" and a progress callback.
pub fn run_with(paths: &[PathBuf], policy: &Policy, mut options: RunOptions<'_>) -> Report {
    let (inputs, mut input_errors) = discover(paths);
    let mut report = Report::default();
    let total = inputs.len();
    for (done, input) in inputs.iter().enumerate() {
        match read_input(input) {
            Ok(bytes) => {
                report.files += 1;
                let mut results = check_source(&input.label(), &bytes, policy, options.now);
                report.results.append(&mut results);
            }
            Err(e) => input_errors.push(e),
        }
        if let Some(progress) = options.progress.as_mut() {
            progress(done + 1, total);
        }
    }
    report.input_errors = input_errors;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> Vec<DocResult> {
        check_source("m.yaml", src.as_bytes(), &Policy::default(), Utc::now())
    }

    const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\n  namespace: ci\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n";

    #[test]
    fn judges_a_job_and_names_it() {
        let r = check(JOB);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].kind.as_deref(), Some("Job"));
        assert_eq!(r[0].name.as_deref(), Some("pi"));
        assert_eq!(r[0].namespace.as_deref(), Some("ci"));
        assert_eq!((r[0].document, r[0].item, r[0].line), (0, None, 1));
        assert_ne!(r[0].status, Status::Skipped);
    }

    #[test]
    fn skips_other_kinds_and_kindless_documents() {
        let r = check("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\nreplicas: 3\n---\n- a\n");
        let statuses: Vec<_> = r.iter().map(|d| d.status).collect();
        assert_eq!(statuses, vec![Status::Skipped; 3]);
        assert_eq!(r[0].kind.as_deref(), Some("ConfigMap"));
        assert_eq!(r[1].kind, None);
        assert_eq!(r.iter().map(|d| d.document).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn reports_a_syntax_error_at_its_position_and_reads_on() {
        let src = format!("{JOB}---\nkind: [Job\n---\n{JOB}");
        let r = check(&src);
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].status, Status::Unparseable);
        assert_eq!(r[1].findings.len(), 1);
        assert_eq!(r[1].findings[0].rule, SYNTAX_RULE);
        assert!(r[1].findings[0].line >= 12, "{:?}", r[1].findings[0]);
        assert_ne!(r[2].status, Status::Unparseable);
        assert_eq!(r[2].line, 14);
        assert_eq!(r[2].document, 2);
    }

    #[test]
    fn an_unclosed_flow_is_reported_where_its_document_ends() {
        let r = check("a: 1\n---\nb: [1, 2\n\n# trailing comment\n---\nc: 3\n");
        let f = &r[1].findings[0];
        assert_eq!((f.line, f.column), (3, 9), "{f:?}");
        assert!(f.message.ends_with(" at the end of the document"), "{f:?}");
        let r = check("b: {x: 1");
        let f = &r[0].findings[0];
        assert_eq!((f.line, f.column), (1, 9), "{f:?}");
        let r = check("b: {x: 1\n");
        let f = &r[0].findings[0];
        assert_eq!((f.line, f.column), (1, 9), "{f:?}");
    }

    /// kubectl reads a repeated key with its last value, and so does the API server; the
    /// document is judged as such, with a warning at the repeated key.
    #[test]
    fn a_repeated_key_is_a_warning_and_its_last_value_is_judged() {
        let src = JOB.replace(
            "restartPolicy: Never\n",
            "restartPolicy: Always\n      restartPolicy: Never\n",
        );
        let r = check(&src);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, Status::Valid, "{r:?}");
        let dup: Vec<_> = r[0]
            .findings
            .iter()
            .filter(|f| f.rule == DUPLICATE_KEY_RULE)
            .collect();
        assert_eq!(dup.len(), 1, "{r:?}");
        assert_eq!(
            (dup[0].line, dup[0].column, dup[0].severity),
            (10, 7, Severity::Warning)
        );
        assert_eq!(dup[0].field, "spec.template.spec.restartPolicy");
        // With the first value kept instead, the Job would be invalid.
        let flipped = check(&JOB.replace(
            "restartPolicy: Never\n",
            "restartPolicy: Never\n      restartPolicy: Always\n",
        ));
        assert_eq!(flipped[0].status, Status::Invalid, "{flipped:?}");
    }

    /// The deepest document the reader takes goes through the rules, which recurse
    /// (decoding, defaulting, unknown fields, dropping the tree), here on a test thread's
    /// small stack in an unoptimised build.
    #[test]
    fn the_deepest_readable_jobs_are_judged() {
        let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        // Root, spec, template, spec, containers and the container hold `x`.
        let in_container = |n| {
            JOB.replace(
                "containers: [{name: c, image: busybox}]",
                &format!("containers: [{{name: c, image: busybox, x: {}}}]", nest(n)),
            )
        };
        let r = check(&in_container(yaml::MAX_DEPTH - 6));
        assert_eq!(r[0].status, Status::Invalid, "{r:?}");
        assert!(
            r[0].findings
                .iter()
                .any(|f| f.field == "spec.template.spec.containers[0].x"),
            "{r:?}"
        );
        let r = check(&in_container(yaml::MAX_DEPTH - 5));
        assert_eq!(
            (r[0].status, r[0].findings[0].rule.as_str()),
            (Status::Unparseable, TOO_DEEP_RULE)
        );
        // managedFields' fieldsV1 holds any JSON: root, metadata, managedFields, the entry.
        let managed = JOB.replace(
            "  namespace: ci\n",
            &format!(
                "  namespace: ci\n  managedFields: [{{fieldsV1: {}}}]\n",
                nest(yaml::MAX_DEPTH - 4)
            ),
        );
        let r = check(&managed);
        assert_ne!(r[0].status, Status::Unparseable, "{r:?}");
    }

    /// A directory walk skips a named pipe (which would block the run) with a note.
    #[cfg(unix)]
    #[test]
    fn a_walk_skips_named_pipes() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.yaml"), JOB).expect("write");
        let pipe = dir.path().join("b.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "{made:?}");
        let (inputs, errors) = discover(&[dir.path().to_path_buf()]);
        assert_eq!(inputs, [Input::File(dir.path().join("a.yaml"))]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(matches!(&errors[0], InputError::NotRegularFile { path } if path.ends_with("b.yaml")));
        assert!(!errors[0].is_fatal());
        // Named on the command line, it is an input like any file.
        assert_eq!(discover(std::slice::from_ref(&pipe)).0, [Input::File(pipe)]);
    }

    /// In a List, the warning goes with the item that holds the repeated key.
    #[test]
    fn a_repeated_key_in_a_list_item_warns_on_that_item() {
        let src = "kind: List\nitems:\n- kind: Pod\n- kind: ConfigMap\n  data: {a: x, a: y}\n";
        let r = check(src);
        assert_eq!(r.len(), 2);
        assert!(r[0].findings.is_empty(), "{r:?}");
        assert_eq!(r[1].findings.len(), 1, "{r:?}");
        assert_eq!((r[1].findings[0].line, r[1].findings[0].column), (5, 16));
        assert_eq!(r[1].findings[0].field, "data.a");
    }

    #[test]
    fn judges_each_list_item_with_its_index_and_line() {
        let src = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: c}\n";
        let r = check(src);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].item, r[0].line, r[0].status), (Some(0), 4, Status::Skipped));
        assert_eq!((r[1].item, r[1].line), (Some(1), 6));
        assert_eq!(r[1].kind.as_deref(), Some("CronJob"));
        assert_ne!(r[1].status, Status::Skipped);
    }

    #[test]
    fn an_empty_list_is_one_skipped_result() {
        let r = check("apiVersion: v1\nkind: List\nitems: []\n");
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].status, r[0].item), (Status::Skipped, None));
    }

    #[test]
    fn reads_json_and_points_at_json_syntax_errors() {
        let r = check("{\"apiVersion\": \"batch/v1\", \"kind\": \"Job\", \"metadata\": {\"name\": \"j\"}}\n");
        assert_eq!(r[0].kind.as_deref(), Some("Job"));
        let r = check("{\n  \"apiVersion\": \"batch/v1\",\n  \"kind\": \"Job\"\n  \"spec\": {}\n}\n");
        assert_eq!(r[0].status, Status::Unparseable);
        assert_eq!(r[0].findings[0].line, 4, "{:?}", r[0].findings[0]);
    }

    #[test]
    fn a_json_document_starts_at_its_brace() {
        let r = check("\n{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n    {\"kind\": \"Job\"}, {\"kind\": \"Pod\"}\n  ]\n}\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].line, 6);
        // The item's own finding (no apiVersion) points inside the item, at its `kind` value.
        assert_eq!((r[0].findings[0].line, r[0].findings[0].column), (6, 14));
        let r = check("\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n");
        assert_eq!(r[0].line, 2);
    }

    #[test]
    fn rejects_a_removed_batch_api_version() {
        let r = check("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n");
        assert_eq!(r[0].status, Status::Invalid);
        let f = &r[0].findings[0];
        assert_eq!(
            (f.rule.as_str(), f.field.as_str()),
            (API_VERSION_RULE, "apiVersion")
        );
        assert_eq!(
            f.message,
            "Unsupported value: \"batch/v1beta1\": supported values: \"batch/v1\""
        );
        assert_eq!((f.line, f.column), (1, 13));
    }

    #[test]
    fn another_groups_job_is_skipped_but_a_core_job_is_a_typo() {
        let r = check("apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\n---\napiVersion: v1\nkind: Job\n");
        assert_eq!(r[0].status, Status::Skipped);
        assert_eq!(r[1].status, Status::Invalid);
        assert_eq!(r[1].findings[0].rule, API_VERSION_RULE);
    }

    #[test]
    fn a_job_without_api_version_is_a_finding_not_a_skip() {
        let r = check("kind: Job\nmetadata: {name: c}\n");
        assert_eq!(r[0].status, Status::Invalid);
        assert_eq!(r[0].findings[0].line, 1);
    }

    #[test]
    fn reports_invalid_utf8_at_the_bad_byte() {
        let r = check_source("b.yaml", b"a: 1\nb: \xff\n", &Policy::default(), Utc::now());
        assert_eq!(r[0].status, Status::Unparseable);
        assert_eq!((r[0].findings[0].line, r[0].findings[0].column), (2, 4));
    }

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

    #[test]
    fn walks_directories_sorted_and_filtered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for p in [
            "b.yaml",
            "a.yml",
            "c.json",
            "notes.md",
            ".hidden.yaml",
            "sub/z.yaml",
            ".git/x.yaml",
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
            std::fs::write(&path, "a: 1\n").expect("write");
        }
        let (inputs, errors) = discover(&[root.to_path_buf()]);
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p.strip_prefix(root).expect("under root").display().to_string(),
                Input::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "c.json", "sub/z.yaml"]);
    }

    #[test]
    fn a_missing_path_is_an_error_and_others_still_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("j.yaml");
        std::fs::write(&good, JOB).expect("write");
        let report = run(&[dir.path().join("missing.yaml"), good], &Policy::default());
        assert_eq!(report.files, 1);
        assert_eq!(report.results.len(), 1);
        assert_eq!(report.input_errors.len(), 1);
        assert_eq!(report.exit_code(), 2);
    }

    fn finding(rule: &'static str, origin: Origin, path: &[&str]) -> Finding {
        Finding {
            rule,
            severity: Severity::Error,
            origin,
            field: path.join("."),
            reason: rules::Reason::FieldValueInvalid,
            message: "Invalid value: x".into(),
            location: path
                .iter()
                .map(|p| match p.parse::<usize>() {
                    Ok(i) => Segment::Index(i),
                    Err(_) => Segment::Key(p.to_string()),
                })
                .collect(),
        }
    }

    fn place_in(src: &str, prefix: &[Segment], policy: &Policy, findings: Vec<Finding>) -> Vec<Located> {
        let doc = yaml::parse_stream(src).remove(0).expect("parses");
        let root = doc.value.clone().expect("a document");
        let source = Source::new(src);
        let judge = Judge {
            file: "m.yaml",
            document: 0,
            root: &root,
            source: &source,
            spans: &doc.spans,
            policy,
            now: Utc::now(),
        };
        judge.place(findings, prefix, doc.line)
    }

    const CRONJOB: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  schedule: \"0 0 * * 7\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: []\n";

    #[test]
    fn places_findings_at_their_node_sorted_by_position() {
        let placed = place_in(
            CRONJOB,
            &[],
            &Policy::default(),
            vec![
                finding(
                    "missing",
                    Origin::Api,
                    &["spec", "jobTemplate", "spec", "template", "spec", "restartPolicy"],
                ),
                finding("sched", Origin::Api, &["spec", "schedule"]),
                finding("tmpl", Origin::Api, &["spec", "jobTemplate"]),
            ],
        );
        let at: Vec<_> = placed
            .iter()
            .map(|f| (f.rule.as_str(), f.line, f.column))
            .collect();
        // The missing restartPolicy points at its parent: the pod spec's `spec:` key.
        assert_eq!(at, [("sched", 6, 13), ("tmpl", 7, 3), ("missing", 10, 9)]);
    }

    #[test]
    fn places_list_item_findings_inside_the_item() {
        let src = "kind: List\nitems:\n- kind: Pod\n- kind: CronJob\n  spec:\n    schedule: x\n";
        let prefix = [Segment::Key("items".into()), Segment::Index(1)];
        let placed = place_in(
            src,
            &prefix,
            &Policy::default(),
            vec![finding("s", Origin::Api, &["spec", "schedule"])],
        );
        assert_eq!((placed[0].line, placed[0].column), (6, 15));
    }

    #[test]
    fn a_block_mapping_starts_at_its_first_key_in_the_source() {
        // `name` is first in the source but not in key order; `zeta` sorts last but is first.
        let src = "kind: Job\nspec:\n  template:\n    spec:\n      containers:\n      - zeta: 1\n        name: c\n        image: busybox\n";
        let placed = place_in(
            src,
            &[],
            &Policy::default(),
            vec![finding(
                "c",
                Origin::Api,
                &["spec", "template", "spec", "containers", "0"],
            )],
        );
        assert_eq!((placed[0].line, placed[0].column), (6, 9));
        let list = "kind: List\nitems:\n- zeta: 1\n  kind: CronJob\n  apiVersion: batch/v1\n";
        let r = check(list);
        assert_eq!(r[0].line, 3);
    }

    #[test]
    fn warn_mode_softens_only_policy_rules() {
        let policy = Policy {
            mode: Mode::Warn,
            ..Policy::default()
        };
        let placed = place_in(
            CRONJOB,
            &[],
            &policy,
            vec![
                finding("api", Origin::Api, &["spec", "schedule"]),
                finding("strict", Origin::Policy, &["spec"]),
            ],
        );
        let sev: Vec<_> = placed.iter().map(|f| (f.rule.as_str(), f.severity)).collect();
        assert_eq!(sev, [("strict", Severity::Warning), ("api", Severity::Error)]);
    }

    #[test]
    fn no_path_and_dash_mean_stdin() {
        assert_eq!(discover(&[]).0, vec![Input::Stdin]);
        assert_eq!(discover(&[PathBuf::from("-")]).0, vec![Input::Stdin]);
    }
}
