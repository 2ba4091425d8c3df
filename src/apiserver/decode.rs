//! What the API server's JSON decoder refuses before any validation runs: a string where an
//! int is expected, an int32 overflow, a fraction, a string for a bool, a wrong apiVersion.
//! Those are HTTP 400 answers with no causes, so we report one finding and stop.
//!
//! The schema (`decode/schema.rs`, generated from the Kubernetes API types by
//! `tools/gen_decode_schema.py`) covers every field of a Job and a CronJob, the pod template
//! included; it is checked the way Go's `encoding/json` does (the first type mismatch wins,
//! keys in the order kubectl sends them, which is sorted because it marshals a map; an
//! error of a type's own decoder, such as an unparseable quantity, wins over all), and
//! worded like its errors. The same schema tells kubectl's strict unknown-field check.

use serde_json::Value;

use super::field::FieldPath;
use crate::gocompat::json_number_text as number_text;
use crate::model::{Finding, Kind, Origin, Reason, RuleId, Segment, Severity};

mod schema;

/// The Go type a JSON value decodes into.
#[derive(Clone, Copy)]
enum Ty {
    Int32,
    Int64,
    Bool,
    /// A string, with its Go type name (`string`, `v1.RestartPolicy`).
    Str(&'static str),
    /// `map[string]string`.
    StrMap,
    /// A map of quantities, with its Go type name (`v1.ResourceList`).
    QuantityMap(&'static str),
    Struct(&'static Schema),
    /// A slice, with its Go type name and element type.
    Slice(&'static str, &'static Ty),
    /// `resource.Quantity`, whose own `UnmarshalJSON` parses any JSON value's text.
    Quantity,
    /// `intstr.IntOrString`: a string, or an int32 decoded by a nested `json.Unmarshal`.
    IntOrString,
    /// `metav1.Time`: `null` or an RFC 3339 string.
    Time,
    /// Raw JSON kept as it is (`metav1.FieldsV1`).
    Raw,
}

/// A Go struct: its fields sorted by JSON name (see `decode/schema.rs`, generated).
struct Schema {
    /// `v1.JobSpec`, used when a whole struct has the wrong type.
    go_type: &'static str,
    /// `JobSpec`, the struct named in the error.
    name: &'static str,
    fields: &'static [(&'static str, Ty)],
}

impl Schema {
    fn field(&self, key: &str) -> Option<Ty> {
        self.fields
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .map(|i| self.fields[i].1)
    }
}

/// One decode failure: where, and Go's description of it.
struct TypeError {
    /// The field as the API server prints it, and where it lives.
    api: String,
    loc: Vec<Segment>,
    /// What follows `cannot be handled as a Job: `.
    message: String,
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
                rule: RuleId::DecodeError,
                severity: Severity::Error,
                origin: Origin::Api,
                field: "apiVersion".into(),
                reason: Reason::FieldValueInvalid,
                message: detail,
                location: vec![Segment::Key("apiVersion".into())],
                omitted: 0,
            });
        }
    }
    let schema = root(kind);
    if !obj.is_object() && !obj.is_null() {
        return Some(Finding {
            rule: RuleId::DecodeError,
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
            omitted: 0,
        });
    }
    // Nearly every object is well typed (always, for one an API server sends to the
    // webhook): say so without building a path for every field on the way.
    if struct_ok(obj, schema) {
        return None;
    }
    let mut first = None;
    let err = match walk_struct(obj, schema, &FieldPath::TOP, &[], &mut first) {
        Err(e) => e,
        Ok(()) => first?,
    };
    Some(Finding {
        rule: RuleId::DecodeError,
        severity: Severity::Error,
        origin: Origin::Api,
        field: if err.api.is_empty() {
            "(object)".into()
        } else {
            err.api
        },
        reason: Reason::FieldValueInvalid,
        message: format!(
            "{k} in version \"v1\" cannot be handled as a {k}: {}",
            err.message
        ),
        location: err.loc,
        omitted: 0,
    })
}

fn root(kind: Kind) -> &'static Schema {
    match kind {
        Kind::Job => &schema::JOB,
        Kind::CronJob => &schema::CRON_JOB,
    }
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
    map.iter().all(|(key, child)| match schema.field(key) {
        Some(ty) => ok(child, ty),
        None => true,
    })
}

/// Whether [`walk`] finds no error.
fn ok(v: &Value, ty: Ty) -> bool {
    match (ty, v) {
        (Ty::Raw, _) => true,
        (Ty::Quantity, v) => quantity_error(v).is_none(),
        (Ty::IntOrString, v) => int_or_string_error(v).is_none(),
        (Ty::Time, v) => time_error(v).is_none(),
        (_, Value::Null) => true,
        (Ty::Int32 | Ty::Int64, Value::Number(n)) => int_fits(n, ty),
        (Ty::Int32 | Ty::Int64, _) => false,
        (Ty::Bool, v) => v.is_boolean(),
        (Ty::Str(_), v) => v.is_string(),
        (Ty::StrMap, Value::Object(m)) => m.values().all(|i| i.is_string() || i.is_null()),
        (Ty::QuantityMap(_), Value::Object(m)) => m.values().all(|i| quantity_error(i).is_none()),
        (Ty::StrMap | Ty::QuantityMap(_), _) => false,
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

/// `Quantity.UnmarshalJSON`: `null` is zero; anything else is parsed as text.
fn quantity_error(v: &Value) -> Option<&'static str> {
    let text = super::quantity::json_text(v)?;
    super::quantity::parse(&text).err().map(|e| e.message())
}

/// `IntOrString.UnmarshalJSON`: a string, else `json.Unmarshal` into an `int32` (a nested
/// call, so Go names no struct field).
fn int_or_string_error(v: &Value) -> Option<String> {
    let what = match v {
        Value::String(_) | Value::Null => return None,
        Value::Number(n) if int_fits(n, Ty::Int32) => return None,
        Value::Number(n) => format!("number {}", number_text(n)),
        other => json_kind(other).to_string(),
    };
    Some(format!(
        "json: cannot unmarshal {what} into Go value of type int32"
    ))
}

/// `metav1.Time.UnmarshalJSON`: `null`, or a string `time.Parse` reads as RFC 3339.
fn time_error(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if rfc3339(s) => None,
        Value::String(s) => Some(format!(
            "parsing time {} as \"2006-01-02T15:04:05Z07:00\": cannot parse {} as \"2006\"",
            super::field::quote(s),
            super::field::quote(s)
        )),
        other => Some(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_kind(other)
        )),
    }
}

/// Whether `time.Parse(time.RFC3339, s)` succeeds (chrono's RFC 3339 reader agrees on the
/// forms a manifest holds: `2024-01-02T03:04:05Z`, with fraction or offset).
fn rfc3339(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Checks a struct value: each known field in sorted key order. Go's decoder keeps going
/// after a type mismatch (`UnmarshalTypeError`) and answers with the first one at the end,
/// so that is kept in `first`; an error of a type's own `UnmarshalJSON` (a quantity that
/// does not parse) stops it at once and wins over any mismatch seen before: `Err`.
fn walk_struct(
    v: &Value,
    schema: &'static Schema,
    p: &FieldPath,
    stack: &[&str],
    first: &mut Option<TypeError>,
) -> Result<(), TypeError> {
    let Some(map) = v.as_object() else {
        return Ok(());
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for key in keys {
        let Some(ty) = schema.field(key) else {
            continue;
        };
        let Some(child) = map.get(key.as_str()) else {
            continue;
        };
        let mut fstack = stack.to_vec();
        fstack.push(key);
        let cp = p.child(key);
        walk(child, ty, &cp, schema.name, &fstack, first)?;
    }
    Ok(())
}

fn walk(
    v: &Value,
    ty: Ty,
    p: &FieldPath,
    parent: &'static str,
    stack: &[&str],
    first: &mut Option<TypeError>,
) -> Result<(), TypeError> {
    let mismatch = |first: &mut Option<TypeError>, at: &FieldPath, value: String, go_type: &'static str| {
        if first.is_none() {
            *first = Some(TypeError {
                api: at.api(),
                loc: at.loc(),
                message: format!(
                    "json: cannot unmarshal {value} into Go struct field {parent}.{} of type {go_type}",
                    stack.join(".")
                ),
            });
        }
    };
    let hard = |at: &FieldPath, message: String| {
        Err(TypeError {
            api: at.api(),
            loc: at.loc(),
            message,
        })
    };
    match ty {
        Ty::Raw => {}
        Ty::Quantity => {
            if let Some(m) = quantity_error(v) {
                return hard(p, m.to_string());
            }
        }
        Ty::IntOrString => {
            if let Some(m) = int_or_string_error(v) {
                return hard(p, m);
            }
        }
        Ty::Time => {
            if let Some(m) = time_error(v) {
                return hard(p, m);
            }
        }
        _ if v.is_null() => {}
        Ty::Int32 | Ty::Int64 => {
            let go_type = if matches!(ty, Ty::Int32) { "int32" } else { "int64" };
            match v {
                Value::Number(n) if int_fits(n, ty) => {}
                Value::Number(n) => mismatch(first, p, format!("number {}", number_text(n)), go_type),
                other => mismatch(first, p, json_kind(other).to_string(), go_type),
            }
        }
        Ty::Bool => {
            if !v.is_boolean() {
                mismatch(first, p, json_kind(v).to_string(), "bool");
            }
        }
        Ty::Str(go_type) => {
            if !v.is_string() {
                mismatch(first, p, json_kind(v).to_string(), go_type);
            }
        }
        Ty::StrMap => match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    if let Some(item) = m.get(k.as_str()).filter(|i| !(i.is_string() || i.is_null())) {
                        mismatch(first, &p.key(k), json_kind(item).to_string(), "string");
                    }
                }
            }
            other => mismatch(first, p, json_kind(other).to_string(), "map[string]string"),
        },
        Ty::QuantityMap(go_type) => match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    if let Some(msg) = m.get(k.as_str()).and_then(quantity_error) {
                        return hard(&p.key(k), msg.to_string());
                    }
                }
            }
            other => mismatch(first, p, json_kind(other).to_string(), go_type),
        },
        Ty::Struct(schema) => match v {
            Value::Object(_) => walk_struct(v, schema, p, stack, first)?,
            other => mismatch(first, p, json_kind(other).to_string(), schema.go_type),
        },
        Ty::Slice(go_type, elem) => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    match elem {
                        Ty::Struct(schema) => match item {
                            Value::Object(_) => walk_struct(item, schema, &ip, stack, first)?,
                            Value::Null => {}
                            other => mismatch(first, &ip, json_kind(other).to_string(), schema.go_type),
                        },
                        other => walk(item, *other, &ip, parent, stack, first)?,
                    }
                }
            }
            other => mismatch(first, p, json_kind(other).to_string(), go_type),
        },
    }
    Ok(())
}

/// kubectl's default `--validate=strict`: the API server refuses fields its Go types do not
/// have (a typo such as `concurrencyPolcy`) with one 400 listing them all, in the order
/// of kubectl's sorted JSON. The field names are those of the generated schema (v1.32).
/// Only for manifests: an object the API server sent a webhook has none left.
pub(crate) fn unknown_fields(kind: Kind, obj: &Value) -> Option<Finding> {
    let mut unknown: Vec<Vec<Segment>> = Vec::new();
    let mut at = Vec::new();
    collect_unknown(obj, Ty::Struct(root(kind)), &mut at, &mut unknown);
    if unknown.is_empty() {
        return None;
    }
    let listed: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{}\"", Segment::dotted(p)))
        .collect();
    let k = kind.as_str();
    Some(Finding {
        rule: RuleId::DecodeError,
        severity: Severity::Error,
        origin: Origin::Api,
        field: Segment::dotted(&unknown[0]),
        reason: Reason::FieldValueInvalid,
        message: format!(
            "{k} in version \"v1\" cannot be handled as a {k}: strict decoding error: {}",
            listed.join(", ")
        ),
        location: unknown.swap_remove(0),
        omitted: 0,
    })
}

/// Depth first, in sorted key order, as Go's strict decoder meets them.
fn collect_unknown(v: &Value, ty: Ty, at: &mut Vec<Segment>, out: &mut Vec<Vec<Segment>>) {
    match (ty, v) {
        (Ty::Struct(schema), Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                at.push(Segment::Key(key.clone()));
                match (schema.field(key), map.get(key.as_str())) {
                    (Some(child_ty), Some(child)) => collect_unknown(child, child_ty, at, out),
                    (None, _) => out.push(at.clone()),
                    _ => {}
                }
                at.pop();
            }
        }
        (Ty::Slice(_, elem), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                at.push(Segment::Index(i));
                collect_unknown(item, *elem, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            for schema in [&schema::JOB, &schema::CRON_JOB] {
                let mut agree = |v: &Value| {
                    let mut first = None;
                    let walked =
                        walk_struct(v, schema, &FieldPath::TOP, &[], &mut first).is_ok() && first.is_none();
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
