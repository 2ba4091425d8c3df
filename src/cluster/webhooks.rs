//! Keeping the CA in the `caBundle` of every webhook of the named Mutating- and
//! ValidatingWebhookConfigurations, whether a webhook's `clientConfig` is a `service` or a
//! `url`.
//!
//! The write is a strategic merge patch (`application/strategic-merge-patch+json`) that
//! names each stale webhook by `name`, the list's merge key in admissionregistration/v1, and
//! sets only `clientConfig.caBundle`; it also carries the `metadata.resourceVersion` that was
//! read. Keyed by name, it cannot land on the wrong webhook if someone reorders the list
//! (a JSON Patch path like `/webhooks/0/...` could); carrying the resourceVersion makes the
//! API server refuse it with 409 Conflict if anyone wrote the configuration since the read
//! (otherwise a webhook deleted meanwhile would come back as a stub). On a conflict the
//! configuration is read again, so replicas and other writers settle without a fight.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::ByteString;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use tracing::{debug, info};

use super::certs::Host;
use super::{Client, ClusterError, Target, FIELD_MANAGER};

/// Reads and patches per configuration before giving up on conflicts.
const ATTEMPTS: usize = 4;

/// The two kinds, seen alike: their webhooks' names and current `caBundle`s.
trait WebhookConfiguration:
    kube::Resource<Scope = kube::core::ClusterResourceScope, DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
{
    /// The RBAC resource name.
    const RESOURCE: &'static str;
    /// Singular, lowercase, for messages.
    const KIND: &'static str;

    fn bundles(&self) -> Vec<(&str, Option<&ByteString>)>;

    /// The `clientConfig.url` of every webhook that has one.
    fn urls(&self) -> Vec<&str>;
}

impl WebhookConfiguration for MutatingWebhookConfiguration {
    const RESOURCE: &'static str = "mutatingwebhookconfigurations";
    const KIND: &'static str = "mutatingwebhookconfiguration";

    fn bundles(&self) -> Vec<(&str, Option<&ByteString>)> {
        self.webhooks
            .iter()
            .flatten()
            .map(|w| (w.name.as_str(), w.client_config.ca_bundle.as_ref()))
            .collect()
    }

    fn urls(&self) -> Vec<&str> {
        self.webhooks
            .iter()
            .flatten()
            .filter_map(|w| w.client_config.url.as_deref())
            .collect()
    }
}

impl WebhookConfiguration for ValidatingWebhookConfiguration {
    const RESOURCE: &'static str = "validatingwebhookconfigurations";
    const KIND: &'static str = "validatingwebhookconfiguration";

    fn bundles(&self) -> Vec<(&str, Option<&ByteString>)> {
        self.webhooks
            .iter()
            .flatten()
            .map(|w| (w.name.as_str(), w.client_config.ca_bundle.as_ref()))
            .collect()
    }

    fn urls(&self) -> Vec<&str> {
        self.webhooks
            .iter()
            .flatten()
            .filter_map(|w| w.client_config.url.as_deref())
            .collect()
    }
}

/// Makes `bundle` the `caBundle` of every webhook in the configurations called `names`
/// (both kinds); writes nothing where it already is. A name that neither kind has is an error.
pub(crate) async fn inject(client: &Client, names: &[String], bundle: &[u8]) -> Result<(), ClusterError> {
    for name in names {
        let mutating = inject_one::<MutatingWebhookConfiguration>(client, name, bundle).await?;
        let validating = inject_one::<ValidatingWebhookConfiguration>(client, name, bundle).await?;
        if !mutating && !validating {
            return Err(ClusterError::NoWebhookConfiguration { name: name.clone() });
        }
    }
    Ok(())
}

/// The hosts of every `url` webhook in the configurations called `names` (both kinds; a
/// missing configuration has none), in order, each once. A host that is not a valid
/// certificate name is left out: the API server could not verify any certificate for it.
pub(crate) async fn url_hosts(client: &Client, names: &[String]) -> Result<Vec<Host>, ClusterError> {
    let mut hosts: Vec<Host> = Vec::new();
    for name in names {
        let mut urls = urls_of::<MutatingWebhookConfiguration>(client, name).await?;
        urls.extend(urls_of::<ValidatingWebhookConfiguration>(client, name).await?);
        for url in urls {
            match url_host(&url).map(|h| h.parse::<Host>()) {
                Some(Ok(host)) if !hosts.contains(&host) => hosts.push(host),
                Some(Ok(_)) => {}
                _ => debug!(url, "no certificate name in this webhook URL; skipped"),
            }
        }
    }
    Ok(hosts)
}

async fn urls_of<K: WebhookConfiguration>(client: &Client, name: &str) -> Result<Vec<String>, ClusterError> {
    let api: Api<K> = Api::all(client.kube().clone());
    let config = api.get_opt(name).await.map_err(|e| {
        client.error(
            e,
            &Target {
                verb: "get",
                kind: K::KIND,
                resource: K::RESOURCE,
                group: "admissionregistration.k8s.io",
                namespace: None,
                name,
            },
        )
    })?;
    Ok(config
        .map(|c| c.urls().into_iter().map(str::to_owned).collect())
        .unwrap_or_default())
}

/// The host of a webhook URL (`https://host:port/path`), lowercased, IPv6 without brackets.
fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split_once(':').map_or(host_port, |(h, _)| h)
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// False when no configuration of this kind has the name.
async fn inject_one<K: WebhookConfiguration>(
    client: &Client,
    name: &str,
    bundle: &[u8],
) -> Result<bool, ClusterError> {
    let api: Api<K> = Api::all(client.kube().clone());
    let target = |verb| Target {
        verb,
        kind: K::KIND,
        resource: K::RESOURCE,
        group: "admissionregistration.k8s.io",
        namespace: None,
        name,
    };
    for _ in 0..ATTEMPTS {
        let Some(config) = api
            .get_opt(name)
            .await
            .map_err(|e| client.error(e, &target("get")))?
        else {
            debug!(kind = K::KIND, name, "no such webhook configuration; skipped");
            return Ok(false);
        };
        let stale: Vec<&str> = config
            .bundles()
            .into_iter()
            .filter(|(_, current)| current.map(|b| b.0.as_slice()) != Some(bundle))
            .map(|(webhook, _)| webhook)
            .collect();
        if stale.is_empty() {
            return Ok(true);
        }
        let patch = patch_body(config.meta().resource_version.as_deref(), &stale, bundle);
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        match api.patch(name, &params, &Patch::Strategic(patch)).await {
            Ok(_) => {
                info!(kind = K::KIND, name, webhooks = ?stale, "caBundle injected");
                return Ok(true);
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                debug!(kind = K::KIND, name, "changed since it was read; reading again");
            }
            Err(e) => return Err(client.error(e, &target("patch"))),
        }
    }
    Err(ClusterError::Conflicts {
        verb: "patch",
        kind: K::KIND,
        object: name.to_owned(),
        attempts: ATTEMPTS,
    })
}

/// The strategic merge patch that sets `caBundle` on the named webhooks, preconditioned on
/// the resourceVersion that was read.
fn patch_body(resource_version: Option<&str>, webhooks: &[&str], bundle: &[u8]) -> serde_json::Value {
    let bundle = ByteString(bundle.to_vec());
    let webhooks: Vec<_> = webhooks
        .iter()
        .map(|name| json!({ "name": name, "clientConfig": { "caBundle": bundle } }))
        .collect();
    match resource_version {
        Some(rv) => json!({ "metadata": { "resourceVersion": rv }, "webhooks": webhooks }),
        None => json!({ "webhooks": webhooks }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_host_of_a_webhook_url() {
        for (url, host) in [
            ("https://127.0.0.1:8443/validate", Some("127.0.0.1")),
            (
                "https://Webhook.Example.com/mutate?x=1",
                Some("webhook.example.com"),
            ),
            ("https://[::1]:8443/mutate", Some("::1")),
            ("https://localhost", Some("localhost")),
            ("https://:8443/x", None),
            ("not a url", None),
        ] {
            assert_eq!(url_host(url).as_deref(), host, "{url}");
        }
    }

    #[test]
    fn the_patch_names_each_webhook_and_carries_the_resource_version() {
        let body = patch_body(Some("42"), &["a.batchguard.io", "b.batchguard.io"], b"PEM");
        assert_eq!(
            body,
            json!({
                "metadata": { "resourceVersion": "42" },
                "webhooks": [
                    { "name": "a.batchguard.io", "clientConfig": { "caBundle": "UEVN" } },
                    { "name": "b.batchguard.io", "clientConfig": { "caBundle": "UEVN" } },
                ]
            })
        );
    }
}
