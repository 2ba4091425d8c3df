//! The pod-template rules, one behaviour per case, each checked against the exact causes
//! (field and message, in the API server's order) of a manifest as a user writes it.

use rstest::rstest;
use serde_json::{json, Value};

use crate::policy::Policy;
use crate::rules::{check_manifest, Context, Kind, Operation, RuleId, Severity};

fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// A Job whose pod spec is the valid base with `patch` merged in (lists are replaced).
fn job(patch: Value) -> Value {
    let mut spec = json!({
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox:1.36"}],
    });
    merge(&mut spec, &patch);
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pod-rules"},
        "spec": {"template": {"spec": spec}},
    })
}

/// A base container with `patch` merged in.
fn container(patch: Value) -> Value {
    let mut c = json!({"name": "main", "image": "busybox:1.36"});
    merge(&mut c, &patch);
    c
}

fn ctx() -> Context<'static> {
    Context {
        operation: Operation::Create,
        old: None,
        now: chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("instant")
            .with_timezone(&chrono::Utc),
    }
}

/// The errors as `field: message`, in order.
fn errors(manifest: &Value) -> Vec<String> {
    check_manifest(Kind::Job, manifest, &Policy::default(), &ctx())
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect()
}

/// The warnings as `field: message`.
fn warnings(manifest: &Value) -> Vec<String> {
    check_manifest(Kind::Job, manifest, &Policy::default(), &ctx())
        .into_iter()
        .filter(|f| f.severity == Severity::Warning && f.rule == super::DEPRECATED)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect()
}

const C: &str = "spec.template.spec.containers[0]";
const P: &str = "spec.template.spec";

fn at(prefix: &str, rest: &str) -> String {
    format!("{prefix}{rest}")
}

#[test]
fn accepts_the_base_template() {
    assert!(errors(&job(json!({}))).is_empty());
}

/// What the API server lets through in a template although it looks wrong.
#[rstest]
#[case::image_with_trailing_space(json!({"containers": [container(json!({"image": "busybox:1.36 "}))]}))]
#[case::image_no_valid_reference(json!({"containers": [container(json!({"image": "BusyBox::Latest"}))]}))]
#[case::relaxed_env_names(json!({"containers": [container(json!({"env": [{"name": "MY-VAR", "value": "1"}, {"name": "1_", "value": "2"}], "envFrom": [{"prefix": "1_", "configMapRef": {"name": "c"}}]}))]}))]
#[case::relative_mount_path(json!({"volumes": [{"name": "w"}], "containers": [container(json!({"volumeMounts": [{"name": "w", "mountPath": "work"}, {"name": "w", "mountPath": "/data/../etc"}]}))]}))]
#[case::volume_without_source(json!({"volumes": [{"name": "scratch"}], "containers": [container(json!({"volumeMounts": [{"name": "scratch", "mountPath": "/s"}]}))]}))]
#[case::host_ip_not_checked(json!({"containers": [container(json!({"ports": [{"containerPort": 80, "hostPort": 80, "hostIP": "not-an-ip"}]}))]}))]
#[case::gt_value_not_checked(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["abc"]}]}]}}}}))]
#[case::unknown_resource_field_container(json!({"containers": [container(json!({"env": [{"name": "X", "valueFrom": {"resourceFieldRef": {"containerName": "other", "resource": "limits.cpu"}}}]}))]}))]
#[case::empty_dir_medium_not_checked(json!({"volumes": [{"name": "m", "emptyDir": {"medium": "tmpfs"}}]}))]
#[case::host_network_without_host_port(json!({"hostNetwork": true, "containers": [container(json!({"ports": [{"containerPort": 8080}]}))]}))]
#[case::zero_probe_timeout_is_defaulted(json!({"containers": [container(json!({"livenessProbe": {"exec": {"command": ["true"]}, "timeoutSeconds": 0, "periodSeconds": 0}}))]}))]
#[case::sidecar_with_probes(json!({"initContainers": [container(json!({"name": "proxy", "restartPolicy": "Always", "readinessProbe": {"tcpSocket": {"port": 5432}}, "startupProbe": {"tcpSocket": {"port": "pg"}}}))]}))]
#[case::service_accounts_that_differ(json!({"serviceAccount": "backup-sa", "serviceAccountName": "report-sa"}))]
#[case::odd_hugepage_size(json!({"containers": [container(json!({"resources": {"limits": {"memory": "256Mi", "hugepages-3Mi": "3Mi"}, "requests": {"memory": "256Mi", "hugepages-3Mi": "3Mi"}}}))]}))]
#[case::fields_of_disabled_features_are_dropped(json!({"hostUsers": false, "resources": {"limits": {"cpu": "-1"}}, "volumes": [{"name": "img", "image": {"reference": "x", "pullPolicy": "Sometimes"}}], "containers": [container(json!({"resizePolicy": [{"resourceName": "cpu", "restartPolicy": "Sometimes"}], "securityContext": {"procMount": "Bogus"}, "volumeMounts": [{"name": "img", "mountPath": "/img"}]}))]}))]
#[case::octal_default_mode(json!({"volumes": [{"name": "s", "secret": {"secretName": "s", "defaultMode": 0o644}}]}))]
fn accepts_what_the_api_server_accepts(#[case] patch: Value) {
    assert_eq!(errors(&job(patch)), Vec::<String>::new());
}

#[rstest]
#[case::upper_case_name(json!({"containers": [container(json!({"name": "Main"}))]}),
    vec![at(C, ".name: Invalid value: \"Main\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")])]
#[case::init_container_reusing_a_name(json!({"initContainers": [container(json!({}))]}),
    vec![at(P, ".initContainers[0].name: Duplicate value: \"main\"")])]
#[case::empty_image(json!({"containers": [container(json!({"image": ""}))]}),
    vec![at(C, ".image: Required value")])]
#[case::pull_policy_case(json!({"containers": [container(json!({"imagePullPolicy": "ifNotPresent"}))]}),
    vec![at(C, ".imagePullPolicy: Unsupported value: \"ifNotPresent\": supported values: \"Always\", \"IfNotPresent\", \"Never\"")])]
#[case::termination_message_policy(json!({"containers": [container(json!({"terminationMessagePolicy": "Logs"}))]}),
    vec![at(C, ".terminationMessagePolicy: Unsupported value: \"Logs\": supported values: \"File\", \"FallbackToLogsOnError\"")])]
#[case::restart_policy_on_a_container(json!({"containers": [container(json!({"restartPolicy": "Always"}))]}),
    vec![at(C, ".restartPolicy: Forbidden: may not be set for non-init containers")])]
#[case::init_restart_policy_other_than_always(json!({"initContainers": [container(json!({"name": "i", "restartPolicy": "Never"}))]}),
    vec![at(P, ".initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"")])]
#[case::probe_on_a_regular_init_container(json!({"initContainers": [container(json!({"name": "i", "lifecycle": {}}))]}),
    vec![at(P, ".initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always")])]
#[case::protocol_case(json!({"containers": [container(json!({"ports": [{"containerPort": 80, "protocol": "tcp"}]}))]}),
    vec![at(C, ".ports[0].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\"")])]
#[case::zero_container_port(json!({"containers": [container(json!({"ports": [{"containerPort": 0}]}))]}),
    vec![at(C, ".ports[0].containerPort: Required value")])]
#[case::duplicate_port_name(json!({"containers": [container(json!({"ports": [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]}))]}),
    vec![at(C, ".ports[1].name: Duplicate value: \"http\"")])]
#[case::host_port_differs_under_host_network(json!({"hostNetwork": true, "containers": [container(json!({"ports": [{"containerPort": 80, "hostPort": 81}]}))]}),
    vec![at(C, ".ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true")])]
#[case::host_port_bound_twice(json!({"containers": [container(json!({"ports": [{"containerPort": 80, "hostPort": 8080}]})), container(json!({"name": "b", "ports": [{"containerPort": 81, "hostPort": 8080}]}))]}),
    vec![at(P, ".containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\"")])]
#[case::init_host_ports_always_say_index_zero(json!({"initContainers": [container(json!({"name": "a"})), container(json!({"name": "b", "ports": [{"containerPort": 1, "hostPort": 5}, {"containerPort": 2, "hostPort": 5}]}))]}),
    vec![at(P, ".initContainers[0].ports[1].hostPort: Duplicate value: \"TCP//5\"")])]
fn rejects_container_mistakes(#[case] patch: Value, #[case] want: Vec<String>) {
    assert_eq!(errors(&job(patch)), want);
}

#[rstest]
#[case::equals_sign_in_name(json!([{"name": "MY=VAR", "value": "1"}]), vec![".env[0].name: Invalid value: \"MY=VAR\": a valid environment variable name must consist only of printable ASCII characters other than '='"])]
#[case::two_sources(json!([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}, "configMapKeyRef": {"name": "c", "key": "k"}}}]), vec![".env[0].valueFrom: Invalid value: \"\": may not have more than one field specified at a time"])]
#[case::value_and_value_from(json!([{"name": "X", "value": "1", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]), vec![".env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"])]
#[case::no_source(json!([{"name": "X", "valueFrom": {}}]), vec![".env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"])]
#[case::secret_key_missing(json!([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s"}}}]), vec![".env[0].valueFrom.secretKeyRef.key: Required value"])]
#[case::bad_config_map_key(json!([{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "a/b"}}}]), vec![".env[0].valueFrom.configMapKeyRef.key: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"])]
#[case::unsupported_field_path(json!([{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}]), vec![".env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\""])]
#[case::unknown_field_path(json!([{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]), vec![".env[0].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.bogus\": error converting fieldPath: field label not supported: spec.bogus"])]
#[case::bad_resource_field(json!([{"name": "X", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}}]), vec![".env[0].valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\": supported values: \"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", \"requests.ephemeral-storage\", \"requests.memory\""])]
fn rejects_env_mistakes(#[case] env: Value, #[case] want: Vec<&str>) {
    let manifest = job(json!({"containers": [container(json!({"env": env}))]}));
    let want: Vec<String> = want.iter().map(|w| at(C, w)).collect();
    assert_eq!(errors(&manifest), want);
}

#[rstest]
#[case::both_refs(json!([{"configMapRef": {"name": "c"}, "secretRef": {"name": "s"}}]), vec![".envFrom: Invalid value: \"\": may not have more than one field specified at a time"])]
#[case::no_ref(json!([{"prefix": "A_"}]), vec![".envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"])]
#[case::prefix_with_equals(json!([{"prefix": "APP=", "configMapRef": {"name": "c"}}]), vec![".envFrom[0].prefix: Invalid value: \"APP=\": a valid environment variable name must consist only of printable ASCII characters other than '='"])]
#[case::empty_name(json!([{"secretRef": {"name": ""}}]), vec![".envFrom[0].secretRef.name: Required value"])]
fn rejects_env_from_mistakes(#[case] env_from: Value, #[case] want: Vec<&str>) {
    let manifest = job(json!({"containers": [container(json!({"envFrom": env_from}))]}));
    let want: Vec<String> = want.iter().map(|w| at(C, w)).collect();
    assert_eq!(errors(&manifest), want);
}

#[rstest]
#[case::request_above_limit(json!({"requests": {"cpu": "1"}, "limits": {"cpu": "500m"}}), vec![".resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m"])]
#[case::limit_in_canonical_form(json!({"requests": {"memory": "1.5Gi"}, "limits": {"memory": "1Gi"}}), vec![".resources.requests: Invalid value: \"1536Mi\": must be less than or equal to memory limit of 1Gi"])]
#[case::misspelt_name(json!({"requests": {"mem": "1Gi"}}), vec![".resources.requests[mem]: Invalid value: mem: must be a standard resource type or fully qualified", ".resources.requests[mem]: Invalid value: mem: must be a standard resource for containers"])]
#[case::negative(json!({"limits": {"cpu": "-1"}}), vec![".resources.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"])]
#[case::fractional_extended_resource(json!({"limits": {"example.com/foo": "500m"}, "requests": {"example.com/foo": "500m"}}), vec![".resources.limits[example.com/foo]: Invalid value: 500m: must be an integer", ".resources.requests[example.com/foo]: Invalid value: 500m: must be an integer"])]
#[case::extended_resource_without_limit(json!({"requests": {"example.com/foo": "1"}}), vec![".resources.limits: Required value: Limit must be set for non overcommitable resources"])]
#[case::hugepages_alone(json!({"limits": {"hugepages-2Mi": "2Mi"}, "requests": {"hugepages-2Mi": "2Mi"}}), vec![".resources: Forbidden: HugePages require cpu or memory"])]
#[case::hugepages_not_a_multiple(json!({"limits": {"memory": "1Gi", "hugepages-2Mi": "3Mi"}}), vec![".resources.limits[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive integer multiple of hugepages-2Mi"])]
fn rejects_resource_mistakes(#[case] resources: Value, #[case] want: Vec<&str>) {
    let manifest = job(json!({"containers": [container(json!({"resources": resources}))]}));
    let want: Vec<String> = want.iter().map(|w| at(C, w)).collect();
    assert_eq!(errors(&manifest), want);
}

#[rstest]
#[case::no_handler(json!({"livenessProbe": {"periodSeconds": 5}}), vec![".livenessProbe: Required value: must specify a handler type"])]
#[case::two_handlers(json!({"readinessProbe": {"exec": {"command": ["x"]}, "httpGet": {"port": 80}}}), vec![".readinessProbe.httpGet: Forbidden: may not specify more than 1 handler type"])]
#[case::liveness_success_threshold(json!({"livenessProbe": {"exec": {"command": ["x"]}, "successThreshold": 3}}), vec![".livenessProbe.successThreshold: Invalid value: 3: must be 1"])]
#[case::negative_period(json!({"startupProbe": {"exec": {"command": ["x"]}, "periodSeconds": -10}}), vec![".startupProbe.periodSeconds: Invalid value: -10: must be greater than or equal to 0"])]
#[case::readiness_grace_period(json!({"readinessProbe": {"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": 10}}), vec![".readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set for readinessProbes"])]
#[case::lower_case_scheme(json!({"livenessProbe": {"httpGet": {"port": 80, "scheme": "http"}}}), vec![".livenessProbe.httpGet.scheme: Unsupported value: \"http\": supported values: \"HTTP\", \"HTTPS\""])]
#[case::numeric_port_name(json!({"livenessProbe": {"tcpSocket": {"port": "8080"}}}), vec![".livenessProbe.tcpSocket.port: Invalid value: \"8080\": must contain at least one letter (a-z)"])]
#[case::port_out_of_range(json!({"livenessProbe": {"grpc": {"port": 0}}}), vec![".livenessProbe.grpc.port: Invalid value: 0: must be between 1 and 65535, inclusive"])]
#[case::empty_exec(json!({"livenessProbe": {"exec": {}}}), vec![".livenessProbe.exec.command: Required value"])]
#[case::zero_sleep(json!({"lifecycle": {"preStop": {"sleep": {"seconds": 0}}}}), vec![".lifecycle.preStop.sleep: Invalid value: 0: must be greater than 0 and less than terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."])]
#[case::bad_header(json!({"lifecycle": {"postStart": {"httpGet": {"port": 80, "httpHeaders": [{"name": "X Y", "value": "1"}]}}}}), vec![".lifecycle.postStart.httpGet.httpHeaders: Invalid value: \"X Y\": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"])]
fn rejects_probe_and_hook_mistakes(#[case] patch: Value, #[case] want: Vec<&str>) {
    let manifest = job(json!({"containers": [container(patch)]}));
    let want: Vec<String> = want.iter().map(|w| at(C, w)).collect();
    assert_eq!(errors(&manifest), want);
}

/// An invalid volume is unknown to its mounts too: each mount of it is "Not found".
#[rstest]
#[case::upper_case_name(json!({"name": "Config", "emptyDir": {}}), "Config", vec![".volumes[0].name: Invalid value: \"Config\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"])]
#[case::decimal_mode_meant_octal(json!({"name": "v", "secret": {"secretName": "s", "defaultMode": 644}}), "v", vec![".volumes[0].secret.defaultMode: Invalid value: 644: must be a number between 0 and 0777 (octal), both inclusive"])]
#[case::item_path_with_backsteps(json!({"name": "v", "configMap": {"name": "c", "items": [{"key": "k", "path": "../etc/passwd"}]}}), "v", vec![".volumes[0].configMap.items[0].path: Invalid value: \"../etc/passwd\": must not contain '..'"])]
#[case::item_path_starting_with_dots(json!({"name": "v", "configMap": {"name": "c", "items": [{"key": "k", "path": "..data"}]}}), "v", vec![".volumes[0].configMap.items[0].path: Invalid value: \"..data\": must not start with '..'"])]
#[case::short_token(json!({"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 60}}]}}), "v", vec![".volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"])]
#[case::two_sources(json!({"name": "v", "emptyDir": {}, "cephfs": {"monitors": ["m"]}}), "v", vec![".volumes[0].cephFS: Forbidden: may not specify more than 1 volume type"])]
#[case::claim_without_name(json!({"name": "v", "persistentVolumeClaim": {}}), "v", vec![".volumes[0].persistentVolumeClaim.claimName: Required value"])]
#[case::relative_nfs_path(json!({"name": "v", "nfs": {"server": "s", "path": "data"}}), "v", vec![".volumes[0].nfs.path: Invalid value: \"data\": must be an absolute path"])]
#[case::host_path_type(json!({"name": "v", "hostPath": {"path": "/d", "type": "dir"}}), "v", vec![".volumes[0].hostPath.type: Unsupported value: \"dir\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\""])]
#[case::downward_item_without_source(json!({"name": "v", "downwardAPI": {"items": [{"path": "p"}]}}), "v", vec![".volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required"])]
#[case::claim_template_without_storage(json!({"name": "v", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}}), "v", vec![".volumes[0].ephemeral.volumeClaimTemplate.spec.resources[storage]: Required value"])]
#[case::csi_driver_name(json!({"name": "v", "csi": {"driver": "Secrets_Store"}}), "v", vec![".volumes[0].csi.driver: Invalid value: \"Secrets_Store\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"])]
fn rejects_volume_mistakes(#[case] volume: Value, #[case] name: &str, #[case] want: Vec<&str>) {
    let manifest = job(json!({
        "volumes": [volume],
        "containers": [container(json!({"volumeMounts": [{"name": name, "mountPath": "/v"}]}))],
    }));
    let mut want: Vec<String> = want.iter().map(|w| at(P, w)).collect();
    want.push(at(C, &format!(".volumeMounts[0].name: Not found: \"{name}\"")));
    assert_eq!(errors(&manifest), want);
}

#[test]
fn rejects_a_duplicate_volume_but_keeps_the_first() {
    let manifest = job(json!({
        "volumes": [{"name": "w", "emptyDir": {}}, {"name": "w", "emptyDir": {}}],
        "containers": [container(json!({"volumeMounts": [{"name": "w", "mountPath": "/w"}]}))],
    }));
    assert_eq!(
        errors(&manifest),
        vec![at(P, ".volumes[1].name: Duplicate value: \"w\"")]
    );
}

#[rstest]
#[case::unknown_volume(json!([{"name": "nope", "mountPath": "/x"}]), vec![".volumeMounts[0].name: Not found: \"nope\""])]
#[case::empty_mount_path(json!([{"name": "w", "mountPath": ""}]), vec![".volumeMounts[0].mountPath: Required value"])]
#[case::mount_path_twice(json!([{"name": "w", "mountPath": "/w"}, {"name": "w", "mountPath": "/w"}]), vec![".volumeMounts[1].mountPath: Invalid value: \"/w\": must be unique"])]
#[case::sub_path_backsteps_reported_without_index(json!([{"name": "w", "mountPath": "/w", "subPath": "../secrets"}]), vec![".volumeMounts.subPath: Invalid value: \"../secrets\": must not contain '..'"])]
#[case::absolute_sub_path(json!([{"name": "w", "mountPath": "/w", "subPath": "/abs"}]), vec![".volumeMounts.subPath: Invalid value: \"/abs\": must be a relative path"])]
#[case::sub_path_and_expr(json!([{"name": "w", "mountPath": "/w", "subPath": "a", "subPathExpr": "$(POD)"}]), vec![".volumeMounts[0].subPathExpr: Invalid value: \"$(POD)\": subPathExpr and subPath are mutually exclusive"])]
#[case::propagation_value(json!([{"name": "w", "mountPath": "/w", "mountPropagation": "Shared"}]), vec![".volumeMounts.mountPropagation: Unsupported value: \"Shared\": supported values: \"Bidirectional\", \"HostToContainer\", \"None\""])]
#[case::bidirectional_unprivileged(json!([{"name": "w", "mountPath": "/w", "mountPropagation": "Bidirectional"}]), vec![".volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers"])]
#[case::recursive_read_only_needs_read_only(json!([{"name": "w", "mountPath": "/w", "recursiveReadOnly": "Enabled"}]), vec![".volumeMounts.recursiveReadOnly: Forbidden: may only be specified when readOnly is true"])]
fn rejects_mount_mistakes(#[case] mounts: Value, #[case] want: Vec<&str>) {
    let manifest = job(json!({
        "volumes": [{"name": "w", "emptyDir": {}}],
        "containers": [container(json!({"volumeMounts": mounts}))],
    }));
    let want: Vec<String> = want.iter().map(|w| at(C, w)).collect();
    assert_eq!(errors(&manifest), want);
}

#[rstest]
#[case::negative_user(json!({"securityContext": {"runAsUser": -1}}), vec![".securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"])]
#[case::group_over_int32(json!({"securityContext": {"fsGroup": 2147483648u64}}), vec![".securityContext.fsGroup: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive"])]
#[case::net_sysctl_with_host_network(json!({"hostNetwork": true, "securityContext": {"sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1 2"}]}}), vec![".securityContext.sysctls[0].name: Invalid value: \"net.ipv4.ip_local_port_range\": may not be specified when 'hostNetwork' is true"])]
#[case::ipc_sysctl_with_host_ipc(json!({"hostIPC": true, "securityContext": {"sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}]}}), vec![".securityContext.sysctls[0].name: Invalid value: \"kernel.shm_rmid_forced\": may not be specified when 'hostIPC' is true"])]
#[case::bad_sysctl_name(json!({"securityContext": {"sysctls": [{"name": "Net.Core", "value": "1"}]}}), vec![".securityContext.sysctls[0].name: Invalid value: \"Net.Core\": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"])]
#[case::share_process_namespace_with_host_pid(json!({"hostPID": true, "shareProcessNamespace": true}), vec![".securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled"])]
#[case::seccomp_without_type(json!({"securityContext": {"seccompProfile": {}}}), vec![".securityContext.seccompProfile.type: Required value: type is required when seccompProfile is set"])]
#[case::localhost_seccomp_without_profile(json!({"securityContext": {"seccompProfile": {"type": "Localhost"}}}), vec![".securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost"])]
#[case::apparmor_type(json!({"securityContext": {"appArmorProfile": {"type": "enforce"}}}), vec![".securityContext.appArmorProfile.type: Unsupported value: \"enforce\": supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\""])]
#[case::fs_group_change_policy(json!({"securityContext": {"fsGroupChangePolicy": "Never"}}), vec![".securityContext.fsGroupChangePolicy: Unsupported value: \"Never\": supported values: \"Always\", \"OnRootMismatch\""])]
#[case::windows_pod_with_run_as_user(json!({"os": {"name": "windows"}, "securityContext": {"runAsUser": 1000}}), vec![".securityContext.runAsUser: Forbidden: cannot be set for a windows pod"])]
#[case::unknown_os(json!({"os": {"name": "darwin"}}), vec![".os: Unsupported value: \"darwin\": supported values: \"linux\", \"windows\""])]
fn rejects_pod_security_mistakes(#[case] patch: Value, #[case] want: Vec<&str>) {
    let want: Vec<String> = want.iter().map(|w| at(P, w)).collect();
    assert_eq!(errors(&job(patch)), want);
}

#[test]
fn prints_the_security_context_in_go_syntax() {
    let manifest = job(
        json!({"containers": [container(json!({"securityContext": {"privileged": true, "allowPrivilegeEscalation": false}}))]}),
    );
    assert_eq!(
        errors(&manifest),
        vec![at(C, ".securityContext: Invalid value: core.SecurityContext{Capabilities:(*core.Capabilities)(nil), Privileged:(*bool)(0xc000000000), SELinuxOptions:(*core.SELinuxOptions)(nil), WindowsOptions:(*core.WindowsSecurityContextOptions)(nil), RunAsUser:(*int64)(nil), RunAsGroup:(*int64)(nil), RunAsNonRoot:(*bool)(nil), ReadOnlyRootFilesystem:(*bool)(nil), AllowPrivilegeEscalation:(*bool)(0xc000000000), ProcMount:(*core.ProcMountType)(nil), SeccompProfile:(*core.SeccompProfile)(nil), AppArmorProfile:(*core.AppArmorProfile)(nil)}: cannot set `allowPrivilegeEscalation` to false and `privileged` to true")]
    );
}

#[rstest]
#[case::bad_apparmor_annotation(json!({"container.apparmor.security.beta.kubernetes.io/main": "enforce"}), vec!["spec.template.annotations[container.apparmor.security.beta.kubernetes.io/main]: Invalid value: \"enforce\": invalid AppArmor profile name: \"enforce\""])]
#[case::apparmor_annotation_for_no_container(json!({"container.apparmor.security.beta.kubernetes.io/sidecar": "runtime/default"}), vec!["spec.template.annotations[container.apparmor.security.beta.kubernetes.io/sidecar]: Invalid value: \"sidecar\": container not found"])]
#[case::bad_seccomp_annotation(json!({"seccomp.security.alpha.kubernetes.io/pod": "default"}), vec!["spec.template.annotations.seccomp.security.alpha.kubernetes.io/pod: Invalid value: \"default\": must be a valid seccomp profile"])]
#[case::deletion_cost_with_plus(json!({"controller.kubernetes.io/pod-deletion-cost": "+1"}), vec!["spec.template.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: \"+1\": must be a 32bit integer"])]
fn rejects_pod_annotation_mistakes(#[case] annotations: Value, #[case] want: Vec<&str>) {
    let mut manifest = job(json!({}));
    manifest["spec"]["template"]["metadata"] = json!({"annotations": annotations});
    assert_eq!(errors(&manifest), want);
}

#[rstest]
#[case::operator_exists_with_value(json!({"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]}), vec![".tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"])]
#[case::bad_value_reported_at_operator(json!({"tolerations": [{"key": "k", "value": "high memory"}]}), vec![".tolerations[0].operator: Invalid value: \"high memory\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"])]
#[case::seconds_without_no_execute(json!({"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 10}]}), vec![".tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"])]
#[case::in_without_values(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In"}]}]}}}}), vec![".affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"])]
#[case::zero_weight(json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "preference": {}}]}}}), vec![".affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"])]
#[case::empty_topology_key(json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}, "topologyKey": ""}]}}}), vec![".affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty", ".affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must be non-empty", ".affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"])]
#[case::when_unsatisfiable(json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Never", "labelSelector": {}}]}), vec![".topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: \"Never\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""])]
#[case::min_domains_with_schedule_anyway(json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "minDomains": 2, "labelSelector": {}}]}), vec![".topologySpreadConstraints[0].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"])]
#[case::same_key_twice(json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {}}, {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {}}]}), vec![".topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, DoNotSchedule}\""])]
#[case::match_label_key_in_selector(json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "matchLabelKeys": ["app"], "labelSelector": {"matchLabels": {"app": "x"}}}]}), vec![".topologySpreadConstraints[0].matchLabelKeys[0]: Invalid value: \"app\": exists in both matchLabelKeys and labelSelector"])]
#[case::node_selector_value(json!({"nodeSelector": {"tier": "high memory"}}), vec![".nodeSelector: Invalid value: \"high memory\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"])]
#[case::duplicate_scheduling_gate(json!({"schedulingGates": [{"name": "a/b"}, {"name": "a/b"}]}), vec![".schedulingGates[1]: Duplicate value: \"a/b\""])]
fn rejects_scheduling_mistakes(#[case] patch: Value, #[case] want: Vec<&str>) {
    let want: Vec<String> = want.iter().map(|w| at(P, w)).collect();
    assert_eq!(errors(&job(patch)), want);
}

#[rstest]
#[case::shell_variable_as_service_account(json!({"serviceAccountName": "$K8S_SA_NAME"}), vec![".serviceAccountName: Invalid value: \"$K8S_SA_NAME\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"])]
#[case::deprecated_service_account_checked_as_the_name(json!({"serviceAccount": "Backup_SA"}), vec![".serviceAccountName: Invalid value: \"Backup_SA\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"])]
#[case::dotted_hostname(json!({"hostname": "worker.example.com"}), vec![".hostname: Invalid value: \"worker.example.com\": must not contain dots"])]
#[case::dns_policy_case(json!({"dnsPolicy": "clusterFirst"}), vec![".dnsPolicy: Unsupported value: \"clusterFirst\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""])]
#[case::dns_none_without_config(json!({"dnsPolicy": "None"}), vec![".dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"])]
#[case::short_nameserver(json!({"dnsConfig": {"nameservers": ["8.8.8"]}}), vec![".dnsConfig.nameservers[0]: Invalid value: \"8.8.8\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"])]
#[case::host_alias_ip(json!({"hostAliases": [{"ip": "10.0.0", "hostnames": ["db"]}]}), vec![".hostAliases[0].ip: Invalid value: \"10.0.0\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"])]
#[case::zero_active_deadline(json!({"activeDeadlineSeconds": 0}), vec![".activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"])]
#[case::priority_class_name(json!({"priorityClassName": "High_Priority"}), vec![".priorityClassName: Invalid value: \"High_Priority\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"])]
#[case::preemption_policy(json!({"preemptionPolicy": "Always"}), vec![".preemptionPolicy: Unsupported value: \"Always\": supported values: \"PreemptLowerPriority\", \"Never\""])]
#[case::readiness_gate(json!({"readinessGates": [{"conditionType": "a/b/c"}]}), vec![".readinessGates[0].conditionType: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"])]
#[case::overhead_as_limits(json!({"overhead": {"cpu": "-1"}}), vec![".overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"])]
#[case::no_containers(json!({"containers": []}), vec![".containers: Required value"])]
#[case::ephemeral_containers(json!({"ephemeralContainers": [{"name": "debug", "image": "busybox", "targetContainerName": "main"}]}), vec![".ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"])]
fn rejects_pod_spec_mistakes(#[case] patch: Value, #[case] want: Vec<&str>) {
    let want: Vec<String> = want.iter().map(|w| at(P, w)).collect();
    assert_eq!(errors(&job(patch)), want);
}

#[rstest]
#[case::pod_level(json!({"containers": [container(json!({"ports": "x"}))]}), "json: cannot unmarshal string into Go struct field Container.spec.template.spec.containers.ports of type []v1.ContainerPort")]
#[case::config_map_as_list(json!({"volumes": [{"name": "v", "configMap": ["x"]}]}), "json: cannot unmarshal array into Go struct field Volume.spec.template.spec.volumes.configMap of type v1.ConfigMapVolumeSource")]
#[case::bad_quantity(json!({"containers": [container(json!({"resources": {"limits": {"cpu": "100mi"}}}))]}), "unable to parse quantity's suffix")]
#[case::quantity_wins_over_an_earlier_mismatch(json!({"containers": [container(json!({"args": [1], "resources": {"limits": {"cpu": "1.5.5"}}}))]}), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
#[case::fractional_port(json!({"containers": [container(json!({"livenessProbe": {"httpGet": {"port": 80.5}}}))]}), "json: cannot unmarshal number 80.5 into Go value of type int32")]
#[case::named_string_type(json!({"containers": [container(json!({"securityContext": {"capabilities": {"add": "NET_ADMIN"}}}))]}), "json: cannot unmarshal string into Go struct field Capabilities.spec.template.spec.containers.securityContext.capabilities.add of type []v1.Capability")]
#[case::unknown_fields_in_the_template(json!({"imagePullSecret": [{"name": "x"}], "containers": [container(json!({"commands": ["x"]}))]}), "strict decoding error: unknown field \"spec.template.spec.containers[0].commands\", unknown field \"spec.template.spec.imagePullSecret\"")]
#[case::field_newer_than_1_32(json!({"containers": [container(json!({"lifecycle": {"stopSignal": "SIGTERM"}}))]}), "strict decoding error: unknown field \"spec.template.spec.containers[0].lifecycle.stopSignal\"")]
fn refuses_to_decode_bad_templates(#[case] patch: Value, #[case] want: &str) {
    let found = check_manifest(Kind::Job, &job(patch), &Policy::default(), &ctx());
    let seen: Vec<(RuleId, &str)> = found.iter().map(|f| (f.rule, f.message.as_str())).collect();
    let message = format!("Job in version \"v1\" cannot be handled as a Job: {want}");
    assert_eq!(seen, vec![(RuleId::DecodeError, message.as_str())]);
}

#[rstest]
#[case::deprecated_node_label(json!({"nodeSelector": {"beta.kubernetes.io/arch": "amd64"}}), vec!["spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: deprecated since v1.14; use \"kubernetes.io/arch\" instead"])]
#[case::control_plane_role_label_is_not_in_the_list(json!({"nodeSelector": {"node-role.kubernetes.io/master": ""}}), vec![])]
#[case::deprecated_topology_key(json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "failure-domain.beta.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {}}]}), vec!["spec.template.spec.topologySpreadConstraints[0].topologyKey: failure-domain.beta.kubernetes.io/zone is deprecated since v1.17; use \"topology.kubernetes.io/zone\" instead"])]
#[case::null_spread_selector(json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}), vec!["spec.template.spec.topologySpreadConstraints[0].labelSelector: a null labelSelector results in matching no pod"])]
#[case::null_affinity_selector(json!({"affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {"topologyKey": "zone"}}]}}}), vec!["spec.template.spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector: a null labelSelector results in matching no pod"])]
#[case::git_repo_volume(json!({"volumes": [{"name": "g", "gitRepo": {"repository": "r"}}]}), vec!["spec.template.spec.volumes[0].gitRepo: deprecated in v1.11"])]
#[case::empty_pull_secret(json!({"imagePullSecrets": [{}]}), vec!["spec.template.spec.imagePullSecrets[0].name: invalid empty name \"\""])]
#[case::duplicate_pull_secret(json!({"imagePullSecrets": [{"name": "r"}, {"name": "r"}]}), vec!["spec.template.spec.imagePullSecrets[1].name: duplicate name \"r\""])]
#[case::duplicate_host_alias_ip(json!({"hostAliases": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.1"}]}), vec!["spec.template.spec.hostAliases[1].ip: duplicate ip \"10.0.0.1\""])]
#[case::negative_grace_period(json!({"terminationGracePeriodSeconds": -1}), vec!["spec.template.spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1"])]
#[case::duplicate_port(json!({"containers": [container(json!({"ports": [{"name": "a", "containerPort": 80}, {"name": "b", "containerPort": 80}]}))]}), vec!["spec.template.spec.containers[0].ports[1]: duplicate port definition with spec.template.spec.containers[0].ports[0]"])]
#[case::host_ip_without_host_port(json!({"containers": [container(json!({"ports": [{"name": "web", "containerPort": 80, "hostIP": "10.0.0.1"}]}))]}), vec!["spec.template.spec.containers[0].ports[0]: hostIP set without hostPort: {Name:web HostPort:0 ContainerPort:80 Protocol:TCP HostIP:10.0.0.1}"])]
#[case::fractional_memory(json!({"containers": [container(json!({"resources": {"requests": {"memory": "0.5"}}}))]}), vec!["spec.template.spec.containers[0].resources.requests[memory]: fractional byte value \"500m\" is invalid, must be an integer"])]
#[case::env_redefined(json!({"containers": [container(json!({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}))]}), vec!["spec.template.spec.containers[0].env[1]: hides previous definition of \"A\", which may be dropped when using apply"])]
#[case::env_extended_is_fine(json!({"containers": [container(json!({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "$(A):2"}]}))]}), vec![])]
fn warns_like_the_api_server(#[case] patch: Value, #[case] want: Vec<&str>) {
    assert_eq!(warnings(&job(patch)), want);
}

#[rstest]
#[case::critical_pod(
    "scheduler.alpha.kubernetes.io/critical-pod",
    "",
    "non-functional in v1.16+; use the \"priorityClassName\" field instead"
)]
#[case::seccomp_pod(
    "seccomp.security.alpha.kubernetes.io/pod",
    "runtime/default",
    "non-functional in v1.27+; use the \"seccompProfile\" field instead"
)]
#[case::apparmor(
    "container.apparmor.security.beta.kubernetes.io/main",
    "runtime/default",
    "deprecated since v1.30; use the \"appArmorProfile\" field instead"
)]
fn warns_about_deprecated_annotations(#[case] key: &str, #[case] value: &str, #[case] message: &str) {
    let mut manifest = job(json!({}));
    manifest["spec"]["template"]["metadata"] = json!({"annotations": {key: value}});
    assert_eq!(
        warnings(&manifest),
        vec![format!("spec.template.metadata.annotations[{key}]: {message}")]
    );
}

#[test]
fn gives_no_warnings_when_the_template_is_refused() {
    let manifest = job(json!({"terminationGracePeriodSeconds": -1, "hostname": "Bad_Host"}));
    assert!(warnings(&manifest).is_empty());
    assert_eq!(errors(&manifest).len(), 1);
}

#[test]
fn names_cronjob_template_warnings_under_the_job_template() {
    let cronjob = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "imagePullSecrets": [{"name": ""}],
            "containers": [{"name": "main", "image": "busybox"}],
        }}}}},
    });
    let found: Vec<String> = check_manifest(Kind::CronJob, &cronjob, &Policy::default(), &ctx())
        .into_iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    assert_eq!(
        found,
        vec!["spec.jobTemplate.spec.template.spec.imagePullSecrets[0].name: invalid empty name \"\""]
    );
}

/// A webhook sees the template before `PrepareForCreate` when it mutates: the fields of
/// disabled features are dropped there too, with the indexes they shift.
#[test]
fn drops_disabled_fields_of_an_undefaulted_webhook_object() {
    let mut object = job(json!({
        "volumes": [{"name": "img", "image": {"reference": "x"}}, {"name": "Bad"}],
    }));
    crate::apiserver::defaulting::apply_defaults(Kind::Job, &mut object);
    object["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "img", "image": {"reference": "x"}}, {"name": "Bad", "emptyDir": {}}]);
    let mut errs = crate::apiserver::field::Errs::default();
    super::validate_template(
        &object["spec"]["template"],
        &crate::apiserver::field::SPEC.child("template"),
        &mut errs,
    );
    let fields: Vec<String> = errs.0.into_vec().into_iter().map(|f| f.field).collect();
    assert_eq!(fields, vec!["spec.template.spec.volumes[0].name"]);
}
