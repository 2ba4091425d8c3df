//! Prometheus counters for the webhook, kept in atomics and small maps so that recording a
//! review costs a few nanoseconds, and rendered by hand in the text exposition format (no
//! metrics crate needed for a dozen series).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds: a review takes well under a
/// millisecond, so most buckets sit below it.
pub const DURATION_BUCKETS: [f64; 10] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0,
];

/// The series label sets are bounded: webhook and verdict are static strings, kind is one of
/// two (or `unknown`), operation is one of the four the API server sends (or `other`).
type RequestKey = (&'static str, &'static str, &'static str, &'static str);

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, u64>>,
    rejected: Mutex<BTreeMap<(&'static str, u16), u64>>,
    patches: Mutex<BTreeMap<String, u64>>,
    durations: [Histogram; 2],
    config_reload_success: AtomicU64,
    config_reload_failure: AtomicU64,
    cert_reload_success: AtomicU64,
    cert_reload_failure: AtomicU64,
    /// notAfter of the serving certificate, unix seconds; 0 until one is loaded.
    cert_not_after: AtomicI64,
    panics: AtomicU64,
    in_flight: AtomicI64,
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; DURATION_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// A reload's outcome, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    Success,
    Failure,
}

impl Metrics {
    /// Counts one answered review and its latency.
    pub fn record_review(
        &self,
        webhook: &'static str,
        kind: &'static str,
        operation: &str,
        verdict: &'static str,
        elapsed: Duration,
    ) {
        let key = (webhook, kind, operation_label(operation), verdict);
        *lock(&self.requests).entry(key).or_insert(0) += 1;
        self.observe(webhook, elapsed);
    }

    /// Counts a request answered with an HTTP error instead of a review.
    pub fn record_rejection(&self, webhook: &'static str, status: u16, elapsed: Duration) {
        *lock(&self.rejected).entry((webhook, status)).or_insert(0) += 1;
        self.observe(webhook, elapsed);
    }

    pub fn record_patches(&self, fields: &[String]) {
        if fields.is_empty() {
            return;
        }
        let mut map = lock(&self.patches);
        for f in fields {
            match map.get_mut(f.as_str()) {
                Some(n) => *n += 1,
                None => {
                    map.insert(f.clone(), 1);
                }
            }
        }
    }

    /// Counts a request from the moment its handler starts until the guard drops.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    pub fn record_panic(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_config_reload(&self, result: ReloadResult) {
        match result {
            ReloadResult::Success => &self.config_reload_success,
            ReloadResult::Failure => &self.config_reload_failure,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_cert_reload(&self, result: ReloadResult) {
        match result {
            ReloadResult::Success => &self.cert_reload_success,
            ReloadResult::Failure => &self.cert_reload_failure,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    pub fn set_cert_not_after(&self, unix_seconds: i64) {
        self.cert_not_after.store(unix_seconds, Ordering::Relaxed);
    }

    fn observe(&self, webhook: &'static str, elapsed: Duration) {
        let h = &self.durations[usize::from(webhook != "validate")];
        let secs = elapsed.as_secs_f64();
        if let Some(i) = DURATION_BUCKETS.iter().position(|&le| secs <= le) {
            h.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        h.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        h.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, config_hash: &str) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP batchguard_admission_requests_total Admission reviews answered, by webhook, object kind, operation and verdict.\n\
             # TYPE batchguard_admission_requests_total counter\n",
        );
        for ((webhook, kind, operation, verdict), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "batchguard_admission_requests_total{{webhook=\"{webhook}\",kind=\"{kind}\",operation=\"{operation}\",verdict=\"{verdict}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP batchguard_admission_rejected_total Requests answered with an HTTP error instead of a review, by webhook and status code.\n\
             # TYPE batchguard_admission_rejected_total counter\n",
        );
        for ((webhook, code), n) in lock(&self.rejected).iter() {
            let _ = writeln!(
                out,
                "batchguard_admission_rejected_total{{webhook=\"{webhook}\",code=\"{code}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP batchguard_admission_duration_seconds Time from the request's arrival to its answer.\n\
             # TYPE batchguard_admission_duration_seconds histogram\n",
        );
        for (webhook, h) in ["validate", "mutate"].iter().zip(&self.durations) {
            let mut cumulative = 0u64;
            for (le, bucket) in DURATION_BUCKETS.iter().zip(&h.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "batchguard_admission_duration_seconds_bucket{{webhook=\"{webhook}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "batchguard_admission_duration_seconds_bucket{{webhook=\"{webhook}\",le=\"+Inf\"}} {count}"
            );
            let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "batchguard_admission_duration_seconds_sum{{webhook=\"{webhook}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "batchguard_admission_duration_seconds_count{{webhook=\"{webhook}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP batchguard_patches_total Defaults applied by /mutate, by field.\n\
             # TYPE batchguard_patches_total counter\n",
        );
        for (field, n) in lock(&self.patches).iter() {
            let _ = writeln!(
                out,
                "batchguard_patches_total{{field=\"{}\"}} {n}",
                escape_label(field)
            );
        }
        let pairs = [
            (
                "batchguard_config_reloads_total",
                "Policy file reloads, by result (a failed reload keeps the last good policy).",
                &self.config_reload_success,
                &self.config_reload_failure,
            ),
            (
                "batchguard_certificate_reloads_total",
                "Serving certificate reloads, by result (a failed reload keeps the last good pair).",
                &self.cert_reload_success,
                &self.cert_reload_failure,
            ),
        ];
        for (name, help, ok, failed) in pairs {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name}{{result=\"success\"}} {}", ok.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "{name}{{result=\"failure\"}} {}",
                failed.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP batchguard_certificate_expiry_seconds notAfter of the serving certificate, as unix seconds.\n\
             # TYPE batchguard_certificate_expiry_seconds gauge\n\
             batchguard_certificate_expiry_seconds {}",
            self.cert_not_after.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP batchguard_config_info The loaded policy's hash (as /readyz shows it).\n\
             # TYPE batchguard_config_info gauge\n\
             batchguard_config_info{{hash=\"{}\"}} 1",
            escape_label(config_hash)
        );
        let _ = writeln!(
            out,
            "# HELP batchguard_panics_total Reviews that panicked and were answered 500.\n\
             # TYPE batchguard_panics_total counter\n\
             batchguard_panics_total {}",
            self.panics.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP batchguard_admission_in_flight Webhook requests being handled now.\n\
             # TYPE batchguard_admission_in_flight gauge\n\
             batchguard_admission_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out
    }
}

/// Decrements the in-flight gauge when the request is answered (or dropped).
#[derive(Debug)]
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Operation names come from the request body, so anything unexpected is folded into one
/// label value instead of growing the series set.
fn operation_label(operation: &str) -> &'static str {
    match operation {
        "CREATE" => "CREATE",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "CONNECT" => "CONNECT",
        _ => "other",
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A poisoned map only means another thread panicked mid-increment; the counts stay usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.record_review(
            "mutate",
            "CronJob",
            "CREATE",
            "allowed",
            Duration::from_micros(50),
        );
        m.record_review(
            "mutate",
            "CronJob",
            "CREATE",
            "allowed",
            Duration::from_micros(700),
        );
        m.record_review("mutate", "Job", "CREATE", "allowed", Duration::from_secs(3));
        let text = m.render("abc");
        assert!(text
            .contains("batchguard_admission_duration_seconds_bucket{webhook=\"mutate\",le=\"0.0001\"} 1\n"));
        assert!(text
            .contains("batchguard_admission_duration_seconds_bucket{webhook=\"mutate\",le=\"0.001\"} 2\n"));
        assert!(
            text.contains("batchguard_admission_duration_seconds_bucket{webhook=\"mutate\",le=\"1\"} 2\n")
        );
        assert!(
            text.contains("batchguard_admission_duration_seconds_bucket{webhook=\"mutate\",le=\"+Inf\"} 3\n")
        );
        assert!(text.contains("batchguard_admission_duration_seconds_count{webhook=\"mutate\"} 3\n"));
        assert!(text.contains(
            "batchguard_admission_requests_total{webhook=\"mutate\",kind=\"CronJob\",operation=\"CREATE\",verdict=\"allowed\"} 2\n"
        ));
    }

    #[test]
    fn folds_unknown_operations_into_one_label() {
        let m = Metrics::default();
        m.record_review("validate", "unknown", "EXPLODE\"", "allowed", Duration::ZERO);
        let text = m.render("abc");
        assert!(text.contains("operation=\"other\""));
        assert!(!text.contains("EXPLODE"));
    }

    #[test]
    fn escapes_label_values() {
        let m = Metrics::default();
        m.record_patches(&["a\"b".to_string()]);
        assert!(m
            .render("h")
            .contains("batchguard_patches_total{field=\"a\\\"b\"} 1\n"));
    }
}
