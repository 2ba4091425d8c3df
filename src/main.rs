//! The `batchguard` binary: parse the command line, dispatch, map errors to an exit code
//! (0 ok; 1 findings, invalid or unparseable; 2 usage error or could not run). A closed
//! stdout (`batchguard validate … | head`) ends the run quietly, as ripgrep does.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Parser;

use batchguard::cli::{
    AuditArgs, CertsArgs, Cli, Command, ConfigCommand, Format, MutateArgs, MutateFormat, ReportFormat,
    ScheduleArgs, ValidateArgs,
};
use batchguard::policy::{Policy, DEFAULT_POLICY_YAML};
use batchguard::report::Report;
use batchguard::validate::{self, Face, RunOptions};

/// mimalloc for the binary only (the library leaves the choice to its users): `serve` builds
/// a JSON tree per request and the rules allocate many small strings, where glibc's malloc
/// and free cost far more (see "Why the code is shaped so" in docs/server.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Files above which a terminal gets a progress line.
const PROGRESS_THRESHOLD: usize = 200;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help`/`--version` are not errors (exit 0); usage errors exit 2. A closed
            // stdout while printing help is not worth a panic either.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr(), "error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Validate(args) => validate_command(args),
        Command::Mutate(args) => mutate_command(args),
        Command::Audit(args) => audit_command(args),
        Command::Schedule(args) => schedule_command(args),
        Command::Config(args) => match args.command {
            ConfigCommand::Default => {
                let mut out = io::stdout().lock();
                out.write_all(DEFAULT_POLICY_YAML.as_bytes())?;
                out.flush()?;
                Ok(0)
            }
        },
        Command::Certs(args) => certs_command(args),
        Command::Completions(args) => print(&batchguard::manual::completions(args.shell)),
        Command::Man(args) => match args.dir {
            Some(dir) => {
                let mut list = String::new();
                for path in batchguard::manual::write_man_pages(&dir)? {
                    list.push_str(&format!("{}\n", path.display()));
                }
                print(list.as_bytes())
            }
            None => print(&batchguard::manual::man_page(args.command.as_deref())?),
        },
        Command::Serve(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(batchguard::server::run(*args))?;
            Ok(0)
        }
    }
}

/// Writes a CA and a serving certificate for the static install path.
fn certs_command(args: CertsArgs) -> anyhow::Result<u8> {
    const FILES: [&str; 3] = ["ca.crt", "tls.crt", "tls.key"];
    if !args.force {
        let existing: Vec<String> = FILES
            .iter()
            .map(|name| args.out_dir.join(name))
            .filter(|path| path.symlink_metadata().is_ok())
            .map(|path| path.display().to_string())
            .collect();
        if !existing.is_empty() {
            anyhow::bail!(
                "refusing to overwrite {}: pass --force to replace",
                existing.join(", ")
            );
        }
    }
    let material = batchguard::cluster::write_files(&args.out_dir, &args.hosts)
        .with_context(|| format!("cannot write certificates to {}", args.out_dir.display()))?;
    let hosts: Vec<String> = args.hosts.iter().map(ToString::to_string).collect();
    let expires = chrono::DateTime::from_timestamp(material.not_after, 0)
        .map_or_else(|| material.not_after.to_string(), |t| t.to_rfc3339());
    let mut out = io::stdout().lock();
    for name in FILES {
        writeln!(out, "wrote {}", args.out_dir.join(name).display())?;
    }
    writeln!(out, "for {} until {expires}", hosts.join(", "))?;
    out.flush()?;
    Ok(0)
}

fn print(bytes: &[u8]) -> anyhow::Result<u8> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(0)
}

/// Colour only for a terminal, and never when `NO_COLOR` is set (to anything).
fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none()
}

fn load_policy(config: Option<&std::path::Path>) -> anyhow::Result<Policy> {
    Ok(match config {
        Some(path) => Policy::load(path).context("invalid policy file")?,
        None => Policy::default(),
    })
}

fn mutate_command(args: MutateArgs) -> anyhow::Result<u8> {
    let policy = load_policy(args.config.as_deref())?;
    if args.check {
        let report = validate::run_with(
            &args.paths,
            &policy,
            RunOptions {
                now: Utc::now(),
                face: Face::MutateCheck,
                progress: None,
            },
        );
        print_input_errors(&report, args.report);
        write_report(&report, args.report)?;
        return Ok(report.exit_code());
    }
    let run = validate::rewrite::run(&args.paths, &policy, Utc::now());
    let report = Report {
        results: run.problems.clone(),
        input_errors: run.input_errors,
        ..Report::default()
    };
    // Problems go to stderr, as text: stdout is the manifests.
    for e in &report.input_errors {
        let prefix = if e.is_fatal() { "error" } else { "warning" };
        let _ = writeln!(io::stderr(), "{prefix}: {}", with_causes(e));
    }
    for r in report
        .results
        .iter()
        .filter(|r| r.status != batchguard::report::Status::Unreadable)
    {
        for f in &r.findings {
            let _ = writeln!(
                io::stderr(),
                "{}:{}:{}: error[{}]: {}",
                r.file,
                f.line,
                f.column,
                f.rule,
                f.message
            );
        }
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        MutateFormat::Yaml => {
            for d in &run.documents {
                out.write_all(validate::rewrite::to_yaml(&d.value).as_bytes())?;
            }
        }
        MutateFormat::Json => {
            for d in &run.documents {
                serde_json::to_writer_pretty(&mut out, &d.value)?;
                writeln!(out)?;
            }
        }
        MutateFormat::Patch => {
            let patches: Vec<_> = run.documents.iter().flat_map(|d| d.patches.iter()).collect();
            serde_json::to_writer_pretty(&mut out, &patches)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(report.exit_code())
}

fn audit_command(args: AuditArgs) -> anyhow::Result<u8> {
    let policy = load_policy(args.config.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let client = batchguard::cluster::client(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
        let namespace = match (&args.namespace, args.all_namespaces) {
            (_, true) => None,
            (Some(ns), false) => Some(ns.clone()),
            (None, false) => Some(client.kube().default_namespace().to_string()),
        };
        anyhow::Ok(
            batchguard::cluster::audit::audit(&client, namespace.as_deref(), &policy, Utc::now()).await,
        )
    })?;
    for r in &report.results {
        if r.status == batchguard::report::Status::Unreadable && args.format != ReportFormat::Text {
            for f in &r.findings {
                let _ = writeln!(io::stderr(), "error: {}", f.message);
            }
        }
    }
    write_report(&report, args.format)?;
    Ok(report.exit_code())
}

fn validate_command(args: ValidateArgs) -> anyhow::Result<u8> {
    let policy = match &args.config {
        Some(path) => Policy::load(path).context("invalid policy file")?,
        None => Policy::default(),
    };
    let reads_stdin = args.paths.is_empty() || args.paths.iter().any(|p| p.as_os_str() == "-");
    if reads_stdin && io::stdin().is_terminal() {
        let _ = writeln!(
            io::stderr(),
            "reading manifests from standard input (end with Ctrl-D)"
        );
    }
    let stderr_tty = io::stderr().is_terminal();
    let show_progress = args.format == ReportFormat::Text && stderr_tty;
    let mut shown = false;
    let mut progress = |done: usize, total: usize| {
        if show_progress && total > PROGRESS_THRESHOLD && (done % 50 == 0 || done == total) {
            let _ = write!(io::stderr(), "\rvalidating: {done}/{total} files");
            shown = true;
        }
    };
    let report = validate::run_with(
        &args.paths,
        &policy,
        RunOptions {
            now: Utc::now(),
            face: Face::Validate,
            progress: Some(&mut progress),
        },
    );
    if shown {
        // Clear the progress line so the report starts on a clean line.
        let _ = write!(io::stderr(), "\r\x1b[2K");
    }
    print_input_errors(&report, args.format);
    write_report(&report, args.format)?;
    Ok(report.exit_code())
}

/// Input problems on stderr: the notes (an empty directory, a skipped pipe) always; the
/// unreadable paths too unless the report is text, which already lists them on stdout.
fn print_input_errors(report: &Report, format: ReportFormat) {
    for e in &report.input_errors {
        if e.is_fatal() && format == ReportFormat::Text {
            continue;
        }
        let prefix = if e.is_fatal() { "error" } else { "warning" };
        let _ = writeln!(io::stderr(), "{prefix}: {}", with_causes(e));
    }
}

fn write_report(report: &Report, format: ReportFormat) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let color = use_color(stdout.is_terminal());
    let mut out = io::BufWriter::new(stdout.lock());
    batchguard::report::write(&mut out, report, format, color)?;
    out.flush()?;
    Ok(())
}

/// An error and its causes on one line, as anyhow's `{:#}` prints them.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn schedule_command(args: ScheduleArgs) -> anyhow::Result<u8> {
    let from = args.from.map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let report = batchguard::schedule::analyse(
        &args.expr,
        args.time_zone.as_deref(),
        from,
        usize::from(args.count),
    );
    let stdout = io::stdout();
    let color = use_color(stdout.is_terminal());
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => batchguard::schedule::write_text(&mut out, &report, color)?,
        Format::Json => batchguard::schedule::write_json(&mut out, &report)?,
    }
    out.flush()?;
    Ok(if report.valid { 0 } else { 1 })
}
