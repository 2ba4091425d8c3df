//! Rule-by-rule behaviour of `check`/`check_manifest`, one case per rule or per table row.

use rstest::rstest;
use serde_json::{json, Value};

use super::*;
use crate::policy::Policy;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("fixed instant")
        .with_timezone(&chrono::Utc)
}

fn create() -> Context<'static> {
    Context {
        operation: Operation::Create,
        old: None,
        now: now(),
    }
}

/// Deep-merges `patch` into `base`; a `null` in the patch deletes the key.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn job(patch: Value) -> Value {
    let mut base = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "report"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox:1.36"}]
        }}}
    });
    merge(&mut base, &patch);
    base
}

fn cronjob(patch: Value) -> Value {
    let mut base = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure",
                "containers": [{"name": "main", "image": "busybox:1.36"}]
            }}}}
        }
    });
    merge(&mut base, &patch);
    base
}

fn findings(kind: Kind, obj: &Value, policy: &Policy) -> Vec<Finding> {
    check_manifest(kind, obj, policy, &create())
}

/// `field: message` of the error findings under the default policy.
fn errors(kind: Kind, obj: &Value) -> Vec<String> {
    findings(kind, obj, &Policy::default())
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect()
}

fn rules_of(kind: Kind, obj: &Value, policy: &Policy) -> Vec<RuleId> {
    findings(kind, obj, policy).into_iter().map(|f| f.rule).collect()
}

#[test]
fn accepts_base_job_and_cronjob() {
    assert_eq!(errors(Kind::Job, &job(json!({}))), Vec::<String>::new());
    assert_eq!(errors(Kind::CronJob, &cronjob(json!({}))), Vec::<String>::new());
}

#[test]
fn rejects_missing_restart_policy_as_the_api_server_does() {
    let obj = job(json!({"spec": {"template": {"spec": {"restartPolicy": null}}}}));
    assert_eq!(
        errors(Kind::Job, &obj),
        vec!["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
    );
}

#[test]
fn rejects_unknown_restart_policy_twice() {
    let obj = cronjob(
        json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "never"}}}}}}),
    );
    assert_eq!(
        errors(Kind::CronJob, &obj),
        vec![
            "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"never\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"never\": supported values: \"OnFailure\", \"Never\"",
        ]
    );
}

#[test]
fn rejects_on_failure_with_pod_failure_policy() {
    let obj = job(json!({"spec": {
        "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]},
        "template": {"spec": {"restartPolicy": "OnFailure"}}
    }}));
    assert_eq!(
        errors(Kind::Job, &obj),
        vec!["spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified"]
    );
}

#[rstest]
#[case("parallelism")]
#[case("completions")]
#[case("activeDeadlineSeconds")]
#[case("backoffLimit")]
#[case("ttlSecondsAfterFinished")]
fn rejects_negative_job_scalars(#[case] key: &str) {
    let obj = job(json!({"spec": {key: -1}}));
    assert_eq!(
        errors(Kind::Job, &obj),
        vec![format!(
            "spec.{key}: Invalid value: -1: must be greater than or equal to 0"
        )]
    );
}

#[rstest]
#[case("startingDeadlineSeconds")]
#[case("successfulJobsHistoryLimit")]
#[case("failedJobsHistoryLimit")]
fn rejects_negative_cronjob_scalars(#[case] key: &str) {
    let obj = cronjob(json!({"spec": {key: -1}}));
    assert_eq!(
        errors(Kind::CronJob, &obj),
        vec![format!(
            "spec.{key}: Invalid value: -1: must be greater than or equal to 0"
        )]
    );
}

#[rstest]
#[case(json!({"completionMode": ""}), "spec.completionMode: Unsupported value: \"\": supported values: \"NonIndexed\", \"Indexed\"")]
#[case(json!({"completionMode": "Indexed", "completions": null, "parallelism": 3}), "spec.completions: Required value: when completion mode is Indexed")]
#[case(json!({"completionMode": "Indexed", "completions": 5, "parallelism": 100001}), "spec.parallelism: Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed")]
#[case(json!({"completions": 5, "backoffLimitPerIndex": 1}), "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode")]
#[case(json!({"completionMode": "Indexed", "completions": 5, "maxFailedIndexes": 2}), "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified")]
#[case(json!({"completionMode": "Indexed", "completions": 100001, "backoffLimitPerIndex": 1}), "spec.maxFailedIndexes: Required value: must be specified when completions is above 100000")]
#[case(json!({"podReplacementPolicy": ""}), "spec.podReplacementPolicy: Unsupported value: \"\": supported values: \"Failed\", \"TerminatingOrFailed\"")]
#[case(json!({"managedBy": "custom-controller"}), "spec.managedBy: Invalid value: \"custom-controller\": must be a domain-prefixed path (such as \"acme.io/foo\")")]
#[case(json!({"managedBy": ""}), "spec.managedBy: Required value")]
#[case(json!({"template": {"spec": {"containers": []}}}), "spec.template.spec.containers: Required value")]
#[case(json!({"template": {"spec": {"containers": [{"name": "main"}]}}}), "spec.template.spec.containers[0].image: Required value")]
#[case(json!({"template": {"spec": {"containers": [{"name": "main", "image": "a"}, {"name": "main", "image": "b"}]}}}), "spec.template.spec.containers[1].name: Duplicate value: \"main\"")]
#[case(json!({"template": {"spec": {"initContainers": [{"name": "main", "image": "a"}]}}}), "spec.template.spec.initContainers[0].name: Duplicate value: \"main\"")]
#[case(json!({"template": {"spec": {"containers": [{"name": "Main", "image": "a"}]}}}), "spec.template.spec.containers[0].name: Invalid value: \"Main\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")]
fn rejects_job_spec_rules(#[case] spec: Value, #[case] want: &str) {
    let obj = job(json!({"spec": spec}));
    assert_eq!(errors(Kind::Job, &obj), vec![want.to_string()]);
}

#[rstest]
#[case(json!({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1]}, "onPodConditions": [{"type": "DisruptionTarget"}]}]}), "spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported")]
#[case(json!({"rules": [{"action": "FailJob"}]}), "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required")]
#[case(json!({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [0]}}]}), "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator")]
#[case(json!({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1, 1]}}]}), "spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Duplicate value: 1")]
#[case(json!({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [3, 1]}}]}), "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 1}: must be ordered")]
#[case(json!({"rules": [{"action": "", "onExitCodes": {"operator": "In", "values": [1]}}]}), "spec.podFailurePolicy.rules[0].action: Required value: valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]")]
#[case(json!({"rules": [{"action": "Retry", "onExitCodes": {"operator": "In", "values": [1]}}]}), "spec.podFailurePolicy.rules[0].action: Unsupported value: \"Retry\": supported values: \"Count\", \"FailIndex\", \"FailJob\", \"Ignore\"")]
#[case(json!({"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}}]}), "spec.podFailurePolicy.rules[0].action: Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set")]
#[case(json!({"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "other", "operator": "In", "values": [1]}}]}), "spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: \"other\": must be one of the container or initContainer names in the pod template")]
#[case(json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "Maybe"}]}]}), "spec.podFailurePolicy.rules[0].onPodConditions[0].status: Unsupported value: \"Maybe\": supported values: \"False\", \"True\", \"Unknown\"")]
fn rejects_pod_failure_policy_rules(#[case] pfp: Value, #[case] want: &str) {
    let obj = job(json!({"spec": {"podFailurePolicy": pfp}}));
    assert_eq!(errors(Kind::Job, &obj), vec![want.to_string()]);
}

#[test]
fn defaults_empty_condition_status_for_jobs_but_not_cronjob_templates() {
    let pfp = json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]});
    assert!(errors(
        Kind::Job,
        &job(json!({"spec": {"podFailurePolicy": pfp.clone()}}))
    )
    .is_empty());
    let obj = cronjob(json!({"spec": {"jobTemplate": {"spec": {
        "podFailurePolicy": pfp,
        "template": {"spec": {"restartPolicy": "Never"}}
    }}}}));
    assert_eq!(
        errors(Kind::CronJob, &obj),
        vec!["spec.jobTemplate.spec.podFailurePolicy.rules[0].onPodConditions[0].status: Required value: valid values: [\"False\" \"True\" \"Unknown\"]"]
    );
}

#[rstest]
#[case(json!({"rules": []}), "spec.successPolicy.rules: Required value: at least one rules must be specified when the successPolicy is specified")]
#[case(json!({"rules": [{}]}), "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified")]
#[case(json!({"rules": [{"succeededIndexes": "2,1"}]}), "spec.successPolicy.rules[0].succeededIndexes: Invalid value: \"2,1\": error parsing succeededIndexes: non-increasing order, previous: 2, current: 1")]
#[case(json!({"rules": [{"succeededCount": 6}]}), "spec.successPolicy.rules[0].succeededCount: Invalid value: 6: must be less than or equal to 5 (the number of specified completions)")]
#[case(json!({"rules": [{"succeededIndexes": "0-2", "succeededCount": 4}]}), "spec.successPolicy.rules[0].succeededCount: Invalid value: 4: must be less than or equal to 3 (the number of indexes in the specified succeededIndexes field)")]
fn rejects_success_policy_rules(#[case] sp: Value, #[case] want: &str) {
    let obj = job(json!({"spec": {"completionMode": "Indexed", "completions": 5, "successPolicy": sp}}));
    assert_eq!(errors(Kind::Job, &obj), vec![want.to_string()]);
}

#[test]
fn rejects_success_policy_without_indexed_mode() {
    let obj = job(json!({"spec": {"successPolicy": {"rules": [{"succeededCount": 1}]}}}));
    let errs = errors(Kind::Job, &obj);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("spec.successPolicy: Invalid value: batch.SuccessPolicy{"));
    assert!(errs[0].ends_with(": requires indexed completion mode"));
}

#[test]
fn rejects_the_success_policy_crash_clearly() {
    let sp = json!({"rules": [{"succeededCount": 1}]});
    let obj = cronjob(
        json!({"spec": {"jobTemplate": {"spec": {"completionMode": "Indexed", "successPolicy": sp.clone()}}}}),
    );
    let rules = rules_of(Kind::CronJob, &obj, &Policy::default());
    assert!(rules.contains(&RuleId::ServerCrash), "{rules:?}");
    let job_obj =
        job(json!({"spec": {"completionMode": "Indexed", "parallelism": 3, "successPolicy": sp.clone()}}));
    assert!(rules_of(Kind::Job, &job_obj, &Policy::default()).contains(&RuleId::ServerCrash));
    // Without parallelism, defaulting sets completions to 1 and the API server copes.
    let fine = job(
        json!({"spec": {"completionMode": "Indexed", "successPolicy": {"rules": [{"succeededIndexes": "0"}]}}}),
    );
    assert!(errors(Kind::Job, &fine).is_empty());
}

#[test]
fn rejects_the_tz_prefix_crash_clearly() {
    let obj = cronjob(json!({"spec": {"schedule": "CRON_TZ="}}));
    let f = findings(Kind::CronJob, &obj, &Policy::default());
    assert_eq!(f[0].rule, RuleId::ServerCrash);
    assert!(f[0].message.contains("crashes"), "{}", f[0].message);
}

#[test]
fn rejects_long_job_name_via_generated_label() {
    let name = "a".repeat(64);
    let errs = errors(Kind::Job, &job(json!({"metadata": {"name": name}})));
    assert_eq!(errs.len(), 2);
    assert!(errs
        .iter()
        .all(|e| e.starts_with("spec.template.labels: Invalid value: \"aaaa")
            && e.ends_with("must be no more than 63 characters")));
}

#[test]
fn rejects_indexed_job_whose_last_hostname_is_too_long() {
    let name = "a".repeat(62);
    let obj =
        job(json!({"metadata": {"name": name}, "spec": {"completionMode": "Indexed", "completions": 10}}));
    assert_eq!(
        errors(Kind::Job, &obj),
        vec![format!(
            "metadata.name: Invalid value: \"{name}\": will not able to create pod with invalid DNS label: {name}-9"
        )]
    );
}

#[rstest]
#[case(Kind::Job, "MyJob")]
#[case(Kind::CronJob, "my_job")]
fn rejects_names_that_are_not_dns_subdomains(#[case] kind: Kind, #[case] name: &str) {
    let obj = match kind {
        Kind::Job => job(json!({"metadata": {"name": name}})),
        Kind::CronJob => cronjob(json!({"metadata": {"name": name}})),
    };
    let errs = errors(kind, &obj);
    assert!(errs[0].starts_with(&format!(
        "metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain"
    )));
}

#[test]
fn warns_on_dotted_names_like_the_api_server() {
    let f = findings(
        Kind::Job,
        &job(json!({"metadata": {"name": "my.job"}})),
        &Policy::default(),
    );
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].severity, f[0].origin), (Severity::Warning, Origin::Api));
    assert_eq!(f[0].message, "this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]");
}

#[test]
fn rejects_cronjob_names_over_52_characters_on_create_only() {
    let name = "n".repeat(53);
    let obj = cronjob(json!({"metadata": {"name": name}}));
    assert_eq!(
        errors(Kind::CronJob, &obj),
        vec![format!(
            "metadata.name: Invalid value: \"{name}\": must be no more than 52 characters"
        )]
    );
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&obj),
        now: now(),
    };
    let mut defaulted = obj.clone();
    crate::apiserver::apply_defaults(Kind::CronJob, &mut defaulted);
    assert!(check(Kind::CronJob, &defaulted, &Policy::default(), &ctx).is_empty());
}

#[rstest]
#[case(47, true)]
#[case(48, false)]
fn applies_the_52_character_limit_to_generated_names(#[case] prefix_len: usize, #[case] ok: bool) {
    let obj = cronjob(json!({"metadata": {"name": null, "generateName": "g".repeat(prefix_len)}}));
    assert_eq!(errors(Kind::CronJob, &obj).is_empty(), ok);
}

#[test]
fn rejects_user_selector_without_manual_selector() {
    let obj = job(
        json!({"spec": {"selector": {"matchLabels": {"app": "demo"}}, "template": {"metadata": {"labels": {"app": "demo"}}}}}),
    );
    let errs = errors(Kind::Job, &obj);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("spec.selector: Invalid value: v1.LabelSelector{"));
    assert!(errs[0].ends_with("`selector` not auto-generated"));
}

#[test]
fn rejects_manual_selector_that_misses_the_template() {
    let obj = job(
        json!({"spec": {"manualSelector": true, "selector": {"matchLabels": {"app": "demo"}}, "template": {"metadata": {"labels": {"app": "other"}}}}}),
    );
    assert_eq!(
        errors(Kind::Job, &obj),
        vec!["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"]
    );
}

#[test]
fn rejects_foreign_generated_label_values() {
    let obj = job(json!({"spec": {"template": {"metadata": {"labels": {"job-name": "someone-else"}}}}}));
    let errs = errors(Kind::Job, &obj);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("spec.template.metadata.labels[job-name]: Invalid value: map[string]string{"));
    assert!(errs[0].ends_with(": must be 'report'"));
}

#[test]
fn rejects_selectors_in_cronjob_templates() {
    let obj = cronjob(
        json!({"spec": {"jobTemplate": {"spec": {"manualSelector": true, "selector": {"matchLabels": {"app": "demo"}}}}}}),
    );
    let errs = errors(Kind::CronJob, &obj);
    assert_eq!(errs.len(), 2);
    assert!(errs[0].ends_with("`selector` will be auto-generated"));
    assert_eq!(
        errs[1],
        "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", \"false\""
    );
}

#[rstest]
#[case("", true)]
#[case("Forbid", true)]
#[case("allow", false)]
fn checks_concurrency_policy(#[case] value: &str, #[case] ok: bool) {
    let obj = cronjob(json!({"spec": {"concurrencyPolicy": value}}));
    assert_eq!(errors(Kind::CronJob, &obj).is_empty(), ok);
}

#[test]
fn rejects_empty_schedule() {
    let obj = cronjob(json!({"spec": {"schedule": ""}}));
    assert_eq!(errors(Kind::CronJob, &obj), vec!["spec.schedule: Required value"]);
}

#[test]
fn reports_a_decode_error_alone() {
    let obj = cronjob(json!({"spec": {"suspend": "true", "concurrencyPolicy": "bogus"}}));
    let f = findings(Kind::CronJob, &obj, &Policy::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, RuleId::DecodeError);
    assert_eq!(f[0].field, "spec.suspend");
}

#[test]
fn locates_template_label_findings_where_they_are_written() {
    let obj = job(json!({"spec": {"template": {"metadata": {"labels": {"bad key": "x"}}}}}));
    let f = findings(Kind::Job, &obj, &Policy::default());
    let tmpl = f
        .iter()
        .find(|f| f.field == "spec.template.labels")
        .expect("template label finding");
    let keys: Vec<&str> = tmpl
        .location
        .iter()
        .map(|s| match s {
            Segment::Key(k) => k.as_str(),
            Segment::Index(_) => "#",
        })
        .collect();
    assert_eq!(keys, ["spec", "template", "metadata", "labels", "bad key"]);
    // The Job's own labels were copied from the template by defaulting.
    assert!(f.iter().any(|f| f.field == "metadata.labels"));
}

#[test]
fn ratchets_tz_in_schedule_on_update() {
    let tz = cronjob(json!({"spec": {"schedule": "TZ=UTC 0 * * * *"}}));
    assert_eq!(
        rules_of(Kind::CronJob, &tz, &Policy::default()),
        vec![RuleId::TzInSchedule]
    );
    let mut stored = tz.clone();
    crate::apiserver::apply_defaults(Kind::CronJob, &mut stored);
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&stored),
        now: now(),
    };
    let f = check(Kind::CronJob, &stored, &Policy::default(), &ctx);
    let rules: Vec<RuleId> = f.iter().map(|f| f.rule).collect();
    assert_eq!(rules, vec![RuleId::TzPrefixOnUpdate]);
    // Keeping the prefix and adding a timeZone is refused even on update.
    let mut both = stored.clone();
    both["spec"]["timeZone"] = json!("UTC");
    let f = check(Kind::CronJob, &both, &Policy::default(), &ctx);
    assert!(f
        .iter()
        .any(|f| f.severity == Severity::Error && f.rule == RuleId::TzInSchedule));
}

#[test]
fn rechecks_time_zone_only_when_it_changes() {
    let mut stored = cronjob(json!({"spec": {"timeZone": "Mars/Base"}}));
    crate::apiserver::apply_defaults(Kind::CronJob, &mut stored);
    assert!(rules_of(Kind::CronJob, &stored, &Policy::default()).contains(&RuleId::InvalidTimeZone));
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&stored),
        now: now(),
    };
    assert!(check(Kind::CronJob, &stored, &Policy::default(), &ctx).is_empty());
}

#[test]
fn warns_about_tz_prefix_on_update_without_the_parser() {
    let mut stored = cronjob(json!({"spec": {"schedule": "TZ=UTC 0 * * * *"}}));
    crate::apiserver::apply_defaults(Kind::CronJob, &mut stored);
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&stored),
        now: now(),
    };
    let f = check(Kind::CronJob, &stored, &Policy::default(), &ctx);
    let w = f
        .iter()
        .find(|f| f.rule == RuleId::TzPrefixOnUpdate)
        .expect("warning");
    assert_eq!((w.severity, w.origin), (Severity::Warning, Origin::Advice));
    let mut quiet = Policy::default();
    quiet.warnings.tz_prefix_on_update = false;
    assert!(check(Kind::CronJob, &stored, &quiet, &ctx)
        .iter()
        .all(|f| f.rule != RuleId::TzPrefixOnUpdate));
}

#[test]
fn rejects_job_updates_of_immutable_fields() {
    let mut stored = job(json!({"metadata": {"uid": "u-1"}}));
    crate::apiserver::prepare_for_create(Kind::Job, &mut stored);
    let mut changed = stored.clone();
    changed["spec"]["completionMode"] = json!("Indexed");
    changed["spec"]["backoffLimit"] = json!(2);
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&stored),
        now: now(),
    };
    let f: Vec<String> = check(Kind::Job, &changed, &Policy::default(), &ctx)
        .into_iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    assert_eq!(
        f,
        vec!["spec.completionMode: Invalid value: \"Indexed\": field is immutable"]
    );
}

#[test]
fn reports_spec_errors_twice_on_job_update() {
    let mut stored = job(json!({}));
    crate::apiserver::prepare_for_create(Kind::Job, &mut stored);
    let mut changed = stored.clone();
    changed["spec"]["parallelism"] = json!(-1);
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&stored),
        now: now(),
    };
    let n = check(Kind::Job, &changed, &Policy::default(), &ctx)
        .iter()
        .filter(|f| f.field == "spec.parallelism")
        .count();
    assert_eq!(n, 2);
}

fn policy(yaml: &str) -> Policy {
    Policy::from_yaml(yaml, "test").expect("policy parses")
}

#[rstest]
#[case(
    Kind::Job,
    "rules:\n  allowedRestartPolicies: [OnFailure]\n",
    RuleId::AllowedRestartPolicies
)]
#[case(
    Kind::CronJob,
    "rules:\n  allowedRestartPolicies: [Never]\n",
    RuleId::AllowedRestartPolicies
)]
#[case(
    Kind::Job,
    "rules:\n  allowedCompletionModes: [Indexed]\n",
    RuleId::AllowedCompletionModes
)]
#[case(
    Kind::CronJob,
    "rules:\n  allowedConcurrencyPolicies: [Forbid]\n",
    RuleId::AllowedConcurrencyPolicies
)]
#[case(
    Kind::CronJob,
    "rules:\n  maxSuccessfulJobsHistoryLimit: 2\n",
    RuleId::MaxSuccessfulJobsHistoryLimit
)]
#[case(
    Kind::CronJob,
    "rules:\n  maxFailedJobsHistoryLimit: 0\n",
    RuleId::MaxFailedJobsHistoryLimit
)]
#[case(Kind::CronJob, "rules:\n  requireTimeZone: true\n", RuleId::RequireTimeZone)]
fn enforces_each_policy_rule(#[case] kind: Kind, #[case] yaml: &str, #[case] rule: RuleId) {
    let obj = match kind {
        Kind::Job => job(json!({})),
        Kind::CronJob => cronjob(json!({})),
    };
    let f = findings(kind, &obj, &policy(yaml));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].rule, f[0].severity, f[0].origin),
        (rule, Severity::Error, Origin::Policy)
    );
    assert!(
        f[0].message.ends_with(&format!("(batchguard policy {rule})")),
        "{}",
        f[0].message
    );
}

#[test]
fn words_policy_findings_like_the_api_server() {
    let f = findings(
        Kind::CronJob,
        &cronjob(json!({})),
        &policy("rules:\n  allowedRestartPolicies: [Never]\n"),
    );
    assert_eq!(f[0].field, "spec.jobTemplate.spec.template.spec.restartPolicy");
    assert_eq!(
        f[0].message,
        "Unsupported value: \"OnFailure\": supported values: \"Never\" (batchguard policy allowed-restart-policies)"
    );
}

#[test]
fn leaves_api_invalid_values_to_the_api_rules() {
    let obj = job(json!({"spec": {"template": {"spec": {"restartPolicy": "Always"}}}}));
    let rules = rules_of(
        Kind::Job,
        &obj,
        &policy("rules:\n  allowedRestartPolicies: [Never]\n"),
    );
    assert_eq!(rules, vec![RuleId::RestartPolicyRequired]);
}

#[test]
fn accepts_what_the_policy_allows() {
    let p = policy("rules:\n  allowedRestartPolicies: [OnFailure]\n  allowedConcurrencyPolicies: [Allow]\n  maxSuccessfulJobsHistoryLimit: 3\n  requireTimeZone: true\n");
    let obj = cronjob(json!({"spec": {"timeZone": "Etc/UTC"}}));
    let f: Vec<RuleId> = findings(Kind::CronJob, &obj, &p)
        .into_iter()
        .filter(|f| f.origin == Origin::Policy)
        .map(|f| f.rule)
        .collect();
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn enforces_minimum_schedule_interval() {
    let p = policy("rules:\n  minScheduleIntervalSeconds: 300\n");
    let every_minute = cronjob(json!({"spec": {"schedule": "* * * * *"}}));
    assert_eq!(
        rules_of(Kind::CronJob, &every_minute, &p),
        vec![RuleId::MinScheduleInterval]
    );
    assert!(rules_of(Kind::CronJob, &cronjob(json!({})), &p).is_empty());
}

#[test]
fn warns_about_short_starting_deadlines() {
    let obj = cronjob(json!({"spec": {"startingDeadlineSeconds": 5}}));
    let f = findings(Kind::CronJob, &obj, &Policy::default());
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule, f[0].severity, f[0].origin),
        (RuleId::ShortStartingDeadline, Severity::Warning, Origin::Advice)
    );
    let ok = cronjob(json!({"spec": {"startingDeadlineSeconds": 10}}));
    assert!(findings(Kind::CronJob, &ok, &Policy::default()).is_empty());
}

#[test]
fn warns_about_schedules_that_never_fire() {
    let obj = cronjob(json!({"spec": {"schedule": "0 0 30 2 *"}}));
    let f = findings(Kind::CronJob, &obj, &Policy::default());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].rule, f[0].severity),
        (RuleId::NeverFiringSchedule, Severity::Warning)
    );
    assert!(f[0]
        .message
        .starts_with("never fires: day 30 of February does not exist"));
    let mut quiet = Policy::default();
    quiet.warnings.never_firing_schedule = false;
    assert!(findings(Kind::CronJob, &obj, &quiet).is_empty());
}

#[test]
fn never_firing_warning_names_the_date_and_says_what_the_schedule_means() {
    let obj = cronjob(json!({"spec": {"schedule": "0 0 31 4 *"}}));
    let f = findings(Kind::CronJob, &obj, &Policy::default());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0].message,
        "never fires: day 31 of April does not exist (\"0 0 31 4 *\": At 00:00, on April 31); \
         the API server accepts it, but no Job will ever be created"
    );
}

#[test]
fn builds_the_status_message_with_duplicates_dropped() {
    let name = "a".repeat(64);
    let f = findings(
        Kind::Job,
        &job(json!({"metadata": {"name": name}})),
        &Policy::default(),
    );
    assert_eq!(f.len(), 2);
    let msg = status_message(Kind::Job, &name, &f);
    assert_eq!(
        msg,
        format!("Job.batch \"{name}\" is invalid: spec.template.labels: Invalid value: \"{name}\": must be no more than 63 characters")
    );
}

fn location_keys(f: &Finding) -> Vec<String> {
    f.location
        .iter()
        .map(|s| match s {
            Segment::Key(k) => k.clone(),
            Segment::Index(i) => i.to_string(),
        })
        .collect()
}

#[test]
fn points_derived_findings_at_what_the_user_wrote() {
    let long = job(json!({"metadata": {"name": "a".repeat(64)}}));
    let f = findings(Kind::Job, &long, &Policy::default());
    assert!(
        f.iter().all(|f| location_keys(f) == ["metadata", "name"]),
        "{f:?}"
    );
    let generated = job(json!({"metadata": {"name": null, "generateName": "Demo-"}}));
    let f = findings(Kind::Job, &generated, &Policy::default());
    let name = f
        .iter()
        .find(|f| f.field == "metadata.name")
        .expect("name finding");
    assert_eq!(location_keys(name), ["metadata", "generateName"]);
    // The same with template labels: the name's findings under `metadata.labels` too.
    let shared = job(json!({"metadata": {"name": "a".repeat(64)},
        "spec": {"template": {"metadata": {"labels": {"app": "demo"}}}}}));
    let f = findings(Kind::Job, &shared, &Policy::default());
    assert!(f.iter().any(|f| f.field == "metadata.labels"), "{f:?}");
    assert!(
        f.iter().all(|f| location_keys(f) == ["metadata", "name"]),
        "{f:?}"
    );
    let copied = job(json!({"spec": {"template": {"metadata": {"labels": {"bad key": "x"}}}}}));
    let f = findings(Kind::Job, &copied, &Policy::default());
    let labels = f
        .iter()
        .find(|f| f.field == "metadata.labels")
        .expect("copied labels");
    assert_eq!(
        location_keys(labels),
        ["spec", "template", "metadata", "labels", "bad key"]
    );
}

/// Every captured AdmissionReview is a request a real API server let through its own
/// validation (except the one README names): judging its object must find no error.
#[test]
fn accepts_what_a_real_api_server_accepted_in_captured_admission_requests() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/admission");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("admission captures") {
        let path = entry.expect("dir entry").path();
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !file.ends_with(".json") {
            continue;
        }
        let review: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let req = &review["request"];
        let kind = match req["kind"]["kind"].as_str() {
            Some("Job") => Kind::Job,
            Some("CronJob") => Kind::CronJob,
            _ => continue,
        };
        let operation = match req["operation"].as_str() {
            Some("CREATE") => Operation::Create,
            Some("UPDATE") => Operation::Update,
            _ => continue,
        };
        let old = req.get("oldObject").filter(|o| !o.is_null());
        let ctx = Context {
            operation,
            old,
            now: now(),
        };
        let mut object = req["object"].clone();
        // Mutating CREATE requests come before the selector and name generation.
        if operation == Operation::Create && file.contains(".mutate") {
            crate::apiserver::prepare_for_create(kind, &mut object);
        }
        let errors: Vec<String> = check(kind, &object, &Policy::default(), &ctx)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{} {}: {}", f.rule, f.field, f.message))
            .collect();
        if file.starts_with("job-create-no-restartpolicy") {
            assert_eq!(errors.len(), 1, "{file}: {errors:?}");
            assert!(
                errors[0].starts_with(RuleId::RestartPolicyRequired.as_str()),
                "{file}: {errors:?}"
            );
        } else {
            assert!(errors.is_empty(), "{file}: {errors:?}");
        }
        seen += 1;
    }
    assert!(seen >= 30, "only {seen} captures judged");
}

#[test]
fn allows_scheduling_changes_only_while_suspended_and_never_started() {
    let mut stored = job(json!({"spec": {"suspend": true}}));
    crate::apiserver::prepare_for_create(Kind::Job, &mut stored);
    let mut changed = stored.clone();
    changed["spec"]["template"]["spec"]["nodeSelector"] = json!({"pool": "gpu"});
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&stored),
        now: now(),
    };
    assert!(check(Kind::Job, &changed, &Policy::default(), &ctx).is_empty());
    let mut started = stored.clone();
    started["status"] = json!({"startTime": "2026-01-01T00:00:00Z"});
    let ctx = Context {
        operation: Operation::Update,
        old: Some(&started),
        now: now(),
    };
    let rules: Vec<RuleId> = check(Kind::Job, &changed, &Policy::default(), &ctx)
        .iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(rules, vec![RuleId::ImmutableField]);
}

#[test]
fn documents_every_rule_id() {
    let docs = concat!(
        include_str!("../../docs/rules.md"),
        include_str!("../../docs/pod.md")
    );
    for rule in RuleId::ALL {
        assert!(
            docs.contains(&format!("`{rule}`")),
            "docs/rules.md and docs/pod.md lack `{rule}`"
        );
    }
}

fn update_ctx(old: &Value) -> Context<'_> {
    Context {
        operation: Operation::Update,
        old: Some(old),
        now: now(),
    }
}

fn update_errors(kind: Kind, new: &Value, old: &Value) -> Vec<String> {
    check(kind, new, &Policy::default(), &update_ctx(old))
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect()
}

/// core validation.go `validateInitContainers`: `else if len(ctr.Name) > 0 { allNames.Insert }`,
/// so unnamed init containers are never duplicates of each other.
#[test]
fn does_not_report_unnamed_init_containers_as_duplicates() {
    let j = job(json!({"spec": {"template": {"spec": {"initContainers": [
        {"name": "", "image": "a"}, {"name": "", "image": "b"}, {"name": "main", "image": "c"}
    ]}}}}));
    assert_eq!(
        errors(Kind::Job, &j),
        vec![
            "spec.template.spec.initContainers[0].name: Required value",
            "spec.template.spec.initContainers[1].name: Required value",
            "spec.template.spec.initContainers[2].name: Duplicate value: \"main\"",
        ]
    );
    // Regular containers do remember the empty name (`validateContainers` inserts it).
    let j = job(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "", "image": "a"}, {"name": "", "image": "b"}
    ]}}}}));
    assert_eq!(
        errors(Kind::Job, &j),
        vec![
            "spec.template.spec.containers[0].name: Required value",
            "spec.template.spec.containers[1].name: Required value",
            "spec.template.spec.containers[1].name: Duplicate value: \"\"",
        ]
    );
}

/// apimachinery `maskTrailingDash` (`name[:len(name)-2] + "a"`): the byte before the
/// trailing dash of a generateName is never checked, the generated name still is.
#[test]
fn validates_generate_name_with_the_upstream_mask() {
    let j = cronjob(json!({"metadata": {"name": null, "generateName": "ab_-"}}));
    let errs = errors(Kind::CronJob, &j);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("metadata.name: Invalid value: \"ab_-xxxxx\": a lowercase RFC 1123 subdomain")
    );
}

/// batch validation.go `parseIndexInterval` runs before the order check.
#[test]
fn reports_the_interval_error_before_the_order_error() {
    let j = job(json!({"spec": {"completionMode": "Indexed", "completions": 5,
        "successPolicy": {"rules": [{"succeededIndexes": "3,1-9"}]}}}));
    assert_eq!(
        errors(Kind::Job, &j),
        vec!["spec.successPolicy.rules[0].succeededIndexes: Invalid value: \"3,1-9\": error parsing succeededIndexes: too large index: \"9\""]
    );
}

/// job strategy.go `validationOptionsForJob`: `RequirePrefixedLabels = hadJobName && hadControllerUid`
/// of the old Job, so a Job created before the prefixed labels can still be updated.
#[test]
fn requires_prefixed_labels_on_update_only_if_the_stored_job_had_them() {
    let mut legacy = job(
        json!({"metadata": {"uid": "u-1", "labels": {"team": "a"}}, "spec": {
            "selector": {"matchLabels": {"controller-uid": "u-1"}},
            "template": {"metadata": {"labels": {"controller-uid": "u-1", "job-name": "report"}}}
        }}),
    );
    crate::apiserver::apply_defaults(Kind::Job, &mut legacy);
    let mut relabelled = legacy.clone();
    relabelled["metadata"]["labels"]["team"] = json!("b");
    assert_eq!(
        update_errors(Kind::Job, &relabelled, &legacy),
        Vec::<String>::new()
    );
    // Dropping a prefixed label from a stored Job that had it is refused.
    let assert_refuses_losing_job_name = |stored: &Value| {
        let mut lost = stored.clone();
        lost["spec"]["template"]["metadata"]["labels"]
            .as_object_mut()
            .expect("labels")
            .remove("batch.kubernetes.io/job-name");
        let errs = update_errors(Kind::Job, &lost, stored);
        assert!(
            errs.contains(
                &"spec.template.metadata.labels[batch.kubernetes.io/job-name]: Required value: must be 'report'"
                    .to_string()
            ),
            "{errs:?}"
        );
    };
    let mut current = job(json!({}));
    crate::apiserver::prepare_for_create(Kind::Job, &mut current);
    assert_refuses_losing_job_name(&current);
    // Upstream decides from the stored template's labels alone: a stored selector with only
    // the legacy key does not lift the requirement.
    let mut legacy_selector = current.clone();
    legacy_selector["spec"]["selector"] =
        json!({"matchLabels": {"controller-uid": current["metadata"]["uid"]}});
    assert_refuses_losing_job_name(&legacy_selector);
}

/// `ValidateImmutableField` uses `equality.Semantic.DeepEqual`: an empty list equals a
/// missing one, so a re-serialized but unchanged template is not a change.
#[test]
fn treats_empty_and_missing_lists_as_equal_on_update() {
    let mut stored = job(json!({"metadata": {"uid": "u-1"}}));
    crate::apiserver::prepare_for_create(Kind::Job, &mut stored);
    let mut same = stored.clone();
    same["spec"]["template"]["spec"]["tolerations"] = json!([]);
    same["spec"]["template"]["metadata"]["annotations"] = json!({});
    assert_eq!(update_errors(Kind::Job, &same, &stored), Vec::<String>::new());
    let mut changed = stored.clone();
    changed["spec"]["template"]["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists"}]);
    let errs = update_errors(Kind::Job, &changed, &stored);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("spec.template: Invalid value: "));
    assert!(errs[0].ends_with(": field is immutable"));
}

/// `ValidateImmutableField` prints the new selector with `%#v` (v1.32).
#[test]
fn prints_an_immutable_selector_in_go_syntax() {
    let mut stored = job(
        json!({"metadata": {"uid": "u-1"}, "spec": {"manualSelector": true,
        "selector": {"matchLabels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "a", "tier": "x"}}}}}),
    );
    crate::apiserver::prepare_for_create(Kind::Job, &mut stored);
    let mut changed = stored.clone();
    changed["spec"]["selector"] = json!({"matchLabels": {"tier": "x"}});
    assert_eq!(
        update_errors(Kind::Job, &changed, &stored),
        vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"tier\":\"x\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
    );
}

/// cronjob strategy.go `WarningsOnUpdate`: the job-spec warnings come whenever the
/// generation moved, i.e. on any spec change, not only a change of the job template.
#[test]
fn warns_about_large_indexed_templates_when_any_cronjob_spec_field_changes() {
    let mut stored = cronjob(json!({"spec": {"jobTemplate": {"spec": {
        "completionMode": "Indexed", "completions": 100_001, "parallelism": 10_001}}}}));
    crate::apiserver::apply_defaults(Kind::CronJob, &mut stored);
    let warned = |new: &Value| {
        check(Kind::CronJob, new, &Policy::default(), &update_ctx(&stored))
            .iter()
            .any(|f| f.rule == RuleId::LargeIndexedJob && f.field == "spec.jobTemplate")
    };
    assert!(!warned(&stored));
    let mut rescheduled = stored.clone();
    rescheduled["spec"]["schedule"] = json!("0 4 * * *");
    assert!(warned(&rescheduled));
}

/// apimachinery objectmeta.go `ValidateFinalizers`, the last check of `ValidateObjectMeta`.
#[test]
fn rejects_bad_and_conflicting_finalizers() {
    let j = job(
        json!({"metadata": {"finalizers": ["example.com/keep", "bad name", "orphan", "foregroundDeletion"]}}),
    );
    let errs = errors(Kind::Job, &j);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].starts_with("metadata.finalizers: Invalid value: \"bad name\": name part must consist of")
    );
    assert_eq!(
        errs[1],
        "metadata.finalizers: Invalid value: []string{\"example.com/keep\", \"bad name\", \"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set"
    );
    assert!(errors(
        Kind::CronJob,
        &cronjob(json!({"metadata": {"finalizers": ["orphan"]}}))
    )
    .is_empty());
}

/// apimachinery objectmeta.go `validateOwnerReference`/`ValidateOwnerReferences`.
#[test]
fn rejects_incomplete_owner_references_and_two_controllers() {
    let j = cronjob(json!({"metadata": {"ownerReferences": [
        {"apiVersion": "apps/", "kind": "", "name": "a", "uid": "u1", "controller": true},
        {"apiVersion": "v1", "kind": "Event", "name": "", "uid": "u2", "controller": true}
    ]}}));
    let errs = errors(Kind::CronJob, &j);
    assert_eq!(
        errs[..4],
        [
            "metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be empty",
            "metadata.ownerReferences.kind: Invalid value: \"\": kind must not be empty",
            "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty",
            "metadata.ownerReferences: Invalid value: v1.OwnerReference{APIVersion:\"v1\", Kind:\"Event\", Name:\"\", UID:\"u2\", Controller:(*bool)(0xc000000000), BlockOwnerDeletion:(*bool)(nil)}: /v1, Kind=Event is disallowed from being an owner",
        ]
    );
    assert_eq!(errs.len(), 5, "{errs:?}");
    assert!(errs[4].ends_with(
        "Only one reference can have Controller set to true. Found \"true\" in references for /a and Event/"
    ));
    let ok = job(json!({"metadata": {"ownerReferences": [
        {"apiVersion": "batch/v1", "kind": "CronJob", "name": "n", "uid": "u", "controller": true}
    ]}}));
    assert!(errors(Kind::Job, &ok).is_empty());
}

/// `ValidateObjectMetaUpdate` checks owner references on update too.
#[test]
fn checks_owner_references_on_cronjob_update() {
    let mut stored = cronjob(json!({}));
    crate::apiserver::apply_defaults(Kind::CronJob, &mut stored);
    let mut owned = stored.clone();
    owned["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "c"}]);
    assert_eq!(
        update_errors(Kind::CronJob, &owned, &stored),
        vec!["metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"]
    );
}

/// `ValidateImmutableField(spec.PodFailurePolicy, ...)` prints the new policy with `%#v`.
#[test]
fn prints_an_immutable_pod_failure_policy_in_go_syntax() {
    let mut stored = job(json!({"metadata": {"uid": "u-1"}}));
    crate::apiserver::prepare_for_create(Kind::Job, &mut stored);
    let mut changed = stored.clone();
    changed["spec"]["podFailurePolicy"] =
        json!({"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [1]}}]});
    changed["spec"]["podReplacementPolicy"] = json!("Failed");
    let errs = update_errors(Kind::Job, &changed, &stored);
    let want = "spec.podFailurePolicy: Invalid value: batch.PodFailurePolicy{Rules:[]batch.PodFailurePolicyRule{batch.PodFailurePolicyRule{Action:\"Ignore\", OnExitCodes:(*batch.PodFailurePolicyOnExitCodesRequirement)(0xc000000000), OnPodConditions:[]batch.PodFailurePolicyOnPodConditionsPattern(nil)}}}: field is immutable";
    assert!(errs.contains(&want.to_string()), "{errs:?}");
}

/// kubectl sends YAML `-9223372036854775809` as the float -2^63, which Go decodes into the
/// int64 and `ValidateNonnegativeField` then rejects.
#[test]
fn rejects_the_most_negative_int64_sent_as_a_float() {
    let j = job(json!({"spec": {"activeDeadlineSeconds": -9.223372036854776e18}}));
    assert_eq!(
        errors(Kind::Job, &j),
        vec!["spec.activeDeadlineSeconds: Invalid value: -9223372036854775808: must be greater than or equal to 0"]
    );
}

/// `SetDefaults_Job` makes empty `metadata.labels` the template's label map itself, so the
/// generated `job-name` labels are checked under `metadata.labels` first (by
/// `ValidateObjectMeta`), then under the template. Without template labels the two stay
/// apart, as the corpus's 64-character name shows.
#[test]
fn generated_labels_are_checked_under_metadata_labels_when_the_template_had_labels() {
    let name = "a".repeat(64);
    let too_long = format!("Invalid value: \"{name}\": must be no more than 63 characters");
    let with_template_labels = job(json!({"metadata": {"name": name},
        "spec": {"template": {"metadata": {"labels": {"app": "demo"}}}}}));
    assert_eq!(
        errors(Kind::Job, &with_template_labels),
        vec![
            format!("metadata.labels: {too_long}"),
            format!("metadata.labels: {too_long}"),
            format!("spec.template.labels: {too_long}"),
            format!("spec.template.labels: {too_long}"),
        ]
    );
    let own_labels = job(json!({"metadata": {"name": name, "labels": {"team": "a"}},
        "spec": {"template": {"metadata": {"labels": {"app": "demo"}}}}}));
    assert_eq!(
        errors(Kind::Job, &own_labels),
        vec![
            format!("spec.template.labels: {too_long}"),
            format!("spec.template.labels: {too_long}")
        ]
    );
}

/// A UID in the manifest (an exported Job applied again) is replaced on create, so labels
/// and a selector copied from the old Job no longer match the generated ones.
#[test]
fn an_exported_jobs_uid_labels_are_refused_on_create() {
    let exported = job(json!({"metadata": {"uid": "u-1"}, "spec": {
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
        "template": {"metadata": {"labels": {
            "batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "report",
            "controller-uid": "u-1", "job-name": "report"}}}}}));
    let fields: Vec<String> = errors(Kind::Job, &exported)
        .into_iter()
        .map(|e| e.split(": ").next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        fields,
        [
            "spec.template.metadata.labels[controller-uid]",
            "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]",
            "spec.selector",
        ]
    );
}

/// kubectl's strict field validation: one 400 names every unknown field, in sorted-key
/// order with Go's `[i]` indexes; a type error wins over them, as in the API server's
/// decoder (strict errors are reported only when decoding succeeded).
#[test]
fn unknown_fields_are_a_strict_decoding_error() {
    let typos = cronjob(
        json!({"metadata": {"lables": {"a": "b"}}, "spec": {"concurrencyPolcy": "Forbid",
        "jobTemplate": {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": "busybox:1.36", "imagePullPolcy": "Always"}]}}}}}}),
    );
    let found = findings(Kind::CronJob, &typos, &Policy::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, RuleId::DecodeError);
    assert_eq!(found[0].field, "metadata.lables");
    assert_eq!(
        found[0].message,
        "CronJob in version \"v1\" cannot be handled as a CronJob: strict decoding error: \
         unknown field \"metadata.lables\", unknown field \"spec.concurrencyPolcy\", \
         unknown field \"spec.jobTemplate.spec.template.spec.containers[0].imagePullPolcy\""
    );
    let mut mistyped = typos.clone();
    mistyped["spec"]["suspend"] = json!("true");
    let found = findings(Kind::CronJob, &mistyped, &Policy::default());
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.contains("cannot unmarshal string"),
        "{}",
        found[0].message
    );
    // Maps hold any key: labels, annotations, resource limits are not fields.
    let maps = job(
        json!({"metadata": {"annotations": {"x/y": "z"}}, "spec": {"template": {"spec": {
        "nodeSelector": {"any": "key"},
        "containers": [{"name": "main", "image": "busybox:1.36", "resources": {"limits": {"example.com/gpu": "1"}}}]}}}}),
    );
    assert_eq!(errors(Kind::Job, &maps), Vec::<String>::new());
}

/// The decoder reads what the user wrote, before any defaulting: a mistyped `metadata.uid`
/// is refused although the API server replaces the UID afterwards, and a mistyped template
/// label is reported where it is written, not where defaulting copies it.
#[test]
fn decodes_the_manifest_as_written() {
    let bad_uid = job(json!({"metadata": {"uid": 5}}));
    let found = findings(Kind::Job, &bad_uid, &Policy::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].rule, found[0].field.as_str()),
        (RuleId::DecodeError, "metadata.uid")
    );
    let bad_label = job(json!({"spec": {"template": {"metadata": {"labels": {"v": 1}}}}}));
    let found = findings(Kind::Job, &bad_label, &Policy::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].rule, found[0].field.as_str()),
        (RuleId::DecodeError, "spec.template.metadata.labels[v]")
    );
}

#[test]
fn writes_locations_as_go_field_paths() {
    let key = |k: &str| Segment::Key(k.to_string());
    assert_eq!(
        Segment::dotted(&[key("spec"), key("containers"), Segment::Index(0), key("image")]),
        "spec.containers[0].image"
    );
    assert_eq!(
        Segment::dotted(&[Segment::Index(2), key("a"), Segment::Index(0), Segment::Index(1)]),
        "[2].a[0][1]"
    );
    assert_eq!(Segment::dotted(&[]), "");
}
