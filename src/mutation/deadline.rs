//! The `activeDeadlineSeconds` a CronJob's Jobs get: a fixed number, or the shortest gap
//! between two runs of the schedule (so a run never overlaps the next), memoized per thread.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::policy::{ActiveDeadline, CronJobDefaults};

/// How many upcoming runs are scanned for the shortest gap between two runs. The shortest
/// gap of any realistic schedule shows within its first few runs; the cap bounds the cost
/// of a request.
pub const SCHEDULE_RUNS: usize = 100;

/// The deadline to give a CronJob's Jobs, and how it was chosen (for the warning).
pub(super) struct Deadline {
    pub(super) seconds: i64,
    pub(super) why: Option<String>,
}

pub(super) fn active_deadline(
    spec: &Map<String, Value>,
    d: &CronJobDefaults,
    now: DateTime<Utc>,
) -> Option<Deadline> {
    let deadline = match d.active_deadline_seconds? {
        ActiveDeadline::Seconds(s) => Deadline {
            seconds: s,
            why: None,
        },
        ActiveDeadline::Schedule => {
            let schedule = spec.get("schedule").and_then(Value::as_str)?;
            let zone = spec.get("timeZone").and_then(Value::as_str);
            let gap = gaps::shortest_gap(schedule, zone, now)?;
            let cap = d.max_active_deadline_seconds;
            // Warnings should stay short (kubectl users read them; the API server truncates
            // long ones), so the schedule itself is not repeated.
            let why = if gap > cap {
                format!("the shortest gap between runs is {gap}s, capped at {cap}s")
            } else {
                "the shortest gap between runs".to_string()
            };
            Deadline {
                seconds: gap.min(cap),
                why: Some(why),
            }
        }
    };
    // A zero deadline would fail every run the moment it starts.
    (deadline.seconds > 0).then_some(deadline)
}

/// A memo of [`Schedule::shortest_gap`](crate::cron::Schedule::shortest_gap) for
/// [`SCHEDULE_RUNS`] runs, which is most of the cost of `/mutate` on a CronJob (a `*/5`
/// schedule walks all 100 runs through the time zone arithmetic, tens of microseconds).
///
/// `shortest_gap(from)` depends on `from` only through the first fire time after it: it
/// takes `next(from)` and then steps `next(previous)` from there. An entry keeps the
/// schedule text, the zone, that first fire time `first` and the earliest `from` it is
/// known for. Any `now` in `[from, first)` has the same first fire time (there is no fire
/// time between `from` and `first`, and `next` only moves forward), so such a request is
/// answered without parsing the schedule at all. Any other `now` parses it, takes
/// `next(now)`, and is still a hit when an entry has that first fire time. Entries are per
/// thread (no lock on the request path) and few; an entry is no longer hit once its first
/// fire time has passed, so a full memo first drops those.
mod gaps {
    use std::cell::RefCell;

    use chrono::{DateTime, Utc};

    use super::SCHEDULE_RUNS;

    /// Entries per thread.
    const CAPACITY: usize = 32;
    /// Longer schedule texts are computed each time rather than kept.
    const MAX_KEY_BYTES: usize = 256;

    struct Entry {
        schedule: String,
        zone: Option<String>,
        /// The earliest time this entry was asked for: `next(from) == first`.
        from: DateTime<Utc>,
        first: DateTime<Utc>,
        gap_seconds: Option<i64>,
    }

    thread_local! {
        static MEMO: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    }

    /// `controller_schedule(schedule, zone)?.shortest_gap(now, SCHEDULE_RUNS)` in seconds;
    /// `None` when the schedule does not parse or has no two runs.
    pub(super) fn shortest_gap(schedule: &str, zone: Option<&str>, now: DateTime<Utc>) -> Option<i64> {
        let same = |e: &Entry| e.schedule == schedule && e.zone.as_deref() == zone;
        let known = MEMO.with(|memo| {
            memo.borrow()
                .iter()
                .find(|e| e.from <= now && now < e.first && same(e))
                .map(|e| e.gap_seconds)
        });
        if let Some(gap_seconds) = known {
            return gap_seconds;
        }
        let parsed = crate::cron::controller_schedule(schedule, zone).ok()?;
        let compute = || parsed.shortest_gap(now, SCHEDULE_RUNS).map(|g| g.num_seconds());
        // `@every` does not look at its runs at all, and long texts are not worth keeping.
        if parsed.every_seconds().is_some() || schedule.len() + zone.map_or(0, str::len) > MAX_KEY_BYTES {
            return compute();
        }
        // No first run: shortest_gap has no pair to measure either.
        let first = parsed.next(now)?;
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if let Some(entry) = memo.iter_mut().find(|e| e.first == first && same(e)) {
                entry.from = entry.from.min(now);
                return entry.gap_seconds;
            }
            let gap_seconds = compute();
            if memo.len() >= CAPACITY {
                memo.retain(|e| e.first > now);
                if memo.len() >= CAPACITY {
                    memo.remove(0);
                }
            }
            memo.push(Entry {
                schedule: schedule.to_string(),
                zone: zone.map(str::to_string),
                from: now,
                first,
                gap_seconds,
            });
            gap_seconds
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T02:00:00Z")
            .expect("valid time")
            .with_timezone(&Utc)
    }

    #[test]
    fn memoized_shortest_gap_equals_a_fresh_computation() {
        // Around both 2026 DST changes in Berlin and New York, where the gap of a daily or
        // hourly schedule depends on which runs the 100 fall on; each time asked twice, so
        // the second answer comes from the memo.
        let cases: [(&str, Option<&str>); 9] = [
            ("*/5 * * * *", None),
            ("0 2 * * *", Some("Europe/Berlin")),
            ("30 2 * * *", Some("Europe/Berlin")),
            ("0 * * * *", Some("Europe/Berlin")),
            ("30 1 * * *", Some("America/New_York")),
            ("0,10 3 * * *", None),
            ("@every 90s", None),
            ("0 0 30 2 *", None),
            ("CRON_TZ=Asia/Tokyo 15 */7 * * *", Some("Europe/Berlin")),
        ];
        let starts = [
            "2026-03-27T00:00:00Z",
            "2026-10-23T00:00:00Z",
            "2026-03-06T00:00:00Z",
        ];
        for start in starts {
            let start = DateTime::parse_from_rfc3339(start)
                .expect("valid")
                .with_timezone(&Utc);
            for step in 0..200 {
                let at = start + chrono::Duration::minutes(step * 23);
                for (schedule, zone) in cases {
                    let parsed = crate::cron::controller_schedule(schedule, zone).expect("valid");
                    let fresh = parsed.shortest_gap(at, SCHEDULE_RUNS).map(|g| g.num_seconds());
                    for _ in 0..2 {
                        assert_eq!(
                            gaps::shortest_gap(schedule, zone, at),
                            fresh,
                            "{schedule} {zone:?} at {at}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn shortest_gap_memo_stays_correct_past_its_capacity() {
        let at = now();
        for round in 0..2 {
            for minute in 0..60 {
                let schedule = format!("{minute} */{} * * *", 1 + minute % 5);
                let parsed = crate::cron::controller_schedule(&schedule, None).expect("valid");
                let fresh = parsed.shortest_gap(at, SCHEDULE_RUNS).map(|g| g.num_seconds());
                assert_eq!(
                    gaps::shortest_gap(&schedule, None, at),
                    fresh,
                    "{schedule}, round {round}"
                );
            }
        }
    }
}
