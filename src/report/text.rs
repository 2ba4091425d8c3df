//! The text emitter: one compiler-style line per finding
//! (`path:line:col: error[rule-id] field: message`), then a summary line, so editors and
//! CI logs can jump to the spot. A finding without a position (an unreadable path, a
//! cluster object) is placed by its file or `namespace/Kind/name` alone.

use std::io::{self, Write};

use super::{Located, Report, Source, Summary};
use crate::model::Severity;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const GREEN: &str = "\x1b[1;32m";

/// Writes the report; `color` adds ANSI colours (the caller decides: a terminal, no `NO_COLOR`).
pub fn write(out: &mut dyn Write, report: &Report, color: bool) -> io::Result<()> {
    let paint = |code: &'static str| if color { code } else { "" };
    let reset = paint(RESET);
    for result in &report.results {
        for f in &result.findings {
            let (word, code) = severity_word(f);
            let place = if f.has_position() && report.source == Source::Files {
                format!("{}:{}:{}", result.file, f.line, f.column)
            } else {
                report.label(result)
            };
            write!(
                out,
                "{}{place}:{reset} {}{word}[{}]{reset}",
                paint(BOLD),
                paint(code),
                f.rule,
            )?;
            if f.field.is_empty() {
                writeln!(out, ": {}", f.message)?;
            } else {
                writeln!(out, " {}: {}", f.field, f.message)?;
            }
        }
    }
    let s = report.summary();
    let verdict = if s.errors > 0 { paint(RED) } else { paint(GREEN) };
    writeln!(out, "{verdict}{}{reset}", summary_line(&s, report.source))
}

fn severity_word(f: &Located) -> (&'static str, &'static str) {
    match f.severity {
        Severity::Error => ("error", RED),
        Severity::Warning => ("warning", YELLOW),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `3 files, 7 documents: 2 valid, 3 invalid, 1 skipped, 1 unparseable; 4 errors, 1 warning`
/// (the unparseable count only when there are some, and `1 unreadable path, ` after the
/// files when a path could not be read); for a cluster,
/// `[1 unreadable list, ]12 cluster objects: …`.
pub fn summary_line(s: &Summary, source: Source) -> String {
    let unparseable = match s.unparseable {
        0 => String::new(),
        n => format!(", {n} unparseable"),
    };
    let unreadable = |what| match s.unreadable {
        0 => String::new(),
        n => format!("{}, ", plural(n, what)),
    };
    let head = match source {
        Source::Files => format!(
            "{}, {}{}",
            plural(s.files, "file"),
            unreadable("unreadable path"),
            plural(s.documents, "document")
        ),
        Source::Cluster => format!(
            "{}{}",
            unreadable("unreadable list"),
            plural(s.documents, "cluster object")
        ),
    };
    format!(
        "{head}: {} valid, {} invalid, {} skipped{unparseable}; {}, {}",
        s.valid,
        s.invalid,
        s.skipped,
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::RuleId;
    use crate::report::{DocResult, Status};

    /// A report with every status and both severities, built by hand so the emitters can be
    /// tested whatever the rules find.
    pub(crate) fn sample() -> Report {
        let doc = |document, item, line, kind: Option<&str>, status, findings| DocResult {
            file: "jobs/backup.yaml".into(),
            document,
            item,
            line,
            kind: kind.map(str::to_string),
            name: kind.map(|_| "backup".to_string()),
            namespace: None,
            status,
            findings,
        };
        let located = |rule: RuleId, severity, field: &str, message: &str, line, column| Located {
            rule,
            severity,
            field: field.into(),
            message: message.into(),
            line,
            column,
        };
        Report {
            files: 1,
            results: vec![
                doc(
                    0,
                    None,
                    1,
                    Some("CronJob"),
                    Status::Invalid,
                    vec![
                        located(
                            RuleId::InvalidSchedule,
                            Severity::Error,
                            "spec.schedule",
                            "Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7",
                            6,
                            13,
                        ),
                        located(
                            RuleId::ShortStartingDeadline,
                            Severity::Warning,
                            "spec.startingDeadlineSeconds",
                            "Invalid value: 5: below 10 seconds",
                            7,
                            28,
                        ),
                    ],
                ),
                doc(
                    1,
                    None,
                    20,
                    None,
                    Status::Unparseable,
                    vec![located(
                        RuleId::YamlSyntax,
                        Severity::Error,
                        "",
                        "did not find expected node content",
                        22,
                        1,
                    )],
                ),
                doc(2, Some(0), 26, Some("ConfigMap"), Status::Skipped, vec![]),
                doc(2, Some(1), 30, Some("Job"), Status::Valid, vec![]),
            ],
            ..Report::default()
        }
    }

    #[test]
    fn prints_compiler_style_lines_and_a_summary() {
        let mut out = Vec::new();
        write(&mut out, &sample(), false).expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "jobs/backup.yaml:6:13: error[invalid-schedule] spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7
jobs/backup.yaml:7:28: warning[short-starting-deadline] spec.startingDeadlineSeconds: Invalid value: 5: below 10 seconds
jobs/backup.yaml:22:1: error[yaml-syntax]: did not find expected node content
1 file, 4 documents: 1 valid, 1 invalid, 1 skipped, 1 unparseable; 2 errors, 1 warning
"
        );
    }

    #[test]
    fn snapshot() {
        let mut out = Vec::new();
        write(&mut out, &sample(), false).expect("writes");
        insta::assert_snapshot!("text_sample", String::from_utf8(out).expect("utf8"));
    }

    #[test]
    fn colours_only_when_asked() {
        let mut plain = Vec::new();
        write(&mut plain, &sample(), false).expect("writes");
        assert!(!plain.contains(&0x1b));
        let mut coloured = Vec::new();
        write(&mut coloured, &sample(), true).expect("writes");
        let text = String::from_utf8(coloured).expect("utf8");
        assert!(
            text.contains("\x1b[1;31merror[invalid-schedule]\x1b[0m"),
            "{text}"
        );
        assert!(text.contains("\x1b[1;33mwarning["), "{text}");
    }

    #[test]
    fn summary_leaves_out_unparseable_when_there_is_none() {
        let s = Summary {
            files: 2,
            documents: 3,
            checked: 3,
            valid: 3,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(&s, Source::Files),
            "2 files, 3 documents: 3 valid, 0 invalid, 0 skipped; 0 errors, 0 warnings"
        );
    }

    #[test]
    fn an_unreadable_path_is_placed_by_its_name_and_counted() {
        let mut report = sample();
        report.results.push(DocResult::unreadable(
            "gone.yaml",
            "cannot read: No such file or directory (os error 2)".into(),
        ));
        let mut out = Vec::new();
        write(&mut out, &report, false).expect("writes");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.contains(
                "\ngone.yaml: error[unreadable-input]: cannot read: No such file or directory (os error 2)\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("1 file, 1 unreadable path, 4 documents: 1 valid, 1 invalid, 1 skipped, 1 unparseable; 3 errors, 1 warning\n"),
            "{text}"
        );
    }

    #[test]
    fn cluster_objects_are_named_and_counted_as_objects() {
        let mut report = sample();
        report.source = Source::Cluster;
        for r in &mut report.results {
            r.file = crate::report::CLUSTER_FILE.into();
            r.namespace = Some("prod".into());
            for f in &mut r.findings {
                (f.line, f.column) = (0, 0);
            }
        }
        let mut out = Vec::new();
        write(&mut out, &report, false).expect("writes");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.starts_with("prod/CronJob/backup: error[invalid-schedule] spec.schedule: "),
            "{text}"
        );
        assert!(
            text.ends_with(
                "\n4 cluster objects: 1 valid, 1 invalid, 1 skipped, 1 unparseable; 2 errors, 1 warning\n"
            ),
            "{text}"
        );
    }
}
