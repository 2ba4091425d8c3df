//! The webhook's mutation applied to a manifest offline (`batchguard mutate`, `audit`), by
//! the same [`mutation`] the webhook calls, so a preview cannot disagree with the cluster.
//!
//! The API server defaults an object before `/mutate` sees it, and offline manifests are
//! not defaulted, so the object is defaulted first, as `validate` does. The user's manifest
//! stands as the `kubectl apply` record (`last-applied-configuration`) on it: what the user
//! wrote, even an API default, is their choice, as the webhook reads it from an apply. The
//! patch is then re-based onto the user's document, so the output is that document plus
//! batchguard's changes, never the API server's defaults.

use chrono::{DateTime, Utc};
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation, ReplaceOperation};
use serde_json::{Map, Value};

use super::{mutation, Applied, Mutation, LAST_APPLIED_ANNOTATION};
use crate::apiserver;
use crate::model::{Kind, Operation};
use crate::policy::{Policy, IGNORE_ANNOTATION};

/// What `/mutate` would do to one manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The defaults set, in patch order, as the webhook words them.
    pub applied: Vec<Applied>,
    /// The JSON Patch against the manifest as written (parents it lacks are added first).
    pub patch: Patch,
    /// The manifest with the patch applied.
    pub mutated: Value,
}

impl Preview {
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty()
    }

    /// `would set spec.concurrencyPolicy=Forbid (…); would set …`: the webhook's warn-mode
    /// words for each default, joined.
    pub fn message(&self) -> String {
        self.applied
            .iter()
            .map(|a| {
                let mut s = String::from("would set ");
                s.push_str(&a.detail);
                s
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub use crate::rules::is_stored;

/// What `/mutate` would change on `manifest` if it were created today.
///
/// A stored object (see [`is_stored`](crate::rules::is_stored)) already went through the API server: its
/// `managedFields` and annotations are the evidence, as they would be on a re-create; a
/// stored Job is never mutated (the webhook mutates Jobs on create only). A manifest gets
/// its `kubectl apply` record as evidence. Either way the object is defaulted first. An
/// object the webhook leaves alone (an exempt namespace, the ignore annotation) gets
/// nothing. The policy's `mode` is not consulted: in warn mode the webhook warns about
/// exactly these defaults instead of setting them.
pub fn preview(kind: Kind, manifest: &Value, policy: &Policy, now: DateTime<Utc>) -> Preview {
    let stored = is_stored(manifest);
    let unchanged = || Preview {
        applied: Vec::new(),
        patch: Patch(Vec::new()),
        mutated: manifest.clone(),
    };
    if exempt(manifest, policy) {
        return unchanged();
    }
    let mut object = manifest.clone();
    apiserver::apply_defaults(kind, &mut object);
    if !stored {
        record_apply(&mut object, manifest);
    }
    let m: Mutation = if stored && kind == Kind::Job {
        Mutation::default()
    } else {
        mutation(kind, Operation::Create, &object, None, &policy.defaults, now)
    };
    let patch = rebase(manifest, &m.applied);
    let mut mutated = manifest.clone();
    // Every path was checked against `manifest` while building the patch.
    if json_patch::patch(&mut mutated, &patch).is_err() {
        mutated = manifest.clone();
    }
    Preview {
        applied: m.applied,
        patch,
        mutated,
    }
}

/// The webhook's exemptions that an offline manifest can show: its namespace, and the
/// ignore annotation when the policy honours it.
fn exempt(manifest: &Value, policy: &Policy) -> bool {
    let meta = manifest.get("metadata");
    let namespace = meta.and_then(|m| m.get("namespace")).and_then(Value::as_str);
    if namespace.is_some_and(|ns| policy.exemptions.namespaces.iter().any(|e| e == ns)) {
        return true;
    }
    policy.exemptions.allow_ignore_annotation
        && meta
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .and_then(Value::as_str)
            == Some("true")
}

/// Writes `manifest` as the last-applied configuration on `object`, as `kubectl apply`
/// does, so the mutation reads what the user wrote as their choice.
fn record_apply(object: &mut Value, manifest: &Value) {
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    let meta = obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(
            LAST_APPLIED_ANNOTATION.into(),
            Value::String(manifest.to_string()),
        );
    }
}

/// The mutation's operations against the manifest as written: `add` where the manifest
/// lacks the field (the webhook saw the API default there, and said `replace`), `replace`
/// where it has one, and an `add` of `{}` for each missing parent.
fn rebase(manifest: &Value, applied: &[Applied]) -> Patch {
    let mut ops = Vec::new();
    let mut shadow = manifest.clone();
    for a in applied {
        let mut node = &mut shadow;
        let mut tokens: Vec<&str> = Vec::with_capacity(a.path.len());
        for (i, key) in a.path.iter().enumerate() {
            tokens.push(key);
            let last = i + 1 == a.path.len();
            let Some(map) = node.as_object_mut() else {
                break;
            };
            let path = PointerBuf::from_tokens(tokens.iter().copied());
            if last {
                let op = if map.contains_key(*key) {
                    PatchOperation::Replace(ReplaceOperation {
                        path,
                        value: a.value.clone(),
                    })
                } else {
                    PatchOperation::Add(AddOperation {
                        path,
                        value: a.value.clone(),
                    })
                };
                map.insert((*key).to_string(), a.value.clone());
                ops.push(op);
                break;
            }
            if !map.get(*key).is_some_and(Value::is_object) {
                let value = Value::Object(Map::new());
                ops.push(if map.contains_key(*key) {
                    PatchOperation::Replace(ReplaceOperation {
                        path,
                        value: value.clone(),
                    })
                } else {
                    PatchOperation::Add(AddOperation {
                        path,
                        value: value.clone(),
                    })
                });
                map.insert((*key).to_string(), value);
            }
            let Some(next) = map.get_mut(*key) else {
                break;
            };
            node = next;
        }
    }
    Patch(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-06-01T00:00:00Z".parse().expect("rfc3339")
    }

    fn cronjob(spec_extra: Value) -> Value {
        let mut spec = json!({
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure",
                "containers": [{"name": "main", "image": "busybox"}]}}}}
        });
        for (k, v) in spec_extra.as_object().expect("object") {
            spec[k] = v.clone();
        }
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"}, "spec": spec})
    }

    fn defaults() -> Policy {
        Policy::default()
    }

    #[test]
    fn adds_only_our_defaults_to_the_manifest_as_written() {
        let manifest = cronjob(json!({}));
        let p = preview(Kind::CronJob, &manifest, &defaults(), now());
        assert!(!p.is_empty());
        let ops = serde_json::to_value(&p.patch).expect("json");
        // The webhook replaced the API default it saw; the manifest had no value: add.
        assert!(
            ops.as_array().expect("array").iter().all(|op| op["op"] == "add"),
            "{ops}"
        );
        let spec = &p.mutated["spec"];
        assert_eq!(spec["concurrencyPolicy"], "Forbid", "{spec}");
        // None of the API server's defaults leak into the output.
        let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
        assert!(
            pod.get("dnsPolicy").is_none() && pod.get("schedulerName").is_none(),
            "{pod}"
        );
        assert!(
            p.mutated["metadata"].get("annotations").is_none(),
            "{}",
            p.mutated
        );
        assert!(p.message().starts_with("would set "), "{}", p.message());
    }

    #[test]
    fn keeps_a_value_the_user_wrote_even_the_api_default() {
        let manifest = cronjob(json!({"concurrencyPolicy": "Allow"}));
        let p = preview(Kind::CronJob, &manifest, &defaults(), now());
        assert_eq!(p.mutated["spec"]["concurrencyPolicy"], "Allow");
        assert!(
            p.applied.iter().all(|a| a.field != "spec.concurrencyPolicy"),
            "{:?}",
            p.applied
        );
    }

    #[test]
    fn a_manifest_with_every_default_written_down_is_left_alone() {
        let first = preview(Kind::CronJob, &cronjob(json!({})), &defaults(), now());
        let again = preview(Kind::CronJob, &first.mutated, &defaults(), now());
        assert!(again.is_empty(), "{:?}", again.applied);
        assert_eq!(again.mutated, first.mutated);
        assert!(again.patch.0.is_empty());
    }

    #[test]
    fn an_exempt_namespace_or_the_ignore_annotation_gets_nothing() {
        let mut policy = Policy::default();
        policy.exemptions.namespaces = vec!["kube-system".into()];
        let mut manifest = cronjob(json!({}));
        manifest["metadata"]["namespace"] = "kube-system".into();
        assert!(preview(Kind::CronJob, &manifest, &policy, now()).is_empty());
        manifest["metadata"]["namespace"] = "prod".into();
        assert!(!preview(Kind::CronJob, &manifest, &policy, now()).is_empty());
        manifest["metadata"]["annotations"] = json!({IGNORE_ANNOTATION: "true"});
        assert_eq!(
            preview(Kind::CronJob, &manifest, &policy, now()).is_empty(),
            policy.exemptions.allow_ignore_annotation
        );
    }

    #[test]
    fn a_stored_job_is_never_mutated() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "uid": "0d5c1f2e-1111-4222-8333-444455556666"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox"}]}}}});
        assert!(is_stored(&job));
        assert!(preview(Kind::Job, &job, &defaults(), now()).is_empty());
    }

    #[test]
    fn missing_parents_are_added_before_the_field() {
        let applied = [Applied {
            field: "spec.jobTemplate.spec.activeDeadlineSeconds",
            path: &["spec", "jobTemplate", "spec", "activeDeadlineSeconds"],
            pointer: json_patch::jsonptr::Pointer::from_static(
                "/spec/jobTemplate/spec/activeDeadlineSeconds",
            ),
            op: super::super::PatchOp::Replace,
            value: json!(60),
            detail: String::new(),
        }];
        let patch = rebase(&json!({"spec": {}}), &applied);
        let v = serde_json::to_value(&patch).expect("json");
        assert_eq!(
            v,
            json!([
                {"op": "add", "path": "/spec/jobTemplate", "value": {}},
                {"op": "add", "path": "/spec/jobTemplate/spec", "value": {}},
                {"op": "add", "path": "/spec/jobTemplate/spec/activeDeadlineSeconds", "value": 60},
            ])
        );
    }
}
