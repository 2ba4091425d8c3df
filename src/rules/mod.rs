//! The API server's batch/v1 validation, restated as pure functions over JSON values,
//! plus batchguard's opt-in stricter policy rules and default-on advice.
//!
//! A policy violation is data (a [`Finding`]), never an `Err`: callers decide what blocks.

use serde::Serialize;

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
/// STUB: the rules owner replaces the body.
pub fn check(
    kind: Kind,
    object: &serde_json::Value,
    policy: &crate::config::Policy,
    ctx: &Context,
) -> Vec<Finding> {
    let _ = (kind, object, policy, ctx);
    Vec::new()
}

/// Judges a manifest as a user wrote it: applies the API server's defaults and the Job
/// selector generation in memory first (offline manifests are not defaulted), then [`check`].
pub fn check_manifest(
    kind: Kind,
    manifest: &serde_json::Value,
    policy: &crate::config::Policy,
    ctx: &Context,
) -> Vec<Finding> {
    let mut object = manifest.clone();
    crate::apidefaults::prepare_for_create(kind, &mut object);
    check(kind, &object, policy, ctx)
}
