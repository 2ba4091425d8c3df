//! YAML to JSON with source positions kept, so that every finding can point at
//! `file:line:col`. `serde_yaml` is archived and drops positions; we drive yaml-rust2's
//! event parser ourselves and resolve plain scalars as kubectl's YAML reader does
//! (YAML 1.1 booleans such as `yes`/`on`, non-string keys turned into strings).
//!
//! A stream is first cut at its `---` lines, so a syntax error in one document is
//! reported at its `line:col` and the documents after it are still read.

mod scalar;

use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

use crate::rules::Segment;
use scalar::{key_string, resolve_scalar};

/// A 1-based line and column in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Where each node of a parsed document stands in the source.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    values: HashMap<Vec<Segment>, Pos>,
    keys: HashMap<Vec<Segment>, Pos>,
}

impl Spans {
    /// The position of the value at `path`, or of its nearest ancestor that exists.
    pub fn locate(&self, path: &[Segment]) -> Option<Pos> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.values.get(&path[..n]).copied())
    }

    /// The position of the key that holds the value at `path`, if it is a mapping entry.
    pub fn key(&self, path: &[Segment]) -> Option<Pos> {
        self.keys.get(path).copied()
    }

    /// How many nodes are recorded (used by tests).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// One document of a YAML stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document's content; `None` for an empty document (only comments or nothing).
    pub value: Option<Value>,
    pub spans: Spans,
    /// The line the document's content starts on.
    pub line: usize,
}

/// A document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads every document of a YAML stream. A broken document yields an `Err` in its place;
/// the others are still read.
pub fn parse_stream(src: &str) -> Vec<Result<Document, SyntaxError>> {
    let mut out = Vec::new();
    for chunk in split_documents(src) {
        match parse_chunk(chunk.text, chunk.line_offset) {
            Ok(Some(doc)) => out.push(Ok(doc)),
            // An empty chunk between two `---` is not a document worth reporting,
            // except that a stream with nothing at all yields nothing.
            Ok(None) => {}
            Err(e) => out.push(Err(e)),
        }
    }
    out
}

struct Chunk<'a> {
    text: &'a str,
    line_offset: usize,
}

/// Cuts the stream at document markers that start a line (`---`, `--- ` or `...`).
fn split_documents(src: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0usize;
    let mut offset = 0usize;
    for (line_no, line) in src.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_start = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let is_end = bare == "..." || bare.starts_with("... ");
        if is_start || is_end {
            chunks.push(Chunk {
                text: &src[start..offset],
                line_offset: start_line,
            });
            if is_start && bare.len() > 3 {
                // `--- value` keeps its inline content in the next chunk, blanking the marker.
                start = offset;
                start_line = line_no;
            } else {
                start = offset + line.len();
                start_line = line_no + 1;
            }
        }
        offset += line.len();
    }
    chunks.push(Chunk {
        text: &src[start..],
        line_offset: start_line,
    });
    chunks
}

fn parse_chunk(text: &str, line_offset: usize) -> Result<Option<Document>, SyntaxError> {
    // `--- value` lines: replace the marker by spaces so columns stay true.
    let owned;
    let text = if let Some(rest) = text.strip_prefix("---") {
        owned = format!("   {rest}");
        owned.as_str()
    } else {
        text
    };
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        line_offset,
        anchors: HashMap::new(),
        spans: Spans::default(),
        first_line: None,
    };
    let value = builder.document()?;
    Ok(value.map(|value| Document {
        value: Some(value),
        line: builder.first_line.unwrap_or(line_offset + 1),
        spans: builder.spans,
    }))
}

struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    line_offset: usize,
    anchors: HashMap<usize, Value>,
    spans: Spans,
    first_line: Option<usize>,
}

impl Builder<'_> {
    fn pos(&self, m: Marker) -> Pos {
        Pos {
            line: m.line() + self.line_offset,
            column: m.col() + 1,
        }
    }

    fn next(&mut self) -> Result<(Event, Marker), SyntaxError> {
        self.parser.next_token().map_err(|e| {
            let m = *e.marker();
            SyntaxError {
                line: m.line() + self.line_offset,
                column: m.col() + 1,
                message: e.info().to_string(),
            }
        })
    }

    fn error(&self, m: Marker, message: String) -> SyntaxError {
        let p = self.pos(m);
        SyntaxError {
            line: p.line,
            column: p.column,
            message,
        }
    }

    fn document(&mut self) -> Result<Option<Value>, SyntaxError> {
        let mut result = None;
        loop {
            let (ev, mark) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => {}
                Event::StreamEnd => return Ok(result),
                Event::Nothing => {}
                other => {
                    if result.is_some() {
                        return Err(self.error(mark, "more than one document in a chunk".into()));
                    }
                    let mut path = Vec::new();
                    let v = self.node(other, mark, &mut path)?;
                    // A document holding only `~` or nothing counts as empty.
                    if !v.is_null() {
                        result = Some(v);
                    }
                }
            }
        }
    }

    fn node(&mut self, ev: Event, mark: Marker, path: &mut Vec<Segment>) -> Result<Value, SyntaxError> {
        let pos = self.pos(mark);
        if self.first_line.is_none() {
            self.first_line = Some(pos.line);
        }
        self.spans.values.insert(path.clone(), pos);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let v = resolve_scalar(&text, style, tag.as_ref());
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::Alias(id) => self
                .anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| self.error(mark, "unknown anchor".into())),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, m) = self.next()?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    path.push(Segment::Index(items.len()));
                    let v = self.node(ev, m, path);
                    path.pop();
                    items.push(v?);
                }
                let v = Value::Array(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::MappingStart(anchor, _) => {
                let mut map = Map::new();
                let mut merges: Vec<Value> = Vec::new();
                loop {
                    let (kev, km) = self.next()?;
                    if kev == Event::MappingEnd {
                        break;
                    }
                    let key = match kev {
                        Event::Scalar(text, style, _, tag) => {
                            key_string(resolve_scalar(&text, style, tag.as_ref()))
                        }
                        _ => return Err(self.error(km, "complex mapping keys are not supported".into())),
                    };
                    let (vev, vm) = self.next()?;
                    if key == "<<" {
                        let mut scratch = path.clone();
                        scratch.push(Segment::Key(key));
                        merges.push(self.node(vev, vm, &mut scratch)?);
                        continue;
                    }
                    if map.contains_key(&key) {
                        return Err(self.error(km, format!("mapping key {key:?} already defined")));
                    }
                    path.push(Segment::Key(key.clone()));
                    self.spans.keys.insert(path.clone(), self.pos(km));
                    let v = self.node(vev, vm, path);
                    path.pop();
                    map.insert(key, v?);
                }
                for merged in merges {
                    let sources = match merged {
                        Value::Array(items) => items,
                        other => vec![other],
                    };
                    for source in sources {
                        if let Value::Object(m) = source {
                            for (k, v) in m {
                                map.entry(k).or_insert(v);
                            }
                        }
                    }
                }
                let v = Value::Object(map);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            _ => Err(self.error(mark, "unexpected YAML event".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(src: &str) -> Document {
        let mut docs = parse_stream(src);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).expect("parses")
    }

    #[test]
    fn keeps_value_positions() {
        let doc = one("kind: CronJob\nspec:\n  schedule: \"0 0 * * 7\"\n");
        let path = vec![Segment::Key("spec".into()), Segment::Key("schedule".into())];
        assert_eq!(doc.spans.locate(&path), Some(Pos { line: 3, column: 13 }));
        assert_eq!(doc.spans.key(&path), Some(Pos { line: 3, column: 3 }));
    }

    #[test]
    fn missing_field_points_at_nearest_parent() {
        let doc = one("spec:\n  template:\n    spec: {}\n");
        let path: Vec<Segment> = ["spec", "template", "spec", "restartPolicy"]
            .iter()
            .map(|s| Segment::Key(s.to_string()))
            .collect();
        assert_eq!(doc.spans.locate(&path), Some(Pos { line: 3, column: 11 }));
    }

    #[test]
    fn resolves_scalars_like_kubectl() {
        let doc =
            one("a: yes\nb: '5'\nc: 5\nd: ~\ne: 10.5\nf: 0x10\ng: 2147483648\nh: on\ni: \"on\"\n1: x\n");
        assert_eq!(
            doc.value,
            Some(
                json!({"a": true, "b": "5", "c": 5, "d": null, "e": 10.5, "f": 16, "g": 2147483648u64, "h": true, "i": "on", "1": "x"})
            )
        );
    }

    /// goyaml resolves plain integers with Go's `strconv.ParseInt(s, 0, 64)` after dropping
    /// `_`, then `ParseUint`, then a float for decimal digits only.
    #[test]
    fn resolves_integers_as_go_parse_int_does() {
        let doc = one(concat!(
            "a: 0o17\nb: -0o17\nc: 0O17\nd: 0X1f\ne: 0B101\nf: 017\ng: 08\nh: 1_000\n",
            "i: 18446744073709551615\nj: 99999999999999999999999\nk: 0x1ffffffffffffffff\nl: 0o\n",
        ));
        assert_eq!(
            doc.value,
            Some(json!({
                "a": 15, "b": -15, "c": 15, "d": 31, "e": 5, "f": 15, "g": 8.0, "h": 1000,
                "i": 18446744073709551615u64, "j": 1e23, "k": "0x1ffffffffffffffff", "l": "0o",
            }))
        );
    }

    #[test]
    fn reads_later_documents_after_a_syntax_error() {
        let docs = parse_stream("a: 1\n---\nb: [1, 2\n---\nc: 3\n");
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok());
        let err = docs[1].as_ref().expect_err("broken");
        assert!(err.line >= 3, "{err:?}");
        assert_eq!(docs[2].as_ref().map(|d| d.line).ok(), Some(5));
    }

    #[test]
    fn skips_empty_documents() {
        let docs = parse_stream("---\n# only a comment\n---\na: 1\n");
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn yaml_1_1_booleans_apply_to_keys_too() {
        // go-yaml v2, behind kubectl, reads a plain `y` as true, even as a key.
        let doc = one("y: 1\n");
        assert_eq!(doc.value, Some(json!({"true": 1})));
    }

    #[test]
    fn rejects_duplicate_keys() {
        let docs = parse_stream("a: 1\na: 2\n");
        assert!(docs[0].is_err());
    }

    #[test]
    fn follows_anchors_and_merges() {
        let doc = one("base: &b {a: 1, b: 2}\nother:\n  <<: *b\n  b: 3\n");
        assert_eq!(
            doc.value,
            Some(json!({"base": {"a": 1, "b": 2}, "other": {"b": 3, "a": 1}}))
        );
    }
}
