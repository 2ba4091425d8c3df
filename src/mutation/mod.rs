//! The mutation: which defaults `/mutate` adds to a Job or CronJob, as a JSON Patch.
//!
//! The API server defaults an object before any webhook sees it, so a CronJob always arrives
//! with `concurrencyPolicy: Allow` and history limits 3/1. A value still at its API default
//! counts as unset unless the request itself shows the user chose it ([`Evidence`]); an
//! explicit non-default value is never touched. Everything here is pure: the object (and on
//! update the stored object), the policy's `defaults:` section and "now" in, a patch out.

use chrono::{DateTime, Utc};
use json_patch::jsonptr::Pointer;
use json_patch::{AddOperation, Patch, PatchOperation, ReplaceOperation};
use serde_json::{Map, Value};

mod deadline;
mod evidence;
pub mod offline;

use crate::model::{Kind, Operation};
use crate::policy::{CronJobDefaults, Defaults, JobDefaults, KEEP_ANNOTATION};
use deadline::active_deadline;

pub use deadline::SCHEDULE_RUNS;
pub use evidence::{Evidence, LAST_APPLIED_ANNOTATION};

/// One default the mutation applied: one operation of the JSON Patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The field as the API server prints paths (`spec.concurrencyPolicy`).
    pub field: &'static str,
    /// The field's path, one token per key.
    pub path: &'static [&'static str],
    /// The same path as a JSON Pointer.
    pub pointer: &'static Pointer,
    /// `add` where the key was absent, `replace` where it held a value.
    pub op: PatchOp,
    /// The value set.
    pub value: Value,
    /// `<field>=<value><why and how to opt out>`, what the warnings say about it.
    pub detail: String,
}

impl Applied {
    /// What `response.warnings` says about this default: `batchguard set <detail>` when the
    /// patch sets it, `batchguard warn mode: would set <detail>` when nothing is changed.
    pub fn warning(&self, applied: bool) -> String {
        let head = if applied {
            "batchguard set "
        } else {
            "batchguard warn mode: would set "
        };
        let mut out = String::with_capacity(head.len() + self.detail.len());
        out.push_str(head);
        out.push_str(&self.detail);
        out
    }
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
                    let path = a.pointer.to_buf();
                    let value = a.value.clone();
                    match a.op {
                        PatchOp::Add => PatchOperation::Add(AddOperation { path, value }),
                        PatchOp::Replace => PatchOperation::Replace(ReplaceOperation { path, value }),
                    }
                })
                .collect(),
        )
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

/// A field the mutation may set: its path, one token per key, and its printed name (also
/// the `field` label of the patches metric, so a fixed set of static names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub path: &'static [&'static str],
    pub field: &'static str,
    /// The path as a JSON Pointer, checked when compiled (`Pointer::from_static`).
    pub pointer: &'static Pointer,
}

const CONCURRENCY_POLICY: Target = Target {
    path: &["spec", "concurrencyPolicy"],
    field: "spec.concurrencyPolicy",
    pointer: Pointer::from_static("/spec/concurrencyPolicy"),
};
const SUCCESSFUL_HISTORY: Target = Target {
    path: &["spec", "successfulJobsHistoryLimit"],
    field: "spec.successfulJobsHistoryLimit",
    pointer: Pointer::from_static("/spec/successfulJobsHistoryLimit"),
};
const FAILED_HISTORY: Target = Target {
    path: &["spec", "failedJobsHistoryLimit"],
    field: "spec.failedJobsHistoryLimit",
    pointer: Pointer::from_static("/spec/failedJobsHistoryLimit"),
};
const STARTING_DEADLINE: Target = Target {
    path: &["spec", "startingDeadlineSeconds"],
    field: "spec.startingDeadlineSeconds",
    pointer: Pointer::from_static("/spec/startingDeadlineSeconds"),
};
const TEMPLATE_ACTIVE_DEADLINE: Target = Target {
    path: &["spec", "jobTemplate", "spec", "activeDeadlineSeconds"],
    field: "spec.jobTemplate.spec.activeDeadlineSeconds",
    pointer: Pointer::from_static("/spec/jobTemplate/spec/activeDeadlineSeconds"),
};
const TTL: Target = Target {
    path: &["spec", "ttlSecondsAfterFinished"],
    field: "spec.ttlSecondsAfterFinished",
    pointer: Pointer::from_static("/spec/ttlSecondsAfterFinished"),
};
const ACTIVE_DEADLINE: Target = Target {
    path: &["spec", "activeDeadlineSeconds"],
    field: "spec.activeDeadlineSeconds",
    pointer: Pointer::from_static("/spec/activeDeadlineSeconds"),
};

/// Every field the mutation may set.
#[cfg(test)]
const TARGETS: [Target; 7] = [
    CONCURRENCY_POLICY,
    SUCCESSFUL_HISTORY,
    FAILED_HISTORY,
    STARTING_DEADLINE,
    TEMPLATE_ACTIVE_DEADLINE,
    TTL,
    ACTIVE_DEADLINE,
];

/// A field with an API default that batchguard replaces (`concurrencyPolicy: Allow`).
struct Defaulted<'a> {
    target: Target,
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
            target: CONCURRENCY_POLICY,
            api_default: Value::from("Allow"),
            configured: d.concurrency_policy.clone().map(Value::from),
            shown_default: "Allow",
        },
        Defaulted {
            target: SUCCESSFUL_HISTORY,
            api_default: Value::from(3),
            configured: d.successful_jobs_history_limit.map(Value::from),
            shown_default: "3",
        },
        Defaulted {
            target: FAILED_HISTORY,
            api_default: Value::from(1),
            configured: d.failed_jobs_history_limit.map(Value::from),
            shown_default: "1",
        },
    ];
    for field in replaced {
        replace_api_default(spec, old_spec, evidence, &field, out);
    }

    if let Some(configured) = d.starting_deadline_seconds {
        let ours_before = old_spec.map(|o| same_int(o.get("startingDeadlineSeconds"), configured));
        fill_absent(
            spec,
            STARTING_DEADLINE,
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
        TEMPLATE_ACTIVE_DEADLINE,
        Value::from(wanted.seconds),
        ours_before,
        evidence,
        wanted.why.as_deref(),
        out,
    );
}

fn job(spec: &Map<String, Value>, evidence: &Evidence, d: &JobDefaults, out: &mut Mutation) {
    if let Some(ttl) = d.ttl_seconds_after_finished {
        fill_absent(spec, TTL, Value::from(ttl), None, evidence, None, out);
    }
    if let Some(deadline) = d.active_deadline_seconds.filter(|s| *s > 0) {
        fill_absent(
            spec,
            ACTIVE_DEADLINE,
            Value::from(deadline),
            None,
            evidence,
            None,
            out,
        );
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
    let key = field.target.path[field.target.path.len() - 1];
    let current = spec.get(key);
    let unset = match current {
        None | Some(Value::Null) => true,
        Some(v) => *v == field.api_default,
    };
    if !unset {
        return;
    }
    if evidence.chose(field.target.path) {
        return;
    }
    if let Some(old) = old_spec {
        if old.get(key) != Some(configured) {
            return;
        }
    }
    let d = field.shown_default;
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
    push(out, field.target, current.is_some(), configured.clone(), text);
}

/// Adds a field that has no API default when it is absent, unless the user opted out; on
/// update (`ours_before` is `Some`) only when the stored object had batchguard's value.
fn fill_absent(
    parent: &Map<String, Value>,
    target: Target,
    value: Value,
    ours_before: Option<bool>,
    evidence: &Evidence,
    why: Option<&str>,
    out: &mut Mutation,
) {
    let Some(key) = target.path.last() else {
        return;
    };
    let current = parent.get(*key);
    if current.is_some_and(|v| !v.is_null()) {
        return;
    }
    if ours_before == Some(false) || evidence.chose(target.path) {
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
    push(out, target, current.is_some(), value, &text);
}

/// Records one default: the patch operation, and the detail `<field>=<value><text…>` of its
/// warning, built by concatenation because this runs on every `/mutate` that patches (see
/// "Why the code is shaped so" in docs/server.md).
fn push(out: &mut Mutation, target: Target, exists: bool, value: Value, text: &[&str]) {
    let field = target.field;
    let shown = match &value {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    let mut detail =
        String::with_capacity(1 + field.len() + shown.len() + text.iter().map(|t| t.len()).sum::<usize>());
    detail.push_str(field);
    detail.push('=');
    detail.push_str(&shown);
    for t in text {
        detail.push_str(t);
    }
    out.applied.push(Applied {
        detail,
        field,
        path: target.path,
        pointer: target.pointer,
        op: if exists { PatchOp::Replace } else { PatchOp::Add },
        value,
    });
}

fn same_int(v: Option<&Value>, want: i64) -> bool {
    v.and_then(Value::as_i64) == Some(want)
}

#[cfg(test)]
mod tests;
