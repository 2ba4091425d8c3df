//! Security settings: the pod's and each container's `securityContext` (ids, sysctls and
//! their host-namespace conflicts, seccomp and AppArmor profiles; Windows options are in
//! `os.rs`), the pod-specific annotations (mirror pod, deletion cost, seccomp and AppArmor)
//! with their agreement with the fields.

use serde_json::Value;

use super::{entries, flag, formats, int, items, s, sub, POD_SPEC, SECURITY};
use crate::apiserver::field::{quote, Errs, FieldPath};

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
const APPARMOR_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The user and group ids v1.32 accepts (`IsValidUserID`, `IsValidGroupID`).
const MAX_ID: i64 = i32::MAX as i64;

/// Whether any container of the pod (init, regular or ephemeral) has this name.
fn has_container(spec: &Value, name: &str) -> bool {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .any(|key| items(spec, key).iter().any(|c| s(c, "name") == name))
}

/// `ValidatePodSpecificAnnotations` of a template: the mirror-pod annotation needs a node
/// name, the deletion cost is a 32-bit integer, seccomp and AppArmor annotations name
/// valid profiles (and AppArmor ones a container). (The deprecated tolerations annotation
/// is not reproduced; see `docs/pod.md`.)
pub(super) fn pod_specific_annotations(
    annotations: Option<&Value>,
    spec: &Value,
    p: &FieldPath,
    errs: &mut Errs,
) {
    let Some(annotations) = annotations else {
        return;
    };
    if let Some(v) = sub(annotations, MIRROR_POD_ANNOTATION).and_then(Value::as_str) {
        if s(spec, "nodeName").is_empty() {
            errs.invalid(
                POD_SPEC,
                &p.key(MIRROR_POD_ANNOTATION),
                &quote(v),
                "must set spec.nodeName if mirror pod annotation is set",
            );
        }
    }
    if let Some(v) = sub(annotations, DELETION_COST_ANNOTATION).and_then(Value::as_str) {
        if !deletion_cost_ok(v) {
            errs.invalid(
                POD_SPEC,
                &p.key(DELETION_COST_ANNOTATION),
                &quote(v),
                "must be a 32bit integer",
            );
        }
    }
    if let Some(v) = sub(annotations, SECCOMP_POD_ANNOTATION).and_then(Value::as_str) {
        seccomp_annotation(
            v,
            &p.alias(SECCOMP_POD_ANNOTATION, &[SECCOMP_POD_ANNOTATION]),
            errs,
        );
    }
    for (k, v) in entries(Some(annotations)) {
        let k = k.as_str();
        if k.starts_with(SECCOMP_CONTAINER_PREFIX) {
            seccomp_annotation(
                v.as_str().unwrap_or_default(),
                &p.alias(k, std::slice::from_ref(&k)),
                errs,
            );
        }
    }
    for (k, v) in entries(Some(annotations)) {
        let Some(container) = k.strip_prefix(APPARMOR_PREFIX) else {
            continue;
        };
        let kp = p.key(k);
        if !has_container(spec, container) {
            errs.invalid(SECURITY, &kp, &quote(container), "container not found");
        }
        let profile = v.as_str().unwrap_or_default();
        let ok =
            matches!(profile, "" | "runtime/default" | "unconfined") || profile.starts_with("localhost/");
        if !ok {
            errs.invalid(
                SECURITY,
                &kp,
                &quote(profile),
                &format!("invalid AppArmor profile name: {}", quote(profile)),
            );
        }
    }
}

/// `GetDeletionCostFromPodAnnotations`: no `+` nor leading zero, and an int32.
fn deletion_cost_ok(v: &str) -> bool {
    let first_ok = match v.as_bytes().first() {
        Some(b'-') => true,
        Some(b'0') => v == "0",
        Some(b) => b.is_ascii_digit(),
        None => false,
    };
    first_ok && v.parse::<i32>().is_ok()
}

/// `ValidateSeccompProfile` of an annotation (Go names it as a child: `annotations.<key>`).
fn seccomp_annotation(profile: &str, p: &FieldPath, errs: &mut Errs) {
    if matches!(profile, "runtime/default" | "docker/default" | "unconfined") {
        return;
    }
    match profile.strip_prefix("localhost/") {
        Some(local) => local_descending(local, p, errs),
        None => errs.invalid(SECURITY, p, &quote(profile), "must be a valid seccomp profile"),
    }
}

/// `validateLocalDescendingPath` with this area's rule id.
fn local_descending(path: &str, p: &FieldPath, errs: &mut Errs) {
    if path.starts_with('/') {
        errs.invalid(SECURITY, p, &quote(path), "must be a relative path");
    }
    if path.split('/').any(|e| e == "..") {
        errs.invalid(SECURITY, p, &quote(path), "must not contain '..'");
    }
}

/// `validateSeccompAnnotationsAndFields`: an annotation and a field both set must agree.
pub(super) fn seccomp_annotations_match_fields(
    annotations: Option<&Value>,
    spec: &Value,
    sp: &FieldPath,
    errs: &mut Errs,
) {
    let Some(annotations) = annotations else {
        return;
    };
    let pod_profile = sub(spec, "securityContext").and_then(|sc| sub(sc, "seccompProfile"));
    if let (Some(profile), Some(a)) = (
        pod_profile,
        sub(annotations, SECCOMP_POD_ANNOTATION).and_then(Value::as_str),
    ) {
        let scp = sp.child("securityContext");
        seccomp_match(a, profile, &scp.child("seccompProfile"), errs);
    }
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = sp.child(key);
        for (i, c) in items(spec, key).iter().enumerate() {
            let Some(profile) = sub(c, "securityContext").and_then(|sc| sub(sc, "seccompProfile")) else {
                continue;
            };
            let annotation_key = format!("{SECCOMP_CONTAINER_PREFIX}{}", s(c, "name"));
            if let Some(a) = sub(annotations, &annotation_key).and_then(Value::as_str) {
                let cp = lp.index(i);
                let scp = cp.child("securityContext");
                seccomp_match(a, profile, &scp.child("seccompProfile"), errs);
            }
        }
    }
}

fn seccomp_match(annotation: &str, profile: &Value, p: &FieldPath, errs: &mut Errs) {
    let mismatch_type = |errs: &mut Errs| {
        errs.forbidden(
            SECURITY,
            &p.child("type"),
            "seccomp type in annotation and field must match",
        );
    };
    match s(profile, "type") {
        "Unconfined" if annotation != "unconfined" => mismatch_type(errs),
        "RuntimeDefault" if annotation != "runtime/default" && annotation != "docker/default" => {
            mismatch_type(errs)
        }
        "Localhost" => match annotation.strip_prefix("localhost/") {
            None => mismatch_type(errs),
            Some(local) if sub(profile, "localhostProfile").and_then(Value::as_str) != Some(local) => errs
                .forbidden(
                    SECURITY,
                    &p.child("localhostProfile"),
                    "seccomp profile in annotation and field must match",
                ),
            Some(_) => {}
        },
        _ => {}
    }
}

/// `validateAppArmorAnnotationsAndFieldsMatchOnCreate` (skipped for Windows pods).
pub(super) fn apparmor_annotations_match_fields(
    annotations: Option<&Value>,
    spec: &Value,
    sp: &FieldPath,
    errs: &mut Errs,
) {
    let Some(annotations) = annotations else {
        return;
    };
    if sub(spec, "os").is_some_and(|os| s(os, "name") == "windows") {
        return;
    }
    let pod_profile = sub(spec, "securityContext").and_then(|sc| sub(sc, "appArmorProfile"));
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = sp.child(key);
        for (i, c) in items(spec, key).iter().enumerate() {
            let profile = sub(c, "securityContext")
                .and_then(|sc| sub(sc, "appArmorProfile"))
                .or(pod_profile);
            let Some(profile) = profile else {
                continue;
            };
            let annotation_key = format!("{APPARMOR_PREFIX}{}", s(c, "name"));
            let Some(a) = sub(annotations, &annotation_key).and_then(Value::as_str) else {
                continue;
            };
            let cp = lp.index(i);
            let scp = cp.child("securityContext");
            let ap = scp.child("appArmorProfile");
            let mismatch = "apparmor type in annotation and field must match";
            match s(profile, "type") {
                "Unconfined" if a != "unconfined" => errs.forbidden(SECURITY, &ap.child("type"), mismatch),
                "RuntimeDefault" if a != "runtime/default" => {
                    errs.forbidden(SECURITY, &ap.child("type"), mismatch)
                }
                "Localhost" => match a.strip_prefix("localhost/") {
                    None => errs.forbidden(SECURITY, &ap.child("type"), mismatch),
                    Some(local)
                        if sub(profile, "localhostProfile").and_then(Value::as_str) != Some(local) =>
                    {
                        errs.forbidden(
                            SECURITY,
                            &ap.child("localhostProfile"),
                            "apparmor profile in annotation and field must match",
                        )
                    }
                    Some(_) => {}
                },
                _ => {}
            }
        }
    }
}

/// `validatePodSpecSecurityContext`. The internal Go type keeps `hostNetwork`, `hostPID`,
/// `hostIPC` and `shareProcessNamespace` in the security context: they are read from the
/// pod spec here, and `shareProcessNamespace` is reported under `securityContext`.
pub(super) fn pod_security_context(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let Some(sc) = sub(spec, "securityContext") else {
        return;
    };
    let scp = p.child("securityContext");
    if let Some(g) = int(sc, "fsGroup") {
        id_range(g, &scp.child("fsGroup"), errs);
    }
    if let Some(u) = int(sc, "runAsUser") {
        id_range(u, &scp.child("runAsUser"), errs);
    }
    if let Some(g) = int(sc, "runAsGroup") {
        id_range(g, &scp.child("runAsGroup"), errs);
    }
    let groups_p = scp.child("supplementalGroups");
    for (i, g) in items(sc, "supplementalGroups").iter().enumerate() {
        id_range(
            crate::apiserver::field::as_int(Some(g)).unwrap_or(0),
            &groups_p.index(i),
            errs,
        );
    }
    if flag(spec, "shareProcessNamespace") == Some(true) && flag(spec, "hostPID") == Some(true) {
        let sp = p.alias("securityContext", &[]);
        errs.invalid(
            SECURITY,
            &sp.child("shareProcessNamespace"),
            "true",
            "ShareProcessNamespace and HostPID cannot both be enabled",
        );
    }
    let sysctls = items(sc, "sysctls");
    if !sysctls.is_empty() {
        let sp = scp.child("sysctls");
        let mut seen = std::collections::HashSet::new();
        for (i, sysctl) in sysctls.iter().enumerate() {
            let np = sp.index(i);
            let np = np.child("name");
            let name = s(sysctl, "name");
            if name.is_empty() {
                errs.required(SECURITY, &np, "");
            } else if !formats::is_sysctl_name(name) {
                errs.invalid(SECURITY, &np, &quote(name), formats::SYSCTL_MESSAGE);
            } else if seen.contains(name) {
                errs.duplicate(SECURITY, &np, &quote(name));
            }
            let conflict = match formats::sysctl_namespace(name) {
                formats::SysctlNamespace::Net if flag(spec, "hostNetwork") == Some(true) => {
                    Some("may not be specified when 'hostNetwork' is true")
                }
                formats::SysctlNamespace::Ipc if flag(spec, "hostIPC") == Some(true) => {
                    Some("may not be specified when 'hostIPC' is true")
                }
                _ => None,
            };
            if let Some(m) = conflict {
                errs.invalid(SECURITY, &np, &quote(name), m);
            }
            seen.insert(name);
        }
    }
    if let Some(policy) = sub(sc, "fsGroupChangePolicy").and_then(Value::as_str) {
        if policy != "Always" && policy != "OnRootMismatch" {
            errs.not_supported(
                SECURITY,
                &scp.child("fsGroupChangePolicy"),
                &quote(policy),
                &["Always", "OnRootMismatch"],
            );
        }
    }
    if let Some(profile) = sub(sc, "seccompProfile") {
        seccomp_profile(profile, &scp.child("seccompProfile"), errs);
    }
    if let Some(w) = sub(sc, "windowsOptions") {
        super::os::windows_options(w, &scp.child("windowsOptions"), errs);
    }
    if let Some(profile) = sub(sc, "appArmorProfile") {
        apparmor_profile(profile, &scp.child("appArmorProfile"), errs);
    }
}

fn id_range(id: i64, p: &FieldPath, errs: &mut Errs) {
    if !(0..=MAX_ID).contains(&id) {
        errs.invalid(SECURITY, p, &id.to_string(), &formats::inclusive_range(0, MAX_ID));
    }
}

/// `ValidateSecurityContext` of a container (privileged containers are allowed: the API
/// server's `--allow-privileged` is on in the clusters this reproduces; `procMount` is
/// reset to `Default` first, the `ProcMountType` gate being off).
pub(super) fn container_security_context(sc: &Value, p: &FieldPath, errs: &mut Errs) {
    if let Some(u) = int(sc, "runAsUser") {
        id_range(u, &p.child("runAsUser"), errs);
    }
    if let Some(g) = int(sc, "runAsGroup") {
        id_range(g, &p.child("runAsGroup"), errs);
    }
    if let Some(profile) = sub(sc, "seccompProfile") {
        seccomp_profile(profile, &p.child("seccompProfile"), errs);
    }
    if flag(sc, "allowPrivilegeEscalation") == Some(false) {
        if flag(sc, "privileged") == Some(true) {
            errs.invalid(
                SECURITY,
                p,
                &go_security_context(sc),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            );
        }
        let caps = sub(sc, "capabilities");
        for cap in caps.map(|c| super::strings(c, "add")).unwrap_or_default() {
            if cap == "CAP_SYS_ADMIN" {
                errs.invalid(
                    SECURITY,
                    p,
                    &go_security_context(sc),
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
                );
            }
        }
    }
    if let Some(w) = sub(sc, "windowsOptions") {
        super::os::windows_options(w, &p.child("windowsOptions"), errs);
    }
    if let Some(profile) = sub(sc, "appArmorProfile") {
        apparmor_profile(profile, &p.child("appArmorProfile"), errs);
    }
}

/// Go's `%#v` of a `core.SecurityContext`; its pointers print as addresses, for which a
/// fixed stand-in keeps the output stable.
fn go_security_context(sc: &Value) -> String {
    const FIELDS: &[(&str, &str, &str)] = &[
        ("Capabilities", "capabilities", "*core.Capabilities"),
        ("Privileged", "privileged", "*bool"),
        ("SELinuxOptions", "seLinuxOptions", "*core.SELinuxOptions"),
        (
            "WindowsOptions",
            "windowsOptions",
            "*core.WindowsSecurityContextOptions",
        ),
        ("RunAsUser", "runAsUser", "*int64"),
        ("RunAsGroup", "runAsGroup", "*int64"),
        ("RunAsNonRoot", "runAsNonRoot", "*bool"),
        ("ReadOnlyRootFilesystem", "readOnlyRootFilesystem", "*bool"),
        ("AllowPrivilegeEscalation", "allowPrivilegeEscalation", "*bool"),
        ("ProcMount", "procMount", "*core.ProcMountType"),
        ("SeccompProfile", "seccompProfile", "*core.SeccompProfile"),
        ("AppArmorProfile", "appArmorProfile", "*core.AppArmorProfile"),
    ];
    let parts: Vec<String> = FIELDS
        .iter()
        .map(|(go, json, ty)| {
            let addr = if sub(sc, json).is_some() {
                "0xc000000000"
            } else {
                "nil"
            };
            format!("{go}:({ty})({addr})")
        })
        .collect();
    format!("core.SecurityContext{{{}}}", parts.join(", "))
}

/// `validateSeccompProfileField`.
fn seccomp_profile(profile: &Value, p: &FieldPath, errs: &mut Errs) {
    let t = s(profile, "type");
    let tp = p.child("type");
    match t {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => errs.required(SECURITY, &tp, "type is required when seccompProfile is set"),
        other => errs.not_supported(
            SECURITY,
            &tp,
            &quote(other),
            &["Localhost", "RuntimeDefault", "Unconfined"],
        ),
    }
    let local = sub(profile, "localhostProfile").and_then(Value::as_str);
    let lp = p.child("localhostProfile");
    if t == "Localhost" {
        match local {
            None => errs.required(SECURITY, &lp, "must be set when seccomp type is Localhost"),
            Some(path) => local_descending(path, &lp, errs),
        }
    } else if local.is_some() {
        let go = format!(
            "core.SeccompProfile{{Type:{}, LocalhostProfile:(*string)(0xc000000000)}}",
            quote(t)
        );
        errs.invalid(
            SECURITY,
            &lp,
            &go,
            "can only be set when seccomp type is Localhost",
        );
    }
}

/// `ValidateAppArmorProfileField`.
fn apparmor_profile(profile: &Value, p: &FieldPath, errs: &mut Errs) {
    let local = sub(profile, "localhostProfile").and_then(Value::as_str);
    let lp = p.child("localhostProfile");
    match s(profile, "type") {
        "Localhost" => match local {
            None => errs.required(SECURITY, &lp, "must be set when AppArmor type is Localhost"),
            Some(path) => {
                if path.trim() != path {
                    errs.invalid(SECURITY, &lp, &quote(path), "must not be padded with whitespace");
                } else if path.is_empty() {
                    errs.required(SECURITY, &lp, "must be set when AppArmor type is Localhost");
                }
                if path.len() > 4095 {
                    errs.too_long(SECURITY, &lp, 4095);
                }
            }
        },
        "RuntimeDefault" | "Unconfined" => {
            if let Some(path) = local {
                errs.invalid(
                    SECURITY,
                    &lp,
                    &quote(path),
                    "can only be set when AppArmor type is Localhost",
                );
            }
        }
        "" => errs.required(
            SECURITY,
            &p.child("type"),
            "type is required when appArmorProfile is set",
        ),
        other => errs.not_supported(
            SECURITY,
            &p.child("type"),
            &quote(other),
            &["Localhost", "RuntimeDefault", "Unconfined"],
        ),
    }
}
