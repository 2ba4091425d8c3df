//! The mutation: which defaults `/mutate` adds to a Job or CronJob, as a JSON Patch.
//!
//! The API server defaults an object before any webhook sees it, so a CronJob always arrives
//! with `concurrencyPolicy: Allow` and history limits 3/1. A value still at its API default
//! counts as unset unless the request itself shows the user chose it ([`Evidence`]); an
//! explicit non-default value is never touched. Everything here is pure: the object (and on
//! update the stored object), the policy's `defaults:` section and "now" in, a patch out.

use chrono::{DateTime, Utc};
use json_patch::jsonptr::{PointerBuf, Token};
use json_patch::{AddOperation, Patch, PatchOperation, ReplaceOperation};
use serde_json::{Map, Value};

use crate::config::{ActiveDeadline, CronJobDefaults, Defaults, JobDefaults, KEEP_ANNOTATION};
use crate::rules::{Kind, Operation};

/// The annotation client-side `kubectl apply` stores the user's manifest in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// How many upcoming runs are scanned for the shortest gap between two runs. The shortest
/// gap of any realistic schedule shows within its first few runs; the cap bounds the cost
/// of a request.
pub const SCHEDULE_RUNS: usize = 100;

/// One default the mutation applied: one operation of the JSON Patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The field as the API server prints paths (`spec.concurrencyPolicy`).
    pub field: String,
    /// The field's path, one token per key.
    pub path: Vec<&'static str>,
    /// `add` where the key was absent, `replace` where it held a value.
    pub op: PatchOp,
    /// The value set.
    pub value: Value,
    /// What `response.warnings` says about it: the field, the value and how to opt out.
    pub warning: String,
}

/// The JSON Patch operations a mutation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Replace,
}

/// The result of [`mutation`]: each default applied, in patch order (none when nothing
/// applies).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mutation {
    pub applied: Vec<Applied>,
}

impl Mutation {
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty()
    }

    /// The JSON Patch, as json-patch's types (to apply it).
    pub fn patch(&self) -> Patch {
        Patch(
            self.applied
                .iter()
                .map(|a| {
                    let path = PointerBuf::from_tokens(a.path.iter().copied());
                    let value = a.value.clone();
                    match a.op {
                        PatchOp::Add => PatchOperation::Add(AddOperation { path, value }),
                        PatchOp::Replace => PatchOperation::Replace(ReplaceOperation { path, value }),
                    }
                })
                .collect(),
        )
    }

    /// The JSON Patch as JSON text: the same bytes as serializing [`Mutation::patch`],
    /// written directly (this is what `/mutate` sends, once per request).
    pub fn patch_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 72 * self.applied.len());
        out.push(b'[');
        for (i, a) in self.applied.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(match a.op {
                PatchOp::Add => b"{\"op\":\"add\",\"path\":",
                PatchOp::Replace => b"{\"op\":\"replace\",\"path\":",
            });
            let mut pointer = String::with_capacity(a.path.iter().map(|t| t.len() + 1).sum());
            for token in &a.path {
                pointer.push('/');
                // json-patch's own RFC 6901 encoding; it borrows a token with no `~` or `/`.
                pointer.push_str(Token::new(*token).encoded());
            }
            crate::jsonw::string(&mut out, &pointer);
            out.extend_from_slice(b",\"value\":");
            crate::jsonw::value(&mut out, &a.value);
            out.push(b'}');
        }
        out.push(b']');
        out
    }
}

/// The defaults `/mutate` adds to `object`. `old` is the stored object on update.
///
/// Jobs are mutated on create only (their template is immutable afterwards, and a
/// running Job's deadlines are the user's business), and never when a controller owns
/// them (a CronJob's Jobs get their deadline from the CronJob's template). CronJobs are
/// mutated on create; on update only where a field batchguard had set fell back to its
/// API default with no sign of a user choice, as a `kubectl replace` that omits it does.
pub fn mutation(
    kind: Kind,
    operation: Operation,
    object: &Value,
    old: Option<&Value>,
    defaults: &Defaults,
    now: DateTime<Utc>,
) -> Mutation {
    let mut out = Mutation::default();
    let Some(spec) = object.get("spec").and_then(Value::as_object) else {
        return out;
    };
    match kind {
        Kind::CronJob => {
            let old_spec = match operation {
                Operation::Create => None,
                // An update without a stored object cannot show that we had set anything.
                Operation::Update => match old.and_then(|o| o.get("spec")).and_then(Value::as_object) {
                    Some(s) => Some(s),
                    None => return out,
                },
            };
            cronjob(
                spec,
                old_spec,
                &Evidence::of(object),
                &defaults.cron_job,
                now,
                &mut out,
            );
        }
        Kind::Job => {
            if operation == Operation::Create && !controller_owned(object) {
                job(spec, &Evidence::of(object), &defaults.job, &mut out);
            }
        }
    }
    out
}

/// True when an ownerReference says `controller: true` (a Job made by a CronJob, a
/// workflow engine's Jobs): such objects are managed, not written by a person.
pub fn controller_owned(object: &Value) -> bool {
    object
        .get("metadata")
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        })
}

/// A field with an API default that batchguard replaces (`concurrencyPolicy: Allow`).
struct Defaulted<'a> {
    key: &'static str,
    api_default: Value,
    configured: Option<Value>,
    shown_default: &'a str,
}

fn cronjob(
    spec: &Map<String, Value>,
    old_spec: Option<&Map<String, Value>>,
    evidence: &Evidence,
    d: &CronJobDefaults,
    now: DateTime<Utc>,
    out: &mut Mutation,
) {
    let replaced = [
        Defaulted {
            key: "concurrencyPolicy",
            api_default: Value::from("Allow"),
            configured: d.concurrency_policy.clone().map(Value::from),
            shown_default: "Allow",
        },
        Defaulted {
            key: "successfulJobsHistoryLimit",
            api_default: Value::from(3),
            configured: d.successful_jobs_history_limit.map(Value::from),
            shown_default: "3",
        },
        Defaulted {
            key: "failedJobsHistoryLimit",
            api_default: Value::from(1),
            configured: d.failed_jobs_history_limit.map(Value::from),
            shown_default: "1",
        },
    ];
    for field in replaced {
        replace_api_default(spec, old_spec, evidence, &field, out);
    }

    if let Some(configured) = d.starting_deadline_seconds {
        let path = ["spec", "startingDeadlineSeconds"];
        let ours_before = old_spec.map(|o| same_int(o.get(path[1]), configured));
        fill_absent(
            spec,
            &path,
            Value::from(configured),
            ours_before,
            evidence,
            None,
            out,
        );
    }

    let Some(template_spec) = spec
        .get("jobTemplate")
        .and_then(|t| t.get("spec"))
        .and_then(Value::as_object)
    else {
        return;
    };
    let Some(wanted) = active_deadline(spec, d, now) else {
        return;
    };
    let path = ["spec", "jobTemplate", "spec", "activeDeadlineSeconds"];
    let ours_before = old_spec.map(|o| {
        let old_value = o
            .get("jobTemplate")
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("activeDeadlineSeconds"));
        let old_wanted = active_deadline(o, d, now);
        old_wanted.is_some_and(|w| same_int(old_value, w.seconds))
    });
    fill_absent(
        template_spec,
        &path,
        Value::from(wanted.seconds),
        ours_before,
        evidence,
        wanted.why.as_deref(),
        out,
    );
}

fn job(spec: &Map<String, Value>, evidence: &Evidence, d: &JobDefaults, out: &mut Mutation) {
    if let Some(ttl) = d.ttl_seconds_after_finished {
        let path = ["spec", "ttlSecondsAfterFinished"];
        fill_absent(spec, &path, Value::from(ttl), None, evidence, None, out);
    }
    if let Some(deadline) = d.active_deadline_seconds.filter(|s| *s > 0) {
        let path = ["spec", "activeDeadlineSeconds"];
        fill_absent(spec, &path, Value::from(deadline), None, evidence, None, out);
    }
}

/// The deadline to give a CronJob's Jobs, and how it was chosen (for the warning).
struct Deadline {
    seconds: i64,
    why: Option<String>,
}

fn active_deadline(spec: &Map<String, Value>, d: &CronJobDefaults, now: DateTime<Utc>) -> Option<Deadline> {
    let deadline = match d.active_deadline_seconds? {
        ActiveDeadline::Seconds(s) => Deadline {
            seconds: s,
            why: None,
        },
        ActiveDeadline::Schedule => {
            let schedule = spec.get("schedule").and_then(Value::as_str)?;
            let zone = spec.get("timeZone").and_then(Value::as_str);
            let gap = gaps::shortest_gap(schedule, zone, now)?;
            let cap = d.max_active_deadline_seconds;
            // Warnings should stay short (kubectl users read them; the API server truncates
            // long ones), so the schedule itself is not repeated.
            let why = if gap > cap {
                format!("the shortest gap between runs is {gap}s, capped at {cap}s")
            } else {
                "the shortest gap between runs".to_string()
            };
            Deadline {
                seconds: gap.min(cap),
                why: Some(why),
            }
        }
    };
    // A zero deadline would fail every run the moment it starts.
    (deadline.seconds > 0).then_some(deadline)
}

/// A memo of [`Schedule::shortest_gap`](crate::cron::Schedule::shortest_gap) for
/// [`SCHEDULE_RUNS`] runs, which is most of the cost of `/mutate` on a CronJob (a `*/5`
/// schedule walks all 100 runs through the time zone arithmetic, tens of microseconds).
///
/// `shortest_gap(from)` depends on `from` only through the first fire time after it: it
/// takes `next(from)` and then steps `next(previous)` from there. An entry keeps the
/// schedule text, the zone, that first fire time `first` and the earliest `from` it is
/// known for. Any `now` in `[from, first)` has the same first fire time (there is no fire
/// time between `from` and `first`, and `next` only moves forward), so such a request is
/// answered without parsing the schedule at all. Any other `now` parses it, takes
/// `next(now)`, and is still a hit when an entry has that first fire time. Entries are per
/// thread (no lock on the request path) and few; an entry is no longer hit once its first
/// fire time has passed, so a full memo first drops those.
mod gaps {
    use std::cell::RefCell;

    use chrono::{DateTime, Utc};

    use super::SCHEDULE_RUNS;

    /// Entries per thread.
    const CAPACITY: usize = 32;
    /// Longer schedule texts are computed each time rather than kept.
    const MAX_KEY_BYTES: usize = 256;

    struct Entry {
        schedule: String,
        zone: Option<String>,
        /// The earliest time this entry was asked for: `next(from) == first`.
        from: DateTime<Utc>,
        first: DateTime<Utc>,
        gap_seconds: Option<i64>,
    }

    thread_local! {
        static MEMO: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    }

    /// `controller_schedule(schedule, zone)?.shortest_gap(now, SCHEDULE_RUNS)` in seconds;
    /// `None` when the schedule does not parse or has no two runs.
    pub(super) fn shortest_gap(schedule: &str, zone: Option<&str>, now: DateTime<Utc>) -> Option<i64> {
        let same = |e: &Entry| e.schedule == schedule && e.zone.as_deref() == zone;
        let known = MEMO.with(|memo| {
            memo.borrow()
                .iter()
                .find(|e| e.from <= now && now < e.first && same(e))
                .map(|e| e.gap_seconds)
        });
        if let Some(gap_seconds) = known {
            return gap_seconds;
        }
        let parsed = crate::cron::controller_schedule(schedule, zone).ok()?;
        let compute = || parsed.shortest_gap(now, SCHEDULE_RUNS).map(|g| g.num_seconds());
        // `@every` does not look at its runs at all, and long texts are not worth keeping.
        if parsed.every_seconds().is_some() || schedule.len() + zone.map_or(0, str::len) > MAX_KEY_BYTES {
            return compute();
        }
        // No first run: shortest_gap has no pair to measure either.
        let first = parsed.next(now)?;
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if let Some(entry) = memo.iter_mut().find(|e| e.first == first && same(e)) {
                entry.from = entry.from.min(now);
                return entry.gap_seconds;
            }
            let gap_seconds = compute();
            if memo.len() >= CAPACITY {
                memo.retain(|e| e.first > now);
                if memo.len() >= CAPACITY {
                    memo.remove(0);
                }
            }
            memo.push(Entry {
                schedule: schedule.to_string(),
                zone: zone.map(str::to_string),
                from: now,
                first,
                gap_seconds,
            });
            gap_seconds
        })
    }
}

/// Replaces a value still at its API default, unless the user chose it or, on update,
/// unless it was not batchguard's value before.
fn replace_api_default(
    spec: &Map<String, Value>,
    old_spec: Option<&Map<String, Value>>,
    evidence: &Evidence,
    field: &Defaulted,
    out: &mut Mutation,
) {
    let Some(configured) = &field.configured else {
        return;
    };
    if *configured == field.api_default {
        return;
    }
    let current = spec.get(field.key);
    let unset = match current {
        None | Some(Value::Null) => true,
        Some(v) => *v == field.api_default,
    };
    if !unset {
        return;
    }
    let path = ["spec", field.key];
    if evidence.chose(&path) {
        return;
    }
    if let Some(old) = old_spec {
        if old.get(field.key) != Some(configured) {
            return;
        }
    }
    let (d, key) = (field.shown_default, field.key);
    let text: &[&str] = match current {
        Some(v) if !v.is_null() => &[
            " (API default ",
            d,
            " was not chosen explicitly); to keep ",
            d,
            ", set it with kubectl apply or annotate ",
            KEEP_ANNOTATION,
            ": ",
            key,
        ],
        _ => &[
            " (it was not set); to keep the API default ",
            d,
            ", set it with kubectl apply or annotate ",
            KEEP_ANNOTATION,
            ": ",
            key,
        ],
    };
    push(out, &path, current.is_some(), configured.clone(), text);
}

/// Adds a field that has no API default when it is absent, unless the user opted out; on
/// update (`ours_before` is `Some`) only when the stored object had batchguard's value.
fn fill_absent(
    parent: &Map<String, Value>,
    path: &[&'static str],
    value: Value,
    ours_before: Option<bool>,
    evidence: &Evidence,
    why: Option<&str>,
    out: &mut Mutation,
) {
    let Some(key) = path.last() else {
        return;
    };
    let current = parent.get(*key);
    if current.is_some_and(|v| !v.is_null()) {
        return;
    }
    if ours_before == Some(false) || evidence.chose(path) {
        return;
    }
    let (sep, why) = match why {
        Some(w) => ("; ", w),
        None => ("", ""),
    };
    let text = [
        " (it was not set",
        sep,
        why,
        "); to choose another value set it, or annotate ",
        KEEP_ANNOTATION,
        ": ",
        key,
        " to leave it unset",
    ];
    push(out, path, current.is_some(), value, &text);
}

/// Records one default: the patch operation, and the warning `batchguard set
/// <field>=<value><text…>` (built by concatenation: formatting machinery was a fifth of a
/// `/mutate` review).
fn push(out: &mut Mutation, path: &[&'static str], exists: bool, value: Value, text: &[&str]) {
    let field = path.join(".");
    let shown = match &value {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    let mut warning = String::with_capacity(
        "batchguard set =".len() + field.len() + shown.len() + text.iter().map(|t| t.len()).sum::<usize>(),
    );
    warning.push_str("batchguard set ");
    warning.push_str(&field);
    warning.push('=');
    warning.push_str(&shown);
    for t in text {
        warning.push_str(t);
    }
    out.applied.push(Applied {
        warning,
        field,
        path: path.to_vec(),
        op: if exists { PatchOp::Replace } else { PatchOp::Add },
        value,
    });
}

fn same_int(v: Option<&Value>, want: i64) -> bool {
    v.and_then(Value::as_i64) == Some(want)
}

/// What the request shows about the user's own choices.
#[derive(Debug, Default)]
pub struct Evidence<'a> {
    /// `fieldsV1` trees of the `operation: Apply` managedFields entries (server-side apply
    /// lists exactly the fields of the user's manifest; `Update` entries list defaulted
    /// fields too, so they prove nothing).
    applied: Vec<&'a Value>,
    /// The user's manifest as client-side `kubectl apply` stored it.
    last_applied: Option<Value>,
    /// Field names from the `batchguard.io/keep` annotation.
    keep: Vec<String>,
}

impl<'a> Evidence<'a> {
    /// Collects the evidence from an object's metadata; anything malformed proves nothing.
    pub fn of(object: &'a Value) -> Evidence<'a> {
        let Some(meta) = object.get("metadata") else {
            return Evidence::default();
        };
        let applied = meta
            .get("managedFields")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.get("operation").and_then(Value::as_str) == Some("Apply"))
                    // An apply to a subresource (status) owns nothing of the spec.
                    .filter(|e| {
                        e.get("subresource")
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty)
                    })
                    .filter_map(|e| e.get("fieldsV1"))
                    .collect()
            })
            .unwrap_or_default();
        let annotations = meta.get("annotations");
        let last_applied = annotations
            .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok());
        let keep = annotations
            .and_then(|a| a.get(KEEP_ANNOTATION))
            .and_then(Value::as_str)
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Evidence {
            applied,
            last_applied,
            keep,
        }
    }

    /// Did the user choose the field at `path` (`["spec", "concurrencyPolicy"]`)?
    pub fn chose(&self, path: &[&str]) -> bool {
        let last = path.last().copied().unwrap_or_default();
        if self.keep.iter().any(|k| k == last || is_dotted(k, path)) {
            return true;
        }
        if let Some(manifest) = &self.last_applied {
            if lookup(manifest, path.iter().copied()).is_some() {
                return true;
            }
        }
        self.applied
            .iter()
            .any(|fields| lookup(fields, path.iter().map(|t| format!("f:{t}"))).is_some())
    }
}

/// `k` is `path` joined with dots.
fn is_dotted(k: &str, path: &[&str]) -> bool {
    let mut rest = k;
    for (i, token) in path.iter().enumerate() {
        if i > 0 {
            let Some(r) = rest.strip_prefix('.') else {
                return false;
            };
            rest = r;
        }
        let Some(r) = rest.strip_prefix(token) else {
            return false;
        };
        rest = r;
    }
    rest.is_empty()
}

fn lookup<K: AsRef<str>>(mut v: &Value, keys: impl Iterator<Item = K>) -> Option<&Value> {
    for k in keys {
        v = v.as_object()?.get(k.as_ref())?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T02:00:00Z")
            .expect("valid time")
            .with_timezone(&Utc)
    }

    /// The defaults without the schedule-derived deadline, which needs the cron engine.
    fn defaults() -> Defaults {
        let mut d = Defaults::default();
        d.cron_job.active_deadline_seconds = None;
        d
    }

    fn cronjob(spec_extra: Value, meta: Value) -> Value {
        let mut spec = json!({
            "schedule": "*/5 * * * *",
            "concurrencyPolicy": "Allow",
            "suspend": false,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure"}}}},
        });
        if let (Some(s), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
            for (k, v) in extra {
                s.insert(k.clone(), v.clone());
            }
        }
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec})
    }

    fn fields(m: &Mutation) -> Vec<(String, Value)> {
        m.applied
            .iter()
            .map(|a| (a.field.clone(), a.value.clone()))
            .collect()
    }

    fn apply(object: &Value, m: &Mutation) -> Value {
        let mut doc = object.clone();
        json_patch::patch(&mut doc, &m.patch()).expect("patch applies");
        doc
    }

    #[test]
    fn replaces_api_defaults_on_create_without_evidence() {
        let obj = cronjob(json!({}), json!({"name": "a"}));
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        assert_eq!(
            fields(&m),
            vec![
                ("spec.concurrencyPolicy".into(), json!("Forbid")),
                ("spec.successfulJobsHistoryLimit".into(), json!(1)),
                ("spec.failedJobsHistoryLimit".into(), json!(3)),
                ("spec.startingDeadlineSeconds".into(), json!(300)),
            ]
        );
        let patched = apply(&obj, &m);
        let again = mutation(
            Kind::CronJob,
            Operation::Create,
            &patched,
            None,
            &defaults(),
            now(),
        );
        assert!(again.is_empty(), "{:?}", again.applied);
    }

    #[test]
    fn warning_names_field_value_and_opt_out() {
        let obj = cronjob(json!({}), json!({"name": "a"}));
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        assert_eq!(
            m.applied[0].warning,
            "batchguard set spec.concurrencyPolicy=Forbid (API default Allow was not chosen explicitly); \
             to keep Allow, set it with kubectl apply or annotate batchguard.io/keep: concurrencyPolicy"
        );
        assert_eq!(
            m.applied[3].warning,
            "batchguard set spec.startingDeadlineSeconds=300 (it was not set); to choose another value set it, \
             or annotate batchguard.io/keep: startingDeadlineSeconds to leave it unset"
        );
    }

    #[test]
    fn keeps_explicit_non_default_values() {
        let obj = cronjob(
            json!({"concurrencyPolicy": "Replace", "successfulJobsHistoryLimit": 10,
                   "failedJobsHistoryLimit": 0, "startingDeadlineSeconds": 20}),
            json!({"name": "a"}),
        );
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        assert!(m.is_empty(), "{:?}", m.applied);
    }

    #[test]
    fn keeps_api_default_owned_by_server_side_apply() {
        let meta = json!({"name": "a", "managedFields": [
            {"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:concurrencyPolicy": {}, "f:schedule": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:successfulJobsHistoryLimit": {}}}}
        ]});
        let obj = cronjob(json!({}), meta);
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        let f: Vec<String> = fields(&m).into_iter().map(|(f, _)| f).collect();
        assert!(!f.contains(&"spec.concurrencyPolicy".to_string()), "{f:?}");
        assert!(
            f.contains(&"spec.successfulJobsHistoryLimit".to_string()),
            "{f:?}"
        );
    }

    #[test]
    fn apply_to_status_subresource_is_no_evidence() {
        let meta = json!({"name": "a", "managedFields": [
            {"manager": "x", "operation": "Apply", "subresource": "status",
             "fieldsV1": {"f:spec": {"f:concurrencyPolicy": {}}}}
        ]});
        let obj = cronjob(json!({}), meta);
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        assert_eq!(m.applied[0].field, "spec.concurrencyPolicy");
    }

    #[test]
    fn keeps_api_default_listed_in_last_applied_configuration() {
        let last = r#"{"apiVersion":"batch/v1","kind":"CronJob","spec":{"concurrencyPolicy":"Allow","failedJobsHistoryLimit":1,"schedule":"*/5 * * * *"}}"#;
        let obj = cronjob(
            json!({}),
            json!({"name": "a", "annotations": {LAST_APPLIED_ANNOTATION: last}}),
        );
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        let f: Vec<String> = fields(&m).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            f,
            vec!["spec.successfulJobsHistoryLimit", "spec.startingDeadlineSeconds"]
        );
    }

    #[test]
    fn malformed_last_applied_proves_nothing() {
        let obj = cronjob(
            json!({}),
            json!({"name": "a", "annotations": {LAST_APPLIED_ANNOTATION: "{not json"}}),
        );
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        assert_eq!(m.applied.len(), 4);
    }

    #[test]
    fn keep_annotation_lists_fields() {
        let obj = cronjob(
            json!({}),
            json!({"name": "a", "annotations": {KEEP_ANNOTATION: " concurrencyPolicy ,startingDeadlineSeconds,spec.failedJobsHistoryLimit"}}),
        );
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &defaults(), now());
        let f: Vec<String> = fields(&m).into_iter().map(|(f, _)| f).collect();
        assert_eq!(f, vec!["spec.successfulJobsHistoryLimit"]);
    }

    #[test]
    fn update_does_not_touch_values_batchguard_never_set() {
        let old = cronjob(json!({}), json!({"name": "a"}));
        let new = cronjob(json!({"suspend": true}), json!({"name": "a"}));
        let m = mutation(
            Kind::CronJob,
            Operation::Update,
            &new,
            Some(&old),
            &defaults(),
            now(),
        );
        assert!(m.is_empty(), "{:?}", m.applied);
    }

    #[test]
    fn update_restores_what_a_replace_dropped() {
        let old = cronjob(
            json!({"concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 1,
                   "failedJobsHistoryLimit": 3, "startingDeadlineSeconds": 300}),
            json!({"name": "a"}),
        );
        // kubectl replace with a manifest that omits them: the API server re-defaults.
        let new = cronjob(json!({"schedule": "*/10 * * * *"}), json!({"name": "a"}));
        let m = mutation(
            Kind::CronJob,
            Operation::Update,
            &new,
            Some(&old),
            &defaults(),
            now(),
        );
        assert_eq!(
            fields(&m),
            vec![
                ("spec.concurrencyPolicy".into(), json!("Forbid")),
                ("spec.successfulJobsHistoryLimit".into(), json!(1)),
                ("spec.failedJobsHistoryLimit".into(), json!(3)),
                ("spec.startingDeadlineSeconds".into(), json!(300)),
            ]
        );
    }

    #[test]
    fn update_respects_a_user_switching_back_to_the_api_default() {
        let old = cronjob(json!({"concurrencyPolicy": "Forbid"}), json!({"name": "a"}));
        let meta = json!({"name": "a", "managedFields": [
            {"manager": "kubectl", "operation": "Apply",
             "fieldsV1": {"f:spec": {"f:concurrencyPolicy": {}}}}
        ]});
        let new = cronjob(json!({}), meta);
        let m = mutation(
            Kind::CronJob,
            Operation::Update,
            &new,
            Some(&old),
            &defaults(),
            now(),
        );
        assert!(m.is_empty(), "{:?}", m.applied);
    }

    #[test]
    fn fixed_active_deadline_goes_into_the_job_template() {
        let mut d = defaults();
        d.cron_job.active_deadline_seconds = Some(ActiveDeadline::Seconds(600));
        let obj = cronjob(json!({}), json!({"name": "a"}));
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &d, now());
        let patched = apply(&obj, &m);
        assert_eq!(
            patched["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
            json!(600)
        );
        assert!(mutation(Kind::CronJob, Operation::Create, &patched, None, &d, now()).is_empty());
    }

    #[test]
    fn zero_deadline_is_never_set() {
        let mut d = defaults();
        d.cron_job.active_deadline_seconds = Some(ActiveDeadline::Seconds(0));
        d.job.active_deadline_seconds = Some(0);
        let obj = cronjob(json!({}), json!({"name": "a"}));
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &d, now());
        assert!(!m
            .applied
            .iter()
            .any(|a| a.field.ends_with("activeDeadlineSeconds")));
        let job = json!({"metadata": {"name": "j"}, "spec": {"template": {}}});
        let m = mutation(Kind::Job, Operation::Create, &job, None, &d, now());
        assert!(!m
            .applied
            .iter()
            .any(|a| a.field.ends_with("activeDeadlineSeconds")));
    }

    #[test]
    fn schedule_deadline_is_skipped_when_schedule_does_not_parse() {
        let mut d = defaults();
        d.cron_job.active_deadline_seconds = Some(ActiveDeadline::Schedule);
        let obj = cronjob(json!({"schedule": "not a schedule"}), json!({"name": "a"}));
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &d, now());
        assert!(!m
            .applied
            .iter()
            .any(|a| a.field.ends_with("activeDeadlineSeconds")));
    }

    #[test]
    fn schedule_deadline_is_the_shortest_gap_capped() {
        let mut d = defaults();
        d.cron_job.active_deadline_seconds = Some(ActiveDeadline::Schedule);
        let obj = cronjob(json!({}), json!({"name": "a"}));
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &d, now());
        let patched = apply(&obj, &m);
        assert_eq!(
            patched["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
            json!(300)
        );
        assert_eq!(
            m.applied.last().map(|a| a.warning.as_str()),
            Some(
                "batchguard set spec.jobTemplate.spec.activeDeadlineSeconds=300 (it was not set; the shortest gap \
                 between runs); to choose another value set it, or annotate batchguard.io/keep: \
                 activeDeadlineSeconds to leave it unset"
            )
        );
        d.cron_job.max_active_deadline_seconds = 120;
        let m = mutation(Kind::CronJob, Operation::Create, &obj, None, &d, now());
        let patched = apply(&obj, &m);
        assert_eq!(
            patched["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
            json!(120)
        );
        let daily = cronjob(json!({"schedule": "0 3 * * *"}), json!({"name": "a"}));
        d.cron_job.max_active_deadline_seconds = 86_400 * 7;
        let m = mutation(Kind::CronJob, Operation::Create, &daily, None, &d, now());
        assert_eq!(
            apply(&daily, &m)["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
            json!(86_400)
        );
    }

    #[test]
    fn memoized_shortest_gap_equals_a_fresh_computation() {
        // Around both 2026 DST changes in Berlin and New York, where the gap of a daily or
        // hourly schedule depends on which runs the 100 fall on; each time asked twice, so
        // the second answer comes from the memo.
        let cases: [(&str, Option<&str>); 9] = [
            ("*/5 * * * *", None),
            ("0 2 * * *", Some("Europe/Berlin")),
            ("30 2 * * *", Some("Europe/Berlin")),
            ("0 * * * *", Some("Europe/Berlin")),
            ("30 1 * * *", Some("America/New_York")),
            ("0,10 3 * * *", None),
            ("@every 90s", None),
            ("0 0 30 2 *", None),
            ("CRON_TZ=Asia/Tokyo 15 */7 * * *", Some("Europe/Berlin")),
        ];
        let starts = [
            "2026-03-27T00:00:00Z",
            "2026-10-23T00:00:00Z",
            "2026-03-06T00:00:00Z",
        ];
        for start in starts {
            let start = DateTime::parse_from_rfc3339(start)
                .expect("valid")
                .with_timezone(&Utc);
            for step in 0..200 {
                let at = start + chrono::Duration::minutes(step * 23);
                for (schedule, zone) in cases {
                    let parsed = crate::cron::controller_schedule(schedule, zone).expect("valid");
                    let fresh = parsed.shortest_gap(at, SCHEDULE_RUNS).map(|g| g.num_seconds());
                    for _ in 0..2 {
                        assert_eq!(
                            gaps::shortest_gap(schedule, zone, at),
                            fresh,
                            "{schedule} {zone:?} at {at}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn shortest_gap_memo_stays_correct_past_its_capacity() {
        let at = now();
        for round in 0..2 {
            for minute in 0..60 {
                let schedule = format!("{minute} */{} * * *", 1 + minute % 5);
                let parsed = crate::cron::controller_schedule(&schedule, None).expect("valid");
                let fresh = parsed.shortest_gap(at, SCHEDULE_RUNS).map(|g| g.num_seconds());
                assert_eq!(
                    gaps::shortest_gap(&schedule, None, at),
                    fresh,
                    "{schedule}, round {round}"
                );
            }
        }
    }

    #[test]
    fn job_gets_ttl_only_on_create_and_only_when_standalone() {
        let d = defaults();
        let job = json!({"metadata": {"name": "j"}, "spec": {"template": {}}});
        let m = mutation(Kind::Job, Operation::Create, &job, None, &d, now());
        assert_eq!(
            fields(&m),
            vec![("spec.ttlSecondsAfterFinished".into(), json!(86_400))]
        );
        let m = mutation(Kind::Job, Operation::Update, &job, Some(&job), &d, now());
        assert!(m.is_empty());
        let owned = json!({"metadata": {"name": "j", "ownerReferences": [
            {"apiVersion": "batch/v1", "kind": "CronJob", "name": "c", "uid": "u", "controller": true}
        ]}, "spec": {}});
        assert!(mutation(Kind::Job, Operation::Create, &owned, None, &d, now()).is_empty());
        let not_controller = json!({"metadata": {"name": "j", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u"}
        ]}, "spec": {}});
        assert_eq!(
            mutation(Kind::Job, Operation::Create, &not_controller, None, &d, now())
                .applied
                .len(),
            1
        );
    }

    #[test]
    fn job_active_deadline_only_when_configured() {
        let mut d = defaults();
        let job = json!({"metadata": {"name": "j"}, "spec": {"ttlSecondsAfterFinished": 5}});
        assert!(mutation(Kind::Job, Operation::Create, &job, None, &d, now()).is_empty());
        d.job.active_deadline_seconds = Some(3600);
        let m = mutation(Kind::Job, Operation::Create, &job, None, &d, now());
        assert_eq!(
            fields(&m),
            vec![("spec.activeDeadlineSeconds".into(), json!(3600))]
        );
    }

    #[test]
    fn tolerates_odd_shapes() {
        let d = Defaults::default();
        for obj in [
            json!(null),
            json!(5),
            json!({}),
            json!({"spec": null}),
            json!({"spec": []}),
            json!({"metadata": 3, "spec": {"jobTemplate": 7, "schedule": 9}}),
            json!({"metadata": {"managedFields": {"x": 1}, "annotations": []}, "spec": {}}),
            json!({"metadata": {"annotations": {KEEP_ANNOTATION: 5, LAST_APPLIED_ANNOTATION: 5}}, "spec": {"concurrencyPolicy": 1e300}}),
        ] {
            for kind in [Kind::Job, Kind::CronJob] {
                let m = mutation(kind, Operation::Create, &obj, None, &d, now());
                let mut doc = obj.clone();
                json_patch::patch(&mut doc, &m.patch()).expect("patch applies to its own object");
                let _ = mutation(kind, Operation::Update, &obj, Some(&json!(null)), &d, now());
            }
        }
    }

    #[test]
    fn patch_json_is_the_serialized_patch() {
        let d = Defaults::default();
        let mut cases = vec![Mutation::default()];
        let obj = cronjob(json!({}), json!({"name": "a"}));
        cases.push(mutation(Kind::CronJob, Operation::Create, &obj, None, &d, now()));
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {}, "spec": {"ttlSecondsAfterFinished": null}});
        cases.push(mutation(Kind::Job, Operation::Create, &job, None, &d, now()));
        // Tokens with the characters a JSON Pointer escapes, and a value with quotes.
        cases.push(Mutation {
            applied: vec![Applied {
                field: "metadata.annotations.batchguard.io/keep".into(),
                path: vec!["metadata", "annotations", "batchguard.io/keep~x", "q\"uote"],
                op: PatchOp::Add,
                value: json!("a \"b\" \\ c\n"),
                warning: String::new(),
            }],
        });
        for m in cases {
            let expected = serde_json::to_vec(&m.patch()).expect("json");
            assert_eq!(
                String::from_utf8_lossy(&m.patch_json()),
                String::from_utf8_lossy(&expected)
            );
        }
    }

    #[test]
    fn evidence_keep_matches_the_last_key_or_the_dotted_path() {
        let annotated = |keep: &str| json!({"metadata": {"annotations": {KEEP_ANNOTATION: keep}}});
        let path = ["spec", "jobTemplate", "spec", "activeDeadlineSeconds"];
        for (keep, chose) in [
            ("activeDeadlineSeconds", true),
            ("spec.jobTemplate.spec.activeDeadlineSeconds", true),
            (" x , spec.jobTemplate.spec.activeDeadlineSeconds ", true),
            ("spec.jobTemplate.spec", false),
            ("spec.jobTemplate.spec.activeDeadlineSecondsX", false),
            ("spec.jobTemplate.specXactiveDeadlineSeconds", false),
            ("jobTemplate.spec.activeDeadlineSeconds", false),
            ("", false),
        ] {
            let object = annotated(keep);
            assert_eq!(Evidence::of(&object).chose(&path), chose, "{keep:?}");
        }
    }
}
