//! The JUnit XML emitter, for CI systems that show test reports (GitLab, Jenkins, Azure):
//! a `<testsuite>` per file (per namespace for a cluster), a `<testcase>` per document or
//! object, a `<failure>` per error (type = the rule id), the warnings in the testcase's
//! `<system-out>`, and `<skipped>` for documents that are not Jobs or CronJobs.
//!
//! Written by hand rather than with `quick-junit`: that crate models one result per
//! testcase, and a document with three errors is three `<failure>` elements here (as
//! Jenkins' schema allows). The XML is four elements deep; [`escape`] is what must be right.

use std::collections::HashMap;
use std::io::{self, Write};

use super::{DocResult, Located, Report, Source, Status};
use crate::model::Severity;

/// Writes the report as one JUnit XML document.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let suites = suites(report);
    let count = |f: fn(&DocResult) -> bool| -> usize {
        suites
            .iter()
            .map(|(_, cases)| cases.iter().filter(|r| f(r)).count())
            .sum()
    };
    let tests: usize = suites.iter().map(|(_, cases)| cases.len()).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="batchguard" tests="{tests}" failures="{}" errors="0" skipped="{}">"#,
        count(failed),
        count(skipped)
    )?;
    for (name, cases) in &suites {
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="{}">"#,
            escape(name, true),
            cases.len(),
            cases.iter().filter(|r| failed(r)).count(),
            cases.iter().filter(|r| skipped(r)).count(),
        )?;
        for r in cases {
            testcase(out, report, name, r)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn failed(r: &DocResult) -> bool {
    r.findings.iter().any(|f| f.severity == Severity::Error)
}

fn skipped(r: &DocResult) -> bool {
    r.status == Status::Skipped
}

/// The results grouped into suites, suites in order of first appearance.
fn suites(report: &Report) -> Vec<(String, Vec<&DocResult>)> {
    let mut order: Vec<(String, Vec<&DocResult>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in &report.results {
        let key = match report.source {
            Source::Files => r.file.clone(),
            Source::Cluster => r
                .namespace
                .clone()
                .unwrap_or_else(|| super::CLUSTER_FILE.to_string()),
        };
        let i = *index.entry(key.clone()).or_insert_with(|| {
            order.push((key, Vec::new()));
            order.len() - 1
        });
        order[i].1.push(r);
    }
    order
}

fn testcase(out: &mut dyn Write, report: &Report, suite: &str, r: &DocResult) -> io::Result<()> {
    let mut name = match report.source {
        Source::Files if r.status == Status::Unreadable => "input".to_string(),
        Source::Files => match r.item {
            Some(item) => format!("document {}, item {item}", r.document),
            None => format!("document {}", r.document),
        },
        Source::Cluster => String::new(),
    };
    let object: Vec<&str> = [&r.kind, &r.name]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
    if !object.is_empty() {
        if !name.is_empty() {
            name.push_str(": ");
        }
        name.push_str(&object.join(" "));
    }
    if name.is_empty() {
        name = report.label(r);
    }
    write!(
        out,
        r#"    <testcase name="{}" classname="{}""#,
        escape(&name, true),
        escape(suite, true)
    )?;
    let warnings: Vec<&Located> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .collect();
    if !failed(r) && !skipped(r) && warnings.is_empty() {
        return writeln!(out, "/>");
    }
    writeln!(out, ">")?;
    for f in r.findings.iter().filter(|f| f.severity == Severity::Error) {
        writeln!(
            out,
            r#"      <failure message="{}" type="{}">{}</failure>"#,
            escape(&message(f), true),
            f.rule,
            escape(&line(report, r, f), false)
        )?;
    }
    if skipped(r) {
        let what = r.kind.as_deref().unwrap_or("no kind");
        writeln!(
            out,
            r#"      <skipped message="{}"/>"#,
            escape(&format!("not a batch/v1 Job or CronJob ({what})"), true)
        )?;
    }
    if !warnings.is_empty() {
        let lines: Vec<String> = warnings.iter().map(|f| line(report, r, f)).collect();
        writeln!(
            out,
            "      <system-out>{}</system-out>",
            escape(&lines.join("\n"), false)
        )?;
    }
    writeln!(out, "    </testcase>")
}

fn message(f: &Located) -> String {
    if f.field.is_empty() {
        f.message.clone()
    } else {
        format!("{}: {}", f.field, f.message)
    }
}

/// The finding as the text format prints it (`path:line:col: error[rule] field: message`).
fn line(report: &Report, r: &DocResult, f: &Located) -> String {
    let place = if f.has_position() && report.source == Source::Files {
        format!("{}:{}:{}", r.file, f.line, f.column)
    } else {
        report.label(r)
    };
    let word = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    if f.field.is_empty() {
        format!("{place}: {word}[{}]: {}", f.rule, f.message)
    } else {
        format!("{place}: {word}[{}] {}: {}", f.rule, f.field, f.message)
    }
}

/// XML-escapes `text` for an attribute value (`attribute`) or element content. Characters
/// XML 1.0 cannot hold at all (control characters other than tab, newline and carriage
/// return; U+FFFE, U+FFFF) become U+FFFD, so a hostile file name cannot break the document.
pub fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            // An attribute value's whitespace is normalized by XML parsers unless escaped.
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::text::tests::sample;
    use crate::report::CLUSTER_FILE;

    fn emit(report: &Report) -> String {
        let mut out = Vec::new();
        write(&mut out, report).expect("writes");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn escapes_markup_quotes_and_characters_xml_cannot_hold() {
        assert_eq!(escape("a<b>&\"c'", false), "a&lt;b&gt;&amp;\"c'");
        assert_eq!(escape("a<b>&\"c'", true), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\ny\tz\r", true), "x&#10;y&#9;z&#13;");
        assert_eq!(escape("x\ny\tz", false), "x\ny\tz");
        assert_eq!(
            escape("bell\u{7}\u{1b}[31m\u{FFFF}", false),
            "bell\u{FFFD}\u{FFFD}[31m\u{FFFD}"
        );
    }

    #[test]
    fn a_suite_per_file_a_case_per_document_a_failure_per_error() {
        let text = emit(&sample());
        assert!(
            text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            "{text}"
        );
        assert!(
            text.contains(r#"<testsuites name="batchguard" tests="4" failures="2" errors="0" skipped="1">"#),
            "{text}"
        );
        assert_eq!(text.matches("<testsuite ").count(), 1, "{text}");
        assert_eq!(text.matches("<testcase ").count(), 4, "{text}");
        assert_eq!(text.matches("<failure ").count(), 2, "{text}");
        assert!(
            text.contains(r#"<failure message="spec.schedule: Invalid value: &quot;0 0 * * 7&quot;: end of range (7) above maximum (6): 7" type="invalid-schedule">jobs/backup.yaml:6:13: error[invalid-schedule] spec.schedule: Invalid value: "0 0 * * 7": end of range (7) above maximum (6): 7</failure>"#),
            "{text}"
        );
        assert!(
            text.contains("<system-out>jobs/backup.yaml:7:28: warning[short-starting-deadline]"),
            "{text}"
        );
        assert!(
            text.contains(
                r#"<testcase name="document 2, item 1: Job backup" classname="jobs/backup.yaml"/>"#
            ),
            "{text}"
        );
    }

    #[test]
    fn two_errors_are_two_failures_of_one_testcase() {
        let mut report = sample();
        let mut second = report.results[0].findings[0].clone();
        second.message = "another".into();
        report.results[0].findings.push(second);
        let text = emit(&report);
        assert_eq!(text.matches("<failure ").count(), 3, "{text}");
        assert!(text.contains(r#"tests="4" failures="2""#), "{text}");
    }

    #[test]
    fn an_unreadable_path_is_a_failed_testcase_of_its_own_suite() {
        let mut report = sample();
        report.results.push(DocResult::unreadable(
            "gone & lost.yaml",
            "cannot read: No such file".into(),
        ));
        let text = emit(&report);
        assert!(
            text.contains(
                r#"<testsuite name="gone &amp; lost.yaml" tests="1" failures="1" errors="0" skipped="0">"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"<failure message="cannot read: No such file" type="unreadable-input">gone &amp; lost.yaml: error[unreadable-input]: cannot read: No such file</failure>"#),
            "{text}"
        );
    }

    #[test]
    fn a_cluster_report_has_a_suite_per_namespace() {
        let mut report = sample();
        report.source = Source::Cluster;
        for (i, r) in report.results.iter_mut().enumerate() {
            r.file = CLUSTER_FILE.into();
            r.namespace = Some(if i % 2 == 0 { "prod" } else { "dev" }.into());
            for f in &mut r.findings {
                (f.line, f.column) = (0, 0);
            }
        }
        let text = emit(&report);
        assert_eq!(text.matches("<testsuite ").count(), 2, "{text}");
        assert!(
            text.contains(r#"<testcase name="CronJob backup" classname="prod">"#),
            "{text}"
        );
        assert!(
            text.contains(">prod/CronJob/backup: error[invalid-schedule] spec.schedule:"),
            "{text}"
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("junit_sample", emit(&sample()));
    }
}
