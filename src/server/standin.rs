//! A stand-in for the admission core with the agreed interface of `crate::admission`, so the
//! HTTP shell can be built and tested before the real core lands. It reads the review and
//! allows everything.
//!
//! TODO(lead): delete this file once `crate::admission::review` lands (see `core` in mod.rs).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::config::Policy;
use crate::rules::Kind;

// Not Copy: the agreed interface does not promise it, so the server must not rely on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Webhook {
    Validate,
    Mutate,
}

#[derive(Debug, Clone)]
pub struct Env {
    pub now: DateTime<Utc>,
    pub own_namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Denied,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Denied => "denied",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub body: Vec<u8>,
    pub uid: String,
    pub kind: Option<Kind>,
    pub operation: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub verdict: Verdict,
    pub patched_fields: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReviewError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error(
        "expected an admission.k8s.io/v1 AdmissionReview, found apiVersion {api_version:?} kind {kind:?}"
    )]
    NotAdmissionReview { api_version: String, kind: String },
    #[error("the AdmissionReview has no request")]
    NoRequest,
    #[error("the AdmissionReview request has no uid")]
    NoUid,
}

pub fn review(_webhook: Webhook, body: &[u8], _policy: &Policy, _env: &Env) -> Result<Outcome, ReviewError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ReviewError::NotJson(e.to_string()))?;
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default();
    if api_version != "admission.k8s.io/v1" || kind != "AdmissionReview" {
        return Err(ReviewError::NotAdmissionReview {
            api_version: api_version.into(),
            kind: kind.into(),
        });
    }
    let request = v
        .get("request")
        .filter(|r| r.is_object())
        .ok_or(ReviewError::NoRequest)?;
    let uid = request
        .get("uid")
        .and_then(Value::as_str)
        .ok_or(ReviewError::NoUid)?
        .to_string();
    let str_of = |key: &str| request.get(key).and_then(Value::as_str).map(str::to_string);
    let gvk = request.get("kind");
    let gvk_part = |key: &str| {
        gvk.and_then(|k| k.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let group_version = match gvk_part("group") {
        "" => gvk_part("version").to_string(),
        g => format!("{g}/{}", gvk_part("version")),
    };
    let response = json!({
        "apiVersion": api_version,
        "kind": kind,
        "response": { "uid": uid, "allowed": true },
    });
    Ok(Outcome {
        body: serde_json::to_vec(&response).expect("a JSON value always serializes"),
        kind: Kind::from_type(&group_version, gvk_part("kind")),
        operation: str_of("operation").unwrap_or_default(),
        namespace: str_of("namespace"),
        name: str_of("name"),
        uid,
        verdict: Verdict::Allowed,
        patched_fields: Vec::new(),
    })
}
