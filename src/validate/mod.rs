//! `batchguard validate`: files to documents to findings to a [`Report`], so that CI sees
//! exactly the verdicts the API server would give. The judging is [`crate::rules`]; this
//! module finds the inputs ([`inputs`]), splits them into documents and items, places
//! findings in the source ([`judge`]), and leaves printing to [`crate::report`].

pub mod inputs;
mod judge;
pub mod rewrite;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::model::{RuleId, Segment, Severity};
use crate::policy::Policy;
use crate::report::{DocResult, InputError, Located, Report};
use crate::yaml;
use inputs::{discover, read_input};
use judge::{Judge, Source};

pub use inputs::{Input, STDIN_LABEL};
pub use judge::API_VERSION_RULE;

/// The rule id given to a document that is not valid YAML (or JSON).
pub const SYNTAX_RULE: RuleId = RuleId::YamlSyntax;

/// What a run asks of each Job and CronJob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Face {
    /// `validate`: the API server's verdict, policy and advice.
    #[default]
    Validate,
    /// `mutate --check`: a `would-mutate` error per default the webhook would set.
    MutateCheck,
}

/// Judges every document of one source text. `file` names it in the results.
pub fn check_source(file: &str, bytes: &[u8], policy: &Policy, now: DateTime<Utc>) -> Vec<DocResult> {
    check_source_as(Face::Validate, file, bytes, policy, now)
}

/// [`check_source`] for a given face.
pub fn check_source_as(
    face: Face,
    file: &str,
    bytes: &[u8],
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<DocResult> {
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
                    yaml::ErrorKind::TooDeep => RuleId::YamlTooDeep,
                    yaml::ErrorKind::AliasBudget => RuleId::YamlAliasBudget,
                };
                if rule == SYNTAX_RULE && holds_template(text, e.line) {
                    e.message.push_str(TEMPLATE_HINT);
                }
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
                    face,
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

/// Added to a syntax error in a document that holds Go template syntax: a Helm chart's
/// templates are not YAML until rendered, and their `{{- … }}` is the usual error.
const TEMPLATE_HINT: &str = "; the document contains Go template syntax ({{ … }}): render it first: helm template … | batchguard validate -";

/// Whether the document around `line` (1-based; documents split at `---` lines) holds a
/// `{{ … }}` pair.
fn holds_template(text: &str, line: usize) -> bool {
    let mut document = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.starts_with("---") {
            if i + 1 > line {
                break;
            }
            document.clear();
        }
        document.push(l);
    }
    document
        .iter()
        .any(|l| l.find("{{").is_some_and(|open| l[open..].contains("}}")))
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
                RuleId::DuplicateKey
            }
        };
        result.findings.push(Located {
            rule,
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

/// Options for [`run_with`].
pub struct RunOptions<'a> {
    pub now: DateTime<Utc>,
    pub face: Face,
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
            face: Face::Validate,
            progress: None,
        },
    )
}

/// [`run`] with a fixed "now" and a progress callback.
///
/// Inputs are read and judged in parallel on every core (rayon), and the report lists them
/// in input order, so output does not depend on scheduling. Progress is reported from the
/// calling thread as inputs finish.
pub fn run_with(paths: &[PathBuf], policy: &Policy, options: RunOptions<'_>) -> Report {
    use rayon::prelude::*;
    let found = discover(paths);
    let total = found.iter().filter(|f| f.is_ok()).count();
    let now = options.now;
    let face = options.face;
    let (tick, ticks) = std::sync::mpsc::channel::<()>();
    let outcomes: Vec<Result<Vec<DocResult>, InputError>> = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            found
                .into_par_iter()
                .map_with(tick, |tick, input| {
                    let input = input?;
                    let outcome = read_input(&input)
                        .map(|bytes| check_source_as(face, &input.label(), &bytes, policy, now));
                    // The receiver only goes away if the progress loop panicked.
                    let _ = tick.send(());
                    outcome
                })
                .collect()
        });
        // Ends when the last sender (one per rayon split) is dropped.
        let mut progress = options.progress;
        for (done, ()) in ticks.iter().enumerate() {
            if let Some(progress) = progress.as_mut() {
                progress(done + 1, total);
            }
        }
        match worker.join() {
            Ok(outcomes) => outcomes,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    let mut report = Report::default();
    for outcome in outcomes {
        match outcome {
            Ok(mut results) => {
                report.files += 1;
                report.results.append(&mut results);
            }
            Err(e) => {
                if let Some(result) = unreadable(&e) {
                    report.results.push(result);
                }
                report.input_errors.push(e);
            }
        }
    }
    report
}

/// The result for an input that could not be read; `None` for a note (an empty
/// directory, a skipped named pipe), which is not a result.
pub fn unreadable(e: &InputError) -> Option<DocResult> {
    match e {
        InputError::Read { path, source } => {
            Some(DocResult::unreadable(path, format!("cannot read: {source}")))
        }
        InputError::EmptyDirectory { .. } | InputError::NotRegularFile { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

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
        let r =
            check("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\nreplicas: 3\n---\nkind: Pod\n");
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

    const HELM_TEMPLATE: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {{ include \"app.fullname\" . }}\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\nspec:\n  schedule: {{ .Values.schedule | quote }}\n";

    #[test]
    fn a_helm_template_gets_a_hint_to_render_it_first() {
        let r = check(HELM_TEMPLATE);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, Status::Unparseable);
        let message = &r[0].findings[0].message;
        assert!(
            message.ends_with(
                "; the document contains Go template syntax ({{ … }}): render it first: helm template … | batchguard validate -"
            ),
            "{message}"
        );
    }

    #[test]
    fn the_template_hint_looks_only_at_the_broken_document() {
        let src = "a: \"{{ fine in a string }}\"\n---\nb: [1, 2\n".to_string();
        let r = check(&src);
        assert_eq!(r[1].status, Status::Unparseable);
        assert!(!r[1].findings[0].message.contains("template"), "{:?}", r[1]);
        let src = format!("b: [1, 2\n---\n{HELM_TEMPLATE}");
        let r = check(&src);
        assert!(!r[0].findings[0].message.contains("template"), "{:?}", r[0]);
        assert!(r[1].findings[0].message.contains("helm template"), "{:?}", r[1]);
    }

    #[test]
    fn finds_template_syntax_in_the_document_around_a_line() {
        let text = "a: 1\n---\nb: {{ x }}\n---\nc: 2\n";
        assert!(!holds_template(text, 1));
        assert!(holds_template(text, 2));
        assert!(holds_template(text, 3));
        assert!(!holds_template(text, 5));
        assert!(!holds_template("a: }} {{\n", 1));
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
        assert_eq!((f.rule, f.field.as_str()), (API_VERSION_RULE, "apiVersion"));
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
    fn a_missing_path_is_an_error_and_others_still_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("j.yaml");
        std::fs::write(&good, JOB).expect("write");
        let missing = dir.path().join("missing.yaml");
        let report = run(&[good, missing.clone()], &Policy::default());
        assert_eq!(report.files, 1);
        assert_eq!(report.results.len(), 2);
        assert_eq!(report.input_errors.len(), 1);
        assert_eq!(report.exit_code(), 2);
        let gone = &report.results[1];
        assert_eq!(gone.status, Status::Unreadable);
        assert_eq!(gone.file, missing.display().to_string());
        let f = &gone.findings[0];
        assert_eq!((f.rule, f.severity), (RuleId::UnreadableInput, Severity::Error));
        assert!(
            f.message.starts_with("cannot read: No such file or directory"),
            "{f:?}"
        );
        let s = report.summary();
        assert_eq!((s.documents, s.unreadable), (1, 1));
    }

    /// The stored object of a captured AdmissionReview: what `kubectl get -o json` prints.
    fn stored(fixture: &str) -> serde_json::Value {
        let path = format!("{}/tests/data/admission/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let review: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON");
        review["request"]["oldObject"].clone()
    }

    #[test]
    fn a_stored_job_is_judged_as_a_no_op_update_not_as_a_create() {
        let job = stored("job-update-label.validate.json");
        assert!(job["metadata"]["uid"].is_string() && job["status"].is_object());
        let r = check(&serde_json::to_string_pretty(&job).expect("json"));
        assert_eq!(r[0].status, Status::Valid, "{:?}", r[0].findings);
        assert!(r[0].findings.is_empty(), "{:?}", r[0].findings);
        // The same object without what the server set is a manifest to create: its
        // selector and labels name a UID the new object will not have.
        let mut manifest = job.clone();
        let meta = manifest["metadata"].as_object_mut().expect("metadata");
        for k in ["uid", "resourceVersion", "creationTimestamp"] {
            meta.remove(k);
        }
        let r = check(&serde_json::to_string_pretty(&manifest).expect("json"));
        assert_eq!(r[0].status, Status::Invalid);
        let rules: Vec<RuleId> = r[0].findings.iter().map(|f| f.rule).collect();
        assert!(rules.contains(&RuleId::SelectorNotAutoGenerated), "{rules:?}");
        let text = format!("{:?}", r[0].findings);
        assert!(!text.contains(crate::apiserver::PLACEHOLDER_UID), "{text}");
        assert!(text.contains(crate::rules::UID_ON_CREATE), "{text}");
    }

    #[test]
    fn a_stored_cronjob_in_a_kubectl_list_is_valid() {
        let mut cronjob = stored("cronjob-update-label.validate.json");
        cronjob["apiVersion"] = "batch/v1".into();
        cronjob["kind"] = "CronJob".into();
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [cronjob]});
        let r = check(&serde_json::to_string_pretty(&list).expect("json"));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status, Status::Valid, "{:?}", r[0].findings);
    }

    /// A stored object keeps the update rules: a 53-character CronJob name, refused on
    /// create, is accepted on an update (the name cannot change any more).
    #[test]
    fn a_stored_cronjob_keeps_its_long_name() {
        let long = "a".repeat(53);
        let mut cronjob = stored("cronjob-update-label.validate.json");
        cronjob["metadata"]["name"] = long.clone().into();
        let r = check(&serde_json::to_string(&cronjob).expect("json"));
        assert_eq!(r[0].status, Status::Valid, "{:?}", r[0].findings);
        cronjob["metadata"].as_object_mut().expect("meta").remove("uid");
        cronjob["metadata"]
            .as_object_mut()
            .expect("meta")
            .remove("resourceVersion");
        cronjob["metadata"]
            .as_object_mut()
            .expect("meta")
            .remove("creationTimestamp");
        let r = check(&serde_json::to_string(&cronjob).expect("json"));
        assert!(
            r[0].findings.iter().any(|f| f.rule == RuleId::NameTooLong),
            "{:?}",
            r[0].findings
        );
    }

    #[test]
    fn an_empty_directory_is_a_note_not_a_result() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = run(&[dir.path().to_path_buf()], &Policy::default());
        assert!(report.results.is_empty());
        assert_eq!(report.input_errors.len(), 1);
        assert_eq!(report.exit_code(), 0);
    }

    #[test]
    fn a_scalar_or_a_list_document_is_not_an_object() {
        let r = check("just text\n---\n- a\n- b\n---\n42\n---\nkind: List\nitems:\n- 7\n");
        let got: Vec<_> = r
            .iter()
            .map(|d| (d.status, d.item, d.findings[0].rule, d.findings[0].line))
            .collect();
        assert_eq!(
            got,
            [
                (Status::Unparseable, None, RuleId::NotAnObject, 1),
                (Status::Unparseable, None, RuleId::NotAnObject, 3),
                (Status::Unparseable, None, RuleId::NotAnObject, 6),
                (Status::Unparseable, Some(0), RuleId::NotAnObject, 10),
            ]
        );
        assert_eq!(
            r[0].findings[0].message,
            "the document is a string, not an object: a manifest is a mapping with apiVersion, kind and metadata"
        );
        assert!(
            r[1].findings[0].message.contains("is a list, not an object"),
            "{:?}",
            r[1]
        );
        assert!(r[1].findings[0].message.contains("`kind: List`"), "{:?}", r[1]);
        assert!(
            r[3].findings[0].message.starts_with("the List item is a number"),
            "{:?}",
            r[3]
        );
    }

    #[test]
    fn parallel_run_keeps_input_order_and_reports_every_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut expected = Vec::new();
        for i in 0..40 {
            let name = format!("{i:03}.yaml");
            let job = JOB.replace("name: pi", &format!("name: job-{i}"));
            std::fs::write(dir.path().join(&name), job).expect("write");
            expected.push(format!("job-{i}"));
        }
        let mut seen = Vec::new();
        let mut progress = |done: usize, total: usize| seen.push((done, total));
        let report = run_with(
            &[dir.path().to_path_buf()],
            &Policy::default(),
            RunOptions {
                now: Utc::now(),
                face: Face::Validate,
                progress: Some(&mut progress),
            },
        );
        let names: Vec<String> = report.results.iter().filter_map(|r| r.name.clone()).collect();
        assert_eq!(names, expected);
        assert_eq!(seen.len(), 40);
        assert_eq!(seen.last(), Some(&(40, 40)));
        assert!(seen.windows(2).all(|w| w[0].0 + 1 == w[1].0));
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
            .filter(|f| f.rule == RuleId::DuplicateKey)
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
            (r[0].status, r[0].findings[0].rule),
            (Status::Unparseable, RuleId::YamlTooDeep)
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
}
