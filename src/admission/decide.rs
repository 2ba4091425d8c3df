//! What each webhook decides about one object: `/validate` judges, then demotes to warnings
//! what must not deny (warn mode, batchguard's own rules on controller-owned objects, and on
//! UPDATE what the stored object already violated); `/mutate` computes the defaults patch.

use std::collections::HashSet;

use json_patch::Patch;
use serde_json::Value;

use super::{Checker, Env, Verdict};
use crate::apiserver::{Cause, Status};
use crate::model::{Context, Finding, Kind, Operation, Origin, RuleId, Severity};
use crate::policy::{Mode, Policy, IGNORE_ANNOTATION};

/// What one webhook decided, before it is written out.
#[derive(Debug)]
pub(super) struct Decision {
    pub verdict: Verdict,
    pub warnings: Vec<String>,
    /// `Some` denies.
    pub status: Option<Status>,
    pub patch: Option<Patch>,
    /// The fields the patch sets (`spec.concurrencyPolicy`), for the patches-by-field metric.
    pub patched_fields: Vec<&'static str>,
}

impl Decision {
    fn allowed() -> Decision {
        Decision {
            verdict: Verdict::Allowed,
            warnings: Vec::new(),
            status: None,
            patch: None,
            patched_fields: Vec::new(),
        }
    }
}

/// Why an error finding did not deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Demoted {
    WarnMode,
    Controller,
    PreExisting,
}

/// An exempt namespace (the policy's, or batchguard's own) or the ignore annotation.
pub(super) fn exempt(object: &Value, namespace: Option<&str>, policy: &Policy, env: &Env) -> bool {
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

/// `/validate`: judge, then deny what is new, enforced and not batchguard's rule on a
/// controller's object.
#[allow(clippy::too_many_arguments)]
pub(super) fn validate(
    kind: Kind,
    op: Operation,
    object: &Value,
    old: Option<&Value>,
    policy: &Policy,
    env: &Env,
    checker: &Checker,
    name: Option<&str>,
) -> Decision {
    let ctx = Context {
        operation: op,
        old,
        now: env.now,
    };
    // Capped whatever the checker: the answer lists at most MAX_FINDINGS causes and
    // warnings and one "and N more", so its size does not grow with the object's.
    let findings = crate::model::cap(checker(kind, object, policy, &ctx));
    // The stored object, judged by the same rules as if it were updated to itself: what it
    // already violated may stay (a label change on an old violator must pass).
    let before: HashSet<(RuleId, String)> = match old {
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
    let controlled = crate::mutation::controller_owned(object);

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
    let mut decision = Decision::allowed();
    decision.warnings = warnings;
    if !denials.is_empty() {
        let causes = denials
            .iter()
            .map(|f| Cause {
                field: f.field.clone(),
                reason: f.reason.as_str(),
                message: cause_message(f),
            })
            .collect();
        decision.verdict = Verdict::Denied;
        decision.status = Some(Status::invalid(kind, name.unwrap_or_default(), causes));
    } else if demoted_any {
        decision.verdict = Verdict::Warned;
    }
    decision
}

/// `/mutate`: the defaults patch, with a warning per default set. In warn mode nothing is
/// changed: the answer carries a warning per default it would set, and no patch.
pub(super) fn mutate(
    kind: Kind,
    op: Operation,
    object: &Value,
    old: Option<&Value>,
    policy: &Policy,
    env: &Env,
) -> Decision {
    let mutation = crate::mutation::mutation(kind, op, object, old, &policy.defaults, env.now);
    if mutation.is_empty() {
        return Decision::allowed();
    }
    if policy.mode == Mode::Warn {
        let mut decision = Decision::allowed();
        decision.verdict = Verdict::Warned;
        decision.warnings = mutation.applied.iter().map(|a| a.warning(false)).collect();
        return decision;
    }
    let patch = mutation.patch();
    let (warnings, patched_fields) = mutation
        .applied
        .into_iter()
        .map(|a| (a.warning(true), a.field))
        .unzip();
    Decision {
        verdict: Verdict::Patched,
        warnings,
        status: None,
        patch: Some(patch),
        patched_fields,
    }
}

/// A cause's message. A stricter policy rule is not the API server's, and kubectl shows no
/// webhook name for a 422, so the message itself says whose rule it is.
fn cause_message(f: &Finding) -> String {
    if f.origin == Origin::Policy && !f.message.contains(f.rule.as_str()) {
        format!("{} (batchguard policy rule {})", f.message, f.rule)
    } else {
        f.message.clone()
    }
}

fn warning_text(f: &Finding, demoted: Option<Demoted>) -> String {
    let cause = Cause {
        field: f.field.clone(),
        reason: f.reason.as_str(),
        message: cause_message(f),
    };
    let text = cause.text();
    match demoted {
        None => text,
        Some(Demoted::WarnMode) => format!("{text} (batchguard warn mode: this would be denied)"),
        Some(Demoted::Controller) => format!("{text} (not enforced on objects a controller manages)"),
        Some(Demoted::PreExisting) => format!("{text} (already present before this update, so not denied)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reason;

    fn finding(rule: RuleId, origin: Origin, message: &str) -> Finding {
        Finding {
            rule,
            severity: Severity::Error,
            origin,
            field: "spec.p".into(),
            reason: Reason::FieldValueNotSupported,
            message: message.into(),
            location: Vec::new(),
            omitted: 0,
        }
    }

    #[test]
    fn policy_cause_names_batchguard_and_rule_once() {
        let f = finding(
            RuleId::AllowedRestartPolicies,
            Origin::Policy,
            "Unsupported value: \"OnFailure\"",
        );
        assert_eq!(
            cause_message(&f),
            "Unsupported value: \"OnFailure\" (batchguard policy rule allowed-restart-policies)"
        );
        let already = finding(
            RuleId::AllowedRestartPolicies,
            Origin::Policy,
            "x (batchguard policy allowed-restart-policies)",
        );
        assert_eq!(cause_message(&already), already.message);
    }

    #[test]
    fn caps_causes_and_warnings_at_max_findings_and_says_how_many_more() {
        let many = |severity| {
            (0..1000)
                .map(|i| Finding {
                    severity,
                    field: format!("spec.p[{i}]"),
                    ..finding(RuleId::ImageRequired, Origin::Api, "Required value")
                })
                .collect::<Vec<_>>()
        };
        let env = Env {
            now: chrono::Utc::now(),
            own_namespace: None,
        };
        let object = serde_json::json!({"metadata": {"name": "x"}});
        for severity in [Severity::Error, Severity::Warning] {
            let findings = many(severity);
            let checker = |_: Kind, _: &Value, _: &Policy, _: &Context| findings.clone();
            let decision = validate(
                Kind::Job,
                Operation::Create,
                &object,
                None,
                &Policy::default(),
                &env,
                &checker,
                Some("x"),
            );
            let texts: Vec<String> = match severity {
                Severity::Error => {
                    let status = decision.status.expect("denied");
                    let causes = status.details.expect("details").causes;
                    causes.iter().map(Cause::text).collect()
                }
                Severity::Warning => decision.warnings,
            };
            assert_eq!(texts.len(), crate::model::MAX_FINDINGS + 1);
            assert_eq!(texts[99], "spec.p[99]: Required value");
            assert!(texts[100].starts_with("and 900 more not shown"), "{}", texts[100]);
        }
    }

    #[test]
    fn demoted_warnings_say_why() {
        let f = finding(RuleId::InvalidSchedule, Origin::Api, "Invalid value: \"x\"");
        assert_eq!(warning_text(&f, None), "spec.p: Invalid value: \"x\"");
        assert!(warning_text(&f, Some(Demoted::WarnMode))
            .ends_with("(batchguard warn mode: this would be denied)"));
        assert!(warning_text(&f, Some(Demoted::PreExisting)).contains("already present"));
    }
}
