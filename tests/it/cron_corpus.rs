//! Agreement with the real parser: every line of tests/data/cron-schedules.jsonl (robfig/cron
//! v3.0.1 and a v1.32 API server) must give the same verdict, error text and fire times.

use batchguard::cron::{controller_schedule, go_quote, parse_standard, schedule_problems, ScheduleProblem};
use chrono::{DateTime, Utc};
use serde_json::Value;

const CORPUS: &str = include_str!("../data/cron-schedules.jsonl");

/// The message the API server prints for one schedule problem (field path left out).
fn full_message(schedule: &str, problem: &ScheduleProblem) -> String {
    match problem {
        ScheduleProblem::Required => "Required value".to_string(),
        ScheduleProblem::Invalid(_) | ScheduleProblem::TimeZoneInSchedule(_) => format!(
            "Invalid value: {}: {}",
            go_quote(schedule),
            problem.detail().unwrap_or_default()
        ),
    }
}

/// The corpus lists details only ("Required value" for the empty string); build the same
/// full message from them.
fn expected_message(schedule: &str, detail: &str) -> String {
    if detail == "Required value" {
        detail.to_string()
    } else {
        format!("Invalid value: {}: {detail}", go_quote(schedule))
    }
}

/// `2026-03-29T00:30:00+01:00[Europe/Berlin]` -> (instant, Some("Europe/Berlin")).
fn parse_start(key: &str) -> (DateTime<Utc>, Option<&str>) {
    let (stamp, zone) = match key.split_once('[') {
        Some((stamp, rest)) => (stamp, Some(rest.trim_end_matches(']'))),
        None => (key, None),
    };
    let instant = DateTime::parse_from_rfc3339(stamp).expect("corpus start keys are RFC 3339");
    (instant.with_timezone(&Utc), zone)
}

#[derive(Default)]
struct Tally {
    lines: usize,
    verdicts: usize,
    errors_total: usize,
    errors_ok: usize,
    panics: usize,
    fire_lists_total: usize,
    fire_lists_ok: usize,
    mismatches: Vec<String>,
}

#[test]
fn agrees_with_robfig_and_the_api_server_on_every_corpus_line() {
    let mut t = Tally::default();
    for (n, line) in CORPUS.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).expect("corpus lines are JSON");
        let schedule = row["schedule"].as_str().expect("schedule is a string");
        t.lines += 1;
        let parsed = parse_standard(schedule);
        let robfig_ok = row["robfig_ok"].as_bool().expect("robfig_ok");
        let panics = row["robfig_panic"].as_bool().expect("robfig_panic");

        // Verdicts: robfig's and the API server's.
        let problems = schedule_problems(schedule, false, false);
        let k8s_ok = row["k8s_ok"].as_bool().expect("k8s_ok");
        if parsed.is_ok() == robfig_ok && problems.is_empty() == k8s_ok {
            t.verdicts += 1;
        } else {
            t.mismatches.push(format!(
                "verdict line {}: {schedule:?}: ours {parsed:?} / {problems:?}",
                n + 1
            ));
        }

        // Error texts: robfig's and the API server's full messages.
        if !robfig_ok {
            t.errors_total += 1;
            let ours = parsed.as_ref().err().map(ToString::to_string).unwrap_or_default();
            let theirs = row["robfig_error"].as_str().unwrap_or_default();
            let expected_k8s: Vec<String> = row["k8s_errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|d| expected_message(schedule, d))
                        .collect()
                })
                .unwrap_or_default();
            let ours_k8s: Vec<String> = problems.iter().map(|p| full_message(schedule, p)).collect();
            if panics {
                // robfig panics; we must give the clear error, and the rest must agree.
                t.panics += 1;
                let clear = ours.contains("crashes") && ours.contains("spec.timeZone");
                if clear && ours_k8s.len() == expected_k8s.len() && ours_k8s[1..] == expected_k8s[1..] {
                    t.errors_ok += 1;
                } else {
                    t.mismatches
                        .push(format!("panic line {}: {schedule:?}: {ours_k8s:?}", n + 1));
                }
            } else if ours == theirs && ours_k8s == expected_k8s {
                t.errors_ok += 1;
            } else {
                t.mismatches.push(format!(
                    "error line {}: {schedule:?}\n  ours   {ours:?} {ours_k8s:?}\n  robfig {theirs:?} {expected_k8s:?}",
                    n + 1
                ));
            }
        } else if !k8s_ok {
            // Parsed fine but the API server rejects it (the TZ rule): compare its messages.
            t.errors_total += 1;
            let expected_k8s: Vec<String> = row["k8s_errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|d| expected_message(schedule, d))
                        .collect()
                })
                .unwrap_or_default();
            let ours_k8s: Vec<String> = problems.iter().map(|p| full_message(schedule, p)).collect();
            if ours_k8s == expected_k8s {
                t.errors_ok += 1;
            } else {
                t.mismatches.push(format!(
                    "k8s error line {}: {schedule:?}: {ours_k8s:?} vs {expected_k8s:?}",
                    n + 1
                ));
            }
        }

        // Fire times, per start key, compared as instants.
        let Some(next) = row["next"].as_object() else {
            continue;
        };
        for (key, times) in next {
            t.fire_lists_total += 1;
            let (start, zone) = parse_start(key);
            let expected: Vec<Option<DateTime<Utc>>> = times
                .as_array()
                .expect("fire times are a list")
                .iter()
                .map(|v| match v.as_str() {
                    Some("never") => None,
                    Some(s) => Some(
                        DateTime::parse_from_rfc3339(s)
                            .expect("RFC 3339")
                            .with_timezone(&Utc),
                    ),
                    None => panic!("fire time is not a string"),
                })
                .collect();
            let ours = match controller_schedule(schedule, zone) {
                Ok(sched) => {
                    let mut out = Vec::new();
                    let mut at = start;
                    for _ in 0..expected.len() {
                        let fire = sched.next(at);
                        out.push(fire);
                        match fire {
                            Some(f) => at = f,
                            None => break,
                        }
                    }
                    out
                }
                Err(err) => {
                    t.mismatches
                        .push(format!("fire line {}: {schedule:?} [{key}]: {err}", n + 1));
                    continue;
                }
            };
            if ours == expected {
                t.fire_lists_ok += 1;
            } else {
                t.mismatches.push(format!(
                    "fire line {}: {schedule:?} [{key}]\n  ours   {ours:?}\n  robfig {expected:?}",
                    n + 1
                ));
            }
        }
    }

    println!(
        "cron corpus: {}/{} verdicts, {}/{} error texts ({} robfig panics given a clear error), {}/{} fire-time lists",
        t.verdicts, t.lines, t.errors_ok, t.errors_total, t.panics, t.fire_lists_ok, t.fire_lists_total
    );
    for m in t.mismatches.iter().take(40) {
        println!("{m}");
    }
    println!(
        "mismatches: {} verdict, {} error text, {} fire-time",
        t.lines - t.verdicts,
        t.errors_total - t.errors_ok,
        t.fire_lists_total - t.fire_lists_ok
    );
    assert!(t.lines >= 3314, "the corpus has 3,314 lines, read {}", t.lines);
    assert!(t.mismatches.is_empty(), "{} mismatches", t.mismatches.len());
}

/// The real server's `spec.schedule` and `spec.timeZone` causes for every CronJob in the
/// manifest corpus (CREATE): our messages must be the same list, in the same order.
#[test]
fn agrees_with_the_api_server_on_schedule_and_time_zone_in_the_manifest_corpus() {
    let verdicts = std::fs::read_to_string("tests/data/manifests-corpus/verdicts.jsonl").expect("verdicts");
    let (mut checked, mut time_zones, mut mismatches) = (0, 0, Vec::new());
    for line in verdicts.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).expect("verdict lines are JSON");
        if row["kind"] != "CronJob" || !(row["accepted"] == true || row["code"] == 422) {
            continue; // decode errors (HTTP 400) and crashes never reach validation of these fields
        }
        let file = format!(
            "tests/data/manifests-corpus/{}",
            row["file"].as_str().expect("file")
        );
        let text = std::fs::read_to_string(&file).expect("manifest");
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("manifest YAML");
        let spec = &docs[0]["spec"];
        let Some(schedule) = spec["schedule"].as_str() else {
            continue;
        };
        let time_zone = spec["timeZone"].as_str();
        let causes = |field: &str| -> Vec<String> {
            row["causes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|c| c["field"] == field)
                        .filter_map(|c| c["message"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let ours_schedule: Vec<String> = schedule_problems(schedule, false, time_zone.is_some())
            .iter()
            .map(|p| full_message(schedule, p))
            .collect();
        let ours_tz: Vec<String> = time_zone
            .map(|tz| {
                batchguard::cron::time_zone_problems(tz)
                    .iter()
                    .map(|d| format!("Invalid value: {}: {d}", go_quote(tz)))
                    .collect()
            })
            .unwrap_or_default();
        checked += 1;
        time_zones += usize::from(time_zone.is_some());
        for (field, ours) in [("spec.schedule", ours_schedule), ("spec.timeZone", ours_tz)] {
            let theirs = causes(field);
            if ours != theirs {
                mismatches.push(format!("{} {field}: ours {ours:?}, server {theirs:?}", row["id"]));
            }
        }
    }
    println!("manifest corpus: {checked} CronJobs checked, {time_zones} with spec.timeZone");
    assert!(
        time_zones >= 40,
        "expected the cj-timezone-* manifests, saw {time_zones}"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A robfig panic must come back as an error that says what the server would do.
#[test]
fn tz_prefix_without_space_gives_a_clear_error_instead_of_a_panic() {
    for schedule in [
        "TZ=UTC",
        "TZ=",
        "CRON_TZ=",
        "CRON_TZ=Europe/Berlin\t@daily",
        "TZ=UTC\u{a0}0\u{a0}0\u{a0}*\u{a0}*\u{a0}*",
    ] {
        let err = parse_standard(schedule).expect_err("robfig panics on these");
        let text = err.to_string();
        assert!(text.starts_with("invalid schedule"), "{text}");
        assert!(text.contains("crashes") && text.contains("HTTP 500"), "{text}");
        assert!(text.contains("spec.timeZone"), "{text}");
    }
}

/// Why the `cron` crate cannot be used: it wants 6-7 fields (seconds first), so the most
/// common Kubernetes schedule is an error there, and its weekday numbers are 1-7 with
/// Sunday = 1, so the same weekday digit fires on a different day. If the crate ever
/// behaved like Kubernetes, these assertions would fail.
#[test]
fn cron_crate_disagrees_with_kubernetes() {
    use std::str::FromStr;

    // Five fields: Kubernetes accepts, the crate rejects.
    assert!(parse_standard("*/5 * * * *").is_ok());
    assert!(cron::Schedule::from_str("*/5 * * * *").is_err());

    // "0 0 * * 1" is Monday in Kubernetes; the crate's nearest form ("0 0 0 * * 1", seconds
    // first) is Sunday. 2026-01-01 is a Thursday.
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("valid instant");
    let k8s = parse_standard("0 0 * * 1")
        .expect("valid")
        .next(start)
        .expect("fires");
    let crate_next = cron::Schedule::from_str("0 0 0 * * 1")
        .expect("the crate parses six fields")
        .after(&start)
        .next()
        .expect("fires");
    assert_eq!(k8s.to_rfc3339(), "2026-01-05T00:00:00+00:00");
    assert_eq!(crate_next.to_rfc3339(), "2026-01-04T00:00:00+00:00");

    // Day-of-week 0 (Sunday in Kubernetes) is out of range for the crate, 7 the reverse.
    assert!(parse_standard("0 0 * * 0").is_ok());
    assert!(cron::Schedule::from_str("0 0 0 * * 0").is_err());
    assert_eq!(
        parse_standard("0 0 * * 7")
            .expect_err("7 is an error")
            .to_string(),
        "end of range (7) above maximum (6): 7"
    );
}

/// Never panic, whatever the input: random strings from the grammar's alphabet plus the
/// characters that broke other ports (tabs, NBSP, zero-width space, multi-byte letters).
#[test]
fn never_panics_on_random_schedules_and_zones() {
    const ALPHABET: &[&str] = &[
        "0",
        "1",
        "2",
        "5",
        "7",
        "9",
        "59",
        "60",
        "*",
        "?",
        "-",
        "/",
        ",",
        " ",
        " ",
        "\t",
        "\u{a0}",
        "\u{200b}",
        "@",
        "@every ",
        "@daily",
        "TZ=",
        "CRON_TZ=",
        "Europe/Berlin",
        "UTC",
        "Local",
        "..",
        ".",
        "/",
        "jan",
        "MON",
        "İ",
        "é",
        "１",
        "L",
        "W",
        "#",
        "+",
        "h",
        "m",
        "s",
        "µs",
        "x",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let start: DateTime<Utc> = "2026-03-29T00:30:00Z".parse().expect("valid instant");
    let mut parsed = 0;
    for _ in 0..20_000 {
        let s: String = if next() % 2 == 0 {
            let len = next() % 12;
            (0..len).map(|_| ALPHABET[next() % ALPHABET.len()]).collect()
        } else {
            // Five fields drawn from field-shaped pieces, so many of them parse.
            const PIECES: &[&str] = &[
                "*", "?", "0", "1-5", "*/7", "2,,3", "sun-sat", "jan", "30", "5/15",
            ];
            let fields: Vec<&str> = (0..5).map(|_| PIECES[next() % PIECES.len()]).collect();
            let prefix = ["", "TZ=America/New_York ", "CRON_TZ=Australia/Lord_Howe "][next() % 3];
            format!("{prefix}{}", fields.join(" "))
        };
        let _ = schedule_problems(&s, next() % 2 == 0, next() % 2 == 0);
        let _ = batchguard::cron::time_zone_problems(&s);
        let _ = go_quote(&s);
        if let Ok(schedule) = parse_standard(&s) {
            parsed += 1;
            let _ = schedule.next(start);
            let _ = schedule.shortest_gap(start, 3);
        }
    }
    // The alphabet is meant to reach the accepting paths too, not only errors.
    assert!(parsed > 2_000, "only {parsed} random schedules parsed");
}
