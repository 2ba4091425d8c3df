//! How long the engine takes to judge one typical manifest: `check_manifest` (defaulting,
//! selector generation, every API rule, policy and advice) on a Job and on a CronJob,
//! with the YAML parsed once outside the measured loop.

use batchguard::policy::Policy;
use batchguard::rules::{check_manifest, Context, Kind, Operation};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::Value;

const JOB: &str = r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-report
  labels:
    app: reports
spec:
  backoffLimit: 3
  ttlSecondsAfterFinished: 3600
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes:
        containerName: main
        operator: In
        values: [42]
    - action: Ignore
      onPodConditions:
      - type: DisruptionTarget
  template:
    metadata:
      labels:
        app: reports
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.example.com/reports:1.4.2
        command: ["/bin/report", "--since", "24h"]
"#;

const CRONJOB: &str = r#"
apiVersion: batch/v1
kind: CronJob
metadata:
  name: db-backup
  labels:
    app: backup
spec:
  schedule: "30 2 * * 1-5"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 1
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 3600
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: registry.example.com/backup:2.0
            args: ["--target", "s3://backups"]
"#;

fn parse(yaml: &str) -> Value {
    batchguard::yaml::parse_stream(yaml)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .and_then(|d| d.value)
        .expect("benchmark manifest parses")
}

fn engine(c: &mut Criterion) {
    let policy = Policy::default();
    let ctx = Context {
        operation: Operation::Create,
        old: None,
        now: chrono::Utc::now(),
    };
    let job = parse(JOB);
    let cronjob = parse(CRONJOB);
    c.bench_function("check_manifest/job", |b| {
        b.iter(|| check_manifest(Kind::Job, black_box(&job), &policy, &ctx))
    });
    c.bench_function("check_manifest/cronjob", |b| {
        b.iter(|| check_manifest(Kind::CronJob, black_box(&cronjob), &policy, &ctx))
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
