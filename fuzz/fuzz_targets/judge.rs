//! `rules::check` and `rules::judge` on arbitrary JSON, as a Job and as a CronJob, on
//! CREATE and on UPDATE against itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    batchguard::fuzzing::judge(data);
});
