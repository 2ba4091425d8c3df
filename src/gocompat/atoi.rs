//! Go's `strconv.Atoi` (on a 64-bit platform), because robfig/cron hands it every number of a
//! schedule and the API server prints its error text verbatim.

/// Why `strconv.Atoi` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtoiError {
    /// `invalid syntax`: empty, a sign alone, or anything but ASCII digits.
    Syntax,
    /// `value out of range`: does not fit an int64.
    Range,
}

impl std::fmt::Display for AtoiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AtoiError::Syntax => "invalid syntax",
            AtoiError::Range => "value out of range",
        })
    }
}

/// Go `strconv.Atoi` on a 64-bit platform.
pub fn atoi(s: &str) -> Result<i64, AtoiError> {
    let bytes = s.as_bytes();
    if !bytes.is_empty() && bytes.len() < 19 {
        // Go's fast path: small enough that it cannot overflow.
        let (neg, digits) = match bytes[0] {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(AtoiError::Syntax);
        }
        let n = digits.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        return Ok(if neg { -n } else { n });
    }
    // Go's ParseInt(s, 10, 0): overflow is reported as soon as it happens, even if an
    // invalid byte follows.
    if bytes.is_empty() {
        return Err(AtoiError::Syntax);
    }
    let (neg, digits) = match bytes[0] {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return Err(AtoiError::Syntax);
    }
    let mut un: u64 = 0;
    let mut overflowed = false;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(AtoiError::Syntax);
        }
        match un
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
        {
            Some(n) => un = n,
            None => {
                overflowed = true;
                break;
            }
        }
    }
    const CUTOFF: u64 = 1 << 63;
    if overflowed || (!neg && un >= CUTOFF) || (neg && un > CUTOFF) {
        return Err(AtoiError::Range);
    }
    Ok(if neg {
        (un as i64).wrapping_neg()
    } else {
        un as i64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("5", Ok(5))]
    #[case("+5", Ok(5))]
    #[case("-5", Ok(-5))]
    #[case("007", Ok(7))]
    #[case("9223372036854775807", Ok(i64::MAX))]
    #[case("-9223372036854775808", Ok(i64::MIN))]
    #[case("9223372036854775808", Err(AtoiError::Range))]
    #[case("99999999999999999999x", Err(AtoiError::Range))]
    #[case("x99999999999999999999", Err(AtoiError::Syntax))]
    #[case("", Err(AtoiError::Syntax))]
    #[case("+", Err(AtoiError::Syntax))]
    #[case("1_000", Err(AtoiError::Syntax))]
    #[case("0x1F", Err(AtoiError::Syntax))]
    #[case("１", Err(AtoiError::Syntax))]
    #[case(" 1", Err(AtoiError::Syntax))]
    fn atoi_matches_go(#[case] input: &str, #[case] expected: Result<i64, AtoiError>) {
        assert_eq!(atoi(input), expected);
    }
}
