//! `batchguard mutate`: every document of the inputs with the webhook's defaults added
//! ([`crate::mutation::offline`]), for printing as YAML, JSON or the JSON Patches. Inputs
//! are found and read as `validate` finds and reads them; what cannot be read or parsed is
//! reported as `validate` reports it, and the document is left out of the output.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use json_patch::Patch;
use serde::Serialize;
use serde_json::Value;

use super::inputs::{discover, read_input};
use super::{check_source, unreadable};
use crate::model::Kind;
use crate::mutation::offline;
use crate::policy::Policy;
use crate::report::{DocResult, InputError};
use crate::yaml;

/// One document, mutated.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewritten {
    pub file: String,
    pub document: usize,
    /// The document with the defaults added (unchanged for other kinds).
    pub value: Value,
    /// One entry per Job or CronJob in it (a List has one per such item).
    pub patches: Vec<ObjectPatch>,
}

/// The patch for one object, as `--format patch` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectPatch {
    pub file: String,
    pub document: usize,
    pub item: Option<usize>,
    pub kind: &'static str,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Against the object as written (a List item: against the item).
    pub patch: Patch,
}

impl Rewritten {
    /// Whether the webhook would change anything in this document.
    pub fn changed(&self) -> bool {
        self.patches.iter().any(|p| !p.patch.0.is_empty())
    }
}

/// Everything a `mutate` run produced.
#[derive(Debug, Default)]
pub struct Rewrite {
    pub documents: Vec<Rewritten>,
    /// Documents that could not be parsed, and unreadable paths, as `validate` reports them.
    pub problems: Vec<DocResult>,
    /// Every input problem, for the notes on stderr.
    pub input_errors: Vec<InputError>,
}

/// Reads every input and mutates every document, in input order.
pub fn run(paths: &[PathBuf], policy: &Policy, now: DateTime<Utc>) -> Rewrite {
    let mut out = Rewrite::default();
    for found in discover(paths) {
        let input = match found {
            Ok(input) => input,
            Err(e) => {
                out.problems.extend(unreadable(&e));
                out.input_errors.push(e);
                continue;
            }
        };
        match read_input(&input) {
            Ok(bytes) => rewrite_source(&input.label(), &bytes, policy, now, &mut out),
            Err(e) => {
                out.problems.extend(unreadable(&e));
                out.input_errors.push(e);
            }
        }
    }
    out
}

/// Mutates each document of one source; what `validate` finds unparseable is a problem.
pub fn rewrite_source(file: &str, bytes: &[u8], policy: &Policy, now: DateTime<Utc>, out: &mut Rewrite) {
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let broken = |r: &DocResult| r.status == crate::report::Status::Unparseable;
    // The same reader as validate's, so a document is rewritten only if validate could read it.
    let problems: Vec<DocResult> = check_source(file, bytes, &Policy::default(), now)
        .into_iter()
        .filter(broken)
        .collect();
    let bad: Vec<usize> = problems.iter().map(|r| r.document).collect();
    out.problems.extend(problems);
    if std::str::from_utf8(bytes).is_err() {
        return;
    }
    for (index, doc) in yaml::documents(text).enumerate() {
        let Ok(doc) = doc else { continue };
        let Some(value) = doc.value else { continue };
        if bad.contains(&index) {
            continue;
        }
        out.documents
            .push(rewrite_document(file, index, value, policy, now));
    }
}

fn rewrite_document(
    file: &str,
    document: usize,
    mut value: Value,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Rewritten {
    let mut patches = Vec::new();
    let is_list = value.get("kind").and_then(Value::as_str) == Some("List")
        || (value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && value.get("items").is_some_and(Value::is_array));
    if is_list {
        if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
            for (i, item) in items.iter_mut().enumerate() {
                if let Some(p) = rewrite_object(file, document, Some(i), item, policy, now) {
                    patches.push(p);
                }
            }
        }
    } else if let Some(p) = rewrite_object(file, document, None, &mut value, policy, now) {
        patches.push(p);
    }
    Rewritten {
        file: file.to_string(),
        document,
        value,
        patches,
    }
}

fn rewrite_object(
    file: &str,
    document: usize,
    item: Option<usize>,
    object: &mut Value,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Option<ObjectPatch> {
    let api_version = object.get("apiVersion").and_then(Value::as_str)?;
    let kind = Kind::from_type(api_version, object.get("kind").and_then(Value::as_str)?)?;
    let preview = offline::preview(kind, object, policy, now);
    let meta = |k: &str| {
        object
            .get("metadata")
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let patch = ObjectPatch {
        file: file.to_string(),
        document,
        item,
        kind: kind.as_str(),
        name: meta("name"),
        namespace: meta("namespace"),
        patch: preview.patch,
    };
    *object = preview.mutated;
    Some(patch)
}

/// A document as YAML (a `---` line first), block style, multi-line strings as literals.
/// Mapping keys come out sorted: the reader does not keep the source's order.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
    emitter.multiline_strings(true);
    // Writing into a String cannot fail; an error would only leave the text short.
    let _ = emitter.dump(&to_yaml_node(value));
    out.push('\n');
    out
}

fn to_yaml_node(value: &Value) -> yaml_rust2::Yaml {
    use yaml_rust2::Yaml;
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(a) => Yaml::Array(a.iter().map(to_yaml_node).collect()),
        Value::Object(m) => {
            let mut hash = yaml_rust2::yaml::Hash::new();
            for (k, v) in m {
                hash.insert(Yaml::String(k.clone()), to_yaml_node(v));
            }
            Yaml::Hash(hash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRONJOB: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: \"30 2 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n          - name: main\n            image: busybox\n            args: [\"sh\", \"-c\", \"echo 1\\necho 2\"]\n";

    fn rewrite(src: &str) -> Rewrite {
        let mut out = Rewrite::default();
        rewrite_source("m.yaml", src.as_bytes(), &Policy::default(), Utc::now(), &mut out);
        out
    }

    #[test]
    fn adds_the_defaults_and_prints_yaml_that_reads_back_the_same() {
        let src = format!("{CRONJOB}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n");
        let r = rewrite(&src);
        assert_eq!(r.documents.len(), 2);
        assert!(r.documents[0].changed());
        assert!(!r.documents[1].changed());
        assert!(r.documents[1].patches.is_empty());
        let text = to_yaml(&r.documents[0].value);
        assert!(text.starts_with("---\napiVersion: batch/v1\n"), "{text}");
        assert!(text.contains("concurrencyPolicy: Forbid"), "{text}");
        let back = yaml::parse_stream(&text).remove(0).expect("parses").value;
        assert_eq!(back.as_ref(), Some(&r.documents[0].value));
        // Written back, nothing is left to change.
        let again = rewrite(&text);
        assert!(!again.documents[0].changed(), "{:?}", again.documents[0].patches);
    }

    #[test]
    fn strings_that_look_like_other_types_stay_strings() {
        let v = serde_json::json!({"a": "true", "b": "0700", "c": "1.5", "d": "null", "e": "", "f": 3});
        let text = to_yaml(&v);
        let back = yaml::parse_stream(&text).remove(0).expect("parses").value;
        assert_eq!(back, Some(v), "{text}");
    }

    #[test]
    fn list_items_are_patched_one_by_one() {
        let item = CRONJOB.replace('\n', "\n    ");
        let src = format!("apiVersion: v1\nkind: List\nitems:\n  - {item}\n");
        let r = rewrite(&src);
        assert_eq!(r.documents.len(), 1, "{:?}", r.problems);
        assert_eq!(r.documents[0].patches.len(), 1);
        assert_eq!(r.documents[0].patches[0].item, Some(0));
        assert_eq!(
            r.documents[0].value["items"][0]["spec"]["concurrencyPolicy"],
            "Forbid"
        );
    }

    #[test]
    fn an_unparseable_document_is_a_problem_and_left_out() {
        let src = format!("{CRONJOB}---\n{{a: [\n");
        let r = rewrite(&src);
        assert_eq!(r.documents.len(), 1);
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].document, 1);
    }
}
