//! What the API server does to an object before any validation sees it: the
//! `SetDefaults_*` defaulting and, for a Job, `PrepareForCreate`'s selector and label
//! generation. Offline manifests are not defaulted, so `validate` runs this first.
//!
//! Go defaults a pointer field only when it is nil, but a plain string field also when it
//! is `""` (it cannot tell the two apart). So `restartPolicy: ""` becomes `Always` and
//! `concurrencyPolicy: ""` becomes `Allow`, while `completionMode: ""` stays and is
//! rejected. JSON `null` decodes to nil. Every step only fills what is missing, so running
//! it on an already-defaulted object (what the webhook receives) changes nothing.

use serde_json::{Map, Value};

use crate::model::Kind;

mod pod;

use pod::pod_template;
pub use pod::{drop_disabled_pod_fields, has_disabled_pod_fields};

/// The placeholder UID used for a Job's generated selector offline.
pub const PLACEHOLDER_UID: &str = "00000000-0000-4000-8000-000000000000";

/// What the API server's name generator appends to a `generateName` prefix, offline.
const GENERATED_SUFFIX: &str = "xxxxx";
/// The generator keeps at most this many characters of the prefix.
const MAX_GENERATED_PREFIX: usize = 58;

/// Applies the API server's defaults (`pkg/apis/batch/v1/defaults.go`, core v1 pod defaults).
/// A CronJob's job template gets the pod defaults only: its Job-level fields are defaulted
/// by the controller when it creates a Job, not by the API server.
pub fn apply_defaults(kind: Kind, object: &mut Value) {
    defaults(kind, object, false);
}

/// [`apply_defaults`]; `fresh` says the object is as a user wrote it (never through the
/// API server), so `SetDefaults_Job` copies the template labels whatever they hold.
/// Answers whether it did: in Go `metadata.labels` then *is* the template's label map.
fn defaults(kind: Kind, object: &mut Value, fresh: bool) -> bool {
    let Some(obj) = object.as_object_mut() else {
        return false;
    };
    let mut shared = false;
    match kind {
        Kind::Job => {
            let Some(spec) = child_object(obj, "spec") else {
                return false;
            };
            if let Some(template) = child_object(spec, "template") {
                pod_template(template);
            }
            job_spec(spec);
            let template_labels = spec
                .get("template")
                .and_then(|t| t.get("metadata"))
                .and_then(|m| m.get("labels"))
                .filter(|l| l.is_object())
                .cloned();
            // Once the selector has been generated (a stored or webhook object), the
            // copy already happened before it; copying now would add the generated labels.
            let generated = !fresh
                && spec.get("selector").is_some_and(|s| !s.is_null())
                && template_labels
                    .as_ref()
                    .is_some_and(|l| l.get("batch.kubernetes.io/controller-uid").is_some());
            if let (false, Some(labels)) = (generated, template_labels) {
                if let Some(meta) = child_object(obj, "metadata") {
                    let empty = meta
                        .get("labels")
                        .and_then(Value::as_object)
                        .is_none_or(Map::is_empty);
                    if empty {
                        meta.insert("labels".into(), labels);
                        shared = true;
                    }
                }
            }
        }
        Kind::CronJob => {
            let Some(spec) = child_object(obj, "spec") else {
                return false;
            };
            set_if_unset_str(spec, "concurrencyPolicy", "Allow");
            set_if_absent(spec, "suspend", Value::Bool(false));
            set_if_absent(spec, "successfulJobsHistoryLimit", Value::from(3));
            set_if_absent(spec, "failedJobsHistoryLimit", Value::from(1));
            if let Some(template) = child_object(spec, "jobTemplate")
                .and_then(|jt| child_object(jt, "spec"))
                .and_then(|js| child_object(js, "template"))
            {
                pod_template(template);
            }
        }
    }
    shared
}

/// Defaults, then what the API server adds before validating a create: a new UID (any
/// `metadata.uid` in the manifest is replaced, as `FillObjectMetaSystemFields` does; here
/// by [`PLACEHOLDER_UID`]), the name from `generateName` (with [`GENERATED_SUFFIX`]
/// standing in for the random part) and, for a Job without `manualSelector: true`, the
/// generated template labels and selector.
pub fn prepare_for_create(kind: Kind, object: &mut Value) {
    let shared_labels = defaults(kind, object, true);
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    if let Some(meta) = child_object(obj, "metadata") {
        meta.insert("uid".into(), Value::from(PLACEHOLDER_UID));
        let has_name = meta
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let prefix = meta
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|g| !g.is_empty())
            .map(str::to_string);
        if let (false, Some(prefix)) = (has_name, prefix) {
            let mut cut = prefix.len().min(MAX_GENERATED_PREFIX);
            while !prefix.is_char_boundary(cut) {
                cut -= 1;
            }
            meta.insert(
                "name".into(),
                Value::String(format!("{}{GENERATED_SUFFIX}", &prefix[..cut])),
            );
        }
    }
    if kind == Kind::Job {
        generate_selector(obj, shared_labels);
    }
}

/// `generateSelector` of the Job strategy: the four labels unless the user set the key,
/// and the controller-uid in `selector.matchLabels`. With `shared_labels` the defaulting
/// made `metadata.labels` the very map of the template's labels (Go assigns the map, and
/// the conversion to the internal type keeps it), so the generated labels land in both and
/// `ValidateObjectMeta` checks them under `metadata.labels` too.
fn generate_selector(obj: &mut Map<String, Value>, shared_labels: bool) {
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let uid = PLACEHOLDER_UID;
    let Some(spec) = child_object(obj, "spec") else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let mut generated = None;
    if let Some(labels) = child_object(spec, "template")
        .and_then(|t| child_object(t, "metadata"))
        .and_then(|m| child_object(m, "labels"))
    {
        for key in ["job-name", "batch.kubernetes.io/job-name"] {
            labels
                .entry(key.to_string())
                .or_insert_with(|| Value::String(name.clone()));
        }
        for key in ["controller-uid", "batch.kubernetes.io/controller-uid"] {
            labels.entry(key.to_string()).or_insert_with(|| Value::from(uid));
        }
        generated = Some(labels.clone());
    }
    if let Some(match_labels) = child_object(spec, "selector").and_then(|s| child_object(s, "matchLabels")) {
        match_labels
            .entry("batch.kubernetes.io/controller-uid".to_string())
            .or_insert_with(|| Value::from(uid));
    }
    if let (true, Some(labels)) = (shared_labels, generated) {
        if let Some(meta) = child_object(obj, "metadata") {
            meta.insert("labels".into(), Value::Object(labels));
        }
    }
}

/// `SetDefaults_Job`, in its order.
fn job_spec(spec: &mut Map<String, Value>) {
    let present = |spec: &Map<String, Value>, k: &str| spec.get(k).is_some_and(|v| !v.is_null());
    if !present(spec, "completions") && !present(spec, "parallelism") {
        spec.insert("completions".into(), Value::from(1));
        spec.insert("parallelism".into(), Value::from(1));
    }
    set_if_absent(spec, "parallelism", Value::from(1));
    let backoff = if present(spec, "backoffLimitPerIndex") {
        i64::from(i32::MAX)
    } else {
        6
    };
    set_if_absent(spec, "backoffLimit", Value::from(backoff));
    set_if_absent(spec, "completionMode", Value::from("NonIndexed"));
    set_if_absent(spec, "suspend", Value::Bool(false));
    if let Some(rules) = spec
        .get_mut("podFailurePolicy")
        .and_then(|p| p.get_mut("rules"))
        .and_then(Value::as_array_mut)
    {
        for rule in rules {
            if let Some(patterns) = rule.get_mut("onPodConditions").and_then(Value::as_array_mut) {
                for pattern in patterns.iter_mut().filter_map(Value::as_object_mut) {
                    set_if_unset_str(pattern, "status", "True");
                }
            }
        }
    }
    let replacement = if present(spec, "podFailurePolicy") {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    set_if_absent(spec, "podReplacementPolicy", Value::from(replacement));
    set_if_absent(spec, "manualSelector", Value::Bool(false));
}

/// The core v1 defaults a pod template gets (`SetDefaults_PodSpec`, `SetDefaults_Container`
/// and friends, and the declarative `+default` markers); Pod-only defaults are not applied
/// to templates. Then the fields of features that are off in v1.32 are dropped.
/// The object at `key`, created when absent or null; `None` when something else is there
/// (a type error the decoder reports).
pub(super) fn child_object<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    let slot = parent.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

pub(super) fn set_if_absent(map: &mut Map<String, Value>, key: &str, value: Value) {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = value;
    }
}

/// For Go integer fields that are not pointers, which defaulting tests for zero.
pub(super) fn set_if_zero(map: &mut Map<String, Value>, key: &str, value: i64) {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() || slot.as_i64() == Some(0) || slot.as_f64() == Some(0.0) {
        *slot = Value::from(value);
    }
}

/// For Go string fields that are not pointers: `""` counts as unset too.
pub(super) fn set_if_unset_str(map: &mut Map<String, Value>, key: &str, value: &str) {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() || slot.as_str() == Some("") {
        *slot = Value::String(value.to_string());
    }
}

#[cfg(test)]
mod tests;
