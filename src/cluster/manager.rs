//! The certificate manager: keeps a usable CA and serving certificate in a `kubernetes.io/tls`
//! Secret (`ca.crt`, `tls.crt`, `tls.key`), the CA in the named webhook configurations, and
//! hands the current material and readiness to the server through a `watch` channel.
//!
//! Replicas start together and share the Secret. Every write is conditional, so one writer
//! wins and the others adopt its material: a create answered 409 AlreadyExists, or an update
//! (carrying the resourceVersion that was read) answered 409 Conflict, is followed by a fresh
//! read of the winner's Secret.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::certs::{unix_now, CertError, Host, Material, Unusable};
use super::{webhooks, Client, ClusterError, SecretRef, Target, FIELD_MANAGER};

/// How often [`CertManager::run`] re-checks the Secret and the webhook configurations.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Reads and writes of the Secret before giving up on conflicts.
const ATTEMPTS: usize = 4;

const CA_KEY: &str = "ca.crt";
const CERT_KEY: &str = "tls.crt";
const KEY_KEY: &str = "tls.key";
const TLS_TYPE: &str = "kubernetes.io/tls";

/// What the server needs from the manager: the material to serve and whether `/readyz` may
/// say ready.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertState {
    /// The material to serve; `None` until the first successful check.
    pub material: Option<Arc<Material>>,
    /// The CA of `material` is in every webhook of the named configurations, as last seen.
    pub injected: bool,
    /// The last check's failure, cleared by the next success.
    pub error: Option<String>,
}

impl CertState {
    /// Ready: a certificate is loaded and its CA is injected everywhere it must be.
    pub fn is_ready(&self) -> bool {
        self.material.is_some() && self.injected
    }
}

/// Keeps the certificates of one Secret and the `caBundle` of named webhook configurations.
#[derive(Debug, Clone)]
pub struct CertManager {
    client: Client,
    secret: SecretRef,
    hosts: Vec<Host>,
    webhook_configurations: Vec<String>,
    interval: Duration,
    /// Also certify the host of every `url` webhook in the named configurations.
    url_hosts: bool,
}

impl CertManager {
    /// A manager for `secret`, making certificates for `hosts` and injecting the CA into the
    /// webhook configurations called `webhook_configurations` (Mutating and Validating).
    pub fn new(
        client: Client,
        secret: SecretRef,
        hosts: Vec<Host>,
        webhook_configurations: Vec<String>,
    ) -> Result<CertManager, ClusterError> {
        if hosts.is_empty() {
            return Err(CertError::NoHosts.into());
        }
        Ok(CertManager {
            client,
            secret,
            hosts,
            webhook_configurations,
            interval: DEFAULT_INTERVAL,
            url_hosts: false,
        })
    }

    /// How often [`CertManager::run`] re-checks; failures retry sooner, backing off up to it.
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> CertManager {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Makes the certificate also cover the host of every webhook in the named
    /// configurations whose `clientConfig` is a `url` (read at each check), so the API
    /// server can verify it whatever address the webhooks are registered under.
    #[must_use]
    pub fn with_url_hosts(mut self) -> CertManager {
        self.url_hosts = true;
        self
    }

    /// The names to certify now: the configured hosts, then those of `url` webhooks.
    async fn hosts_now(&self) -> Result<Vec<Host>, ClusterError> {
        let mut hosts = self.hosts.clone();
        if self.url_hosts {
            for host in webhooks::url_hosts(&self.client, &self.webhook_configurations).await? {
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
        }
        Ok(hosts)
    }

    /// The material in the Secret, after creating or replacing it if it is missing, unusable
    /// or in the last third of its lifetime.
    pub async fn ensure(&self) -> Result<Material, ClusterError> {
        let hosts = self.hosts_now().await?;
        self.ensure_at(&hosts, unix_now()).await
    }

    async fn ensure_at(&self, hosts: &[Host], now: i64) -> Result<Material, ClusterError> {
        let api: Api<Secret> = Api::namespaced(self.client.kube().clone(), &self.secret.namespace);
        let name = self.secret.name.as_str();
        let target = |verb| Target {
            verb,
            kind: "secret",
            resource: "secrets",
            group: "",
            namespace: Some(&self.secret.namespace),
            name,
        };
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PostParams::default()
        };
        for _ in 0..ATTEMPTS {
            let stored = api
                .get_opt(name)
                .await
                .map_err(|e| self.client.error(e, &target("get")))?;
            let Some(stored) = stored else {
                let material = Material::generate(hosts, now, None)?;
                match api.create(&params, &self.new_secret(&material)).await {
                    Ok(_) => {
                        info!(secret = %self.secret, not_after = material.not_after, "created the certificate Secret");
                        return Ok(material);
                    }
                    Err(kube::Error::Api(status)) if status.code == 409 => {
                        debug!(secret = %self.secret, "another replica created the Secret first; reading it");
                        continue;
                    }
                    Err(e) => return Err(self.client.error(e, &target("create"))),
                }
            };
            let reason = match read(&stored, hosts, now) {
                Ok(material) => return Ok(material),
                Err(reason) => reason,
            };
            let previous_ca = text(&stored, CA_KEY).ok();
            let material = Material::generate(hosts, now, previous_ca.as_deref())?;
            match api.replace(name, &params, &replaced(stored, &material)).await {
                Ok(_) => {
                    info!(secret = %self.secret, %reason, not_after = material.not_after, "replaced the certificate");
                    return Ok(material);
                }
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    debug!(secret = %self.secret, "another replica replaced the Secret first; reading it");
                }
                Err(e) => return Err(self.client.error(e, &target("update"))),
            }
        }
        Err(ClusterError::Conflicts {
            verb: "update",
            kind: "secret",
            object: self.secret.to_string(),
            attempts: ATTEMPTS,
        })
    }

    /// Makes `ca_bundle` the `caBundle` of every webhook in the named configurations.
    pub async fn inject(&self, ca_bundle: &[u8]) -> Result<(), ClusterError> {
        webhooks::inject(&self.client, &self.webhook_configurations, ca_bundle).await
    }

    /// One check: the Secret, then the injection, then (only once the CA is injected, so no
    /// API server call meets a certificate it cannot verify) the new material into `state`.
    /// `state` is only notified when something in it changed.
    pub async fn reconcile(&self, state: &watch::Sender<CertState>) -> Result<(), ClusterError> {
        let result = self.reconcile_inner(state).await;
        if let Err(err) = &result {
            let message = err.to_string();
            let transient = err.is_transient();
            state.send_if_modified(|s| {
                let before = s.clone();
                s.error = Some(message);
                // An unreachable server says nothing about the configurations: keep what
                // was last seen, so every replica does not turn unready at once.
                if !transient {
                    s.injected = false;
                }
                *s != before
            });
        }
        result
    }

    async fn reconcile_inner(&self, state: &watch::Sender<CertState>) -> Result<(), ClusterError> {
        let now = unix_now();
        let hosts = self.hosts_now().await?;
        let material = Arc::new(self.ensure_at(&hosts, now).await?);
        let injected = self.inject(material.ca_pem.as_bytes()).await;
        let serving_is_fine = state
            .borrow()
            .material
            .as_ref()
            .is_some_and(|m| m.not_after > now);
        if injected.is_ok() || !serving_is_fine {
            state.send_if_modified(|s| {
                let before = s.clone();
                if s.material.as_deref() != Some(&*material) {
                    s.material = Some(material.clone());
                }
                if injected.is_ok() {
                    s.injected = true;
                    s.error = None;
                }
                *s != before
            });
        }
        injected
    }

    /// Checks now and then every interval until `shutdown` turns true or its sender is
    /// dropped, publishing into `state`. Failures are logged and retried with a backoff that
    /// starts at a second (or the interval, if shorter) and doubles up to the interval.
    pub async fn run(self, state: watch::Sender<CertState>, mut shutdown: watch::Receiver<bool>) {
        let first_backoff = self.interval.min(Duration::from_secs(1));
        let mut backoff = first_backoff;
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            // A check cut short by shutdown leaves nothing half-done: every write is
            // conditional, and the next start reads what landed.
            let result = tokio::select! {
                result = self.reconcile(&state) => result,
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                    continue;
                }
            };
            let wait = match result {
                Ok(()) => {
                    backoff = first_backoff;
                    self.interval
                }
                Err(err) => {
                    warn!(error = %err, retry_in = ?backoff, "certificate check failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.interval);
                    wait
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
            }
        }
        debug!(secret = %self.secret, "certificate manager stopped");
    }

    /// Runs [`CertManager::run`] as a task; returns the state to watch and the task.
    pub fn spawn(
        self,
        shutdown: watch::Receiver<bool>,
    ) -> (watch::Receiver<CertState>, tokio::task::JoinHandle<()>) {
        let (state, states) = watch::channel(CertState::default());
        (states, tokio::spawn(self.run(state, shutdown)))
    }

    fn new_secret(&self, material: &Material) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(self.secret.name.clone()),
                namespace: Some(self.secret.namespace.clone()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_owned(),
                    "batchguard".to_owned(),
                )])),
                ..ObjectMeta::default()
            },
            type_: Some(TLS_TYPE.to_owned()),
            data: Some(data(material)),
            ..Secret::default()
        }
    }
}

fn data(material: &Material) -> BTreeMap<String, ByteString> {
    BTreeMap::from([
        (
            CA_KEY.to_owned(),
            ByteString(material.ca_pem.clone().into_bytes()),
        ),
        (
            CERT_KEY.to_owned(),
            ByteString(material.cert_pem.clone().into_bytes()),
        ),
        (
            KEY_KEY.to_owned(),
            ByteString(material.key_pem.clone().into_bytes()),
        ),
    ])
}

/// The stored Secret with our three keys replaced; other keys, labels and the type stay, and
/// the resourceVersion that was read makes the update conditional.
fn replaced(mut stored: Secret, material: &Material) -> Secret {
    stored.metadata.managed_fields = None;
    stored
        .data
        .get_or_insert_with(BTreeMap::new)
        .extend(data(material));
    if let Some(string_data) = stored.string_data.as_mut() {
        for key in [CA_KEY, CERT_KEY, KEY_KEY] {
            string_data.remove(key);
        }
    }
    stored
}

fn text(secret: &Secret, key: &'static str) -> Result<String, Unusable> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .ok_or(Unusable::Missing { key })?;
    String::from_utf8(bytes.0.clone()).map_err(|e| Unusable::Pem {
        key,
        message: e.to_string(),
    })
}

fn read(secret: &Secret, hosts: &[Host], now: i64) -> Result<Material, Unusable> {
    Material::check(
        &text(secret, CA_KEY)?,
        &text(secret, CERT_KEY)?,
        &text(secret, KEY_KEY)?,
        hosts,
        now,
    )
}
