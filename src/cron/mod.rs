//! A Kubernetes-compatible cron schedule parser and scheduler: a literal port of
//! robfig/cron v3.0.1 `ParseStandard` and `SpecSchedule.Next`, which kube-apiserver and the
//! CronJob controller vendor. The `cron` crate cannot stand in (six or seven fields,
//! weekdays 1-7, other error texts); see docs/cron.md.

mod describe;
mod next;
mod parse;
mod zone;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use crate::gocompat::go_quote;
use crate::gocompat::AtoiError;
pub use describe::describe;
use parse::Parsed;
use zone::{load_location, Location};

/// Why robfig would reject a schedule. `Display` is robfig's error text, byte for byte,
/// except for [`ParseError::TzPrefixWithoutSpace`], where robfig panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The empty string (Kubernetes reports `Required value` before parsing).
    #[error("empty spec string")]
    Empty,
    /// `TZ=`/`CRON_TZ=` with no ASCII space after it: robfig slices out of bounds and panics.
    #[error(
        "invalid schedule {}: a TZ= or CRON_TZ= prefix must be followed by a space and five fields; \
         the real API server crashes on this schedule (HTTP 500 or a dropped connection) instead of \
         rejecting it; set spec.timeZone instead of a TZ= prefix",
        go_quote(spec)
    )]
    TzPrefixWithoutSpace { spec: String },
    /// The `TZ=` zone does not load.
    #[error("provided bad location {name}: {reason}")]
    BadLocation { name: String, reason: String },
    /// `@something` that is not a known descriptor.
    #[error("unrecognized descriptor: {0}")]
    UnrecognizedDescriptor(String),
    /// `@every <d>` where Go `time.ParseDuration` fails.
    #[error("failed to parse duration {descriptor}: {reason}")]
    BadDuration { descriptor: String, reason: String },
    /// Not exactly five whitespace-separated fields. `fields` is Go's `%v` of them: joined by
    /// single spaces (one string, not one per field, so a 2.5 MB schedule of a million
    /// one-letter fields costs 2.5 MB here, not 50).
    #[error("expected exactly 5 fields, found {found}: [{fields}]")]
    FieldCount { found: usize, fields: String },
    /// A number that `strconv.Atoi` rejects.
    #[error(
        "failed to parse int from {token}: strconv.Atoi: parsing {}: {reason}",
        go_quote(token)
    )]
    ParseInt { token: String, reason: AtoiError },
    /// A negative step (the only place a sign survives Atoi).
    #[error("negative number ({value}) not allowed: {expr}")]
    Negative { value: i64, expr: String },
    #[error("beginning of range ({start}) below minimum ({min}): {expr}")]
    BelowMinimum { start: u64, min: u64, expr: String },
    #[error("end of range ({end}) above maximum ({max}): {expr}")]
    AboveMaximum { end: u64, max: u64, expr: String },
    #[error("beginning of range ({start}) beyond end of range ({end}): {expr}")]
    BeyondEnd { start: u64, end: u64, expr: String },
    #[error("step of range should be a positive number: {0}")]
    StepIsZero(String),
    #[error("too many hyphens: {0}")]
    TooManyHyphens(String),
    #[error("too many slashes: {0}")]
    TooManySlashes(String),
}

/// A parsed schedule: either a field spec or a constant delay (`@every`).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    kind: Parsed,
    location: Location,
}

/// robfig/cron v3.0.1 `ParseStandard`: five fields, descriptors, an optional `TZ=`/`CRON_TZ=`
/// prefix. Never panics (robfig does, on `TZ=` with no space: we return an error).
pub fn parse_standard(spec: &str) -> Result<Schedule, ParseError> {
    parse::parse(spec).map(|(kind, location)| Schedule { kind, location })
}

/// What the CronJob controller parses: `TZ=<zone> <schedule>` when `spec.timeZone` is set,
/// unless the schedule already contains `TZ`, in which case it is used as written.
pub fn controller_schedule(schedule: &str, time_zone: Option<&str>) -> Result<Schedule, ParseError> {
    match time_zone {
        Some(tz) if !schedule.contains("TZ") => parse_standard(&format!("TZ={tz} {schedule}")),
        _ => parse_standard(schedule),
    }
}

/// Upper bound on the runs `shortest_gap` looks at, whatever the caller asks.
const MAX_GAP_RUNS: usize = 10_000;

impl Schedule {
    /// The zone the schedule is evaluated in: its `TZ=` location, else UTC (the controller's zone).
    pub fn zone(&self) -> Tz {
        self.location.tz()
    }

    /// The constant delay of an `@every` schedule, in whole seconds (at least 1).
    pub fn every_seconds(&self) -> Option<i64> {
        match self.kind {
            Parsed::Every { seconds } => Some(seconds),
            Parsed::Spec(_) => None,
        }
    }

    /// The first fire time strictly after `after`, or `None` when it never fires again
    /// (robfig gives up five years past the start year).
    pub fn next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            // ConstantDelaySchedule.Next: t + delay with t's sub-second part dropped.
            Parsed::Every { seconds } => {
                DateTime::from_timestamp(after.timestamp().checked_add(*seconds)?, 0)
            }
            Parsed::Spec(bits) => next::spec_next(bits, self.zone(), after),
        }
    }

    /// True when the schedule has no fire time after `from` (e.g. `0 0 30 2 *`).
    pub fn never_fires(&self, from: DateTime<Utc>) -> bool {
        self.next(from).is_none()
    }

    /// The shortest gap between consecutive fire times over the next `max_runs` runs after
    /// `from` (fewer if it stops firing; at most 10,000). `None` when it fires fewer than twice.
    pub fn shortest_gap(&self, from: DateTime<Utc>, max_runs: usize) -> Option<chrono::Duration> {
        if let Parsed::Every { seconds } = self.kind {
            return (max_runs >= 2).then(|| chrono::Duration::seconds(seconds));
        }
        // Fire times are whole minutes, so one minute cannot be beaten.
        let floor = chrono::Duration::minutes(1);
        let mut previous = self.next(from)?;
        let mut shortest: Option<chrono::Duration> = None;
        for _ in 1..max_runs.min(MAX_GAP_RUNS) {
            let Some(current) = self.next(previous) else { break };
            let gap = current - previous;
            shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
            if gap <= floor {
                break;
            }
            previous = current;
        }
        shortest
    }
}

/// One problem with `spec.schedule`, as the API server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleProblem {
    /// `spec.schedule: Required value` (empty string).
    Required,
    /// `spec.schedule: Invalid value: "<s>": <detail>`, where the parser refuses it; this
    /// is the detail.
    Invalid(String),
    /// `spec.schedule: Invalid value: "<s>": <detail>`, for a `TZ`/`CRON_TZ` in the schedule
    /// where the API server does not allow one; this is the detail.
    TimeZoneInSchedule(&'static str),
}

impl ScheduleProblem {
    /// The detail of an `Invalid value` problem; `None` for `Required value`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ScheduleProblem::Required => None,
            ScheduleProblem::Invalid(detail) => Some(detail),
            ScheduleProblem::TimeZoneInSchedule(detail) => Some(detail),
        }
    }
}

/// The API server's `spec.schedule` checks in its order: parse, then the TZ rules.
/// `allow_tz` is false on create and "the old schedule contains TZ" on update.
pub fn schedule_problems(schedule: &str, allow_tz: bool, time_zone_set: bool) -> Vec<ScheduleProblem> {
    if schedule.is_empty() {
        return vec![ScheduleProblem::Required];
    }
    let mut problems = Vec::new();
    if let Err(err) = parse_standard(schedule) {
        problems.push(ScheduleProblem::Invalid(err.to_string()));
    }
    let has_tz = schedule.contains("TZ");
    if allow_tz && has_tz && time_zone_set {
        problems.push(ScheduleProblem::TimeZoneInSchedule(
            "cannot use both timeZone field and TZ or CRON_TZ in schedule",
        ));
    } else if !allow_tz && has_tz {
        problems.push(ScheduleProblem::TimeZoneInSchedule(
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ));
    }
    problems
}

/// The API server's `validateTimeZone` details for a non-nil `spec.timeZone`, in order
/// (each becomes `spec.timeZone: Invalid value: "<tz>": <detail>`).
pub fn time_zone_problems(time_zone: &str) -> Vec<String> {
    if time_zone.is_empty() {
        return vec!["timeZone must be nil or non-empty string".into()];
    }
    let part_ok = |part: &str| {
        part != "."
            && part != ".."
            && !part.starts_with('-')
            && (1..=14).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    };
    if !time_zone.split('/').all(part_ok) {
        return vec![format!("unknown time zone {time_zone}")];
    }
    let mut problems = Vec::new();
    if time_zone.eq_ignore_ascii_case("Local") {
        problems.push(
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones".into(),
        );
    }
    if let Err(reason) = load_location(time_zone) {
        problems.push(reason);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("valid instant")
    }

    #[test]
    fn empty_schedule_is_only_required() {
        assert_eq!(schedule_problems("", false, false), [ScheduleProblem::Required]);
    }

    #[test]
    fn bad_location_and_tz_rule_both_fire_on_create() {
        assert_eq!(
            schedule_problems("TZ=Foo/Bar 0 * * * *", false, false),
            [
                ScheduleProblem::Invalid("provided bad location Foo/Bar: unknown time zone Foo/Bar".into()),
                ScheduleProblem::TimeZoneInSchedule(
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
                ),
            ]
        );
    }

    #[test]
    fn tz_allowed_on_update_unless_time_zone_is_set() {
        assert!(schedule_problems("TZ=UTC 0 * * * *", true, false).is_empty());
        assert_eq!(
            schedule_problems("TZ=UTC 0 * * * *", true, true),
            [ScheduleProblem::TimeZoneInSchedule(
                "cannot use both timeZone field and TZ or CRON_TZ in schedule"
            )]
        );
    }

    #[rstest]
    #[case("Europe/Berlin", &[])]
    #[case("posixrules", &[])]
    #[case("right/UTC", &[])]
    #[case("", &["timeZone must be nil or non-empty string"])]
    #[case("Local", &["timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"])]
    #[case(
        "LOCAL",
        &[
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            "unknown time zone LOCAL",
        ]
    )]
    #[case("zone.tab", &["malformed time zone information"])]
    #[case("Europe", &["is a directory"])]
    #[case("Europe/..", &["unknown time zone Europe/.."])]
    #[case("-x", &["unknown time zone -x"])]
    #[case("Europe/Berlinxxxxxxxxx", &["unknown time zone Europe/Berlinxxxxxxxxx"])]
    #[case("America/New York", &["unknown time zone America/New York"])]
    fn validates_time_zone_like_the_api_server(#[case] tz: &str, #[case] expected: &[&str]) {
        assert_eq!(time_zone_problems(tz), expected);
    }

    #[test]
    fn controller_prefixes_the_time_zone_unless_the_schedule_has_tz() {
        let s = controller_schedule("0 9 * * *", Some("Europe/Berlin")).expect("valid");
        assert_eq!(s.zone(), Tz::Europe__Berlin);
        assert_eq!(
            s.next(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-01T08:00:00Z"))
        );
        let s = controller_schedule("TZ=UTC 0 9 * * *", Some("Europe/Berlin")).expect("valid");
        assert_eq!(s.zone(), Tz::UTC);
    }

    #[test]
    fn shortest_gap_finds_the_tightest_pair() {
        let from = at("2026-01-01T00:00:00Z");
        let gap = |spec: &str, runs| parse_standard(spec).expect("valid").shortest_gap(from, runs);
        assert_eq!(gap("*/5 * * * *", 10), Some(chrono::Duration::minutes(5)));
        assert_eq!(gap("0,10 3 * * *", 10), Some(chrono::Duration::minutes(10)));
        assert_eq!(gap("@every 30s", 10), Some(chrono::Duration::seconds(30)));
        assert_eq!(gap("0 0 30 2 *", 10), None);
        assert_eq!(gap("0 0 * * *", 1), None);
    }

    #[test]
    fn never_fires_reports_impossible_dates() {
        let from = at("2026-01-01T00:00:00Z");
        assert!(parse_standard("0 0 30 2 *").expect("valid").never_fires(from));
        assert!(!parse_standard("0 0 29 2 *").expect("valid").never_fires(from));
    }

    #[test]
    fn every_exposes_its_whole_second_delay() {
        assert_eq!(
            parse_standard("@every 1.5s").expect("valid").every_seconds(),
            Some(1)
        );
        assert_eq!(parse_standard("@hourly").expect("valid").every_seconds(), None);
    }

    #[test]
    fn panicking_prefix_is_an_error_not_a_panic() {
        let err = parse_standard("TZ=UTC").expect_err("robfig panics");
        assert!(matches!(err, ParseError::TzPrefixWithoutSpace { .. }));
        assert!(err.to_string().contains("crashes"));
    }
}
