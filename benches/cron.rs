//! How fast schedules parse and step: `parse_standard` runs for every CronJob the webhook
//! sees, `Schedule::next` for every "next runs" and min-interval check.

use std::hint::black_box;
use std::time::Duration;

use batchguard::cron::{controller_schedule, parse_standard};
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};

const TYPICAL: &[&str] = &[
    "*/5 * * * *",
    "0 2 * * *",
    "30 4 1,15 * mon-fri",
    "0 0 29 2 *",
    "@daily",
    "@every 90s",
    "TZ=Europe/Berlin 0 9 * * 1-5",
];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_standard");
    for spec in TYPICAL {
        group.bench_function(*spec, |b| b.iter(|| parse_standard(black_box(spec))));
    }
    group.finish();
}

fn next(c: &mut Criterion) {
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("valid instant");
    let mut group = c.benchmark_group("next");
    for (spec, zone) in [
        ("*/5 * * * *", None),
        ("*/5 * * * *", Some("Europe/Berlin")),
        ("0 0 29 2 *", None),
        ("0 0 29 2 *", Some("Europe/Berlin")),
        ("0 0 30 2 *", None),
    ] {
        let schedule = controller_schedule(spec, zone).expect("valid schedule");
        let name = format!("{spec} [{}]", zone.unwrap_or("UTC"));
        group.bench_function(name, |b| b.iter(|| schedule.next(black_box(start))));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = parse, next
}
criterion_main!(benches);
