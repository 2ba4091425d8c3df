//! The webhook under hostile or unlucky clients: connections that go quiet half-way, a
//! flood of idle connections against a small open-files limit, and a shutdown while
//! keep-alive clients post in a loop. No fixed sleeps: every wait polls with a deadline.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::*;

const JSON: &str = "application/json";

/// Reads until the server closes the connection (EOF or an error), failing after `limit`.
/// Returns how long after `start` that happened.
async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    start: Instant,
    limit: Duration,
) -> Duration {
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((start + limit).into(), stream.read(&mut buf)).await {
            Err(_) => panic!("the server kept the connection open for {limit:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame.
const SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_connections_that_stop_after_the_preface_or_mid_headers_are_closed() {
    let server = start(|_, _, s| {
        s.header_read_timeout = Duration::from_millis(400);
        s.idle_timeout = Duration::from_millis(800);
    })
    .await;
    let client = server.client(Proto::H2);
    let opened = Instant::now();

    let mut preface_only = client.connect().await.expect("connect");
    preface_only.write_all(PREFACE).await.expect("preface");
    preface_only.write_all(SETTINGS).await.expect("settings");

    // HEADERS for stream 1 without END_HEADERS (flags 0): `:method: POST` (HPACK index 3),
    // and then nothing, as if the CONTINUATION never came.
    let mut half_headers = client.connect().await.expect("connect");
    half_headers.write_all(PREFACE).await.expect("preface");
    half_headers.write_all(SETTINGS).await.expect("settings");
    half_headers
        .write_all(&[0, 0, 1, 1, 0, 0, 0, 0, 1, 0x83])
        .await
        .expect("headers");

    // A TLS connection that never sends a byte of HTTP.
    let mut silent = client.connect().await.expect("connect");

    for (what, stream) in [
        ("preface only", &mut preface_only),
        ("HEADERS without END_HEADERS", &mut half_headers),
        ("nothing after the handshake", &mut silent),
    ] {
        let took = closed_by_server(stream, opened, Duration::from_secs(10)).await;
        assert!(
            took >= Duration::from_millis(300),
            "{what}: closed too early ({took:?})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let server = start(|_, _, s| {
        s.header_read_timeout = Duration::from_millis(300);
        s.idle_timeout = Duration::from_millis(900);
    })
    .await;
    let body = fixture("cronjob-create.mutate.json");
    for proto in [Proto::H1, Proto::H2] {
        let tls = server.client(proto).connect().await.expect("connect");
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let request = hyper::Request::post("https://localhost/mutate")
            .header("host", "localhost")
            .header("content-type", JSON)
            .body(Full::new(Bytes::from(body.clone())))
            .expect("request");
        let (response, _sender): (_, Box<dyn std::any::Any + Send>) = match proto {
            Proto::H1 => {
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                    .await
                    .expect("h1");
                tokio::spawn(async move {
                    let _ = conn.await;
                    let _ = done_tx.send(Instant::now());
                });
                (
                    sender.send_request(request).await.expect("answer"),
                    Box::new(sender),
                )
            }
            Proto::H2 => {
                let (mut sender, conn) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                        .await
                        .expect("h2");
                tokio::spawn(async move {
                    let _ = conn.await;
                    let _ = done_tx.send(Instant::now());
                });
                (
                    sender.send_request(request).await.expect("answer"),
                    Box::new(sender),
                )
            }
        };
        assert_eq!(response.status(), 200);
        let answered = Instant::now();
        let _ = response.into_body().collect().await.expect("body");
        // The client keeps the connection; the server ends it once idle.
        let closed = tokio::time::timeout(Duration::from_secs(10), done_rx)
            .await
            .unwrap_or_else(|_| panic!("{proto:?}: the idle connection was never closed"))
            .expect("closed");
        let idle = closed - answered;
        assert!(
            idle >= Duration::from_millis(600),
            "{proto:?}: closed after {idle:?}, before the idle timeout"
        );
    }
}

/// A keep-alive client posting in a loop until the server refuses to connect. Counts
/// answers, requests the client never sent because the connection had been closed first,
/// and requests that were sent and never answered (which must not happen).
#[derive(Default)]
struct Tally {
    answered: AtomicUsize,
    not_sent: AtomicUsize,
    lost: AtomicUsize,
    connections: AtomicUsize,
}

async fn post_in_a_loop(client: Client, proto: Proto, body: Vec<u8>, tally: Arc<Tally>) {
    'connections: loop {
        let Ok(tls) = client.connect().await else {
            return; // refused: nothing was sent
        };
        tally.connections.fetch_add(1, Ordering::Relaxed);
        let request = || {
            hyper::Request::post("https://localhost/validate?timeout=10s")
                .header("host", "localhost")
                .header("content-type", JSON)
                .body(Full::new(Bytes::from(body.clone())))
                .expect("request")
        };
        macro_rules! drive {
            ($sender:ident) => {
                loop {
                    if $sender.ready().await.is_err() {
                        continue 'connections;
                    }
                    match $sender.try_send_request(request()).await {
                        Ok(response) => {
                            let status = response.status();
                            match response.into_body().collect().await {
                                Ok(_) if status == 200 => {
                                    tally.answered.fetch_add(1, Ordering::Relaxed);
                                }
                                other => {
                                    eprintln!("{proto:?}: status {status}, body {other:?}");
                                    tally.lost.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        Err(mut e) => {
                            if e.take_message().is_some() {
                                tally.not_sent.fetch_add(1, Ordering::Relaxed);
                            } else {
                                eprintln!("{proto:?}: sent and lost: {:?}", e.error());
                                tally.lost.fetch_add(1, Ordering::Relaxed);
                            }
                            continue 'connections;
                        }
                    }
                }
            };
        }
        match proto {
            Proto::H1 => {
                let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await
                else {
                    continue;
                };
                tokio::spawn(conn);
                drive!(sender)
            }
            Proto::H2 => {
                let Ok((mut sender, conn)) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await
                else {
                    continue;
                };
                tokio::spawn(conn);
                drive!(sender)
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_every_request_keep_alive_clients_had_sent() {
    let mut server = start(|_, _, s| {
        s.drain_period = Duration::from_millis(300);
    })
    .await;
    let body = fixture("cronjob-create.validate.json");
    let tally = Arc::new(Tally::default());
    let mut clients = Vec::new();
    for i in 0..16 {
        let proto = if i % 2 == 0 { Proto::H1 } else { Proto::H2 };
        clients.push(tokio::spawn(post_in_a_loop(
            server.client(proto),
            proto,
            body.clone(),
            tally.clone(),
        )));
    }
    eventually("every client to be answered", Duration::from_secs(20), || async {
        (tally.answered.load(Ordering::Relaxed) >= 200).then_some(())
    })
    .await;
    server.shutdown();
    tokio::time::timeout(Duration::from_secs(20), &mut server.handle)
        .await
        .expect("the server returns")
        .expect("join")
        .expect("clean exit");
    for c in clients {
        tokio::time::timeout(Duration::from_secs(10), c)
            .await
            .expect("every client stops once refused")
            .expect("join");
    }
    let (answered, not_sent, lost) = (
        tally.answered.load(Ordering::Relaxed),
        tally.not_sent.load(Ordering::Relaxed),
        tally.lost.load(Ordering::Relaxed),
    );
    eprintln!(
        "answered {answered}, not sent (connection closed first) {not_sent}, lost {lost}, connections {}",
        tally.connections.load(Ordering::Relaxed)
    );
    assert_eq!(lost, 0, "requests sent and never answered");
    assert!(answered >= 200);
}

// ---------------------------------------------------------------------------------------
// The binary under a small open-files limit

struct Server {
    child: Child,
    addr: std::net::SocketAddr,
    metrics: std::net::SocketAddr,
    ca: TestCa,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// `batchguard serve` under `prlimit --nofile=N`.
async fn spawn_limited(nofile: u32) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("batchguard limits CA");
    let (cert, key) = write_pair(&dir.path().join("pair"), &ca.server_leaf(2040));
    let (addr, metrics) = (free_port(), free_port());
    let child = Command::new("prlimit")
        .arg(format!("--nofile={nofile}:{nofile}"))
        .arg(env!("CARGO_BIN_EXE_batchguard"))
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--metrics-listen",
            &metrics.to_string(),
        ])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn prlimit batchguard serve");
    let server = Server {
        child,
        addr,
        metrics,
        ca,
        _dir: dir,
    };
    eventually("the server to listen", Duration::from_secs(20), || async {
        tokio::net::TcpStream::connect(server.metrics)
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_locks_out_neither_the_webhook_nor_the_probes() {
    let server = spawn_limited(128).await;
    let client = Client::new(server.addr, &server.ca.pem, None, Proto::H2);
    // Finished TLS handshakes that never send a request, and plain connections to the
    // metrics port that send nothing: more of each than the process has descriptors.
    let mut idle = Vec::new();
    for _ in 0..160 {
        if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(2), client.connect()).await {
            idle.push(tls);
        }
    }
    let mut idle_plain = Vec::new();
    for _ in 0..160 {
        if let Ok(tcp) = tokio::net::TcpStream::connect(server.metrics).await {
            idle_plain.push(tcp);
        }
    }
    assert!(idle.len() >= 100, "the flood got only {} connections", idle.len());
    let body = fixture("cronjob-create.mutate.json");
    for _ in 0..3 {
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            client.post("/mutate", Some(JSON), body.clone()),
        )
        .await
        .expect("the webhook answers while flooded")
        .expect("request");
        assert_eq!(reply.status, 200, "{}", reply.text());
        let (status, _) = tokio::time::timeout(Duration::from_secs(5), get_plain(server.metrics, "/healthz"))
            .await
            .expect("/healthz answers while flooded");
        assert_eq!(status, 200);
        let (status, _) = tokio::time::timeout(Duration::from_secs(5), get_plain(server.metrics, "/readyz"))
            .await
            .expect("/readyz answers while flooded");
        assert_eq!(status, 200);
    }
    drop(idle);
    drop(idle_plain);
}
