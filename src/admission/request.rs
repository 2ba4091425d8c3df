//! The one reader of an `admission.k8s.io/v1` AdmissionReview: serde into borrowed typed
//! structs. The request's own fields are typed; each webhook reads the objects through the
//! view it needs:
//!
//! - `/validate` ([`Tree`]): the whole object as JSON for the rules, except
//!   `metadata.managedFields`, which the rules never read (the API server validated it; it is
//!   often half of a request's bytes) and which is skipped unbuilt.
//! - `/mutate` ([`MutationView`]): typed views of exactly the keys the mutation and the
//!   admission logic around it read; the rest (labels, the pod template, status, most of
//!   managedFields) is skipped unbuilt. Views are lenient, as the rules are: a field of an
//!   unexpected type is kept as JSON or dropped, never an error.

use std::borrow::Cow;
use std::cell::Cell;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::ReviewError;

/// The only AdmissionReview version batchguard reads and writes.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// `request.operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    /// As the API sends it, and as logs and metrics label it: `CREATE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// `request.kind`: the group, version and kind of the object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupVersionKind<'a> {
    #[serde(borrow)]
    pub group: Cow<'a, str>,
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
}

/// The request fields batchguard reads, with the objects read as `O`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request<'a, O> {
    #[serde(borrow)]
    pub uid: Cow<'a, str>,
    #[serde(borrow)]
    pub kind: GroupVersionKind<'a>,
    #[serde(borrow, default)]
    pub sub_resource: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub namespace: Option<Cow<'a, str>>,
    pub operation: Operation,
    /// `None` when absent or `null`; `Lenient(None)` when not a JSON object.
    #[serde(default = "none")]
    pub object: Option<Lenient<O>>,
    #[serde(default = "none")]
    pub old_object: Option<Lenient<O>>,
}

fn none<O>() -> Option<O> {
    None
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a, R> {
    #[serde(borrow, default)]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default = "none")]
    request: Option<R>,
}

/// Reads a body as an `admission.k8s.io/v1` AdmissionReview request.
pub fn parse<'a, O: Deserialize<'a>>(body: &'a [u8]) -> Result<Request<'a, O>, ReviewError> {
    use serde_json::error::Category;
    // JSON is UTF-8 (RFC 8259). Checked once for the whole body, every string is then read
    // without checking it again, as `from_slice` would.
    let body = std::str::from_utf8(body)
        .map_err(|e| ReviewError::NotJson(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    EXHAUSTED.with(|e| e.set(false));
    let envelope = match serde_json::from_str::<Envelope<Request<O>>>(body) {
        Ok(envelope) => envelope,
        Err(_) if EXHAUSTED.with(Cell::get) => return Err(ReviewError::TooComplex(TREE_BUDGET >> 20)),
        Err(e) if matches!(e.classify(), Category::Syntax | Category::Eof | Category::Io) => {
            return Err(ReviewError::NotJson(e.to_string()))
        }
        Err(e) => {
            // A wrong version or kind explains a bad request better than the field serde
            // tripped on, so look at the envelope alone before blaming the request.
            if let Ok(envelope) = serde_json::from_str::<Envelope<IgnoredAny>>(body) {
                check_envelope(envelope.api_version.as_deref(), envelope.kind.as_deref())?;
            }
            return Err(ReviewError::NotAReview(e.to_string()));
        }
    };
    check_envelope(envelope.api_version.as_deref(), envelope.kind.as_deref())?;
    let request = envelope.request.ok_or(ReviewError::MissingRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::EmptyUid);
    }
    Ok(request)
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

/// An object as `/validate` reads it: all of it as JSON, but for `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree(pub Value);

impl Tree {
    pub fn into_value(self) -> Value {
        self.0
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tree, D::Error> {
        BUDGET.with(|b| b.set(Some(TREE_BUDGET)));
        let tree = d.deserialize_any(TreeVisitor { at: At::Top });
        BUDGET.with(|b| b.set(None));
        tree.map(Tree)
    }
}

/// What one object read by [`Tree`] may cost in memory, estimated as it is built (see
/// [`charge`]). A real Job is a few hundred kilobytes at most; but inside the body limit,
/// an object of 400,000 `{"name":"c"}` items would build 270 MB of tree, before any rule
/// runs. Past the budget the object is refused unread ([`ReviewError::TooComplex`]).
pub const TREE_BUDGET: usize = 16 << 20;

/// The estimated cost of a JSON map with its first entries (a B-tree leaf of
/// `serde_json::Map`), of any other value's slot, and of a string's bytes on top.
const MAP_COST: usize = 640;
const VALUE_COST: usize = 32;

thread_local! {
    /// What the [`Tree`] being read on this thread may still spend; `None` when exhausted
    /// (or outside a read), which [`parse`] reports as too complex.
    static BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
    /// Set when a read ran out of budget, for [`parse`] to tell why it failed.
    static EXHAUSTED: Cell<bool> = const { Cell::new(false) };
}

fn charge<E: de::Error>(cost: usize) -> Result<(), E> {
    BUDGET.with(|b| match b.get() {
        Some(left) if left >= cost => {
            b.set(Some(left - cost));
            Ok(())
        }
        Some(_) => {
            b.set(None);
            EXHAUSTED.with(|e| e.set(true));
            Err(E::custom("object too complex"))
        }
        // A `Tree` read outside `Tree::deserialize` (not done): nothing to charge.
        None => Ok(()),
    })
}

/// Where in the object a value is: the top (whose `metadata` is read specially), the
/// metadata (read without `managedFields`), or anywhere else.
#[derive(Clone, Copy)]
enum At {
    Top,
    Metadata,
    Inside,
}

/// Builds a `Value` like `Value::deserialize`, charging the budget as it goes; at the top,
/// `metadata` is read without its `managedFields`.
struct TreeVisitor {
    at: At,
}

const INSIDE: TreeVisitor = TreeVisitor { at: At::Inside };

impl<'de> de::DeserializeSeed<'de> for TreeVisitor {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TreeVisitor {
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
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        charge(v.len())?;
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        charge(v.len())?;
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(INSIDE)? {
            charge(VALUE_COST)?;
            out.push(item);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        charge(MAP_COST)?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<Cow<str>>()? {
            charge(key.len() + VALUE_COST)?;
            let value = match (self.at, key.as_ref()) {
                (At::Top, "metadata") => map.next_value_seed(TreeVisitor { at: At::Metadata })?,
                (At::Metadata, "managedFields") => {
                    // Never read by the rules (the API server validated it), and often half
                    // of a request's bytes: skipped unbuilt.
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                _ => map.next_value_seed(INSIDE)?,
            };
            out.insert(key.into_owned(), value);
        }
        Ok(Value::Object(out))
    }
}

/// A map read as `T`; any other JSON value is skipped and read as `None`, so an odd shape
/// where a view expects a map is tolerated, as the rules tolerate it (and a request object
/// that is not a map can be told apart from a missing one).
#[derive(Debug)]
pub struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapOnly<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for MapOnly<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lenient<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Lenient(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lenient<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Lenient<T>, E> {
                Ok(Lenient(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Lenient<T>, E> {
                Ok(Lenient(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Lenient<T>, E> {
                Ok(Lenient(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Lenient<T>, E> {
                Ok(Lenient(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Lenient<T>, E> {
                Ok(Lenient(None))
            }
            fn visit_unit<E>(self) -> Result<Lenient<T>, E> {
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(MapOnly(PhantomData))
    }
}

/// An object as `/mutate` reads it: the type (for the kind check), and the few keys of
/// metadata and spec that the mutation and exemptions read.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutationView<'a> {
    api_version: Option<Value>,
    kind: Option<Value>,
    #[serde(borrow, default)]
    metadata: Lenient<MetadataView<'a>>,
    #[serde(default)]
    spec: Lenient<SpecView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataView<'a> {
    name: Option<Value>,
    namespace: Option<Value>,
    #[serde(default)]
    annotations: Lenient<AnnotationsView>,
    owner_references: Option<Value>,
    #[serde(borrow, default)]
    managed_fields: ApplyEntries<'a>,
}

/// The annotations batchguard reads: exemption, keep, and kubectl's last-applied manifest.
#[derive(Debug, Default, Deserialize)]
struct AnnotationsView {
    #[serde(rename = "batchguard.io/ignore")]
    ignore: Option<Value>,
    #[serde(rename = "batchguard.io/keep")]
    keep: Option<Value>,
    #[serde(rename = "kubectl.kubernetes.io/last-applied-configuration")]
    last_applied: Option<Value>,
}

/// Every default of a CronJob or Job spec, and what the schedule deadline is computed from.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecView {
    concurrency_policy: Option<Value>,
    successful_jobs_history_limit: Option<Value>,
    failed_jobs_history_limit: Option<Value>,
    starting_deadline_seconds: Option<Value>,
    schedule: Option<Value>,
    time_zone: Option<Value>,
    ttl_seconds_after_finished: Option<Value>,
    active_deadline_seconds: Option<Value>,
    #[serde(default)]
    job_template: Lenient<JobTemplateView>,
}

#[derive(Debug, Default, Deserialize)]
struct JobTemplateView {
    #[serde(default)]
    spec: Lenient<JobTemplateSpecView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobTemplateSpecView {
    active_deadline_seconds: Option<Value>,
}

/// Of `managedFields`, the `operation: Apply` entries' `operation`, `subresource` and
/// `fieldsV1` (the evidence of server-side apply); `fieldsV1` of other entries is skipped
/// unbuilt. `None` when managedFields is not a list.
#[derive(Debug, Default)]
struct ApplyEntries<'a>(Option<Vec<Value>>, PhantomData<&'a ()>);

#[derive(Deserialize)]
struct ManagedFieldsEntry<'a> {
    #[serde(borrow, default)]
    operation: AnyStr<'a>,
    subresource: Option<Value>,
    #[serde(borrow, rename = "fieldsV1")]
    fields_v1: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ApplyEntries<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Entries<'a> {
            type Value = ApplyEntries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of managedFields entries")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ApplyEntries<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(Lenient(entry)) = seq.next_element::<Lenient<ManagedFieldsEntry<'de>>>()? {
                    let Some(entry) = entry else { continue };
                    if entry.operation.0.as_deref() != Some("Apply") {
                        continue;
                    }
                    let mut kept = Map::new();
                    kept.insert("operation".into(), Value::from("Apply"));
                    if let Some(s) = entry.subresource {
                        kept.insert("subresource".into(), s);
                    }
                    if let Some(raw) = entry.fields_v1 {
                        let fields: Value = serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
                        kept.insert("fieldsV1".into(), fields);
                    }
                    out.push(Value::Object(kept));
                }
                Ok(ApplyEntries(Some(out), PhantomData))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ApplyEntries<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ApplyEntries::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<ApplyEntries<'a>, E> {
                Ok(ApplyEntries::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<ApplyEntries<'a>, E> {
                Ok(ApplyEntries::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<ApplyEntries<'a>, E> {
                Ok(ApplyEntries::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<ApplyEntries<'a>, E> {
                Ok(ApplyEntries::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<ApplyEntries<'a>, E> {
                Ok(ApplyEntries::default())
            }
            fn visit_unit<E>(self) -> Result<ApplyEntries<'a>, E> {
                Ok(ApplyEntries::default())
            }
        }
        d.deserialize_any(Entries(PhantomData))
    }
}

/// A string (borrowed from the body unless it has escapes), or `None` for any other JSON
/// value: a lenient read of a field that should be a string.
#[derive(Debug, Default)]
struct AnyStr<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for AnyStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Visit<'a> {
            type Value = AnyStr<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<AnyStr<'a>, E> {
                Ok(AnyStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<AnyStr<'a>, E> {
                Ok(AnyStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<AnyStr<'a>, E> {
                Ok(AnyStr(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<AnyStr<'a>, E> {
                Ok(AnyStr(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<AnyStr<'a>, E> {
                Ok(AnyStr(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<AnyStr<'a>, E> {
                Ok(AnyStr(None))
            }
            fn visit_unit<E>(self) -> Result<AnyStr<'a>, E> {
                Ok(AnyStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyStr<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnyStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyStr<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnyStr(None))
            }
        }
        d.deserialize_any(Visit(PhantomData))
    }
}

/// Inserts `value` under `key` when present.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v);
    }
}

impl MutationView<'_> {
    /// The view as a JSON object holding only the keys it read, for the mutation (which
    /// reads JSON, so that `batchguard mutate` can run it on whole manifests).
    pub fn into_value(self) -> Value {
        let mut object = Map::new();
        put(&mut object, "apiVersion", self.api_version);
        put(&mut object, "kind", self.kind);
        if let Some(meta) = self.metadata.0 {
            let mut m = Map::new();
            put(&mut m, "name", meta.name);
            put(&mut m, "namespace", meta.namespace);
            if let Some(a) = meta.annotations.0 {
                let mut annotations = Map::new();
                put(&mut annotations, crate::policy::IGNORE_ANNOTATION, a.ignore);
                put(&mut annotations, crate::policy::KEEP_ANNOTATION, a.keep);
                put(
                    &mut annotations,
                    crate::mutation::LAST_APPLIED_ANNOTATION,
                    a.last_applied,
                );
                m.insert("annotations".into(), Value::Object(annotations));
            }
            put(&mut m, "ownerReferences", meta.owner_references);
            put(&mut m, "managedFields", meta.managed_fields.0.map(Value::Array));
            object.insert("metadata".into(), Value::Object(m));
        }
        if let Some(spec) = self.spec.0 {
            let mut s = Map::new();
            put(&mut s, "concurrencyPolicy", spec.concurrency_policy);
            put(
                &mut s,
                "successfulJobsHistoryLimit",
                spec.successful_jobs_history_limit,
            );
            put(&mut s, "failedJobsHistoryLimit", spec.failed_jobs_history_limit);
            put(&mut s, "startingDeadlineSeconds", spec.starting_deadline_seconds);
            put(&mut s, "schedule", spec.schedule);
            put(&mut s, "timeZone", spec.time_zone);
            put(&mut s, "ttlSecondsAfterFinished", spec.ttl_seconds_after_finished);
            put(&mut s, "activeDeadlineSeconds", spec.active_deadline_seconds);
            if let Some(template) = spec.job_template.0 {
                let mut t = Map::new();
                if let Some(tspec) = template.spec.0 {
                    let mut ts = Map::new();
                    put(&mut ts, "activeDeadlineSeconds", tspec.active_deadline_seconds);
                    t.insert("spec".into(), Value::Object(ts));
                }
                s.insert("jobTemplate".into(), Value::Object(t));
            }
            object.insert("spec".into(), Value::Object(s));
        }
        Value::Object(object)
    }
}
