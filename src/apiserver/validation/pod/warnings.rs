//! The API server's pod-template warnings (`GetWarningsForPodTemplate` of
//! `pkg/api/pod/warnings.go`): deprecated node labels, annotations and volume plugins,
//! fractional byte quantities, duplicate env vars, ports, host aliases and pull secrets,
//! a negative grace period and selectors that match nothing. The object is accepted; the
//! warnings come back as `Warning` headers, in Go's order.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{entries, int, items, s, sub, DEPRECATED};
use crate::apiserver::field::{finding, quote, FieldPath};
use crate::apiserver::quantity;
use crate::model::{Capped, Finding, Origin, Reason, Severity};

/// `deprecatedNodeLabels` of `pkg/api/node`.
fn deprecated_node_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "beta.kubernetes.io/arch" => "deprecated since v1.14; use \"kubernetes.io/arch\" instead",
        "beta.kubernetes.io/os" => "deprecated since v1.14; use \"kubernetes.io/os\" instead",
        "failure-domain.beta.kubernetes.io/region" => {
            "deprecated since v1.17; use \"topology.kubernetes.io/region\" instead"
        }
        "failure-domain.beta.kubernetes.io/zone" => {
            "deprecated since v1.17; use \"topology.kubernetes.io/zone\" instead"
        }
        "beta.kubernetes.io/instance-type" => {
            "deprecated since v1.17; use \"node.kubernetes.io/instance-type\" instead"
        }
        _ => return None,
    })
}

const DEPRECATED_ANNOTATIONS: &[(&str, &str)] = &[
    (
        "scheduler.alpha.kubernetes.io/critical-pod",
        "non-functional in v1.16+; use the \"priorityClassName\" field instead",
    ),
    (
        "security.alpha.kubernetes.io/sysctls",
        "non-functional in v1.11+; use the \"sysctls\" field instead",
    ),
    (
        "security.alpha.kubernetes.io/unsafe-sysctls",
        "non-functional in v1.11+; use the \"sysctls\" field instead",
    ),
];

/// Deprecated and removed volume plugins: the JSON key, the name Go prints, the message.
const DEPRECATED_VOLUMES: &[(&str, &str, &str)] = &[
    (
        "photonPersistentDisk",
        "photonPersistentDisk",
        "deprecated in v1.11, non-functional in v1.16+",
    ),
    ("gitRepo", "gitRepo", "deprecated in v1.11"),
    (
        "scaleIO",
        "scaleIO",
        "deprecated in v1.16, non-functional in v1.22+",
    ),
    (
        "flocker",
        "flocker",
        "deprecated in v1.22, non-functional in v1.25+",
    ),
    (
        "storageos",
        "storageOS",
        "deprecated in v1.22, non-functional in v1.25+",
    ),
    (
        "quobyte",
        "quobyte",
        "deprecated in v1.22, non-functional in v1.25+",
    ),
    (
        "glusterfs",
        "glusterfs",
        "deprecated in v1.25, non-functional in v1.26+",
    ),
    (
        "cephfs",
        "cephfs",
        "deprecated in v1.28, non-functional in v1.31+",
    ),
    ("rbd", "rbd", "deprecated in v1.28, non-functional in v1.31+"),
];

/// The warnings of one template, capped (see [`Capped`]): a template with a warning per
/// list item costs no memory per item.
#[derive(Default)]
struct Out {
    out: Capped,
}

impl Out {
    fn warn(&mut self, p: &FieldPath, message: String) {
        if self.out.is_full() {
            self.out.omit(
                DEPRECATED,
                Severity::Warning,
                Origin::Api,
                Reason::FieldValueInvalid,
                1,
                || p.loc(),
            );
        } else {
            self.out.push(finding(
                DEPRECATED,
                Severity::Warning,
                Origin::Api,
                p,
                Reason::FieldValueInvalid,
                message,
            ));
        }
    }
}

/// `warningsForPodSpecAndMeta` of a template at `p` (`spec.template`).
pub(crate) fn template_warnings(template: &Value, p: &FieldPath, out: &mut Vec<Finding>) {
    let dropped;
    let template = if crate::apiserver::defaulting::has_disabled_pod_fields(template) {
        let mut copy = template.clone();
        crate::apiserver::defaulting::drop_disabled_pod_fields(&mut copy);
        dropped = copy;
        &dropped
    } else {
        template
    };
    let mut w = Out::default();
    let spec = sub(template, "spec").unwrap_or(&Value::Null);
    let annotations = sub(template, "metadata").and_then(|m| sub(m, "annotations"));
    let sp = p.child("spec");
    let annotations_p = p.child("metadata");
    let annotations_p = annotations_p.child("annotations");

    let ns_p = sp.child("nodeSelector");
    for (k, _) in entries(sub(spec, "nodeSelector")) {
        if let Some(m) = deprecated_node_label(k) {
            w.warn(&ns_p.key(k), m.to_string());
        }
    }
    if let Some(na) = sub(spec, "affinity").and_then(|a| sub(a, "nodeAffinity")) {
        let ap = sp.child("affinity");
        let np = ap.child("nodeAffinity");
        if let Some(required) = sub(na, "requiredDuringSchedulingIgnoredDuringExecution") {
            let rp = np.child("requiredDuringSchedulingIgnoredDuringExecution");
            let tp = rp.child("nodeSelectorTerms");
            for (i, term) in items(required, "nodeSelectorTerms").iter().enumerate() {
                node_selector_term(term, &tp.index(i), &mut w);
            }
        }
        let pp = np.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, pref) in items(na, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let ip = pp.index(i);
            node_selector_term(
                sub(pref, "preference").unwrap_or(&Value::Null),
                &ip.child("preference"),
                &mut w,
            );
        }
    }
    let tsc_p = sp.child("topologySpreadConstraints");
    for (i, c) in items(spec, "topologySpreadConstraints").iter().enumerate() {
        let ip = tsc_p.index(i);
        let key = s(c, "topologyKey");
        if let Some(m) = deprecated_node_label(key) {
            w.warn(&ip.child("topologyKey"), format!("{key} is {m}"));
        }
        if sub(c, "labelSelector").is_none() {
            w.warn(
                &ip.child("labelSelector"),
                "a null labelSelector results in matching no pod".to_string(),
            );
        }
    }
    for (key, message) in DEPRECATED_ANNOTATIONS {
        if annotations.and_then(|a| a.get(*key)).is_some() {
            w.warn(&annotations_p.key(key), (*message).to_string());
        }
    }
    let vp = sp.child("volumes");
    for (i, v) in items(spec, "volumes").iter().enumerate() {
        let ip = vp.index(i);
        for (key, go_name, message) in DEPRECATED_VOLUMES {
            if sub(v, key).is_some() {
                w.warn(
                    &ip.alias(go_name, std::slice::from_ref(key)),
                    (*message).to_string(),
                );
            }
        }
        if let Some(spec) = sub(v, "ephemeral")
            .and_then(|e| sub(e, "volumeClaimTemplate"))
            .and_then(|t| sub(t, "spec"))
        {
            let ep = ip.child("ephemeral");
            let tp = ep.child("volumeClaimTemplate");
            let cp = tp.child("spec");
            let rp = cp.child("resources");
            for list in ["requests", "limits"] {
                let value = sub(spec, "resources")
                    .and_then(|r| sub(r, list))
                    .and_then(|l| l.get("storage"))
                    .and_then(quantity::from_json)
                    .map(quantity::Quantity::round_to_milli);
                if let Some(q) = value.filter(quantity::Quantity::has_fraction_of_milli_units) {
                    let lp = rp.child(list);
                    w.warn(
                        &lp.key("storage"),
                        format!(
                            "fractional byte value {} is invalid, must be an integer",
                            quote(&q.to_go_string())
                        ),
                    );
                }
            }
        }
    }
    projected_token_paths(spec, &vp, &mut w);
    let aliases = items(spec, "hostAliases");
    if aliases.len() > 1 {
        let hp = sp.child("hostAliases");
        let mut seen = HashSet::new();
        for (i, a) in aliases.iter().enumerate() {
            let ip = s(a, "ip");
            if !seen.insert(ip) {
                let ap = hp.index(i);
                w.warn(&ap.child("ip"), format!("duplicate ip {}", quote(ip)));
            }
        }
    }
    let secrets = items(spec, "imagePullSecrets");
    let pp = sp.child("imagePullSecrets");
    if secrets.len() > 1 {
        let mut seen = HashSet::new();
        for (i, secret) in secrets.iter().enumerate() {
            let name = s(secret, "name");
            if !seen.insert(name) {
                let ip = pp.index(i);
                w.warn(&ip.child("name"), format!("duplicate name {}", quote(name)));
            }
        }
    }
    for (i, secret) in secrets.iter().enumerate() {
        let name = s(secret, "name");
        if name.is_empty() {
            let ip = pp.index(i);
            w.warn(&ip.child("name"), format!("invalid empty name {}", quote(name)));
        }
    }
    let op = sp.child("overhead");
    fractional_bytes(sub(spec, "overhead"), &op, &mut w);
    let pod_sc = sub(spec, "securityContext");
    let seccomp_pod = "seccomp.security.alpha.kubernetes.io/pod";
    if pod_sc.and_then(|sc| sub(sc, "seccompProfile")).is_none()
        && annotations.and_then(|a| a.get(seccomp_pod)).is_some()
    {
        w.warn(
            &annotations_p.key(seccomp_pod),
            "non-functional in v1.27+; use the \"seccompProfile\" field instead".to_string(),
        );
    }
    let pod_apparmor = pod_sc.and_then(|sc| sub(sc, "appArmorProfile")).is_some();
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = sp.child(key);
        for (i, c) in items(spec, key).iter().enumerate() {
            container(c, &lp.index(i), annotations, &annotations_p, pod_apparmor, &mut w);
        }
    }
    ports(spec, &sp, &mut w);
    if let Some(g) = int(spec, "terminationGracePeriodSeconds").filter(|g| *g < 0) {
        let _ = g;
        w.warn(
            &sp.child("terminationGracePeriodSeconds"),
            "must be >= 0; negative values are invalid and will be treated as 1".to_string(),
        );
    }
    if let Some(affinity) = sub(spec, "affinity") {
        let ap = sp.child("affinity");
        for key in ["podAffinity", "podAntiAffinity"] {
            let Some(pa) = sub(affinity, key) else {
                continue;
            };
            let pap = ap.child(key);
            let rp = pap.child("requiredDuringSchedulingIgnoredDuringExecution");
            for (i, term) in items(pa, "requiredDuringSchedulingIgnoredDuringExecution")
                .iter()
                .enumerate()
            {
                if sub(term, "labelSelector").is_none() {
                    let ip = rp.index(i);
                    w.warn(
                        &ip.child("labelSelector"),
                        "a null labelSelector results in matching no pod".to_string(),
                    );
                }
            }
            let pp = pap.child("preferredDuringSchedulingIgnoredDuringExecution");
            for (i, wt) in items(pa, "preferredDuringSchedulingIgnoredDuringExecution")
                .iter()
                .enumerate()
            {
                if sub(wt, "podAffinityTerm")
                    .and_then(|t| sub(t, "labelSelector"))
                    .is_none()
                {
                    let ip = pp.index(i);
                    let tp = ip.child("podAffinityTerm");
                    w.warn(
                        &tp.child("labelSelector"),
                        "a null labelSelector results in matching no pod".to_string(),
                    );
                }
            }
        }
    }
    out.extend(w.out.into_vec());
}

/// `GetWarningsForNodeSelectorTerm` (v1.32: deprecated keys only).
fn node_selector_term(term: &Value, p: &FieldPath, w: &mut Out) {
    let ep = p.child("matchExpressions");
    for (i, e) in items(term, "matchExpressions").iter().enumerate() {
        let key = s(e, "key");
        if let Some(m) = deprecated_node_label(key) {
            let ip = ep.index(i);
            w.warn(&ip.child("key"), format!("{key} is {m}"));
        }
    }
}

/// Items of projected volumes that use the path of a service account token.
fn projected_token_paths(spec: &Value, vp: &FieldPath, w: &mut Out) {
    let volumes = items(spec, "volumes");
    let token_paths: HashSet<&str> = volumes
        .iter()
        .filter_map(|v| sub(v, "projected"))
        .flat_map(|p| items(p, "sources"))
        .filter_map(|src| sub(src, "serviceAccountToken"))
        .map(|t| s(t, "path"))
        .collect();
    if token_paths.is_empty() {
        return;
    }
    for (i, v) in volumes.iter().enumerate() {
        let Some(projected) = sub(v, "projected") else {
            continue;
        };
        let ip = vp.index(i);
        let pp = ip.child("projected");
        let sp = pp.child("sources");
        for src in items(projected, "sources") {
            for (key, go_name) in [
                ("configMap", "configMap"),
                ("secret", "secrets"),
                ("downwardAPI", "downwardAPI"),
            ] {
                let Some(inner) = sub(src, key) else {
                    continue;
                };
                let kp = sp.alias(go_name, &[]);
                for (j, item) in items(inner, "items").iter().enumerate() {
                    let path = s(item, "path");
                    if token_paths.contains(path) {
                        w.warn(
                            &kp.index(j),
                            format!("has duplicated path with ServiceAccountToken {}", quote(path)),
                        );
                    }
                }
            }
        }
    }
}

/// Fractional byte values of `memory` and `ephemeral-storage` in a resource list.
fn fractional_bytes(list: Option<&Value>, p: &FieldPath, w: &mut Out) {
    for key in ["memory", "ephemeral-storage"] {
        let value = list
            .and_then(|l| l.get(key))
            .and_then(quantity::from_json)
            .map(quantity::Quantity::round_to_milli);
        if let Some(q) = value.filter(quantity::Quantity::has_fraction_of_milli_units) {
            w.warn(
                &p.key(key),
                format!(
                    "fractional byte value {} is invalid, must be an integer",
                    quote(&q.to_go_string())
                ),
            );
        }
    }
}

/// A container's warnings: annotations without their fields, fractional bytes, env vars
/// defined twice in a way `kubectl apply` may drop.
fn container(
    c: &Value,
    cp: &FieldPath,
    annotations: Option<&Value>,
    annotations_p: &FieldPath,
    pod_apparmor: bool,
    w: &mut Out,
) {
    let name = s(c, "name");
    let sc = sub(c, "securityContext");
    let has = |key: &str| annotations.and_then(|a| a.get(key)).is_some();
    if sc.and_then(|sc| sub(sc, "seccompProfile")).is_none() {
        let key = format!("container.seccomp.security.alpha.kubernetes.io/{name}");
        if has(&key) {
            w.warn(
                &annotations_p.key(&key),
                "non-functional in v1.27+; use the \"seccompProfile\" field instead".to_string(),
            );
        }
    }
    if !pod_apparmor && sc.and_then(|sc| sub(sc, "appArmorProfile")).is_none() {
        let key = format!("container.apparmor.security.beta.kubernetes.io/{name}");
        if has(&key) {
            w.warn(
                &annotations_p.key(&key),
                "deprecated since v1.30; use the \"appArmorProfile\" field instead".to_string(),
            );
        }
    }
    let rp = cp.child("resources");
    for (list, key) in [
        ("limits", "memory"),
        ("requests", "memory"),
        ("limits", "ephemeral-storage"),
        ("requests", "ephemeral-storage"),
    ] {
        let value = sub(c, "resources")
            .and_then(|r| sub(r, list))
            .and_then(|l| l.get(key))
            .and_then(quantity::from_json)
            .map(quantity::Quantity::round_to_milli);
        if let Some(q) = value.filter(quantity::Quantity::has_fraction_of_milli_units) {
            let lp = rp.child(list);
            w.warn(
                &lp.key(key),
                format!(
                    "fractional byte value {} is invalid, must be an integer",
                    quote(&q.to_go_string())
                ),
            );
        }
    }
    let env = items(c, "env");
    if env.len() > 1 {
        let ep = cp.child("env");
        let mut seen = HashSet::new();
        for (i, var) in env.iter().enumerate() {
            let var_name = s(var, "name");
            if !seen.insert(var_name) {
                let reference = format!("$({var_name})");
                let value = s(var, "value");
                if sub(var, "valueFrom").is_some() || value == reference || !value.contains(&reference) {
                    w.warn(
                        &ep.index(i),
                        format!(
                            "hides previous definition of {}, which may be dropped when using apply",
                            quote(var_name)
                        ),
                    );
                }
            }
        }
    }
}

/// Ports across all containers: a host IP without a host port, and the same
/// port/protocol defined twice, overlapping or ambiguously.
fn ports(spec: &Value, sp: &FieldPath, w: &mut Out) {
    struct Block<'a> {
        container: &'static str,
        index: usize,
        port: usize,
        host_ip: &'a str,
        host_port: i64,
    }
    // Go's `map[string][]portBlock`: only ports of the same port/protocol are compared.
    let mut seen: HashMap<String, Vec<Block>> = HashMap::new();
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let lp = sp.child(key);
        for (ci, c) in items(spec, key).iter().enumerate() {
            let cp = lp.index(ci);
            let pp = cp.child("ports");
            for (pi, port) in items(c, "ports").iter().enumerate() {
                let host_ip = s(port, "hostIP");
                let host_port = int(port, "hostPort").unwrap_or(0);
                let container_port = int(port, "containerPort").unwrap_or(0);
                let protocol = s(port, "protocol");
                let ip = pp.index(pi);
                if !host_ip.is_empty() && host_port == 0 {
                    w.warn(
                        &ip,
                        format!(
                            "hostIP set without hostPort: {{Name:{} HostPort:{host_port} ContainerPort:{container_port} Protocol:{protocol} HostIP:{host_ip}}}",
                            s(port, "name")
                        ),
                    );
                }
                let k = format!("{container_port}/{protocol}");
                let same = seen.entry(k).or_default();
                if w.out.is_full() && !same.is_empty() {
                    // Each further port would be compared with all before it: past the cap,
                    // stop rather than count pairs.
                    w.out.stop_counting();
                    return;
                }
                for other in same.iter() {
                    let other_path = format!(
                        "{}.{}[{}].ports[{}]",
                        sp.api(),
                        other.container,
                        other.index,
                        other.port
                    );
                    let (a, b) = (host_ip.is_empty(), other.host_ip.is_empty());
                    if host_ip == other.host_ip && host_port == other.host_port {
                        w.warn(&ip, format!("duplicate port definition with {other_path}"));
                    } else if host_port == 0 || other.host_port == 0 {
                        w.warn(&ip, format!("overlapping port definition with {other_path}"));
                    } else if host_port == other.host_port && (a || b) && !(a && b) {
                        w.warn(
                            &ip,
                            format!("dangerously ambiguous port definition with {other_path}"),
                        );
                    }
                }
                same.push(Block {
                    container: key,
                    index: ci,
                    port: pi,
                    host_ip,
                    host_port,
                });
            }
        }
    }
}
