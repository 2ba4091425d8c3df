//! The HTTPS webhook server: TLS, routes, metrics, reloads and shutdown around the pure
//! [`crate::admission`] core.
//!
//! STUB: the server owner replaces this; `ServeArgs` and `run` are the agreed entry points.

use std::net::SocketAddr;
use std::path::PathBuf;

/// `batchguard serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address for the HTTPS webhook.
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Serving certificate (PEM). Without it, a development CA and certificate are made under certs/dev/.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Serving key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The policy file (reloaded on change).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Runs the webhook until SIGTERM/SIGINT.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("serve is not implemented yet")
}
