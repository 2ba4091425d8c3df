//! AdmissionReview in, AdmissionReview out: kind dispatch, exemptions, update ratcheting
//! and warn mode, with no HTTP in sight.
//!
//! STUB: the admission owner replaces the bodies.
