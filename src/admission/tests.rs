//! The admission flow on hand-made and captured requests: what each webhook reads, panics
//! answered, the stored object judged only when needed, deep nesting.

use serde::Deserialize;
use serde_json::{json, Value};

use super::*;

fn env() -> Env {
    Env {
        now: DateTime::parse_from_rfc3339("2026-11-25T02:00:00Z")
            .expect("valid time")
            .with_timezone(&Utc),
        own_namespace: Some("batchguard".into()),
    }
}

fn body(operation: &str, object: Value, old: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u-1",
            "kind": {"group": "batch", "version": "v1", "kind": "CronJob"},
            "resource": {"group": "batch", "version": "v1", "resource": "cronjobs"},
            "namespace": "default",
            "operation": operation,
            "userInfo": {"username": "me"},
            "object": object,
            "oldObject": old,
        }
    }))
    .expect("serializes")
}

fn cronjob(name: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"schedule": "0 0 * * 7"}})
}

#[test]
fn checker_panic_is_answered_not_propagated() {
    let panicking = |_: Kind, _: &Value, _: &Policy, _: &Context| -> Vec<Finding> { panic!("boom") };
    let out = review_with(
        Webhook::Validate,
        &body("CREATE", cronjob("c"), Value::Null),
        &Policy::default(),
        &env(),
        &panicking,
    )
    .expect("readable");
    assert_eq!(out.verdict, Verdict::Failed);
    let v: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(v["response"]["allowed"], json!(false));
    assert_eq!(v["response"]["uid"], json!("u-1"));
    assert_eq!(v["response"]["status"]["code"], json!(500));
}

#[test]
fn old_object_is_judged_only_when_something_would_deny() {
    let calls = std::cell::Cell::new(0);
    let counting = |_: Kind, _: &Value, _: &Policy, _: &Context| -> Vec<Finding> {
        calls.set(calls.get() + 1);
        Vec::new()
    };
    review_with(
        Webhook::Validate,
        &body("UPDATE", cronjob("c"), cronjob("c")),
        &Policy::default(),
        &env(),
        &counting,
    )
    .expect("readable");
    assert_eq!(calls.get(), 1);
}

/// A view of whole objects, to compare the webhooks' own views with.
struct Whole(Value);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Whole, D::Error> {
        Value::deserialize(d).map(Whole)
    }
}

impl ObjectView<'_> for Whole {
    fn into_value(self) -> Value {
        self.0
    }
}

fn read<'a, O: ObjectView<'a>>(body: &'a [u8]) -> Option<Value> {
    let request = request::parse::<O>(body).expect("a readable request");
    request.object.and_then(|o| o.0).map(O::into_value)
}

fn request_with(object: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u", "kind": {"group": "batch", "version": "v1", "kind": "CronJob"},
                    "operation": "CREATE", "object": object}
    }))
    .expect("json")
}

#[test]
fn validate_reads_everything_but_managed_fields() {
    let object = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "a", "managedFields": [{"operation": "Apply", "fieldsV1": {}}]},
        "spec": {"managedFields": [1], "metadata": {"managedFields": [{"operation": "Update"}]},
                 "n": 1.5, "neg": -3, "t": true, "z": null}
    });
    let mut expected = object.clone();
    expected["metadata"]
        .as_object_mut()
        .map(|m| m.remove("managedFields"));
    assert_eq!(read::<Tree>(&request_with(&object)), Some(expected));
}

#[test]
fn mutate_keeps_only_apply_entries_of_managed_fields() {
    let object = json!({
        "metadata": {"name": "a", "managedFields": [
            {"manager": "kubectl-create", "operation": "Update", "fieldsV1": {"f:spec": {"f:x": {}}}},
            {"manager": "kubectl", "operation": "Apply", "time": "t", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:schedule": {}}}},
            {"fieldsV1": {"f:spec": {}}, "operation": "Apply", "subresource": "status"},
            {"fieldsV1": {"f:spec": {}}, "operation": "Update"},
            7, "x", null, [1], {"operation": 5}
        ]}
    });
    let expected = json!({"metadata": {"name": "a", "managedFields": [
        {"operation": "Apply", "fieldsV1": {"f:spec": {"f:schedule": {}}}},
        {"operation": "Apply", "subresource": "status", "fieldsV1": {"f:spec": {}}}
    ]}});
    assert_eq!(read::<MutationView>(&request_with(&object)), Some(expected));
    let odd = json!({"metadata": {"managedFields": {"a": 1}}});
    assert_eq!(
        read::<MutationView>(&request_with(&odd)),
        Some(json!({"metadata": {}}))
    );
}

#[test]
fn mutate_builds_only_its_inputs() {
    let object = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "a", "labels": {"x": "y"}, "finalizers": ["f"],
                     "annotations": {"template": "dropped", "batchguard.io/keep": "x",
                                     "kubectl.kubernetes.io/last-applied-configuration": "{}"},
                     "ownerReferences": [{"kind": "K", "controller": true}]},
        "spec": {"schedule": "* * * * *", "template": {"x": 1}, "suspend": true,
                 "jobTemplate": {"metadata": {"template": 1},
                                 "spec": {"activeDeadlineSeconds": 5, "parallelism": 2,
                                          "template": {"spec": {}}}}},
        "status": {"template": 2}
    });
    let expected = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "a",
                     "annotations": {"batchguard.io/keep": "x",
                                     "kubectl.kubernetes.io/last-applied-configuration": "{}"},
                     "ownerReferences": [{"kind": "K", "controller": true}]},
        "spec": {"schedule": "* * * * *",
                 "jobTemplate": {"spec": {"activeDeadlineSeconds": 5}}}
    });
    assert_eq!(read::<MutationView>(&request_with(&object)), Some(expected));
    assert_eq!(read::<Whole>(&request_with(&object)), Some(object));
    // Escaped keys are read like any other.
    let escaped = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"batch","version":"v1","kind":"CronJob"},"operation":"CREATE","object":{"sp\u0065c": {"sch\u0065dule": "@daily", "x\n": 1}}}}"#;
    assert_eq!(
        read::<MutationView>(escaped),
        Some(json!({"spec": {"schedule": "@daily"}}))
    );
}

/// What `/mutate` does not read is skipped without being built, so nesting there is no
/// deeper than the scanner's own (iterative) skipping; `/validate` builds it and refuses
/// past serde_json's depth limit. Neither overflows the stack.
#[test]
fn deep_nesting_where_mutate_does_not_read() {
    let mut object = cronjob("c");
    object["spec"]["suspend"] = json!("SUSPEND");
    let text = String::from_utf8(body("CREATE", object, Value::Null)).expect("utf-8");
    let deep = text.replace(
        r#""SUSPEND""#,
        &format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000)),
    );
    let policy = Policy::default();
    let mutate = review(Webhook::Mutate, deep.as_bytes(), &policy, &env()).expect("a review");
    assert_eq!(mutate.verdict, Verdict::Patched);
    let validate = review(Webhook::Validate, deep.as_bytes(), &policy, &env());
    assert!(matches!(validate, Err(ReviewError::NotJson(_))), "{validate:?}");
}

/// Every captured request, and every corpus manifest as the API server would send it
/// on CREATE and as an UPDATE of itself and of a variant.
fn review_bodies() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(format!("{dir}/admission")).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            bodies.push((path.display().to_string(), std::fs::read(&path).expect("fixture")));
        }
    }
    let corpus = format!("{dir}/manifests-corpus/manifests");
    for entry in std::fs::read_dir(&corpus).expect("corpus") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("manifest");
        let Some(Ok(doc)) = crate::yaml::parse_stream(&text).into_iter().next() else {
            continue;
        };
        let Some(mut object) = doc.value else { continue };
        let kind = match object["kind"].as_str() {
            Some("Job") => Kind::Job,
            _ => Kind::CronJob,
        };
        crate::apiserver::prepare_for_create(kind, &mut object);
        crate::apiserver::apply_defaults(kind, &mut object);
        let mut variant = object.clone();
        if let Some(spec) = variant.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("concurrencyPolicy".into(), json!("Forbid"));
            spec.remove("startingDeadlineSeconds");
            spec.insert("successfulJobsHistoryLimit".into(), json!(1));
        }
        let name = path.display().to_string();
        let review = |op: &str, object: &Value, old: &Value| {
            let mut body: Value =
                serde_json::from_slice(&body(op, object.clone(), old.clone())).expect("json");
            body["request"]["kind"]["kind"] = json!(kind.as_str());
            serde_json::to_vec(&body).expect("json")
        };
        bodies.push((format!("{name} CREATE"), review("CREATE", &object, &Value::Null)));
        bodies.push((format!("{name} UPDATE"), review("UPDATE", &object, &variant)));
        bodies.push((format!("{name} UPDATE back"), review("UPDATE", &variant, &object)));
    }
    assert!(bodies.len() > 1000, "{} bodies", bodies.len());
    bodies
}

/// Every captured request and every corpus manifest (as the API server would send it on
/// CREATE, and as an UPDATE of itself and of a variant) gets the same `/mutate` answer
/// from its view as from reading whole objects.
#[test]
fn mutate_reads_only_what_it_needs() {
    let policy = Policy::default();
    let env = env();
    let bodies = review_bodies();
    let mut patched = 0;
    for (name, body) in &bodies {
        let lean = review_as::<MutationView>(Webhook::Mutate, body, &policy, &env, &crate::rules::check);
        let whole = review_as::<Whole>(Webhook::Mutate, body, &policy, &env, &crate::rules::check);
        match (lean, whole) {
            (Ok(lean), Ok(whole)) => {
                patched += usize::from(lean.verdict == Verdict::Patched);
                assert_eq!(
                    String::from_utf8_lossy(&lean.body),
                    String::from_utf8_lossy(&whole.body),
                    "{name}"
                );
                assert_eq!(lean.verdict, whole.verdict, "{name}");
                assert_eq!(lean.patched_fields, whole.patched_fields, "{name}");
            }
            (lean, whole) => assert_eq!(lean.err(), whole.err(), "{name}"),
        }
    }
    assert!(patched > 500, "only {patched} patched");
}
