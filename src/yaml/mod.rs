//! YAML to JSON with source positions kept, so that every finding can point at
//! `file:line:col`. `serde_yaml` is archived and drops positions; we drive yaml-rust2's
//! event parser ourselves and resolve plain scalars as kubectl's YAML reader does
//! (YAML 1.1 booleans such as `yes`/`on`, non-string keys turned into strings, a repeated
//! key keeping its last value).
//!
//! A stream is first cut at its `---` lines, so a syntax error in one document is
//! reported at its `line:col` and the documents after it are still read. [`documents`]
//! reads them one at a time, so a caller holds one document's tree at once however long
//! the file. Input can be hostile: nesting depth, alias expansion and the copies anchors
//! make are bounded (see `build.rs` and docs/yaml.md), each past its limit an error for
//! that document alone.

mod build;
mod scalar;
mod spans;

use serde_json::Value;

use crate::model::Segment;

pub use build::{MAX_DEPTH, MAX_WARNINGS};
pub use spans::Spans;

/// A 1-based line and column in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One document of a YAML stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document's content; `None` for an empty document (only comments or nothing).
    pub value: Option<Value>,
    pub spans: Spans,
    /// The line the document's content starts on.
    pub line: usize,
    /// What was read, but read with a caveat (a repeated key), in source order.
    pub warnings: Vec<Warning>,
}

/// Something in a document that was read, but is worth a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where it stands: for a repeated key, the repeat.
    pub pos: Pos,
    /// The path of the value concerned, from the document's root.
    pub path: Vec<Segment>,
    pub kind: WarningKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarningKind {
    /// A mapping key given again; the value given last is kept, as kubectl keeps it.
    DuplicateKey {
        key: String,
        /// Where the key was first given.
        first: Option<Pos>,
    },
    /// Repeated keys past the first [`MAX_WARNINGS`] of a document, counted here
    /// (at the first of them) rather than listed.
    MoreDuplicateKeys { count: usize },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            WarningKind::DuplicateKey { key, first } => {
                write!(f, "duplicate key {key:?}")?;
                if let Some(first) = first {
                    write!(f, " (first at line {})", first.line)?;
                }
                write!(
                    f,
                    ": kubectl and the API server keep only the last value given; remove all but one"
                )
            }
            WarningKind::MoreDuplicateKeys { count } => write!(
                f,
                "{count} more duplicate keys from here on are not listed: kubectl and the API \
                 server keep only the last value given for each; remove all but one"
            ),
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not YAML (or not the subset kubectl reads).
    Syntax,
    /// Mappings and sequences nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More alias expansion than kubectl allows, or more copying than the budget.
    AliasBudget,
}

/// A document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub kind: ErrorKind,
}

/// Reads every document of a YAML stream. A broken document yields an `Err` in its place;
/// the others are still read. Holds every tree at once: for a file of unknown size,
/// prefer [`documents`].
pub fn parse_stream(src: &str) -> Vec<Result<Document, SyntaxError>> {
    documents(src).collect()
}

/// The documents of a YAML stream, read one at a time as the iterator is advanced. A
/// broken document yields an `Err` in its place; the others are still read. Empty
/// documents (between two `---`, only comments) are left out.
pub fn documents(src: &str) -> Documents<'_> {
    Documents {
        chunks: Chunks {
            src,
            lines: src.split_inclusive('\n'),
            line_no: 0,
            offset: 0,
            start: 0,
            start_line: 0,
            done: false,
        },
    }
}

/// The iterator that [`documents`] returns.
pub struct Documents<'a> {
    chunks: Chunks<'a>,
}

impl Iterator for Documents<'_> {
    type Item = Result<Document, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        for chunk in self.chunks.by_ref() {
            match parse_chunk(chunk.text, chunk.line_offset) {
                Ok(Some(doc)) => return Some(Ok(doc)),
                // An empty chunk between two `---` is not a document worth reporting,
                // except that a stream with nothing at all yields nothing.
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

struct Chunk<'a> {
    text: &'a str,
    line_offset: usize,
}

/// Cuts the stream at document markers that start a line (`---`, `--- ` or `...`), one
/// chunk at a time.
struct Chunks<'a> {
    src: &'a str,
    lines: std::str::SplitInclusive<'a, char>,
    /// The 0-based number of the next line, and where it starts.
    line_no: usize,
    offset: usize,
    /// Where the chunk being cut starts.
    start: usize,
    start_line: usize,
    done: bool,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        if self.done {
            return None;
        }
        for line in self.lines.by_ref() {
            let (line_no, line_start) = (self.line_no, self.offset);
            self.line_no += 1;
            self.offset += line.len();
            let bare = line.trim_end_matches(['\n', '\r']);
            let is_start = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
            let is_end = bare == "..." || bare.starts_with("... ");
            if is_start || is_end {
                let chunk = Chunk {
                    text: &self.src[self.start..line_start],
                    line_offset: self.start_line,
                };
                if is_start && bare.len() > 3 {
                    // `--- value` keeps its inline content in the next chunk, blanking the marker.
                    self.start = line_start;
                    self.start_line = line_no;
                } else {
                    self.start = self.offset;
                    self.start_line = line_no + 1;
                }
                return Some(chunk);
            }
        }
        self.done = true;
        Some(Chunk {
            text: &self.src[self.start..],
            line_offset: self.start_line,
        })
    }
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
    build::document(text, line_offset)
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
    fn a_repeated_key_is_a_warning_at_the_repeat() {
        let doc = one("spec:\n  a: 1\n  b: 2\n  a: 3\n  a: 4\n");
        let at: Vec<_> = doc.warnings.iter().map(|w| (w.pos.line, w.pos.column)).collect();
        assert_eq!(at, [(4, 3), (5, 3)]);
        let w = &doc.warnings[0];
        assert_eq!(w.path, [Segment::Key("spec".into()), Segment::Key("a".into())]);
        assert_eq!(
            w.kind,
            WarningKind::DuplicateKey {
                key: "a".into(),
                first: Some(Pos { line: 2, column: 3 })
            }
        );
        assert_eq!(
            w.to_string(),
            "duplicate key \"a\" (first at line 2): kubectl and the API server keep only the \
             last value given; remove all but one"
        );
        // A merge may override a key: that is what merges are for, not a repeat.
        let merged = one("base: &b {a: 1}\nother:\n  <<: *b\n  a: 2\n");
        assert!(merged.warnings.is_empty(), "{:?}", merged.warnings);
    }

    #[test]
    fn repeated_keys_are_told_apart_by_their_path() {
        let doc = one("items:\n- {a: 1}\n- {a: 2, b: {a: 3}}\n");
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
        let doc = one("items:\n- {a: 1}\n- {a: 2, a: 3}\n");
        assert_eq!(doc.warnings.len(), 1);
        assert_eq!(
            doc.warnings[0].path,
            [
                Segment::Key("items".into()),
                Segment::Index(1),
                Segment::Key("a".into())
            ]
        );
    }

    #[test]
    fn lists_a_hundred_repeated_keys_and_counts_the_rest() {
        let src: String = (0..250).map(|i| format!("k{}: {i}\n", i % 2)).collect();
        let doc = one(&src);
        assert_eq!(doc.value, Some(json!({"k0": 248, "k1": 249})));
        assert_eq!(doc.warnings.len(), MAX_WARNINGS + 1);
        let last = &doc.warnings[MAX_WARNINGS];
        assert_eq!(last.kind, WarningKind::MoreDuplicateKeys { count: 148 });
        assert_eq!(last.pos.line, 2 + MAX_WARNINGS + 1);
    }

    /// A flow root (JSON) is read with `--- ` put before it; positions on its line are the
    /// file's own.
    #[test]
    fn a_flow_root_keeps_its_positions() {
        let at = |doc: &Document, path: &[Segment]| doc.spans.locate(path).map(|p| (p.line, p.column));
        let doc = one("[1, {a: x}]\n");
        assert_eq!(doc.value, Some(json!([1, {"a": "x"}])));
        let a = [Segment::Index(1), Segment::Key("a".into())];
        assert_eq!(at(&doc, &[Segment::Index(1)]), Some((1, 5)));
        assert_eq!(at(&doc, &a), Some((1, 9)));
        assert_eq!(doc.spans.key(&a), Some(Pos { line: 1, column: 6 }));
        let doc = one("# a comment\n\n  {\"a\": [1,\n  2]}\n");
        assert_eq!((doc.line, at(&doc, &[])), (3, Some((3, 3))));
        assert_eq!(at(&doc, &[Segment::Key("a".into())]), Some((3, 9)));
        assert_eq!(
            at(&doc, &[Segment::Key("a".into()), Segment::Index(1)]),
            Some((4, 3))
        );
        let doc = one("      [1]\n");
        assert_eq!(at(&doc, &[Segment::Index(0)]), Some((1, 8)));
        // Errors on that line too, where they were before the shift (the second `,`).
        for (src, at) in [("{\"a\": 1,, \"b\": 2}\n", (1, 9)), ("  [1,, 2]\n", (1, 6))] {
            let e = parse_stream(src).remove(0).expect_err("broken");
            assert_eq!((e.line, e.column), at, "{e:?}");
        }
        // A flow collection as a key was refused before and still is.
        assert!(parse_stream("[a]: b\n")[0].is_err());
    }

    /// The iterator reads a document only when asked: a caller holds one tree at a time.
    #[test]
    fn reads_documents_one_at_a_time() {
        let src = format!("a: 1\n---\nb: 2\n---\n{}1\n", "- ".repeat(300));
        let mut docs = documents(&src);
        assert_eq!(
            docs.next().and_then(Result::ok).and_then(|d| d.value),
            Some(json!({"a": 1}))
        );
        assert_eq!(docs.next().and_then(Result::ok).map(|d| d.line), Some(3));
        let third = docs.next().expect("a third");
        assert_eq!(third.map_err(|e| e.kind).err(), Some(ErrorKind::TooDeep));
        assert!(docs.next().is_none());
    }

    /// go-yaml v2 (behind kubectl's sigs.k8s.io/yaml) sets map entries one after the other,
    /// so a repeated key keeps its last value; the API server never sees the first.
    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let doc = one("a: 1\nb: {c: 1, c: [2]}\na: 2\n");
        assert_eq!(doc.value, Some(json!({"a": 2, "b": {"c": [2]}})));
        let a = [Segment::Key("a".into())];
        assert_eq!(doc.spans.key(&a), Some(Pos { line: 3, column: 1 }));
        assert_eq!(doc.spans.locate(&a), Some(Pos { line: 3, column: 4 }));
    }

    fn too_deep(src: &str) -> SyntaxError {
        let mut docs = parse_stream(src);
        assert_eq!(docs.len(), 1, "{docs:?}");
        let e = docs.remove(0).expect_err("too deep");
        assert_eq!(e.kind, ErrorKind::TooDeep, "{e:?}");
        assert!(e.message.contains("nested deeper than 255 levels"), "{e:?}");
        e
    }

    #[test]
    fn refuses_block_sequences_nested_past_the_limit() {
        let e = too_deep(&format!("{}1\n", "- ".repeat(10_000)));
        // The 256th `- ` opens the sequence that is one too many.
        assert_eq!((e.line, e.column), (1, 2 * 255 + 1));
        let just = one(&format!("{}1\n", "- ".repeat(255)));
        assert!(just.value.is_some());
    }

    #[test]
    fn refuses_block_mappings_nested_past_the_limit() {
        let deep: String = (0..5_000).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        let e = too_deep(&deep);
        assert_eq!(e.line, 256, "{e:?}");
    }

    #[test]
    fn refuses_flow_and_mixed_nesting_past_the_limit() {
        let e = too_deep(&"[".repeat(300));
        assert_eq!((e.line, e.column), (1, 256));
        let e = too_deep(&"{a: ".repeat(300));
        assert_eq!((e.line, e.column), (1, 4 * 255 + 1));
        // 200 block levels, then flow: the 256th collection is the 56th `[`.
        let block: String = (0..200).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        let e = too_deep(&format!("{block}{}b: {}\n", " ".repeat(200), "[".repeat(100)));
        assert_eq!((e.line, e.column), (201, 203 + 55), "{e:?}");
    }

    #[test]
    fn an_alias_may_not_carry_nesting_past_the_limit() {
        let src = format!(
            "a: &x {}1{}\nb: {}*x{}\n",
            "[".repeat(200),
            "]".repeat(200),
            "[".repeat(100),
            "]".repeat(100)
        );
        let e = too_deep(&src);
        assert_eq!((e.line, e.column), (2, 4 + 100), "{e:?}");
    }

    /// 342 bytes that would expand to 9^9 strings.
    const BILLION_LAUGHS: &str = concat!(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n",
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n",
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
    );

    fn too_many_copies(src: &str) -> SyntaxError {
        let mut docs = parse_stream(src);
        assert_eq!(docs.len(), 1, "{docs:?}");
        let e = docs.remove(0).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::AliasBudget, "{e:?}");
        assert!(e.message.starts_with("excessive aliasing"), "{e:?}");
        e
    }

    /// go-yaml's rule, which kubectl applies: past 1,000 nodes, at most 99% may come from
    /// aliases.
    #[test]
    fn refuses_a_billion_laughs_as_kubectl_does() {
        assert_eq!(BILLION_LAUGHS.len(), 342);
        let e = too_many_copies(BILLION_LAUGHS);
        // `d` holds 9 * 9 * 9 strings: the first of its aliases that tips the ratio.
        assert_eq!(e.line, 4, "{e:?}");
        // Below the ratio, aliases are followed.
        let doc = one("a: &a [1, 2]\nb: [*a, *a, *a]\n");
        assert_eq!(
            doc.value,
            Some(json!({"a": [1, 2], "b": [[1, 2], [1, 2], [1, 2]]}))
        );
    }

    /// Few aliases of a long string copy more bytes than the document holds.
    #[test]
    fn refuses_aliases_that_copy_too_many_bytes() {
        let long = "x".repeat(100_000);
        let ints = vec!["1"; 600].join(", ");
        let aliases = vec!["*s"; 600].join(", ");
        let e = too_many_copies(&format!("s: &s {long}\nn: [{ints}]\nl: [{aliases}]\n"));
        assert_eq!(e.line, 3, "{e:?}");
    }

    /// The budget's floor leaves room for heavy but plausible aliasing: a 1 KB block
    /// aliased a thousand times.
    #[test]
    fn follows_a_thousand_aliases_of_a_1_kb_block() {
        let block: Vec<String> = (0..20).map(|i| format!("k{i:02}: {}", "v".repeat(40))).collect();
        let src = format!(
            "base: &b {{{}}}\nother: [{}]\nuses: [{}]\n",
            block.join(", "),
            vec!["1"; 400].join(", "),
            vec!["*b"; 1000].join(", ")
        );
        assert!(src.len() < 10_000);
        let doc = one(&src);
        let uses = doc
            .value
            .as_ref()
            .and_then(|v| v["uses"].as_array())
            .map(Vec::len);
        assert_eq!(uses, Some(1000));
    }

    /// Each anchor keeps a copy of its node for later aliases; anchors nested in anchors
    /// would copy the same nodes once per level.
    #[test]
    fn refuses_anchors_nested_to_copy_too_much() {
        let payload = vec!["1"; 40_000].join(",");
        let opens: String = (0..200).map(|i| format!("&a{i} [")).collect();
        let e = too_many_copies(&format!("{opens}{payload}{}\n", "]".repeat(200)));
        assert_eq!(e.line, 1, "{e:?}");
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
