//! A strict JSON scanner for the webhook's hot path: reads the AdmissionReview keys the
//! review uses straight off the bytes and skips the rest in one loop, without serde's
//! visitor machinery (for the captured CronJob CREATE, the `/mutate` read went from 45k to
//! 37k instructions: `CG_OUT=… bench/callgrind.sh serve`, then `callgrind_annotate
//! --inclusive=yes`).
//!
//! It only ever answers "here is exactly what serde_json would have read" or [`Bail`]. A
//! bail is not an error: the caller reads the same body again with serde_json, which then
//! accepts or rejects it with its own messages. So the scanner may refuse anything unusual
//! (lone surrogates, control characters in strings, nesting deeper than 100, invalid UTF-8
//! anywhere) and must never accept what serde_json refuses or read a value differently.
//! `admission::tests::fast_read_agrees_with_serde` holds it to that on every captured
//! request, every corpus manifest and thousands of corrupted copies of them.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// The scanner cannot vouch for this body; read it with serde_json instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bail;

pub type Scanned<T> = Result<T, Bail>;

/// Nesting deeper than this goes to serde_json (whose limit for built values is 128), so
/// the scanner's recursion is bounded whatever the input.
const MAX_DEPTH: u32 = 100;

/// A cursor over one JSON text.
pub struct Scan<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    /// The whole body must be UTF-8: then every slice between ASCII delimiters is too.
    pub fn new(body: &'a [u8]) -> Scanned<Scan<'a>> {
        let text = std::str::from_utf8(body).map_err(|_| Bail)?;
        Ok(Scan {
            text,
            pos: 0,
            depth: 0,
        })
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.bytes(), self.pos);
    }

    /// The next significant byte, not consumed.
    pub fn peek(&mut self) -> Scanned<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied().ok_or(Bail)
    }

    fn expect(&mut self, c: u8) -> Scanned<()> {
        if self.peek()? == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Scanned<()> {
        self.pos = literal_at(self.bytes(), self.pos, word)?;
        Ok(())
    }

    /// Only whitespace may follow the top-level value.
    pub fn finish(&mut self) -> Scanned<()> {
        self.skip_ws();
        if self.pos == self.text.len() {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Consumes `null` if it comes next.
    pub fn null(&mut self) -> Scanned<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn enter(&mut self, open: u8) -> Scanned<()> {
        self.expect(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    /// Opens an object; then call [`Scan::key`] until it answers `None`.
    pub fn object(&mut self) -> Scanned<Members> {
        self.enter(b'{')?;
        Ok(Members { first: true })
    }

    /// The next key of the object being read (its value comes next), or `None` at its end.
    pub fn key(&mut self, members: &mut Members) -> Scanned<Option<Cow<'a, str>>> {
        if !self.another(members, b'}')? {
            return Ok(None);
        }
        let key = self.string()?;
        self.expect(b':')?;
        Ok(Some(key))
    }

    /// Opens an array; then call [`Scan::element`] until it answers `false`.
    pub fn array(&mut self) -> Scanned<Members> {
        self.enter(b'[')?;
        Ok(Members { first: true })
    }

    /// Whether another element follows (its value comes next).
    pub fn element(&mut self, members: &mut Members) -> Scanned<bool> {
        self.another(members, b']')
    }

    /// Whether another member of the open container follows (past its comma), or its
    /// `close` bracket ends it (consumed).
    fn another(&mut self, members: &mut Members, close: u8) -> Scanned<bool> {
        let c = self.peek()?;
        if c == close {
            self.pos += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !std::mem::take(&mut members.first) {
            if c != b',' {
                return Err(Bail);
            }
            self.pos += 1;
        }
        Ok(true)
    }

    /// A string value, borrowed unless it has escapes.
    pub fn string(&mut self) -> Scanned<Cow<'a, str>> {
        if self.peek()? != b'"' {
            return Err(Bail);
        }
        self.pos += 1;
        let start = self.pos;
        let end = self.plain_run(start);
        match self.bytes().get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                Ok(Cow::Borrowed(&self.text[start..end]))
            }
            Some(b'\\') => {
                let mut owned = String::from(&self.text[start..end]);
                self.pos = end;
                self.escaped_rest(&mut owned)?;
                Ok(Cow::Owned(owned))
            }
            // A control character or the end of the text.
            _ => Err(Bail),
        }
    }

    /// Reads the rest of a string from an escape on, into `out`, through the closing quote.
    fn escaped_rest(&mut self, out: &mut String) -> Scanned<()> {
        let b = self.bytes();
        loop {
            match b.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let (c, next) = escape_at(b, self.pos)?;
                    out.push(c);
                    self.pos = next;
                }
                Some(_) => {
                    let end = self.plain_run(self.pos);
                    if end == self.pos {
                        return Err(Bail); // a control character
                    }
                    out.push_str(&self.text[self.pos..end]);
                    self.pos = end;
                }
                None => return Err(Bail),
            }
        }
    }

    /// The index of the first `"`, `\` or control character at or after `i` (or the
    /// text's length), eight bytes at a time.
    #[inline(always)]
    fn plain_run(&self, mut i: usize) -> usize {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let b = self.bytes();
        while let Some(chunk) = b.get(i..i + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            // Bytes equal to 0 (after the xor), or below 0x20. Each mask's lowest set bit
            // is exact, which is the only bit used.
            let quote = x ^ (ONES * u64::from(b'"'));
            let backslash = x ^ (ONES * u64::from(b'\\'));
            let hits = (quote.wrapping_sub(ONES) & !quote)
                | (backslash.wrapping_sub(ONES) & !backslash)
                | (x.wrapping_sub(ONES * 0x20) & !x);
            let hits = hits & HIGHS;
            if hits != 0 {
                return i + (hits.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        while let Some(&c) = b.get(i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            i += 1;
        }
        i
    }

    /// Checks the JSON number grammar and answers its text and whether it is an integer.
    fn number_text(&mut self) -> Scanned<(&'a str, bool)> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(Bail),
        }
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            i += 1;
            integer = false;
            if digits(&mut i) == 0 {
                return Err(Bail);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            integer = false;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(Bail);
            }
        }
        self.pos = i;
        Ok((&self.text[start..i], integer))
    }

    /// A number as serde_json reads it: u64, or i64 when negative, read here; anything
    /// else (floats, `-0`, integers beyond 64 bits) by serde_json itself from the same text,
    /// since its float parsing is its own.
    fn number(&mut self) -> Scanned<Number> {
        let (text, integer) = self.number_text()?;
        let plain = match text.strip_prefix('-') {
            _ if !integer => None,
            None => text.parse::<u64>().ok().map(Number::from),
            Some("0") => None,
            Some(_) => text.parse::<i64>().ok().map(Number::from),
        };
        match plain {
            Some(n) => Ok(n),
            None => serde_json::from_str(text).map_err(|_| Bail),
        }
    }

    /// Skips one value of any type, checking its syntax. Most of a request is skipped, so
    /// this is one loop over local state rather than a recursive descent: the open
    /// containers are bits of a `u128` (set for an array), which bounds the depth too.
    pub fn skip(&mut self) -> Scanned<()> {
        let b = self.bytes();
        let mut i = self.pos;
        let mut open: u128 = 0;
        let mut depth = 0u32;
        'value: loop {
            i = skip_ws(b, i);
            match *b.get(i).ok_or(Bail)? {
                c @ (b'{' | b'[') => {
                    depth += 1;
                    if depth + self.depth > MAX_DEPTH {
                        return Err(Bail);
                    }
                    let array = c == b'[';
                    open = open << 1 | u128::from(array);
                    i = skip_ws(b, i + 1);
                    match b.get(i) {
                        Some(b']') if array => i += 1,
                        Some(b'}') if !array => i += 1,
                        _ if array => continue 'value,
                        _ => {
                            i = self.member_key(i)?;
                            continue 'value;
                        }
                    }
                    depth -= 1;
                    open >>= 1;
                }
                b'"' => i = self.skip_string(i)?,
                b't' => i = literal_at(b, i, b"true")?,
                b'f' => i = literal_at(b, i, b"false")?,
                b'n' => i = literal_at(b, i, b"null")?,
                _ => {
                    self.pos = i;
                    self.number_text()?;
                    i = self.pos;
                }
            }
            // After a value: close containers until one continues with a comma.
            loop {
                if depth == 0 {
                    self.pos = i;
                    return Ok(());
                }
                i = skip_ws(b, i);
                let array = open & 1 == 1;
                match (b.get(i), array) {
                    (Some(b','), true) => {
                        i += 1;
                        continue 'value;
                    }
                    (Some(b','), false) => {
                        i = self.member_key(skip_ws(b, i + 1))?;
                        continue 'value;
                    }
                    (Some(b']'), true) | (Some(b'}'), false) => {
                        i += 1;
                        depth -= 1;
                        open >>= 1;
                    }
                    _ => return Err(Bail),
                }
            }
        }
    }

    /// At `i`, a key and its colon; answers where the value starts.
    fn member_key(&self, i: usize) -> Scanned<usize> {
        let b = self.bytes();
        if b.get(i) != Some(&b'"') {
            return Err(Bail);
        }
        let i = skip_ws(b, self.skip_string(i)?);
        if b.get(i) != Some(&b':') {
            return Err(Bail);
        }
        Ok(i + 1)
    }

    /// At the opening quote `i`, checks a string and answers the index after it.
    #[inline(always)]
    fn skip_string(&self, i: usize) -> Scanned<usize> {
        let b = self.bytes();
        let mut i = i + 1;
        loop {
            i = self.plain_run(i);
            match b.get(i) {
                Some(b'"') => return Ok(i + 1),
                // Checked and decoded exactly as a read would.
                Some(b'\\') => i = escape_at(b, i)?.1,
                _ => return Err(Bail),
            }
        }
    }

    /// A scalar (string, number, boolean or null) as a `Value`; objects and arrays bail.
    pub fn scalar(&mut self) -> Scanned<Value> {
        Ok(match self.peek()? {
            b'"' => Value::String(self.string()?.into_owned()),
            b't' => {
                self.literal(b"true")?;
                Value::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Value::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Value::Null
            }
            b'{' | b'[' => return Err(Bail),
            _ => Value::Number(self.number()?),
        })
    }

    /// Any value, built whole as `serde_json::Value::deserialize` builds it.
    pub fn value(&mut self) -> Scanned<Value> {
        match self.peek()? {
            b'{' => {
                let mut out = Map::new();
                let mut members = self.object()?;
                while let Some(key) = self.key(&mut members)? {
                    let v = self.value()?;
                    out.insert(key.into_owned(), v);
                }
                Ok(Value::Object(out))
            }
            b'[' => {
                let mut out = Vec::new();
                let mut members = self.array()?;
                while self.element(&mut members)? {
                    out.push(self.value()?);
                }
                Ok(Value::Array(out))
            }
            _ => self.scalar(),
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// The escape sequence starting with the backslash at `i`: the character it stands for and
/// the index after it. Lone surrogates (which serde_json treats in its own ways) bail.
fn escape_at(b: &[u8], i: usize) -> Scanned<(char, usize)> {
    let c = match *b.get(i + 1).ok_or(Bail)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4_at(b, i + 2)?;
            let (code, next) = match high {
                0xD800..=0xDBFF => {
                    // A surrogate pair: a second `\u` escape must follow with the low half.
                    if b.get(i + 6..i + 8) != Some(&b"\\u"[..]) {
                        return Err(Bail);
                    }
                    let low = hex4_at(b, i + 8)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(Bail);
                    }
                    (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), i + 12)
                }
                0xDC00..=0xDFFF => return Err(Bail),
                _ => (high, i + 6),
            };
            return Ok((char::from_u32(code).ok_or(Bail)?, next));
        }
        _ => return Err(Bail),
    };
    Ok((c, i + 2))
}

/// Four hex digits at `i`.
fn hex4_at(b: &[u8], i: usize) -> Scanned<u32> {
    let digits = b.get(i..i + 4).ok_or(Bail)?;
    let mut n = 0;
    for &d in digits {
        n = n * 16 + (d as char).to_digit(16).ok_or(Bail)?;
    }
    Ok(n)
}

fn literal_at(b: &[u8], i: usize, word: &[u8]) -> Scanned<usize> {
    if b[i..].starts_with(word) {
        Ok(i + word.len())
    } else {
        Err(Bail)
    }
}

/// The state of one object or array being read.
pub struct Members {
    first: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Scanned<Value> {
        let mut s = Scan::new(text.as_bytes())?;
        let v = s.value()?;
        s.finish()?;
        Ok(v)
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a":[1,-2,true,false,null,"x"],"b":{"c":{}},"d":[]}"#,
            " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : \"\" } \n",
            r#""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 end""#,
            r#""plain text that is longer than eight bytes, with é and 😀 inside""#,
            r#"{"dup":1,"dup":2}"#,
            "18446744073709551615",
            "-9223372036854775808",
            "0",
            "[1.5, 1e3, -0, 0.1e-2, 18446744073709551616, -9223372036854775809]",
        ] {
            let expected: Value = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(read(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn bails_on_what_it_does_not_vouch_for() {
        for text in [
            "1E+400",
            r#""\ud800""#,
            r#""\udc00x""#,
            "\"tab\there\"",
            r#""\x""#,
            "01",
            "[1,]",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            "[1 2]",
            "tru",
            "nul",
            "\"open",
            "{} x",
            "",
            &"[".repeat(101),
        ] {
            assert_eq!(read(text), Err(Bail), "{text:?}");
        }
    }

    #[test]
    fn skip_checks_syntax_but_takes_any_number() {
        for (text, ok) in [
            ("[1.5e-3, -0, 123456789012345678901234567890]", true),
            (r#"{"a":[{"b":"c\"d"}]}"#, true),
            (r#"["\ud83d\ude00 \u00e9 \/ \n"]"#, true),
            (r#"["\q"]"#, false),
            ("[1.]", false),
            ("[-]", false),
            ("[1e]", false),
            ("{\"a\":\"\u{1}\"}", false),
        ] {
            let skipped = Scan::new(text.as_bytes()).and_then(|mut s| {
                s.skip()?;
                s.finish()
            });
            assert_eq!(skipped.is_ok(), ok, "{text}");
            assert_eq!(
                serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(),
                ok,
                "{text}"
            );
        }
    }

    #[test]
    fn finds_the_first_special_byte_in_any_position() {
        for len in 0..20 {
            for special in ["\"", "\\", "\u{1}", "\u{1f}"] {
                let text = format!(
                    "{}{special}xxxxxxxxxx",
                    "é".repeat(len / 2) + &"a".repeat(len % 2)
                );
                let s = Scan::new(text.as_bytes()).expect("UTF-8");
                assert_eq!(s.plain_run(0), text.find(special).expect("present"), "{text:?}");
            }
        }
    }
}
