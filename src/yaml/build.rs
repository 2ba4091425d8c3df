//! One document's events to a `serde_json::Value`, within limits that keep hostile input
//! from costing more than it weighs: a nesting depth, kubectl's aliasing ratio, and a
//! budget for the copies that anchors and aliases make. Why these numbers: docs/yaml.md.
//!
//! The tree is built with an explicit stack, not by recursion, so the parser's depth never
//! becomes the thread's: the depth limit protects what comes after (the rules, and
//! `Value`'s own drop, recurse).

use std::collections::HashMap;
use std::iter::Chain;
use std::str::Chars;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

use super::scalar::{key_string, resolve_scalar};
use super::spans::{self, Spans, Step};
use super::{Document, ErrorKind, Pos, SyntaxError, Warning, WarningKind};
use crate::model::Segment;

/// Mappings and sequences nested deeper than this make the document unreadable. The flow
/// scanner of yaml-rust2 already stops at 255 open `[`/`{`; one number holds for every shape.
pub const MAX_DEPTH: usize = 255;

/// go-yaml's aliasing rule (`allowedAliasRatio` in its decode.go), which kubectl applies:
/// the share of a document's nodes that may come from alias expansion, 99% up to 400,000
/// nodes falling to 10% at 4,000,000.
fn allowed_alias_ratio(nodes: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    match nodes {
        n if n <= LOW => 0.99,
        n if n >= HIGH => 0.10,
        n => 0.99 - 0.89 * ((n - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

/// Repeated keys listed per document; past these, one warning counts the rest, so that a
/// file of repeats cannot grow a report many times its size.
pub const MAX_WARNINGS: usize = 100;

/// The least copy budget, in weight (a node counts 1, plus the bytes of its string): room
/// for a thousand aliases of a 1 KB block, while a short hostile document that spends it all
/// on small mappings (a `BTreeMap` node each) peaks near 150 MB.
const MIN_COPY_BUDGET: u64 = 1 << 20;

/// What the scanner says when flow collections nest past its limit.
const SCANNER_DEPTH_MESSAGE: &str = "recursion limit exceeded";

/// An anchored node, kept for the aliases that may follow.
struct Anchored {
    value: Value,
    /// Nodes in it, keys included (go-yaml counts each key and value it decodes).
    nodes: u64,
    /// Its weight: one per node plus the bytes of its keys and strings.
    weight: u64,
    /// How many collections deep it goes (0 for a scalar).
    height: usize,
}

enum Collection {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        merges: Vec<Value>,
        /// The key whose value comes next; `None` while a key is awaited.
        key: Option<String>,
    },
}

/// A mapping or sequence still open.
struct Frame {
    collection: Collection,
    anchor: usize,
    mark: Marker,
    /// The hash of the path to this node.
    hash: u64,
    /// The height of its tallest child so far.
    height: usize,
    /// The counters when it opened, to tell what it holds when it closes.
    nodes_before: u64,
    weight_before: u64,
}

impl Frame {
    /// The step to the child being read.
    fn next_step(&self) -> Option<Step<'_>> {
        match &self.collection {
            Collection::Seq(items) => Some(Step::Index(items.len())),
            Collection::Map { key, .. } => key.as_deref().map(Step::Key),
        }
    }
}

/// The characters the parser reads: the document, maybe with `--- ` put before a flow root.
type Input<'a> = Chain<Chain<Chars<'a>, Chars<'static>>, Chars<'a>>;

/// Where a document whose root is a flow collection (JSON, `[…]`, `{…}`) opens it: the byte
/// offset of its line, the line's 0-based index in the document, and its indentation.
fn flow_root(text: &str) -> Option<(usize, usize, usize)> {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_start_matches(' ');
        let bare = content.trim_end();
        if bare.is_empty() || bare.starts_with('#') {
            offset += line.len();
            continue;
        }
        return (bare.starts_with('[') || bare.starts_with('{')).then_some((
            offset,
            index,
            line.len() - content.len(),
        ));
    }
    None
}

/// The parser's input for `text`. yaml-rust2's scanner takes a flow collection as a possible
/// key until it closes (`[a, b]: c` is YAML) and holds every token of it until then: for a
/// JSON file or a one-line flow list, the whole document's tokens, about 80 bytes each.
/// After a `---` on the same line no key may start, so a flow root is read as if `--- `
/// stood before it; [`Builder::pos`] takes the shift back out of that line's columns. A
/// root that is a key after all (`[a]: b`) was refused anyway: complex keys are.
fn input(text: &str) -> (Input<'_>, Option<(usize, usize)>) {
    match flow_root(text) {
        Some((offset, index, indent)) => (
            text[..offset]
                .chars()
                .chain("--- ".chars())
                .chain(text[offset + indent..].chars()),
            Some((index + 1, indent)),
        ),
        None => (text.chars().chain("".chars()).chain("".chars()), None),
    }
}

/// Reads the document in `text`, whose first line is `line_offset + 1` of the file.
pub(super) fn document(text: &str, line_offset: usize) -> Result<Option<Document>, SyntaxError> {
    let budget = u64::try_from(text.len())
        .unwrap_or(u64::MAX)
        .saturating_mul(2)
        .max(MIN_COPY_BUDGET);
    let (chars, shifted) = input(text);
    let mut builder = Builder {
        parser: Parser::new(chars),
        line_offset,
        shifted,
        anchors: HashMap::new(),
        spans: Spans::default(),
        warnings: Vec::new(),
        unlisted: None,
        unlisted_count: 0,
        first_line: None,
        stack: Vec::new(),
        nodes: 0,
        alias_nodes: 0,
        weight: 0,
        copied: 0,
        copy_budget: budget,
    };
    let value = builder.document()?;
    let Some(value) = value else { return Ok(None) };
    builder.spans.seal();
    let mut warnings = builder.warnings;
    for w in &mut warnings {
        if let WarningKind::DuplicateKey { first, .. } = &mut w.kind {
            *first = builder
                .spans
                .first_key(spans::path_hash(&w.path))
                .filter(|p| *p != w.pos);
        }
    }
    if let Some(mut w) = builder.unlisted.take() {
        w.kind = WarningKind::MoreDuplicateKeys {
            count: builder.unlisted_count,
        };
        warnings.push(w);
    }
    Ok(Some(Document {
        value: Some(value),
        line: builder.first_line.unwrap_or(line_offset + 1),
        spans: builder.spans,
        warnings,
    }))
}

struct Builder<'a> {
    parser: Parser<Input<'a>>,
    line_offset: usize,
    /// The parser's 1-based line where `--- ` was put before a flow root, and the
    /// indentation that it replaced.
    shifted: Option<(usize, usize)>,
    anchors: HashMap<usize, Anchored>,
    spans: Spans,
    warnings: Vec<Warning>,
    /// The first repeated key past [`MAX_WARNINGS`], and how many there are.
    unlisted: Option<Warning>,
    unlisted_count: usize,
    first_line: Option<usize>,
    stack: Vec<Frame>,
    /// Every node built, alias expansions and keys included (go-yaml's `decodeCount`).
    nodes: u64,
    /// The nodes that came from alias expansion (go-yaml's `aliasCount`).
    alias_nodes: u64,
    /// The weight of everything built.
    weight: u64,
    /// The weight of the copies made for anchors and aliases.
    copied: u64,
    copy_budget: u64,
}

impl Builder<'_> {
    fn pos(&self, m: Marker) -> Pos {
        let col = match self.shifted {
            Some((line, indent)) if line == m.line() => (m.col() + indent).saturating_sub(4),
            _ => m.col(),
        };
        Pos {
            line: m.line() + self.line_offset,
            column: col + 1,
        }
    }

    fn next(&mut self) -> Result<(Event, Marker), SyntaxError> {
        self.parser.next_token().map_err(|e| {
            let (kind, message) = if e.info() == SCANNER_DEPTH_MESSAGE {
                (ErrorKind::TooDeep, too_deep_message())
            } else {
                (ErrorKind::Syntax, e.info().to_string())
            };
            self.error(*e.marker(), kind, message)
        })
    }

    fn error(&self, m: Marker, kind: ErrorKind, message: String) -> SyntaxError {
        let p = self.pos(m);
        SyntaxError {
            line: p.line,
            column: p.column,
            message,
            kind,
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
                        return Err(self.error(
                            mark,
                            ErrorKind::Syntax,
                            "more than one document in a chunk".into(),
                        ));
                    }
                    let v = self.tree(other, mark)?;
                    // A document holding only `~` or nothing counts as empty.
                    if !v.is_null() {
                        result = Some(v);
                    }
                }
            }
        }
    }

    /// Builds the node that `ev` starts, reading events until it is whole.
    fn tree(&mut self, mut ev: Event, mut mark: Marker) -> Result<Value, SyntaxError> {
        loop {
            if let Some(done) = self.step(ev, mark)? {
                return Ok(done);
            }
            (ev, mark) = self.next()?;
        }
    }

    /// Takes one event; answers the root once it is whole.
    fn step(&mut self, ev: Event, mark: Marker) -> Result<Option<Value>, SyntaxError> {
        let awaits_key = matches!(
            self.stack.last(),
            Some(Frame {
                collection: Collection::Map { key: None, .. },
                ..
            })
        );
        if awaits_key && ev != Event::MappingEnd {
            self.key(ev, mark)?;
            return Ok(None);
        }
        let (value, height) = match ev {
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(self.error(mark, ErrorKind::Syntax, "unexpected YAML event".into()));
                };
                self.close(frame)?
            }
            Event::SequenceStart(anchor, _) => {
                self.open(Collection::Seq(Vec::new()), anchor, mark)?;
                return Ok(None);
            }
            Event::MappingStart(anchor, _) => {
                let map = Collection::Map {
                    map: Map::new(),
                    merges: Vec::new(),
                    key: None,
                };
                self.open(map, anchor, mark)?;
                return Ok(None);
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.record(mark);
                let v = resolve_scalar(&text, style, tag.as_ref());
                let weight = weight_of(&v);
                self.count(weight, mark)?;
                if anchor > 0 {
                    self.keep(anchor, &v, 1, weight, 0, mark)?;
                }
                (v, 0)
            }
            Event::Alias(id) => {
                self.record(mark);
                self.expand(id, mark)?
            }
            _ => return Err(self.error(mark, ErrorKind::Syntax, "unexpected YAML event".into())),
        };
        Ok(self.attach(value, height))
    }

    /// The path hash of the node about to be read.
    fn next_hash(&self) -> u64 {
        match self.stack.last() {
            None => spans::ROOT,
            Some(frame) => frame
                .next_step()
                .map_or(frame.hash, |step| spans::child(frame.hash, step)),
        }
    }

    /// Records where the node about to be read starts; answers its path hash.
    fn record(&mut self, mark: Marker) -> u64 {
        let pos = self.pos(mark);
        if self.first_line.is_none() {
            self.first_line = Some(pos.line);
        }
        let hash = self.next_hash();
        self.spans.push_value(hash, pos);
        hash
    }

    /// Counts one node built from the source. go-yaml checks its aliasing ratio at every
    /// node, and so the ratio can tip on a plain node once the allowed share falls.
    fn count(&mut self, weight: u64, mark: Marker) -> Result<(), SyntaxError> {
        self.nodes += 1;
        self.weight += weight;
        if self.alias_nodes > 100 {
            self.check_ratio(self.nodes, self.alias_nodes, mark)?;
        }
        Ok(())
    }

    fn check_ratio(&self, nodes: u64, alias_nodes: u64, mark: Marker) -> Result<(), SyntaxError> {
        let allowed = allowed_alias_ratio(nodes);
        if alias_nodes > 100 && nodes > 1000 && alias_nodes as f64 / nodes as f64 > allowed {
            return Err(self.error(
                mark,
                ErrorKind::AliasBudget,
                format!(
                    "excessive aliasing: {alias_nodes} of the document's {nodes} nodes would come \
                     from aliases, more than kubectl's YAML reader allows ({:.0}%); write the \
                     values out or alias less",
                    allowed * 100.0
                ),
            ));
        }
        Ok(())
    }

    fn open(&mut self, collection: Collection, anchor: usize, mark: Marker) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(mark, ErrorKind::TooDeep, too_deep_message()));
        }
        let hash = self.record(mark);
        let (nodes_before, weight_before) = (self.nodes, self.weight);
        self.count(1, mark)?;
        self.stack.push(Frame {
            collection,
            anchor,
            mark,
            hash,
            height: 0,
            nodes_before,
            weight_before,
        });
        Ok(())
    }

    /// A key of the open mapping: only scalars, resolved and turned into JSON text as
    /// sigs.k8s.io/yaml does.
    fn key(&mut self, ev: Event, mark: Marker) -> Result<(), SyntaxError> {
        let Event::Scalar(text, style, _, tag) = ev else {
            return Err(self.error(
                mark,
                ErrorKind::Syntax,
                "complex mapping keys are not supported".into(),
            ));
        };
        let key = key_string(resolve_scalar(&text, style, tag.as_ref()));
        let pos = self.pos(mark);
        self.count(1 + key.len() as u64, mark)?;
        let (hash, repeated) = match self.stack.last() {
            Some(Frame {
                collection: Collection::Map { map, .. },
                hash,
                ..
            }) => (*hash, map.contains_key(&key)),
            _ => return Err(self.error(mark, ErrorKind::Syntax, "unexpected YAML event".into())),
        };
        if key != "<<" {
            if repeated {
                // go-yaml v2 sets map entries one after another: the last value wins.
                self.repeated(&key, pos);
            }
            self.spans.push_key(spans::child(hash, Step::Key(&key)), pos);
        }
        if let Some(Frame {
            collection: Collection::Map { key: slot, .. },
            ..
        }) = self.stack.last_mut()
        {
            *slot = Some(key);
        }
        Ok(())
    }

    fn repeated(&mut self, key: &str, pos: Pos) {
        if self.warnings.len() >= MAX_WARNINGS {
            self.unlisted_count += 1;
            if self.unlisted.is_some() {
                return;
            }
        }
        let mut path = self.path();
        path.push(Segment::Key(key.to_string()));
        let w = Warning {
            pos,
            path,
            kind: WarningKind::DuplicateKey {
                key: key.to_string(),
                first: None,
            },
        };
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.unlisted = Some(w);
        }
    }

    /// The path to the open mapping or sequence, for a warning.
    fn path(&self) -> Vec<Segment> {
        let depth = self.stack.len().saturating_sub(1);
        self.stack[..depth]
            .iter()
            .filter_map(|f| match f.next_step()? {
                Step::Key(k) => Some(Segment::Key(k.to_string())),
                Step::Index(i) => Some(Segment::Index(i)),
            })
            .collect()
    }

    fn close(&mut self, frame: Frame) -> Result<(Value, usize), SyntaxError> {
        let height = frame.height + 1;
        let value = match frame.collection {
            Collection::Seq(items) => Value::Array(items),
            Collection::Map { mut map, merges, .. } => {
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
                Value::Object(map)
            }
        };
        if frame.anchor > 0 {
            let nodes = self.nodes - frame.nodes_before;
            let weight = self.weight - frame.weight_before;
            self.keep(frame.anchor, &value, nodes, weight, height, frame.mark)?;
        }
        Ok((value, height))
    }

    /// Puts a finished node in its parent; answers it if it is the root.
    fn attach(&mut self, value: Value, height: usize) -> Option<Value> {
        let Some(frame) = self.stack.last_mut() else {
            return Some(value);
        };
        frame.height = frame.height.max(height);
        match &mut frame.collection {
            Collection::Seq(items) => items.push(value),
            Collection::Map { map, merges, key } => match key.take() {
                Some(k) if k == "<<" => merges.push(value),
                Some(k) => {
                    map.insert(k, value);
                }
                // The parser gives a key before each value.
                None => {}
            },
        }
        None
    }

    /// Keeps a copy of an anchored node for its aliases, within the copy budget.
    fn keep(
        &mut self,
        anchor: usize,
        value: &Value,
        nodes: u64,
        weight: u64,
        height: usize,
        mark: Marker,
    ) -> Result<(), SyntaxError> {
        self.spend(weight, mark)?;
        self.anchors.insert(
            anchor,
            Anchored {
                value: value.clone(),
                nodes,
                weight,
                height,
            },
        );
        Ok(())
    }

    fn spend(&mut self, weight: u64, mark: Marker) -> Result<(), SyntaxError> {
        let copied = self.copied.saturating_add(weight);
        if copied > self.copy_budget {
            return Err(self.error(
                mark,
                ErrorKind::AliasBudget,
                format!(
                    "excessive aliasing: anchors and aliases would copy more than {} nodes and \
                     bytes (twice the document's size, at least 1 Mi); write the values out or \
                     alias less",
                    self.copy_budget
                ),
            ));
        }
        self.copied = copied;
        Ok(())
    }

    /// A copy of the node an alias names, and its height, if the depth limit, kubectl's
    /// aliasing ratio and the copy budget allow it.
    fn expand(&mut self, id: usize, mark: Marker) -> Result<(Value, usize), SyntaxError> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(self.error(mark, ErrorKind::Syntax, "unknown anchor".into()));
        };
        let (nodes, weight, height) = (anchored.nodes, anchored.weight, anchored.height);
        if self.stack.len() + height > MAX_DEPTH {
            return Err(self.error(mark, ErrorKind::TooDeep, too_deep_message()));
        }
        // go-yaml counts the alias node, then each node of its expansion as aliased.
        let total = self.nodes + 1 + nodes;
        let alias_nodes = self.alias_nodes + nodes;
        self.check_ratio(total, alias_nodes, mark)?;
        self.spend(weight, mark)?;
        self.nodes = total;
        self.alias_nodes = alias_nodes;
        self.weight += weight;
        let value = self.anchors.get(&id).map_or(Value::Null, |a| a.value.clone());
        Ok((value, height))
    }
}

/// One for the node, plus the bytes of its string.
fn weight_of(v: &Value) -> u64 {
    1 + match v {
        Value::String(s) => s.len() as u64,
        _ => 0,
    }
}

fn too_deep_message() -> String {
    format!(
        "nested deeper than {MAX_DEPTH} levels: batchguard reads at most {MAX_DEPTH} nested \
         mappings and sequences (Kubernetes objects need a few dozen); check the indentation"
    )
}
