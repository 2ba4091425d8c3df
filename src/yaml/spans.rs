//! Where each node of a document stands in the source, kept small: a finding needs the
//! position of the node at its path, but keeping every node's path (a `Vec<Segment>` per
//! node, as this table once did) cost memory that grew with the square of the depth.
//! A node is found instead by a 64-bit hash of its path, built step by step as the tree
//! is read; an entry is 16 bytes.

use std::hash::{DefaultHasher, Hasher};

use super::Pos;
use crate::model::Segment;

/// The hash of the empty path: the document's root.
pub(super) const ROOT: u64 = 0;

/// One step down from a node, borrowed: the builder hashes keys it does not own yet.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The hash of the path `parent` followed by `step`. `DefaultHasher::new()` has fixed keys,
/// so a path hashes alike while the table is built and when it is looked up.
pub(super) fn child(parent: u64, step: Step<'_>) -> u64 {
    let mut h = DefaultHasher::new();
    h.write_u64(parent);
    match step {
        Step::Key(k) => {
            h.write_u8(0);
            h.write(k.as_bytes());
        }
        Step::Index(i) => {
            h.write_u8(1);
            h.write_usize(i);
        }
    }
    h.finish()
}

/// The hash of a whole path.
pub(super) fn path_hash(path: &[Segment]) -> u64 {
    path.iter().fold(ROOT, |h, s| child(h, step(s)))
}

fn step(s: &Segment) -> Step<'_> {
    match s {
        Segment::Key(k) => Step::Key(k),
        Segment::Index(i) => Step::Index(*i),
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    line: u32,
    column: u32,
}

impl Entry {
    fn new(hash: u64, pos: Pos) -> Entry {
        // A line past 4 billion cannot be read into memory anyway; saturate rather than wrap.
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Entry {
            hash,
            line: narrow(pos.line),
            column: narrow(pos.column),
        }
    }

    fn pos(self) -> Pos {
        Pos {
            line: self.line as usize,
            column: self.column as usize,
        }
    }
}

/// Where each node of a parsed document stands in the source.
///
/// Two sorted tables of (path hash, position): one for values, one for the keys that hold
/// them. A path given again (a repeated key) keeps every entry, and a lookup answers the
/// last one recorded, as the value kept is the last. Two paths of one document sharing a
/// 64-bit hash would put a finding at the other's place; at a million nodes the odds are
/// about one in ten million.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    values: Vec<Entry>,
    keys: Vec<Entry>,
    sealed: bool,
}

impl Spans {
    pub(super) fn push_value(&mut self, hash: u64, pos: Pos) {
        self.values.push(Entry::new(hash, pos));
    }

    pub(super) fn push_key(&mut self, hash: u64, pos: Pos) {
        self.keys.push(Entry::new(hash, pos));
    }

    /// Sorts the tables for lookups. The sort is stable, so entries for one path stay in
    /// the order they were recorded.
    pub(super) fn seal(&mut self) {
        for table in [&mut self.values, &mut self.keys] {
            table.sort_by_key(|e| e.hash);
            table.shrink_to_fit();
        }
        self.sealed = true;
    }

    /// The first key recorded for the key at `hash`: where a repeated key was first given.
    pub(super) fn first_key(&self, hash: u64) -> Option<Pos> {
        debug_assert!(self.sealed, "lookups need a sealed table");
        let start = self.keys.partition_point(|e| e.hash < hash);
        self.keys.get(start).filter(|e| e.hash == hash).map(|e| e.pos())
    }

    fn last(table: &[Entry], hash: u64) -> Option<Pos> {
        let end = table.partition_point(|e| e.hash <= hash);
        let i = end.checked_sub(1)?;
        (table[i].hash == hash).then(|| table[i].pos())
    }

    /// The position of the value at `path`, or of its nearest ancestor that exists.
    pub fn locate(&self, path: &[Segment]) -> Option<Pos> {
        debug_assert!(self.sealed, "lookups need a sealed table");
        let mut hashes = Vec::with_capacity(path.len() + 1);
        hashes.push(ROOT);
        for s in path {
            let h = child(hashes[hashes.len() - 1], step(s));
            hashes.push(h);
        }
        hashes.iter().rev().find_map(|&h| Self::last(&self.values, h))
    }

    /// The position of the key that holds the value at `path`, if it is a mapping entry.
    pub fn key(&self, path: &[Segment]) -> Option<Pos> {
        debug_assert!(self.sealed, "lookups need a sealed table");
        if path.is_empty() {
            return None;
        }
        Self::last(&self.keys, path_hash(path))
    }

    /// How many value positions are recorded (used by tests).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    #[test]
    fn finds_a_path_or_its_nearest_recorded_ancestor() {
        let mut spans = Spans::default();
        let spec = child(ROOT, Step::Key("spec"));
        spans.push_value(ROOT, pos(1, 1));
        spans.push_value(spec, pos(2, 3));
        spans.push_key(spec, pos(2, 1));
        spans.seal();
        assert_eq!(spans.locate(&[key("spec")]), Some(pos(2, 3)));
        assert_eq!(spans.locate(&[key("spec"), Segment::Index(4)]), Some(pos(2, 3)));
        assert_eq!(spans.locate(&[key("other")]), Some(pos(1, 1)));
        assert_eq!(spans.key(&[key("spec")]), Some(pos(2, 1)));
        assert_eq!(spans.key(&[key("other")]), None);
        assert_eq!(spans.key(&[]), None);
    }

    #[test]
    fn a_path_recorded_twice_answers_the_last_and_remembers_the_first() {
        let mut spans = Spans::default();
        let a = child(ROOT, Step::Key("a"));
        spans.push_key(a, pos(1, 1));
        spans.push_value(a, pos(1, 4));
        spans.push_key(a, pos(3, 1));
        spans.push_value(a, pos(3, 4));
        spans.seal();
        assert_eq!(spans.locate(&[key("a")]), Some(pos(3, 4)));
        assert_eq!(spans.key(&[key("a")]), Some(pos(3, 1)));
        assert_eq!(spans.first_key(a), Some(pos(1, 1)));
    }

    #[test]
    fn keys_and_indexes_hash_apart() {
        assert_ne!(child(ROOT, Step::Key("0")), child(ROOT, Step::Index(0)));
        let ab = child(child(ROOT, Step::Key("a")), Step::Key("b"));
        assert_ne!(ab, child(ROOT, Step::Key("ab")));
        assert_ne!(ab, child(child(ROOT, Step::Key("b")), Step::Key("a")));
    }
}
