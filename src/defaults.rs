//! The mutation: which defaults `/mutate` adds to a Job or CronJob, as a JSON Patch.
//!
//! STUB: the admission owner replaces the bodies.
