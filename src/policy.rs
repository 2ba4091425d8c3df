//! The policy file: one YAML file drives `validate` and `serve` alike. Every key has a
//! documented default, and the defaults make batchguard exactly as strict as the API
//! server: stricter rules are opt-in, advice only warns.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::model::Segment;

/// Annotation that exempts one object, when `exemptions.allowIgnoreAnnotation` is on.
pub const IGNORE_ANNOTATION: &str = "batchguard.io/ignore";
/// Annotation listing fields (comma-separated, e.g. `concurrencyPolicy,successfulJobsHistoryLimit`)
/// whose API-default values the user chose on purpose, so the mutation keeps them.
pub const KEEP_ANNOTATION: &str = "batchguard.io/keep";

/// The whole policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Policy {
    /// `enforce` denies; `warn` turns every denial into a warning (for rollout).
    pub mode: Mode,
    /// Stricter rules than the API server's, each off by default.
    pub rules: StrictRules,
    /// Advice that never blocks.
    pub warnings: Warnings,
    /// What `/mutate` (and `batchguard mutate`) fills in.
    pub defaults: Defaults,
    /// Objects the webhook leaves alone.
    pub exemptions: Exemptions,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::Enforce,
            rules: StrictRules::default(),
            warnings: Warnings::default(),
            defaults: Defaults::default(),
            exemptions: Exemptions::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Enforce,
    Warn,
}

/// Opt-in rules. `null` (or an empty list) means "not enforced".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StrictRules {
    /// Allowed `restartPolicy` values for Job pods, e.g. `[Never]`.
    pub allowed_restart_policies: Option<Vec<String>>,
    /// Allowed `completionMode` values, e.g. `[NonIndexed]`.
    pub allowed_completion_modes: Option<Vec<String>>,
    /// Allowed CronJob `concurrencyPolicy` values, e.g. `[Forbid, Replace]`.
    pub allowed_concurrency_policies: Option<Vec<String>>,
    /// Upper bound for `successfulJobsHistoryLimit`.
    pub max_successful_jobs_history_limit: Option<i32>,
    /// Upper bound for `failedJobsHistoryLimit`.
    pub max_failed_jobs_history_limit: Option<i32>,
    /// Shortest allowed gap between two runs of a CronJob, in seconds.
    pub min_schedule_interval_seconds: Option<u64>,
    /// Every CronJob must set `spec.timeZone`.
    pub require_time_zone: bool,
}

/// Default-on advice; each warning can be turned off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Warnings {
    /// Warn when a schedule never fires (`0 0 30 2 *`).
    pub never_firing_schedule: bool,
    /// Warn when `startingDeadlineSeconds` is below this many seconds (the controller
    /// checks every 10 s, so a smaller deadline can skip runs). `null` turns it off.
    pub min_starting_deadline_seconds: Option<i64>,
    /// Warn when an update keeps a `TZ=`/`CRON_TZ=` prefix in the schedule.
    pub tz_prefix_on_update: bool,
}

impl Default for Warnings {
    fn default() -> Self {
        Warnings {
            never_firing_schedule: true,
            min_starting_deadline_seconds: Some(10),
            tz_prefix_on_update: true,
        }
    }
}

/// Mutation defaults. A `null` value turns that default off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Defaults {
    pub cron_job: CronJobDefaults,
    pub job: JobDefaults,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CronJobDefaults {
    /// Replaces the API default `Allow` unless the user chose it.
    pub concurrency_policy: Option<String>,
    /// Replaces the API default 3 unless the user chose it.
    pub successful_jobs_history_limit: Option<i32>,
    /// Replaces the API default 1 unless the user chose it.
    pub failed_jobs_history_limit: Option<i32>,
    /// Set when absent.
    pub starting_deadline_seconds: Option<i64>,
    /// `jobTemplate.spec.activeDeadlineSeconds` when absent: `schedule` (the shortest gap
    /// between runs, capped by `maxActiveDeadlineSeconds`), a number of seconds, or `null`.
    pub active_deadline_seconds: Option<ActiveDeadline>,
    /// Cap for the deadline taken from the schedule.
    pub max_active_deadline_seconds: i64,
}

impl Default for CronJobDefaults {
    fn default() -> Self {
        CronJobDefaults {
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(3),
            starting_deadline_seconds: Some(300),
            active_deadline_seconds: Some(ActiveDeadline::Schedule),
            max_active_deadline_seconds: 86_400,
        }
    }
}

/// How `activeDeadlineSeconds` is chosen for a CronJob's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ActiveDeadline {
    /// A fixed number of seconds.
    Seconds(i64),
    /// The keyword `schedule`.
    #[serde(with = "schedule_keyword")]
    Schedule,
}

mod schedule_keyword {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("schedule")
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        let s = String::deserialize(d)?;
        if s == "schedule" {
            Ok(())
        } else {
            Err(serde::de::Error::custom(format!(
                "expected `schedule` or a number of seconds, found {s:?}"
            )))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobDefaults {
    /// Set on standalone Jobs (no controller ownerReference) when absent.
    pub ttl_seconds_after_finished: Option<i64>,
    /// Set on standalone Jobs when absent. Off by default: training jobs run for days.
    pub active_deadline_seconds: Option<i64>,
}

impl Default for JobDefaults {
    fn default() -> Self {
        JobDefaults {
            ttl_seconds_after_finished: Some(86_400),
            active_deadline_seconds: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Exemptions {
    /// Namespaces never judged nor mutated. The webhook's own namespace (from the
    /// `POD_NAMESPACE` environment variable) is added at start-up.
    pub namespaces: Vec<String>,
    /// Honour `batchguard.io/ignore: "true"` on an object.
    pub allow_ignore_annotation: bool,
}

impl Default for Exemptions {
    fn default() -> Self {
        Exemptions {
            namespaces: vec![
                "kube-system".into(),
                "kube-public".into(),
                "kube-node-lease".into(),
            ],
            allow_ignore_annotation: true,
        }
    }
}

/// A policy file that could not be used. Names the key and, when known, its line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}:{line}: `{key}`: {message}")]
    Key {
        path: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Other { path: String, message: String },
}

impl Policy {
    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> anyhow::Result<Policy> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read policy file {}", path.display()))?;
        Ok(Policy::from_yaml(&text, &path.display().to_string())?)
    }

    /// Parses policy YAML; `origin` names the source in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Policy, ConfigError> {
        let mut docs = crate::yaml::parse_stream(text);
        if docs.len() > 1 {
            return Err(ConfigError::Other {
                path: origin.into(),
                message: "a policy file holds one YAML document".into(),
            });
        }
        let doc = match docs.pop() {
            None => return Ok(Policy::default()),
            Some(Err(e)) => {
                return Err(ConfigError::Syntax {
                    path: origin.into(),
                    line: e.line,
                    column: e.column,
                    message: e.message,
                })
            }
            Some(Ok(doc)) => doc,
        };
        // Manifests are read as kubectl reads them, a repeated key keeping its last value;
        // a policy file is ours, and a repeated key there is a mistake worth stopping for.
        if let Some(w) = doc.warnings.first() {
            let message = match &w.kind {
                crate::yaml::WarningKind::DuplicateKey { key, .. } => {
                    format!("mapping key {key:?} already defined")
                }
                crate::yaml::WarningKind::MoreDuplicateKeys { .. } => w.to_string(),
            };
            return Err(ConfigError::Syntax {
                path: origin.into(),
                line: w.pos.line,
                column: w.pos.column,
                message,
            });
        }
        let value = doc.value.unwrap_or(serde_json::Value::Null);
        if value.is_null() {
            return Ok(Policy::default());
        }
        let key_error = |path: &[Segment], message: String| {
            let line = doc
                .spans
                .key(path)
                .or_else(|| doc.spans.locate(path))
                .map(|p| p.line)
                .unwrap_or(doc.line);
            let key = Segment::dotted(path);
            ConfigError::Key {
                path: origin.into(),
                line,
                key: if key.is_empty() { "(top level)".into() } else { key },
                message,
            }
        };
        // Unknown keys are what serde ignores; a typo must not silently turn a rule off.
        let mut unknown: Vec<Vec<Segment>> = Vec::new();
        let mut record = |path: serde_ignored::Path| unknown.push(Segment::of_ignored(&path));
        let reader = serde_ignored::Deserializer::new(&value, &mut record);
        let policy: Policy = serde_path_to_error::deserialize(reader).map_err(|e| {
            let path: Vec<Segment> = e
                .path()
                .iter()
                .filter_map(|s| match s {
                    serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                    serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                    _ => None,
                })
                .collect();
            key_error(&path, e.inner().to_string())
        })?;
        if let Some(path) = unknown.first() {
            return Err(key_error(path, unknown_key_message(path)));
        }
        policy.check().map_err(|message| ConfigError::Other {
            path: origin.into(),
            message,
        })?;
        Ok(policy)
    }

    /// Checks the values serde cannot: allowed values must be ones the API server accepts.
    fn check(&self) -> Result<(), String> {
        fn subset(key: &str, list: &Option<Vec<String>>, valid: &[&str]) -> Result<(), String> {
            for v in list.iter().flatten() {
                if !valid.contains(&v.as_str()) {
                    return Err(format!(
                        "`rules.{key}`: {v:?} is not a value the API server accepts (one of {valid:?})"
                    ));
                }
            }
            Ok(())
        }
        subset(
            "allowedRestartPolicies",
            &self.rules.allowed_restart_policies,
            &["OnFailure", "Never"],
        )?;
        subset(
            "allowedCompletionModes",
            &self.rules.allowed_completion_modes,
            &["NonIndexed", "Indexed"],
        )?;
        subset(
            "allowedConcurrencyPolicies",
            &self.rules.allowed_concurrency_policies,
            &["Allow", "Forbid", "Replace"],
        )?;
        if let Some(p) = &self.defaults.cron_job.concurrency_policy {
            if !["Allow", "Forbid", "Replace"].contains(&p.as_str()) {
                return Err(format!("`defaults.cronJob.concurrencyPolicy`: {p:?} is not one of \"Allow\", \"Forbid\", \"Replace\""));
            }
        }
        let non_negative: [(&str, Option<i64>); 6] = [
            (
                "defaults.cronJob.successfulJobsHistoryLimit",
                self.defaults
                    .cron_job
                    .successful_jobs_history_limit
                    .map(i64::from),
            ),
            (
                "defaults.cronJob.failedJobsHistoryLimit",
                self.defaults.cron_job.failed_jobs_history_limit.map(i64::from),
            ),
            (
                "defaults.cronJob.startingDeadlineSeconds",
                self.defaults.cron_job.starting_deadline_seconds,
            ),
            (
                "defaults.cronJob.maxActiveDeadlineSeconds",
                Some(self.defaults.cron_job.max_active_deadline_seconds),
            ),
            (
                "defaults.job.ttlSecondsAfterFinished",
                self.defaults.job.ttl_seconds_after_finished,
            ),
            (
                "defaults.job.activeDeadlineSeconds",
                self.defaults.job.active_deadline_seconds,
            ),
        ];
        for (key, v) in non_negative {
            if let Some(v) = v {
                if v < 0 {
                    return Err(format!("`{key}`: must be greater than or equal to 0, found {v}"));
                }
            }
        }
        if let Some(ActiveDeadline::Seconds(s)) = self.defaults.cron_job.active_deadline_seconds {
            if s < 0 {
                return Err(format!(
                    "`defaults.cronJob.activeDeadlineSeconds`: must be greater than or equal to 0, found {s}"
                ));
            }
        }
        Ok(())
    }

    /// A short, stable fingerprint of the effective policy (shown by `/readyz`).
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).expect("a Policy always serializes");
        let digest = Sha256::digest(&json);
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// `unknown field `x`, expected one of `a`, `b``, the keys listed from the default policy
/// at the unknown key's parent.
fn unknown_key_message(path: &[Segment]) -> String {
    let name = match path.last() {
        Some(Segment::Key(k)) => k.as_str(),
        _ => "",
    };
    let defaults = serde_json::to_value(Policy::default()).unwrap_or_default();
    let mut parent = &defaults;
    for step in &path[..path.len().saturating_sub(1)] {
        parent = match step {
            Segment::Key(k) => parent.get(k).unwrap_or(&serde_json::Value::Null),
            Segment::Index(i) => parent.get(i).unwrap_or(&serde_json::Value::Null),
        };
    }
    let expected: Vec<String> = parent
        .as_object()
        .map(|m| m.keys().map(|k| format!("`{k}`")).collect())
        .unwrap_or_default();
    if expected.is_empty() {
        format!("unknown field `{name}`")
    } else {
        format!("unknown field `{name}`, expected one of {}", expected.join(", "))
    }
}

/// The full default policy file, with every key and a comment on each.
pub const DEFAULT_POLICY_YAML: &str = include_str!("default-policy.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_is_the_default_policy() {
        let parsed = Policy::from_yaml(DEFAULT_POLICY_YAML, "default").expect("default file parses");
        assert_eq!(parsed, Policy::default());
    }

    #[test]
    fn empty_file_is_the_default_policy() {
        assert_eq!(Policy::from_yaml("", "x").expect("parses"), Policy::default());
        assert_eq!(
            Policy::from_yaml("# nothing\n", "x").expect("parses"),
            Policy::default()
        );
    }

    #[test]
    fn a_repeated_key_is_an_error() {
        let err = Policy::from_yaml("mode: warn\nmode: enforce\n", "p.yaml").expect_err("repeated");
        assert_eq!(
            err.to_string(),
            "p.yaml:2:1: mapping key \"mode\" already defined"
        );
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = Policy::from_yaml("mode: warn\nrules:\n  requireTimezone: true\n", "p.yaml")
            .expect_err("unknown key");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "p.yaml:3: `rules.requireTimezone`: unknown field `requireTimezone`, expected one of"
            ),
            "{text}"
        );
        assert!(text.contains("`requireTimeZone`"), "{text}");
        let deep = Policy::from_yaml("defaults:\n  cronJob:\n    concurencyPolicy: Forbid\n", "p.yaml")
            .expect_err("unknown key")
            .to_string();
        assert!(
            deep.starts_with("p.yaml:3: `defaults.cronJob.concurencyPolicy`: unknown field `concurencyPolicy`, expected one of `activeDeadlineSeconds`, `concurrencyPolicy`"),
            "{deep}"
        );
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let err = Policy::from_yaml("defaults:\n  job:\n    ttlSecondsAfterFinished: soon\n", "p.yaml")
            .expect_err("bad type");
        let text = err.to_string();
        assert!(
            text.starts_with("p.yaml:3: `defaults.job.ttlSecondsAfterFinished`"),
            "{text}"
        );
    }

    #[test]
    fn rejects_values_the_api_server_would_not_accept() {
        let err =
            Policy::from_yaml("rules:\n  allowedRestartPolicies: [Always]\n", "p.yaml").expect_err("Always");
        assert!(err.to_string().contains("allowedRestartPolicies"), "{err}");
    }

    #[test]
    fn reads_active_deadline_forms() {
        let p = Policy::from_yaml("defaults:\n  cronJob:\n    activeDeadlineSeconds: 600\n", "p")
            .expect("number");
        assert_eq!(
            p.defaults.cron_job.active_deadline_seconds,
            Some(ActiveDeadline::Seconds(600))
        );
        let p =
            Policy::from_yaml("defaults:\n  cronJob:\n    activeDeadlineSeconds: null\n", "p").expect("null");
        assert_eq!(p.defaults.cron_job.active_deadline_seconds, None);
        assert!(Policy::from_yaml(
            "defaults:\n  cronJob:\n    activeDeadlineSeconds: sometimes\n",
            "p"
        )
        .is_err());
    }

    #[test]
    fn warn_mode_parses() {
        assert_eq!(
            Policy::from_yaml("mode: warn\n", "p").expect("parses").mode,
            Mode::Warn
        );
    }
}
