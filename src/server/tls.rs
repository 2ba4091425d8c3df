//! Serving certificates: loading a PEM pair, the rustls configuration (TLS 1.2/1.3, ALPN h2
//! and http/1.1, optional client verification), and a resolver whose pair can be swapped
//! while the server runs, so a rotated Secret takes effect on the next handshake.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Everything that fails while reading a certificate pair; shown in logs, so each variant
/// names the file.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key")]
    NoKey { path: PathBuf },
    #[error("{path}: malformed PEM: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("the key in {key} does not fit the certificate in {cert}: {message}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
    #[error("{path}: the certificate cannot be parsed: {message}")]
    X509 { path: PathBuf, message: String },
}

/// The one crypto provider used everywhere: ring, as Cargo.toml selects.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A loaded pair and the certificate's notAfter (unix seconds) for the expiry gauge.
pub struct LoadedPair {
    pub key: Arc<CertifiedKey>,
    pub not_after: i64,
}

/// Reads a PEM certificate chain and its key and checks that they belong together.
pub fn load_pair(cert_path: &Path, key_path: &Path) -> Result<LoadedPair, CertError> {
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| CertError::Pem {
            path: cert_path.into(),
            message: e.to_string(),
        })?;
    let Some(leaf) = chain.first() else {
        return Err(CertError::NoCertificate {
            path: cert_path.into(),
        });
    };
    let not_after = not_after(leaf).map_err(|message| CertError::X509 {
        path: cert_path.into(),
        message,
    })?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| CertError::Pem {
            path: key_path.into(),
            message: e.to_string(),
        })?
        .ok_or_else(|| CertError::NoKey {
            path: key_path.into(),
        })?;
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| CertError::Mismatch {
        cert: cert_path.into(),
        key: key_path.into(),
        message: e.to_string(),
    })?;
    Ok(LoadedPair {
        key: Arc::new(certified),
        not_after,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, CertError> {
    std::fs::read(path).map_err(|source| CertError::Read {
        path: path.into(),
        source,
    })
}

fn not_after(der: &CertificateDer<'_>) -> Result<i64, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| e.to_string())?;
    Ok(cert.validity().not_after.timestamp())
}

/// Hands every new handshake the current pair; [`CertResolver::set`] swaps it. Connections
/// already established keep the pair they were made with, so a swap drops none.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl CertResolver {
    pub fn new(key: Arc<CertifiedKey>) -> Self {
        CertResolver {
            current: RwLock::new(Some(key)),
        }
    }

    /// A resolver with no pair yet: handshakes fail until the first [`CertResolver::set`]
    /// (self-managed certificates, before the first Secret is read).
    pub fn empty() -> Self {
        CertResolver {
            current: RwLock::new(None),
        }
    }

    pub fn set(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(key);
    }

    pub fn current(&self) -> Option<Arc<CertifiedKey>> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current()
    }
}

/// The rustls server configuration: TLS 1.2 and 1.3 only, ALPN h2 then http/1.1, and, with
/// `client_ca`, a required client certificate signed by one of its certificates.
pub fn server_config(
    resolver: Arc<CertResolver>,
    client_ca: Option<&Path>,
) -> anyhow::Result<rustls::ServerConfig> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS 1.2 and 1.3 with the ring provider")?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let pem =
                std::fs::read(path).with_context(|| format!("cannot read client CA {}", path.display()))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.with_context(|| format!("malformed PEM in client CA {}", path.display()))?;
                roots
                    .add(cert)
                    .with_context(|| format!("unusable certificate in client CA {}", path.display()))?;
            }
            if roots.is_empty() {
                anyhow::bail!("client CA {} holds no PEM certificate", path.display());
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .with_context(|| format!("client CA {}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
