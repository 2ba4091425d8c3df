//! `serve --cert-secret` end to end against the strict fake API server: the real server
//! creates the Secret, injects its CA into every webhook (`url` and `service` clientConfigs)
//! and keeps it there, answers `/readyz` 503 until then, serves a certificate that verifies
//! against the Secret's CA, rotates it without dropping an open connection, and says clearly
//! what RBAC refuses. Also the binary with the deploy manifests' flags, and `batchguard certs`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use batchguard::cluster::{certs::unix_now, parse_hosts, CertManager, Client, Host, Material, SecretRef};
use batchguard::server::{serve, Settings};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::cluster_objects::{b64, bundles, stored, webhook, NS, SECRET};
use crate::common::{eventually, fixture, get_plain, Client as HttpsClient, Proto};
use crate::fake_apiserver::FakeApiServer;

const BIN: &str = env!("CARGO_BIN_EXE_batchguard");
const JSON: Option<&str> = Some("application/json");
const WAIT: Duration = Duration::from_secs(20);
const DAY: i64 = 86_400;

/// The names the test client connects with.
fn hosts() -> Vec<Host> {
    parse_hosts("localhost,127.0.0.1").expect("hosts")
}

/// Both configurations named `batchguard`: mutating with a `service` and a `url` webhook,
/// validating with a `url` webhook, none with a caBundle yet; the URLs start with `base`.
fn insert_webhook_configurations_at(fake: &FakeApiServer, base: &str) {
    fake.insert(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "batchguard"},
        "webhooks": [
            webhook("mutate.batchguard.io", json!({"service": {"namespace": NS, "name": "batchguard", "path": "/mutate", "port": 443}})),
            webhook("mutate-url.batchguard.io", json!({"url": format!("{base}/mutate")})),
        ],
    }));
    fake.insert(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "batchguard"},
        "webhooks": [webhook("validate.batchguard.io", json!({"url": format!("{base}/validate")}))],
    }));
}

fn insert_webhook_configurations(fake: &FakeApiServer) {
    insert_webhook_configurations_at(fake, "https://127.0.0.1:8443");
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .expect("a certificate")
        .expect("pem")
        .to_vec()
}

/// Every request the fake saw is one the self-managed overlay's Role or ClusterRole allows.
fn assert_rbac_allows(requests: &[crate::fake_apiserver::Recorded]) {
    let objects = crate::deploy::render("self-managed");
    let rules: Vec<(Option<&str>, &Value)> = objects
        .iter()
        .filter(|o| o["metadata"]["name"] == "batchguard")
        .filter_map(|o| match o["kind"].as_str() {
            Some("Role") => Some((o["metadata"]["namespace"].as_str(), o)),
            Some("ClusterRole") => Some((None, o)),
            _ => None,
        })
        .flat_map(|(ns, o)| o["rules"].as_array().into_iter().flatten().map(move |r| (ns, r)))
        .collect();
    let has = |list: &Value, item: &str| list.as_array().is_some_and(|l| l.iter().any(|v| v == item));
    assert!(!requests.is_empty());
    for r in requests {
        let parts: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        let (group, namespace, resource, name) = match parts.as_slice() {
            ["api", "v1", "namespaces", ns, res] => ("", Some(*ns), *res, None),
            ["api", "v1", "namespaces", ns, res, name] => ("", Some(*ns), *res, Some(*name)),
            ["apis", group, "v1", res, name] => (*group, None, *res, Some(*name)),
            other => panic!("unexpected request path {other:?}"),
        };
        let verb = match (r.method.as_str(), name) {
            ("GET", Some(_)) => "get",
            ("POST", None) => "create",
            ("PUT", Some(_)) => "update",
            ("PATCH", Some(_)) => "patch",
            other => panic!("unexpected request {other:?} {}", r.path),
        };
        let allowed = rules.iter().any(|(scope, rule)| {
            (scope.is_none() || *scope == namespace)
                && has(&rule["apiGroups"], group)
                && has(&rule["resources"], resource)
                && has(&rule["verbs"], verb)
                && match (rule.get("resourceNames"), name) {
                    (None, _) => true,
                    (Some(names), Some(name)) => has(names, name),
                    (Some(_), None) => false,
                }
        });
        assert!(
            allowed,
            "deploy/overlays/self-managed/rbac.yaml does not allow {verb} {}",
            r.path
        );
    }
}

async fn readyz(metrics: std::net::SocketAddr) -> (u16, Value) {
    let (status, body) = get_plain(metrics, "/readyz").await;
    (status, serde_json::from_str(&body).expect("readyz is JSON"))
}

/// The real server, self-managed against `fake`, checking every 100 ms.
struct Managed {
    addr: std::net::SocketAddr,
    metrics: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Managed {
    async fn start(fake: &FakeApiServer) -> Managed {
        let client = Client::from_config(fake.config()).expect("client");
        let manager = CertManager::new(
            client,
            SecretRef {
                namespace: NS.into(),
                name: SECRET.into(),
            },
            hosts(),
            vec!["batchguard".to_owned()],
        )
        .expect("manager")
        .with_interval(Duration::from_millis(100));
        let mut settings = Settings::self_managed(manager);
        settings.drain_period = Duration::ZERO;
        settings.shutdown_grace = Duration::from_secs(5);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let metrics_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind metrics");
        let addr = listener.local_addr().expect("addr");
        let metrics = metrics_listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(serve(listener, Some(metrics_listener), settings, async move {
            let _ = rx.await;
        }));
        Managed {
            addr,
            metrics,
            stop: Some(tx),
            handle,
        }
    }

    async fn wait_ready(&self) {
        let metrics = self.metrics;
        eventually("/readyz 200", WAIT, || async move {
            (readyz(metrics).await.0 == 200).then_some(())
        })
        .await;
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.handle.await.expect("join").expect("clean exit");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_the_secret_serves_it_and_turns_ready_once_every_webhook_has_the_ca() {
    let fake = FakeApiServer::start().await;
    let server = Managed::start(&fake).await;

    // No webhook configuration yet: the certificate is made and served, but not ready.
    let (ca, cert, _) = eventually("the Secret", WAIT, || async { stored(&fake) }).await;
    let (status, body) = eventually("a reason on /readyz", WAIT, || async {
        let (status, body) = readyz(server.metrics).await;
        body.get("certificates")
            .is_some_and(|r| r.as_str().is_some_and(|r| r.contains("\"batchguard\"")))
            .then_some((status, body))
    })
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "waiting for certificates");
    assert!(
        body["certificates"].as_str().is_some_and(
            |r| r.starts_with("no MutatingWebhookConfiguration or ValidatingWebhookConfiguration")
        ),
        "{body}"
    );
    assert_eq!(
        get_plain(server.metrics, "/healthz").await.0,
        200,
        "live all along"
    );

    insert_webhook_configurations(&fake);
    server.wait_ready().await;
    assert_eq!(
        bundles(&fake),
        vec![Some(ca.clone()); 3],
        "service and url webhooks"
    );
    Material::check(
        &ca,
        &cert,
        &stored(&fake).expect("secret").2,
        &hosts(),
        unix_now(),
    )
    .expect("the stored material is usable");

    // A client that trusts only the Secret's CA gets the Secret's certificate.
    for proto in [Proto::H1, Proto::H2] {
        let reply = HttpsClient::new(server.addr, &ca, None, proto)
            .post("/mutate", JSON, fixture("cronjob-create.mutate.json"))
            .await
            .expect("handshake verifies against ca.crt");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.peer_cert, der(&cert));
    }
    let metrics = get_plain(server.metrics, "/metrics").await.1;
    let not_after = Material::check(
        &ca,
        &cert,
        &stored(&fake).expect("secret").2,
        &hosts(),
        unix_now(),
    )
    .expect("usable")
    .not_after;
    assert_eq!(
        crate::common::sample(&metrics, "batchguard_certificate_expiry_seconds"),
        Some(not_after as f64)
    );
    let requests = fake.requests();
    assert!(
        requests.iter().any(|r| r.method == "POST"),
        "the Secret was created"
    );
    assert_rbac_allows(&requests);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_a_removed_ca_bundle_back() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let server = Managed::start(&fake).await;
    server.wait_ready().await;
    let (ca, _, _) = stored(&fake).expect("secret");

    fake.modify("validatingwebhookconfigurations", "", "batchguard", |config| {
        if let Some(client_config) = config["webhooks"][0]["clientConfig"].as_object_mut() {
            client_config.remove("caBundle");
        }
    });
    assert_eq!(bundles(&fake)[2], None);
    eventually("the caBundle to be back", WAIT, || async {
        (bundles(&fake) == vec![Some(ca.clone()); 3]).then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_swaps_the_certificate_without_dropping_an_open_connection() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    let server = Managed::start(&fake).await;
    server.wait_ready().await;
    let (first_ca, first_cert, _) = stored(&fake).expect("secret");
    let body = fixture("cronjob-create.mutate.json");

    // One HTTP/2 connection, kept open across the rotation.
    let client = HttpsClient::new(server.addr, &first_ca, None, Proto::H2);
    let tls = client.connect().await.expect("connect");
    assert_eq!(
        tls.get_ref().1.peer_certificates().expect("certificate")[0].as_ref(),
        der(&first_cert)
    );
    let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
        .await
        .expect("h2");
    let connection = tokio::spawn(conn);
    let post = |body: Vec<u8>| {
        hyper::Request::post("https://localhost/mutate")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("request")
    };
    let reply = sender.send_request(post(body.clone())).await.expect("before");
    assert_eq!(reply.status(), 200);
    reply.into_body().collect().await.expect("body");

    // Someone (or time) puts material in its last third into the Secret: it is replaced.
    let now = unix_now();
    let old = Material::generate_valid(&hosts(), now - 70 * DAY, now + 30 * DAY, None).expect("material");
    fake.modify("secrets", NS, SECRET, |secret| {
        secret["data"]["ca.crt"] = json!(b64(old.ca_pem.as_bytes()));
        secret["data"]["tls.crt"] = json!(b64(old.cert_pem.as_bytes()));
        secret["data"]["tls.key"] = json!(b64(old.key_pem.as_bytes()));
    });
    let (new_ca, new_cert, _) = eventually("a replaced Secret", WAIT, || async {
        stored(&fake).filter(|(_, cert, _)| *cert != first_cert && *cert != old.cert_pem)
    })
    .await;
    eventually("the new certificate to be served", WAIT, || {
        let client = HttpsClient::new(server.addr, &new_ca, None, Proto::H2);
        let (body, want) = (body.clone(), der(&new_cert));
        async move {
            let reply = client.post("/mutate", JSON, body).await.ok()?;
            (reply.peer_cert == want && reply.status == 200).then_some(())
        }
    })
    .await;
    server.wait_ready().await;
    assert_eq!(bundles(&fake), vec![Some(new_ca.clone()); 3]);

    // The connection made before the swap still serves requests.
    let reply = sender.send_request(post(body)).await.expect("after the swap");
    assert_eq!(reply.status(), 200);
    reply.into_body().collect().await.expect("body");
    assert!(!connection.is_finished(), "the connection is still open");
    let requests = fake.requests();
    assert!(
        requests.iter().any(|r| r.method == "PUT"),
        "the Secret was replaced"
    );
    assert_rbac_allows(&requests);
    drop(sender);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rbac_refusal_keeps_the_server_unready_with_the_missing_rule_until_granted() {
    let fake = FakeApiServer::start().await;
    insert_webhook_configurations(&fake);
    fake.forbid("create", "secrets");
    let server = Managed::start(&fake).await;

    let body = eventually("a refusal on /readyz", WAIT, || async {
        let (status, body) = readyz(server.metrics).await;
        assert_eq!(status, 503, "never ready while refused: {body}");
        body.get("certificates")
            .is_some_and(|r| r.as_str().is_some_and(|r| r.contains("forbidden")))
            .then_some(body)
    })
    .await;
    assert_eq!(
        body["certificates"],
        format!(
            "cannot create secret batchguard/batchguard-tls: forbidden by RBAC (User \"{}\" needs \
             \"create\" on secrets in namespace batchguard)",
            crate::fake_apiserver::USER
        ),
    );
    assert_eq!(get_plain(server.metrics, "/healthz").await.0, 200);
    assert!(stored(&fake).is_none());

    fake.permit("create", "secrets");
    server.wait_ready().await;
    assert!(stored(&fake).is_some());
    server.stop().await;
}

/// A free port on 127.0.0.1 (the binary binds it right after; another test could take it in
/// between, but the ports are ephemeral and the window is short).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Kills the child when the test ends, passed or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_with_the_deploy_flags_logs_a_refusal_then_self_manages() {
    let fake = FakeApiServer::start().await;
    let (port, metrics_port) = (free_port(), free_port());
    // Registered by URL: the default names gain the URL's host, so the client below (and an
    // API server calling the URL) can verify the certificate.
    insert_webhook_configurations_at(&fake, &format!("https://localhost:{port}"));
    fake.forbid("get", "secrets");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\n\
             clusters:\n- name: fake\n  cluster:\n    server: {}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n\
             users:\n- name: fake\n  user: {{}}\n",
            fake.url()
        ),
    )
    .expect("kubeconfig");
    let log = dir.path().join("log");
    let child = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "serve",
            "--cert-secret",
            "batchguard/batchguard-tls",
            "--webhook-configurations",
            "batchguard",
            "--log-format",
            "json",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--metrics-listen",
            &format!("127.0.0.1:{metrics_port}"),
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("POD_NAMESPACE")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start batchguard serve");
    let _child = Killed(child);
    let metrics: std::net::SocketAddr = ([127, 0, 0, 1], metrics_port).into();

    let refusal = eventually("the refusal in the log", WAIT, || {
        let log = log.clone();
        async move {
            let text = std::fs::read_to_string(&log).ok()?;
            text.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| {
                    l["error"]
                        .as_str()
                        .is_some_and(|e| e.contains("forbidden by RBAC"))
                })
        }
    })
    .await;
    assert_eq!(refusal["level"], "WARN", "{refusal}");
    assert!(
        refusal["error"].as_str().is_some_and(|e| e
            .contains("needs \"get\" on secrets in namespace batchguard, resourceNames [batchguard-tls]")),
        "{refusal}"
    );
    let (status, body) = readyz(metrics).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(get_plain(metrics, "/healthz").await.0, 200);

    fake.permit("get", "secrets");
    eventually("/readyz 200", WAIT, || async {
        (readyz(metrics).await.0 == 200).then_some(())
    })
    .await;
    let (ca, cert, key) = stored(&fake).expect("secret");
    assert_eq!(bundles(&fake), vec![Some(ca.clone()); 3]);
    Material::check(
        &ca,
        &cert,
        &key,
        &parse_hosts("batchguard.batchguard.svc,batchguard.batchguard.svc.cluster.local,localhost")
            .expect("hosts"),
        unix_now(),
    )
    .expect("the Service's names and the webhook URL's host, no more");
    let addr = ([127, 0, 0, 1], port).into();
    let reply = HttpsClient::new(addr, &ca, None, Proto::H2)
        .post("/validate", JSON, fixture("cronjob-create.validate.json"))
        .await
        .expect("handshake verifies against ca.crt");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.peer_cert, der(&cert));
}

fn certs(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("certs")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run batchguard certs")
}

#[test]
fn certs_writes_a_usable_pair_with_a_private_key_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = certs(
        dir.path(),
        &["--out-dir", "out/certs", "--hosts", "batchguard.ops.svc,10.0.0.1"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("wrote out/certs/ca.crt\n"), "{stdout}");
    let read = |name: &str| std::fs::read_to_string(dir.path().join("out/certs").join(name)).expect("read");
    Material::check(
        &read("ca.crt"),
        &read("tls.crt"),
        &read("tls.key"),
        &parse_hosts("batchguard.ops.svc,10.0.0.1").expect("hosts"),
        unix_now(),
    )
    .expect("usable for exactly those hosts");
    let mode = std::fs::metadata(dir.path().join("out/certs/tls.key"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out/certs"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "no temporary files left: {names:?}");
}

#[test]
fn certs_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tls.key"), "mine").expect("write");
    let out = certs(dir.path(), &["--out-dir", ".", "--hosts", "localhost"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: refusing to overwrite ./tls.key: pass --force to replace\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tls.key")).expect("read"),
        "mine"
    );
    assert!(!dir.path().join("ca.crt").exists(), "nothing written");

    let out = certs(dir.path(), &["--out-dir", ".", "--hosts", "localhost", "--force"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        std::fs::read_to_string(dir.path().join("tls.key")).expect("read"),
        "mine"
    );
}

#[test]
fn certs_and_serve_refuse_bad_values_as_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, message) in [
        (
            &["certs", "--out-dir", ".", "--hosts", "Upper.svc"][..],
            "invalid certificate host \"Upper.svc\"",
        ),
        (&["certs", "--out-dir", "."][..], "--hosts"),
        (
            &["serve", "--cert-secret", "Ns/tls"][..],
            "invalid secret reference \"Ns/tls\"",
        ),
        (
            &[
                "serve",
                "--cert-secret",
                "a/b",
                "--tls-cert",
                "c",
                "--tls-key",
                "k",
            ][..],
            "cannot be used with",
        ),
        (
            &["serve", "--cert-secret", "a/b", "--cert-hosts", "a,,b"][..],
            "invalid certificate host \"\"",
        ),
        (
            &["serve", "--cert-secret", "a/b", "--webhook-configurations", "Bad"][..],
            "invalid object name \"Bad\"",
        ),
        (&["serve", "--cert-hosts", "a.svc"][..], "--cert-secret"),
        (
            &["serve", "--cert-secret", "a/b", "--cert-check-interval", "10ms"][..],
            "shorter than 1s",
        ),
    ] {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn serve_without_a_namespace_for_the_secret_says_how_to_name_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--cert-secret",
            "batchguard-tls",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("POD_NAMESPACE")
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--cert-secret \"batchguard-tls\" names no namespace and POD_NAMESPACE is not set"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
