//! `batchguard schedule`: one cron expression judged as the API server judges
//! `spec.schedule` on CREATE, then its next fire times as the CronJob controller computes
//! them, with warnings for schedules that never fire and for runs a DST change skips or
//! doubles. The cron logic is [`crate::cron`]; this is the shell around it.

use std::io::{self, Write};

use chrono::{DateTime, Duration, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::cron::{self, go_quote, ScheduleProblem};

/// The verdict on one expression; serialized as the JSON contract
/// `{"schedule","timeZone","valid","description","errors","warnings","next"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleReport {
    pub schedule: String,
    pub time_zone: Option<String>,
    /// Whether the API server accepts the schedule (and time zone) on CREATE.
    pub valid: bool,
    /// What the schedule means (`At 02:30, Monday through Friday`), whenever it parses;
    /// `null` when it does not.
    pub description: Option<String>,
    /// The API server's messages, `spec.schedule: Invalid value: "…": …`.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// The next fire times, RFC 3339 in the schedule's zone; shorter than asked when the
    /// schedule stops firing, empty when it is invalid.
    pub next: Vec<String>,
    /// The start of the listed window, in the schedule's zone (text output only).
    #[serde(skip)]
    pub from: String,
    /// The time zone alone is at fault: the schedule itself is accepted (text output only,
    /// so the headline blames the zone, not the schedule).
    #[serde(skip)]
    pub zone_at_fault: bool,
}

/// Judges `expr` (with `spec.timeZone` = `time_zone`) and lists up to `count` fire times
/// strictly after `from`.
pub fn analyse(expr: &str, time_zone: Option<&str>, from: DateTime<Utc>, count: usize) -> ScheduleReport {
    let mut errors = Vec::new();
    let schedule_problems = cron::schedule_problems(expr, false, time_zone.is_some());
    let schedule_ok = schedule_problems.is_empty();
    for problem in schedule_problems {
        errors.push(match problem {
            ScheduleProblem::Required => "spec.schedule: Required value".to_string(),
            ScheduleProblem::Invalid(_) | ScheduleProblem::TimeZoneInSchedule(_) => format!(
                "spec.schedule: Invalid value: {}: {}",
                go_quote(expr),
                problem.detail().unwrap_or_default()
            ),
        });
    }
    if let Some(tz) = time_zone {
        for detail in cron::time_zone_problems(tz) {
            errors.push(format!(
                "spec.timeZone: Invalid value: {}: {detail}",
                go_quote(tz)
            ));
        }
    }
    let mut report = ScheduleReport {
        schedule: expr.to_string(),
        time_zone: time_zone.map(str::to_string),
        valid: errors.is_empty(),
        description: cron::describe(expr).ok(),
        zone_at_fault: schedule_ok && !errors.is_empty(),
        errors,
        warnings: Vec::new(),
        next: Vec::new(),
        from: rfc3339(from, Tz::UTC),
    };
    if !report.valid {
        return report;
    }
    let schedule = match cron::controller_schedule(expr, time_zone) {
        Ok(s) => s,
        Err(e) => {
            // The API server accepted it, yet the controller cannot run it.
            report.warnings.push(format!(
                "the CronJob controller cannot parse this schedule, so it would never run: {e}"
            ));
            return report;
        }
    };
    let zone = schedule.zone();
    report.from = rfc3339(from, zone);
    let mut fires = Vec::new();
    let mut t = from;
    while fires.len() < count {
        match schedule.next(t) {
            Some(next) => {
                fires.push(next);
                t = next;
            }
            None => break,
        }
    }
    match fires.len() {
        0 => report.warnings.push(format!(
            "the schedule never fires: {}",
            schedule.why_never().unwrap_or_else(|| {
                "no date matches it within the five years the controller looks ahead".to_string()
            })
        )),
        n if n < count => report
            .warnings
            .push(format!("the schedule stops firing after {n} more runs")),
        _ => {}
    }
    if let Some(&last) = fires.last() {
        // `@every` counts elapsed time, not the wall clock, so DST cannot move it.
        if !expr.trim_start().starts_with("@every") {
            // The same expression evaluated in UTC tells which wall-clock times it matches,
            // since UTC has no gaps or repeats.
            if let Ok(wall_schedule) = cron::controller_schedule(expr, Some("UTC")) {
                let wall = |t: NaiveDateTime| wall_schedule.next(t.and_utc()).map(|d| d.naive_utc());
                report.warnings.extend(dst_warnings(zone, from, last, &wall));
            }
        }
    }
    report.next = fires.iter().map(|&t| rfc3339(t, zone)).collect();
    report
}

fn rfc3339(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The daylight-saving warnings of a CronJob's schedule in `(from, until]`, as `analyse`
/// words them; none for an invalid schedule, for `@every` (it counts elapsed time) or
/// without a time zone (the controller's local zone is unknown offline).
pub fn dst_between(
    expr: &str,
    time_zone: Option<&str>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<String> {
    let Some(tz) = time_zone else {
        return Vec::new();
    };
    if expr.trim_start().starts_with("@every") {
        return Vec::new();
    }
    let (Ok(schedule), Ok(wall_schedule)) = (
        cron::controller_schedule(expr, Some(tz)),
        cron::controller_schedule(expr, Some("UTC")),
    ) else {
        return Vec::new();
    };
    let wall = |t: NaiveDateTime| wall_schedule.next(t.and_utc()).map(|d| d.naive_utc());
    dst_warnings(schedule.zone(), from, until, &wall)
}

/// Finds the clock changes of `zone` in `(from, until]` and says which runs each one skips
/// (clocks jump over them) or doubles (clocks go back over them). `wall(t)` is the first
/// wall-clock time strictly after `t` that the schedule matches.
pub fn dst_warnings(
    zone: Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    wall: &dyn Fn(NaiveDateTime) -> Option<NaiveDateTime>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for change in clock_changes(zone, from, until) {
        let before = change.at + change.before;
        let after = change.at + change.after;
        let (start, end) = if after > before {
            (before, after)
        } else {
            (after, before)
        };
        let mut runs = Vec::new();
        let mut t = start - Duration::seconds(1);
        // A changed span lasts at most a few hours: the cap only guards against a
        // `wall` that fails to move forward.
        while let Some(run) = wall(t).filter(|&run| run > t && run < end) {
            runs.push(run);
            t = run;
            if runs.len() >= 100_000 {
                break;
            }
        }
        if runs.is_empty() {
            continue;
        }
        let shown: Vec<String> = runs
            .iter()
            .take(4)
            .map(|r| r.format("%H:%M").to_string())
            .collect();
        let mut list = shown.join(", ");
        if runs.len() > shown.len() {
            list.push_str(&format!(" and {} more", runs.len() - shown.len()));
        }
        let (verb, effect) = match (after > before, runs.len() == 1) {
            (true, true) => ("jump forward", "is skipped"),
            (true, false) => ("jump forward", "are skipped"),
            (false, true) => ("go back", "happens twice"),
            (false, false) => ("go back", "happen twice"),
        };
        let noun = if runs.len() == 1 {
            "the run at"
        } else {
            "the runs at"
        };
        warnings.push(format!(
            "DST: on {} clocks in {} {verb} from {} to {}, so {noun} {list} {effect}",
            before.format("%Y-%m-%d"),
            zone.name(),
            before.format("%H:%M"),
            after.format("%H:%M"),
        ));
    }
    warnings
}

/// One change of a zone's UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClockChange {
    /// The first instant with the new offset.
    at: NaiveDateTime,
    before: Duration,
    after: Duration,
}

fn offset_at(zone: Tz, t: DateTime<Utc>) -> Duration {
    Duration::seconds(i64::from(
        zone.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}

/// Scans `(from, until]` in six-hour steps (zones never change twice that fast) and pins
/// each change to the second by bisection.
fn clock_changes(zone: Tz, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<ClockChange> {
    let step = Duration::hours(6);
    let mut changes = Vec::new();
    let mut t = from;
    let mut offset = offset_at(zone, t);
    while t < until {
        let next = (t + step).min(until);
        let next_offset = offset_at(zone, next);
        if next_offset != offset {
            // Zones change offset on whole seconds: bisect over Unix seconds.
            let at_second = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or(next);
            let (mut lo, mut hi) = (
                t.timestamp(),
                next.timestamp() + i64::from(next.timestamp_subsec_nanos() > 0),
            );
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(zone, at_second(mid)) == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = at_second(hi);
            changes.push(ClockChange {
                at: hi.naive_utc(),
                before: offset,
                after: offset_at(zone, hi),
            });
        }
        t = next;
        offset = next_offset;
    }
    changes
}

/// Writes the report for people: verdict, messages, then the fire times.
pub fn write_text(out: &mut dyn Write, report: &ScheduleReport, color: bool) -> io::Result<()> {
    let paint = |code: &'static str| if color { code } else { "" };
    let reset = paint("\x1b[0m");
    let zone = report.time_zone.as_deref().unwrap_or("UTC");
    if report.valid {
        writeln!(
            out,
            "{}valid{reset}: {} (time zone {zone})",
            paint("\x1b[1;32m"),
            go_quote(&report.schedule)
        )?;
    } else if report.zone_at_fault {
        let zone = go_quote(zone);
        let unknown = report.errors.iter().any(|e| e.contains(": unknown time zone "));
        let what = if unknown {
            format!("unknown time zone {zone}")
        } else {
            format!("time zone {zone}")
        };
        writeln!(
            out,
            "{}invalid{reset}: {what} (the schedule {} itself is valid)",
            paint("\x1b[1;31m"),
            go_quote(&report.schedule)
        )?;
    } else {
        writeln!(
            out,
            "{}invalid{reset}: {}",
            paint("\x1b[1;31m"),
            go_quote(&report.schedule)
        )?;
    }
    if let Some(description) = &report.description {
        writeln!(out, "description: {description}")?;
    }
    for e in &report.errors {
        writeln!(out, "{}error{reset}: {e}", paint("\x1b[1;31m"))?;
    }
    for w in &report.warnings {
        writeln!(out, "{}warning{reset}: {w}", paint("\x1b[1;33m"))?;
    }
    if !report.next.is_empty() {
        let runs = if report.next.len() == 1 { "run" } else { "runs" };
        writeln!(out, "next {} {runs} after {}:", report.next.len(), report.from)?;
        for t in &report.next {
            writeln!(out, "  {t}")?;
        }
    }
    Ok(())
}

/// Writes the JSON contract, pretty-printed, then a newline.
pub fn write_json(out: &mut dyn Write, report: &ScheduleReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    /// A daily schedule at `h:m` wall-clock time, as the UTC-evaluated schedule would answer.
    fn daily(h: u32, m: u32) -> impl Fn(NaiveDateTime) -> Option<NaiveDateTime> {
        move |t: NaiveDateTime| {
            let at = NaiveTime::from_hms_opt(h, m, 0).expect("time");
            let today = t.date().and_time(at);
            Some(if today > t {
                today
            } else {
                (t.date() + Duration::days(1)).and_time(at)
            })
        }
    }

    #[test]
    fn warns_that_spring_forward_skips_a_daily_0230_run() {
        let w = dst_warnings(
            chrono_tz::Europe::Berlin,
            utc("2026-03-25T00:00:00Z"),
            utc("2026-04-02T00:00:00Z"),
            &daily(2, 30),
        );
        assert_eq!(
            w,
            ["DST: on 2026-03-29 clocks in Europe/Berlin jump forward from 02:00 to 03:00, so the run at 02:30 is skipped"]
        );
    }

    #[test]
    fn warns_that_fall_back_doubles_a_run_in_the_repeated_hour() {
        let w = dst_warnings(
            chrono_tz::America::New_York,
            utc("2026-10-30T00:00:00Z"),
            utc("2026-11-03T00:00:00Z"),
            &daily(1, 30),
        );
        assert_eq!(
            w,
            ["DST: on 2026-11-01 clocks in America/New_York go back from 02:00 to 01:00, so the run at 01:30 happens twice"]
        );
    }

    #[test]
    fn says_nothing_when_no_run_falls_in_the_changed_hour() {
        let w = dst_warnings(
            chrono_tz::Europe::Berlin,
            utc("2026-03-25T00:00:00Z"),
            utc("2026-11-02T00:00:00Z"),
            &daily(4, 0),
        );
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn ignores_changes_outside_the_window() {
        let w = dst_warnings(
            chrono_tz::Europe::Berlin,
            utc("2026-04-01T00:00:00Z"),
            utc("2026-04-10T00:00:00Z"),
            &daily(2, 30),
        );
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn lists_a_few_of_many_skipped_runs() {
        let every_15 = |t: NaiveDateTime| {
            let midnight = t.date().and_time(NaiveTime::MIN);
            let quarters = (t - midnight).num_seconds() / 900 + 1;
            Some(midnight + Duration::seconds(quarters * 900))
        };
        let w = dst_warnings(
            chrono_tz::Europe::Berlin,
            utc("2026-03-29T00:00:00Z"),
            utc("2026-03-29T02:00:00Z"),
            &every_15,
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].ends_with("the runs at 02:00, 02:15, 02:30, 02:45 are skipped"),
            "{w:?}"
        );
    }

    #[test]
    fn finds_clock_changes_to_the_second() {
        let changes = clock_changes(
            chrono_tz::Europe::Berlin,
            utc("2026-01-01T00:00:00Z"),
            utc("2027-01-01T00:00:00Z"),
        );
        assert_eq!(changes.len(), 2);
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29)
            .expect("date")
            .and_hms_opt(1, 0, 0)
            .expect("time");
        assert_eq!(changes[0].at, spring);
        assert_eq!(
            (changes[0].before, changes[0].after),
            (Duration::hours(1), Duration::hours(2))
        );
    }

    #[test]
    fn json_has_the_contract_shape() {
        let report = ScheduleReport {
            schedule: "0 0 * * 7".into(),
            time_zone: None,
            valid: false,
            description: None,
            errors: vec![
                "spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7".into(),
            ],
            warnings: vec![],
            next: vec![],
            from: "2026-01-01T00:00:00+00:00".into(),
            zone_at_fault: false,
        };
        let mut out = Vec::new();
        write_json(&mut out, &report).expect("writes");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let keys = [
            "schedule",
            "timeZone",
            "valid",
            "description",
            "errors",
            "warnings",
            "next",
        ];
        assert_eq!(v.as_object().expect("object").len(), keys.len());
        crate::report::assert_keys_in_order(&out, &keys);
        assert_eq!(v["timeZone"], serde_json::Value::Null);
        assert_eq!(v["description"], serde_json::Value::Null);
    }

    #[test]
    fn text_lists_errors_and_fire_times() {
        let report = ScheduleReport {
            schedule: "30 2 * * *".into(),
            time_zone: Some("Europe/Berlin".into()),
            valid: true,
            description: Some("At 02:30, every day".into()),
            errors: vec![],
            warnings: vec!["DST: something".into()],
            next: vec![
                "2026-03-28T02:30:00+01:00".into(),
                "2026-03-30T02:30:00+02:00".into(),
            ],
            from: "2026-03-28T00:00:00+01:00".into(),
            zone_at_fault: false,
        };
        let mut out = Vec::new();
        write_text(&mut out, &report, false).expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "valid: \"30 2 * * *\" (time zone Europe/Berlin)\ndescription: At 02:30, every day\nwarning: DST: something\nnext 2 runs after 2026-03-28T00:00:00+01:00:\n  2026-03-28T02:30:00+01:00\n  2026-03-30T02:30:00+02:00\n"
        );
    }

    fn report_at(expr: &str, zone: Option<&str>) -> ScheduleReport {
        analyse(expr, zone, utc("2026-01-01T00:00:00Z"), 3)
    }

    fn text(report: &ScheduleReport) -> String {
        let mut out = Vec::new();
        write_text(&mut out, report, false).expect("writes");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn an_unknown_zone_is_blamed_on_the_zone_not_the_schedule() {
        let report = report_at("0 0 * * *", Some("Mars/Olympus"));
        assert!(!report.valid);
        assert!(report.zone_at_fault);
        let text = text(&report);
        assert!(
            text.starts_with(
                "invalid: unknown time zone \"Mars/Olympus\" (the schedule \"0 0 * * *\" itself is valid)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "error: spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_refused_zone_that_exists_is_named_without_unknown() {
        let text = text(&report_at("0 0 * * *", Some("Local")));
        assert!(
            text.starts_with("invalid: time zone \"Local\" (the schedule \"0 0 * * *\" itself is valid)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_schedule_is_still_blamed_when_the_zone_is_bad_too() {
        let report = report_at("0 0 * * 7", Some("Mars/Olympus"));
        assert!(!report.zone_at_fault);
        assert!(text(&report).starts_with("invalid: \"0 0 * * 7\"\n"));
        assert_eq!(report.errors.len(), 2);
    }

    #[test]
    fn never_firing_warning_names_the_missing_date() {
        let report = report_at("0 0 31 4 *", None);
        assert_eq!(
            report.warnings,
            ["the schedule never fires: day 31 of April does not exist"]
        );
        let report = report_at("0 0 30 2 *", None);
        assert_eq!(
            report.warnings,
            ["the schedule never fires: day 30 of February does not exist"]
        );
    }

    #[test]
    fn describes_valid_schedules_and_descriptors() {
        assert_eq!(
            report_at("30 2 * * 1-5", None).description.as_deref(),
            Some("At 02:30, Monday through Friday")
        );
        assert_eq!(
            report_at("@every 90m", None).description.as_deref(),
            Some("Every 90 minutes, counted from the CronJob's creation (not aligned to the clock)")
        );
        assert_eq!(report_at("0 0 * * 7", None).description, None);
    }
}
