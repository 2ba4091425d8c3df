//! apimachinery's `resource.Quantity` (`k8s.io/apimachinery/pkg/api/resource`): the parser
//! whose errors the API server's decoder answers with, and the canonical form (`500m`,
//! `1536Mi`) that validation messages print. Values are kept as exact decimals (a digit
//! string and a power of ten), so nothing a manifest can write overflows.

use std::cmp::Ordering;

/// The three errors `ParseQuantity` returns, worded as the API server prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuantityError {
    Format,
    Suffix,
    Numeric,
}

impl QuantityError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            QuantityError::Format => {
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            }
            QuantityError::Suffix => "unable to parse quantity's suffix",
            QuantityError::Numeric => "unable to parse numeric part of quantity",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    DecimalExponent,
    BinarySI,
    DecimalSI,
}

/// An exact decimal: `digits × 10^exp`, digits without leading or trailing zeros (empty
/// for zero, which is never negative).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dec {
    neg: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Dec {
    fn new(neg: bool, mut digits: Vec<u8>, mut exp: i64) -> Dec {
        let lead = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..lead);
        while digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        let neg = neg && !digits.is_empty();
        if digits.is_empty() {
            exp = 0;
        }
        Dec { neg, digits, exp }
    }

    fn zero() -> Dec {
        Dec::new(false, Vec::new(), 0)
    }

    fn from_u64(v: u64) -> Dec {
        Dec::new(false, v.to_string().bytes().map(|b| b - b'0').collect(), 0)
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Compares magnitudes.
    fn cmp_abs(&self, other: &Dec) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // Order of magnitude: the position of the leading digit.
        let top = |d: &Dec| d.digits.len() as i64 + d.exp;
        match top(self).cmp(&top(other)) {
            Ordering::Equal => {}
            o => return o,
        }
        let n = self.digits.len().max(other.digits.len());
        for i in 0..n {
            let a = self.digits.get(i).copied().unwrap_or(0);
            let b = other.digits.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }

    fn cmp(&self, other: &Dec) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_abs(other),
            (true, true) => other.cmp_abs(self),
        }
    }

    /// Rounds away from zero to a multiple of `10^scale` (inf.RoundUp); whether it was exact.
    fn round_up(&self, scale: i64) -> (Dec, bool) {
        if self.exp >= scale {
            return (self.clone(), true);
        }
        let drop = (scale - self.exp) as usize;
        if drop >= self.digits.len() {
            // Everything is dropped; a non-zero value becomes one unit.
            return (Dec::new(self.neg, vec![1], scale), false);
        }
        let mut kept = self.digits[..self.digits.len() - drop].to_vec();
        let exact = self.digits[self.digits.len() - drop..].iter().all(|d| *d == 0);
        if !exact {
            increment(&mut kept);
        }
        (Dec::new(self.neg, kept, scale), exact)
    }

    fn mul_small(&self, m: u64) -> Dec {
        let mut out = Vec::with_capacity(self.digits.len() + 20);
        let mut carry: u128 = 0;
        for d in self.digits.iter().rev() {
            let v = u128::from(*d) * u128::from(m) + carry;
            out.push((v % 10) as u8);
            carry = v / 10;
        }
        while carry > 0 {
            out.push((carry % 10) as u8);
            carry /= 10;
        }
        out.reverse();
        Dec::new(self.neg, out, self.exp)
    }

    /// The integer value when it has no fraction and fits an i128.
    fn as_i128(&self) -> Option<i128> {
        if self.exp < 0 {
            return None;
        }
        let mut v: i128 = 0;
        for d in &self.digits {
            v = v.checked_mul(10)?.checked_add(i128::from(*d))?;
        }
        for _ in 0..self.exp {
            v = v.checked_mul(10)?;
        }
        Some(if self.neg { -v } else { v })
    }

    fn digit_string(digits: &[u8]) -> String {
        if digits.is_empty() {
            return "0".to_string();
        }
        digits.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

/// A parsed quantity. Go keeps the text it was parsed from as its string when that text
/// is already canonical (`+1`, `01` and `1e3` print as written).
#[derive(Debug, Clone)]
pub(crate) struct Quantity {
    value: Dec,
    format: Format,
    written: Option<String>,
}

const INT64_MAX: u64 = i64::MAX as u64;

/// `resource.ParseQuantity`.
pub(crate) fn parse(s: &str) -> Result<Quantity, QuantityError> {
    if s.is_empty() {
        return Err(QuantityError::Format);
    }
    if s == "0" {
        return Ok(Quantity {
            value: Dec::zero(),
            format: Format::DecimalSI,
            written: Some(s.to_string()),
        });
    }
    let parts = parse_quantity_string(s)?;
    let (base, exponent, format) = interpret(parts.suffix).ok_or(QuantityError::Suffix)?;
    let (num, denom) = (parts.num, parts.denom);

    let (precision, mut scale, mut mantissa);
    mantissa = 1u64;
    match format {
        Format::DecimalExponent | Format::DecimalSI => {
            scale = i64::from(exponent);
            precision = 18 - (num.len() + denom.len()) as i64;
        }
        Format::BinarySI => {
            scale = 0;
            if exponent >= 0 && denom.is_empty() {
                mantissa = 1u64 << exponent.clamp(0, 63);
                precision = 15 - num.len() as i64 - ((exponent as f32) * 3.0 / 10.0) as i64 - 1;
            } else {
                precision = -1;
            }
        }
    }
    if precision >= 0 {
        scale -= denom.len() as i64;
        if scale >= -9 {
            let shifted = format!("{num}{denom}");
            let value: i64 = shifted.parse().map_err(|_| QuantityError::Numeric)?;
            if let Some(result) = value.checked_mul(mantissa as i64) {
                let keep = match format {
                    Format::BinarySI => exponent % 10 == 0 && value & 0x07 != 0,
                    _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
                };
                let digits = result
                    .unsigned_abs()
                    .to_string()
                    .bytes()
                    .map(|b| b - b'0')
                    .collect();
                return Ok(Quantity {
                    value: Dec::new(!parts.positive, digits, scale),
                    format,
                    written: keep.then(|| s.to_string()),
                });
            }
        }
    }

    // The slow path: an exact decimal of the numeric part.
    let (neg, body) = match parts.value.as_bytes().first() {
        Some(b'-') => (true, &parts.value[1..]),
        Some(b'+') => (false, &parts.value[1..]),
        _ => (false, parts.value),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(QuantityError::Numeric);
    }
    let digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    let mut amount = Dec::new(neg, digits, -(frac_part.len() as i64));
    if base == 10 {
        amount.exp += i64::from(exponent);
        amount = Dec::new(amount.neg, amount.digits, amount.exp);
    } else {
        for _ in 0..exponent / 32 {
            amount = amount.mul_small(1 << 32);
        }
        amount = amount.mul_small(1 << (exponent % 32));
    }
    if !amount.is_zero() {
        amount = amount.round_up(-9).0;
    }
    let mut format = format;
    let max = Dec::from_u64(INT64_MAX);
    if format == Format::BinarySI && !amount.neg && amount.cmp_abs(&max) == Ordering::Greater {
        amount = max;
    }
    let one = Dec::from_u64(1);
    if format == Format::BinarySI
        && !amount.neg
        && !amount.is_zero()
        && amount.cmp_abs(&one) == Ordering::Less
    {
        format = Format::DecimalSI;
    }
    Ok(Quantity {
        value: amount,
        format,
        written: None,
    })
}

struct Parts<'a> {
    positive: bool,
    value: &'a str,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// `parseQuantityString`: sign, numerator (leading zeros stripped), denominator, suffix.
fn parse_quantity_string(s: &str) -> Result<Parts<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(Parts {
            positive,
            value: "0",
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = &s[start..pos];
    if pos >= end {
        return Ok(Parts {
            positive,
            value: s,
            num,
            denom: "",
            suffix: "",
        });
    }
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let dstart = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[dstart..pos];
        if pos >= end {
            return Ok(Parts {
                positive,
                value: s,
                num,
                denom,
                suffix: "",
            });
        }
    }
    let value = &s[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::Format);
    }
    Ok(Parts {
        positive,
        value,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// `suffixHandler.interpret`: base, power and format of a suffix.
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let dec = match suffix {
        "n" => Some(-9),
        "u" => Some(-6),
        "m" => Some(-3),
        "" => Some(0),
        "k" => Some(3),
        "M" => Some(6),
        "G" => Some(9),
        "T" => Some(12),
        "P" => Some(15),
        "E" => Some(18),
        _ => None,
    };
    if let Some(e) = dec {
        return Some((10, e, Format::DecimalSI));
    }
    let bin = match suffix {
        "Ki" => Some(10),
        "Mi" => Some(20),
        "Gi" => Some(30),
        "Ti" => Some(40),
        "Pi" => Some(50),
        "Ei" => Some(60),
        _ => None,
    };
    if let Some(e) = bin {
        return Some((2, e, Format::BinarySI));
    }
    let rest = suffix.strip_prefix(['e', 'E'])?;
    if rest.is_empty() {
        return None;
    }
    // strconv.ParseInt(s, 10, 64), then Go's int32 conversion (which wraps).
    let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parsed: i64 = rest.parse().ok()?;
    Some((10, parsed as i32, Format::DecimalExponent))
}

impl Quantity {
    /// `resource.Quantity{}`, what `null` decodes to.
    pub(crate) fn zero() -> Quantity {
        Quantity {
            value: Dec::zero(),
            format: Format::DecimalSI,
            written: None,
        }
    }

    /// `SetDefaults_ResourceList`'s `RoundUp(-3)`: resource lists are rounded up to
    /// milli-units when the API server decodes them, and the written form is dropped when
    /// that changes the value's scale.
    pub(crate) fn round_to_milli(mut self) -> Self {
        let (rounded, _) = self.value.round_up(-3);
        if rounded != self.value || (self.written.is_some() && self.value.exp < -3) {
            self.written = None;
        }
        self.value = rounded;
        self
    }

    pub(crate) fn is_negative(&self) -> bool {
        self.value.neg
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.value.is_zero()
    }

    pub(crate) fn cmp(&self, other: &Quantity) -> Ordering {
        self.value.cmp(&other.value)
    }

    /// `q.MilliValue() % 1000 != 0`: the value in milli-units (rounded up) is not a whole
    /// number of units. Rounded to milli-units the value is `digits × 10^exp` with `exp >= -3`
    /// and no trailing zero digit, so it is whole exactly when `exp >= 0`.
    pub(crate) fn has_fraction_of_milli_units(&self) -> bool {
        let (r, _) = self.value.round_up(-3);
        !r.is_zero() && r.exp < 0
    }

    /// `q.Value()`: rounded up to a whole number, as an i128 (saturating).
    pub(crate) fn whole(&self) -> i128 {
        let (r, _) = self.value.round_up(0);
        r.as_i128().unwrap_or(if r.neg { i128::MIN } else { i128::MAX })
    }

    /// `q.String()`: the written form when Go kept it, else the canonical form.
    pub(crate) fn to_go_string(&self) -> String {
        match &self.written {
            Some(w) => w.clone(),
            None => self.canonical(),
        }
    }

    /// `CanonicalizeBytes`.
    fn canonical(&self) -> String {
        let v = &self.value;
        if v.is_zero() {
            return "0".to_string();
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            let small = v.cmp_abs(&Dec::from_u64(1024)) == Ordering::Less;
            if small || v.exp < 0 {
                format = Format::DecimalSI;
            }
        }
        let sign = if v.neg { "-" } else { "" };
        if format == Format::BinarySI {
            let (mut amount, mut times) = match v.as_i128() {
                Some(i) => (i.unsigned_abs(), 0),
                None => return format!("{sign}{}", Dec::digit_string(&v.digits)),
            };
            while amount >= 1024 && amount % 1024 == 0 {
                amount /= 1024;
                times += 1;
            }
            let suffix = match times {
                0 => "",
                1 => "Ki",
                2 => "Mi",
                3 => "Gi",
                4 => "Ti",
                5 => "Pi",
                6 => "Ei",
                _ => "",
            };
            return format!("{sign}{amount}{suffix}");
        }
        let mut digits = v.digits.clone();
        let mut exp = v.exp;
        while exp.rem_euclid(3) != 0 {
            digits.push(0);
            exp -= 1;
        }
        let number = Dec::digit_string(&digits);
        let suffix = match format {
            Format::DecimalExponent if exp == 0 => String::new(),
            Format::DecimalExponent => format!("e{exp}"),
            _ => match exp {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                18 => "E",
                // Go finds no suffix for other powers (`1000E` prints as `1`).
                _ => "",
            }
            .to_string(),
        };
        format!("{sign}{number}{suffix}")
    }
}

/// The quantity a JSON value decodes to (`None` for `null` and for text that does not
/// parse, which the decoder refused already).
pub(crate) fn from_json(v: &serde_json::Value) -> Option<Quantity> {
    parse(&json_text(v)?).ok()
}

/// What `Quantity.UnmarshalJSON` reads from a JSON value: a string (its content, trimmed)
/// or the text of any other value as kubectl's JSON writes it; `None` for `null`.
pub(crate) fn json_text(v: &serde_json::Value) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(Cow::Borrowed(s.trim())),
        serde_json::Value::Number(n) => Some(Cow::Owned(crate::gocompat::json_number_text(n))),
        other => Some(Cow::Owned(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn string_of(s: &str) -> String {
        parse(s)
            .map(|q| q.to_go_string())
            .unwrap_or_else(|e| format!("{e:?}"))
    }

    /// What Go's `resource.MustParse(s).String()` prints.
    #[rstest]
    #[case("500m", "500m")]
    #[case("0.5", "500m")]
    #[case("1", "1")]
    #[case("1000m", "1")]
    #[case("1.5Gi", "1536Mi")]
    #[case("1Gi", "1Gi")]
    #[case("1024Mi", "1Gi")]
    #[case("8Gi", "8Gi")]
    #[case("3Mi", "3Mi")]
    #[case("512Mi", "512Mi")]
    #[case("+1", "+1")]
    #[case("01", "01")]
    #[case("1e3", "1e3")]
    #[case("1000", "1k")]
    #[case("1000E", "1")]
    #[case("0.1m", "100u")]
    #[case("100u", "100u")]
    #[case("0.0000000001", "1n")]
    #[case("-1", "-1")]
    #[case("-0", "0")]
    #[case("0Mi", "0")]
    #[case("1Ei", "1Ei")]
    #[case("10Ei", "9223372036854775807")]
    #[case("0.5Ki", "512")]
    #[case("1.5", "1500m")]
    #[case("1e100", "10e99")]
    #[case("12e-3", "12e-3")]
    #[case("12e-4", "1200e-6")]
    fn prints_like_go(#[case] written: &str, #[case] go: &str) {
        assert_eq!(string_of(written), go);
    }

    #[rstest]
    #[case("1.5.5", QuantityError::Format)]
    #[case("2GB", QuantityError::Format)]
    #[case("100mi", QuantityError::Suffix)]
    #[case("", QuantityError::Format)]
    #[case("abc", QuantityError::Format)]
    #[case("1e", QuantityError::Suffix)]
    #[case("[1]", QuantityError::Format)]
    fn refuses_like_go(#[case] written: &str, #[case] err: QuantityError) {
        assert_eq!(parse(written).err(), Some(err));
    }

    #[test]
    fn compares_values_not_text() {
        let q = |s| parse(s).expect("quantity");
        assert_eq!(q("1").cmp(&q("1000m")), Ordering::Equal);
        assert_eq!(q("1Gi").cmp(&q("512Mi")), Ordering::Greater);
        assert_eq!(q("-1").cmp(&q("0")), Ordering::Less);
        assert_eq!(q("1e100").cmp(&q("1E")), Ordering::Greater);
    }

    #[test]
    fn rounds_resource_lists_to_milli_units() {
        let r = |s| parse(s).expect("quantity").round_to_milli().to_go_string();
        assert_eq!(r("100u"), "1m");
        assert_eq!(r("1n"), "1m");
        assert_eq!(r("500m"), "500m");
        assert_eq!(r("1Gi"), "1Gi");
    }

    #[test]
    fn tells_fractional_units() {
        let f = |s| parse(s).expect("quantity").has_fraction_of_milli_units();
        assert!(f("500m"));
        assert!(!f("2"));
        assert!(!f("1Gi"));
        assert!(!f("0.5Ki"));
        assert!(f("1.5"));
    }
}
