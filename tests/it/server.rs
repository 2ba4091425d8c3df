//! The webhook over real HTTPS on 127.0.0.1: every captured review, bad input, mTLS,
//! certificate rotation by symlink swap, policy reload, metrics and graceful shutdown.
//! Each test makes its own CA; the client trusts only that CA. No fixed sleeps.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use base64::Engine as _;
use batchguard::admission::{review, Env, Webhook};
use batchguard::policy::Policy;
use serde_json::Value;

const JSON: Option<&str> = Some("application/json");

fn core_answer(route: &str, body: &[u8]) -> Vec<u8> {
    let webhook = if route == "/mutate" {
        Webhook::Mutate
    } else {
        Webhook::Validate
    };
    let env = Env {
        now: chrono::Utc::now(),
        own_namespace: None,
    };
    review(webhook, body, &Policy::default(), &env)
        .expect("the core reads every captured review")
        .body
}

/// A 200 answer must be an admission.k8s.io/v1 AdmissionReview echoing the request's uid,
/// with a base64 JSONPatch (if any) that applies to the request's object.
fn assert_well_formed_review(name: &str, request: &Value, reply: &Reply) {
    assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    assert_eq!(reply.content_type.as_deref(), Some("application/json"), "{name}");
    let answer: Value =
        serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1", "{name}: {answer}");
    assert_eq!(answer["kind"], "AdmissionReview", "{name}: {answer}");
    let response = &answer["response"];
    assert_eq!(response["uid"], request["request"]["uid"], "{name}: uid echoed");
    assert!(response["allowed"].is_boolean(), "{name}: {answer}");
    if let Some(patch) = response.get("patch") {
        assert_eq!(response["patchType"], "JSONPatch", "{name}");
        let text = patch
            .as_str()
            .unwrap_or_else(|| panic!("{name}: patch is not a string: {patch}"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_else(|e| panic!("{name}: patch is not base64: {e}"));
        let ops: json_patch::Patch = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{name}: patch is not a JSON Patch: {e}"));
        let mut object = request["request"]["object"].clone();
        json_patch::patch(&mut object, &ops).unwrap_or_else(|e| panic!("{name}: patch does not apply: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_every_captured_review_exactly_as_the_core_does() {
    let mut server = start(|_, _, _| {}).await;
    for proto in [Proto::H1, Proto::H2] {
        let client = server.client(proto);
        for f in fixtures() {
            let path = format!("{}?timeout=10s", f.route);
            let reply = client.post(&path, JSON, f.body.clone()).await.expect(&f.name);
            let request: Value = serde_json::from_slice(&f.body).expect("fixture is JSON");
            assert_well_formed_review(&f.name, &request, &reply);
            assert_eq!(
                reply.text(),
                String::from_utf8_lossy(&core_answer(f.route, &f.body)),
                "{}: the HTTP layer must add nothing to the core's answer",
                f.name
            );
        }
    }
    server.shutdown();
    server.handle.await.expect("join").expect("clean exit");
}

/// What a bad request may get.
#[derive(Debug)]
enum Expect {
    Status(u16),
    /// A 4xx with a message, or a well-formed review: both are fine, a 5xx or no answer is not.
    ReviewOr4xx,
    /// A well-formed review (HTTP 200), whatever its verdict.
    Review,
}

/// (name, method, path, content type, body, expectation)
type BadCase = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    Expect,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_answer_and_the_server_stays_up() {
    let server = start(|_, _, _| {}).await;
    let good = fixture("cronjob-create.mutate.json");
    let good_json: Value = serde_json::from_slice(&good).expect("json");
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut v = good_json.clone();
        edit(&mut v);
        serde_json::to_vec(&v).expect("json")
    };
    let mut huge =
        br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"x","pad":""#
            .to_vec();
    huge.resize(6 * 1024 * 1024 + 10, b'a');
    huge.extend_from_slice(br#""}}"#);
    let cases: Vec<BadCase> = vec![
        (
            "malformed JSON",
            "POST",
            "/mutate",
            JSON,
            b"{\"kind\": ".to_vec(),
            Expect::Status(400),
        ),
        (
            "not an object",
            "POST",
            "/validate",
            JSON,
            b"[1,2,3]".to_vec(),
            Expect::Status(400),
        ),
        (
            "empty body",
            "POST",
            "/validate",
            JSON,
            Vec::new(),
            Expect::Status(400),
        ),
        (
            "wrong review kind",
            "POST",
            "/mutate",
            JSON,
            with(&|v| v["kind"] = "ConfigMap".into()),
            Expect::Status(400),
        ),
        (
            "wrong review apiVersion",
            "POST",
            "/mutate",
            JSON,
            with(&|v| v["apiVersion"] = "v1".into()),
            Expect::Status(400),
        ),
        (
            "v1beta1",
            "POST",
            "/validate",
            JSON,
            with(&|v| v["apiVersion"] = "admission.k8s.io/v1beta1".into()),
            Expect::ReviewOr4xx,
        ),
        (
            "missing request",
            "POST",
            "/validate",
            JSON,
            with(&|v| {
                v.as_object_mut().expect("object").remove("request");
            }),
            Expect::Status(400),
        ),
        (
            "null object",
            "POST",
            "/validate",
            JSON,
            with(&|v| v["request"]["object"] = Value::Null),
            Expect::ReviewOr4xx,
        ),
        (
            "object of another kind",
            "POST",
            "/validate",
            JSON,
            with(&|v| {
                v["request"]["kind"] =
                    serde_json::json!({"group": "apps", "version": "v1", "kind": "Deployment"});
                v["request"]["object"]["kind"] = "Deployment".into();
                v["request"]["object"]["apiVersion"] = "apps/v1".into();
            }),
            Expect::ReviewOr4xx,
        ),
        ("huge body", "POST", "/mutate", JSON, huge, Expect::Status(413)),
        (
            "5 MiB body, under the limit",
            "POST",
            "/validate",
            JSON,
            with(&|v| v["request"]["userInfo"]["extra"]["pad"] = serde_json::json!(["a".repeat(5 << 20)])),
            Expect::Review,
        ),
        (
            "text/plain",
            "POST",
            "/mutate",
            Some("text/plain"),
            good.clone(),
            Expect::Status(415),
        ),
        (
            "yaml",
            "POST",
            "/validate",
            Some("application/yaml"),
            good.clone(),
            Expect::Status(415),
        ),
        (
            "no content type",
            "POST",
            "/validate",
            None,
            good.clone(),
            Expect::Status(415),
        ),
        ("GET", "GET", "/mutate", None, Vec::new(), Expect::Status(405)),
        (
            "unknown path",
            "POST",
            "/admit",
            JSON,
            good.clone(),
            Expect::Status(404),
        ),
    ];
    // HTTP/2 so that an early 413 reaches the client while it is still sending.
    let client = server.client(Proto::H2);
    for (name, method, path, ct, body, expect) in cases {
        let sent: Option<Value> = serde_json::from_slice(&body).ok();
        let reply = client
            .send(
                method,
                path,
                ct,
                http_body_util::Full::new(hyper::body::Bytes::from(body)),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: no answer: {e}"));
        match expect {
            Expect::Status(code) => {
                assert_eq!(reply.status, code, "{name}: {}", reply.text());
                if code != 405 {
                    assert!(!reply.text().trim().is_empty(), "{name}: a clear message");
                }
            }
            Expect::Review => assert_well_formed_review(name, sent.as_ref().expect("json"), &reply),
            Expect::ReviewOr4xx => {
                if reply.status == 200 {
                    assert_well_formed_review(name, sent.as_ref().expect("json"), &reply);
                } else {
                    assert!(
                        (400..500).contains(&reply.status),
                        "{name}: {} {}",
                        reply.status,
                        reply.text()
                    );
                    assert!(!reply.text().trim().is_empty(), "{name}: a clear message");
                }
            }
        }
        let after = client
            .post("/mutate?timeout=10s", JSON, good.clone())
            .await
            .unwrap_or_else(|e| panic!("after {name}: {e}"));
        assert_eq!(after.status, 200, "after {name}");
    }
    let reply = client
        .post("/validate", Some("application/json; charset=utf-8"), good)
        .await
        .expect("charset");
    assert_eq!(reply.status, 200, "a charset parameter is fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_tls_port_gets_no_http_answer() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = start(|_, _, _| {}).await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let body = fixture("job-create.mutate.json");
    let head = format!(
        "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // The server may close before the whole request is written; that is the point.
    let _ = tcp.write_all(head.as_bytes()).await;
    let _ = tcp.write_all(&body).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server closes the connection");
    assert!(
        !got.starts_with(b"HTTP/"),
        "no HTTP answer over plain text: {:?}",
        String::from_utf8_lossy(&got)
    );
    let reply = server
        .client(Proto::H1)
        .post("/mutate", JSON, body)
        .await
        .expect("still serving");
    assert_eq!(reply.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_does_not_block_others_and_is_dropped() {
    use tokio::io::AsyncReadExt as _;
    let server = start(|_, _, s| s.handshake_timeout = Duration::from_millis(300)).await;
    let mut idle = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let reply = server
        .client(Proto::H2)
        .post("/validate", JSON, fixture("job-create.validate.json"))
        .await
        .expect("served while another client says nothing");
    assert_eq!(reply.status, 200);
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buf))
        .await
        .expect("the server hangs up after the handshake timeout");
    assert!(matches!(n, Ok(0) | Err(_)), "closed, got {n:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_accepts_only_clients_of_the_configured_ca() {
    let clients_ca = TestCa::new("api server clients");
    let ca_pem = clients_ca.pem.clone();
    let server = start(move |dir, _, s| {
        let path = dir.join("client-ca.pem");
        std::fs::write(&path, &ca_pem).expect("write");
        s.client_ca = Some(path);
    })
    .await;
    let body = fixture("cronjob-create.validate.json");

    let good = Client::new(
        server.addr,
        &server.ca.pem,
        Some(&clients_ca.client_leaf()),
        Proto::H2,
    );
    let reply = good
        .post("/validate", JSON, body.clone())
        .await
        .expect("a trusted client cert");
    assert_eq!(reply.status, 200);

    let stranger = TestCa::new("someone else");
    for proto in [Proto::H1, Proto::H2] {
        let bad = Client::new(server.addr, &server.ca.pem, Some(&stranger.client_leaf()), proto);
        assert!(
            bad.post("/validate", JSON, body.clone()).await.is_err(),
            "a client cert from another CA is refused ({proto:?})"
        );
        let anonymous = Client::new(server.addr, &server.ca.pem, None, proto);
        assert!(
            anonymous.post("/validate", JSON, body.clone()).await.is_err(),
            "no client cert is refused ({proto:?})"
        );
    }
    let reply = good.post("/validate", JSON, body).await.expect("still serving");
    assert_eq!(reply.status, 200);
}

/// Lays out a Secret volume as the kubelet does: `tls.crt -> ..data/tls.crt`,
/// `..data -> ..<timestamp>`; `publish` swaps `..data` atomically.
struct SecretVolume {
    dir: std::path::PathBuf,
    generation: usize,
}

impl SecretVolume {
    fn new(dir: std::path::PathBuf, first: &Leaf) -> SecretVolume {
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut v = SecretVolume { dir, generation: 0 };
        v.publish(first.cert_pem.as_bytes(), first.key_pem.as_bytes());
        for name in ["tls.crt", "tls.key"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), v.dir.join(name)).expect("symlink");
        }
        v
    }

    fn publish(&mut self, cert: &[u8], key: &[u8]) {
        self.generation += 1;
        let stamp = format!("..2026_11_26_04_00_00.{}", self.generation);
        let target = self.dir.join(&stamp);
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::write(target.join("tls.crt"), cert).expect("write");
        std::fs::write(target.join("tls.key"), key).expect("write");
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&stamp, &tmp).expect("symlink");
        std::fs::rename(&tmp, self.dir.join("..data")).expect("atomic swap");
    }

    fn paths(&self) -> (std::path::PathBuf, std::path::PathBuf) {
        (self.dir.join("tls.crt"), self.dir.join("tls.key"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_by_symlink_swap_serves_the_new_certificate_without_a_failed_request() {
    let ca = TestCa::new("rotation CA");
    let first = ca.server_leaf(2040);
    let second = ca.server_leaf(2041);
    let root = tempfile::tempdir().expect("tempdir");
    let mut volume = SecretVolume::new(root.path().join("secret"), &first);
    let (cert, key) = volume.paths();
    let server = start(move |_, _, s| {
        s.tls_cert = cert;
        s.tls_key = key;
    })
    .await;
    let client = Client::new(server.addr, &ca.pem, None, Proto::H2);
    let body = fixture("cronjob-create.mutate.json");
    let page = server.metrics_page().await;
    assert_eq!(
        sample(&page, "batchguard_certificate_expiry_seconds"),
        Some(jan_first(2040) as f64)
    );

    let first_reply = client.post("/mutate", JSON, body.clone()).await.expect("first");
    assert_eq!(first_reply.peer_cert, first.der);

    // A client loops through the swap; every request must succeed.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let looper = {
        let (client, body, stop, done) = (client.clone(), body.clone(), stop.clone(), done.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match client.post("/mutate?timeout=10s", JSON, body.clone()).await {
                    Ok(r) if r.status == 200 => {}
                    Ok(r) => failures.push(format!("status {}", r.status)),
                    Err(e) => failures.push(e.to_string()),
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            failures
        })
    };
    eventually("the loop to start", Duration::from_secs(10), || async {
        (done.load(Ordering::Relaxed) > 0).then_some(())
    })
    .await;
    volume.publish(second.cert_pem.as_bytes(), second.key_pem.as_bytes());
    eventually(
        "the new certificate to be served",
        Duration::from_secs(15),
        || {
            let client = client.clone();
            let body = body.clone();
            let want = second.der.clone();
            async move {
                let r = client.post("/mutate", JSON, body).await.ok()?;
                (r.peer_cert == want).then_some(())
            }
        },
    )
    .await;
    let before_stop = done.load(Ordering::Relaxed);
    eventually("a few more looped requests", Duration::from_secs(10), || async {
        (done.load(Ordering::Relaxed) > before_stop + 2).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let failures = looper.await.expect("loop task");
    assert!(
        failures.is_empty(),
        "requests failed during rotation: {failures:?}"
    );
    let page = server.metrics_page().await;
    assert_eq!(
        sample(&page, "batchguard_certificate_expiry_seconds"),
        Some(jan_first(2041) as f64)
    );
    assert_eq!(
        sample(&page, "batchguard_certificate_reloads_total{result=\"success\"}"),
        Some(1.0)
    );

    // A broken pair (a key that does not fit the certificate) keeps the good one serving.
    let third = ca.server_leaf(2042);
    volume.publish(third.cert_pem.as_bytes(), first.key_pem.as_bytes());
    eventually(
        "the failed reload to be counted",
        Duration::from_secs(15),
        || async {
            let page = server.metrics_page().await;
            (sample(&page, "batchguard_certificate_reloads_total{result=\"failure\"}") == Some(1.0))
                .then_some(())
        },
    )
    .await;
    // And garbage too.
    volume.publish(b"not a certificate", b"not a key");
    eventually(
        "the second failed reload to be counted",
        Duration::from_secs(15),
        || async {
            let page = server.metrics_page().await;
            (sample(&page, "batchguard_certificate_reloads_total{result=\"failure\"}") == Some(2.0))
                .then_some(())
        },
    )
    .await;
    let reply = client.post("/mutate", JSON, body).await.expect("still serving");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.peer_cert, second.der, "the last good pair stays");
    let page = server.metrics_page().await;
    assert_eq!(
        sample(&page, "batchguard_certificate_expiry_seconds"),
        Some(jan_first(2041) as f64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_the_request_in_flight() {
    let mut server = start(|_, _, _| {}).await;
    let body = fixture("cronjob-create.validate.json");
    let (half_a, half_b) = body.split_at(body.len() / 2);
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let client = server.client(Proto::H1);
    let in_flight = tokio::spawn(async move {
        client
            .send("POST", "/validate?timeout=10s", JSON, ChannelBody(rx))
            .await
    });
    tx.send(hyper::body::Bytes::copy_from_slice(half_a))
        .await
        .expect("send");
    eventually(
        "the request to reach the handler",
        Duration::from_secs(10),
        || async {
            let page = server.metrics_page().await;
            (sample(&page, "batchguard_admission_in_flight") == Some(1.0)).then_some(())
        },
    )
    .await;

    server.shutdown();
    let (status, ready) = eventually("readiness to drop", Duration::from_secs(10), || async {
        let (status, body) = get_plain(server.metrics, "/readyz").await;
        (status == 503).then_some((status, body))
    })
    .await;
    assert_eq!(status, 503, "{ready}");
    // /readyz fails first and the listener closes after the drain period (zero here), so
    // a connection made in between is still served; soon none is accepted.
    eventually(
        "the listener to refuse new connections",
        Duration::from_secs(10),
        || async {
            let attempt = server
                .client(Proto::H2)
                .post("/validate", JSON, body.clone())
                .await;
            attempt.is_err().then_some(())
        },
    )
    .await;
    assert!(!server.handle.is_finished(), "waits for the request in flight");

    tx.send(hyper::body::Bytes::copy_from_slice(half_b))
        .await
        .expect("send");
    drop(tx);
    let reply = in_flight
        .await
        .expect("join")
        .expect("the in-flight request completes");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.text(),
        String::from_utf8_lossy(&core_answer("/validate", &body))
    );
    tokio::time::timeout(Duration::from_secs(10), &mut server.handle)
        .await
        .expect("the server returns after draining")
        .expect("join")
        .expect("clean exit");
}

async fn readyz_hash(server: &Running) -> String {
    let (status, body) = get_plain(server.metrics, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("readyz is JSON");
    v["configHash"].as_str().expect("configHash").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_policy_file_keeps_the_last_good_policy() {
    let first = "mode: warn\n";
    let second = "mode: enforce\nrules:\n  requireTimeZone: true\n";
    let server = start(move |dir, _, s| {
        let path = dir.join("policy.yaml");
        std::fs::write(&path, first).expect("write");
        s.config = Some(path);
    })
    .await;
    let path = server.dir.path().join("policy.yaml");
    let first_hash = Policy::from_yaml(first, "t").expect("valid").hash();
    let second_hash = Policy::from_yaml(second, "t").expect("valid").hash();
    assert_ne!(first_hash, second_hash);
    assert_eq!(readyz_hash(&server).await, first_hash);
    let page = server.metrics_page().await;
    assert!(page.contains(&format!("batchguard_config_info{{hash=\"{first_hash}\"}} 1")));

    // Replaced as a ConfigMap volume replaces it (write, then rename): a plain truncating
    // write can be read half-way, and an empty file is a valid (default) policy.
    replace_file(&path, "mode: [\n");
    eventually(
        "the failed reload to be counted",
        Duration::from_secs(15),
        || async {
            let page = server.metrics_page().await;
            (sample(&page, "batchguard_config_reloads_total{result=\"failure\"}") == Some(1.0)).then_some(())
        },
    )
    .await;
    assert_eq!(
        readyz_hash(&server).await,
        first_hash,
        "the last good policy stays"
    );

    replace_file(&path, "mode: enforce\nnoSuchKey: 1\n");
    eventually(
        "the second failed reload to be counted",
        Duration::from_secs(15),
        || async {
            let page = server.metrics_page().await;
            (sample(&page, "batchguard_config_reloads_total{result=\"failure\"}") == Some(2.0)).then_some(())
        },
    )
    .await;
    assert_eq!(
        readyz_hash(&server).await,
        first_hash,
        "the last good policy stays"
    );
    let reply = server
        .client(Proto::H2)
        .post("/validate", JSON, fixture("job-create.validate.json"))
        .await
        .expect("still serving");
    assert_eq!(reply.status, 200);

    replace_file(&path, second);
    eventually("the new policy", Duration::from_secs(15), || async {
        (readyz_hash(&server).await == second_hash).then_some(())
    })
    .await;
    let page = server.metrics_page().await;
    assert_eq!(
        sample(&page, "batchguard_config_reloads_total{result=\"success\"}"),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_reviews_rejections_and_latency() {
    let server = start(|_, _, _| {}).await;
    let (status, health) = get_plain(server.metrics, "/healthz").await;
    assert_eq!((status, health.trim()), (200, "ok"));
    let client = server.client(Proto::H2);
    let all = fixtures();
    let mutate_cronjob_create: Vec<&Fixture> = all
        .iter()
        .filter(|f| {
            let v: Value = serde_json::from_slice(&f.body).expect("json");
            f.route == "/mutate"
                && v["request"]["kind"]["kind"] == "CronJob"
                && v["request"]["operation"] == "CREATE"
        })
        .collect();
    assert!(mutate_cronjob_create.len() >= 3);
    for f in &mutate_cronjob_create {
        assert_eq!(
            client
                .post(f.route, JSON, f.body.clone())
                .await
                .expect("post")
                .status,
            200
        );
    }
    let validate = fixture("job-create.validate.json");
    assert_eq!(
        client
            .post("/validate", JSON, validate.clone())
            .await
            .expect("post")
            .status,
        200
    );
    assert_eq!(
        client
            .post("/validate", Some("text/plain"), validate)
            .await
            .expect("post")
            .status,
        415
    );
    assert_eq!(
        client
            .post("/mutate", JSON, b"{".to_vec())
            .await
            .expect("post")
            .status,
        400
    );

    let page = server.metrics_page().await;
    let counted: f64 = page
        .lines()
        .filter(|l| {
            l.starts_with(
                "batchguard_admission_requests_total{webhook=\"mutate\",kind=\"CronJob\",operation=\"CREATE\",verdict=\"",
            )
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(counted, mutate_cronjob_create.len() as f64, "{page}");
    assert!(page.contains(
        "batchguard_admission_requests_total{webhook=\"validate\",kind=\"Job\",operation=\"CREATE\",verdict=\""
    ));
    assert_eq!(
        sample(
            &page,
            "batchguard_admission_rejected_total{webhook=\"validate\",code=\"415\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &page,
            "batchguard_admission_rejected_total{webhook=\"mutate\",code=\"400\"}"
        ),
        Some(1.0)
    );
    let mutate_total = mutate_cronjob_create.len() as f64 + 1.0;
    assert_eq!(
        sample(
            &page,
            "batchguard_admission_duration_seconds_bucket{le=\"+Inf\",webhook=\"mutate\"}"
        ),
        Some(mutate_total)
    );
    assert_eq!(
        sample(
            &page,
            "batchguard_admission_duration_seconds_count{webhook=\"mutate\"}"
        ),
        Some(mutate_total)
    );
    for le in [
        "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.1", "1.0",
    ] {
        let series =
            format!("batchguard_admission_duration_seconds_bucket{{le=\"{le}\",webhook=\"validate\"}}");
        assert!(sample(&page, &series).is_some(), "{series} missing");
    }
    // OpenMetrics names a counter family without its `_total` suffix.
    assert!(page.contains("# TYPE batchguard_patches counter"));
    assert!(page.contains("# TYPE batchguard_admission_duration_seconds histogram"));
    assert_eq!(
        sample(&page, "batchguard_certificate_expiry_seconds"),
        Some(jan_first(2040) as f64)
    );
    assert_eq!(
        sample(&page, "batchguard_config_reloads_total{result=\"failure\"}"),
        Some(0.0)
    );
    assert_eq!(sample(&page, "batchguard_panics_total"), Some(0.0));
}

/// Writes `text` to `path` through a temporary file and a rename, as the kubelet swaps a
/// ConfigMap volume's files, so a reader never sees it half-written.
fn replace_file(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename");
}
