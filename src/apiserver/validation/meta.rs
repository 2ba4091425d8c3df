//! ObjectMeta, label and label-selector validation as apimachinery does it
//! (`ValidateObjectMeta`, `ValidateLabels`, `ValidateAnnotations`, `ValidateLabelSelector`).

use serde_json::Value;

use super::names;
use crate::apiserver::field::{as_str, get, quote, Errs, FieldPath};
use crate::model::RuleId;

const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// `ValidateObjectMeta` with a DNS-subdomain name. The namespace is checked only when
/// present: offline manifests rarely carry one and the request URL supplies it.
pub(crate) fn object_meta(meta: &Value, errs: &mut Errs) {
    let p = FieldPath::root("metadata");
    if let Some(gn) = as_str(get(meta, &["generateName"])).filter(|s| !s.is_empty()) {
        for m in names::name_is_dns_subdomain(gn, true) {
            errs.invalid(
                RuleId::InvalidGenerateName,
                &p.child("generateName"),
                &quote(gn),
                &m,
            );
        }
    }
    match as_str(get(meta, &["name"])).filter(|s| !s.is_empty()) {
        None => errs.required(
            RuleId::NameRequired,
            &p.child("name"),
            "name or generateName is required",
        ),
        Some(name) => {
            for m in names::name_is_dns_subdomain(name, false) {
                errs.invalid(RuleId::InvalidName, &p.child("name"), &quote(name), &m);
            }
        }
    }
    if let Some(ns) = as_str(get(meta, &["namespace"])).filter(|s| !s.is_empty()) {
        for m in names::dns1123_label(ns) {
            errs.invalid(RuleId::InvalidNamespace, &p.child("namespace"), &quote(ns), &m);
        }
    }
    labels(get(meta, &["labels"]), &p.child("labels"), errs);
    annotations(get(meta, &["annotations"]), &p.child("annotations"), errs);
    owner_references(get(meta, &["ownerReferences"]), &p.child("ownerReferences"), errs);
    finalizers(get(meta, &["finalizers"]), &p.child("finalizers"), errs);
}

/// The part of `ValidateObjectMetaUpdate` batchguard covers: labels, annotations and
/// owner references of the new object (the name cannot change: see the callers).
pub(crate) fn object_meta_update(meta: &Value, errs: &mut Errs) {
    let p = FieldPath::root("metadata");
    labels(get(meta, &["labels"]), &p.child("labels"), errs);
    annotations(get(meta, &["annotations"]), &p.child("annotations"), errs);
    owner_references(get(meta, &["ownerReferences"]), &p.child("ownerReferences"), errs);
}

/// `schema.ParseGroupVersion`'s version: empty for `""`, `"/"`, `"group/"` and for more
/// than one `/` (a parse error, which `FromAPIVersionAndKind` turns into an empty version).
fn api_version_version(api_version: &str) -> &str {
    if api_version == "/" {
        return "";
    }
    match api_version.matches('/').count() {
        0 => api_version,
        1 => api_version.split_once('/').map_or("", |(_, v)| v),
        _ => "",
    }
}

/// Go's `%#v` of a `metav1.OwnerReference`; its pointer fields print as addresses, for
/// which a fixed stand-in keeps the output stable.
fn go_owner_reference(r: &Value) -> String {
    let s = |k: &str| quote(as_str(get(r, &[k])).unwrap_or_default());
    let ptr = |k: &str| {
        if get(r, &[k]).is_some() {
            "(*bool)(0xc000000000)".to_string()
        } else {
            "(*bool)(nil)".to_string()
        }
    };
    format!(
        "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
        s("apiVersion"),
        s("kind"),
        s("name"),
        s("uid"),
        ptr("controller"),
        ptr("blockOwnerDeletion")
    )
}

/// apimachinery `ValidateOwnerReferences`: apiVersion (its version part), kind, name and
/// uid are set, an Event cannot own anything, and at most one reference is the controller.
pub(crate) fn owner_references(list: Option<&Value>, p: &FieldPath, errs: &mut Errs) {
    let refs: &[Value] = list.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let mut first_controller: Option<String> = None;
    for r in refs {
        let field = |k: &str| as_str(get(r, &[k])).unwrap_or_default();
        let (api_version, kind) = (field("apiVersion"), field("kind"));
        if api_version_version(api_version).is_empty() {
            errs.invalid(
                RuleId::InvalidOwnerReference,
                &p.child("apiVersion"),
                &quote(api_version),
                "version must not be empty",
            );
        }
        for (key, what) in [("kind", "kind"), ("name", "name"), ("uid", "uid")] {
            if field(key).is_empty() {
                errs.invalid(
                    RuleId::InvalidOwnerReference,
                    &p.child(key),
                    "\"\"",
                    &format!("{what} must not be empty"),
                );
            }
        }
        let group = api_version.split_once('/').map_or("", |(g, _)| g);
        let single_slash = api_version.matches('/').count() == 1 || !api_version.contains('/');
        if single_slash && group.is_empty() && api_version_version(api_version) == "v1" && kind == "Event" {
            errs.invalid(
                RuleId::InvalidOwnerReference,
                p,
                &go_owner_reference(r),
                "/v1, Kind=Event is disallowed from being an owner",
            );
        }
        if get(r, &["controller"]).and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{}", field("name"));
            match &first_controller {
                Some(first) => {
                    let all: Vec<String> = refs.iter().map(go_owner_reference).collect();
                    errs.invalid(
                        RuleId::InvalidOwnerReference,
                        p,
                        &format!("[]v1.OwnerReference{{{}}}", all.join(", ")),
                        &format!(
                            "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                        ),
                    );
                }
                None => first_controller = Some(current),
            }
        }
    }
}

const FINALIZER_ORPHAN: &str = "orphan";
const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// apimachinery `ValidateFinalizers` (last of `ValidateObjectMeta`): each name is a
/// qualified name, and `orphan` and `foregroundDeletion` exclude each other.
pub(crate) fn finalizers(list: Option<&Value>, p: &FieldPath, errs: &mut Errs) {
    let names: Vec<&str> = list
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().unwrap_or_default()).collect())
        .unwrap_or_default();
    for name in &names {
        for m in names::qualified_name(name) {
            errs.invalid(RuleId::InvalidFinalizer, p, &quote(name), &m);
        }
    }
    if names.contains(&FINALIZER_ORPHAN) && names.contains(&FINALIZER_FOREGROUND) {
        let quoted: Vec<String> = names.iter().map(|n| quote(n)).collect();
        errs.invalid(
            RuleId::InvalidFinalizer,
            p,
            &format!("[]string{{{}}}", quoted.join(", ")),
            &format!("finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} cannot be both set"),
        );
    }
}

/// Sorted map entries: Go iterates maps in random order, so any fixed order is as faithful.
fn sorted_entries(map: Option<&Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// `ValidateLabels`: every key a qualified name, every value a label value.
pub(crate) fn labels(map: Option<&Value>, p: &FieldPath, errs: &mut Errs) {
    for (k, v) in sorted_entries(map) {
        let entry = p.entry(k);
        label_name(k, &entry, errs);
        let v = v.as_str().unwrap_or_default();
        for m in names::label_value(v) {
            errs.invalid(RuleId::InvalidLabel, &entry, &quote(v), &m);
        }
    }
}

fn label_name(k: &str, p: &FieldPath, errs: &mut Errs) {
    for m in names::qualified_name(k) {
        errs.invalid(RuleId::InvalidLabel, p, &quote(k), &m);
    }
}

/// `ValidateAnnotations`: keys are qualified names (case-insensitive), total size capped.
pub(crate) fn annotations(map: Option<&Value>, p: &FieldPath, errs: &mut Errs) {
    let entries = sorted_entries(map);
    let mut total = 0usize;
    for (k, v) in &entries {
        for m in names::qualified_name(&k.to_lowercase()) {
            errs.invalid(RuleId::InvalidAnnotation, &p.entry(k), &quote(k), &m);
        }
        total += k.len() + v.as_str().map(str::len).unwrap_or_default();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.too_long(RuleId::InvalidAnnotation, p, TOTAL_ANNOTATION_SIZE_LIMIT);
    }
}

/// `ValidateLabelSelector`. Returns whether the selector is usable for matching
/// (`LabelSelectorAsSelector` succeeds exactly when it is valid).
pub(crate) fn label_selector(sel: &Value, p: &FieldPath, errs: &mut Errs) -> bool {
    let before = errs.0.len();
    labels(get(sel, &["matchLabels"]), &p.child("matchLabels"), errs);
    if let Some(exprs) = get(sel, &["matchExpressions"]).and_then(Value::as_array) {
        let exprs_p = p.child("matchExpressions");
        for (i, e) in exprs.iter().enumerate() {
            let ep = exprs_p.index(i);
            let op = as_str(get(e, &["operator"])).unwrap_or_default();
            let values: Vec<&str> = get(e, &["values"])
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|v| v.as_str().unwrap_or_default()).collect())
                .unwrap_or_default();
            match op {
                "In" | "NotIn" => {
                    if values.is_empty() {
                        errs.required(
                            RuleId::InvalidSelector,
                            &ep.child("values"),
                            "must be specified when `operator` is 'In' or 'NotIn'",
                        );
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        errs.forbidden(
                            RuleId::InvalidSelector,
                            &ep.child("values"),
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                        );
                    }
                }
                _ => errs.invalid(
                    RuleId::InvalidSelector,
                    &ep.child("operator"),
                    &quote(op),
                    "not a valid selector operator",
                ),
            }
            let key = as_str(get(e, &["key"])).unwrap_or_default();
            for m in names::qualified_name(key) {
                errs.invalid(RuleId::InvalidSelector, &ep.child("key"), &quote(key), &m);
            }
            for (j, v) in values.iter().enumerate() {
                for m in names::label_value(v) {
                    errs.invalid(
                        RuleId::InvalidSelector,
                        &ep.child("values").index(j),
                        &quote(v),
                        &m,
                    );
                }
            }
        }
    }
    for f in errs.0.since_mut(before) {
        if f.rule == RuleId::InvalidLabel {
            f.rule = RuleId::InvalidSelector;
        }
    }
    errs.0.len() == before
}

/// Whether a valid selector selects a label set. A missing selector selects nothing.
pub(crate) fn selector_matches(sel: Option<&Value>, labels: Option<&Value>) -> bool {
    let Some(sel) = sel else {
        return false;
    };
    let label = |k: &str| -> Option<&str> { labels.and_then(|l| as_str(get(l, &[k]))) };
    for (k, v) in sorted_entries(get(sel, &["matchLabels"])) {
        if label(k) != v.as_str() {
            return false;
        }
    }
    if let Some(exprs) = get(sel, &["matchExpressions"]).and_then(Value::as_array) {
        for e in exprs {
            let key = as_str(get(e, &["key"])).unwrap_or_default();
            let values: Vec<&str> = get(e, &["values"])
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = label(key);
            let ok = match as_str(get(e, &["operator"])).unwrap_or_default() {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(meta: Value) -> Vec<(String, String)> {
        let mut errs = Errs::default();
        object_meta(&meta, &mut errs);
        errs.0
            .into_vec()
            .into_iter()
            .map(|f| (f.field, f.message))
            .collect()
    }

    #[test]
    fn accepts_plain_metadata() {
        assert!(run(json!({"name": "nightly", "labels": {"app": "demo"}})).is_empty());
    }

    #[test]
    fn rejects_missing_name() {
        assert_eq!(
            run(json!({})),
            vec![(
                "metadata.name".to_string(),
                "Required value: name or generateName is required".to_string()
            )]
        );
    }

    #[test]
    fn rejects_bad_label_key_and_value() {
        let errs = run(json!({"name": "a", "labels": {"bad key": "-x"}}));
        assert_eq!(errs.len(), 2);
        assert!(errs[0]
            .1
            .starts_with("Invalid value: \"bad key\": name part must consist"));
        assert!(errs[1]
            .1
            .starts_with("Invalid value: \"-x\": a valid label must be"));
    }

    #[test]
    fn rejects_bad_generate_name_and_name() {
        let errs = run(json!({"name": "Demo-xxxxx", "generateName": "Demo-"}));
        assert_eq!(errs[0].0, "metadata.generateName");
        assert_eq!(errs[1].0, "metadata.name");
    }

    #[test]
    fn matches_selectors() {
        let labels = json!({"app": "demo", "tier": "x"});
        assert!(selector_matches(
            Some(&json!({"matchLabels": {"app": "demo"}})),
            Some(&labels)
        ));
        assert!(!selector_matches(
            Some(&json!({"matchLabels": {"app": "x"}})),
            Some(&labels)
        ));
        assert!(selector_matches(
            Some(&json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["demo"]}]})),
            Some(&labels)
        ));
        assert!(selector_matches(Some(&json!({})), None));
        assert!(!selector_matches(None, Some(&labels)));
    }

    #[test]
    fn rejects_bad_selector_operator() {
        let mut errs = Errs::default();
        let ok = label_selector(
            &json!({"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["a"]}]}),
            &FieldPath::root("spec").child("selector"),
            &mut errs,
        );
        assert!(!ok);
        assert_eq!(
            errs.0.as_slice()[0].field,
            "spec.selector.matchExpressions[0].operator"
        );
        assert_eq!(
            errs.0.as_slice()[0].message,
            "Invalid value: \"Equals\": not a valid selector operator"
        );
    }
}
