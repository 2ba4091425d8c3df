//! The YAML reader with positions on arbitrary text: every document is read or refused
//! with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    batchguard::fuzzing::yaml(text);
});
