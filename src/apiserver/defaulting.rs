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
fn pod_template(template: &mut Map<String, Value>) {
    let Some(pod) = child_object(template, "spec") else {
        return;
    };
    set_if_unset_str(pod, "restartPolicy", "Always");
    set_if_absent(pod, "terminationGracePeriodSeconds", Value::from(30));
    set_if_unset_str(pod, "dnsPolicy", "ClusterFirst");
    set_if_absent(pod, "securityContext", Value::Object(Map::new()));
    set_if_unset_str(pod, "schedulerName", "default-scheduler");
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        if let Some(list) = pod.get_mut(key).and_then(Value::as_array_mut) {
            for c in list.iter_mut().filter_map(Value::as_object_mut) {
                container(c);
            }
        }
    }
    if let Some(volumes) = pod.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in volumes.iter_mut().filter_map(Value::as_object_mut) {
            volume(v);
        }
    }
    drop_disabled(pod);
}

/// The sources a volume may have (`VolumeSource`'s fields).
const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// `SetDefaults_Volume` (no source: `emptyDir: {}`) and the defaults of its source.
fn volume(v: &mut Map<String, Value>) {
    if VOLUME_SOURCES
        .iter()
        .all(|k| v.get(*k).is_none_or(Value::is_null))
    {
        v.insert("emptyDir".into(), Value::Object(Map::new()));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(src) = v.get_mut(key).and_then(Value::as_object_mut) {
            // 0644.
            set_if_absent(src, "defaultMode", Value::from(420));
        }
    }
    if let Some(src) = v.get_mut("downwardAPI").and_then(Value::as_object_mut) {
        downward_api_items(src);
    }
    if let Some(sources) = v
        .get_mut("projected")
        .and_then(|p| p.get_mut("sources"))
        .and_then(Value::as_array_mut)
    {
        for src in sources.iter_mut() {
            if let Some(token) = src.get_mut("serviceAccountToken").and_then(Value::as_object_mut) {
                set_if_absent(token, "expirationSeconds", Value::from(3600));
            }
            if let Some(d) = src.get_mut("downwardAPI").and_then(Value::as_object_mut) {
                downward_api_items(d);
            }
        }
    }
    if let Some(src) = v.get_mut("hostPath").and_then(Value::as_object_mut) {
        set_if_absent(src, "type", Value::from(""));
    }
    if let Some(src) = v.get_mut("azureDisk").and_then(Value::as_object_mut) {
        set_if_absent(src, "cachingMode", Value::from("ReadWrite"));
        set_if_absent(src, "fsType", Value::from("ext4"));
        set_if_absent(src, "readOnly", Value::Bool(false));
        set_if_absent(src, "kind", Value::from("Shared"));
    }
    if let Some(src) = v.get_mut("iscsi").and_then(Value::as_object_mut) {
        set_if_unset_str(src, "iscsiInterface", "default");
    }
    if let Some(src) = v.get_mut("rbd").and_then(Value::as_object_mut) {
        set_if_unset_str(src, "pool", "rbd");
        set_if_unset_str(src, "user", "admin");
        set_if_unset_str(src, "keyring", "/etc/ceph/keyring");
    }
    if let Some(src) = v.get_mut("scaleIO").and_then(Value::as_object_mut) {
        set_if_unset_str(src, "storageMode", "ThinProvisioned");
        set_if_unset_str(src, "fsType", "xfs");
    }
    if let Some(spec) = v
        .get_mut("ephemeral")
        .and_then(|e| e.get_mut("volumeClaimTemplate"))
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        set_if_absent(spec, "volumeMode", Value::from("Filesystem"));
    }
}

fn downward_api_items(src: &mut Map<String, Value>) {
    if let Some(items) = src.get_mut("items").and_then(Value::as_array_mut) {
        for item in items.iter_mut() {
            if let Some(f) = item.get_mut("fieldRef").and_then(Value::as_object_mut) {
                set_if_unset_str(f, "apiVersion", "v1");
            }
        }
    }
}

/// Whether a pod template holds a field of a feature that is off in v1.32, which
/// `PrepareForCreate` drops (`dropDisabledFields`): an object that went through an API
/// server never does.
pub fn has_disabled_pod_fields(template: &Value) -> bool {
    let Some(pod) = template.get("spec") else {
        return false;
    };
    let set = |v: &Value, key: &str| v.get(key).is_some_and(|x| !x.is_null());
    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| pod.get(*k).and_then(Value::as_array))
        .flatten();
    set(pod, "hostUsers")
        || set(pod, "resources")
        || set(pod, "resourceClaims")
        || pod
            .get("securityContext")
            .is_some_and(|sc| set(sc, "supplementalGroupsPolicy") || set(sc, "seLinuxChangePolicy"))
        || pod.get("volumes").and_then(Value::as_array).is_some_and(|vs| {
            vs.iter().any(|v| {
                set(v, "image")
                    || v.get("projected")
                        .and_then(|p| p.get("sources"))
                        .and_then(Value::as_array)
                        .is_some_and(|ss| ss.iter().any(|s| set(s, "clusterTrustBundle")))
            })
        })
        || containers.into_iter().any(|c| {
            set(c, "resizePolicy")
                || c.get("resources").is_some_and(|r| set(r, "claims"))
                || c.get("securityContext")
                    .and_then(|sc| sc.get("procMount"))
                    .is_some_and(|pm| !pm.is_null() && pm.as_str() != Some("Default"))
        })
}

/// `dropDisabledFields` of a pod template (see [`has_disabled_pod_fields`]).
pub fn drop_disabled_pod_fields(template: &mut Value) {
    if let Some(pod) = template.get_mut("spec").and_then(Value::as_object_mut) {
        drop_disabled(pod);
    }
}

/// The gates off in v1.32 whose fields a create drops: `UserNamespacesSupport` (hostUsers),
/// `SupplementalGroupsPolicy`, `SELinuxChangePolicy`, `PodLevelResources`,
/// `DynamicResourceAllocation` (resource claims), `ClusterTrustBundleProjection`,
/// `InPlacePodVerticalScaling` (resizePolicy), `ImageVolume` (image volumes and the mounts
/// of them), and `ProcMountType` (a set procMount becomes `Default`).
fn drop_disabled(pod: &mut Map<String, Value>) {
    pod.remove("hostUsers");
    pod.remove("resources");
    pod.remove("resourceClaims");
    if let Some(sc) = pod.get_mut("securityContext").and_then(Value::as_object_mut) {
        sc.remove("supplementalGroupsPolicy");
        sc.remove("seLinuxChangePolicy");
    }
    let mut image_volumes: Vec<String> = Vec::new();
    if let Some(volumes) = pod.get_mut("volumes").and_then(Value::as_array_mut) {
        volumes.retain(|v| {
            let image = v.get("image").is_some_and(|i| !i.is_null());
            if image {
                image_volumes.push(
                    v.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                );
            }
            !image
        });
        for v in volumes.iter_mut() {
            if let Some(sources) = v
                .get_mut("projected")
                .and_then(|p| p.get_mut("sources"))
                .and_then(Value::as_array_mut)
            {
                for src in sources.iter_mut().filter_map(Value::as_object_mut) {
                    src.remove("clusterTrustBundle");
                }
            }
        }
    }
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(list) = pod.get_mut(key).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in list.iter_mut().filter_map(Value::as_object_mut) {
            c.remove("resizePolicy");
            if let Some(r) = c.get_mut("resources").and_then(Value::as_object_mut) {
                r.remove("claims");
            }
            if let Some(sc) = c.get_mut("securityContext").and_then(Value::as_object_mut) {
                if sc.get("procMount").is_some_and(|pm| !pm.is_null()) {
                    sc.insert("procMount".into(), Value::from("Default"));
                }
            }
            if !image_volumes.is_empty() {
                if let Some(mounts) = c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                    mounts.retain(|m| {
                        let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
                        !image_volumes.iter().any(|v| v == name)
                    });
                }
            }
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let policy = if image_tag(image) == "latest" {
        "Always"
    } else {
        "IfNotPresent"
    };
    set_if_unset_str(c, "imagePullPolicy", policy);
    set_if_unset_str(c, "terminationMessagePath", "/dev/termination-log");
    set_if_unset_str(c, "terminationMessagePolicy", "File");
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_if_unset_str(port, "protocol", "TCP");
        }
    }
    for probe_key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = c.get_mut(probe_key).and_then(Value::as_object_mut) {
            // `SetDefaults_Probe` tests for zero, which an absent field also is.
            set_if_zero(probe, "timeoutSeconds", 1);
            set_if_zero(probe, "periodSeconds", 10);
            set_if_zero(probe, "successThreshold", 1);
            set_if_zero(probe, "failureThreshold", 3);
            if let Some(http) = probe.get_mut("httpGet").and_then(Value::as_object_mut) {
                set_if_unset_str(http, "path", "/");
                set_if_unset_str(http, "scheme", "HTTP");
            }
        }
    }
    if let Some(lifecycle) = c.get_mut("lifecycle").and_then(Value::as_object_mut) {
        for hook in ["postStart", "preStop"] {
            if let Some(http) = lifecycle
                .get_mut(hook)
                .and_then(|h| h.get_mut("httpGet"))
                .and_then(Value::as_object_mut)
            {
                set_if_unset_str(http, "path", "/");
                set_if_unset_str(http, "scheme", "HTTP");
            }
        }
    }
    if let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) {
        for var in env.iter_mut() {
            if let Some(field_ref) = var
                .get_mut("valueFrom")
                .and_then(|v| v.get_mut("fieldRef"))
                .and_then(Value::as_object_mut)
            {
                set_if_unset_str(field_ref, "apiVersion", "v1");
            }
        }
    }
}

/// The tag `parsers.ParseImageName` reports: `latest` when there is neither tag nor
/// digest, `""` with only a digest or for an empty image.
fn image_tag(image: &str) -> &str {
    if image.is_empty() {
        return "";
    }
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(i) => &name[last_slash + i + 1..],
        None if digest => "",
        None => "latest",
    }
}

/// The object at `key`, created when absent or null; `None` when something else is there
/// (a type error the decoder reports).
fn child_object<'a>(parent: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    let slot = parent.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

fn set_if_absent(map: &mut Map<String, Value>, key: &str, value: Value) {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = value;
    }
}

/// For Go integer fields that are not pointers, which defaulting tests for zero.
fn set_if_zero(map: &mut Map<String, Value>, key: &str, value: i64) {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() || slot.as_i64() == Some(0) || slot.as_f64() == Some(0.0) {
        *slot = Value::from(value);
    }
}

/// For Go string fields that are not pointers: `""` counts as unset too.
fn set_if_unset_str(map: &mut Map<String, Value>, key: &str, value: &str) {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() || slot.as_str() == Some("") {
        *slot = Value::String(value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_a_bare_job() {
        let mut job = json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
        apply_defaults(Kind::Job, &mut job);
        let spec = &job["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(spec["manualSelector"], false);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
    }

    #[test]
    fn keeps_completions_nil_when_only_parallelism_is_set() {
        let mut job = json!({"spec": {"parallelism": 3}});
        apply_defaults(Kind::Job, &mut job);
        assert!(job["spec"].get("completions").is_none());
    }

    #[test]
    fn defaults_empty_plain_strings_but_not_pointer_strings() {
        let mut job = json!({"spec": {"completionMode": "", "podReplacementPolicy": "", "template": {"spec": {"restartPolicy": ""}}}});
        apply_defaults(Kind::Job, &mut job);
        assert_eq!(job["spec"]["completionMode"], "");
        assert_eq!(job["spec"]["podReplacementPolicy"], "");
        assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Always");
        let mut cj = json!({"spec": {"concurrencyPolicy": ""}});
        apply_defaults(Kind::CronJob, &mut cj);
        assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
    }

    #[test]
    fn defaults_condition_status_for_jobs_only() {
        let pfp = json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]});
        let mut job = json!({"spec": {"podFailurePolicy": pfp.clone()}});
        apply_defaults(Kind::Job, &mut job);
        assert_eq!(
            job["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
            "True"
        );
        assert_eq!(job["spec"]["podReplacementPolicy"], "Failed");
        let mut cj = json!({"spec": {"jobTemplate": {"spec": {"podFailurePolicy": pfp}}}});
        apply_defaults(Kind::CronJob, &mut cj);
        let pattern =
            &cj["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0];
        assert!(pattern.get("status").is_none());
        assert!(cj["spec"]["jobTemplate"]["spec"].get("backoffLimit").is_none());
    }

    #[test]
    fn copies_template_labels_to_the_job() {
        let mut job = json!({"metadata": {}, "spec": {"template": {"metadata": {"labels": {"app": "x"}}}}});
        apply_defaults(Kind::Job, &mut job);
        assert_eq!(job["metadata"]["labels"], json!({"app": "x"}));
    }

    #[test]
    fn generates_name_and_selector() {
        let prefix = "p".repeat(60);
        let mut job = json!({"metadata": {"generateName": prefix}, "spec": {"template": {"metadata": {"labels": {"job-name": "mine"}}}}});
        prepare_for_create(Kind::Job, &mut job);
        let name = job["metadata"]["name"].as_str().expect("generated");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("xxxxx"));
        let labels = &job["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["job-name"], "mine");
        assert_eq!(labels["batch.kubernetes.io/job-name"], name);
        assert_eq!(labels["controller-uid"], PLACEHOLDER_UID);
        assert_eq!(
            job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            PLACEHOLDER_UID
        );
    }

    #[test]
    fn leaves_manual_selectors_alone() {
        let mut job = json!({"metadata": {"name": "j"}, "spec": {"manualSelector": true, "selector": {"matchLabels": {"app": "x"}}}});
        prepare_for_create(Kind::Job, &mut job);
        assert_eq!(job["spec"]["selector"], json!({"matchLabels": {"app": "x"}}));
    }

    /// What the webhook receives has been through the API server already: defaulting it
    /// again changes nothing.
    #[test]
    fn defaulting_a_prepared_object_changes_nothing() {
        for labels in [json!(null), json!({}), json!({"app": "x"})] {
            let mut job = json!({"metadata": {"name": "j"}, "spec": {"template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "a:1"}]}}}});
            prepare_for_create(Kind::Job, &mut job);
            let once = job.clone();
            apply_defaults(Kind::Job, &mut job);
            assert_eq!(job, once);
        }
    }

    /// `FillObjectMetaSystemFields` gives every created object a new UID, so a UID in the
    /// manifest (an exported Job) never reaches the generated labels and selector.
    #[test]
    fn a_manifest_uid_is_replaced() {
        let mut job = json!({"metadata": {"name": "j", "uid": "u-1"}, "spec": {
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
            "template": {"metadata": {"labels": {"controller-uid": "u-1"}}}}});
        prepare_for_create(Kind::Job, &mut job);
        assert_eq!(job["metadata"]["uid"], PLACEHOLDER_UID);
        let labels = &job["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["batch.kubernetes.io/controller-uid"], PLACEHOLDER_UID);
        assert_eq!(labels["controller-uid"], "u-1", "a label the user set is kept");
    }

    /// `SetDefaults_Job` assigns the template's label map to empty `metadata.labels`, so
    /// the labels `generateSelector` adds to the template show up there too; without
    /// template labels there is nothing to share.
    #[test]
    fn generated_labels_reach_metadata_labels_only_when_the_map_is_shared() {
        let generated = [
            "job-name",
            "batch.kubernetes.io/job-name",
            "controller-uid",
            "batch.kubernetes.io/controller-uid",
        ];
        for (meta_labels, template_labels, shared) in [
            (json!(null), json!({"app": "x"}), true),
            (json!({}), json!({}), true),
            (json!(null), json!(null), false),
            (json!({"team": "a"}), json!({"app": "x"}), false),
        ] {
            let mut job = json!({"metadata": {"name": "j", "labels": meta_labels}, "spec": {"template": {
                "metadata": {"labels": template_labels}}}});
            prepare_for_create(Kind::Job, &mut job);
            let labels = &job["metadata"]["labels"];
            for key in generated {
                assert_eq!(labels.get(key).is_some(), shared, "{key} in {labels}");
            }
        }
    }

    #[test]
    fn reads_image_tags() {
        assert_eq!(image_tag("busybox"), "latest");
        assert_eq!(image_tag("busybox:1.36"), "1.36");
        assert_eq!(image_tag("localhost:5000/app"), "latest");
        assert_eq!(image_tag("app@sha256:abc"), "");
        assert_eq!(image_tag("app:latest"), "latest");
    }

    fn pod_of(spec: Value) -> Value {
        let mut job = json!({"spec": {"template": {"spec": spec}}});
        apply_defaults(Kind::Job, &mut job);
        job["spec"]["template"]["spec"].clone()
    }

    #[test]
    fn gives_a_volume_without_a_source_an_empty_dir() {
        let pod =
            pod_of(json!({"volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]}));
        assert_eq!(pod["volumes"][0]["emptyDir"], json!({}));
        assert!(pod["volumes"][1].get("emptyDir").is_none());
        assert_eq!(pod["volumes"][1]["configMap"]["defaultMode"], 420);
    }

    #[test]
    fn defaults_probe_fields_written_as_zero() {
        let probe = json!({"exec": {"command": ["true"]}, "periodSeconds": 0, "failureThreshold": 5});
        let pod = pod_of(json!({"containers": [{"name": "c", "image": "i", "livenessProbe": probe}]}));
        let probe = &pod["containers"][0]["livenessProbe"];
        assert_eq!(probe["periodSeconds"], 10);
        assert_eq!(probe["failureThreshold"], 5);
        assert_eq!(probe["timeoutSeconds"], 1);
    }

    #[test]
    fn drops_image_volumes_with_their_mounts_and_resets_proc_mount() {
        let pod = pod_of(json!({
            "hostUsers": false,
            "volumes": [{"name": "model", "image": {"reference": "r"}}, {"name": "data", "emptyDir": {}}],
            "containers": [{"name": "c", "image": "i",
                "securityContext": {"procMount": "Unmasked"},
                "volumeMounts": [{"name": "model", "mountPath": "/m"}, {"name": "data", "mountPath": "/d"}]}]}));
        assert!(pod.get("hostUsers").is_none());
        assert_eq!(pod["volumes"], json!([{"name": "data", "emptyDir": {}}]));
        let c = &pod["containers"][0];
        assert_eq!(c["volumeMounts"], json!([{"name": "data", "mountPath": "/d"}]));
        assert_eq!(c["securityContext"]["procMount"], "Default");
    }

    #[test]
    fn tells_whether_a_template_holds_disabled_fields() {
        assert!(has_disabled_pod_fields(&json!({"spec": {"resources": {}}})));
        assert!(has_disabled_pod_fields(
            &json!({"spec": {"containers": [{"resizePolicy": []}]}})
        ));
        assert!(!has_disabled_pod_fields(
            &json!({"spec": {"containers": [{"securityContext": {"procMount": "Default"}}]}})
        ));
        assert!(!has_disabled_pod_fields(&json!({"spec": {"hostUsers": null}})));
    }

    /// The captured mutating requests carry exactly the API server's defaults for the
    /// manifests in `tests/data/admission/*.template.yaml`.
    #[test]
    fn matches_the_defaults_a_real_api_server_applied() {
        for (kind, template, capture) in [
            (Kind::Job, "job.template.yaml", "job-create.mutate.json"),
            (
                Kind::CronJob,
                "cronjob.template.yaml",
                "cronjob-create.mutate.json",
            ),
        ] {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/admission/");
            let yaml = std::fs::read_to_string(format!("{dir}{template}")).expect("template");
            let review: Value =
                serde_json::from_str(&std::fs::read_to_string(format!("{dir}{capture}")).expect("capture"))
                    .expect("json");
            let mut want = review["request"]["object"]["spec"].clone();
            strip_artifacts(&mut want);
            let docs = crate::yaml::parse_stream(&yaml);
            let mut obj = docs
                .into_iter()
                .next()
                .and_then(Result::ok)
                .and_then(|d| d.value)
                .expect("template parses");
            apply_defaults(kind, &mut obj);
            let mut got = obj["spec"].clone();
            strip_artifacts(&mut got);
            assert_eq!(got, want, "{template}");
        }
    }

    /// Serialization artifacts of the captured object that are not defaults.
    fn strip_artifacts(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("creationTimestamp");
                m.remove("resources");
                if m.get("metadata")
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty)
                {
                    m.remove("metadata");
                }
                for child in m.values_mut() {
                    strip_artifacts(child);
                }
                if m.get("metadata")
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty)
                {
                    m.remove("metadata");
                }
            }
            Value::Array(a) => a.iter_mut().for_each(strip_artifacts),
            _ => {}
        }
    }
}
