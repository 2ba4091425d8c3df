#!/usr/bin/env python3
"""Writes src/apiserver/decode/schema.rs: the Go types of a batch/v1 Job and CronJob, every
field with its JSON name and the Go type the API server decodes it into, so that
`apiserver::decode` can word type errors and unknown fields exactly as the API server does.

The field lists come from k8s-openapi's generated Rust types (themselves generated from
the Kubernetes OpenAPI document), so nothing is typed by hand but the Go names of named
scalar types (`v1.Protocol`, `types.UID`), which OpenAPI does not carry, and the fields
that are newer than the Kubernetes version batchguard reproduces.

Usage (from the repository root):

    python3 tools/gen_decode_schema.py \
        ~/.cargo/registry/src/index.crates.io-*/k8s-openapi-0.29.0/src/v1_33 \
        > src/apiserver/decode/schema.rs && cargo fmt
"""

import os
import re
import sys

# The Go type each named scalar (or slice of one) decodes into; the key is the Go struct
# name (k8s-openapi's, which flattens inline structs into the outer one, as Go's decoder
# does) and the JSON field name. Everything not listed is a plain `string`, `int32`,
# `int64`, `bool`, a struct `v1.<Name>` or a slice/map of those.
GO_NAMES = {
    # batch/v1
    ("CronJobSpec", "concurrencyPolicy"): "v1.ConcurrencyPolicy",
    ("JobSpec", "completionMode"): "v1.CompletionMode",
    ("JobSpec", "podReplacementPolicy"): "v1.PodReplacementPolicy",
    ("JobCondition", "type"): "v1.JobConditionType",
    ("JobCondition", "status"): "v1.ConditionStatus",
    ("PodFailurePolicyRule", "action"): "v1.PodFailurePolicyAction",
    ("PodFailurePolicyOnExitCodesRequirement", "operator"): "v1.PodFailurePolicyOnExitCodesOperator",
    ("PodFailurePolicyOnPodConditionsPattern", "type"): "v1.PodConditionType",
    ("PodFailurePolicyOnPodConditionsPattern", "status"): "v1.ConditionStatus",
    ("UncountedTerminatedPods", "succeeded"): "types.UID",
    ("UncountedTerminatedPods", "failed"): "types.UID",
    # meta/v1
    ("ObjectMeta", "uid"): "types.UID",
    ("OwnerReference", "uid"): "types.UID",
    ("ManagedFieldsEntry", "operation"): "v1.ManagedFieldsOperationType",
    ("LabelSelectorRequirement", "operator"): "v1.LabelSelectorOperator",
    # core/v1
    ("ObjectReference", "uid"): "types.UID",
    ("PodSpec", "restartPolicy"): "v1.RestartPolicy",
    ("PodSpec", "dnsPolicy"): "v1.DNSPolicy",
    ("PodSpec", "preemptionPolicy"): "v1.PreemptionPolicy",
    ("Container", "imagePullPolicy"): "v1.PullPolicy",
    ("Container", "terminationMessagePolicy"): "v1.TerminationMessagePolicy",
    ("Container", "restartPolicy"): "v1.ContainerRestartPolicy",
    ("EphemeralContainer", "imagePullPolicy"): "v1.PullPolicy",
    ("EphemeralContainer", "terminationMessagePolicy"): "v1.TerminationMessagePolicy",
    ("EphemeralContainer", "restartPolicy"): "v1.ContainerRestartPolicy",
    ("ContainerPort", "protocol"): "v1.Protocol",
    ("ContainerResizePolicy", "resourceName"): "v1.ResourceName",
    ("ContainerResizePolicy", "restartPolicy"): "v1.ResourceResizeRestartPolicy",
    ("VolumeMount", "mountPropagation"): "v1.MountPropagationMode",
    ("VolumeMount", "recursiveReadOnly"): "v1.RecursiveReadOnlyMode",
    ("HTTPGetAction", "scheme"): "v1.URIScheme",
    ("SecurityContext", "procMount"): "v1.ProcMountType",
    ("Capabilities", "add"): "v1.Capability",
    ("Capabilities", "drop"): "v1.Capability",
    ("SeccompProfile", "type"): "v1.SeccompProfileType",
    ("AppArmorProfile", "type"): "v1.AppArmorProfileType",
    ("PodSecurityContext", "fsGroupChangePolicy"): "v1.PodFSGroupChangePolicy",
    ("PodSecurityContext", "supplementalGroupsPolicy"): "v1.SupplementalGroupsPolicy",
    ("PodSecurityContext", "seLinuxChangePolicy"): "v1.PodSELinuxChangePolicy",
    ("Toleration", "operator"): "v1.TolerationOperator",
    ("Toleration", "effect"): "v1.TaintEffect",
    ("NodeSelectorRequirement", "operator"): "v1.NodeSelectorOperator",
    ("TopologySpreadConstraint", "whenUnsatisfiable"): "v1.UnsatisfiableConstraintAction",
    ("TopologySpreadConstraint", "nodeAffinityPolicy"): "v1.NodeInclusionPolicy",
    ("TopologySpreadConstraint", "nodeTaintsPolicy"): "v1.NodeInclusionPolicy",
    ("PodReadinessGate", "conditionType"): "v1.PodConditionType",
    ("PodOS", "name"): "v1.OSName",
    ("HostPathVolumeSource", "type"): "v1.HostPathType",
    ("EmptyDirVolumeSource", "medium"): "v1.StorageMedium",
    ("AzureDiskVolumeSource", "cachingMode"): "v1.AzureDataDiskCachingMode",
    ("AzureDiskVolumeSource", "kind"): "v1.AzureDataDiskKind",
    ("PersistentVolumeClaimSpec", "accessModes"): "v1.PersistentVolumeAccessMode",
    ("PersistentVolumeClaimSpec", "volumeMode"): "v1.PersistentVolumeMode",
    ("ImageVolumeSource", "pullPolicy"): "v1.PullPolicy",
}

# Fields k8s-openapi's v1_33 types have that a v1.32 API server does not know (it refuses
# them as unknown fields under strict validation).
NEWER_THAN_1_32 = {
    ("Lifecycle", "stopSignal"),
}

# Resource lists are a named map type in Go.
RESOURCE_LISTS = {
    ("PodSpec", "overhead"),
    ("ResourceRequirements", "limits"),
    ("ResourceRequirements", "requests"),
    ("VolumeResourceRequirements", "limits"),
    ("VolumeResourceRequirements", "requests"),
}

ROOTS = ["io.k8s.api.batch.v1.Job", "io.k8s.api.batch.v1.CronJob"]

CUSTOM = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "Ty::Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "Ty::IntOrString",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "Ty::Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "Ty::Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "Ty::Raw",
}


def read_types(root):
    """definition name -> (struct name, [(json name, rust type)])"""
    types = {}
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith(".rs") or f == "mod.rs":
                continue
            text = open(os.path.join(dirpath, f), encoding="utf-8").read()
            m = re.match(r"// Generated from definition (\S+)", text)
            if not m:
                continue
            definition = m.group(1)
            s = re.search(r"pub struct (\w+) \{(.*?)\n\}", text, re.S)
            if not s:
                types[definition] = (definition.rsplit(".", 1)[1], None)
                continue
            struct = s.group(1)
            rust_fields = dict(re.findall(r"\n    pub (\w+): (.+),\n", s.group(2) + "\n"))
            json_of = dict((r, j) for j, r in re.findall(r'"(\w+)" => Field::Key_(\w+),', text))
            fields = []
            if "impl crate::Resource for" in text:
                fields += [("apiVersion", "std::string::String"), ("kind", "std::string::String")]
            if any(rust not in json_of for rust in rust_fields):
                # A type outside the Job tree that this parser does not follow (`$ref`).
                types[definition] = (struct, None)
                continue
            for rust, ty in rust_fields.items():
                fields.append((json_of[rust], ty))
            types[definition] = (struct, fields)
    return types


def strip_option(ty):
    m = re.fullmatch(r"Option<(.*)>", ty)
    return m.group(1) if m else ty


def crate_definition(ty):
    m = re.fullmatch(r"crate::((?:\w+::)+)(\w+)", ty)
    if not m:
        return None
    parts = m.group(1).rstrip(":").split("::")
    return "io.k8s." + ".".join(p for p in parts if p) + "." + m.group(2)


def static_name(struct):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", struct).upper()


def main():
    root = sys.argv[1]
    types = read_types(root)
    wanted, queue = [], list(ROOTS)
    while queue:
        d = queue.pop()
        if d in wanted or d in CUSTOM:
            continue
        wanted.append(d)
        for _, ty in types[d][1]:
            for inner in re.findall(r"crate::[\w:]+", ty):
                dd = crate_definition(inner)
                if dd and dd not in CUSTOM:
                    queue.append(dd)

    def ty_of(struct, field, ty):
        ty = strip_option(ty)
        named = GO_NAMES.get((struct, field))
        m = re.fullmatch(r"std::vec::Vec<(.*)>", ty)
        if m:
            elem = m.group(1)
            elem_ty, elem_go = scalar(elem, named)
            return f'Ty::Slice("[]{elem_go}", &{elem_ty})'
        m = re.fullmatch(r"std::collections::BTreeMap<std::string::String, (.*)>", ty)
        if m:
            if m.group(1) == "std::string::String":
                return "Ty::StrMap"
            if (struct, field) in RESOURCE_LISTS:
                return 'Ty::QuantityMap("v1.ResourceList")'
            raise SystemExit(f"unhandled map {struct}.{field}: {ty}")
        return scalar(ty, named)[0]

    def scalar(ty, named):
        if ty == "std::string::String":
            go = named or "string"
            return f'Ty::Str("{go}")', go
        if ty in ("i32", "i64"):
            go = named or ("int32" if ty == "i32" else "int64")
            return ("Ty::Int32" if ty == "i32" else "Ty::Int64"), go
        if ty == "bool":
            return "Ty::Bool", "bool"
        d = crate_definition(ty)
        if d in CUSTOM:
            return CUSTOM[d], {"Ty::Quantity": "resource.Quantity", "Ty::IntOrString": "intstr.IntOrString",
                               "Ty::Time": "v1.Time", "Ty::Raw": "v1.FieldsV1"}[CUSTOM[d]]
        if d in types:
            struct = types[d][0]
            return f"Ty::Struct(&{static_name(struct)})", f"v1.{struct}"
        raise SystemExit(f"unhandled type {ty}")

    out = [
        "//! Generated by `tools/gen_decode_schema.py` from k8s-openapi's v1_33 types with the v1.32",
        "//! differences applied; do not edit by hand. Every Go struct a batch/v1 Job or CronJob",
        "//! decodes into, each field with its JSON name and Go type, sorted by JSON name.",
        "",
        "use super::{Schema, Ty};",
        "",
    ]
    seen = set()
    for d in sorted(wanted, key=lambda d: types[d][0]):
        struct, fields = types[d]
        name = static_name(struct)
        if name in seen:
            raise SystemExit(f"two structs named {struct}")
        seen.add(name)
        rows = []
        for field, ty in sorted(fields):
            if (struct, field) in NEWER_THAN_1_32:
                continue
            rows.append(f'        ("{field}", {ty_of(struct, field, ty)}),')
        pub = "pub(super) " if d in ROOTS else ""
        out.append(f"{pub}static {name}: Schema = Schema {{")
        out.append(f'    go_type: "v1.{struct}",')
        out.append(f'    name: "{struct}",')
        out.append("    fields: &[")
        out.extend(rows)
        out.append("    ],")
        out.append("};")
        out.append("")
    unused = [k for k in GO_NAMES if not any(types[d][0] == k[0] for d in wanted)]
    if unused:
        raise SystemExit(f"GO_NAMES entries for structs not in the tree: {unused}")
    sys.stdout.write("\n".join(out))


main()
