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

const CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hourly
  namespace: prod
spec:
  schedule: '@hourly'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: main
            image: busybox
";

#[test]
fn mutate_prints_the_manifest_with_the_webhooks_defaults_and_check_passes_on_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cj.yaml"), CRONJOB).expect("write");
    let check = run(dir.path(), &["mutate", "--check", "cj.yaml"], None);
    assert_eq!(code(&check), 1, "{}", stdout(&check));
    assert!(stdout(&check).contains("cj.yaml:6:1: error[would-mutate] spec.concurrencyPolicy: would set spec.concurrencyPolicy=Forbid"), "{}", stdout(&check));
    let out = run(dir.path(), &["mutate", "cj.yaml"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let yaml = stdout(&out);
    insta::assert_snapshot!("faces_mutate_yaml", yaml);
    // Only the user's document and batchguard's defaults: no API server defaults.
    assert!(!yaml.contains("dnsPolicy") && !yaml.contains("suspend"), "{yaml}");
    std::fs::write(dir.path().join("cj.yaml"), &yaml).expect("write");
    for report in FORMATS {
        let again = run(
            dir.path(),
            &["mutate", "--check", "--report", report, "cj.yaml"],
            None,
        );
        assert_eq!(code(&again), 0, "{report}: {}", stdout(&again));
    }
    // What was printed is what validate accepts.
    assert_eq!(code(&run(dir.path(), &["validate", "cj.yaml"], None)), 0);
}

#[test]
fn mutate_patch_is_what_the_webhook_would_send_against_the_manifest() {
    let out = run(&data(), &["mutate", "--format", "patch", "-"], Some(CRONJOB));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let entry = &v[0];
    assert_eq!(entry["kind"], "CronJob");
    assert_eq!(entry["namespace"], "prod");
    let ops = entry["patch"].as_array().expect("ops");
    assert!(ops.iter().all(|op| op["op"] == "add"), "{ops:?}");
    assert!(
        ops.iter()
            .any(|op| op["path"] == "/spec/jobTemplate/spec/activeDeadlineSeconds" && op["value"] == 3600),
        "{ops:?}"
    );
    // JSON output is the same document.
    let json = run(&data(), &["mutate", "--format", "json", "-"], Some(CRONJOB));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(doc["spec"]["concurrencyPolicy"], "Forbid");
}

#[test]
fn mutate_keeps_what_the_user_chose_and_leaves_stored_jobs_alone() {
    let chosen = CRONJOB.replace("  schedule:", "  concurrencyPolicy: Allow\n  schedule:");
    let out = run(&data(), &["mutate", "-"], Some(&chosen));
    assert!(
        stdout(&out).contains("concurrencyPolicy: Allow"),
        "{}",
        stdout(&out)
    );
    let job = stored("job-update-label.validate.json");
    let input = serde_json::to_string(&job).expect("json");
    let out = run(&data(), &["mutate", "--check", "-"], Some(&input));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn mutate_reports_what_it_cannot_read_and_prints_the_rest() {
    let input = format!("{CRONJOB}---\n{{a: [\n");
    let out = run(&data(), &["mutate", "-", "faces/gone.yaml"], Some(&input));
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).contains("concurrencyPolicy: Forbid"));
    let err = stderr(&out);
    assert!(err.contains("error: cannot read faces/gone.yaml"), "{err}");
    assert!(err.contains("<stdin>:17:6: error[yaml-syntax]"), "{err}");
}
