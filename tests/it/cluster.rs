//! Self-managed certificates against a strict fake API server: the Secret is created, reused,
//! rotated and raced over by replicas; the CA is injected into every webhook and kept there;
//! RBAC refusals and an unreachable server read as something a person can act on.

use std::time::{Duration, Instant};

use crate::cluster_objects::{b64, bundles, stored, unb64, webhook, NS, SECRET};
use crate::fake_apiserver::{FakeApiServer, Recorded};
use batchguard::cluster::{
    certs::unix_now, parse_hosts, CertManager, CertState, Client, ClusterError, Host, Material, SecretRef,
};
use serde_json::{json, Value};
use tokio::sync::watch;

const DAY: i64 = 86_400;

fn hosts() -> Vec<Host> {
    parse_hosts("batchguard.batchguard.svc,batchguard.batchguard.svc.cluster.local").expect("hosts")
}

fn manager(fake: &FakeApiServer, names: &[&str]) -> CertManager {
    let client = Client::from_config(fake.config()).expect("client");
    CertManager::new(
        client,
        SecretRef {
            namespace: NS.into(),
            name: SECRET.into(),
        },
        hosts(),
        names.iter().map(|s| s.to_string()).collect(),
    )
    .expect("manager")
}

/// A MutatingWebhookConfiguration with a service webhook and a url webhook holding a stale
/// bundle, and a ValidatingWebhookConfiguration with one url webhook, both named `batchguard`.
fn insert_webhook_configurations(fake: &FakeApiServer) {
    fake.insert(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "batchguard"},
        "webhooks": [
            webhook("mutate.batchguard.io", json!({"service": {"namespace": NS, "name": "batchguard", "path": "/mutate", "port": 443}})),
            webhook("mutate-url.batchguard.io", json!({"url": "https://127.0.0.1:8443/mutate", "caBundle": b64(b"stale")})),
        ],
    }));
    fake.insert(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "batchguard"},
        "webhooks": [
            webhook("validate.batchguard.io", json!({"url": "https://127.0.0.1:8443/validate"})),
        ],
    }));
}

fn insert_secret(fake: &FakeApiServer, ca: &str, cert: &str, key: &str) -> Value {
    fake.insert(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET, "namespace": NS, "labels": {"team": "platform"}},
        "type": "kubernetes.io/tls",
        "data": {"ca.crt": b64(ca.as_bytes()), "tls.crt": b64(cert.as_bytes()), "tls.key": b64(key.as_bytes()), "extra": b64(b"kept")},
    }))
}

fn writes(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn first_start_creates_the_secret_and_injects_every_webhook_of_both_kinds() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let (state, states) = watch::channel(CertState::default());
    assert!(!states.borrow().is_ready());

    manager(&fake, &["batchguard"])
        .reconcile(&state)
        .await
        .expect("reconciles");

    let (ca, cert, key) = stored(&fake).expect("secret stored");
    let checked = Material::check(&ca, &cert, &key, &hosts(), unix_now()).expect("stored material is usable");
    assert_eq!(bundles(&fake), vec![Some(ca.clone()); 3]);
    let current = states.borrow().clone();
    assert!(current.is_ready(), "{current:?}");
    assert_eq!(current.material.as_deref(), Some(&checked));
    assert_eq!(current.error, None);

    let requests = fake.requests();
    let post = requests.iter().find(|r| r.method == "POST").expect("a create");
    assert_eq!(post.path, "/api/v1/namespaces/batchguard/secrets");
    assert_eq!(
        post.query_pairs(),
        [("fieldManager".to_owned(), "batchguard".to_owned())]
    );
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(post.status, 201);
    assert_eq!(
        post.body.as_ref().expect("body")["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "batchguard"
    );

    let patches: Vec<&Recorded> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(
        patches.len(),
        2,
        "one patch per configuration: {:?}",
        writes(&requests)
    );
    let mutating = patches[0];
    assert_eq!(
        mutating.path,
        "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/batchguard"
    );
    assert_eq!(
        mutating.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    assert_eq!(
        mutating.body.as_ref().expect("body"),
        &json!({
            "metadata": {"resourceVersion": "1"},
            "webhooks": [
                {"name": "mutate.batchguard.io", "clientConfig": {"caBundle": b64(ca.as_bytes())}},
                {"name": "mutate-url.batchguard.io", "clientConfig": {"caBundle": b64(ca.as_bytes())}},
            ],
        })
    );
    assert_eq!(
        patches[1].path,
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/batchguard"
    );
    assert!(patches.iter().all(|p| p.status == 200));
}

#[tokio::test]
async fn a_second_replica_racing_the_first_ends_with_the_same_ca() {
    let fake = FakeApiServer::start().await;
    // Both replicas read "no Secret" before either creates one.
    fake.hold_gets("secrets", 2);
    let (a, b) = (manager(&fake, &[]), manager(&fake, &[]));
    let (first, second) = tokio::join!(a.ensure(), b.ensure());
    let (first, second) = (first.expect("replica a"), second.expect("replica b"));
    assert_eq!(first, second);
    let (ca, _, _) = stored(&fake).expect("secret stored");
    assert_eq!(first.ca_pem, ca);

    let creates: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.status)
        .collect();
    let mut sorted = creates.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [201, 409],
        "one create wins, the other is told AlreadyExists"
    );
}

#[tokio::test]
async fn replicas_racing_a_rotation_adopt_the_winners_certificate() {
    let fake = FakeApiServer::start().await;
    let now = unix_now();
    let old = Material::generate_valid(&hosts(), now - 300 * DAY, now + 60 * DAY, None).expect("old");
    insert_secret(&fake, &old.ca_pem, &old.cert_pem, &old.key_pem);
    fake.hold_gets("secrets", 2);
    let (a, b) = (manager(&fake, &[]), manager(&fake, &[]));
    let (first, second) = tokio::join!(a.ensure(), b.ensure());
    let (first, second) = (first.expect("replica a"), second.expect("replica b"));
    assert_eq!(first, second);
    assert_ne!(first.cert_pem, old.cert_pem);

    let updates: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.status)
        .collect();
    let mut sorted = updates.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409], "one update wins, the other is told Conflict");
}

#[tokio::test]
async fn an_existing_valid_secret_is_reused_unchanged() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let existing = Material::generate(&hosts(), unix_now(), None).expect("material");
    let stored = insert_secret(&fake, &existing.ca_pem, &existing.cert_pem, &existing.key_pem);

    let material = manager(&fake, &[]).ensure().await.expect("ensures");
    assert_eq!(material, existing);
    assert_eq!(fake.get("secrets", NS, SECRET), Some(stored));
    assert_eq!(writes(&fake.requests()), Vec::<String>::new());
}

/// Stores `old` as the Secret, runs one ensure, and checks that the Secret was replaced by
/// one update carrying the read resourceVersion, keeping other keys and labels.
async fn assert_rotated(ca: &str, cert: &str, key: &str) -> Material {
    let fake = FakeApiServer::start().await;
    let old = insert_secret(&fake, ca, cert, key);
    let material = manager(&fake, &[]).ensure().await.expect("ensures");
    Material::check(
        &material.ca_pem,
        &material.cert_pem,
        &material.key_pem,
        &hosts(),
        unix_now(),
    )
    .expect("the new material is usable");
    assert_ne!(material.cert_pem, cert);
    let (new_ca, new_cert, new_key) = stored(&fake).expect("secret stored");
    assert_eq!(
        (new_ca.as_str(), new_cert.as_str(), new_key.as_str()),
        (
            material.ca_pem.as_str(),
            material.cert_pem.as_str(),
            material.key_pem.as_str()
        )
    );

    let requests = fake.requests();
    assert_eq!(
        writes(&requests),
        ["PUT /api/v1/namespaces/batchguard/secrets/batchguard-tls 200"]
    );
    let put = requests.iter().find(|r| r.method == "PUT").expect("update");
    let body = put.body.as_ref().expect("body");
    assert_eq!(
        body["metadata"]["resourceVersion"],
        old["metadata"]["resourceVersion"]
    );
    assert_eq!(body["metadata"]["labels"]["team"], "platform");
    assert_eq!(body["data"]["extra"], b64(b"kept"));
    assert_eq!(put.content_type.as_deref(), Some("application/json"));
    material
}

#[tokio::test]
async fn rotates_a_secret_in_the_last_third_of_its_lifetime_keeping_the_old_ca_trusted() {
    let now = unix_now();
    let old = Material::generate_valid(&hosts(), now - 250 * DAY, now + 115 * DAY, None).expect("old");
    let new = assert_rotated(&old.ca_pem, &old.cert_pem, &old.key_pem).await;
    assert!(
        new.ca_pem.ends_with(&old.ca_pem),
        "the previous CA stays in ca.crt"
    );
    Material::check(
        &new.ca_pem,
        &old.cert_pem,
        &old.key_pem,
        &hosts(),
        now - 200 * DAY,
    )
    .expect("the old certificate verifies under the new bundle");
}

#[tokio::test]
async fn rotates_a_secret_for_other_hosts() {
    let other = parse_hosts("batchguard.other.svc").expect("hosts");
    let old = Material::generate(&other, unix_now(), None).expect("old");
    assert_rotated(&old.ca_pem, &old.cert_pem, &old.key_pem).await;
}

#[tokio::test]
async fn rotates_a_secret_whose_key_does_not_match() {
    let a = Material::generate(&hosts(), unix_now(), None).expect("a");
    let b = Material::generate(&hosts(), unix_now(), None).expect("b");
    assert_rotated(&a.ca_pem, &a.cert_pem, &b.key_pem).await;
}

#[tokio::test]
async fn rotates_a_secret_whose_certificate_is_not_pem() {
    let a = Material::generate(&hosts(), unix_now(), None).expect("a");
    let new = assert_rotated(&a.ca_pem, "not a certificate", &a.key_pem).await;
    assert!(new.ca_pem.ends_with(&a.ca_pem));
}

struct Running {
    states: watch::Receiver<CertState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn run(fake: &FakeApiServer, names: &[&str], interval: Duration) -> Running {
    let (stop, shutdown) = watch::channel(false);
    let (states, task) = manager(fake, names).with_interval(interval).spawn(shutdown);
    Running { states, stop, task }
}

impl Running {
    async fn stop(self) {
        self.stop.send(true).expect("loop listening");
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the loop stops")
            .expect("the loop does not panic");
    }
}

#[tokio::test]
async fn the_loop_reinjects_a_removed_ca_bundle() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let running = run(&fake, &["batchguard"], Duration::from_millis(20));
    wait_for("ready", || running.states.borrow().is_ready()).await;
    let (ca, _, _) = stored(&fake).expect("secret stored");

    fake.clear_requests();
    fake.modify("validatingwebhookconfigurations", "", "batchguard", |config| {
        if let Some(cc) = config["webhooks"][0]["clientConfig"].as_object_mut() {
            cc.remove("caBundle");
        }
    });
    wait_for("the caBundle to come back", || {
        bundles(&fake) == vec![Some(ca.clone()); 3]
    })
    .await;
    // The loop put it back, with a patch after the removal (a test reading the bundle right
    // after removing it could race the loop, so the requests tell instead).
    let patched: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| format!("{} {}", r.path, r.status))
        .collect();
    assert_eq!(
        patched,
        ["/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/batchguard 200"]
    );
    assert!(running.states.borrow().is_ready());
    running.stop().await;
}

#[tokio::test]
async fn the_loop_never_writes_when_nothing_changed() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let running = run(&fake, &["batchguard"], Duration::from_millis(5));
    wait_for("ready", || running.states.borrow().is_ready()).await;
    fake.clear_requests();
    let mut notified = running.states.clone();
    notified.mark_unchanged();
    wait_for("five more checks", || {
        fake.requests()
            .iter()
            .filter(|r| r.path.ends_with("/secrets/batchguard-tls"))
            .count()
            >= 5
    })
    .await;
    let requests = fake.requests();
    assert_eq!(writes(&requests), Vec::<String>::new());
    assert!(requests
        .iter()
        .any(|r| r.path.ends_with("/validatingwebhookconfigurations/batchguard")));
    assert!(
        !notified.has_changed().expect("sender alive"),
        "no state change was published"
    );
    running.stop().await;
}

#[tokio::test]
async fn the_loop_hands_over_a_certificate_another_replica_rotated() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let running = run(&fake, &["batchguard"], Duration::from_millis(20));
    wait_for("ready", || running.states.borrow().is_ready()).await;
    let first = running.states.borrow().material.clone().expect("material");

    let (ca, _, _) = stored(&fake).expect("secret stored");
    let rotated = Material::generate(&hosts(), unix_now(), Some(&ca)).expect("rotated");
    fake.modify("secrets", NS, SECRET, |secret| {
        secret["data"]["ca.crt"] = json!(b64(rotated.ca_pem.as_bytes()));
        secret["data"]["tls.crt"] = json!(b64(rotated.cert_pem.as_bytes()));
        secret["data"]["tls.key"] = json!(b64(rotated.key_pem.as_bytes()));
    });
    wait_for("the rotated certificate", || {
        running.states.borrow().material.as_deref() == Some(&rotated)
    })
    .await;
    assert_ne!(*first, rotated);
    // The CA went into the webhooks before the certificate was handed over.
    assert_eq!(bundles(&fake), vec![Some(rotated.ca_pem.clone()); 3]);
    assert!(rotated.certified_key().is_ok());
    running.stop().await;
}

#[tokio::test]
async fn the_loop_reports_a_refusal_retries_and_recovers_once_it_is_lifted() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    fake.forbid("create", "secrets");
    let running = run(&fake, &["batchguard"], Duration::from_millis(20));
    wait_for("the refusal to be reported", || {
        running
            .states
            .borrow()
            .error
            .as_deref()
            .is_some_and(|e| e.contains("forbidden by RBAC"))
    })
    .await;
    assert!(!running.states.borrow().is_ready());
    wait_for("a retry", || {
        fake.requests().iter().filter(|r| r.status == 403).count() >= 2
    })
    .await;

    fake.permit("create", "secrets");
    wait_for("ready", || running.states.borrow().is_ready()).await;
    assert_eq!(running.states.borrow().error, None);
    running.stop().await;
}

#[tokio::test]
async fn shutdown_stops_the_loop_even_while_the_api_server_hangs() {
    // A server that accepts connections and never answers: the request would wait for the
    // client's 30 s read timeout, yet shutdown must not.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (accepted, mut accepted_rx) = watch::channel(0usize);
    let hang = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            accepted.send_replace(held.len());
        }
    });
    let client = Client::from_config(kube::Config::new(format!("http://{addr}").parse().expect("url")))
        .expect("client");
    let manager = CertManager::new(
        client,
        SecretRef {
            namespace: NS.into(),
            name: SECRET.into(),
        },
        hosts(),
        vec![],
    )
    .expect("manager");
    let (stop, shutdown) = watch::channel(false);
    let (_states, task) = manager.spawn(shutdown);
    tokio::time::timeout(Duration::from_secs(10), accepted_rx.wait_for(|n| *n > 0))
        .await
        .expect("the manager connects")
        .expect("acceptor alive");
    stop.send(true).expect("loop listening");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the loop stops without waiting for the hung request")
        .expect("no panic");
    hang.abort();
}

#[tokio::test]
async fn rbac_refusals_name_the_missing_rule() {
    let fake = FakeApiServer::start().await;
    let a = Material::generate(&hosts(), unix_now(), None).expect("a");
    insert_secret(&fake, &a.ca_pem, "garbage", &a.key_pem);
    fake.forbid("update", "secrets");
    let err = manager(&fake, &[]).ensure().await.expect_err("forbidden");
    assert_eq!(
        err.to_string(),
        "cannot update secret batchguard/batchguard-tls: forbidden by RBAC (User \"system:serviceaccount:batchguard:batchguard\" needs \"update\" on secrets in namespace batchguard, resourceNames [batchguard-tls])"
    );
    assert!(!err.is_transient());

    let fake = FakeApiServer::start().await;
    fake.forbid("create", "secrets");
    let err = manager(&fake, &[]).ensure().await.expect_err("forbidden");
    assert_eq!(
        err.to_string(),
        "cannot create secret batchguard/batchguard-tls: forbidden by RBAC (User \"system:serviceaccount:batchguard:batchguard\" needs \"create\" on secrets in namespace batchguard)"
    );

    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    fake.forbid("patch", "mutatingwebhookconfigurations");
    let (state, states) = watch::channel(CertState::default());
    let err = manager(&fake, &["batchguard"])
        .reconcile(&state)
        .await
        .expect_err("forbidden");
    assert_eq!(
        err.to_string(),
        "cannot patch mutatingwebhookconfiguration batchguard: forbidden by RBAC (User \"system:serviceaccount:batchguard:batchguard\" needs \"patch\" on mutatingwebhookconfigurations.admissionregistration.k8s.io (a ClusterRole), resourceNames [batchguard])"
    );
    let current = states.borrow().clone();
    assert!(!current.is_ready());
    assert!(
        current.material.is_some(),
        "a certificate is served even before injection works"
    );
    assert_eq!(current.error, Some(err.to_string()));
    let forbidden = fake
        .requests()
        .into_iter()
        .find(|r| r.status == 403)
        .expect("a 403");
    assert_eq!(forbidden.method, "PATCH");
}

#[tokio::test]
async fn an_unreachable_api_server_is_named_with_its_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = Client::from_config(kube::Config::new(format!("http://{addr}").parse().expect("url")))
        .expect("client");
    let manager = CertManager::new(
        client,
        SecretRef {
            namespace: NS.into(),
            name: SECRET.into(),
        },
        hosts(),
        vec![],
    )
    .expect("manager");
    let err = manager.ensure().await.expect_err("unreachable");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot get secret batchguard/batchguard-tls: the API server at http://{addr}/ is unreachable: "
        )),
        "{message}"
    );
    assert!(
        message.to_lowercase().contains("connect"),
        "the cause is shown: {message}"
    );
    assert!(matches!(err, ClusterError::Unreachable { .. }));
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_name_no_configuration_has_is_an_error_and_keeps_readiness_off() {
    let fake = FakeApiServer::start().await;
    let (state, states) = watch::channel(CertState::default());
    let err = manager(&fake, &["missing"])
        .reconcile(&state)
        .await
        .expect_err("no such configuration");
    assert_eq!(
        err.to_string(),
        "no MutatingWebhookConfiguration or ValidatingWebhookConfiguration is named \"missing\""
    );
    assert!(!states.borrow().is_ready());
    let gets: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.status == 404)
        .map(|r| r.path.clone())
        .collect();
    assert!(gets
        .contains(&"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/missing".to_owned()));
    assert!(gets.contains(
        &"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/missing".to_owned()
    ));
}

#[tokio::test]
async fn one_kind_under_a_name_is_enough() {
    let fake = FakeApiServer::start().await;
    fake.insert(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "only-validating"},
        "webhooks": [webhook("validate.batchguard.io", json!({"url": "https://batchguard.example/validate"}))],
    }));
    let (state, states) = watch::channel(CertState::default());
    manager(&fake, &["only-validating"])
        .reconcile(&state)
        .await
        .expect("reconciles");
    assert!(states.borrow().is_ready());
    let config = fake
        .get("validatingwebhookconfigurations", "", "only-validating")
        .expect("config");
    let (ca, _, _) = stored(&fake).expect("secret stored");
    assert_eq!(unb64(&config["webhooks"][0]["clientConfig"]["caBundle"]), ca);
}

#[tokio::test]
async fn a_concurrent_writer_to_a_webhook_configuration_is_not_overwritten() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let manager = manager(&fake, &["batchguard"]);
    let material = manager.ensure().await.expect("ensure");
    // Another writer changes the configuration between our read and our patch: the
    // resourceVersion in the patch turns it into a 409, and a fresh read keeps their change.
    fake.before_next_write("mutatingwebhookconfigurations", "", "batchguard", |config| {
        config["webhooks"][0]["timeoutSeconds"] = json!(5);
    });
    fake.clear_requests();
    manager.inject(material.ca_pem.as_bytes()).await.expect("injects");

    let config = fake
        .get("mutatingwebhookconfigurations", "", "batchguard")
        .expect("config");
    assert_eq!(config["webhooks"][0]["timeoutSeconds"], 5);
    assert_eq!(
        unb64(&config["webhooks"][0]["clientConfig"]["caBundle"]),
        material.ca_pem
    );
    let mutating: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("/mutatingwebhookconfigurations/"))
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    assert_eq!(mutating, ["GET 200", "PATCH 409", "GET 200", "PATCH 200"]);
}

mod fake_is_strict {
    use super::*;

    async fn send(
        fake: &FakeApiServer,
        method: &str,
        path: &str,
        content_type: &str,
        body: Value,
    ) -> kube::core::Status {
        let client = kube::Client::try_from(fake.config()).expect("client");
        let request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type)
            .body(body.to_string().into_bytes())
            .expect("request");
        match client.request_text(request).await {
            Err(kube::Error::Api(status)) => *status,
            other => panic!("expected a Status, got {other:?}"),
        }
    }

    fn secret(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque"})
    }

    #[tokio::test]
    async fn refuses_a_stale_update_with_a_real_conflict_status() {
        let fake = FakeApiServer::start().await;
        fake.insert(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}),
        );
        let mut stale = secret("s");
        stale["metadata"]["resourceVersion"] = json!("0");
        let status = send(
            &fake,
            "PUT",
            "/api/v1/namespaces/ns/secrets/s",
            "application/json",
            stale,
        )
        .await;
        assert_eq!(status.code, 409);
        assert_eq!(status.reason, "Conflict");
        assert_eq!(
            status.message,
            "Operation cannot be fulfilled on secrets \"s\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let details = status.details.expect("details");
        assert_eq!((details.name.as_str(), details.kind.as_str()), ("s", "secrets"));
    }

    #[tokio::test]
    async fn refuses_an_update_without_a_resource_version() {
        let fake = FakeApiServer::start().await;
        fake.insert(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}),
        );
        let status = send(
            &fake,
            "PUT",
            "/api/v1/namespaces/ns/secrets/s",
            "application/json",
            secret("s"),
        )
        .await;
        assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
        assert!(
            status.message.contains("metadata.resourceVersion"),
            "{}",
            status.message
        );
    }

    #[tokio::test]
    async fn refuses_a_duplicate_create_with_already_exists() {
        let fake = FakeApiServer::start().await;
        fake.insert(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}),
        );
        let status = send(
            &fake,
            "POST",
            "/api/v1/namespaces/ns/secrets",
            "application/json",
            secret("s"),
        )
        .await;
        assert_eq!((status.code, status.reason.as_str()), (409, "AlreadyExists"));
        assert_eq!(status.message, "secrets \"s\" already exists");
    }

    #[tokio::test]
    async fn refuses_wrong_content_types_unknown_queries_and_mismatched_namespaces() {
        let fake = FakeApiServer::start().await;
        let status = send(
            &fake,
            "POST",
            "/api/v1/namespaces/ns/secrets",
            "application/yaml",
            secret("s"),
        )
        .await;
        assert_eq!(status.code, 415);
        let status = send(
            &fake,
            "POST",
            "/api/v1/namespaces/ns/secrets?pretty=true",
            "application/json",
            secret("s"),
        )
        .await;
        assert_eq!(status.code, 400);
        let mut other_ns = secret("s");
        other_ns["metadata"]["namespace"] = json!("elsewhere");
        let status = send(
            &fake,
            "POST",
            "/api/v1/namespaces/ns/secrets",
            "application/json",
            other_ns,
        )
        .await;
        assert_eq!(status.code, 400);
        let status = send(
            &fake,
            "POST",
            "/api/v1/namespaces/ns/configmaps",
            "application/json",
            secret("s"),
        )
        .await;
        assert_eq!(status.code, 404);
        let tls = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}, "type": "kubernetes.io/tls", "data": {}});
        let status = send(
            &fake,
            "POST",
            "/api/v1/namespaces/ns/secrets",
            "application/json",
            tls,
        )
        .await;
        assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
        assert_eq!(fake.get("secrets", "ns", "s"), None, "nothing refused was stored");
    }

    #[tokio::test]
    async fn refuses_a_patch_type_it_does_not_model_and_a_stale_patch() {
        let fake = FakeApiServer::start().await;
        insert_webhook_configurations(&fake);
        let path = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/batchguard";
        let status = send(&fake, "PATCH", path, "application/apply-patch+yaml", json!({})).await;
        assert_eq!(status.code, 415);
        let stale = json!({"metadata": {"resourceVersion": "0"}, "webhooks": [{"name": "validate.batchguard.io", "clientConfig": {"caBundle": b64(b"x")}}]});
        let status = send(
            &fake,
            "PATCH",
            path,
            "application/strategic-merge-patch+json",
            stale,
        )
        .await;
        assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
        let status = send(
            &fake,
            "PATCH",
            path,
            "application/strategic-merge-patch+json",
            json!({"webhooks": [{"name": "new.batchguard.io"}]}),
        )
        .await;
        assert_eq!(
            (status.code, status.reason.as_str()),
            (422, "Invalid"),
            "a stub webhook fails validation"
        );
    }

    #[tokio::test]
    async fn lists_jobs_and_cronjobs_page_by_page() {
        use k8s_openapi::api::batch::v1::{CronJob, Job};
        use kube::api::{Api, ListParams};
        let fake = FakeApiServer::start().await;
        for (ns, name) in [("a", "j1"), ("a", "j2"), ("b", "j3"), ("b", "j4"), ("c", "j5")] {
            fake.insert(
                json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": ns}}),
            );
        }
        fake.insert(json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c1", "namespace": "b"}}));
        let client = kube::Client::try_from(fake.config()).expect("client");

        let mut names = Vec::new();
        let mut params = ListParams::default().limit(2);
        let mut pages = 0;
        loop {
            let page = Api::<Job>::all(client.clone()).list(&params).await.expect("list");
            pages += 1;
            names.extend(
                page.items
                    .iter()
                    .map(|j| j.metadata.name.clone().unwrap_or_default()),
            );
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
        assert_eq!(
            (names.as_slice(), pages),
            (["j1", "j2", "j3", "j4", "j5"].map(String::from).as_slice(), 3)
        );

        let in_b = Api::<Job>::namespaced(client.clone(), "b")
            .list(&ListParams::default())
            .await
            .expect("list");
        assert_eq!(in_b.items.len(), 2);
        let cronjobs = Api::<CronJob>::all(client.clone())
            .list(&ListParams::default())
            .await
            .expect("list");
        assert_eq!(cronjobs.items.len(), 1);
        let recorded = fake.requests();
        assert_eq!(recorded[0].path, "/apis/batch/v1/jobs");
        assert_eq!(recorded[0].query_pairs(), [("limit".to_owned(), "2".to_owned())]);
        assert_eq!(recorded[1].query_pairs()[1].0, "continue");
        assert_eq!(recorded[3].path, "/apis/batch/v1/namespaces/b/jobs");
    }
}
