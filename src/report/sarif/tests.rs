use serde_json::Value;

use super::*;
use crate::report::text::tests::sample;
use crate::report::{DocResult, Source, CLUSTER_FILE};

/// The official SARIF 2.1.0 schema (oasis-tcs/sarif-spec `sarif-schema-2.1.0.json`).
const SARIF_SCHEMA: &str = include_str!("../../../tests/data/sarif-schema-2.1.0.json");

const TOOL: Tool<'static> = Tool {
    version: "0.0.0-test",
    repository: Some("https://example.invalid/batchguard"),
};

fn emit(report: &Report, tool: Tool<'_>) -> Value {
    let mut out = Vec::new();
    write_with(&mut out, report, tool).expect("writes");
    serde_json::from_slice(&out).expect("valid JSON")
}

/// Checks `value` against a JSON Schema (draft-07), for the keywords the SARIF schema
/// uses: `$ref`, `type`, `enum`, `properties`, `required`, `additionalProperties`,
/// `items`, `minItems`, `uniqueItems`, `minimum`, `maximum`, `anyOf`, `oneOf`, `format`.
/// A `pattern` on a value we write fails the check: none of ours should need one.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target
            .strip_prefix("#/definitions/")
            .unwrap_or_else(|| panic!("unsupported $ref {target}"));
        return validate(root, &root["definitions"][name], value, at, errors);
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let ok = match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            other => panic!("unsupported type {other}"),
        };
        if !ok {
            errors.push(format!("{at}: not of type {ty}: {value}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if value.as_f64().is_some_and(|v| v < min) {
            errors.push(format!("{at}: {value} is below the minimum {min}"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if value.as_f64().is_some_and(|v| v > max) {
            errors.push(format!("{at}: {value} is above the maximum {max}"));
        }
    }
    if schema.get("pattern").is_some() {
        errors.push(format!("{at}: has a pattern this check does not evaluate"));
    }
    if let (Some(format), Some(s)) = (schema.get("format").and_then(Value::as_str), value.as_str()) {
        let uri_chars = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b));
        let has_scheme = s.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        });
        match format {
            "uri" if !(uri_chars && has_scheme) => errors.push(format!("{at}: {s:?} is not an absolute URI")),
            "uri-reference" if !uri_chars => errors.push(format!("{at}: {s:?} is not a URI reference")),
            "uri" | "uri-reference" => {}
            other => panic!("unsupported format {other}"),
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                errors.push(format!("{at}: fewer than {min} items"));
            }
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    errors.push(format!("{at}[{i}]: repeats an earlier item"));
                }
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(root, item_schema, item, &format!("{at}[{i}]"), errors);
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(key) {
                errors.push(format!("{at}: lacks the required {key:?}"));
            }
        }
        for (key, v) in object {
            let path = format!("{at}.{key}");
            match (
                properties.and_then(|p| p.get(key)),
                schema.get("additionalProperties"),
            ) {
                (Some(sub), _) => validate(root, sub, v, &path, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{path}: not allowed here")),
                (None, Some(extra @ Value::Object(_))) => validate(root, extra, v, &path, errors),
                (None, _) => {}
            }
        }
    }
    for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
            let passing = options
                .iter()
                .filter(|option| {
                    let mut scratch = Vec::new();
                    validate(root, option, value, at, &mut scratch);
                    scratch.is_empty()
                })
                .count();
            if passing == 0 || (exactly_one && passing > 1) {
                errors.push(format!("{at}: {passing} of the {keyword} options match"));
            }
        }
    }
}

fn schema_errors(log: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("the schema is JSON");
    let mut errors = Vec::new();
    validate(&schema, &schema, log, "$", &mut errors);
    errors
}

fn cluster_report() -> Report {
    let mut report = sample();
    report.source = Source::Cluster;
    for r in &mut report.results {
        r.file = CLUSTER_FILE.into();
        r.namespace = Some("prod".into());
        for f in &mut r.findings {
            (f.line, f.column) = (0, 0);
        }
    }
    report
}

#[test]
fn the_validator_catches_what_code_scanning_would_reject() {
    let mut log = emit(&sample(), TOOL);
    assert_eq!(schema_errors(&log), Vec::<String>::new());
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = Value::from(0);
    log["runs"][0]["results"][1]["level"] = Value::from("fatal");
    log["runs"][0]["tool"]["driver"]["informationUri"] = Value::from("not a uri");
    log["runs"][0]["results"][2]["message"] = serde_json::json!({});
    log["runs"][0]["bogus"] = Value::from(1);
    let errors = schema_errors(&log);
    for expected in [
        "startLine: 0 is below the minimum 1",
        "level: \"fatal\" is not one of",
        "informationUri: \"not a uri\" is not an absolute URI",
        "results[2].message: 0 of the anyOf options match",
        "runs[0].bogus: not allowed here",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{expected} in {errors:#?}"
        );
    }
}

#[test]
fn every_shape_of_report_is_valid_sarif_2_1_0() {
    let mut with_unreadable = sample();
    with_unreadable.results.push(DocResult::unreadable(
        "<stdin>",
        "cannot read: Is a directory (os error 21)".into(),
    ));
    for (name, report) in [
        ("sample", sample()),
        ("unreadable", with_unreadable),
        ("cluster", cluster_report()),
        ("empty", Report::default()),
    ] {
        for tool in [
            TOOL,
            Tool {
                version: "1",
                repository: None,
            },
        ] {
            let log = emit(&report, tool);
            assert_eq!(schema_errors(&log), Vec::<String>::new(), "{name}");
        }
    }
}

#[test]
fn lists_every_rule_with_a_summary_and_a_help_page() {
    let log = emit(&Report::default(), TOOL);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "batchguard");
    assert_eq!(driver["version"], "0.0.0-test");
    assert_eq!(driver["informationUri"], "https://example.invalid/batchguard");
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), RuleId::ALL.len());
    assert_eq!(rules[1]["id"], RuleId::ALL[1].as_str());
    let schedule = rules
        .iter()
        .find(|r| r["id"] == "invalid-schedule")
        .expect("listed");
    assert_eq!(
        schedule["shortDescription"]["text"],
        RuleId::InvalidSchedule.summary()
    );
    assert_eq!(
        schedule["helpUri"],
        "https://example.invalid/batchguard/blob/main/docs/rules.md#api-rules"
    );
    let without = emit(
        &Report::default(),
        Tool {
            version: "1",
            repository: None,
        },
    );
    let driver = &without["runs"][0]["tool"]["driver"];
    assert!(driver.get("informationUri").is_none());
    assert!(driver["rules"][0].get("helpUri").is_none());
}

/// Every help page anchor is a heading of that page, and the rule is in that section.
#[test]
fn help_pages_point_at_the_section_that_lists_the_rule() {
    let pages = [
        ("docs/rules.md", include_str!("../../../docs/rules.md")),
        ("docs/pod.md", include_str!("../../../docs/pod.md")),
    ];
    for &rule in RuleId::ALL {
        let (page, anchor) = help_page(rule).split_once('#').expect("an anchor");
        let (_, text) = pages.iter().find(|(p, _)| *p == page).expect("a known page");
        let (mut in_section, mut listed) = (false, false);
        for line in text.lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                in_section = github_slug(heading) == anchor;
            } else if in_section && line.starts_with(&format!("| `{rule}`")) {
                listed = true;
            }
        }
        assert!(listed, "{rule}: no `{rule}` row under {page}#{anchor}");
    }
}

/// GitHub's anchor for a heading: lowercase, spaces to `-`, punctuation dropped.
fn github_slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn results_carry_rule_level_message_and_position() {
    let log = emit(&sample(), TOOL);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    let first = &results[0];
    assert_eq!(first["ruleId"], "invalid-schedule");
    let index = first["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(RuleId::ALL[index], RuleId::InvalidSchedule);
    assert_eq!(first["level"], "error");
    assert_eq!(
        first["message"]["text"],
        "spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7"
    );
    assert_eq!(
        first["locations"][0]["physicalLocation"],
        serde_json::json!({"artifactLocation": {"uri": "jobs/backup.yaml"}, "region": {"startLine": 6, "startColumn": 13}})
    );
    assert_eq!(results[1]["level"], "warning");
    assert_eq!(
        results[2]["message"]["text"],
        "did not find expected node content"
    );
}

#[test]
fn unreadable_and_cluster_results_have_no_region() {
    let mut report = sample();
    report
        .results
        .push(DocResult::unreadable("my dir/<x>.yaml", "cannot read".into()));
    let log = emit(&report, TOOL);
    let last = &log["runs"][0]["results"][3];
    assert_eq!(last["ruleId"], "unreadable-input");
    assert_eq!(
        last["locations"][0]["physicalLocation"],
        serde_json::json!({"artifactLocation": {"uri": "my%20dir/%3Cx%3E.yaml"}})
    );
    let log = emit(&cluster_report(), TOOL);
    let first = &log["runs"][0]["results"][0];
    assert!(first["locations"][0].get("physicalLocation").is_none());
    assert_eq!(
        first["locations"][0]["logicalLocations"][0],
        serde_json::json!({"fullyQualifiedName": "prod/CronJob/backup", "kind": "resource"})
    );
}

#[test]
fn absolute_paths_become_file_uris() {
    assert_eq!(file_uri("/tmp/a b.yaml"), "file:///tmp/a%20b.yaml");
    assert_eq!(file_uri("m/ok_1.yaml"), "m/ok_1.yaml");
    assert_eq!(file_uri("é.yaml"), "%C3%A9.yaml");
}

#[test]
fn snapshot() {
    let mut out = Vec::new();
    let mut report = sample();
    report.results.push(DocResult::unreadable(
        "gone.yaml",
        "cannot read: No such file or directory (os error 2)".into(),
    ));
    write_with(
        &mut out,
        &report,
        Tool {
            version: "0.0.0-test",
            repository: None,
        },
    )
    .expect("writes");
    let text = String::from_utf8(out).expect("utf8");
    // The rule table is long and tested above; the snapshot shows the results.
    let log: Value = serde_json::from_str(&text).expect("json");
    insta::assert_json_snapshot!("sarif_results", log["runs"][0]["results"]);
}

#[test]
fn the_repository_can_come_from_the_environment_when_it_is_an_absolute_url() {
    let built = Tool {
        version: "0.1.0",
        repository: None,
    };
    let tool = built.with_repository_from(Some("https://github.com/acme/batchguard"));
    assert_eq!(tool.repository, Some("https://github.com/acme/batchguard"));
    for unusable in [
        None,
        Some(""),
        Some("acme/batchguard"),
        Some("file:///x"),
        Some("https://a b"),
    ] {
        assert_eq!(
            built.with_repository_from(unusable).repository,
            None,
            "{unusable:?}"
        );
    }
    let mut out = Vec::new();
    write_with(&mut out, &sample(), tool).expect("written");
    let log: Value = serde_json::from_slice(&out).expect("json");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert!(rules.iter().all(|r| r["helpUri"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://github.com/acme/batchguard/blob/main/docs/"))));
}
