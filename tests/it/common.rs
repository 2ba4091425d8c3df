//! Helpers for the server tests: a CA per test (rcgen), certificate files on disk, a small
//! HTTPS client that trusts only that CA, and a plain-HTTP getter for the metrics port.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use batchguard::server::{serve, Settings};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body, Bytes, Frame};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};

/// A CA made for one test.
pub struct TestCa {
    pub pem: String,
    params: CertificateParams,
    key: KeyPair,
}

/// A leaf certificate and its key, PEM, plus the DER of the certificate to compare with
/// what a handshake presents.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("self-signed");
        TestCa {
            pem: cert.pem(),
            params,
            key,
        }
    }

    /// A serving certificate for `localhost` and `127.0.0.1`, valid until `not_after_year`.
    pub fn server_leaf(&self, not_after_year: i32) -> Leaf {
        self.leaf(
            vec!["localhost".into(), "127.0.0.1".into()],
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            not_after_year,
        )
    }

    pub fn client_leaf(&self) -> Leaf {
        self.leaf(
            vec!["kube-apiserver".into()],
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            2040,
        )
    }

    fn leaf(&self, names: Vec<String>, eku: rcgen::ExtendedKeyUsagePurpose, year: i32) -> Leaf {
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, "test leaf");
        params.extended_key_usages = vec![eku];
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(year, 1, 1);
        let key = KeyPair::generate().expect("key");
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("signed");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// Unix seconds of 1 January of `year`, as the expiry gauge reports it.
pub fn jan_first(year: i32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(year, 1, 1)
        .expect("date")
        .and_hms_opt(0, 0, 0)
        .expect("time")
        .and_utc()
        .timestamp()
}

/// Which protocol the client offers in ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    H1,
    H2,
}

/// An HTTPS client that opens a new connection (and handshake) per request, so every
/// request sees the certificate the server currently serves.
#[derive(Clone)]
pub struct Client {
    config: Arc<rustls::ClientConfig>,
    pub addr: SocketAddr,
    proto: Proto,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// DER of the certificate the server presented.
    pub peer_cert: Vec<u8>,
    pub version: Option<rustls::ProtocolVersion>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Client {
    pub fn new(addr: SocketAddr, ca_pem: &str, client_cert: Option<&Leaf>, proto: Proto) -> Client {
        Client::with_versions(addr, ca_pem, client_cert, proto, rustls::DEFAULT_VERSIONS)
    }

    pub fn with_versions(
        addr: SocketAddr,
        ca_pem: &str,
        client_cert: Option<&Leaf>,
        proto: Proto,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
            roots.add(cert.expect("pem")).expect("root");
        }
        let builder =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(versions)
                .expect("versions")
                .with_root_certificates(roots);
        let mut config = match client_cert {
            None => builder.with_no_client_auth(),
            Some(leaf) => {
                let chain: Vec<CertificateDer<'static>> =
                    rustls_pemfile::certs(&mut leaf.cert_pem.as_bytes())
                        .collect::<Result<_, _>>()
                        .expect("pem");
                let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut leaf.key_pem.as_bytes())
                    .expect("pem")
                    .expect("key");
                builder.with_client_auth_cert(chain, key).expect("client cert")
            }
        };
        // A resumed session presents no certificate; every request must show the current one.
        config.resumption = rustls::client::Resumption::disabled();
        config.alpn_protocols = match proto {
            Proto::H1 => vec![b"http/1.1".to_vec()],
            Proto::H2 => vec![b"h2".to_vec()],
        };
        Client {
            config: Arc::new(config),
            addr,
            proto,
        }
    }

    /// A TLS connection to the server with this client's ALPN, for tests that speak HTTP
    /// themselves.
    pub async fn connect(&self) -> Result<tokio_rustls::client::TlsStream<TcpStream>, BoxError> {
        let tcp = TcpStream::connect(self.addr).await?;
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        Ok(connector.connect(ServerName::try_from("localhost")?, tcp).await?)
    }

    pub async fn post(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, BoxError> {
        self.send("POST", path, content_type, Full::new(Bytes::from(body)))
            .await
    }

    pub async fn send<B>(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: B,
    ) -> Result<Reply, BoxError>
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<BoxError>,
    {
        let tcp = TcpStream::connect(self.addr).await?;
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let tls = connector.connect(ServerName::try_from("localhost")?, tcp).await?;
        let (_, session) = tls.get_ref();
        let peer_cert = session
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec())
            .ok_or("no peer certificate")?;
        let negotiated = session.alpn_protocol().map(<[u8]>::to_vec);
        let version = session.protocol_version();
        let mut req = hyper::Request::builder().method(method);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let response = match self.proto {
            Proto::H1 => {
                assert_eq!(negotiated.as_deref(), Some(&b"http/1.1"[..]), "ALPN http/1.1");
                let req = req.uri(path).header("host", "localhost").body(body)?;
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
                tokio::spawn(conn);
                sender.send_request(req).await?
            }
            Proto::H2 => {
                assert_eq!(negotiated.as_deref(), Some(&b"h2"[..]), "ALPN h2");
                let req = req.uri(format!("https://localhost{path}")).body(body)?;
                let (mut sender, conn) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await?;
                tokio::spawn(conn);
                sender.send_request(req).await?
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok(Reply {
            status,
            content_type,
            body,
            peer_cert,
            version,
        })
    }
}

/// A request body fed chunk by chunk from the test, to keep a request in flight.
pub struct ChannelBody(pub tokio::sync::mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// GET over plain HTTP/1.1 (the metrics port).
pub async fn get_plain(addr: SocketAddr, path: &str) -> (u16, String) {
    let tcp = TcpStream::connect(addr).await.expect("connect metrics");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("h1");
    tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header("host", "localhost")
        .body(http_body_util::Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(req).await.expect("metrics response");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The value of one sample line in a Prometheus text page (`name{labels}` exactly).
pub fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

/// Polls `check` until it returns `Some`, failing the test after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn write_pair(dir: &Path, leaf: &Leaf) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let cert = dir.join("tls.crt");
    let key = dir.join("tls.key");
    std::fs::write(&cert, &leaf.cert_pem).expect("write cert");
    std::fs::write(&key, &leaf.key_pem).expect("write key");
    (cert, key)
}

/// A server running in the background of a test.
pub struct Running {
    pub addr: SocketAddr,
    pub metrics: SocketAddr,
    pub ca: TestCa,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub fn client(&self, proto: Proto) -> Client {
        Client::new(self.addr, &self.ca.pem, None, proto)
    }

    /// Triggers the shutdown future the server was started with.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    pub async fn metrics_page(&self) -> String {
        let (status, page) = get_plain(self.metrics, "/metrics").await;
        assert_eq!(status, 200);
        page
    }
}

/// Starts a server with a fresh CA and serving certificate in a temporary directory;
/// `adjust` may change the settings (paths into `dir` are allowed: it exists already).
pub async fn start(adjust: impl FnOnce(&Path, &TestCa, &mut Settings)) -> Running {
    if std::env::var_os("RUST_LOG").is_some() {
        batchguard::server::init_logging(batchguard::cli::LogFormat::Text);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("batchguard test CA");
    let (cert, key) = write_pair(&dir.path().join("pair"), &ca.server_leaf(2040));
    let mut settings = Settings::new(cert, key);
    settings.reload_interval = Duration::from_millis(50);
    settings.shutdown_grace = Duration::from_secs(10);
    settings.drain_period = Duration::ZERO;
    adjust(dir.path(), &ca, &mut settings);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let metrics_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind metrics");
    let addr = listener.local_addr().expect("addr");
    let metrics = metrics_listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(serve(listener, Some(metrics_listener), settings, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        metrics,
        ca,
        dir,
        stop: Some(tx),
        handle,
    }
}

/// A captured AdmissionReview and the route its file name says it was sent to.
pub struct Fixture {
    pub name: String,
    pub route: &'static str,
    pub body: Vec<u8>,
}

pub fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/admission");
    let mut out: Vec<Fixture> = std::fs::read_dir(&dir)
        .expect("tests/data/admission")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            let route = if name.contains(".mutate") {
                "/mutate"
            } else if name.contains(".validate") {
                "/validate"
            } else {
                panic!("{name}: neither mutate nor validate")
            };
            Fixture {
                body: std::fs::read(&p).expect("read fixture"),
                name,
                route,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        out.len() >= 20,
        "expected the captured reviews, found {}",
        out.len()
    );
    out
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/admission")
            .join(name),
    )
    .expect("fixture")
}
