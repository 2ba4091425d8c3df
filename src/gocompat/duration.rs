//! Go's `time.ParseDuration`, because `@every <d>` hands the rest of the descriptor to it and
//! the API server prints its error text verbatim.

use std::fmt::Write as _;

const NANOS_PER_SECOND: u64 = 1_000_000_000;
const LIMIT: u64 = 1 << 63;

/// Go `time.ParseDuration`: the duration in nanoseconds, or Go's error text.
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", time_quote(orig));
    let bytes = orig.as_bytes();
    let mut s = bytes;
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();

        let mut post = false;
        let (mut f, mut scale) = (0u64, 1f64);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let (ff, sc, rest) = leading_fraction(s);
            f = ff;
            scale = sc;
            s = rest;
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }

        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err(format!("time: missing unit in duration {}", time_quote(orig)));
        }
        // The unit ends at an ASCII byte or the end, so it is whole UTF-8.
        let unit_text = std::str::from_utf8(&s[..i]).unwrap_or("");
        s = &s[i..];
        let unit = unit_nanos(unit_text).ok_or_else(|| {
            format!(
                "time: unknown unit {} in duration {}",
                time_quote(unit_text),
                time_quote(orig)
            )
        })?;
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            // Go does this in float64 on purpose (nanosecond-accurate for fractions of hours).
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        // Go adds in uint64 and may wrap (2^63ns + 2^63ns is 0, and accepted).
        d = d.wrapping_add(v);
        if d > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // -(1<<63) wraps to i64::MIN exactly as Go's -Duration(d) does.
        return Ok((d as i64).wrapping_neg());
    }
    if d > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        _ => return None,
    })
}

fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > LIMIT {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        let c = s[i];
        i += 1;
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

/// The `time` package's own quoting (not strconv's): every byte of a non-ASCII or control
/// rune as `\xHH`, only `"` and `\` backslashed.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("5m", 300_000_000_000)]
    // Go sums the parts in uint64: two halves of 2^64 wrap to 0, which it accepts.
    #[case("9223372036854775808ns9223372036854775808ns", 0)]
    #[case("0", 0)]
    #[case("-0", 0)]
    #[case("0s", 0)]
    #[case("-5m", -300_000_000_000)]
    #[case("+1h30m", 5_400_000_000_000)]
    #[case("1.5s", 1_500_000_000)]
    #[case(".5s", 500_000_000)]
    #[case("1.s", 1_000_000_000)]
    #[case("1\u{b5}s", 1_000)]
    #[case("1\u{3bc}s", 1_000)]
    #[case("2562047h", 9_223_369_200_000_000_000)]
    #[case("9223372036854775807ns", i64::MAX)]
    #[case("-9223372036854775808ns", i64::MIN)]
    fn parses_like_go(#[case] input: &str, #[case] nanos: i64) {
        assert_eq!(parse_go_duration(input), Ok(nanos));
    }

    #[rstest]
    #[case("", r#"time: invalid duration """#)]
    #[case("5", r#"time: missing unit in duration "5""#)]
    #[case(" 5m", r#"time: invalid duration " 5m""#)]
    #[case("5m ", r#"time: unknown unit "m " in duration "5m ""#)]
    #[case("1d", r#"time: unknown unit "d" in duration "1d""#)]
    #[case(".s", r#"time: invalid duration ".s""#)]
    #[case("+-1s", r#"time: invalid duration "+-1s""#)]
    #[case("3000000h", r#"time: invalid duration "3000000h""#)]
    #[case("9223372036854775808ns", r#"time: invalid duration "9223372036854775808ns""#)]
    #[case("1ｈ", r#"time: unknown unit "\xef\xbd\x88" in duration "1\xef\xbd\x88""#)]
    #[case("1s\n", r#"time: unknown unit "s\x0a" in duration "1s\x0a""#)]
    fn rejects_like_go(#[case] input: &str, #[case] message: &str) {
        assert_eq!(parse_go_duration(input), Err(message.to_string()));
    }
}
