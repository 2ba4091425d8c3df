//! The schedule parser on arbitrary text: it must never panic, and a schedule it accepts
//! must answer `next` and `shortest_gap` without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    batchguard::fuzzing::cron(text);
});
