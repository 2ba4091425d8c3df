//! The install manifests under `deploy/`, rendered with `kubectl kustomize` exactly as
//! `kubectl apply -k` would send them, checked for what a safe install depends on: the
//! objects of each mode, the serve flags, the one image, the webhooks' scope and failure
//! behaviour, least-privilege RBAC and a restricted pod. Plus the image build's pins and
//! what the webhooks' CEL match conditions are meant to do to real AdmissionReviews.
//!
//! Needs `kubectl` (1.27 or later, which bundles kustomize v5) on PATH; without it every
//! test here fails and says so, rather than passing without having looked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use batchguard::policy::{Mode, Policy};
use batchguard::server::SHUTDOWN_GRACE;
use serde_json::{json, Value};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The CA file the static overlay is rendered with (kustomize does not parse certificates).
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----\nYmF0Y2hndWFyZCB0ZXN0IENB\n-----END CERTIFICATE-----\n";

/// Every overlay and component is rendered once per test binary; each test reads them.
struct Renders {
    /// Overlay name (`self-managed`, `cert-manager`, `static`, or `self-managed+<component>`)
    /// to its objects.
    by_name: BTreeMap<String, Vec<Value>>,
    /// The directories found under `deploy/overlays` and `deploy/components`.
    overlays: BTreeSet<String>,
    components: BTreeSet<String>,
}

fn renders() -> &'static Renders {
    static RENDERS: OnceLock<Result<Renders, String>> = OnceLock::new();
    match RENDERS.get_or_init(render_all) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn render_all() -> Result<Renders, String> {
    check_kubectl()?;
    // A copy, so the static overlay gets certificate files and each component a small
    // overlay of its own (kustomize refuses absolute paths) without touching the tree.
    let tmp = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let deploy = tmp.path().join("deploy");
    copy_tree(&root().join("deploy"), &deploy).map_err(|e| format!("copying deploy/: {e}"))?;
    let certs = deploy.join("overlays/static/certs");
    std::fs::create_dir_all(&certs).map_err(|e| e.to_string())?;
    for (file, text) in [
        ("ca.crt", TEST_CA),
        (
            "tls.crt",
            "-----BEGIN CERTIFICATE-----\nc2VydmluZw==\n-----END CERTIFICATE-----\n",
        ),
        (
            "tls.key",
            "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n",
        ),
    ] {
        std::fs::write(certs.join(file), text).map_err(|e| e.to_string())?;
    }

    let overlays = subdirs(&deploy.join("overlays"));
    let components = subdirs(&deploy.join("components"));
    let mut by_name = BTreeMap::new();
    for overlay in &overlays {
        by_name.insert(
            overlay.clone(),
            kustomize(&deploy.join("overlays").join(overlay))?,
        );
    }
    for component in &components {
        let dir = deploy.join("overlays").join(format!("test-with-{component}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join("kustomization.yaml"),
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
                 resources: [../self-managed]\ncomponents: [../../components/{component}]\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        by_name.insert(format!("self-managed+{component}"), kustomize(&dir)?);
    }
    Ok(Renders {
        by_name,
        overlays,
        components,
    })
}

fn check_kubectl() -> Result<(), String> {
    const HOW: &str = "these tests render deploy/ with `kubectl kustomize`. Install kubectl 1.27 or \
        later (it bundles kustomize v5): the Debian package `kubectl` from the Kubernetes or Google \
        Cloud apt repository (preinstalled on this project's machines), or see \
        https://kubernetes.io/docs/tasks/tools/. CI must install it too.";
    match Command::new("kubectl").args(["version", "--client"]).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`kubectl version --client` failed ({}): {}\n{HOW}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Err(format!("kubectl is not on PATH ({e}): {HOW}")),
    }
}

fn kustomize(dir: &Path) -> Result<Vec<Value>, String> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|e| format!("running kubectl kustomize: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "kubectl kustomize {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    let mut objects = Vec::new();
    for doc in batchguard::yaml::parse_stream(&text) {
        let doc = doc.map_err(|e| format!("rendered {} is not YAML: {e}", dir.display()))?;
        objects.extend(doc.value);
    }
    Ok(objects)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            // A developer's real certificates for the static overlay stay where they are.
            if entry.path().ends_with("overlays/static/certs") {
                continue;
            }
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn subdirs(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

pub(crate) fn render(name: &str) -> &'static [Value] {
    renders()
        .by_name
        .get(name)
        .unwrap_or_else(|| panic!("no render named {name}"))
}

/// Every render that installs batchguard (all of them).
fn all_renders() -> impl Iterator<Item = (&'static str, &'static [Value])> {
    renders().by_name.iter().map(|(n, o)| (n.as_str(), o.as_slice()))
}

fn kind_names(objects: &[Value]) -> BTreeSet<(String, String)> {
    objects
        .iter()
        .map(|o| {
            (
                str_at(o, "/kind").to_owned(),
                str_at(o, "/metadata/name").to_owned(),
            )
        })
        .collect()
}

#[track_caller]
fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[track_caller]
fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

#[track_caller]
fn container(objects: &[Value]) -> &Value {
    let deployment = find(objects, "Deployment", "batchguard");
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A container port by name or number, as a probe or Service `targetPort` names it.
#[track_caller]
fn resolve_port(container: &Value, port: &Value) -> i64 {
    if let Some(n) = port.as_i64() {
        return n;
    }
    let name = port.as_str().expect("port is a name or a number");
    container["ports"]
        .as_array()
        .and_then(|ports| ports.iter().find(|p| p["name"] == name))
        .and_then(|p| p["containerPort"].as_i64())
        .unwrap_or_else(|| panic!("no container port named {name}"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

// ---------------------------------------------------------------------------------------
// Objects per mode

const COMMON: &[(&str, &str)] = &[
    ("Namespace", "batchguard"),
    ("ServiceAccount", "batchguard"),
    ("ResourceQuota", "batchguard-critical-pods"),
    ("ConfigMap", "batchguard-policy"),
    ("Deployment", "batchguard"),
    ("Service", "batchguard"),
    ("PodDisruptionBudget", "batchguard"),
    ("NetworkPolicy", "batchguard"),
    ("MutatingWebhookConfiguration", "batchguard"),
    ("ValidatingWebhookConfiguration", "batchguard"),
];

const SELF_MANAGED_RBAC: &[(&str, &str)] = &[
    ("Role", "batchguard"),
    ("RoleBinding", "batchguard"),
    ("ClusterRole", "batchguard"),
    ("ClusterRoleBinding", "batchguard"),
];

fn expected_objects(render: &str) -> BTreeSet<(String, String)> {
    let extra: &[(&str, &str)] = match render {
        "self-managed"
        | "self-managed+warn-mode"
        | "self-managed+fail-open"
        | "self-managed+tls-from-secret" => SELF_MANAGED_RBAC,
        "self-managed+monitoring" => &[
            ("Role", "batchguard"),
            ("RoleBinding", "batchguard"),
            ("ClusterRole", "batchguard"),
            ("ClusterRoleBinding", "batchguard"),
            ("Service", "batchguard-metrics"),
            ("ServiceMonitor", "batchguard"),
        ],
        "cert-manager" => &[
            ("Issuer", "batchguard-selfsigned"),
            ("Certificate", "batchguard-ca"),
            ("Issuer", "batchguard-ca"),
            ("Certificate", "batchguard-serving"),
        ],
        "static" => &[("Secret", "batchguard-tls")],
        other => panic!("no expectations for the render {other}: add them to this test"),
    };
    COMMON
        .iter()
        .chain(extra)
        .map(|(k, n)| ((*k).to_owned(), (*n).to_owned()))
        .collect()
}

#[test]
fn every_overlay_and_component_is_rendered() {
    let r = renders();
    let overlays: Vec<&str> = r.overlays.iter().map(String::as_str).collect();
    assert_eq!(overlays, ["cert-manager", "self-managed", "static"]);
    let components: Vec<&str> = r.components.iter().map(String::as_str).collect();
    assert_eq!(
        components,
        ["fail-open", "monitoring", "tls-from-secret", "warn-mode"]
    );
    assert_eq!(r.by_name.len(), overlays.len() + components.len());
}

#[test]
fn each_render_holds_exactly_the_objects_of_its_mode() {
    for (name, objects) in all_renders() {
        assert_eq!(kind_names(objects), expected_objects(name), "objects of {name}");
        for o in objects {
            let kind = str_at(o, "/kind");
            let cluster_scoped = matches!(
                kind,
                "Namespace"
                    | "ClusterRole"
                    | "ClusterRoleBinding"
                    | "MutatingWebhookConfiguration"
                    | "ValidatingWebhookConfiguration"
            );
            let namespace = o.pointer("/metadata/namespace").and_then(Value::as_str);
            if cluster_scoped {
                assert_eq!(namespace, None, "{name}: {kind} is cluster-scoped");
            } else {
                assert_eq!(namespace, Some("batchguard"), "{name}: namespace of {kind}");
            }
        }
    }
}

#[test]
fn only_the_static_overlay_writes_a_ca_bundle_and_none_holds_a_placeholder() {
    for (name, objects) in all_renders() {
        let text = serde_json::to_string(objects).expect("serializes");
        assert!(
            !text.contains("CA_BUNDLE_PLACEHOLDER"),
            "{name} holds the old placeholder"
        );
        for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
            for webhook in find(objects, kind, "batchguard")["webhooks"]
                .as_array()
                .expect("webhooks")
            {
                let bundle = webhook.pointer("/clientConfig/caBundle");
                if name == "static" {
                    let bundle: String = bundle
                        .and_then(Value::as_str)
                        .expect("static: caBundle")
                        .split_whitespace()
                        .collect();
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(bundle)
                        .expect("caBundle is base64");
                    assert_eq!(decoded, TEST_CA.as_bytes(), "static: caBundle is certs/ca.crt");
                } else {
                    // Injected at run time: by batchguard itself or by cert-manager's cainjector.
                    assert_eq!(bundle, None, "{name}: {kind} must not carry a caBundle");
                }
            }
        }
    }
}

#[test]
fn cert_manager_injects_the_ca_of_the_serving_certificate() {
    let objects = render("cert-manager");
    let serving = find(objects, "Certificate", "batchguard-serving");
    assert_eq!(str_at(serving, "/spec/secretName"), "batchguard-tls");
    for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
        let config = find(objects, kind, "batchguard");
        assert_eq!(
            config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            "batchguard/batchguard-serving",
            "{kind}"
        );
    }
    let dns = strings(&serving["spec"]["dnsNames"]);
    assert_eq!(
        dns,
        [
            "batchguard.batchguard.svc",
            "batchguard.batchguard.svc.cluster.local"
        ]
    );
    // The chain: serving <- CA Issuer <- CA Certificate <- self-signed Issuer.
    let ca_issuer = find(objects, "Issuer", str_at(serving, "/spec/issuerRef/name"));
    let ca_cert = find(objects, "Certificate", "batchguard-ca");
    assert_eq!(ca_cert["spec"]["isCA"], true);
    assert_eq!(
        str_at(ca_issuer, "/spec/ca/secretName"),
        str_at(ca_cert, "/spec/secretName")
    );
    let root_issuer = find(objects, "Issuer", str_at(ca_cert, "/spec/issuerRef/name"));
    assert!(root_issuer["spec"]["selfSigned"].is_object());
    // A CA that keeps its key keeps the caBundle still across serving renewals.
    assert_eq!(ca_cert["spec"]["privateKey"]["rotationPolicy"], "Never");
}

#[test]
fn static_overlay_puts_the_three_files_in_a_tls_secret() {
    let secret = find(render("static"), "Secret", "batchguard-tls");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    let keys: BTreeSet<&str> = secret["data"]
        .as_object()
        .expect("data")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["ca.crt", "tls.crt", "tls.key"]));
}

/// Reads `object` as the k8s-openapi type and writes it back: a field the API does not have
/// (a typo such as `failurPolicy`) is dropped on the way and the two differ; a value of the
/// wrong type does not read at all.
fn round_trip<T>(object: &Value) -> Result<Value, String>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let typed: T = serde_json::from_value(object.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

#[test]
fn every_built_in_object_has_only_fields_of_its_api_type() {
    use k8s_openapi::api::{admissionregistration, apps, core, networking, policy, rbac};
    for (name, objects) in all_renders() {
        for object in objects {
            let mut object = object.clone();
            // kustomize wraps long base64 at 76 columns, which the API server's decoder
            // skips and k8s-openapi's does not.
            if let Some(webhooks) = object.get_mut("webhooks").and_then(Value::as_array_mut) {
                for w in webhooks {
                    if let Some(b) = w.pointer_mut("/clientConfig/caBundle") {
                        *b = json!(b.as_str().expect("string").split_whitespace().collect::<String>());
                    }
                }
            }
            let kind = str_at(&object, "/kind").to_owned();
            let back = match kind.as_str() {
                "Namespace" => round_trip::<core::v1::Namespace>(&object),
                "ServiceAccount" => round_trip::<core::v1::ServiceAccount>(&object),
                "ResourceQuota" => round_trip::<core::v1::ResourceQuota>(&object),
                "ConfigMap" => round_trip::<core::v1::ConfigMap>(&object),
                "Service" => round_trip::<core::v1::Service>(&object),
                "Deployment" => round_trip::<apps::v1::Deployment>(&object),
                "PodDisruptionBudget" => round_trip::<policy::v1::PodDisruptionBudget>(&object),
                "NetworkPolicy" => round_trip::<networking::v1::NetworkPolicy>(&object),
                "Role" => round_trip::<rbac::v1::Role>(&object),
                "RoleBinding" => round_trip::<rbac::v1::RoleBinding>(&object),
                "ClusterRole" => round_trip::<rbac::v1::ClusterRole>(&object),
                "ClusterRoleBinding" => round_trip::<rbac::v1::ClusterRoleBinding>(&object),
                "MutatingWebhookConfiguration" => {
                    round_trip::<admissionregistration::v1::MutatingWebhookConfiguration>(&object)
                }
                "ValidatingWebhookConfiguration" => {
                    round_trip::<admissionregistration::v1::ValidatingWebhookConfiguration>(&object)
                }
                // Secret data is base64 wrapped the same way; CRDs have no type here.
                "Secret" | "Certificate" | "Issuer" | "ServiceMonitor" => continue,
                other => panic!("{name}: no API type for {other}: add it to this test"),
            };
            let back = back.unwrap_or_else(|e| panic!("{name}: {kind} does not read: {e}"));
            assert_eq!(back, object, "{name}: {kind} has a field its API type does not");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The container

const SELF_MANAGED_ARGS: &[&str] = &[
    "serve",
    "--config",
    "/etc/batchguard/policy.yaml",
    "--cert-secret",
    "batchguard/batchguard-tls",
    "--webhook-configurations",
    "batchguard",
    "--log-format",
    "json",
];

const FILE_TLS_ARGS: &[&str] = &[
    "serve",
    "--config",
    "/etc/batchguard/policy.yaml",
    "--tls-cert",
    "/tls/tls.crt",
    "--tls-key",
    "/tls/tls.key",
    "--log-format",
    "json",
];

#[test]
fn container_args_are_exactly_the_flags_of_each_mode() {
    for (name, objects) in all_renders() {
        let c = container(objects);
        let expected = match name {
            "cert-manager" | "static" | "self-managed+tls-from-secret" => FILE_TLS_ARGS,
            _ => SELF_MANAGED_ARGS,
        };
        assert_eq!(strings(&c["args"]), expected, "args of {name}");
        assert!(c.get("command").is_none(), "{name}: the image's ENTRYPOINT runs");
    }
}

#[test]
fn file_modes_mount_the_tls_secret_where_the_flags_point() {
    for name in ["cert-manager", "static"] {
        let objects = render(name);
        let pod = &find(objects, "Deployment", "batchguard")["spec"]["template"]["spec"];
        let volume = pod["volumes"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["name"] == "tls"))
            .unwrap_or_else(|| panic!("{name}: no tls volume"));
        assert_eq!(volume["secret"]["secretName"], "batchguard-tls", "{name}");
        let mount = container(objects)["volumeMounts"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["name"] == "tls"))
            .unwrap_or_else(|| panic!("{name}: tls not mounted"));
        assert_eq!(mount["mountPath"], "/tls", "{name}");
        assert_eq!(mount["readOnly"], true, "{name}");
    }
}

#[test]
fn the_policy_is_mounted_where_config_points() {
    for (name, objects) in all_renders() {
        let pod = &find(objects, "Deployment", "batchguard")["spec"]["template"]["spec"];
        let volume = pod["volumes"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["name"] == "policy"))
            .unwrap_or_else(|| panic!("{name}: no policy volume"));
        assert_eq!(volume["configMap"]["name"], "batchguard-policy", "{name}");
        let mount = container(objects)["volumeMounts"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["name"] == "policy"))
            .unwrap_or_else(|| panic!("{name}: policy not mounted"));
        assert_eq!(
            mount["mountPath"], "/etc/batchguard",
            "{name}: --config /etc/batchguard/policy.yaml"
        );
        let data = find(objects, "ConfigMap", "batchguard-policy")["data"]
            .as_object()
            .expect("data");
        assert!(data.contains_key("policy.yaml"), "{name}");
    }
}

/// `images:` of the base kustomization, the one place the image is named.
fn image_from_kustomization() -> String {
    let text = read("deploy/base/kustomization.yaml");
    let docs = batchguard::yaml::parse_stream(&text);
    let doc = docs
        .into_iter()
        .next()
        .expect("one document")
        .expect("YAML")
        .value
        .expect("content");
    let images = doc["images"].as_array().expect("images:");
    assert_eq!(images.len(), 1, "one image");
    let image = &images[0];
    assert_eq!(image["name"], "batchguard");
    let name = image
        .get("newName")
        .and_then(Value::as_str)
        .unwrap_or("batchguard");
    match (image.get("newTag"), image.get("digest")) {
        (_, Some(d)) => format!("{name}@{}", d.as_str().expect("digest")),
        (Some(t), None) => format!("{name}:{}", t.as_str().expect("newTag is a string")),
        (None, None) => name.to_owned(),
    }
}

#[test]
fn every_render_runs_the_image_named_in_the_base_kustomization() {
    let image = image_from_kustomization();
    assert_eq!(image, format!("batchguard:{}", env!("CARGO_PKG_VERSION")));
    for (name, objects) in all_renders() {
        assert_eq!(container(objects)["image"], image.as_str(), "{name}");
    }
    // Named once: the Deployment in the base says only `batchguard`.
    let deployment = read("deploy/base/deployment.yaml");
    assert!(deployment.contains("image: batchguard\n"), "{deployment}");
}

#[test]
fn the_pod_is_restricted() {
    for (name, objects) in all_renders() {
        let deployment = find(objects, "Deployment", "batchguard");
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        assert_eq!(
            pod["securityContext"]["runAsUser"], 65532,
            "{name}: the image's USER"
        );
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
            "{name}"
        );
        assert!(
            pod.get("hostNetwork").is_none() && pod.get("hostPID").is_none(),
            "{name}"
        );
        let sc = &container(objects)["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true, "{name}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(sc["privileged"], false, "{name}");
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{name}");
        assert!(
            sc["capabilities"].get("add").is_none(),
            "{name}: no capability added"
        );
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
        // The namespace enforces the same: the restricted Pod Security Standard.
        let ns = find(objects, "Namespace", "batchguard");
        assert_eq!(
            ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted",
            "{name}"
        );
    }
}

#[test]
fn the_deployment_survives_drains_rollouts_and_shutdowns() {
    for (name, objects) in all_renders() {
        let deployment = find(objects, "Deployment", "batchguard");
        let spec = &deployment["spec"];
        let pod = &spec["template"]["spec"];
        let labels = &spec["template"]["metadata"]["labels"];
        assert_eq!(spec["replicas"], 2, "{name}");
        assert_eq!(spec["strategy"]["rollingUpdate"]["maxUnavailable"], 0, "{name}");
        let spread = pod["topologySpreadConstraints"].as_array().expect("spread");
        assert!(
            spread
                .iter()
                .any(|s| s["topologyKey"] == "kubernetes.io/hostname"),
            "{name}: replicas spread over nodes"
        );
        for s in spread {
            for (k, v) in s["labelSelector"]["matchLabels"].as_object().expect("selector") {
                assert_eq!(&labels[k], v, "{name}: spread selects the pods");
            }
        }
        assert_eq!(pod["priorityClassName"], "system-cluster-critical", "{name}");
        let quota = find(objects, "ResourceQuota", "batchguard-critical-pods");
        assert_eq!(
            quota["spec"]["scopeSelector"]["matchExpressions"][0]["values"],
            json!(["system-cluster-critical"]),
            "{name}"
        );
        let c = container(objects);
        assert_eq!(c["resources"]["limits"]["memory"], "128Mi", "{name}");
        assert!(c["resources"]["requests"]["memory"].is_string(), "{name}");
        assert!(c["resources"]["requests"]["cpu"].is_string(), "{name}");
        let env = c["env"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["name"] == "POD_NAMESPACE"))
            .unwrap_or_else(|| panic!("{name}: no POD_NAMESPACE"));
        assert_eq!(
            env["valueFrom"]["fieldRef"]["fieldPath"], "metadata.namespace",
            "{name}"
        );
        // SIGKILL must not cut the drain short: preStop pause plus the server's grace.
        let pause = c["lifecycle"]["preStop"]["sleep"]["seconds"]
            .as_u64()
            .expect("preStop sleep");
        let grace = pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("grace period");
        assert!(
            grace > pause + SHUTDOWN_GRACE.as_secs(),
            "{name}: terminationGracePeriodSeconds {grace} <= {pause} + {}",
            SHUTDOWN_GRACE.as_secs()
        );
        let pdb = find(objects, "PodDisruptionBudget", "batchguard");
        assert_eq!(pdb["spec"]["minAvailable"], 1, "{name}");
        for (k, v) in pdb["spec"]["selector"]["matchLabels"]
            .as_object()
            .expect("selector")
        {
            assert_eq!(&labels[k], v, "{name}: the PDB selects the pods");
        }
    }
}

#[test]
fn probes_use_the_plain_http_metrics_port() {
    for (name, objects) in all_renders() {
        let c = container(objects);
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &c[probe]["httpGet"];
            assert_eq!(get["path"], path, "{name}: {probe}");
            assert_eq!(resolve_port(c, &get["port"]), 9090, "{name}: {probe}");
            assert!(
                get.get("scheme").is_none() || get["scheme"] == "HTTP",
                "{name}: {probe} is plain HTTP"
            );
        }
        let service = find(objects, "Service", "batchguard");
        let ports = service["spec"]["ports"].as_array().expect("ports");
        assert_eq!(ports.len(), 1, "{name}: the webhook Service carries only 443");
        assert_eq!(ports[0]["port"], 443, "{name}");
        assert_eq!(resolve_port(c, &ports[0]["targetPort"]), 8443, "{name}");
    }
}

#[test]
fn the_token_is_mounted_only_where_the_api_is_used() {
    for (name, objects) in all_renders() {
        let pod = &find(objects, "Deployment", "batchguard")["spec"]["template"]["spec"];
        let has_rbac = objects.iter().any(|o| o["kind"] == "Role");
        assert_eq!(pod["automountServiceAccountToken"], has_rbac, "{name}");
        let sa = find(objects, "ServiceAccount", "batchguard");
        assert_eq!(sa["automountServiceAccountToken"], false, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// RBAC

fn rules(objects: &[Value], kind: &str) -> Vec<Value> {
    find(objects, kind, "batchguard")["rules"]
        .as_array()
        .expect("rules")
        .clone()
}

#[test]
fn rbac_is_least_privilege() {
    let objects = render("self-managed");
    assert_eq!(
        rules(objects, "Role"),
        json!([
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["batchguard-tls"],
             "verbs": ["get", "update"]},
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}
        ])
        .as_array()
        .expect("array")
        .clone()
    );
    assert_eq!(
        rules(objects, "ClusterRole"),
        json!([
            {"apiGroups": ["admissionregistration.k8s.io"],
             "resources": ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
             "resourceNames": ["batchguard"], "verbs": ["get", "patch"]}
        ])
        .as_array()
        .expect("array")
        .clone()
    );
    for (kind, role_kind) in [("RoleBinding", "Role"), ("ClusterRoleBinding", "ClusterRole")] {
        let binding = find(objects, kind, "batchguard");
        assert_eq!(binding["roleRef"]["kind"], role_kind);
        assert_eq!(binding["roleRef"]["name"], "batchguard");
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "batchguard", "namespace": "batchguard"}])
        );
    }
    // The Secret the Role names is the one the server is told to use.
    assert!(SELF_MANAGED_ARGS.contains(&"batchguard/batchguard-tls"));
    // Nowhere a wildcard, nowhere an unnamed verb other than create.
    for (name, objects) in all_renders() {
        for o in objects
            .iter()
            .filter(|o| o["kind"] == "Role" || o["kind"] == "ClusterRole")
        {
            for rule in o["rules"].as_array().expect("rules") {
                for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
                    assert!(
                        !strings(&rule[field]).contains(&"*"),
                        "{name}: wildcard in {rule}"
                    );
                }
                if rule.get("resourceNames").is_none() {
                    assert_eq!(strings(&rule["verbs"]), ["create"], "{name}: {rule}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Network

#[test]
fn network_policy_opens_only_what_each_mode_needs() {
    for (name, objects) in all_renders() {
        let np = find(objects, "NetworkPolicy", "batchguard");
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]), "{name}");
        let ingress = np["spec"]["ingress"].as_array().expect("ingress");
        let webhook = ingress
            .iter()
            .find(|r| r["ports"][0]["port"] == 8443)
            .expect("8443 rule");
        assert!(
            webhook.get("from").is_none(),
            "{name}: the API server may come from anywhere"
        );
        let metrics = ingress
            .iter()
            .find(|r| r["ports"][0]["port"] == 9090)
            .expect("9090 rule");
        assert_eq!(
            metrics["from"],
            json!([{"namespaceSelector": {}}]),
            "{name}: in-cluster only"
        );
        assert_eq!(ingress.len(), 2, "{name}");
        let egress = np["spec"]["egress"].as_array().expect("egress");
        if name.starts_with("self-managed") {
            let ports: BTreeSet<i64> = egress
                .iter()
                .flat_map(|r| r["ports"].as_array().expect("ports").iter())
                .filter(|p| p["protocol"] == "TCP")
                .filter_map(|p| p["port"].as_i64())
                .collect();
            assert!(ports.contains(&443) && ports.contains(&6443), "{name}: {ports:?}");
        } else {
            assert!(egress.is_empty(), "{name}: a file-based server needs no egress");
        }
    }
}

#[test]
fn monitoring_scrapes_the_metrics_port() {
    let objects = render("self-managed+monitoring");
    let service = find(objects, "Service", "batchguard-metrics");
    let monitor = find(objects, "ServiceMonitor", "batchguard");
    for (k, v) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("selector")
    {
        assert_eq!(
            &service["metadata"]["labels"][k], v,
            "the ServiceMonitor selects the Service"
        );
    }
    // And not the webhook's own Service.
    let webhook_service = find(objects, "Service", "batchguard");
    assert!(monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("selector")
        .iter()
        .any(|(k, v)| &webhook_service["metadata"]["labels"][k] != v));
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["name"], "metrics");
    assert_eq!(resolve_port(container(objects), &port["targetPort"]), 9090);
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
}

// ---------------------------------------------------------------------------------------
// Webhooks

/// The match conditions, as written in deploy/base/webhooks.yaml (folded to one line).
/// Each is true when the request should reach batchguard; all must be true.
///
/// | request                                         | controller-owned | formerly | deleting | sent |
/// |-------------------------------------------------|------------------|----------|----------|------|
/// | CREATE without ownerReferences                  | false            | -        | false    | yes  |
/// | CREATE with a non-controller ownerReference     | false            | -        | false    | yes  |
/// | CREATE of a Job from a CronJob (controller)     | true             | -        | false    | no   |
/// | UPDATE, neither version controller-owned        | false            | false    | false    | yes  |
/// | UPDATE removing the controller ref (orphaning)  | false            | true     | false    | no   |
/// | UPDATE of an object being deleted               | false            | false    | true     | no   |
///
/// [`sent_to_batchguard`] states the same in Rust, and runs over the captured reviews.
const MATCH_CONDITIONS: &[(&str, &str)] = &[
    (
        "not-controller-owned",
        "object == null || !has(object.metadata.ownerReferences) || \
         !object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller == true)",
    ),
    (
        "not-formerly-controller-owned",
        "oldObject == null || !has(oldObject.metadata.ownerReferences) || \
         !oldObject.metadata.ownerReferences.exists(r, has(r.controller) && r.controller == true)",
    ),
    (
        "not-being-deleted",
        "object == null || !has(object.metadata.deletionTimestamp)",
    ),
];

fn controller_owned(object: &Value) -> bool {
    object["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["controller"] == true))
}

/// What [`MATCH_CONDITIONS`] mean, one line each, for `object` and `oldObject` of a review.
fn sent_to_batchguard(object: &Value, old_object: &Value) -> bool {
    let not_controller_owned = object.is_null() || !controller_owned(object);
    let not_formerly_controller_owned = old_object.is_null() || !controller_owned(old_object);
    let not_being_deleted = object.is_null() || object["metadata"].get("deletionTimestamp").is_none();
    not_controller_owned && not_formerly_controller_owned && not_being_deleted
}

fn webhooks<'a>(objects: &'a [Value], kind: &str) -> &'a [Value] {
    find(objects, kind, "batchguard")["webhooks"]
        .as_array()
        .expect("webhooks")
}

#[test]
fn both_webhooks_carry_the_match_conditions() {
    for (name, objects) in all_renders() {
        for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
            for webhook in webhooks(objects, kind) {
                let conditions: Vec<(String, String)> = webhook["matchConditions"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{name}: {kind} has no matchConditions"))
                    .iter()
                    .map(|c| {
                        let expression = str_at(c, "/expression").split_whitespace().collect::<Vec<_>>();
                        (str_at(c, "/name").to_owned(), expression.join(" "))
                    })
                    .collect();
                let expected: Vec<(String, String)> = MATCH_CONDITIONS
                    .iter()
                    .map(|(n, e)| {
                        (
                            (*n).to_owned(),
                            e.split_whitespace().collect::<Vec<_>>().join(" "),
                        )
                    })
                    .collect();
                assert_eq!(conditions, expected, "{name}: {kind}");
            }
        }
    }
}

#[test]
fn both_webhooks_skip_system_namespaces_their_own_and_ignored_ones() {
    for (name, objects) in all_renders() {
        for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
            for webhook in webhooks(objects, kind) {
                let expressions = webhook["namespaceSelector"]["matchExpressions"]
                    .as_array()
                    .expect("matchExpressions");
                assert!(webhook["namespaceSelector"].get("matchLabels").is_none());
                let by_key = |key: &str| {
                    expressions
                        .iter()
                        .find(|e| e["key"] == key)
                        .unwrap_or_else(|| panic!("{name}: {kind}: no selector on {key}"))
                };
                let names = by_key("kubernetes.io/metadata.name");
                assert_eq!(names["operator"], "NotIn");
                let excluded: BTreeSet<&str> = strings(&names["values"]).into_iter().collect();
                assert_eq!(
                    excluded,
                    BTreeSet::from(["kube-system", "kube-public", "kube-node-lease", "batchguard"]),
                    "{name}: {kind}"
                );
                let ignore = by_key("batchguard.io/ignore");
                assert_eq!(ignore["operator"], "NotIn", "{name}: {kind}");
                assert_eq!(ignore["values"], json!(["true"]), "{name}: {kind}");
                assert_eq!(expressions.len(), 2, "{name}: {kind}");
            }
        }
    }
}

#[test]
fn webhooks_see_only_job_and_cronjob_writes_and_fail_as_documented() {
    for (name, objects) in all_renders() {
        for (kind, webhook_name, path, failure, timeout) in [
            (
                "MutatingWebhookConfiguration",
                "mutate.batchguard.io",
                "/mutate",
                "Ignore",
                3,
            ),
            (
                "ValidatingWebhookConfiguration",
                "validate.batchguard.io",
                "/validate",
                if name == "self-managed+fail-open" {
                    "Ignore"
                } else {
                    "Fail"
                },
                5,
            ),
        ] {
            let hooks = webhooks(objects, kind);
            assert_eq!(hooks.len(), 1, "{name}: {kind}");
            let w = &hooks[0];
            assert_eq!(w["name"], webhook_name, "{name}");
            assert_eq!(
                w["rules"],
                json!([{"apiGroups": ["batch"], "apiVersions": ["v1"],
                        "resources": ["jobs", "cronjobs"], "operations": ["CREATE", "UPDATE"],
                        "scope": "Namespaced"}]),
                "{name}: {kind}"
            );
            assert_eq!(w["failurePolicy"], failure, "{name}: {kind}");
            assert_eq!(w["timeoutSeconds"], timeout, "{name}: {kind}");
            assert_eq!(w["sideEffects"], "None", "{name}: {kind}");
            assert_eq!(w["admissionReviewVersions"], json!(["v1"]), "{name}: {kind}");
            assert_eq!(w["matchPolicy"], "Equivalent", "{name}: {kind}");
            assert!(w.get("objectSelector").is_none(), "{name}: {kind}");
            assert_eq!(
                w["clientConfig"]["service"],
                json!({"name": "batchguard", "namespace": "batchguard", "path": path, "port": 443}),
                "{name}: {kind}"
            );
            assert!(w["clientConfig"].get("url").is_none(), "{name}: {kind}");
            if kind == "MutatingWebhookConfiguration" {
                assert_eq!(w["reinvocationPolicy"], "IfNeeded", "{name}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The match conditions against captured AdmissionReviews

fn admission_fixtures() -> Vec<(String, Value)> {
    let dir = root().join("tests/data/admission");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            let review: Value = serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("JSON");
            (name, review)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_job_created_from_a_cronjob_carries_a_controller_owner_reference() {
    let fixtures = admission_fixtures();
    let from_cronjob: Vec<&Value> = fixtures
        .iter()
        .filter(|(n, _)| n.starts_with("job-from-cronjob."))
        .map(|(_, r)| r)
        .collect();
    assert_eq!(from_cronjob.len(), 2, "mutate and validate");
    for review in from_cronjob {
        let refs = review["request"]["object"]["metadata"]["ownerReferences"]
            .as_array()
            .expect("ownerReferences");
        let controller: Vec<&Value> = refs.iter().filter(|r| r["controller"] == true).collect();
        assert_eq!(controller.len(), 1);
        assert_eq!(controller[0]["kind"], "CronJob");
        assert_eq!(controller[0]["apiVersion"], "batch/v1");
    }
}

#[test]
fn match_conditions_send_every_captured_user_write_and_skip_the_controller_owned() {
    let mut skipped = Vec::new();
    let mut sent = 0;
    for (name, review) in admission_fixtures() {
        let request = &review["request"];
        // The webhooks are registered for CREATE and UPDATE only.
        if !matches!(request["operation"].as_str(), Some("CREATE" | "UPDATE")) {
            continue;
        }
        let old = request.get("oldObject").unwrap_or(&Value::Null);
        if sent_to_batchguard(&request["object"], old) {
            sent += 1;
        } else {
            skipped.push(name);
        }
    }
    assert_eq!(
        skipped,
        ["job-from-cronjob.mutate.json", "job-from-cronjob.validate.json"]
    );
    assert!(sent >= 30, "only {sent} reviews sent");
}

#[test]
fn match_conditions_table() {
    let job = admission_fixtures()
        .into_iter()
        .find(|(n, _)| n == "job-create.validate.json")
        .expect("job-create fixture")
        .1["request"]["object"]
        .clone();
    let with = |refs: Value, deleting: bool| {
        let mut o = job.clone();
        if !refs.is_null() {
            o["metadata"]["ownerReferences"] = refs;
        }
        if deleting {
            o["metadata"]["deletionTimestamp"] = json!("2026-11-25T02:00:00Z");
        }
        o
    };
    let controller = json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "c", "uid": "u",
                             "controller": true}]);
    let plain = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u"}]);
    let not_controller = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u",
                                 "controller": false}]);
    let null = Value::Null;
    let cases = [
        (
            "CREATE, no ownerReferences",
            with(null.clone(), false),
            null.clone(),
            true,
        ),
        (
            "CREATE, ownerReference without controller",
            with(plain.clone(), false),
            null.clone(),
            true,
        ),
        (
            "CREATE, controller: false",
            with(not_controller, false),
            null.clone(),
            true,
        ),
        (
            "CREATE, Job from a CronJob",
            with(controller.clone(), false),
            null.clone(),
            false,
        ),
        (
            "UPDATE, neither controller-owned",
            with(plain.clone(), false),
            with(plain, false),
            true,
        ),
        (
            "UPDATE, controller-owned",
            with(controller.clone(), false),
            with(controller.clone(), false),
            false,
        ),
        (
            "UPDATE, orphaning",
            with(null.clone(), false),
            with(controller.clone(), false),
            false,
        ),
        (
            "UPDATE, adopting",
            with(controller.clone(), false),
            with(null.clone(), false),
            false,
        ),
        (
            "UPDATE, being deleted",
            with(null.clone(), true),
            with(null.clone(), true),
            false,
        ),
        (
            "UPDATE, empty ownerReferences",
            with(json!([]), false),
            with(json!([]), false),
            true,
        ),
        (
            "DELETE (object null), not registered",
            null.clone(),
            with(null.clone(), false),
            true,
        ),
    ];
    for (case, object, old, want) in cases {
        assert_eq!(sent_to_batchguard(&object, &old), want, "{case}");
    }
}

// ---------------------------------------------------------------------------------------
// The policy

fn policy_text(objects: &[Value]) -> &str {
    str_at(
        find(objects, "ConfigMap", "batchguard-policy"),
        "/data/policy.yaml",
    )
}

#[test]
fn the_shipped_policy_enforces_and_warn_mode_changes_only_the_mode() {
    let file = read("deploy/base/policy.yaml");
    let base = policy_text(render("self-managed"));
    assert_eq!(base, file, "the ConfigMap is deploy/base/policy.yaml");
    let enforce = Policy::from_yaml(base, "deploy/base/policy.yaml").expect("the policy parses");
    assert_eq!(enforce.mode, Mode::Enforce);
    assert_ne!(
        enforce,
        Policy::default(),
        "the shipped policy shows non-default settings"
    );

    let warn_text = policy_text(render("self-managed+warn-mode"));
    assert_eq!(warn_text, base.replace("\nmode: enforce\n", "\nmode: warn\n"));
    let warn = Policy::from_yaml(warn_text, "warn-mode").expect("the warn policy parses");
    assert_eq!(warn.mode, Mode::Warn);
    assert_eq!(
        Policy {
            mode: Mode::Enforce,
            ..warn
        },
        enforce
    );

    for (name, objects) in all_renders().filter(|(n, _)| *n != "self-managed+warn-mode") {
        assert_eq!(policy_text(objects), base, "{name}");
    }
}

#[test]
fn fail_open_changes_nothing_but_the_validating_failure_policy() {
    let mut open = render("self-managed+fail-open").to_vec();
    let validating = open
        .iter_mut()
        .find(|o| o["kind"] == "ValidatingWebhookConfiguration")
        .expect("validating");
    assert_eq!(validating["webhooks"][0]["failurePolicy"], "Ignore");
    validating["webhooks"][0]["failurePolicy"] = json!("Fail");
    assert_eq!(open, render("self-managed"));
}

// ---------------------------------------------------------------------------------------
// The image

#[test]
fn dockerfile_pins_its_bases_and_runs_as_nonroot() {
    let dockerfile = read("deploy/Dockerfile");
    let froms: Vec<&str> = dockerfile.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage");
    for from in &froms {
        let image = from.split_whitespace().nth(1).expect("image");
        let digest = image
            .split_once("@sha256:")
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("not pinned by digest: {from}"));
        assert!(
            digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{from}"
        );
    }
    assert!(
        froms[1].contains("gcr.io/distroless/cc-debian12:nonroot@"),
        "{}",
        froms[1]
    );
    assert!(
        froms[0].contains("-bookworm@"),
        "builds on the runtime's Debian release"
    );
    let after_runtime = &dockerfile[dockerfile.find(froms[1]).expect("runtime stage")..];
    assert!(after_runtime.contains("\nUSER 65532"), "non-root user");
    assert!(after_runtime.contains("\nENTRYPOINT [\"/batchguard\"]"));
    assert!(dockerfile.contains("cargo build --release --locked"));
}

fn major_minor(version: &str) -> (u64, u64) {
    let mut parts = version
        .split('.')
        .map(|p| p.parse::<u64>().expect("numeric version"));
    (parts.next().expect("major"), parts.next().unwrap_or(0))
}

#[test]
fn dockerfile_toolchain_is_new_enough_for_the_lock_file() {
    let dockerfile = read("deploy/Dockerfile");
    let from = dockerfile
        .lines()
        .find(|l| l.starts_with("FROM ") && l.contains("rust:"))
        .expect("rust stage");
    let tag = from.split("rust:").nth(1).expect("tag");
    let version = major_minor(tag.split('-').next().expect("version"));
    // Only the packages built for this host: their sources are on disk, so no download.
    let rustc = Command::new("rustc").arg("-vV").output().expect("rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc names its host");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--filter-platform",
            &host,
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    for package in metadata["packages"].as_array().expect("packages") {
        let Some(needed) = package["rust_version"].as_str() else {
            continue;
        };
        assert!(
            version >= major_minor(needed),
            "{} {} needs Rust {needed:?}, the Dockerfile builds with {tag}",
            package["name"],
            package["version"]
        );
    }
}

#[test]
fn dockerfile_copies_every_target_the_manifest_names() {
    // Cargo refuses to build a manifest whose bench or example file is missing, so the
    // dependency layer copies their directories; a target elsewhere would break the build.
    let dockerfile = read("deploy/Dockerfile");
    let manifest = read("Cargo.toml");
    for line in manifest.lines().filter(|l| l.starts_with("path = ")) {
        let path = line.trim_start_matches("path = ").trim_matches('"');
        let dir = path.split('/').next().expect("dir");
        assert!(
            dir == "src" || dockerfile.contains(&format!("COPY {dir} ./{dir}")),
            "{path} is not copied before the dependency build"
        );
    }
    assert!(dockerfile.contains("COPY benches ./benches"));
    // build.rs gives --version its revision (BATCHGUARD_REVISION as a build-arg).
    assert!(dockerfile.contains("COPY Cargo.toml Cargo.lock build.rs ./"));
    assert!(read(".dockerignore").lines().any(|l| l.trim() == "!build.rs"));
}

#[test]
fn dockerignore_keeps_secrets_and_build_output_out_of_the_context() {
    let ignore = read(".dockerignore");
    let lines: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in [
        "target/",
        ".git/",
        "certs/dev/",
        "**/*.key",
        "**/*.pem",
        "deploy/overlays/static/certs/",
    ] {
        assert!(lines.contains(&needed), "{needed} missing from .dockerignore");
    }
    // Exclusions come after the allow-list: in .dockerignore the last matching line wins.
    let last_allow = lines
        .iter()
        .rposition(|l| l.starts_with('!'))
        .expect("allow-list");
    let first_key = lines.iter().position(|l| *l == "**/*.key").expect("keys");
    assert!(first_key > last_allow);
}

// ---------------------------------------------------------------------------------------
// The documentation names what the manifests do

#[test]
fn install_doc_names_the_one_command_and_the_uninstall_order() {
    let doc = read("docs/install.md");
    assert!(doc.contains("kubectl apply -k deploy/overlays/self-managed"));
    assert!(doc.contains("kubectl apply -k deploy/overlays/cert-manager"));
    assert!(doc.contains("kubectl apply -k deploy/overlays/static"));
    assert!(doc.contains("kubectl delete mutatingwebhookconfiguration batchguard"));
    assert!(doc.contains("kubectl delete validatingwebhookconfiguration batchguard"));
    for recipe in ["sed -i", "sed \"s", "sed 's", "CA_BUNDLE_PLACEHOLDER"] {
        assert!(
            !doc.contains(recipe),
            "docs/install.md still has a caBundle recipe: {recipe}"
        );
    }
    let uninstall = doc
        .find("kubectl delete validatingwebhookconfiguration")
        .expect("uninstall");
    let namespace = doc
        .find("kubectl delete namespace batchguard")
        .expect("namespace delete");
    assert!(uninstall < namespace, "webhooks go before the server");
}

#[test]
fn no_other_page_keeps_an_old_ca_bundle_recipe() {
    // docs/install.md is the one place; the others link to it.
    let mut pages = vec![
        "README.md".to_string(),
        "certs/README.md".to_string(),
        "deploy/README.md".to_string(),
    ];
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    for entry in std::fs::read_dir(docs).expect("docs/") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") && name != "install.md" {
            pages.push(format!("docs/{name}"));
        }
    }
    for page in &pages {
        let text = read(page);
        for recipe in ["CA_BUNDLE_PLACEHOLDER", "base64 -w0", "deploy/webhooks.yaml"] {
            assert!(
                !text.contains(recipe),
                "{page} still has a caBundle recipe: {recipe}"
            );
        }
    }
}

#[test]
fn no_document_keeps_a_hand_made_ca_bundle_or_openssl_recipe() {
    for path in [
        "README.md",
        "docs/server.md",
        "certs/README.md",
        "deploy/README.md",
    ] {
        let doc = read(path);
        for recipe in ["sed -i", "CA_BUNDLE_PLACEHOLDER", "make-dev-certs", "openssl req"] {
            assert!(
                !doc.contains(recipe),
                "{path} still has a certificate recipe: {recipe}"
            );
        }
    }
    let readme = read("README.md");
    for step in [
        "kubectl apply -k deploy/overlays/self-managed",
        "kubectl apply -k deploy/overlays/cert-manager",
        "deploy/components/warn-mode",
        "docker build -f deploy/Dockerfile",
        "images:",
        "kubectl delete validatingwebhookconfiguration batchguard",
        "batchguard certs --out-dir",
    ] {
        assert!(readme.contains(step), "README.md does not say {step:?}");
    }
}

#[test]
fn install_doc_mentions_every_component() {
    let doc = read("docs/install.md");
    for component in &renders().components {
        assert!(
            doc.contains(&format!("components/{component}")),
            "docs/install.md does not mention components/{component}"
        );
    }
}
