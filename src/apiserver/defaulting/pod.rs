//! The core v1 defaults of a pod template, and the fields of features that are off in v1.32.

use serde_json::{Map, Value};

use super::{child_object, set_if_absent, set_if_unset_str, set_if_zero};

pub(super) fn pod_template(template: &mut Map<String, Value>) {
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
pub(super) fn image_tag(image: &str) -> &str {
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
