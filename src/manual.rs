//! The command line described for other programs: shell completion scripts (clap_complete)
//! and manual pages (clap_mangen). Both are made from the same clap definition as `--help`
//! at run time, so they cannot drift from the binary that prints them.

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;

/// Why a manual page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ManError {
    #[error("no command {name:?}; commands: {known}")]
    UnknownCommand { name: String, known: String },
    #[error("cannot write the manual pages to {dir}")]
    Write {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The command tree as the pages and scripts show it: no `help` subcommand (`--help` is
/// everywhere), and built, so subcommands know their full names (`batchguard-validate`).
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    // Into a buffer: clap_complete panics when its writer fails (a closed pipe), and the
    // binary should end quietly instead.
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "batchguard", &mut out);
    out
}

/// The roff page of batchguard, or of one of its commands (`validate`, `config`, …).
pub fn man_page(name: Option<&str>) -> Result<Vec<u8>, ManError> {
    let cmd = command();
    let page = match name {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let known: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                return Err(ManError::UnknownCommand {
                    name: name.to_string(),
                    known: known.join(", "),
                });
            }
        },
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .expect("rendering into memory cannot fail");
    Ok(out)
}

/// Writes `batchguard.1` and one `batchguard-<command>.1` per command (nested ones too)
/// into `dir`, creating it if needed; returns the files written.
pub fn write_man_pages(dir: &Path) -> Result<Vec<PathBuf>, ManError> {
    let write_err = |source| ManError::Write {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let mut written = Vec::new();
    let mut pending = vec![command()];
    while let Some(cmd) = pending.pop() {
        pending.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        let path = clap_mangen::Man::new(cmd).generate_to(dir).map_err(write_err)?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_every_command() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::PowerShell,
            clap_complete::Shell::Elvish,
        ] {
            let script = String::from_utf8(completions(shell)).expect("utf-8");
            // fish names long flags without their dashes (`-l time-zone`).
            for word in ["validate", "schedule", "serve", "completions", "time-zone"] {
                assert!(script.contains(word), "{shell:?} lacks {word}");
            }
        }
    }

    #[test]
    fn the_main_page_lists_commands_examples_and_exit_codes() {
        let page = String::from_utf8(man_page(None).expect("page")).expect("utf-8");
        assert!(page.starts_with(".ie \\n(.g .ds Aq \\(aq"), "{page}");
        assert!(page.contains(".TH batchguard 1"), "{page}");
        for word in ["validate", "schedule", "serve", "Exit codes:", "Examples:"] {
            assert!(page.contains(word), "lacks {word}");
        }
    }

    #[test]
    fn a_command_page_has_its_own_name_and_flags() {
        let page = String::from_utf8(man_page(Some("schedule")).expect("page")).expect("utf-8");
        assert!(page.contains(".TH batchguard-schedule 1"), "{page}");
        assert!(page.contains("time\\-zone"), "{page}");
    }

    #[test]
    fn an_unknown_command_lists_the_known_ones() {
        let err = man_page(Some("frobnicate")).expect_err("no such command");
        let text = err.to_string();
        assert!(
            text.starts_with("no command \"frobnicate\"; commands: validate, "),
            "{text}"
        );
        for command in ["mutate", "audit", "schedule", "serve"] {
            assert!(text.contains(command), "{text}");
        }
    }

    #[test]
    fn writes_one_page_per_command() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = write_man_pages(dir.path()).expect("written");
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        for name in [
            "batchguard.1",
            "batchguard-validate.1",
            "batchguard-config.1",
            "batchguard-config-default.1",
            "batchguard-man.1",
        ] {
            assert!(names.iter().any(|n| n == name), "{names:?} lacks {name}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    }
}
