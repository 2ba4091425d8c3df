//! Volumes: `ValidateVolumes`, `validateVolumeSource` and the common sources' own rules
//! (the less common ones are in `sources.rs`, mounts in `mounts.rs`).

use std::collections::HashSet;

use serde_json::Value;

use super::super::names;
use super::sources::{azure_disk, claim_template, csi, fc, flocker, iscsi, quobyte, storageos};
use super::{containers, entries, formats, int, items, resources, s, sub, Volume, VOLUME};
use crate::apiserver::field::{quote, Errs, FieldPath};
use crate::apiserver::quantity;

/// `ValidateVolumes`: each volume's source and name; only a volume without any error is
/// known to the containers (its mounts of an invalid one are "Not found").
pub(super) fn volumes<'a>(list: &'a [Value], p: &FieldPath, errs: &mut Errs) -> Vec<Volume<'a>> {
    let mut known: Vec<Volume<'a>> = Vec::new();
    for (i, vol) in list.iter().enumerate() {
        let vp = p.index(i);
        let name = s(vol, "name");
        let mut own = Errs::default();
        volume_source(vol, name, &vp, &mut own);
        let name_p = vp.child("name");
        if name.is_empty() {
            own.required(VOLUME, &name_p, "");
        } else {
            for m in names::dns1123_label(name) {
                own.invalid(VOLUME, &name_p, &quote(name), &m);
            }
        }
        if known.iter().any(|v| v.name == name) {
            own.duplicate(VOLUME, &name_p, &quote(name));
        }
        if own.0.is_empty() {
            known.push(Volume { name, source: vol });
        } else {
            errs.0.extend(own.0);
        }
    }
    known
}

/// How `validateVolumeSource` names each source, in its order: the JSON key, the name of
/// its "more than 1 volume type" error (Go spells two differently) and the name its own
/// checks use (`persistentDisk` for GCE, `cephfs`).
const SOURCES: &[(&str, &str, &str)] = &[
    ("emptyDir", "emptyDir", "emptyDir"),
    ("hostPath", "hostPath", "hostPath"),
    ("gitRepo", "gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk", "persistentDisk"),
    (
        "awsElasticBlockStore",
        "awsElasticBlockStore",
        "awsElasticBlockStore",
    ),
    ("secret", "secret", "secret"),
    ("nfs", "nfs", "nfs"),
    ("iscsi", "iscsi", "iscsi"),
    ("glusterfs", "glusterfs", "glusterfs"),
    ("flocker", "flocker", "flocker"),
    (
        "persistentVolumeClaim",
        "persistentVolumeClaim",
        "persistentVolumeClaim",
    ),
    ("rbd", "rbd", "rbd"),
    ("cinder", "cinder", "cinder"),
    ("cephfs", "cephFS", "cephfs"),
    ("quobyte", "quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI", "downwardAPI"),
    ("fc", "fc", "fc"),
    ("flexVolume", "flexVolume", "flexVolume"),
    ("configMap", "configMap", "configMap"),
    ("azureFile", "azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume", "vsphereVolume"),
    (
        "photonPersistentDisk",
        "photonPersistentDisk",
        "photonPersistentDisk",
    ),
    ("portworxVolume", "portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk", "azureDisk"),
    ("storageos", "storageos", "storageos"),
    ("projected", "projected", "projected"),
    ("scaleIO", "scaleIO", "scaleIO"),
    ("csi", "csi", "csi"),
    ("ephemeral", "ephemeral", "ephemeral"),
    ("image", "image", "image"),
];

/// `validateVolumeSource`: exactly one source, checked by its own rules.
fn volume_source(vol: &Value, name: &str, p: &FieldPath, errs: &mut Errs) {
    let mut count = 0;
    for (key, extra_name, inner_name) in SOURCES {
        let Some(src) = sub(vol, key) else {
            continue;
        };
        if count > 0 {
            let fp = p.alias(extra_name, std::slice::from_ref(key));
            errs.forbidden(VOLUME, &fp, "may not specify more than 1 volume type");
            continue;
        }
        count += 1;
        let sp = p.alias(inner_name, std::slice::from_ref(key));
        match *key {
            "emptyDir" => empty_dir(src, &sp, errs),
            "hostPath" => host_path(src, &sp, errs),
            "gitRepo" => {
                required(src, "repository", &sp, errs);
                local_descending_path(s(src, "directory"), &sp.child("directory"), errs);
            }
            "gcePersistentDisk" => {
                required(src, "pdName", &sp, errs);
                partition(src, &sp, errs);
            }
            "awsElasticBlockStore" => {
                required(src, "volumeID", &sp, errs);
                partition(src, &sp, errs);
            }
            "secret" => {
                required(src, "secretName", &sp, errs);
                file_mode(src, "defaultMode", &sp, errs);
                key_to_paths(src, &sp, errs);
            }
            "nfs" => {
                required(src, "server", &sp, errs);
                required(src, "path", &sp, errs);
                let path = s(src, "path");
                if !path.starts_with('/') {
                    errs.invalid(
                        VOLUME,
                        &sp.child("path"),
                        &quote(path),
                        "must be an absolute path",
                    );
                }
            }
            "iscsi" => iscsi(src, name, p, &sp, errs),
            "glusterfs" => {
                required(src, "endpoints", &sp, errs);
                required(src, "path", &sp, errs);
            }
            "flocker" => flocker(src, &sp, errs),
            "persistentVolumeClaim" => required(src, "claimName", &sp, errs),
            "rbd" => {
                monitors(src, &sp, errs);
                required(src, "image", &sp, errs);
            }
            "cinder" => {
                required(src, "volumeID", &sp, errs);
                secret_ref_name(src, &sp, errs);
            }
            "cephfs" => monitors(src, &sp, errs),
            "quobyte" => quobyte(src, &sp, errs),
            "downwardAPI" => {
                file_mode(src, "defaultMode", &sp, errs);
                for file in items(src, "items") {
                    downward_api_file(file, &sp, errs);
                }
            }
            "fc" => fc(src, &sp, errs),
            "flexVolume" => {
                required(src, "driver", &sp, errs);
                let op = sp.child("options");
                for (k, _) in entries(sub(src, "options")) {
                    let namespace = k.split_once('/').map_or(k.as_str(), |(ns, _)| ns);
                    let normalized = format!(".{}", namespace.to_lowercase());
                    if normalized.ends_with(".kubernetes.io") || normalized.ends_with(".k8s.io") {
                        errs.invalid(
                            VOLUME,
                            &op.key(k),
                            &quote(k),
                            "kubernetes.io and k8s.io namespaces are reserved",
                        );
                    }
                }
            }
            "configMap" => {
                required(src, "name", &sp, errs);
                file_mode(src, "defaultMode", &sp, errs);
                key_to_paths(src, &sp, errs);
            }
            "azureFile" => {
                required(src, "secretName", &sp, errs);
                required(src, "shareName", &sp, errs);
            }
            "vsphereVolume" => required(src, "volumePath", &sp, errs),
            "photonPersistentDisk" => required(src, "pdID", &sp, errs),
            "portworxVolume" => required(src, "volumeID", &sp, errs),
            "azureDisk" => azure_disk(src, &sp, errs),
            "storageos" => storageos(src, &sp, errs),
            "projected" => projected(src, &sp, errs),
            "scaleIO" => {
                for key in ["gateway", "system", "volumeName"] {
                    required(src, key, &sp, errs);
                }
            }
            "csi" => csi(src, &sp, errs),
            "ephemeral" => match sub(src, "volumeClaimTemplate") {
                None => errs.required(VOLUME, &sp.child("volumeClaimTemplate"), ""),
                Some(t) => claim_template(t, &sp.child("volumeClaimTemplate"), errs),
            },
            // Image volumes are dropped before validation (`ImageVolume` is off in v1.32).
            _ => {}
        }
    }
    if count == 0 {
        errs.required(VOLUME, p, "must specify a volume type");
    }
}

/// An `emptyDir` size limit may not be negative.
fn empty_dir(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let negative = sub(src, "sizeLimit")
        .and_then(quantity::from_json)
        .is_some_and(|q| q.is_negative());
    if negative {
        errs.forbidden(
            VOLUME,
            &p.child("sizeLimit"),
            "SizeLimit field must be a valid resource quantity",
        );
    }
}

/// Ceph sources need their monitors.
fn monitors(src: &Value, p: &FieldPath, errs: &mut Errs) {
    if items(src, "monitors").is_empty() {
        errs.required(VOLUME, &p.child("monitors"), "");
    }
}

pub(super) fn required(src: &Value, key: &str, p: &FieldPath, errs: &mut Errs) {
    if s(src, key).is_empty() {
        errs.required(VOLUME, &p.child(key), "");
    }
}

/// A `secretRef` given must name its secret.
pub(super) fn secret_ref_name(src: &Value, p: &FieldPath, errs: &mut Errs) {
    if let Some(r) = sub(src, "secretRef") {
        if s(r, "name").is_empty() {
            let rp = p.child("secretRef");
            errs.required(VOLUME, &rp.child("name"), "");
        }
    }
}

/// The GCE and AWS disk `partition`: 0 to 255 (the message says 1, as upstream's does).
fn partition(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let part = int(src, "partition").unwrap_or(0);
    if !(0..=255).contains(&part) {
        errs.invalid(
            VOLUME,
            &p.child("partition"),
            &part.to_string(),
            &formats::inclusive_range(1, 255),
        );
    }
}

const FILE_MODE_MESSAGE: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// A file mode (`defaultMode`, `mode`): 0 to 0777.
fn file_mode(src: &Value, key: &str, p: &FieldPath, errs: &mut Errs) {
    if let Some(mode) = int(src, key).filter(|m| !(0..=0o777).contains(m)) {
        errs.invalid(VOLUME, &p.child(key), &mode.to_string(), FILE_MODE_MESSAGE);
    }
}

/// `validateHostPathVolumeSource`.
fn host_path(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let path = s(src, "path");
    if path.is_empty() {
        errs.required(VOLUME, &p.child("path"), "");
        return;
    }
    no_backsteps(path, &p.child("path"), errs);
    if let Some(t) = sub(src, "type").and_then(Value::as_str) {
        const TYPES: &[&str] = &[
            "",
            "BlockDevice",
            "CharDevice",
            "Directory",
            "DirectoryOrCreate",
            "File",
            "FileOrCreate",
            "Socket",
        ];
        if !TYPES.contains(&t) {
            errs.not_supported(VOLUME, &p.child("type"), &quote(t), TYPES);
        }
    }
}

/// `validatePathNoBacksteps`: no `..` element.
fn no_backsteps(path: &str, p: &FieldPath, errs: &mut Errs) -> bool {
    let found = path.split('/').any(|e| e == "..");
    if found {
        errs.invalid(VOLUME, p, &quote(path), "must not contain '..'");
    }
    found
}

/// `validateLocalDescendingPath`: relative, without `..` elements.
pub(super) fn local_descending_path(path: &str, p: &FieldPath, errs: &mut Errs) {
    if path.starts_with('/') {
        errs.invalid(VOLUME, p, &quote(path), "must be a relative path");
    }
    no_backsteps(path, p, errs);
}

/// `ValidateLocalNonReservedPath`: also not starting with `..` (unless `../`, already said).
fn local_non_reserved_path(path: &str, p: &FieldPath, errs: &mut Errs) {
    local_descending_path(path, p, errs);
    if path.starts_with("..") && !path.starts_with("../") {
        errs.invalid(VOLUME, p, &quote(path), "must not start with '..'");
    }
}

/// `validateKeyToPath` of each item.
fn key_to_paths(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let ip = p.child("items");
    for (i, kp) in items(src, "items").iter().enumerate() {
        key_to_path(kp, &ip.index(i), errs);
    }
}

fn key_to_path(kp: &Value, p: &FieldPath, errs: &mut Errs) {
    required(kp, "key", p, errs);
    required(kp, "path", p, errs);
    local_non_reserved_path(s(kp, "path"), &p.child("path"), errs);
    file_mode(kp, "mode", p, errs);
}

/// The field paths a downward API volume file may name, sorted.
const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

/// `validateDownwardAPIVolumeFile`; Go reports at the source's path, not the item's.
fn downward_api_file(file: &Value, p: &FieldPath, errs: &mut Errs) {
    required(file, "path", p, errs);
    local_non_reserved_path(s(file, "path"), &p.child("path"), errs);
    match (sub(file, "fieldRef"), sub(file, "resourceFieldRef")) {
        (Some(f), r) => {
            containers::object_field_selector(f, VOLUME_FIELD_PATHS, &p.child("fieldRef"), VOLUME, errs);
            if r.is_some() {
                errs.invalid(
                    VOLUME,
                    p,
                    "\"resource\"",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                );
            }
        }
        (None, Some(r)) => {
            resources::resource_field_selector(r, true, &p.child("resourceFieldRef"), VOLUME, errs)
        }
        (None, None) => errs.required(VOLUME, p, "one of fieldRef and resourceFieldRef is required"),
    }
    file_mode(file, "mode", p, errs);
}

/// `validateProjectedVolumeSource` and `validateProjectionSources`.
fn projected(src: &Value, p: &FieldPath, errs: &mut Errs) {
    file_mode(src, "defaultMode", p, errs);
    let mut paths: HashSet<&str> = HashSet::new();
    let sources_p = p.child("sources");
    for (i, source) in items(src, "sources").iter().enumerate() {
        let srcp = sources_p.index(i);
        let mut count = 0;
        for key in ["secret", "configMap"] {
            let Some(inner) = sub(source, key) else {
                continue;
            };
            count += 1;
            let pp = srcp.child(key);
            required(inner, "name", &pp, errs);
            let items_p = pp.child("items");
            for (j, kp) in items(inner, "items").iter().enumerate() {
                key_to_path(kp, &items_p.index(j), errs);
                let path = s(kp, "path");
                if !path.is_empty() && !paths.insert(path) {
                    errs.invalid(VOLUME, p, &quote(s(inner, "name")), "conflicting duplicate paths");
                }
            }
        }
        if let Some(inner) = sub(source, "downwardAPI") {
            count += 1;
            let pp = srcp.child("downwardAPI");
            for file in items(inner, "items") {
                downward_api_file(file, &pp, errs);
                let path = s(file, "path");
                if !path.is_empty() && !paths.insert(path) {
                    errs.invalid(VOLUME, p, &quote(path), "conflicting duplicate paths");
                }
            }
        }
        if let Some(inner) = sub(source, "serviceAccountToken") {
            count += 1;
            let pp = srcp.child("serviceAccountToken");
            let exp = int(inner, "expirationSeconds").unwrap_or(0);
            if exp < 10 * 60 {
                errs.invalid(
                    VOLUME,
                    &pp.child("expirationSeconds"),
                    &exp.to_string(),
                    "may not specify a duration less than 10 minutes",
                );
            }
            if exp > 1 << 32 {
                errs.invalid(
                    VOLUME,
                    &pp.child("expirationSeconds"),
                    &exp.to_string(),
                    "may not specify a duration larger than 2^32 seconds",
                );
            }
            // Go reports the token's path at the projected source's own `path`.
            let path_p = p.alias("path", &["sources"]);
            let path = s(inner, "path");
            if path.is_empty() {
                errs.required(VOLUME, &path_p, "");
            } else {
                local_non_reserved_path(path, &path_p, errs);
            }
        }
        if count > 1 {
            errs.forbidden(
                VOLUME,
                &srcp,
                "may not specify more than 1 volume type per source",
            );
        }
    }
}
