//! Reloads without restarts: change detection for files Kubernetes mounts, and the polling
//! task that calls a reload when they change. A Secret or ConfigMap volume is updated by
//! swapping a `..data` symlink, which an inotify watch on the file itself misses. Polling what
//! each path resolves to (target path, mtime and a content hash) sees every kind of update.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// What a set of paths resolved to at one poll. Two equal signatures mean nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(Vec<FileSig>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum FileSig {
    Missing(String),
    Present {
        target: PathBuf,
        modified: Option<SystemTime>,
        digest: [u8; 32],
    },
}

impl Signature {
    /// Reads every path; an unreadable file is part of the signature too, so that its
    /// reappearance counts as a change.
    pub fn of(paths: &[&Path]) -> Signature {
        Signature(paths.iter().map(|p| file_sig(p)).collect())
    }
}

fn file_sig(path: &Path) -> FileSig {
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) => return FileSig::Missing(e.to_string()),
    };
    let modified = std::fs::metadata(&target).and_then(|m| m.modified()).ok();
    match std::fs::read(&target) {
        Ok(bytes) => FileSig::Present {
            target,
            modified,
            digest: Sha256::digest(&bytes).into(),
        },
        Err(e) => FileSig::Missing(e.to_string()),
    }
}

pub(super) fn refs(paths: &[PathBuf]) -> Vec<&Path> {
    paths.iter().map(PathBuf::as_path).collect()
}

/// Calls `reload` whenever what `paths` resolve to changes. A failed reload is not retried
/// until the files change again: the signature is taken before reading, so a half-written
/// pair is seen once more when its second file lands.
pub(super) async fn poll_changes(
    paths: Vec<PathBuf>,
    mut seen: Signature,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    reload: impl Fn() + Send + 'static,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = Signature::of(&refs(&paths));
        if now != seen {
            seen = now;
            reload();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_a_symlink_swap_to_identical_looking_content_elsewhere() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "one").expect("write");
        std::fs::write(&b, "two").expect("write");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&a, &link).expect("symlink");
        let before = Signature::of(&[&link]);
        assert_eq!(before, Signature::of(&[&link]));
        let tmp = dir.path().join("link.tmp");
        std::os::unix::fs::symlink(&b, &tmp).expect("symlink");
        std::fs::rename(&tmp, &link).expect("rename");
        assert_ne!(before, Signature::of(&[&link]));
    }

    #[test]
    fn a_missing_file_has_a_stable_signature() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("nope");
        let before = Signature::of(&[&p]);
        assert_eq!(before, Signature::of(&[&p]));
        std::fs::write(&p, "x").expect("write");
        assert_ne!(before, Signature::of(&[&p]), "a file that appears is a change");
    }
}
