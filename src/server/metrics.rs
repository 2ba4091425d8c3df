//! The webhook's Prometheus metrics, through `prometheus-client` with typed label sets, in
//! the OpenMetrics text format. Every label value comes from a closed set (the enums below,
//! a status code, a patched field of the mutation), so the series set stays bounded.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::admission::{Operation, Verdict, Webhook};
use crate::model::Kind;

/// Upper bounds of the latency histogram, in seconds: a review takes well under a
/// millisecond, so most buckets sit below it.
pub const DURATION_BUCKETS: [f64; 10] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0,
];

/// A reload's outcome, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReloadResult {
    Success,
    Failure,
}

/// Writes a label value as its fixed lowercase (or API) spelling.
macro_rules! label_value {
    ($ty:ty, $self:ident => $text:expr) => {
        impl EncodeLabelValue for $ty {
            fn encode(&$self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, $text)
            }
        }
    };
}

label_value!(Webhook, self => self.as_str());
label_value!(Verdict, self => self.as_str());
label_value!(Operation, self => self.as_str());
label_value!(ReloadResult, self => match self {
    ReloadResult::Success => "success",
    ReloadResult::Failure => "failure",
});

/// The object kind, or `unknown` for kinds batchguard does not judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct KindLabel(Option<Kind>);

label_value!(KindLabel, self => self.0.map_or("unknown", Kind::as_str));

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    webhook: Webhook,
    kind: KindLabel,
    operation: Operation,
    verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RejectedLabels {
    webhook: Webhook,
    code: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct WebhookLabels {
    webhook: Webhook,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FieldLabels {
    field: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    result: ReloadResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HashLabels {
    hash: String,
}

type HistogramFamily = Family<WebhookLabels, Histogram, fn() -> Histogram>;

const WEBHOOKS: [Webhook; 2] = [Webhook::Validate, Webhook::Mutate];
const KINDS: [Option<Kind>; 3] = [None, Some(Kind::Job), Some(Kind::CronJob)];
const OPERATIONS: [Operation; 4] = [
    Operation::Create,
    Operation::Update,
    Operation::Delete,
    Operation::Connect,
];
const VERDICTS: [Verdict; 6] = [
    Verdict::Allowed,
    Verdict::Denied,
    Verdict::Patched,
    Verdict::Exempt,
    Verdict::Warned,
    Verdict::Failed,
];

/// The position of `x` in `all`, for the handle caches (every enum value is listed).
fn position<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|a| a == x).unwrap_or(0)
}

/// Every metric of the webhook, registered once.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    rejected: Family<RejectedLabels, Counter>,
    durations: HistogramFamily,
    patches: Family<FieldLabels, Counter>,
    config_reloads: Family<ResultLabels, Counter>,
    cert_reloads: Family<ResultLabels, Counter>,
    cert_not_after: Gauge,
    config_info: Family<HashLabels, Gauge>,
    panics: Counter,
    in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    /// The request counter of each label set, fetched from `requests` on first use: a
    /// review then increments an atomic instead of hashing its labels under the family's
    /// lock. Indexed by webhook, kind, operation and verdict.
    request_handles: Vec<OnceLock<Counter>>,
    /// The latency histogram of each webhook, likewise.
    duration_handles: [Histogram; 2],
}

impl Default for Metrics {
    fn default() -> Self {
        fn histogram() -> Histogram {
            Histogram::new(DURATION_BUCKETS)
        }
        let durations: HistogramFamily = Family::new_with_constructor(histogram as fn() -> Histogram);
        let duration_handles =
            WEBHOOKS.map(|webhook| durations.get_or_create_owned(&WebhookLabels { webhook }));
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            rejected: Family::default(),
            durations,
            patches: Family::default(),
            config_reloads: Family::default(),
            cert_reloads: Family::default(),
            cert_not_after: Gauge::default(),
            config_info: Family::default(),
            panics: Counter::default(),
            in_flight: Gauge::default(),
            request_handles: (0..WEBHOOKS.len() * KINDS.len() * OPERATIONS.len() * VERDICTS.len())
                .map(|_| OnceLock::new())
                .collect(),
            duration_handles,
        };
        m.register()
    }
}

impl Metrics {
    fn register(mut self) -> Metrics {
        let r = &mut self.registry;
        r.register(
            "batchguard_admission_requests",
            "Admission reviews answered, by webhook, object kind, operation and verdict",
            self.requests.clone(),
        );
        r.register(
            "batchguard_admission_rejected",
            "Requests answered with an HTTP error instead of a review, by webhook and status code",
            self.rejected.clone(),
        );
        r.register(
            "batchguard_admission_duration_seconds",
            "Time from the request's arrival to its answer",
            self.durations.clone(),
        );
        r.register(
            "batchguard_patches",
            "Defaults applied by /mutate, by field",
            self.patches.clone(),
        );
        r.register(
            "batchguard_config_reloads",
            "Policy file reloads, by result (a failed reload keeps the last good policy)",
            self.config_reloads.clone(),
        );
        r.register(
            "batchguard_certificate_reloads",
            "Serving certificate reloads, by result (a failed reload keeps the last good pair)",
            self.cert_reloads.clone(),
        );
        r.register(
            "batchguard_certificate_expiry_seconds",
            "notAfter of the serving certificate, as unix seconds",
            self.cert_not_after.clone(),
        );
        r.register(
            "batchguard_config_info",
            "The loaded policy's hash (as /readyz shows it)",
            self.config_info.clone(),
        );
        r.register(
            "batchguard_panics",
            "Reviews that panicked and were answered 500",
            self.panics.clone(),
        );
        r.register(
            "batchguard_admission_in_flight",
            "Webhook requests being handled now",
            self.in_flight.clone(),
        );
        // Both results of both reloads exist from the start, so a dashboard sees zeros.
        for result in [ReloadResult::Success, ReloadResult::Failure] {
            drop(self.config_reloads.get_or_create(&ResultLabels { result }));
            drop(self.cert_reloads.get_or_create(&ResultLabels { result }));
        }
        self
    }

    /// Counts one answered review and its latency.
    pub fn record_review(
        &self,
        webhook: Webhook,
        kind: Option<Kind>,
        operation: Operation,
        verdict: Verdict,
        elapsed: Duration,
    ) {
        let index = ((position(&WEBHOOKS, &webhook) * KINDS.len() + position(&KINDS, &kind))
            * OPERATIONS.len()
            + position(&OPERATIONS, &operation))
            * VERDICTS.len()
            + position(&VERDICTS, &verdict);
        let counter = self.request_handles[index].get_or_init(|| {
            self.requests.get_or_create_owned(&RequestLabels {
                webhook,
                kind: KindLabel(kind),
                operation,
                verdict,
            })
        });
        counter.inc();
        self.observe(webhook, elapsed);
    }

    /// Counts a request answered with an HTTP error instead of a review.
    pub fn record_rejection(&self, webhook: Webhook, status: u16, elapsed: Duration) {
        self.rejected
            .get_or_create(&RejectedLabels {
                webhook,
                code: status,
            })
            .inc();
        self.observe(webhook, elapsed);
    }

    /// Counts each field a `/mutate` patch set.
    pub fn record_patches(&self, fields: &[&'static str]) {
        for &field in fields {
            self.patches.get_or_create(&FieldLabels { field }).inc();
        }
    }

    /// Counts a request from the moment its handler starts until the guard drops.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    pub fn record_panic(&self) {
        self.panics.inc();
    }

    pub fn record_config_reload(&self, result: ReloadResult) {
        self.config_reloads.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn record_cert_reload(&self, result: ReloadResult) {
        self.cert_reloads.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn set_cert_not_after(&self, unix_seconds: i64) {
        self.cert_not_after.set(unix_seconds);
    }

    fn observe(&self, webhook: Webhook, elapsed: Duration) {
        self.duration_handles[position(&WEBHOOKS, &webhook)].observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text exposition, with the policy hash currently served.
    pub fn render(&self, config_hash: &str) -> String {
        self.config_info.clear();
        self.config_info
            .get_or_create(&HashLabels {
                hash: config_hash.to_string(),
            })
            .set(1);
        let mut out = String::with_capacity(4096);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing into a String cannot fail");
        out
    }
}

/// The media type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Decrements the in-flight gauge when the request is answered (or dropped).
#[derive(Debug)]
pub struct InFlight<'a>(&'a Gauge<i64, std::sync::atomic::AtomicI64>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        let review = |elapsed| {
            m.record_review(
                Webhook::Mutate,
                Some(Kind::CronJob),
                Operation::Create,
                Verdict::Allowed,
                elapsed,
            )
        };
        review(Duration::from_micros(50));
        review(Duration::from_micros(700));
        m.record_review(
            Webhook::Mutate,
            Some(Kind::Job),
            Operation::Create,
            Verdict::Allowed,
            Duration::from_secs(3),
        );
        let text = m.render("abc");
        for line in [
            "batchguard_admission_duration_seconds_bucket{le=\"0.0001\",webhook=\"mutate\"} 1\n",
            "batchguard_admission_duration_seconds_bucket{le=\"0.001\",webhook=\"mutate\"} 2\n",
            "batchguard_admission_duration_seconds_bucket{le=\"1.0\",webhook=\"mutate\"} 2\n",
            "batchguard_admission_duration_seconds_bucket{le=\"+Inf\",webhook=\"mutate\"} 3\n",
            "batchguard_admission_duration_seconds_count{webhook=\"mutate\"} 3\n",
            "batchguard_admission_requests_total{webhook=\"mutate\",kind=\"CronJob\",operation=\"CREATE\",verdict=\"allowed\"} 2\n",
            "batchguard_admission_requests_total{webhook=\"mutate\",kind=\"Job\",operation=\"CREATE\",verdict=\"allowed\"} 1\n",
            "batchguard_config_info{hash=\"abc\"} 1\n",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn unknown_kinds_share_one_label_and_reloads_start_at_zero() {
        let m = Metrics::default();
        m.record_review(
            Webhook::Validate,
            None,
            Operation::Delete,
            Verdict::Allowed,
            Duration::ZERO,
        );
        let text = m.render("h");
        assert!(text.contains("kind=\"unknown\",operation=\"DELETE\""), "{text}");
        assert!(
            text.contains("batchguard_config_reloads_total{result=\"failure\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("batchguard_certificate_reloads_total{result=\"success\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn escapes_label_values_and_shows_only_the_current_hash() {
        let m = Metrics::default();
        m.record_patches(&["a\"b"]);
        let _ = m.render("old");
        let text = m.render("new");
        assert!(
            text.contains("batchguard_patches_total{field=\"a\\\"b\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("hash=\"old\""), "{text}");
    }

    #[test]
    fn in_flight_counts_until_the_guard_drops() {
        let m = Metrics::default();
        let guard = m.in_flight();
        assert!(m.render("h").contains("batchguard_admission_in_flight 1\n"));
        drop(guard);
        assert!(m.render("h").contains("batchguard_admission_in_flight 0\n"));
    }

    /// Each label set has its own cached handle: recording every combination once gives
    /// as many series, each counted once.
    #[test]
    fn every_label_set_counts_on_its_own_series() {
        let m = Metrics::default();
        for webhook in WEBHOOKS {
            for kind in KINDS {
                for operation in OPERATIONS {
                    for verdict in VERDICTS {
                        m.record_review(webhook, kind, operation, verdict, Duration::ZERO);
                    }
                }
            }
        }
        let text = m.render("h");
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("batchguard_admission_requests_total{"))
            .collect();
        assert_eq!(
            series.len(),
            WEBHOOKS.len() * KINDS.len() * OPERATIONS.len() * VERDICTS.len()
        );
        assert!(series.iter().all(|l| l.ends_with(" 1")), "{series:?}");
    }
}
