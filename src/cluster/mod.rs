//! Talking to the cluster's API server: the kube client (found as kubectl finds its
//! configuration) and the self-managed certificates of `batchguard serve --cert-secret`,
//! which keep a CA and a serving certificate in a Secret and the CA in the `caBundle` of the
//! webhook configurations, as Gatekeeper's cert-controller does.
//!
//! Every API failure becomes a [`ClusterError`] that names the verb, the object and, for an
//! RBAC refusal, the rule that is missing, so a crash-looping Pod says what to fix.
//!
//! Wiring it into a server: start the manager, wait for the first material, serve it through
//! a swappable certificate resolver, and on every later change swap the pair (handshakes
//! already under way keep the old one, so no connection drops); `/readyz` reads
//! [`CertState::is_ready`].
//!
//! ```no_run
//! # async fn wire() -> Result<(), Box<dyn std::error::Error>> {
//! use batchguard::cluster::{self, CertManager, SecretRef};
//! let client = cluster::client(None, None).await?;
//! let secret: SecretRef = "batchguard/batchguard-tls".parse()?;
//! let hosts = cluster::default_hosts("batchguard", &secret.namespace);
//! let manager = CertManager::new(client, secret, hosts, vec!["batchguard".to_owned()])?;
//! let (_stop, shutdown) = tokio::sync::watch::channel(false);
//! let (mut states, _task) = manager.spawn(shutdown);
//! let first = states.wait_for(|s| s.material.is_some()).await?.material.clone();
//! let _pair = first.map(|m| m.certified_key()).transpose()?; // -> CertResolver::new
//! while states.changed().await.is_ok() {
//!     let state = states.borrow_and_update().clone();
//!     if let Some(material) = state.material {
//!         let _pair = material.certified_key()?; // -> CertResolver::set
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod audit;
pub mod certs;
mod manager;
mod webhooks;

use std::error::Error as _;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use certs::{default_hosts, parse_hosts, write_files, CertError, Host, Material, Unusable};
pub use manager::{CertManager, CertState, DEFAULT_INTERVAL};

/// The field manager every write names, so `managedFields` shows what batchguard owns.
pub const FIELD_MANAGER: &str = "batchguard";

/// How long one API request may wait for its answer when the kube config sets no limit.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The one crypto provider: ring, as for the serving side.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What went wrong talking to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load the kubeconfig {path:?}: {cause}")]
    Kubeconfig { path: String, cause: String },
    #[error("cannot find a cluster configuration: {cause}")]
    NoConfig { cause: String },
    #[error("cannot build a client for the API server at {url}: {cause}")]
    Build { url: String, cause: String },
    #[error("invalid secret reference {value:?}: expected NAMESPACE/NAME of lowercase DNS labels")]
    InvalidSecretRef { value: String },
    #[error("cannot {verb} {kind} {object}: forbidden by RBAC ({needs})")]
    Forbidden {
        verb: &'static str,
        kind: &'static str,
        object: String,
        /// Who needs which rule: `User "…" needs "update" on secrets in namespace …`.
        needs: String,
        /// The API server's own message, for debug logs.
        message: String,
    },
    #[error("cannot {verb} {kind} {object}: the API server at {url} is unreachable: {cause}")]
    Unreachable {
        verb: &'static str,
        kind: &'static str,
        object: String,
        url: String,
        cause: String,
    },
    #[error("cannot {verb} {kind} {object}: the API server answered {code} {reason}: {message}")]
    Api {
        verb: &'static str,
        kind: &'static str,
        object: String,
        code: u16,
        reason: String,
        message: String,
    },
    #[error("cannot {verb} {kind} {object}: {cause}")]
    Request {
        verb: &'static str,
        kind: &'static str,
        object: String,
        cause: String,
    },
    #[error("cannot {verb} {kind} {object}: it changed under every one of {attempts} attempts")]
    Conflicts {
        verb: &'static str,
        kind: &'static str,
        object: String,
        attempts: usize,
    },
    #[error("no MutatingWebhookConfiguration or ValidatingWebhookConfiguration is named {name:?}")]
    NoWebhookConfiguration { name: String },
    #[error("cannot make the serving certificate: {0}")]
    Certs(CertError),
}

impl ClusterError {
    /// True for failures that may pass by themselves (network, server overload, a writer
    /// racing us); false for those that need someone to act (RBAC, a missing object).
    pub fn is_transient(&self) -> bool {
        match self {
            ClusterError::Unreachable { .. } | ClusterError::Conflicts { .. } => true,
            ClusterError::Api { code, .. } => *code >= 500 || *code == 429,
            _ => false,
        }
    }
}

impl From<CertError> for ClusterError {
    fn from(err: CertError) -> Self {
        ClusterError::Certs(err)
    }
}

/// A kube client and the address it talks to, for error messages.
#[derive(Clone)]
pub struct Client {
    kube: kube::Client,
    url: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a configuration built by hand (tests point one at a fake API server).
    /// Sets a read timeout when the configuration has none, so a hung server fails a check
    /// instead of stalling it. Needs a tokio runtime.
    pub fn from_config(mut config: kube::Config) -> Result<Client, ClusterError> {
        // kube builds its rustls configuration with the process-wide provider; name ring
        // outright rather than rely on it being the only one compiled in. An Err only says
        // that one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = config.cluster_url.to_string();
        if config.read_timeout.is_none() {
            config.read_timeout = Some(READ_TIMEOUT);
        }
        let kube = kube::Client::try_from(config).map_err(|e| ClusterError::Build {
            url: url.clone(),
            cause: chain(&e),
        })?;
        Ok(Client { kube, url })
    }

    /// The kube client, for requests this module does not wrap.
    pub fn kube(&self) -> &kube::Client {
        &self.kube
    }

    /// The API server's address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Turns a kube error for `target` into the message a person can act on.
    pub(crate) fn error(&self, err: kube::Error, target: &Target<'_>) -> ClusterError {
        let object = target.object();
        let (verb, kind) = (target.verb, target.kind);
        match err {
            kube::Error::Api(status) if status.code == 403 => ClusterError::Forbidden {
                verb,
                kind,
                object,
                needs: format!("{} needs {verb:?} on {}", who(&status.message), target.rule()),
                message: status.message,
            },
            kube::Error::Api(status) => ClusterError::Api {
                verb,
                kind,
                object,
                code: status.code,
                reason: status.reason,
                message: status.message,
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => ClusterError::Unreachable {
                verb,
                kind,
                object,
                url: self.url.clone(),
                // kube's own wrapper ("ServiceError: ...") says nothing the causes do not.
                cause: err.source().map_or_else(|| err.to_string(), chain),
            },
            other => ClusterError::Request {
                verb,
                kind,
                object,
                cause: chain(&other),
            },
        }
    }
}

/// Who the API server says made the request (`User "…"`), or the usual suspect.
fn who(message: &str) -> String {
    message
        .split_once("User \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(
            || "the ServiceAccount".to_owned(),
            |(user, _)| format!("User {user:?}"),
        )
}

/// An error and its causes on one line, each distinct message once.
fn chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// What a request was about: enough to say which RBAC rule it needs.
#[derive(Debug, Clone)]
pub(crate) struct Target<'a> {
    pub verb: &'static str,
    /// Singular, lowercase: `secret`.
    pub kind: &'static str,
    /// As RBAC names it: `secrets`, `mutatingwebhookconfigurations`.
    pub resource: &'static str,
    /// The API group, empty for the core group.
    pub group: &'static str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

impl Target<'_> {
    fn object(&self) -> String {
        // A list names no object: it reads a namespace, or all of them.
        if self.name.is_empty() {
            return match self.namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "in all namespaces".to_owned(),
            };
        }
        match self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.to_owned(),
        }
    }

    /// The RBAC rule, as a person would write it into a Role or ClusterRole.
    fn rule(&self) -> String {
        let resource = if self.group.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        let scope = match self.namespace {
            Some(ns) => format!(" in namespace {ns}"),
            None => " (a ClusterRole)".to_owned(),
        };
        // RBAC cannot restrict create by name: the name is not known before the object exists.
        if self.verb == "create" || self.name.is_empty() {
            format!("{resource}{scope}")
        } else {
            format!("{resource}{scope}, resourceNames [{}]", self.name)
        }
    }
}

/// A kube client found as kubectl finds its configuration: `kubeconfig` if given, else
/// `KUBECONFIG`, else `~/.kube/config`, else the in-cluster ServiceAccount. `context` picks
/// a kubeconfig context other than the current one (and so requires a kubeconfig).
pub async fn client(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Client, ClusterError> {
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig_error = |e: &dyn std::error::Error| ClusterError::Kubeconfig {
                path: path.display().to_string(),
                cause: chain(e),
            };
            let file = kube::config::Kubeconfig::read_from(path).map_err(|e| kubeconfig_error(&e))?;
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| kubeconfig_error(&e))?
        }
        None if context.is_some() => {
            kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| ClusterError::Kubeconfig {
                    path: std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".to_owned()),
                    cause: chain(&e),
                })?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| ClusterError::NoConfig { cause: chain(&e) })?,
    };
    Client::from_config(config)
}

/// Where the certificates live: `NAMESPACE/NAME` of a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
}

impl FromStr for SecretRef {
    type Err = ClusterError;

    fn from_str(value: &str) -> Result<Self, ClusterError> {
        let invalid = || ClusterError::InvalidSecretRef {
            value: value.to_owned(),
        };
        let (namespace, name) = value.split_once('/').ok_or_else(invalid)?;
        // A namespace is a DNS label; a Secret name a DNS subdomain.
        let label = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        if !label(namespace) || name.len() > 253 || !name.split('.').all(label) {
            return Err(invalid());
        }
        Ok(SecretRef {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject as _;

    #[test]
    fn parses_a_secret_reference() {
        let r: SecretRef = "batchguard/batchguard-tls".parse().expect("parses");
        assert_eq!(r.namespace, "batchguard");
        assert_eq!(r.name, "batchguard-tls");
        assert_eq!(r.to_string(), "batchguard/batchguard-tls");
    }

    #[test]
    fn rejects_secret_references_without_a_namespace_or_with_capitals() {
        for bad in ["batchguard-tls", "/x", "ns/", "ns/Tls", "a/b/c", "-ns/x"] {
            let err = bad.parse::<SecretRef>().expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn names_the_missing_rule_for_a_named_update() {
        let target = Target {
            verb: "update",
            kind: "secret",
            resource: "secrets",
            group: "",
            namespace: Some("batchguard"),
            name: "batchguard-tls",
        };
        assert_eq!(
            target.rule(),
            "secrets in namespace batchguard, resourceNames [batchguard-tls]"
        );
        let create = Target {
            verb: "create",
            ..target
        };
        assert_eq!(create.rule(), "secrets in namespace batchguard");
    }

    #[test]
    fn finds_the_user_in_a_forbidden_message() {
        assert_eq!(
            who(r#"secrets "x" is forbidden: User "system:serviceaccount:a:b" cannot get resource"#),
            r#"User "system:serviceaccount:a:b""#
        );
        assert_eq!(who("forbidden"), "the ServiceAccount");
    }

    #[tokio::test]
    async fn reads_an_explicit_kubeconfig_and_its_named_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: one\n\
             clusters:\n- name: one\n  cluster: {server: 'http://127.0.0.1:1'}\n\
             - name: two\n  cluster: {server: 'http://127.0.0.2:2'}\n\
             contexts:\n- name: one\n  context: {cluster: one, user: u}\n\
             - name: two\n  context: {cluster: two, user: u}\n\
             users:\n- name: u\n  user: {token: t}\n",
        )
        .expect("write");
        let current = client(Some(&path), None).await.expect("client");
        assert_eq!(current.url(), "http://127.0.0.1:1/");
        let other = client(Some(&path), Some("two")).await.expect("client");
        assert_eq!(other.url(), "http://127.0.0.2:2/");
        let err = client(Some(&path), Some("three"))
            .await
            .expect_err("no such context");
        assert!(matches!(err, ClusterError::Kubeconfig { .. }), "{err}");
    }

    #[tokio::test]
    async fn builds_an_https_client_that_trusts_the_configured_ca() {
        let material = Material::generate(&parse_hosts("localhost").expect("hosts"), certs::unix_now(), None)
            .expect("material");
        let ca = rustls_pki_types::CertificateDer::pem_slice_iter(material.ca_pem.as_bytes())
            .next()
            .expect("one")
            .expect("pem");
        let mut config = kube::Config::new("https://localhost:6443".parse().expect("url"));
        config.root_cert = Some(vec![ca.to_vec()]);
        let client = Client::from_config(config).expect("client");
        assert_eq!(client.url(), "https://localhost:6443/");
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_is_named() {
        let err = client(Some(Path::new("/nonexistent/kubeconfig")), None)
            .await
            .expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("cannot load the kubeconfig \"/nonexistent/kubeconfig\""),
            "{err}"
        );
    }
}
