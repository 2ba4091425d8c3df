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
                let why = parsed
                    .why_never()
                    .unwrap_or_else(|| "no run in the next 5 years".to_string());
                let means = cron::describe(schedule)
                    .map(|d| format!(" ({}: {d})", quote(schedule)))
                    .unwrap_or_default();
                out.push(advice(
                    RuleId::NeverFiringSchedule,
                    &sp.child("schedule"),
                    format!(
                        "never fires: {why}{means}; the API server accepts it, but no Job will ever be created"
                    ),
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
