//! Evidence of user intent: whether the request shows that the user chose a field's value
//! (server-side apply ownership, `kubectl apply`'s last-applied configuration, or the
//! `batchguard.io/keep` annotation), so that a value at its API default is left alone.

use serde_json::Value;

use crate::policy::KEEP_ANNOTATION;

/// The annotation client-side `kubectl apply` stores the user's manifest in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What the request shows about the user's own choices.
#[derive(Debug, Default)]
pub struct Evidence<'a> {
    /// `fieldsV1` trees of the `operation: Apply` managedFields entries (server-side apply
    /// lists exactly the fields of the user's manifest; `Update` entries list defaulted
    /// fields too, so they prove nothing).
    applied: Vec<&'a Value>,
    /// The user's manifest as client-side `kubectl apply` stored it.
    last_applied: Option<Value>,
    /// Field names from the `batchguard.io/keep` annotation.
    keep: Vec<String>,
}

impl<'a> Evidence<'a> {
    /// Collects the evidence from an object's metadata; anything malformed proves nothing.
    pub fn of(object: &'a Value) -> Evidence<'a> {
        let Some(meta) = object.get("metadata") else {
            return Evidence::default();
        };
        let applied = meta
            .get("managedFields")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.get("operation").and_then(Value::as_str) == Some("Apply"))
                    // An apply to a subresource (status) owns nothing of the spec.
                    .filter(|e| {
                        e.get("subresource")
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty)
                    })
                    .filter_map(|e| e.get("fieldsV1"))
                    .collect()
            })
            .unwrap_or_default();
        let annotations = meta.get("annotations");
        let last_applied = annotations
            .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok());
        let keep = annotations
            .and_then(|a| a.get(KEEP_ANNOTATION))
            .and_then(Value::as_str)
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Evidence {
            applied,
            last_applied,
            keep,
        }
    }

    /// Did the user choose the field at `path` (`["spec", "concurrencyPolicy"]`)?
    pub fn chose(&self, path: &[&str]) -> bool {
        let last = path.last().copied().unwrap_or_default();
        if self.keep.iter().any(|k| k == last || is_dotted(k, path)) {
            return true;
        }
        if let Some(manifest) = &self.last_applied {
            if lookup(manifest, path.iter().copied()).is_some() {
                return true;
            }
        }
        self.applied
            .iter()
            .any(|fields| lookup(fields, path.iter().map(|t| format!("f:{t}"))).is_some())
    }
}

/// `k` is `path` joined with dots.
fn is_dotted(k: &str, path: &[&str]) -> bool {
    let mut rest = k;
    for (i, token) in path.iter().enumerate() {
        if i > 0 {
            let Some(r) = rest.strip_prefix('.') else {
                return false;
            };
            rest = r;
        }
        let Some(r) = rest.strip_prefix(token) else {
            return false;
        };
        rest = r;
    }
    rest.is_empty()
}

fn lookup<K: AsRef<str>>(mut v: &Value, keys: impl Iterator<Item = K>) -> Option<&Value> {
    for k in keys {
        v = v.as_object()?.get(k.as_ref())?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evidence_keep_matches_the_last_key_or_the_dotted_path() {
        let annotated = |keep: &str| json!({"metadata": {"annotations": {KEEP_ANNOTATION: keep}}});
        let path = ["spec", "jobTemplate", "spec", "activeDeadlineSeconds"];
        for (keep, chose) in [
            ("activeDeadlineSeconds", true),
            ("spec.jobTemplate.spec.activeDeadlineSeconds", true),
            (" x , spec.jobTemplate.spec.activeDeadlineSeconds ", true),
            ("spec.jobTemplate.spec", false),
            ("spec.jobTemplate.spec.activeDeadlineSecondsX", false),
            ("spec.jobTemplate.specXactiveDeadlineSeconds", false),
            ("jobTemplate.spec.activeDeadlineSeconds", false),
            ("", false),
        ] {
            let object = annotated(keep);
            assert_eq!(Evidence::of(&object).chose(&path), chose, "{keep:?}");
        }
    }
}
