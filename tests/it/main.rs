//! batchguard's integration tests, as one test binary (each binary links the whole crate,
//! so one binary builds once): a module per face.
//!
//! - `admission`: the webhook's pure core on the requests a real kube-apiserver sent.
//! - `server`: the real HTTPS server on 127.0.0.1 (TLS, HTTP/1.1 and HTTP/2, reloads, metrics);
//!   `server_limits`: slow, idle and shutting-down clients; `request_limits`: objects with
//!   a cause or warning per list item.
//! - `cli`: the binary as users run it (exit codes, output snapshots); `cli_hardening`:
//!   hostile files (deep nesting, alias bombs, named pipes).
//! - `audit`: `batchguard audit` against `fake_apiserver` (paginated lists, RBAC, the binary).
//! - `cluster`: self-managed certificates against `fake_apiserver`, a strict in-process
//!   Kubernetes API server; `serve_certs`: the real server (and binary) with `--cert-secret`
//!   against it, and `batchguard certs`.
//! - `faces`: every report format over the same fixtures; stored objects; `mutate`.
//! - `cron_corpus`, `schedule_corpus`, `describe_corpus`: every schedule of the robfig/cron
//!   corpus (verdicts, fire times, descriptions).
//! - `integrations`: the pre-commit hook and the GitHub Action's shell steps.
//! - `deploy`: every Kustomize overlay and component, rendered with `kubectl kustomize`.
//! - `manifest_corpus`, `pod_corpus`, `validate_corpus`: every manifest of the API-server
//!   corpora (batch fields, and the pod template).

mod admission;
mod api_corpus;
mod audit;
mod cli;
mod cli_hardening;
mod cluster;
mod cluster_objects;
mod common;
mod cron_corpus;
mod deploy;
mod describe_corpus;
mod faces;
mod fake_apiserver;
mod integrations;
mod manifest_corpus;
mod pod_corpus;
mod request_limits;
mod schedule_corpus;
mod serve_certs;
mod server;
mod server_limits;
mod validate_corpus;
