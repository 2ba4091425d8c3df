//! The Job rules of `pkg/apis/batch/validation/validation.go` (`ValidateJob`,
//! `validateJobSpec` and its helpers), in the order the API server appends causes.
//! `validate_job_spec` also serves CronJob job templates.

use serde_json::Value;

use super::job_policies::{pod_failure_policy, success_policy};
use super::job_update::spec_update;
use super::{meta, names};
use crate::apiserver::field::{
    as_bool, as_int, as_str, get, go_label_selector, go_string_map, go_success_policy, quote, Errs,
    FieldPath, SPEC,
};
use crate::apiserver::PLACEHOLDER_UID;
use crate::model::{Context, Operation, RuleId};

const MAX_PARALLELISM_INDEXED: i64 = 100_000;
const MAX_FAILED_INDEXES_INDEXED: i64 = 100_000;
const COMPLETIONS_SOFT_LIMIT: i64 = 100_000;
const PARALLELISM_LIMIT_HIGH_COMPLETIONS: i64 = 10_000;
const MAX_FAILED_INDEXES_HIGH_COMPLETIONS: i64 = 10_000;
const MAX_MANAGED_BY_LENGTH: usize = 63;

const LEGACY_JOB_NAME_LABEL: &str = "job-name";
const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";

/// `ValidateJob` (create), plus on update `ValidateJobUpdate`, which re-runs the spec rules:
/// the API server really reports spec errors twice on an update.
pub(crate) fn validate(job: &Value, ctx: &Context, errs: &mut Errs) {
    let meta_v = get(job, &["metadata"]).unwrap_or(&Value::Null);
    let spec = get(job, &["spec"]).unwrap_or(&Value::Null);
    let spec_p = FieldPath::root("spec");
    meta::object_meta(meta_v, errs);
    // `validationOptionsForJob`: on update the prefixed labels are required only if the
    // stored Job's template already had both (Jobs from before 1.27 carry only the legacy
    // ones). Upstream looks at the old template labels alone, not at the old selector.
    let require_prefixed = match (ctx.operation, ctx.old) {
        (Operation::Update, Some(old)) => {
            let old_label = |key| get(old, &["spec", "template", "metadata", "labels", key]).is_some();
            old_label(JOB_NAME_LABEL) && old_label(CONTROLLER_UID_LABEL)
        }
        _ => true,
    };
    generated_selector(job, require_prefixed, errs);
    job_spec_with_selector(spec, &spec_p, errs);
    indexed_hostname(job, errs);
    if ctx.operation == Operation::Update {
        if let Some(old) = ctx.old {
            name_immutable(job, old, errs);
            meta::object_meta_update(meta_v, errs);
            job_spec_with_selector(spec, &spec_p, errs);
            let never_started = get(old, &["status", "startTime"]).is_none();
            spec_update(
                spec,
                get(old, &["spec"]).unwrap_or(&Value::Null),
                never_started,
                &spec_p,
                errs,
            );
        }
    }
}

/// The object's UID. `prepare_for_create` gives an offline object the placeholder; an
/// object that has none yet (what a mutating webhook sees on create) gets it here too.
fn uid(job: &Value) -> &str {
    as_str(get(job, &["metadata", "uid"]))
        .filter(|s| !s.is_empty())
        .unwrap_or(PLACEHOLDER_UID)
}

fn name(obj: &Value) -> &str {
    as_str(get(obj, &["metadata", "name"])).unwrap_or_default()
}

/// `validateGeneratedSelector`: the generated labels are present and the selector is ours.
/// Without `require_prefixed` only the legacy `controller-uid`/`job-name` labels count.
fn generated_selector(job: &Value, require_prefixed: bool, errs: &mut Errs) {
    if as_bool(get(job, &["spec", "manualSelector"])) == Some(true) {
        return;
    }
    let Some(selector) = get(job, &["spec", "selector"]) else {
        return;
    };
    let uid = uid(job);
    let name = name(job);
    let tmpl_labels = get(job, &["spec", "template", "metadata", "labels"]);
    let template_p = SPEC.child("template");
    let metadata_p = template_p.child("metadata");
    let labels_p = metadata_p.child("labels");
    let checked: &[(&str, &str)] = if require_prefixed {
        &[
            (LEGACY_CONTROLLER_UID_LABEL, uid),
            (LEGACY_JOB_NAME_LABEL, name),
            (CONTROLLER_UID_LABEL, uid),
            (JOB_NAME_LABEL, name),
        ]
    } else {
        &[(LEGACY_CONTROLLER_UID_LABEL, uid), (LEGACY_JOB_NAME_LABEL, name)]
    };
    for &(key, want) in checked {
        let have = tmpl_labels.and_then(|l| l.as_object()).and_then(|l| l.get(key));
        match have {
            None => errs.required(
                RuleId::SelectorGeneratedLabel,
                &labels_p.key(key),
                &format!("must be '{want}'"),
            ),
            Some(v) if v.as_str() != Some(want) => errs.invalid(
                RuleId::SelectorGeneratedLabel,
                &labels_p.key(key),
                &go_string_map(tmpl_labels),
                &format!("must be '{want}'"),
            ),
            Some(_) => {}
        }
    }
    let expected: serde_json::Map<String, Value> = checked
        .iter()
        .map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string())))
        .collect();
    let expected = Value::Object(expected);
    if selector_valid(selector) && !meta::selector_matches(Some(selector), Some(&expected)) {
        errs.invalid(
            RuleId::SelectorNotAutoGenerated,
            &FieldPath::root("spec").child("selector"),
            &go_label_selector(selector),
            "`selector` not auto-generated",
        );
    }
}

fn selector_valid(selector: &Value) -> bool {
    let mut scratch = Errs::default();
    meta::label_selector(selector, &FieldPath::root("spec"), &mut scratch)
}

/// `ValidateJobSpec`: the spec rules, then the selector and its match with the template.
fn job_spec_with_selector(spec: &Value, p: &FieldPath, errs: &mut Errs) {
    validate_job_spec(spec, p, false, errs);
    let selector = get(spec, &["selector"]);
    let usable = match selector {
        None => {
            errs.required(RuleId::SelectorRequired, &p.child("selector"), "");
            true
        }
        Some(sel) => meta::label_selector(sel, &p.child("selector"), errs),
    };
    if usable {
        let labels = get(spec, &["template", "metadata", "labels"]);
        if !meta::selector_matches(selector, labels) {
            errs.invalid(
                RuleId::SelectorMismatch,
                &p.child("template").child("metadata").child("labels"),
                &go_string_map(labels),
                "`selector` does not match template `labels`",
            );
        }
    }
}

/// For an Indexed Job the last pod's hostname `<name>-<completions-1>` must be a DNS label.
fn indexed_hostname(job: &Value, errs: &mut Errs) {
    if as_str(get(job, &["spec", "completionMode"])) != Some("Indexed") {
        return;
    }
    let Some(completions) = as_int(get(job, &["spec", "completions"])).filter(|c| *c > 0) else {
        return;
    };
    let name = name(job);
    let host = format!("{name}-{}", completions - 1);
    if !names::dns1123_label(&host).is_empty() {
        errs.invalid(
            RuleId::InvalidIndexedHostname,
            &FieldPath::root("metadata").child("name"),
            &quote(name),
            &format!("will not able to create pod with invalid DNS label: {host}"),
        );
    }
}

/// `<key>: Invalid value: N: must be greater than or equal to 0` for a negative integer.
pub(super) fn non_negative(spec: &Value, key: &str, p: &FieldPath, errs: &mut Errs) {
    if let Some(v) = as_int(get(spec, &[key])) {
        if v < 0 {
            errs.invalid(
                RuleId::NegativeValue,
                &p.child(key),
                &v.to_string(),
                "must be greater than or equal to 0",
            );
        }
    }
}

/// `validateJobSpec`. `template_of_cronjob` is only used to word the crash finding.
pub(crate) fn validate_job_spec(spec: &Value, p: &FieldPath, template_of_cronjob: bool, errs: &mut Errs) {
    for key in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
    ] {
        non_negative(spec, key, p, errs);
    }
    let completions = as_int(get(spec, &["completions"]));
    let parallelism = as_int(get(spec, &["parallelism"]));
    let bli = as_int(get(spec, &["backoffLimitPerIndex"]));
    let mfi = as_int(get(spec, &["maxFailedIndexes"]));
    if mfi.is_some() {
        non_negative(spec, "maxFailedIndexes", p, errs);
        if bli.is_none() {
            errs.required(
                RuleId::BackoffLimitPerIndexRequired,
                &p.child("backoffLimitPerIndex"),
                "when maxFailedIndexes is specified",
            );
        }
    }
    if let Some(managed_by) = as_str(get(spec, &["managedBy"])) {
        let mp = p.child("managedBy");
        for e in names::domain_prefixed_path(managed_by) {
            match e {
                names::DomainPathError::Required => errs.required(RuleId::InvalidManagedBy, &mp, ""),
                names::DomainPathError::Invalid(v, m) => {
                    errs.invalid(RuleId::InvalidManagedBy, &mp, &quote(&v), &m)
                }
            }
        }
        if managed_by.len() > MAX_MANAGED_BY_LENGTH {
            errs.too_long(RuleId::InvalidManagedBy, &mp, MAX_MANAGED_BY_LENGTH);
        }
    }
    let mode = as_str(get(spec, &["completionMode"]));
    if let Some(mode) = mode {
        if mode != "NonIndexed" && mode != "Indexed" {
            errs.not_supported(
                RuleId::UnsupportedCompletionMode,
                &p.child("completionMode"),
                &quote(mode),
                &["NonIndexed", "Indexed"],
            );
        }
        if mode == "Indexed" {
            if completions.is_none() {
                errs.required(
                    RuleId::IndexedCompletionsRequired,
                    &p.child("completions"),
                    "when completion mode is Indexed",
                );
            }
            if let Some(par) = parallelism.filter(|v| *v > MAX_PARALLELISM_INDEXED) {
                errs.invalid(
                    RuleId::IndexedLimit,
                    &p.child("parallelism"),
                    &par.to_string(),
                    &format!("must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode is Indexed"),
                );
            }
            if let (Some(c), Some(m)) = (completions, mfi) {
                if m > c {
                    errs.invalid(
                        RuleId::IndexedLimit,
                        &p.child("maxFailedIndexes"),
                        &m.to_string(),
                        "must be less than or equal to completions",
                    );
                }
            }
            if let Some(m) = mfi.filter(|m| *m > MAX_FAILED_INDEXES_INDEXED) {
                errs.invalid(
                    RuleId::IndexedLimit,
                    &p.child("maxFailedIndexes"),
                    &m.to_string(),
                    &format!("must be less than or equal to {MAX_FAILED_INDEXES_INDEXED}"),
                );
            }
            if completions.is_some_and(|c| c > COMPLETIONS_SOFT_LIMIT) && bli.is_some() {
                let high = format!(
                    "when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"
                );
                if mfi.is_none() {
                    errs.required(
                        RuleId::MaxFailedIndexesRequired,
                        &p.child("maxFailedIndexes"),
                        &format!("must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}"),
                    );
                }
                if let Some(par) = parallelism.filter(|v| *v > PARALLELISM_LIMIT_HIGH_COMPLETIONS) {
                    errs.invalid(
                        RuleId::IndexedLimit,
                        &p.child("parallelism"),
                        &par.to_string(),
                        &format!("must be less than or equal to {PARALLELISM_LIMIT_HIGH_COMPLETIONS} {high}"),
                    );
                }
                if let Some(m) = mfi.filter(|m| *m > MAX_FAILED_INDEXES_HIGH_COMPLETIONS) {
                    errs.invalid(
                        RuleId::IndexedLimit,
                        &p.child("maxFailedIndexes"),
                        &m.to_string(),
                        &format!(
                            "must be less than or equal to {MAX_FAILED_INDEXES_HIGH_COMPLETIONS} {high}"
                        ),
                    );
                }
            }
        }
    }
    if mode.is_none() || mode == Some("NonIndexed") {
        if let Some(b) = bli {
            errs.invalid(
                RuleId::RequiresIndexedMode,
                &p.child("backoffLimitPerIndex"),
                &b.to_string(),
                "requires indexed completion mode",
            );
        }
        if let Some(m) = mfi {
            errs.invalid(
                RuleId::RequiresIndexedMode,
                &p.child("maxFailedIndexes"),
                &m.to_string(),
                "requires indexed completion mode",
            );
        }
    }
    let pfp = get(spec, &["podFailurePolicy"]);
    if let Some(pfp) = pfp {
        pod_failure_policy(spec, pfp, &p.child("podFailurePolicy"), errs);
    }
    if let Some(sp) = get(spec, &["successPolicy"]) {
        if mode != Some("Indexed") {
            errs.invalid(
                RuleId::SuccessPolicyRequiresIndexed,
                &p.child("successPolicy"),
                &go_success_policy(sp),
                "requires indexed completion mode",
            );
        } else {
            success_policy(
                sp,
                completions,
                &p.child("successPolicy"),
                template_of_cronjob,
                errs,
            );
        }
    }
    if let Some(prp) = as_str(get(spec, &["podReplacementPolicy"])) {
        let pp = p.child("podReplacementPolicy");
        if pfp.is_some() {
            if prp != "Failed" {
                errs.not_supported(
                    RuleId::UnsupportedPodReplacementPolicy,
                    &pp,
                    &quote(prp),
                    &["Failed"],
                );
            }
        } else if prp != "Failed" && prp != "TerminatingOrFailed" {
            errs.not_supported(
                RuleId::UnsupportedPodReplacementPolicy,
                &pp,
                &quote(prp),
                &["Failed", "TerminatingOrFailed"],
            );
        }
    }
    let template = get(spec, &["template"]).unwrap_or(&Value::Null);
    let template_p = p.child("template");
    pod_template(template, &template_p, errs);
    let rp = as_str(get(template, &["spec", "restartPolicy"])).unwrap_or_default();
    let pod_spec_p = template_p.child("spec");
    let rp_p = pod_spec_p.child("restartPolicy");
    if rp == "Always" || rp.is_empty() {
        errs.required(
            RuleId::RestartPolicyRequired,
            &rp_p,
            "valid values: \"OnFailure\", \"Never\"",
        );
    } else if rp != "OnFailure" && rp != "Never" {
        errs.not_supported(
            RuleId::UnsupportedRestartPolicy,
            &rp_p,
            &quote(rp),
            &["OnFailure", "Never"],
        );
    } else if pfp.is_some() && rp != "Never" {
        errs.invalid(
            RuleId::RestartPolicyWithPodFailurePolicy,
            &rp_p,
            &quote(rp),
            "only \"Never\" is supported when podFailurePolicy is specified",
        );
    }
}

/// `ValidatePodTemplateSpec` (see [`super::pod`]).
fn pod_template(template: &Value, p: &FieldPath, errs: &mut Errs) {
    super::pod::validate_template(template, p, errs);
}

/// `metadata.name: Invalid value: "<new>": field is immutable` when an update renames.
pub(super) fn name_immutable(new: &Value, old: &Value, errs: &mut Errs) {
    let (n, o) = (name(new), name(old));
    if n != o {
        errs.invalid(
            RuleId::ImmutableField,
            &FieldPath::root("metadata").child("name"),
            &quote(n),
            "field is immutable",
        );
    }
}
