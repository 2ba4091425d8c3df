//! The CronJob rules (`ValidateCronJobCreate`/`Update`, `validateCronJobSpec`,
//! `ValidateJobTemplateSpec`), in the API server's order. Schedule parsing and time-zone
//! lookup are the cron module's; this module only places and words their findings.

use serde_json::Value;

use super::{job, meta};
use crate::apiserver::field::{as_bool, as_str, get, go_label_selector, quote, Errs, FieldPath};
use crate::cron::{self, ScheduleProblem};
use crate::model::{Context, Operation, Reason, RuleId};

/// The CronJob name limit: the controller appends `-<11 digits>` to make Job names.
const MAX_CRONJOB_NAME: usize = 52;

pub(crate) fn validate(cj: &Value, ctx: &Context, errs: &mut Errs) {
    let meta_v = get(cj, &["metadata"]).unwrap_or(&Value::Null);
    let spec = get(cj, &["spec"]).unwrap_or(&Value::Null);
    let old_spec = match (ctx.operation, ctx.old) {
        (Operation::Update, Some(old)) => Some(get(old, &["spec"]).unwrap_or(&Value::Null)),
        _ => None,
    };
    if old_spec.is_none() {
        meta::object_meta(meta_v, errs);
    }
    // `ValidateObjectMetaUpdate`: the name cannot change (so its format is not re-checked),
    // labels and annotations are checked again.
    if let (Some(old), Operation::Update) = (ctx.old, ctx.operation) {
        job::name_immutable(cj, old, errs);
        meta::object_meta_update(meta_v, errs);
    }
    cronjob_spec(spec, old_spec, errs);
    if ctx.operation == Operation::Create {
        let name = as_str(get(meta_v, &["name"])).unwrap_or_default();
        if name.len() > MAX_CRONJOB_NAME {
            errs.invalid(
                RuleId::NameTooLong,
                &FieldPath::root("metadata").child("name"),
                &quote(name),
                "must be no more than 52 characters",
            );
        }
    }
}

/// robfig/cron v3.0.1 slices to index -1 on a `TZ=`/`CRON_TZ=` prefix with no space after
/// it, and kube-apiserver panics: the request gets no answer at all.
pub(crate) fn crashes_parser(schedule: &str) -> bool {
    (schedule.starts_with("TZ=") || schedule.starts_with("CRON_TZ=")) && !schedule.contains(' ')
}

fn cronjob_spec(spec: &Value, old_spec: Option<&Value>, errs: &mut Errs) {
    let p = FieldPath::root("spec");
    let schedule = as_str(get(spec, &["schedule"])).unwrap_or_default();
    let time_zone = as_str(get(spec, &["timeZone"]));
    let sp = p.child("schedule");
    if schedule.is_empty() {
        errs.required(RuleId::ScheduleRequired, &sp, "");
    } else if crashes_parser(schedule) {
        errs.push(
            RuleId::ServerCrash,
            &sp,
            Reason::FieldValueInvalid,
            format!(
                "Invalid value: {}: a TZ= or CRON_TZ= prefix needs a space between the zone and the schedule; the real API server (v1.32) crashes on this schedule (robfig/cron#470) and drops the request with no response; use spec.timeZone instead",
                quote(schedule)
            ),
        );
    } else {
        let allow_tz = old_spec
            .and_then(|o| as_str(get(o, &["schedule"])))
            .is_some_and(|s| s.contains("TZ"));
        for problem in cron::schedule_problems(schedule, allow_tz, time_zone.is_some()) {
            match problem {
                ScheduleProblem::Required => errs.required(RuleId::ScheduleRequired, &sp, ""),
                ScheduleProblem::Invalid(detail) => {
                    errs.invalid(RuleId::InvalidSchedule, &sp, &quote(schedule), &detail);
                }
                ScheduleProblem::TimeZoneInSchedule(detail) => {
                    errs.invalid(RuleId::TzInSchedule, &sp, &quote(schedule), detail);
                }
            }
        }
    }
    job::non_negative(spec, "startingDeadlineSeconds", &p, errs);
    let tz_changed = match old_spec {
        None => true,
        Some(o) => as_str(get(o, &["timeZone"])) != time_zone,
    };
    if let (true, Some(tz)) = (tz_changed, time_zone) {
        for detail in cron::time_zone_problems(tz) {
            errs.invalid(RuleId::InvalidTimeZone, &p.child("timeZone"), &quote(tz), &detail);
        }
    }
    // A non-pointer string: "" was defaulted to Allow, so only an undefaulted object has it.
    let cp = p.child("concurrencyPolicy");
    match as_str(get(spec, &["concurrencyPolicy"])).unwrap_or_default() {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.required(RuleId::ConcurrencyPolicyRequired, &cp, ""),
        other => errs.not_supported(
            RuleId::UnsupportedConcurrencyPolicy,
            &cp,
            &quote(other),
            &["Allow", "Forbid", "Replace"],
        ),
    }
    job_template(spec, &p.child("jobTemplate"), errs);
    for key in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        job::non_negative(spec, key, &p, errs);
    }
}

/// `ValidateJobTemplateSpec`: the Job spec rules, and the selector is ours to generate.
/// The template's metadata is not validated by the API server.
fn job_template(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    let jspec = get(spec, &["jobTemplate", "spec"]).unwrap_or(&Value::Null);
    let jp = p.child("spec");
    job::validate_job_spec(jspec, &jp, true, errs);
    if let Some(sel) = get(jspec, &["selector"]) {
        errs.invalid(
            RuleId::SelectorNotAllowed,
            &jp.child("selector"),
            &go_label_selector(sel),
            "`selector` will be auto-generated",
        );
    }
    if as_bool(get(jspec, &["manualSelector"])) == Some(true) {
        errs.not_supported(
            RuleId::ManualSelectorNotAllowed,
            &jp.child("manualSelector"),
            "true",
            &["nil", "false"],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_parser_crash() {
        assert!(crashes_parser("TZ=UTC"));
        assert!(crashes_parser("CRON_TZ="));
        assert!(!crashes_parser("TZ=UTC 0 * * * *"));
        assert!(!crashes_parser(" TZ=UTC"));
        assert!(!crashes_parser("0 * * * *"));
    }
}
