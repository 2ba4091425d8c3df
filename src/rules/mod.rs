//! The judge: the API server's own verdict (from [`crate::apiserver`]) plus batchguard's
//! opt-in stricter policy rules and default-on advice, for one object.
//!
//! A policy violation is data (a [`Finding`]), never an `Err`: callers decide what blocks.

mod advice;
mod policy;

use serde_json::Value;

use crate::apiserver;
use crate::model::Segment;
use crate::policy::Policy;

pub use crate::apiserver::status_message;
pub use crate::model::{Context, Finding, Kind, Operation, Origin, Reason, RuleId, Severity};

/// Judges an object as the API server sees it at validation time: already defaulted and,
/// for a Job, with its selector and labels generated (see [`apiserver::prepare_for_create`]).
///
/// The API server's causes come first, in its order (duplicates kept: `details.causes`
/// keeps them, only the aggregated message drops them, see [`apiserver::status_message`]);
/// then, when the API server would accept the object, its warnings; then batchguard's
/// policy errors and advice. A type error the API server's decoder refuses is reported alone.
pub fn check(kind: Kind, object: &Value, policy: &Policy, ctx: &Context) -> Vec<Finding> {
    match apiserver::decode_error(kind, object) {
        Some(decode_error) => vec![decode_error],
        None => judge(kind, object, policy, ctx),
    }
}

/// [`check`] past the decoder: the API server's rules and warnings, policy and advice,
/// capped at [`crate::model::MAX_FINDINGS`] and one "and N more".
pub fn judge(kind: Kind, object: &Value, policy: &Policy, ctx: &Context) -> Vec<Finding> {
    let mut out = apiserver::validate(kind, object, ctx);
    out.extend(policy::rules(kind, object, &policy.rules, ctx));
    out.extend(advice::advise(kind, object, &policy.warnings, ctx));
    crate::model::cap(out)
}

/// Judges a manifest as a user wrote it, in the API server's order: the decoder reads it as
/// written (type errors, then kubectl's strict unknown-field check), then the API server's
/// defaults and the Job selector generation are applied in memory (offline manifests are
/// not defaulted), then the rules as in [`check`].
pub fn check_manifest(kind: Kind, manifest: &Value, policy: &Policy, ctx: &Context) -> Vec<Finding> {
    if let Some(refused) = apiserver::strict_decode_error(kind, manifest) {
        return vec![refused];
    }
    let mut object = manifest.clone();
    apiserver::prepare_for_create(kind, &mut object);
    let mut findings = judge(kind, &object, policy, ctx);
    relocate(manifest, &mut findings);
    // The API server gives a new object a random UID; the stand-in used offline must not
    // read as a value the user could copy.
    for f in &mut findings {
        if f.message.contains(apiserver::PLACEHOLDER_UID) {
            f.message = f.message.replace(apiserver::PLACEHOLDER_UID, UID_ON_CREATE);
        }
    }
    findings
}

/// What messages say instead of the UID a new object will get.
pub const UID_ON_CREATE: &str = "<the uid given on create>";

/// Whether `object` carries what only the API server sets (`metadata.uid`,
/// `resourceVersion` or `creationTimestamp`): a stored object, as `kubectl get -o yaml`
/// prints it, not a manifest to create.
pub fn is_stored(object: &Value) -> bool {
    let Some(meta) = object.get("metadata") else {
        return false;
    };
    ["uid", "resourceVersion", "creationTimestamp"]
        .iter()
        .any(|k| meta.get(*k).is_some_and(|v| !v.is_null() && v != ""))
}

/// Judges a stored object (see [`is_stored`]) as the API server judges an UPDATE that
/// changes nothing: defaulted as stored objects are ([`apiserver::apply_defaults`], no
/// create-time UID, name or selector), with itself as the old object, then policy and
/// advice. The decoder is not strict: a field a newer API server stored is not the user's
/// mistake. As in the webhook, a policy error on an object a controller owns (a CronJob's
/// Job) is only a warning: the owner is where it is fixed.
pub fn check_stored(
    kind: Kind,
    object: &Value,
    policy: &Policy,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Finding> {
    let mut defaulted = object.clone();
    apiserver::apply_defaults(kind, &mut defaulted);
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&defaulted),
        now,
    };
    let mut findings = check(kind, &defaulted, policy, &ctx);
    if crate::mutation::controller_owned(object) {
        for f in &mut findings {
            if f.origin == Origin::Policy {
                f.severity = Severity::Warning;
            }
        }
    }
    findings
}

/// Points findings about values the API server derived (labels copied from the template,
/// a name generated from `generateName`, the generated `job-name` labels) at what the
/// user wrote, instead of at a field that is not in the file.
fn relocate(manifest: &Value, findings: &mut [Finding]) {
    use apiserver::field::get;
    let written = |path: &[&str]| get(manifest, path).is_some();
    let name_loc = if written(&["metadata", "name"]) {
        Segment::keys(&["metadata", "name"])
    } else if written(&["metadata", "generateName"]) {
        Segment::keys(&["metadata", "generateName"])
    } else {
        Segment::keys(&["metadata"])
    };
    let exists = |path: &[Segment]| {
        let mut node = manifest;
        for step in path {
            node = match (step, node) {
                (Segment::Key(k), Value::Object(m)) => m.get(k),
                (Segment::Index(i), Value::Array(a)) => a.get(*i),
                _ => None,
            }?;
        }
        Some(node)
    };
    const JOB_LABELS: &[&str] = &["metadata", "labels"];
    const TEMPLATE_LABELS: &[&str] = &["spec", "template", "metadata", "labels"];
    for f in findings.iter_mut() {
        let mut at = f.location.clone();
        // A Job's labels default to its template's (see `prepare_for_create`).
        if at.starts_with(&Segment::keys(JOB_LABELS)) && !written(JOB_LABELS) {
            let mut moved = Segment::keys(TEMPLATE_LABELS);
            moved.extend(at.drain(JOB_LABELS.len()..));
            at = moved;
        }
        // A label the Job's selector generation added (`job-name` holds the name): the name
        // is what to fix.
        let generated_name_label = matches!(
            at.as_slice(),
            [.., Segment::Key(labels), Segment::Key(key)]
                if labels == "labels" && GENERATED_NAME_LABELS.contains(&key.as_str())
        );
        if generated_name_label && exists(&at).is_none() {
            at = name_loc.clone();
        }
        if f.location == Segment::keys(&["metadata", "name"]) && !written(&["metadata", "name"]) {
            at = name_loc.clone();
        }
        f.location = at;
    }
}

/// The labels `generateSelector` sets to the Job's name.
const GENERATED_NAME_LABELS: &[&str] = &["job-name", "batch.kubernetes.io/job-name"];

#[cfg(test)]
mod tests;
