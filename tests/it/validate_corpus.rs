//! The manifest corpus through the `batchguard validate` binary itself, not just the
//! library: file discovery, YAML reading, defaulting, the rules and the JSON report must
//! together agree with the real API server's verdict and failing fields on every file.

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/manifests-corpus");

#[test]
fn validate_command_agrees_with_the_api_server_on_every_corpus_manifest() {
    let out = Command::new(env!("CARGO_BIN_EXE_batchguard"))
        .args(["validate", "--format", "json", &format!("{CORPUS}/manifests")])
        .env("NO_COLOR", "1")
        .output()
        .expect("run batchguard");
    // Some manifests are invalid, so the run as a whole fails with 1 (not 2: nothing unreadable).
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let by_file: HashMap<String, &Value> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let file = r["file"].as_str().expect("file");
            let name = file.rsplit('/').next().unwrap_or(file).to_string();
            (name, r)
        })
        .collect();

    let verdicts = std::fs::read_to_string(format!("{CORPUS}/verdicts.jsonl")).expect("verdicts");
    let mut disagreements = Vec::new();
    let mut checked = 0;
    for line in verdicts.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("verdict line");
        let file = v["file"].as_str().expect("file");
        let name = file.rsplit('/').next().unwrap_or(file);
        let Some(result) = by_file.get(name) else {
            disagreements.push(format!("{name}: not in the report"));
            continue;
        };
        checked += 1;
        let accepted = v["accepted"].as_bool().expect("accepted");
        let errors: Vec<&Value> = result["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        let status = result["status"].as_str().unwrap_or_default();
        if accepted != (status == "valid") || accepted != errors.is_empty() {
            disagreements.push(format!(
                "{name}: API server accepted={accepted}, batchguard status={status}"
            ));
            continue;
        }
        for f in &errors {
            if f["line"].as_u64().is_none() || f["column"].as_u64().is_none() {
                disagreements.push(format!("{name}: finding without a position: {f}"));
            }
        }
        if let Some(causes) = v["causes"].as_array().filter(|c| !c.is_empty()) {
            let mut want: Vec<&str> = causes.iter().filter_map(|c| c["field"].as_str()).collect();
            let mut got: Vec<&str> = errors.iter().filter_map(|f| f["field"].as_str()).collect();
            want.sort_unstable();
            got.sort_unstable();
            if want != got {
                disagreements.push(format!("{name}: fields {want:?} vs {got:?}"));
            }
        }
    }
    assert_eq!(checked, 421, "every corpus manifest is in the report");
    assert_eq!(report["summary"]["files"], 421);
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
