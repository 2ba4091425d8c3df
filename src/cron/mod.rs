//! A Kubernetes-compatible cron schedule parser and scheduler: a literal port of
//! robfig/cron v3.0.1 `ParseStandard` and `SpecSchedule.Next`, which kube-apiserver and the
//! CronJob controller vendor. The `cron` crate cannot stand in (six or seven fields,
//! weekdays 1-7); see the README.
//!
//! STUB: signatures agreed between modules; the cron owner replaces the bodies.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Why robfig would reject a schedule. `Display` is robfig's error text, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Other(String),
}

/// A parsed schedule: either a field spec or a constant delay (`@every`).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    _private: (),
}

/// robfig/cron v3.0.1 `ParseStandard`: five fields, descriptors, an optional `TZ=`/`CRON_TZ=`
/// prefix. Never panics (robfig does, on `TZ=` with no space: we return an error).
pub fn parse_standard(spec: &str) -> Result<Schedule, ParseError> {
    let _ = spec;
    Err(ParseError::Other("not implemented".into()))
}

/// What the CronJob controller parses: `TZ=<zone> <schedule>` when `spec.timeZone` is set,
/// unless the schedule already contains `TZ`, in which case it is used as written.
pub fn controller_schedule(schedule: &str, time_zone: Option<&str>) -> Result<Schedule, ParseError> {
    match time_zone {
        Some(tz) if !schedule.contains("TZ") => parse_standard(&format!("TZ={tz} {schedule}")),
        _ => parse_standard(schedule),
    }
}

impl Schedule {
    /// The zone the schedule is evaluated in: its `TZ=` location, else UTC (the controller's zone).
    pub fn zone(&self) -> Tz {
        Tz::UTC
    }

    /// The first fire time strictly after `after`, or `None` when it never fires again
    /// (robfig gives up five years past the start year).
    pub fn next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let _ = after;
        None
    }

    /// The shortest gap between consecutive fire times over the next `max_runs` runs after
    /// `from` (fewer if it stops firing). `None` when it fires fewer than twice.
    pub fn shortest_gap(&self, from: DateTime<Utc>, max_runs: usize) -> Option<chrono::Duration> {
        let _ = (from, max_runs);
        None
    }
}

/// One problem with `spec.schedule`, as the API server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleProblem {
    /// `spec.schedule: Required value` (empty string).
    Required,
    /// `spec.schedule: Invalid value: "<s>": <detail>`; this is the detail.
    Invalid(String),
}

/// The API server's `spec.schedule` checks in its order: parse, then the TZ rules.
/// `allow_tz` is false on create and "the old schedule contains TZ" on update.
pub fn schedule_problems(schedule: &str, allow_tz: bool, time_zone_set: bool) -> Vec<ScheduleProblem> {
    let _ = (schedule, allow_tz, time_zone_set);
    Vec::new()
}

/// The API server's `validateTimeZone` details for a non-nil `spec.timeZone`, in order
/// (each becomes `spec.timeZone: Invalid value: "<tz>": <detail>`).
pub fn time_zone_problems(time_zone: &str) -> Vec<String> {
    let _ = time_zone;
    Vec::new()
}
