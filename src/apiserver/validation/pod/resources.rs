//! Compute resources: `ValidateContainerResourceRequirements` (names, quantities, requests
//! within limits, hugepages), the `overhead` list, the downward API's
//! `resourceFieldRef`, and the storage request of an ephemeral volume's claim.

use std::cmp::Ordering;

use serde_json::Value;

use super::super::names;
use super::{entries, s, sub, RESOURCES};
use crate::apiserver::field::{quote, Errs, FieldPath};
use crate::apiserver::quantity::{self, Quantity};
use crate::model::RuleId;

/// A resource-list value as the API server holds it: parsed, and rounded up to milli-units
/// (`SetDefaults_ResourceList`).
fn list_quantity(v: &Value) -> Quantity {
    quantity::from_json(v)
        .unwrap_or_else(Quantity::zero)
        .round_to_milli()
}

const HUGEPAGES_PREFIX: &str = "hugepages-";

fn is_hugepages(name: &str) -> bool {
    name.starts_with(HUGEPAGES_PREFIX)
}

/// `IsNativeResource`: unprefixed, or in the `kubernetes.io/` namespace.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `IsExtendedResourceName`.
fn is_extended(name: &str) -> bool {
    if is_native(name) || name.starts_with("requests.") {
        return false;
    }
    names::qualified_name(&format!("requests.{name}")).is_empty()
}

/// `IsOvercommitAllowed`.
fn overcommit_allowed(name: &str) -> bool {
    is_native(name) && !is_hugepages(name)
}

/// `IsIntegerResourceName`.
fn is_integer_resource(name: &str) -> bool {
    const INTEGER: &[&str] = &[
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    ];
    INTEGER.contains(&name) || is_extended(name)
}

/// `IsStandardResourceName`.
fn is_standard(name: &str) -> bool {
    const STANDARD: &[&str] = &[
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    ];
    STANDARD.contains(&name) || is_hugepages(name) || name.starts_with("requests.hugepages-")
}

/// `validateContainerResourceName` (after `validateResourceName`). Go prints the name
/// unquoted: `core.ResourceName` has a `String` method.
fn container_resource_name(name: &str, p: &FieldPath, errs: &mut Errs) {
    let problems = names::qualified_name(name);
    if !problems.is_empty() {
        for m in problems {
            errs.invalid(RESOURCES, p, name, &m);
        }
    } else if !name.contains('/') && !is_standard(name) {
        errs.invalid(
            RESOURCES,
            p,
            name,
            "must be a standard resource type or fully qualified",
        );
    }
    if !name.contains('/') {
        if !(matches!(name, "cpu" | "memory" | "ephemeral-storage") || is_hugepages(name)) {
            errs.invalid(RESOURCES, p, name, "must be a standard resource for containers");
        }
    } else if !is_native(name) && !is_extended(name) {
        errs.invalid(
            RESOURCES,
            p,
            name,
            "doesn't follow extended resource name standard",
        );
    }
}

/// `ValidateResourceQuantityValue`: not negative; whole for integer resources.
fn quantity_value(name: &str, q: &Quantity, p: &FieldPath, errs: &mut Errs) {
    if q.is_negative() {
        errs.invalid(
            RESOURCES,
            p,
            &quote(&q.to_go_string()),
            "must be greater than or equal to 0",
        );
    }
    if is_integer_resource(name) && q.has_fraction_of_milli_units() {
        errs.invalid(RESOURCES, p, &q.to_go_string(), "must be an integer");
    }
}

/// `validateResourceQuantityHugePageValue` (indivisible values are allowed only when the
/// stored object already had them, never on create).
fn hugepages_value(name: &str, q: &Quantity, p: &FieldPath, errs: &mut Errs) {
    if !is_hugepages(name) {
        return;
    }
    let divisible = quantity::parse(&name[HUGEPAGES_PREFIX.len()..]).is_ok_and(|page| {
        let page_ok = !page.is_negative() && !page.is_zero() && !page.has_fraction_of_milli_units();
        page_ok && {
            let size = page.whole();
            size != 0 && q.whole() % size == 0
        }
    });
    if !divisible {
        errs.invalid(
            RESOURCES,
            p,
            &quote(&q.to_go_string()),
            &format!("{} is not positive integer multiple of {name}", q.to_go_string()),
        );
    }
}

/// `validateResourceRequirements` with `validateContainerResourceName`.
pub(super) fn container_resources(r: &Value, p: &FieldPath, errs: &mut Errs) {
    let lim_p = p.child("limits");
    let req_p = p.child("requests");
    let limits = entries(sub(r, "limits"));
    let mut cpu_or_memory = false;
    let mut hugepages = false;
    for (name, v) in &limits {
        let fp = lim_p.key(name);
        container_resource_name(name, &fp, errs);
        let q = list_quantity(v);
        quantity_value(name, &q, &fp, errs);
        if is_hugepages(name) {
            hugepages = true;
            hugepages_value(name, &q, &fp, errs);
        }
        cpu_or_memory |= matches!(name.as_str(), "cpu" | "memory");
    }
    for (name, v) in entries(sub(r, "requests")) {
        let fp = req_p.key(name);
        container_resource_name(name, &fp, errs);
        let q = list_quantity(v);
        quantity_value(name, &q, &fp, errs);
        match limits.iter().find(|(k, _)| *k == name) {
            Some((_, lv)) => {
                let limit = list_quantity(lv);
                let order = q.cmp(&limit);
                if order != Ordering::Equal && !overcommit_allowed(name) {
                    errs.invalid(
                        RESOURCES,
                        &req_p,
                        &quote(&q.to_go_string()),
                        &format!("must be equal to {name} limit of {}", limit.to_go_string()),
                    );
                } else if order == Ordering::Greater {
                    errs.invalid(
                        RESOURCES,
                        &req_p,
                        &quote(&q.to_go_string()),
                        &format!(
                            "must be less than or equal to {name} limit of {}",
                            limit.to_go_string()
                        ),
                    );
                }
            }
            None if !overcommit_allowed(name) => errs.required(
                RESOURCES,
                &lim_p,
                "Limit must be set for non overcommitable resources",
            ),
            None => {}
        }
        if is_hugepages(name) {
            hugepages = true;
            hugepages_value(name, &q, &fp, errs);
        }
        cpu_or_memory |= matches!(name.as_str(), "cpu" | "memory");
    }
    if hugepages && !cpu_or_memory {
        errs.forbidden(RESOURCES, p, "HugePages require cpu or memory");
    }
}

/// `validateOverhead`: the pod's overhead checked as the limits of a container's
/// requirements at the overhead's path, so its causes read `overhead.limits[cpu]`.
pub(super) fn overhead(list: &Value, p: &FieldPath, errs: &mut Errs) {
    let lim_p = p.alias("limits", &[]);
    let mut cpu_or_memory = false;
    let mut hugepages = false;
    for (name, v) in entries(Some(list)) {
        let fp = lim_p.key(name);
        container_resource_name(name, &fp, errs);
        let q = list_quantity(v);
        quantity_value(name, &q, &fp, errs);
        if is_hugepages(name) {
            hugepages = true;
            hugepages_value(name, &q, &fp, errs);
        }
        cpu_or_memory |= matches!(name.as_str(), "cpu" | "memory");
    }
    if hugepages && !cpu_or_memory {
        errs.forbidden(RESOURCES, p, "HugePages require cpu or memory");
    }
}

/// The resources a `resourceFieldRef` may name (`validContainerResourceFieldPathExpressions`), sorted.
const RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

/// `validateContainerResourceFieldSelector` and `validateContainerResourceDivisor`; in a
/// volume the container name is required.
pub(super) fn resource_field_selector(r: &Value, volume: bool, p: &FieldPath, rule: RuleId, errs: &mut Errs) {
    let resource = s(r, "resource");
    if volume && s(r, "containerName").is_empty() {
        errs.required(rule, &p.child("containerName"), "");
    } else if resource.is_empty() {
        errs.required(rule, &p.child("resource"), "");
    } else if !RESOURCE_FIELD_PATHS.contains(&resource)
        && !resource.starts_with("limits.hugepages-")
        && !resource.starts_with("requests.hugepages-")
    {
        errs.not_supported(rule, &p.child("resource"), &quote(resource), RESOURCE_FIELD_PATHS);
    }
    let Some(divisor) = sub(r, "divisor").and_then(quantity::from_json) else {
        return;
    };
    if divisor.is_zero() {
        return;
    }
    let d = divisor.to_go_string();
    const SIZES: &[&str] = &[
        "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei",
    ];
    let what = match resource {
        "limits.cpu" | "requests.cpu" => (!["1m", "1"].contains(&d.as_str()))
            .then_some("only divisor's values 1m and 1 are supported with the cpu resource"),
        "limits.memory" | "requests.memory" => (!SIZES.contains(&d.as_str())).then_some(
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource",
        ),
        "limits.ephemeral-storage" | "requests.ephemeral-storage" => (!SIZES.contains(&d.as_str())).then_some(
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource",
        ),
        _ => None,
    };
    if let Some(m) = what {
        errs.invalid(rule, &p.child("divisor"), &quote(resource), m);
    }
    if (resource.starts_with("requests.hugepages-") || resource.starts_with("limits.hugepages-"))
        && !SIZES.contains(&d.as_str())
    {
        errs.invalid(
            rule,
            &p.child("divisor"),
            &quote(resource),
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource",
        );
    }
}

/// The `storage` request of a claim template (`ValidatePersistentVolumeClaimSpec`): present
/// and positive (Go prints its path as `resources[storage]`).
pub(super) fn claim_storage(resources: Option<&Value>, p: &FieldPath, rule: RuleId, errs: &mut Errs) {
    let rp = p.child("resources");
    let kp = rp.key("storage");
    let storage = resources
        .and_then(|r| sub(r, "requests"))
        .and_then(|r| r.get("storage"));
    let Some(v) = storage else {
        errs.required(rule, &kp, "");
        return;
    };
    let q = list_quantity(v);
    if q.is_negative() || q.is_zero() {
        errs.invalid(rule, &kp, &quote(&q.to_go_string()), "must be greater than zero");
    }
}
