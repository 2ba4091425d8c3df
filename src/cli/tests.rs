use super::serve::*;
use super::*;
use clap::CommandFactory;

#[test]
fn command_line_is_well_formed() {
    Cli::command().debug_assert();
}

#[test]
fn no_path_means_stdin() {
    let cli = Cli::try_parse_from(["batchguard", "validate"]).expect("parses");
    let Command::Validate(args) = cli.command else {
        panic!("validate expected")
    };
    assert!(args.paths.is_empty());
    assert_eq!(args.format, ReportFormat::Text);
}

#[test]
fn every_report_format_is_accepted_by_validate() {
    for f in ["text", "json", "sarif", "junit", "github"] {
        let cli = Cli::try_parse_from(["batchguard", "validate", "--format", f]).expect("parses");
        assert!(matches!(cli.command, Command::Validate(_)), "{f}");
    }
}

#[test]
fn mutate_prints_yaml_by_default_and_checks_with_a_report_format() {
    let cli = Cli::try_parse_from(["batchguard", "mutate", "a.yaml"]).expect("parses");
    let Command::Mutate(args) = cli.command else {
        panic!("mutate expected")
    };
    assert_eq!(
        (args.format, args.check, args.report),
        (MutateFormat::Yaml, false, ReportFormat::Text)
    );
    let cli = Cli::try_parse_from([
        "batchguard",
        "mutate",
        "--check",
        "--report",
        "sarif",
        "--format",
        "patch",
    ])
    .expect("parses");
    let Command::Mutate(args) = cli.command else {
        panic!("mutate expected")
    };
    assert_eq!(
        (args.format, args.check, args.report),
        (MutateFormat::Patch, true, ReportFormat::Sarif)
    );
    assert!(Cli::try_parse_from(["batchguard", "mutate", "--format", "sarif"]).is_err());
}

#[test]
fn audit_takes_a_namespace_or_all_but_not_both() {
    let cli = Cli::try_parse_from(["batchguard", "audit", "-n", "prod", "--context", "c"]).expect("parses");
    let Command::Audit(args) = cli.command else {
        panic!("audit expected")
    };
    assert_eq!(args.namespace.as_deref(), Some("prod"));
    assert_eq!(args.context.as_deref(), Some("c"));
    assert!(!args.all_namespaces);
    let cli = Cli::try_parse_from(["batchguard", "audit", "-A", "--format", "junit"]).expect("parses");
    let Command::Audit(args) = cli.command else {
        panic!("audit expected")
    };
    assert!(args.all_namespaces && args.format == ReportFormat::Junit);
    assert!(Cli::try_parse_from(["batchguard", "audit", "-A", "-n", "x"]).is_err());
}

#[test]
fn rejects_count_zero_and_bad_from() {
    assert!(Cli::try_parse_from(["batchguard", "schedule", "--count", "0", "* * * * *"]).is_err());
    assert!(Cli::try_parse_from(["batchguard", "schedule", "--from", "yesterday", "* * * * *"]).is_err());
}

#[test]
fn a_bare_secret_name_takes_its_namespace_from_the_pod() {
    let bare = parse_cert_secret("batchguard-tls").expect("a name alone");
    assert_eq!(bare.resolve(None), None);
    let secret = bare.resolve(Some("ops")).expect("resolved");
    assert_eq!(secret.to_string(), "ops/batchguard-tls");
    let full = parse_cert_secret("batchguard/tls").expect("namespaced");
    assert_eq!(
        full.resolve(Some("ops")).map(|s| s.to_string()).as_deref(),
        Some("batchguard/tls")
    );
    assert!(parse_cert_secret("Tls").is_err());
    assert!(parse_cert_secret("").is_err());
}

#[test]
fn cert_flags_split_on_commas_and_need_cert_secret() {
    let cli = Cli::try_parse_from([
        "batchguard",
        "serve",
        "--cert-secret",
        "a/b",
        "--cert-hosts",
        "x.svc,10.0.0.1",
        "--webhook-configurations",
        "one,two",
    ])
    .expect("parses");
    let Command::Serve(args) = cli.command else {
        panic!("serve expected")
    };
    assert_eq!(args.cert_hosts.len(), 2);
    assert_eq!(args.webhook_configurations, ["one", "two"]);
    assert_eq!(args.cert_check_interval, std::time::Duration::from_secs(60));
    assert!(Cli::try_parse_from(["batchguard", "serve", "--kubeconfig", "k"]).is_err());
}

#[test]
fn schedule_expression_may_start_with_a_hyphen_free_descriptor() {
    let cli = Cli::try_parse_from(["batchguard", "schedule", "@every 1h"]).expect("parses");
    let Command::Schedule(args) = cli.command else {
        panic!("schedule expected")
    };
    assert_eq!(args.expr, "@every 1h");
    assert_eq!(args.count, 5);
}

#[test]
fn reload_interval_says_its_real_range() {
    assert_eq!(parse_interval("0.5"), Ok(0.5));
    assert_eq!(parse_interval("3600"), Ok(3600.0));
    assert_eq!(
        parse_interval("0"),
        Err("\"0\" is out of range: must be greater than 0 and at most 3600 seconds".to_string())
    );
    assert_eq!(
        parse_interval("3601"),
        Err("\"3601\" is out of range: must be greater than 0 and at most 3600 seconds".to_string())
    );
    assert_eq!(
        parse_interval("2s"),
        Err("\"2s\" is not a number of seconds".to_string())
    );
    assert!(parse_interval("NaN").is_err());
}

#[test]
fn every_help_has_examples_and_exit_codes() {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let mut pending = vec![root];
    let mut seen = 0;
    while let Some(mut cmd) = pending.pop() {
        pending.extend(cmd.get_subcommands().cloned());
        let help = cmd.render_long_help().to_string();
        for part in ["Examples:\n  batchguard", "Exit codes:\n  0  "] {
            assert!(
                help.contains(part),
                "`{}` --help lacks {part:?}:\n{help}",
                cmd.get_name()
            );
        }
        seen += 1;
    }
    assert!(seen >= 8, "{seen} commands");
}

#[test]
fn version_names_the_package_version() {
    let version = Cli::command().get_version().unwrap_or_default().to_string();
    assert!(version.starts_with(env!("CARGO_PKG_VERSION")), "{version}");
}

#[test]
fn completions_and_man_parse() {
    let cli = Cli::try_parse_from(["batchguard", "completions", "zsh"]).expect("parses");
    assert!(matches!(
        cli.command,
        Command::Completions(CompletionsArgs {
            shell: clap_complete::Shell::Zsh
        })
    ));
    assert!(Cli::try_parse_from(["batchguard", "completions", "tcsh"]).is_err());
    assert!(Cli::try_parse_from(["batchguard", "man", "validate", "--dir", "x"]).is_err());
}
