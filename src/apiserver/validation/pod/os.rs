//! Operating-system-specific rules: Windows security options, host-process pods
//! (`validateWindowsHostProcessPod`) and the `os` field's restrictions (`validateOS`,
//! `validateLinux`, `validateWindows`).

use serde_json::Value;

use super::super::names;
use super::{flag, items, s, sub, POD_SPEC, SECURITY};
use crate::apiserver::field::{quote, Errs, FieldPath};

/// `validateWindowsSecurityContextOptions`.
pub(super) fn windows_options(w: &Value, p: &FieldPath, errs: &mut Errs) {
    if let Some(name) = sub(w, "gmsaCredentialSpecName").and_then(Value::as_str) {
        for m in names::dns1123_subdomain(name) {
            errs.invalid(SECURITY, &p.child("gmsaCredentialSpecName"), &quote(name), &m);
        }
    }
    if let Some(spec) = sub(w, "gmsaCredentialSpec").and_then(Value::as_str) {
        let sp = p.child("gmsaCredentialSpec");
        if spec.is_empty() {
            errs.invalid(
                SECURITY,
                &sp,
                &quote(spec),
                "gmsaCredentialSpec cannot be an empty string",
            );
        } else if spec.len() > 64 * 1024 {
            errs.invalid(
                SECURITY,
                &sp,
                &quote(spec),
                "gmsaCredentialSpec size must be under 64 KiB",
            );
        }
    }
    let Some(user) = sub(w, "runAsUserName").and_then(Value::as_str) else {
        return;
    };
    let up = p.child("runAsUserName");
    let mut bad = |m: &str| errs.invalid(SECURITY, &up, &quote(user), m);
    if user.is_empty() {
        bad("runAsUserName cannot be an empty string");
        return;
    }
    if user.chars().any(char::is_control) {
        bad("runAsUserName cannot contain control characters");
        return;
    }
    let parts: Vec<&str> = user.split('\\').collect();
    if parts.len() > 2 {
        bad("runAsUserName cannot contain more than one backslash");
        return;
    }
    let (domain, name) = match parts.as_slice() {
        [name] => (None, *name),
        [domain, name] => (Some(*domain), *name),
        _ => return,
    };
    if domain.is_some_and(|d| d.len() >= 256) {
        bad("runAsUserName's Domain length must be under 256 characters");
    }
    if let Some(d) = domain {
        if !(netbios_domain(d) || dns_domain(d)) {
            bad("runAsUserName's Domain doesn't match the NetBios nor the DNS format");
        }
    }
    if name.is_empty() {
        bad("runAsUserName's User cannot be empty");
    } else if name.len() > 104 {
        bad("runAsUserName's User length must not be longer than 104 characters");
    }
    if !name.is_empty() && name.chars().all(|c| c == '.' || c == ' ') {
        bad("runAsUserName's User cannot contain only periods or spaces");
    }
    if name.chars().any(|c| "\"/\\:;|=,+*?<>@[]".contains(c)) {
        bad("runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[]");
    }
}

/// `^[^\\/:\*\?"<>|\.][^\\/:\*\?"<>|]{0,14}$`.
fn netbios_domain(d: &str) -> bool {
    let bad = |c: char| "\\/:*?\"<>|".contains(c);
    let chars: Vec<char> = d.chars().collect();
    !chars.is_empty()
        && chars.len() <= 15
        && !bad(chars[0])
        && chars[0] != '.'
        && chars[1..].iter().all(|c| !bad(*c))
}

/// `^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.…)*$`.
fn dns_domain(d: &str) -> bool {
    d.split('.').all(|l| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
    })
}

/// `validateWindowsHostProcessPod`.
pub(super) fn windows_host_process(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let host_process = |v: Option<&Value>| {
        v.and_then(|sc| sub(sc, "windowsOptions"))
            .and_then(|w| flag(w, "hostProcess"))
    };
    let pod = host_process(sub(spec, "securityContext"));
    let (mut count, mut host) = (0, 0);
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = p.child(key);
        for (i, c) in items(spec, key).iter().enumerate() {
            count += 1;
            let own = host_process(sub(c, "securityContext"));
            if let (Some(pv), Some(cv)) = (pod, own) {
                if pv != cv {
                    let cp = lp.index(i);
                    let scp = cp.child("securityContext");
                    let wp = scp.child("windowsOptions");
                    errs.invalid(
                        SECURITY,
                        &wp.child("hostProcess"),
                        &cv.to_string(),
                        &format!("pod hostProcess value must be identical if both are specified, was {pv}"),
                    );
                }
            }
            if own == Some(true) || (own.is_none() && pod == Some(true)) {
                host += 1;
            }
        }
    }
    if host > 0 {
        if host != count {
            errs.invalid(
                SECURITY,
                p,
                "\"\"",
                "If pod contains any hostProcess containers then all containers must be HostProcess containers",
            );
        }
        if flag(spec, "hostNetwork") != Some(true) {
            errs.invalid(
                SECURITY,
                &p.child("hostNetwork"),
                "false",
                "hostNetwork must be true if pod contains any hostProcess containers",
            );
        }
    }
}

/// `validateOS`, then `validateLinux` or `validateWindows`.
pub(super) fn os(spec: &Value, os: &Value, p: &FieldPath, errs: &mut Errs) {
    let op = p.child("os");
    let name = s(os, "name");
    if name.is_empty() {
        errs.required(POD_SPEC, &op.child("name"), "cannot be empty");
        return;
    }
    match name {
        "linux" => linux(spec, p, errs),
        "windows" => windows(spec, p, errs),
        other => errs.not_supported(POD_SPEC, &op, &quote(other), &["linux", "windows"]),
    }
}

fn linux(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let message = "windows options cannot be set for a linux pod";
    if sub(spec, "securityContext")
        .and_then(|sc| sub(sc, "windowsOptions"))
        .is_some()
    {
        let scp = p.child("securityContext");
        errs.forbidden(SECURITY, &scp.child("windowsOptions"), message);
    }
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = p.child(key);
        for (i, c) in items(spec, key).iter().enumerate() {
            if sub(c, "securityContext")
                .and_then(|sc| sub(sc, "windowsOptions"))
                .is_some()
            {
                let cp = lp.index(i);
                let scp = cp.child("securityContext");
                errs.forbidden(SECURITY, &scp.child("windowsOptions"), message);
            }
        }
    }
}

fn windows(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let message = "cannot be set for a windows pod";
    let scp = p.child("securityContext");
    if let Some(sc) = sub(spec, "securityContext") {
        for key in ["appArmorProfile", "seLinuxOptions"] {
            if sub(sc, key).is_some() {
                errs.forbidden(SECURITY, &scp.child(key), message);
            }
        }
        // The host namespaces and `shareProcessNamespace` live in the internal security
        // context but are named at the pod level.
        if sub(spec, "hostUsers").is_some() {
            errs.forbidden(SECURITY, &p.child("hostUsers"), message);
        }
        for key in ["hostPID", "hostIPC"] {
            if flag(spec, key) == Some(true) {
                errs.forbidden(SECURITY, &p.child(key), message);
            }
        }
        for key in ["seccompProfile", "fsGroup", "fsGroupChangePolicy"] {
            if sub(sc, key).is_some() {
                errs.forbidden(SECURITY, &scp.child(key), message);
            }
        }
        if !items(sc, "sysctls").is_empty() {
            errs.forbidden(SECURITY, &scp.child("sysctls"), message);
        }
        if sub(spec, "shareProcessNamespace").is_some() {
            errs.forbidden(SECURITY, &p.child("shareProcessNamespace"), message);
        }
        for key in [
            "runAsUser",
            "runAsGroup",
            "supplementalGroups",
            "supplementalGroupsPolicy",
            "seLinuxChangePolicy",
        ] {
            if sub(sc, key).is_some() {
                errs.forbidden(SECURITY, &scp.child(key), message);
            }
        }
    }
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = p.child(key);
        for (i, c) in items(spec, key).iter().enumerate() {
            let Some(sc) = sub(c, "securityContext") else {
                continue;
            };
            let cp = lp.index(i);
            let cscp = cp.child("securityContext");
            for field in [
                "appArmorProfile",
                "seLinuxOptions",
                "seccompProfile",
                "capabilities",
                "readOnlyRootFilesystem",
                "privileged",
                "allowPrivilegeEscalation",
                "procMount",
                "runAsUser",
                "runAsGroup",
            ] {
                if sub(sc, field).is_some() {
                    errs.forbidden(SECURITY, &cscp.child(field), message);
                }
            }
        }
    }
}
