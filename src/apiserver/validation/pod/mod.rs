//! The API server's pod-template validation (`ValidatePodTemplateSpec` and `ValidatePodSpec`
//! of `pkg/apis/core/validation/validation.go`, v1.32, with the `PodValidationOptions` a
//! Job or CronJob template gets on create) and its pod-template warnings
//! (`pkg/api/pod/warnings.go`), over the defaulted template as JSON.
//!
//! Causes come in the API server's order. Where Go walks a map (resource lists, node
//! selectors, annotations) its order is random; here it is sorted, which is as faithful.

use serde_json::Value;

use super::{meta, names};
use crate::apiserver::field::{as_int, get, quote, Errs, FieldPath};
use crate::model::RuleId;

mod containers;
mod formats;
mod mounts;
mod os;
mod resources;
mod scheduling;
mod security;
mod sources;
mod volumes;
mod warnings;

pub(crate) use warnings::template_warnings;

/// Rule ids of the pod-template checks, by area (see `docs/pod.md`).
pub(crate) const CONTAINER: RuleId = RuleId::InvalidContainer;
pub(crate) const ENV: RuleId = RuleId::InvalidEnv;
pub(crate) const RESOURCES: RuleId = RuleId::InvalidResources;
pub(crate) const PROBE: RuleId = RuleId::InvalidProbe;
pub(crate) const VOLUME: RuleId = RuleId::InvalidVolume;
pub(crate) const VOLUME_MOUNT: RuleId = RuleId::InvalidVolumeMount;
pub(crate) const SECURITY: RuleId = RuleId::InvalidSecurityContext;
pub(crate) const SCHEDULING: RuleId = RuleId::InvalidScheduling;
pub(crate) const POD_SPEC: RuleId = RuleId::InvalidPodSpec;
pub(crate) const DEPRECATED: RuleId = RuleId::DeprecatedPodField;

/// The string at `key`, `""` when absent (Go's zero value).
fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The integer at `key`, `None` when absent or null (a nil pointer in Go).
fn int(v: &Value, key: &str) -> Option<i64> {
    as_int(get(v, &[key]))
}

fn flag(v: &Value, key: &str) -> Option<bool> {
    get(v, &[key]).and_then(Value::as_bool)
}

/// The list at `key`, empty when absent.
fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The non-null value at `key` (a set pointer in Go).
fn sub<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    get(v, &[key])
}

/// A map's entries in sorted key order (Go's order is random).
fn entries(v: Option<&Value>) -> Vec<(&String, &Value)> {
    let mut out: Vec<(&String, &Value)> = v
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// The strings of a string list (a non-string element reads as `""`).
fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    items(v, key)
        .iter()
        .map(|i| i.as_str().unwrap_or_default())
        .collect()
}

/// A valid volume of the pod, as the containers see them: its name and its source.
#[derive(Clone, Copy)]
struct Volume<'a> {
    name: &'a str,
    source: &'a Value,
}

/// What the container rules need to know about the rest of the pod.
struct Pod<'a> {
    /// `terminationGracePeriodSeconds` (the lifecycle `sleep` bound).
    grace: Option<i64>,
    /// The volumes that passed validation; a mount of any other volume is "Not found".
    volumes: Vec<Volume<'a>>,
}

impl Pod<'_> {
    fn volume(&self, name: &str) -> Option<&Volume<'_>> {
        self.volumes.iter().find(|v| v.name == name)
    }
}

/// `ValidatePodTemplateSpec` of a Job's or a CronJob's template, then nothing else: the
/// template labels and annotations, the pod-specific annotations, `ValidatePodSpec`, the
/// seccomp and AppArmor annotations against their fields, and the ban on ephemeral
/// containers. Fields of features that are off in v1.32 are dropped first, as
/// `PrepareForCreate` does (a no-op for an object that went through an API server).
pub(crate) fn validate_template(template: &Value, p: &FieldPath, errs: &mut Errs) {
    let dropped;
    let template = if crate::apiserver::defaulting::has_disabled_pod_fields(template) {
        let mut copy = template.clone();
        crate::apiserver::defaulting::drop_disabled_pod_fields(&mut copy);
        dropped = copy;
        &dropped
    } else {
        template
    };
    let labels_p = p.alias("labels", &["metadata", "labels"]);
    meta::labels(get(template, &["metadata", "labels"]), &labels_p, errs);
    let annotations = get(template, &["metadata", "annotations"]);
    let annotations_p = p.alias("annotations", &["metadata", "annotations"]);
    meta::annotations(annotations, &annotations_p, errs);
    let spec = get(template, &["spec"]).unwrap_or(&Value::Null);
    let sp = p.child("spec");
    security::pod_specific_annotations(annotations, spec, &annotations_p, errs);
    pod_spec(spec, &sp, errs);
    security::seccomp_annotations_match_fields(annotations, spec, &sp, errs);
    security::apparmor_annotations_match_fields(annotations, spec, &sp, errs);
    if !items(spec, "ephemeralContainers").is_empty() {
        errs.forbidden(
            RuleId::EphemeralContainersForbidden,
            &sp.child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        );
    }
}

/// `ValidatePodSpec` (with no pod metadata, as for a template).
fn pod_spec(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let grace = int(spec, "terminationGracePeriodSeconds");
    if grace.is_none() {
        errs.required(POD_SPEC, &p.child("terminationGracePeriodSeconds"), "");
    }
    let volumes = volumes::volumes(items(spec, "volumes"), &p.child("volumes"), errs);
    let pod = Pod { grace, volumes };
    containers::containers(spec, &pod, p, errs);
    containers::init_containers(spec, &pod, p, errs);
    containers::ephemeral_containers(spec, &pod, p, errs);
    host_network_ports(spec, p, errs);
    restart_policy(spec, p, errs);
    dns_policy(spec, p, errs);
    let before = errs.0.len();
    meta::labels(get(spec, &["nodeSelector"]), &p.child("nodeSelector"), errs);
    retag(errs, before, SCHEDULING);
    security::pod_security_context(spec, p, errs);
    scheduling::affinity(spec, p, errs);
    dns_config(spec, p, errs);
    readiness_gates(spec, p, errs);
    scheduling::scheduling_gates(spec, p, errs);
    scheduling::topology_spread_constraints(spec, p, errs);
    os::windows_host_process(spec, p, errs);
    names_and_limits(spec, p, errs);
    if let Some(tolerations) = sub(spec, "tolerations") {
        scheduling::tolerations(tolerations, &p.child("tolerations"), errs);
    }
    host_aliases(spec, p, errs);
    if let Some(pc) = sub(spec, "priorityClassName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        for m in names::name_is_dns_subdomain(pc, false) {
            errs.invalid(SCHEDULING, &p.child("priorityClassName"), &quote(pc), &m);
        }
    }
    if let Some(rc) = sub(spec, "runtimeClassName").and_then(Value::as_str) {
        for m in names::name_is_dns_subdomain(rc, false) {
            errs.invalid(POD_SPEC, &p.child("runtimeClassName"), &quote(rc), &m);
        }
    }
    if let Some(pp) = sub(spec, "preemptionPolicy").and_then(Value::as_str) {
        let pp_p = p.child("preemptionPolicy");
        match pp {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.required(SCHEDULING, &pp_p, ""),
            other => errs.not_supported(
                SCHEDULING,
                &pp_p,
                &quote(other),
                &["PreemptLowerPriority", "Never"],
            ),
        }
    }
    if let Some(overhead) = sub(spec, "overhead") {
        resources::overhead(overhead, &p.child("overhead"), errs);
    }
    if let Some(os) = sub(spec, "os") {
        os::os(spec, os, p, errs);
    }
}

/// Re-labels the findings a shared helper (`meta::labels`, `meta::label_selector`) made
/// since `from` with this area's id.
fn retag(errs: &mut Errs, from: usize, rule: RuleId) {
    for f in errs.0.since_mut(from) {
        f.rule = rule;
    }
}

/// `validatePodHostNetworkDeps`: with `hostNetwork`, a container's set `hostPort` must equal
/// its `containerPort` (templates leave an unset one to the pod's defaulting).
fn host_network_ports(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    if flag(spec, "hostNetwork") != Some(true) {
        return;
    }
    let cp = p.child("containers");
    for (i, c) in items(spec, "containers").iter().enumerate() {
        let ci = cp.index(i);
        let ports_p = ci.child("ports");
        for (j, port) in items(c, "ports").iter().enumerate() {
            let hp = int(port, "hostPort").unwrap_or(0);
            let cport = int(port, "containerPort").unwrap_or(0);
            if hp != 0 && hp != cport {
                errs.invalid(
                    CONTAINER,
                    &ports_p.index(j).child("hostPort"),
                    &hp.to_string(),
                    "must match `containerPort` when `hostNetwork` is true",
                );
            }
        }
    }
}

/// `validateRestartPolicy` (the Job rules then narrow it to `OnFailure` and `Never`).
fn restart_policy(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let rp_p = p.child("restartPolicy");
    match s(spec, "restartPolicy") {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.required(RuleId::RestartPolicyRequired, &rp_p, ""),
        other => errs.not_supported(
            RuleId::UnsupportedRestartPolicy,
            &rp_p,
            &quote(other),
            &["Always", "OnFailure", "Never"],
        ),
    }
}

/// `validateDNSPolicy`.
fn dns_policy(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let dp = p.child("dnsPolicy");
    match s(spec, "dnsPolicy") {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.required(POD_SPEC, &dp, ""),
        other => errs.not_supported(
            POD_SPEC,
            &dp,
            &quote(other),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ),
    }
}

const MAX_DNS_NAMESERVERS: usize = 3;
const MAX_DNS_SEARCH_PATHS: usize = 32;
const MAX_DNS_SEARCH_LIST_CHARS: usize = 2048;

/// `validatePodDNSConfig` (without `RelaxedDNSSearchValidation`, off in v1.32).
fn dns_config(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let cp = p.child("dnsConfig");
    let config = sub(spec, "dnsConfig");
    if s(spec, "dnsPolicy") == "None" {
        let Some(config) = config else {
            errs.required(POD_SPEC, &cp, "must provide `dnsConfig` when `dnsPolicy` is None");
            return;
        };
        if items(config, "nameservers").is_empty() {
            errs.required(
                POD_SPEC,
                &cp.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            );
            return;
        }
    }
    let Some(config) = config else {
        return;
    };
    let nameservers = strings(config, "nameservers");
    let ns_p = cp.child("nameservers");
    if nameservers.len() > MAX_DNS_NAMESERVERS {
        errs.invalid(
            POD_SPEC,
            &ns_p,
            &go_string_slice(&nameservers),
            &format!("must not have more than {MAX_DNS_NAMESERVERS} nameservers"),
        );
    }
    for (i, ns) in nameservers.iter().enumerate() {
        if !formats::is_ip(ns) {
            errs.invalid(POD_SPEC, &ns_p.index(i), &quote(ns), formats::IP_MESSAGE);
        }
    }
    let searches = strings(config, "searches");
    let search_p = cp.child("searches");
    if searches.len() > MAX_DNS_SEARCH_PATHS {
        errs.invalid(
            POD_SPEC,
            &search_p,
            &go_string_slice(&searches),
            &format!("must not have more than {MAX_DNS_SEARCH_PATHS} search paths"),
        );
    }
    if searches.join(" ").len() > MAX_DNS_SEARCH_LIST_CHARS {
        errs.invalid(
            POD_SPEC,
            &search_p,
            &go_string_slice(&searches),
            &format!(
                "must not have more than {MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list"
            ),
        );
    }
    for (i, search) in searches.iter().enumerate() {
        let trimmed = search.strip_suffix('.').unwrap_or(search);
        for m in names::dns1123_subdomain(trimmed) {
            errs.invalid(POD_SPEC, &search_p.index(i), &quote(trimmed), &m);
        }
    }
    let opts_p = cp.child("options");
    for (i, option) in items(config, "options").iter().enumerate() {
        if s(option, "name").is_empty() {
            errs.required(POD_SPEC, &opts_p.index(i), "must not be empty");
        }
    }
}

/// Go's `%#v` of a `[]string`.
fn go_string_slice(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// `validateReadinessGates`.
fn readiness_gates(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let rp = p.child("readinessGates");
    for (i, gate) in items(spec, "readinessGates").iter().enumerate() {
        let t = s(gate, "conditionType");
        for m in names::qualified_name(t) {
            errs.invalid(POD_SPEC, &rp.index(i).child("conditionType"), &quote(t), &m);
        }
    }
}

/// The names and numbers `ValidatePodSpec` checks after the scheduling rules: service
/// account, node name, `activeDeadlineSeconds`, hostname and subdomain.
fn names_and_limits(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    // The v1 conversion reads `serviceAccount` (deprecated) when `serviceAccountName` is empty.
    let (sa, sa_p) = match s(spec, "serviceAccountName") {
        "" => (
            s(spec, "serviceAccount"),
            p.alias("serviceAccountName", &["serviceAccount"]),
        ),
        name => (name, p.child("serviceAccountName")),
    };
    if !sa.is_empty() {
        for m in names::name_is_dns_subdomain(sa, false) {
            errs.invalid(POD_SPEC, &sa_p, &quote(sa), &m);
        }
    }
    let node = s(spec, "nodeName");
    if !node.is_empty() {
        for m in names::name_is_dns_subdomain(node, false) {
            errs.invalid(SCHEDULING, &p.child("nodeName"), &quote(node), &m);
        }
    }
    if let Some(ads) = int(spec, "activeDeadlineSeconds") {
        if !(1..=i64::from(i32::MAX)).contains(&ads) {
            errs.invalid(
                POD_SPEC,
                &p.child("activeDeadlineSeconds"),
                &ads.to_string(),
                &formats::inclusive_range(1, i64::from(i32::MAX)),
            );
        }
    }
    for key in ["hostname", "subdomain"] {
        let v = s(spec, key);
        if !v.is_empty() {
            for m in names::dns1123_label(v) {
                errs.invalid(POD_SPEC, &p.child(key), &quote(v), &m);
            }
        }
    }
}

/// `ValidateHostAliases`.
fn host_aliases(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let hp = p.child("hostAliases");
    for (i, alias) in items(spec, "hostAliases").iter().enumerate() {
        let ap = hp.index(i);
        let ip = s(alias, "ip");
        if !formats::is_ip(ip) {
            errs.invalid(POD_SPEC, &ap.child("ip"), &quote(ip), formats::IP_MESSAGE);
        }
        let hosts_p = ap.child("hostnames");
        for (j, host) in strings(alias, "hostnames").iter().enumerate() {
            for m in names::dns1123_subdomain(host) {
                errs.invalid(POD_SPEC, &hosts_p.index(j), &quote(host), &m);
            }
        }
    }
}

#[cfg(test)]
mod tests;
