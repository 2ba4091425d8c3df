//! Every schedule of the cron corpus described in words: each one the real parser accepts
//! gets a description (descriptors, `@every`, names, `?`, odd spacing included), none
//! panics, and the clock times it names are the real controller's fire times.

use chrono::{DateTime, Timelike};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cron-schedules.jsonl");

/// The clock times of an `At 02:30, 14:00 and 18:30, …` description: every fire time must
/// be one of them (the corpus's UTC start only, so no DST shift applies).
fn clock_times(description: &str) -> Option<Vec<(u32, u32)>> {
    let rest = description.strip_prefix("At ")?;
    let mut times = Vec::new();
    for token in rest.split([',', ' ']).filter(|t| !t.is_empty() && *t != "and") {
        let Some((h, m)) = token.split_once(':') else {
            break;
        };
        match (h.parse(), m.parse()) {
            (Ok(h), Ok(m)) if h < 24 && m < 60 => times.push((h, m)),
            _ => break,
        }
    }
    (!times.is_empty()).then_some(times)
}

#[test]
fn every_schedule_the_parser_accepts_is_described() {
    let text = std::fs::read_to_string(CORPUS).expect("cron corpus");
    let (mut described, mut times_checked) = (0, 0);
    let mut problems = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line");
        let schedule = case["schedule"].as_str().expect("schedule");
        let robfig_ok = case["robfig_ok"].as_bool().expect("robfig_ok");
        let k8s_ok = case["k8s_ok"].as_bool().expect("k8s_ok");
        let description = batchguard::cron::describe(schedule);
        // A TZ= prefix robfig panics on is refused with a clear error; nothing to describe.
        if robfig_ok && !case["robfig_panic"].as_bool().unwrap_or(false) {
            match &description {
                Ok(d) if !d.is_empty() => described += 1,
                other => problems.push(format!("{schedule:?}: accepted but described as {other:?}")),
            }
        }
        let report = batchguard::schedule::analyse(
            schedule,
            None,
            "2026-01-01T00:00:00Z".parse().expect("instant"),
            5,
        );
        if k8s_ok && report.description.is_none() {
            problems.push(format!("{schedule:?}: valid but `schedule` shows no description"));
        }
        let Ok(d) = description else { continue };
        let fires: Vec<&str> = case["next"]["2026-01-01T00:00:00Z"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "never")
                    .collect()
            })
            .unwrap_or_default();
        if d.starts_with("Never") && !fires.is_empty() {
            problems.push(format!("{schedule:?}: described {d:?} but fires at {fires:?}"));
        }
        if schedule.starts_with("TZ=") || schedule.starts_with("CRON_TZ=") {
            continue;
        }
        if let Some(times) = clock_times(&d) {
            for fire in &fires {
                let t = DateTime::parse_from_rfc3339(fire).expect("RFC 3339 fire time");
                if !times.contains(&(t.hour(), t.minute())) {
                    problems.push(format!("{schedule:?}: described {d:?} but fires at {fire}"));
                }
                times_checked += 1;
            }
        }
    }
    println!("describe corpus: {described} schedules described, {times_checked} fire times checked against their words");
    assert!(described > 2000, "only {described} described");
    assert!(times_checked > 1000, "only {times_checked} fire times checked");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
