//! batchguard's opt-in stricter rules from the policy file's `rules:` section: errors that
//! say they are policy, not the API server's, worded in the API server's shapes so output
//! stays uniform.

use chrono::Duration;
use serde_json::Value;

use crate::apiserver::field::{self, as_int, as_str, finding, get, not_supported_message, quote, FieldPath};
use crate::cron;
use crate::model::{Context, Finding, Kind, Origin, Reason, RuleId, Severity};
use crate::policy::StrictRules;

/// How many future runs are examined for the shortest gap between two runs.
const GAP_RUNS: usize = 512;

fn policy_error(rule: RuleId, p: &FieldPath, reason: Reason, message: String) -> Finding {
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
    rule: RuleId,
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
        RuleId::AllowedRestartPolicies,
        &p.child("template").child("spec").child("restartPolicy"),
        rp,
        &["OnFailure", "Never"],
        rules.allowed_restart_policies.as_ref(),
        &mut out,
    );
    let mode = as_str(get(spec, &["completionMode"])).unwrap_or("NonIndexed");
    allowed(
        RuleId::AllowedCompletionModes,
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
        RuleId::AllowedConcurrencyPolicies,
        &sp.child("concurrencyPolicy"),
        cp,
        &["Allow", "Forbid", "Replace"],
        rules.allowed_concurrency_policies.as_ref(),
        &mut out,
    );
    for (rule, key, default, max) in [
        (
            RuleId::MaxSuccessfulJobsHistoryLimit,
            "successfulJobsHistoryLimit",
            3,
            rules.max_successful_jobs_history_limit,
        ),
        (
            RuleId::MaxFailedJobsHistoryLimit,
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
                    RuleId::MinScheduleInterval,
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
            RuleId::RequireTimeZone,
            &sp.child("timeZone"),
            Reason::FieldValueRequired,
            "Required value: set an IANA time zone such as \"Etc/UTC\" or \"Europe/Berlin\"".to_string(),
        ));
    }
    out
}

fn shortest_gap(schedule: &str, tz: Option<&str>, ctx: &Context) -> Option<Duration> {
    if schedule.is_empty() || crate::apiserver::crashes_parser(schedule) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_durations_like_go() {
        assert_eq!(human(60), "1m0s");
        assert_eq!(human(5), "5s");
        assert_eq!(human(3600), "1h0m0s");
    }
}
