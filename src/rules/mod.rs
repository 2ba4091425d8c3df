//! The API server's batch/v1 validation, restated as pure functions over JSON values,
//! plus batchguard's opt-in stricter policy rules and default-on advice.
//!
//! A policy violation is data (a [`Finding`]), never an `Err`: callers decide what blocks.

use serde::Serialize;

mod cronjob;
mod decode;
mod field;
mod job;
mod meta;
mod names;
mod pod;
mod policy;

/// Every rule id batchguard can report, API rules first, then policy rules, then advice.
/// Ids are stable: once released they never change meaning (see `docs/rules.md`).
pub const RULE_IDS: &[&str] = &[
    "decode-error",
    "server-crash",
    "name-required",
    "invalid-name",
    "invalid-generate-name",
    "invalid-namespace",
    "invalid-label",
    "invalid-annotation",
    "invalid-owner-reference",
    "invalid-finalizer",
    "name-too-long",
    "invalid-indexed-hostname",
    "name-not-dns-label",
    "schedule-required",
    "invalid-schedule",
    "tz-in-schedule",
    "invalid-time-zone",
    "negative-value",
    "concurrency-policy-required",
    "unsupported-concurrency-policy",
    "restart-policy-required",
    "unsupported-restart-policy",
    "restart-policy-with-pod-failure-policy",
    "unsupported-completion-mode",
    "indexed-completions-required",
    "indexed-limit",
    "max-failed-indexes-required",
    "backoff-limit-per-index-required",
    "requires-indexed-mode",
    "invalid-managed-by",
    "pod-failure-policy-rules",
    "pod-failure-policy-action",
    "pod-failure-policy-rule",
    "pod-failure-policy-operator",
    "pod-failure-policy-container-name",
    "pod-failure-policy-values",
    "pod-failure-policy-conditions",
    "pod-failure-policy-condition-type",
    "pod-failure-policy-condition-status",
    "success-policy-requires-indexed",
    "success-policy-rules",
    "success-policy-rule",
    "success-policy-indexes",
    "success-policy-count",
    "unsupported-pod-replacement-policy",
    "containers-required",
    "container-name",
    "image-required",
    "ephemeral-containers-forbidden",
    "invalid-container",
    "invalid-env",
    "invalid-resources",
    "invalid-probe",
    "invalid-volume",
    "invalid-volume-mount",
    "invalid-security-context",
    "invalid-scheduling",
    "invalid-pod-spec",
    "deprecated-pod-field",
    "selector-required",
    "invalid-selector",
    "selector-mismatch",
    "selector-not-auto-generated",
    "selector-generated-label",
    "selector-not-allowed",
    "manual-selector-not-allowed",
    "immutable-field",
    "large-indexed-job",
    "allowed-restart-policies",
    "allowed-completion-modes",
    "allowed-concurrency-policies",
    "max-successful-jobs-history-limit",
    "max-failed-jobs-history-limit",
    "min-schedule-interval",
    "require-time-zone",
    "never-firing-schedule",
    "short-starting-deadline",
    "tz-prefix-on-update",
];

/// How much a finding matters. Only `Error` blocks (in the webhook) or fails CI (in `validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Who stands behind a finding: the API server itself, a stricter rule the policy file
/// opted into, or batchguard's own advice (always a warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Api,
    Policy,
    Advice,
}

/// The `reason` of a Status cause, as apimachinery's `field.ErrorType` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Reason {
    FieldValueRequired,
    FieldValueInvalid,
    FieldValueNotSupported,
    FieldValueDuplicate,
    FieldValueTooMany,
    FieldValueTooLong,
    FieldValueForbidden,
    FieldValueNotFound,
}

impl Reason {
    /// The name used in `details.causes[].reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FieldValueRequired => "FieldValueRequired",
            Reason::FieldValueInvalid => "FieldValueInvalid",
            Reason::FieldValueNotSupported => "FieldValueNotSupported",
            Reason::FieldValueDuplicate => "FieldValueDuplicate",
            Reason::FieldValueTooMany => "FieldValueTooMany",
            Reason::FieldValueTooLong => "FieldValueTooLong",
            Reason::FieldValueForbidden => "FieldValueForbidden",
            Reason::FieldValueNotFound => "FieldValueNotFound",
        }
    }
}

/// One step of a location inside the object as written (not the API server's display path,
/// which sometimes differs: `spec.template.labels` lives at `spec.template.metadata.labels`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl Segment {
    /// A location written as Go field paths are: keys joined by `.`, indexes as `[i]`
    /// (`spec.template.spec.containers[0].image`).
    pub fn dotted(path: &[Segment]) -> String {
        let mut out = String::new();
        for (i, step) in path.iter().enumerate() {
            match step {
                Segment::Key(k) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Segment::Index(n) => out.push_str(&format!("[{n}]")),
            }
        }
        out
    }
}

/// One thing wrong (or worth saying) about an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case rule id (`invalid-schedule`, `unsupported-restart-policy`).
    pub rule: &'static str,
    pub severity: Severity,
    pub origin: Origin,
    /// The field path exactly as the API server prints it (`spec.jobTemplate.spec.template.spec.restartPolicy`).
    pub field: String,
    pub reason: Reason,
    /// The cause's message exactly as the API server words it (`Invalid value: "0 0 * * 7": end of range (7) above maximum (6): 7`).
    pub message: String,
    /// Where the finding points in the object as written: the offending node, or for a
    /// missing field its nearest existing parent. Used for `file:line:col`.
    pub location: Vec<Segment>,
}

/// The two kinds batchguard judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Kind {
    Job,
    CronJob,
}

impl Kind {
    /// `batch/v1` Job or CronJob; anything else is not ours.
    pub fn from_type(api_version: &str, kind: &str) -> Option<Kind> {
        match (api_version, kind) {
            ("batch/v1", "Job") => Some(Kind::Job),
            ("batch/v1", "CronJob") => Some(Kind::CronJob),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
        }
    }
}

/// Which API operation is being judged; some rules differ on update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Operation {
    Create,
    Update,
}

/// Everything a check needs besides the object, so that the rules stay pure.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub operation: Operation,
    /// On update: the stored object (TZ ratcheting, timeZone re-check, name-length skip).
    pub old: Option<&'a serde_json::Value>,
    /// "Now", for advice such as "never fires".
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Judges an object as the API server sees it at validation time: already defaulted and,
/// for a Job, with its selector and labels generated (see [`crate::apidefaults`]).
///
/// The API server's causes come first, in its order (duplicates kept: `details.causes`
/// keeps them, only the aggregated message drops them, see [`status_message`]); then, when
/// the API server would accept the object, its warnings; then batchguard's policy errors
/// and advice. A type error the API server's decoder refuses is reported alone.
pub fn check(
    kind: Kind,
    object: &serde_json::Value,
    policy: &crate::config::Policy,
    ctx: &Context,
) -> Vec<Finding> {
    match decode::check(kind, object) {
        Some(decode_error) => vec![decode_error],
        None => judge(kind, object, policy, ctx),
    }
}

/// [`check`] past the decoder: the rules, the API server's warnings, policy and advice.
fn judge(
    kind: Kind,
    object: &serde_json::Value,
    policy: &crate::config::Policy,
    ctx: &Context,
) -> Vec<Finding> {
    let mut errs = field::Errs::default();
    match kind {
        Kind::Job => job::validate(object, ctx, &mut errs),
        Kind::CronJob => cronjob::validate(object, ctx, &mut errs),
    }
    let mut out = errs.0;
    if out.is_empty() {
        out.extend(api_warnings(kind, object, ctx));
    }
    out.extend(policy::rules(kind, object, &policy.rules, ctx));
    out.extend(policy::advise(kind, object, &policy.warnings, ctx));
    out
}

/// The `Warning` headers the API server sends with an accepted object
/// (`WarningsOnCreate`/`WarningsOnUpdate` of the job and cronjob strategies).
fn api_warnings(kind: Kind, object: &serde_json::Value, ctx: &Context) -> Vec<Finding> {
    use field::{as_int, as_str, get, FieldPath};
    let mut out = Vec::new();
    let mut warn = |rule: &'static str, p: &FieldPath, message: String| {
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
                "name-not-dns-label",
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
            let generation = |o: &serde_json::Value| as_int(get(o, &["metadata", "generation"]));
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
                "large-indexed-job",
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
        pod::template_warnings(template, &path.child("template"), &mut out);
    }
    out
}

/// The Status message the API server builds from the causes:
/// `<Kind>.batch "<name>" is invalid: <e>` or `... is invalid: [<e1>, <e2>]`, with
/// identical `field: message` texts listed once. Only error findings count.
pub fn status_message(kind: Kind, name: &str, findings: &[Finding]) -> String {
    let mut seen = std::collections::HashSet::new();
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.message))
        .filter(|e| seen.insert(e.clone()))
        .collect();
    let head = format!("{}.batch {} is invalid: ", kind.as_str(), field::quote(name));
    match errors.as_slice() {
        [one] => format!("{head}{one}"),
        many => format!("{head}[{}]", many.join(", ")),
    }
}

/// Judges a manifest as a user wrote it, in the API server's order: the decoder reads it as
/// written (type errors, then kubectl's strict unknown-field check), then the API server's
/// defaults and the Job selector generation are applied in memory (offline manifests are
/// not defaulted), then the rules as in [`check`].
pub fn check_manifest(
    kind: Kind,
    manifest: &serde_json::Value,
    policy: &crate::config::Policy,
    ctx: &Context,
) -> Vec<Finding> {
    if let Some(refused) = decode::check(kind, manifest).or_else(|| decode::unknown_fields(kind, manifest)) {
        return vec![refused];
    }
    let mut object = manifest.clone();
    crate::apidefaults::prepare_for_create(kind, &mut object);
    let mut findings = judge(kind, &object, policy, ctx);
    relocate(manifest, &object, &mut findings);
    findings
}

/// Points findings about values the API server derived (labels copied from the template,
/// a name generated from `generateName`, the generated `job-name` labels) at what the
/// user wrote, instead of at a field that is not in the file.
fn relocate(manifest: &serde_json::Value, object: &serde_json::Value, findings: &mut [Finding]) {
    use field::{as_str, get};
    let keys =
        |path: &[&str]| -> Vec<Segment> { path.iter().map(|k| Segment::Key((*k).to_string())).collect() };
    let written = |path: &[&str]| get(manifest, path).is_some();
    let name_loc = if written(&["metadata", "name"]) {
        keys(&["metadata", "name"])
    } else if written(&["metadata", "generateName"]) {
        keys(&["metadata", "generateName"])
    } else {
        keys(&["metadata"])
    };
    let name = as_str(get(object, &["metadata", "name"])).unwrap_or_default();
    let quoted_name = format!("Invalid value: {}:", field::quote(name));
    let user_wrote_name_label = get(manifest, &["spec", "template", "metadata", "labels"])
        .and_then(serde_json::Value::as_object)
        .is_some_and(|l| l.values().any(|v| v.as_str() == Some(name)));
    for f in findings.iter_mut() {
        // A generated `job-name` label: the name is what to fix. It also shows up under
        // `metadata.labels` when those are the template's own (see `prepare_for_create`).
        let about_the_name = f.message.starts_with(&quoted_name) && !user_wrote_name_label;
        match f.field.as_str() {
            "metadata.labels" | "spec.template.labels" if about_the_name => f.location = name_loc.clone(),
            "metadata.labels" if !written(&["metadata", "labels"]) => {
                f.location = keys(&["spec", "template", "metadata", "labels"]);
            }
            "metadata.name" if !written(&["metadata", "name"]) => f.location = name_loc.clone(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
