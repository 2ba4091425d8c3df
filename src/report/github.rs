//! The GitHub Actions emitter: one workflow command per finding
//! (`::error file=F,line=L,col=C,title=RULE::message`, `::warning …`), which the runner
//! turns into annotations on the pull request's diff, then the summary line as plain log
//! text. Escaped as the runner unescapes (actions/toolkit `command.ts`): `%`, CR and LF in
//! the message; also `:` and `,` in property values.

use std::io::{self, Write};

use super::{text, Report, Source};
use crate::model::Severity;

/// Writes one workflow command per finding, then the summary line.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for r in &report.results {
        for f in &r.findings {
            let command = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut properties = Vec::with_capacity(4);
            let mut message = String::new();
            match report.source {
                Source::Files => {
                    properties.push(format!("file={}", escape_property(&r.file)));
                    if f.has_position() {
                        properties.push(format!("line={}", f.line));
                        properties.push(format!("col={}", f.column));
                    }
                }
                // No file to annotate: the object is named in the message.
                Source::Cluster => {
                    message.push_str(&report.label(r));
                    message.push_str(": ");
                }
            }
            properties.push(format!("title={}", escape_property(f.rule.as_str())));
            if !f.field.is_empty() {
                message.push_str(&f.field);
                message.push_str(": ");
            }
            message.push_str(&f.message);
            writeln!(
                out,
                "::{command} {}::{}",
                properties.join(","),
                escape_data(&message)
            )?;
        }
    }
    writeln!(
        out,
        "{}",
        escape_data(&text::summary_line(&report.summary(), report.source))
    )
}

/// A command's message: `%`, CR and LF escaped.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// A command's property value: as [`escape_data`], and `:` and `,` too.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::text::tests::sample;
    use crate::report::{DocResult, CLUSTER_FILE};

    fn emit(report: &Report) -> String {
        let mut out = Vec::new();
        write(&mut out, report).expect("writes");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn escapes_as_the_runner_unescapes() {
        assert_eq!(escape_data("100%\r\nnext: a,b"), "100%25%0D%0Anext: a,b");
        assert_eq!(escape_property("C:\\a,b%\n"), "C%3A\\a%2Cb%25%0A");
    }

    #[test]
    fn one_command_per_finding_with_file_line_col_and_rule() {
        let text = emit(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "::error file=jobs/backup.yaml,line=6,col=13,title=invalid-schedule::spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7"
        );
        assert!(
            lines[1].starts_with("::warning file=jobs/backup.yaml,line=7,col=28,title=short-starting-deadline::spec.startingDeadlineSeconds: "),
            "{text}"
        );
        assert_eq!(
            lines[2],
            "::error file=jobs/backup.yaml,line=22,col=1,title=yaml-syntax::did not find expected node content"
        );
        assert!(lines[3].starts_with("1 file, 4 documents: "), "{text}");
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn hostile_names_and_messages_cannot_break_the_command() {
        let mut report = sample();
        report.results.push(DocResult::unreadable(
            "a,b:c.yaml",
            "cannot read: line one\nline two 100%".into(),
        ));
        let text = emit(&report);
        assert!(
            text.contains("::error file=a%2Cb%3Ac.yaml,title=unreadable-input::cannot read: line one%0Aline two 100%25\n"),
            "{text}"
        );
    }

    #[test]
    fn cluster_findings_name_the_object_instead_of_a_file() {
        let mut report = sample();
        report.source = crate::report::Source::Cluster;
        for r in &mut report.results {
            r.file = CLUSTER_FILE.into();
            r.namespace = Some("prod".into());
        }
        let text = emit(&report);
        assert!(
            text.starts_with("::error title=invalid-schedule::prod/CronJob/backup: spec.schedule: "),
            "{text}"
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("github_sample", emit(&sample()));
    }
}
