//! The benchmark's ceiling: the same TLS and HTTP stack as `batchguard serve` (rustls with
//! ring, TLS 1.2/1.3, ALPN h2 and http/1.1, hyper-util's auto builder) answering every
//! request with a fixed AdmissionReview, after reading the body but without parsing it.
//!
//! With a fourth argument `parse-json` it also parses the body into a `serde_json::Value`
//! and answers with the request's uid, as the server branch's stand-in admission core does:
//! the gap between that and `batchguard serve` is what the HTTP shell itself costs.
//!
//! With `check-json` it only checks that the body is well-formed JSON (serde_json's
//! `IgnoredAny`: no allocation, no tree) and still answers the fixed review. Any webhook must
//! at least do that much before it can answer, so this mode is the floor for a server that
//! reads its input at all.
//!
//! Usage: `baseline-server <listen addr> <cert.pem> <key.pem> [fixed|check-json|parse-json]`

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
    let usage = "usage: baseline-server <listen addr> <cert.pem> <key.pem> [fixed|check-json|parse-json]";
    let listen: SocketAddr = args.next().context(usage)?.parse().context("listen address")?;
    let cert = args.next().context(usage)?;
    let key = args.next().context(usage)?;
    let mode = match args.next().as_deref() {
        None | Some("fixed") => Mode::Fixed,
        Some("check-json") => Mode::CheckJson,
        Some("parse-json") => Mode::ParseJson,
        Some(_) => anyhow::bail!(usage),
    };
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
            let service = hyper::service::service_fn(move |req| answer(req, mode));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Fixed,
    CheckJson,
    ParseJson,
}

async fn answer(req: Request<Incoming>, mode: Mode) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, as the webhook must.
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let answer = match mode {
        Mode::Fixed => Bytes::from_static(ANSWER),
        Mode::CheckJson => {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
                let mut response = Response::new(Full::new(Bytes::from_static(b"not JSON\n")));
                *response.status_mut() = hyper::StatusCode::BAD_REQUEST;
                return Ok(response);
            }
            Bytes::from_static(ANSWER)
        }
        Mode::ParseJson => {
            let review: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let uid = review["request"]["uid"].clone();
            let answer = serde_json::json!({
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": { "uid": uid, "allowed": true },
            });
            Bytes::from(serde_json::to_vec(&answer).unwrap_or_default())
        }
    };
    let mut response = Response::new(Full::new(answer));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
