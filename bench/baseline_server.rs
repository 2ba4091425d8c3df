//! The benchmark's ceiling: the same TLS and HTTP stack as `batchguard serve` (rustls with
//! ring, TLS 1.2/1.3, ALPN h2 and http/1.1, hyper-util's auto builder) answering every
//! request with a fixed AdmissionReview, after reading the body but without parsing it.
//!
//! Usage: `baseline-server <listen addr> <cert.pem> <key.pem>`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

const ANSWER: &[u8] = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"e5258c21-0093-45bf-826b-a4df58555f48","allowed":true}}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: baseline-server <listen addr> <cert.pem> <key.pem>";
    let listen: SocketAddr = args.next().context(usage)?.parse().context("listen address")?;
    let cert = args.next().context(usage)?;
    let key = args.next().context(usage)?;
    let pair = batchguard::server::tls::load_pair(cert.as_ref(), key.as_ref())?;
    let resolver = Arc::new(batchguard::server::tls::CertResolver::new(pair.key));
    let config = batchguard::server::tls::server_config(resolver, None)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!("baseline listening on {listen}");
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => continue,
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(answer);
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, as the webhook must, but do not look at it.
    let _ = req.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(ANSWER)));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
