//! Where a pod may run: node and pod (anti-)affinity, tolerations, topology spread
//! constraints and scheduling gates (`validateAffinity`, `ValidateTolerations`,
//! `validateTopologySpreadConstraints`, `validateSchedulingGates`).

use std::collections::HashSet;

use serde_json::Value;

use super::super::{meta, names};
use super::{entries, int, items, s, strings, sub, SCHEDULING};
use crate::apiserver::field::{quote, Errs, FieldPath};

/// `ValidateLabelName`: a qualified name.
fn label_name(key: &str, p: &FieldPath, errs: &mut Errs) {
    for m in names::qualified_name(key) {
        errs.invalid(SCHEDULING, p, &quote(key), &m);
    }
}

/// `ValidateLabelSelector` (label values checked: the stored object had none invalid).
fn label_selector(sel: Option<&Value>, p: &FieldPath, errs: &mut Errs) {
    if let Some(sel) = sel {
        let before = errs.0.len();
        meta::label_selector(sel, p, errs);
        super::retag(errs, before, SCHEDULING);
    }
}

/// `ValidateTolerations`.
pub(super) fn tolerations(list: &Value, p: &FieldPath, errs: &mut Errs) {
    for (i, t) in list.as_array().map_or(&[][..], Vec::as_slice).iter().enumerate() {
        let tp = p.index(i);
        let key = s(t, "key");
        let operator = s(t, "operator");
        let effect = s(t, "effect");
        let value = s(t, "value");
        if !key.is_empty() {
            label_name(key, &tp.child("key"), errs);
        }
        if key.is_empty() && operator != "Exists" {
            errs.invalid(
                SCHEDULING,
                &tp.child("operator"),
                &quote(operator),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            );
        }
        if int(t, "tolerationSeconds").is_some() && effect != "NoExecute" {
            errs.invalid(
                SCHEDULING,
                &tp.child("effect"),
                &quote(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            );
        }
        match operator {
            "Equal" | "" => {
                let problems = names::label_value(value);
                if !problems.is_empty() {
                    errs.invalid(
                        SCHEDULING,
                        &tp.child("operator"),
                        &quote(value),
                        &problems.join(";"),
                    );
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.invalid(
                        SCHEDULING,
                        &tp.child("operator"),
                        &quote(value),
                        "value must be empty when `operator` is 'Exists'",
                    );
                }
            }
            other => errs.not_supported(
                SCHEDULING,
                &tp.child("operator"),
                &quote(other),
                &["Equal", "Exists"],
            ),
        }
        if !effect.is_empty() && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            errs.not_supported(
                SCHEDULING,
                &tp.child("effect"),
                &quote(effect),
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            );
        }
    }
}

/// `validateAffinity`.
pub(super) fn affinity(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let Some(affinity) = sub(spec, "affinity") else {
        return;
    };
    let ap = p.child("affinity");
    if let Some(na) = sub(affinity, "nodeAffinity") {
        let np = ap.child("nodeAffinity");
        if let Some(required) = sub(na, "requiredDuringSchedulingIgnoredDuringExecution") {
            let rp = np.child("requiredDuringSchedulingIgnoredDuringExecution");
            let terms_p = rp.child("nodeSelectorTerms");
            let terms = items(required, "nodeSelectorTerms");
            if terms.is_empty() {
                errs.required(SCHEDULING, &terms_p, "must have at least one node selector term");
            }
            for (i, term) in terms.iter().enumerate() {
                node_selector_term(term, &terms_p.index(i), errs);
            }
        }
        let pp = np.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, pref) in items(na, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let ip = pp.index(i);
            weight(pref, &ip, errs);
            node_selector_term(
                sub(pref, "preference").unwrap_or(&Value::Null),
                &ip.child("preference"),
                errs,
            );
        }
    }
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
            pod_affinity_term(term, &rp.index(i), errs);
        }
        let pp = pap.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, wt) in items(pa, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let ip = pp.index(i);
            weight(wt, &ip, errs);
            pod_affinity_term(
                sub(wt, "podAffinityTerm").unwrap_or(&Value::Null),
                &ip.child("podAffinityTerm"),
                errs,
            );
        }
    }
}

fn weight(v: &Value, p: &FieldPath, errs: &mut Errs) {
    let w = int(v, "weight").unwrap_or(0);
    if !(1..=100).contains(&w) {
        errs.invalid(
            SCHEDULING,
            &p.child("weight"),
            &w.to_string(),
            "must be in the range 1-100",
        );
    }
}

/// `ValidateNodeSelectorTerm`. In v1.32 the values of match expressions are not checked
/// (label-value validation there is v1.33's), so `Gt` with `abc` passes.
fn node_selector_term(term: &Value, p: &FieldPath, errs: &mut Errs) {
    let ep = p.child("matchExpressions");
    for (j, req) in items(term, "matchExpressions").iter().enumerate() {
        let rp = ep.index(j);
        let values = items(req, "values");
        match s(req, "operator") {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.required(
                        SCHEDULING,
                        &rp.child("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    );
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.forbidden(
                        SCHEDULING,
                        &rp.child("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                }
            }
            "Gt" | "Lt" => {
                if values.len() != 1 {
                    errs.required(
                        SCHEDULING,
                        &rp.child("values"),
                        "must be specified single value when `operator` is 'Lt' or 'Gt'",
                    );
                }
            }
            other => errs.invalid(
                SCHEDULING,
                &rp.child("operator"),
                &quote(other),
                "not a valid selector operator",
            ),
        }
        label_name(s(req, "key"), &rp.child("key"), errs);
    }
    let fp = p.child("matchFields");
    for (j, req) in items(term, "matchFields").iter().enumerate() {
        let rp = fp.index(j);
        let values = strings(req, "values");
        match s(req, "operator") {
            "In" | "NotIn" => {
                if values.len() != 1 {
                    errs.required(
                        SCHEDULING,
                        &rp.child("values"),
                        "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                    );
                }
            }
            other => errs.invalid(
                SCHEDULING,
                &rp.child("operator"),
                &quote(other),
                "not a valid selector operator",
            ),
        }
        let key = s(req, "key");
        if key != "metadata.name" {
            errs.invalid(
                SCHEDULING,
                &rp.child("key"),
                &quote(key),
                "not a valid field selector key",
            );
        } else {
            let vp = rp.child("values");
            for (k, v) in values.iter().enumerate() {
                for m in names::name_is_dns_subdomain(v, false) {
                    errs.invalid(SCHEDULING, &vp.index(k), &quote(v), &m);
                }
            }
        }
    }
}

/// `validatePodAffinityTerm`.
fn pod_affinity_term(term: &Value, p: &FieldPath, errs: &mut Errs) {
    let selector = sub(term, "labelSelector");
    label_selector(selector, &p.child("labelSelector"), errs);
    label_selector(
        sub(term, "namespaceSelector"),
        &p.child("namespaceSelector"),
        errs,
    );
    for ns in strings(term, "namespaces") {
        for m in names::dns1123_label(ns) {
            errs.invalid(SCHEDULING, &p.alias("namespace", &["namespaces"]), &quote(ns), &m);
        }
    }
    // `validateMatchLabelKeysAndMismatchLabelKeys`.
    let match_keys = strings(term, "matchLabelKeys");
    for key in ["matchLabelKeys", "mismatchLabelKeys"] {
        let keys = strings(term, key);
        if keys.is_empty() {
            continue;
        }
        let kp = p.child(key);
        if selector.is_none() {
            errs.forbidden(
                SCHEDULING,
                &kp,
                "must not be specified when labelSelector is not set",
            );
            continue;
        }
        for (i, k) in keys.iter().enumerate() {
            label_name(k, &kp.index(i), errs);
        }
    }
    if let Some(sel) = selector {
        let mut selector_keys: HashSet<&str> = entries(sub(sel, "matchLabels"))
            .into_iter()
            .map(|(k, _)| k.as_str())
            .collect();
        for expr in items(sel, "matchExpressions") {
            let key = s(expr, "key");
            if let Some(i) = match_keys.iter().rposition(|k| *k == key) {
                if selector_keys.contains(key) {
                    // Upstream indexes the term's own path here.
                    errs.invalid(
                        SCHEDULING,
                        &p.index(i),
                        &quote(key),
                        "exists in both matchLabelKeys and labelSelector",
                    );
                }
            }
            selector_keys.insert(key);
        }
    }
    let mismatch: HashSet<&str> = strings(term, "mismatchLabelKeys").into_iter().collect();
    let mp = p.child("matchLabelKeys");
    for (i, k) in match_keys.iter().enumerate() {
        if mismatch.contains(k) {
            errs.invalid(
                SCHEDULING,
                &mp.index(i),
                &quote(k),
                "exists in both matchLabelKeys and mismatchLabelKeys",
            );
        }
    }
    let topology = s(term, "topologyKey");
    let tp = p.child("topologyKey");
    if topology.is_empty() {
        errs.required(SCHEDULING, &tp, "can not be empty");
    }
    label_name(topology, &tp, errs);
}

/// `validateSchedulingGates`: qualified names, each once.
pub(super) fn scheduling_gates(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let gp = p.child("schedulingGates");
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, gate) in items(spec, "schedulingGates").iter().enumerate() {
        let name = s(gate, "name");
        let ip = gp.index(i);
        for m in names::qualified_name(name) {
            errs.invalid(SCHEDULING, &ip, &quote(name), &m);
        }
        if !seen.insert(name) {
            errs.duplicate(SCHEDULING, &ip, &quote(name));
        }
    }
}

/// `validateTopologySpreadConstraints`.
pub(super) fn topology_spread_constraints(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let cp = p.child("topologySpreadConstraints");
    let list = items(spec, "topologySpreadConstraints");
    for (i, c) in list.iter().enumerate() {
        let ip = cp.index(i);
        let skew = int(c, "maxSkew").unwrap_or(0);
        if skew <= 0 {
            errs.invalid(
                SCHEDULING,
                &ip.child("maxSkew"),
                &skew.to_string(),
                "must be greater than zero",
            );
        }
        let key = s(c, "topologyKey");
        if key.is_empty() {
            errs.required(SCHEDULING, &ip.child("topologyKey"), "can not be empty");
        }
        let when = s(c, "whenUnsatisfiable");
        if when != "DoNotSchedule" && when != "ScheduleAnyway" {
            errs.not_supported(
                SCHEDULING,
                &ip.child("whenUnsatisfiable"),
                &quote(when),
                &["DoNotSchedule", "ScheduleAnyway"],
            );
        }
        if list[i + 1..]
            .iter()
            .any(|o| s(o, "topologyKey") == key && s(o, "whenUnsatisfiable") == when)
        {
            errs.duplicate(
                SCHEDULING,
                &ip.alias("{topologyKey, whenUnsatisfiable}", &[]),
                &quote(&format!("{{{key}, {when}}}")),
            );
        }
        if let Some(min) = int(c, "minDomains") {
            let mp = ip.child("minDomains");
            if min <= 0 {
                errs.invalid(SCHEDULING, &mp, &min.to_string(), "must be greater than zero");
            }
            if when != "DoNotSchedule" {
                errs.invalid(
                    SCHEDULING,
                    &mp,
                    &min.to_string(),
                    &format!("can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {when}"),
                );
            }
        }
        for key in ["nodeAffinityPolicy", "nodeTaintsPolicy"] {
            if let Some(policy) = sub(c, key).and_then(Value::as_str) {
                if policy != "Honor" && policy != "Ignore" {
                    errs.not_supported(SCHEDULING, &ip.child(key), &quote(policy), &["Honor", "Ignore"]);
                }
            }
        }
        let selector = sub(c, "labelSelector");
        let keys = strings(c, "matchLabelKeys");
        if !keys.is_empty() {
            let kp = ip.child("matchLabelKeys");
            let mut selector_keys: HashSet<&str> = HashSet::new();
            match selector {
                Some(sel) => {
                    selector_keys.extend(
                        entries(sub(sel, "matchLabels"))
                            .into_iter()
                            .map(|(k, _)| k.as_str()),
                    );
                    selector_keys.extend(items(sel, "matchExpressions").iter().map(|e| s(e, "key")));
                }
                None => errs.forbidden(
                    SCHEDULING,
                    &kp,
                    "must not be specified when labelSelector is not set",
                ),
            }
            for (j, k) in keys.iter().enumerate() {
                let jp = kp.index(j);
                label_name(k, &jp, errs);
                if selector_keys.contains(k) {
                    errs.invalid(
                        SCHEDULING,
                        &jp,
                        &quote(k),
                        "exists in both matchLabelKeys and labelSelector",
                    );
                }
            }
        }
        label_selector(selector, &ip.child("labelSelector"), errs);
    }
}
