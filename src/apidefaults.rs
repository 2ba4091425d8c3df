//! What the API server does to an object before any validation sees it: the
//! `SetDefaults_*` defaulting and, for a Job, `PrepareForCreate`'s selector and label
//! generation. Offline manifests are not defaulted, so `validate` runs this first.
//!
//! STUB: the rules owner replaces the bodies.

use serde_json::Value;

use crate::rules::Kind;

/// The placeholder UID used for a Job's generated selector offline.
pub const PLACEHOLDER_UID: &str = "00000000-0000-4000-8000-000000000000";

/// Applies the API server's defaults (`pkg/apis/batch/v1/defaults.go`, core v1 pod defaults).
pub fn apply_defaults(kind: Kind, object: &mut Value) {
    let _ = (kind, object);
}

/// Defaults, then what `PrepareForCreate` adds (generated name from `generateName`, Job
/// selector and template labels with [`PLACEHOLDER_UID`]).
pub fn prepare_for_create(kind: Kind, object: &mut Value) {
    apply_defaults(kind, object);
}
