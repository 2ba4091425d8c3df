//! Containers, init containers (sidecars included) and ephemeral containers:
//! `validateContainers`, `validateInitContainers`, `validateEphemeralContainers`,
//! `validateContainerCommon` and the checks they call for ports, env, pull policy,
//! probes and lifecycle hooks.

use std::collections::HashSet;

use serde_json::Value;

use super::super::names;
use super::{formats, int, items, mounts, resources, s, security, sub, Pod, CONTAINER, ENV, PROBE};
use crate::apiserver::field::{quote, Errs, FieldPath};
use crate::model::RuleId;

/// `validateContainers`: at least one, each valid, names unique among them, probes and
/// lifecycle checked, no `restartPolicy`; then host ports unique across all of them.
pub(super) fn containers(spec: &Value, pod: &Pod, p: &FieldPath, errs: &mut Errs) {
    let list = items(spec, "containers");
    let lp = p.child("containers");
    if list.is_empty() {
        errs.required(RuleId::ContainersRequired, &lp, "");
        return;
    }
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, c) in list.iter().enumerate() {
        let cp = lp.index(i);
        container_common(c, pod, &cp, errs);
        let name = s(c, "name");
        if !seen.insert(name) {
            errs.duplicate(RuleId::ContainerName, &cp.child("name"), &quote(name));
        }
        probes_and_lifecycle(c, pod, &cp, errs);
        if sub(c, "restartPolicy").is_some() {
            errs.forbidden(
                CONTAINER,
                &cp.child("restartPolicy"),
                "may not be set for non-init containers",
            );
        }
    }
    host_port_conflicts(list.iter().enumerate(), &lp, errs);
}

/// `validateInitContainers`: each valid; `restartPolicy` only `Always` (a sidecar, whose
/// probes and lifecycle are checked like a container's); names unique among all
/// containers (Go remembers only non-empty init container names); host ports unique
/// within each one; probes and lifecycle forbidden on regular init containers.
pub(super) fn init_containers(spec: &Value, pod: &Pod, p: &FieldPath, errs: &mut Errs) {
    let lp = p.child("initContainers");
    let mut seen: HashSet<&str> = items(spec, "containers").iter().map(|c| s(c, "name")).collect();
    for (i, c) in items(spec, "initContainers").iter().enumerate() {
        let cp = lp.index(i);
        container_common(c, pod, &cp, errs);
        let restart = sub(c, "restartPolicy").and_then(Value::as_str);
        if let Some(rp) = restart.filter(|rp| *rp != "Always") {
            errs.not_supported(CONTAINER, &cp.child("restartPolicy"), &quote(rp), &["Always"]);
        }
        let name = s(c, "name");
        if seen.contains(name) {
            errs.duplicate(RuleId::ContainerName, &cp.child("name"), &quote(name));
        } else if !name.is_empty() {
            seen.insert(name);
        }
        // Go checks each init container on its own, as the only one of a list: its causes
        // always say `initContainers[0]`.
        host_port_conflicts(std::iter::once((0, c)), &lp, errs);
        if restart == Some("Always") {
            probes_and_lifecycle(c, pod, &cp, errs);
        } else {
            for key in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
                if sub(c, key).is_some() {
                    errs.forbidden(
                        PROBE,
                        &cp.child(key),
                        "may not be set for init containers without restartPolicy=Always",
                    );
                }
            }
        }
    }
}

/// The container fields an ephemeral container may set (`allowedEphemeralContainerFields`),
/// in the order of Go's struct; any other one set is forbidden.
const EPHEMERAL_FORBIDDEN: &[&str] = &[
    "ports",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
];

/// `validateEphemeralContainers` (a template may not have any, which the caller says last,
/// but Go validates them first).
pub(super) fn ephemeral_containers(spec: &Value, pod: &Pod, p: &FieldPath, errs: &mut Errs) {
    let list = items(spec, "ephemeralContainers");
    if list.is_empty() {
        return;
    }
    let others: HashSet<&str> = items(spec, "containers")
        .iter()
        .chain(items(spec, "initContainers"))
        .map(|c| s(c, "name"))
        .collect();
    let mut all = others.clone();
    let lp = p.child("ephemeralContainers");
    for (i, c) in list.iter().enumerate() {
        let cp = lp.index(i);
        container_common(c, pod, &cp, errs);
        let image = s(c, "image");
        if image.len() != image.trim().len() {
            errs.invalid(
                CONTAINER,
                &cp.child("image"),
                &quote(image),
                "must not have leading or trailing whitespace",
            );
        }
        let name = s(c, "name");
        if !all.insert(name) {
            errs.duplicate(RuleId::ContainerName, &cp.child("name"), &quote(name));
        }
        let target = s(c, "targetContainerName");
        if !target.is_empty() && !others.contains(target) {
            errs.not_found(CONTAINER, &cp.child("targetContainerName"), &quote(target));
        }
        for key in EPHEMERAL_FORBIDDEN {
            if ephemeral_field_set(c, key) {
                errs.forbidden(
                    CONTAINER,
                    &cp.child(key),
                    "cannot be set for an Ephemeral Container",
                );
            }
        }
        let mounts_p = cp.child("volumeMounts");
        for (j, m) in items(c, "volumeMounts").iter().enumerate() {
            for key in ["subPath", "subPathExpr"] {
                if !s(m, key).is_empty() {
                    errs.forbidden(
                        CONTAINER,
                        &mounts_p.index(j).child(key),
                        "cannot be set for an Ephemeral Container",
                    );
                }
            }
        }
    }
}

/// Whether a field differs from Go's zero value: a set pointer, slice or map (even an
/// empty one), or for the `resources` struct any of its maps.
fn ephemeral_field_set(c: &Value, key: &str) -> bool {
    match (key, sub(c, key)) {
        (_, None) => false,
        ("resources", Some(r)) => sub(r, "limits").is_some() || sub(r, "requests").is_some(),
        _ => true,
    }
}

/// `validateContainerCommon`.
fn container_common(c: &Value, pod: &Pod, cp: &FieldPath, errs: &mut Errs) {
    let name = s(c, "name");
    let name_p = cp.child("name");
    if name.is_empty() {
        errs.required(RuleId::ContainerName, &name_p, "");
    } else {
        for m in names::dns1123_label(name) {
            errs.invalid(RuleId::ContainerName, &name_p, &quote(name), &m);
        }
    }
    // Only emptiness: a template's image may carry spaces or be no valid reference.
    if s(c, "image").is_empty() {
        errs.required(RuleId::ImageRequired, &cp.child("image"), "");
    }
    let tmp = cp.child("terminationMessagePolicy");
    match s(c, "terminationMessagePolicy") {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.required(CONTAINER, &tmp, ""),
        other => errs.not_supported(CONTAINER, &tmp, &quote(other), &["File", "FallbackToLogsOnError"]),
    }
    ports(c, &cp.child("ports"), errs);
    env(c, &cp.child("env"), errs);
    env_from(c, &cp.child("envFrom"), errs);
    mounts::volume_mounts(c, pod, cp, errs);
    mounts::volume_devices(c, pod, cp, errs);
    pull_policy(
        s(c, "imagePullPolicy"),
        &cp.child("imagePullPolicy"),
        CONTAINER,
        errs,
    );
    if let Some(r) = sub(c, "resources") {
        resources::container_resources(r, &cp.child("resources"), errs);
    }
    if let Some(sc) = sub(c, "securityContext") {
        security::container_security_context(sc, &cp.child("securityContext"), errs);
    }
}

/// `validatePullPolicy`.
pub(super) fn pull_policy(policy: &str, p: &FieldPath, rule: RuleId, errs: &mut Errs) {
    match policy {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.required(rule, p, ""),
        other => errs.not_supported(rule, p, &quote(other), &["Always", "IfNotPresent", "Never"]),
    }
}

/// `validateContainerPorts`: names (IANA service names, unique in the container), port
/// numbers and protocols.
fn ports(c: &Value, p: &FieldPath, errs: &mut Errs) {
    let mut names_seen: HashSet<&str> = HashSet::new();
    for (i, port) in items(c, "ports").iter().enumerate() {
        let ip = p.index(i);
        let name = s(port, "name");
        if !name.is_empty() {
            let problems = formats::port_name(name);
            if !problems.is_empty() {
                for m in problems {
                    errs.invalid(CONTAINER, &ip.child("name"), &quote(name), m);
                }
            } else if !names_seen.insert(name) {
                errs.duplicate(CONTAINER, &ip.child("name"), &quote(name));
            }
        }
        let cport = int(port, "containerPort").unwrap_or(0);
        if cport == 0 {
            errs.required(CONTAINER, &ip.child("containerPort"), "");
        } else if let Some(m) = formats::port_num(cport) {
            errs.invalid(CONTAINER, &ip.child("containerPort"), &cport.to_string(), &m);
        }
        let hport = int(port, "hostPort").unwrap_or(0);
        if hport != 0 {
            if let Some(m) = formats::port_num(hport) {
                errs.invalid(CONTAINER, &ip.child("hostPort"), &hport.to_string(), &m);
            }
        }
        let pp = ip.child("protocol");
        match s(port, "protocol") {
            "TCP" | "UDP" | "SCTP" => {}
            "" => errs.required(CONTAINER, &pp, ""),
            other => errs.not_supported(CONTAINER, &pp, &quote(other), &["SCTP", "TCP", "UDP"]),
        }
    }
}

/// `AccumulateUniqueHostPorts`: a `protocol/hostIP/hostPort` triple may be bound once.
fn host_port_conflicts<'a>(list: impl Iterator<Item = (usize, &'a Value)>, p: &FieldPath, errs: &mut Errs) {
    let mut seen: HashSet<String> = HashSet::new();
    for (i, c) in list {
        let ports_p = p.index(i);
        let ports_p = ports_p.child("ports");
        for (j, port) in items(c, "ports").iter().enumerate() {
            let hp = int(port, "hostPort").unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!("{}/{}/{hp}", s(port, "protocol"), s(port, "hostIP"));
            if seen.contains(&key) {
                errs.duplicate(CONTAINER, &ports_p.index(j).child("hostPort"), &quote(&key));
            } else {
                seen.insert(key);
            }
        }
    }
}

/// The field paths `fieldRef` may name in an env var (`validEnvDownwardAPIFieldPathExpressions`), sorted.
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `ValidateEnv`: names (relaxed rules, on in v1.32), then each `valueFrom`.
fn env(c: &Value, p: &FieldPath, errs: &mut Errs) {
    for (i, var) in items(c, "env").iter().enumerate() {
        let ip = p.index(i);
        let name = s(var, "name");
        if name.is_empty() {
            errs.required(ENV, &ip.child("name"), "");
        } else {
            for m in formats::relaxed_env_var_name(name) {
                errs.invalid(ENV, &ip.child("name"), &quote(name), m);
            }
        }
        if let Some(from) = sub(var, "valueFrom") {
            value_from(var, from, &ip.child("valueFrom"), errs);
        }
    }
}

/// `validateEnvVarValueFrom`: exactly one source, and none together with `value`.
fn value_from(var: &Value, from: &Value, p: &FieldPath, errs: &mut Errs) {
    let mut sources = 0;
    if let Some(f) = sub(from, "fieldRef") {
        sources += 1;
        object_field_selector(f, ENV_FIELD_PATHS, &p.child("fieldRef"), ENV, errs);
    }
    if let Some(r) = sub(from, "resourceFieldRef") {
        sources += 1;
        resources::resource_field_selector(r, false, &p.child("resourceFieldRef"), ENV, errs);
    }
    for key in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(sel) = sub(from, key) {
            sources += 1;
            key_selector(sel, &p.child(key), errs);
        }
    }
    if sources == 0 {
        errs.invalid(
            ENV,
            p,
            "\"\"",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        );
    } else if !s(var, "value").is_empty() {
        errs.invalid(ENV, p, "\"\"", "may not be specified when `value` is not empty");
    } else if sources > 1 {
        errs.invalid(
            ENV,
            p,
            "\"\"",
            "may not have more than one field specified at a time",
        );
    }
}

/// `validateConfigMapKeySelector` and `validateSecretKeySelector`: the name is checked as a
/// DNS subdomain even when empty, the key as a config map key.
fn key_selector(sel: &Value, p: &FieldPath, errs: &mut Errs) {
    let name = s(sel, "name");
    for m in names::name_is_dns_subdomain(name, false) {
        errs.invalid(ENV, &p.child("name"), &quote(name), &m);
    }
    let key = s(sel, "key");
    if key.is_empty() {
        errs.required(ENV, &p.child("key"), "");
    } else {
        for m in formats::config_map_key(key) {
            errs.invalid(ENV, &p.child("key"), &quote(key), &m);
        }
    }
}

/// `validateObjectFieldSelector` (after `ConvertDownwardAPIFieldLabel`).
pub(super) fn object_field_selector(
    f: &Value,
    allowed: &[&str],
    p: &FieldPath,
    rule: RuleId,
    errs: &mut Errs,
) {
    let version = s(f, "apiVersion");
    if version.is_empty() {
        errs.required(rule, &p.child("apiVersion"), "");
        return;
    }
    let path = s(f, "fieldPath");
    if path.is_empty() {
        errs.required(rule, &p.child("fieldPath"), "");
        return;
    }
    let internal = match convert_downward_api_field_label(version, path) {
        Ok(internal) => internal,
        Err(e) => {
            errs.invalid(
                rule,
                &p.child("fieldPath"),
                &quote(path),
                &format!("error converting fieldPath: {e}"),
            );
            return;
        }
    };
    if let Some((base, subscript)) = split_subscripted_path(internal) {
        let checked = match base {
            "metadata.annotations" => Some(subscript.to_lowercase()),
            "metadata.labels" => Some(subscript.to_string()),
            _ => None,
        };
        match checked {
            Some(name) => {
                for m in names::qualified_name(&name) {
                    errs.invalid(rule, p, &quote(&name), &m);
                }
            }
            None => errs.invalid(rule, p, &quote(base), "does not support subscript"),
        }
    } else if !allowed.contains(&internal) {
        errs.not_supported(rule, &p.child("fieldPath"), &quote(internal), allowed);
    }
}

/// `podshelper.ConvertDownwardAPIFieldLabel`.
fn convert_downward_api_field_label<'a>(version: &str, label: &'a str) -> Result<&'a str, String> {
    if version != "v1" {
        return Err(format!("unsupported pod version: {version}"));
    }
    if let Some((base, _)) = split_subscripted_path(label) {
        return match base {
            "metadata.annotations" | "metadata.labels" => Ok(label),
            _ => Err(format!("field label does not support subscript: {label}")),
        };
    }
    match label {
        "metadata.annotations"
        | "metadata.labels"
        | "metadata.name"
        | "metadata.namespace"
        | "metadata.uid"
        | "spec.nodeName"
        | "spec.restartPolicy"
        | "spec.serviceAccountName"
        | "spec.schedulerName"
        | "status.phase"
        | "status.hostIP"
        | "status.hostIPs"
        | "status.podIP"
        | "status.podIPs" => Ok(label),
        "spec.host" => Ok("spec.nodeName"),
        _ => Err(format!("field label not supported: {label}")),
    }
}

/// `fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['app']` -> (`metadata.labels`, `app`).
fn split_subscripted_path(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix("']")?;
    let (base, subscript) = inner.split_once("['")?;
    (!base.is_empty()).then_some((base, subscript))
}

/// `ValidateEnvFrom`: prefixes (relaxed rules) and exactly one of `configMapRef`, `secretRef`.
fn env_from(c: &Value, p: &FieldPath, errs: &mut Errs) {
    for (i, source) in items(c, "envFrom").iter().enumerate() {
        let ip = p.index(i);
        let prefix = s(source, "prefix");
        if !prefix.is_empty() {
            for m in formats::relaxed_env_var_name(prefix) {
                errs.invalid(ENV, &ip.child("prefix"), &quote(prefix), m);
            }
        }
        let mut sources = 0;
        for key in ["configMapRef", "secretRef"] {
            if let Some(r) = sub(source, key) {
                sources += 1;
                let np = ip.child(key);
                let np = np.child("name");
                let name = s(r, "name");
                if name.is_empty() {
                    errs.required(ENV, &np, "");
                } else {
                    for m in names::name_is_dns_subdomain(name, true) {
                        errs.invalid(ENV, &np, &quote(name), &m);
                    }
                }
            }
        }
        if sources == 0 {
            errs.invalid(
                ENV,
                p,
                "\"\"",
                "must specify one of: `configMapRef` or `secretRef`",
            );
        } else if sources > 1 {
            errs.invalid(
                ENV,
                p,
                "\"\"",
                "may not have more than one field specified at a time",
            );
        }
    }
}

/// Lifecycle hooks and the three probes of a container or a sidecar.
fn probes_and_lifecycle(c: &Value, pod: &Pod, cp: &FieldPath, errs: &mut Errs) {
    if let Some(lc) = sub(c, "lifecycle") {
        let lp = cp.child("lifecycle");
        for key in ["postStart", "preStop"] {
            if let Some(h) = sub(lc, key) {
                handler(h, true, pod.grace, &lp.child(key), CONTAINER, errs);
            }
        }
    }
    for (key, kind) in [
        ("livenessProbe", ProbeKind::Liveness),
        ("readinessProbe", ProbeKind::Readiness),
        ("startupProbe", ProbeKind::Startup),
    ] {
        if let Some(probe) = sub(c, key) {
            self::probe(probe, kind, pod.grace, &cp.child(key), errs);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

/// `validateProbe` and the liveness, readiness and startup specifics.
fn probe(probe: &Value, kind: ProbeKind, grace: Option<i64>, p: &FieldPath, errs: &mut Errs) {
    handler(probe, false, grace, p, PROBE, errs);
    for key in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        let v = int(probe, key).unwrap_or(0);
        if v < 0 {
            errs.invalid(
                PROBE,
                &p.child(key),
                &v.to_string(),
                "must be greater than or equal to 0",
            );
        }
    }
    let tgps = int(probe, "terminationGracePeriodSeconds");
    if let Some(t) = tgps.filter(|t| *t <= 0) {
        errs.invalid(
            PROBE,
            &p.child("terminationGracePeriodSeconds"),
            &t.to_string(),
            "must be greater than 0",
        );
    }
    match kind {
        ProbeKind::Liveness | ProbeKind::Startup => {
            let st = int(probe, "successThreshold").unwrap_or(0);
            if st != 1 {
                errs.invalid(PROBE, &p.child("successThreshold"), &st.to_string(), "must be 1");
            }
        }
        ProbeKind::Readiness => {
            if let Some(t) = tgps {
                errs.invalid(
                    PROBE,
                    &p.child("terminationGracePeriodSeconds"),
                    &t.to_string(),
                    "must not be set for readinessProbes",
                );
            }
        }
    }
}

/// `validateHandler`: exactly one action; a probe's may be `grpc`, a hook's `sleep`.
fn handler(h: &Value, hook: bool, grace: Option<i64>, p: &FieldPath, rule: RuleId, errs: &mut Errs) {
    let kinds: &[&str] = if hook {
        &["exec", "httpGet", "tcpSocket", "sleep"]
    } else {
        &["exec", "httpGet", "tcpSocket", "grpc"]
    };
    let mut count = 0;
    for key in kinds {
        let Some(action) = sub(h, key) else {
            continue;
        };
        let ap = p.child(key);
        if count > 0 {
            errs.forbidden(rule, &ap, "may not specify more than 1 handler type");
            continue;
        }
        count += 1;
        match *key {
            "exec" => {
                if items(action, "command").is_empty() {
                    errs.required(rule, &ap.child("command"), "");
                }
            }
            "httpGet" => http_get(action, &ap, rule, errs),
            "tcpSocket" => port_num_or_name(action.get("port"), &ap.child("port"), rule, errs),
            "grpc" => {
                let port = int(action, "port").unwrap_or(0);
                if let Some(m) = formats::port_num(port) {
                    errs.invalid(rule, &ap.child("port"), &port.to_string(), &m);
                }
            }
            _ => sleep(action, grace, &ap, rule, errs),
        }
    }
    if count == 0 {
        errs.required(rule, p, "must specify a handler type");
    }
}

/// `validateHTTPGetAction`.
fn http_get(action: &Value, p: &FieldPath, rule: RuleId, errs: &mut Errs) {
    if s(action, "path").is_empty() {
        errs.required(rule, &p.child("path"), "");
    }
    port_num_or_name(action.get("port"), &p.child("port"), rule, errs);
    let scheme = s(action, "scheme");
    if scheme != "HTTP" && scheme != "HTTPS" {
        errs.not_supported(rule, &p.child("scheme"), &quote(scheme), &["HTTP", "HTTPS"]);
    }
    for header in items(action, "httpHeaders") {
        let name = s(header, "name");
        if let Some(m) = formats::http_header_name(name) {
            errs.invalid(rule, &p.child("httpHeaders"), &quote(name), m);
        }
    }
}

/// `ValidatePortNumOrName` of an `IntOrString` (`null` decodes as the number 0).
pub(super) fn port_num_or_name(port: Option<&Value>, p: &FieldPath, rule: RuleId, errs: &mut Errs) {
    match port {
        Some(Value::String(name)) => {
            for m in formats::port_name(name) {
                errs.invalid(rule, p, &quote(name), m);
            }
        }
        other => {
            let n = crate::apiserver::field::as_int(other).unwrap_or(0);
            if let Some(m) = formats::port_num(n) {
                errs.invalid(rule, p, &n.to_string(), &m);
            }
        }
    }
}

/// `validateSleepAction` without `PodLifecycleSleepActionAllowZero` (alpha, off in v1.32).
fn sleep(action: &Value, grace: Option<i64>, p: &FieldPath, rule: RuleId, errs: &mut Errs) {
    let Some(grace) = grace else {
        return;
    };
    let seconds = int(action, "seconds").unwrap_or(0);
    if seconds <= 0 || seconds > grace {
        errs.invalid(
            rule,
            p,
            &seconds.to_string(),
            &format!(
                "must be greater than 0 and less than terminationGracePeriodSeconds ({grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
            ),
        );
    }
}
