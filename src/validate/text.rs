//! The text emitter: one compiler-style line per finding
//! (`path:line:col: error[rule-id] field: message`), then a summary line, so editors and
//! CI logs can jump to the spot.

use std::io::{self, Write};

use super::{Located, Report, Summary};
use crate::rules::Severity;

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
            write!(
                out,
                "{}{}:{}:{}:{reset} {}{word}[{}]{reset}",
                paint(BOLD),
                result.file,
                f.line,
                f.column,
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
    writeln!(out, "{verdict}{}{reset}", summary_line(&s))
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
/// (the unparseable count only when there are some).
pub fn summary_line(s: &Summary) -> String {
    let unparseable = match s.unparseable() {
        0 => String::new(),
        n => format!(", {n} unparseable"),
    };
    format!(
        "{}, {}: {} valid, {} invalid, {} skipped{unparseable}; {}, {}",
        plural(s.files, "file"),
        plural(s.documents, "document"),
        s.valid,
        s.invalid,
        s.skipped,
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
    )
}
