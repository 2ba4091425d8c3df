//! batchguard's own findings: opt-in stricter rules from the policy file (errors that say
//! they are policy, not the API server) and default-on advice (warnings that never change
//! the verdict). Both are worded in the API server's shapes so output stays uniform.

use chrono::Duration;
use serde_json::Value;

use super::field::{self, as_int, as_str, finding, get, not_supported_message, quote, FieldPath};
use super::{Context, Finding, Kind, Operation, Origin, Reason, Severity};
use crate::config::{StrictRules, Warnings};
use crate::cron;

/// How many future runs are examined for the shortest gap between two runs.
const GAP_RUNS: usize = 512;

fn policy_error(rule: &'static str, p: &FieldPath, reason: Reason, message: String) -> Finding {
    finding(
        rule,
        Severity::Error,
        Origin::Policy,
        p,
        reason,
        format!("{message} (batchguard policy {rule})"),
    )
}

/// The Job spec and its API path: the Job's own, or the CronJob's job template.
fn job_spec(kind: Kind, obj: &Value) -> (&Value, &'static FieldPath<'static>) {
    match kind {
        Kind::Job => (get(obj, &["spec"]).unwrap_or(&Value::Null), &field::SPEC),
        Kind::CronJob => (
            get(obj, &["spec", "jobTemplate", "spec"]).unwrap_or(&Value::Null),
            &field::JOB_TEMPLATE_SPEC,
        ),
    }
}

/// Checks `value` against an allowed list, but only when the API server itself accepts
/// the value: an invalid one is already an API error.
fn allowed(
    rule: &'static str,
    p: &FieldPath,
    value: &str,
    api_valid: &[&str],
    allowed: Option<&Vec<String>>,
    out: &mut Vec<Finding>,
) {
    let Some(list) = allowed.filter(|l| !l.is_empty()) else {
        return;
    };
    if api_valid.contains(&value) && !list.iter().any(|a| a == value) {
        let supported: Vec<&str> = list.iter().map(String::as_str).collect();
        out.push(policy_error(
            rule,
            p,
            Reason::FieldValueNotSupported,
            not_supported_message(&quote(value), &supported),
        ));
    }
}

/// The opt-in rules of `rules:` in the policy file.
pub(crate) fn rules(kind: Kind, obj: &Value, rules: &StrictRules, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let (spec, p) = job_spec(kind, obj);
    let rp = as_str(get(spec, &["template", "spec", "restartPolicy"])).unwrap_or_default();
    allowed(
        "allowed-restart-policies",
        &p.child("template").child("spec").child("restartPolicy"),
        rp,
        &["OnFailure", "Never"],
        rules.allowed_restart_policies.as_ref(),
        &mut out,
    );
    let mode = as_str(get(spec, &["completionMode"])).unwrap_or("NonIndexed");
    allowed(
        "allowed-completion-modes",
        &p.child("completionMode"),
        mode,
        &["NonIndexed", "Indexed"],
        rules.allowed_completion_modes.as_ref(),
        &mut out,
    );
    if kind == Kind::Job {
        return out;
    }
    let cs = get(obj, &["spec"]).unwrap_or(&Value::Null);
    let sp = FieldPath::root("spec");
    let cp = as_str(get(cs, &["concurrencyPolicy"]))
        .filter(|s| !s.is_empty())
        .unwrap_or("Allow");
    allowed(
        "allowed-concurrency-policies",
        &sp.child("concurrencyPolicy"),
        cp,
        &["Allow", "Forbid", "Replace"],
        rules.allowed_concurrency_policies.as_ref(),
        &mut out,
    );
    for (rule, key, default, max) in [
        (
            "max-successful-jobs-history-limit",
            "successfulJobsHistoryLimit",
            3,
            rules.max_successful_jobs_history_limit,
        ),
        (
            "max-failed-jobs-history-limit",
            "failedJobsHistoryLimit",
            1,
            rules.max_failed_jobs_history_limit,
        ),
    ] {
        let Some(max) = max else { continue };
        let v = as_int(get(cs, &[key])).unwrap_or(default);
        if v >= 0 && v > i64::from(max) {
            out.push(policy_error(
                rule,
                &sp.child(key),
                Reason::FieldValueInvalid,
                format!("Invalid value: {v}: must be less than or equal to {max}"),
            ));
        }
    }
    let schedule = as_str(get(cs, &["schedule"])).unwrap_or_default();
    let tz = as_str(get(cs, &["timeZone"]));
    if let Some(min) = rules.min_schedule_interval_seconds {
        if let Some(gap) = shortest_gap(schedule, tz, ctx) {
            let secs = gap.num_seconds();
            if secs >= 0 && (secs as u64) < min {
                out.push(policy_error(
                    "min-schedule-interval",
                    &sp.child("schedule"),
                    Reason::FieldValueInvalid,
                    format!(
                        "Invalid value: {}: runs can be {} apart, less than the minimum interval of {min} seconds",
                        quote(schedule),
                        human(secs)
                    ),
                ));
            }
        }
    }
    if rules.require_time_zone && tz.is_none() {
        out.push(policy_error(
            "require-time-zone",
            &sp.child("timeZone"),
            Reason::FieldValueRequired,
            "Required value: set an IANA time zone such as \"Etc/UTC\" or \"Europe/Berlin\"".to_string(),
        ));
    }
    out
}

fn shortest_gap(schedule: &str, tz: Option<&str>, ctx: &Context) -> Option<Duration> {
    if schedule.is_empty() || super::cronjob::crashes_parser(schedule) {
        return None;
    }
    let parsed = cron::controller_schedule(schedule, tz).ok()?;
    parsed.shortest_gap(ctx.now, GAP_RUNS)
}

/// `90` -> `1m30s`, Go-duration style.
fn human(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{s}s"));
    out
}

fn advice(rule: &'static str, p: &FieldPath, message: String) -> Finding {
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
    if warnings.never_firing_schedule && !schedule.is_empty() && !super::cronjob::crashes_parser(schedule) {
        if let Ok(parsed) = cron::controller_schedule(schedule, tz) {
            if parsed.next(ctx.now).is_none() {
                let why =
                    impossible_dates(schedule).unwrap_or_else(|| "no run in the next 5 years".to_string());
                out.push(advice(
                    "never-firing-schedule",
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
                    "short-starting-deadline",
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
            "tz-prefix-on-update",
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

    #[test]
    fn prints_durations_like_go() {
        assert_eq!(human(60), "1m0s");
        assert_eq!(human(5), "5s");
        assert_eq!(human(3600), "1h0m0s");
    }
}
