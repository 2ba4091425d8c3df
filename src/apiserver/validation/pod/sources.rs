//! The less common volume sources' own rules (`validateVolumeSource` calls them): iSCSI,
//! Flocker, Quobyte, Fibre Channel, Azure Disk, StorageOS, CSI and the claim template of
//! an ephemeral volume (`ValidatePersistentVolumeClaimTemplate`).

use serde_json::Value;

use super::super::{meta, names};
use super::volumes::{required, secret_ref_name};
use super::{flag, formats, int, items, resources, s, strings, sub, VOLUME};
use crate::apiserver::field::{quote, Errs, FieldPath};

/// `validateISCSIVolumeSource` and the volume-name length it implies.
pub(super) fn iscsi(src: &Value, name: &str, vp: &FieldPath, p: &FieldPath, errs: &mut Errs) {
    let portal = s(src, "targetPortal");
    if portal.is_empty() {
        errs.required(VOLUME, &p.child("targetPortal"), "");
    }
    let iqn = s(src, "iqn");
    if iqn.is_empty() {
        errs.required(VOLUME, &p.child("iqn"), "");
    } else if !["iqn", "eui", "naa"].iter().any(|pre| iqn.starts_with(pre)) {
        errs.invalid(
            VOLUME,
            &p.child("iqn"),
            &quote(iqn),
            "must be valid format starting with iqn, eui, or naa",
        );
    } else if !iscsi_name_ok(iqn) {
        errs.invalid(VOLUME, &p.child("iqn"), &quote(iqn), "must be valid format");
    }
    let lun = int(src, "lun").unwrap_or(0);
    if !(0..=255).contains(&lun) {
        errs.invalid(
            VOLUME,
            &p.child("lun"),
            &lun.to_string(),
            &formats::inclusive_range(0, 255),
        );
    }
    let chap = flag(src, "chapAuthDiscovery") == Some(true) || flag(src, "chapAuthSession") == Some(true);
    if chap && sub(src, "secretRef").is_none() {
        errs.required(VOLUME, &p.child("secretRef"), "");
    }
    if let Some(initiator) = sub(src, "initiatorName").and_then(Value::as_str) {
        let ip = p.alias("initiatorname", &["initiatorName"]);
        if !["iqn", "eui", "naa"].iter().any(|pre| initiator.starts_with(pre)) {
            errs.invalid(
                VOLUME,
                &ip,
                &quote(initiator),
                "must be valid format starting with iqn, eui, or naa",
            );
        }
        if ["iqn", "eui", "naa"].iter().any(|pre| initiator.starts_with(pre)) && !iscsi_name_ok(initiator) {
            errs.invalid(VOLUME, &ip, &quote(initiator), "must be valid format");
        }
        if name.len() + 1 + portal.len() > 64 {
            errs.invalid(
                VOLUME,
                &vp.child("name"),
                &quote(name),
                "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.",
            );
        }
    }
}

/// The iSCSI name regexes: `iqn\.\d{4}-\d{2}\.([[:alnum:]-.]+)(:[^,;*&$|\s]+)$` (unanchored
/// at the start), `^eui.[[:alnum:]]{16}$`, `^naa.[[:alnum:]]{32}$`.
fn iscsi_name_ok(name: &str) -> bool {
    let alnum_tail = |rest: &str, n: usize| {
        let mut chars = rest.chars();
        chars.next().is_some() && {
            let tail: Vec<char> = chars.collect();
            tail.len() == n && tail.iter().all(char::is_ascii_alphanumeric)
        }
    };
    if let Some(rest) = name.strip_prefix("eui") {
        return alnum_tail(rest, 16);
    }
    if let Some(rest) = name.strip_prefix("naa") {
        return alnum_tail(rest, 32);
    }
    // Some `iqn.` followed by the date, a name, and a `:suffix` running to the end.
    name.match_indices("iqn.").any(|(i, _)| {
        let b = &name.as_bytes()[i + 4..];
        let date_ok = b.len() > 8
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && b[5..7].iter().all(u8::is_ascii_digit)
            && b[7] == b'.';
        if !date_ok {
            return false;
        }
        let rest = &name[i + 12..];
        // `([[:alnum:]-.]+)(:[^,;*&$|\s]+)$`: some colon splits it so.
        rest.match_indices(':').any(|(c, _)| {
            let (head, tail) = (&rest[..c], &rest[c + 1..]);
            !head.is_empty()
                && head
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')
                && !tail.is_empty()
                && tail
                    .chars()
                    .all(|ch| !",;*&$|".contains(ch) && !ch.is_whitespace())
        })
    })
}

/// `validateFlockerVolumeSource`.
pub(super) fn flocker(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let (name, uuid) = (s(src, "datasetName"), s(src, "datasetUUID"));
    if name.is_empty() && uuid.is_empty() {
        errs.required(VOLUME, p, "one of datasetName and datasetUUID is required");
    }
    if !name.is_empty() && !uuid.is_empty() {
        errs.invalid(
            VOLUME,
            p,
            "\"resource\"",
            "datasetName and datasetUUID can not be specified simultaneously",
        );
    }
    if name.contains('/') {
        errs.invalid(
            VOLUME,
            &p.child("datasetName"),
            &quote(name),
            "must not contain '/'",
        );
    }
}

/// `validateQuobyteVolumeSource`.
pub(super) fn quobyte(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let registry = s(src, "registry");
    let message = "must be a host:port pair or multiple pairs separated by commas";
    if registry.is_empty() {
        errs.required(VOLUME, &p.child("registry"), message);
    } else if s(src, "tenant").len() >= 65 {
        errs.required(
            VOLUME,
            &p.child("tenant"),
            "must be a UUID and may not exceed a length of 64 characters",
        );
    } else {
        for pair in registry.split(',') {
            if !host_port_ok(pair) {
                errs.invalid(VOLUME, &p.child("registry"), &quote(registry), message);
            }
        }
    }
    required(src, "volume", p, errs);
}

/// Whether Go's `net.SplitHostPort` accepts it.
fn host_port_ok(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']').is_some_and(|(host, port)| {
            !host.contains('[')
                && port
                    .strip_prefix(':')
                    .is_some_and(|p| !p.contains(':') && !p.contains(']'))
        });
    }
    match s.rsplit_once(':') {
        Some((host, port)) => !host.contains(':') && !host.contains(['[', ']']) && !port.contains(['[', ']']),
        None => false,
    }
}

/// `validateFCVolumeSource`.
pub(super) fn fc(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let wwns = strings(src, "targetWWNs");
    let wwids = items(src, "wwids");
    if wwns.is_empty() && wwids.is_empty() {
        errs.required(
            VOLUME,
            &p.child("targetWWNs"),
            "must specify either targetWWNs or wwids, but not both",
        );
    }
    if !wwns.is_empty() && !wwids.is_empty() {
        errs.invalid(
            VOLUME,
            &p.child("targetWWNs"),
            &super::go_string_slice(&wwns),
            "targetWWNs and wwids can not be specified simultaneously",
        );
    }
    if !wwns.is_empty() {
        match int(src, "lun") {
            None => errs.required(
                VOLUME,
                &p.child("lun"),
                "lun is required if targetWWNs is specified",
            ),
            Some(lun) if !(0..=255).contains(&lun) => {
                errs.invalid(
                    VOLUME,
                    &p.child("lun"),
                    &lun.to_string(),
                    &formats::inclusive_range(0, 255),
                );
            }
            Some(_) => {}
        }
    }
}

/// `validateAzureDisk`.
pub(super) fn azure_disk(src: &Value, p: &FieldPath, errs: &mut Errs) {
    required(src, "diskName", p, errs);
    let uri = s(src, "diskURI");
    if uri.is_empty() {
        errs.required(VOLUME, &p.child("diskURI"), "");
    }
    if let Some(mode) = sub(src, "cachingMode").and_then(Value::as_str) {
        if !["None", "ReadOnly", "ReadWrite"].contains(&mode) {
            errs.not_supported(
                VOLUME,
                &p.child("cachingMode"),
                &quote(mode),
                &["None", "ReadOnly", "ReadWrite"],
            );
        }
    }
    let kind = sub(src, "kind").and_then(Value::as_str);
    if let Some(kind) = kind {
        if !["Dedicated", "Managed", "Shared"].contains(&kind) {
            errs.not_supported(
                VOLUME,
                &p.child("kind"),
                &quote(kind),
                &["Dedicated", "Managed", "Shared"],
            );
        }
        if kind == "Managed" && !uri.starts_with("/subscriptions/") {
            errs.not_supported(
                VOLUME,
                &p.child("diskURI"),
                &quote(uri),
                &["/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}"],
            );
        }
        if kind != "Managed" && !uri.starts_with("https://") {
            errs.not_supported(
                VOLUME,
                &p.child("diskURI"),
                &quote(uri),
                &["https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"],
            );
        }
    }
}

/// `validateStorageOSVolumeSource`.
pub(super) fn storageos(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let name = s(src, "volumeName");
    if name.is_empty() {
        errs.required(VOLUME, &p.child("volumeName"), "");
    } else {
        for m in names::dns1123_label(name) {
            errs.invalid(VOLUME, &p.child("volumeName"), &quote(name), &m);
        }
    }
    let ns = s(src, "volumeNamespace");
    if !ns.is_empty() {
        for m in names::dns1123_label(ns) {
            errs.invalid(VOLUME, &p.child("volumeNamespace"), &quote(ns), &m);
        }
    }
    secret_ref_name(src, p, errs);
}

/// `validateCSIVolumeSource` (`ValidateCSIDriverName`; a bad secret name is reported at
/// `csi.name`, as upstream does).
pub(super) fn csi(src: &Value, p: &FieldPath, errs: &mut Errs) {
    let driver = s(src, "driver");
    let dp = p.child("driver");
    if driver.is_empty() {
        errs.required(VOLUME, &dp, "");
    }
    if driver.len() > 63 {
        errs.too_long(VOLUME, &dp, 63);
    }
    for m in names::dns1123_subdomain(&driver.to_lowercase()) {
        errs.invalid(VOLUME, &dp, &quote(driver), &m);
    }
    if let Some(r) = sub(src, "nodePublishSecretRef") {
        let name = s(r, "name");
        if name.is_empty() {
            let rp = p.child("nodePublishSecretRef");
            errs.required(VOLUME, &rp.child("name"), "");
        } else {
            let np = p.alias("name", &["nodePublishSecretRef", "name"]);
            for m in names::name_is_dns_subdomain(name, false) {
                errs.invalid(VOLUME, &np, &quote(name), &m);
            }
        }
    }
}

/// The metadata fields a claim template may not set (`validateFieldAllowList` of
/// `ObjectMeta`, in its struct order, named as Go lower-cases them).
const CLAIM_META_FORBIDDEN: &[(&str, &str)] = &[
    ("name", "name"),
    ("generateName", "generateName"),
    ("namespace", "namespace"),
    ("selfLink", "selfLink"),
    ("uid", "uID"),
    ("resourceVersion", "resourceVersion"),
    ("generation", "generation"),
    ("creationTimestamp", "creationTimestamp"),
    ("deletionTimestamp", "deletionTimestamp"),
    ("deletionGracePeriodSeconds", "deletionGracePeriodSeconds"),
    ("ownerReferences", "ownerReferences"),
    ("finalizers", "finalizers"),
    ("managedFields", "managedFields"),
];

/// `ValidatePersistentVolumeClaimTemplate` of an ephemeral volume.
pub(super) fn claim_template(t: &Value, p: &FieldPath, errs: &mut Errs) {
    let mp = p.child("metadata");
    let meta_v = sub(t, "metadata");
    let before = errs.0.len();
    meta::annotations(
        meta_v.and_then(|m| sub(m, "annotations")),
        &mp.child("annotations"),
        errs,
    );
    meta::labels(meta_v.and_then(|m| sub(m, "labels")), &mp.child("labels"), errs);
    super::retag(errs, before, VOLUME);
    if let Some(m) = meta_v {
        for (key, go_name) in CLAIM_META_FORBIDDEN {
            let set = match sub(m, key) {
                None => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Number(n)) => n.as_f64() != Some(0.0),
                Some(_) => true,
            };
            if set {
                errs.forbidden(VOLUME, &mp.alias(go_name, &[*key]), "cannot be set");
            }
        }
    }
    claim_spec(sub(t, "spec").unwrap_or(&Value::Null), &p.child("spec"), errs);
}

/// `ValidatePersistentVolumeClaimSpec` (volume attributes classes are off in v1.32).
fn claim_spec(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let modes = strings(spec, "accessModes");
    let ap = p.child("accessModes");
    if modes.is_empty() {
        errs.required(VOLUME, &ap, "at least 1 access mode is required");
    }
    if let Some(sel) = sub(spec, "selector") {
        let before = errs.0.len();
        meta::label_selector(sel, &p.child("selector"), errs);
        super::retag(errs, before, VOLUME);
    }
    const MODES: &[&str] = &[
        "ReadOnlyMany",
        "ReadWriteMany",
        "ReadWriteOnce",
        "ReadWriteOncePod",
    ];
    let (mut rwop, mut other) = (false, false);
    for mode in &modes {
        if !MODES.contains(mode) {
            errs.not_supported(VOLUME, &ap, &quote(mode), MODES);
        }
        if *mode == "ReadWriteOncePod" {
            rwop = true;
        } else if MODES.contains(mode) {
            other = true;
        }
    }
    if rwop && other {
        errs.forbidden(
            VOLUME,
            &ap,
            "may not use ReadWriteOncePod with other access modes",
        );
    }
    resources::claim_storage(sub(spec, "resources"), p, VOLUME, errs);
    if let Some(class) = sub(spec, "storageClassName")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    {
        for m in names::name_is_dns_subdomain(class, false) {
            errs.invalid(VOLUME, &p.child("storageClassName"), &quote(class), &m);
        }
    }
    if let Some(mode) = sub(spec, "volumeMode").and_then(Value::as_str) {
        if mode != "Block" && mode != "Filesystem" {
            errs.not_supported(
                VOLUME,
                &p.child("volumeMode"),
                &quote(mode),
                &["Block", "Filesystem"],
            );
        }
    }
    let ds = sub(spec, "dataSource");
    let dsr = sub(spec, "dataSourceRef");
    if let Some(ds) = ds {
        data_source(ds, &p.child("dataSource"), errs);
    }
    if let Some(r) = dsr {
        let rp = p.child("dataSourceRef");
        data_source(r, &rp, errs);
        let ns = s(r, "namespace");
        if !ns.is_empty() {
            for m in names::dns1123_label(ns) {
                errs.invalid(VOLUME, &rp.child("namespace"), &quote(ns), &m);
            }
        }
    }
    // The bad value is a `*field.Path`, which Go prints with `%#v` (an address inside).
    let ds_path = "field.Path{name:\"dataSource\", index:\"\", parent:(*field.Path)(0xc000000000)}";
    match (ds, dsr) {
        (Some(_), Some(r)) if !s(r, "namespace").is_empty() => {
            errs.invalid(
                VOLUME,
                p,
                ds_path,
                "may not be specified when dataSourceRef.namespace is specified",
            );
        }
        (Some(a), Some(b))
            if s(a, "kind") != s(b, "kind")
                || s(a, "name") != s(b, "name")
                || sub(a, "apiGroup") != sub(b, "apiGroup") =>
        {
            errs.invalid(VOLUME, p, ds_path, "must match dataSourceRef");
        }
        _ => {}
    }
}

/// `validateDataSource` / `validateDataSourceRef`'s common part.
fn data_source(ds: &Value, p: &FieldPath, errs: &mut Errs) {
    required(ds, "name", p, errs);
    let kind = s(ds, "kind");
    if kind.is_empty() {
        errs.required(VOLUME, &p.child("kind"), "");
    }
    let group = s(ds, "apiGroup");
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        errs.invalid(
            VOLUME,
            p,
            &quote(kind),
            "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
        );
    }
    if !group.is_empty() {
        for m in names::dns1123_subdomain(group) {
            errs.invalid(VOLUME, &p.child("apiGroup"), &quote(group), &m);
        }
    }
}
