//! Volume mounts and devices: `ValidateVolumeMounts` and `ValidateVolumeDevices`.

use std::collections::HashSet;

use serde_json::Value;

use super::volumes::local_descending_path;
use super::{flag, items, s, sub, Pod, VOLUME_MOUNT};
use crate::apiserver::field::{quote, Errs, FieldPath};

/// `ValidateVolumeMounts`: each mount names a valid volume, has a unique `mountPath` that is
/// no device path, a relative `subPath` or `subPathExpr` without `..` (Go reports these two
/// at the list's path, without the index), and a known propagation.
pub(super) fn volume_mounts(c: &Value, pod: &Pod, cp: &FieldPath, errs: &mut Errs) {
    let mp = cp.child("volumeMounts");
    let devices = items(c, "volumeDevices");
    let mut mount_paths: HashSet<&str> = HashSet::new();
    for (i, m) in items(c, "volumeMounts").iter().enumerate() {
        let ip = mp.index(i);
        let name = s(m, "name");
        let path = s(m, "mountPath");
        if name.is_empty() {
            errs.required(VOLUME_MOUNT, &ip.child("name"), "");
        }
        if pod.volume(name).is_none() {
            errs.not_found(VOLUME_MOUNT, &ip.child("name"), &quote(name));
        }
        if path.is_empty() {
            errs.required(VOLUME_MOUNT, &ip.child("mountPath"), "");
        }
        if !mount_paths.insert(path) {
            errs.invalid(
                VOLUME_MOUNT,
                &ip.child("mountPath"),
                &quote(path),
                "must be unique",
            );
        }
        if devices.iter().any(|d| s(d, "name") == name) {
            errs.invalid(
                VOLUME_MOUNT,
                &ip.child("name"),
                &quote(name),
                "must not already exist in volumeDevices",
            );
        }
        if devices.iter().any(|d| s(d, "devicePath") == path) {
            errs.invalid(
                VOLUME_MOUNT,
                &ip.child("mountPath"),
                &quote(path),
                "must not already exist as a path in volumeDevices",
            );
        }
        let sub_path = s(m, "subPath");
        if !sub_path.is_empty() {
            mount_local_path(sub_path, &mp.child("subPath"), errs);
        }
        let expr = s(m, "subPathExpr");
        if !expr.is_empty() {
            if !sub_path.is_empty() {
                errs.invalid(
                    VOLUME_MOUNT,
                    &ip.child("subPathExpr"),
                    &quote(expr),
                    "subPathExpr and subPath are mutually exclusive",
                );
            }
            mount_local_path(expr, &mp.child("subPathExpr"), errs);
        }
        if let Some(prop) = sub(m, "mountPropagation").and_then(Value::as_str) {
            let pp = mp.child("mountPropagation");
            const MODES: &[&str] = &["Bidirectional", "HostToContainer", "None"];
            if !MODES.contains(&prop) {
                errs.not_supported(VOLUME_MOUNT, &pp, &quote(prop), MODES);
            }
            let privileged = sub(c, "securityContext").and_then(|sc| flag(sc, "privileged")) == Some(true);
            if prop == "Bidirectional" && !privileged {
                errs.forbidden(
                    VOLUME_MOUNT,
                    &pp,
                    "Bidirectional mount propagation is available only to privileged containers",
                );
            }
        }
        if let Some(rro) = sub(m, "recursiveReadOnly").and_then(Value::as_str) {
            let rp = mp.child("recursiveReadOnly");
            match rro {
                "Disabled" => {}
                "Enabled" | "IfPossible" => {
                    if flag(m, "readOnly") != Some(true) {
                        errs.forbidden(VOLUME_MOUNT, &rp, "may only be specified when readOnly is true");
                    }
                    if sub(m, "mountPropagation")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p != "None")
                    {
                        errs.forbidden(
                            VOLUME_MOUNT,
                            &rp,
                            "may only be specified when mountPropagation is None or not specified",
                        );
                    }
                }
                other => errs.not_supported(
                    VOLUME_MOUNT,
                    &rp,
                    &quote(other),
                    &["Disabled", "Enabled", "IfPossible"],
                ),
            }
        }
    }
}

/// `validateLocalDescendingPath` with the mount rule id.
fn mount_local_path(path: &str, p: &FieldPath, errs: &mut Errs) {
    let before = errs.0.len();
    local_descending_path(path, p, errs);
    super::retag(errs, before, VOLUME_MOUNT);
}

/// `ValidateVolumeDevices`: each device names a claim-backed volume, unique names and
/// paths, no `..`, no overlap with the mounts.
pub(super) fn volume_devices(c: &Value, pod: &Pod, cp: &FieldPath, errs: &mut Errs) {
    let dp = cp.child("volumeDevices");
    let mounts = items(c, "volumeMounts");
    let (mut dev_paths, mut dev_names): (HashSet<&str>, HashSet<&str>) = (HashSet::new(), HashSet::new());
    for (i, d) in items(c, "volumeDevices").iter().enumerate() {
        let ip = dp.index(i);
        let name = s(d, "name");
        let path = s(d, "devicePath");
        let volume = pod.volume(name);
        if name.is_empty() {
            errs.required(VOLUME_MOUNT, &ip.child("name"), "");
        }
        if dev_names.contains(name) {
            errs.invalid(VOLUME_MOUNT, &ip.child("name"), &quote(name), "must be unique");
        }
        match volume {
            Some(v)
                if sub(v.source, "persistentVolumeClaim").is_none()
                    && sub(v.source, "ephemeral").is_none() =>
            {
                errs.invalid(
                    VOLUME_MOUNT,
                    &ip.child("name"),
                    &quote(name),
                    "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
                );
            }
            Some(_) => {}
            None => errs.not_found(VOLUME_MOUNT, &ip.child("name"), &quote(name)),
        }
        if path.is_empty() {
            errs.required(VOLUME_MOUNT, &ip.child("devicePath"), "");
        }
        if dev_paths.contains(path) {
            errs.invalid(
                VOLUME_MOUNT,
                &ip.child("devicePath"),
                &quote(path),
                "must be unique",
            );
        }
        if !path.is_empty() && path.split('/').any(|e| e == "..") {
            errs.invalid(
                VOLUME_MOUNT,
                &ip.child("devicePath"),
                &quote(path),
                "can not contain backsteps ('..')",
            );
        } else {
            dev_paths.insert(path);
        }
        if mounts.iter().any(|m| s(m, "name") == name) {
            errs.invalid(
                VOLUME_MOUNT,
                &ip.child("name"),
                &quote(name),
                "must not already exist in volumeMounts",
            );
        }
        if mounts.iter().any(|m| s(m, "mountPath") == path) {
            errs.invalid(
                VOLUME_MOUNT,
                &ip.child("devicePath"),
                &quote(path),
                "must not already exist as a path in volumeMounts",
            );
        }
        if !name.is_empty() {
            dev_names.insert(name);
        }
    }
}
