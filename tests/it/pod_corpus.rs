//! Runs every manifest of `tests/data/manifests-pod-corpus` (Jobs and CronJobs whose pod
//! template varies) through `rules::check_manifest` and compares with what a real v1.32.13
//! API server answered to a dry-run CREATE: the verdict, the failing fields (as a
//! multiset), every cause message, the one-line Status message, the 400 message of decode
//! errors and the warnings of accepted objects.
//!
//! The one unstable part of a message is a Go pointer address (the bad value of the
//! `allowPrivilegeEscalation` error prints the whole security context with `%#v`); addresses
//! are masked on both sides, everything around them is compared.

use std::collections::BTreeMap;

use batchguard::policy::Policy;
use batchguard::rules::{check_manifest, status_message, Finding, Origin, RuleId, Severity};
use serde_json::Value;

use crate::api_corpus::{bump, cases, create_context, Tally};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/manifests-pod-corpus");

/// `pod-cj-volumes-004` -> `volumes`.
fn category(id: &str) -> &str {
    id.split('-').nth(2).unwrap_or(id)
}

/// Replaces each Go pointer address (`0xc00a3ebd75`) by `0x…`.
fn mask_pointers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let n = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        out.push_str(if n > 0 { "0x…" } else { "0x" });
        rest = &after[n..];
    }
    out.push_str(rest);
    out
}

#[test]
fn pod_corpus_matches_the_api_server() {
    let policy = Policy::default();
    let ctx = create_context();
    let mut total = Tally::default();
    let mut per_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();

    for case in cases(CORPUS) {
        let (id, kind, v, manifest) = (case.id.as_str(), case.kind, &case.verdict, &case.manifest);
        let findings = check_manifest(kind, manifest, &policy, &ctx);
        let errors: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        let accepted = v["accepted"].as_bool().expect("accepted");
        let decode = v["code"].as_i64() == Some(400);
        let causes: &[Value] = v["causes"].as_array().map_or(&[], Vec::as_slice);
        let mut problems = Vec::new();

        let verdict_ok = errors.is_empty() == accepted;
        bump(&mut total.verdicts, verdict_ok);
        if !verdict_ok {
            problems.push(format!(
                "verdict: expected {}, got {:?}",
                if accepted { "accepted" } else { "rejected" },
                errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
            ));
        }

        if decode {
            let one = match errors.as_slice() {
                [one] if one.rule == RuleId::DecodeError => Some(*one),
                _ => None,
            };
            bump(&mut total.fields, one.is_some());
            let message_ok = one.is_some_and(|f| Some(f.message.as_str()) == v["message"].as_str());
            bump(&mut total.messages, message_ok);
            if !message_ok {
                problems.push(format!(
                    "decode error: expected {:?}, got {:?}",
                    v["message"],
                    errors.iter().map(|f| &f.message).collect::<Vec<_>>()
                ));
            }
        } else if !accepted {
            let mut want: Vec<&str> = causes
                .iter()
                .map(|c| c["field"].as_str().expect("field"))
                .collect();
            let mut got: Vec<&str> = errors.iter().map(|f| f.field.as_str()).collect();
            want.sort_unstable();
            got.sort_unstable();
            bump(&mut total.fields, want == got);
            if want != got {
                problems.push(format!("fields: expected {want:?}, got {got:?}"));
            }
            let mut want_m: Vec<String> = causes
                .iter()
                .map(|c| {
                    let reason = c["reason"].as_str().expect("reason");
                    let message = mask_pointers(c["message"].as_str().expect("message"));
                    format!("{} [{reason}]: {message}", c["field"].as_str().expect("field"))
                })
                .collect();
            let mut got_m: Vec<String> = errors
                .iter()
                .map(|f| {
                    format!(
                        "{} [{}]: {}",
                        f.field,
                        f.reason.as_str(),
                        mask_pointers(&f.message)
                    )
                })
                .collect();
            want_m.sort();
            got_m.sort();
            bump(&mut total.messages, want_m == got_m);
            if want_m != got_m && want == got {
                problems.push(format!("messages:\n    want {want_m:?}\n    got  {got_m:?}"));
            }
            if let Some(want_status) = v["message"].as_str() {
                let mut prepared = manifest.clone();
                batchguard::apiserver::prepare_for_create(kind, &mut prepared);
                let name = prepared["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let owned: Vec<Finding> = errors.iter().map(|f| (*f).clone()).collect();
                let got_status = mask_pointers(&status_message(kind, &name, &owned));
                let ok = got_status == mask_pointers(want_status);
                bump(&mut total.status, ok);
                if !ok && want == got {
                    problems.push(format!("status:\n    want {want_status}\n    got  {got_status}"));
                }
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
            bump(&mut total.warnings, want == got);
            if want != got {
                problems.push(format!("warnings: expected {want:?}, got {got:?}"));
            }
        }

        let entry = per_category.entry(category(id).to_string()).or_default();
        bump(entry, problems.is_empty());
        if !problems.is_empty() {
            failures.push(format!(
                "{id} ({}): {}",
                v["varies"].as_str().unwrap_or_default(),
                problems.join("; ")
            ));
        }
    }

    for (cat, (ok, n)) in &per_category {
        println!("  {cat:<16} {ok:>3}/{n:<3}");
    }
    println!(
        "pod corpus: {}/{} verdicts, {}/{} fields, {}/{} messages, {}/{} warnings, {}/{} status messages",
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
    assert_eq!(total.verdicts.1, 218, "the pod corpus has 218 manifests");
    assert!(
        failures.is_empty(),
        "{} manifests disagree with the API server:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn masks_only_pointer_addresses() {
    assert_eq!(
        mask_pointers("Privileged:(*bool)(0xc00a3ebd75), RunAsUser:(*int64)(nil)"),
        "Privileged:(*bool)(0x…), RunAsUser:(*int64)(nil)"
    );
    assert_eq!(mask_pointers("0x"), "0x");
    assert_eq!(category("pod-cj-volumes-004"), "volumes");
}
