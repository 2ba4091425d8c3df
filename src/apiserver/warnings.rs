//! The `Warning` headers the API server sends with an accepted Job or CronJob
//! (`WarningsOnCreate`/`WarningsOnUpdate` of the job and cronjob strategies).

use serde_json::Value;

use super::field::{self, as_int, as_str, get, FieldPath};
use super::validation::{self, names};
use crate::model::{Context, Finding, Kind, Operation, Origin, Reason, RuleId, Severity};

pub(super) fn warnings(kind: Kind, object: &Value, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut warn = |rule: RuleId, p: &FieldPath, message: String| {
        out.push(field::finding(
            rule,
            Severity::Warning,
            Origin::Api,
            p,
            Reason::FieldValueInvalid,
            message,
        ))
    };
    if ctx.operation == Operation::Create {
        let name = as_str(get(object, &["metadata", "name"])).unwrap_or_default();
        let problems = names::dns1123_label(name);
        if !problems.is_empty() {
            warn(
                RuleId::NameNotDnsLabel,
                &FieldPath::root("metadata").child("name"),
                format!(
                    "this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [{}]",
                    problems.join(" ")
                ),
            );
        }
    }
    let (spec_keys, path): (&[&str], &FieldPath) = match (kind, ctx.operation) {
        (Kind::Job, _) => (&["spec"], &field::SPEC),
        (Kind::CronJob, Operation::Create) => (&["spec", "jobTemplate", "spec"], &field::JOB_TEMPLATE_SPEC),
        // Upstream's update warning names the template, not its spec.
        (Kind::CronJob, Operation::Update) => (&["spec", "jobTemplate", "spec"], &field::JOB_TEMPLATE),
    };
    let spec = get(object, spec_keys);
    // `WarningsOnUpdate` warns only when the generation moved, which `PrepareForUpdate`
    // does for any change of the object's whole `spec` (a validating webhook sees the
    // bumped generation; a mutating one sees the spec change before the bump).
    let spec_changed = match (ctx.operation, ctx.old) {
        (Operation::Update, Some(old)) => {
            let generation = |o: &Value| as_int(get(o, &["metadata", "generation"]));
            generation(object) != generation(old)
                || !field::semantic_eq(get(object, &["spec"]), get(old, &["spec"]))
        }
        _ => true,
    };
    if let Some(spec) = spec.filter(|_| spec_changed) {
        let indexed = as_str(get(spec, &["completionMode"])) == Some("Indexed");
        let completions = as_int(get(spec, &["completions"])).unwrap_or(0);
        let parallelism = as_int(get(spec, &["parallelism"])).unwrap_or(0);
        if indexed && completions > 100_000 && parallelism > 10_000 {
            warn(
                RuleId::LargeIndexedJob,
                path,
                "In Indexed Jobs with a number of completions higher than 10^5 and a parallelism higher than 10^4, Kubernetes might not be able to track completedIndexes when a big number of indexes fail".to_string(),
            );
        }
    }
    // `GetWarningsForPodTemplate`, at `<spec path>.template`, after the Job's own.
    if let Some(template) = spec
        .filter(|_| spec_changed)
        .and_then(|spec| get(spec, &["template"]))
    {
        validation::template_warnings(template, &path.child("template"), &mut out);
    }
    out
}
