//! Which inputs a `validate` run reads: PATH arguments to files (directories walked in
//! sorted order), standard input, and reading them.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::report::InputError;

/// The label used for standard input in reports.
pub const STDIN_LABEL: &str = "<stdin>";

/// Extensions read when walking a directory.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// One source of manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// How the input is named in reports: the path as given (joined for walked files), or `<stdin>`.
    pub fn label(&self) -> String {
        match self {
            Input::Stdin => STDIN_LABEL.to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Turns the PATH arguments into inputs: files as given, directories walked recursively in
/// sorted order for `*.yaml`/`*.yml`/`*.json` (hidden entries left out), `-` or nothing as
/// standard input. A path that cannot be read is an `Err` in its place, so that reports
/// keep input order.
pub fn discover(paths: &[PathBuf]) -> Vec<Result<Input, InputError>> {
    let mut found = Vec::new();
    if paths.is_empty() {
        found.push(Ok(Input::Stdin));
    }
    for path in paths {
        if path.as_os_str() == "-" {
            found.push(Ok(Input::Stdin));
            continue;
        }
        match std::fs::metadata(path) {
            Err(source) => found.push(Err(InputError::Read {
                path: path.display().to_string(),
                source,
            })),
            Ok(meta) if meta.is_dir() => {
                let before = found.iter().filter(|f| f.is_ok()).count();
                let mut seen = HashSet::new();
                walk(path, &mut seen, &mut found);
                if found.iter().filter(|f| f.is_ok()).count() == before {
                    found.push(Err(InputError::EmptyDirectory {
                        path: path.display().to_string(),
                    }));
                }
            }
            Ok(_) => found.push(Ok(Input::File(path.clone()))),
        }
    }
    found
}

fn walk(dir: &Path, seen: &mut HashSet<PathBuf>, found: &mut Vec<Result<Input, InputError>>) {
    // A symlink loop would otherwise walk forever.
    if let Ok(real) = std::fs::canonicalize(dir) {
        if !seen.insert(real) {
            return;
        }
    }
    let read_error = |source| InputError::Read {
        path: dir.display().to_string(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return found.push(Err(read_error(e))),
    };
    let mut names = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => names.push(entry.file_name()),
            Err(e) => found.push(Err(read_error(e))),
        }
    }
    names.sort();
    for name in names {
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = dir.join(&name);
        match std::fs::metadata(&path) {
            Err(source) => found.push(Err(InputError::Read {
                path: path.display().to_string(),
                source,
            })),
            Ok(meta) if meta.is_dir() => walk(&path, seen, found),
            Ok(meta) => {
                let wanted = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e));
                if wanted && meta.is_file() {
                    found.push(Ok(Input::File(path)));
                } else if wanted {
                    // Named on the command line, a pipe is read; found by a walk, it is
                    // more likely a leftover that nobody will ever write to.
                    found.push(Err(InputError::NotRegularFile {
                        path: path.display().to_string(),
                    }));
                }
            }
        }
    }
}

/// Reads one input whole. Standard input is read at most once per process in practice.
pub fn read_input(input: &Input) -> Result<Vec<u8>, InputError> {
    let mut buf = Vec::new();
    let result = match input {
        Input::Stdin => std::io::stdin().lock().read_to_end(&mut buf).map(|_| ()),
        Input::File(p) => std::fs::read(p).map(|b| buf = b),
    };
    result.map_err(|source| InputError::Read {
        path: input.label(),
        source,
    })?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_sorted_and_filtered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for p in [
            "b.yaml",
            "a.yml",
            "c.json",
            "notes.md",
            ".hidden.yaml",
            "sub/z.yaml",
            ".git/x.yaml",
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
            std::fs::write(&path, "a: 1\n").expect("write");
        }
        let (inputs, errors) = split(discover(&[root.to_path_buf()]));
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p.strip_prefix(root).expect("under root").display().to_string(),
                Input::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "c.json", "sub/z.yaml"]);
    }

    fn split(found: Vec<Result<Input, InputError>>) -> (Vec<Input>, Vec<InputError>) {
        let mut inputs = Vec::new();
        let mut errors = Vec::new();
        for f in found {
            match f {
                Ok(i) => inputs.push(i),
                Err(e) => errors.push(e),
            }
        }
        (inputs, errors)
    }

    #[test]
    fn no_path_and_dash_mean_stdin() {
        assert_eq!(split(discover(&[])).0, vec![Input::Stdin]);
        assert_eq!(split(discover(&[PathBuf::from("-")])).0, vec![Input::Stdin]);
    }

    #[test]
    fn an_unreadable_path_keeps_its_place_among_the_inputs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.yaml");
        std::fs::write(&a, "a: 1\n").expect("write");
        let found = discover(&[a.clone(), dir.path().join("missing.yaml"), PathBuf::from("-")]);
        assert_eq!(found.len(), 3);
        assert!(matches!(&found[0], Ok(Input::File(p)) if *p == a));
        assert!(matches!(&found[1], Err(InputError::Read { path, .. }) if path.ends_with("missing.yaml")));
        assert!(matches!(&found[2], Ok(Input::Stdin)));
    }

    /// A directory walk skips a named pipe (which would block the run) with a note.
    #[cfg(unix)]
    #[test]
    fn a_walk_skips_named_pipes() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.yaml"), "a: 1\n").expect("write");
        let pipe = dir.path().join("b.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "{made:?}");
        let (inputs, errors) = split(discover(&[dir.path().to_path_buf()]));
        assert_eq!(inputs, [Input::File(dir.path().join("a.yaml"))]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(matches!(&errors[0], InputError::NotRegularFile { path } if path.ends_with("b.yaml")));
        assert!(!errors[0].is_fatal());
        // Named on the command line, it is an input like any file.
        assert_eq!(
            split(discover(std::slice::from_ref(&pipe))).0,
            [Input::File(pipe)]
        );
    }
}
