//! One document to its results: List items split out, kinds told apart, the engine run,
//! and every finding placed at its `line:col` in the source.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Face;
use crate::gocompat::go_quote as quote;
use crate::model::{Context, Finding, Kind, Operation, Origin, Reason, RuleId, Segment, Severity};
use crate::policy::{Mode, Policy};
use crate::report::{DocResult, Located, Status};
use crate::rules;
use crate::yaml::{self, Pos, Spans};

/// The rule id given to a Job or CronJob whose apiVersion is not `batch/v1`.
pub const API_VERSION_RULE: RuleId = RuleId::UnsupportedApiVersion;

/// The source text with its line starts, to look at the character a position marks.
pub(super) struct Source<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { text, line_starts }
    }

    /// The parser reports a document cut short (an unclosed `[` or `{`, say) where the
    /// next `---` begins, or past the end; the end of the document's last line says more.
    pub(super) fn pull_back_from_marker(&self, e: &mut yaml::SyntaxError) {
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

pub(super) struct Judge<'a> {
    pub(super) face: Face,
    pub(super) file: &'a str,
    pub(super) document: usize,
    /// The whole document, to tell which nodes of a finding's path exist.
    pub(super) root: &'a Value,
    pub(super) source: &'a Source<'a>,
    pub(super) spans: &'a Spans,
    pub(super) policy: &'a Policy,
    pub(super) now: DateTime<Utc>,
}

impl Judge<'_> {
    pub(super) fn document(&self, value: &Value, line: usize, out: &mut Vec<DocResult>) {
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
        if !value.is_object() {
            return self.not_an_object(value, item, prefix, line);
        }
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
                            rule: API_VERSION_RULE,
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
        let findings = if self.face == Face::MutateCheck {
            would_mutate(kind, value, self.policy, self.now)
        } else if rules::is_stored(value) {
            rules::check_stored(kind, value, self.policy, self.now)
        } else {
            let ctx = Context {
                operation: Operation::Create,
                old: None,
                now: self.now,
            };
            rules::check_manifest(kind, value, self.policy, &ctx)
        };
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
    pub(super) fn position(&self, path: &[Segment]) -> Option<Pos> {
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
                    rule: f.rule,
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

    /// A document (or List item) that is a scalar, a list or null: kubectl cannot read it as
    /// an object either, so it is unparseable, pointed at its value.
    fn not_an_object(
        &self,
        value: &Value,
        item: Option<usize>,
        prefix: &[Segment],
        line: usize,
    ) -> DocResult {
        let what = match value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        };
        let whose = if item.is_some() { "List item" } else { "document" };
        let hint = if value.is_array() {
            " (several objects go in documents of their own, separated by `---`, or in the items of a `kind: List`)"
        } else {
            ""
        };
        let pos = self.position(prefix);
        let mut r = self.result(value, item, line, Status::Unparseable);
        r.findings.push(Located {
            rule: RuleId::NotAnObject,
            severity: Severity::Error,
            field: String::new(),
            message: format!(
                "the {whose} is {what}, not an object: a manifest is a mapping with apiVersion, kind and metadata{hint}"
            ),
            line: pos.map_or(line, |p| p.line),
            column: pos.map_or(1, |p| p.column),
        });
        r
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

/// `mutate --check`: one `would-mutate` error per default the webhook would set, at the
/// field (or its nearest parent in the source), worded as the webhook's warn mode words it.
fn would_mutate(kind: Kind, value: &Value, policy: &Policy, now: DateTime<Utc>) -> Vec<Finding> {
    let preview = crate::mutation::offline::preview(kind, value, policy, now);
    preview
        .applied
        .iter()
        .map(|a| Finding {
            rule: RuleId::WouldMutate,
            severity: Severity::Error,
            // Not a policy rule: warn mode must not soften what --check asks for.
            origin: Origin::Advice,
            field: a.field.to_string(),
            reason: Reason::FieldValueRequired,
            message: format!("would set {}", a.detail),
            location: a.path.iter().map(|k| Segment::Key((*k).to_string())).collect(),
            omitted: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::check_source;

    fn check(src: &str) -> Vec<DocResult> {
        check_source("m.yaml", src.as_bytes(), &Policy::default(), Utc::now())
    }

    fn finding(rule: RuleId, origin: Origin, path: &[&str]) -> Finding {
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
            omitted: 0,
        }
    }

    fn place_in(src: &str, prefix: &[Segment], policy: &Policy, findings: Vec<Finding>) -> Vec<Located> {
        let doc = yaml::parse_stream(src).remove(0).expect("parses");
        let root = doc.value.clone().expect("a document");
        let source = Source::new(src);
        let judge = Judge {
            face: Face::Validate,
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
                    RuleId::RestartPolicyRequired,
                    Origin::Api,
                    &["spec", "jobTemplate", "spec", "template", "spec", "restartPolicy"],
                ),
                finding(RuleId::InvalidSchedule, Origin::Api, &["spec", "schedule"]),
                finding(RuleId::ImmutableField, Origin::Api, &["spec", "jobTemplate"]),
            ],
        );
        let at: Vec<_> = placed
            .iter()
            .map(|f| (f.rule.as_str(), f.line, f.column))
            .collect();
        // The missing restartPolicy points at its parent: the pod spec's `spec:` key.
        assert_eq!(
            at,
            [
                ("invalid-schedule", 6, 13),
                ("immutable-field", 7, 3),
                ("restart-policy-required", 10, 9)
            ]
        );
    }

    #[test]
    fn places_list_item_findings_inside_the_item() {
        let src = "kind: List\nitems:\n- kind: Pod\n- kind: CronJob\n  spec:\n    schedule: x\n";
        let prefix = [Segment::Key("items".into()), Segment::Index(1)];
        let placed = place_in(
            src,
            &prefix,
            &Policy::default(),
            vec![finding(
                RuleId::InvalidSchedule,
                Origin::Api,
                &["spec", "schedule"],
            )],
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
                RuleId::ContainerName,
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
                finding(RuleId::InvalidSchedule, Origin::Api, &["spec", "schedule"]),
                finding(RuleId::RequireTimeZone, Origin::Policy, &["spec"]),
            ],
        );
        let sev: Vec<_> = placed.iter().map(|f| (f.rule.as_str(), f.severity)).collect();
        assert_eq!(
            sev,
            [
                ("require-time-zone", Severity::Warning),
                ("invalid-schedule", Severity::Error)
            ]
        );
    }
}
