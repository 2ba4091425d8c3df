//! A finding: one thing wrong (or worth saying) about an object, worded as the API server
//! words its causes, and placed in the object as written.

use serde::Serialize;

use super::{RuleId, Segment};

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

/// One thing wrong (or worth saying) about an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case rule id (`invalid-schedule`, `unsupported-restart-policy`).
    pub rule: RuleId,
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
