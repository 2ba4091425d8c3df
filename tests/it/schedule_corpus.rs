//! Every schedule of the cron corpus through `batchguard schedule`'s own code path
//! (`schedule::analyse`, which the command prints): the verdict and messages must be the
//! API server's, and the listed fire times the real controller's, from all three starts.

use chrono::{DateTime, Utc};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cron-schedules.jsonl");

/// The corpus's start keys: an instant, and the CronJob's `spec.timeZone` in brackets.
fn start(key: &str) -> (DateTime<Utc>, Option<&str>) {
    let (instant, zone) = match key.split_once('[') {
        Some((instant, rest)) => (instant, Some(rest.trim_end_matches(']'))),
        None => (key, None),
    };
    let t = DateTime::parse_from_rfc3339(instant)
        .expect("corpus start is RFC 3339")
        .with_timezone(&Utc);
    (t, zone)
}

fn instants(times: &[String]) -> Vec<DateTime<Utc>> {
    times
        .iter()
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .expect("an RFC 3339 fire time")
                .with_timezone(&Utc)
        })
        .collect()
}

#[test]
fn schedule_command_agrees_with_the_real_parser_on_every_corpus_line() {
    let text = std::fs::read_to_string(CORPUS).expect("cron corpus");
    let mut lines = 0;
    let mut lists = 0;
    let mut disagreements = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line");
        let schedule = case["schedule"].as_str().expect("schedule");
        let k8s_ok = case["k8s_ok"].as_bool().expect("k8s_ok");
        lines += 1;

        // Without spec.timeZone the verdict and messages are exactly the API server's.
        let from = start("2026-01-01T00:00:00Z").0;
        let report = batchguard::schedule::analyse(schedule, None, from, 5);
        if report.valid != k8s_ok {
            disagreements.push(format!(
                "{schedule:?}: valid={} but k8s_ok={k8s_ok}",
                report.valid
            ));
            continue;
        }
        if !k8s_ok {
            let want: Vec<String> = case["k8s_errors"]
                .as_array()
                .expect("k8s_errors")
                .iter()
                .map(|e| {
                    let detail = e.as_str().expect("error text");
                    if detail.starts_with("panic: ") {
                        // robfig panics here and the API server drops the request; we give a
                        // clear error in its place (checked below).
                        return "<crash>".to_string();
                    }
                    if detail == "Required value" {
                        "spec.schedule: Required value".to_string()
                    } else {
                        format!(
                            "spec.schedule: Invalid value: {}: {detail}",
                            batchguard::cron::go_quote(schedule)
                        )
                    }
                })
                .collect();
            let got: Vec<String> = report
                .errors
                .iter()
                .map(|e| {
                    if e.contains("the real API server crashes on this schedule") {
                        "<crash>".to_string()
                    } else {
                        e.clone()
                    }
                })
                .collect();
            if got != want {
                disagreements.push(format!("{schedule:?}: errors {:?} vs {want:?}", report.errors));
            }
            continue;
        }

        for (key, fires) in case["next"].as_object().expect("next") {
            let (from, zone) = start(key);
            let want: Vec<String> = fires
                .as_array()
                .expect("fire times")
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "never")
                .map(str::to_string)
                .collect();
            let report = batchguard::schedule::analyse(schedule, zone, from, 5);
            lists += 1;
            if instants(&report.next) != instants(&want) {
                disagreements.push(format!("{schedule:?} from {key}: {:?} vs {want:?}", report.next));
            }
        }
    }
    println!("schedule command: {lines} schedules, {lists} fire-time lists checked");
    assert_eq!(lines, 3314, "the corpus has 3,314 schedules");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
