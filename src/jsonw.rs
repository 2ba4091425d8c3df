//! Writing JSON texts straight into a byte buffer, byte for byte as serde_json writes them:
//! the admission response and the JSON Patch are mostly strings, where serde_json's
//! per-byte escaping was most of their cost.

use base64::Engine as _;

/// `s` as a JSON string, escaped exactly as serde_json escapes it. Text with nothing to
/// escape (nearly all of it) is copied whole.
pub fn string(out: &mut Vec<u8>, s: &str) {
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    // Whole chunks, without an early exit, so the check compiles to vector code.
    let plain = s
        .as_bytes()
        .chunks(32)
        .all(|c| !c.iter().fold(false, |any, &b| any | needs_escape(b)));
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a string always serializes");
    }
}

/// A JSON value: strings and integers written here (the values of a mutation), anything
/// else by serde_json.
pub fn value(out: &mut Vec<u8>, v: &serde_json::Value) {
    match v {
        serde_json::Value::String(s) => string(out, s),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
            // Integers print the same through Display as through serde_json.
            use std::io::Write as _;
            let _ = write!(out, "{n}");
        }
        other => serde_json::to_writer(&mut *out, other).expect("a JSON value always serializes"),
    }
}

/// Standard base64 with padding, appended.
pub fn base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
}

/// Asserts that `keys` are written in this order in the JSON `text` (each at its first
/// `"key":`): a parsed `Value` keeps no key order, so contract tests read the text.
#[cfg(test)]
pub fn assert_keys_in_order(text: &[u8], keys: &[&str]) {
    let text = String::from_utf8_lossy(text);
    let at: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).expect("key written"))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{7f}\u{2028}");
        let long_plain = "x".repeat(100);
        let late_quote = format!("{}\"", "y".repeat(70));
        for s in [
            "",
            "plain",
            "a\"b",
            "back\\slash",
            "tab\tnew\nline",
            &all,
            &long_plain,
            &late_quote,
        ] {
            let mut out = Vec::new();
            super::string(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).expect("json"), "{s:?}");
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        use serde_json::json;
        for v in [
            json!(0),
            json!(-3),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(1e300),
            json!("Forbid"),
            json!("q\""),
            json!(null),
            json!(true),
            json!([1, {"a": "b"}]),
        ] {
            let mut out = Vec::new();
            super::value(&mut out, &v);
            assert_eq!(out, serde_json::to_vec(&v).expect("json"), "{v}");
        }
    }

    #[test]
    fn base64_appends_standard_padded() {
        for input in [&b""[..], b"a", b"ab", b"abc", b"[{\"op\":\"add\"}]"] {
            let mut out = b"x".to_vec();
            super::base64(&mut out, input);
            let expected = format!("x{}", base64::engine::general_purpose::STANDARD.encode(input));
            assert_eq!(out, expected.as_bytes());
        }
    }
}
