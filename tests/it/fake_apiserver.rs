//! A strict, in-process fake of kube-apiserver for tests of the kube client code: plain HTTP
//! on 127.0.0.1, objects in memory, and every request checked the way the real server checks
//! it, or refused where the fake does not model something (so a test cannot pass by sending
//! what a real server would reject).
//!
//! Resources: core/v1 `secrets`; admissionregistration.k8s.io/v1 `mutatingwebhookconfigurations`
//! and `validatingwebhookconfigurations`; batch/v1 `jobs` and `cronjobs` (paginated LIST,
//! namespaced and across namespaces). Verbs: get, list, create, update, patch, delete.
//!
//! What it checks: exact paths (unknown paths and subresources are 404), the verb for the
//! path (405 otherwise), query parameters per verb (any it does not understand: 400),
//! `Content-Type` per verb and patch type (415), bodies (kind and apiVersion, name and
//! namespace against the URL, no resourceVersion on create, a resourceVersion on update),
//! optimistic concurrency (409 Conflict on a stale resourceVersion, also one carried in a
//! patch), 409 AlreadyExists, and per kind: a `kubernetes.io/tls` Secret must hold `tls.crt`
//! and `tls.key` and its type cannot change; every webhook needs a unique name, exactly one
//! of `clientConfig.url`/`service`, `sideEffects` and `admissionReviewVersions`, and a
//! `caBundle` that is base64. Errors are `metav1.Status` bodies worded as
//! k8s.io/apimachinery's `errors.New*` word them. Tests can refuse a verb on a resource as
//! RBAC would, record every request, and hold GETs until several arrive to force a race.
//!
//! Not modelled: watches, label/field selectors, server-side apply, `$patch` directives, and
//! consistent LIST snapshots (a continue token reads the current objects).

// Not every test binary that includes the fake uses all of it.
#![allow(dead_code)]
// A refused request's Err is the response to send: one per request, never on a hot path.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// The identity RBAC refusals name.
pub const USER: &str = "system:serviceaccount:batchguard:batchguard";

#[derive(Debug, Clone, Copy)]
struct Resource {
    plural: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    namespaced: bool,
}

const RESOURCES: [Resource; 5] = [
    Resource {
        plural: "secrets",
        group: "",
        version: "v1",
        kind: "Secret",
        namespaced: true,
    },
    Resource {
        plural: "mutatingwebhookconfigurations",
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "MutatingWebhookConfiguration",
        namespaced: false,
    },
    Resource {
        plural: "validatingwebhookconfigurations",
        group: "admissionregistration.k8s.io",
        version: "v1",
        kind: "ValidatingWebhookConfiguration",
        namespaced: false,
    },
    Resource {
        plural: "jobs",
        group: "batch",
        version: "v1",
        kind: "Job",
        namespaced: true,
    },
    Resource {
        plural: "cronjobs",
        group: "batch",
        version: "v1",
        kind: "CronJob",
        namespaced: true,
    },
];

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `secrets`, `jobs.batch`: how error messages name the resource.
    fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_owned()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The list key under which a strategic merge patch merges by a field, if any.
    fn merge_key(&self, path: &str) -> Option<&'static str> {
        match (self.plural, path) {
            ("mutatingwebhookconfigurations" | "validatingwebhookconfigurations", "/webhooks") => {
                Some("name")
            }
            _ => None,
        }
    }
}

fn resource_by_plural(plural: &str) -> Option<Resource> {
    RESOURCES.iter().copied().find(|r| r.plural == plural)
}

/// One request as the fake saw it, and the status it answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`; empty when there was none.
    pub query: String,
    pub content_type: Option<String>,
    /// The body as JSON, or as a JSON string when it was not JSON; `None` when empty.
    pub body: Option<Value>,
    pub status: u16,
}

impl Recorded {
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }

    /// The query's decoded `key=value` pairs, in order (kube-rs starts its queries with `&`,
    /// which the real server, like this one, ignores).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (
                    percent_decode(k).unwrap_or_default(),
                    percent_decode(v).unwrap_or_default(),
                )
            })
            .collect()
    }
}

type Key = (&'static str, String, String);

#[derive(Default)]
struct State {
    objects: BTreeMap<Key, Value>,
    resource_version: u64,
    uids: u64,
    forbidden: HashSet<(String, String)>,
    requests: Vec<Recorded>,
    before_write: Option<(Key, Change)>,
}

type Change = Box<dyn FnOnce(&mut Value) + Send>;

struct Hold {
    plural: String,
    remaining: usize,
    barrier: Arc<tokio::sync::Barrier>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    hold: Mutex<Option<Hold>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake; stops when dropped.
pub struct FakeApiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApiServer {
    pub async fn start() -> FakeApiServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::default());
        let handler_shared = shared.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let shared = handler_shared.clone();
            async move { handle(shared, req).await }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeApiServer { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kube configuration pointing at the fake.
    pub fn config(&self) -> kube::Config {
        kube::Config::new(self.url().parse().expect("url"))
    }

    /// Stores `object` as if created: its kind picks the resource; namespace, uid and
    /// resourceVersion are filled in. Returns what is stored.
    pub fn insert(&self, mut object: Value) -> Value {
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        let resource = RESOURCES
            .iter()
            .copied()
            .find(|r| r.kind == kind && object["apiVersion"] == r.api_version())
            .unwrap_or_else(|| panic!("the fake does not serve kind {kind:?}"));
        let namespace = if resource.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned()
        } else {
            String::new()
        };
        let name = object["metadata"]["name"]
            .as_str()
            .expect("metadata.name")
            .to_owned();
        let mut state = self.shared.state();
        state.stamp_new(&mut object, &namespace, resource.namespaced);
        state
            .objects
            .insert((resource.plural, namespace, name), object.clone());
        object
    }

    /// The stored object, if any (`namespace` is ignored for cluster-scoped resources).
    pub fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let resource = resource_by_plural(plural).expect("known resource");
        let ns = if resource.namespaced { namespace } else { "" };
        self.shared
            .state()
            .objects
            .get(&(resource.plural, ns.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Changes a stored object as another client would, bumping its resourceVersion.
    pub fn modify(&self, plural: &str, namespace: &str, name: &str, change: impl FnOnce(&mut Value)) {
        let resource = resource_by_plural(plural).expect("known resource");
        let ns = if resource.namespaced { namespace } else { "" };
        let mut state = self.shared.state();
        let rv = state.next_rv();
        let object = state
            .objects
            .get_mut(&(resource.plural, ns.to_owned(), name.to_owned()))
            .expect("stored object");
        change(object);
        object["metadata"]["resourceVersion"] = json!(rv);
    }

    /// Applies `change` (as another client would, bumping the resourceVersion) just before
    /// the next write to this object is handled: a race lost between a read and a write.
    pub fn before_next_write(
        &self,
        plural: &str,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value) + Send + 'static,
    ) {
        let resource = resource_by_plural(plural).expect("known resource");
        let ns = if resource.namespaced { namespace } else { "" };
        self.shared.state().before_write = Some((
            (resource.plural, ns.to_owned(), name.to_owned()),
            Box::new(change),
        ));
    }

    /// Refuses `verb` (get, list, create, update, patch, delete) on `plural` as RBAC would.
    pub fn forbid(&self, verb: &str, plural: &str) {
        self.shared
            .state()
            .forbidden
            .insert((verb.to_owned(), plural.to_owned()));
    }

    /// Lifts a refusal made by [`FakeApiServer::forbid`], as a fixed Role would.
    pub fn permit(&self, verb: &str, plural: &str) {
        self.shared
            .state()
            .forbidden
            .remove(&(verb.to_owned(), plural.to_owned()));
    }

    /// Makes the next `count` GETs of single `plural` objects wait until all `count` have
    /// arrived (at most ten seconds), so concurrent clients read the same version.
    pub fn hold_gets(&self, plural: &str, count: usize) {
        *self.shared.hold.lock().unwrap_or_else(|e| e.into_inner()) = Some(Hold {
            plural: plural.to_owned(),
            remaining: count,
            barrier: Arc::new(tokio::sync::Barrier::new(count)),
        });
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.state().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.state().requests.clear();
    }
}

impl State {
    fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn stamp_new(&mut self, object: &mut Value, namespace: &str, namespaced: bool) {
        self.uids += 1;
        let uid = format!("00000000-0000-4000-8000-{:012}", self.uids);
        let rv = self.next_rv();
        let meta = object["metadata"].as_object_mut().expect("metadata is an object");
        if namespaced {
            meta.insert("namespace".into(), json!(namespace));
        }
        meta.insert("uid".into(), json!(uid));
        meta.insert("resourceVersion".into(), json!(rv));
        meta.insert("creationTimestamp".into(), json!("2025-01-01T00:00:00Z"));
    }
}

/// A `metav1.Status` failure.
fn status(code: u16, reason: &str, message: String, details: Option<Value>) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    let code = StatusCode::from_u16(code).expect("valid status code");
    (code, [("content-type", "application/json")], body.to_string()).into_response()
}

fn details(resource: &Resource, name: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !resource.group.is_empty() {
        d.insert("group".into(), json!(resource.group));
    }
    d.insert("kind".into(), json!(resource.plural));
    Value::Object(d)
}

fn not_found(resource: &Resource, name: &str) -> Response {
    status(
        404,
        "NotFound",
        format!("{} {name:?} not found", resource.group_resource()),
        Some(details(resource, name)),
    )
}

fn conflict(resource: &Resource, name: &str) -> Response {
    status(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} {name:?}: the object has been modified; please apply your changes to the latest version and try again",
            resource.group_resource()
        ),
        Some(details(resource, name)),
    )
}

fn bad_request(message: impl Into<String>) -> Response {
    status(400, "BadRequest", message.into(), None)
}

fn unknown_path() -> Response {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource".into(),
        Some(json!({})),
    )
}

/// 422 Invalid with one cause per (field, reason type, detail).
fn invalid(resource: &Resource, name: &str, errors: &[(String, &str, String)]) -> Response {
    let causes: Vec<Value> = errors
        .iter()
        .map(|(field, reason, message)| json!({"reason": reason, "message": message, "field": field}))
        .collect();
    let summary: Vec<String> = errors
        .iter()
        .map(|(field, _, message)| format!("{field}: {message}"))
        .collect();
    let summary = if summary.len() == 1 {
        summary[0].clone()
    } else {
        format!("[{}]", summary.join(", "))
    };
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !resource.group.is_empty() {
        d.insert("group".into(), json!(resource.group));
    }
    d.insert("kind".into(), json!(resource.kind));
    d.insert("causes".into(), json!(causes));
    status(
        422,
        "Invalid",
        format!("{} {name:?} is invalid: {summary}", resource.group_kind()),
        Some(Value::Object(d)),
    )
}

fn ok(code: StatusCode, body: &Value) -> Response {
    (code, [("content-type", "application/json")], body.to_string()).into_response()
}

/// Where a request points.
struct Route {
    resource: Resource,
    namespace: Option<String>,
    name: Option<String>,
}

fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return None,
    };
    let resource = RESOURCES
        .iter()
        .copied()
        .find(|r| r.group == group && r.version == version && r.plural == plural)?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    };
    if namespace.is_some_and(|ns| !valid(ns)) || name.is_some_and(|n| !valid(n)) {
        return None;
    }
    match (resource.namespaced, namespace, name) {
        // A cluster-scoped resource has no namespaced path; a namespaced one is read by
        // name only inside its namespace.
        (false, Some(_), _) | (true, None, Some(_)) => None,
        _ => Some(Route {
            resource,
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
        }),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn parse_query(query: &str, allowed: &[&str]) -> Result<BTreeMap<String, String>, Response> {
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(key), Some(value)) = (percent_decode(key), percent_decode(value)) else {
            return Err(bad_request(format!("malformed query parameter {pair:?}")));
        };
        if !allowed.contains(&key.as_str()) {
            return Err(bad_request(format!(
                "fake apiserver: query parameter {key:?} is not understood here (allowed: {allowed:?})"
            )));
        }
        if params.insert(key.clone(), value).is_some() {
            return Err(bad_request(format!("query parameter {key:?} is given twice")));
        }
    }
    Ok(params)
}

async fn handle(shared: Arc<Shared>, req: Request<Body>) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(req.into_body(), 16 << 20)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        )
    };

    let route = route(&path);
    if let Some(route) = &route {
        if method == Method::GET && route.name.is_some() {
            let barrier = {
                let mut hold = shared.hold.lock().unwrap_or_else(|e| e.into_inner());
                match hold.as_mut() {
                    Some(h) if h.plural == route.resource.plural && h.remaining > 0 => {
                        h.remaining -= 1;
                        Some(h.barrier.clone())
                    }
                    _ => None,
                }
            };
            if let Some(barrier) = barrier {
                let _ = tokio::time::timeout(Duration::from_secs(10), barrier.wait()).await;
            }
        }
    }

    let mut state = shared.state();
    let response = match route {
        None => unknown_path(),
        Some(route) => serve(
            &mut state,
            &method,
            route,
            &query,
            content_type.as_deref(),
            body.as_ref(),
        ),
    };
    state.requests.push(Recorded {
        method: method.to_string(),
        path,
        query,
        content_type,
        body,
        status: response.status().as_u16(),
    });
    response
}

fn serve(
    state: &mut State,
    method: &Method,
    route: Route,
    query: &str,
    content_type: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let Route {
        resource,
        namespace,
        name,
    } = route;
    let verb = match (method.as_str(), name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        _ => {
            return status(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource".to_owned(),
                Some(json!({})),
            )
        }
    };
    let name = name.unwrap_or_default();
    let ns = namespace.clone().unwrap_or_default();

    if matches!(verb, "update" | "patch" | "delete") {
        let key = (resource.plural, ns.clone(), name.clone());
        if state.before_write.as_ref().is_some_and(|(k, _)| *k == key) {
            if let Some((_, change)) = state.before_write.take() {
                let rv = state.next_rv();
                if let Some(object) = state.objects.get_mut(&key) {
                    change(object);
                    object["metadata"]["resourceVersion"] = json!(rv);
                }
            }
        }
    }

    if state
        .forbidden
        .contains(&(verb.to_owned(), resource.plural.to_owned()))
    {
        let scope = match &namespace {
            Some(ns) => format!("in the namespace {ns:?}"),
            None => "at the cluster scope".to_owned(),
        };
        let reason = format!(
            "User {USER:?} cannot {verb} resource {:?} in API group {:?} {scope}",
            resource.plural, resource.group
        );
        let message = if name.is_empty() {
            format!("{} is forbidden: {reason}", resource.group_resource())
        } else {
            format!("{} {name:?} is forbidden: {reason}", resource.group_resource())
        };
        return status(403, "Forbidden", message, Some(details(&resource, &name)));
    }

    let allowed: &[&str] = match verb {
        "list" => &["limit", "continue"],
        "create" | "update" | "patch" => &["fieldManager"],
        _ => &[],
    };
    let params = match parse_query(query, allowed) {
        Ok(p) => p,
        Err(response) => return response,
    };

    match verb {
        "get" | "list" | "delete" if body.is_some() => bad_request(format!("fake apiserver: a {verb} carries no body")),
        "create" | "update" if content_type != Some("application/json") => status(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json (got {content_type:?})"
            ),
            Some(json!({})),
        ),
        _ => match verb {
            "get" => match state.objects.get(&(resource.plural, ns, name.clone())) {
                Some(object) => ok(StatusCode::OK, object),
                None => not_found(&resource, &name),
            },
            "list" => list(state, &resource, namespace.as_deref(), &params),
            "create" => create(state, &resource, &ns, body),
            "update" => update(state, &resource, &ns, &name, body),
            "patch" => patch(state, &resource, &ns, &name, content_type, body),
            "delete" => match state.objects.remove(&(resource.plural, ns, name.clone())) {
                Some(object) => ok(StatusCode::OK, &object),
                None => not_found(&resource, &name),
            },
            _ => unreachable!("verbs are matched above"),
        },
    }
}

fn check_type(resource: &Resource, object: &Value) -> Result<(), Response> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    if api_version != resource.api_version() || kind != resource.kind {
        return Err(bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({}), or the kind ({kind}) is not {}",
            resource.api_version(),
            resource.kind
        )));
    }
    if !object["metadata"].is_object() {
        return Err(bad_request("fake apiserver: metadata must be an object"));
    }
    Ok(())
}

fn object_body(body: Option<&Value>) -> Result<&Value, Response> {
    match body {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad_request("the body of the request is not a JSON object")),
    }
}

fn create(state: &mut State, resource: &Resource, ns: &str, body: Option<&Value>) -> Response {
    let object = match object_body(body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if let Err(r) = check_type(resource, object) {
        return r;
    }
    let meta = &object["metadata"];
    let name = meta["name"].as_str().unwrap_or_default().to_owned();
    if name.is_empty() {
        return invalid(
            resource,
            "",
            &[(
                "metadata.name".into(),
                "FieldValueRequired",
                "Required value: name or generateName is required".into(),
            )],
        );
    }
    if let Some(body_ns) = meta["namespace"].as_str() {
        if body_ns != ns {
            return bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            );
        }
    }
    if meta.get("resourceVersion").is_some_and(|v| !v.is_null()) {
        return bad_request("resourceVersion should not be set on objects to be created");
    }
    if meta.get("uid").is_some_and(|v| !v.is_null()) {
        return bad_request("fake apiserver: uid should not be set on objects to be created");
    }
    if let Err(errors) = validate(resource, object, None) {
        return invalid(resource, &name, &errors);
    }
    let key = (resource.plural, ns.to_owned(), name.clone());
    if state.objects.contains_key(&key) {
        return status(
            409,
            "AlreadyExists",
            format!("{} {name:?} already exists", resource.group_resource()),
            Some(details(resource, &name)),
        );
    }
    let mut object = object.clone();
    state.stamp_new(&mut object, ns, resource.namespaced);
    state.objects.insert(key, object.clone());
    ok(StatusCode::CREATED, &object)
}

fn update(state: &mut State, resource: &Resource, ns: &str, name: &str, body: Option<&Value>) -> Response {
    let object = match object_body(body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if let Err(r) = check_type(resource, object) {
        return r;
    }
    let meta = &object["metadata"];
    let body_name = meta["name"].as_str().unwrap_or_default();
    if body_name != name {
        return bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        ));
    }
    if let Some(body_ns) = meta["namespace"].as_str() {
        if body_ns != ns {
            return bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            );
        }
    }
    let key = (resource.plural, ns.to_owned(), name.to_owned());
    let Some(current) = state.objects.get(&key).cloned() else {
        return not_found(resource, name);
    };
    let Some(rv) = meta["resourceVersion"].as_str().filter(|s| !s.is_empty()) else {
        return invalid(
            resource,
            name,
            &[(
                "metadata.resourceVersion".into(),
                "FieldValueInvalid",
                "Invalid value: 0x0: must be specified for an update".into(),
            )],
        );
    };
    if current["metadata"]["resourceVersion"] != rv {
        return conflict(resource, name);
    }
    store(state, resource, key, &current, object.clone())
}

/// Validates `next` against `current` and stores it, keeping server-owned metadata; a write
/// that changes nothing keeps the resourceVersion, as the real server does.
fn store(state: &mut State, resource: &Resource, key: Key, current: &Value, mut next: Value) -> Response {
    let name = key.2.clone();
    if let Err(errors) = validate(resource, &next, Some(current)) {
        return invalid(resource, &name, &errors);
    }
    for field in ["uid", "creationTimestamp", "namespace"] {
        if let Some(v) = current["metadata"].get(field) {
            next["metadata"][field] = v.clone();
        }
    }
    next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
    if let Some(meta) = next["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    if next != *current {
        next["metadata"]["resourceVersion"] = json!(state.next_rv());
    }
    state.objects.insert(key, next.clone());
    ok(StatusCode::OK, &next)
}

fn patch(
    state: &mut State,
    resource: &Resource,
    ns: &str,
    name: &str,
    content_type: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let key = (resource.plural, ns.to_owned(), name.to_owned());
    let Some(current) = state.objects.get(&key).cloned() else {
        return not_found(resource, name);
    };
    let Some(patch) = body else {
        return bad_request("the body of the request is empty");
    };
    let mut next = current.clone();
    match content_type {
        Some("application/merge-patch+json") => {
            if !patch.is_object() {
                return bad_request("a merge patch must be a JSON object");
            }
            json_patch::merge(&mut next, patch);
        }
        Some("application/strategic-merge-patch+json") => {
            if let Err(message) = strategic_merge(resource, &mut next, patch, "") {
                return bad_request(message);
            }
        }
        Some("application/json-patch+json") => {
            let ops: json_patch::Patch = match serde_json::from_value(patch.clone()) {
                Ok(ops) => ops,
                Err(e) => return bad_request(format!("json patch: {e}")),
            };
            if let Err(e) = json_patch::patch(&mut next, &ops) {
                return status(422, "Invalid", e.to_string(), None);
            }
        }
        other => {
            return status(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {other:?})"
                ),
                Some(json!({})),
            )
        }
    }
    if next["metadata"]["name"] != current["metadata"]["name"]
        || next["metadata"]["namespace"] != current["metadata"]["namespace"]
        || next["apiVersion"] != current["apiVersion"]
        || next["kind"] != current["kind"]
    {
        return bad_request("fake apiserver: a patch cannot change apiVersion, kind, name or namespace");
    }
    // A resourceVersion in the patch is a precondition.
    if next["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"] {
        return conflict(resource, name);
    }
    store(state, resource, key, &current, next)
}

/// A strategic merge patch: maps merge, `null` deletes, lists with a merge key merge by it,
/// and other lists are refused (the fake does not know their strategy) rather than guessed.
fn strategic_merge(resource: &Resource, target: &mut Value, patch: &Value, path: &str) -> Result<(), String> {
    let Value::Object(patch) = patch else {
        return Err(format!("strategic merge patch: {path:?} must be an object"));
    };
    if !target.is_object() {
        *target = json!({});
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if key.starts_with('$') {
            return Err(format!(
                "fake apiserver: strategic merge directive {key:?} is not modelled"
            ));
        }
        let child = format!("{path}/{key}");
        match value {
            Value::Null => {
                target.remove(key);
            }
            Value::Object(_) => {
                let slot = target.entry(key.clone()).or_insert_with(|| json!({}));
                strategic_merge(resource, slot, value, &child)?;
            }
            Value::Array(items) => {
                let Some(merge_key) = resource.merge_key(&child) else {
                    return Err(format!(
                        "fake apiserver: strategic merge of list {child:?} is not modelled"
                    ));
                };
                let slot = target.entry(key.clone()).or_insert_with(|| json!([]));
                let Value::Array(existing) = slot else {
                    return Err(format!("{child:?} is not a list"));
                };
                for item in items {
                    let Some(id) = item.get(merge_key).filter(|v| v.is_string()) else {
                        return Err(format!(
                            "strategic merge patch: an item of {child:?} lacks its merge key {merge_key:?}"
                        ));
                    };
                    match existing.iter_mut().find(|e| e.get(merge_key) == Some(id)) {
                        Some(found) => strategic_merge(resource, found, item, &format!("{child}/{id}"))?,
                        None => existing.push(item.clone()),
                    }
                }
            }
            scalar => {
                target.insert(key.clone(), scalar.clone());
            }
        }
    }
    Ok(())
}

type FieldErrors = Vec<(String, &'static str, String)>;

fn validate(resource: &Resource, object: &Value, current: Option<&Value>) -> Result<(), FieldErrors> {
    let mut errors: FieldErrors = Vec::new();
    match resource.plural {
        "secrets" => {
            let data = &object["data"];
            if let Some(map) = data.as_object() {
                for (key, value) in map {
                    let decodes = value
                        .as_str()
                        .is_some_and(|s| base64::engine::general_purpose::STANDARD.decode(s).is_ok());
                    if !decodes {
                        errors.push((
                            format!("data[{key}]"),
                            "FieldValueInvalid",
                            "Invalid value: not base64".into(),
                        ));
                    }
                }
            }
            let type_ = object["type"].as_str().unwrap_or("Opaque");
            if type_ == "kubernetes.io/tls" {
                for key in ["tls.crt", "tls.key"] {
                    if data.get(key).is_none() {
                        errors.push((
                            format!("data[{key}]"),
                            "FieldValueRequired",
                            "Required value".into(),
                        ));
                    }
                }
            }
            if let Some(current) = current {
                let before = current["type"].as_str().unwrap_or("Opaque");
                if before != type_ {
                    errors.push((
                        "type".into(),
                        "FieldValueInvalid",
                        format!("Invalid value: {type_:?}: field is immutable"),
                    ));
                }
            }
        }
        "mutatingwebhookconfigurations" | "validatingwebhookconfigurations" => {
            let mut names = HashSet::new();
            for (i, webhook) in object["webhooks"].as_array().into_iter().flatten().enumerate() {
                let at = |field: &str| format!("webhooks[{i}].{field}");
                match webhook["name"].as_str() {
                    Some(name) if !name.is_empty() => {
                        if !names.insert(name.to_owned()) {
                            errors.push((
                                at("name"),
                                "FieldValueDuplicate",
                                format!("Duplicate value: {name:?}"),
                            ));
                        }
                    }
                    _ => errors.push((at("name"), "FieldValueRequired", "Required value".into())),
                }
                let client_config = &webhook["clientConfig"];
                let has_url = client_config.get("url").is_some_and(|v| !v.is_null());
                let has_service = client_config.get("service").is_some_and(|v| !v.is_null());
                if has_url == has_service {
                    errors.push((
                        at("clientConfig"),
                        "FieldValueRequired",
                        "Required value: exactly one of url or service is required".into(),
                    ));
                }
                if let Some(bundle) = client_config.get("caBundle") {
                    let decodes = bundle
                        .as_str()
                        .is_some_and(|s| base64::engine::general_purpose::STANDARD.decode(s).is_ok());
                    if !decodes {
                        errors.push((
                            at("clientConfig.caBundle"),
                            "FieldValueInvalid",
                            "Invalid value: not base64".into(),
                        ));
                    }
                }
                if webhook["sideEffects"].as_str().is_none() {
                    errors.push((at("sideEffects"), "FieldValueRequired", "Required value".into()));
                }
                if webhook["admissionReviewVersions"]
                    .as_array()
                    .is_none_or(|v| v.is_empty())
                {
                    errors.push((
                        at("admissionReviewVersions"),
                        "FieldValueRequired",
                        "Required value: must specify one of v1, v1beta1".into(),
                    ));
                }
            }
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn list(
    state: &State,
    resource: &Resource,
    namespace: Option<&str>,
    params: &BTreeMap<String, String>,
) -> Response {
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => None,
        Some(Ok(0)) => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return bad_request(format!("invalid limit {:?}", params["limit"])),
    };
    let start = match params.get("continue") {
        None => None,
        Some(token) => match decode_continue(token) {
            Some(start) => Some(start),
            None => return bad_request(format!("continue key is not valid: {token:?}")),
        },
    };
    let items: Vec<(&Key, &Value)> = state
        .objects
        .iter()
        .filter(|((plural, ns, _), _)| *plural == resource.plural && namespace.is_none_or(|want| ns == want))
        .filter(|((_, ns, name), _)| {
            start
                .as_ref()
                .is_none_or(|s| (ns.as_str(), name.as_str()) > (s.0.as_str(), s.1.as_str()))
        })
        .collect();
    let page: Vec<_> = match limit {
        Some(n) => items.iter().take(n).collect(),
        None => items.iter().collect(),
    };
    let mut metadata = json!({ "resourceVersion": state.resource_version.to_string() });
    if page.len() < items.len() {
        if let Some(((_, ns, name), _)) = page.last() {
            metadata["continue"] = json!(encode_continue(ns, name));
            metadata["remainingItemCount"] = json!(items.len() - page.len());
        }
    }
    // Items in a list carry no apiVersion or kind, as in the real server's JSON.
    let page: Vec<Value> = page
        .into_iter()
        .map(|(_, v)| {
            let mut v = (*v).clone();
            if let Some(map) = v.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            v
        })
        .collect();
    ok(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", resource.kind),
            "apiVersion": resource.api_version(),
            "metadata": metadata,
            "items": page,
        }),
    )
}

fn encode_continue(ns: &str, name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({ "v": "fake/1", "start": [ns, name] }).to_string())
}

fn decode_continue(token: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    if value["v"] != "fake/1" {
        return None;
    }
    Some((
        value["start"][0].as_str()?.to_owned(),
        value["start"][1].as_str()?.to_owned(),
    ))
}
