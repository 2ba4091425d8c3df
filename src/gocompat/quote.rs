//! Go's `strconv.Quote`, because every `Invalid value: "<s>"` message and every `strconv.Atoi`
//! error the API server prints renders strings that way, and Rust's `{:?}` escapes differently.

use super::quote_table::PRINTABLE;

/// Go `strconv.Quote`: double quotes, `\a\b\f\n\r\t\v`, `\\` and `\"` escaped, other runes
/// Go does not consider printable as `\xHH` (below U+0020 and U+007F), `\uHHHH` or `\UHHHHHHHH`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    if c == '"' || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    let r = u32::from(c);
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ if r < 0x20 || r == 0x7f => {
            let _ = write!(out, "\\x{r:02x}");
        }
        _ if r < 0x10000 => {
            let _ = write!(out, "\\u{r:04x}");
        }
        _ => {
            let _ = write!(out, "\\U{r:08x}");
        }
    }
}

/// Go `strconv.IsPrint` (Unicode 15.0, as in the Go release kube-apiserver v1.32 is built with):
/// letters, marks, numbers, punctuation, symbols and the ASCII space.
pub fn is_print(c: char) -> bool {
    let r = u32::from(c);
    if r <= 0xff {
        return (0x20..=0x7e).contains(&r) || ((0xa1..=0xff).contains(&r) && r != 0xad);
    }
    PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < r {
                std::cmp::Ordering::Less
            } else if lo > r {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("0 0 * * *", r#""0 0 * * *""#)]
    #[case("a\tb", r#""a\tb""#)]
    #[case("x\u{a0}y", r#""x\u00a0y""#)]
    #[case("1\u{200b}0", r#""1\u200b0""#)]
    #[case("q\"b\\", r#""q\"b\\""#)]
    #[case("\u{7}\u{8}\u{c}\n\r\u{b}", r#""\a\b\f\n\r\v""#)]
    #[case("\u{1}\u{1f}\u{7f}", r#""\x01\x1f\x7f""#)]
    #[case("\u{85}\u{ad}", r#""\u0085\u00ad""#)]
    #[case("é１٣🕐", "\"é１٣🕐\"")]
    #[case("\u{e0001}", r#""\U000e0001""#)]
    #[case("\u{feff}", r#""\ufeff""#)]
    fn quotes_like_go(#[case] input: &str, #[case] quoted: &str) {
        assert_eq!(go_quote(input), quoted);
    }

    #[test]
    fn treats_unicode_15_additions_as_printable_but_not_16() {
        // U+11F00 (Kawi) arrived in Unicode 15.0; U+0897 (Arabic) only in 16.0.
        assert!(is_print('\u{11f00}'));
        assert!(!is_print('\u{897}'));
        // Unicode 15.1 additions, which Go 1.23 (Unicode 15.0) escapes: found by a
        // differential run against Go's strconv.Quote over every character.
        for c in ['\u{2ffc}', '\u{2fff}', '\u{31ef}', '\u{2ebf0}', '\u{2ee5d}'] {
            assert!(!is_print(c), "{c:?}");
        }
        assert_eq!(go_quote("1\u{2ffc}2"), r#""1\u2ffc2""#);
        assert!(is_print('\u{2ffb}') && is_print('\u{31f0}'));
    }
}
