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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_contract_shape() {
        let mut out = Vec::new();
        write(&mut out, &crate::report::text::tests::sample()).expect("writes");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(
            v["summary"],
            serde_json::json!({"files":1,"documents":4,"checked":2,"skipped":1,"valid":1,"invalid":1,"errors":2,"warnings":1})
        );
        let first = &v["results"][0];
        let keys = [
            "file",
            "document",
            "item",
            "line",
            "kind",
            "name",
            "namespace",
            "status",
            "findings",
        ];
        assert_eq!(first.as_object().expect("object").len(), keys.len());
        crate::report::assert_keys_in_order(&out, &keys);
        assert_eq!(first["item"], serde_json::Value::Null);
        assert_eq!(first["status"], "invalid");
        assert_eq!(
            first["findings"][0],
            serde_json::json!({"rule":"invalid-schedule","severity":"error","field":"spec.schedule",
                "message":"Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7","line":6,"column":13})
        );
        assert_eq!(v["results"][1]["status"], "unparseable");
        assert_eq!(v["results"][2]["item"], 0);
        assert_eq!(v["results"][3]["status"], "valid");
    }
}
