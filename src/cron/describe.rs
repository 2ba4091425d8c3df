//! Schedules in words: what a valid schedule means (`At 02:30, Monday through Friday`), and
//! why one never fires when its fields alone prove it (`day 31 of April does not exist`).
//! Both read the parsed fields robfig's scheduler uses, not the text, so names, `?`, steps,
//! ranges, lists and the day-of-month/day-of-week rule are described as they behave.

use super::parse::{Parsed, SpecBits, STAR_BIT};
use super::{parse_standard, ParseError, Schedule};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
/// The most days each month can have (February 29 exists in leap years, and robfig looks
/// five years ahead, so it always finds one).
const MONTH_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Describes `spec` in words, or gives robfig's error when it does not parse. A `TZ=` or
/// `CRON_TZ=` prefix is named at the end (`…, in time zone Europe/Berlin`).
pub fn describe(spec: &str) -> Result<String, ParseError> {
    let schedule = parse_standard(spec)?;
    Ok(schedule_description(&schedule, tz_prefix(spec)))
}

impl Schedule {
    /// Why this schedule can never fire, when its fields prove it: a field that lists no
    /// values (`,` parses and matches nothing), or days of month that none of its months has
    /// (`0 0 31 4 *`). `None` when it fires, or when a run's absence has another cause.
    pub fn why_never(&self) -> Option<String> {
        let Parsed::Spec(bits) = self.kind else {
            return None;
        };
        let fields = Fields::of(&bits);
        if let Some(name) = fields.empty_field() {
            return Some(format!("the {name} field lists no values"));
        }
        // Days are one condition (both must match) only when either field is a star; with
        // the day-of-week star every weekday matches, so only the dates decide.
        if bits.dow & STAR_BIT == 0 || bits.dom & STAR_BIT != 0 {
            return None;
        }
        let impossible = fields
            .month
            .iter()
            .all(|&m| fields.dom.iter().all(|&d| d > MONTH_DAYS[m as usize - 1]));
        if !impossible {
            return None;
        }
        let days: Vec<String> = fields.dom.iter().map(u32::to_string).collect();
        let months: Vec<&str> = fields.month.iter().map(|&m| MONTHS[m as usize - 1]).collect();
        let (noun, verb) = if days.len() == 1 {
            ("day", "does")
        } else {
            ("days", "do")
        };
        Some(format!(
            "{noun} {} of {} {verb} not exist",
            days.join(", "),
            months.join(", ")
        ))
    }
}

/// The zone named by a `TZ=`/`CRON_TZ=` prefix (Go's `LoadLocation("")` is UTC).
fn tz_prefix(spec: &str) -> Option<&str> {
    let rest = spec
        .strip_prefix("TZ=")
        .or_else(|| spec.strip_prefix("CRON_TZ="))?;
    let name = rest.split(' ').next().unwrap_or_default();
    Some(if name.is_empty() { "UTC" } else { name })
}

fn schedule_description(schedule: &Schedule, zone: Option<&str>) -> String {
    let mut text = match schedule.kind {
        Parsed::Every { seconds } => every(seconds),
        Parsed::Spec(bits) => spec(&bits),
    };
    if let Some(zone) = zone {
        text.push_str(", in time zone ");
        text.push_str(zone);
    }
    text
}

/// `@every`: the controller adds the delay to the previous scheduled time, so runs keep a
/// fixed distance from the CronJob's creation rather than from the clock.
fn every(seconds: i64) -> String {
    let interval = if seconds % 3600 == 0 {
        count(seconds / 3600, "hour", "hours")
    } else if seconds % 60 == 0 {
        count(seconds / 60, "minute", "minutes")
    } else if seconds < 60 {
        count(seconds, "second", "seconds")
    } else {
        go_duration(seconds)
    };
    format!("Every {interval}, counted from the CronJob's creation (not aligned to the clock)")
}

/// `1 hour` is said `hour`: "Every hour".
fn count(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_string()
    } else {
        format!("{n} {many}")
    }
}

/// Whole seconds as Go prints a duration (`1h30m15s`).
fn go_duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else {
        format!("{m}m{s}s")
    }
}

/// The values of each field, from the bits the scheduler matches.
struct Fields {
    minute: Vec<u32>,
    hour: Vec<u32>,
    dom: Vec<u32>,
    month: Vec<u32>,
    dow: Vec<u32>,
}

impl Fields {
    fn of(bits: &SpecBits) -> Fields {
        let values = |b: u64, min: u32, max: u32| (min..=max).filter(|v| b & (1 << v) != 0).collect();
        Fields {
            minute: values(bits.minute, 0, 59),
            hour: values(bits.hour, 0, 23),
            dom: values(bits.dom, 1, 31),
            month: values(bits.month, 1, 12),
            dow: values(bits.dow, 0, 6),
        }
    }

    fn empty_field(&self) -> Option<&'static str> {
        [
            ("minute", &self.minute),
            ("hour", &self.hour),
            ("day-of-month", &self.dom),
            ("month", &self.month),
            ("day-of-week", &self.dow),
        ]
        .into_iter()
        .find(|(_, values)| values.is_empty())
        .map(|(name, _)| name)
    }
}

/// The shape of a field's values, from which each field is worded.
#[derive(Debug, PartialEq, Eq)]
enum Shape {
    All,
    One(u32),
    /// Consecutive values `from..=to`, at least three.
    Run {
        from: u32,
        to: u32,
    },
    /// Every `step`-th value from `from` to `to`: at least three values, or two half a
    /// cycle apart; `step` ≥ 2.
    Stepped {
        from: u32,
        to: u32,
        step: u32,
    },
    /// Anything else: runs and single values, in order.
    List(Vec<(u32, u32)>),
}

fn shape(values: &[u32], min: u32, max: u32) -> Shape {
    let (Some(&first), Some(&last)) = (values.first(), values.last()) else {
        return Shape::List(Vec::new());
    };
    if values.len() as u32 == max - min + 1 {
        return Shape::All;
    }
    if values.len() == 1 {
        return Shape::One(first);
    }
    let step = values[1] - values[0];
    if values.len() >= 3 && values.windows(2).all(|w| w[1] - w[0] == step) {
        return if step == 1 {
            Shape::Run {
                from: first,
                to: last,
            }
        } else {
            Shape::Stepped {
                from: first,
                to: last,
                step,
            }
        };
    }
    // Two values half a cycle apart (`*/30` minutes, `*/12` hours) are evenly spaced too.
    if values.len() == 2 && first == min && step * 2 == max - min + 1 {
        return Shape::Stepped {
            from: first,
            to: last,
            step,
        };
    }
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &v in values {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => runs.push((v, v)),
        }
    }
    Shape::List(runs)
}

/// `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Runs of three or more read `a through b`; shorter runs are listed value by value.
fn runs_list(runs: &[(u32, u32)], name: &dyn Fn(u32) -> String) -> String {
    let mut items = Vec::new();
    for &(from, to) in runs {
        if to >= from + 2 {
            items.push(format!("{} through {}", name(from), name(to)));
        } else {
            items.extend((from..=to).map(name));
        }
    }
    and_list(&items)
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn hh(h: u32) -> String {
    format!("{h:02}")
}

fn spec(bits: &SpecBits) -> String {
    let f = Fields::of(bits);
    if let Some(name) = f.empty_field() {
        return format!("Never: the {name} field lists no values");
    }
    let time = time(&f.minute, &f.hour);
    let mut parts = vec![time.text];

    let dom = shape(&f.dom, 1, 31);
    let month = shape(&f.month, 1, 12);
    let dow = shape(&f.dow, 0, 6);
    if bits.dom & STAR_BIT != 0 || bits.dow & STAR_BIT != 0 {
        // Both conditions hold together; a star side matches every day.
        match (&dom, &month, &dow) {
            (Shape::One(d), Shape::One(m), Shape::All) => {
                parts.push(format!("on {} {d}", MONTHS[*m as usize - 1]));
            }
            _ => {
                if dom != Shape::All {
                    parts.push(days_of_month(&dom));
                }
                if dow != Shape::All {
                    parts.push(weekdays(&dow, true));
                }
                if month != Shape::All {
                    parts.push(months(&month));
                }
            }
        }
    } else {
        // robfig's rule when neither day field is a star: a day matches if either does.
        if dom != Shape::All && dow != Shape::All {
            parts.push(format!("{} or {}", days_of_month(&dom), weekdays(&dow, false)));
        }
        if month != Shape::All {
            parts.push(months(&month));
        }
    }
    if parts.len() == 1 && time.at_times {
        parts.push("every day".to_string());
    }
    parts.join(", ")
}

struct Time {
    text: String,
    /// The text names clock times (`At 02:30`), so a bare one reads better with "every day".
    at_times: bool,
}

fn time(minutes: &[u32], hours: &[u32]) -> Time {
    let m = shape(minutes, 0, 59);
    let h = shape(hours, 0, 23);
    if m != Shape::All && h != Shape::All && minutes.len() * hours.len() <= 6 {
        let times: Vec<String> = hours
            .iter()
            .flat_map(|h| minutes.iter().map(move |m| format!("{h:02}:{m:02}")))
            .collect();
        return Time {
            text: format!("At {}", and_list(&times)),
            at_times: true,
        };
    }
    let text = match (&m, &h) {
        (Shape::All, Shape::All) => "Every minute".to_string(),
        (Shape::One(0), Shape::All) => "Every hour, on the hour".to_string(),
        (Shape::One(minute), Shape::Stepped { from: 0, step, .. }) if 24 % step == 0 => {
            format!("Every {step} hours, {}", past_the_hour(*minute))
        }
        _ => {
            let minute_text = minutes_text(&m);
            match hours_text(&h) {
                Some(hour_text) => format!("{minute_text}, {hour_text}"),
                None => minute_text,
            }
        }
    };
    Time {
        text,
        at_times: false,
    }
}

fn past_the_hour(minute: u32) -> String {
    match minute {
        0 => "on the hour".to_string(),
        1 => "at 1 minute past the hour".to_string(),
        m => format!("at {m} minutes past the hour"),
    }
}

fn minutes_text(m: &Shape) -> String {
    match m {
        Shape::All => "Every minute".to_string(),
        Shape::One(0) => "On the hour".to_string(),
        Shape::One(1) => "At 1 minute past the hour".to_string(),
        Shape::One(x) => format!("At {x} minutes past the hour"),
        Shape::Run { from, to } => format!("Every minute from {from} through {to} past the hour"),
        Shape::Stepped { from: 0, step, .. } if 60 % step == 0 => format!("Every {step} minutes"),
        Shape::Stepped { from, to, step } => format!(
            "At every {} minute from {from} through {to} past the hour",
            ordinal(*step)
        ),
        Shape::List(runs) => format!("At {} minutes past the hour", runs_list(runs, &|v| v.to_string())),
    }
}

/// How the hours narrow the minutes; `None` for every hour.
fn hours_text(h: &Shape) -> Option<String> {
    Some(match h {
        Shape::All => return None,
        Shape::One(x) => format!("between {}:00 and {}:59", hh(*x), hh(*x)),
        Shape::Run { from, to } => format!("between {}:00 and {}:59", hh(*from), hh(*to)),
        Shape::Stepped { from: 0, step, .. } if 24 % step == 0 => format!("every {step} hours"),
        // A few hours read better named than as a step (`during hours 01, 05 and 09`).
        Shape::Stepped { from, to, step } if (to - from) / step < 4 => {
            let hours: Vec<String> = (*from..=*to).step_by(*step as usize).map(hh).collect();
            format!("during hours {}", and_list(&hours))
        }
        Shape::Stepped { from, to, step } => format!(
            "in every {} hour from {}:00 through {}:59",
            ordinal(*step),
            hh(*from),
            hh(*to)
        ),
        Shape::List(runs) => match runs.as_slice() {
            [(from, to)] => format!("between {}:00 and {}:59", hh(*from), hh(*to)),
            _ => format!("during hours {}", runs_list(runs, &hh)),
        },
    })
}

fn days_of_month(dom: &Shape) -> String {
    match dom {
        Shape::All => "on every day of the month".to_string(),
        Shape::One(d) => format!("on day {d} of the month"),
        Shape::Run { from, to } => format!("on days {from} through {to} of the month"),
        Shape::Stepped { from, to, step } => format!(
            "on every {} day of the month from day {from} through {to}",
            ordinal(*step)
        ),
        Shape::List(runs) => format!("on days {} of the month", runs_list(runs, &|v| v.to_string())),
    }
}

/// Weekdays; `alone` when they are the only day condition (`Monday through Friday`, `only
/// on Sunday`), else worded to follow "or" (`on Friday`).
fn weekdays(dow: &Shape, alone: bool) -> String {
    let name = |d: u32| WEEKDAYS[d as usize].to_string();
    let runs = match dow {
        Shape::All => return "on every day of the week".to_string(),
        Shape::Run { from, to } if alone => {
            return format!("{} through {}", name(*from), name(*to));
        }
        Shape::One(d) => vec![(*d, *d)],
        Shape::Run { from, to } => vec![(*from, *to)],
        Shape::Stepped { from, to, step } => (*from..=*to).step_by(*step as usize).map(|d| (d, d)).collect(),
        Shape::List(runs) => runs.clone(),
    };
    let list = runs_list(&runs, &name);
    if alone {
        format!("only on {list}")
    } else {
        format!("on {list}")
    }
}

fn months(month: &Shape) -> String {
    let name = |m: u32| MONTHS[m as usize - 1].to_string();
    let runs = match month {
        Shape::All => return "in every month".to_string(),
        Shape::Run { from, to } => {
            return format!("{} through {}", name(*from), name(*to));
        }
        Shape::One(m) => vec![(*m, *m)],
        Shape::Stepped { from, to, step } => (*from..=*to).step_by(*step as usize).map(|m| (m, m)).collect(),
        Shape::List(runs) => runs.clone(),
    };
    format!("only in {}", runs_list(&runs, &name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    // Times of day
    #[case("30 2 * * 1-5", "At 02:30, Monday through Friday")]
    #[case("30 2 * * *", "At 02:30, every day")]
    #[case("0 0 * * *", "At 00:00, every day")]
    #[case("0 9,17 * * *", "At 09:00 and 17:00, every day")]
    #[case("0,30 9,17 * * *", "At 09:00, 09:30, 17:00 and 17:30, every day")]
    #[case("0 */6 * * *", "At 00:00, 06:00, 12:00 and 18:00, every day")]
    #[case("15 */2 * * *", "Every 2 hours, at 15 minutes past the hour")]
    #[case("0 */2 * * *", "Every 2 hours, on the hour")]
    #[case("0 */5 * * *", "At 00:00, 05:00, 10:00, 15:00 and 20:00, every day")]
    #[case("0 */3 * * *", "Every 3 hours, on the hour")]
    #[case("0 */12 * * *", "At 00:00 and 12:00, every day")]
    #[case(
        "*/30 */5 * * *",
        "Every 30 minutes, in every 5th hour from 00:00 through 20:59"
    )]
    #[case("* 9,10 * * *", "Every minute, between 09:00 and 10:59")]
    // Minutes and hours
    #[case("* * * * *", "Every minute")]
    #[case("? ? ? ? ?", "Every minute")]
    #[case("*/1 * * * *", "Every minute")]
    #[case("*-5 ?-x * * *", "Every minute")]
    #[case("0 * * * *", "Every hour, on the hour")]
    #[case("1 * * * *", "At 1 minute past the hour")]
    #[case("30 * * * *", "At 30 minutes past the hour")]
    #[case("*/15 * * * *", "Every 15 minutes")]
    #[case("0,15,30,45 * * * *", "Every 15 minutes")]
    #[case("*/30 * * * *", "Every 30 minutes")]
    #[case("*/45 * * * *", "At 0 and 45 minutes past the hour")]
    #[case("*/7 * * * *", "At every 7th minute from 0 through 56 past the hour")]
    #[case("5/15 * * * *", "At every 15th minute from 5 through 50 past the hour")]
    #[case("0-30 * * * *", "Every minute from 0 through 30 past the hour")]
    #[case("1-5,10,20 * * * *", "At 1 through 5, 10 and 20 minutes past the hour")]
    #[case("1,,2 * * * *", "At 1 and 2 minutes past the hour")]
    #[case("* 9 * * *", "Every minute, between 09:00 and 09:59")]
    #[case(
        "*/15 9-17 * * 1-5",
        "Every 15 minutes, between 09:00 and 17:59, Monday through Friday"
    )]
    #[case("*/10 1,5,9 * * *", "Every 10 minutes, during hours 01, 05 and 09")]
    #[case("*/10 1-3,5 * * *", "Every 10 minutes, during hours 01 through 03 and 05")]
    #[case("+5 05 * * *", "At 05:05, every day")]
    // Days, months and weekdays
    #[case("0 0 1 * *", "At 00:00, on day 1 of the month")]
    #[case("0 0 1,15 * *", "At 00:00, on days 1 and 15 of the month")]
    #[case("0 0 1-7 * *", "At 00:00, on days 1 through 7 of the month")]
    #[case(
        "0 0 */2 * *",
        "At 00:00, on every 2nd day of the month from day 1 through 31"
    )]
    #[case("0 0 * * */1", "At 00:00, every day")]
    #[case("0 0 1 1 *", "At 00:00, on January 1")]
    #[case("0 0 25 dec *", "At 00:00, on December 25")]
    #[case("0 0 * 2 *", "At 00:00, only in February")]
    #[case("0 0 1 JAN-Mar *", "At 00:00, on day 1 of the month, January through March")]
    #[case(
        "0 0 1 */3 *",
        "At 00:00, on day 1 of the month, only in January, April, July and October"
    )]
    #[case("0 0 * 6,7 *", "At 00:00, only in June and July")]
    #[case("0 0 * * 0", "At 00:00, only on Sunday")]
    #[case("0 0 * * sun", "At 00:00, only on Sunday")]
    #[case("0 0 * * FRİ", "At 00:00, only on Friday")]
    #[case("0 0 * * 1,3,5", "At 00:00, only on Monday, Wednesday and Friday")]
    #[case(
        "0 0 * * sun-sat/2",
        "At 00:00, only on Sunday, Tuesday, Thursday and Saturday"
    )]
    #[case("0 0 * * 1-3,5", "At 00:00, only on Monday through Wednesday and Friday")]
    #[case("0 0 * * 6,0", "At 00:00, only on Sunday and Saturday")]
    #[case("0 0 * * 0-6", "At 00:00, every day")]
    // Day of month or day of week: either matches when neither is a star.
    #[case("0 0 13 * 5", "At 00:00, on day 13 of the month or on Friday")]
    #[case(
        "0 0 1-7 * 1-5",
        "At 00:00, on days 1 through 7 of the month or on Monday through Friday"
    )]
    #[case(
        "0 0 */2 * 1",
        "At 00:00, on every 2nd day of the month from day 1 through 31 or on Monday"
    )]
    #[case("0 0 1-31 * 1", "At 00:00, every day")]
    #[case("0 0 13 * 5 ", "At 00:00, on day 13 of the month or on Friday")]
    #[case("0 0 13 * ?", "At 00:00, on day 13 of the month")]
    #[case("0 0 ? * 5", "At 00:00, only on Friday")]
    // Descriptors
    #[case("@yearly", "At 00:00, on January 1")]
    #[case("@annually", "At 00:00, on January 1")]
    #[case("@monthly", "At 00:00, on day 1 of the month")]
    #[case("@weekly", "At 00:00, only on Sunday")]
    #[case("@daily", "At 00:00, every day")]
    #[case("@midnight", "At 00:00, every day")]
    #[case("@hourly", "Every hour, on the hour")]
    #[case(
        "@every 90m",
        "Every 90 minutes, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 1h30m",
        "Every 90 minutes, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 2h",
        "Every 2 hours, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 1h",
        "Every hour, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 1.5s",
        "Every second, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 0s",
        "Every second, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 45s",
        "Every 45 seconds, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 1h0m15s",
        "Every 1h0m15s, counted from the CronJob's creation (not aligned to the clock)"
    )]
    #[case(
        "@every 61s",
        "Every 1m1s, counted from the CronJob's creation (not aligned to the clock)"
    )]
    // Time zones
    #[case(
        "TZ=Europe/Berlin 30 2 * * *",
        "At 02:30, every day, in time zone Europe/Berlin"
    )]
    #[case(
        "CRON_TZ=America/New_York 0 7 * * 1-5",
        "At 07:00, Monday through Friday, in time zone America/New_York"
    )]
    #[case("CRON_TZ= 0 0 * * *", "At 00:00, every day, in time zone UTC")]
    #[case("TZ=Local @daily", "At 00:00, every day, in time zone Local")]
    // Never
    #[case(", * * * *", "Never: the minute field lists no values")]
    #[case("0 0 , * *", "Never: the day-of-month field lists no values")]
    #[case("0 0 30 2 *", "At 00:00, on February 30")]
    fn describes(#[case] spec: &str, #[case] expected: &str) {
        assert_eq!(describe(spec).as_deref(), Ok(expected), "{spec:?}");
    }

    #[test]
    fn an_invalid_schedule_has_the_parser_error_instead() {
        assert_eq!(
            describe("0 0 * * 7").map_err(|e| e.to_string()),
            Err("end of range (7) above maximum (6): 7".to_string())
        );
    }

    #[rstest]
    #[case("0 0 30 2 *", "day 30 of February does not exist")]
    #[case("0 0 30,31 feb *", "days 30, 31 of February do not exist")]
    #[case("0 0 31 4,6 *", "day 31 of April, June does not exist")]
    #[case("0 0 31 4 *", "day 31 of April does not exist")]
    #[case(
        "0 0 31 apr,jun,sep,nov *",
        "day 31 of April, June, September, November does not exist"
    )]
    #[case("0 0 30-31 2 ?", "days 30, 31 of February do not exist")]
    #[case("0 0 30 2 */1", "day 30 of February does not exist")]
    #[case(", * * * *", "the minute field lists no values")]
    #[case("0 0 * , *", "the month field lists no values")]
    fn explains_why_a_schedule_never_fires(#[case] spec: &str, #[case] why: &str) {
        let schedule = parse_standard(spec).expect("valid");
        assert_eq!(schedule.why_never().as_deref(), Some(why));
        let from = "2026-01-01T00:00:00Z".parse().expect("instant");
        assert!(schedule.never_fires(from), "{spec:?} really never fires");
    }

    #[rstest]
    #[case("0 0 29 2 *")]
    #[case("0 0 31 2 1")]
    #[case("0 0 31 * *")]
    #[case("0 0 31 4,5 *")]
    #[case("0 0 30 2 1")]
    #[case("@daily")]
    #[case("@every 1h")]
    fn has_no_reason_when_it_fires(#[case] spec: &str) {
        let schedule = parse_standard(spec).expect("valid");
        assert_eq!(schedule.why_never(), None, "{spec:?}");
    }

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31].map(ordinal).to_vec();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]
        );
    }
}
