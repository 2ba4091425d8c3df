//! batchguard's own objects in the fake API server, shared by the `cluster` tests (the
//! certificate manager) and the `serve_certs` tests (the server using it): the Secret's
//! name, the webhook shape, and readers of what was stored.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::fake_apiserver::FakeApiServer;

pub const NS: &str = "batchguard";
pub const SECRET: &str = "batchguard-tls";

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(value: &Value) -> String {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

/// One webhook of a configuration, for batch/v1 Jobs and CronJobs.
pub fn webhook(name: &str, client_config: Value) -> Value {
    json!({
        "name": name,
        "clientConfig": client_config,
        "rules": [{"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["jobs", "cronjobs"]}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "failurePolicy": "Fail",
    })
}

/// `(ca.crt, tls.crt, tls.key)` of the stored Secret, if there is one.
pub fn stored(fake: &FakeApiServer) -> Option<(String, String, String)> {
    let secret = fake.get("secrets", NS, SECRET)?;
    assert_eq!(secret["type"], "kubernetes.io/tls");
    Some((
        unb64(&secret["data"]["ca.crt"]),
        unb64(&secret["data"]["tls.crt"]),
        unb64(&secret["data"]["tls.key"]),
    ))
}

/// Every caBundle of both configurations named `batchguard`, decoded, mutating first
/// (`None` where unset).
pub fn bundles(fake: &FakeApiServer) -> Vec<Option<String>> {
    ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]
        .iter()
        .flat_map(|plural| {
            let config = fake.get(plural, "", "batchguard").expect("configuration");
            config["webhooks"]
                .as_array()
                .expect("webhooks")
                .iter()
                .map(|w| w["clientConfig"].get("caBundle").map(unb64))
                .collect::<Vec<_>>()
        })
        .collect()
}
