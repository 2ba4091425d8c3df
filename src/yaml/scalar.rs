//! Plain scalars resolved as go-yaml v2 (behind kubectl's sigs.k8s.io/yaml) resolves them:
//! YAML 1.1 booleans, Go's integer syntax, and non-string keys turned into JSON text.

use serde_json::{Number, Value};
use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;

/// sigs.k8s.io/yaml turns non-string keys into their JSON text.
pub(super) fn key_string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Resolves a scalar as go-yaml v2 (which kubectl uses) would: YAML 1.1 plain scalars.
pub(super) fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
            match tag.suffix.as_str() {
                "str" => return Value::String(text.to_string()),
                "int" => {
                    if let Some(v) = parse_int(text) {
                        return v;
                    }
                }
                "float" => {
                    if let Some(v) = parse_float(text) {
                        return v;
                    }
                }
                "bool" => {
                    if let Some(b) = parse_bool(text) {
                        return Value::Bool(b);
                    }
                }
                "null" => return Value::Null,
                _ => {}
            }
        }
        return Value::String(text.to_string());
    }
    if style != TScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    if let Some(v) = parse_int(text) {
        return v;
    }
    if let Some(v) = parse_float(text) {
        return v;
    }
    Value::String(text.to_string())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<Value> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    if body.is_empty() {
        return None;
    }
    // Go's `strconv.ParseInt(s, 0, 64)`, which goyaml tries first: `0x`, `0o` and `0b` in
    // either case, and a leading `0` for octal.
    let prefix = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match prefix.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) => {
            (8, &body[1..])
        }
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        let v = i128::try_from(magnitude).ok()?.checked_neg()?;
        i64::try_from(v).ok().map(|v| Value::Number(v.into()))
    } else {
        // Beyond 64 bits goyaml tries a float, which only decimal digits can be (see
        // `parse_float`); `0x` and friends stay strings.
        u64::try_from(magnitude).ok().map(|v| Value::Number(v.into()))
    }
}

fn parse_float(text: &str) -> Option<Value> {
    let t = text.replace('_', "");
    let body = t.strip_prefix(['+', '-']).unwrap_or(&t);
    let first = body.chars().next()?;
    if !(first.is_ascii_digit() || first == '.') {
        return None;
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    let f: f64 = t.parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}
