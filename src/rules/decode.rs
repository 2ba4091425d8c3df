//! What the API server's JSON decoder refuses before any validation runs: a string where an
//! int is expected, an int32 overflow, a fraction, a string for a bool, a wrong apiVersion.
//! Those are HTTP 400 answers with no causes, so we report one finding and stop.
//!
//! The schema below covers the batch/v1 fields batchguard validates; it is checked the way
//! Go's `encoding/json` does (first error wins, keys in the order kubectl sends them, which
//! is sorted because it marshals a map), and worded like its `UnmarshalTypeError`.

use serde_json::Value;

use super::field::FieldPath;
use super::{Finding, Kind, Origin, Reason, Segment, Severity};

#[derive(Clone, Copy)]
enum Ty {
    Int32,
    Int64,
    Bool,
    /// A string, with its Go type name (`string`, `v1.RestartPolicy`).
    Str(&'static str),
    StrMap,
    Struct(&'static Schema),
    /// A slice, with its Go type name and element type.
    Slice(&'static str, &'static Ty),
}

struct Schema {
    /// `v1.JobSpec`, used when a whole struct has the wrong type.
    go_type: &'static str,
    /// `JobSpec`, the struct named in the error.
    name: &'static str,
    fields: &'static [(&'static str, Ty)],
}

static OBJECT_META: Schema = Schema {
    go_type: "v1.ObjectMeta",
    name: "ObjectMeta",
    fields: &[
        ("annotations", Ty::StrMap),
        ("finalizers", Ty::Slice("[]string", &Ty::Str("string"))),
        ("generateName", Ty::Str("string")),
        ("generation", Ty::Int64),
        ("labels", Ty::StrMap),
        ("name", Ty::Str("string")),
        ("namespace", Ty::Str("string")),
        (
            "ownerReferences",
            Ty::Slice("[]v1.OwnerReference", &Ty::Struct(&OWNER_REFERENCE)),
        ),
        ("uid", Ty::Str("types.UID")),
    ],
};

static OWNER_REFERENCE: Schema = Schema {
    go_type: "v1.OwnerReference",
    name: "OwnerReference",
    fields: &[
        ("apiVersion", Ty::Str("string")),
        ("blockOwnerDeletion", Ty::Bool),
        ("controller", Ty::Bool),
        ("kind", Ty::Str("string")),
        ("name", Ty::Str("string")),
        ("uid", Ty::Str("types.UID")),
    ],
};

static LABEL_SELECTOR_REQUIREMENT: Schema = Schema {
    go_type: "v1.LabelSelectorRequirement",
    name: "LabelSelectorRequirement",
    fields: &[
        ("key", Ty::Str("string")),
        ("operator", Ty::Str("v1.LabelSelectorOperator")),
        ("values", Ty::Slice("[]string", &Ty::Str("string"))),
    ],
};

static LABEL_SELECTOR: Schema = Schema {
    go_type: "v1.LabelSelector",
    name: "LabelSelector",
    fields: &[
        (
            "matchExpressions",
            Ty::Slice(
                "[]v1.LabelSelectorRequirement",
                &Ty::Struct(&LABEL_SELECTOR_REQUIREMENT),
            ),
        ),
        ("matchLabels", Ty::StrMap),
    ],
};

static ENV_VAR: Schema = Schema {
    go_type: "v1.EnvVar",
    name: "EnvVar",
    fields: &[("name", Ty::Str("string")), ("value", Ty::Str("string"))],
};

static CONTAINER_PORT: Schema = Schema {
    go_type: "v1.ContainerPort",
    name: "ContainerPort",
    fields: &[
        ("containerPort", Ty::Int32),
        ("hostIP", Ty::Str("string")),
        ("hostPort", Ty::Int32),
        ("name", Ty::Str("string")),
        ("protocol", Ty::Str("v1.Protocol")),
    ],
};

static CONTAINER: Schema = Schema {
    go_type: "v1.Container",
    name: "Container",
    fields: &[
        ("args", Ty::Slice("[]string", &Ty::Str("string"))),
        ("command", Ty::Slice("[]string", &Ty::Str("string"))),
        ("env", Ty::Slice("[]v1.EnvVar", &Ty::Struct(&ENV_VAR))),
        ("image", Ty::Str("string")),
        ("imagePullPolicy", Ty::Str("v1.PullPolicy")),
        ("name", Ty::Str("string")),
        (
            "ports",
            Ty::Slice("[]v1.ContainerPort", &Ty::Struct(&CONTAINER_PORT)),
        ),
        ("stdin", Ty::Bool),
        ("stdinOnce", Ty::Bool),
        ("terminationMessagePath", Ty::Str("string")),
        ("terminationMessagePolicy", Ty::Str("v1.TerminationMessagePolicy")),
        ("tty", Ty::Bool),
        ("workingDir", Ty::Str("string")),
    ],
};

static POD_SPEC: Schema = Schema {
    go_type: "v1.PodSpec",
    name: "PodSpec",
    fields: &[
        ("activeDeadlineSeconds", Ty::Int64),
        ("automountServiceAccountToken", Ty::Bool),
        ("containers", Ty::Slice("[]v1.Container", &Ty::Struct(&CONTAINER))),
        ("dnsPolicy", Ty::Str("v1.DNSPolicy")),
        ("hostIPC", Ty::Bool),
        ("hostNetwork", Ty::Bool),
        ("hostPID", Ty::Bool),
        ("hostname", Ty::Str("string")),
        (
            "initContainers",
            Ty::Slice("[]v1.Container", &Ty::Struct(&CONTAINER)),
        ),
        ("nodeName", Ty::Str("string")),
        ("nodeSelector", Ty::StrMap),
        ("priority", Ty::Int32),
        ("priorityClassName", Ty::Str("string")),
        ("restartPolicy", Ty::Str("v1.RestartPolicy")),
        ("schedulerName", Ty::Str("string")),
        ("serviceAccountName", Ty::Str("string")),
        ("subdomain", Ty::Str("string")),
        ("terminationGracePeriodSeconds", Ty::Int64),
    ],
};

static POD_TEMPLATE_SPEC: Schema = Schema {
    go_type: "v1.PodTemplateSpec",
    name: "PodTemplateSpec",
    fields: &[
        ("metadata", Ty::Struct(&OBJECT_META)),
        ("spec", Ty::Struct(&POD_SPEC)),
    ],
};

static ON_EXIT_CODES: Schema = Schema {
    go_type: "v1.PodFailurePolicyOnExitCodesRequirement",
    name: "PodFailurePolicyOnExitCodesRequirement",
    fields: &[
        ("containerName", Ty::Str("string")),
        ("operator", Ty::Str("v1.PodFailurePolicyOnExitCodesOperator")),
        ("values", Ty::Slice("[]int32", &Ty::Int32)),
    ],
};

static ON_POD_CONDITION: Schema = Schema {
    go_type: "v1.PodFailurePolicyOnPodConditionsPattern",
    name: "PodFailurePolicyOnPodConditionsPattern",
    fields: &[
        ("status", Ty::Str("v1.ConditionStatus")),
        ("type", Ty::Str("v1.PodConditionType")),
    ],
};

static POD_FAILURE_POLICY_RULE: Schema = Schema {
    go_type: "v1.PodFailurePolicyRule",
    name: "PodFailurePolicyRule",
    fields: &[
        ("action", Ty::Str("v1.PodFailurePolicyAction")),
        ("onExitCodes", Ty::Struct(&ON_EXIT_CODES)),
        (
            "onPodConditions",
            Ty::Slice(
                "[]v1.PodFailurePolicyOnPodConditionsPattern",
                &Ty::Struct(&ON_POD_CONDITION),
            ),
        ),
    ],
};

static POD_FAILURE_POLICY: Schema = Schema {
    go_type: "v1.PodFailurePolicy",
    name: "PodFailurePolicy",
    fields: &[(
        "rules",
        Ty::Slice("[]v1.PodFailurePolicyRule", &Ty::Struct(&POD_FAILURE_POLICY_RULE)),
    )],
};

static SUCCESS_POLICY_RULE: Schema = Schema {
    go_type: "v1.SuccessPolicyRule",
    name: "SuccessPolicyRule",
    fields: &[
        ("succeededCount", Ty::Int32),
        ("succeededIndexes", Ty::Str("string")),
    ],
};

static SUCCESS_POLICY: Schema = Schema {
    go_type: "v1.SuccessPolicy",
    name: "SuccessPolicy",
    fields: &[(
        "rules",
        Ty::Slice("[]v1.SuccessPolicyRule", &Ty::Struct(&SUCCESS_POLICY_RULE)),
    )],
};

static JOB_SPEC: Schema = Schema {
    go_type: "v1.JobSpec",
    name: "JobSpec",
    fields: &[
        ("activeDeadlineSeconds", Ty::Int64),
        ("backoffLimit", Ty::Int32),
        ("backoffLimitPerIndex", Ty::Int32),
        ("completionMode", Ty::Str("v1.CompletionMode")),
        ("completions", Ty::Int32),
        ("managedBy", Ty::Str("string")),
        ("manualSelector", Ty::Bool),
        ("maxFailedIndexes", Ty::Int32),
        ("parallelism", Ty::Int32),
        ("podFailurePolicy", Ty::Struct(&POD_FAILURE_POLICY)),
        ("podReplacementPolicy", Ty::Str("v1.PodReplacementPolicy")),
        ("selector", Ty::Struct(&LABEL_SELECTOR)),
        ("successPolicy", Ty::Struct(&SUCCESS_POLICY)),
        ("suspend", Ty::Bool),
        ("template", Ty::Struct(&POD_TEMPLATE_SPEC)),
        ("ttlSecondsAfterFinished", Ty::Int32),
    ],
};

static JOB_TEMPLATE_SPEC: Schema = Schema {
    go_type: "v1.JobTemplateSpec",
    name: "JobTemplateSpec",
    fields: &[
        ("metadata", Ty::Struct(&OBJECT_META)),
        ("spec", Ty::Struct(&JOB_SPEC)),
    ],
};

static CRONJOB_SPEC: Schema = Schema {
    go_type: "v1.CronJobSpec",
    name: "CronJobSpec",
    fields: &[
        ("concurrencyPolicy", Ty::Str("v1.ConcurrencyPolicy")),
        ("failedJobsHistoryLimit", Ty::Int32),
        ("jobTemplate", Ty::Struct(&JOB_TEMPLATE_SPEC)),
        ("schedule", Ty::Str("string")),
        ("startingDeadlineSeconds", Ty::Int64),
        ("successfulJobsHistoryLimit", Ty::Int32),
        ("suspend", Ty::Bool),
        ("timeZone", Ty::Str("string")),
    ],
};

static JOB: Schema = Schema {
    go_type: "v1.Job",
    name: "Job",
    fields: &[
        ("apiVersion", Ty::Str("string")),
        ("kind", Ty::Str("string")),
        ("metadata", Ty::Struct(&OBJECT_META)),
        ("spec", Ty::Struct(&JOB_SPEC)),
    ],
};

static CRONJOB: Schema = Schema {
    go_type: "v1.CronJob",
    name: "CronJob",
    fields: &[
        ("apiVersion", Ty::Str("string")),
        ("kind", Ty::Str("string")),
        ("metadata", Ty::Struct(&OBJECT_META)),
        ("spec", Ty::Struct(&CRONJOB_SPEC)),
    ],
};

/// One decode failure: where, and Go's description of it.
struct TypeError {
    /// The field as the API server prints it, and where it lives.
    api: String,
    loc: Vec<Segment>,
    /// `number 2147483648`, `string`, `bool`, `array`, `object`.
    value: String,
    go_type: &'static str,
    /// The enclosing struct and the dotted JSON field path (no indexes), as Go prints them.
    context: Option<(&'static str, String)>,
}

/// The decode error the API server would answer with, if any.
pub(crate) fn check(kind: Kind, obj: &Value) -> Option<Finding> {
    let k = kind.as_str();
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str) {
        if av != "batch/v1" {
            // The body's version is not the endpoint's: the API server refuses it before
            // looking at any field.
            let detail = format!(
                "the API version in the data ({av}) does not match the expected API version (batch/v1)"
            );
            return Some(Finding {
                rule: "decode-error",
                severity: Severity::Error,
                origin: Origin::Api,
                field: "apiVersion".into(),
                reason: Reason::FieldValueInvalid,
                message: detail,
                location: vec![Segment::Key("apiVersion".into())],
            });
        }
    }
    let schema = match kind {
        Kind::Job => &JOB,
        Kind::CronJob => &CRONJOB,
    };
    if !obj.is_object() && !obj.is_null() {
        return Some(Finding {
            rule: "decode-error",
            severity: Severity::Error,
            origin: Origin::Api,
            field: "(object)".into(),
            reason: Reason::FieldValueInvalid,
            message: format!(
                "{k} in version \"v1\" cannot be handled as a {k}: json: cannot unmarshal {} into Go value of type {}",
                json_kind(obj),
                schema.go_type
            ),
            location: Vec::new(),
        });
    }
    // Nearly every object is well typed (always, for one an API server sends to the
    // webhook): say so without building a path for every field on the way.
    if struct_ok(obj, schema) {
        return None;
    }
    let err = walk_struct(obj, schema, &FieldPath::TOP, &[])?;
    let what = match &err.context {
        Some((st, field)) => format!(
            "json: cannot unmarshal {} into Go struct field {st}.{field} of type {}",
            err.value, err.go_type
        ),
        None => format!(
            "json: cannot unmarshal {} into Go value of type {}",
            err.value, err.go_type
        ),
    };
    Some(Finding {
        rule: "decode-error",
        severity: Severity::Error,
        origin: Origin::Api,
        field: if err.api.is_empty() {
            "(object)".into()
        } else {
            err.api
        },
        reason: Reason::FieldValueInvalid,
        message: format!("{k} in version \"v1\" cannot be handled as a {k}: {what}"),
        location: err.loc,
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Number(_) => "number",
        Value::Null => "null",
    }
}

/// Whether [`walk_struct`] finds no error: the same checks, in any order, building nothing.
fn struct_ok(v: &Value, schema: &'static Schema) -> bool {
    let Some(map) = v.as_object() else {
        return true;
    };
    map.iter().all(
        |(key, child)| match schema.fields.iter().find(|(k, _)| k == key) {
            Some((_, ty)) => ok(child, *ty),
            None => true,
        },
    )
}

/// Whether [`walk`] finds no error.
fn ok(v: &Value, ty: Ty) -> bool {
    match (ty, v) {
        (_, Value::Null) => true,
        (Ty::Int32 | Ty::Int64, Value::Number(n)) => int_fits(n, ty),
        (Ty::Int32 | Ty::Int64, _) => false,
        (Ty::Bool, v) => v.is_boolean(),
        (Ty::Str(_), v) => v.is_string(),
        (Ty::StrMap, Value::Object(m)) => m.values().all(|i| i.is_string() || i.is_null()),
        (Ty::StrMap, _) => false,
        (Ty::Struct(schema), Value::Object(_)) => struct_ok(v, schema),
        (Ty::Struct(_), _) => false,
        (Ty::Slice(_, elem), Value::Array(items)) => items.iter().all(|item| match (elem, item) {
            (Ty::Struct(schema), Value::Object(_)) => struct_ok(item, schema),
            (Ty::Struct(_), Value::Null) => true,
            (Ty::Struct(_), _) => false,
            (other, item) => ok(item, *other),
        }),
        (Ty::Slice(..), _) => false,
    }
}

/// An integer field's value fits its Go type (`int32` or `int64`).
fn int_fits(n: &serde_json::Number, ty: Ty) -> bool {
    let (min, max) = match ty {
        Ty::Int32 => (i32::MIN as i128, i32::MAX as i128),
        _ => (i64::MIN as i128, i64::MAX as i128),
    };
    let int = if let Some(i) = n.as_i64() {
        Some(i as i128)
    } else if let Some(u) = n.as_u64() {
        Some(u as i128)
    } else {
        // kubectl re-marshals YAML floats, so 5.0 arrives as 5.
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
            .map(|f| f as i128)
    };
    int.is_some_and(|i| i >= min && i <= max)
}

/// Checks a struct value: it must be an object, then each known field in sorted key order.
fn walk_struct(v: &Value, schema: &'static Schema, p: &FieldPath, stack: &[&str]) -> Option<TypeError> {
    let map = v.as_object()?;
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for key in keys {
        let Some((_, ty)) = schema.fields.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let child = map.get(key.as_str())?;
        let mut fstack = stack.to_vec();
        fstack.push(key);
        let cp = p.child(key);
        if let Some(e) = walk(child, *ty, &cp, schema.name, &fstack) {
            return Some(e);
        }
    }
    None
}

fn walk(v: &Value, ty: Ty, p: &FieldPath, parent: &'static str, stack: &[&str]) -> Option<TypeError> {
    if v.is_null() {
        return None;
    }
    let error_at = |at: &FieldPath, value: String, go_type: &'static str| {
        Some(TypeError {
            api: at.api(),
            loc: at.loc(),
            value,
            go_type,
            context: Some((parent, stack.join("."))),
        })
    };
    let mismatch = |value: String, go_type: &'static str| error_at(p, value, go_type);
    match ty {
        Ty::Int32 | Ty::Int64 => {
            let go_type = if matches!(ty, Ty::Int32) { "int32" } else { "int64" };
            match v {
                Value::Number(n) if int_fits(n, ty) => None,
                Value::Number(n) => mismatch(format!("number {}", number_text(n)), go_type),
                other => mismatch(json_kind(other).to_string(), go_type),
            }
        }
        Ty::Bool => match v {
            Value::Bool(_) => None,
            other => mismatch(json_kind(other).to_string(), "bool"),
        },
        Ty::Str(go_type) => match v {
            Value::String(_) => None,
            other => mismatch(json_kind(other).to_string(), go_type),
        },
        Ty::StrMap => match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    let item = m.get(k.as_str())?;
                    if !(item.is_string() || item.is_null()) {
                        return error_at(&p.key(k), json_kind(item).to_string(), "string");
                    }
                }
                None
            }
            other => mismatch(json_kind(other).to_string(), "map[string]string"),
        },
        Ty::Struct(schema) => match v {
            Value::Object(_) => walk_struct(v, schema, p, stack),
            other => mismatch(json_kind(other).to_string(), schema.go_type),
        },
        Ty::Slice(go_type, elem) => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    let e = match elem {
                        Ty::Struct(schema) => match item {
                            Value::Object(_) => walk_struct(item, schema, &ip, stack),
                            Value::Null => None,
                            other => error_at(&ip, json_kind(other).to_string(), schema.go_type),
                        },
                        other => walk(item, *other, &ip, parent, stack),
                    };
                    if e.is_some() {
                        return e;
                    }
                }
                None
            }
            other => mismatch(json_kind(other).to_string(), go_type),
        },
    }
}

/// kubectl's default `--validate=strict`: the API server refuses fields its Go types do not
/// have (a typo such as `concurrencyPolcy`) with one 400 listing them all, in the order
/// of kubectl's sorted JSON. The field names are k8s-openapi's (see the README for the
/// version). Only for manifests: an object the API server sent a webhook has none left.
/// Answers nothing when the object does not deserialize at all (a type error the schema
/// above does not cover); that is not for this check to word.
pub(crate) fn unknown_fields(kind: Kind, obj: &Value) -> Option<Finding> {
    let mut unknown: Vec<Vec<Segment>> = Vec::new();
    let mut record = |path: serde_ignored::Path| unknown.push(segments(&path));
    let read = match kind {
        Kind::Job => {
            serde_ignored::deserialize(obj, &mut record).map(|_: k8s_openapi::api::batch::v1::Job| ())
        }
        Kind::CronJob => {
            serde_ignored::deserialize(obj, &mut record).map(|_: k8s_openapi::api::batch::v1::CronJob| ())
        }
    };
    if read.is_err() || unknown.is_empty() {
        return None;
    }
    let listed: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{}\"", Segment::dotted(p)))
        .collect();
    let k = kind.as_str();
    Some(Finding {
        rule: "decode-error",
        severity: Severity::Error,
        origin: Origin::Api,
        field: Segment::dotted(&unknown[0]),
        reason: Reason::FieldValueInvalid,
        message: format!(
            "{k} in version \"v1\" cannot be handled as a {k}: strict decoding error: {}",
            listed.join(", ")
        ),
        location: unknown.swap_remove(0),
    })
}

fn segments(path: &serde_ignored::Path) -> Vec<Segment> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => {
            let mut out = segments(parent);
            out.push(Segment::Index(*index));
            out
        }
        Path::Map { parent, key } => {
            let mut out = segments(parent);
            out.push(Segment::Key(key.clone()));
            out
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            segments(parent)
        }
    }
}

/// A number as it appears in the JSON kubectl sends: integers as they are, floats as Go's
/// `encoding/json` writes them (kubectl re-encodes what it read from YAML).
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64().filter(|_| n.is_f64()) {
        Some(f) => go_json_float(f),
        None => n.to_string(),
    }
}

/// Go's `encoding/json` float: the shortest digits that read back the same (`5`, not
/// `5.0`), with an exponent when the magnitude is below 1e-6 or at least 1e21 (`1e+23`,
/// `1e-7`: `strconv`'s `e-07`, trimmed by the encoder). Rust's `{}` and `{:e}` give the
/// same shortest digits, only the exponent is spelled differently.
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => format!("{mantissa}e+{exponent}"),
            _ => text,
        }
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What Go's `json.Marshal(float64)` prints for the same values.
    #[test]
    fn floats_print_as_go_json_does() {
        for (f, go) in [
            (5.0, "5"),
            (2.5, "2.5"),
            (-0.5, "-0.5"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1e23, "1e+23"),
            (-1.5e22, "-1.5e+22"),
            (1.234_567_89e23, "1.23456789e+23"),
            (0.000_001, "0.000001"),
            (1e-7, "1e-7"),
            (2.5e-10, "2.5e-10"),
            (0.0, "0"),
        ] {
            assert_eq!(go_json_float(f), go, "{f:?}");
        }
    }

    fn msg(kind: Kind, v: Value) -> Option<(String, String)> {
        check(kind, &v).map(|f| (f.field, f.message))
    }

    /// The fast check and the path-building walk agree on every corpus manifest, and on
    /// each of them with every node in turn replaced by a value of each JSON type.
    #[test]
    fn fast_check_agrees_with_the_walk() {
        fn nodes(v: &Value, at: String, out: &mut Vec<String>) {
            out.push(at.clone());
            match v {
                Value::Object(m) => m.iter().for_each(|(k, c)| nodes(c, format!("{at}/{k}"), out)),
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .for_each(|(i, c)| nodes(c, format!("{at}/{i}"), out)),
                _ => {}
            }
        }
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/manifests-corpus/manifests"
        );
        let replacements = [
            json!(null),
            json!("x"),
            json!(7),
            json!(-2147483649i64),
            json!(2147483648u64),
            json!(u64::MAX),
            json!(1.5),
            json!(3.0),
            json!(true),
            json!([]),
            json!([1, "a", null, {}]),
            json!({}),
            json!({"a": 1}),
        ];
        let (mut checked, mut errors) = (0, 0);
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("corpus")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for path in files.iter().step_by(7) {
            let text = std::fs::read_to_string(path).expect("manifest");
            let Some(Ok(doc)) = crate::yaml::parse_stream(&text).into_iter().next() else {
                continue;
            };
            let Some(object) = doc.value else { continue };
            let mut at = Vec::new();
            nodes(&object, String::new(), &mut at);
            for schema in [&JOB, &CRONJOB] {
                let mut agree = |v: &Value| {
                    let walked = walk_struct(v, schema, &FieldPath::TOP, &[]).is_none();
                    assert_eq!(struct_ok(v, schema), walked, "{}: {v}", path.display());
                    checked += 1;
                    errors += usize::from(!walked);
                };
                agree(&object);
                for pointer in &at {
                    for r in &replacements {
                        let mut variant = object.clone();
                        if let Some(node) = variant.pointer_mut(pointer) {
                            *node = r.clone();
                            agree(&variant);
                        }
                    }
                }
            }
        }
        assert!(
            checked > 10_000 && errors > 1_000,
            "{checked} checked, {errors} with errors"
        );
    }

    #[test]
    fn accepts_well_typed_objects() {
        assert_eq!(
            msg(
                Kind::Job,
                json!({"apiVersion": "batch/v1", "spec": {"completions": 5.0, "parallelism": null}})
            ),
            None
        );
    }

    #[test]
    fn rejects_int32_overflow_with_go_wording() {
        let (field, message) = msg(
            Kind::CronJob,
            json!({"spec": {"jobTemplate": {"spec": {"backoffLimit": 2147483648u64}}}}),
        )
        .expect("overflow");
        assert_eq!(field, "spec.jobTemplate.spec.backoffLimit");
        assert_eq!(message, "CronJob in version \"v1\" cannot be handled as a CronJob: json: cannot unmarshal number 2147483648 into Go struct field JobSpec.spec.jobTemplate.spec.backoffLimit of type int32");
    }

    #[test]
    fn rejects_fraction_string_and_bool_mismatches() {
        assert_eq!(
            msg(Kind::CronJob, json!({"spec": {"startingDeadlineSeconds": 10.5}})).map(|m| m.1),
            Some("CronJob in version \"v1\" cannot be handled as a CronJob: json: cannot unmarshal number 10.5 into Go struct field CronJobSpec.spec.startingDeadlineSeconds of type int64".to_string())
        );
        assert_eq!(
            msg(Kind::CronJob, json!({"spec": {"suspend": "true"}})).map(|m| m.1),
            Some("CronJob in version \"v1\" cannot be handled as a CronJob: json: cannot unmarshal string into Go struct field CronJobSpec.spec.suspend of type bool".to_string())
        );
    }

    #[test]
    fn rejects_number_label_values() {
        let (field, message) = msg(Kind::Job, json!({"metadata": {"labels": {"v": 1}}})).expect("label");
        assert_eq!(field, "metadata.labels[v]");
        assert!(message.ends_with("Go struct field ObjectMeta.metadata.labels of type string"));
    }

    #[test]
    fn rejects_args_that_are_not_strings() {
        let (field, message) = msg(
            Kind::Job,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "args": ["--n", 5]}]}}}}),
        )
        .expect("number arg");
        assert_eq!(field, "spec.template.spec.containers[0].args[1]");
        assert!(message.ends_with("json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.args of type string"), "{message}");
    }

    #[test]
    fn rejects_wrong_api_version() {
        assert!(msg(Kind::CronJob, json!({"apiVersion": "batch/v1beta1"})).is_some());
    }

    #[test]
    fn rejects_bad_list_elements() {
        let (field, message) = msg(
            Kind::Job,
            json!({"spec": {"podFailurePolicy": {"rules": [{"onExitCodes": {"values": [1, "2"]}}]}}}),
        )
        .expect("element");
        assert_eq!(field, "spec.podFailurePolicy.rules[0].onExitCodes.values[1]");
        assert!(message.ends_with("PodFailurePolicyOnExitCodesRequirement.spec.podFailurePolicy.rules.onExitCodes.values of type int32"), "{message}");
    }
}
