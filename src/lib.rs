//! batchguard: judge `batch/v1` Jobs and CronJobs exactly as kube-apiserver does, offline
//! (`batchguard validate`) and in the cluster (`batchguard serve`), with one engine.
//!
//! The core is pure: [`cron`] (a robfig/cron v3 compatible schedule parser and scheduler),
//! [`apidefaults`] (the API server's defaulting, simulated for offline manifests),
//! [`rules`] (validation and policy), [`defaults`] (the mutation patch) and [`admission`]
//! (AdmissionReview in, AdmissionResponse out). The shells ([`validate`], [`server`], the
//! binary) do the I/O.

pub mod admission;
pub mod apidefaults;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod cron;
pub mod defaults;
pub(crate) mod jsonscan;
pub(crate) mod jsonw;
pub mod rules;
pub mod schedule;
pub mod server;
pub mod validate;
pub mod yaml;
