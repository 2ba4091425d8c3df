//! `AdmissionReview.response`, built as kube-core builds it: from the request (so the uid
//! and apiVersion cannot be forgotten), then changed only through `#[must_use]` methods,
//! and serialized by serde in the field order the API documents.
//!
//! kube-core 5's own `AdmissionResponse` cannot be used: it serializes `patch` as an array
//! of numbers instead of base64 (kube-rs#1781), always emits a `status` and answers
//! unreadable requests as v1beta1 with an empty uid (kube-rs#1904).

use base64::Engine as _;
use json_patch::Patch;
use serde::Serialize;
use serde_json::value::RawValue;

use super::request::API_VERSION;
use crate::apiserver::Status;

/// The response to one AdmissionReview request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct Response {
    uid: String,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch_type: Option<PatchType>,
    /// The JSON Patch in base64, already a JSON string: base64 needs no escaping, so it is
    /// written as it is rather than scanned again.
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// `patchType`: the only one the API defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum PatchType {
    #[serde(rename = "JSONPatch")]
    JsonPatch,
}

/// The patch as the API expects it: the JSON Patch's bytes in base64, as a JSON string.
fn base64_patch(patch: &Patch) -> Box<RawValue> {
    let mut json = Vec::with_capacity(96 * patch.0.len() + 2);
    serde_json::to_writer(&mut json, patch).expect("a JSON Patch always serializes");
    let engine = &base64::engine::general_purpose::STANDARD;
    let encoded = base64::encoded_len(json.len(), true).expect("a patch is far below usize::MAX");
    let mut quoted = vec![b'"'; encoded + 2];
    let written = engine
        .encode_slice(&json, &mut quoted[1..=encoded])
        .expect("the buffer has the encoded length");
    debug_assert_eq!(written, encoded);
    let quoted = String::from_utf8(quoted).expect("base64 and quotes are ASCII");
    RawValue::from_string(quoted).expect("a quoted base64 text is a JSON string")
}

/// The whole review around a response.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Review<'a> {
    api_version: &'static str,
    kind: &'static str,
    response: &'a Response,
}

impl Response {
    /// Allowed, nothing to say: the answer every request starts from.
    pub fn allow(uid: &str) -> Response {
        Response {
            uid: uid.to_string(),
            allowed: true,
            status: None,
            patch_type: None,
            patch: None,
            warnings: Vec::new(),
        }
    }

    /// Refuses the request with `status`.
    pub fn deny(mut self, status: Status) -> Response {
        self.allowed = false;
        self.status = Some(status);
        self
    }

    /// Adds a JSON Patch; an empty patch adds nothing.
    pub fn with_patch(mut self, patch: Patch) -> Response {
        if !patch.0.is_empty() {
            self.patch_type = Some(PatchType::JsonPatch);
            self.patch = Some(base64_patch(&patch));
        }
        self
    }

    /// Adds `Warning` texts, shown by kubectl.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Response {
        self.warnings.extend(warnings);
        self
    }

    pub fn is_allowed(&self) -> bool {
        self.allowed
    }

    /// The `admission.k8s.io/v1` AdmissionReview around this response, as JSON.
    pub fn into_review_bytes(self) -> Vec<u8> {
        let review = Review {
            api_version: API_VERSION,
            kind: "AdmissionReview",
            response: &self,
        };
        // Sized once: the texts (warnings, the patch) are most of the answer.
        let texts: usize = self.warnings.iter().map(|w| w.len() + 8).sum::<usize>()
            + self.patch.as_ref().map_or(0, |p| p.get().len())
            + self.status.as_ref().map_or(0, |s| 2 * s.message.len() + 256);
        let mut out = Vec::with_capacity(160 + self.uid.len() + texts);
        serde_json::to_writer(&mut out, &review)
            .expect("a review of strings, numbers and a patch always serializes");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_response_is_only_uid_and_allowed() {
        assert_eq!(
            String::from_utf8(Response::allow("u\"1").into_review_bytes()).expect("utf-8"),
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u\"1","allowed":true}}"#
        );
    }

    #[test]
    fn a_patch_is_base64_with_its_type_and_an_empty_one_is_left_out() {
        let patch: Patch =
            serde_json::from_str(r#"[{"op":"add","path":"/spec/suspend","value":true}]"#).expect("a patch");
        let bytes = Response::allow("u")
            .with_patch(patch)
            .with_warnings(vec!["w".into()])
            .into_review_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(v["response"]["patchType"], "JSONPatch");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(v["response"]["patch"].as_str().expect("a string"))
            .expect("base64");
        assert_eq!(decoded, br#"[{"op":"add","path":"/spec/suspend","value":true}]"#);
        assert_eq!(v["response"]["warnings"], serde_json::json!(["w"]));
        let empty = Response::allow("u").with_patch(Patch(Vec::new()));
        assert_eq!(
            empty.into_review_bytes(),
            Response::allow("u").into_review_bytes()
        );
    }

    #[test]
    fn a_denial_carries_its_status() {
        let r = Response::allow("u").deny(Status::internal("boom".into()));
        assert!(!r.is_allowed());
        let v: serde_json::Value = serde_json::from_slice(&r.into_review_bytes()).expect("json");
        assert_eq!(v["response"]["allowed"], false);
        assert_eq!(v["response"]["status"]["code"], 500);
        assert_eq!(v["response"]["status"]["message"], "boom");
    }

    /// Why the response is ours: kube 5 writes `patch` as numbers (kube-rs#1781).
    #[test]
    fn kube_response_patch_is_not_base64() {
        use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};
        use kube::core::DynamicObject;
        let body = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u", "kind": {"group": "batch", "version": "v1", "kind": "Job"},
                        "resource": {"group": "batch", "version": "v1", "resource": "jobs"},
                        "operation": "CREATE", "userInfo": {}, "object": {"apiVersion": "batch/v1", "kind": "Job"}}
        });
        let review: AdmissionReview<DynamicObject> = serde_json::from_value(body).expect("kube reads it");
        let request: AdmissionRequest<DynamicObject> = review.try_into().expect("has a request");
        let mut response = AdmissionResponse::from(&request);
        response.patch = Some(br#"[{"op":"add","path":"/spec/suspend","value":true}]"#.to_vec());
        let v = serde_json::to_value(response.into_review()).expect("json");
        assert!(v["response"]["patch"].is_array(), "{v}");
    }
}
