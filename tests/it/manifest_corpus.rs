//! Runs every manifest of `tests/data/manifests-corpus` through `rules::check_manifest` and
//! compares with what a real v1.32 API server answered to a dry-run CREATE: the verdict,
//! the failing fields (as a multiset), the messages and the warnings on accepted objects.
//!
//! Messages whose bad value the API server printed in Go syntax, or which carry random
//! uids or generated names, are compared with those parts masked (see `normalize`).
//!
//! Every line must agree on the verdict, the fields and the (masked) messages.

use std::collections::BTreeMap;

use batchguard::policy::Policy;
use batchguard::rules::{
    check_manifest, status_message, Context, Finding, Kind, Operation, Origin, RuleId, Severity,
};
use serde_json::Value;

use crate::api_corpus::{cases, create_context, Tally};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/manifests-corpus");

fn category(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(c, _)| c)
}

/// Masks what legitimately differs between runs or renderings: uids, the random part of
/// generated names, and bad values printed in Go syntax (`map[string]string{...}`).
fn normalize(message: &str, generate_name: Option<&str>) -> String {
    // The API server names the random UID it gave the new object; offline there is none,
    // and batchguard says so in its place.
    let message = message.replace(batchguard::rules::UID_ON_CREATE, "<uid>");
    let mut m = mask_uuids(&message);
    if let Some(prefix) = generate_name {
        let cut: String = prefix.chars().take(58).collect();
        let mut out = String::new();
        let mut rest = m.as_str();
        while let Some(i) = rest.find(&cut) {
            out.push_str(&rest[..i + cut.len()]);
            let after = &rest[i + cut.len()..];
            let n = after
                .chars()
                .take(5)
                .take_while(char::is_ascii_alphanumeric)
                .count();
            if n == 5 {
                out.push_str("*****");
                rest = &after[5..];
            } else {
                rest = after;
            }
        }
        out.push_str(rest);
        m = out;
    }
    if let Some(value) = m.strip_prefix("Invalid value: ") {
        let go_syntax = ["map[", "[]", "v1.", "batch.", "&"]
            .iter()
            .any(|p| value.starts_with(p));
        if go_syntax {
            let end = [value.rfind("}: "), value.rfind("): ")]
                .into_iter()
                .flatten()
                .max();
            if let Some(end) = end {
                return format!("Invalid value: <go value>{}", &value[end + 1..]);
            }
        }
    }
    m
}

fn mask_uuids(s: &str) -> String {
    let bytes = s.as_bytes();
    let shape = [8, 4, 4, 4, 12];
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let mut j = i;
        let mut ok = true;
        for (k, n) in shape.iter().enumerate() {
            if j + n > bytes.len() || !bytes[j..j + n].iter().all(u8::is_ascii_hexdigit) {
                ok = false;
                break;
            }
            j += n;
            if k < 4 {
                if bytes.get(j) != Some(&b'-') {
                    ok = false;
                    break;
                }
                j += 1;
            }
        }
        if ok {
            out.push_str("<uid>");
            i = j;
        } else {
            let c = s[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn manifest_corpus_matches_the_api_server() {
    let policy = Policy::default();
    let ctx = create_context();
    let mut total = Tally::default();
    let mut per_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut hard_failures = Vec::new();
    let mut message_diffs = Vec::new();

    for case in cases(CORPUS) {
        let (id, kind, v, manifest) = (case.id.as_str(), case.kind, &case.verdict, &case.manifest);
        let generate_name = manifest["metadata"]["generateName"].as_str().map(str::to_string);
        let findings = check_manifest(kind, manifest, &policy, &ctx);
        let errors: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();

        let accepted = v["accepted"].as_bool().expect("accepted");
        let no_response = v.get("no_response").is_some_and(|n| !n.is_null());
        let decode = v["code"].as_i64() == Some(400);
        let no_causes = Vec::new();
        let causes = v["causes"].as_array().unwrap_or(&no_causes);
        let mut problems = Vec::new();

        total.verdicts.1 += 1;
        if errors.is_empty() == accepted {
            total.verdicts.0 += 1;
        } else {
            problems.push(format!(
                "verdict: expected {}, got {:?}",
                if accepted { "accepted" } else { "rejected" },
                errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
            ));
        }

        if no_response {
            total.fields.1 += 1;
            if errors.iter().any(|f| f.rule == RuleId::ServerCrash) {
                total.fields.0 += 1;
            } else {
                problems.push("expected a server-crash finding".to_string());
            }
        } else if decode {
            total.fields.1 += 1;
            total.messages.1 += 1;
            match errors.as_slice() {
                [one] if one.rule == RuleId::DecodeError => {
                    total.fields.0 += 1;
                    if Some(one.message.as_str()) == v["message"].as_str() {
                        total.messages.0 += 1;
                    } else {
                        message_diffs.push(format!("{id}: {:?} vs {:?}", one.message, v["message"]));
                    }
                }
                _ => problems.push("expected exactly one decode-error finding".to_string()),
            }
        } else if !accepted {
            let mut want: Vec<&str> = causes
                .iter()
                .map(|c| c["field"].as_str().expect("field"))
                .collect();
            let mut got: Vec<&str> = errors.iter().map(|f| f.field.as_str()).collect();
            want.sort_unstable();
            got.sort_unstable();
            total.fields.1 += 1;
            if want == got {
                total.fields.0 += 1;
            } else {
                problems.push(format!("fields: expected {want:?}, got {got:?}"));
            }
            let gn = generate_name.as_deref();
            let mut want_m: Vec<String> = causes
                .iter()
                .map(|c| {
                    format!(
                        "{}: {}",
                        c["field"].as_str().expect("field"),
                        normalize(c["message"].as_str().expect("message"), gn)
                    )
                })
                .collect();
            let mut got_m: Vec<String> = errors
                .iter()
                .map(|f| format!("{}: {}", f.field, normalize(&f.message, gn)))
                .collect();
            want_m.sort();
            got_m.sort();
            // The one-line Status message, where it holds no Go-syntax value.
            if let Some(want_status) = v["message"].as_str() {
                let go_syntax = ["map[", "v1.", "batch.", "[]int32"]
                    .iter()
                    .any(|g| want_status.contains(g));
                if !go_syntax {
                    let mut prepared = manifest.clone();
                    batchguard::apiserver::prepare_for_create(kind, &mut prepared);
                    let name = prepared["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let owned: Vec<Finding> = errors.iter().map(|f| (*f).clone()).collect();
                    let got_status = status_message(kind, &name, &owned);
                    total.status.1 += 1;
                    if normalize(&got_status, gn) == normalize(want_status, gn) {
                        total.status.0 += 1;
                    } else {
                        message_diffs.push(format!(
                            "{id} status:\n    want {want_status}\n    got  {got_status}"
                        ));
                    }
                }
            }
            total.messages.1 += 1;
            if want_m == got_m {
                total.messages.0 += 1;
            } else {
                message_diffs.push(format!("{id}:\n    want {want_m:?}\n    got  {got_m:?}"));
            }
        }

        if accepted {
            let mut want: Vec<&str> = v["warnings"]
                .as_array()
                .map(|w| w.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let got_owned: Vec<String> = findings
                .iter()
                .filter(|f| f.severity == Severity::Warning && f.origin == Origin::Api)
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            let mut got: Vec<&str> = got_owned.iter().map(String::as_str).collect();
            want.sort_unstable();
            got.sort_unstable();
            total.warnings.1 += 1;
            if want == got {
                total.warnings.0 += 1;
            } else {
                problems.push(format!("warnings: expected {want:?}, got {got:?}"));
            }
        }

        let entry = per_category.entry(category(id).to_string()).or_default();
        entry.1 += 1;
        if problems.is_empty() {
            entry.0 += 1;
        } else {
            let report = format!(
                "{id} ({}): {}",
                v["varies"].as_str().unwrap_or_default(),
                problems.join("; ")
            );
            hard_failures.push(report);
        }
    }

    for (cat, (ok, n)) in &per_category {
        println!("  {cat:<22} {ok:>3}/{n:<3}");
    }
    for d in &message_diffs {
        println!("  message differs: {d}");
    }
    println!(
        "manifest corpus: {}/{} verdicts, {}/{} fields, {}/{} messages, {}/{} warnings, {}/{} status messages",
        total.verdicts.0,
        total.verdicts.1,
        total.fields.0,
        total.fields.1,
        total.messages.0,
        total.messages.1,
        total.warnings.0,
        total.warnings.1,
        total.status.0,
        total.status.1
    );
    assert_eq!(total.verdicts.1, 421, "the corpus has 421 manifests");
    assert!(
        message_diffs.is_empty(),
        "{} messages differ from the API server's",
        message_diffs.len()
    );
    assert!(
        hard_failures.is_empty(),
        "{} manifests disagree with the API server:\n{}",
        hard_failures.len(),
        hard_failures.join("\n")
    );
}

#[test]
fn normalize_masks_only_unstable_parts() {
    assert_eq!(
        normalize(
            "Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`",
            None
        ),
        "Invalid value: <go value>: `selector` does not match template `labels`"
    );
    assert_eq!(
        normalize("Invalid value: \"Demo-hdnkk\": bad", Some("Demo-")),
        "Invalid value: \"Demo-*****\": bad"
    );
    assert_eq!(
        normalize("must be '77f465b2-37f7-4b14-9976-93ce470bd8be'", None),
        "must be '<uid>'"
    );
    assert_eq!(
        normalize(&format!("must be '{}'", batchguard::rules::UID_ON_CREATE), None),
        "must be '<uid>'"
    );
    assert_eq!(
        normalize("Invalid value: \"x\": bad", None),
        "Invalid value: \"x\": bad"
    );
}

/// Every node of (a sample of) the corpus replaced by values of every JSON type: the
/// engine must never panic, on create or on update against the original.
#[test]
fn never_panics_on_mangled_manifests() {
    const STEP: usize = 7;
    fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(prefix.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    prefix.push(k.clone());
                    paths(child, prefix, out);
                    prefix.pop();
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    prefix.push(i.to_string());
                    paths(child, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }
    fn slot<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
        let mut cur = v;
        for k in path {
            cur = match cur {
                Value::Object(m) => m.get_mut(k)?,
                Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }
    let replacements = [
        serde_json::json!(null),
        serde_json::json!(""),
        serde_json::json!("TZ="),
        serde_json::json!(-1),
        serde_json::json!(2147483648u64),
        serde_json::json!(1.5),
        serde_json::json!(true),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(["a", 1]),
        serde_json::json!({"a": {"b": 1}}),
        serde_json::json!(5.0),
        serde_json::json!(u64::MAX),
        serde_json::json!(i64::MIN),
        serde_json::json!(1e300),
        serde_json::json!("-"),
        serde_json::json!("é-"),
        serde_json::json!([[[[[[[[[[[[[[[[{"a": [1]}]]]]]]]]]]]]]]]]),
    ];
    let policy = Policy::from_yaml(
        "rules:\n  allowedRestartPolicies: [Never]\n  allowedCompletionModes: [NonIndexed]\n  allowedConcurrencyPolicies: [Forbid]\n  maxSuccessfulJobsHistoryLimit: 1\n  maxFailedJobsHistoryLimit: 1\n  minScheduleIntervalSeconds: 60\n  requireTimeZone: true\n",
        "test",
    )
    .expect("policy");
    let now = chrono::Utc::now();
    let mut entries: Vec<_> = std::fs::read_dir(format!("{CORPUS}/manifests"))
        .expect("manifests")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    let mut checked = 0usize;
    for path in entries.iter().step_by(STEP) {
        let text = std::fs::read_to_string(path).expect("manifest");
        let Some(Ok(doc)) = batchguard::yaml::parse_stream(&text).into_iter().next() else {
            continue;
        };
        let Some(original) = doc.value else { continue };
        let kind = if original["kind"] == "Job" {
            Kind::Job
        } else {
            Kind::CronJob
        };
        let mut all = Vec::new();
        paths(&original, &mut Vec::new(), &mut all);
        for p in &all {
            for r in &replacements {
                let mut mangled = original.clone();
                if let Some(s) = slot(&mut mangled, p) {
                    *s = r.clone();
                }
                let create = Context {
                    operation: Operation::Create,
                    old: None,
                    now,
                };
                let _ = check_manifest(kind, &mangled, &policy, &create);
                let update = Context {
                    operation: Operation::Update,
                    old: Some(&original),
                    now,
                };
                let _ = batchguard::rules::check(kind, &mangled, &policy, &update);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} mangled manifests checked");
}
