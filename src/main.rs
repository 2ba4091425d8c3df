//! The `batchguard` binary: parse the command line, dispatch, map errors to an exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
