//! Self-managed certificates (`serve --cert-secret`) wired into the server: the
//! [`CertManager`] keeps the Secret and the webhooks' `caBundle`; this task follows its state,
//! swaps each new pair into the TLS resolver (established connections keep theirs, so none
//! drops) and holds `/readyz` at 503 until a certificate is served and its CA injected.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info};

use super::metrics::ReloadResult;
use super::tls::CertResolver;
use super::State;
use crate::cluster::{CertManager, CertState, Material};

/// What `/readyz` says before the first check has finished.
const FIRST_CHECK: &str = "the first certificate check is under way";

/// Starts the manager and the task that follows it; returns the resolver to serve, empty
/// until the first material arrives.
pub(super) fn start(
    manager: CertManager,
    state: &Arc<State>,
    background: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
) -> Arc<CertResolver> {
    let resolver = Arc::new(CertResolver::empty());
    state.set_certificates_waiting(Some(FIRST_CHECK.to_owned()));
    let (tx, rx) = watch::channel(CertState::default());
    background.spawn(manager.run(tx, stop.clone()));
    background.spawn(follow(rx, resolver.clone(), state.clone()));
    resolver
}

/// Applies every published state until the manager stops.
async fn follow(mut states: watch::Receiver<CertState>, resolver: Arc<CertResolver>, state: Arc<State>) {
    let mut serving: Option<Arc<Material>> = None;
    let mut was_ready = false;
    loop {
        let current = states.borrow_and_update().clone();
        if let Some(material) = &current.material {
            if serving.as_deref() != Some(&**material) {
                match material.certified_key() {
                    Ok(key) => {
                        resolver.set(key);
                        state.metrics.set_cert_not_after(material.not_after);
                        state.metrics.record_cert_reload(ReloadResult::Success);
                        info!(
                            not_after = material.not_after,
                            renew_at = material.renew_at(),
                            "serving the certificate from the Secret"
                        );
                        serving = Some(material.clone());
                    }
                    Err(e) => {
                        // Material::check loaded this pair already, so this is not expected;
                        // the previous pair (if any) stays.
                        state.metrics.record_cert_reload(ReloadResult::Failure);
                        error!(error = %e, "cannot serve the certificate from the Secret");
                    }
                }
            }
        }
        let ready = current.is_ready() && serving.is_some();
        let waiting = if ready {
            None
        } else {
            Some(match (&current.error, &serving) {
                (Some(error), _) => error.clone(),
                (None, None) => FIRST_CHECK.to_owned(),
                (None, Some(_)) => "the CA is not yet in every webhook configuration".to_owned(),
            })
        };
        if ready != was_ready {
            if ready {
                info!("certificate served and CA injected: ready");
            } else {
                error!(
                    reason = waiting.as_deref().unwrap_or_default(),
                    "not ready until the certificate check succeeds again"
                );
            }
            was_ready = ready;
        }
        state.set_certificates_waiting(waiting);
        if states.changed().await.is_err() {
            return;
        }
    }
}
