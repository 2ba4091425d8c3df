//! The faces around the judge, from the binary: every report format over the same
//! fixtures (snapshots), unreadable paths and non-object documents in every format, and
//! stored objects (`kubectl get -o yaml`) judged as what they are.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_batchguard");
const FORMATS: [&str; 5] = ["text", "json", "sarif", "junit", "github"];

pub fn run(dir: &Path, args: &[&str], input: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(input) = input {
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())
            .expect("writes stdin");
    }
    child.wait_with_output().expect("the binary ends")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

fn data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

#[test]
fn every_format_reports_the_same_fixtures() {
    for format in FORMATS {
        let out = run(
            &data(),
            &[
                "validate",
                "--format",
                format,
                "faces/cronjobs.yaml",
                "faces/broken.yaml",
                "faces/gone.yaml",
            ],
            None,
        );
        assert_eq!(code(&out), 2, "{format}: {}", stderr(&out));
        let text = stdout(&out).replace(env!("CARGO_PKG_VERSION"), "[version]");
        insta::assert_snapshot!(format!("faces_validate_{format}"), text);
    }
}

#[test]
fn machine_formats_parse() {
    let args = |f| {
        [
            "validate",
            "--format",
            f,
            "faces/cronjobs.yaml",
            "faces/broken.yaml",
            "faces/gone.yaml",
        ]
    };
    let json: serde_json::Value =
        serde_json::from_slice(&run(&data(), &args("json"), None).stdout).expect("JSON");
    assert_eq!(json["summary"]["unparseable"], 2);
    assert_eq!(json["summary"]["unreadable"], 1);
    assert_eq!(json["summary"]["documents"], 5);
    let sarif: serde_json::Value =
        serde_json::from_slice(&run(&data(), &args("sarif"), None).stdout).expect("SARIF is JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("faces/"))
    ));
    let junit = stdout(&run(&data(), &args("junit"), None));
    assert_eq!(junit.matches("<testsuite ").count(), 3, "{junit}");
    assert_eq!(junit.matches("<failure ").count(), 4, "{junit}");
}

/// The stored object of a captured AdmissionReview: what `kubectl get -o json` prints.
fn stored(fixture: &str) -> serde_json::Value {
    let bytes = std::fs::read(data().join("admission").join(fixture)).expect("fixture");
    let review: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    let mut object = review["request"]["oldObject"].clone();
    let kind = review["request"]["kind"]["kind"].clone();
    object["apiVersion"] = "batch/v1".into();
    object["kind"] = kind;
    object
}

#[test]
fn kubectl_get_output_is_judged_as_stored_objects() {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [stored("job-update-label.validate.json"), stored("cronjob-update-label.validate.json")],
    });
    for input in [
        serde_json::to_string_pretty(&list).expect("json"),
        // YAML as kubectl prints it is JSON's superset; a flow mapping is enough here.
        serde_json::to_string(&list).expect("json"),
    ] {
        let out = run(&data(), &["validate", "--format", "json", "-"], Some(&input));
        let text = stdout(&out);
        assert_eq!(code(&out), 0, "{text}");
        assert!(!text.contains("00000000-0000-4000-8000-000000000000"), "{text}");
        assert!(!text.contains("selector-not-auto-generated"), "{text}");
        let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(report["summary"]["valid"], 2, "{text}");
    }
}

#[test]
fn a_manifest_copied_from_a_stored_job_names_no_placeholder_uid() {
    let mut job = stored("job-update-label.validate.json");
    let meta = job["metadata"].as_object_mut().expect("metadata");
    for k in ["uid", "resourceVersion", "creationTimestamp"] {
        meta.remove(k);
    }
    let input = serde_json::to_string_pretty(&job).expect("json");
    for format in FORMATS {
        let out = run(&data(), &["validate", "--format", format, "-"], Some(&input));
        assert_eq!(code(&out), 1, "{format}");
        let text = stdout(&out);
        assert!(text.contains("selector-not-auto-generated"), "{format}: {text}");
        assert!(
            !text.contains("00000000-0000-4000-8000-000000000000"),
            "{format}: {text}"
        );
    }
}
