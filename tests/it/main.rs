//! batchguard's integration tests, as one test binary (each binary links the whole crate,
//! so one binary builds once): a module per face.
//!
//! - `admission`: the webhook's pure core on the requests a real kube-apiserver sent.
//! - `server`: the real HTTPS server on 127.0.0.1 (TLS, HTTP/1.1 and HTTP/2, reloads, metrics);
//!   `server_limits`: slow, idle and shutting-down clients; `request_limits`: objects with
//!   a cause or warning per list item.
//! - `cli`: the binary as users run it (exit codes, output snapshots); `cli_hardening`:
//!   hostile files (deep nesting, alias bombs, named pipes).
//! - `cluster`: self-managed certificates against `fake_apiserver`, a strict in-process
//!   Kubernetes API server.
//! - `cron_corpus`, `schedule_corpus`: every schedule of the robfig/cron corpus.
//! - `deploy`: every Kustomize overlay and component, rendered with `kubectl kustomize`.
//! - `manifest_corpus`, `pod_corpus`, `validate_corpus`: every manifest of the API-server
//!   corpora (batch fields, and the pod template).

mod admission;
mod cli;
mod cli_hardening;
mod cluster;
mod common;
mod cron_corpus;
mod deploy;
mod fake_apiserver;
mod manifest_corpus;
mod pod_corpus;
mod request_limits;
mod schedule_corpus;
mod server;
mod server_limits;
mod validate_corpus;
