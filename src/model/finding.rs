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
    /// 0 for a finding; for the one that closes a capped list (see [`Capped`]), how many
    /// findings it stands for.
    #[serde(skip)]
    pub omitted: usize,
}

/// At most this many findings are kept per object; the rest are counted and stand behind
/// one last finding, "and N more". The API server lists every cause, but one object inside
/// the body limit can carry hundreds of thousands of them (a Job of 400,000 nameless
/// containers): kept, they cost a gigabyte and an answer no one reads.
pub const MAX_FINDINGS: usize = 100;

/// A list of findings that keeps the first [`MAX_FINDINGS`] and counts the rest, so that
/// collecting them costs bounded memory whatever the object.
#[derive(Debug, Default)]
pub struct Capped {
    kept: Vec<Finding>,
    /// Findings counted but not kept.
    omitted: usize,
    /// The first finding left out, whose rule, origin, reason and place the summary takes
    /// (so that a report sorted by place shows it after the findings kept).
    first_omitted: Option<(RuleId, Origin, Reason, Vec<Segment>)>,
    /// Whether any finding left out is an error: then the summary is one too.
    omitted_error: bool,
    /// Set when a checker stopped early once full, so `omitted` is a lower bound.
    at_least: bool,
}

impl Capped {
    /// Keeps `f` while there is room, counts it after. A summary counts for what it stands for.
    pub fn push(&mut self, f: Finding) {
        if self.kept.len() < MAX_FINDINGS && f.omitted == 0 {
            self.kept.push(f);
        } else {
            self.at_least |= f.omitted > 0 && f.message.starts_with("and at least ");
            let n = f.omitted.max(1);
            self.omit(f.rule, f.severity, f.origin, f.reason, n, || f.location);
        }
    }

    /// Counts `n` findings without making them (once [`Capped::is_full`]); `location` is
    /// asked for the first only.
    pub fn omit(
        &mut self,
        rule: RuleId,
        severity: Severity,
        origin: Origin,
        reason: Reason,
        n: usize,
        location: impl FnOnce() -> Vec<Segment>,
    ) {
        if self.first_omitted.is_none() {
            self.first_omitted = Some((rule, origin, reason, location()));
        }
        self.omitted_error |= severity == Severity::Error;
        self.omitted += n;
    }

    /// Records that the caller stopped looking once full: more may exist than were counted.
    pub fn stop_counting(&mut self) {
        self.at_least = true;
    }

    /// No more findings will be kept.
    pub fn is_full(&self) -> bool {
        self.kept.len() >= MAX_FINDINGS
    }

    /// Every finding pushed, kept or not.
    pub fn len(&self) -> usize {
        self.kept.len() + self.omitted
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The findings kept so far.
    pub fn as_slice(&self) -> &[Finding] {
        &self.kept
    }

    /// The kept findings pushed since the count was `from` (see [`Capped::len`]).
    pub fn since_mut(&mut self, from: usize) -> &mut [Finding] {
        let from = from.min(self.kept.len());
        &mut self.kept[from..]
    }

    pub fn extend(&mut self, other: Capped) {
        let at_least = other.at_least;
        for f in other.into_vec() {
            self.push(f);
        }
        self.at_least |= at_least;
    }

    /// The kept findings, then, if any were left out, one that says how many.
    pub fn into_vec(self) -> Vec<Finding> {
        let mut out = self.kept;
        if let Some((rule, origin, reason, location)) = self.first_omitted {
            let n = self.omitted;
            let severity = if self.omitted_error {
                Severity::Error
            } else {
                Severity::Warning
            };
            let at_least = if self.at_least { "at least " } else { "" };
            out.push(Finding {
                rule,
                severity,
                origin,
                field: String::new(),
                reason,
                message: format!(
                    "and {at_least}{n} more not shown (batchguard reports at most {MAX_FINDINGS} per object)"
                ),
                location,
                omitted: n,
            });
        }
        out
    }
}

/// `findings` capped at [`MAX_FINDINGS`] and one summary.
pub fn cap(findings: Vec<Finding>) -> Vec<Finding> {
    if findings.len() <= MAX_FINDINGS && findings.iter().all(|f| f.omitted == 0) {
        return findings;
    }
    let mut capped = Capped::default();
    for f in findings {
        capped.push(f);
    }
    capped.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(i: usize, severity: Severity) -> Finding {
        Finding {
            rule: RuleId::ImageRequired,
            severity,
            origin: Origin::Api,
            field: format!("spec.containers[{i}].image"),
            reason: Reason::FieldValueRequired,
            message: "Required value".into(),
            location: Vec::new(),
            omitted: 0,
        }
    }

    #[test]
    fn keeps_a_short_list_as_it_is() {
        let list: Vec<Finding> = (0..MAX_FINDINGS).map(|i| finding(i, Severity::Error)).collect();
        assert_eq!(cap(list.clone()), list);
    }

    #[test]
    fn a_summary_counts_what_it_stands_for_when_capped_again() {
        let mut inner = Capped::default();
        for i in 0..250 {
            inner.push(finding(i, Severity::Warning));
        }
        assert_eq!(inner.len(), 250);
        let once = inner.into_vec();
        assert_eq!(once.len(), MAX_FINDINGS + 1);
        assert_eq!(once[MAX_FINDINGS].omitted, 150);
        // Capped again behind one more finding: the new summary adds the one pushed out to
        // the 150 the old one stood for.
        let mut twice = vec![finding(0, Severity::Error)];
        twice.extend(once);
        let twice = cap(twice);
        assert_eq!(twice.len(), MAX_FINDINGS + 1);
        let summary = &twice[MAX_FINDINGS];
        assert_eq!(summary.omitted, 151);
        assert_eq!(summary.severity, Severity::Warning);
        assert!(
            summary.message.starts_with("and 151 more not shown"),
            "{}",
            summary.message
        );
    }

    #[test]
    fn an_error_left_out_makes_the_summary_an_error() {
        let mut list: Vec<Finding> = (0..MAX_FINDINGS).map(|i| finding(i, Severity::Warning)).collect();
        list.push(finding(0, Severity::Warning));
        list.push(finding(1, Severity::Error));
        let capped = cap(list);
        assert_eq!(capped[MAX_FINDINGS].severity, Severity::Error);
        assert_eq!(capped[MAX_FINDINGS].omitted, 2);
    }
}
