//! The routes: `POST /validate` and `POST /mutate` on the webhook port, `/metrics`,
//! `/healthz` and `/readyz` on the plain-HTTP port, and the state they share. Domain errors
//! become HTTP answers here, in one place.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest as _, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tracing::{debug, error, warn};

use super::logging::JSON_LOGS;
use super::metrics::Metrics;
use super::{BODY_LIMIT, BODY_TIMEOUT};
use crate::admission::{self, Env, Outcome, ReviewError, Verdict, Webhook};
use crate::policy::Policy;

/// The admission core's entry point, held by [`State`] so that a test can put a
/// misbehaving core behind the real routes.
type ReviewFn = fn(Webhook, &[u8], &Policy, &Env) -> Result<Outcome, ReviewError>;

/// Shared by every request: the current policy, the metrics and readiness.
#[derive(Debug)]
pub struct State {
    policy: RwLock<Arc<LoadedPolicy>>,
    pub(super) metrics: Metrics,
    own_namespace: Option<String>,
    pub(super) ready: AtomicBool,
    /// Why the serving certificate is not ready yet (self-managed certificates); `None`
    /// once it is loaded and its CA injected, and always with certificate files.
    certificates: RwLock<Option<String>>,
    review: ReviewFn,
}

#[derive(Debug)]
pub(super) struct LoadedPolicy {
    pub(super) policy: Policy,
    pub(super) hash: String,
}

impl State {
    pub fn new(policy: Policy, own_namespace: Option<String>) -> Arc<State> {
        State::with_review(policy, own_namespace, admission::review)
    }

    pub(super) fn with_review(policy: Policy, own_namespace: Option<String>, review: ReviewFn) -> Arc<State> {
        Arc::new(State {
            policy: RwLock::new(Arc::new(LoadedPolicy::new(policy))),
            metrics: Metrics::default(),
            own_namespace,
            ready: AtomicBool::new(true),
            certificates: RwLock::new(None),
            review,
        })
    }

    pub(super) fn current(&self) -> Arc<LoadedPolicy> {
        self.policy.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn set_policy(&self, policy: Policy) {
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(LoadedPolicy::new(policy));
    }

    /// The hash `/readyz` reports.
    pub fn policy_hash(&self) -> String {
        self.current().hash.clone()
    }

    /// Makes `/readyz` fail with `reason` until called with `None`.
    pub(super) fn set_certificates_waiting(&self, reason: Option<String>) {
        *self.certificates.write().unwrap_or_else(|e| e.into_inner()) = reason;
    }

    fn certificates_waiting(&self) -> Option<String> {
        self.certificates
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

impl LoadedPolicy {
    fn new(policy: Policy) -> LoadedPolicy {
        LoadedPolicy {
            hash: policy.hash(),
            policy,
        }
    }
}

/// The webhook routes: `POST /validate` and `POST /mutate` (any query string).
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The plain-HTTP routes: `/metrics`, `/healthz`, `/readyz`.
pub fn metrics_router(state: Arc<State>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(state)
}

async fn validate(axum::extract::State(state): axum::extract::State<Arc<State>>, req: Request) -> Response {
    admit(&state, Webhook::Validate, req).await
}

async fn mutate(axum::extract::State(state): axum::extract::State<Arc<State>>, req: Request) -> Response {
    admit(&state, Webhook::Mutate, req).await
}

async fn not_found() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "not found: the webhook serves POST /validate and POST /mutate\n".into(),
    )
}

/// The one span and event per review, both at `$level`. The span is made once the review is
/// done, with every field at once: a span the level filter turns off costs nothing, while
/// an enabled one formats its fields once (filling them in one by one formatted them again
/// on each `record`). The JSON formatter names the span itself `name`, which would clash
/// with the object's name, so in JSON the event carries the review's fields (and the span
/// is left out); in text they show in the span prefix.
macro_rules! review_log {
    ($level:expr, $json:expr, $label:expr, $outcome:expr, $kind:expr, $verdict:expr, $micros:expr) => {{
        let span = tracing::span!(
            $level,
            "review",
            webhook = $label,
            uid = $outcome.uid.as_str(),
            kind = $kind,
            namespace = $outcome.namespace.as_deref(),
            name = $outcome.name.as_deref(),
            operation = $outcome.operation.as_str(),
            verdict = $verdict
        );
        span.in_scope(|| {
            if $json {
                tracing::event!(
                    $level,
                    webhook = $label,
                    uid = $outcome.uid.as_str(),
                    kind = $kind,
                    namespace = $outcome.namespace.as_deref(),
                    name = $outcome.name.as_deref(),
                    operation = $outcome.operation.as_str(),
                    verdict = $verdict,
                    patched = ?$outcome.patched_fields,
                    micros = $micros,
                    "admission review"
                )
            } else {
                tracing::event!($level, patched = ?$outcome.patched_fields, micros = $micros, "admission review")
            }
        })
    }};
}

/// One review: check the media type, read the body, run the core with panics caught, and
/// answer 200 with the review, or a 4xx/5xx with a one-line reason.
async fn admit(state: &State, webhook: Webhook, req: Request) -> Response {
    let start = Instant::now();
    let _in_flight = state.metrics.in_flight();
    let reject = |status: StatusCode, message: String| {
        state
            .metrics
            .record_rejection(webhook, status.as_u16(), start.elapsed());
        debug!(webhook = webhook.as_str(), status = status.as_u16(), %message, "request rejected");
        text(status, message + "\n")
    };
    if let Err(message) = check_content_type(req.headers()) {
        return reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, message);
    }
    let body = match tokio::time::timeout(BODY_TIMEOUT, Bytes::from_request(req, &())).await {
        Err(_) => {
            return reject(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            )
        }
        Ok(Err(rejection)) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "the request body is larger than the {} MiB limit",
                    BODY_LIMIT >> 20
                )
            } else {
                format!("cannot read the request body: {}", rejection.body_text())
            };
            return reject(status, message);
        }
        Ok(Ok(body)) => body,
    };
    let loaded = state.current();
    let env = Env {
        now: chrono::Utc::now(),
        own_namespace: state.own_namespace.clone(),
    };
    // The core is pure and should never panic; if it does, this request gets a 500 and the
    // server keeps serving everyone else.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        (state.review)(webhook, &body, &loaded.policy, &env)
    }));
    match result {
        Ok(Ok(outcome)) => {
            state.metrics.record_review(
                webhook,
                outcome.kind,
                outcome.operation,
                outcome.verdict,
                start.elapsed(),
            );
            let label = webhook.as_str();
            let kind = outcome.kind.map_or("unknown", |k| k.as_str());
            let verdict = outcome.verdict.as_str();
            state.metrics.record_patches(&outcome.patched_fields);
            let micros = start.elapsed().as_micros() as u64;
            // Denials and warnings are logged at info: they are what a platform team looks
            // for. Plain allows, exemptions and patches only at debug: the API server's audit
            // log already records every webhook patch, `batchguard_patches_total` counts them,
            // and an info line per Job would cost a formatted write on every request (see
            // "Why the code is shaped so" in docs/server.md). A core that reports its own
            // failure ("failed") is an error.
            let json = JSON_LOGS.load(Ordering::Relaxed);
            match outcome.verdict {
                Verdict::Failed => {
                    review_log!(tracing::Level::ERROR, json, label, outcome, kind, verdict, micros)
                }
                Verdict::Denied | Verdict::Warned => {
                    review_log!(tracing::Level::INFO, json, label, outcome, kind, verdict, micros)
                }
                _ => review_log!(tracing::Level::DEBUG, json, label, outcome, kind, verdict, micros),
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                outcome.body,
            )
                .into_response()
        }
        Ok(Err(e)) => {
            warn!(webhook = webhook.as_str(), error = %e, "unreadable AdmissionReview");
            state
                .metrics
                .record_rejection(webhook, StatusCode::BAD_REQUEST.as_u16(), start.elapsed());
            text(
                StatusCode::BAD_REQUEST,
                format!("cannot review this request: {e}\n"),
            )
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string payload".into());
            error!(webhook = webhook.as_str(), panic = %what, body_len = body.len(), "the admission core panicked");
            state.metrics.record_panic();
            state.metrics.record_rejection(
                webhook,
                StatusCode::INTERNAL_SERVER_ERROR.as_u16(),
                start.elapsed(),
            );
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error while reviewing this request (logged)\n".into(),
            )
        }
    }
}

/// `application/json`, optionally with parameters such as `charset=utf-8`.
fn check_content_type(headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("missing Content-Type: send application/json".into());
    };
    let value = value.to_str().unwrap_or("");
    let media = value.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(format!(
            "unsupported Content-Type {value:?}: send application/json"
        ))
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn metrics_page(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    let body = state.metrics.render(&state.policy_hash());
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::metrics::CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}

async fn readyz(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    let serving = state.ready.load(Ordering::Relaxed);
    let waiting = state.certificates_waiting();
    let mut body = serde_json::json!({
        "status": match (serving, &waiting) {
            (false, _) => "shutting down",
            (true, Some(_)) => "waiting for certificates",
            (true, None) => "ready",
        },
        "configHash": state.policy_hash(),
    });
    if let Some(reason) = waiting {
        body["certificates"] = serde_json::Value::String(reason);
    }
    let status = if body["status"] == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        h
    }

    fn panicking_core(_: Webhook, _: &[u8], _: &Policy, _: &Env) -> Result<Outcome, ReviewError> {
        panic!("simulated bug in the admission core")
    }

    async fn post(app: &Router, body: &'static [u8]) -> (StatusCode, String) {
        use tower::ServiceExt as _;
        let req = axum::http::Request::post("/validate?timeout=10s")
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body))
            .expect("request");
        let resp = app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn a_panicking_core_is_answered_500_and_the_router_keeps_serving() {
        let state = State::with_review(Policy::default(), None, panicking_core);
        let app = router(state.clone());
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"}}"#;
        for _ in 0..2 {
            let (status, text) = post(&app, body).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(text.contains("internal error"), "{text}");
        }
        let page = state.metrics().render(&state.policy_hash());
        assert!(page.contains("batchguard_panics_total 2\n"), "{page}");
        assert!(page.contains("batchguard_admission_in_flight 0\n"), "{page}");
        assert!(
            page.contains("batchguard_admission_rejected_total{webhook=\"validate\",code=\"500\"} 2\n"),
            "{page}"
        );
    }

    #[tokio::test]
    async fn the_real_core_answers_through_the_router() {
        let body = include_bytes!("../../tests/data/admission/job-delete.validate-delete.json");
        let request: serde_json::Value = serde_json::from_slice(body).expect("fixture is JSON");
        let state = State::new(Policy::default(), None);
        let (status, text) = post(&router(state), body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON answer");
        assert_eq!(answer["response"]["uid"], request["request"]["uid"]);
    }

    /// Text logs at `info`: a denial logs one event inside the `review` span, whose prefix
    /// carries the review's fields; a plain patch logs nothing (its span and event are at
    /// `debug`), and does at `debug`.
    #[test]
    fn review_span_and_event_follow_the_verdict_level() {
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let fixture = |name: &str| {
            std::fs::read(format!(
                "{}/tests/data/admission/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("fixture")
        };
        let create = fixture("cronjob-create.validate.json");
        let bad = String::from_utf8(create)
            .expect("utf-8")
            .replace(r#""*/5 * * * *""#, r#""not a schedule""#);
        let patch = fixture("cronjob-create.mutate.json");
        let logs = |level: &str| {
            let buf = Buf::default();
            let writer = buf.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(level))
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            tracing::subscriber::with_default(subscriber, || {
                let app = router(State::new(Policy::default(), None));
                runtime.block_on(async {
                    for (path, body) in [("/validate", bad.as_bytes().to_vec()), ("/mutate", patch.clone())] {
                        use tower::ServiceExt as _;
                        let req = axum::http::Request::post(path)
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(axum::body::Body::from(body))
                            .expect("request");
                        let resp = app.clone().oneshot(req).await.expect("infallible");
                        assert_eq!(resp.status(), StatusCode::OK);
                    }
                });
            });
            let text =
                String::from_utf8(buf.0.lock().unwrap_or_else(|e| e.into_inner()).clone()).expect("utf-8");
            text.lines()
                .filter(|l| l.contains("admission review"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let has = |line: &str, parts: &[&str]| {
            for part in parts {
                assert!(line.contains(part), "{part:?} not in {line}");
            }
        };
        let info = logs("info");
        assert_eq!(info.len(), 1, "{info:?}");
        has(
            &info[0],
            &[
                " INFO review{webhook=\"validate\" uid=",
                r#"kind="CronJob" namespace="default" name="cj-create" operation="CREATE" verdict="denied"}"#,
            ],
        );
        let debug = logs("debug");
        assert_eq!(debug.len(), 2, "{debug:?}");
        has(
            &debug[1],
            &[
                " DEBUG review{webhook=\"mutate\"",
                r#"verdict="patched"}"#,
                "spec.concurrencyPolicy",
            ],
        );
    }

    #[test]
    fn accepts_json_with_a_charset() {
        assert!(check_content_type(&headers(Some("application/json"))).is_ok());
        assert!(check_content_type(&headers(Some("application/json; charset=utf-8"))).is_ok());
        assert!(check_content_type(&headers(Some("Application/JSON"))).is_ok());
    }

    #[test]
    fn rejects_other_media_types() {
        assert!(check_content_type(&headers(None)).is_err());
        assert!(check_content_type(&headers(Some("text/plain"))).is_err());
        assert!(check_content_type(&headers(Some("application/jsonx"))).is_err());
        assert!(check_content_type(&headers(Some("application/yaml"))).is_err());
    }
}
