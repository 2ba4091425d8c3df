//! The development certificates `batchguard serve` makes when no `--tls-cert` is given, so the
//! README's first command works without openssl: a CA and a serving certificate for
//! `localhost`, `127.0.0.1` and the in-cluster service name, written under `certs/dev/`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{Datelike, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Names the development serving certificate covers.
pub const DEV_NAMES: [&str; 5] = [
    "localhost",
    "127.0.0.1",
    "batchguard",
    "batchguard.batchguard.svc",
    "batchguard.batchguard.svc.cluster.local",
];

/// Where the files are.
#[derive(Debug, Clone)]
pub struct DevCerts {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// False when existing files were reused.
    pub created: bool,
}

/// Reuses `dir/{ca.pem,tls.crt,tls.key}` when they load and the certificate has a week left,
/// so a `curl --cacert` that worked keeps working across restarts; otherwise makes new ones.
pub fn ensure(dir: &Path) -> anyhow::Result<DevCerts> {
    let paths = DevCerts {
        ca: dir.join("ca.pem"),
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
        created: false,
    };
    if paths.ca.is_file() {
        if let Ok(pair) = super::tls::load_pair(&paths.cert, &paths.key) {
            if pair.not_after > (Utc::now() + Duration::days(7)).timestamp() {
                return Ok(paths);
            }
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (ca_pem, ca_key_pem, cert_pem, key_pem) =
        generate().context("cannot generate development certificates")?;
    write(&paths.ca, &ca_pem, false)?;
    write(&dir.join("ca.key"), &ca_key_pem, true)?;
    write(&paths.key, &key_pem, true)?;
    write(&paths.cert, &cert_pem, false)?;
    Ok(DevCerts {
        created: true,
        ..paths
    })
}

/// A CA valid ten years and a serving certificate valid one year, both PEM:
/// (ca cert, ca key, serving cert, serving key).
fn generate() -> Result<(String, String, String, String), rcgen::Error> {
    let today = Utc::now();
    let ymd = |d: chrono::DateTime<Utc>| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "batchguard development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = ymd(today - Duration::days(1));
    ca_params.not_after = ymd(today + Duration::days(3650));
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let mut params = CertificateParams::new(DEV_NAMES.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "batchguard.batchguard.svc");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    params.not_before = ymd(today - Duration::days(1));
    params.not_after = ymd(today + Duration::days(365));
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((
        ca_cert.pem(),
        ca_key.serialize_pem(),
        cert.pem(),
        key.serialize_pem(),
    ))
}

fn write(path: &Path, contents: &str, private: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mode = if private { 0o600 } else { 0o644 };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_loadable_pair_and_reuses_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = ensure(dir.path()).expect("generates");
        assert!(first.created);
        let pair = super::super::tls::load_pair(&first.cert, &first.key).expect("loads");
        assert!(pair.not_after > Utc::now().timestamp());
        let again = ensure(dir.path()).expect("reuses");
        assert!(!again.created);
    }

    #[test]
    fn serving_cert_names_localhost_and_the_service() {
        let dir = tempfile::tempdir().expect("tempdir");
        let certs = ensure(dir.path()).expect("generates");
        let pem = std::fs::read(&certs.cert).expect("read");
        let der = rustls_pemfile::certs(&mut pem.as_slice())
            .next()
            .expect("one cert")
            .expect("pem");
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).expect("x509");
        let san = cert
            .subject_alternative_name()
            .expect("ext ok")
            .expect("has SAN")
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",");
        for want in [
            "DNSName(localhost)",
            "IPAddress(7f:00:00:01)",
            "DNSName(batchguard.batchguard.svc.cluster.local)",
        ] {
            assert!(san.contains(want), "{want} missing from {san}");
        }
    }
}
