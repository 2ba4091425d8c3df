//! The bodies of the fuzz targets, in the library so that `fuzz/` (cargo-fuzz, nightly
//! features) and the bounded smoke test in `cargo test` (stable) run the same code. Each
//! function takes arbitrary input and must return without panicking; what it checks beyond
//! that is an invariant that holds for every input.

use chrono::{TimeZone as _, Utc};
use serde_json::Value;

use crate::admission::{self, Env, Webhook};
use crate::model::{Context, Kind, Operation};
use crate::policy::{Mode, Policy, StrictRules};

/// A policy with every stricter rule on, so the fuzzers reach the policy code too.
fn strict_policy() -> Policy {
    Policy {
        rules: StrictRules {
            allowed_restart_policies: Some(vec!["Never".into()]),
            allowed_completion_modes: Some(vec!["NonIndexed".into()]),
            allowed_concurrency_policies: Some(vec!["Forbid".into()]),
            max_successful_jobs_history_limit: Some(3),
            max_failed_jobs_history_limit: Some(3),
            min_schedule_interval_seconds: Some(600),
            require_time_zone: true,
        },
        ..Policy::default()
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0)
        .single()
        .expect("a fixed, valid instant")
}

/// The schedule parser: parse, and for an accepted schedule ask for its next runs.
pub fn cron(text: &str) {
    let from = now();
    for parsed in [
        crate::cron::parse_standard(text),
        crate::cron::controller_schedule(text, Some("Europe/Berlin")),
    ] {
        match parsed {
            Ok(schedule) => {
                let _ = schedule.next(from);
                let _ = schedule.shortest_gap(from, 20);
            }
            Err(e) => {
                // The message is a fixed text (the longest, for a TZ= prefix without a
                // space, is ~250 bytes) plus the input it quotes: at most twice, once as
                // written and once Go-escaped (`\x00` is 4 bytes for 1).
                let message = e.to_string();
                assert!(
                    message.len() <= 512 + 8 * text.len(),
                    "{} bytes for {} of input",
                    message.len(),
                    text.len()
                );
            }
        }
    }
}

/// The YAML reader with positions: read every document.
pub fn yaml(text: &str) {
    for doc in crate::yaml::documents(text).flatten() {
        let _ = doc.value.as_ref().map(Value::is_object);
    }
}

/// Both webhooks on one body, with the default and a strict policy, in enforce and warn
/// mode. A readable review is answered with JSON.
pub fn review(body: &[u8]) {
    let env = Env {
        now: now(),
        own_namespace: Some("batchguard".into()),
    };
    let mut warn = strict_policy();
    warn.mode = Mode::Warn;
    for policy in [Policy::default(), strict_policy(), warn] {
        for webhook in [Webhook::Validate, Webhook::Mutate] {
            if let Ok(outcome) = admission::review(webhook, body, &policy, &env) {
                assert!(
                    serde_json::from_slice::<Value>(&outcome.body).is_ok(),
                    "the answer is not JSON"
                );
            }
        }
    }
}

/// `rules::check` and `rules::judge` on arbitrary JSON as both kinds, on CREATE and on an
/// UPDATE to itself.
pub fn judge(body: &[u8]) {
    let Ok(object) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let policy = strict_policy();
    for kind in [Kind::Job, Kind::CronJob] {
        for (operation, old) in [(Operation::Create, None), (Operation::Update, Some(&object))] {
            let ctx = Context {
                operation,
                old,
                now: now(),
            };
            let _ = crate::rules::check(kind, &object, &policy, &ctx);
            let _ = crate::rules::judge(kind, &object, &policy, &ctx);
        }
    }
}

/// The bounded fuzz smoke of `cargo test`: a few thousand inputs made by a small
/// deterministic mutator from the repository's fixtures, through the same bodies as the
/// cargo-fuzz targets. It finds the shallow crashes on stable in seconds; the real fuzzers
/// (`fuzz/README.md`) find the deep ones.
#[cfg(test)]
mod smoke {
    use serde_json::{json, Value};

    /// SplitMix64: a fixed seed, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    fn data(path: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    fn files(dir: &str, ext: &str) -> Vec<Vec<u8>> {
        let mut paths: Vec<_> = std::fs::read_dir(data(dir))
            .expect("fixture directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read(p).expect("fixture")).collect()
    }

    /// Byte-level: flip, insert, delete, duplicate a slice, or splice in another seed.
    fn mutate_bytes(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
        const INTERESTING: &[&[u8]] = &[
            b"*",
            b",",
            b"-",
            b"/",
            b"?",
            b"L",
            b"W",
            b"#",
            b"@every ",
            b"TZ=",
            b"\x00",
            b"\xff",
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b"&a ",
            b"*a",
            b"- ",
            b": ",
            b"\n",
            b"!!",
            b"9999999999",
            b"-1",
            b"1e400",
            b"null",
            b"\xc3\xa9",
        ];
        let mut out = input.to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(out.len() + 1);
            match rng.below(6) {
                0 if !out.is_empty() => {
                    let i = at.min(out.len() - 1);
                    out[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let piece = rng.pick(INTERESTING);
                    out.splice(at..at, piece.iter().copied());
                }
                2 => {
                    let end = (at + rng.below(16)).min(out.len());
                    out.drain(at..end);
                }
                3 => {
                    let end = (at + rng.below(32)).min(out.len());
                    let piece = out[at..end].to_vec();
                    out.splice(at..at, piece);
                }
                4 => {
                    let other = rng.pick(seeds);
                    let from = rng.below(other.len());
                    let end = (from + rng.below(64)).min(other.len());
                    out.splice(at..at, other[from..end].iter().copied());
                }
                _ => out.truncate(at),
            }
        }
        out
    }

    fn nodes(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(nodes).sum(),
            Value::Object(m) => m.values().map(nodes).sum(),
            _ => 0,
        }
    }

    /// Structural: replace one node of the JSON tree with a value of another type, an edge
    /// value, or a copy of the node in a list.
    fn mutate_json(rng: &mut Rng, input: &Value) -> Value {
        let replacements = [
            json!(null),
            json!(""),
            json!(0),
            json!(-1),
            json!(2147483648u64),
            json!(1.5),
            json!(true),
            json!([]),
            json!({}),
            json!("0 0 30 2 *"),
            json!("TZ=Mars/Olympus @hourly"),
            json!("Indexed"),
            json!("OnFailure"),
            json!("a/b/c"),
            json!("-Inf"),
            json!({"name": "c"}),
            json!([{"name": "c"}, {"name": "c"}]),
        ];
        let mut out = input.clone();
        for _ in 0..1 + rng.below(3) {
            let mut n = rng.below(nodes(&out));
            let Some(node) = nth_mut_safe(&mut out, &mut n) else {
                continue;
            };
            *node = match rng.below(3) {
                0 => rng.pick(&replacements).clone(),
                1 => Value::Array(vec![node.clone(), node.clone()]),
                _ => match &*node {
                    Value::String(s) => Value::String(s.chars().rev().collect()),
                    Value::Number(_) => json!(-7),
                    other => other.clone(),
                },
            };
        }
        out
    }

    /// The `n`th node in pre-order, found by walking instead of through a raw pointer.
    fn nth_mut_safe<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
        match v {
            Value::Array(a) => {
                for c in a.iter_mut() {
                    let size = nodes(c);
                    if *n < size {
                        return nth_mut_safe(c, n);
                    }
                    *n -= size;
                }
                None
            }
            Value::Object(m) => {
                for c in m.values_mut() {
                    let size = nodes(c);
                    if *n < size {
                        return nth_mut_safe(c, n);
                    }
                    *n -= size;
                }
                None
            }
            _ => None,
        }
    }

    #[test]
    fn cron_messages_stay_linear_in_the_input() {
        // Found by the cron fuzzer: the duration is quoted raw and Go-escaped.
        super::cron(&format!("@every 1ns{}", "\0".repeat(200)));
        super::cron("TZ=");
    }

    #[test]
    fn cron_survives_mutated_schedules() {
        let seeds: Vec<Vec<u8>> = std::fs::read_to_string(data("tests/data/cron-schedules.jsonl"))
            .expect("schedules")
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["schedule"].as_str().map(|s| s.as_bytes().to_vec()))
            .collect();
        let mut rng = Rng(1);
        for _ in 0..3000 {
            let seed = rng.pick(&seeds).clone();
            let input = mutate_bytes(&mut rng, &seed, &seeds);
            super::cron(&String::from_utf8_lossy(&input));
        }
    }

    #[test]
    fn yaml_survives_mutated_manifests() {
        let mut seeds = files("tests/data/manifests-corpus/manifests", "yaml");
        seeds.extend(files("examples", "yaml"));
        let mut rng = Rng(2);
        for _ in 0..1500 {
            let seed = rng.pick(&seeds).clone();
            let input = mutate_bytes(&mut rng, &seed, &seeds);
            super::yaml(&String::from_utf8_lossy(&input));
        }
    }

    #[test]
    fn review_and_judge_survive_mutated_reviews() {
        let seeds = files("tests/data/admission", "json");
        let trees: Vec<Value> = seeds
            .iter()
            .filter_map(|s| serde_json::from_slice(s).ok())
            .collect();
        let mut rng = Rng(3);
        for i in 0..600 {
            let body = if i % 3 == 0 {
                let seed = rng.pick(&seeds).clone();
                mutate_bytes(&mut rng, &seed, &seeds)
            } else {
                let tree = rng.pick(&trees).clone();
                serde_json::to_vec(&mutate_json(&mut rng, &tree)).expect("serialize")
            };
            super::review(&body);
            let object = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.pointer("/request/object").cloned())
                .unwrap_or(Value::Null);
            super::judge(&serde_json::to_vec(&object).expect("serialize"));
        }
    }
}
