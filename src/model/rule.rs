//! Every rule batchguard can report, as one enum: the id printed in every output format and
//! used as a metrics label, and the one-line summary that SARIF's rule table and the docs
//! show. Ids are stable: once released they never change meaning (see `docs/rules.md`).

use serde::{Serialize, Serializer};

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $summary:literal; )*) => {
        /// A stable, kebab-case rule id (`invalid-schedule`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId {
            $( $(#[$doc])* $variant, )*
        }

        impl RuleId {
            /// Every rule, API rules first, then the reader's, policy rules and advice.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),*];

            /// The id as printed: `invalid-schedule`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }

            /// What the rule checks, in one line.
            pub const fn summary(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $summary,)*
                }
            }

            /// The rule with this id, if there is one.
            pub fn from_id(id: &str) -> Option<RuleId> {
                match id {
                    $($id => Some(RuleId::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

rules! {
    // The API server's decoder and its crashes.
    DecodeError = "decode-error", "The object decodes into the batch/v1 type (types, int32 range, no unknown fields)";
    ServerCrash = "server-crash", "An input that crashes a v1.32 API server instead of being answered";
    // ObjectMeta.
    NameRequired = "name-required", "metadata.name or metadata.generateName is set";
    InvalidName = "invalid-name", "metadata.name is a DNS-1123 subdomain";
    InvalidGenerateName = "invalid-generate-name", "metadata.generateName is a DNS-1123 subdomain prefix";
    InvalidNamespace = "invalid-namespace", "metadata.namespace is a DNS-1123 label";
    InvalidLabel = "invalid-label", "Label keys are qualified names and values valid label values";
    InvalidAnnotation = "invalid-annotation", "Annotation keys are qualified names, 256 KiB in all at most";
    InvalidOwnerReference = "invalid-owner-reference", "ownerReferences are complete, with at most one controller";
    InvalidFinalizer = "invalid-finalizer", "Finalizers are qualified names, orphan and foregroundDeletion not both";
    NameTooLong = "name-too-long", "A CronJob name is at most 52 characters";
    InvalidIndexedHostname = "invalid-indexed-hostname", "An Indexed Job's pod hostnames are DNS labels";
    NameNotDnsLabel = "name-not-dns-label", "Warning: the name is not a DNS label";
    // CronJob spec.
    ScheduleRequired = "schedule-required", "spec.schedule is set";
    InvalidSchedule = "invalid-schedule", "spec.schedule parses as robfig/cron v3 ParseStandard does";
    TzInSchedule = "tz-in-schedule", "No TZ= or CRON_TZ= in the schedule; use spec.timeZone";
    InvalidTimeZone = "invalid-time-zone", "spec.timeZone is an IANA time zone";
    NegativeValue = "negative-value", "Counts, limits and deadlines are not negative";
    ConcurrencyPolicyRequired = "concurrency-policy-required", "spec.concurrencyPolicy is set";
    UnsupportedConcurrencyPolicy = "unsupported-concurrency-policy", "spec.concurrencyPolicy is Allow, Forbid or Replace";
    // Job spec.
    RestartPolicyRequired = "restart-policy-required", "The pod template's restartPolicy is OnFailure or Never";
    UnsupportedRestartPolicy = "unsupported-restart-policy", "restartPolicy is a known value";
    RestartPolicyWithPodFailurePolicy = "restart-policy-with-pod-failure-policy", "With a podFailurePolicy, restartPolicy is Never";
    UnsupportedCompletionMode = "unsupported-completion-mode", "completionMode is NonIndexed or Indexed";
    IndexedCompletionsRequired = "indexed-completions-required", "An Indexed Job sets completions";
    IndexedLimit = "indexed-limit", "Indexed Jobs stay within the parallelism and index limits";
    MaxFailedIndexesRequired = "max-failed-indexes-required", "maxFailedIndexes is set for very large Indexed Jobs";
    BackoffLimitPerIndexRequired = "backoff-limit-per-index-required", "maxFailedIndexes needs backoffLimitPerIndex";
    RequiresIndexedMode = "requires-indexed-mode", "backoffLimitPerIndex and maxFailedIndexes need completionMode Indexed";
    InvalidManagedBy = "invalid-managed-by", "managedBy is a domain-prefixed path of at most 63 bytes";
    PodFailurePolicyRules = "pod-failure-policy-rules", "At most 20 podFailurePolicy rules";
    PodFailurePolicyAction = "pod-failure-policy-action", "A podFailurePolicy action is Count, FailIndex, FailJob or Ignore";
    PodFailurePolicyRule = "pod-failure-policy-rule", "A podFailurePolicy rule has exactly one of onExitCodes and onPodConditions";
    PodFailurePolicyOperator = "pod-failure-policy-operator", "onExitCodes.operator is In or NotIn";
    PodFailurePolicyContainerName = "pod-failure-policy-container-name", "onExitCodes.containerName names a container of the template";
    PodFailurePolicyValues = "pod-failure-policy-values", "onExitCodes.values: 1 to 255 ascending, distinct values, no 0 with In";
    PodFailurePolicyConditions = "pod-failure-policy-conditions", "At most 20 onPodConditions patterns";
    PodFailurePolicyConditionType = "pod-failure-policy-condition-type", "A pod condition pattern's type is a qualified name";
    PodFailurePolicyConditionStatus = "pod-failure-policy-condition-status", "A pod condition pattern's status is True, False or Unknown";
    SuccessPolicyRequiresIndexed = "success-policy-requires-indexed", "successPolicy needs an Indexed Job";
    SuccessPolicyRules = "success-policy-rules", "1 to 20 successPolicy rules";
    SuccessPolicyRule = "success-policy-rule", "A successPolicy rule sets succeededCount or succeededIndexes";
    SuccessPolicyIndexes = "success-policy-indexes", "succeededIndexes is an ascending list of indexes below completions";
    SuccessPolicyCount = "success-policy-count", "succeededCount fits completions and succeededIndexes";
    UnsupportedPodReplacementPolicy = "unsupported-pod-replacement-policy", "podReplacementPolicy is Failed or TerminatingOrFailed";
    // The pod template.
    ContainersRequired = "containers-required", "The pod template has at least one container";
    ContainerName = "container-name", "Containers have unique DNS-label names";
    ImageRequired = "image-required", "Every container has an image";
    EphemeralContainersForbidden = "ephemeral-containers-forbidden", "No ephemeral containers in a pod template";
    InvalidContainer = "invalid-container", "A container's image, pull policy, ports, lifecycle and restart policy are valid";
    InvalidEnv = "invalid-env", "Environment variables and envFrom sources are valid";
    InvalidResources = "invalid-resources", "Resource names and quantities are valid, requests at most limits";
    InvalidProbe = "invalid-probe", "Probes have exactly one handler and valid thresholds";
    InvalidVolume = "invalid-volume", "Volumes have valid names and exactly one valid source";
    InvalidVolumeMount = "invalid-volume-mount", "Volume mounts and devices name a volume, with valid paths";
    InvalidSecurityContext = "invalid-security-context", "Security contexts: ids, sysctls, seccomp, AppArmor, privileges";
    InvalidScheduling = "invalid-scheduling", "Node selector, affinity, tolerations and topology spread are valid";
    InvalidPodSpec = "invalid-pod-spec", "Pod-level fields: names, DNS, host namespaces, grace periods, overhead";
    DeprecatedPodField = "deprecated-pod-field", "Warning: the API server's pod-template warnings (deprecated fields and values)";
    // Selectors and generated labels.
    SelectorRequired = "selector-required", "A Job with manualSelector: true has a selector";
    InvalidSelector = "invalid-selector", "The selector's keys, values and operators are valid";
    SelectorMismatch = "selector-mismatch", "The selector matches the template labels";
    SelectorNotAutoGenerated = "selector-not-auto-generated", "Without manualSelector, the selector is the generated one";
    SelectorGeneratedLabel = "selector-generated-label", "Without manualSelector, generated labels keep their generated values";
    SelectorNotAllowed = "selector-not-allowed", "A CronJob job template has no selector";
    ManualSelectorNotAllowed = "manual-selector-not-allowed", "A CronJob job template does not set manualSelector";
    // Updates and the API server's warnings.
    ImmutableField = "immutable-field", "Fields that cannot change on update keep their value";
    LargeIndexedJob = "large-indexed-job", "Warning: a very large Indexed Job whose failed indexes may not be tracked";
    // Policy rules (opt-in, stricter than the API server).
    AllowedRestartPolicies = "allowed-restart-policies", "Policy: the template's restartPolicy is in rules.allowedRestartPolicies";
    AllowedCompletionModes = "allowed-completion-modes", "Policy: completionMode is in rules.allowedCompletionModes";
    AllowedConcurrencyPolicies = "allowed-concurrency-policies", "Policy: concurrencyPolicy is in rules.allowedConcurrencyPolicies";
    MaxSuccessfulJobsHistoryLimit = "max-successful-jobs-history-limit", "Policy: successfulJobsHistoryLimit is at most rules.maxSuccessfulJobsHistoryLimit";
    MaxFailedJobsHistoryLimit = "max-failed-jobs-history-limit", "Policy: failedJobsHistoryLimit is at most rules.maxFailedJobsHistoryLimit";
    MinScheduleInterval = "min-schedule-interval", "Policy: runs are at least rules.minScheduleIntervalSeconds apart";
    RequireTimeZone = "require-time-zone", "Policy: a CronJob sets spec.timeZone";
    // Advice (warnings only).
    NeverFiringSchedule = "never-firing-schedule", "Advice: the schedule is valid but never fires";
    ShortStartingDeadline = "short-starting-deadline", "Advice: startingDeadlineSeconds is so short that runs may be skipped";
    TzPrefixOnUpdate = "tz-prefix-on-update", "Advice: an update keeps a TZ= prefix in the schedule";
    DstSchedule = "dst-schedule", "Advice (audit): a daylight-saving change in the next year skips or repeats a run";
    // The webhook's defaults, looked at offline (`mutate --check`, `audit`).
    WouldMutate = "would-mutate", "The webhook's defaults are written down: an error in mutate --check, a warning in audit";
    // The reader of manifest files (`validate`).
    YamlSyntax = "yaml-syntax", "The document is valid YAML or JSON";
    YamlTooDeep = "yaml-too-deep", "The document nests at most 255 mappings and sequences";
    YamlAliasBudget = "yaml-alias-budget", "Aliases do not expand the document past kubectl's ratio or the copy budget";
    DuplicateKey = "duplicate-key", "Warning: a mapping key is given twice; the last value is kept, as kubectl does";
    UnsupportedApiVersion = "unsupported-api-version", "A Job or CronJob is batch/v1";
    NotAnObject = "not-an-object", "A document is a mapping (an object), not a bare scalar or a list";
    UnreadableInput = "unreadable-input", "Every path given can be read (and, for audit, every list the cluster is asked for)";
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &rule in RuleId::ALL {
            let id = rule.as_str();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{id} is not kebab-case"
            );
            assert_eq!(RuleId::from_id(id), Some(rule));
            assert!(!rule.summary().is_empty());
        }
        assert_eq!(RuleId::from_id("no-such-rule"), None);
    }

    #[test]
    fn serializes_as_its_id() {
        assert_eq!(
            serde_json::to_string(&RuleId::InvalidSchedule).expect("serializes"),
            "\"invalid-schedule\""
        );
    }
}
