//! One request inside the body limit whose object carries a cause or a warning per list
//! item: the answer lists at most 100 of them and one "and N more", so neither its size nor
//! the memory spent building it grows with the object.

use serde_json::{json, Value};

use crate::common::*;

const JSON: &str = "application/json";

/// The captured Job CREATE (defaulted by a real API server), with its pod spec changed.
fn review(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut review: Value = serde_json::from_slice(&fixture("job-create.validate.json")).expect("fixture");
    change(&mut review["request"]["object"]["spec"]["template"]["spec"]);
    serde_json::to_vec(&review).expect("serialize")
}

/// The fixture's one container, `n` times, changed by `change`.
fn containers(n: usize, change: impl Fn(&mut Value)) -> impl FnOnce(&mut Value) {
    move |spec| {
        let mut container = spec["containers"][0].clone();
        change(&mut container);
        spec["containers"] = Value::Array(vec![container; n]);
    }
}

async fn validate(body: Vec<u8>) -> Value {
    let server = start(|_, _, _| {}).await;
    let reply = server
        .client(Proto::H2)
        .post("/validate", Some(JSON), body)
        .await
        .expect("request");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply.body.len() < 64 * 1024,
        "the answer is {} bytes",
        reply.body.len()
    );
    serde_json::from_slice(&reply.body).expect("JSON answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cause_per_container_is_answered_with_a_hundred_and_a_count() {
    // Every container lacks an image, and all but the first repeat the name: 9,999 causes.
    let answer = validate(review(containers(5_000, |c| {
        c.as_object_mut().expect("container").remove("image");
    })))
    .await;
    let response = &answer["response"];
    assert_eq!(response["allowed"], false);
    let causes = response["status"]["details"]["causes"]
        .as_array()
        .expect("causes");
    assert_eq!(causes.len(), 101);
    assert_eq!(causes[0]["field"], "spec.template.spec.containers[0].image");
    let last = causes[100]["message"].as_str().expect("message");
    assert!(last.starts_with("and 9899 more not shown"), "{last}");
    let message = response["status"]["message"].as_str().expect("message");
    assert!(message.contains("and 9899 more not shown"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_port_declared_many_times_does_not_warn_once_per_pair() {
    // Each port overlaps every one before it: upstream warns per pair (179,700 here).
    let ports = vec![json!({"containerPort": 80, "protocol": "TCP"}); 600];
    let answer = validate(review(containers(1, move |c| c["ports"] = json!(ports)))).await;
    let response = &answer["response"];
    assert_eq!(response["allowed"], true, "{response}");
    let warnings = response["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 101);
    assert!(
        warnings[0]
            .as_str()
            .is_some_and(|w| w.contains("duplicate port definition")),
        "{}",
        warnings[0]
    );
    let last = warnings[100].as_str().expect("warning");
    assert!(last.starts_with("and at least "), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_too_complex_to_read_in_bounded_memory_is_refused_unread() {
    // Under 6 MB, inside the body limit, but ~270 MB as a JSON tree: refused before a rule runs.
    let body = review(|spec| spec["containers"] = json!(vec![json!({"name": "c"}); 400_000]));
    assert!(body.len() < 6 * 1024 * 1024, "{} bytes", body.len());
    let server = start(|_, _, _| {}).await;
    let reply = server
        .client(Proto::H2)
        .post("/validate", Some(JSON), body)
        .await
        .expect("request");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        reply.text().contains("request object too complex"),
        "{}",
        reply.text()
    );
}
