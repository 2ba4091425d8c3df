//! `batchguard validate` against hostile input: a deeply nested file, an alias bomb. Each
//! must end with a report, never hang or abort.
//! Every run is bounded by a deadline: a hang fails the test instead of stalling the suite.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_batchguard");

/// Long enough for a slow debug build on a loaded machine; a hang is forever.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs the binary in `dir` and waits at most [`DEADLINE`]; past it the child is killed and
/// the test fails.
fn batchguard(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("waits for the child").is_some() {
            return child.wait_with_output().expect("collects the output");
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("batchguard {args:?} did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// The exit code; a signal (an abort on stack overflow, say) fails the test here.
fn code(o: &Output) -> i32 {
    match o.status.code() {
        Some(code) => code,
        None => panic!("killed by a signal: {:?}\n{}", o.status, stderr(o)),
    }
}

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

#[test]
fn a_deeply_nested_document_is_one_finding_and_the_next_is_still_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 20 KB of `- - - …`: 10,000 nested block sequences on one line.
    let deep = format!("{}1\n---\n{VALID_JOB}", "- ".repeat(10_000));
    std::fs::write(dir.path().join("deep.yaml"), deep).expect("write");
    let out = batchguard(dir.path(), &["validate", "deep.yaml"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("deep.yaml:1:"), "{text}");
    assert!(text.contains("error[yaml-too-deep]"), "{text}");
    assert!(
        text.ends_with(
            "1 file, 2 documents: 1 valid, 0 invalid, 0 skipped, 1 unparseable; 1 error, 0 warnings\n"
        ),
        "{text}"
    );
}

#[test]
fn an_alias_bomb_is_refused_without_eating_the_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    // "Billion laughs": 342 bytes that expand to 9^9 strings.
    let mut bomb =
        String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let aliases = vec![format!("*{prev}"); 9].join(",");
        bomb.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    assert_eq!(bomb.len(), 342);
    std::fs::write(dir.path().join("bomb.yaml"), format!("{bomb}---\n{VALID_JOB}")).expect("write");
    let out = batchguard(dir.path(), &["validate", "bomb.yaml"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("error[yaml-alias-budget]"), "{text}");
    assert!(text.contains("1 valid"), "{text}");
}
