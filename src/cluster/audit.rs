//! `batchguard audit`: every Job and CronJob of a live cluster, read with paginated LISTs
//! (`limit` + `continue`, as kubectl pages), judged as the stored objects they are
//! ([`rules::check_stored`]), with what `/mutate` would change on each CronJob and the
//! daylight-saving changes its schedule meets in the next year. The listing is the only
//! I/O; [`judge`] is pure, so the report is the same one `validate` prints.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::{Client, ClusterError, Target};
use crate::model::{Finding, Kind, Origin, RuleId, Severity};
use crate::mutation::offline;
use crate::policy::{Mode, Policy};
use crate::report::{DocResult, Located, Report, Source, Status, CLUSTER_FILE};
use crate::rules;

/// Objects asked for per LIST page (kubectl's own chunk size).
pub const PAGE_SIZE: usize = 500;

/// How far ahead daylight-saving changes are looked for.
const DST_WINDOW_DAYS: i64 = 366;

/// Lists every object of `kind` in `namespace` (all namespaces for `None`), page by page.
/// Items of a LIST carry no apiVersion or kind; they are given theirs.
pub async fn list(
    client: &Client,
    kind: Kind,
    namespace: Option<&str>,
    page_size: usize,
) -> Result<Vec<Value>, ClusterError> {
    let resource = plural(kind);
    let base = match namespace {
        Some(ns) => format!("/apis/batch/v1/namespaces/{}/{resource}", encode(ns)),
        None => format!("/apis/batch/v1/{resource}"),
    };
    let target = Target {
        verb: "list",
        kind: resource,
        resource,
        group: "batch",
        namespace,
        name: "",
    };
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut uri = format!("{base}?limit={page_size}");
        if let Some(t) = &token {
            uri.push_str("&continue=");
            uri.push_str(&encode(t));
        }
        let request = axum::http::Request::get(&uri)
            .body(Vec::new())
            .map_err(|e| ClusterError::Request {
                verb: "list",
                kind: resource,
                object: uri.clone(),
                cause: e.to_string(),
            })?;
        let page: Value = client
            .kube()
            .request(request)
            .await
            .map_err(|e| client.error(e, &target))?;
        if let Some(page_items) = page.get("items").and_then(Value::as_array) {
            for item in page_items {
                let mut item = item.clone();
                if let Some(map) = item.as_object_mut() {
                    map.insert("apiVersion".into(), "batch/v1".into());
                    map.insert("kind".into(), kind.as_str().into());
                }
                items.push(item);
            }
        }
        token = page
            .get("metadata")
            .and_then(|m| m.get("continue"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(items);
        }
    }
}

fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Job => "jobs",
        Kind::CronJob => "cronjobs",
    }
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Lists Jobs and CronJobs and judges each; a list the API server refuses (or that cannot
/// reach it) is an unreadable result, and the other list is still read.
pub async fn audit(client: &Client, namespace: Option<&str>, policy: &Policy, now: DateTime<Utc>) -> Report {
    let mut report = Report {
        source: Source::Cluster,
        ..Report::default()
    };
    for kind in [Kind::Job, Kind::CronJob] {
        match list(client, kind, namespace, PAGE_SIZE).await {
            Ok(objects) => {
                report.files += 1;
                report
                    .results
                    .extend(objects.iter().map(|o| judge(kind, o, policy, now)));
            }
            Err(e) => {
                let mut r = DocResult::unreadable(CLUSTER_FILE, e.to_string());
                r.kind = Some(kind.as_str().to_string());
                r.namespace = namespace.map(str::to_string);
                report.results.push(r);
            }
        }
    }
    report
}

/// One stored object's verdict: the API server's (as a no-op UPDATE), policy and advice;
/// for a CronJob also a `would-mutate` warning per default `/mutate` would set on a CronJob
/// like it created today, and a `dst-schedule` warning per daylight-saving change in the
/// next year that skips or repeats a run. Warn mode softens policy errors, as in the webhook.
pub fn judge(kind: Kind, object: &Value, policy: &Policy, now: DateTime<Utc>) -> DocResult {
    let mut findings = rules::check_stored(kind, object, policy, now);
    if policy.mode == Mode::Warn {
        for f in &mut findings {
            if f.origin == Origin::Policy {
                f.severity = Severity::Warning;
            }
        }
    }
    if kind == Kind::CronJob {
        let preview = offline::preview(kind, object, policy, now);
        findings.extend(preview.applied.iter().map(|a| Finding {
            rule: RuleId::WouldMutate,
            severity: Severity::Warning,
            origin: Origin::Advice,
            field: a.field.to_string(),
            reason: crate::model::Reason::FieldValueRequired,
            message: format!("would set {}", a.detail),
            location: Vec::new(),
            omitted: 0,
        }));
        let spec = object.get("spec");
        let schedule = spec.and_then(|s| s.get("schedule")).and_then(Value::as_str);
        let zone = spec.and_then(|s| s.get("timeZone")).and_then(Value::as_str);
        if let Some(schedule) = schedule {
            let until = now + Duration::days(DST_WINDOW_DAYS);
            for warning in crate::schedule::dst_between(schedule, zone, now, until) {
                findings.push(Finding {
                    rule: RuleId::DstSchedule,
                    severity: Severity::Warning,
                    origin: Origin::Advice,
                    field: "spec.schedule".into(),
                    reason: crate::model::Reason::FieldValueInvalid,
                    message: warning,
                    location: Vec::new(),
                    omitted: 0,
                });
            }
        }
    }
    let meta = |k: &str| {
        object
            .get("metadata")
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let located: Vec<Located> = findings
        .into_iter()
        .map(|f| Located {
            rule: f.rule,
            severity: f.severity,
            field: f.field,
            message: f.message,
            line: 0,
            column: 0,
        })
        .collect();
    let status = if located.iter().any(|f| f.severity == Severity::Error) {
        Status::Invalid
    } else {
        Status::Valid
    };
    DocResult {
        file: CLUSTER_FILE.to_string(),
        document: 0,
        item: None,
        line: 0,
        kind: Some(kind.as_str().to_string()),
        name: meta("name"),
        namespace: meta("namespace"),
        status,
        findings: located,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-01-15T00:00:00Z".parse().expect("rfc3339")
    }

    fn stored_cronjob(spec: Value) -> Value {
        let mut spec_full = json!({
            "schedule": "30 2 * * *",
            "concurrencyPolicy": "Allow", "suspend": false,
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {}, "spec": {"template": {"metadata": {}, "spec": {
                "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst", "securityContext": {}, "schedulerName": "default-scheduler",
                "containers": [{"name": "main", "image": "busybox", "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                    "resources": {}}]}}}}
        });
        for (k, v) in spec.as_object().expect("object") {
            spec_full[k] = v.clone();
        }
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": "prod", "uid": "8a4b1e36-5d7c-4f0e-9a53-2f6a1d9c0b71",
                "resourceVersion": "4711", "creationTimestamp": "2025-12-01T10:00:00Z", "generation": 1},
            "spec": spec_full, "status": {}})
    }

    #[test]
    fn a_stored_cronjob_gets_mutation_and_dst_warnings_but_no_error() {
        let r = judge(
            Kind::CronJob,
            &stored_cronjob(json!({"timeZone": "Europe/Berlin"})),
            &Policy::default(),
            now(),
        );
        assert_eq!(r.status, Status::Valid, "{:?}", r.findings);
        assert_eq!(
            (r.namespace.as_deref(), r.name.as_deref()),
            (Some("prod"), Some("nightly"))
        );
        let rules: Vec<RuleId> = r.findings.iter().map(|f| f.rule).collect();
        assert!(rules.contains(&RuleId::WouldMutate), "{rules:?}");
        let dst: Vec<&Located> = r
            .findings
            .iter()
            .filter(|f| f.rule == RuleId::DstSchedule)
            .collect();
        assert_eq!(dst.len(), 2, "{:?}", r.findings);
        assert!(
            dst[0].message.contains("2026-03-29") && dst[0].message.ends_with("is skipped"),
            "{}",
            dst[0].message
        );
        assert!(
            dst[1].message.contains("2026-10-25") && dst[1].message.ends_with("happens twice"),
            "{}",
            dst[1].message
        );
        assert!(r
            .findings
            .iter()
            .all(|f| f.severity == Severity::Warning && f.line == 0));
    }

    #[test]
    fn a_stored_cronjob_with_a_never_firing_schedule_is_told() {
        let r = judge(
            Kind::CronJob,
            &stored_cronjob(json!({"schedule": "0 0 30 2 *"})),
            &Policy::default(),
            now(),
        );
        assert!(
            r.findings.iter().any(|f| f.rule == RuleId::NeverFiringSchedule),
            "{:?}",
            r.findings
        );
    }

    #[test]
    fn list_paths_and_tokens_are_encoded() {
        assert_eq!(encode("eyJ2Ijo+/="), "eyJ2Ijo%2B%2F%3D");
        assert_eq!(encode("team-a"), "team-a");
    }
}
