//! What one admission review costs, beside the cost of only reading its JSON: `review` on
//! the captured CronJob CREATE (`/mutate` and `/validate`) and Job CREATE (`/validate`),
//! and `serde_json` parsing the same CronJob body into `IgnoredAny` (the floor: scanning
//! the bytes) and into a `Value` (building the whole tree). The server's throughput target
//! leaves about 10 µs of CPU per request beyond a fixed answer, so compare against these.

use batchguard::admission::{review, Env, Webhook};

/// The allocator the `batchguard` binary uses, so these figures are what `serve` pays.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use batchguard::policy::Policy;
use chrono::{DateTime, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const CRONJOB_MUTATE: &[u8] = include_bytes!("../tests/data/admission/cronjob-create.mutate.json");
const CRONJOB_VALIDATE: &[u8] = include_bytes!("../tests/data/admission/cronjob-create.validate.json");
const JOB_VALIDATE: &[u8] = include_bytes!("../tests/data/admission/job-create.validate.json");
const CRONJOB_UPDATE_VALIDATE: &[u8] =
    include_bytes!("../tests/data/admission/cronjob-update-label.validate.json");

fn env() -> Env {
    Env {
        now: DateTime::parse_from_rfc3339("2026-11-25T02:00:00Z")
            .expect("valid time")
            .with_timezone(&Utc),
        own_namespace: Some("batchguard".into()),
    }
}

fn admission(c: &mut Criterion) {
    let policy = Policy::default();
    let env = env();
    let mut group = c.benchmark_group("admission");
    group.bench_function("parse IgnoredAny (cronjob create)", |b| {
        b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(CRONJOB_MUTATE)))
    });
    group.bench_function("parse Value (cronjob create)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(CRONJOB_MUTATE)))
    });
    let cases = [
        ("review mutate cronjob-create", Webhook::Mutate, CRONJOB_MUTATE),
        (
            "review validate cronjob-create",
            Webhook::Validate,
            CRONJOB_VALIDATE,
        ),
        ("review validate job-create", Webhook::Validate, JOB_VALIDATE),
        (
            "review validate cronjob-update-label",
            Webhook::Validate,
            CRONJOB_UPDATE_VALIDATE,
        ),
    ];
    for (name, webhook, body) in cases {
        group.bench_function(name, |b| {
            b.iter(|| review(webhook, black_box(body), &policy, &env).expect("readable fixture"))
        });
    }
    group.finish();
}

criterion_group!(benches, admission);
criterion_main!(benches);
