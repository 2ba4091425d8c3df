//! robfig `SpecSchedule.Next` with Go `time.Date` normalisation, because the CronJob
//! controller's fire times (DST gaps skipped, repeated hours fired twice) come from exactly
//! this walk, not from a calendar-correct one.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::parse::{SpecBits, STAR_BIT};

/// A guard against a pathological zone making the walk loop forever; legitimate walks stay
/// far below it (a never-matching day walks about 1,900 days).
const MAX_STEPS: u32 = 2_000_000;

/// Local calendar fields of an instant, as Go's `Time` accessors give them.
#[derive(Debug, Clone, Copy)]
struct Fields {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: u32,
}

/// An instant (Unix seconds) in a zone: the `time.Time` robfig walks.
#[derive(Clone, Copy)]
struct GoTime {
    unix: i64,
    tz: Tz,
}

fn offset_at(tz: Tz, unix: i64) -> Option<i64> {
    let utc = DateTime::from_timestamp(unix, 0)?.naive_utc();
    Some(i64::from(
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
    ))
}

impl GoTime {
    fn fields(self) -> Option<Fields> {
        let local = self.unix + offset_at(self.tz, self.unix)?;
        let dt = DateTime::from_timestamp(local, 0)?.naive_utc();
        Some(Fields {
            year: i64::from(dt.year()),
            month: dt.month(),
            day: dt.day(),
            hour: dt.hour(),
            minute: dt.minute(),
            second: dt.second(),
            weekday: dt.weekday().num_days_from_sunday(),
        })
    }

    /// Go `time.Date(year, month, day, hour, min, sec, 0, loc)`, out-of-range fields
    /// normalised. The offset is the one in force at the wall time read as UTC, unless that
    /// instant falls outside its own zone period, in which case the offset at the adjusted
    /// instant wins: so a wall time in a gap or overlap resolves exactly as Go resolves it.
    fn date(tz: Tz, year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64) -> Option<GoTime> {
        let year = year + (month - 1).div_euclid(12);
        let month = (month - 1).rem_euclid(12) + 1;
        let first = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, u32::try_from(month).ok()?, 1)?;
        let days = first
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp()
            .div_euclid(86_400)
            + day
            - 1;
        let local = days * 86_400 + hour * 3600 + min * 60 + sec;
        let guess = offset_at(tz, local)?;
        let unix = local - offset_at(tz, local - guess)?;
        Some(GoTime { unix, tz })
    }

    fn add_seconds(self, secs: i64) -> Option<GoTime> {
        Some(GoTime {
            unix: self.unix.checked_add(secs)?,
            tz: self.tz,
        })
    }
}

fn bit(set: u64, n: u32) -> bool {
    set & (1 << n) != 0
}

fn day_matches(s: &SpecBits, f: &Fields) -> bool {
    let dom_match = bit(s.dom, f.day);
    let dow_match = bit(s.dow, f.weekday);
    if s.dom & STAR_BIT != 0 || s.dow & STAR_BIT != 0 {
        dom_match && dow_match
    } else {
        dom_match || dow_match
    }
}

/// True when no day, hour or minute can ever match, so the walk would only end at the
/// five-year limit: answering `None` at once gives the same result without the walk.
fn cannot_match(s: &SpecBits) -> bool {
    let value = |set: u64| set & !STAR_BIT;
    let no_day = if s.dom & STAR_BIT != 0 || s.dow & STAR_BIT != 0 {
        value(s.dom) == 0 || value(s.dow) == 0
    } else {
        value(s.dom) == 0 && value(s.dow) == 0
    };
    value(s.minute) == 0 || value(s.hour) == 0 || value(s.month) == 0 || no_day
}

/// robfig `SpecSchedule.Next` (second field fixed at 0) in `tz`; `None` for Go's zero time.
pub(crate) fn spec_next(s: &SpecBits, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    walk(s, tz, after, true)
}

/// The walk itself; `jump` skips the one-second and one-minute steps where Go's walk is
/// known to land (tests run it both ways to prove the results are the same).
fn walk(s: &SpecBits, tz: Tz, after: DateTime<Utc>, jump: bool) -> Option<DateTime<Utc>> {
    if cannot_match(s) {
        return None;
    }
    // Start at the next whole second.
    let mut t = GoTime {
        unix: after.timestamp().checked_add(1)?,
        tz,
    };
    let mut added = false;
    let year_limit = t.fields()?.year + 5;
    let mut steps = 0u32;
    let mut step = || {
        steps += 1;
        steps < MAX_STEPS
    };

    'wrap: loop {
        let f = t.fields()?;
        if f.year > year_limit {
            return None;
        }

        let mut f = f;
        while !bit(s.month, f.month) {
            if !step() {
                return None;
            }
            if !added {
                added = true;
                t = GoTime::date(tz, f.year, i64::from(f.month), 1, 0, 0, 0)?;
                f = t.fields()?;
            }
            // AddDate(0, 1, 0)
            t = GoTime::date(
                tz,
                f.year,
                i64::from(f.month) + 1,
                i64::from(f.day),
                i64::from(f.hour),
                i64::from(f.minute),
                i64::from(f.second),
            )?;
            f = t.fields()?;
            if f.month == 1 {
                continue 'wrap;
            }
        }

        while !day_matches(s, &f) {
            if !step() {
                return None;
            }
            if !added {
                added = true;
                t = GoTime::date(tz, f.year, i64::from(f.month), i64::from(f.day), 0, 0, 0)?;
                f = t.fields()?;
            }
            // AddDate(0, 0, 1)
            t = GoTime::date(
                tz,
                f.year,
                i64::from(f.month),
                i64::from(f.day) + 1,
                i64::from(f.hour),
                i64::from(f.minute),
                i64::from(f.second),
            )?;
            f = t.fields()?;
            // Midnight may not exist (DST): robfig moves to the nearest hour 0 by absolute time.
            if f.hour != 0 {
                let h = i64::from(f.hour);
                t = t.add_seconds(if h > 12 { (24 - h) * 3600 } else { -h * 3600 })?;
                f = t.fields()?;
            }
            if f.day == 1 {
                continue 'wrap;
            }
        }

        while !bit(s.hour, f.hour) {
            if !step() {
                return None;
            }
            if !added {
                added = true;
                t = GoTime::date(
                    tz,
                    f.year,
                    i64::from(f.month),
                    i64::from(f.day),
                    i64::from(f.hour),
                    0,
                    0,
                )?;
            }
            t = t.add_seconds(3600)?;
            f = t.fields()?;
            if f.hour == 0 {
                continue 'wrap;
            }
        }

        while !bit(s.minute, f.minute) {
            if !step() {
                return None;
            }
            if !added {
                added = true;
                // Truncate(time.Minute) works on absolute time, not on the wall clock.
                t = GoTime {
                    unix: t.unix.div_euclid(60) * 60,
                    tz,
                };
            }
            // Go steps one minute at a time and stops at the first matching minute or at
            // minute 0; jump straight there when the offset is the same at both ends (so no
            // transition, e.g. Lord Howe's half-hour one, could change the minutes seen).
            let target = (f.minute + 1..60).find(|&m| bit(s.minute, m)).unwrap_or(60);
            let landing = t.add_seconds(i64::from(target - f.minute) * 60)?;
            t = if jump && target - f.minute > 1 && offset_at(tz, landing.unix)? == offset_at(tz, t.unix)? {
                landing
            } else {
                t.add_seconds(60)?
            };
            f = t.fields()?;
            if f.minute == 0 {
                continue 'wrap;
            }
        }

        while f.second != 0 {
            if !step() {
                return None;
            }
            if !added {
                added = true;
            }
            // Go adds one second at a time until second 0 and then wraps; nothing else is
            // looked at on the way, so jumping there is the same walk.
            t = t.add_seconds(if jump { i64::from(60 - f.second) } else { 1 })?;
            f = t.fields()?;
            if f.second == 0 {
                continue 'wrap;
            }
        }

        return DateTime::from_timestamp(t.unix, 0);
    }
}

#[cfg(test)]
mod tests {
    use crate::cron::parse_standard;
    use chrono::{DateTime, Utc};
    use rstest::rstest;

    /// The first `n` fire times after `start`, as RFC 3339 in the schedule's zone.
    fn fires(spec: &str, start: &str, n: usize) -> Vec<String> {
        let schedule = parse_standard(spec).expect("valid schedule");
        let mut at: DateTime<Utc> = start.parse().expect("valid start");
        let mut out = Vec::new();
        for _ in 0..n {
            match schedule.next(at) {
                Some(fire) => {
                    out.push(fire.with_timezone(&schedule.zone()).to_rfc3339());
                    at = fire;
                }
                None => {
                    out.push("never".to_string());
                    break;
                }
            }
        }
        out
    }

    #[rstest]
    // Spring forward: 02:30 does not exist that day and is skipped.
    #[case(
        "TZ=America/New_York 30 2 * * *",
        "2026-03-07T12:00:00Z",
        &["2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"]
    )]
    #[case(
        "TZ=Europe/Berlin 30 2 * * *",
        "2026-03-28T12:00:00Z",
        &["2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]
    )]
    // Fall back: the repeated hour fires twice.
    #[case(
        "TZ=America/New_York 30 1 * * *",
        "2026-10-31T12:00:00Z",
        &["2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-02T01:30:00-05:00"]
    )]
    #[case(
        "TZ=Europe/Berlin 30 2 * * *",
        "2026-10-24T12:00:00Z",
        &["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-26T02:30:00+01:00"]
    )]
    // Havana springs forward at midnight: the day's midnight never exists, so a daily
    // midnight job skips that day, and the only-that-day schedule waits a year.
    #[case(
        "TZ=America/Havana 0 0 * * *",
        "2026-03-06T12:00:00Z",
        &["2026-03-07T00:00:00-05:00", "2026-03-09T00:00:00-04:00"]
    )]
    #[case("TZ=America/Havana 0 0 8 3 *", "2026-03-01T12:00:00Z", &["2027-03-08T00:00:00-05:00"])]
    #[case(
        "TZ=America/Havana 0 * 8 3 *",
        "2026-03-01T12:00:00Z",
        &["2026-03-08T01:00:00-04:00", "2026-03-08T02:00:00-04:00"]
    )]
    fn follows_robfig_across_dst(#[case] spec: &str, #[case] start: &str, #[case] expected: &[&str]) {
        assert_eq!(fires(spec, start, expected.len()), expected);
    }

    #[rstest]
    // Neither field starred: day of month OR day of week (the 1st, or a Monday).
    #[case("0 0 1 * 1", "2026-01-01T00:00:00Z", &["2026-01-05T00:00:00+00:00", "2026-01-12T00:00:00+00:00"])]
    // "1-31" is not a star, so it is still OR with Monday: every day.
    #[case("0 0 1-31 * 1", "2026-01-01T00:00:00Z", &["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00"])]
    // A starred day of month: both must match, so only Mondays.
    #[case("0 0 * * 1", "2026-01-01T00:00:00Z", &["2026-01-05T00:00:00+00:00"])]
    // */2 clears the star bit: odd days OR Mondays.
    #[case("0 0 */2 * 1", "2026-01-01T00:00:00Z", &["2026-01-03T00:00:00+00:00", "2026-01-05T00:00:00+00:00"])]
    #[case("0 0 29 2 *", "2026-01-01T00:00:00Z", &["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"])]
    fn matches_days_with_the_star_bit_rule(
        #[case] spec: &str,
        #[case] start: &str,
        #[case] expected: &[&str],
    ) {
        assert_eq!(fires(spec, start, expected.len()), expected);
    }

    #[rstest]
    #[case("0 0 30 2 *")]
    #[case("0 0 31 4 *")]
    #[case(", * * * *")]
    #[case("0 0 , * ,")]
    fn never_fires(#[case] spec: &str) {
        assert_eq!(fires(spec, "2026-01-01T00:00:00Z", 1), ["never"]);
    }

    #[test]
    fn gives_up_after_five_years() {
        // The next 29 February after 2097 is in 2104 (2100 is not a leap year): beyond the limit.
        assert_eq!(fires("0 0 29 2 *", "2097-01-01T00:00:00Z", 1), ["never"]);
    }

    #[test]
    fn jumping_walk_matches_the_step_by_step_walk() {
        use super::walk;
        use crate::cron::parse::{parse, Parsed};
        let zones = [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "America/Havana",
            "Asia/Kathmandu",
        ];
        let specs = [
            "*/5 * * * *",
            "7,53 */3 * * *",
            "30 2 * * *",
            "0 0 * * *",
            "15-45/15 1,2 * * 0",
            "59 23 * * *",
        ];
        let starts = [
            "2026-03-08T05:58:30Z",
            "2026-04-04T15:29:59Z",
            "2026-10-03T15:00:00Z",
            "2026-11-01T05:30:00Z",
        ];
        for zone in zones {
            for spec in specs {
                let Ok((Parsed::Spec(bits), _)) = parse(spec) else {
                    panic!("{spec} parses")
                };
                let tz: chrono_tz::Tz = zone.parse().expect("known zone");
                for start in starts {
                    let mut at: DateTime<Utc> = start.parse().expect("valid start");
                    for _ in 0..40 {
                        let fast = walk(&bits, tz, at, true);
                        assert_eq!(fast, walk(&bits, tz, at, false), "{spec} in {zone} after {at}");
                        let Some(next) = fast else { break };
                        at = next;
                    }
                }
            }
        }
    }

    #[test]
    fn every_adds_the_delay_to_the_whole_second() {
        assert_eq!(
            fires("@every 90s", "2026-01-01T00:00:00.750Z", 2),
            ["2026-01-01T00:01:30+00:00", "2026-01-01T00:03:00+00:00"]
        );
        assert_eq!(
            fires("@every 0s", "2026-01-01T00:00:00Z", 1),
            ["2026-01-01T00:00:01+00:00"]
        );
    }
}
