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
            serde_json::json!({"files":1,"documents":4,"checked":2,"skipped":1,"valid":1,"invalid":1,"errors":2,"warnings":1,"unparseable":1,"unreadable":0})
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
        // New summary fields come after the original ones.
        crate::report::assert_keys_in_order(&out, &["warnings", "unparseable", "unreadable", "results"]);
    }

    #[test]
    fn an_unreadable_path_is_a_result() {
        let mut report = crate::report::text::tests::sample();
        report.results.push(DocResult::unreadable(
            "gone.yaml",
            "cannot read: No such file or directory (os error 2)".into(),
        ));
        let mut out = Vec::new();
        write(&mut out, &report).expect("writes");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["summary"]["unreadable"], 1);
        assert_eq!(v["summary"]["documents"], 4);
        assert_eq!(
            v["results"][4],
            serde_json::json!({"file": "gone.yaml", "document": 0, "item": null, "line": 0,
                "kind": null, "name": null, "namespace": null, "status": "unreadable",
                "findings": [{"rule": "unreadable-input", "severity": "error", "field": "",
                    "message": "cannot read: No such file or directory (os error 2)", "line": 0, "column": 0}]})
        );
    }

    #[test]
    fn snapshot() {
        let mut out = Vec::new();
        write(&mut out, &crate::report::text::tests::sample()).expect("writes");
        insta::assert_snapshot!("json_sample", String::from_utf8(out).expect("utf8"));
    }
}
