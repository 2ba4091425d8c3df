//! AdmissionReview in, AdmissionReview out: kind dispatch, exemptions, update ratcheting
//! and warn mode, with no HTTP in sight. The server wraps [`review`]; every decision the
//! webhook makes is taken here, so it can be tested on the captured requests byte for byte.
//!
//! The request is read as a lean view of `admission.k8s.io/v1` (kube's [`GroupVersionKind`]
//! and [`Operation`], the objects as plain JSON for the rules): by the byte scanner in
//! `jsonscan` when it can vouch for the body, else by serde_json with the same view. The
//! response is written by hand: kube 5's `AdmissionResponse` serializes `patch` as an array
//! of numbers instead of base64 (kube-rs#1781), always emits a `status` and answers
//! unreadable requests as v1beta1 with an empty uid (kube-rs#1904). See
//! `kube_response_patch_is_not_base64` below.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::{DateTime, Utc};
use kube::core::admission::Operation as ApiOperation;
use kube::core::gvk::GroupVersionKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{Mode, Policy, IGNORE_ANNOTATION};
use crate::cron::go_quote;
use crate::jsonscan;
use crate::jsonw;
use crate::rules::{Context, Finding, Kind, Operation, Origin, Severity};

/// The only AdmissionReview version batchguard reads and writes.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// Which webhook a request was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    Validate,
    Mutate,
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
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub verdict: Verdict,
    /// The fields the patch sets (`spec.concurrencyPolicy`), for the patches-by-field metric.
    pub patched_fields: Vec<String>,
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
    // `/mutate` builds only the few keys it reads (see `MutationInputs`).
    match webhook {
        Webhook::Validate => review_reading::<Everything>(webhook, body, policy, env, checker),
        Webhook::Mutate => review_reading::<MutationInputs>(webhook, body, policy, env, checker),
    }
}

fn review_reading<R: Reads>(
    webhook: Webhook,
    body: &[u8],
    policy: &Policy,
    env: &Env,
    checker: &Checker,
) -> Result<Outcome, ReviewError> {
    let request = parse::<R>(body)?;
    let kind = Kind::from_type(
        &format!("{}/{}", request.kind.group, request.kind.version),
        &request.kind.kind,
    );
    let operation = match request.operation {
        ApiOperation::Create => "CREATE",
        ApiOperation::Update => "UPDATE",
        ApiOperation::Delete => "DELETE",
        ApiOperation::Connect => "CONNECT",
    };
    let mut outcome = Outcome {
        body: Vec::new(),
        uid: request.uid.clone(),
        kind,
        operation: operation.to_string(),
        namespace: request.namespace.clone().filter(|n| !n.is_empty()),
        name: request.name.clone().filter(|n| !n.is_empty()),
        verdict: Verdict::Allowed,
        patched_fields: Vec::new(),
    };
    let mut response = Response::allowed(&request.uid);

    let op = match request.operation {
        ApiOperation::Create => Some(Operation::Create),
        ApiOperation::Update => Some(Operation::Update),
        ApiOperation::Delete | ApiOperation::Connect => None,
    };
    let subresource = request.sub_resource.as_deref().is_some_and(|s| !s.is_empty());
    let (Some(kind), Some(op), false) = (kind, op, subresource) else {
        // Not ours, or nothing to judge: answered without looking at the objects.
        outcome.body = response.to_bytes();
        return Ok(outcome);
    };

    let object = match &request.object {
        None | Some(Value::Null) => return Err(ReviewError::MissingObject(operation)),
        Some(o) if !o.is_object() => return Err(ReviewError::NotAnObject("object")),
        Some(o) => o,
    };
    check_type(object, kind)?;
    let old = match op {
        Operation::Create => None,
        Operation::Update => match &request.old_object {
            None | Some(Value::Null) => return Err(ReviewError::MissingOldObject),
            Some(o) if !o.is_object() => return Err(ReviewError::NotAnObject("oldObject")),
            Some(o) => Some(o),
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

    if exempt(object, outcome.namespace.as_deref(), policy, env) {
        outcome.verdict = Verdict::Exempt;
        outcome.body = response.to_bytes();
        return Ok(outcome);
    }

    let judged = catch_unwind(AssertUnwindSafe(|| match webhook {
        Webhook::Validate => validate(
            kind,
            op,
            object,
            old,
            policy,
            env,
            checker,
            outcome.name.as_deref(),
        ),
        Webhook::Mutate => mutate(kind, op, object, old, policy, env),
    }));
    match judged {
        Ok(Judged {
            verdict,
            warnings,
            status,
            patch,
            patched_fields,
        }) => {
            outcome.verdict = verdict;
            outcome.patched_fields = patched_fields;
            response.allowed = status.is_none();
            response.status = status;
            response.warnings = warnings;
            response.patch = patch;
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(
                uid = %request.uid,
                kind = kind.as_str(),
                namespace = outcome.namespace.as_deref().unwrap_or(""),
                name = outcome.name.as_deref().unwrap_or(""),
                panic = %what,
                "batchguard failed while reviewing a request"
            );
            outcome.verdict = Verdict::Failed;
            response.allowed = false;
            response.status = Some(Status::internal(&request.uid));
        }
    }
    outcome.body = response.to_bytes();
    Ok(outcome)
}

/// The request fields batchguard reads; anything else in the body is ignored.
#[derive(Debug, PartialEq)]
struct Request {
    uid: String,
    kind: GroupVersionKind,
    sub_resource: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    operation: ApiOperation,
    object: Option<Value>,
    old_object: Option<Value>,
}

/// How much of the objects a webhook reads (see [`Lean`]).
trait Reads {
    /// Keep all of each object (`true`), or only [`MutationInputs`]'s keys (`false`).
    const WHOLE: bool;
}

/// `/validate`: the rules judge the whole object.
struct Everything;
impl Reads for Everything {
    const WHOLE: bool = true;
}

/// `/mutate`: only the keys the mutation and the admission logic around it read; the rest
/// of the body (labels, the pod template, status, most of managedFields) is scanned but
/// never built. `mutate_reads_only_what_it_needs` answers every captured request and every
/// corpus manifest both ways and compares the bytes, so a key added to the mutation but
/// not here fails a test.
struct MutationInputs;
impl Reads for MutationInputs {
    const WHOLE: bool = false;
}

impl MutationInputs {
    /// Of the object: the type (`check_type`), metadata and spec.
    const OBJECT: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
    /// name/namespace fill in the request's; annotations and managedFields are the
    /// evidence of user choice; ownerReferences say whether a controller owns a Job.
    const METADATA: &[&str] = &[
        "name",
        "namespace",
        "annotations",
        "ownerReferences",
        "managedFields",
    ];
    const ANNOTATIONS: &[&str] = &[
        IGNORE_ANNOTATION,
        crate::config::KEEP_ANNOTATION,
        crate::defaults::LAST_APPLIED_ANNOTATION,
    ];
    /// Every default of a CronJob or Job spec, and what the schedule deadline is computed from.
    const SPEC: &[&str] = &[
        "concurrencyPolicy",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
        "startingDeadlineSeconds",
        "schedule",
        "timeZone",
        "jobTemplate",
        "ttlSecondsAfterFinished",
        "activeDeadlineSeconds",
    ];
    const JOB_TEMPLATE: &[&str] = &["spec"];
    const JOB_TEMPLATE_SPEC: &[&str] = &["activeDeadlineSeconds"];

    fn keeps(level: Level, key: &str) -> bool {
        let keys = match level {
            Level::Object => Self::OBJECT,
            Level::Metadata => Self::METADATA,
            Level::Annotations => Self::ANNOTATIONS,
            Level::Spec => Self::SPEC,
            Level::JobTemplate => Self::JOB_TEMPLATE,
            Level::JobTemplateSpec => Self::JOB_TEMPLATE_SPEC,
            // Inside a kept value (an ownerReference, a managedFields entry): all of it.
            Level::ManagedFields | Level::Other => return true,
        };
        keys.contains(&key)
    }
}

/// [`Request`] as read from the body, with the objects read as `R` says.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "")]
struct Wire<R: Reads> {
    uid: String,
    kind: GroupVersionKind,
    #[serde(default)]
    sub_resource: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    operation: ApiOperation,
    #[serde(default, deserialize_with = "lean_object::<R, _>")]
    object: Option<Value>,
    #[serde(default, deserialize_with = "lean_object::<R, _>")]
    old_object: Option<Value>,
    #[serde(skip)]
    reads: std::marker::PhantomData<R>,
}

impl<R: Reads> From<Wire<R>> for Request {
    fn from(w: Wire<R>) -> Request {
        let _ = w.reads;
        Request {
            uid: w.uid,
            kind: w.kind,
            sub_resource: w.sub_resource,
            name: w.name,
            namespace: w.namespace,
            operation: w.operation,
            object: w.object,
            old_object: w.old_object,
        }
    }
}

/// Reads an object as JSON, keeping of `metadata.managedFields` only what anything here
/// reads: the `operation: Apply` entries' `operation`, `subresource` and `fieldsV1` (the
/// evidence of server-side apply). The other entries are half the bytes of a typical
/// request and most of the cost of reading it; the rules never look at them, the API
/// server has validated them, and the patch never touches them. Unless `R` reads whole
/// objects, only [`MutationInputs`]'s keys are built.
fn lean_object<'de, R: Reads, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    use serde::de::DeserializeSeed as _;
    let value = Lean {
        level: Level::Object,
        whole: R::WHOLE,
    }
    .deserialize(d)?;
    Ok((!value.is_null()).then_some(value))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Object,
    Metadata,
    Annotations,
    ManagedFields,
    Spec,
    JobTemplate,
    JobTemplateSpec,
    Other,
}

impl Level {
    /// Where the value of `key` sits, for a key of an object at this level.
    fn child(self, key: &str) -> Level {
        match (self, key) {
            (Level::Object, "metadata") => Level::Metadata,
            (Level::Metadata, "annotations") => Level::Annotations,
            (Level::Metadata, "managedFields") => Level::ManagedFields,
            (Level::Object, "spec") => Level::Spec,
            (Level::Spec, "jobTemplate") => Level::JobTemplate,
            (Level::JobTemplate, "spec") => Level::JobTemplateSpec,
            _ => Level::Other,
        }
    }
}

/// Builds a `serde_json::Value` like `Value::deserialize`, filtering managedFields and,
/// unless `whole`, keeping only [`MutationInputs`]'s keys.
#[derive(Clone, Copy)]
struct Lean {
    level: Level,
    whole: bool,
}

impl Lean {
    fn at(self, level: Level) -> Lean {
        Lean { level, ..self }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Lean {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Lean {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        if self.level == Level::ManagedFields {
            while let Some(entry) = seq.next_element_seed(ApplyEntry)? {
                out.extend(entry);
            }
        } else {
            while let Some(v) = seq.next_element_seed(self.at(Level::Other))? {
                out.push(v);
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            if !self.whole && !MutationInputs::keeps(self.level, &key) {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let value = map.next_value_seed(self.at(self.level.child(&key)))?;
            out.insert(key.into_owned(), value);
        }
        Ok(Value::Object(out))
    }
}

/// A map key, borrowed from the body when it has no escapes: the keys skipped unbuilt
/// then cost no allocation.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(v.to_owned().into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// One managedFields entry: `Some` for an Apply entry (reduced), `None` for anything else.
struct ApplyEntry;

impl<'de> serde::de::DeserializeSeed<'de> for ApplyEntry {
    type Value = Option<Value>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ApplyEntry {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a managedFields entry")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let mut operation: Option<Value> = None;
        let mut subresource: Option<Value> = None;
        let mut fields: Option<Value> = None;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.as_ref() {
                "operation" => operation = Some(map.next_value()?),
                "subresource" => subresource = Some(map.next_value()?),
                // The API server writes `operation` first; only when it has not been seen
                // yet must fieldsV1 be read before knowing whether it matters.
                "fieldsV1" if operation.as_ref().is_some_and(|o| o != "Apply") => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                "fieldsV1" => fields = Some(map.next_value()?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(apply_entry(operation, subresource, fields))
    }
}

/// What is kept of a managedFields entry: `operation`, `subresource` and `fieldsV1`, for an
/// Apply entry only.
fn apply_entry(operation: Option<Value>, subresource: Option<Value>, fields: Option<Value>) -> Option<Value> {
    let operation = operation.filter(|o| o == "Apply")?;
    let mut entry = serde_json::Map::new();
    entry.insert("operation".into(), operation);
    if let Some(s) = subresource {
        entry.insert("subresource".into(), s);
    }
    if let Some(f) = fields {
        entry.insert("fieldsV1".into(), f);
    }
    Some(Value::Object(entry))
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<R> {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    request: Option<R>,
}

fn parse<R: Reads>(body: &[u8]) -> Result<Request, ReviewError> {
    let envelope = match fast::envelope(body, R::WHOLE) {
        Ok(envelope) => envelope,
        Err(jsonscan::Bail) => parse_with_serde::<R>(body)?,
    };
    check_envelope(envelope.api_version.as_deref(), envelope.kind.as_deref())?;
    let request = envelope.request.ok_or(ReviewError::MissingRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::EmptyUid);
    }
    Ok(request)
}

/// The body read by serde_json: what [`fast`] declined to vouch for, and every body that
/// is not a well-formed request, so errors carry serde_json's messages.
fn parse_with_serde<R: Reads>(body: &[u8]) -> Result<Envelope<Request>, ReviewError> {
    use serde_json::error::Category;
    match serde_json::from_slice::<Envelope<Wire<R>>>(body) {
        Ok(envelope) => Ok(Envelope {
            api_version: envelope.api_version,
            kind: envelope.kind,
            request: envelope.request.map(Request::from),
        }),
        Err(e) if matches!(e.classify(), Category::Syntax | Category::Eof | Category::Io) => {
            Err(ReviewError::NotJson(e.to_string()))
        }
        Err(e) => {
            // A wrong version or kind explains a bad request better than the field serde
            // tripped on, so look at the envelope alone before blaming the request.
            if let Ok(envelope) = serde_json::from_slice::<Envelope<serde::de::IgnoredAny>>(body) {
                check_envelope(envelope.api_version.as_deref(), envelope.kind.as_deref())?;
            }
            Err(ReviewError::NotAReview(e.to_string()))
        }
    }
}

/// The same read as [`Wire`] and [`Lean`] through serde_json, straight off the bytes with
/// [`jsonscan`] (37k instead of 45k instructions for the captured CronJob CREATE on
/// `/mutate`). Anything the scanner cannot vouch for, including every error, bails to
/// [`parse_with_serde`].
mod fast {
    use super::{
        apply_entry, jsonscan, ApiOperation, Envelope, GroupVersionKind, Level, MutationInputs, Request,
        Value,
    };
    use jsonscan::{Bail, Scan, Scanned};

    pub(super) fn envelope(body: &[u8], whole: bool) -> Scanned<Envelope<Request>> {
        let mut s = Scan::new(body)?;
        let (mut api_version, mut kind, mut request) = (None, None, None);
        let mut members = s.object()?;
        while let Some(key) = s.key(&mut members)? {
            match key.as_ref() {
                "apiVersion" => once(&mut api_version, optional_string(&mut s)?)?,
                "kind" => once(&mut kind, optional_string(&mut s)?)?,
                "request" => {
                    let value = if s.null()? {
                        None
                    } else {
                        Some(read_request(&mut s, whole)?)
                    };
                    once(&mut request, value)?;
                }
                _ => s.skip()?,
            }
        }
        s.finish()?;
        Ok(Envelope {
            api_version: api_version.flatten(),
            kind: kind.flatten(),
            request: request.flatten(),
        })
    }

    /// serde's derived structs refuse a field given twice; so does this, by bailing.
    fn once<T>(slot: &mut Option<T>, value: T) -> Scanned<()> {
        if slot.replace(value).is_some() {
            return Err(Bail);
        }
        Ok(())
    }

    fn optional_string(s: &mut Scan) -> Scanned<Option<String>> {
        if s.null()? {
            return Ok(None);
        }
        Ok(Some(s.string()?.into_owned()))
    }

    fn read_request(s: &mut Scan, whole: bool) -> Scanned<Request> {
        let (mut uid, mut kind, mut sub_resource, mut name, mut namespace) = (None, None, None, None, None);
        let (mut operation, mut object, mut old_object) = (None, None, None);
        let mut members = s.object()?;
        while let Some(key) = s.key(&mut members)? {
            match key.as_ref() {
                "uid" => once(&mut uid, s.string()?.into_owned())?,
                "kind" => once(&mut kind, read_gvk(s)?)?,
                "subResource" => once(&mut sub_resource, optional_string(s)?)?,
                "name" => once(&mut name, optional_string(s)?)?,
                "namespace" => once(&mut namespace, optional_string(s)?)?,
                "operation" => {
                    let op = match s.string()?.as_ref() {
                        "CREATE" => ApiOperation::Create,
                        "UPDATE" => ApiOperation::Update,
                        "DELETE" => ApiOperation::Delete,
                        "CONNECT" => ApiOperation::Connect,
                        _ => return Err(Bail),
                    };
                    once(&mut operation, op)?;
                }
                "object" => once(&mut object, read_object(s, whole)?)?,
                "oldObject" => once(&mut old_object, read_object(s, whole)?)?,
                _ => s.skip()?,
            }
        }
        Ok(Request {
            uid: uid.ok_or(Bail)?,
            kind: kind.ok_or(Bail)?,
            sub_resource: sub_resource.flatten(),
            name: name.flatten(),
            namespace: namespace.flatten(),
            operation: operation.ok_or(Bail)?,
            object: object.flatten(),
            old_object: old_object.flatten(),
        })
    }

    fn read_gvk(s: &mut Scan) -> Scanned<GroupVersionKind> {
        let (mut group, mut version, mut kind) = (None, None, None);
        let mut members = s.object()?;
        while let Some(key) = s.key(&mut members)? {
            match key.as_ref() {
                "group" => once(&mut group, s.string()?.into_owned())?,
                "version" => once(&mut version, s.string()?.into_owned())?,
                "kind" => once(&mut kind, s.string()?.into_owned())?,
                _ => s.skip()?,
            }
        }
        Ok(GroupVersionKind {
            group: group.ok_or(Bail)?,
            version: version.ok_or(Bail)?,
            kind: kind.ok_or(Bail)?,
        })
    }

    /// As `lean_object`: `null` is no object.
    fn read_object(s: &mut Scan, whole: bool) -> Scanned<Option<Value>> {
        let value = lean(s, Level::Object, whole)?;
        Ok((!value.is_null()).then_some(value))
    }

    /// As [`super::Lean`]. Below the levels it filters, a value is read whole by
    /// [`Scan::value`].
    fn lean(s: &mut Scan, level: Level, whole: bool) -> Scanned<Value> {
        if level == Level::Other {
            return s.value();
        }
        match s.peek()? {
            b'{' => {
                let mut out = serde_json::Map::new();
                let mut members = s.object()?;
                while let Some(key) = s.key(&mut members)? {
                    if !whole && !MutationInputs::keeps(level, &key) {
                        s.skip()?;
                        continue;
                    }
                    let value = lean(s, level.child(&key), whole)?;
                    out.insert(key.into_owned(), value);
                }
                Ok(Value::Object(out))
            }
            b'[' => {
                let mut out = Vec::new();
                let mut members = s.array()?;
                while s.element(&mut members)? {
                    if level == Level::ManagedFields {
                        out.extend(read_apply_entry(s)?);
                    } else {
                        out.push(s.value()?);
                    }
                }
                Ok(Value::Array(out))
            }
            _ => s.scalar(),
        }
    }

    /// As [`super::ApplyEntry`].
    fn read_apply_entry(s: &mut Scan) -> Scanned<Option<Value>> {
        if s.peek()? != b'{' {
            s.skip()?;
            return Ok(None);
        }
        let mut operation: Option<Value> = None;
        let mut subresource: Option<Value> = None;
        let mut fields: Option<Value> = None;
        let mut members = s.object()?;
        while let Some(key) = s.key(&mut members)? {
            match key.as_ref() {
                "operation" => operation = Some(s.value()?),
                "subresource" => subresource = Some(s.value()?),
                "fieldsV1" if operation.as_ref().is_some_and(|o| o != "Apply") => s.skip()?,
                "fieldsV1" => fields = Some(s.value()?),
                _ => s.skip()?,
            }
        }
        Ok(apply_entry(operation, subresource, fields))
    }
}

fn check_envelope(api_version: Option<&str>, kind: Option<&str>) -> Result<(), ReviewError> {
    if api_version != Some(API_VERSION) {
        return Err(ReviewError::WrongApiVersion(
            api_version.unwrap_or_default().to_string(),
        ));
    }
    if kind != Some("AdmissionReview") {
        return Err(ReviewError::WrongKind(kind.unwrap_or_default().to_string()));
    }
    Ok(())
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

fn exempt(object: &Value, namespace: Option<&str>, policy: &Policy, env: &Env) -> bool {
    if let Some(ns) = namespace {
        if policy.exemptions.namespaces.iter().any(|e| e == ns) || env.own_namespace.as_deref() == Some(ns) {
            return true;
        }
    }
    policy.exemptions.allow_ignore_annotation
        && object
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .and_then(Value::as_str)
            == Some("true")
}

/// What one webhook decided, before it is written out.
struct Judged {
    verdict: Verdict,
    warnings: Vec<String>,
    /// `Some` denies.
    status: Option<Status>,
    /// The JSON Patch, when there is one.
    patch: Option<Vec<u8>>,
    patched_fields: Vec<String>,
}

/// Why an error finding did not deny.
#[derive(Clone, Copy)]
enum Demoted {
    WarnMode,
    Controller,
    PreExisting,
}

#[allow(clippy::too_many_arguments)]
fn validate(
    kind: Kind,
    op: Operation,
    object: &Value,
    old: Option<&Value>,
    policy: &Policy,
    env: &Env,
    checker: &Checker,
    name: Option<&str>,
) -> Judged {
    let ctx = Context {
        operation: op,
        old,
        now: env.now,
    };
    let findings = checker(kind, object, policy, &ctx);
    // The stored object, judged by the same rules as if it were updated to itself: what it
    // already violated may stay (a label change on an old violator must pass).
    let before: HashSet<(&str, String)> = match old {
        Some(old_object) if findings.iter().any(|f| f.severity == Severity::Error) => {
            let old_ctx = Context {
                operation: Operation::Update,
                old: Some(old_object),
                now: env.now,
            };
            checker(kind, old_object, policy, &old_ctx)
                .into_iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| (f.rule, f.field))
                .collect()
        }
        _ => HashSet::new(),
    };
    let controlled = crate::defaults::controller_owned(object);

    let mut denials = Vec::new();
    let mut warnings = Vec::new();
    let mut demoted_any = false;
    for f in &findings {
        if f.severity != Severity::Error {
            warnings.push(warning_text(f, None));
            continue;
        }
        let demoted = if before.contains(&(f.rule, f.field.clone())) {
            Some(Demoted::PreExisting)
        } else if controlled && f.origin != Origin::Api {
            Some(Demoted::Controller)
        } else if policy.mode == Mode::Warn {
            Some(Demoted::WarnMode)
        } else {
            None
        };
        match demoted {
            Some(why) => {
                demoted_any = true;
                warnings.push(warning_text(f, Some(why)));
            }
            None => denials.push(f),
        }
    }
    let (verdict, status) = if !denials.is_empty() {
        (Verdict::Denied, Some(Status::invalid(kind, name, &denials)))
    } else if demoted_any {
        (Verdict::Warned, None)
    } else {
        (Verdict::Allowed, None)
    };
    Judged {
        verdict,
        warnings,
        status,
        patch: None,
        patched_fields: Vec::new(),
    }
}

fn mutate(
    kind: Kind,
    op: Operation,
    object: &Value,
    old: Option<&Value>,
    policy: &Policy,
    env: &Env,
) -> Judged {
    let mutation = crate::defaults::mutation(kind, op, object, old, &policy.defaults, env.now);
    if mutation.is_empty() {
        return Judged {
            verdict: Verdict::Allowed,
            warnings: Vec::new(),
            status: None,
            patch: None,
            patched_fields: Vec::new(),
        };
    }
    let json = mutation.patch_json();
    let (warnings, patched_fields) = mutation.applied.into_iter().map(|a| (a.warning, a.field)).unzip();
    Judged {
        verdict: Verdict::Patched,
        warnings,
        status: None,
        patch: Some(json),
        patched_fields,
    }
}

/// A cause's message. A stricter policy rule is not the API server's, and kubectl shows no
/// webhook name for a 422, so the message itself says whose rule it is.
fn cause_message(f: &Finding) -> String {
    if f.origin == Origin::Policy && !f.message.contains(f.rule) {
        format!("{} (batchguard policy rule {})", f.message, f.rule)
    } else {
        f.message.clone()
    }
}

/// `<field>: <message>`, as `field.Error.Error()` prints it.
fn error_text(f: &Finding) -> String {
    if f.field.is_empty() {
        cause_message(f)
    } else {
        format!("{}: {}", f.field, cause_message(f))
    }
}

fn warning_text(f: &Finding, demoted: Option<Demoted>) -> String {
    let text = error_text(f);
    match demoted {
        None => text,
        Some(Demoted::WarnMode) => format!("{text} (batchguard warn mode: this would be denied)"),
        Some(Demoted::Controller) => format!("{text} (not enforced on objects a controller manages)"),
        Some(Demoted::PreExisting) => format!("{text} (already present before this update, so not denied)"),
    }
}

/// `AdmissionReview.response`, in the field order the API documents.
struct Response {
    uid: String,
    allowed: bool,
    status: Option<Status>,
    /// The JSON Patch itself (`patchType: JSONPatch`); written out in base64.
    patch: Option<Vec<u8>>,
    warnings: Vec<String>,
}

impl Response {
    fn allowed(uid: &str) -> Response {
        Response {
            uid: uid.to_string(),
            allowed: true,
            status: None,
            patch: None,
            warnings: Vec::new(),
        }
    }

    /// The AdmissionReview, byte for byte what serde_json would write for it, written
    /// straight into one buffer: on `/mutate` the texts (warnings, the base64 patch) are
    /// most of the answer, and most of what serializing it would cost.
    fn to_bytes(&self) -> Vec<u8> {
        let patch_len = self
            .patch
            .as_ref()
            .map_or(0, |p| base64::encoded_len(p.len(), true).unwrap_or(0));
        let warnings_len: usize = self.warnings.iter().map(|w| w.len() + 3).sum();
        let mut out = Vec::with_capacity(160 + self.uid.len() + patch_len + warnings_len);
        out.extend_from_slice(b"{\"apiVersion\":\"");
        out.extend_from_slice(API_VERSION.as_bytes());
        out.extend_from_slice(b"\",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
        jsonw::string(&mut out, &self.uid);
        out.extend_from_slice(if self.allowed {
            b",\"allowed\":true"
        } else {
            b",\"allowed\":false"
        });
        if let Some(status) = &self.status {
            out.extend_from_slice(b",\"status\":");
            serde_json::to_writer(&mut out, status)
                .expect("a Status of strings and numbers always serializes");
        }
        if let Some(patch) = &self.patch {
            out.extend_from_slice(b",\"patchType\":\"JSONPatch\",\"patch\":\"");
            jsonw::base64(&mut out, patch);
            out.push(b'"');
        }
        if !self.warnings.is_empty() {
            out.extend_from_slice(b",\"warnings\":[");
            for (i, w) in self.warnings.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                jsonw::string(&mut out, w);
            }
            out.push(b']');
        }
        out.extend_from_slice(b"}}");
        out
    }
}

/// A `metav1.Status` as `apierrors.NewInvalid` builds it.
#[derive(Serialize, Debug, Clone, PartialEq)]
struct Status {
    code: u16,
    reason: &'static str,
    status: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
struct Details {
    name: String,
    group: &'static str,
    kind: &'static str,
    causes: Vec<Cause>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
struct Cause {
    field: String,
    reason: &'static str,
    message: String,
}

impl Status {
    /// `<Kind>.batch "<name>" is invalid: <e>`, or `[<e1>, <e2>]` for several distinct
    /// messages; one cause per finding, duplicates kept as the API server keeps them.
    fn invalid(kind: Kind, name: Option<&str>, denials: &[&Finding]) -> Status {
        let name = name.unwrap_or_default();
        let mut seen = HashSet::new();
        let texts: Vec<String> = denials
            .iter()
            .map(|f| error_text(f))
            .filter(|t| seen.insert(t.clone()))
            .collect();
        let joined = if texts.len() == 1 {
            texts.join("")
        } else {
            format!("[{}]", texts.join(", "))
        };
        Status {
            code: 422,
            reason: "Invalid",
            status: "Failure",
            message: format!("{}.batch {} is invalid: {joined}", kind.as_str(), go_quote(name)),
            details: Some(Details {
                name: name.to_string(),
                group: "batch",
                kind: kind.as_str(),
                causes: denials
                    .iter()
                    .map(|f| Cause {
                        field: f.field.clone(),
                        reason: f.reason.as_str(),
                        message: cause_message(f),
                    })
                    .collect(),
            }),
        }
    }

    fn internal(uid: &str) -> Status {
        Status {
            code: 500,
            reason: "InternalError",
            status: "Failure",
            message: format!(
                "batchguard failed while reviewing this request (uid {uid}); see the webhook log"
            ),
            details: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Reason;
    use serde_json::json;

    fn env() -> Env {
        Env {
            now: DateTime::parse_from_rfc3339("2026-11-25T02:00:00Z")
                .expect("valid time")
                .with_timezone(&Utc),
            own_namespace: Some("batchguard".into()),
        }
    }

    fn finding(
        rule: &'static str,
        severity: Severity,
        origin: Origin,
        field: &str,
        message: &str,
    ) -> Finding {
        Finding {
            rule,
            severity,
            origin,
            field: field.into(),
            reason: Reason::FieldValueInvalid,
            message: message.into(),
            location: Vec::new(),
        }
    }

    fn body(operation: &str, object: Value, old: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u-1",
                "kind": {"group": "batch", "version": "v1", "kind": "CronJob"},
                "resource": {"group": "batch", "version": "v1", "resource": "cronjobs"},
                "namespace": "default",
                "operation": operation,
                "userInfo": {"username": "me"},
                "object": object,
                "oldObject": old,
            }
        }))
        .expect("serializes")
    }

    fn cronjob(name: &str) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
               "metadata": {"name": name, "namespace": "default"},
               "spec": {"schedule": "0 0 * * 7"}})
    }

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("cj-1"), "\"cj-1\"");
        assert_eq!(go_quote("a\"b\\c\td\u{1}é"), "\"a\\\"b\\\\c\\td\\x01é\"");
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
        assert_eq!(go_quote("a\u{a0}b"), "\"a\\u00a0b\"");
    }

    #[test]
    fn deny_message_dedupes_but_causes_do_not() {
        let a = finding("r", Severity::Error, Origin::Api, "spec.x", "Required value");
        let b = finding("r", Severity::Error, Origin::Api, "spec.y", "Forbidden");
        let status = Status::invalid(Kind::Job, Some("j"), &[&a, &a]);
        assert_eq!(
            status.message,
            "Job.batch \"j\" is invalid: spec.x: Required value"
        );
        assert_eq!(status.details.as_ref().map(|d| d.causes.len()), Some(2));
        let status = Status::invalid(Kind::Job, Some("j"), &[&a, &b, &a]);
        assert_eq!(
            status.message,
            "Job.batch \"j\" is invalid: [spec.x: Required value, spec.y: Forbidden]"
        );
    }

    #[test]
    fn policy_cause_names_batchguard_and_rule_once() {
        let f = finding(
            "restart-policy-not-allowed",
            Severity::Error,
            Origin::Policy,
            "spec.p",
            "Unsupported value: \"OnFailure\"",
        );
        assert_eq!(
            cause_message(&f),
            "Unsupported value: \"OnFailure\" (batchguard policy rule restart-policy-not-allowed)"
        );
        let already = finding(
            "restart-policy-not-allowed",
            Severity::Error,
            Origin::Policy,
            "spec.p",
            "x (batchguard policy restart-policy-not-allowed)",
        );
        assert_eq!(cause_message(&already), already.message);
    }

    #[test]
    fn checker_panic_is_answered_not_propagated() {
        let panicking = |_: Kind, _: &Value, _: &Policy, _: &Context| -> Vec<Finding> { panic!("boom") };
        let out = review_with(
            Webhook::Validate,
            &body("CREATE", cronjob("c"), Value::Null),
            &Policy::default(),
            &env(),
            &panicking,
        )
        .expect("readable");
        assert_eq!(out.verdict, Verdict::Failed);
        let v: Value = serde_json::from_slice(&out.body).expect("json");
        assert_eq!(v["response"]["allowed"], json!(false));
        assert_eq!(v["response"]["uid"], json!("u-1"));
        assert_eq!(v["response"]["status"]["code"], json!(500));
    }

    #[test]
    fn old_object_is_judged_only_when_something_would_deny() {
        let calls = std::cell::Cell::new(0);
        let counting = |_: Kind, _: &Value, _: &Policy, _: &Context| -> Vec<Finding> {
            calls.set(calls.get() + 1);
            Vec::new()
        };
        review_with(
            Webhook::Validate,
            &body("UPDATE", cronjob("c"), cronjob("c")),
            &Policy::default(),
            &env(),
            &counting,
        )
        .expect("readable");
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn lean_object_keeps_only_apply_entries_of_managed_fields() {
        let object = json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "a", "managedFields": [
                {"manager": "kubectl-create", "operation": "Update", "fieldsV1": {"f:spec": {"f:x": {}}}},
                {"manager": "kubectl", "operation": "Apply", "time": "t", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:schedule": {}}}},
                {"fieldsV1": {"f:spec": {}}, "operation": "Apply", "subresource": "status"},
                {"fieldsV1": {"f:spec": {}}, "operation": "Update"},
                7, "x", null, [1], {"operation": 5}
            ]},
            "spec": {"managedFields": [1], "metadata": {"managedFields": [{"operation": "Update"}]},
                     "n": 1.5, "big": 123456789012345678901234567890u128 as f64, "neg": -3, "t": true, "z": null}
        });
        let body = serde_json::to_vec(&json!({"object": object})).expect("json");
        #[derive(Deserialize)]
        struct Holder {
            #[serde(deserialize_with = "lean_object::<Everything, _>")]
            object: Option<Value>,
        }
        let read: Holder = serde_json::from_slice(&body).expect("reads");
        let mut expected = object.clone();
        expected["metadata"]["managedFields"] = json!([
            {"operation": "Apply", "fieldsV1": {"f:spec": {"f:schedule": {}}}},
            {"operation": "Apply", "subresource": "status", "fieldsV1": {"f:spec": {}}}
        ]);
        assert_eq!(read.object, Some(expected));
        let odd: Holder = serde_json::from_slice(br#"{"object": {"metadata": {"managedFields": {"a": 1}}}}"#)
            .expect("reads");
        assert_eq!(odd.object, Some(json!({"metadata": {"managedFields": {"a": 1}}})));
        let null: Holder = serde_json::from_slice(br#"{"object": null}"#).expect("reads");
        assert_eq!(null.object, None);
        let scalar: Holder = serde_json::from_slice(br#"{"object": "x"}"#).expect("reads");
        assert_eq!(scalar.object, Some(json!("x")));
    }

    #[test]
    fn mutate_builds_only_its_inputs() {
        #[derive(Deserialize)]
        struct Holder<R: Reads> {
            #[serde(deserialize_with = "lean_object::<R, _>")]
            object: Option<Value>,
            #[serde(skip)]
            _r: std::marker::PhantomData<R>,
        }
        let object = json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "a", "labels": {"x": "y"}, "finalizers": ["f"],
                         "annotations": {"template": "dropped", "batchguard.io/keep": "x",
                                         "kubectl.kubernetes.io/last-applied-configuration": "{}"},
                         "ownerReferences": [{"kind": "K", "controller": true}]},
            "spec": {"schedule": "* * * * *", "template": {"x": 1}, "suspend": true,
                     "jobTemplate": {"metadata": {"template": 1},
                                     "spec": {"activeDeadlineSeconds": 5, "parallelism": 2,
                                              "template": {"spec": {}}}}},
            "status": {"template": 2}
        });
        let body = serde_json::to_vec(&json!({"object": object})).expect("json");
        let lean: Holder<MutationInputs> = serde_json::from_slice(&body).expect("reads");
        let expected = json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "a",
                         "annotations": {"batchguard.io/keep": "x",
                                         "kubectl.kubernetes.io/last-applied-configuration": "{}"},
                         "ownerReferences": [{"kind": "K", "controller": true}]},
            "spec": {"schedule": "* * * * *",
                     "jobTemplate": {"spec": {"activeDeadlineSeconds": 5}}}
        });
        assert_eq!(lean.object, Some(expected));
        let full: Holder<Everything> = serde_json::from_slice(&body).expect("reads");
        assert_eq!(full.object, Some(object));
        // Escaped keys are read (owned) like any other.
        let escaped: Holder<MutationInputs> =
            serde_json::from_slice(br#"{"object": {"sp\u0065c": {"sch\u0065dule": "@daily", "x\n": 1}}}"#)
                .expect("reads");
        assert_eq!(escaped.object, Some(json!({"spec": {"schedule": "@daily"}})));
    }

    /// What `/mutate` does not read is skipped without being built, so nesting there is no
    /// deeper than the scanner's own (iterative) skipping; `/validate` builds it and refuses
    /// past serde_json's depth limit. Neither overflows the stack.
    #[test]
    fn deep_nesting_where_mutate_does_not_read() {
        let mut object = cronjob("c");
        object["spec"]["suspend"] = json!("SUSPEND");
        let text = String::from_utf8(body("CREATE", object, Value::Null)).expect("utf-8");
        let deep = text.replace(
            r#""SUSPEND""#,
            &format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000)),
        );
        let policy = Policy::default();
        let mutate = review(Webhook::Mutate, deep.as_bytes(), &policy, &env()).expect("a review");
        assert_eq!(mutate.verdict, Verdict::Patched);
        let validate = review(Webhook::Validate, deep.as_bytes(), &policy, &env());
        assert!(matches!(validate, Err(ReviewError::NotJson(_))), "{validate:?}");
    }

    /// Every captured request, and every corpus manifest as the API server would send it
    /// on CREATE and as an UPDATE of itself and of a variant.
    fn review_bodies() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
        for entry in std::fs::read_dir(format!("{dir}/admission")).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                bodies.push((path.display().to_string(), std::fs::read(&path).expect("fixture")));
            }
        }
        let corpus = format!("{dir}/manifests-corpus/manifests");
        for entry in std::fs::read_dir(&corpus).expect("corpus") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("manifest");
            let Some(Ok(doc)) = crate::yaml::parse_stream(&text).into_iter().next() else {
                continue;
            };
            let Some(mut object) = doc.value else { continue };
            let kind = match object["kind"].as_str() {
                Some("Job") => Kind::Job,
                _ => Kind::CronJob,
            };
            crate::apidefaults::prepare_for_create(kind, &mut object);
            crate::apidefaults::apply_defaults(kind, &mut object);
            let mut variant = object.clone();
            if let Some(spec) = variant.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert("concurrencyPolicy".into(), json!("Forbid"));
                spec.remove("startingDeadlineSeconds");
                spec.insert("successfulJobsHistoryLimit".into(), json!(1));
            }
            let name = path.display().to_string();
            let review = |op: &str, object: &Value, old: &Value| {
                let mut body: Value =
                    serde_json::from_slice(&body(op, object.clone(), old.clone())).expect("json");
                body["request"]["kind"]["kind"] = json!(kind.as_str());
                serde_json::to_vec(&body).expect("json")
            };
            bodies.push((format!("{name} CREATE"), review("CREATE", &object, &Value::Null)));
            bodies.push((format!("{name} UPDATE"), review("UPDATE", &object, &variant)));
            bodies.push((format!("{name} UPDATE back"), review("UPDATE", &variant, &object)));
        }
        assert!(bodies.len() > 1000, "{} bodies", bodies.len());
        bodies
    }

    /// Every captured request and every corpus manifest (as the API server would send it on
    /// CREATE, and as an UPDATE of itself and of a variant) gets the same `/mutate` answer
    /// from the lean reader as from reading whole objects.
    #[test]
    fn mutate_reads_only_what_it_needs() {
        let policy = Policy::default();
        let env = env();
        let bodies = review_bodies();
        let mut patched = 0;
        for (name, body) in &bodies {
            let lean =
                review_reading::<MutationInputs>(Webhook::Mutate, body, &policy, &env, &crate::rules::check);
            let whole =
                review_reading::<Everything>(Webhook::Mutate, body, &policy, &env, &crate::rules::check);
            match (lean, whole) {
                (Ok(lean), Ok(whole)) => {
                    patched += usize::from(lean.verdict == Verdict::Patched);
                    assert_eq!(
                        String::from_utf8_lossy(&lean.body),
                        String::from_utf8_lossy(&whole.body),
                        "{name}"
                    );
                    assert_eq!(lean.verdict, whole.verdict, "{name}");
                    assert_eq!(lean.patched_fields, whole.patched_fields, "{name}");
                }
                (lean, whole) => assert_eq!(lean.err(), whole.err(), "{name}"),
            }
        }
        assert!(patched > 500, "only {patched} patched");
    }

    /// The scanner reads every real request (so the fast path is the one taken) exactly as
    /// serde_json does, for both webhooks; and of thousands of corrupted copies, it accepts
    /// only ones serde_json accepts too, and reads those the same. What it declines goes to
    /// serde_json, so declining is always safe; accepting wrongly is what this rules out.
    #[test]
    fn fast_read_agrees_with_serde() {
        fn both(
            body: &[u8],
            whole: bool,
        ) -> (
            jsonscan::Scanned<Envelope<Request>>,
            Result<Envelope<Request>, ReviewError>,
        ) {
            let serde = if whole {
                parse_with_serde::<Everything>(body)
            } else {
                parse_with_serde::<MutationInputs>(body)
            };
            (fast::envelope(body, whole), serde)
        }
        const EDITS: &[&str] = &[
            "\"",
            "\\",
            ",",
            ":",
            "{",
            "}",
            "[",
            "]",
            "0",
            "-",
            ".",
            "e",
            " ",
            "\u{1}",
            "\u{7f}",
            "é",
            "\\u0041",
            "\\ud800",
            "\\udc00",
            "\\ud83d\\ude00",
            "\\n",
            "\\x",
            "null",
            "true",
            "1.5",
            "-0",
            "1e2",
            "99999999999999999999",
            "-9223372036854775809",
            "{}",
            "[]",
            "\"\"",
            "\"k\":1,",
            "\"operation\":\"Apply\",",
            "\"uid\":\"x\",",
            "\"kind\":null,",
            "\"object\":null,",
        ];
        let bodies = review_bodies();
        let (mut accepted, mut declined) = (0, 0);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for (n, (name, body)) in bodies.iter().enumerate() {
            for whole in [false, true] {
                let (fast, serde) = both(body, whole);
                assert_eq!(fast.as_ref().ok(), serde.as_ref().ok(), "{name} (whole: {whole})");
                assert!(fast.is_ok(), "{name}: the fast path declined a real request");
            }
            if n % 3 != 0 {
                continue;
            }
            for _ in 0..12 {
                let mut copy = body.clone();
                let at = next(copy.len());
                match next(4) {
                    0 => {
                        copy.remove(at);
                    }
                    1 => {
                        copy.splice(at..at, EDITS[next(EDITS.len())].bytes());
                    }
                    2 => {
                        copy.splice(at..at + 1, EDITS[next(EDITS.len())].bytes());
                    }
                    _ => copy[at] = 0xff,
                }
                for whole in [false, true] {
                    let (fast, serde) = both(&copy, whole);
                    if let Ok(fast) = fast {
                        accepted += 1;
                        let copy = String::from_utf8_lossy(&copy);
                        assert_eq!(
                            Ok(fast),
                            serde,
                            "{name}, corrupted at {at} (whole: {whole}): {copy}"
                        );
                    } else {
                        declined += 1;
                    }
                }
            }
        }
        assert!(
            accepted > 1000 && declined > 1000,
            "accepted {accepted}, declined {declined}"
        );
    }

    /// Why the response is written by hand: kube 5 writes `patch` as numbers (kube-rs#1781).
    #[test]
    fn kube_response_patch_is_not_base64() {
        use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};
        use kube::core::DynamicObject;
        let review: AdmissionReview<DynamicObject> =
            serde_json::from_slice(&body("CREATE", cronjob("c"), Value::Null)).expect("kube reads it");
        let request: AdmissionRequest<DynamicObject> = review.try_into().expect("has a request");
        // kube-core 5 builds on json-patch 4, so set the bytes its `with_patch` would store.
        let mut response = AdmissionResponse::from(&request);
        response.patch = Some(br#"[{"op":"add","path":"/spec/suspend","value":true}]"#.to_vec());
        let v = serde_json::to_value(response.into_review()).expect("json");
        assert!(v["response"]["patch"].is_array(), "{v}");
    }
}
