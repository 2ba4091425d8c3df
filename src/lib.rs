//! batchguard: judge `batch/v1` Jobs and CronJobs exactly as kube-apiserver does, offline
//! (`batchguard validate`) and in the cluster (`batchguard serve`), with one engine.
//!
//! The modules, from the bottom of the graph up (each uses only those below it):
//!
//! - [`model`]: the shared words: [`model::Kind`], [`model::Operation`], [`model::Finding`],
//!   [`model::RuleId`], locations.
//! - [`gocompat`]: Go's `strconv.Quote`, `Atoi`, `time.ParseDuration`, JSON numbers.
//! - [`yaml`]: YAML and JSON documents with source positions (manifests, the policy file).
//! - [`policy`]: the policy file.
//! - [`cron`]: a robfig/cron v3 compatible schedule parser and scheduler.
//! - [`apiserver`]: the API server's decoder, defaulting, validation, warnings and Status.
//! - [`rules`] (the judge: API rules, policy rules, advice) and [`mutation`] (the defaults
//!   patch).
//! - [`admission`] (AdmissionReview in, AdmissionReview out), [`validate`] (files to a
//!   report), [`report`] (the report and its output formats), [`schedule`] (one schedule,
//!   explained), [`manual`] (shell completions and man pages from the command line).
//! - [`server`], [`cluster`] (the Kubernetes API client: certificates, audit) and the
//!   binary: the I/O shells.

pub mod admission;
pub mod apiserver;
pub mod cli;
pub mod cluster;
pub mod cron;
#[doc(hidden)]
pub mod fuzzing;
pub mod gocompat;
pub mod manual;
pub mod model;
pub mod mutation;
pub mod policy;
pub mod report;
pub mod rules;
pub mod schedule;
pub mod server;
pub mod validate;
pub mod yaml;
