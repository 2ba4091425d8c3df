//! The API server, restated as pure functions over JSON values: its decoder
//! ([`decode_error`]), its defaulting ([`apply_defaults`], [`prepare_for_create`]), its
//! batch/v1 validation and warnings ([`validate`]) and its Status message
//! ([`status_message`]). Everything here reproduces kube-apiserver v1.32; batchguard's own
//! rules live in [`crate::rules`].

mod decode;
pub(crate) mod defaulting;
pub(crate) mod field;
pub(crate) mod quantity;
mod status;
mod validation;
mod warnings;

use serde_json::Value;

use crate::model::{Context, Finding, Kind};

pub use defaulting::{apply_defaults, prepare_for_create, PLACEHOLDER_UID};
pub use status::{status_message, Cause, Status};
pub(crate) use validation::crashes_parser;

/// What the API server's decoder refuses before any validation runs (HTTP 400, no causes):
/// a type error, an int32 overflow, a wrong apiVersion.
pub fn decode_error(kind: Kind, object: &Value) -> Option<Finding> {
    decode::check(kind, object)
}

/// [`decode_error`], then kubectl's strict field validation (unknown fields), for a
/// manifest as written.
pub fn strict_decode_error(kind: Kind, manifest: &Value) -> Option<Finding> {
    decode::check(kind, manifest).or_else(|| decode::unknown_fields(kind, manifest))
}

/// The API server's causes for an object at validation time (defaulted, a Job's selector
/// generated), in its order; when there are none, the `Warning` headers it would send.
pub fn validate(kind: Kind, object: &Value, ctx: &Context) -> Vec<Finding> {
    let mut errs = field::Errs::default();
    match kind {
        Kind::Job => validation::job(object, ctx, &mut errs),
        Kind::CronJob => validation::cronjob(object, ctx, &mut errs),
    }
    let mut out = errs.0.into_vec();
    if out.is_empty() {
        out.extend(warnings::warnings(kind, object, ctx));
    }
    out
}
