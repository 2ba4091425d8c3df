//! What the two API-server corpora (`manifest_corpus`, `pod_corpus`) share: their
//! `verdicts.jsonl` read into cases, the CREATE context every case is judged in, and the
//! tally of agreements.

use batchguard::rules::{Context, Kind, Operation};
use serde_json::Value;

/// One line of a corpus's `verdicts.jsonl` with its manifest read.
pub struct Case {
    pub id: String,
    pub kind: Kind,
    /// The API server's answer, as recorded.
    pub verdict: Value,
    /// The manifest's one document.
    pub manifest: Value,
}

/// Every case of the corpus at `dir`, in file order.
pub fn cases(dir: &str) -> Vec<Case> {
    let lines = std::fs::read_to_string(format!("{dir}/verdicts.jsonl")).expect("verdicts.jsonl");
    lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let verdict: Value = serde_json::from_str(line).expect("verdict line");
            let id = verdict["id"].as_str().expect("id").to_string();
            let file = verdict["file"].as_str().expect("file");
            let kind = match verdict["kind"].as_str() {
                Some("Job") => Kind::Job,
                _ => Kind::CronJob,
            };
            let text = std::fs::read_to_string(format!("{dir}/{file}")).expect("manifest");
            let doc = batchguard::yaml::parse_stream(&text)
                .into_iter()
                .next()
                .expect("one document")
                .expect("manifest parses");
            let manifest = doc.value.expect("non-empty manifest");
            Case {
                id,
                kind,
                verdict,
                manifest,
            }
        })
        .collect()
}

/// A dry-run CREATE at the fixed instant the corpora were judged against.
pub fn create_context() -> Context<'static> {
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("fixed instant")
        .with_timezone(&chrono::Utc);
    Context {
        operation: Operation::Create,
        old: None,
        now,
    }
}

/// Agreements and checks, per thing compared.
#[derive(Default)]
pub struct Tally {
    pub verdicts: (usize, usize),
    pub fields: (usize, usize),
    pub messages: (usize, usize),
    pub warnings: (usize, usize),
    pub status: (usize, usize),
}

/// Counts one check, and one agreement when `ok`.
pub fn bump(t: &mut (usize, usize), ok: bool) {
    t.1 += 1;
    if ok {
        t.0 += 1;
    }
}
