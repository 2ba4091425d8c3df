//! `batchguard validate` against hostile input: a deeply nested file, an alias bomb, and a
//! named pipe inside a scanned directory. Each must end with a report, never hang or abort.
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

#[cfg(unix)]
#[test]
fn a_named_pipe_in_a_scanned_directory_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = dir.path().join("m");
    std::fs::create_dir(&m).expect("mkdir");
    std::fs::write(m.join("job.yaml"), VALID_JOB).expect("write");
    let made = Command::new("mkfifo")
        .arg(m.join("pipe.yaml"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed: {made:?}");
    // Nobody ever writes to the pipe: opening it to read would block forever.
    let out = batchguard(dir.path(), &["validate", "m"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("1 file, 1 document: 1 valid, 0 invalid, 0 skipped; 0 errors, 0 warnings\n"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("m/pipe.yaml: not a regular file"),
        "{}",
        stderr(&out)
    );
}

// Linux: the test opens the pipe with Linux's value of `O_NONBLOCK`.
#[cfg(target_os = "linux")]
#[test]
fn a_named_pipe_given_by_name_is_still_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipe = dir.path().join("pipe.yaml");
    let made = Command::new("mkfifo").arg(&pipe).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed: {made:?}");
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::write(pipe, VALID_JOB))
    };
    let out = batchguard(dir.path(), &["validate", "pipe.yaml"]);
    // Had the binary not opened the pipe, the writer would wait for a reader forever:
    // open the read end here without blocking, so the test ends either way.
    let _unblock = (!writer.is_finished()).then(|| {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NONBLOCK)
            .open(&pipe)
    });
    let written = writer.join().expect("the writer ends");
    assert!(written.is_ok(), "{written:?}");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 file, 1 document: 1 valid"),
        "{}",
        stdout(&out)
    );
}
