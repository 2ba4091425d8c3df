//! The AdmissionReview reader and both webhooks on arbitrary bytes: an answer or a
//! `ReviewError`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    batchguard::fuzzing::review(data);
});
