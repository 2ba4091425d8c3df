//! robfig/cron v3.0.1 `ParseStandard`, step by step, with Go's `strings` and `strconv`
//! semantics, because the API server validates `spec.schedule` with exactly this code.

use super::zone::{load_location, Location};
use super::ParseError;
use crate::gocompat::{atoi, parse_go_duration};

/// The star bit robfig sets on a field written `*` or `?` (or `*/1`).
pub(crate) const STAR_BIT: u64 = 1 << 63;

/// What robfig builds: a field spec or a constant delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    Spec(SpecBits),
    Every { seconds: i64 },
}

/// robfig `SpecSchedule` without the seconds field (always exactly second 0 here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpecBits {
    pub minute: u64,
    pub hour: u64,
    pub dom: u64,
    pub month: u64,
    pub dow: u64,
}

struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// robfig `Parser.Parse` with the options `ParseStandard` uses.
pub(crate) fn parse(spec: &str) -> Result<(Parsed, Location), ParseError> {
    if spec.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut loc = Location::Local;
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        // robfig slices spec[eq+1:i] with i = index of the first ASCII space; with none,
        // i is -1 and Go panics. Both indexes sit on ASCII bytes, so slicing is safe here.
        let Some(space) = spec.find(' ') else {
            return Err(ParseError::TzPrefixWithoutSpace {
                spec: spec.to_string(),
            });
        };
        let eq = spec.find('=').expect("the prefix holds an '='");
        let name = &spec[eq + 1..space];
        loc = load_location(name).map_err(|reason| ParseError::BadLocation {
            name: name.to_string(),
            reason,
        })?;
        spec = spec[space..].trim();
    }

    if spec.starts_with('@') {
        return parse_descriptor(spec).map(|parsed| (parsed, loc));
    }

    let mut fields = [""; 5];
    let mut found = 0;
    for (i, field) in spec.split_whitespace().enumerate() {
        if let Some(slot) = fields.get_mut(i) {
            *slot = field;
        }
        found = i + 1;
    }
    if found != 5 {
        let mut joined = String::with_capacity(spec.len());
        for field in spec.split_whitespace() {
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(field);
        }
        return Err(ParseError::FieldCount {
            found,
            fields: joined,
        });
    }
    let bits = SpecBits {
        minute: get_field(fields[0], &MINUTES)?,
        hour: get_field(fields[1], &HOURS)?,
        dom: get_field(fields[2], &DOM)?,
        month: get_field(fields[3], &MONTHS)?,
        dow: get_field(fields[4], &DOW)?,
    };
    Ok((Parsed::Spec(bits), loc))
}

fn parse_descriptor(descriptor: &str) -> Result<Parsed, ParseError> {
    let all = |b: &Bounds| get_bits(b.min, b.max, 1) | STAR_BIT;
    let spec = |minute, hour, dom, month, dow| {
        Parsed::Spec(SpecBits {
            minute,
            hour,
            dom,
            month,
            dow,
        })
    };
    match descriptor {
        "@yearly" | "@annually" => return Ok(spec(1, 1, 1 << 1, 1 << 1, all(&DOW))),
        "@monthly" => return Ok(spec(1, 1, 1 << 1, all(&MONTHS), all(&DOW))),
        "@weekly" => return Ok(spec(1, 1, all(&DOM), all(&MONTHS), 1)),
        "@daily" | "@midnight" => return Ok(spec(1, 1, all(&DOM), all(&MONTHS), all(&DOW))),
        "@hourly" => return Ok(spec(1, all(&HOURS), all(&DOM), all(&MONTHS), all(&DOW))),
        _ => {}
    }
    if let Some(duration) = descriptor.strip_prefix("@every ") {
        let nanos = parse_go_duration(duration).map_err(|reason| ParseError::BadDuration {
            descriptor: descriptor.to_string(),
            reason,
        })?;
        return Ok(Parsed::Every {
            seconds: every_delay_seconds(nanos),
        });
    }
    Err(ParseError::UnrecognizedDescriptor(descriptor.to_string()))
}

/// robfig `getField`: comma-separated ranges, empty items dropped (Go `strings.FieldsFunc`).
fn get_field(field: &str, bounds: &Bounds) -> Result<u64, ParseError> {
    let mut bits = 0;
    for expr in field.split(',').filter(|e| !e.is_empty()) {
        bits |= get_range(expr, bounds)?;
    }
    Ok(bits)
}

/// robfig `getRange`, checks in its order: parse, below minimum, above maximum, start beyond
/// end, zero step.
fn get_range(expr: &str, bounds: &Bounds) -> Result<u64, ParseError> {
    // Go's strings.Split keeps empty pieces; only the first two pieces and the count matter.
    let mut slashes = expr.split('/');
    let range = slashes.next().unwrap_or_default();
    let step_text = slashes.next();
    let too_many_slashes = slashes.next().is_some();
    let mut hyphens = range.split('-');
    let low = hyphens.next().unwrap_or_default();
    let high = hyphens.next();
    let too_many_hyphens = hyphens.next().is_some();
    let single_digit = high.is_none();

    let (start, mut end, mut extra);
    if low == "*" || low == "?" {
        start = bounds.min;
        end = bounds.max;
        extra = STAR_BIT;
    } else {
        start = parse_int_or_name(low, bounds.names)?;
        end = match (high, too_many_hyphens) {
            (None, _) => start,
            (Some(high), false) => parse_int_or_name(high, bounds.names)?,
            (Some(_), true) => return Err(ParseError::TooManyHyphens(expr.to_string())),
        };
        extra = 0;
    }

    let step = match (step_text, too_many_slashes) {
        (None, _) => 1,
        (Some(step_text), false) => {
            let step = must_parse_int(step_text)?;
            if single_digit {
                end = bounds.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        (Some(_), true) => return Err(ParseError::TooManySlashes(expr.to_string())),
    };

    let expr = || expr.to_string();
    if start < bounds.min {
        return Err(ParseError::BelowMinimum {
            start,
            min: bounds.min,
            expr: expr(),
        });
    }
    if end > bounds.max {
        return Err(ParseError::AboveMaximum {
            end,
            max: bounds.max,
            expr: expr(),
        });
    }
    if start > end {
        return Err(ParseError::BeyondEnd {
            start,
            end,
            expr: expr(),
        });
    }
    if step == 0 {
        return Err(ParseError::StepIsZero(expr()));
    }
    Ok(get_bits(start, end, step) | extra)
}

fn get_bits(min: u64, max: u64, step: u64) -> u64 {
    let mut bits = 0;
    let mut i = min;
    while i <= max {
        bits |= 1 << i;
        match i.checked_add(step) {
            Some(next) => i = next,
            None => break,
        }
    }
    bits
}

fn parse_int_or_name(expr: &str, names: &[(&str, u64)]) -> Result<u64, ParseError> {
    // robfig looks up strings.ToLower(expr); Go lowers rune by rune, so a name match needs
    // exactly three runes, compared after the same per-rune mapping.
    if !names.is_empty() && expr.chars().count() == 3 {
        let lowered = expr.chars().map(go_lower_rune);
        if let Some(&(_, value)) = names.iter().find(|(name, _)| name.chars().eq(lowered.clone())) {
            return Ok(value);
        }
    }
    must_parse_int(expr)
}

/// Go `unicode.ToLower`: the simple one-rune mapping, so `İ` becomes a plain `i` (Rust's
/// `to_lowercase` gives `i` plus a combining dot there).
fn go_lower_rune(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn must_parse_int(expr: &str) -> Result<u64, ParseError> {
    let num = atoi(expr).map_err(|reason| ParseError::ParseInt {
        token: expr.to_string(),
        reason,
    })?;
    u64::try_from(num).map_err(|_| ParseError::Negative {
        value: num,
        expr: expr.to_string(),
    })
}

/// robfig `Every`: below one second becomes one second, sub-second parts are dropped.
fn every_delay_seconds(nanos: i64) -> i64 {
    let nanos = nanos.max(1_000_000_000);
    nanos / 1_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cron::parse_standard;
    use rstest::rstest;

    fn bits(spec: &str) -> SpecBits {
        match parse(spec) {
            Ok((Parsed::Spec(bits), _)) => bits,
            other => panic!("{spec:?} should parse to a field spec, got {other:?}"),
        }
    }

    fn set(values: &[u32]) -> u64 {
        values.iter().fold(0, |b, v| b | 1 << v)
    }

    #[rstest]
    #[case("0 0 * * *")]
    #[case("*/5 * * * *")]
    #[case("0 0 1 jan *")]
    #[case("0 0 * JAN-Mar MON-fri")]
    #[case("0 0 * * FRİ")]
    #[case("? ? ? ? ?")]
    #[case("*-5 ?-x * * *")]
    #[case("1,,2 * * * *")]
    #[case(", * * * *")]
    #[case("+5 05 * * *")]
    #[case("0 0 30 2 *")]
    #[case("5/15 * * * *")]
    #[case("0 0 * * sun-sat/2")]
    #[case("0 0 * * 0")]
    #[case("  0\t0 *\u{a0}* *  ")]
    #[case("@yearly")]
    #[case("@every 0s")]
    #[case("@every -5m")]
    #[case("@every 1.5s")]
    #[case("TZ=Europe/Berlin 0 0 * * *")]
    #[case("CRON_TZ= 0 0 * * *")]
    #[case("TZ=Local @daily")]
    fn accepts(#[case] spec: &str) {
        assert!(
            parse_standard(spec).is_ok(),
            "{spec:?}: {:?}",
            parse_standard(spec)
        );
    }

    #[rstest]
    #[case("", "empty spec string")]
    #[case("* * * * 7", "end of range (7) above maximum (6): 7")]
    #[case("0 2-7/1 * *", "expected exactly 5 fields, found 4: [0 2-7/1 * *]")]
    #[case("0 0 10 * * ?", "expected exactly 5 fields, found 6: [0 0 10 * * ?]")]
    #[case(" @daily", "expected exactly 5 fields, found 1: [@daily]")]
    #[case(" ", "expected exactly 5 fields, found 0: []")]
    #[case(
        "0 0 L * *",
        "failed to parse int from L: strconv.Atoi: parsing \"L\": invalid syntax"
    )]
    #[case(
        "0 0 * * monday",
        "failed to parse int from monday: strconv.Atoi: parsing \"monday\": invalid syntax"
    )]
    #[case(
        "jan * * * *",
        "failed to parse int from jan: strconv.Atoi: parsing \"jan\": invalid syntax"
    )]
    #[case(
        "1- * * * *",
        "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax"
    )]
    #[case(
        "1\u{200b}0 * * * *",
        "failed to parse int from 1\u{200b}0: strconv.Atoi: parsing \"1\\u200b0\": invalid syntax"
    )]
    #[case(
        "99999999999999999999 * * * *",
        "failed to parse int from 99999999999999999999: strconv.Atoi: parsing \"99999999999999999999\": value out of range"
    )]
    #[case("*/-1 * * * *", "negative number (-1) not allowed: -1")]
    #[case("* * 0 * *", "beginning of range (0) below minimum (1): 0")]
    #[case("* * * 0-3 *", "beginning of range (0) below minimum (1): 0-3")]
    #[case("60 * * * *", "end of range (60) above maximum (59): 60")]
    #[case("* * * * sat-sun", "beginning of range (6) beyond end of range (0): sat-sun")]
    #[case("*/0 * * * *", "step of range should be a positive number: */0")]
    #[case("1-2-3 * * * *", "too many hyphens: 1-2-3")]
    #[case("1/2/3 * * * *", "too many slashes: 1/2/3")]
    #[case(
        "x/2/3 * * * *",
        "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
    )]
    #[case(
        "* * * * mon/tue",
        "failed to parse int from tue: strconv.Atoi: parsing \"tue\": invalid syntax"
    )]
    #[case("@reboot", "unrecognized descriptor: @reboot")]
    #[case("@Daily", "unrecognized descriptor: @Daily")]
    #[case("@daily ", "unrecognized descriptor: @daily ")]
    #[case("@every", "unrecognized descriptor: @every")]
    #[case(
        "@every 5",
        "failed to parse duration @every 5: time: missing unit in duration \"5\""
    )]
    #[case(
        "@every  5m",
        "failed to parse duration @every  5m: time: invalid duration \" 5m\""
    )]
    #[case(
        "TZ=Foo/Bar 0 * * * *",
        "provided bad location Foo/Bar: unknown time zone Foo/Bar"
    )]
    #[case("TZ=UTC\t0 0 * * *", "provided bad location UTC\t0: unknown time zone UTC\t0")]
    #[case(
        "TZ=../x 0 * * * *",
        "provided bad location ../x: time: invalid location name"
    )]
    fn rejects_with_robfig_text(#[case] spec: &str, #[case] message: &str) {
        assert_eq!(
            parse_standard(spec).map(|_| ()).map_err(|e| e.to_string()),
            Err(message.to_string())
        );
    }

    #[test]
    fn single_value_with_step_runs_to_the_field_maximum() {
        assert_eq!(bits("5/15 * * * *").minute, set(&[5, 20, 35, 50]));
        assert_eq!(bits("* * */10 * *").dom, set(&[1, 11, 21, 31]));
    }

    #[test]
    fn step_above_one_clears_the_star_bit_and_step_one_keeps_it() {
        assert_eq!(bits("* * */2 * *").dom & STAR_BIT, 0);
        assert_ne!(bits("* * */1 * *").dom & STAR_BIT, 0);
    }

    #[test]
    fn anything_after_a_star_hyphen_is_ignored() {
        assert_eq!(bits("*-5 ?-x * * *"), bits("* * * * *"));
    }

    #[test]
    fn empty_list_items_are_dropped() {
        assert_eq!(bits("1,,2 * * * *").minute, set(&[1, 2]));
        assert_eq!(bits(", * * * *").minute, 0);
    }

    #[test]
    fn names_match_in_any_case_and_dotted_capital_i_lowers_to_i() {
        assert_eq!(bits("0 0 * * FRİ").dow, set(&[5]));
        assert_eq!(bits("0 0 * DeC sUn").month, set(&[12]));
    }

    #[rstest]
    #[case(0, 1)]
    #[case(-300_000_000_000, 1)]
    #[case(1_500_000_000, 1)]
    #[case(90_999_999_999, 90)]
    fn every_floors_to_whole_seconds(#[case] nanos: i64, #[case] seconds: i64) {
        assert_eq!(every_delay_seconds(nanos), seconds);
    }

    #[test]
    fn zero_width_space_is_not_whitespace_but_nbsp_is() {
        // Go's strings.Fields (and Rust's split_whitespace) use White_Space: U+200B is not in it.
        assert_eq!(
            parse_standard("0\u{200b}0 * * * *")
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(
                "failed to parse int from 0\u{200b}0: strconv.Atoi: parsing \"0\\u200b0\": invalid syntax"
                    .to_string()
            )
        );
        assert_eq!(bits("0\u{a0}0 * *\u{a0}*").hour, set(&[0]));
    }
}
