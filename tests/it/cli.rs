//! The `batchguard` binary as users run it: exit codes, text and JSON reports (snapshots),
//! standard input, unreadable paths, bad policy files, broken pipes, `schedule` and
//! `config default`. Colour is off (`NO_COLOR=1`, and stdout is a pipe).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use batchguard::policy::Policy;

const BIN: &str = env!("CARGO_BIN_EXE_batchguard");

fn batchguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("writes stdin");
    child.wait_with_output().expect("the binary ends")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}

const VALID_CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: \"15 2 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: main
            image: busybox:1.36
";

const VALID_JOB: &str = "\
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: pi
        image: perl:5.34
";

/// A directory with one input of each sort the snapshots cover.
fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: &[(&str, String)] = &[
        ("m/a-valid.yaml", VALID_CRONJOB.to_string()),
        ("m/b-bad-schedule.yaml", VALID_CRONJOB.replace("15 2 * * *", "0 0 * * 7")),
        (
            "m/c-no-restart.yaml",
            VALID_JOB.replace("      restartPolicy: Never\n", ""),
        ),
        (
            "m/d-multi.yml",
            format!("{VALID_JOB}---\napiVersion: batch/v1\nkind: Job: broken\n---\n{}", VALID_CRONJOB.replace("nightly", "second")),
        ),
        (
            "m/e-list.yaml",
            format!(
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {{name: svc}}\n{}",
                indent_item(&VALID_JOB.replace("restartPolicy: Never", "restartPolicy: Always"))
            ),
        ),
        (
            "m/f-deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n".to_string(),
        ),
        (
            "m/g-job.json",
            "{\n  \"apiVersion\": \"batch/v1\",\n  \"kind\": \"Job\",\n  \"metadata\": {\"name\": \"from-json\"},\n  \"spec\": {\"template\": {\"spec\": {\"restartPolicy\": \"Never\", \"containers\": [{\"name\": \"c\", \"image\": \"busybox\"}]}}}\n}\n".to_string(),
        ),
        ("m/notes.txt", "not a manifest\n".to_string()),
    ];
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Turns a top-level manifest into a `- ` item of a List.
fn indent_item(manifest: &str) -> String {
    manifest
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("- {line}\n")
            } else {
                format!("  {line}\n")
            }
        })
        .collect()
}

#[test]
fn validate_text_report() {
    let dir = corpus();
    let out = batchguard(dir.path(), &["validate", "m"]);
    // The syntax error alone makes it exit 1, whatever the rules find.
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("m/d-multi.yml:14:10: error[yaml-syntax]: mapping values are not allowed"),
        "syntax error at its line:col\n{text}"
    );
    assert!(!text.contains('\x1b'), "no colour with NO_COLOR");
    let summary = text.lines().last().expect("a summary line");
    assert!(summary.starts_with("7 files, 10 documents: "), "{summary}");
    assert!(summary.contains(", 2 skipped, 1 unparseable; "), "{summary}");
    insta::assert_snapshot!("validate_text", text);
}

#[test]
fn validate_json_report() {
    let dir = corpus();
    let out = batchguard(dir.path(), &["validate", "--format", "json", "m"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v = json(&out);
    let s = &v["summary"];
    assert_eq!(
        (s["files"].as_u64(), s["documents"].as_u64()),
        (Some(7), Some(10))
    );
    assert_eq!(s["skipped"], 2);
    assert_eq!(s["checked"], 7);
    assert_eq!(
        s["valid"].as_u64().expect("n") + s["invalid"].as_u64().expect("n"),
        7
    );
    let results = v["results"].as_array().expect("results");
    let files: Vec<&str> = results
        .iter()
        .map(|r| r["file"].as_str().expect("file"))
        .collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "files in sorted order");
    let broken = results
        .iter()
        .find(|r| r["status"] == "unparseable")
        .expect("one unparseable");
    assert_eq!(
        (broken["file"].as_str(), broken["document"].as_u64()),
        (Some("m/d-multi.yml"), Some(1))
    );
    assert_eq!(
        (
            broken["findings"][0]["line"].as_u64(),
            broken["findings"][0]["column"].as_u64()
        ),
        (Some(14), Some(10))
    );
    let after = results
        .iter()
        .find(|r| r["file"] == "m/d-multi.yml" && r["document"] == 2)
        .expect("the document after the syntax error is still judged");
    assert_eq!(
        (
            after["kind"].as_str(),
            after["name"].as_str(),
            after["line"].as_u64()
        ),
        (Some("CronJob"), Some("second"), Some(16))
    );
    let items: Vec<_> = results.iter().filter(|r| r["file"] == "m/e-list.yaml").collect();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["item"].as_u64(), items[0]["status"].as_str()),
        (Some(0), Some("skipped"))
    );
    assert_eq!(
        (
            items[1]["item"].as_u64(),
            items[1]["kind"].as_str(),
            items[1]["line"].as_u64()
        ),
        (Some(1), Some("Job"), Some(7))
    );
    let deployment = results
        .iter()
        .find(|r| r["file"] == "m/f-deployment.yaml")
        .expect("skipped doc listed");
    assert_eq!(
        (deployment["status"].as_str(), deployment["namespace"].as_str()),
        (Some("skipped"), Some("prod"))
    );
    let from_json = results
        .iter()
        .find(|r| r["file"] == "m/g-job.json")
        .expect("JSON read");
    assert_eq!(from_json["name"], "from-json");
    insta::assert_snapshot!("validate_json", stdout(&out));
}

#[test]
fn validate_exits_0_on_valid_manifests() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ok.yaml"),
        format!("{VALID_CRONJOB}---\n{VALID_JOB}"),
    )
    .expect("write");
    let out = batchguard(dir.path(), &["validate", "ok.yaml"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out),
        "1 file, 2 documents: 2 valid, 0 invalid, 0 skipped; 0 errors, 0 warnings\n"
    );
}

#[test]
fn validate_reads_stdin_without_path_or_with_dash() {
    let input = format!("{VALID_JOB}---\napiVersion: v1\nkind: Secret\n");
    for args in [
        &["validate", "--format", "json"][..],
        &["validate", "--format", "json", "-"],
    ] {
        let out = with_stdin(args, &input);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["summary"]["files"], 1);
        assert_eq!(v["summary"]["skipped"], 1);
        assert_eq!(v["results"][0]["file"], "<stdin>");
        assert_eq!(v["results"][1]["line"], 13);
    }
}

#[test]
fn validate_reports_a_syntax_error_on_stdin_at_its_position() {
    let out = with_stdin(
        &["validate"],
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n   bad: indent\n",
    );
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.starts_with("<stdin>:5:"), "{text}");
    assert!(text.contains("error[yaml-syntax]"), "{text}");
}

#[test]
fn validate_reports_a_json_syntax_error_at_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.json"),
        "{\n  \"apiVersion\": \"batch/v1\",\n  \"kind\": \"Job\"\n  \"metadata\": {}\n}\n",
    )
    .expect("write");
    let out = batchguard(dir.path(), &["validate", "--format", "json", "bad.json"]);
    assert_eq!(code(&out), 1);
    let finding = &json(&out)["results"][0]["findings"][0];
    assert_eq!(finding["rule"], "yaml-syntax");
    assert_eq!(finding["line"], 4, "{finding}");
}

#[test]
fn unreadable_path_exits_2_and_the_rest_is_still_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.yaml"), VALID_JOB).expect("write");
    let out = batchguard(dir.path(), &["validate", "missing.yaml", "ok.yaml"]);
    assert_eq!(code(&out), 2);
    // The text report lists the path itself, so stderr does not repeat it.
    assert_eq!(stderr(&out), "");
    assert!(
        stdout(&out).starts_with("missing.yaml: error[unreadable-input]: cannot read: "),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).ends_with(
            "1 file, 1 unreadable path, 1 document: 1 valid, 0 invalid, 0 skipped; 1 error, 0 warnings\n"
        ),
        "{}",
        stdout(&out)
    );
    // Every other format carries it too, and says so on stderr.
    for (format, needle) in [
        ("json", "\"status\": \"unreadable\""),
        ("sarif", "\"ruleId\": \"unreadable-input\""),
        ("junit", "type=\"unreadable-input\""),
        (
            "github",
            "::error file=missing.yaml,title=unreadable-input::cannot read: ",
        ),
    ] {
        let out = batchguard(
            dir.path(),
            &["validate", "--format", format, "missing.yaml", "ok.yaml"],
        );
        assert_eq!(code(&out), 2, "{format}");
        assert!(stdout(&out).contains(needle), "{format}: {}", stdout(&out));
        assert!(
            stderr(&out).starts_with("error: cannot read missing.yaml: "),
            "{format}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn bad_policy_file_exits_2_naming_key_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("policy.yaml"),
        "mode: warn\nrules:\n  requireTimezone: true\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("ok.yaml"), VALID_JOB).expect("write");
    let out = batchguard(dir.path(), &["validate", "--config", "policy.yaml", "ok.yaml"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("policy.yaml:3: `rules.requireTimezone`"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_good_policy_file_is_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("policy.yaml"), "mode: warn\n").expect("write");
    std::fs::write(dir.path().join("ok.yaml"), VALID_JOB).expect("write");
    let out = batchguard(dir.path(), &["validate", "--config", "policy.yaml", "ok.yaml"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["validate", "--format", "xml"][..],
        &["validate", "--bogus"],
        &["schedule", "--from", "yesterday", "* * * * *"],
        &["schedule", "--count", "0", "* * * * *"],
        &["schedule", "--count", "many", "* * * * *"],
        &["schedule"],
        &[],
    ] {
        let out = batchguard(dir.path(), args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("error"), "{args:?}");
    }
}

#[test]
fn help_teaches_examples_and_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    for cmd in ["validate", "mutate", "audit", "schedule"] {
        let out = batchguard(dir.path(), &[cmd, "--help"]);
        assert_eq!(code(&out), 0);
        let text = stdout(&out);
        assert!(
            text.contains("Examples:") && text.contains("Exit codes:"),
            "{cmd}: {text}"
        );
    }
}

#[test]
fn broken_pipe_exits_quietly() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n".repeat(5000);
    let mut child = Command::new(BIN)
        .args(["validate", "--format", "json"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Close the reading end before the report (well over a pipe buffer) is written.
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("writes stdin");
    let out = child.wait_with_output().expect("the binary ends");
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "quiet: {err}");
    assert_eq!(code(&out), 0);
}

#[test]
fn config_default_round_trips_to_the_default_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = batchguard(dir.path(), &["config", "default"]);
    assert_eq!(code(&out), 0);
    let policy = Policy::from_yaml(&stdout(&out), "stdout").expect("parses");
    assert_eq!(policy, Policy::default());
}

const FROM: &str = "2026-03-27T00:00:00Z";

#[test]
fn schedule_text_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = batchguard(
        dir.path(),
        &[
            "schedule",
            "--from",
            FROM,
            "--time-zone",
            "Europe/Berlin",
            "30 2 * * *",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    insta::assert_snapshot!("schedule_text_dst", stdout(&out));
}

#[test]
fn schedule_json_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, args) in [
        (
            "schedule_json_dst",
            &["--time-zone", "Europe/Berlin", "30 2 * * *"][..],
        ),
        ("schedule_json_day_seven", &["0 0 * * 7"]),
        ("schedule_json_never", &["0 0 30 2 *"]),
        ("schedule_json_cron_tz", &["CRON_TZ=Europe/Berlin 0 6 * * *"]),
        (
            "schedule_json_bad_zone",
            &["--time-zone", "Mars/Olympus", "0 6 * * *"],
        ),
    ] {
        let mut full = vec!["schedule", "--format", "json", "--from", FROM, "--count", "3"];
        full.extend_from_slice(args);
        let out = batchguard(dir.path(), &full);
        let v = json(&out);
        // The verdict and the exit code agree, whatever the cron engine says.
        let valid = v["valid"].as_bool().expect("valid is a bool");
        assert_eq!(code(&out), if valid { 0 } else { 1 }, "{name}");
        assert_eq!(
            valid,
            v["errors"].as_array().expect("errors").is_empty(),
            "{name}"
        );
        assert!(v["next"].as_array().expect("next").len() <= 3, "{name}");
        let keys = [
            "schedule",
            "timeZone",
            "valid",
            "description",
            "errors",
            "warnings",
            "next",
        ];
        let object = v.as_object().expect("object");
        assert!(
            keys.iter().all(|k| object.contains_key(*k)) && object.len() == keys.len(),
            "{name}"
        );
        // The snapshot of the text pins the key order.
        insta::assert_snapshot!(name, stdout(&out));
    }
}

#[test]
fn schedule_exit_codes_follow_the_api_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let invalid = batchguard(dir.path(), &["schedule", "0 0 * * 7"]);
    assert_eq!(code(&invalid), 1);
    assert!(
        stdout(&invalid).contains(
            "error: spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7"
        ),
        "{}",
        stdout(&invalid)
    );
    let dst = batchguard(
        dir.path(),
        &[
            "schedule",
            "--format",
            "json",
            "--from",
            FROM,
            "--time-zone",
            "Europe/Berlin",
            "30 2 * * *",
        ],
    );
    assert_eq!(code(&dst), 0);
    let v = json(&dst);
    assert_eq!(
        v["next"],
        serde_json::json!([
            "2026-03-27T02:30:00+01:00",
            "2026-03-28T02:30:00+01:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00",
            "2026-04-01T02:30:00+02:00"
        ])
    );
    assert!(
        v["warnings"][0]
            .as_str()
            .expect("a DST warning")
            .contains("the run at 02:30 is skipped"),
        "{v}"
    );
    let never = batchguard(dir.path(), &["schedule", "--format", "json", "0 0 30 2 *"]);
    assert_eq!(code(&never), 0);
    assert_eq!(json(&never)["next"], serde_json::json!([]));
}

#[test]
fn the_examples_directory_is_what_its_readme_says() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = batchguard(repo, &["validate", "--format", "json", "examples/"]);
    let v = json(&out);
    let s = &v["summary"];
    assert_eq!(
        (s["files"].as_u64(), s["documents"].as_u64()),
        (Some(7), Some(10)),
        "{s}"
    );
    assert_eq!(
        (s["checked"].as_u64(), s["skipped"].as_u64()),
        (Some(9), Some(1)),
        "{s}"
    );
    assert_eq!(code(&out), 1);
    let invalid: Vec<(&str, Option<u64>)> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == "invalid")
        .map(|r| (r["file"].as_str().expect("file"), r["item"].as_u64()))
        .collect();
    assert_eq!(
        invalid,
        [
            ("examples/app-bundle.yaml", None),
            ("examples/cronjob-cron-tz.yaml", None),
            ("examples/cronjob-sunday-report.yaml", None),
            ("examples/job-db-migrate.yaml", None),
            ("examples/list-exported.yaml", Some(1)),
        ]
    );
}

#[test]
fn an_unknown_time_zone_is_blamed_on_the_zone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = batchguard(
        dir.path(),
        &["schedule", "--time-zone", "Mars/Olympus", "0 0 * * *"],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).starts_with(
            "invalid: unknown time zone \"Mars/Olympus\" (the schedule \"0 0 * * *\" itself is valid)\n"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_helm_template_is_told_to_render_first() {
    let template = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\n";
    let out = with_stdin(&["validate", "-"], template);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("render it first: helm template … | batchguard validate -"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn reload_interval_zero_says_the_accepted_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = batchguard(dir.path(), &["serve", "--reload-interval", "0"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("must be greater than 0 and at most 3600 seconds"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_certificate_is_named_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = batchguard(
        dir.path(),
        &[
            "serve",
            "--tls-cert",
            "missing.crt",
            "--tls-key",
            "missing.key",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(!err.contains("try it"), "{err}");
}

#[test]
fn a_bad_policy_stops_serve_before_any_curl_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.yaml"), "x: [\n").expect("write");
    let out = batchguard(
        dir.path(),
        &[
            "serve",
            "--config",
            "bad.yaml",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(!stderr(&out).contains("try it"), "{}", stderr(&out));
}

#[test]
fn completions_man_and_version_come_from_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = batchguard(dir.path(), &["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        assert!(stdout(&out).contains("validate"), "{shell}");
    }
    let man = batchguard(dir.path(), &["man"]);
    assert_eq!(code(&man), 0);
    assert!(stdout(&man).contains(".TH batchguard 1"));
    let version = batchguard(dir.path(), &["--version"]);
    assert_eq!(code(&version), 0);
    assert!(
        stdout(&version).starts_with(concat!("batchguard ", env!("CARGO_PKG_VERSION"))),
        "{}",
        stdout(&version)
    );
}

#[test]
fn serve_with_development_certificates_stops_at_once_on_sigterm() {
    // The drain period waits for API servers to drop the endpoint; on a laptop there are
    // none, so Ctrl-C (or SIGTERM) must not make the developer wait for it.
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let mut log = String::new();
    while !log.contains("try it") {
        match rx.recv_timeout(Duration::from_secs(30).saturating_sub(started.elapsed())) {
            Ok(line) => log.push_str(&(line + "\n")),
            Err(_) => {
                let _ = child.kill();
                panic!("serve did not start:\n{log}");
            }
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let signalled = Instant::now();
    let exited = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(4) {
            let _ = child.kill();
            panic!("serve was still draining 4 s after SIGTERM:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exited.code(), Some(0), "{log}");
}
