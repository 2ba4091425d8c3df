//! Puts the git revision into `batchguard --version` (`batchguard 0.1.0 (f098d8a)`), so a
//! bug report names the exact build. A build outside a git checkout (a source tarball, a
//! Docker context without `.git`) says `batchguard 0.1.0`, or uses `BATCHGUARD_REVISION`
//! when the builder sets it.
//!
//! Cargo rebuilds the whole package whenever this script runs again, so it asks to run
//! again only when the checked-out commit moves (HEAD, its reflog, the branch's ref), not
//! on every edit of a file in the package, which is what a build script without
//! `rerun-if-changed` lines gets.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BATCHGUARD_REVISION");
    let version = env("CARGO_PKG_VERSION").unwrap_or_default();
    let revision = env("BATCHGUARD_REVISION")
        .filter(|r| !r.is_empty())
        .or_else(git_revision);
    let full = match revision {
        Some(rev) => format!("{version} ({rev})"),
        None => version,
    };
    println!("cargo:rustc-env=BATCHGUARD_VERSION={full}");
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The short commit hash, when the package is the top of its own git checkout (a tarball
/// unpacked inside another repository must not report that repository's commit).
fn git_revision() -> Option<String> {
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    if top.canonicalize().ok()? != manifest_dir.canonicalize().ok()? {
        return None;
    }
    let git_dir = absolute(&top, git(&["rev-parse", "--git-dir"])?);
    let common_dir = absolute(&top, git(&["rev-parse", "--git-common-dir"])?);
    let mut watched = vec![git_dir.join("HEAD"), git_dir.join("logs/HEAD")];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(common_dir.join(branch));
    }
    watched.push(common_dir.join("packed-refs"));
    // A path that does not exist would make Cargo run this script on every build.
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    git(&["rev-parse", "--short", "HEAD"])
}

fn absolute(top: &Path, path: String) -> PathBuf {
    let path = PathBuf::from(path);
    if path.is_absolute() {
        path
    } else {
        top.join(path)
    }
}
