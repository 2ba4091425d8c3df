//! The Job rules of `pkg/apis/batch/validation/validation.go` (`ValidateJob`,
//! `validateJobSpec` and its helpers), in the order the API server appends causes.
//! `validate_job_spec` also serves CronJob job templates.

use std::collections::HashSet;

use serde_json::Value;

use super::field::{
    as_bool, as_int, as_str, get, go_int32_slice, go_label_selector, go_pod_failure_policy, go_quoted_list,
    go_string_map, go_success_policy, quote, semantic_eq, Errs, FieldPath, SPEC,
};
use super::{meta, names, Context, Operation};
use crate::apidefaults::PLACEHOLDER_UID;

const MAX_PARALLELISM_INDEXED: i64 = 100_000;
const MAX_FAILED_INDEXES_INDEXED: i64 = 100_000;
const COMPLETIONS_SOFT_LIMIT: i64 = 100_000;
const PARALLELISM_LIMIT_HIGH_COMPLETIONS: i64 = 10_000;
const MAX_FAILED_INDEXES_HIGH_COMPLETIONS: i64 = 10_000;
const MAX_POD_FAILURE_POLICY_RULES: usize = 20;
const MAX_EXIT_CODE_VALUES: usize = 255;
const MAX_POD_CONDITION_PATTERNS: usize = 20;
const MAX_MANAGED_BY_LENGTH: usize = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH: usize = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES: usize = 20;

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
                "selector-generated-label",
                &labels_p.key(key),
                &format!("must be '{want}'"),
            ),
            Some(v) if v.as_str() != Some(want) => errs.invalid(
                "selector-generated-label",
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
            "selector-not-auto-generated",
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
            errs.required("selector-required", &p.child("selector"), "");
            true
        }
        Some(sel) => meta::label_selector(sel, &p.child("selector"), errs),
    };
    if usable {
        let labels = get(spec, &["template", "metadata", "labels"]);
        if !meta::selector_matches(selector, labels) {
            errs.invalid(
                "selector-mismatch",
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
            "invalid-indexed-hostname",
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
                "negative-value",
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
                "backoff-limit-per-index-required",
                &p.child("backoffLimitPerIndex"),
                "when maxFailedIndexes is specified",
            );
        }
    }
    if let Some(managed_by) = as_str(get(spec, &["managedBy"])) {
        let mp = p.child("managedBy");
        for e in names::domain_prefixed_path(managed_by) {
            match e {
                names::DomainPathError::Required => errs.required("invalid-managed-by", &mp, ""),
                names::DomainPathError::Invalid(v, m) => {
                    errs.invalid("invalid-managed-by", &mp, &quote(&v), &m)
                }
            }
        }
        if managed_by.len() > MAX_MANAGED_BY_LENGTH {
            errs.too_long("invalid-managed-by", &mp, MAX_MANAGED_BY_LENGTH);
        }
    }
    let mode = as_str(get(spec, &["completionMode"]));
    if let Some(mode) = mode {
        if mode != "NonIndexed" && mode != "Indexed" {
            errs.not_supported(
                "unsupported-completion-mode",
                &p.child("completionMode"),
                &quote(mode),
                &["NonIndexed", "Indexed"],
            );
        }
        if mode == "Indexed" {
            if completions.is_none() {
                errs.required(
                    "indexed-completions-required",
                    &p.child("completions"),
                    "when completion mode is Indexed",
                );
            }
            if let Some(par) = parallelism.filter(|v| *v > MAX_PARALLELISM_INDEXED) {
                errs.invalid(
                    "indexed-limit",
                    &p.child("parallelism"),
                    &par.to_string(),
                    &format!("must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode is Indexed"),
                );
            }
            if let (Some(c), Some(m)) = (completions, mfi) {
                if m > c {
                    errs.invalid(
                        "indexed-limit",
                        &p.child("maxFailedIndexes"),
                        &m.to_string(),
                        "must be less than or equal to completions",
                    );
                }
            }
            if let Some(m) = mfi.filter(|m| *m > MAX_FAILED_INDEXES_INDEXED) {
                errs.invalid(
                    "indexed-limit",
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
                        "max-failed-indexes-required",
                        &p.child("maxFailedIndexes"),
                        &format!("must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}"),
                    );
                }
                if let Some(par) = parallelism.filter(|v| *v > PARALLELISM_LIMIT_HIGH_COMPLETIONS) {
                    errs.invalid(
                        "indexed-limit",
                        &p.child("parallelism"),
                        &par.to_string(),
                        &format!("must be less than or equal to {PARALLELISM_LIMIT_HIGH_COMPLETIONS} {high}"),
                    );
                }
                if let Some(m) = mfi.filter(|m| *m > MAX_FAILED_INDEXES_HIGH_COMPLETIONS) {
                    errs.invalid(
                        "indexed-limit",
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
                "requires-indexed-mode",
                &p.child("backoffLimitPerIndex"),
                &b.to_string(),
                "requires indexed completion mode",
            );
        }
        if let Some(m) = mfi {
            errs.invalid(
                "requires-indexed-mode",
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
                "success-policy-requires-indexed",
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
                    "unsupported-pod-replacement-policy",
                    &pp,
                    &quote(prp),
                    &["Failed"],
                );
            }
        } else if prp != "Failed" && prp != "TerminatingOrFailed" {
            errs.not_supported(
                "unsupported-pod-replacement-policy",
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
            "restart-policy-required",
            &rp_p,
            "valid values: \"OnFailure\", \"Never\"",
        );
    } else if rp != "OnFailure" && rp != "Never" {
        errs.not_supported(
            "unsupported-restart-policy",
            &rp_p,
            &quote(rp),
            &["OnFailure", "Never"],
        );
    } else if pfp.is_some() && rp != "Never" {
        errs.invalid(
            "restart-policy-with-pod-failure-policy",
            &rp_p,
            &quote(rp),
            "only \"Never\" is supported when podFailurePolicy is specified",
        );
    }
}

fn pod_failure_policy(spec: &Value, pfp: &Value, p: &FieldPath, errs: &mut Errs) {
    let rules_p = p.child("rules");
    let rules: &[Value] = get(pfp, &["rules"])
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if rules.len() > MAX_POD_FAILURE_POLICY_RULES {
        errs.too_many(
            "pod-failure-policy-rules",
            &rules_p,
            rules.len(),
            MAX_POD_FAILURE_POLICY_RULES,
        );
    }
    let mut containers: HashSet<&str> = HashSet::new();
    for key in ["containers", "initContainers"] {
        if let Some(list) = get(spec, &["template", "spec", key]).and_then(Value::as_array) {
            containers.extend(list.iter().map(|c| as_str(get(c, &["name"])).unwrap_or_default()));
        }
    }
    let has_bli = get(spec, &["backoffLimitPerIndex"]).is_some();
    for (i, rule) in rules.iter().enumerate() {
        let rp = rules_p.index(i);
        let action = as_str(get(rule, &["action"])).unwrap_or_default();
        let actions = ["Count", "FailIndex", "FailJob", "Ignore"];
        if action.is_empty() {
            errs.required(
                "pod-failure-policy-action",
                &rp.child("action"),
                &format!("valid values: {}", go_quoted_list(&actions)),
            );
        } else if action == "FailIndex" {
            if !has_bli {
                errs.invalid(
                    "pod-failure-policy-action",
                    &rp.child("action"),
                    &quote(action),
                    "requires the backoffLimitPerIndex to be set",
                );
            }
        } else if !actions.contains(&action) {
            errs.not_supported(
                "pod-failure-policy-action",
                &rp.child("action"),
                &quote(action),
                &actions,
            );
        }
        let on_exit = get(rule, &["onExitCodes"]);
        let conditions: &[Value] = get(rule, &["onPodConditions"])
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        if let Some(oe) = on_exit {
            on_exit_codes(oe, &rp.child("onExitCodes"), &containers, errs);
        }
        if !conditions.is_empty() {
            on_pod_conditions(conditions, &rp.child("onPodConditions"), errs);
        }
        if on_exit.is_some() && !conditions.is_empty() {
            errs.invalid_omit(
                "pod-failure-policy-rule",
                &rp,
                "specifying both OnExitCodes and OnPodConditions is not supported",
            );
        }
        if on_exit.is_none() && conditions.is_empty() {
            errs.invalid_omit(
                "pod-failure-policy-rule",
                &rp,
                "specifying one of OnExitCodes and OnPodConditions is required",
            );
        }
    }
}

fn on_exit_codes(oe: &Value, p: &FieldPath, containers: &HashSet<&str>, errs: &mut Errs) {
    let op = as_str(get(oe, &["operator"])).unwrap_or_default();
    let ops = ["In", "NotIn"];
    if op.is_empty() {
        errs.required(
            "pod-failure-policy-operator",
            &p.child("operator"),
            &format!("valid values: {}", go_quoted_list(&ops)),
        );
    } else if !ops.contains(&op) {
        errs.not_supported(
            "pod-failure-policy-operator",
            &p.child("operator"),
            &quote(op),
            &ops,
        );
    }
    if let Some(name) = as_str(get(oe, &["containerName"])) {
        if !containers.contains(name) {
            errs.invalid(
                "pod-failure-policy-container-name",
                &p.child("containerName"),
                &quote(name),
                "must be one of the container or initContainer names in the pod template",
            );
        }
    }
    let vp = p.child("values");
    let raw = get(oe, &["values"]);
    let values: Vec<i64> = raw
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| as_int(Some(v)).unwrap_or_default()).collect())
        .unwrap_or_default();
    if values.is_empty() {
        errs.invalid(
            "pod-failure-policy-values",
            &vp,
            &go_int32_slice(raw),
            "at least one value is required",
        );
    } else if values.len() > MAX_EXIT_CODE_VALUES {
        errs.too_many(
            "pod-failure-policy-values",
            &vp,
            values.len(),
            MAX_EXIT_CODE_VALUES,
        );
    }
    let mut ordered = true;
    let mut seen = HashSet::new();
    for (j, v) in values.iter().enumerate() {
        if op == "In" && *v == 0 {
            errs.invalid(
                "pod-failure-policy-values",
                &vp.index(j),
                "0",
                "must not be 0 for the In operator",
            );
        }
        if !seen.insert(*v) {
            errs.duplicate("pod-failure-policy-values", &vp.index(j), &v.to_string());
        }
        if j > 0 && values[j - 1] > *v {
            ordered = false;
        }
    }
    if !ordered {
        errs.invalid(
            "pod-failure-policy-values",
            &vp,
            &go_int32_slice(raw),
            "must be ordered",
        );
    }
}

fn on_pod_conditions(conditions: &[Value], p: &FieldPath, errs: &mut Errs) {
    if conditions.len() > MAX_POD_CONDITION_PATTERNS {
        errs.too_many(
            "pod-failure-policy-conditions",
            p,
            conditions.len(),
            MAX_POD_CONDITION_PATTERNS,
        );
    }
    let statuses = ["False", "True", "Unknown"];
    for (j, c) in conditions.iter().enumerate() {
        let cp = p.index(j);
        let t = as_str(get(c, &["type"])).unwrap_or_default();
        for m in names::qualified_name(t) {
            errs.invalid(
                "pod-failure-policy-condition-type",
                &cp.child("type"),
                &quote(t),
                &m,
            );
        }
        let status = as_str(get(c, &["status"])).unwrap_or_default();
        if status.is_empty() {
            errs.required(
                "pod-failure-policy-condition-status",
                &cp.child("status"),
                &format!("valid values: {}", go_quoted_list(&statuses)),
            );
        } else if !statuses.contains(&status) {
            errs.not_supported(
                "pod-failure-policy-condition-status",
                &cp.child("status"),
                &quote(status),
                &statuses,
            );
        }
    }
}

fn success_policy(sp: &Value, completions: Option<i64>, p: &FieldPath, in_cronjob: bool, errs: &mut Errs) {
    let rules_p = p.child("rules");
    let rules: &[Value] = get(sp, &["rules"])
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if rules.is_empty() {
        errs.required(
            "success-policy-rules",
            &rules_p,
            "at least one rules must be specified when the successPolicy is specified",
        );
    }
    if rules.len() > MAX_SUCCESS_POLICY_RULES {
        errs.too_many(
            "success-policy-rules",
            &rules_p,
            rules.len(),
            MAX_SUCCESS_POLICY_RULES,
        );
    }
    for (i, rule) in rules.iter().enumerate() {
        let rp = rules_p.index(i);
        let indexes = as_str(get(rule, &["succeededIndexes"]));
        let count = as_int(get(rule, &["succeededCount"]));
        if indexes.is_none() && count.is_none() {
            errs.required(
                "success-policy-rule",
                &rp,
                "at least one of succeededCount or succeededIndexes must be specified",
            );
        }
        let Some(completions) = completions else {
            if indexes.is_some() || count.is_some() {
                // Upstream dereferences the nil completions here and the request dies.
                let hint = if in_cronjob {
                    "set completions in the job template"
                } else {
                    "set completions"
                };
                errs.invalid_omit(
                    "server-crash",
                    &rp,
                    &format!(
                        "a successPolicy rule on an Indexed job without completions crashes the real API server (v1.32 panics and drops the request with no response); {hint}"
                    ),
                );
                return;
            }
            continue;
        };
        let mut total = 0i64;
        if let Some(idx) = indexes {
            let ip = rp.child("succeededIndexes");
            if idx.len() > MAX_SUCCEEDED_INDEXES_LENGTH {
                errs.too_long("success-policy-indexes", &ip, MAX_SUCCEEDED_INDEXES_LENGTH);
            }
            match indexes_format(idx, completions) {
                Ok(t) => total = t,
                Err(e) => errs.invalid(
                    "success-policy-indexes",
                    &ip,
                    &quote(idx),
                    &format!("error parsing succeededIndexes: {e}"),
                ),
            }
        }
        if let Some(count) = count {
            let cp = rp.child("succeededCount");
            if count < 0 {
                errs.invalid(
                    "negative-value",
                    &cp,
                    &count.to_string(),
                    "must be greater than or equal to 0",
                );
            }
            if count > completions {
                errs.invalid(
                    "success-policy-count",
                    &cp,
                    &count.to_string(),
                    &format!(
                        "must be less than or equal to {completions} (the number of specified completions)"
                    ),
                );
            }
            if indexes.is_some() && count > total {
                errs.invalid(
                    "success-policy-count",
                    &cp,
                    &count.to_string(),
                    &format!(
                        "must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)"
                    ),
                );
            }
        }
    }
}

/// Go `strconv.Atoi`: optional sign, ASCII digits, 64-bit range.
fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// `validateIndexesFormat`: returns the number of indexes or the reason, worded as upstream.
/// Each interval is parsed whole (`parseIndexInterval`) before it is compared with the
/// previous one, so `3,2-a` fails on `"a"` and `3,1-9` (completions 5) on `"9"`.
fn indexes_format(s: &str, completions: i64) -> Result<i64, String> {
    if s.is_empty() {
        return Ok(0);
    }
    let mut last: Option<i64> = None;
    let mut total = 0i64;
    for interval in s.split(',') {
        let (x, y) = index_interval(interval, completions)?;
        if let Some(l) = last.filter(|l| *l >= x) {
            return Err(format!("non-increasing order, previous: {l}, current: {x}"));
        }
        total += y - x + 1;
        last = Some(y);
    }
    Ok(total)
}

/// `parseIndexInterval`: `a` or `a-b`, each below completions, `a < b`.
fn index_interval(interval: &str, completions: i64) -> Result<(i64, i64), String> {
    let limits: Vec<&str> = interval.split('-').collect();
    if limits.len() > 2 {
        return Err(format!(
            "the fragment {} violates the requirement that an index interval can have at most two parts separated by '-'",
            quote(interval)
        ));
    }
    let parse = |part: &str| -> Result<i64, String> {
        let v = atoi(part)
            .ok_or_else(|| format!("cannot convert string to integer for index: {}", quote(part)))?;
        if v >= completions {
            return Err(format!("too large index: {}", quote(part)));
        }
        Ok(v)
    };
    let x = parse(limits[0])?;
    let Some(second) = limits.get(1) else {
        return Ok((x, x));
    };
    let y = parse(second)?;
    if x >= y {
        return Err(format!("non-increasing order, previous: {x}, current: {y}"));
    }
    Ok((x, y))
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
            "immutable-field",
            &FieldPath::root("metadata").child("name"),
            &quote(n),
            "field is immutable",
        );
    }
}

/// `ValidateJobSpecUpdate`'s immutability rules (`ValidateImmutableField` compares with
/// `equality.Semantic`, see [`semantic_eq`]). The selector, podFailurePolicy and
/// successPolicy are printed in Go syntax as v1.32 does (pointers as a stand-in address);
/// the template as JSON, so only the detail text is exact for it.
fn spec_update(spec: &Value, old: &Value, never_started: bool, p: &FieldPath, errs: &mut Errs) {
    let render = |key: &str| -> String {
        match get(spec, &[key]) {
            None => "null".to_string(),
            Some(Value::String(s)) => quote(s),
            Some(v) if key == "selector" => go_label_selector(v),
            Some(v) if key == "successPolicy" => go_success_policy(v),
            Some(v) if key == "podFailurePolicy" => go_pod_failure_policy(v),
            Some(other) => other.to_string(),
        }
    };
    let changed = |key: &str| !semantic_eq(get(spec, &[key]), get(old, &[key]));
    let indexed = as_str(get(spec, &["completionMode"])) == Some("Indexed");
    if changed("completions") {
        let c = as_int(get(spec, &["completions"]));
        if !indexed {
            errs.invalid(
                "immutable-field",
                &p.child("completions"),
                &render("completions"),
                "field is immutable",
            );
        } else if let Some(c) = c {
            if Some(c) != as_int(get(spec, &["parallelism"])) {
                errs.invalid(
                    "immutable-field",
                    &p.child("completions"),
                    &c.to_string(),
                    "can only be modified in tandem with spec.parallelism",
                );
            }
        }
    }
    if changed("selector") {
        errs.invalid(
            "immutable-field",
            &p.child("selector"),
            &render("selector"),
            "field is immutable",
        );
    }
    if template_changed(spec, old, never_started) {
        errs.invalid(
            "immutable-field",
            &p.child("template"),
            &render("template"),
            "field is immutable",
        );
    }
    for key in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        if changed(key) {
            errs.invalid(
                "immutable-field",
                &p.child(key),
                &render(key),
                "field is immutable",
            );
        }
    }
}

/// The template is immutable, except scheduling directives and template labels and
/// annotations of a suspended Job that never started (`AllowMutableSchedulingDirectives`).
fn template_changed(spec: &Value, old: &Value, never_started: bool) -> bool {
    let mut new_t = get(spec, &["template"]).cloned().unwrap_or(Value::Null);
    let mut old_t = get(old, &["template"]).cloned().unwrap_or(Value::Null);
    if never_started && as_bool(get(old, &["suspend"])) == Some(true) {
        for t in [&mut new_t, &mut old_t] {
            if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("labels");
                m.remove("annotations");
            }
            if let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) {
                s.remove("nodeSelector");
                s.remove("tolerations");
                s.remove("schedulingGates");
                if let Some(a) = s.get_mut("affinity").and_then(Value::as_object_mut) {
                    a.remove("nodeAffinity");
                }
                if s.get("affinity")
                    .and_then(Value::as_object)
                    .is_some_and(|a| a.is_empty())
                {
                    s.remove("affinity");
                }
            }
        }
    }
    !semantic_eq(Some(&new_t), Some(&old_t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_succeeded_indexes_like_upstream() {
        assert_eq!(indexes_format("0,2-4", 5), Ok(4));
        assert_eq!(indexes_format("", 5), Ok(0));
        assert_eq!(
            indexes_format("0-", 5),
            Err("cannot convert string to integer for index: \"\"".to_string())
        );
        assert_eq!(
            indexes_format("1-2-3", 5),
            Err("the fragment \"1-2-3\" violates the requirement that an index interval can have at most two parts separated by '-'".to_string())
        );
        assert_eq!(
            indexes_format("0-5", 5),
            Err("too large index: \"5\"".to_string())
        );
        assert_eq!(
            indexes_format("0-2,1", 5),
            Err("non-increasing order, previous: 2, current: 1".to_string())
        );
        assert_eq!(
            indexes_format("1-1", 5),
            Err("non-increasing order, previous: 1, current: 1".to_string())
        );
        assert_eq!(indexes_format("+1", 5), Ok(1));
    }

    /// validation.go `validateIndexesFormat` calls `parseIndexInterval` on the whole
    /// interval before comparing it with the previous one.
    #[test]
    fn parses_each_index_interval_before_checking_the_order() {
        assert_eq!(
            indexes_format("3,1-a", 5),
            Err("cannot convert string to integer for index: \"a\"".to_string())
        );
        assert_eq!(
            indexes_format("3,1-9", 5),
            Err("too large index: \"9\"".to_string())
        );
        assert_eq!(
            indexes_format("3,2-1", 5),
            Err("non-increasing order, previous: 2, current: 1".to_string())
        );
        assert_eq!(
            indexes_format("1-3,3", 5),
            Err("non-increasing order, previous: 3, current: 3".to_string())
        );
        assert_eq!(indexes_format("0,2-4", 5), Ok(4));
    }
}
