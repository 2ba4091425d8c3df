//! The pre-commit hook and the GitHub Action as CI would run them: the action's shell steps
//! run with a stand-in `batchguard` on PATH that records its arguments, so the flags, the
//! SARIF file and the exit code are checked without GitHub.

use std::path::Path;
use std::process::Command;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
}

/// The `run: |` blocks of action.yml, in order, with their indentation removed.
fn run_blocks(action: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = action.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() != "run: |" {
            continue;
        }
        let mut block = String::new();
        let mut indent = None;
        while let Some(next) = lines.peek() {
            let width = next.len() - next.trim_start().len();
            if !next.trim().is_empty() && width <= line.len() - line.trim_start().len() {
                break;
            }
            let indent = *indent.get_or_insert(width);
            block.push_str(next.get(indent..).unwrap_or(""));
            block.push('\n');
            lines.next();
        }
        blocks.push(block);
    }
    blocks
}

#[test]
fn the_pre_commit_hook_runs_validate_on_manifests() {
    let hooks = read(".pre-commit-hooks.yaml");
    assert!(hooks.contains("- id: batchguard-validate\n"));
    assert!(hooks.contains("  entry: batchguard validate\n"));
    assert!(hooks.contains("  language: rust\n"));
    assert!(hooks.contains("  files: \\.(ya?ml|json)$\n"));
    // pre-commit appends the staged files to the entry.
    <batchguard::cli::Cli as clap::Parser>::try_parse_from(["batchguard", "validate", "a.yaml", "b.json"])
        .expect("the hook's command line parses");
}

#[test]
fn the_action_installs_then_validates_with_annotations_and_sarif() {
    let action = read("action.yml");
    assert!(action.contains("  using: composite\n"));
    let blocks = run_blocks(&action);
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    for block in &blocks {
        let out = Command::new("bash")
            .args(["-n", "-c", block])
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}\n{block}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    // The stand-in records each call and fails like batchguard on error findings.
    let fake = bin.join("batchguard");
    std::fs::write(
        &fake,
        "#!/bin/bash\necho \"$*\" >> \"$CALLS\"\n[ \"$1\" = --version ] && exit 0\ncase \"$*\" in *sarif*) echo '{\"version\":\"2.1.0\"}' ;; *) echo '::error file=a.yaml,line=1,col=1,title=x::y' ;; esac\nexit 1\n",
    )
    .expect("fake");
    let chmod = Command::new("chmod")
        .args(["+x"])
        .arg(&fake)
        .status()
        .expect("chmod");
    assert!(chmod.success());
    let calls = dir.path().join("calls");
    let output = dir.path().join("github_output");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let run = |block: &str, env: &[(&str, &str)]| {
        let mut cmd = Command::new("bash");
        cmd.args(["-c", block])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("CALLS", &calls)
            .env("GITHUB_OUTPUT", &output);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("bash")
    };

    let install = run(
        &blocks[0],
        &[
            ("INSTALL", "none"),
            ("SOURCE", "."),
            ("GIT_URL", ""),
            ("GIT_REF", ""),
        ],
    );
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let bad = run(
        &blocks[0],
        &[
            ("INSTALL", "apt"),
            ("SOURCE", "."),
            ("GIT_URL", ""),
            ("GIT_REF", ""),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));

    let validate = run(
        &blocks[1],
        &[
            ("PATHS", "k8s/\ncharts/rendered.yaml"),
            ("CONFIG", "policy.yaml"),
            ("SARIF_FILE", "out/batchguard.sarif"),
        ],
    );
    assert_eq!(
        validate.status.code(),
        Some(1),
        "the step fails on error findings"
    );
    assert!(String::from_utf8_lossy(&validate.stdout).contains("::error file=a.yaml"));
    let calls = std::fs::read_to_string(&calls).expect("calls");
    assert_eq!(
        calls,
        "--version\n\
         validate --config policy.yaml --format sarif k8s/ charts/rendered.yaml\n\
         validate --config policy.yaml --format github k8s/ charts/rendered.yaml\n"
    );
    let sarif = std::fs::read_to_string(dir.path().join("out/batchguard.sarif")).expect("sarif");
    assert!(sarif.contains("2.1.0"));
    assert_eq!(std::fs::read_to_string(&output).expect("output"), "exit-code=1\n");
}
