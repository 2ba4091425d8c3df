//! The `metav1.Status` the API server answers a refused object with, as
//! `apierrors.NewInvalid` builds it: one cause per error, and a one-line message that lists
//! each distinct `field: message` once.

use std::collections::HashSet;

use serde::Serialize;

use crate::gocompat::go_quote;
use crate::model::{Finding, Kind, Severity};

/// A `metav1.Status` with `status: Failure`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
    pub status: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

/// `details` of an Invalid status.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Details {
    pub name: String,
    pub group: &'static str,
    pub kind: &'static str,
    pub causes: Vec<Cause>,
}

/// One `details.causes` entry.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Cause {
    pub field: String,
    pub reason: &'static str,
    pub message: String,
}

impl Cause {
    /// `<field>: <message>`, as `field.Error.Error()` prints it.
    pub fn text(&self) -> String {
        if self.field.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.field, self.message)
        }
    }
}

impl Status {
    /// `422 Invalid`: `<Kind>.batch "<name>" is invalid: <e>`, or `[<e1>, <e2>]` for several
    /// distinct texts; one cause each, duplicates kept as the API server keeps them.
    pub fn invalid(kind: Kind, name: &str, causes: Vec<Cause>) -> Status {
        let texts: Vec<String> = causes.iter().map(Cause::text).collect();
        Status {
            code: 422,
            reason: "Invalid",
            status: "Failure",
            message: invalid_message(kind, name, &texts),
            details: Some(Details {
                name: name.to_string(),
                group: "batch",
                kind: kind.as_str(),
                causes,
            }),
        }
    }

    /// `500 InternalError`, for a review batchguard itself failed on.
    pub fn internal(message: String) -> Status {
        Status {
            code: 500,
            reason: "InternalError",
            status: "Failure",
            message,
            details: None,
        }
    }
}

/// The Status message the API server builds from its causes' texts, each distinct one once.
fn invalid_message(kind: Kind, name: &str, texts: &[String]) -> String {
    let mut seen = HashSet::new();
    let distinct: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|t| seen.insert(*t))
        .collect();
    let head = format!("{}.batch {} is invalid: ", kind.as_str(), go_quote(name));
    match distinct.as_slice() {
        [one] => format!("{head}{one}"),
        many => format!("{head}[{}]", many.join(", ")),
    }
}

/// The Status message for the error findings among `findings`:
/// `<Kind>.batch "<name>" is invalid: <e>` or `... is invalid: [<e1>, <e2>]`.
pub fn status_message(kind: Kind, name: &str, findings: &[Finding]) -> String {
    let texts: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    invalid_message(kind, name, &texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(field: &str, message: &str) -> Cause {
        Cause {
            field: field.into(),
            reason: "FieldValueInvalid",
            message: message.into(),
        }
    }

    #[test]
    fn message_lists_each_text_once_but_causes_keep_duplicates() {
        let a = || cause("spec.x", "Required value");
        let status = Status::invalid(Kind::Job, "j", vec![a(), a()]);
        assert_eq!(
            status.message,
            "Job.batch \"j\" is invalid: spec.x: Required value"
        );
        assert_eq!(status.details.as_ref().map(|d| d.causes.len()), Some(2));
        let status = Status::invalid(Kind::Job, "j", vec![a(), cause("spec.y", "Forbidden"), a()]);
        assert_eq!(
            status.message,
            "Job.batch \"j\" is invalid: [spec.x: Required value, spec.y: Forbidden]"
        );
    }

    #[test]
    fn a_cause_without_a_field_is_its_message() {
        assert_eq!(cause("", "bad").text(), "bad");
    }
}
