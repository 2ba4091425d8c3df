//! AdmissionReview in, AdmissionReview out: kind dispatch, exemptions, update ratcheting
//! and warn mode, with no HTTP in sight. The server wraps [`review`]; every decision the
//! webhook makes is taken here, so it can be tested on the captured requests byte for byte.
//!
//! [`request`] reads the body (one serde reader, borrowed, a view per webhook),
//! [`decide`] judges or mutates, [`response`] writes the answer.

mod decide;
pub mod request;
pub mod response;

use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::apiserver::Status;
use crate::model::{self, Context, Finding, Kind};
use crate::policy::Policy;
use request::{Lenient, MutationView, Tree};
use response::Response;

pub use request::{Operation, API_VERSION};

/// Which webhook a request was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Webhook {
    Validate,
    Mutate,
}

impl Webhook {
    /// The lowercase label used in logs and metrics (and the route without its slash).
    pub fn as_str(self) -> &'static str {
        match self {
            Webhook::Validate => "validate",
            Webhook::Mutate => "mutate",
        }
    }
}

/// What the webhook decided, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Allowed with nothing to say beyond advice: not a batch kind, DELETE/CONNECT, a
    /// subresource, no finding, only warning-level findings, or no default to add.
    Allowed,
    /// `/validate` refused it: at least one error finding that is new and enforced.
    Denied,
    /// `/mutate` answered a non-empty JSON Patch.
    Patched,
    /// An exempt namespace or the ignore annotation: not judged, not mutated.
    Exempt,
    /// Allowed, but only because error findings were turned into warnings: warn mode, a
    /// controller-owned object (policy rules), or findings the stored object already had.
    Warned,
    /// batchguard itself failed on this request (logged); answered `allowed: false`, 500.
    Failed,
}

impl Verdict {
    /// The lowercase label used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Denied => "denied",
            Verdict::Patched => "patched",
            Verdict::Exempt => "exempt",
            Verdict::Warned => "warned",
            Verdict::Failed => "failed",
        }
    }
}

/// Everything the server needs for the HTTP response, its logs and its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The serialized AdmissionReview response, to be sent with HTTP 200.
    pub body: Vec<u8>,
    pub uid: String,
    /// `None` for kinds batchguard does not judge.
    pub kind: Option<Kind>,
    pub operation: Operation,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub verdict: Verdict,
    /// The fields the patch sets (`spec.concurrencyPolicy`), for the patches-by-field metric.
    pub patched_fields: Vec<&'static str>,
}

/// Where batchguard runs and what time it is: the parts of a review that are not in the body.
#[derive(Debug, Clone)]
pub struct Env {
    pub now: DateTime<Utc>,
    /// The webhook's own namespace (`POD_NAMESPACE`), always exempt.
    pub own_namespace: Option<String>,
}

/// A body that is not a readable `admission.k8s.io/v1` AdmissionReview request. The server
/// answers HTTP 400 with the `Display` text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("body is not an AdmissionReview request: {0}")]
    NotAReview(String),
    #[error("unsupported apiVersion {0:?}: batchguard reads and answers only admission.k8s.io/v1 (set admissionReviewVersions: [v1])")]
    WrongApiVersion(String),
    #[error("unexpected kind {0:?}: expected AdmissionReview")]
    WrongKind(String),
    #[error("AdmissionReview has no request")]
    MissingRequest,
    #[error("request.uid is empty")]
    EmptyUid,
    #[error("request.object is missing on {0}")]
    MissingObject(&'static str),
    #[error("request.oldObject is missing on UPDATE")]
    MissingOldObject,
    #[error("request.{0} is not a JSON object")]
    NotAnObject(&'static str),
    #[error("request object too complex: reading it would take more than {0} MiB (batchguard's limit per object; a real Job or CronJob takes well under 1 MiB)")]
    TooComplex(usize),
    #[error("request.object is {found}, but request.kind is {expected}")]
    KindMismatch { found: String, expected: String },
}

/// Reviews one AdmissionReview body for `webhook`, with the real rule engine.
///
/// `Ok` is always answered with HTTP 200 and [`Outcome::body`], whatever the verdict;
/// `Err` means the body could not be read as an `admission.k8s.io/v1` request and is
/// answered with HTTP 400 and the error's text. Never panics.
pub fn review(webhook: Webhook, body: &[u8], policy: &Policy, env: &Env) -> Result<Outcome, ReviewError> {
    review_with(webhook, body, policy, env, &crate::rules::check)
}

/// The rule engine as [`review`] calls it (the signature of [`crate::rules::check`]).
pub type Checker<'a> = dyn Fn(Kind, &Value, &Policy, &Context) -> Vec<Finding> + 'a;

/// [`review`] with the rule engine passed in, so the admission logic (ratchet, exemptions,
/// warn mode, response shapes) can be exercised with hand-made findings.
pub fn review_with(
    webhook: Webhook,
    body: &[u8],
    policy: &Policy,
    env: &Env,
    checker: &Checker,
) -> Result<Outcome, ReviewError> {
    match webhook {
        Webhook::Validate => review_as::<Tree>(webhook, body, policy, env, checker),
        Webhook::Mutate => review_as::<MutationView>(webhook, body, policy, env, checker),
    }
}

/// How a webhook reads the objects of a request.
pub trait ObjectView<'a>: Deserialize<'a> {
    /// What the view read, as JSON for the rules or the mutation.
    fn into_value(self) -> Value;
}

impl ObjectView<'_> for Tree {
    fn into_value(self) -> Value {
        Tree::into_value(self)
    }
}

impl<'a> ObjectView<'a> for MutationView<'a> {
    fn into_value(self) -> Value {
        MutationView::into_value(self)
    }
}

fn review_as<'a, O: ObjectView<'a>>(
    webhook: Webhook,
    body: &'a [u8],
    policy: &Policy,
    env: &Env,
    checker: &Checker,
) -> Result<Outcome, ReviewError> {
    let request = request::parse::<O>(body)?;
    let kind = Kind::from_gvk(&request.kind.group, &request.kind.version, &request.kind.kind);
    let operation = request.operation;
    let nonempty =
        |s: &Option<std::borrow::Cow<str>>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    let mut outcome = Outcome {
        body: Vec::new(),
        uid: request.uid.to_string(),
        kind,
        operation,
        namespace: nonempty(&request.namespace),
        name: nonempty(&request.name),
        verdict: Verdict::Allowed,
        patched_fields: Vec::new(),
    };
    let response = Response::allow(&request.uid);
    let op = match operation {
        Operation::Create => Some(model::Operation::Create),
        Operation::Update => Some(model::Operation::Update),
        Operation::Delete | Operation::Connect => None,
    };
    let subresource = request.sub_resource.as_deref().is_some_and(|s| !s.is_empty());
    let (Some(kind), Some(op), false) = (kind, op, subresource) else {
        // Not ours, or nothing to judge: answered without looking at the objects.
        outcome.body = response.into_review_bytes();
        return Ok(outcome);
    };

    let object = match request.object {
        None => return Err(ReviewError::MissingObject(operation.as_str())),
        Some(Lenient(None)) => return Err(ReviewError::NotAnObject("object")),
        Some(Lenient(Some(o))) => o.into_value(),
    };
    check_type(&object, kind)?;
    let old = match op {
        model::Operation::Create => None,
        model::Operation::Update => match request.old_object {
            None => return Err(ReviewError::MissingOldObject),
            Some(Lenient(None)) => return Err(ReviewError::NotAnObject("oldObject")),
            Some(Lenient(Some(o))) => Some(o.into_value()),
        },
    };
    // The request's name/namespace win; the object's fill in what the request left out.
    let meta_str = |key: &str| {
        object
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    if outcome.name.is_none() {
        outcome.name = meta_str("name");
    }
    if outcome.namespace.is_none() {
        outcome.namespace = meta_str("namespace");
    }

    if decide::exempt(&object, outcome.namespace.as_deref(), policy, env) {
        outcome.verdict = Verdict::Exempt;
        outcome.body = response.into_review_bytes();
        return Ok(outcome);
    }

    let decided = catch_unwind(AssertUnwindSafe(|| match webhook {
        Webhook::Validate => decide::validate(
            kind,
            op,
            &object,
            old.as_ref(),
            policy,
            env,
            checker,
            outcome.name.as_deref(),
        ),
        Webhook::Mutate => decide::mutate(kind, op, &object, old.as_ref(), policy, env),
    }));
    let response = match decided {
        Ok(decision) => {
            outcome.verdict = decision.verdict;
            outcome.patched_fields = decision.patched_fields;
            let mut response = response.with_warnings(decision.warnings);
            if let Some(status) = decision.status {
                response = response.deny(status);
            }
            if let Some(patch) = decision.patch {
                response = response.with_patch(patch);
            }
            response
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(
                uid = %outcome.uid,
                kind = kind.as_str(),
                namespace = outcome.namespace.as_deref().unwrap_or(""),
                name = outcome.name.as_deref().unwrap_or(""),
                panic = %what,
                "batchguard failed while reviewing a request"
            );
            outcome.verdict = Verdict::Failed;
            response.deny(Status::internal(format!(
                "batchguard failed while reviewing this request (uid {}); see the webhook log",
                outcome.uid
            )))
        }
    };
    outcome.body = response.into_review_bytes();
    Ok(outcome)
}

/// The object must be what `request.kind` says (when it says anything): the rules are
/// chosen by kind, and an API server never sends a mismatch.
fn check_type(object: &Value, kind: Kind) -> Result<(), ReviewError> {
    let api_version = object.get("apiVersion");
    let object_kind = object.get("kind");
    if api_version.is_none() && object_kind.is_none() {
        return Ok(());
    }
    let show = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let matches = api_version.and_then(Value::as_str) == Some("batch/v1")
        && object_kind.and_then(Value::as_str) == Some(kind.as_str());
    if matches {
        Ok(())
    } else {
        Err(ReviewError::KindMismatch {
            found: format!("{} {}", show(api_version), show(object_kind))
                .trim()
                .to_string(),
            expected: format!("batch/v1 {}", kind.as_str()),
        })
    }
}

#[cfg(test)]
mod tests;
