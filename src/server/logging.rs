//! Log output: text for people, JSON for log pipelines, on stderr.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::LogFormat;

/// Set when `--log-format json` is in effect (see the review event in [`admit`]).
pub(super) static JSON_LOGS: AtomicBool = AtomicBool::new(false);

/// Sets up `tracing` output on stderr; a second call (tests, or a binary that already did it)
/// is a no-op.
pub fn init_logging(format: LogFormat) {
    // kube's request layer logs every failed API call at error level, bare; the certificate
    // manager logs the same failure with the object and what to do about it.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube_client::client::builder=off"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => {
            let result = builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .try_init();
            if result.is_ok() {
                JSON_LOGS.store(true, Ordering::Relaxed);
            }
            result
        }
    };
}
