//! How Go's `encoding/json` prints numbers, for the decode errors the API server words with
//! the number kubectl sent (kubectl re-encodes what it read from YAML with encoding/json).

/// A number as it appears in the JSON kubectl sends: integers as they are, floats as Go's
/// `encoding/json` writes them (kubectl re-encodes what it read from YAML).
pub fn json_number_text(n: &serde_json::Number) -> String {
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
}
