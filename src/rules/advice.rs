//! batchguard's advice: default-on warnings from the policy file's `warnings:` section,
//! worded in the API server's shapes so output stays uniform. Advice never changes a verdict.

use serde_json::Value;

use crate::apiserver::field::{as_int, as_str, finding, get, quote, FieldPath};
use crate::cron;
use crate::model::{Context, Finding, Kind, Operation, Origin, Reason, RuleId, Severity};
use crate::policy::Warnings;

fn advice(rule: RuleId, p: &FieldPath, message: String) -> Finding {
    finding(
        rule,
        Severity::Warning,
        Origin::Advice,
        p,
        Reason::FieldValueInvalid,
        message,
    )
}

/// The default-on warnings of `warnings:` in the policy file.
pub(crate) fn advise(kind: Kind, obj: &Value, warnings: &Warnings, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    if kind != Kind::CronJob {
        return out;
    }
    let cs = get(obj, &["spec"]).unwrap_or(&Value::Null);
    let sp = FieldPath::root("spec");
    let schedule = as_str(get(cs, &["schedule"])).unwrap_or_default();
    let tz = as_str(get(cs, &["timeZone"]));
    if warnings.never_firing_schedule && !schedule.is_empty() && !crate::apiserver::crashes_parser(schedule) {
        if let Ok(parsed) = cron::controller_schedule(schedule, tz) {
            if parsed.next(ctx.now).is_none() {
                let why =
                    impossible_dates(schedule).unwrap_or_else(|| "no run in the next 5 years".to_string());
                out.push(advice(
                    RuleId::NeverFiringSchedule,
                    &sp.child("schedule"),
                    format!("never fires: {why}; the API server accepts it, but no Job will ever be created"),
                ));
            }
        }
    }
    if let Some(min) = warnings.min_starting_deadline_seconds {
        if let Some(v) = as_int(get(cs, &["startingDeadlineSeconds"])) {
            if v >= 0 && v < min {
                out.push(advice(
                    RuleId::ShortStartingDeadline,
                    &sp.child("startingDeadlineSeconds"),
                    format!(
                        "startingDeadlineSeconds is {v}, below {min}: the CronJob controller may start a run a few seconds late, and a run that misses its deadline is skipped; use at least {min}"
                    ),
                ));
            }
        }
    }
    if warnings.tz_prefix_on_update && ctx.operation == Operation::Update && schedule.contains("TZ") {
        out.push(advice(
            RuleId::TzPrefixOnUpdate,
            &sp.child("schedule"),
            "cannot use TZ or CRON_TZ in spec.spec.schedule, use timeZone instead, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details".to_string(),
        ));
    }
    out
}

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
const MONTH_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Parses a plain list field (`30,31`, `2`, `feb`, `4-6`) into values; `None` for stars,
/// steps or anything else this explanation does not try to read.
fn plain_list(field: &str, names: bool) -> Option<Vec<u32>> {
    // Day and month values above 31 are parse errors anyway; the cap keeps ranges small.
    let parse = |t: &str| -> Option<u32> {
        if let Ok(n) = t.parse::<u32>() {
            return (n <= 31).then_some(n);
        }
        if !names {
            return None;
        }
        let lower = t.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| m[..3].eq_ignore_ascii_case(&lower))
            .map(|i| i as u32 + 1)
    };
    let mut out = Vec::new();
    for part in field.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse(a)?, parse(b)?);
                out.extend(a..=b);
            }
            None => out.push(parse(part)?),
        }
    }
    Some(out)
}

/// Says why a schedule never fires, when the reason is simple: a field that lists no
/// values (`,` is accepted and matches nothing), or days of month its months never have.
fn impossible_dates(schedule: &str) -> Option<String> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields.as_slice() else {
        return None;
    };
    let names = ["minute", "hour", "day-of-month", "month", "day-of-week"];
    for (name, field) in names.iter().zip([minute, hour, dom, month, dow]) {
        if field.chars().all(|c| c == ',') {
            return Some(format!("the {name} field {} lists no values", quote(field)));
        }
    }
    if *dow != "*" && *dow != "?" {
        return None;
    }
    let days = plain_list(dom, false)?;
    let months = plain_list(month, true)?;
    if days.is_empty() || months.is_empty() {
        return None;
    }
    let impossible = months
        .iter()
        .all(|m| (1..=12).contains(m) && days.iter().all(|d| *d > MONTH_DAYS[*m as usize - 1]));
    if !impossible {
        return None;
    }
    let day_list: Vec<String> = days.iter().map(u32::to_string).collect();
    let month_list: Vec<&str> = months.iter().map(|m| MONTHS[*m as usize - 1]).collect();
    let (noun, verb) = if days.len() == 1 {
        ("day", "does")
    } else {
        ("days", "do")
    };
    Some(format!(
        "{noun} {} of {} {verb} not exist",
        day_list.join(", "),
        month_list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_impossible_dates() {
        assert_eq!(
            impossible_dates("0 0 30 2 *").as_deref(),
            Some("day 30 of February does not exist")
        );
        assert_eq!(
            impossible_dates("0 0 30,31 feb *").as_deref(),
            Some("days 30, 31 of February do not exist")
        );
        assert_eq!(
            impossible_dates("0 0 31 4,6 *").as_deref(),
            Some("day 31 of April, June does not exist")
        );
        assert_eq!(impossible_dates("0 0 29 2 *"), None);
        assert_eq!(impossible_dates("0 0 31 2 1"), None);
        assert_eq!(impossible_dates("@daily"), None);
        assert_eq!(impossible_dates("0 0 1-4000000000 2 *"), None);
        assert_eq!(
            impossible_dates(", * * * *").as_deref(),
            Some("the minute field \",\" lists no values")
        );
    }
}
