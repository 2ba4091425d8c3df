//! `ValidateJobSpecUpdate`: what may change on a Job update, compared as
//! `equality.Semantic.DeepEqual` compares.

use serde_json::Value;

use crate::apiserver::field::{
    as_bool, as_int, as_str, get, go_label_selector, go_pod_failure_policy, go_success_policy, quote,
    semantic_eq, Errs, FieldPath,
};
use crate::model::RuleId;

/// `ValidateJobSpecUpdate`'s immutability rules (`ValidateImmutableField` compares with
/// `equality.Semantic`, see [`semantic_eq`]). The selector, podFailurePolicy and
/// successPolicy are printed in Go syntax as v1.32 does (pointers as a stand-in address);
/// the template as JSON, so only the detail text is exact for it.
pub(super) fn spec_update(spec: &Value, old: &Value, never_started: bool, p: &FieldPath, errs: &mut Errs) {
    let render = |key: &str| -> String {
        match get(spec, &[key]) {
            None => "null".to_string(),
            Some(Value::String(s)) => quote(s),
            Some(v) if key == "selector" => go_label_selector(v),
            Some(v) if key == "successPolicy" => go_success_policy(v),
            Some(v) if key == "podFailurePolicy" => go_pod_failure_policy(v),
            Some(other) => other.to_string(),
        }
    };
    let changed = |key: &str| !semantic_eq(get(spec, &[key]), get(old, &[key]));
    let indexed = as_str(get(spec, &["completionMode"])) == Some("Indexed");
    if changed("completions") {
        let c = as_int(get(spec, &["completions"]));
        if !indexed {
            errs.invalid(
                RuleId::ImmutableField,
                &p.child("completions"),
                &render("completions"),
                "field is immutable",
            );
        } else if let Some(c) = c {
            if Some(c) != as_int(get(spec, &["parallelism"])) {
                errs.invalid(
                    RuleId::ImmutableField,
                    &p.child("completions"),
                    &c.to_string(),
                    "can only be modified in tandem with spec.parallelism",
                );
            }
        }
    }
    if changed("selector") {
        errs.invalid(
            RuleId::ImmutableField,
            &p.child("selector"),
            &render("selector"),
            "field is immutable",
        );
    }
    if template_changed(spec, old, never_started) {
        errs.invalid(
            RuleId::ImmutableField,
            &p.child("template"),
            &render("template"),
            "field is immutable",
        );
    }
    for key in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        if changed(key) {
            errs.invalid(
                RuleId::ImmutableField,
                &p.child(key),
                &render(key),
                "field is immutable",
            );
        }
    }
}

/// The template is immutable, except scheduling directives and template labels and
/// annotations of a suspended Job that never started (`AllowMutableSchedulingDirectives`).
fn template_changed(spec: &Value, old: &Value, never_started: bool) -> bool {
    let mut new_t = get(spec, &["template"]).cloned().unwrap_or(Value::Null);
    let mut old_t = get(old, &["template"]).cloned().unwrap_or(Value::Null);
    if never_started && as_bool(get(old, &["suspend"])) == Some(true) {
        for t in [&mut new_t, &mut old_t] {
            if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("labels");
                m.remove("annotations");
            }
            if let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) {
                s.remove("nodeSelector");
                s.remove("tolerations");
                s.remove("schedulingGates");
                if let Some(a) = s.get_mut("affinity").and_then(Value::as_object_mut) {
                    a.remove("nodeAffinity");
                }
                if s.get("affinity")
                    .and_then(Value::as_object)
                    .is_some_and(|a| a.is_empty())
                {
                    s.remove("affinity");
                }
            }
        }
    }
    !semantic_eq(Some(&new_t), Some(&old_t))
}
