//! A Job's podFailurePolicy and successPolicy rules (`validatePodFailurePolicy`,
//! `validateSuccessPolicy` and their helpers), worded as v1.32 words them.

use std::collections::HashSet;

use serde_json::Value;

use super::names;
use crate::apiserver::field::{as_int, as_str, get, go_int32_slice, go_quoted_list, quote, Errs, FieldPath};
use crate::gocompat::atoi;
use crate::model::RuleId;

const MAX_POD_FAILURE_POLICY_RULES: usize = 20;
const MAX_EXIT_CODE_VALUES: usize = 255;
const MAX_POD_CONDITION_PATTERNS: usize = 20;
const MAX_SUCCEEDED_INDEXES_LENGTH: usize = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES: usize = 20;

pub(super) fn pod_failure_policy(spec: &Value, pfp: &Value, p: &FieldPath, errs: &mut Errs) {
    let rules_p = p.child("rules");
    let rules: &[Value] = get(pfp, &["rules"])
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if rules.len() > MAX_POD_FAILURE_POLICY_RULES {
        errs.too_many(
            RuleId::PodFailurePolicyRules,
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
                RuleId::PodFailurePolicyAction,
                &rp.child("action"),
                &format!("valid values: {}", go_quoted_list(&actions)),
            );
        } else if action == "FailIndex" {
            if !has_bli {
                errs.invalid(
                    RuleId::PodFailurePolicyAction,
                    &rp.child("action"),
                    &quote(action),
                    "requires the backoffLimitPerIndex to be set",
                );
            }
        } else if !actions.contains(&action) {
            errs.not_supported(
                RuleId::PodFailurePolicyAction,
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
                RuleId::PodFailurePolicyRule,
                &rp,
                "specifying both OnExitCodes and OnPodConditions is not supported",
            );
        }
        if on_exit.is_none() && conditions.is_empty() {
            errs.invalid_omit(
                RuleId::PodFailurePolicyRule,
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
            RuleId::PodFailurePolicyOperator,
            &p.child("operator"),
            &format!("valid values: {}", go_quoted_list(&ops)),
        );
    } else if !ops.contains(&op) {
        errs.not_supported(
            RuleId::PodFailurePolicyOperator,
            &p.child("operator"),
            &quote(op),
            &ops,
        );
    }
    if let Some(name) = as_str(get(oe, &["containerName"])) {
        if !containers.contains(name) {
            errs.invalid(
                RuleId::PodFailurePolicyContainerName,
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
            RuleId::PodFailurePolicyValues,
            &vp,
            &go_int32_slice(raw),
            "at least one value is required",
        );
    } else if values.len() > MAX_EXIT_CODE_VALUES {
        errs.too_many(
            RuleId::PodFailurePolicyValues,
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
                RuleId::PodFailurePolicyValues,
                &vp.index(j),
                "0",
                "must not be 0 for the In operator",
            );
        }
        if !seen.insert(*v) {
            errs.duplicate(RuleId::PodFailurePolicyValues, &vp.index(j), &v.to_string());
        }
        if j > 0 && values[j - 1] > *v {
            ordered = false;
        }
    }
    if !ordered {
        errs.invalid(
            RuleId::PodFailurePolicyValues,
            &vp,
            &go_int32_slice(raw),
            "must be ordered",
        );
    }
}

fn on_pod_conditions(conditions: &[Value], p: &FieldPath, errs: &mut Errs) {
    if conditions.len() > MAX_POD_CONDITION_PATTERNS {
        errs.too_many(
            RuleId::PodFailurePolicyConditions,
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
                RuleId::PodFailurePolicyConditionType,
                &cp.child("type"),
                &quote(t),
                &m,
            );
        }
        let status = as_str(get(c, &["status"])).unwrap_or_default();
        if status.is_empty() {
            errs.required(
                RuleId::PodFailurePolicyConditionStatus,
                &cp.child("status"),
                &format!("valid values: {}", go_quoted_list(&statuses)),
            );
        } else if !statuses.contains(&status) {
            errs.not_supported(
                RuleId::PodFailurePolicyConditionStatus,
                &cp.child("status"),
                &quote(status),
                &statuses,
            );
        }
    }
}

pub(super) fn success_policy(
    sp: &Value,
    completions: Option<i64>,
    p: &FieldPath,
    in_cronjob: bool,
    errs: &mut Errs,
) {
    let rules_p = p.child("rules");
    let rules: &[Value] = get(sp, &["rules"])
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if rules.is_empty() {
        errs.required(
            RuleId::SuccessPolicyRules,
            &rules_p,
            "at least one rules must be specified when the successPolicy is specified",
        );
    }
    if rules.len() > MAX_SUCCESS_POLICY_RULES {
        errs.too_many(
            RuleId::SuccessPolicyRules,
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
                RuleId::SuccessPolicyRule,
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
                    RuleId::ServerCrash,
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
                errs.too_long(RuleId::SuccessPolicyIndexes, &ip, MAX_SUCCEEDED_INDEXES_LENGTH);
            }
            match indexes_format(idx, completions) {
                Ok(t) => total = t,
                Err(e) => errs.invalid(
                    RuleId::SuccessPolicyIndexes,
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
                    RuleId::NegativeValue,
                    &cp,
                    &count.to_string(),
                    "must be greater than or equal to 0",
                );
            }
            if count > completions {
                errs.invalid(
                    RuleId::SuccessPolicyCount,
                    &cp,
                    &count.to_string(),
                    &format!(
                        "must be less than or equal to {completions} (the number of specified completions)"
                    ),
                );
            }
            if indexes.is_some() && count > total {
                errs.invalid(
                    RuleId::SuccessPolicyCount,
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
        let v = atoi_ok(part)
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

/// Go `strconv.Atoi`'s value, or `None` where it fails.
fn atoi_ok(s: &str) -> Option<i64> {
    atoi(s).ok()
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
