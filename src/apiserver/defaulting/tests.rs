use super::pod::image_tag;
use super::*;
use serde_json::json;

#[test]
fn defaults_a_bare_job() {
    let mut job = json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
    apply_defaults(Kind::Job, &mut job);
    let spec = &job["spec"];
    assert_eq!(spec["completions"], 1);
    assert_eq!(spec["parallelism"], 1);
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert_eq!(spec["manualSelector"], false);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
}

#[test]
fn keeps_completions_nil_when_only_parallelism_is_set() {
    let mut job = json!({"spec": {"parallelism": 3}});
    apply_defaults(Kind::Job, &mut job);
    assert!(job["spec"].get("completions").is_none());
}

#[test]
fn defaults_empty_plain_strings_but_not_pointer_strings() {
    let mut job = json!({"spec": {"completionMode": "", "podReplacementPolicy": "", "template": {"spec": {"restartPolicy": ""}}}});
    apply_defaults(Kind::Job, &mut job);
    assert_eq!(job["spec"]["completionMode"], "");
    assert_eq!(job["spec"]["podReplacementPolicy"], "");
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Always");
    let mut cj = json!({"spec": {"concurrencyPolicy": ""}});
    apply_defaults(Kind::CronJob, &mut cj);
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
}

#[test]
fn defaults_condition_status_for_jobs_only() {
    let pfp = json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]});
    let mut job = json!({"spec": {"podFailurePolicy": pfp.clone()}});
    apply_defaults(Kind::Job, &mut job);
    assert_eq!(
        job["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
        "True"
    );
    assert_eq!(job["spec"]["podReplacementPolicy"], "Failed");
    let mut cj = json!({"spec": {"jobTemplate": {"spec": {"podFailurePolicy": pfp}}}});
    apply_defaults(Kind::CronJob, &mut cj);
    let pattern = &cj["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0];
    assert!(pattern.get("status").is_none());
    assert!(cj["spec"]["jobTemplate"]["spec"].get("backoffLimit").is_none());
}

#[test]
fn copies_template_labels_to_the_job() {
    let mut job = json!({"metadata": {}, "spec": {"template": {"metadata": {"labels": {"app": "x"}}}}});
    apply_defaults(Kind::Job, &mut job);
    assert_eq!(job["metadata"]["labels"], json!({"app": "x"}));
}

#[test]
fn generates_name_and_selector() {
    let prefix = "p".repeat(60);
    let mut job = json!({"metadata": {"generateName": prefix}, "spec": {"template": {"metadata": {"labels": {"job-name": "mine"}}}}});
    prepare_for_create(Kind::Job, &mut job);
    let name = job["metadata"]["name"].as_str().expect("generated");
    assert_eq!(name.len(), 63);
    assert!(name.ends_with("xxxxx"));
    let labels = &job["spec"]["template"]["metadata"]["labels"];
    assert_eq!(labels["job-name"], "mine");
    assert_eq!(labels["batch.kubernetes.io/job-name"], name);
    assert_eq!(labels["controller-uid"], PLACEHOLDER_UID);
    assert_eq!(
        job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
        PLACEHOLDER_UID
    );
}

#[test]
fn leaves_manual_selectors_alone() {
    let mut job = json!({"metadata": {"name": "j"}, "spec": {"manualSelector": true, "selector": {"matchLabels": {"app": "x"}}}});
    prepare_for_create(Kind::Job, &mut job);
    assert_eq!(job["spec"]["selector"], json!({"matchLabels": {"app": "x"}}));
}

/// What the webhook receives has been through the API server already: defaulting it
/// again changes nothing.
#[test]
fn defaulting_a_prepared_object_changes_nothing() {
    for labels in [json!(null), json!({}), json!({"app": "x"})] {
        let mut job = json!({"metadata": {"name": "j"}, "spec": {"template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "c", "image": "a:1"}]}}}});
        prepare_for_create(Kind::Job, &mut job);
        let once = job.clone();
        apply_defaults(Kind::Job, &mut job);
        assert_eq!(job, once);
    }
}

/// `FillObjectMetaSystemFields` gives every created object a new UID, so a UID in the
/// manifest (an exported Job) never reaches the generated labels and selector.
#[test]
fn a_manifest_uid_is_replaced() {
    let mut job = json!({"metadata": {"name": "j", "uid": "u-1"}, "spec": {
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
        "template": {"metadata": {"labels": {"controller-uid": "u-1"}}}}});
    prepare_for_create(Kind::Job, &mut job);
    assert_eq!(job["metadata"]["uid"], PLACEHOLDER_UID);
    let labels = &job["spec"]["template"]["metadata"]["labels"];
    assert_eq!(labels["batch.kubernetes.io/controller-uid"], PLACEHOLDER_UID);
    assert_eq!(labels["controller-uid"], "u-1", "a label the user set is kept");
}

/// `SetDefaults_Job` assigns the template's label map to empty `metadata.labels`, so
/// the labels `generateSelector` adds to the template show up there too; without
/// template labels there is nothing to share.
#[test]
fn generated_labels_reach_metadata_labels_only_when_the_map_is_shared() {
    let generated = [
        "job-name",
        "batch.kubernetes.io/job-name",
        "controller-uid",
        "batch.kubernetes.io/controller-uid",
    ];
    for (meta_labels, template_labels, shared) in [
        (json!(null), json!({"app": "x"}), true),
        (json!({}), json!({}), true),
        (json!(null), json!(null), false),
        (json!({"team": "a"}), json!({"app": "x"}), false),
    ] {
        let mut job = json!({"metadata": {"name": "j", "labels": meta_labels}, "spec": {"template": {
            "metadata": {"labels": template_labels}}}});
        prepare_for_create(Kind::Job, &mut job);
        let labels = &job["metadata"]["labels"];
        for key in generated {
            assert_eq!(labels.get(key).is_some(), shared, "{key} in {labels}");
        }
    }
}

#[test]
fn reads_image_tags() {
    assert_eq!(image_tag("busybox"), "latest");
    assert_eq!(image_tag("busybox:1.36"), "1.36");
    assert_eq!(image_tag("localhost:5000/app"), "latest");
    assert_eq!(image_tag("app@sha256:abc"), "");
    assert_eq!(image_tag("app:latest"), "latest");
}

fn pod_of(spec: Value) -> Value {
    let mut job = json!({"spec": {"template": {"spec": spec}}});
    apply_defaults(Kind::Job, &mut job);
    job["spec"]["template"]["spec"].clone()
}

#[test]
fn gives_a_volume_without_a_source_an_empty_dir() {
    let pod = pod_of(json!({"volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]}));
    assert_eq!(pod["volumes"][0]["emptyDir"], json!({}));
    assert!(pod["volumes"][1].get("emptyDir").is_none());
    assert_eq!(pod["volumes"][1]["configMap"]["defaultMode"], 420);
}

#[test]
fn defaults_probe_fields_written_as_zero() {
    let probe = json!({"exec": {"command": ["true"]}, "periodSeconds": 0, "failureThreshold": 5});
    let pod = pod_of(json!({"containers": [{"name": "c", "image": "i", "livenessProbe": probe}]}));
    let probe = &pod["containers"][0]["livenessProbe"];
    assert_eq!(probe["periodSeconds"], 10);
    assert_eq!(probe["failureThreshold"], 5);
    assert_eq!(probe["timeoutSeconds"], 1);
}

#[test]
fn drops_image_volumes_with_their_mounts_and_resets_proc_mount() {
    let pod = pod_of(json!({
        "hostUsers": false,
        "volumes": [{"name": "model", "image": {"reference": "r"}}, {"name": "data", "emptyDir": {}}],
        "containers": [{"name": "c", "image": "i",
            "securityContext": {"procMount": "Unmasked"},
            "volumeMounts": [{"name": "model", "mountPath": "/m"}, {"name": "data", "mountPath": "/d"}]}]}));
    assert!(pod.get("hostUsers").is_none());
    assert_eq!(pod["volumes"], json!([{"name": "data", "emptyDir": {}}]));
    let c = &pod["containers"][0];
    assert_eq!(c["volumeMounts"], json!([{"name": "data", "mountPath": "/d"}]));
    assert_eq!(c["securityContext"]["procMount"], "Default");
}

#[test]
fn tells_whether_a_template_holds_disabled_fields() {
    assert!(has_disabled_pod_fields(&json!({"spec": {"resources": {}}})));
    assert!(has_disabled_pod_fields(
        &json!({"spec": {"containers": [{"resizePolicy": []}]}})
    ));
    assert!(!has_disabled_pod_fields(
        &json!({"spec": {"containers": [{"securityContext": {"procMount": "Default"}}]}})
    ));
    assert!(!has_disabled_pod_fields(&json!({"spec": {"hostUsers": null}})));
}

/// The captured mutating requests carry exactly the API server's defaults for the
/// manifests in `tests/data/admission/*.template.yaml`.
#[test]
fn matches_the_defaults_a_real_api_server_applied() {
    for (kind, template, capture) in [
        (Kind::Job, "job.template.yaml", "job-create.mutate.json"),
        (
            Kind::CronJob,
            "cronjob.template.yaml",
            "cronjob-create.mutate.json",
        ),
    ] {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/admission/");
        let yaml = std::fs::read_to_string(format!("{dir}{template}")).expect("template");
        let review: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}{capture}")).expect("capture"))
                .expect("json");
        let mut want = review["request"]["object"]["spec"].clone();
        strip_artifacts(&mut want);
        let docs = crate::yaml::parse_stream(&yaml);
        let mut obj = docs
            .into_iter()
            .next()
            .and_then(Result::ok)
            .and_then(|d| d.value)
            .expect("template parses");
        apply_defaults(kind, &mut obj);
        let mut got = obj["spec"].clone();
        strip_artifacts(&mut got);
        assert_eq!(got, want, "{template}");
    }
}

/// Serialization artifacts of the captured object that are not defaults.
fn strip_artifacts(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("creationTimestamp");
            m.remove("resources");
            if m.get("metadata")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                m.remove("metadata");
            }
            for child in m.values_mut() {
                strip_artifacts(child);
            }
            if m.get("metadata")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                m.remove("metadata");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_artifacts),
        _ => {}
    }
}
