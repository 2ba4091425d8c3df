//! The shared words of batchguard, at the bottom of the module graph: which kinds and
//! operations are judged, where a finding points, and what a finding is. Every other module
//! speaks these; this one depends on none of them.

mod finding;
mod rule;

use serde::Serialize;

pub use finding::{cap, Capped, Finding, Origin, Reason, Severity, MAX_FINDINGS};
pub use rule::RuleId;

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

    /// A group, version and kind as an AdmissionReview's `request.kind` spells them.
    pub fn from_gvk(group: &str, version: &str, kind: &str) -> Option<Kind> {
        match (group, version, kind) {
            ("batch", "v1", "Job") => Some(Kind::Job),
            ("batch", "v1", "CronJob") => Some(Kind::CronJob),
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
        use std::fmt::Write as _;
        let mut out = String::new();
        for (i, step) in path.iter().enumerate() {
            match step {
                Segment::Key(k) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Segment::Index(n) => {
                    let _ = write!(out, "[{n}]");
                }
            }
        }
        out
    }

    /// The location serde_ignored reports an ignored (unknown) key at.
    pub fn of_ignored(path: &serde_ignored::Path) -> Vec<Segment> {
        use serde_ignored::Path;
        match path {
            Path::Root => Vec::new(),
            Path::Seq { parent, index } => {
                let mut out = Segment::of_ignored(parent);
                out.push(Segment::Index(*index));
                out
            }
            Path::Map { parent, key } => {
                let mut out = Segment::of_ignored(parent);
                out.push(Segment::Key(key.clone()));
                out
            }
            Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
                Segment::of_ignored(parent)
            }
        }
    }

    /// Keys only: `["spec", "schedule"]` as a location.
    pub fn keys(keys: &[&str]) -> Vec<Segment> {
        keys.iter().map(|k| Segment::Key((*k).to_string())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_print_as_go_does() {
        let path = vec![
            Segment::Key("spec".into()),
            Segment::Key("containers".into()),
            Segment::Index(2),
            Segment::Key("image".into()),
        ];
        assert_eq!(Segment::dotted(&path), "spec.containers[2].image");
        assert_eq!(Segment::dotted(&[]), "");
        assert_eq!(Segment::dotted(&[Segment::Index(0)]), "[0]");
    }

    #[test]
    fn kinds_come_only_from_batch_v1() {
        assert_eq!(Kind::from_type("batch/v1", "Job"), Some(Kind::Job));
        assert_eq!(Kind::from_type("batch/v1beta1", "CronJob"), None);
        assert_eq!(Kind::from_gvk("batch", "v1", "CronJob"), Some(Kind::CronJob));
        assert_eq!(Kind::from_gvk("", "v1", "Job"), None);
    }
}
