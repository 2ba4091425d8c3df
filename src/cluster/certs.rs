//! Serving material for self-managed certificates: making a CA and a serving certificate,
//! deciding whether stored material may still be served, and writing it to files for the
//! static path. Pure apart from [`write_files`]: no network, so every rule is unit-tested.
//!
//! Lifetimes: the serving certificate is valid [`CERT_VALIDITY_DAYS`] (one year) and is
//! replaced once two thirds of it have passed (about four months before expiry), which leaves
//! months for a replica that cannot reach the API server to be noticed. The CA is valid
//! [`CA_VALIDITY_DAYS`] (ten years). Its private key is never stored: each rotation makes a
//! new CA, so a leaked Secret cannot mint certificates for other names. To keep replicas that
//! still serve the previous certificate trusted while they pick up the new one, `ca.crt` is a
//! bundle: the new CA first, then the previous CA while it is still valid.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::danger::ServerCertVerifier as _;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// How long a new serving certificate is valid.
pub const CERT_VALIDITY_DAYS: i64 = 365;
/// How long a new CA is valid.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// New certificates start this long in the past, so a replica whose clock lags still accepts them.
const BACKDATE: i64 = 3600;
const DAY: i64 = 86_400;

/// Why material cannot be made, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("invalid certificate host {value:?}: {reason}")]
    InvalidHost { value: String, reason: &'static str },
    #[error("no certificate hosts were given")]
    NoHosts,
    #[error("cannot generate a certificate: {0}")]
    Generate(rcgen::Error),
    #[error("unix time {unix} is out of range for a certificate")]
    OutOfRange { unix: i64 },
    #[error("cannot load the pair into rustls: {0}")]
    Load(rustls::Error),
    #[error("cannot write {path}: {cause}")]
    Write { path: PathBuf, cause: std::io::Error },
}

/// Why stored material is not served as it is; each one makes the manager replace it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("{key:?} is missing")]
    Missing { key: &'static str },
    #[error("{key:?} is not valid PEM: {message}")]
    Pem { key: &'static str, message: String },
    #[error("{key:?} holds no {what}")]
    Empty { key: &'static str, what: &'static str },
    #[error("{key:?} cannot be parsed as X.509: {message}")]
    X509 { key: &'static str, message: String },
    #[error("the key in \"tls.key\" does not belong to the certificate in \"tls.crt\": {message}")]
    KeyMismatch { message: String },
    #[error("the certificate is not valid for {host:?} under the CA in \"ca.crt\": {message}")]
    NotTrusted { host: String, message: String },
    #[error("the certificate names {have:?}, not the requested {want:?}")]
    HostsDiffer { have: Vec<String>, want: Vec<String> },
    #[error(
        "the certificate is in the last third of its lifetime (renew from {renew_at}, expires {not_after})"
    )]
    Renewal { renew_at: i64, not_after: i64 },
}

/// One name the serving certificate covers: a DNS name, or an IP address (an IP SAN).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    Dns(String),
    Ip(IpAddr),
}

impl FromStr for Host {
    type Err = CertError;

    fn from_str(value: &str) -> Result<Self, CertError> {
        let invalid = |reason| CertError::InvalidHost {
            value: value.to_owned(),
            reason,
        };
        if let Ok(ip) = value.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        if value.is_empty() {
            return Err(invalid("it is empty"));
        }
        if value.len() > 253 {
            return Err(invalid("a DNS name has at most 253 characters"));
        }
        for label in value.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(invalid("each dot-separated label must have 1 to 63 characters"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(invalid(
                    "a DNS name has only lowercase letters, digits, '-' and '.'",
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(invalid("a label cannot start or end with '-'"));
            }
        }
        Ok(Host::Dns(value.to_owned()))
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Dns(name) => f.write_str(name),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Parses `HOST[,HOST]` (`--cert-hosts`), dropping repeats and keeping the first-seen order.
pub fn parse_hosts(list: &str) -> Result<Vec<Host>, CertError> {
    let mut hosts: Vec<Host> = Vec::new();
    for part in list.split(',').map(str::trim) {
        let host = part.parse()?;
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    Ok(hosts)
}

/// The names the API server uses for `service` in `namespace`: `<service>.<namespace>.svc`
/// and `<service>.<namespace>.svc.cluster.local`.
pub fn default_hosts(service: &str, namespace: &str) -> Vec<Host> {
    vec![
        Host::Dns(format!("{service}.{namespace}.svc")),
        Host::Dns(format!("{service}.{namespace}.svc.cluster.local")),
    ]
}

/// A CA bundle, a serving certificate and its key, all PEM, as stored in the Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Material {
    /// `ca.crt`: the CA that signed the certificate, then possibly the previous CA.
    pub ca_pem: String,
    /// `tls.crt`: the serving certificate.
    pub cert_pem: String,
    /// `tls.key`: its private key (PKCS#8).
    pub key_pem: String,
    /// The certificate's notBefore, unix seconds.
    pub not_before: i64,
    /// The certificate's notAfter, unix seconds.
    pub not_after: i64,
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Material")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl Material {
    /// A new CA and a serving certificate for `hosts`, valid from `now`. `previous_ca` is the
    /// `ca.crt` being replaced: its first certificate stays in the new bundle while valid.
    pub fn generate(hosts: &[Host], now: i64, previous_ca: Option<&str>) -> Result<Material, CertError> {
        Self::generate_valid(
            hosts,
            now - BACKDATE,
            now + CERT_VALIDITY_DAYS * DAY,
            previous_ca.and_then(|pem| still_valid_first_ca(pem, now)),
        )
    }

    /// As [`Material::generate`], with the serving certificate valid from `not_before` to
    /// `not_after` (unix seconds): tests use it to make material that is old or expiring.
    pub fn generate_valid(
        hosts: &[Host],
        not_before: i64,
        not_after: i64,
        previous_ca: Option<String>,
    ) -> Result<Material, CertError> {
        if hosts.is_empty() {
            return Err(CertError::NoHosts);
        }
        let ca_key = KeyPair::generate().map_err(CertError::Generate)?;
        let mut ca_params = CertificateParams::default();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "batchguard webhook CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.not_before = datetime(not_before)?;
        ca_params.not_after = datetime(not_before.max(0) + CA_VALIDITY_DAYS * DAY)?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(CertError::Generate)?;
        let issuer = Issuer::new(ca_params, &ca_key);

        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, hosts[0].to_string());
        params.subject_alt_names = hosts
            .iter()
            .map(|host| match host {
                Host::Dns(name) => name
                    .clone()
                    .try_into()
                    .map(SanType::DnsName)
                    .map_err(CertError::Generate),
                Host::Ip(ip) => Ok(SanType::IpAddress(*ip)),
            })
            .collect::<Result<_, _>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.not_before = datetime(not_before)?;
        params.not_after = datetime(not_after)?;
        let key = KeyPair::generate().map_err(CertError::Generate)?;
        let cert = params.signed_by(&key, &issuer).map_err(CertError::Generate)?;

        let mut ca_pem = ca_cert.pem();
        if let Some(previous) = previous_ca {
            ca_pem.push_str(&previous);
        }
        Ok(Material {
            ca_pem,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            not_before,
            not_after,
        })
    }

    /// Checks stored material for serving `hosts` at `now`: all three parse, the key belongs
    /// to the certificate, the certificate is valid for every host under the CA bundle, names
    /// exactly `hosts`, and is not in the last third of its lifetime.
    pub fn check(
        ca_pem: &str,
        cert_pem: &str,
        key_pem: &str,
        hosts: &[Host],
        now: i64,
    ) -> Result<Material, Unusable> {
        let cas = pem_certs("ca.crt", ca_pem)?;
        let chain = pem_certs("tls.crt", cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| match e {
            rustls_pki_types::pem::Error::NoItemsFound => Unusable::Empty {
                key: "tls.key",
                what: "PEM private key",
            },
            other => Unusable::Pem {
                key: "tls.key",
                message: other.to_string(),
            },
        })?;
        let leaf = chain[0].clone();
        let (not_before, not_after, names) = leaf_facts(&leaf)?;
        CertifiedKey::from_der(chain.clone(), key, &super::provider()).map_err(|e| {
            Unusable::KeyMismatch {
                message: e.to_string(),
            }
        })?;

        let mut roots = rustls::RootCertStore::empty();
        for ca in cas {
            roots.add(ca).map_err(|e| Unusable::X509 {
                key: "ca.crt",
                message: e.to_string(),
            })?;
        }
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), super::provider())
                .build()
                .map_err(|e| Unusable::X509 {
                    key: "ca.crt",
                    message: e.to_string(),
                })?;
        let at = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now).unwrap_or(0)));
        for host in hosts {
            let name = match host {
                Host::Dns(name) => ServerName::try_from(name.clone()),
                Host::Ip(ip) => Ok(ServerName::from(*ip)),
            };
            let not_trusted = |message: String| Unusable::NotTrusted {
                host: host.to_string(),
                message,
            };
            let name = name.map_err(|e| not_trusted(e.to_string()))?;
            verifier
                .verify_server_cert(&leaf, &chain[1..], &name, &[], at)
                .map_err(|e| not_trusted(e.to_string()))?;
        }

        let mut want: Vec<String> = hosts.iter().map(Host::to_string).collect();
        want.sort();
        want.dedup();
        if names != want {
            return Err(Unusable::HostsDiffer { have: names, want });
        }
        let material = Material {
            ca_pem: ca_pem.to_owned(),
            cert_pem: cert_pem.to_owned(),
            key_pem: key_pem.to_owned(),
            not_before,
            not_after,
        };
        if material.needs_renewal(now) {
            return Err(Unusable::Renewal {
                renew_at: material.renew_at(),
                not_after,
            });
        }
        Ok(material)
    }

    /// When two thirds of the certificate's lifetime have passed (unix seconds).
    pub fn renew_at(&self) -> i64 {
        self.not_before + (self.not_after - self.not_before) / 3 * 2
    }

    /// True from [`Material::renew_at`] on.
    pub fn needs_renewal(&self, now: i64) -> bool {
        now >= self.renew_at()
    }

    /// The pair as rustls serves it, for the server's swappable certificate resolver.
    pub fn certified_key(&self) -> Result<Arc<CertifiedKey>, CertError> {
        let chain = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CertError::Load(rustls::Error::General(e.to_string())))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| CertError::Load(rustls::Error::General(e.to_string())))?;
        CertifiedKey::from_der(chain, key, &super::provider())
            .map(Arc::new)
            .map_err(CertError::Load)
    }
}

/// The current time in unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn datetime(unix: i64) -> Result<time::OffsetDateTime, CertError> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|_| CertError::OutOfRange { unix })
}

fn pem_certs(key: &'static str, pem: &str) -> Result<Vec<CertificateDer<'static>>, Unusable> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Unusable::Pem {
            key,
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(Unusable::Empty {
            key,
            what: "PEM certificate",
        });
    }
    Ok(certs)
}

/// notBefore, notAfter and the sorted SAN names (DNS names and IP addresses as text).
fn leaf_facts(der: &CertificateDer<'_>) -> Result<(i64, i64, Vec<String>), Unusable> {
    let x509 = |message: String| Unusable::X509 {
        key: "tls.crt",
        message,
    };
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| x509(e.to_string()))?;
    let mut names = Vec::new();
    if let Some(san) = cert.subject_alternative_name().map_err(|e| x509(e.to_string()))? {
        for name in &san.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                x509_parser::extensions::GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).map(IpAddr::from).ok(),
                        16 => <[u8; 16]>::try_from(*bytes).map(IpAddr::from).ok(),
                        _ => None,
                    };
                    names.push(ip.map_or_else(|| format!("{bytes:x?}"), |ip| ip.to_string()));
                }
                other => names.push(other.to_string()),
            }
        }
    }
    names.sort();
    names.dedup();
    let validity = cert.validity();
    Ok((
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
        names,
    ))
}

/// The first certificate of a `ca.crt` bundle as PEM, if it parses and is valid at `now`.
fn still_valid_first_ca(bundle: &str, now: i64) -> Option<String> {
    let first = CertificateDer::pem_slice_iter(bundle.as_bytes()).next()?.ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(first.as_ref()).ok()?;
    let validity = cert.validity();
    if !cert.is_ca() || validity.not_after.timestamp() <= now || validity.not_before.timestamp() > now {
        return None;
    }
    Some(pem_encode("CERTIFICATE", first.as_ref()))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Writes a new CA and serving certificate for `hosts` to `dir/ca.crt`, `dir/tls.crt` and
/// `dir/tls.key` (mode 0600), for installing certificates by hand. All three are written in
/// full to temporary names beside them first and only then renamed into place, so a reader
/// never sees half a file, and a failed write leaves the previous files as they were.
pub fn write_files(dir: &Path, hosts: &[Host]) -> Result<Material, CertError> {
    let material = Material::generate(hosts, unix_now(), None)?;
    std::fs::create_dir_all(dir).map_err(|cause| CertError::Write {
        path: dir.to_owned(),
        cause,
    })?;
    let files = [
        (dir.join("ca.crt"), material.ca_pem.as_bytes(), 0o644),
        (dir.join("tls.key"), material.key_pem.as_bytes(), 0o600),
        (dir.join("tls.crt"), material.cert_pem.as_bytes(), 0o644),
    ];
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    for (path, contents, mode) in &files {
        match write_temp(path, contents, *mode) {
            Ok(temp) => staged.push((temp, path)),
            Err(e) => {
                for (temp, _) in &staged {
                    let _ = std::fs::remove_file(temp);
                }
                return Err(e);
            }
        }
    }
    let mut staged = staged.into_iter();
    while let Some((temp, path)) = staged.next() {
        if let Err(cause) = std::fs::rename(&temp, path) {
            let _ = std::fs::remove_file(&temp);
            for (rest, _) in staged {
                let _ = std::fs::remove_file(rest);
            }
            return Err(CertError::Write {
                path: path.to_owned(),
                cause,
            });
        }
    }
    Ok(material)
}

/// Writes `contents` to a new temporary file beside `path` (synced, with `mode`) and
/// returns its name.
fn write_temp(path: &Path, contents: &[u8], mode: u32) -> Result<PathBuf, CertError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        // A leftover from a crashed run would keep its old mode: start from nothing.
        let _ = std::fs::remove_file(&temp);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(cause) => {
            let _ = std::fs::remove_file(&temp);
            Err(CertError::Write {
                path: path.to_owned(),
                cause,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<Host> {
        parse_hosts("batchguard.batchguard.svc,127.0.0.1").expect("hosts")
    }

    #[test]
    fn parses_dns_names_and_ip_addresses() {
        assert_eq!(
            parse_hosts("a.b.svc, 10.0.0.1,::1,a.b.svc").expect("parses"),
            vec![
                Host::Dns("a.b.svc".into()),
                Host::Ip("10.0.0.1".parse().expect("ip")),
                Host::Ip("::1".parse().expect("ip")),
            ]
        );
    }

    #[test]
    fn rejects_a_host_with_an_upper_case_letter_and_quotes_it() {
        let err = parse_hosts("ok.svc,Bad.svc").expect_err("refused");
        assert!(
            err.to_string()
                .starts_with("invalid certificate host \"Bad.svc\""),
            "{err}"
        );
        assert!(matches!(parse_hosts("a,,b"), Err(CertError::InvalidHost { .. })));
    }

    #[test]
    fn default_hosts_are_the_service_names() {
        let names: Vec<String> = default_hosts("batchguard", "ops")
            .iter()
            .map(Host::to_string)
            .collect();
        assert_eq!(names, ["batchguard.ops.svc", "batchguard.ops.svc.cluster.local"]);
    }

    #[test]
    fn accepts_fresh_material_for_the_same_hosts() {
        let now = unix_now();
        let m = Material::generate(&hosts(), now, None).expect("generates");
        let checked = Material::check(&m.ca_pem, &m.cert_pem, &m.key_pem, &hosts(), now).expect("usable");
        assert_eq!(checked, m);
        assert_eq!(m.not_after - m.not_before, CERT_VALIDITY_DAYS * DAY + BACKDATE);
        assert!(m.certified_key().is_ok());
    }

    #[test]
    fn renews_in_the_last_third_of_the_lifetime() {
        let now = unix_now();
        let m = Material::generate_valid(&hosts(), now - 70 * DAY, now + 30 * DAY, None).expect("generates");
        let err = Material::check(&m.ca_pem, &m.cert_pem, &m.key_pem, &hosts(), now).expect_err("renew");
        assert!(matches!(err, Unusable::Renewal { .. }), "{err}");
        let young =
            Material::generate_valid(&hosts(), now - 60 * DAY, now + 40 * DAY, None).expect("generates");
        assert!(Material::check(&young.ca_pem, &young.cert_pem, &young.key_pem, &hosts(), now).is_ok());
    }

    #[test]
    fn refuses_an_expired_certificate() {
        let now = unix_now();
        let m = Material::generate_valid(&hosts(), now - 20 * DAY, now - DAY, None).expect("generates");
        let err = Material::check(&m.ca_pem, &m.cert_pem, &m.key_pem, &hosts(), now).expect_err("expired");
        assert!(matches!(err, Unusable::NotTrusted { .. }), "{err}");
    }

    #[test]
    fn refuses_other_hosts_even_a_subset() {
        let now = unix_now();
        let m = Material::generate(&hosts(), now, None).expect("generates");
        let fewer = parse_hosts("batchguard.batchguard.svc").expect("hosts");
        let err = Material::check(&m.ca_pem, &m.cert_pem, &m.key_pem, &fewer, now).expect_err("differs");
        assert!(matches!(err, Unusable::HostsDiffer { .. }), "{err}");
        let more = parse_hosts("batchguard.batchguard.svc,127.0.0.1,x.svc").expect("hosts");
        let err = Material::check(&m.ca_pem, &m.cert_pem, &m.key_pem, &more, now).expect_err("differs");
        assert!(
            matches!(err, Unusable::NotTrusted { ref host, .. } if host == "x.svc"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_key_of_another_pair() {
        let now = unix_now();
        let a = Material::generate(&hosts(), now, None).expect("generates");
        let b = Material::generate(&hosts(), now, None).expect("generates");
        let err = Material::check(&a.ca_pem, &a.cert_pem, &b.key_pem, &hosts(), now).expect_err("mismatch");
        assert!(matches!(err, Unusable::KeyMismatch { .. }), "{err}");
    }

    #[test]
    fn refuses_a_certificate_from_another_ca() {
        let now = unix_now();
        let a = Material::generate(&hosts(), now, None).expect("generates");
        let b = Material::generate(&hosts(), now, None).expect("generates");
        let err = Material::check(&b.ca_pem, &a.cert_pem, &a.key_pem, &hosts(), now).expect_err("untrusted");
        assert!(matches!(err, Unusable::NotTrusted { .. }), "{err}");
    }

    #[test]
    fn refuses_garbage_and_missing_pem() {
        let now = unix_now();
        let m = Material::generate(&hosts(), now, None).expect("generates");
        let err = Material::check("", &m.cert_pem, &m.key_pem, &hosts(), now).expect_err("empty");
        assert_eq!(err.to_string(), "\"ca.crt\" holds no PEM certificate");
        let err = Material::check(&m.ca_pem, &m.cert_pem, "junk", &hosts(), now).expect_err("no key");
        assert!(matches!(err, Unusable::Empty { key: "tls.key", .. }), "{err}");
    }

    #[test]
    fn a_rotation_keeps_the_previous_ca_in_the_bundle_so_both_certificates_verify() {
        let now = unix_now();
        let old = Material::generate(&hosts(), now, None).expect("generates");
        let new = Material::generate(&hosts(), now, Some(&old.ca_pem)).expect("generates");
        assert!(new.ca_pem.ends_with(&old.ca_pem), "previous CA appended");
        assert_eq!(CertificateDer::pem_slice_iter(new.ca_pem.as_bytes()).count(), 2);
        for m in [&old, &new] {
            Material::check(&new.ca_pem, &m.cert_pem, &m.key_pem, &hosts(), now)
                .expect("trusted by the bundle");
        }
        // Only one previous CA is carried: the bundle does not grow with every rotation.
        let newer = Material::generate(&hosts(), now, Some(&new.ca_pem)).expect("generates");
        assert_eq!(CertificateDer::pem_slice_iter(newer.ca_pem.as_bytes()).count(), 2);
    }

    #[test]
    fn write_files_writes_a_loadable_pair_with_a_private_key_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("certs");
        let m = write_files(&out, &hosts()).expect("writes");
        let read = |name: &str| std::fs::read_to_string(out.join(name)).expect("read");
        assert_eq!(read("ca.crt"), m.ca_pem);
        assert_eq!(read("tls.crt"), m.cert_pem);
        assert_eq!(read("tls.key"), m.key_pem);
        let mode = std::fs::metadata(out.join("tls.key"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        Material::check(
            &read("ca.crt"),
            &read("tls.crt"),
            &read("tls.key"),
            &hosts(),
            unix_now(),
        )
        .expect("usable");
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn write_files_that_cannot_write_one_file_leaves_the_others_as_they_were() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.crt"), "old ca").expect("write");
        // A directory where tls.crt's temporary file would go cannot be opened as a file.
        let blocker = dir.path().join(format!(".tls.crt.{}.tmp", std::process::id()));
        std::fs::create_dir(&blocker).expect("mkdir");
        std::fs::write(blocker.join("x"), "keeps the directory non-empty").expect("write");
        assert!(write_files(dir.path(), &hosts()).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ca.crt")).expect("read"),
            "old ca"
        );
        assert!(!dir.path().join("tls.key").exists());
        let temps: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.path() != blocker && e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(temps.is_empty(), "temporary files left: {temps:?}");
    }

    #[test]
    fn write_files_replaces_a_key_file_that_was_world_readable() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("tls.key");
        std::fs::write(&key, "old").expect("write");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_files(dir.path(), &hosts()).expect("writes");
        let mode = std::fs::metadata(&key).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
