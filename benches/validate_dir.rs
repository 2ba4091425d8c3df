//! What judging costs on top of reading: `batchguard validate` over a directory of 10,000
//! manifests (a mix of valid and invalid Jobs and CronJobs) against a baseline that only
//! reads and parses the same YAML. Prints the ratio at the end.
//!
//! Run: `cargo bench --bench validate_dir`

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion};

use batchguard::policy::Policy;

const MANIFESTS: usize = 10_000;

/// One manifest of a varied mix: valid and invalid, Jobs and CronJobs, some multi-document.
fn manifest(i: usize) -> String {
    let schedules = [
        "*/5 * * * *",
        "0 3 * * 1-5",
        "0 0 * * 7",
        "@hourly",
        "CRON_TZ=UTC 0 6 * * *",
        "15 2 1 * *",
    ];
    let restart = ["Never", "OnFailure", "Always"][i % 3];
    match i % 4 {
        0 | 1 => format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: cron-{i}\n  namespace: team-{}\nspec:\n  schedule: \"{}\"\n  concurrencyPolicy: {}\n  successfulJobsHistoryLimit: {}\n  jobTemplate:\n    spec:\n      backoffLimit: {}\n      template:\n        spec:\n          restartPolicy: {restart}\n          containers:\n          - name: main\n            image: busybox:1.36\n            command: [sh, -c, \"echo run {i}\"]\n",
            i % 7,
            schedules[i % schedules.len()],
            ["Allow", "Forbid", "Replace", "Sometimes"][i % 4],
            i % 5,
            i % 4,
        ),
        2 => format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job-{i}\nspec:\n  completions: {}\n  parallelism: 2\n  completionMode: {}\n  template:\n    spec:\n      restartPolicy: {restart}\n      containers:\n      - name: main\n        image: perl:5.34\n        command: [perl, -e, \"print {i}\"]\n",
            1 + i % 10,
            ["NonIndexed", "Indexed"][i % 2],
        ),
        _ => format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{i}\ndata:\n  key: value\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job-{i}\nspec:\n  ttlSecondsAfterFinished: {}\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n        image: busybox:1.36\n",
            i as i64 % 3 - 1,
        ),
    }
}

fn generate(dir: &Path) {
    for i in 0..MANIFESTS {
        // Spread over subdirectories, as real repositories are.
        let sub = dir.join(format!("team-{:02}", i % 20));
        std::fs::create_dir_all(&sub).expect("create bench directory");
        std::fs::write(sub.join(format!("m-{i:05}.yaml")), manifest(i)).expect("write bench manifest");
    }
}

/// The baseline: find, read and parse every file, judge nothing.
fn parse_only(paths: &[PathBuf]) -> usize {
    let inputs = batchguard::validate::inputs::discover(paths);
    let mut documents = 0;
    for input in inputs.iter().flatten() {
        let bytes = batchguard::validate::inputs::read_input(input).expect("bench files are readable");
        let text = std::str::from_utf8(&bytes).expect("bench files are UTF-8");
        documents += batchguard::yaml::parse_stream(text).len();
    }
    documents
}

/// Mean time per iteration over everything criterion measured.
#[derive(Default)]
struct Tally {
    total: Duration,
    iterations: u64,
}

impl Tally {
    fn mean(&self) -> Duration {
        self.total / u32::try_from(self.iterations.max(1)).unwrap_or(u32::MAX)
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    generate(dir.path());
    let paths = vec![dir.path().to_path_buf()];
    let policy = Policy::default();

    let report = batchguard::validate::run(&paths, &policy);
    let summary = report.summary();
    println!(
        "corpus: {} files, {} documents ({} checked, {} invalid, {} errors)",
        summary.files, summary.documents, summary.checked, summary.invalid, summary.errors
    );

    let full = RefCell::new(Tally::default());
    let baseline = RefCell::new(Tally::default());
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut group = c.benchmark_group("validate_dir");
    group.bench_function("parse_only", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(parse_only(black_box(&paths)));
            }
            let elapsed = start.elapsed();
            let mut t = baseline.borrow_mut();
            t.total += elapsed;
            t.iterations += iters;
            elapsed
        })
    });
    group.bench_function("validate", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(batchguard::validate::run(black_box(&paths), &policy));
            }
            let elapsed = start.elapsed();
            let mut t = full.borrow_mut();
            t.total += elapsed;
            t.iterations += iters;
            elapsed
        })
    });
    group.finish();
    c.final_summary();

    let (full, baseline) = (full.into_inner(), baseline.into_inner());
    if full.iterations > 0 && baseline.iterations > 0 {
        println!(
            "validate_dir: validate {:.1} ms, parse only {:.1} ms per {MANIFESTS} manifests: ratio {:.2}",
            full.mean().as_secs_f64() * 1e3,
            baseline.mean().as_secs_f64() * 1e3,
            full.mean().as_secs_f64() / baseline.mean().as_secs_f64()
        );
    }
}
