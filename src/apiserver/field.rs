//! Field paths and cause bodies in apimachinery's `field.Error` format, so every finding
//! prints exactly as the API server would (`Invalid value: "x": detail`).

use serde_json::Value;

use crate::model::{Capped, Finding, Origin, Reason, RuleId, Segment, Severity};

/// A field as the API server names it (`spec.template.labels`) together with where it
/// really lives in the object (`spec/template/metadata/labels`).
///
/// Rules build a path for every field they visit, and nearly every field is fine, so a path
/// is only a step and a borrow of its parent: extending one allocates nothing. The two
/// spellings are written out ([`FieldPath::api`], [`FieldPath::loc`]) only when a finding is
/// made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    step: Step<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    /// The object itself: printed as nothing.
    Top,
    /// A struct field, `.key`.
    Field(&'a str),
    /// A list element, `[3]`.
    Index(usize),
    /// A map entry, `[key]` (apimachinery prints map keys unquoted).
    MapKey(&'a str),
    /// A field printed as `.api` but stored under `loc`.
    Alias(&'a str, &'a [&'a str]),
    /// A map entry the API server reports at the map itself (`metadata.labels`): printed
    /// as nothing, located at the entry, so a finding points at the label it is about.
    Entry(&'a str),
}

impl<'a> FieldPath<'a> {
    /// The object itself, where decode errors about the whole body point.
    pub const TOP: FieldPath<'static> = FieldPath {
        parent: None,
        step: Step::Top,
    };

    pub const fn root(key: &'a str) -> FieldPath<'a> {
        FieldPath {
            parent: None,
            step: Step::Field(key),
        }
    }

    /// A struct field: `a.b`.
    pub const fn child(&'a self, key: &'a str) -> FieldPath<'a> {
        self.then(Step::Field(key))
    }

    /// A list element: `a[3]`.
    pub const fn index(&'a self, i: usize) -> FieldPath<'a> {
        self.then(Step::Index(i))
    }

    /// A map entry: `labels[app]`.
    pub const fn key(&'a self, key: &'a str) -> FieldPath<'a> {
        self.then(Step::MapKey(key))
    }

    /// A map entry whose errors the API server prints at the map (`metadata.labels`), but
    /// which is located at its key.
    pub const fn entry(&'a self, key: &'a str) -> FieldPath<'a> {
        self.then(Step::Entry(key))
    }

    /// A field whose printed name differs from where it is stored: the pod template's
    /// `labels` are printed as `template.labels` but stored under `template.metadata.labels`.
    pub const fn alias(&'a self, api_key: &'a str, loc_keys: &'a [&'a str]) -> FieldPath<'a> {
        self.then(Step::Alias(api_key, loc_keys))
    }

    const fn then(&'a self, step: Step<'a>) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            step,
        }
    }

    /// The path as the API server prints it: `spec.rules[2][a/b]`.
    pub fn api(&self) -> String {
        let mut out = String::new();
        self.write_api(&mut out);
        out
    }

    fn write_api(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_api(out);
        }
        match self.step {
            Step::Top | Step::Entry(_) => {}
            Step::Field(key) | Step::Alias(key, _) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(i) => {
                use std::fmt::Write as _;
                let _ = write!(out, "[{i}]");
            }
            Step::MapKey(key) => {
                out.push('[');
                out.push_str(key);
                out.push(']');
            }
        }
    }

    /// Where the field really lives, key by key.
    pub fn loc(&self) -> Vec<Segment> {
        let mut out = Vec::new();
        self.write_loc(&mut out);
        out
    }

    fn write_loc(&self, out: &mut Vec<Segment>) {
        if let Some(parent) = self.parent {
            parent.write_loc(out);
        }
        match self.step {
            Step::Top => {}
            Step::Field(key) | Step::MapKey(key) | Step::Entry(key) => {
                out.push(Segment::Key(key.to_string()))
            }
            Step::Index(i) => out.push(Segment::Index(i)),
            Step::Alias(_, keys) => out.extend(keys.iter().map(|k| Segment::Key((*k).to_string()))),
        }
    }
}

/// `spec.jobTemplate.spec`, the CronJob's Job spec.
pub(crate) static JOB_TEMPLATE_SPEC: FieldPath<'static> = JOB_TEMPLATE.child("spec");
/// `spec.jobTemplate`.
pub(crate) static JOB_TEMPLATE: FieldPath<'static> = SPEC.child("jobTemplate");
/// `spec`.
pub(crate) static SPEC: FieldPath<'static> = FieldPath::root("spec");

/// Go's `strconv.Quote`, the rendering of a string bad value.
pub(crate) use crate::gocompat::go_quote as quote;

/// A finding about the field at `p`: the one place a path is written out.
pub(crate) fn finding(
    rule: RuleId,
    severity: Severity,
    origin: Origin,
    p: &FieldPath,
    reason: Reason,
    message: String,
) -> Finding {
    Finding {
        rule,
        severity,
        origin,
        field: p.api(),
        reason,
        message,
        location: p.loc(),
        omitted: 0,
    }
}

/// Collects the causes of one object, in the order the API server appends them.
#[derive(Debug, Default)]
/// Bounded (see [`Capped`]): past the cap a cause is only counted, so checking an object
/// with a cause per list item costs no memory per item.
pub(crate) struct Errs(pub Capped);

impl Errs {
    pub fn push(&mut self, rule: RuleId, p: &FieldPath, reason: Reason, message: String) {
        if self.0.is_full() {
            self.0
                .omit(rule, Severity::Error, Origin::Api, reason, 1, || p.loc());
        } else {
            self.0
                .push(finding(rule, Severity::Error, Origin::Api, p, reason, message));
        }
    }

    pub fn required(&mut self, rule: RuleId, p: &FieldPath, detail: &str) {
        self.push(
            rule,
            p,
            Reason::FieldValueRequired,
            with_detail("Required value", detail),
        );
    }

    /// `value` is already rendered (see [`quote`] and the `go_*` helpers).
    pub fn invalid(&mut self, rule: RuleId, p: &FieldPath, value: &str, detail: &str) {
        self.push(
            rule,
            p,
            Reason::FieldValueInvalid,
            with_detail(&format!("Invalid value: {value}"), detail),
        );
    }

    /// `field.Invalid` with `OmitValueType`: no value printed.
    pub fn invalid_omit(&mut self, rule: RuleId, p: &FieldPath, detail: &str) {
        self.push(
            rule,
            p,
            Reason::FieldValueInvalid,
            with_detail("Invalid value", detail),
        );
    }

    pub fn not_supported(&mut self, rule: RuleId, p: &FieldPath, value: &str, supported: &[&str]) {
        self.push(
            rule,
            p,
            Reason::FieldValueNotSupported,
            not_supported_message(value, supported),
        );
    }

    pub fn duplicate(&mut self, rule: RuleId, p: &FieldPath, value: &str) {
        self.push(
            rule,
            p,
            Reason::FieldValueDuplicate,
            format!("Duplicate value: {value}"),
        );
    }

    pub fn too_many(&mut self, rule: RuleId, p: &FieldPath, n: usize, max: usize) {
        self.push(
            rule,
            p,
            Reason::FieldValueTooMany,
            format!("Too many: {n}: must have at most {max} items"),
        );
    }

    pub fn too_long(&mut self, rule: RuleId, p: &FieldPath, max: usize) {
        self.push(
            rule,
            p,
            Reason::FieldValueTooLong,
            format!("Too long: may not be more than {max} bytes"),
        );
    }

    /// `field.NotFound`: `Not found: "x"`.
    pub fn not_found(&mut self, rule: RuleId, p: &FieldPath, value: &str) {
        self.push(rule, p, Reason::FieldValueNotFound, format!("Not found: {value}"));
    }

    pub fn forbidden(&mut self, rule: RuleId, p: &FieldPath, detail: &str) {
        self.push(
            rule,
            p,
            Reason::FieldValueForbidden,
            with_detail("Forbidden", detail),
        );
    }
}

fn with_detail(body: &str, detail: &str) -> String {
    if detail.is_empty() {
        body.to_string()
    } else {
        format!("{body}: {detail}")
    }
}

/// `Unsupported value: "x": supported values: "A", "B"`.
pub(crate) fn not_supported_message(value: &str, supported: &[&str]) -> String {
    let list: Vec<String> = supported.iter().map(|s| quote(s)).collect();
    format!(
        "Unsupported value: {value}: supported values: {}",
        list.join(", ")
    )
}

/// Go's `%q` of a `[]string`: `["A" "B"]`.
pub(crate) fn go_quoted_list(items: &[&str]) -> String {
    let list: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", list.join(" "))
}

/// The value at `path` below `v`; JSON `null` counts as absent, as it does for Go's decoder.
pub(crate) fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(*k)?;
    }
    if cur.is_null() {
        None
    } else {
        Some(cur)
    }
}

/// An integer as the API server decodes it. Floats with no fraction count (kubectl turns
/// YAML `5.0` into JSON `5`); anything else was already reported as a decode error.
pub(crate) fn as_int(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    if let Some(u) = v.as_u64() {
        return Some(i64::try_from(u).unwrap_or(i64::MAX));
    }
    // A float in the int64 range, its ends included: kubectl turns YAML
    // `-9223372036854775809` into the float -2^63, which Go then decodes as an int64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let f = v.as_f64()?;
    if f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// apimachinery's `equality.Semantic.DeepEqual` as far as JSON can tell: a nil slice or map
/// equals an empty one (and JSON `null` or an absent key is nil), and numbers compare by
/// value (`5` equals `5.0`). Used for the immutable-field checks of an update.
pub(crate) fn semantic_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    fn empty(v: Option<&Value>) -> bool {
        match v {
            None | Some(Value::Null) => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(o)) => o.is_empty(),
            _ => false,
        }
    }
    if empty(a) && empty(b) {
        return true;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.keys().chain(y.keys()).all(|k| semantic_eq(x.get(k), y.get(k)))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| semantic_eq(Some(p), Some(q)))
        }
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

pub(crate) fn as_str(v: Option<&Value>) -> Option<&str> {
    v?.as_str()
}

pub(crate) fn as_bool(v: Option<&Value>) -> Option<bool> {
    v?.as_bool()
}

/// Go's `%#v` of a `map[string]string` (keys sorted, as fmt prints maps).
pub(crate) fn go_string_map(v: Option<&Value>) -> String {
    let Some(map) = v.and_then(Value::as_object) else {
        return "map[string]string(nil)".to_string();
    };
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}:{}", quote(k), quote(v.as_str().unwrap_or_default())))
        .collect();
    format!("map[string]string{{{}}}", parts.join(", "))
}

/// Go's `%#v` of a `[]int32`.
pub(crate) fn go_int32_slice(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        None => "[]int32(nil)".to_string(),
        Some(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| as_int(Some(i)).unwrap_or_default().to_string())
                .collect();
            format!("[]int32{{{}}}", parts.join(", "))
        }
    }
}

/// Go's `%#v` of a `[]string`.
fn go_string_slice(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        None => "[]string(nil)".to_string(),
        Some(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| quote(i.as_str().unwrap_or_default()))
                .collect();
            format!("[]string{{{}}}", parts.join(", "))
        }
    }
}

/// Go's `%#v` of a `metav1.LabelSelector` (v1.32 prints non-scalar bad values this way).
pub(crate) fn go_label_selector(v: &Value) -> String {
    let labels = go_string_map(get(v, &["matchLabels"]));
    let exprs = match get(v, &["matchExpressions"]).and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|e| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        quote(as_str(get(e, &["key"])).unwrap_or_default()),
                        quote(as_str(get(e, &["operator"])).unwrap_or_default()),
                        go_string_slice(get(e, &["values"]))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", parts.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

/// Go's `%#v` of a `batch.SuccessPolicy`. Go prints pointer fields as addresses, which
/// vary per request; a fixed stand-in address keeps our output stable.
pub(crate) fn go_success_policy(v: &Value) -> String {
    const ADDR: &str = "0xc000000000";
    let rules = match get(v, &["rules"]).and_then(Value::as_array) {
        None => "[]batch.SuccessPolicyRule(nil)".to_string(),
        Some(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|r| {
                    let idx = if get(r, &["succeededIndexes"]).is_some() {
                        format!("(*string)({ADDR})")
                    } else {
                        "(*string)(nil)".to_string()
                    };
                    let cnt = if get(r, &["succeededCount"]).is_some() {
                        format!("(*int32)({ADDR})")
                    } else {
                        "(*int32)(nil)".to_string()
                    };
                    format!("batch.SuccessPolicyRule{{SucceededIndexes:{idx}, SucceededCount:{cnt}}}")
                })
                .collect();
            format!("[]batch.SuccessPolicyRule{{{}}}", parts.join(", "))
        }
    };
    format!("batch.SuccessPolicy{{Rules:{rules}}}")
}

/// Go's `%#v` of a `batch.PodFailurePolicy` (the bad value of its immutability error).
/// Pointer fields print as addresses in Go; a fixed stand-in keeps our output stable.
pub(crate) fn go_pod_failure_policy(v: &Value) -> String {
    const ADDR: &str = "0xc000000000";
    let rules = match get(v, &["rules"]).and_then(Value::as_array) {
        None => "[]batch.PodFailurePolicyRule(nil)".to_string(),
        Some(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|r| {
                    let exit = if get(r, &["onExitCodes"]).is_some() {
                        format!("(*batch.PodFailurePolicyOnExitCodesRequirement)({ADDR})")
                    } else {
                        "(*batch.PodFailurePolicyOnExitCodesRequirement)(nil)".to_string()
                    };
                    let conditions = match get(r, &["onPodConditions"]).and_then(Value::as_array) {
                        None => "[]batch.PodFailurePolicyOnPodConditionsPattern(nil)".to_string(),
                        Some(ps) => {
                            let ps: Vec<String> = ps
                                .iter()
                                .map(|c| {
                                    format!(
                                        "batch.PodFailurePolicyOnPodConditionsPattern{{Type:{}, Status:{}}}",
                                        quote(as_str(get(c, &["type"])).unwrap_or_default()),
                                        quote(as_str(get(c, &["status"])).unwrap_or_default())
                                    )
                                })
                                .collect();
                            format!("[]batch.PodFailurePolicyOnPodConditionsPattern{{{}}}", ps.join(", "))
                        }
                    };
                    format!(
                        "batch.PodFailurePolicyRule{{Action:{}, OnExitCodes:{exit}, OnPodConditions:{conditions}}}",
                        quote(as_str(get(r, &["action"])).unwrap_or_default())
                    )
                })
                .collect();
            format!("[]batch.PodFailurePolicyRule{{{}}}", parts.join(", "))
        }
    };
    format!("batch.PodFailurePolicy{{Rules:{rules}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_api_and_real_paths() {
        let key = |k: &str| Segment::Key(k.into());
        // A path borrows its parents, so each is checked within the statement that builds it.
        let check = |p: &FieldPath, api: &str, loc: Vec<Segment>| {
            assert_eq!(p.api(), api);
            assert_eq!(p.loc(), loc);
        };
        check(
            &FieldPath::root("spec")
                .child("template")
                .alias("labels", &["metadata", "labels"]),
            "spec.template.labels",
            ["spec", "template", "metadata", "labels"].map(key).to_vec(),
        );
        check(
            &FieldPath::root("spec").child("rules").index(2).key("a/b"),
            "spec.rules[2][a/b]",
            vec![key("spec"), key("rules"), Segment::Index(2), key("a/b")],
        );
        // Under the whole object a field has no leading dot; the object itself is empty.
        check(
            &FieldPath::TOP.child("spec").index(0),
            "spec[0]",
            vec![key("spec"), Segment::Index(0)],
        );
        check(&FieldPath::TOP, "", Vec::new());
        // A label is reported at the map but located at its key.
        check(
            &FieldPath::root("metadata").child("labels").entry("app"),
            "metadata.labels",
            ["metadata", "labels", "app"].map(key).to_vec(),
        );
        assert_eq!(JOB_TEMPLATE_SPEC.api(), "spec.jobTemplate.spec");
    }

    /// A whole float anywhere in the int64 range is the integer Go decodes, down to -2^63.
    #[test]
    fn reads_whole_floats_across_the_int64_range() {
        use serde_json::json;
        assert_eq!(as_int(Some(&json!(5.0))), Some(5));
        assert_eq!(as_int(Some(&json!(-9.223372036854776e18))), Some(i64::MIN));
        assert_eq!(as_int(Some(&json!(-9.2e18))), Some(-9_200_000_000_000_000_000));
        assert_eq!(as_int(Some(&json!(9.3e18))), None);
        assert_eq!(as_int(Some(&json!(1.5))), None);
    }

    #[test]
    fn renders_pod_failure_policies_like_go() {
        let v = serde_json::json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]});
        assert_eq!(
            go_pod_failure_policy(&v),
            r#"batch.PodFailurePolicy{Rules:[]batch.PodFailurePolicyRule{batch.PodFailurePolicyRule{Action:"Ignore", OnExitCodes:(*batch.PodFailurePolicyOnExitCodesRequirement)(nil), OnPodConditions:[]batch.PodFailurePolicyOnPodConditionsPattern{batch.PodFailurePolicyOnPodConditionsPattern{Type:"DisruptionTarget", Status:"True"}}}}}"#
        );
    }

    #[test]
    fn compares_like_semantic_deep_equal() {
        use serde_json::json;
        assert!(semantic_eq(None, Some(&json!([]))));
        assert!(semantic_eq(Some(&json!({"labels": {}})), Some(&json!({}))));
        assert!(semantic_eq(Some(&json!({"a": null})), Some(&json!({}))));
        assert!(semantic_eq(Some(&json!(5)), Some(&json!(5.0))));
        assert!(!semantic_eq(Some(&json!(5)), Some(&json!(6))));
        assert!(!semantic_eq(
            Some(&json!({"a": [1]})),
            Some(&json!({"a": [1, 2]}))
        ));
        assert!(!semantic_eq(Some(&json!("")), None));
        assert!(!semantic_eq(Some(&json!({"a": 1})), Some(&json!({"b": 1}))));
    }

    #[test]
    fn renders_go_values() {
        let v: Value = serde_json::json!({"b": "2", "a": "1"});
        assert_eq!(go_string_map(Some(&v)), r#"map[string]string{"a":"1", "b":"2"}"#);
        assert_eq!(go_string_map(None), "map[string]string(nil)");
        let v: Value = serde_json::json!([3, 1, 2]);
        assert_eq!(go_int32_slice(Some(&v)), "[]int32{3, 1, 2}");
        let sel = serde_json::json!({"matchLabels": {"app": "demo"}});
        assert_eq!(
            go_label_selector(&sel),
            r#"v1.LabelSelector{MatchLabels:map[string]string{"app":"demo"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"#
        );
    }
}
