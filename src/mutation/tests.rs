//! The mutation on hand-made objects: which defaults apply, evidence of user choice, updates.

use super::*;
use crate::policy::ActiveDeadline;
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
        .map(|a| (a.field.to_string(), a.value.clone()))
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
        m.applied[0].warning(true),
        "batchguard set spec.concurrencyPolicy=Forbid (API default Allow was not chosen explicitly); \
         to keep Allow, set it with kubectl apply or annotate batchguard.io/keep: concurrencyPolicy"
    );
    assert_eq!(
        m.applied[3].warning(true),
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
        m.applied.last().map(|a| a.warning(true)).as_deref(),
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
fn patch_paths_escape_slash_and_tilde() {
    let m = Mutation {
        applied: vec![Applied {
            field: "metadata.annotations.batchguard.io/keep",
            path: &["metadata", "annotations", "batchguard.io/keep~x"],
            pointer: json_patch::jsonptr::Pointer::from_static(
                "/metadata/annotations/batchguard.io~1keep~0x",
            ),
            op: PatchOp::Add,
            value: json!("a \"b\""),
            detail: String::new(),
        }],
    };
    let text = serde_json::to_string(&m.patch()).expect("a patch serializes");
    assert_eq!(
        text,
        r#"[{"op":"add","path":"/metadata/annotations/batchguard.io~1keep~0x","value":"a \"b\""}]"#
    );
}

/// Each target's three spellings (tokens, printed field, JSON Pointer) name one field.
#[test]
fn targets_spell_their_field_alike() {
    use json_patch::jsonptr::PointerBuf;
    for t in TARGETS {
        assert_eq!(t.field, t.path.join("."), "{t:?}");
        assert_eq!(
            t.pointer,
            PointerBuf::from_tokens(t.path.iter().copied()).as_ptr(),
            "{t:?}"
        );
    }
}
