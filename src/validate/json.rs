//! The JSON emitter: the report as one JSON object, a contract other tools parse
//! (`{"summary":{…},"results":[…]}`; see docs/cli.md). Field order is fixed by the structs.

use std::io::{self, Write};

use serde::Serialize;

use super::{DocResult, Report, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    summary: Summary,
    results: &'a [DocResult],
}

/// Writes the report as pretty-printed JSON followed by a newline.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let doc = JsonReport {
        summary: report.summary(),
        results: &report.results,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}
